/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The ioctl family's data-stream side: bytes through every syscall that
 * moves them on a migration data fd (the fd a MIG_DEVICE_STATE SET
 * returned, kept in data_fds by ioctl.bpf.c), and the fds forgotten at
 * close, exec and exit. Included by ioctl.bpf.c only: its maps are there.
 */
#ifndef VFMIG_DATA_FDS_BPF_H
#define VFMIG_DATA_FDS_BPF_H

/* The device of (pid, fd) when fd is a data fd, or NULL; fd < 0: the call has no such side. */
static __always_inline __u64 *data_fd_dev(__u64 id, __s32 fd)
{
	__u64 key = pid_fd(id, fd);

	return fd < 0 ? NULL : bpf_map_lookup_elem(&data_fds, &key);
}

#define UIO_MAXIOV 1024 /* readv/writev refuse more iovecs (EINVAL) */

/*
 * A call that may move bytes on data fds: in_fd is read from, out_fd written
 * to (-1: none). len is the bytes asked; of a vectored call, the count of
 * the iovecs at vec. Every other call on the host leaves at the global
 * count, or after a lookup.
 */
static __always_inline int data_enter(__s32 in_fd, __s32 out_fd, __u64 len, bool vectored,
				      __u64 vec, __u8 via)
{
	struct data_call c = {.in_fd = -1, .out_fd = -1, .via = via};
	__u64 id, *in, *out;
	__u32 tid;

	if (data_fds_open <= 0)
		return 0;
	id = bpf_get_current_pid_tgid();
	in = data_fd_dev(id, in_fd);
	if (in) {
		c.in_dev = *in;
		c.in_fd = in_fd;
	}
	out = data_fd_dev(id, out_fd);
	if (out) {
		c.out_dev = *out;
		c.out_fd = out_fd;
	}
	if (c.in_fd < 0 && c.out_fd < 0)
		return 0;
	c.len = vectored ? sum_lens(vec, len, UIO_MAXIOV, &c.cut) : len;
	tid = (__u32)id;
	if (!bpf_map_update_elem(&data_calls, &tid, &c, BPF_NOEXIST))
		__sync_fetch_and_add(&data_calls_open, 1);
	return 0;
}

/* One side of a finished call: the data fd's device, the bytes asked and moved. */
static __always_inline void data_event(__u16 type, __u64 dev, struct data_call *c, __s32 fd,
				       __s32 other, long ret)
{
	struct vfmig_event *e = event_new(type, VFMIG_SRC_SYSCALL, dev);

	if (!e)
		return;
	e->a = c->len;
	e->b = fd;
	e->c = other < 0 ? ~0ull : (__u64)other;
	e->from = c->via;
	e->to = c->cut;
	e->result = ret;
	event_send(e);
}

/* The bytes a call returned are the bytes it moved, out of in_fd and into out_fd. */
static __always_inline int data_exit(long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct data_call *c;

	if (data_calls_open <= 0)
		return 0;
	c = bpf_map_lookup_elem(&data_calls, &tid);
	if (!c)
		return 0;
	if (c->in_fd >= 0) {
		if (ret > 0)
			count_dev(c->in_dev, VFMIG_C_DATA_READ_BYTES, ret);
		data_event(VFMIG_EV_DATA_READ, c->in_dev, c, c->in_fd, c->out_fd, ret);
	}
	if (c->out_fd >= 0) {
		if (ret > 0)
			count_dev(c->out_dev, VFMIG_C_DATA_WRITE_BYTES, ret);
		data_event(VFMIG_EV_DATA_WRITE, c->out_dev, c, c->out_fd, c->in_fd, ret);
	}
	if (!bpf_map_delete_elem(&data_calls, &tid))
		__sync_fetch_and_add(&data_calls_open, -1);
	return 0;
}

#define DATA_EXIT(call)                                               \
	SEC("tracepoint/syscalls/sys_exit_" #call)                    \
	int tp__sys_exit_##call(struct trace_event_raw_sys_exit *ctx) \
	{                                                             \
		return data_exit(ctx->ret);                           \
	}

/* read, pread64 (fd, buf, count[, pos]); readv, preadv(2) (fd, vec, vlen, ...); writes alike */
#define DATA_ENTER_IO(call, out, vectored, via)                                         \
	SEC("tracepoint/syscalls/sys_enter_" #call)                                     \
	int tp__sys_enter_##call(struct trace_event_raw_sys_enter *ctx)                 \
	{                                                                               \
		__s32 fd = ctx->args[0];                                                \
                                                                                        \
		return data_enter(out ? -1 : fd, out ? fd : -1, ctx->args[2], vectored, \
				  ctx->args[1], via);                                   \
	}                                                                               \
	DATA_EXIT(call)

DATA_ENTER_IO(read, false, false, VFMIG_VIA_READ)
DATA_ENTER_IO(write, true, false, VFMIG_VIA_WRITE)
DATA_ENTER_IO(readv, false, true, VFMIG_VIA_READV)
DATA_ENTER_IO(writev, true, true, VFMIG_VIA_WRITEV)
DATA_ENTER_IO(pread64, false, false, VFMIG_VIA_PREAD64)
DATA_ENTER_IO(pwrite64, true, false, VFMIG_VIA_PWRITE64)
DATA_ENTER_IO(preadv, false, true, VFMIG_VIA_PREADV)
DATA_ENTER_IO(pwritev, true, true, VFMIG_VIA_PWRITEV)
DATA_ENTER_IO(preadv2, false, true, VFMIG_VIA_PREADV2)
DATA_ENTER_IO(pwritev2, true, true, VFMIG_VIA_PWRITEV2)

/* splice(fd_in, off_in, fd_out, off_out, len, flags): either end may be a data fd */
SEC("tracepoint/syscalls/sys_enter_splice")
int tp__sys_enter_splice(struct trace_event_raw_sys_enter *ctx)
{
	return data_enter(ctx->args[0], ctx->args[2], ctx->args[4], false, 0, VFMIG_VIA_SPLICE);
}
DATA_EXIT(splice)

/* copy_file_range(fd_in, off_in, fd_out, off_out, len, flags) */
SEC("tracepoint/syscalls/sys_enter_copy_file_range")
int tp__sys_enter_copy_file_range(struct trace_event_raw_sys_enter *ctx)
{
	return data_enter(ctx->args[0], ctx->args[2], ctx->args[4], false, 0,
			  VFMIG_VIA_COPY_FILE_RANGE);
}
DATA_EXIT(copy_file_range)

/* sendfile64(out_fd, in_fd, offset, count): x86-64's sendfile */
SEC("tracepoint/syscalls/sys_enter_sendfile64")
int tp__sys_enter_sendfile64(struct trace_event_raw_sys_enter *ctx)
{
	return data_enter(ctx->args[1], ctx->args[0], ctx->args[3], false, 0, VFMIG_VIA_SENDFILE);
}
DATA_EXIT(sendfile64)

static __always_inline void data_fd_forget(__u64 key)
{
	if (!bpf_map_delete_elem(&data_fds, &key))
		__sync_fetch_and_add(&data_fds_open, -1);
}

SEC("tracepoint/syscalls/sys_enter_close")
int tp__sys_enter_close(struct trace_event_raw_sys_enter *ctx)
{
	if (data_fds_open > 0)
		data_fd_forget(fd_dev(ctx->args[0]));
	return 0;
}

/* One round: up to FORGET_BATCH of the process's data fds collected, then forgotten. */
static long forget_round(__u32 round, struct pid_keys *f)
{
	__u32 i;

	f->n = 0;
	bpf_for_each_map_elem(&data_fds, collect_pid_keys, f, 0);
	for (i = 0; i < FORGET_BATCH; i++) {
		if (i >= f->n)
			break;
		data_fd_forget(f->keys[i]);
	}
	return f->n < FORGET_BATCH; /* 1: that was the last of them */
}

/* Every data fd of the current process, gone at once (exec closes them: O_CLOEXEC). */
static __always_inline void data_fds_forget_process(void)
{
	struct pid_keys f = {.pid = bpf_get_current_pid_tgid() >> 32};
	__u32 round;

	if (has_bpf_loop()) {
		bpf_loop(VFMIG_MAX_DATA_FDS / FORGET_BATCH + 1, forget_round, &f, 0);
		return;
	}
	for (round = 0; round < VFMIG_MAX_DATA_FDS / FORGET_BATCH + 1; round++) {
		if (forget_round(round, &f))
			break;
	}
}

SEC("tracepoint/sched/sched_process_exec")
int tp__data_fds_exec(void *ctx)
{
	if (data_fds_open > 0)
		data_fds_forget_process();
	return 0;
}

/* A thread's exit: the process's fds go with its last thread. */
SEC("tracepoint/sched/sched_process_exit")
int tp__data_fds_exit(void *ctx)
{
	if (data_fds_open > 0 && last_thread_exiting())
		data_fds_forget_process();
	return 0;
}

#endif
