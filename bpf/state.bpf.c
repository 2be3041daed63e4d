// SPDX-License-Identifier: GPL-2.0
/*
 * Migration transitions: per request (a MIG_DEVICE_STATE SET: from, to,
 * latency, result, the state it left) and per FSM step (each arc the driver
 * executed). Sources: the emulated device's USDT probes, and on a VFIO host
 * vfio_mig_get_next_state() through fentry or a kprobe.
 */
#include "common.bpf.h"
#include <bpf/usdt.bpf.h>

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

	if (st) {
		st->state = state;
		st->last_ns = bpf_ktime_get_ns();
	}
}

static __always_inline int on_set_start(__u64 dev, __u8 from, __u8 to, __u16 src)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct set_start s = {bpf_ktime_get_ns(), from, to};
	struct vfmig_dev_state *st = dev_state(dev);
	struct vfmig_event *e;

	if (filtered_out() || dev_out(dev))
		return 0;
	bpf_map_update_elem(&set_starts, &tid, &s, BPF_ANY);
	/* Unfixed kernels loop forever on this request when the device has PRE_COPY. */
	if (from == VFIO_DEVICE_STATE_STOP_COPY &&
	    (to == VFIO_DEVICE_STATE_PRE_COPY || to == VFIO_DEVICE_STATE_PRE_COPY_P2P) &&
	    (!st || !st->features_known || (st->features & VFIO_MIGRATION_PRE_COPY))) {
		count(VFMIG_C_HANG_RISK, 1);
		e = event_new(VFMIG_EV_STOPCOPY_TO_PRECOPY, src, dev);
		if (e) {
			e->from = from;
			e->to = to;
			event_send(e);
		}
	}
	return 0;
}

static __always_inline int on_set_end(__u64 dev, __u8 from, __u8 to, __s32 result, __u8 now,
				      __u16 src)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct set_start *s = bpf_map_lookup_elem(&set_starts, &tid);
	struct vfmig_event *e;
	__u64 lat = 0;

	if (filtered_out() || dev_out(dev))
		return 0;
	if (s) {
		lat = bpf_ktime_get_ns() - s->ts;
		bpf_map_delete_elem(&set_starts, &tid);
	}
	count(VFMIG_C_STATE_SETS, 1);
	if (result)
		count(VFMIG_C_STATE_SET_ERRORS, 1);
	hist_add(dev, VFMIG_H_STATE_SET, from, to, result, lat);
	set_state(dev, now);
	e = event_new(VFMIG_EV_STATE_SET, src, dev);
	if (e) {
		e->from = from;
		e->to = to;
		e->result = result;
		e->a = lat;
		e->b = now;
		event_send(e);
	}
	return 0;
}

static __always_inline int on_step(__u64 dev, __u8 from, __u8 to, __s32 result, __u64 dur,
				   __u16 src)
{
	struct vfmig_event *e;

	if (filtered_out() || dev_out(dev))
		return 0;
	count(VFMIG_C_FSM_STEPS, 1);
	hist_add(dev, VFMIG_H_FSM_STEP, from, to, result, dur);
	e = event_new(VFMIG_EV_FSM_STEP, src, dev);
	if (e) {
		e->from = from;
		e->to = to;
		e->result = result;
		e->a = dur;
		event_send(e);
	}
	return 0;
}

SEC("usdt")
int BPF_USDT(usdt__state_set_start, __u32 dev, __u32 from, __u32 to)
{
	return on_set_start(dev, from, to, VFMIG_SRC_USDT);
}

SEC("usdt")
int BPF_USDT(usdt__state_set_end, __u32 dev, __u32 from, __u32 to, int result, __u32 now)
{
	return on_set_end(dev, from, to, result, now, VFMIG_SRC_USDT);
}

SEC("usdt")
int BPF_USDT(usdt__state_get, __u32 dev, __u32 state, int result)
{
	if (!filtered_out() && !result)
		set_state(dev, state);
	return 0;
}

SEC("usdt")
int BPF_USDT(usdt__fsm_step, __u32 dev, __u32 from, __u32 to, int result, __u64 dur)
{
	return on_step(dev, from, to, result, dur, VFMIG_SRC_USDT);
}

SEC("usdt")
int BPF_USDT(usdt__precopy_info, __u32 dev, __u64 initial, __u64 dirty, int result)
{
	struct vfmig_dev_state *st;
	struct vfmig_event *e;

	if (filtered_out())
		return 0;
	count(VFMIG_C_PRECOPY_INFOS, 1);
	st = dev_state(dev);
	if (st && !result) {
		st->precopy_initial = initial;
		st->precopy_dirty = dirty;
	}
	e = event_new(VFMIG_EV_PRECOPY_INFO, VFMIG_SRC_USDT, dev);
	if (e) {
		e->a = initial;
		e->b = dirty;
		e->result = result;
		event_send(e);
	}
	return 0;
}

SEC("usdt")
int BPF_USDT(usdt__data_size, __u32 dev, __u64 len, int result)
{
	if (!filtered_out())
		count(VFMIG_C_DATA_SIZES, 1);
	return 0;
}

static __always_inline int on_data(__u32 dev, __u64 len, long result, __u32 counter, __u16 type)
{
	struct vfmig_event *e;

	if (filtered_out())
		return 0;
	if (result > 0)
		count(counter, result);
	e = event_new(type, VFMIG_SRC_USDT, dev);
	if (e) {
		e->a = len;
		e->result = result;
		event_send(e);
	}
	return 0;
}

SEC("usdt")
int BPF_USDT(usdt__data_read, __u32 dev, int fd, __u64 len, long result)
{
	return on_data(dev, len, result, VFMIG_C_DATA_READ_BYTES, VFMIG_EV_DATA_READ);
}

SEC("usdt")
int BPF_USDT(usdt__data_write, __u32 dev, int fd, __u64 len, long result)
{
	return on_data(dev, len, result, VFMIG_C_DATA_WRITE_BYTES, VFMIG_EV_DATA_WRITE);
}

SEC("usdt")
int BPF_USDT(usdt__reset, __u32 dev, __u32 from)
{
	if (filtered_out())
		return 0;
	count(VFMIG_C_RESETS, 1);
	set_state(dev, 2 /* RUNNING */);
	return 0;
}

/* The kernel's per-step helper: every arc a v2 driver takes asks it first. */
SEC("kprobe/vfio_mig_get_next_state")
int BPF_KPROBE(kprobe__vfio_mig_get_next_state, void *device, __u32 cur, __u32 new_state)
{
	return on_step((__u64)device, cur, new_state, 0, 0, VFMIG_SRC_KPROBE);
}

SEC("fentry/vfio_mig_get_next_state")
int BPF_PROG(fentry__vfio_mig_get_next_state, void *device, __u32 cur, __u32 new_state)
{
	return on_step((__u64)device, cur, new_state, 0, 0, VFMIG_SRC_FENTRY);
}
