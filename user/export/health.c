// SPDX-License-Identifier: GPL-2.0
/*
 * vfmig's own health: what attached, what the ring buffer lost, and what its
 * BPF programs cost. A program is this session's when it uses one of this
 * session's maps: other vfmig sessions on the host load programs of the same
 * names.
 */
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "export/export_priv.h"
#include "vfmig/version.h"

static const char *const own_maps[] = {"counters", "hists", "devices", "dev_counters",
				       "proc_counters"};

#define NOWN (sizeof(own_maps) / sizeof(own_maps[0]))

static int own_map_ids(struct exporter *x, uint32_t *ids)
{
	int n = 0;
	size_t i;

	for (i = 0; i < NOWN; i++) {
		struct bpf_map_info info = {0};
		uint32_t len = sizeof(info);
		int fd = probes_map_fd(x->p, own_maps[i]);

		if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len))
			ids[n++] = info.id;
	}
	return n;
}

static bool uses_map(int fd, const uint32_t *own, int nown)
{
	uint32_t maps[64] = {0}, len;
	struct bpf_prog_info info;
	uint32_t i;
	int j;

	memset(&info, 0, sizeof(info));
	info.nr_map_ids = 64;
	info.map_ids = (uintptr_t)maps;
	len = sizeof(info);
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return false;
	for (i = 0; i < info.nr_map_ids && i < 64; i++)
		for (j = 0; j < nown; j++)
			if (maps[i] == own[j])
				return true;
	return false;
}

/* The program's whole name from its BTF: the kernel keeps only 15 characters of it. */
static void prog_name(int fd, char *out, size_t len)
{
	struct bpf_func_info func = {0};
	struct bpf_prog_info info = {0};
	uint32_t ilen = sizeof(info);
	const struct btf_type *t;
	struct btf *btf;

	if (bpf_obj_get_info_by_fd(fd, &info, &ilen))
		return;
	snprintf(out, len, "%s", info.name);
	if (!info.btf_id || !info.nr_func_info)
		return;
	memset(&info, 0, sizeof(info));
	info.nr_func_info = 1;
	info.func_info_rec_size = sizeof(func);
	info.func_info = (uintptr_t)&func;
	ilen = sizeof(info);
	if (bpf_obj_get_info_by_fd(fd, &info, &ilen))
		return;
	btf = btf__load_from_kernel_by_id(info.btf_id);
	if (!btf)
		return;
	t = btf__type_by_id(btf, func.type_id);
	if (t)
		snprintf(out, len, "%s", btf__name_by_offset(btf, t->name_off));
	btf__free(btf);
}

static void add_prog(struct exporter *x, int fd)
{
	struct export_prog *g;
	char name[48] = "";
	int i;

	prog_name(fd, name, sizeof(name));
	if (!name[0])
		goto drop;
	for (i = 0; i < x->nprogs; i++)
		if (!strcmp(x->progs[i].name, name))
			break;
	if (i == x->nprogs) {
		if (x->nprogs == EXPORT_MAX_PROGS)
			goto drop;
		snprintf(x->progs[x->nprogs++].name, sizeof(x->progs[0].name), "%s", name);
	}
	g = &x->progs[i];
	if (g->nfds < (int)(sizeof(g->fds) / sizeof(g->fds[0]))) {
		g->fds[g->nfds++] = fd;
		return;
	}
drop:
	close(fd);
}

void export_progs_find(struct exporter *x)
{
	uint32_t own[NOWN], id = 0;
	int nown = own_map_ids(x, own);

	while (nown && !bpf_prog_get_next_id(id, &id)) {
		int fd = bpf_prog_get_fd_by_id(id);

		if (fd < 0)
			continue;
		if (uses_map(fd, own, nown))
			add_prog(x, fd);
		else
			close(fd);
	}
}

void export_progs_read(struct exporter *x)
{
	int i, j;

	for (i = 0; i < x->nprogs; i++) {
		struct export_prog *g = &x->progs[i];

		g->run_ns = g->runs = 0;
		for (j = 0; j < g->nfds; j++) {
			struct bpf_prog_info info = {0};
			uint32_t len = sizeof(info);

			if (bpf_obj_get_info_by_fd(g->fds[j], &info, &len))
				continue;
			g->run_ns += info.run_time_ns;
			g->runs += info.run_cnt;
		}
	}
}

static void probe_rows(struct exporter *x, FILE *f)
{
	const struct probe_row *rows;
	int n = probes_table(x->p, &rows), i, on = 0;

	prom_family(f, "vfmig_probe_attached", "gauge",
		    "Each probe: 1 attached, 0 off (the reason is in vfmigprof probes).");
	for (i = 0; i < n; i++) {
		on += rows[i].attached;
		prom_sample(f, "vfmig_probe_attached", rows[i].attached, "family", rows[i].family,
			    "program", rows[i].program, "source", rows[i].source, PROM_END);
	}
	prom_family(f, "vfmig_probes", "gauge", "Probes attached and off.");
	prom_sample(f, "vfmig_probes", on, "status", "attached", PROM_END);
	prom_sample(f, "vfmig_probes", n - on, "status", "off", PROM_END);
}

static void bpf_cost(struct exporter *x, FILE *f)
{
	int i;

	prom_family(f, "vfmig_bpf_stats_enabled", "gauge",
		    "1 while BPF run-time statistics are on (held while exporting).");
	prom_sample(f, "vfmig_bpf_stats_enabled", x->stats_fd >= 0, PROM_END);
	prom_family(f, "vfmig_bpf_program_run_seconds_total", "counter",
		    "CPU time vfmig's BPF programs ran, while statistics were on.");
	for (i = 0; i < x->nprogs; i++)
		prom_sample(f, "vfmig_bpf_program_run_seconds_total", x->progs[i].run_ns / 1e9,
			    "program", x->progs[i].name, PROM_END);
	prom_family(f, "vfmig_bpf_program_runs_total", "counter",
		    "Runs of vfmig's BPF programs, while statistics were on.");
	for (i = 0; i < x->nprogs; i++)
		prom_sample(f, "vfmig_bpf_program_runs_total", (double)x->progs[i].runs, "program",
			    x->progs[i].name, PROM_END);
}

void export_health_prom(struct exporter *x, FILE *f)
{
	prom_family(f, "vfmig_build_info", "gauge", "vfmig's version.");
	prom_sample(f, "vfmig_build_info", 1, "version", VFMIG_VERSION, PROM_END);
	probe_rows(x, f);
	prom_family(f, "vfmig_events_received_total", "counter",
		    "Ring-buffer records this exporter took.");
	prom_sample(f, "vfmig_events_received_total", (double)x->received, PROM_END);
	bpf_cost(x, f);
}
