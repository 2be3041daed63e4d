// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "probe/aggregate.h"

int agg_counters(struct vfmig_probes *p, uint64_t *out)
{
	int ncpu = libbpf_num_possible_cpus(), fd = probes_map_fd(p, "counters");
	uint64_t *vals;
	__u32 i;
	int c;

	if (ncpu <= 0 || fd < 0)
		return -EINVAL;
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (i = 0; i < VFMIG_C_NR; i++) {
		out[i] = 0;
		if (bpf_map_lookup_elem(fd, &i, vals))
			continue;
		for (c = 0; c < ncpu; c++)
			out[i] += vals[c];
	}
	free(vals);
	return 0;
}

int agg_hists(struct vfmig_probes *p, struct agg_hist *out, int max)
{
	int fd = probes_map_fd(p, "hists"), n = 0;
	struct vfmig_hist_key key, next;
	void *prev = NULL;

	while (n < max && !bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		if (!bpf_map_lookup_elem(fd, &key, &out[n].h)) {
			out[n].key = key;
			n++;
		}
		prev = &key;
	}
	return n;
}

uint64_t agg_percentile(const struct vfmig_hist *h, double q)
{
	uint64_t want = (uint64_t)(q * h->count + 0.999999), seen = 0;
	int i;

	if (!h->count)
		return 0;
	if (!want)
		want = 1;
	for (i = 0; i < VFMIG_HIST_SLOTS; i++) {
		seen += h->slots[i];
		if (seen >= want)
			return (2ull << i) - 1; /* slot i holds [2^i, 2^(i+1)) */
	}
	return h->max_ns;
}

static const char *const names[VFMIG_C_NR] = {
	[VFMIG_C_PIN_CALLS] = "pin_calls",
	[VFMIG_C_PAGES_PINNED] = "pages_pinned",
	[VFMIG_C_PIN_ERRORS] = "pin_errors",
	[VFMIG_C_UNPIN_CALLS] = "unpin_calls",
	[VFMIG_C_PAGES_UNPINNED] = "pages_unpinned",
	[VFMIG_C_MAP_CALLS] = "vfio_map_calls",
	[VFMIG_C_MAP_BYTES] = "vfio_map_bytes",
	[VFMIG_C_UNMAP_CALLS] = "vfio_unmap_calls",
	[VFMIG_C_UNMAP_BYTES] = "vfio_unmap_bytes",
	[VFMIG_C_HOST_MAP_CALLS] = "host_map_calls",
	[VFMIG_C_HOST_MAP_BYTES] = "host_map_bytes",
	[VFMIG_C_HOST_UNMAP_CALLS] = "host_unmap_calls",
	[VFMIG_C_HOST_UNMAP_BYTES] = "host_unmap_bytes",
	[VFMIG_C_BITMAP_QUERIES + VFMIG_IFACE_QEMU] = "qemu_bitmap_queries",
	[VFMIG_C_BITMAP_QUERIES + VFMIG_IFACE_TYPE1] = "type1_bitmap_queries",
	[VFMIG_C_BITMAP_QUERIES + VFMIG_IFACE_DMA_LOG] = "dma_log_reports",
	[VFMIG_C_BITMAP_QUERIES + VFMIG_IFACE_IOMMUFD] = "iommufd_bitmap_queries",
	[VFMIG_C_BITMAP_QUERIES + VFMIG_IFACE_KVM] = "kvm_dirty_logs_counted",
	[VFMIG_C_BITMAP_DIRTY + VFMIG_IFACE_QEMU] = "qemu_dirty_pages",
	[VFMIG_C_BITMAP_DIRTY + VFMIG_IFACE_TYPE1] = "type1_dirty_pages",
	[VFMIG_C_BITMAP_DIRTY + VFMIG_IFACE_DMA_LOG] = "dma_log_dirty_pages",
	[VFMIG_C_BITMAP_DIRTY + VFMIG_IFACE_IOMMUFD] = "iommufd_dirty_pages",
	[VFMIG_C_BITMAP_DIRTY + VFMIG_IFACE_KVM] = "kvm_dirty_pages",
	[VFMIG_C_BITMAP_TRUNCATED + VFMIG_IFACE_TYPE1] = "type1_counts_cut_short",
	[VFMIG_C_BITMAP_TRUNCATED + VFMIG_IFACE_DMA_LOG] = "dma_log_counts_cut_short",
	[VFMIG_C_BITMAP_TRUNCATED + VFMIG_IFACE_IOMMUFD] = "iommufd_counts_cut_short",
	[VFMIG_C_BITMAP_TRUNCATED + VFMIG_IFACE_KVM] = "kvm_dirty_counts_cut_short",
	[VFMIG_C_STATE_SETS] = "state_set_requests",
	[VFMIG_C_STATE_SET_ERRORS] = "state_set_errors",
	[VFMIG_C_FSM_STEPS] = "fsm_steps",
	[VFMIG_C_PRECOPY_INFOS] = "precopy_info_calls",
	[VFMIG_C_DATA_SIZES] = "data_size_calls",
	[VFMIG_C_DATA_READ_BYTES] = "data_read_bytes",
	[VFMIG_C_DATA_WRITE_BYTES] = "data_write_bytes",
	[VFMIG_C_RESETS] = "resets",
	[VFMIG_C_WRITE_FAULTS] = "write_faulted_pages",
	[VFMIG_C_KVM_DIRTY_PUSH] = "kvm_dirty_ring_pushes",
	[VFMIG_C_KVM_DIRTY_LOG_CALLS] = "kvm_dirty_log_calls",
	[VFMIG_C_KVM_DIRTY_LOG_ERRORS] = "kvm_dirty_log_errors",
	[VFMIG_C_KVM_DIRTY_LOG_UNSIZED] = "kvm_dirty_logs_of_unknown_slots",
	[VFMIG_C_KVM_CLEAR_LOG_CALLS] = "kvm_clear_log_calls",
	[VFMIG_C_KVM_CLEAR_LOG_ERRORS] = "kvm_clear_log_errors",
	[VFMIG_C_KVM_CLEARED_PAGES] = "kvm_cleared_pages",
	[VFMIG_C_KVM_CLEAR_CUT] = "kvm_clear_counts_cut_short",
	[VFMIG_C_KVM_MEMSLOT_SETS] = "kvm_memslot_sets",
	[VFMIG_C_EVENTS] = "events",
	[VFMIG_C_DROPS] = "events_dropped",
	[VFMIG_C_HANG_RISK] = "stopcopy_to_precopy_requests",
	[VFMIG_C_V1_STATE_WRITES] = "v1_state_writes",
	[VFMIG_C_TRACK_STARTS + VFMIG_IFACE_TYPE1] = "type1_tracking_starts",
	[VFMIG_C_TRACK_STARTS + VFMIG_IFACE_DMA_LOG] = "dma_log_starts",
	[VFMIG_C_TRACK_STARTS + VFMIG_IFACE_IOMMUFD] = "iommufd_tracking_starts",
	[VFMIG_C_TRACK_STOPS + VFMIG_IFACE_TYPE1] = "type1_tracking_stops",
	[VFMIG_C_TRACK_STOPS + VFMIG_IFACE_DMA_LOG] = "dma_log_stops",
	[VFMIG_C_TRACK_STOPS + VFMIG_IFACE_IOMMUFD] = "iommufd_tracking_stops",
	[VFMIG_C_TRACK_REFUSED + VFMIG_IFACE_TYPE1] = "type1_tracking_refused",
	[VFMIG_C_TRACK_REFUSED + VFMIG_IFACE_DMA_LOG] = "dma_log_start_stop_refused",
	[VFMIG_C_TRACK_REFUSED + VFMIG_IFACE_IOMMUFD] = "iommufd_tracking_refused",
	[VFMIG_C_QEMU_UNREADABLE] = "qemu_probes_unreadable",
	[VFMIG_C_FOLLOW_OVERFLOW] = "children_not_followed",
	[VFMIG_C_DEV_OVERFLOW] = "device_counts_unkept",
	[VFMIG_C_PROC_OVERFLOW] = "process_counts_unkept",
};

const char *agg_counter_name(int idx)
{
	return idx >= 0 && idx < VFMIG_C_NR ? names[idx] : NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Sorts out[0..n) and drops repeats; returns how many are left. */
static int unique(uint64_t *out, int n)
{
	int i, u = 0;

	qsort(out, n, sizeof(*out), cmp_u64);
	for (i = 0; i < n; i++)
		if (!u || out[i] != out[u - 1])
			out[u++] = out[i];
	return u;
}

/*
 * Adds dev, making room by dropping repeats when out is full: the maps name
 * each device many times (a histogram per arc), and a full list of repeats
 * must not hide a device named only further on. Once full of distinct
 * devices (sorted then), a repeat is found by bsearch, not sorted again.
 * false: no room for a new one.
 */
static bool add_dev(uint64_t *out, int *n, int max, bool *sorted, uint64_t dev)
{
	if (*n == max && *sorted)
		return bsearch(&dev, out, (size_t)*n, sizeof(*out), cmp_u64) != NULL;
	if (*n == max) {
		*n = unique(out, *n);
		*sorted = *n == max;
	}
	if (*n == max)
		return bsearch(&dev, out, (size_t)*n, sizeof(*out), cmp_u64) != NULL;
	out[(*n)++] = dev;
	return true;
}

/* Adds the u64 keys of a map to out[*n..max). */
static void add_keys(int fd, uint64_t *out, int *n, int max, bool *sorted)
{
	uint64_t key, next;
	void *prev = NULL;

	while (fd >= 0 && !bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		if (!add_dev(out, n, max, sorted, key))
			return;
		prev = &key;
	}
}

int agg_devices(struct vfmig_probes *p, uint64_t *out, int max)
{
	int fd = probes_map_fd(p, "hists"), n = 0;
	struct vfmig_hist_key key, next;
	bool sorted = false;
	void *prev = NULL;

	add_keys(probes_map_fd(p, "devices"), out, &n, max, &sorted);
	add_keys(probes_map_fd(p, "dev_names"), out, &n, max, &sorted);
	add_keys(probes_map_fd(p, "dev_counters"), out, &n, max, &sorted);
	while (fd >= 0 && !bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		if (!add_dev(out, &n, max, &sorted, key.dev))
			break;
		prev = &key;
	}
	return unique(out, n);
}

int agg_dev_state(struct vfmig_probes *p, uint64_t dev, struct vfmig_dev_state *st)
{
	return bpf_map_lookup_elem(probes_map_fd(p, "devices"), &dev, st) ? -ENOENT : 0;
}

int agg_dev_seen(struct vfmig_probes *p, uint64_t dev, struct vfmig_dev_name *seen)
{
	return bpf_map_lookup_elem(probes_map_fd(p, "dev_names"), &dev, seen) ? -ENOENT : 0;
}

int agg_vm_name(struct vfmig_probes *p, uint32_t pid, char *out, size_t len)
{
	struct vfmig_vm_name v;

	if (bpf_map_lookup_elem(probes_map_fd(p, "vm_names"), &pid, &v))
		return -ENOENT;
	snprintf(out, len, "%.*s", (int)sizeof(v.name), v.name);
	return 0;
}

uint32_t agg_dev_pid(uint64_t dev)
{
	if (vfmig_dev_is_kernel(dev))
		return 0;
	if (vfmig_dev_is_qemu(dev))
		return vfmig_dev_qemu_pid(dev);
	if (vfmig_dev_is_emu(dev))
		return vfmig_dev_emu_pid(dev);
	return dev >> 32;
}

struct agg_view *agg_view_new(void)
{
	return calloc(1, sizeof(struct agg_view));
}

void agg_view_free(struct agg_view *v)
{
	free(v);
}

static int cmp_entity(const void *a, const void *b)
{
	return cmp_u64(&((const struct agg_entity *)a)->key, &((const struct agg_entity *)b)->key);
}

static struct agg_entity *find(struct agg_entity *e, int n, uint64_t key)
{
	struct agg_entity k = {.key = key};

	return n ? bsearch(&k, e, n, sizeof(*e), cmp_entity) : NULL;
}

static void set_delta(struct agg_figures *f, const uint64_t *now, const struct agg_figures *old)
{
	int i;

	for (i = 0; i < VFMIG_C_NR; i++)
		f->delta[i] = now[i] - (old ? old->total[i] : 0);
	memcpy(f->total, now, sizeof(f->total));
}

/*
 * Reads one counters map (key_size 8: devices, 4: processes) into e, replacing what was
 * there: a thing seen before gets its delta from its last totals.
 */
static int read_entities(int fd, size_t key_size, struct agg_entity *e, int n, int max)
{
	struct agg_entity *fresh = calloc(max, sizeof(*fresh)), *old;
	struct vfmig_counters c;
	uint64_t key = 0, next = 0;
	void *prev = NULL;
	int m = 0;

	if (!fresh)
		return -ENOMEM;
	while (fd >= 0 && m < max && !bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &c))
			continue;
		fresh[m].key = key_size == 4 ? (uint32_t)key : key;
		old = find(e, n, fresh[m].key);
		set_delta(&fresh[m].f, (const uint64_t *)c.c, old ? &old->f : NULL);
		m++;
	}
	qsort(fresh, m, sizeof(*fresh), cmp_entity);
	memcpy(e, fresh, m * sizeof(*e));
	free(fresh);
	return m;
}

int agg_step(struct vfmig_probes *p, struct agg_view *v, double t)
{
	uint64_t host[VFMIG_C_NR];
	int ret = agg_counters(p, host);

	if (ret)
		return ret;
	set_delta(&v->host, host, &v->host);
	ret = read_entities(probes_map_fd(p, "dev_counters"), 8, v->devs, v->ndevs,
			    VFMIG_MAX_DEVICES);
	if (ret < 0)
		return ret;
	v->ndevs = ret;
	ret = read_entities(probes_map_fd(p, "proc_counters"), 4, v->vms, v->nvms, VFMIG_MAX_PROCS);
	if (ret < 0)
		return ret;
	v->nvms = ret;
	v->seconds = t - v->t;
	v->t = t;
	return 0;
}

const struct agg_figures *agg_device(const struct agg_view *v, uint64_t dev)
{
	struct agg_entity *e = find((struct agg_entity *)v->devs, v->ndevs, dev);

	return e ? &e->f : NULL;
}

const struct agg_figures *agg_vm(const struct agg_view *v, uint32_t pid)
{
	struct agg_entity *e = find((struct agg_entity *)v->vms, v->nvms, pid);

	return e ? &e->f : NULL;
}

double agg_rate(const struct agg_view *v, const struct agg_figures *f, int idx)
{
	return v->seconds > 0 && idx >= 0 && idx < VFMIG_C_NR ? f->delta[idx] / v->seconds : 0;
}
