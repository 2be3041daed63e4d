// SPDX-License-Identifier: GPL-2.0
/*
 * Dirty pages of guest memory tracked in user space: write faults on
 * write-protected ranges (exceptions:page_fault_user with the write bit).
 * With userfaultfd async write-protect each page faults once per arming, so
 * the faults between two harvests are the distinct pages dirtied in that
 * window. The emulated device announces its ranges (wp_arm / wp_disarm) and
 * each harvest through USDT; a harvest closes the window. On KVM hosts the
 * dirty-ring push tracepoint counts vCPU dirtying instead.
 *
 * The fault handler runs for every user page fault on the host, so it is
 * attached as a raw tracepoint (no perf record is built) and leaves at once
 * for reads and when nothing is watched; the watched ranges are a small
 * global array it scans directly, without map lookups or callbacks.
 *
 * Each fault on a watched range is also put in its range's histogram of
 * time since the window's start (vfmig/dirty_window.h): one clock read and
 * one atomic add, only for faults that matched. The harvest sends the
 * window's histogram, W(t), on the dirty_windows ring buffer. Two threads
 * writing one protected page at once may both fault: counted twice (rare;
 * the workload's truth counts such writes, and the tests allow for them).
 */
#include "common.bpf.h"
#include <bpf/usdt.bpf.h>

#include "vfmig/dirty_window.h"

#define X86_PF_WRITE 2

/*
 * A watched range. A slot is claimed by compare-and-swap of its owner (a
 * pid, 0 when free), counts faults only once end is set, and stops before
 * it is released: the fault handler never matches a half-written slot.
 */
struct watched {
	__u64 owner;
	__u64 start, end; /* [start, end) */
	__u64 faults;	  /* in the current window */
	__u64 window;
	__u64 t0; /* the window's start (bpf_ktime_get_ns) */
};

/* n shares a cache line with the first slot: one line read for most faults */
static struct {
	__u64 n; /* slots [0, n) may be in use: only grows */
	struct watched w[VFMIG_MAX_RANGES];
} tab;

/* Apart from the table: the scan over ranges reads only their small headers. */
static __u64 hist[VFMIG_MAX_RANGES][VFMIG_DW_SLOTS];

/* Adds one fault at time dt to range i's histogram; the bound is checked where the verifier sees it. */
static __always_inline void hist_fault(__u32 i, __u64 dt)
{
	__u32 slot = vfmig_dw_slot(dt);

	asm volatile("" : "+r"(slot)); /* keep the check below: the verifier needs it */
	if (i < VFMIG_MAX_RANGES && slot < VFMIG_DW_SLOTS)
		__sync_fetch_and_add(&hist[i][slot], 1);
}

/* A window's record is ~1 KiB: its own ring, so that windows never crowd out events. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} dirty_windows SEC(".maps");

#define barrier() asm volatile("" ::: "memory")

/*
 * Only processes the pid filter lets through arm ranges (wp_arm), so the
 * owner comparison is the filter here. A fault is matched on its address
 * first: the faults of other processes and outside the ranges cost the
 * fault's arguments and one cache line of the table, not even a helper call.
 * with_hist is a constant: the bench's test__ copy leaves the histogram out.
 */
static __always_inline int on_fault(struct bpf_raw_tracepoint_args *ctx, bool with_hist)
{
	__u64 addr, n, now, t0;
	__u32 i;

	/* TP_PROTO(unsigned long address, struct pt_regs *regs, unsigned long error_code) */
	if (!(ctx->args[2] & X86_PF_WRITE))
		return 0;
	n = tab.n;
	if (!n)
		return 0;
	addr = ctx->args[0];
	for (i = 0; i < VFMIG_MAX_RANGES && i < n; i++) {
		struct watched *w = &tab.w[i];

		if (addr < w->start || addr >= w->end ||
		    w->owner != bpf_get_current_pid_tgid() >> 32)
			continue;
		__sync_fetch_and_add(&w->faults, 1);
		if (with_hist) {
			now = bpf_ktime_get_ns();
			t0 = w->t0;
			hist_fault(i, now > t0 ? now - t0 : 0);
		}
		count_dev(0, VFMIG_C_WRITE_FAULTS, 1);
		break;
	}
	return 0;
}

SEC("raw_tp/page_fault_user")
int raw_tp__page_fault_user(struct bpf_raw_tracepoint_args *ctx)
{
	return on_fault(ctx, true);
}

/* The bench's baseline, run by BPF_PROG_TEST_RUN only: the same handler without the histogram. */
SEC("raw_tp")
int test__fault_no_hist(struct bpf_raw_tracepoint_args *ctx)
{
	return on_fault(ctx, false);
}

/* The same as attached, for BPF_PROG_TEST_RUN beside the baseline. */
SEC("raw_tp")
int test__fault_hist(struct bpf_raw_tracepoint_args *ctx)
{
	return on_fault(ctx, true);
}

/* The slot of pid's range at start, or VFMIG_MAX_RANGES. */
static __always_inline __u32 slot_of(__u64 pid, __u64 start)
{
	__u64 n = tab.n;
	__u32 i;

	for (i = 0; i < VFMIG_MAX_RANGES && i < n; i++) {
		if (tab.w[i].owner == pid && tab.w[i].start == start)
			return i;
	}
	return VFMIG_MAX_RANGES;
}

/* A free slot, claimed for pid, with tab.n raised past it; VFMIG_MAX_RANGES if full. */
static __always_inline __u32 claim(__u64 pid)
{
	__u64 n;
	__u32 i, k;

	for (i = 0; i < VFMIG_MAX_RANGES; i++) {
		if (!tab.w[i].owner && !__sync_val_compare_and_swap(&tab.w[i].owner, 0, pid))
			break;
	}
	if (i == VFMIG_MAX_RANGES)
		return i;
	for (k = 0; k < VFMIG_MAX_RANGES; k++) { /* each failed swap saw another claim grow it */
		n = tab.n;
		if (n > i || __sync_val_compare_and_swap(&tab.n, n, i + 1) == n)
			break;
	}
	return i;
}

/* A range's slot (re)started: its first window begins now. */
static __always_inline void arm_slot(__u32 id, __u64 start, __u64 len)
{
	tab.w[id].end = 0; /* re-armed: not counted while it changes */
	barrier();
	tab.w[id].start = start;
	tab.w[id].faults = 0;
	tab.w[id].window = 0;
	tab.w[id].t0 = bpf_ktime_get_ns();
	for (__u32 s = 0; s < VFMIG_DW_SLOTS; s++)
		hist[id][s] = 0;
	barrier();
	tab.w[id].end = start + len;
}

SEC("usdt")
int BPF_USDT(usdt__wp_arm, __u64 start, __u64 len)
{
	__u64 pid = bpf_get_current_pid_tgid() >> 32;
	__u32 id;

	if (filtered_out())
		return 0;
	id = slot_of(pid, start);
	if (id >= VFMIG_MAX_RANGES)
		id = claim(pid);
	if (id >= VFMIG_MAX_RANGES)
		return 0;
	arm_slot(id, start, len);
	return 0;
}

SEC("usdt")
int BPF_USDT(usdt__wp_disarm, __u64 start, __u64 len)
{
	__u32 id = slot_of(bpf_get_current_pid_tgid() >> 32, start);

	if (id >= VFMIG_MAX_RANGES)
		return 0;
	tab.w[id].end = 0;
	barrier();
	tab.w[id].start = 0;
	barrier();
	tab.w[id].owner = 0;
	return 0;
}

/*
 * The window's histogram, taken slot by slot (a fault racing with the
 * harvest lands in this window or the next, never in neither), then the
 * next window starts.
 */
static __always_inline void send_window(__u32 id, __u64 start, __u64 win, __u64 n, __u64 ndirty)
{
	struct vfmig_dirty_window *r;
	__u64 now = bpf_ktime_get_ns(), t0 = tab.w[id].t0;
	__u32 s;

	r = bpf_ringbuf_reserve(&dirty_windows, sizeof(*r), 0);
	if (!r) {
		count(VFMIG_C_DROPS, 1);
		for (s = 0; s < VFMIG_DW_SLOTS; s++)
			hist[id][s] = 0;
		tab.w[id].t0 = now;
		return;
	}
	for (s = 0; s < VFMIG_DW_SLOTS; s++)
		r->slots[s] = __sync_lock_test_and_set(&hist[id][s], 0);
	tab.w[id].t0 = now;
	r->start = start;
	r->len = tab.w[id].end - start;
	r->t_start_ns = t0;
	r->t_len_ns = now > t0 ? now - t0 : 0;
	r->window = win;
	r->faults = n;
	r->ndirty = ndirty;
	r->pid = bpf_get_current_pid_tgid() >> 32;
	r->pad = 0;
	bpf_ringbuf_submit(r, 0);
}

/* A harvest closes the window: the faults counted are the pages it dirtied. */
SEC("usdt")
int BPF_USDT(usdt__harvest, __u64 start, __u64 ndirty, __u64 len)
{
	__u64 pid = bpf_get_current_pid_tgid() >> 32;
	__u32 id = slot_of(pid, start);
	struct vfmig_event *e;
	__u64 n, win;

	if (id >= VFMIG_MAX_RANGES && !filtered_out()) {
		/*
		 * Armed before the probes attached (vfmigprof predict -p PID): the
		 * first window starts at this harvest, which re-protected every page.
		 */
		id = claim(pid);
		if (id < VFMIG_MAX_RANGES)
			arm_slot(id, start, len);
		return 0;
	}
	if (id >= VFMIG_MAX_RANGES || !tab.w[id].end)
		return 0;
	n = __sync_lock_test_and_set(&tab.w[id].faults, 0);
	win = tab.w[id].window++;
	send_window(id, start, win, n, ndirty);
	e = event_new(VFMIG_EV_FAULT_WINDOW, VFMIG_SRC_USDT, start);
	if (e) {
		e->a = win;
		e->b = n;
		e->c = ndirty; /* what the harvester itself found, for comparison */
		event_send(e);
	}
	return 0;
}

SEC("tracepoint/kvm/kvm_dirty_ring_push")
int tp__kvm_dirty_ring_push(void *ctx)
{
	if (filtered_out()) /* it runs in the vCPU thread: the filters apply */
		return 0;
	count_dev(0, VFMIG_C_KVM_DIRTY_PUSH, 1);
	return 0;
}
