// SPDX-License-Identifier: GPL-2.0
/*
 * Dirty-bitmap queries: type1 GET_BITMAP (and unmap with bitmap), device DMA
 * logging REPORT, iommufd HWPT GET_DIRTY_BITMAP. Latency, IOVA range, page
 * size, and the dirty pages reported, counted here from the bitmap the
 * query returned (bounded: VFMIG_BITMAP_MAX_WORDS words; the event says when
 * the count was cut short). The emulated device marks each query's start
 * and end with USDT probes, which say what was asked: a type1 container, an
 * iommufd HWPT, or a device (DMA logging).
 */
#include "common.bpf.h"
#include <bpf/usdt.bpf.h>

struct query {
	__u64 ts, dev, iova, size, pgsize;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VFMIG_MAX_INFLIGHT);
	__type(key, __u32);
	__type(value, struct query);
} queries SEC(".maps");

SEC("usdt")
int BPF_USDT(usdt__dirty_query_start, __u32 iface, __u64 what, __u64 iova, __u64 size, __u64 pgsize,
	     __u64 bitmap)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct query q = {bpf_ktime_get_ns(), emu_key(what), iova, size, pgsize};

	if (!filtered_out() && !dev_out(q.dev))
		bpf_map_update_elem(&queries, &tid, &q, BPF_ANY);
	return 0;
}

SEC("usdt")
int BPF_USDT(usdt__dirty_query_end, __u32 iface, __u64 what, __u64 iova, __u64 size, __u64 bitmap,
	     __u64 bytes)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct query *q = bpf_map_lookup_elem(&queries, &tid);

	if (!q)
		return 0;
	report_bitmap(q->dev, iface, q->iova, q->size, q->pgsize, bitmap,
		      bpf_ktime_get_ns() - q->ts, VFMIG_SRC_USDT);
	bpf_map_delete_elem(&queries, &tid);
	return 0;
}
