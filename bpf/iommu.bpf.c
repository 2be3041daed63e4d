// SPDX-License-Identifier: GPL-2.0
/*
 * IOMMU map/unmap: bytes and calls. The iommu:map / iommu:unmap
 * tracepoints fire for every DMA-API mapping on the host; a mapping counts
 * as VFIO's when a type1 MAP_DMA/UNMAP_DMA or an iommufd IOAS_MAP/IOAS_UNMAP
 * ioctl is in flight on the same thread (marked by the syscall family in
 * vfio_map_inflight), the rest as host mappings. The emulated device's
 * type1 and iommufd contexts report theirs through USDT.
 */
#include "common.bpf.h"
#include <bpf/usdt.bpf.h>

/* A map ioctl in flight on a thread: what, on which fd, since when. */
struct map_call {
	__u64 ts;
	__u32 cmd, fd;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VFMIG_MAX_INFLIGHT);
	__type(key, __u32);
	__type(value, struct map_call);
} vfio_map_inflight SEC(".maps");

/* dev: the container, IOAS or iommufd the mapping was asked of, when VFIO's. */
static __always_inline int on_map(__u64 dev, __u64 iova, __u64 bytes, bool unmap, bool vfio,
				  __u16 src)
{
	struct vfmig_event *e;

	if (vfio) {
		count_dev(dev, unmap ? VFMIG_C_UNMAP_CALLS : VFMIG_C_MAP_CALLS, 1);
		count_dev(dev, unmap ? VFMIG_C_UNMAP_BYTES : VFMIG_C_MAP_BYTES, bytes);
	} else {
		count(unmap ? VFMIG_C_HOST_UNMAP_CALLS : VFMIG_C_HOST_MAP_CALLS, 1);
		count(unmap ? VFMIG_C_HOST_UNMAP_BYTES : VFMIG_C_HOST_MAP_BYTES, bytes);
		return 0; /* host DMA-API traffic is counted, not streamed */
	}
	e = event_new(unmap ? VFMIG_EV_UNMAP : VFMIG_EV_MAP, src, dev);
	if (e) {
		e->a = iova;
		e->b = bytes;
		e->c = vfio;
		event_send(e);
	}
	return 0;
}

/* Map ioctls in flight on any thread: host mappings and other ioctls leave at this count. */
__s64 map_calls_open;

/* The (pid, fd) a map ioctl in flight on this thread was asked of, else 0. */
static __always_inline __u64 vfio_in_flight(void)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct map_call *c;

	if (map_calls_open <= 0)
		return 0;
	c = bpf_map_lookup_elem(&vfio_map_inflight, &tid);
	return c ? fd_dev(c->fd) : 0;
}

/*
 * A mapping outside VFIO's ioctls is the host's (the DMA API), done in
 * whatever context the driver runs: a process or cgroup filter cannot own it,
 * so with a filter only VFIO's mappings, made by the filtered threads, count.
 */
static __always_inline int on_tracepoint(__u64 iova, __u64 size, bool unmap)
{
	__u64 dev = vfio_in_flight();

	if (!dev && (filter.pid || filter.cgroup))
		return 0;
	return on_map(dev, iova, size, unmap, dev != 0, VFMIG_SRC_TRACEPOINT);
}

SEC("tracepoint/iommu/map")
int tp__iommu_map(struct trace_event_raw_map *ctx)
{
	return on_tracepoint(ctx->iova, ctx->size, false);
}

SEC("tracepoint/iommu/unmap")
int tp__iommu_unmap(struct trace_event_raw_unmap *ctx)
{
	return on_tracepoint(ctx->iova, ctx->unmapped_size, true);
}

SEC("usdt")
int BPF_USDT(usdt__iommu_map, __u32 kind, __u64 what, __u64 iova, __u64 size)
{
	return filtered_out() ? 0 : on_map(emu_key(what), iova, size, false, true, VFMIG_SRC_USDT);
}

SEC("usdt")
int BPF_USDT(usdt__iommu_unmap, __u32 kind, __u64 what, __u64 iova, __u64 size)
{
	return filtered_out() ? 0 : on_map(emu_key(what), iova, size, true, true, VFMIG_SRC_USDT);
}

/* _IO(';', n): type1's below IOMMUFD_CMD_BASE's, iommufd's from it */
#define CMD_MAP_DMA 0x3b71
#define CMD_UNMAP_DMA 0x3b72
#define CMD_IOMMUFD_FIRST 0x3b80
#define CMD_IOAS_MAP 0x3b85
#define CMD_IOAS_UNMAP 0x3b86

static __always_inline bool map_ioctl(__u32 cmd)
{
	return cmd == CMD_MAP_DMA || cmd == CMD_UNMAP_DMA || cmd == CMD_IOAS_MAP ||
	       cmd == CMD_IOAS_UNMAP;
}

SEC("tracepoint/syscalls/sys_enter_ioctl")
int tp__map_ioctl_enter(struct trace_event_raw_sys_enter *ctx)
{
	__u32 tid, cmd = ctx->args[1];
	struct map_call c;

	/* every other ioctl on the host leaves here, before the clock or the filter */
	if (!map_ioctl(cmd) || filtered_out())
		return 0;
	tid = (__u32)bpf_get_current_pid_tgid();
	c = (struct map_call){bpf_ktime_get_ns(), cmd, ctx->args[0]};
	if (!bpf_map_update_elem(&vfio_map_inflight, &tid, &c, BPF_NOEXIST))
		__sync_fetch_and_add(&map_calls_open, 1);
	else /* one whose exit was never seen: replaced, already counted */
		bpf_map_update_elem(&vfio_map_inflight, &tid, &c, BPF_ANY);
	return 0;
}

/* Every ioctl on the host ends here: leaves at the count while no map ioctl is in flight. */
SEC("tracepoint/syscalls/sys_exit_ioctl")
int tp__map_ioctl_exit(struct trace_event_raw_sys_exit *ctx)
{
	__u32 tid;
	struct map_call *c;
	__u64 dev;

	if (map_calls_open <= 0)
		return 0;
	tid = (__u32)bpf_get_current_pid_tgid();
	c = bpf_map_lookup_elem(&vfio_map_inflight, &tid);
	if (!c)
		return 0;
	/* the container's or the iommufd's (pid, fd): where the mapping was asked */
	dev = fd_dev(c->fd);
	hist_add(dev, VFMIG_H_MAP, c->cmd == CMD_UNMAP_DMA || c->cmd == CMD_IOAS_UNMAP,
		 c->cmd < CMD_IOMMUFD_FIRST ? VFMIG_IFACE_TYPE1 : VFMIG_IFACE_IOMMUFD, ctx->ret,
		 bpf_ktime_get_ns() - c->ts);
	if (!bpf_map_delete_elem(&vfio_map_inflight, &tid))
		__sync_fetch_and_add(&map_calls_open, -1);
	return 0;
}
