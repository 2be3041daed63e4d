/* SPDX-License-Identifier: GPL-2.0 */
/*
 * When in a harvest window each page was first written: what the dirty
 * family sends at each harvest of a watched range, one record per window,
 * on its own ring buffer ("dirty_windows"). Cumulated over its slots, a
 * window's histogram is W(t), the distinct pages dirtied in the first t of
 * the window, for every t up to the window's length.
 *
 * Slots: time since the window's start in units of 2^10 ns (~1 us), four
 * linear slots below 4 units, then four sub-slots per octave (log2 with two
 * mantissa bits, as HdrHistogram does). A slot is at most 25% of its start
 * wide, so W(t) has a point every 12-25% of t from ~4 us to ~120 s (the last
 * slot holds everything later): W(T) is smooth in log T, and a predictor
 * interpolating it between points errs far less than the spread of W itself
 * from window to window. Plain log2 (100% wide slots) would leave only three
 * points between 1 ms and 10 ms; linear slots would need 10^5 slots for the
 * same range. The slot is found with shifts and compares: cheap per fault.
 *
 * Included by bpf/dirty.bpf.c (with vmlinux.h) and by user space (with
 * <linux/types.h>).
 */
#ifndef VFMIG_DIRTY_WINDOW_H
#define VFMIG_DIRTY_WINDOW_H

#define VFMIG_DW_UNIT_SHIFT 10 /* slot times are in units of 2^10 ns */
#define VFMIG_DW_SUB 4	       /* sub-slots per octave */
#define VFMIG_DW_OCTAVES 26    /* octaves 2..27 of units: to 2^37 ns, ~137 s */
#define VFMIG_DW_SLOTS (VFMIG_DW_SUB + VFMIG_DW_SUB * (VFMIG_DW_OCTAVES - 1)) /* 104 */

/* One harvest window of one watched range. */
struct vfmig_dirty_window {
	__u64 start, len; /* the range: user address of the guest RAM mapping, bytes */
	__u64 t_start_ns; /* the window's start: the range's arm or last harvest (monotonic) */
	__u64 t_len_ns;	  /* its length, to the harvest that closed it */
	__u64 window;	  /* windows of this range since it was armed, from 0 */
	__u64 faults;	  /* first write faults in it: the sum of slots */
	__u64 ndirty;	  /* what the harvester itself found, for comparison */
	__u32 pid, pad;	  /* the process that harvested */
	__u64 slots[VFMIG_DW_SLOTS]; /* first write faults by time since t_start_ns */
};

/* floor(log2(v)), 0 for 0: shifts and compares, for BPF (no ctlz) and user space alike. */
static inline __u32 vfmig_log2(__u64 v)
{
	__u32 r = 0;

	if (v >> 32) {
		v >>= 32;
		r += 32;
	}
	if (v >> 16) {
		v >>= 16;
		r += 16;
	}
	if (v >> 8) {
		v >>= 8;
		r += 8;
	}
	if (v >> 4) {
		v >>= 4;
		r += 4;
	}
	if (v >> 2) {
		v >>= 2;
		r += 2;
	}
	if (v >> 1)
		r += 1;
	return r;
}

/* The slot of a time since the window's start. */
static inline __u32 vfmig_dw_slot(__u64 ns)
{
	__u64 v = ns >> VFMIG_DW_UNIT_SHIFT;
	__u32 o, slot;

	if (v < VFMIG_DW_SUB)
		return (__u32)v;
	o = vfmig_log2(v); /* >= 2 */
	slot = VFMIG_DW_SUB * (o - 1) + (__u32)((v >> (o - 2)) & (VFMIG_DW_SUB - 1));
	return slot < VFMIG_DW_SLOTS ? slot : VFMIG_DW_SLOTS - 1;
}

/* Where slot begins, in ns since the window's start; slot VFMIG_DW_SLOTS: where the last ends. */
static inline __u64 vfmig_dw_slot_start_ns(__u32 slot)
{
	__u32 o = slot / VFMIG_DW_SUB + 1, sub = slot % VFMIG_DW_SUB;

	if (slot < VFMIG_DW_SUB)
		return (__u64)slot << VFMIG_DW_UNIT_SHIFT;
	return ((__u64)(VFMIG_DW_SUB + sub) << (o - 2)) << VFMIG_DW_UNIT_SHIFT;
}

#endif
