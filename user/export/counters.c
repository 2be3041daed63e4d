// SPDX-License-Identifier: GPL-2.0
/* The probes' counters as Prometheus counters: the host's, each device's and each VM's. */
#include <stdio.h>
#include <string.h>

#include "export/export_priv.h"

#define IFACE(lo, hi) .iface_lo = VFMIG_IFACE_##lo, .iface_hi = VFMIG_IFACE_##hi
#define ONE .iface_lo = 0, .iface_hi = 0

const struct export_counter export_counters[] = {
	{VFMIG_C_PIN_CALLS, "pin_calls_total", "Page pin requests.", ONE},
	{VFMIG_C_PAGES_PINNED, "pinned_pages_total", "Pages pinned.", ONE},
	{VFMIG_C_PIN_ERRORS, "pin_errors_total", "Pin requests that failed.", ONE},
	{VFMIG_C_UNPIN_CALLS, "unpin_calls_total", "Page unpin requests.", ONE},
	{VFMIG_C_PAGES_UNPINNED, "unpinned_pages_total", "Pages unpinned.", ONE},
	{VFMIG_C_MAP_CALLS, "dma_map_calls_total", "VFIO/iommufd DMA map requests.", ONE},
	{VFMIG_C_MAP_BYTES, "dma_mapped_bytes_total", "Bytes DMA-mapped.", ONE},
	{VFMIG_C_UNMAP_CALLS, "dma_unmap_calls_total", "VFIO/iommufd DMA unmap requests.", ONE},
	{VFMIG_C_UNMAP_BYTES, "dma_unmapped_bytes_total", "Bytes DMA-unmapped.", ONE},
	{VFMIG_C_HOST_MAP_CALLS, "host_iommu_map_calls_total",
	 "IOMMU maps outside a VFIO or iommufd request.", ONE},
	{VFMIG_C_HOST_MAP_BYTES, "host_iommu_mapped_bytes_total",
	 "Bytes IOMMU-mapped outside a VFIO or iommufd request.", ONE},
	{VFMIG_C_HOST_UNMAP_CALLS, "host_iommu_unmap_calls_total",
	 "IOMMU unmaps outside a VFIO or iommufd request.", ONE},
	{VFMIG_C_HOST_UNMAP_BYTES, "host_iommu_unmapped_bytes_total",
	 "Bytes IOMMU-unmapped outside a VFIO or iommufd request.", ONE},
	{VFMIG_C_BITMAP_QUERIES, "dirty_bitmap_queries_total",
	 "Dirty-page bitmap queries, by interface.", IFACE(QEMU, KVM)},
	{VFMIG_C_BITMAP_DIRTY, "dirty_pages_reported_total",
	 "Dirty pages the bitmap queries reported, by interface.", IFACE(QEMU, KVM)},
	{VFMIG_C_BITMAP_TRUNCATED, "dirty_counts_cut_short_total",
	 "Bitmap queries whose dirty count stopped at the probes' bound.", IFACE(TYPE1, KVM)},
	{VFMIG_C_STATE_SETS, "state_set_requests_total", "Migration state SET requests.", ONE},
	{VFMIG_C_STATE_SET_ERRORS, "state_set_errors_total", "State SET requests that failed.",
	 ONE},
	{VFMIG_C_FSM_STEPS, "fsm_steps_total", "Migration state arcs the drivers executed.", ONE},
	{VFMIG_C_PRECOPY_INFOS, "precopy_info_calls_total", "PRE_COPY size queries.", ONE},
	{VFMIG_C_DATA_SIZES, "data_size_calls_total", "Stop-copy data size queries.", ONE},
	{VFMIG_C_DATA_READ_BYTES, "migration_data_read_bytes_total",
	 "Bytes read from migration data fds.", ONE},
	{VFMIG_C_DATA_WRITE_BYTES, "migration_data_written_bytes_total",
	 "Bytes written to migration data fds.", ONE},
	{VFMIG_C_RESETS, "resets_total", "Device resets.", ONE},
	{VFMIG_C_WRITE_FAULTS, "write_faulted_pages_total",
	 "Write faults on write-protected watched ranges.", ONE},
	{VFMIG_C_KVM_DIRTY_PUSH, "kvm_dirty_ring_pushes_total", "KVM dirty ring pushes.", ONE},
	{VFMIG_C_KVM_DIRTY_LOG_CALLS, "kvm_dirty_log_calls_total", "KVM_GET_DIRTY_LOG calls.", ONE},
	{VFMIG_C_KVM_DIRTY_LOG_ERRORS, "kvm_dirty_log_errors_total",
	 "KVM_GET_DIRTY_LOG calls that failed.", ONE},
	{VFMIG_C_KVM_DIRTY_LOG_UNSIZED, "kvm_dirty_logs_unsized_total",
	 "KVM dirty logs of memslots whose size was not seen.", ONE},
	{VFMIG_C_KVM_CLEAR_LOG_CALLS, "kvm_clear_log_calls_total", "KVM_CLEAR_DIRTY_LOG calls.",
	 ONE},
	{VFMIG_C_KVM_CLEAR_LOG_ERRORS, "kvm_clear_log_errors_total",
	 "KVM_CLEAR_DIRTY_LOG calls that failed.", ONE},
	{VFMIG_C_KVM_CLEARED_PAGES, "kvm_cleared_pages_total", "Pages KVM_CLEAR_DIRTY_LOG cleared.",
	 ONE},
	{VFMIG_C_KVM_CLEAR_CUT, "kvm_clear_counts_cut_short_total",
	 "Clear counts cut short at the probes' bound.", ONE},
	{VFMIG_C_KVM_MEMSLOT_SETS, "kvm_memslot_sets_total", "KVM memslot changes.", ONE},
	{VFMIG_C_EVENTS, "events_total", "Records the probes put in their ring buffer.", ONE},
	{VFMIG_C_DROPS, "events_dropped_total", "Records the ring buffer had no room for.", ONE},
	{VFMIG_C_HANG_RISK, "stopcopy_to_precopy_requests_total",
	 "STOP_COPY -> PRE_COPY requests (unfixed kernels hang on them).", ONE},
	{VFMIG_C_V1_STATE_WRITES, "v1_state_writes_total", "Migration uAPI v1 device_state writes.",
	 ONE},
	{VFMIG_C_TRACK_STARTS, "dirty_tracking_starts_total", "Dirty tracking starts.",
	 IFACE(TYPE1, IOMMUFD)},
	{VFMIG_C_TRACK_STOPS, "dirty_tracking_stops_total", "Dirty tracking stops.",
	 IFACE(TYPE1, IOMMUFD)},
	{VFMIG_C_TRACK_REFUSED, "dirty_tracking_refused_total",
	 "Dirty tracking starts and stops refused.", IFACE(TYPE1, IOMMUFD)},
	{VFMIG_C_QEMU_UNREADABLE, "qemu_probes_unreadable_total",
	 "QEMU probe hits whose arguments could not be read.", ONE},
	{VFMIG_C_FOLLOW_OVERFLOW, "children_not_followed_total",
	 "Children of the watched process not followed: the map was full.", ONE},
	{VFMIG_C_DEV_OVERFLOW, "device_counts_unkept_total",
	 "Counts a device's own map had no room for.", ONE},
	{VFMIG_C_PROC_OVERFLOW, "process_counts_unkept_total",
	 "Counts a process's own map had no room for.", ONE},
};

const int export_ncounters = sizeof(export_counters) / sizeof(export_counters[0]);

static bool per_iface(const struct export_counter *c)
{
	return c->iface_hi > 0;
}

struct label_buf {
	char vm[VFMIG_VM_NAME_LEN + 16], pid[16];
};

/* One family over n counter arrays (stride apart), each with its labels; zero ones left out. */
struct scope {
	const char *prefix, *what;
	int n;
	const uint64_t *(*values)(struct exporter *x, int i);
	void (*labels)(struct exporter *x, int i, const char **kv, struct label_buf *b);
	bool keep_zero;
};

static const uint64_t *host_values(struct exporter *x, int i)
{
	(void)i;
	return x->host;
}

static const uint64_t *dev_values(struct exporter *x, int i)
{
	return x->view->devs[i].f.total;
}

static const uint64_t *vm_values(struct exporter *x, int i)
{
	return x->view->vms[i].f.total;
}

static void host_labels(struct exporter *x, int i, const char **kv, struct label_buf *b)
{
	(void)x, (void)i, (void)b;
	kv[0] = NULL;
}

static void dev_labels(struct exporter *x, int i, const char **kv, struct label_buf *b)
{
	const struct export_named *n = export_owner(x, x->view->devs[i].key);

	kv[0] = "device";
	kv[1] = n ? n->o.name : "?";
	kv[2] = "vm";
	kv[3] = export_vm_name(x, agg_dev_pid(x->view->devs[i].key), b->vm, sizeof(b->vm));
	kv[4] = NULL;
}

static void vm_labels(struct exporter *x, int i, const char **kv, struct label_buf *b)
{
	snprintf(b->pid, sizeof(b->pid), "%u", (unsigned int)x->view->vms[i].key);
	kv[0] = "vm";
	kv[1] = export_vm_name(x, (uint32_t)x->view->vms[i].key, b->vm, sizeof(b->vm));
	kv[2] = "pid";
	kv[3] = b->pid;
	kv[4] = NULL;
}

static bool any(struct exporter *x, const struct scope *s, int idx)
{
	int i;

	for (i = 0; i < s->n; i++)
		if (s->values(x, i)[idx])
			return true;
	return s->keep_zero;
}

static void samples(struct exporter *x, FILE *f, const struct scope *s, const char *name,
		    const struct export_counter *c)
{
	struct label_buf b;
	const char *kv[10];
	unsigned int k;
	int i, j;

	for (i = 0; i < s->n; i++) {
		const uint64_t *v = s->values(x, i);

		for (k = c->iface_lo; k <= c->iface_hi; k++) {
			if (!v[c->idx + k] && !s->keep_zero)
				continue;
			s->labels(x, i, kv, &b);
			for (j = 0; kv[j]; j++)
				;
			if (per_iface(c)) {
				kv[j++] = "interface";
				kv[j++] = export_iface_name(k);
			}
			kv[j] = NULL;
			prom_sample_kv(f, name, (double)v[c->idx + k], kv);
		}
	}
}

static void family(struct exporter *x, FILE *f, const struct scope *s,
		   const struct export_counter *c)
{
	char name[96], help[200];
	unsigned int k;

	for (k = c->iface_lo; k <= c->iface_hi; k++)
		if (any(x, s, c->idx + k))
			break;
	if (k > c->iface_hi)
		return;
	snprintf(name, sizeof(name), "vfmig_%s%s", s->prefix, c->name);
	snprintf(help, sizeof(help), "%s%s", c->help, s->what);
	prom_family(f, name, "counter", help);
	samples(x, f, s, name, c);
}

void export_counters_prom(struct exporter *x, FILE *f)
{
	const struct scope scopes[] = {
		{"", "", 1, host_values, host_labels, true},
		{"device_", " Per device.", x->view->ndevs, dev_values, dev_labels, false},
		{"vm_", " Per VM (a process and its devices).", x->view->nvms, vm_values, vm_labels,
		 false},
	};
	size_t s;
	int c;

	for (s = 0; s < sizeof(scopes) / sizeof(scopes[0]); s++)
		for (c = 0; c < export_ncounters; c++)
			family(x, f, &scopes[s], &export_counters[c]);
}
