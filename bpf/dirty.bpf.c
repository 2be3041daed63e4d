// SPDX-License-Identifier: GPL-2.0
/*
 * Dirty pages of guest memory tracked in user space: write faults on
 * write-protected ranges (exceptions:page_fault_user with the write bit).
 * With userfaultfd async write-protect each page faults once per arming, so
 * the faults between two harvests are the distinct pages dirtied in that
 * window. The emulated device announces its ranges (wp_arm / wp_disarm) and
 * each harvest through USDT; a harvest closes the window. On KVM hosts the
 * dirty-ring push tracepoint counts vCPU dirtying instead.
 */
#include "common.bpf.h"
#include <bpf/usdt.bpf.h>

struct range_val {
	struct vfmig_range r;
	__u64 faults; /* in the current window */
	__u64 window;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VFMIG_MAX_RANGES);
	__type(key, __u32);
	__type(value, struct range_val);
} ranges SEC(".maps");

struct fault_ctx {
	__u64 addr;
	__u32 pid;
};

static long match_range(__u32 i, void *arg)
{
	struct fault_ctx *f = arg;
	struct range_val *v = bpf_map_lookup_elem(&ranges, &i);

	if (!v || !v->r.end)
		return 1; /* slots fill from 0: the first empty one ends the list */
	if (v->r.pid == f->pid && f->addr >= v->r.start && f->addr < v->r.end) {
		__sync_fetch_and_add(&v->faults, 1);
		count(VFMIG_C_WRITE_FAULTS, 1);
		return 1;
	}
	return 0;
}

/*
 * The record of exceptions:page_fault_user as its tracefs format gives it.
 * Not the BTF type: it is trace_event_raw_x86_exceptions up to 6.12 and
 * trace_event_raw_exceptions later, with the same layout.
 */
struct page_fault_user_args {
	__u64 common;
	unsigned long address, ip, error_code;
};

SEC("tracepoint/exceptions/page_fault_user")
int tp__page_fault_user(struct page_fault_user_args *ctx)
{
	struct fault_ctx f = {ctx->address, bpf_get_current_pid_tgid() >> 32};

	if (!(ctx->error_code & 2)) /* X86_PF_WRITE */
		return 0;
	bpf_loop(VFMIG_MAX_RANGES, match_range, &f, 0);
	return 0;
}

static long find_slot(__u32 i, void *arg)
{
	struct range_val *want = arg, *v = bpf_map_lookup_elem(&ranges, &i);

	if (!v)
		return 1;
	if (!v->r.end || (v->r.pid == want->r.pid && v->r.start == want->r.start)) {
		want->r.id = i;
		return 1;
	}
	return 0;
}

static __always_inline __u32 slot_of(__u32 pid, __u64 start)
{
	struct range_val want = {.r = {.start = start, .pid = pid, .id = VFMIG_MAX_RANGES}};

	bpf_loop(VFMIG_MAX_RANGES, find_slot, &want, 0);
	return want.r.id;
}

SEC("usdt")
int BPF_USDT(usdt__wp_arm, __u64 start, __u64 len)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32, id;
	struct range_val v = {.r = {start, start + len, pid}};

	if (filtered_out())
		return 0;
	id = slot_of(pid, start);
	if (id < VFMIG_MAX_RANGES) {
		v.r.id = id;
		bpf_map_update_elem(&ranges, &id, &v, BPF_ANY);
	}
	return 0;
}

SEC("usdt")
int BPF_USDT(usdt__wp_disarm, __u64 start, __u64 len)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32, id = slot_of(pid, start);
	struct range_val none = {};

	if (id < VFMIG_MAX_RANGES)
		bpf_map_update_elem(&ranges, &id, &none, BPF_ANY);
	return 0;
}

/* A harvest closes the window: the faults counted are the pages it dirtied. */
SEC("usdt")
int BPF_USDT(usdt__harvest, __u64 start, __u64 ndirty)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32, id = slot_of(pid, start);
	struct range_val *v = bpf_map_lookup_elem(&ranges, &id);
	struct vfmig_event *e;
	__u64 n;

	if (!v || !v->r.end)
		return 0;
	n = __sync_lock_test_and_set(&v->faults, 0);
	e = event_new(VFMIG_EV_FAULT_WINDOW, VFMIG_SRC_USDT, start);
	if (e) {
		e->a = v->window++;
		e->b = n;
		e->c = ndirty; /* what the harvester itself found, for comparison */
		event_send(e);
	}
	return 0;
}

SEC("tracepoint/kvm/kvm_dirty_ring_push")
int tp__kvm_dirty_ring_push(void *ctx)
{
	count(VFMIG_C_KVM_DIRTY_PUSH, 1);
	return 0;
}
