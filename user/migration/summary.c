// SPDX-License-Identifier: GPL-2.0
#include "common/json.h"
#include "migration/summary.h"
#include "vfmig/version.h"

static double ms(uint64_t ns)
{
	return ns / 1e6;
}

void mig_round_header(FILE *f, const struct vm *vm)
{
	unsigned int i;

	fprintf(f, "%5s %10s %10s", "round", "ram_pages", "vcpu_dirty");
	for (i = 0; i < vm->cfg.ndevs; i++)
		fprintf(f, " %9s%u", "dev_dirty", i);
	fprintf(f, " %12s %12s %9s %9s\n", "dev_bytes", "pending", "MB/s", "ms");
}

static void round_text(FILE *f, const struct vm *vm, unsigned int n, const struct mig_round *r)
{
	unsigned int i;

	fprintf(f, "%5u %10llu %10llu", n, (unsigned long long)r->ram_pages,
		(unsigned long long)r->dirty_by_src[0]);
	for (i = 0; i < vm->cfg.ndevs; i++)
		fprintf(f, " %10llu", (unsigned long long)r->dirty_by_src[1 + i]);
	fprintf(f, " %12llu %12llu %9.1f %9.2f\n", (unsigned long long)r->dev_bytes,
		(unsigned long long)r->pending, r->bandwidth / 1e6, ms(r->ns));
}

void mig_summary_text(FILE *f, const struct vm *vm, const struct mig_summary *r)
{
	unsigned int i;

	char id[32];

	fprintf(f, "devices:");
	for (i = 0; i < vm->cfg.ndevs; i++)
		fprintf(f, " [%u] %s %s (dirty via %s)", i,
			emu_dev_name(vm->devs[i].dev, id, sizeof(id)), vm->cfg.devs[i].variant,
			vm_dirty_name(vm->cfg.devs[i].dirty));
	fprintf(f, "\n");
	mig_round_header(f, vm);
	for (i = 0; i < r->nrounds; i++)
		round_text(f, vm, i, &r->rounds[i]);
	if (r->error[0]) {
		fprintf(f, "migration FAILED: %s; the source runs on, memory and devices intact\n",
			r->error);
		return;
	}
	fprintf(f, "switchover after %u pre-copy rounds: %s\n", r->nrounds,
		r->converged ? "converged" : "NOT converged (round cap reached)");
	fprintf(f,
		"downtime %.2f ms (%s): stop devices %.2f, final harvest %.2f, RAM %.2f "
		"(%llu pages), device data %.2f (%llu bytes), file sync %.2f, destination load+run "
		"%.2f\n",
		ms(r->downtime_ns), r->downtime_exact ? "one clock" : "estimated", ms(r->stop_ns),
		ms(r->final_harvest_ns), ms(r->final_ram_ns), (unsigned long long)r->final_pages,
		ms(r->final_dev_ns), (unsigned long long)r->final_dev_bytes, ms(r->final_sync_ns),
		ms(r->dest_ns));
	fprintf(f, "total %.1f ms, %.1f MB sent; verification (%.1f ms, not in downtime): %s\n",
		ms(r->total_ns), r->bytes / 1e6, ms(r->verify_ns),
		r->verified ? "yes, destination RAM and devices equal the source's at stop"
			    : "NO: destination differs from the source at stop");
}

/* A device's arcs as its own step log has them: start on CLOCK_MONOTONIC, duration. */
static void arcs_json(FILE *f, const struct vm_arcs *a, unsigned int dev)
{
	unsigned int i;

	fprintf(f, "\"arcs\":[");
	for (i = 0; dev < a->ndevs && i < a->n[dev]; i++) {
		const struct emu_step *st = &a->step[dev][i];

		fprintf(f,
			"%s{\"from\":\"%s\",\"to\":\"%s\",\"result\":%d,\"start_ns\":%llu,"
			"\"ns\":%llu}",
			i ? "," : "", vfio_state_name(st->from), vfio_state_name(st->to),
			st->result, (unsigned long long)st->t_start_ns,
			(unsigned long long)(st->t_end_ns - st->t_start_ns));
	}
	fprintf(f, "]");
}

static void dest_devices_json(FILE *f, const struct vm_arcs *a)
{
	unsigned int i;

	fprintf(f, "\"devices\":[");
	for (i = 0; i < a->ndevs; i++) {
		fprintf(f, "%s{", i ? "," : "");
		arcs_json(f, a, i);
		fprintf(f, "}");
	}
	fprintf(f, "]");
}

void mig_dest_json(FILE *f, const struct mig_dest_report *r)
{
	fprintf(f,
		"{\"version\":\"%s\",\"pages\":%llu,\"device_bytes\":%llu,\"bytes\":%llu,"
		"\"load_ms\":%.3f,\"verified\":%s,",
		VFMIG_VERSION, (unsigned long long)r->pages, (unsigned long long)r->dev_bytes,
		(unsigned long long)r->bytes, ms(r->load_ns), r->verified ? "true" : "false");
	dest_devices_json(f, &r->arcs);
	fprintf(f, ",\"error\":");
	json_string(f, r->error);
	fprintf(f, "}\n");
}

void mig_summary_json(FILE *f, const struct vm *vm, const struct mig_summary *r)
{
	unsigned int i, j;
	char id[32];

	fprintf(f, "{\"version\":\"%s\",\"rounds\":[", VFMIG_VERSION);
	for (i = 0; i < r->nrounds; i++) {
		const struct mig_round *x = &r->rounds[i];

		fprintf(f, "%s{\"ram_pages\":%llu,\"dirty_pages\":{\"vcpu\":%llu", i ? "," : "",
			(unsigned long long)x->ram_pages, (unsigned long long)x->dirty_by_src[0]);
		for (j = 0; j < vm->cfg.ndevs; j++)
			fprintf(f, ",\"dev%u\":%llu", j,
				(unsigned long long)x->dirty_by_src[1 + j]);
		fprintf(f,
			"},\"dev_bytes\":%llu,\"pending\":%llu,\"bytes\":%llu,\"ms\":%.3f,"
			"\"bandwidth\":%.0f}",
			(unsigned long long)x->dev_bytes, (unsigned long long)x->pending,
			(unsigned long long)x->bytes, ms(x->ns), x->bandwidth);
	}
	fprintf(f, "],\"devices\":[");
	for (i = 0; i < vm->cfg.ndevs; i++) {
		fprintf(f,
			"%s{\"id\":\"%s\",\"variant\":\"%s\",\"dirty\":\"%s\",\"data_size\":%llu,",
			i ? "," : "", emu_dev_name(vm->devs[i].dev, id, sizeof(id)),
			vm->cfg.devs[i].variant, vm_dirty_name(vm->cfg.devs[i].dirty),
			(unsigned long long)r->dev_data_size[i]);
		arcs_json(f, &r->src_arcs, i);
		fprintf(f, "}");
	}
	fprintf(f, "]");
	if (r->dst_arcs_known) {
		fprintf(f, ",\"destination\":{");
		dest_devices_json(f, &r->dst_arcs);
		fprintf(f, "}");
	}
	fprintf(f, ",\"error\":");
	json_string(f, r->error);
	fprintf(f,
		",\"ok\":%s,\"converged\":%s,\"committed\":%s,\"verified\":%s,"
		"\"total_ms\":%.3f,\"bytes\":%llu,\"downtime_ms\":%.3f,\"downtime_exact\":%s,"
		"\"downtime_parts_ms\":{\"stop_devices\":%.3f,\"final_harvest\":%.3f,"
		"\"final_ram\":%.3f,\"final_device_data\":%.3f,\"file_sync\":%.3f,"
		"\"destination\":%.3f},"
		"\"final_pages\":%llu,\"final_device_bytes\":%llu,\"verify_ms\":%.3f,"
		"\"vcpus_paused_at_ns\":%llu,\"vcpus_running_at_ns\":%llu}\n",
		r->error[0] ? "false" : "true", r->converged ? "true" : "false",
		r->committed ? "true" : "false", r->verified ? "true" : "false", ms(r->total_ns),
		(unsigned long long)r->bytes, ms(r->downtime_ns),
		r->downtime_exact ? "true" : "false", ms(r->stop_ns), ms(r->final_harvest_ns),
		ms(r->final_ram_ns), ms(r->final_dev_ns), ms(r->final_sync_ns), ms(r->dest_ns),
		(unsigned long long)r->final_pages, (unsigned long long)r->final_dev_bytes,
		ms(r->verify_ns), (unsigned long long)r->paused_at_ns,
		(unsigned long long)r->running_at_ns);
}
