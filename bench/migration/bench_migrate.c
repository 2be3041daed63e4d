// SPDX-License-Identifier: GPL-2.0
/*
 * Migration throughput against a plain socket copy of the same bytes, both
 * over a UNIX socketpair to a forked process in the same run (goal: at least
 * 0.8x), and the downtime of an idle VM. Medians over repeated runs.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "migration/migrate.h"

#define RUNS 7
#define MEM (128ull << 20)

/* A child that reads and discards until EOF. */
static pid_t sink(int *fd)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		bench_die("socketpair");
	pid = fork();
	if (!pid) {
		/* Like the destination, the bytes land in memory the size of the guest's. */
		uint8_t *buf = bench_alloc(2 * MEM);
		size_t off = 0;
		ssize_t n;

		close(sv[0]);
		setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &(int){4 << 20}, sizeof(int));
		while ((n = read(sv[1], buf + off, 1 << 20)) > 0)
			off = (off + n) % MEM;
		_exit(0);
	}
	close(sv[1]);
	*fd = sv[0];
	setsockopt(*fd, SOL_SOCKET, SO_SNDBUF, &(int){4 << 20}, sizeof(int)); /* as the wire */
	return pid;
}

static double plain_copy(const uint8_t *src, size_t len)
{
	double t;
	size_t off = 0;
	int fd;
	pid_t pid = sink(&fd);

	t = bench_now();
	while (off < len) {
		ssize_t n = write(fd, src + off, len - off < (1 << 20) ? len - off : (1 << 20));

		if (n <= 0) {
			perror("write");
			bench_die("write");
		}
		off += n;
	}
	close(fd);
	waitpid(pid, NULL, 0);
	return bench_now() - t;
}

/* One migration of an idle VM; returns round 0's time, and the downtime in *down. */
static double migrate_once(double *down, uint64_t *bytes)
{
	struct vm_cfg cfg = {.mem_size = MEM};
	struct mig_opts o = {.downtime_ns = 300000000, .max_rounds = 30};
	struct mig_summary *rep = calloc(1, sizeof(*rep));
	struct mig_dest_report drep;
	char err[256];
	struct vm *vm;
	int sv[2], status;
	pid_t pid;
	double t;

	if (!rep || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		bench_die("socketpair");
	pid = fork(); /* before any thread of this run exists */
	if (!pid) {
		close(sv[0]);
		_exit(mig_destination(sv[1], false, MIG_DIE_NEVER, &vm, &drep) ? 1 : 0);
	}
	close(sv[1]);
	vm_dev_spec_parse("nic:rate=0", &cfg.devs[0], err, sizeof(err));
	cfg.ndevs = 1;
	vm = vm_create(&cfg, err, sizeof(err));
	if (!vm || vm_start(vm))
		bench_die(err);
	if (mig_source(vm, sv[0], &o, rep) || !rep->verified)
		bench_die(rep->error);
	close(sv[0]);
	waitpid(pid, &status, 0);
	t = rep->rounds[0].ns / 1e9;
	*bytes = rep->rounds[0].bytes;
	*down = rep->downtime_ns / 1e6;
	vm_destroy(vm);
	free(rep);
	return t;
}

int main(void)
{
	double t_copy[RUNS], t_mig[RUNS], down[RUNS], lo, hi, med;
	uint8_t *src = bench_alloc(2 * MEM); /* round 0 carries framing too */
	uint64_t bytes = 0;
	int i;

	signal(SIGPIPE, SIG_IGN);
	memset(src, 0x5a, 2 * MEM);
	bench_header("bench_migrate", "pre-copy round 0 of a 128 MiB idle VM vs a plain write of "
				      "the same bytes to a socket; idle downtime");
	for (i = 0; i < RUNS; i++) {
		t_mig[i] = migrate_once(&down[i], &bytes);
		t_copy[i] = plain_copy(src, bytes);
	}
	bench_rate("plain socket copy (baseline)", bytes, t_copy, RUNS, NULL);
	bench_rate("migration round 0", bytes, t_mig, RUNS, t_copy);
	bench_goal("migration", bytes, t_mig, t_copy, RUNS, 0.8);
	med = bench_median(down, RUNS, &lo, &hi);
	printf("  idle VM downtime: %.2f ms (median of %d, %.2f..%.2f)\n", med, RUNS, lo, hi);
	munmap(src, 2 * MEM);
	return 0;
}
