// SPDX-License-Identifier: GPL-2.0
/*
 * Migration transitions: per request (a MIG_DEVICE_STATE SET: from, to,
 * latency, result, the state it left) and per FSM step (each arc the driver
 * executed). Sources: the emulated device's USDT probes, and on a VFIO host
 * vfio_mig_get_next_state() through fentry or a kprobe.
 */
#include "common.bpf.h"
#include "state.bpf.h"
#include <bpf/usdt.bpf.h>

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
	return on_precopy_info(dev, initial, dirty, result, VFMIG_SRC_USDT);
}

SEC("usdt")
int BPF_USDT(usdt__data_size, __u32 dev, __u64 len, int result)
{
	if (!filtered_out())
		count(VFMIG_C_DATA_SIZES, 1);
	return 0;
}

SEC("usdt")
int BPF_USDT(usdt__data_read, __u32 dev, int fd, __u64 len, long result)
{
	return on_data(dev, len, result, VFMIG_C_DATA_READ_BYTES, VFMIG_EV_DATA_READ,
		       VFMIG_SRC_USDT);
}

SEC("usdt")
int BPF_USDT(usdt__data_write, __u32 dev, int fd, __u64 len, long result)
{
	return on_data(dev, len, result, VFMIG_C_DATA_WRITE_BYTES, VFMIG_EV_DATA_WRITE,
		       VFMIG_SRC_USDT);
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

/*
 * The kernel's per-step helper: a v2 driver asks vfio_mig_get_next_state()
 * for the next arc (cur -> *next_fsm) before it executes it, once per arc.
 * The arc is known on return; it lasts until the driver asks again or the
 * request's ioctl returns, whose result is then the arc's.
 */
struct kstep {
	__u64 dev, ts, device; /* device: the raw struct vfio_device pointer */
	__u8 from, to;
	__u16 src;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VFMIG_MAX_INFLIGHT);
	__type(key, __u32);
	__type(value, struct kstep);
} ksteps SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VFMIG_MAX_INFLIGHT);
	__type(key, __u32);
	__type(value, __u64);
} next_ptrs SEC(".maps");

/* Arcs open on any thread: lets every other ioctl on the host leave at once. */
__s64 open_ksteps;

static __always_inline void kstep_close(__u32 tid, __s32 result)
{
	struct kstep *k = bpf_map_lookup_elem(&ksteps, &tid);

	if (!k)
		return;
	if (k->ts)
		on_step(k->dev, k->from, k->to, result, bpf_ktime_get_ns() - k->ts, k->src);
	if (!bpf_map_delete_elem(&ksteps, &tid))
		__sync_fetch_and_add(&open_ksteps, -1);
}

/* The kernel's own types, as far as the name is concerned (CO-RE: module BTF). */
struct vfio_device___vfmig {
	struct device *dev;
} __attribute__((preserve_access_index));

/*
 * A kernel device's name, dev_name(device->dev): the PCI address or the
 * mdev UUID, read once, at the first step seen on it.
 */
static __always_inline void kdev_name(__u64 key, void *device)
{
	struct vfio_device___vfmig *vd = device;
	struct vfmig_dev_name n = {};
	const char *name;

	if (bpf_map_lookup_elem(&dev_names, &key))
		return;
	name = BPF_CORE_READ(vd, dev, kobj.name);
	if (!name || bpf_probe_read_kernel_str(n.name, sizeof(n.name), name) < 0)
		return;
	n.opened_ns = bpf_ktime_get_ns();
	bpf_get_current_comm(n.comm, sizeof(n.comm));
	bpf_map_update_elem(&dev_names, &key, &n, BPF_NOEXIST);
}

static __always_inline int kstep_open(void *device, __u32 cur, void *next_fsm, int ret, __u16 src)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid(), next = 0;
	struct kstep k = {.dev = vfmig_dev_kernel((__u64)device), .from = cur, .src = src};

	if (filtered_out())
		return 0;
	kstep_close(tid, 0);
	if (ret || bpf_probe_read_kernel(&next, sizeof(next), next_fsm))
		return 0; /* no arc: the request is refused before any step */
	k.to = next;
	kdev_name(k.dev, device);
	k.ts = bpf_ktime_get_ns();
	if (!bpf_map_update_elem(&ksteps, &tid, &k, BPF_NOEXIST))
		__sync_fetch_and_add(&open_ksteps, 1);
	return 0;
}

/*
 * next_fsm is an enum pointer, which the verifier does not let a tracing
 * program read from its context (only struct pointers): the helpers read the
 * raw argument and return value instead (5.17 and later; the loader falls
 * back to the kprobe where this program is refused).
 */
SEC("fexit/vfio_mig_get_next_state")
int fexit__vfio_mig_get_next_state(__u64 *ctx)
{
	__u64 device = 0, cur = 0, next_fsm = 0, ret = 0;

	bpf_get_func_arg(ctx, 0, &device);
	bpf_get_func_arg(ctx, 1, &cur);
	bpf_get_func_arg(ctx, 3, &next_fsm);
	bpf_get_func_ret(ctx, &ret);
	return kstep_open((void *)device, cur, (void *)next_fsm, (int)ret, VFMIG_SRC_FENTRY);
}

SEC("kprobe/vfio_mig_get_next_state")
int BPF_KPROBE(kprobe__vfio_mig_get_next_state, void *device, __u32 cur, __u32 new_state,
	       void *next_fsm)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct kstep k = {.dev = vfmig_dev_kernel((__u64)device),
			  .device = (__u64)device,
			  .from = cur,
			  .src = VFMIG_SRC_KPROBE};
	__u64 ptr = (__u64)next_fsm;

	if (filtered_out())
		return 0;
	kstep_close(tid, 0);
	bpf_map_update_elem(&next_ptrs, &tid, &ptr, BPF_ANY);
	if (!bpf_map_update_elem(&ksteps, &tid, &k, BPF_NOEXIST))
		__sync_fetch_and_add(&open_ksteps, 1);
	return 0;
}

SEC("kretprobe/vfio_mig_get_next_state")
int BPF_KRETPROBE(kretprobe__vfio_mig_get_next_state, int ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct kstep *k = bpf_map_lookup_elem(&ksteps, &tid);
	__u64 *ptr = bpf_map_lookup_elem(&next_ptrs, &tid);
	struct kstep open;

	if (!k || !ptr)
		return 0;
	open = *k;
	kstep_close(tid, 0); /* ts 0: an arc not yet known is not counted */
	kstep_open((void *)open.device, open.from, (void *)*ptr, ret, VFMIG_SRC_KPROBE);
	bpf_map_delete_elem(&next_ptrs, &tid);
	return 0;
}

/* The request's end closes its last arc, with the request's result. */
SEC("tracepoint/syscalls/sys_exit_ioctl")
int tp__kstep_ioctl_exit(struct trace_event_raw_sys_exit *ctx)
{
	if (open_ksteps > 0)
		kstep_close((__u32)bpf_get_current_pid_tgid(), ctx->ret);
	return 0;
}
