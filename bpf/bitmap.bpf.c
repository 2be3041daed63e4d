// SPDX-License-Identifier: GPL-2.0
/*
 * Dirty-bitmap queries: type1 GET_BITMAP (and unmap with bitmap), device DMA
 * logging REPORT, iommufd HWPT GET_DIRTY_BITMAP. Latency, IOVA range, page
 * size, and the dirty pages reported, counted here from the bitmap the
 * query returned (bounded: VFMIG_BITMAP_MAX_WORDS words; the event says when
 * the count was cut short). The emulated device marks each query's start
 * and end with USDT probes.
 */
#include "common.bpf.h"
#include <bpf/usdt.bpf.h>

struct query {
	__u64 ts, iova, size, pgsize;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VFMIG_MAX_INFLIGHT);
	__type(key, __u32);
	__type(value, struct query);
} queries SEC(".maps");

struct count_ctx {
	const __u64 *bitmap;
	__u64 nbits, dirty;
};

static long count_word(__u32 i, void *arg)
{
	struct count_ctx *c = arg;
	__u64 word = 0, bits = c->nbits - (__u64)i * 64;

	if ((__u64)i * 64 >= c->nbits)
		return 1;
	if (bpf_probe_read_user(&word, sizeof(word), c->bitmap + i))
		return 1;
	if (bits < 64)
		word &= (1ull << bits) - 1;
	c->dirty += __builtin_popcountll(word);
	return 0;
}

SEC("usdt")
int BPF_USDT(usdt__dirty_query_start, __u32 iface, __u64 iova, __u64 size, __u64 pgsize,
	     __u64 bitmap)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct query q = {bpf_ktime_get_ns(), iova, size, pgsize};

	if (!filtered_out())
		bpf_map_update_elem(&queries, &tid, &q, BPF_ANY);
	return 0;
}

SEC("usdt")
int BPF_USDT(usdt__dirty_query_end, __u32 iface, __u64 iova, __u64 size, __u64 bitmap, __u64 bytes)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct query *q = bpf_map_lookup_elem(&queries, &tid);
	struct count_ctx c = {(const __u64 *)bitmap, 0, 0};
	struct vfmig_event *e;
	__u64 lat, words;
	bool cut;

	if (!q)
		return 0;
	lat = bpf_ktime_get_ns() - q->ts;
	c.nbits = q->pgsize ? q->size / q->pgsize : 0;
	words = (c.nbits + 63) / 64;
	cut = words > VFMIG_BITMAP_MAX_WORDS;
	bpf_loop(cut ? VFMIG_BITMAP_MAX_WORDS : words, count_word, &c, 0);
	if (iface >= VFMIG_IFACE_NR)
		iface = 0;
	count(VFMIG_C_BITMAP_QUERIES + iface, 1);
	count(VFMIG_C_BITMAP_DIRTY + iface, c.dirty);
	if (cut)
		count(VFMIG_C_BITMAP_TRUNCATED + iface, 1);
	hist_add(0, VFMIG_H_BITMAP, iface, 0, 0, lat);
	e = event_new(VFMIG_EV_BITMAP, VFMIG_SRC_USDT, 0);
	if (e) {
		e->a = q->iova;
		e->b = q->size;
		e->c = q->pgsize;
		e->d = c.dirty;
		e->from = iface;
		e->to = cut;
		event_send(e);
	}
	bpf_map_delete_elem(&queries, &tid);
	return 0;
}
