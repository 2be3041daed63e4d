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
	count_dev(dev, VFMIG_C_FSM_STEPS, 1);
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

/*
 * A device created: its variant and its VM's name, so that stat names it as its process
 * does. Devices created before attach are named from /proc (user/probe/devname.c).
 */
SEC("usdt")
int BPF_USDT(usdt__device_new, __u32 id, const char *variant, const char *vm)
{
	__u64 dev = emu_key(id);
	__u32 pid = dev >> 32 & VFMIG_DEV_EMU_PID_MASK;
	struct vfmig_dev_name n = {};
	struct vfmig_vm_name v = {};

	if (filtered_out() || dev_out(dev))
		return 0;
	/* no comm: /proc has it while the process lives, and stat keeps what it read */
	bpf_probe_read_user_str(n.name, sizeof(n.name), variant);
	bpf_map_update_elem(&dev_names, &dev, &n, BPF_ANY);
	if (bpf_probe_read_user_str(v.name, sizeof(v.name), vm) > 0)
		bpf_map_update_elem(&vm_names, &pid, &v, BPF_ANY);
	return 0;
}

SEC("usdt")
int BPF_USDT(usdt__state_set_start, __u32 id, __u32 from, __u32 to)
{
	__u64 dev = emu_key(id);

	return on_set_start(dev, from, to, VFMIG_SRC_USDT);
}

SEC("usdt")
int BPF_USDT(usdt__state_set_end, __u32 id, __u32 from, __u32 to, int result, __u32 now)
{
	__u64 dev = emu_key(id);

	return on_set_end(dev, from, to, result, now, VFMIG_SRC_USDT);
}

SEC("usdt")
int BPF_USDT(usdt__state_get, __u32 id, __u32 state, int result)
{
	__u64 dev = emu_key(id);

	if (!filtered_out() && !dev_out(dev) && !result)
		set_state(dev, state);
	return 0;
}

SEC("usdt")
int BPF_USDT(usdt__fsm_step, __u32 id, __u32 from, __u32 to, int result, __u64 dur)
{
	__u64 dev = emu_key(id);

	return on_step(dev, from, to, result, dur, VFMIG_SRC_USDT);
}

SEC("usdt")
int BPF_USDT(usdt__precopy_info, __u32 id, __u64 initial, __u64 dirty, int result)
{
	__u64 dev = emu_key(id);

	return on_precopy_info(dev, initial, dirty, result, VFMIG_SRC_USDT);
}

SEC("usdt")
int usdt__data_size(struct pt_regs *ctx)
{
	long id = 0;
	__u64 dev;

	/* data_size(dev, len, result): only dev is read, each argument costs a spec lookup */
	if (filtered_out() || bpf_usdt_arg(ctx, 0, &id))
		return 0;
	dev = emu_key((__u32)id);
	if (!dev_out(dev))
		count_dev(dev, VFMIG_C_DATA_SIZES, 1);
	return 0;
}

SEC("usdt")
int BPF_USDT(usdt__data_read, __u32 id, int fd, __u64 len, long result)
{
	__u64 dev = emu_key(id);

	return on_data(dev, len, result, VFMIG_C_DATA_READ_BYTES, VFMIG_EV_DATA_READ,
		       VFMIG_SRC_USDT);
}

SEC("usdt")
int BPF_USDT(usdt__data_write, __u32 id, int fd, __u64 len, long result)
{
	__u64 dev = emu_key(id);

	return on_data(dev, len, result, VFMIG_C_DATA_WRITE_BYTES, VFMIG_EV_DATA_WRITE,
		       VFMIG_SRC_USDT);
}

/* The emulated VM's vCPUs (writer threads) stopped, dur ns after it was asked: once a pause. */
SEC("usdt")
int BPF_USDT(usdt__vcpu_pause, __u32 vcpus, __u64 dur)
{
	return on_vcpu(VFMIG_EV_VCPU_PAUSE, dur, vcpus, 0, 0);
}

/* ... or set running (started, on a destination). */
SEC("usdt")
int BPF_USDT(usdt__vcpu_resume, __u32 vcpus, __u64 dur)
{
	return on_vcpu(VFMIG_EV_VCPU_RESUME, dur, vcpus, 0, 0);
}

SEC("usdt")
int BPF_USDT(usdt__reset, __u32 id, __u32 from)
{
	__u64 dev = emu_key(id);

	if (filtered_out())
		return 0;
	count_dev(dev, VFMIG_C_RESETS, 1);
	set_state(dev, 2 /* RUNNING */);
	return 0;
}

/*
 * v1 (vendor drivers before 5.18, QEMU before 8.0): a request is a write of
 * device_state bits, _RUNNING | _SAVING | _RESUMING, read here as the v2
 * state each value became in v2 (RUNNING|SAVING is PRE_COPY), so that both
 * protocols' requests land on the same arcs. Values no v1 state has
 * (RESUMING with another bit) are requests for ERROR.
 */
#define V1_STATE_BITS 7

static __always_inline __u8 v1_to_v2(__u32 bits)
{
	switch (bits & V1_STATE_BITS) {
	case 0:
		return 1; /* STOP */
	case 1:
		return 2; /* RUNNING */
	case 2:
		return VFIO_DEVICE_STATE_STOP_COPY;
	case 3:
		return VFIO_DEVICE_STATE_PRE_COPY;
	case 4:
		return 4; /* RESUMING */
	default:
		return 0; /* ERROR */
	}
}

/* No hang check: v1 drivers take the bits as given, with no next-state loop. */
static __always_inline int on_v1_start(__u64 dev)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct set_start s = {.ts = bpf_ktime_get_ns()};

	if (!filtered_out() && !dev_out(dev))
		bpf_map_update_elem(&set_starts, &tid, &s, BPF_ANY);
	return 0;
}

/* from_known false: the device's bits were never seen (attached after its last write). */
static __always_inline int on_v1_end(__u64 dev, bool from_known, __u32 from_bits, __u32 bits,
				     __s32 result, __u16 src)
{
	__u8 to = v1_to_v2(bits);

	if (filtered_out() || dev_out(dev))
		return 0;
	count_dev(dev, VFMIG_C_V1_STATE_WRITES, 1);
	return on_set_end(dev, from_known ? v1_to_v2(from_bits) : VFMIG_STATE_UNKNOWN, to, result,
			  result ? VFMIG_STATE_UNKNOWN : to, src);
}

SEC("usdt")
int BPF_USDT(usdt__v1_state_start, __u32 id, __u32 from_bits, __u32 bits)
{
	__u64 dev = emu_key(id);

	return on_v1_start(dev);
}

SEC("usdt")
int BPF_USDT(usdt__v1_state, __u32 id, __u32 from_bits, __u32 bits, int result)
{
	__u64 dev = emu_key(id);

	return on_v1_end(dev, true, from_bits, bits, result, VFMIG_SRC_USDT);
}

/*
 * v1 on a VFIO host, at the syscalls: a VFIO_DEVICE_GET_REGION_INFO answer
 * whose type capability says MIGRATION_DEPRECATED gives the region's offset
 * in the device fd; device_state is its first u32, written with pwrite64
 * (a request) and read with pread64 (the current state).
 */
#define CMD_GET_REGION_INFO 0x3b6c /* _IO(';', 100 + 8) */
#define REGION_INFO_FLAG_CAPS (1u << 3)
#define REGION_INFO_CAP_TYPE 2
#define REGION_TYPE_MIGRATION 3
#define REGION_SUBTYPE_MIGRATION 1
#define REGION_CAPS_WALKED 8 /* capabilities looked at per answer */

struct region_info { /* struct vfio_region_info */
	__u32 argsz, flags, index, cap_offset;
	__u64 size, offset;
};

struct region_cap_type { /* struct vfio_region_info_cap_type */
	__u16 id, version;
	__u32 next, type, subtype;
};

struct v1_region {
	__u64 offset; /* of the migration region in the device fd */
	__u32 bits;   /* device_state last written or read */
	bool known;
};

/* (pid << 32 | device fd) -> its migration region; close forgets it. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, VFMIG_MAX_DEVICES);
	__type(key, __u64);
	__type(value, struct v1_region);
} v1_regions SEC(".maps");

enum v1_call_kind { V1_REGION_INFO = 1, V1_WRITE, V1_READ };

struct v1_call {
	__u64 dev, arg; /* arg: the region info, or the buffer read into */
	__u32 kind, bits;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VFMIG_MAX_INFLIGHT);
	__type(key, __u32);
	__type(value, struct v1_call);
} v1_calls SEC(".maps");

/* Gates that let every other ioctl, pwrite64 and pread64 on the host leave at once. */
__s64 v1_info_calls;
bool v1_regions_seen;

/*
 * A thread has one call at a time: a new one replaces the last. The gate
 * counts the region info calls in the map, so a replaced one is taken off.
 */
static __always_inline void v1_call_put(struct v1_call *c)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct v1_call *last = bpf_map_lookup_elem(&v1_calls, &tid);

	if (last && last->kind == V1_REGION_INFO)
		__sync_fetch_and_add(&v1_info_calls, -1);
	if (!bpf_map_update_elem(&v1_calls, &tid, c, BPF_ANY)) {
		if (c->kind == V1_REGION_INFO)
			__sync_fetch_and_add(&v1_info_calls, 1);
	} else if (last) {
		bpf_map_delete_elem(&v1_calls, &tid); /* not replaced: not left behind uncounted */
	}
}

/* The caller's call of kind, taken off the map; 0 when there is none. */
static __always_inline int v1_call_take(__u32 kind, struct v1_call *out)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct v1_call *c = bpf_map_lookup_elem(&v1_calls, &tid);

	if (!c || c->kind != kind)
		return 0;
	*out = *c;
	bpf_map_delete_elem(&v1_calls, &tid);
	return 1;
}

static __always_inline void region_info_enter(__u32 fd, __u64 arg)
{
	struct v1_call c = {.dev = fd_dev(fd), .arg = arg, .kind = V1_REGION_INFO};

	if (!filtered_out())
		v1_call_put(&c);
}

/* Offset of the type capability that says MIGRATION_DEPRECATED, or 0. */
static __always_inline __u32 migration_cap(__u64 arg, const struct region_info *ri)
{
	struct region_cap_type cap;
	__u32 off = ri->cap_offset, i;

	for (i = 0; i < REGION_CAPS_WALKED; i++) {
		if (off < sizeof(*ri) || off + sizeof(cap) > ri->argsz ||
		    bpf_probe_read_user(&cap, sizeof(cap), (void *)(arg + off)))
			return 0;
		if (cap.id == REGION_INFO_CAP_TYPE && cap.type == REGION_TYPE_MIGRATION &&
		    cap.subtype == REGION_SUBTYPE_MIGRATION)
			return off;
		off = cap.next;
	}
	return 0;
}

static __always_inline void region_info_exit(long ret)
{
	struct v1_region r = {};
	struct region_info ri;
	struct v1_call c;

	if (!v1_call_take(V1_REGION_INFO, &c))
		return;
	__sync_fetch_and_add(&v1_info_calls, -1);
	if (ret || bpf_probe_read_user(&ri, sizeof(ri), (void *)c.arg) ||
	    !(ri.flags & REGION_INFO_FLAG_CAPS) || !migration_cap(c.arg, &ri))
		return;
	r.offset = ri.offset;
	/* the latest answer holds: an fd number of an exec'd or exited process comes back */
	bpf_map_update_elem(&v1_regions, &c.dev, &r, BPF_ANY);
	v1_regions_seen = true;
}

SEC("tracepoint/syscalls/sys_enter_ioctl")
int tp__v1_ioctl_enter(struct trace_event_raw_sys_enter *ctx)
{
	if ((__u32)ctx->args[1] == CMD_GET_REGION_INFO)
		region_info_enter(ctx->args[0], ctx->args[2]);
	return 0;
}

/* The device_state u32 of a known migration region, at pos: its region, else NULL. */
static __always_inline struct v1_region *state_access(__u64 dev, __u64 count, __u64 pos)
{
	struct v1_region *r = bpf_map_lookup_elem(&v1_regions, &dev);

	return r && pos == r->offset && count == sizeof(__u32) ? r : NULL;
}

SEC("tracepoint/syscalls/sys_enter_pwrite64")
int tp__v1_pwrite_enter(struct trace_event_raw_sys_enter *ctx)
{
	struct v1_call c = {.kind = V1_WRITE};

	if (!v1_regions_seen)
		return 0;
	c.dev = fd_dev(ctx->args[0]);
	if (!state_access(c.dev, ctx->args[2], ctx->args[3]) ||
	    bpf_probe_read_user(&c.bits, sizeof(c.bits), (void *)ctx->args[1]))
		return 0;
	v1_call_put(&c);
	return on_v1_start(c.dev);
}

SEC("tracepoint/syscalls/sys_exit_pwrite64")
int tp__v1_pwrite_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct v1_region *r;
	struct v1_call c;
	__s32 result;

	if (!v1_regions_seen || !v1_call_take(V1_WRITE, &c))
		return 0;
	r = bpf_map_lookup_elem(&v1_regions, &c.dev);
	if (!r) { /* closed meanwhile by another thread: no request to end */
		__u32 tid = (__u32)bpf_get_current_pid_tgid();

		bpf_map_delete_elem(&set_starts, &tid);
		return 0;
	}
	/* a short write is no request the driver took */
	result = ctx->ret == sizeof(__u32) ? 0 : ctx->ret < 0 ? ctx->ret : -EIO;
	on_v1_end(c.dev, r->known, r->bits, c.bits, result, VFMIG_SRC_SYSCALL);
	r->known = !result; /* a refused write may leave the device anywhere */
	r->bits = c.bits;
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_pread64")
int tp__v1_pread_enter(struct trace_event_raw_sys_enter *ctx)
{
	struct v1_call c = {.arg = ctx->args[1], .kind = V1_READ};

	if (!v1_regions_seen)
		return 0;
	c.dev = fd_dev(ctx->args[0]);
	if (state_access(c.dev, ctx->args[2], ctx->args[3]) && !filtered_out())
		v1_call_put(&c);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_pread64")
int tp__v1_pread_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct v1_region *r;
	struct v1_call c;
	__u32 bits;

	if (!v1_regions_seen || !v1_call_take(V1_READ, &c) || ctx->ret != sizeof(bits) ||
	    bpf_probe_read_user(&bits, sizeof(bits), (void *)c.arg))
		return 0;
	r = bpf_map_lookup_elem(&v1_regions, &c.dev);
	if (!r)
		return 0;
	r->bits = bits;
	r->known = true;
	set_state(c.dev, v1_to_v2(bits));
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_close")
int tp__v1_close(struct trace_event_raw_sys_enter *ctx)
{
	__u64 dev;

	if (!v1_regions_seen)
		return 0;
	dev = fd_dev(ctx->args[0]);
	bpf_map_delete_elem(&v1_regions, &dev);
	return 0;
}

#define V1_FORGET_ROUNDS 4 /* 64 regions a process: more device fds than a VMM has */

/* The process's regions, gone: exec closes device fds (O_CLOEXEC) without close(2). */
static __always_inline void v1_regions_forget_process(void)
{
	struct pid_keys f = {.pid = bpf_get_current_pid_tgid() >> 32};
	__u32 round, i;

	for (round = 0; round < V1_FORGET_ROUNDS; round++) {
		f.n = 0;
		bpf_for_each_map_elem(&v1_regions, collect_pid_keys, &f, 0);
		for (i = 0; i < FORGET_BATCH && i < f.n; i++)
			bpf_map_delete_elem(&v1_regions, &f.keys[i]);
		if (f.n < FORGET_BATCH)
			break;
	}
}

SEC("tracepoint/sched/sched_process_exec")
int tp__v1_exec(void *ctx)
{
	if (v1_regions_seen)
		v1_regions_forget_process();
	return 0;
}

/* A thread's exit: the process's regions go with its last thread. */
SEC("tracepoint/sched/sched_process_exit")
int tp__v1_exit(void *ctx)
{
	if (v1_regions_seen && last_thread_exiting())
		v1_regions_forget_process();
	return 0;
}

/*
 * The tests' way to a GET_REGION_INFO answer this kernel cannot give:
 * args = { fd, info, ret }.
 */
SEC("raw_tp")
int test__v1_region_info(struct bpf_raw_tracepoint_args *ctx)
{
	region_info_enter(ctx->args[0], ctx->args[1]);
	region_info_exit((long)ctx->args[2]);
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

/* The request's end closes its last arc, with the request's result; a region info answer. */
SEC("tracepoint/syscalls/sys_exit_ioctl")
int tp__kstep_ioctl_exit(struct trace_event_raw_sys_exit *ctx)
{
	if (open_ksteps > 0)
		kstep_close((__u32)bpf_get_current_pid_tgid(), ctx->ret);
	if (v1_info_calls > 0)
		region_info_exit(ctx->ret);
	return 0;
}
