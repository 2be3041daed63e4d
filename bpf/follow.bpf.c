// SPDX-License-Identifier: GPL-2.0
/*
 * Following the watched process's children, as perf stat does: a process it
 * (or one of its followed descendants) forks while watched joins the followed
 * map, which every family's filter consults, and leaves it with its last
 * thread. A migration forks its destination: both ends are then watched.
 * Threads are not added: they share their process's tgid already.
 */
#include "common.bpf.h"

SEC("raw_tp/sched_process_fork")
int BPF_PROG(raw_tp__follow_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = BPF_CORE_READ(parent, tgid), tgid = BPF_CORE_READ(child, tgid);
	__u8 one = 1;

	if (!filter.follow_children || !filter.pid || tgid == ptgid || pid_out(ptgid))
		return 0;
	if (bpf_map_update_elem(&followed, &tgid, &one, BPF_ANY))
		count(VFMIG_C_FOLLOW_OVERFLOW, 1);
	return 0;
}

SEC("tracepoint/sched/sched_process_exit")
int tp__follow_exit(void *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	if (filter.follow_children && tgid != filter.pid && last_thread_exiting())
		bpf_map_delete_elem(&followed, &tgid);
	return 0;
}
