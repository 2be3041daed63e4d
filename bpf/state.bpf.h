/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The migration handlers every USDT provider feeds: a state request's start
 * and end, a pre-copy size answer, data stream bytes. The emulated device
 * (state family) and QEMU's dtrace probes (qemu family) reach the same
 * counters, histograms and events through them.
 */
#ifndef VFMIG_STATE_BPF_H
#define VFMIG_STATE_BPF_H

#include "common.bpf.h"

struct set_start {
	__u64 ts;
	__u8 from, to;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VFMIG_MAX_INFLIGHT);
	__type(key, __u32);
	__type(value, struct set_start);
} set_starts SEC(".maps");

static __always_inline void set_state(__u64 dev, __u8 state)
{
	struct vfmig_dev_state *st = dev_state(dev);

	if (st)
		st->state = state;
}

static __always_inline int on_set_start(__u64 dev, __u8 from, __u8 to, __u16 src)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct set_start s;

	if (filtered_out() || dev_out(dev))
		return 0;
	s = (struct set_start){bpf_ktime_get_ns(), from, to};
	bpf_map_update_elem(&set_starts, &tid, &s, BPF_ANY);
	hang_risk(dev, dev_state(dev), from, to, src);
	return 0;
}

static __always_inline int on_set_end(__u64 dev, __u8 from, __u8 to, __s32 result, __u8 now,
				      __u16 src)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct set_start *s = bpf_map_lookup_elem(&set_starts, &tid);
	__u64 lat = 0;

	if (filtered_out() || dev_out(dev))
		return 0;
	if (s) {
		lat = bpf_ktime_get_ns() - s->ts;
		bpf_map_delete_elem(&set_starts, &tid);
	}
	set_done(dev, dev_state(dev), from, to, result, now, lat, src);
	return 0;
}

static __always_inline int on_precopy_info(__u64 dev, __u64 initial, __u64 dirty, int result,
					   __u16 src)
{
	struct vfmig_dev_state *st;
	struct vfmig_event *e;

	if (filtered_out() || dev_out(dev))
		return 0;
	count_dev(dev, VFMIG_C_PRECOPY_INFOS, 1);
	st = dev_state(dev);
	if (st && !result) {
		st->precopy_initial = initial;
		st->precopy_dirty = dirty;
	}
	e = event_new(VFMIG_EV_PRECOPY_INFO, src, dev);
	if (e) {
		e->a = initial;
		e->b = dirty;
		e->result = result;
		event_send(e);
	}
	return 0;
}

static __always_inline int on_data(__u64 dev, __u64 len, long result, __u32 counter, __u16 type,
				   __u16 src)
{
	struct vfmig_event *e;

	if (filtered_out() || dev_out(dev))
		return 0;
	if (result > 0)
		count_dev(dev, counter, result);
	e = event_new(type, src, dev);
	if (e) {
		e->a = len;
		e->result = result;
		event_send(e);
	}
	return 0;
}

/* The VM's vCPUs paused or set running (VFMIG_EV_VCPU_*): one event, no counter. */
static __always_inline int on_vcpu(__u16 type, __u64 dur, __u64 vcpus, __u64 reason, __u64 name)
{
	struct vfmig_event *e;

	if (filtered_out())
		return 0;
	e = event_new(type, VFMIG_SRC_USDT, 0);
	if (e) {
		e->a = dur;
		e->b = vcpus;
		e->c = reason;
		e->d = name;
		event_send(e);
	}
	return 0;
}

#endif
