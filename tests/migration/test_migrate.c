// SPDX-License-Identifier: GPL-2.0
/*
 * The migration driver (user/emu/migrate.c, migrate_dest.c) end to end: a
 * source VM in this process, its destination in a child process over a
 * socketpair, both real. Every device variant and dirty interface migrated
 * and verified; a dropped dirty page caught by verification; the peer
 * killed in each phase, the stream cut or corrupted, a full disk: the
 * source rolls back RUNNING with RAM and device state as they were, and a
 * running source migrates again afterwards; a non-converging workload
 * stopped by the round cap; the stop rule; migration into a file and back.
 *
 * Children (destinations, a proxy) are forked before the VM exists, while
 * this process has no thread: every test destroys its VM (joining the
 * vCPU and device threads) before it returns, teardown included.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/vfmig_test.h"
#include "vfmig/uapi.h"
#include "device/device.h"
#include "memory/guest_mem.h"
#include "migration/migrate.h"
#include "migration/vm.h"
#include "migration/wire.h"

#define PG 4096ull
#define MB 1000000ull
#define MS 1000000ull
#define MAX_KIDS 4
#define TEST_ALARM 50 /* seconds: a hung migration kills the binary, it does not hang CI */
#define CHILD_ALARM 40

#define PROBE_OR_SKIP()                                    \
	do {                                               \
		char perr_[256];                           \
		if (guest_mem_probe(perr_, sizeof(perr_))) \
			VFMIG_SKIP("%s", perr_);           \
	} while (0)

/* Exit codes of a destination child. */
enum { DEST_VERIFIED = 0, DEST_DIFFERS = 1, DEST_FAILED = 2, DEST_NOT_RUNNING = 3 };

struct fx {
	pid_t pid[MAX_KIDS];
	int fd[MAX_KIDS]; /* this process's end of each child's socket */
	int status[MAX_KIDS];
	bool reaped[MAX_KIDS];
	int nkids;
	struct vm *vm;
	struct mig_summary *rep;
	int tmpfd[2];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->rep = calloc(1, sizeof(*f->rep));
	assert_non_null(f->rep);
	f->tmpfd[0] = f->tmpfd[1] = -1;
	alarm(TEST_ALARM);
	*state = f;
	return 0;
}

static void reap(struct fx *f, int k, bool force)
{
	int i;

	if (f->reaped[k])
		return;
	if (f->fd[k] >= 0)
		close(f->fd[k]);
	f->fd[k] = -1;
	for (i = 0; force && i < 500; i++) {
		if (waitpid(f->pid[k], &f->status[k], WNOHANG) == f->pid[k]) {
			f->reaped[k] = true;
			return;
		}
		usleep(10000);
	}
	if (force)
		kill(f->pid[k], SIGKILL); /* ours, and stuck */
	waitpid(f->pid[k], &f->status[k], 0);
	f->reaped[k] = true;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	int k;

	vm_destroy(f->vm);
	for (k = 0; k < f->nkids; k++)
		reap(f, k, true);
	for (k = 0; k < 2; k++) {
		if (f->tmpfd[k] >= 0)
			close(f->tmpfd[k]);
	}
	free(f->rep);
	free(f);
	alarm(0);
	return 0;
}

/* In a child: nothing of the parent's other connections stays open here, but keep. */
static void close_parent_fds(struct fx *f, int keep)
{
	int k;

	for (k = 0; k < f->nkids; k++) {
		if (f->fd[k] >= 0 && f->fd[k] != keep)
			close(f->fd[k]);
	}
}

static int dest_main(int fd, bool from_file, enum mig_die die)
{
	struct mig_dest_report rep;
	struct vm *vm;
	bool verified;
	unsigned int i;
	int ret;

	alarm(CHILD_ALARM);
	ret = mig_destination(fd, from_file, die, &vm, &rep);
	close(fd);
	if (ret) {
		fprintf(stderr, "# destination: %s\n", rep.error);
		return DEST_FAILED;
	}
	verified = rep.verified;
	for (i = 0; i < vm->cfg.ndevs; i++) {
		enum vfio_device_mig_state st;

		if (emu_get_state(vm->devs[i].dev, &st) || st != VFIO_DEVICE_STATE_RUNNING) {
			vm_destroy(vm);
			return DEST_NOT_RUNNING;
		}
	}
	vm_destroy(vm);
	return verified ? DEST_VERIFIED : DEST_DIFFERS;
}

static pid_t fork_child(struct fx *f, int keep)
{
	pid_t pid;

	assert_true(f->nkids < MAX_KIDS);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		close_parent_fds(f, keep);
	return pid;
}

/* Caps the address space at what is mapped now plus slack. */
static void limit_as(uint64_t slack)
{
	char line[256];
	unsigned long long kb = 0;
	struct rlimit rl;
	FILE *st = fopen("/proc/self/status", "r");

	while (st && fgets(line, sizeof(line), st))
		sscanf(line, "VmSize: %llu kB", &kb);
	if (st)
		fclose(st);
	rl.rlim_cur = rl.rlim_max = kb * 1024 + slack;
	if (!kb || setrlimit(RLIMIT_AS, &rl))
		_exit(100);
}

/*
 * A destination process; returns its index. Call before the VM is created.
 * as_slack: the child can map only this much more than it has (0: no limit).
 */
static int spawn_dest_limited(struct fx *f, enum mig_die die, uint64_t as_slack)
{
	int sv[2], k = f->nkids;
	pid_t pid;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pid = fork_child(f, -1);
	if (pid == 0) {
		close(sv[0]);
		if (as_slack)
			limit_as(as_slack);
		_exit(dest_main(sv[1], false, die));
	}
	close(sv[1]);
	f->pid[k] = pid;
	f->fd[k] = sv[0];
	f->reaped[k] = false;
	f->nkids++;
	return k;
}

static int spawn_dest(struct fx *f, enum mig_die die)
{
	return spawn_dest_limited(f, die, 0);
}

/* ---- a man in the middle: forwards both ways, corrupting or cutting the source's stream ---- */

struct mitm {
	uint32_t flip_dev; /* flip a byte in the middle of this device's first WIRE_DEV */
	bool flip;
	uint64_t cut_at; /* forward this many bytes of the source's stream, then hang up */
	/* parser of the source's stream */
	uint8_t hdr[sizeof(struct wire_hdr)];
	unsigned int hn;
	uint32_t type, dev;
	uint64_t len, off, total;
	bool flipped;
};

static void mitm_bytes(struct mitm *m, uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (m->hn < sizeof(m->hdr)) {
			m->hdr[m->hn++] = p[i];
			if (m->hn == sizeof(m->hdr)) {
				struct wire_hdr h;

				memcpy(&h, m->hdr, sizeof(h));
				m->type = h.type;
				m->len = h.len;
				m->off = 0;
				m->dev = 0;
				if (!m->len)
					m->hn = 0;
			}
			continue;
		}
		if (m->type == WIRE_DEV && m->off < 4)
			m->dev |= (uint32_t)p[i] << (8 * m->off);
		if (m->flip && !m->flipped && m->type == WIRE_DEV && m->off >= 8 &&
		    m->dev == m->flip_dev && m->off == 8 + (m->len - 8) / 2) {
			p[i] ^= 0x20;
			m->flipped = true;
		}
		if (++m->off == m->len)
			m->hn = 0;
	}
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= w;
	}
	return 0;
}

static void drain(int from, int to)
{
	uint8_t buf[4096];
	ssize_t n;

	while ((n = read(from, buf, sizeof(buf))) > 0) {
		if (write_all(to, buf, n))
			return;
	}
}

static int mitm_main(int src, int dst, struct mitm *m)
{
	static uint8_t buf[1 << 16];
	struct pollfd pfd[2] = {{src, POLLIN, 0}, {dst, POLLIN, 0}};

	alarm(CHILD_ALARM);
	for (;;) {
		ssize_t n;

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		if (pfd[1].revents) {
			n = read(dst, buf, sizeof(buf));
			if (n <= 0 || write_all(src, buf, n))
				return 0;
		}
		if (pfd[0].revents) {
			n = read(src, buf, sizeof(buf));
			if (n <= 0)
				return 0;
			if (m->cut_at && m->total + n >= m->cut_at) {
				n = m->cut_at - m->total;
				write_all(dst, buf, n);
				return 0; /* both ends close: the connection is cut */
			}
			m->total += n;
			mitm_bytes(m, buf, n);
			if (write_all(dst, buf, n)) {
				/* the destination hung up: pass on what it said last */
				drain(dst, src);
				return 0;
			}
		}
	}
}

/*
 * A destination behind a man in the middle; returns the destination's
 * index, the man in the middle's (the one to talk to) is the next.
 */
static int spawn_dest_via(struct fx *f, struct mitm *m)
{
	int a[2], k, p;
	pid_t pid;

	k = spawn_dest(f, MIG_DIE_NEVER);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, a), 0);
	p = f->nkids;
	pid = fork_child(f, f->fd[k]);
	if (pid == 0) {
		close(a[0]);
		_exit(mitm_main(a[1], f->fd[k], m));
	}
	close(a[1]);
	/* The proxy holds the destination's socket now: talk to the proxy instead. */
	close(f->fd[k]);
	f->fd[k] = -1;
	f->pid[p] = pid;
	f->fd[p] = a[0];
	f->reaped[p] = false;
	f->nkids++;
	return k;
}

/* ---- VMs ---- */

static void cfg_init(struct vm_cfg *c, uint64_t mem, unsigned int vcpus, uint64_t rate,
		     uint64_t wss)
{
	memset(c, 0, sizeof(*c));
	c->mem_size = mem;
	c->wl = (struct workload_cfg){.threads = vcpus,
				      .rate = rate,
				      .ws_pages = wss / PG,
				      .pattern = WORKLOAD_UNIFORM,
				      .hot_fraction = 0.1,
				      .hot_share = 0.9,
				      .seed = 1};
}

static void cfg_dev(struct vm_cfg *c, const char *spec)
{
	char err[256] = "";

	if (vm_dev_spec_parse(spec, &c->devs[c->ndevs], err, sizeof(err)))
		fail_msg("%s: %s", spec, err);
	c->ndevs++;
}

static struct vm *make_vm(struct fx *f, const struct vm_cfg *c, bool start)
{
	char err[256] = "";

	f->vm = vm_create(c, err, sizeof(err));
	if (!f->vm)
		fail_msg("vm_create: %s", err);
	if (start) {
		if (vm_start(f->vm))
			fail_msg("vm_start: %s", f->vm->err);
		usleep(100 * 1000); /* the workload settles into its rate */
	}
	return f->vm;
}

static void drop_vm(struct fx *f)
{
	vm_destroy(f->vm);
	f->vm = NULL;
}

/*
 * A VM that changes nothing by itself: RAM and devices hold content (a
 * pattern, nic ring state and pins, bigmem memory) but no vCPU writes and
 * no device work, so its digests can be compared across a failed migration.
 */
static struct vm *quiet_vm(struct fx *f)
{
	struct vm_cfg c;
	struct vm *vm;
	uint64_t *w, i;

	cfg_init(&c, 16 << 20, 0, 0, 0);
	cfg_dev(&c, "nic:dirty=type1-pin,rate=0");
	cfg_dev(&c, "bigmem:mem=4m,rate=0");
	vm = make_vm(f, &c, false);
	w = guest_mem_vcpu(vm->mem);
	for (i = 0; i < guest_mem_size(vm->mem) / 8; i += 61)
		w[i] = i * 0x9e3779b97f4a7c15ull;
	assert_int_equal(emu_dev_run(vm->devs[0].dev, 300), 0);
	assert_int_equal(emu_dev_run(vm->devs[1].dev, 300), 0);
	assert_int_equal(vm_start(vm), 0); /* runners at rate 0: nothing changes */
	return vm;
}

/* vCPU writers, a nic and a bigmem, all working. */
static struct vm *busy_vm(struct fx *f)
{
	struct vm_cfg c;

	cfg_init(&c, 16 << 20, 1, 5000, 4 << 20);
	cfg_dev(&c, "nic:dirty=type1-rw,rate=5000");
	cfg_dev(&c, "bigmem:mem=4m,rate=500");
	return make_vm(f, &c, true);
}

struct snap {
	uint64_t ram, dev[VM_MAX_DEVICES];
};

static void snapshot(struct vm *vm, struct snap *s)
{
	unsigned int i;

	memset(s, 0, sizeof(*s));
	s->ram = vm_ram_digest(vm);
	for (i = 0; i < vm->cfg.ndevs; i++)
		s->dev[i] = emu_dev_digest(vm->devs[i].dev);
}

static void assert_states(struct vm *vm, enum vfio_device_mig_state want)
{
	unsigned int i;

	for (i = 0; i < vm->cfg.ndevs; i++) {
		enum vfio_device_mig_state st;

		assert_int_equal(emu_get_state(vm->devs[i].dev, &st), 0);
		if (st != want)
			fail_msg("device %u (%s) is %s, expected %s", i, vm->devs[i].spec.variant,
				 vfio_state_name(st), vfio_state_name(want));
	}
}

/* Rolled back: every device RUNNING, and (when given) RAM and devices as before. */
static void assert_intact(struct vm *vm, const struct snap *before)
{
	struct snap now;
	unsigned int i;

	assert_states(vm, VFIO_DEVICE_STATE_RUNNING);
	assert_false(guest_mem_tracking(vm->mem));
	if (!before)
		return;
	snapshot(vm, &now);
	if (now.ram != before->ram)
		fail_msg("source RAM changed by a failed migration");
	for (i = 0; i < vm->cfg.ndevs; i++) {
		if (now.dev[i] != before->dev[i])
			fail_msg("device %u (%s) state changed by a failed migration", i,
				 vm->devs[i].spec.variant);
	}
}

/* The source runs again: vCPUs write and devices work. */
static void assert_live(struct vm *vm)
{
	struct workload_stats a, b;
	uint64_t d0 = emu_dev_digest(vm->devs[0].dev);

	workload_stats(vm->wl, &a);
	usleep(50 * 1000);
	workload_stats(vm->wl, &b);
	assert_true(b.writes > a.writes);
	assert_true(emu_dev_digest(vm->devs[0].dev) != d0);
}

static int child_exit(struct fx *f, int k)
{
	reap(f, k, false);
	if (!WIFEXITED(f->status[k]))
		return -1;
	return WEXITSTATUS(f->status[k]);
}

static bool child_killed(struct fx *f, int k)
{
	reap(f, k, false);
	return WIFSIGNALED(f->status[k]) && WTERMSIG(f->status[k]) == SIGKILL;
}

static void print_rep(const char *what, const struct mig_summary *r)
{
	uint64_t parts = r->stop_ns + r->final_harvest_ns + r->final_ram_ns + r->final_dev_ns +
			 r->dest_ns;

	printf("# %s: %u round(s)%s, %.1f MB in %.1f ms, downtime %.2f ms%s (stop %.2f, harvest "
	       "%.2f, RAM %.2f [%llu pages], devices %.2f, destination %.2f, rest %.2f)\n",
	       what, r->nrounds, r->converged ? " converged" : " not converged", r->bytes / 1e6,
	       r->total_ns / 1e6, r->downtime_ns / 1e6, r->downtime_exact ? "" : " (approx)",
	       r->stop_ns / 1e6, r->final_harvest_ns / 1e6, r->final_ram_ns / 1e6,
	       (unsigned long long)r->final_pages, r->final_dev_ns / 1e6, r->dest_ns / 1e6,
	       ((double)r->downtime_ns - parts) / 1e6);
}

/* Migrates f->vm to destination k; the migration must commit and verify. */
static void migrate_ok(struct fx *f, int k, const struct mig_opts *o, const char *what)
{
	struct mig_summary *r = f->rep;
	int ret = mig_source(f->vm, f->fd[k], o, r);

	if (ret)
		fail_msg("%s: mig_source: %d (%s)", what, ret, r->error);
	print_rep(what, r);
	assert_true(r->committed);
	assert_true(r->verified);
	assert_int_equal(child_exit(f, k), DEST_VERIFIED);
	assert_true(r->nrounds >= 1);
	assert_true(r->nrounds <= o->max_rounds);
	assert_true(r->total_ns > 0);
	assert_true(r->downtime_ns > 0 && r->downtime_ns < r->total_ns);
	assert_true(r->downtime_exact);
	/* after the commit point the source stays stopped */
	assert_states(f->vm, VFIO_DEVICE_STATE_STOP);
}

/* Migrates f->vm over fd; the migration must fail before the commit point. */
static void migrate_fails(struct fx *f, int fd, const struct mig_opts *o, const char *what)
{
	struct mig_summary *r = f->rep;
	int ret = mig_source(f->vm, fd, o, r);

	printf("# %s: failed as it should: %d (%s)\n", what, ret, r->error);
	if (!ret)
		fail_msg("%s: mig_source succeeded", what);
	assert_true(ret < 0);
	assert_true(r->error[0]);
	assert_false(r->committed);
}

/* ---- 1. every device variant and dirty interface, verified ---- */

/*
 * A nic DMAing at 20000 packets/s into a ring of 128 pages, no vCPU
 * writer, a cap of 3 rounds and a zero downtime limit (the nic's stop-copy
 * bytes never fit in it): 3 rounds, not converged, verified. Each harvest
 * shows the device's DMA pages and no vCPU page, and each round sends
 * exactly what was harvested.
 */
static void nic_mode(void **state, const char *mode)
{
	struct fx *f = *state;
	struct mig_opts o = {.bandwidth = 200 * MB, .downtime_ns = 0, .max_rounds = 3};
	struct mig_summary *r = f->rep;
	uint64_t pages = (16 << 20) / PG, ring = 256 * 2048 / PG;
	bool iommu = !strcmp(mode, "type1-iommu"), pin = !strcmp(mode, "type1-pin");
	char spec[128], what[64];
	struct vm_cfg c;
	unsigned int i;
	int k;

	PROBE_OR_SKIP();
	k = spawn_dest(f, MIG_DIE_NEVER);
	cfg_init(&c, 16 << 20, 0, 0, 0);
	snprintf(spec, sizeof(spec), "nic:dirty=%s,rate=20000", mode);
	cfg_dev(&c, spec);
	make_vm(f, &c, false);
	/* every ring buffer used once (and pinned, in pin mode) before the migration */
	assert_int_equal(emu_dev_run(f->vm->devs[0].dev, 256), 0);
	assert_int_equal(vm_start(f->vm), 0);
	usleep(50 * 1000);
	snprintf(what, sizeof(what), "nic %s", mode);
	migrate_ok(f, k, &o, what);
	assert_false(r->converged);
	assert_int_equal(r->nrounds, 3);
	assert_int_equal(r->rounds[0].ram_pages, pages);
	for (i = 1; i < r->nrounds; i++) {
		const struct mig_round *rd = &r->rounds[i];

		printf("#   round %u: %llu pages sent, dirty: vCPU %llu, nic %llu\n", i,
		       (unsigned long long)rd->ram_pages, (unsigned long long)rd->dirty_by_src[0],
		       (unsigned long long)rd->dirty_by_src[1]);
		assert_int_equal(rd->dirty_by_src[0], 0);
		if (iommu)
			assert_int_equal(rd->dirty_by_src[1], pages);
		else if (pin)
			assert_int_equal(rd->dirty_by_src[1], ring);
		else
			assert_true(rd->dirty_by_src[1] <= ring);
		assert_int_equal(rd->ram_pages, rd->dirty_by_src[1]);
		assert_true(rd->pending >= rd->ram_pages * PG);
	}
	/* round 0 lasted ~80 ms at 20000 packets/s: the whole ring was written */
	assert_true(r->rounds[1].dirty_by_src[1] > 0);
	assert_true(r->dev_data_size[0] > 0);
	drop_vm(f);
}

static void test_nic_type1_pin(void **state)
{
	nic_mode(state, "type1-pin");
}

static void test_nic_type1_rw(void **state)
{
	nic_mode(state, "type1-rw");
}

static void test_nic_type1_iommu(void **state)
{
	nic_mode(state, "type1-iommu");
}

static void test_nic_dma_log(void **state)
{
	nic_mode(state, "dma-log");
}

static void test_nic_iommufd(void **state)
{
	nic_mode(state, "iommufd");
}

/* bigmem in PRE_COPY: its initial bytes in round 0, then the blocks it rewrote. */
static void test_bigmem(void **state)
{
	struct fx *f = *state;
	struct mig_opts o = {.bandwidth = 200 * MB, .downtime_ns = 0, .max_rounds = 3};
	struct mig_summary *r = f->rep;
	struct vm_cfg c;
	unsigned int i;
	int k;

	PROBE_OR_SKIP();
	k = spawn_dest(f, MIG_DIE_NEVER);
	cfg_init(&c, 16 << 20, 0, 0, 0);
	cfg_dev(&c, "bigmem:mem=4m,rate=5000");
	make_vm(f, &c, true);
	migrate_ok(f, k, &o, "bigmem");
	assert_false(r->converged);
	assert_int_equal(r->nrounds, 3);
	assert_true(r->rounds[0].dev_bytes >= 4 << 20);
	for (i = 0; i < r->nrounds; i++) {
		printf("#   round %u: %llu device bytes\n", i,
		       (unsigned long long)r->rounds[i].dev_bytes);
		assert_int_equal(r->rounds[i].dirty_by_src[1], 0); /* it does no DMA */
		if (i)
			assert_int_equal(r->rounds[i].dirty_by_src[0], 0);
	}
	/* ~100 ms of writes during round 0: dirty blocks went in round 1 */
	assert_true(r->rounds[1].dev_bytes > 0);
	assert_true(r->dev_data_size[0] > 0);
	drop_vm(f);
}

/* Everything at once, with limits it can meet: converges and verifies. */
static void test_all_together(void **state)
{
	struct fx *f = *state;
	struct mig_opts o = {.bandwidth = 200 * MB, .downtime_ns = 300 * MS, .max_rounds = 30};
	struct mig_summary *r = f->rep;
	struct vm_cfg c;
	int k;

	PROBE_OR_SKIP();
	k = spawn_dest(f, MIG_DIE_NEVER);
	cfg_init(&c, 32 << 20, 2, 5000, 8 << 20);
	cfg_dev(&c, "nic:dirty=type1-rw,rate=10000");
	cfg_dev(&c, "bigmem:mem=4m,rate=1000");
	cfg_dev(&c, "nic:dirty=iommufd,rate=3000,rx_iova=4m");
	cfg_dev(&c, "nic:dirty=dma-log,rate=3000,rx_iova=8m,buffers=64,bufsize=4k,pkt=4k");
	make_vm(f, &c, true);
	migrate_ok(f, k, &o, "4 devices, 2 vCPUs");
	assert_true(r->converged);
	assert_true(r->rounds[0].dev_bytes >= 4 << 20);
	assert_true(r->final_pages > 0); /* vCPUs and DMA dirtied pages during the last round */
	drop_vm(f);
}

/* Devices without P2P, and bigmem without PRE_COPY: all of its memory in stop-copy. */
static void test_feature_subsets(void **state)
{
	struct fx *f = *state;
	struct mig_opts o = {.bandwidth = 200 * MB, .downtime_ns = 300 * MS, .max_rounds = 10};
	struct mig_summary *r = f->rep;
	struct vm_cfg c;
	int k;

	PROBE_OR_SKIP();
	k = spawn_dest(f, MIG_DIE_NEVER);
	cfg_init(&c, 16 << 20, 1, 2000, 4 << 20);
	cfg_dev(&c, "nic:dirty=type1-pin,rate=5000,features=stop-copy");
	cfg_dev(&c, "bigmem:mem=4m,rate=500,features=stop-copy+p2p");
	make_vm(f, &c, true);
	migrate_ok(f, k, &o, "no P2P, no PRE_COPY");
	assert_int_equal(r->rounds[0].dev_bytes, 0);
	assert_true(r->final_dev_bytes >= 4 << 20);
	assert_true(r->dev_data_size[1] >= 4 << 20);
	drop_vm(f);
}

/* Guest RAM and vCPUs only. */
static void test_no_devices(void **state)
{
	struct fx *f = *state;
	struct mig_opts o = {.bandwidth = 200 * MB, .downtime_ns = 300 * MS, .max_rounds = 10};
	struct mig_summary *r = f->rep;
	struct vm_cfg c;
	int k;

	PROBE_OR_SKIP();
	k = spawn_dest(f, MIG_DIE_NEVER);
	cfg_init(&c, 8 << 20, 1, 5000, 8 << 20);
	make_vm(f, &c, true);
	migrate_ok(f, k, &o, "no devices");
	assert_true(r->converged);
	assert_int_equal(r->final_dev_bytes, 0);
	drop_vm(f);
}

/* ---- 2. a lost dirty page is caught ---- */

static void test_drop_one_page(void **state)
{
	struct fx *f = *state;
	/* one round: everything dirtied while RAM is first sent goes in the final round */
	struct mig_opts o = {.bandwidth = 200 * MB, .downtime_ns = 300 * MS, .max_rounds = 1};
	struct mig_summary *r = f->rep;
	struct vm_cfg c;
	int k[2], ret;

	PROBE_OR_SKIP();
	k[0] = spawn_dest(f, MIG_DIE_NEVER);
	k[1] = spawn_dest(f, MIG_DIE_NEVER);
	cfg_init(&c, 16 << 20, 1, 20000, 4 << 20);
	cfg_dev(&c, "nic:dirty=type1-rw,rate=2000");

	/* the control: the same migration without the drop verifies */
	make_vm(f, &c, true);
	migrate_ok(f, k[0], &o, "control");
	assert_true(r->final_pages > 10);
	drop_vm(f);

	make_vm(f, &c, true);
	o.drop_one_page = true;
	ret = mig_source(f->vm, f->fd[k[1]], &o, r);
	print_rep("one page dropped", r);
	if (ret)
		fail_msg("mig_source: %d (%s)", ret, r->error);
	assert_true(r->committed);
	assert_true(r->final_pages > 0);
	assert_false(r->verified);
	assert_int_equal(child_exit(f, k[1]), DEST_DIFFERS);
	drop_vm(f);
}

/* ---- 3. the peer killed in each phase ---- */

static const char *const die_names[] = {
	[MIG_DIE_HELLO] = "hello",
	[MIG_DIE_PRECOPY] = "pre-copy",
	[MIG_DIE_SWITCHOVER] = "switchover",
	[MIG_DIE_END] = "end",
};

/* A quiet VM: the source is exactly as it was; then it migrates to a fresh peer. */
static void kill_quiet(void **state, enum mig_die die)
{
	struct fx *f = *state;
	struct mig_opts o = {.bandwidth = 500 * MB, .downtime_ns = 300 * MS, .max_rounds = 10};
	char what[64];
	struct snap before;
	int k, k2;

	PROBE_OR_SKIP();
	k = spawn_dest(f, die);
	k2 = spawn_dest(f, MIG_DIE_NEVER);
	quiet_vm(f);
	snapshot(f->vm, &before);
	snprintf(what, sizeof(what), "quiet VM, peer killed at %s", die_names[die]);
	migrate_fails(f, f->fd[k], &o, what);
	assert_true(child_killed(f, k));
	assert_intact(f->vm, &before);
	snprintf(what, sizeof(what), "quiet VM, again after %s", die_names[die]);
	migrate_ok(f, k2, &o, what);
	drop_vm(f);
}

/* A running VM: it runs again, and a second migration to a fresh peer verifies. */
static void kill_running(void **state, enum mig_die die)
{
	struct fx *f = *state;
	struct mig_opts o = {.bandwidth = 200 * MB, .downtime_ns = 300 * MS, .max_rounds = 10};
	char what[64];
	int k, k2;

	PROBE_OR_SKIP();
	k = spawn_dest(f, die);
	k2 = spawn_dest(f, MIG_DIE_NEVER);
	busy_vm(f);
	snprintf(what, sizeof(what), "running VM, peer killed at %s", die_names[die]);
	migrate_fails(f, f->fd[k], &o, what);
	assert_true(child_killed(f, k));
	assert_intact(f->vm, NULL);
	assert_live(f->vm);
	snprintf(what, sizeof(what), "running VM, again after %s", die_names[die]);
	migrate_ok(f, k2, &o, what);
	drop_vm(f);
}

static void test_kill_hello_quiet(void **state)
{
	kill_quiet(state, MIG_DIE_HELLO);
}

static void test_kill_precopy_quiet(void **state)
{
	kill_quiet(state, MIG_DIE_PRECOPY);
}

static void test_kill_switchover_quiet(void **state)
{
	kill_quiet(state, MIG_DIE_SWITCHOVER);
}

static void test_kill_end_quiet(void **state)
{
	kill_quiet(state, MIG_DIE_END);
}

static void test_kill_hello_running(void **state)
{
	kill_running(state, MIG_DIE_HELLO);
}

static void test_kill_precopy_running(void **state)
{
	kill_running(state, MIG_DIE_PRECOPY);
}

static void test_kill_switchover_running(void **state)
{
	kill_running(state, MIG_DIE_SWITCHOVER);
}

static void test_kill_end_running(void **state)
{
	kill_running(state, MIG_DIE_END);
}

/* ---- 4. not converging: the round cap stops it ---- */

/* vCPUs dirty ~2 MiB per round, far more than 8 MB/s x 10 ms. */
static void test_round_cap_vcpu(void **state)
{
	struct fx *f = *state;
	struct mig_opts o = {.bandwidth = 8 * MB, .downtime_ns = 10 * MS, .max_rounds = 4};
	struct mig_summary *r = f->rep;
	struct vm_cfg c;
	unsigned int i;
	int k;

	PROBE_OR_SKIP();
	k = spawn_dest(f, MIG_DIE_NEVER);
	cfg_init(&c, 4 << 20, 1, 20000, 2 << 20);
	cfg_dev(&c, "nic:dirty=type1-pin,rate=1000");
	make_vm(f, &c, true);
	migrate_ok(f, k, &o, "round cap, vCPU writers");
	assert_false(r->converged);
	assert_int_equal(r->nrounds, o.max_rounds);
	for (i = 1; i < r->nrounds; i++) {
		assert_true(r->rounds[i].dirty_by_src[0] > 0);
		assert_true(r->rounds[i].pending > o.bandwidth * o.downtime_ns / 1000000000ull);
	}
	/* the cap held: never much above 8 MB/s */
	for (i = 0; i < r->nrounds; i++)
		assert_true(r->rounds[i].bandwidth < 8 * MB * 1.25);
	drop_vm(f);
}

/* type1 with an IOMMU-backed device: every mapped page dirty every round. */
static void test_round_cap_type1_iommu(void **state)
{
	struct fx *f = *state;
	struct mig_opts o = {.bandwidth = 20 * MB, .downtime_ns = 50 * MS, .max_rounds = 3};
	struct mig_summary *r = f->rep;
	uint64_t pages = (8 << 20) / PG;
	struct vm_cfg c;
	unsigned int i;
	int k;

	PROBE_OR_SKIP();
	k = spawn_dest(f, MIG_DIE_NEVER);
	cfg_init(&c, 8 << 20, 0, 0, 0);
	cfg_dev(&c, "nic:dirty=type1-iommu,rate=1000");
	make_vm(f, &c, true);
	migrate_ok(f, k, &o, "round cap, type1-iommu");
	assert_false(r->converged);
	assert_int_equal(r->nrounds, o.max_rounds);
	for (i = 1; i < r->nrounds; i++) {
		assert_int_equal(r->rounds[i].dirty_by_src[1], pages);
		assert_int_equal(r->rounds[i].ram_pages, pages);
	}
	assert_int_equal(r->final_pages, pages);
	drop_vm(f);
}

/* ---- 5. the stop rule ---- */

static void test_idle_converges(void **state)
{
	struct fx *f = *state;
	struct mig_opts o = {.bandwidth = 0, .downtime_ns = 300 * MS, .max_rounds = 30};
	struct mig_summary *r = f->rep;
	int k;

	PROBE_OR_SKIP();
	k = spawn_dest(f, MIG_DIE_NEVER);
	quiet_vm(f);
	migrate_ok(f, k, &o, "idle VM, uncapped");
	assert_true(r->converged);
	assert_true(r->nrounds <= 2);
	/* bigmem's initial bytes all went before the switchover */
	assert_true(r->rounds[0].dev_bytes >= 4 << 20);
	/* nothing written, but the nic's 128 pinned ring pages are dirty on every report */
	assert_int_equal(r->final_pages, 256 * 2048 / PG);
	drop_vm(f);
}

static void test_idle_converges_capped(void **state)
{
	struct fx *f = *state;
	struct mig_opts o = {.bandwidth = 1000 * MB, .downtime_ns = 300 * MS, .max_rounds = 30};
	struct mig_summary *r = f->rep;
	int k;

	PROBE_OR_SKIP();
	k = spawn_dest(f, MIG_DIE_NEVER);
	quiet_vm(f);
	migrate_ok(f, k, &o, "idle VM, 1000 MB/s");
	assert_true(r->converged);
	assert_true(r->nrounds <= 2);
	drop_vm(f);
}

/* The same idle VM with a downtime limit nothing fits in: the round cap ends it. */
static void test_tiny_downtime_never_converges(void **state)
{
	struct fx *f = *state;
	struct mig_opts o = {.bandwidth = 0, .downtime_ns = 1, .max_rounds = 5};
	struct mig_summary *r = f->rep;
	int k;

	PROBE_OR_SKIP();
	k = spawn_dest(f, MIG_DIE_NEVER);
	quiet_vm(f);
	migrate_ok(f, k, &o, "idle VM, 1 ns downtime limit");
	assert_false(r->converged);
	assert_int_equal(r->nrounds, 5);
	drop_vm(f);
}

/* ---- 6. file target ---- */

static int tmpfile_fd(void)
{
	char name[] = "/tmp/vfmig-test-mig-XXXXXX";
	int fd = mkstemp(name);

	assert_true(fd >= 0);
	unlink(name);
	return fd;
}

static int resume_from(int fd, struct mig_dest_report *drep, bool *running)
{
	struct vm *vm;
	unsigned int i;
	int ret;

	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	ret = mig_destination(fd, true, MIG_DIE_NEVER, &vm, drep);
	if (ret) {
		assert_null(vm);
		return ret;
	}
	*running = true;
	for (i = 0; i < vm->cfg.ndevs; i++) {
		enum vfio_device_mig_state st;

		*running &= !emu_get_state(vm->devs[i].dev, &st) && st == VFIO_DEVICE_STATE_RUNNING;
	}
	vm_destroy(vm);
	return 0;
}

/* Copies the first len bytes of the migration file, optionally with a byte flipped. */
static int file_variant(int src, off_t len, off_t flip)
{
	static uint8_t buf[1 << 16];
	int fd = tmpfile_fd();
	off_t off = 0;

	while (off < len) {
		size_t n = len - off < (off_t)sizeof(buf) ? (size_t)(len - off) : sizeof(buf);

		assert_int_equal(pread(src, buf, n, off), (ssize_t)n);
		if (flip >= off && flip < off + (off_t)n)
			buf[flip - off] ^= 0x20;
		assert_int_equal(pwrite(fd, buf, n, off), (ssize_t)n);
		off += n;
	}
	return fd;
}

/*
 * The first (or last) message of a type (and device) in a migration file:
 * the offset of its payload past the device index, and its length.
 */
static off_t find_msg(int fd, off_t size, uint32_t type, int dev, bool last, uint64_t *len)
{
	struct wire_hdr h;
	off_t off = 0, found = -1;
	uint32_t idx;

	while (off + (off_t)sizeof(h) <= size) {
		assert_int_equal(pread(fd, &h, sizeof(h), off), sizeof(h));
		assert_int_equal(h.magic, WIRE_MAGIC);
		if (h.type == type && type == WIRE_DEV) {
			assert_int_equal(pread(fd, &idx, 4, off + sizeof(h)), 4);
			if ((int)idx == dev) {
				found = off + sizeof(h) + 8;
				*len = h.len - 8;
			}
		} else if (h.type == type) {
			found = off + sizeof(h);
			*len = h.len;
		}
		if (found >= 0 && !last)
			return found;
		off += sizeof(h) + h.len;
	}
	if (found < 0)
		fail_msg("no message of type %u in the migration file", type);
	return found;
}

static void test_file_round_trip(void **state)
{
	struct fx *f = *state;
	struct mig_opts o = {
		.bandwidth = 0, .downtime_ns = 300 * MS, .max_rounds = 10, .to_file = true};
	struct mig_summary *r = f->rep;
	struct mig_dest_report drep;
	struct vm_cfg c;
	struct stat st;
	bool running = false;
	off_t cuts[5], off;
	uint64_t len;
	int fd, v, ret;
	size_t i;

	PROBE_OR_SKIP();
	f->tmpfd[0] = fd = tmpfile_fd();
	cfg_init(&c, 16 << 20, 1, 5000, 4 << 20);
	cfg_dev(&c, "nic:dirty=type1-pin,rate=5000");
	cfg_dev(&c, "bigmem:mem=4m,rate=500");
	make_vm(f, &c, true);
	ret = mig_source(f->vm, fd, &o, r);
	print_rep("to a file", r);
	if (ret)
		fail_msg("mig_source to a file: %d (%s)", ret, r->error);
	assert_true(r->committed);
	assert_states(f->vm, VFIO_DEVICE_STATE_STOP);
	drop_vm(f);

	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal((uint64_t)st.st_size, r->bytes);
	ret = resume_from(fd, &drep, &running);
	if (ret)
		fail_msg("resuming from the file: %d (%s)", ret, drep.error);
	printf("# resumed from a %.1f MB file: loaded in %.2f ms, verified %d\n", st.st_size / 1e6,
	       drep.load_ns / 1e6, drep.verified);
	assert_true(drep.verified);
	assert_true(running);
	assert_int_equal(drep.cfg.ndevs, 2);

	/* A file cut short anywhere is refused. */
	cuts[0] = 0;
	cuts[1] = 10;
	cuts[2] = st.st_size / 3;
	cuts[3] = find_msg(fd, st.st_size, WIRE_END, -1, false, &len) + len / 2;
	cuts[4] = st.st_size - 1;
	for (i = 0; i < 5; i++) {
		v = file_variant(fd, cuts[i], -1);
		ret = resume_from(v, &drep, &running);
		close(v);
		if (!ret)
			fail_msg("a migration file cut at %lld of %lld bytes was accepted",
				 (long long)cuts[i], (long long)st.st_size);
		assert_true(drep.error[0]);
	}

	/* A flipped byte in device data is refused by the device. */
	for (i = 0; i < 2; i++) {
		off = find_msg(fd, st.st_size, WIRE_DEV, i, false, &len) + len / 2;
		v = file_variant(fd, st.st_size, off);
		ret = resume_from(v, &drep, &running);
		close(v);
		printf("# device %zu's data corrupted in the file: %d (%s)\n", i, ret, drep.error);
		if (!ret)
			fail_msg("corrupted data of device %zu was accepted", i);
	}
	/*
	 * A flipped byte in guest RAM loads, but is not what the source had: the
	 * last byte of the last page of the final round (the nic's pinned ring pages
	 * are in every round), which nothing sends again.
	 */
	off = find_msg(fd, st.st_size, WIRE_PAGES, -1, true, &len) + len - 1;
	v = file_variant(fd, st.st_size, off);
	ret = resume_from(v, &drep, &running);
	close(v);
	assert_int_equal(ret, 0);
	assert_false(drep.verified);
}

static void test_file_disk_full(void **state)
{
	struct fx *f = *state;
	struct mig_opts o = {
		.bandwidth = 0, .downtime_ns = 300 * MS, .max_rounds = 10, .to_file = true};
	struct snap before;
	int fd;

	PROBE_OR_SKIP();
	fd = open("/dev/full", O_WRONLY);
	if (fd < 0)
		VFMIG_SKIP("no /dev/full: %s", strerror(errno));
	f->tmpfd[0] = fd;
	quiet_vm(f);
	snapshot(f->vm, &before);
	migrate_fails(f, fd, &o, "to /dev/full");
	assert_non_null(strstr(f->rep->error, strerror(ENOSPC)));
	assert_intact(f->vm, &before);
	drop_vm(f);
}

/* ---- 7. the stream cut or corrupted on the way ---- */

static void corrupt(void **state, uint32_t dev)
{
	struct fx *f = *state;
	struct mig_opts o = {.bandwidth = 500 * MB, .downtime_ns = 300 * MS, .max_rounds = 10};
	struct mitm m = {.flip = true, .flip_dev = dev};
	struct snap before;
	char what[64];
	int k, k2;

	PROBE_OR_SKIP();
	k = spawn_dest_via(f, &m);
	k2 = spawn_dest(f, MIG_DIE_NEVER);
	quiet_vm(f);
	snapshot(f->vm, &before);
	snprintf(what, sizeof(what), "device %u's data corrupted", dev);
	migrate_fails(f, f->fd[k + 1], &o, what);
	assert_int_equal(child_exit(f, k), DEST_FAILED);
	assert_intact(f->vm, &before);
	migrate_ok(f, k2, &o, "again, uncorrupted");
	drop_vm(f);
}

/* The nic sends only in stop-copy: the source rolls back from STOP_COPY. */
static void test_corrupt_stop_copy_data(void **state)
{
	corrupt(state, 0);
}

/* bigmem's pre-copy data. */
static void test_corrupt_precopy_data(void **state)
{
	corrupt(state, 1);
}

/* at > 0: bytes from the start; at < 0: bytes before the end of a full migration. */
static void cut(void **state, int64_t at)
{
	struct fx *f = *state;
	struct mig_opts o = {.bandwidth = 500 * MB, .downtime_ns = 300 * MS, .max_rounds = 10};
	struct mitm m = {.cut_at = at};
	struct snap before;
	char what[64];
	int k;

	PROBE_OR_SKIP();
	if (at < 0) {
		/* the quiet VM's migration is the same every time: measure it */
		k = spawn_dest(f, MIG_DIE_NEVER);
		quiet_vm(f);
		migrate_ok(f, k, &o, "quiet VM, measured");
		m.cut_at = f->rep->bytes + at;
		drop_vm(f);
	}
	k = spawn_dest_via(f, &m);
	quiet_vm(f);
	snapshot(f->vm, &before);
	snprintf(what, sizeof(what), "stream cut after %llu bytes", (unsigned long long)m.cut_at);
	migrate_fails(f, f->fd[k + 1], &o, what);
	assert_int_equal(child_exit(f, k), DEST_FAILED);
	assert_intact(f->vm, &before);
	drop_vm(f);
}

static void test_cut_in_hello(void **state)
{
	cut(state, 20);
}

static void test_cut_in_precopy(void **state)
{
	cut(state, 5 << 20);
}

/* In the END message: the destination has everything but the digests. */
static void test_cut_in_end(void **state)
{
	cut(state, -30);
}

/* In the stop-copy device data, before END. */
static void test_cut_in_stop_copy(void **state)
{
	cut(state, -(int64_t)(sizeof(struct wire_hdr) + sizeof(struct wire_end) + 40));
}

/*
 * A device fails to stop at the switchover (STOP -> STOP_COPY fails and
 * the device walks back to RUNNING_P2P) while the other one is already in
 * STOP_COPY with part of its stream read: the source rolls back intact.
 */
static void test_device_stop_fails(void **state)
{
	struct fx *f = *state;
	struct mig_opts o = {.bandwidth = 500 * MB, .downtime_ns = 300 * MS, .max_rounds = 10};
	struct snap before;
	struct vm_cfg c;
	uint64_t *w, i;
	int k, k2;

	PROBE_OR_SKIP();
	k = spawn_dest(f, MIG_DIE_NEVER);
	k2 = spawn_dest(f, MIG_DIE_NEVER);
	cfg_init(&c, 16 << 20, 0, 0, 0);
	cfg_dev(&c, "bigmem:mem=4m,rate=0");
	cfg_dev(&c, "nic:dirty=type1-rw,rate=0");
	make_vm(f, &c, false);
	w = guest_mem_vcpu(f->vm->mem);
	for (i = 0; i < guest_mem_size(f->vm->mem) / 8; i += 509)
		w[i] = ~i;
	assert_int_equal(emu_dev_run(f->vm->devs[0].dev, 100), 0);
	assert_int_equal(emu_dev_run(f->vm->devs[1].dev, 100), 0);
	assert_int_equal(vm_start(f->vm), 0);
	snapshot(f->vm, &before);
	/* the nic's arcs: RUNNING -> RUNNING_P2P, -> STOP, -> STOP_COPY (fails) */
	emu_dev_inject_arc_failure(f->vm->devs[1].dev, 3, EIO, 1);
	migrate_fails(f, f->fd[k], &o, "nic fails STOP -> STOP_COPY");
	assert_non_null(strstr(f->rep->error, "device 1"));
	assert_intact(f->vm, &before);
	assert_int_equal(child_exit(f, k), DEST_FAILED);
	migrate_ok(f, k2, &o, "again, the nic stops");
	drop_vm(f);
}

/* A destination that cannot build the VM says why; the source rolls back intact. */
static void test_dest_cannot_build(void **state)
{
	struct fx *f = *state;
	struct mig_opts o = {.bandwidth = 500 * MB, .downtime_ns = 300 * MS, .max_rounds = 10};
	struct snap before;
	int k;

	PROBE_OR_SKIP();
	/* room for the 64 MiB receive buffer, not for 2 x 16 MiB of guest RAM mappings */
	k = spawn_dest_limited(f, MIG_DIE_NEVER, (64 << 20) + (8 << 20));
	quiet_vm(f);
	snapshot(f->vm, &before);
	migrate_fails(f, f->fd[k], &o, "destination out of address space");
	assert_non_null(strstr(f->rep->error, "refused"));
	assert_intact(f->vm, &before);
	assert_int_equal(child_exit(f, k), DEST_FAILED);
	drop_vm(f);
}

/*
 * A device data message longer than any the source sends (64 MiB + 8) but
 * within what the wire accepts: refused, with a reason for the source.
 */
static void test_dest_oversized_dev_message(void **state)
{
	struct mig_dest_report drep;
	struct wire_hdr h = {WIRE_MAGIC, WIRE_HELLO, 0};
	struct wire_ack ack;
	struct vm_cfg c;
	char text[1024], reply[64];
	struct vm *vm;
	int sv[2], ret;

	(void)state;
	PROBE_OR_SKIP();
	cfg_init(&c, 1 << 20, 0, 0, 0);
	cfg_dev(&c, "nic:dirty=type1-rw");
	assert_int_equal(vm_cfg_format(&c, text, sizeof(text)), 0);
	h.len = strlen(text) + 1;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(write(sv[0], &h, sizeof(h)), sizeof(h));
	assert_int_equal(write(sv[0], text, h.len), (ssize_t)h.len);
	h.type = WIRE_DEV;
	h.len = (64 << 20) + 100;
	assert_int_equal(write(sv[0], &h, sizeof(h)), sizeof(h));
	shutdown(sv[0], SHUT_WR);
	ret = mig_destination(sv[1], false, MIG_DIE_NEVER, &vm, &drep);
	printf("# oversized device message: %d (%s)\n", ret, drep.error);
	assert_int_equal(ret, -EPROTO);
	assert_null(vm);
	/* the source hears "ok", then a failed ACK */
	assert_int_equal(read(sv[0], &h, sizeof(h)), sizeof(h));
	assert_int_equal(h.type, WIRE_HELLO);
	assert_int_equal(read(sv[0], reply, h.len), (ssize_t)h.len);
	assert_string_equal(reply, "ok");
	assert_int_equal(read(sv[0], &h, sizeof(h)), sizeof(h));
	assert_int_equal(h.type, WIRE_ACK);
	assert_int_equal(read(sv[0], &ack, sizeof(ack)), sizeof(ack));
	assert_int_equal(ack.status, EPROTO);
	close(sv[0]);
	close(sv[1]);
	/* both ends are told why */
	if (!drep.error[0] || !ack.msg[0])
		fail_msg("destination refused a %llu-byte device message without a reason "
			 "(rep.error \"%s\", ACK msg \"%s\")",
			 (64ull << 20) + 100, drep.error, ack.msg);
}

/* A destination fed garbage refuses it, with a reason, and builds nothing. */
static void test_dest_refuses_garbage(void **state)
{
	static const char bad_cfg[] = "mem=what";
	struct mig_dest_report drep;
	struct wire_hdr h = {WIRE_MAGIC, WIRE_HELLO, sizeof(bad_cfg)};
	uint8_t junk[4096];
	struct vm *vm;
	size_t i;
	int sv[2], ret;

	(void)state;
	PROBE_OR_SKIP();
	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 131 + 7);

	/* random bytes */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(write(sv[0], junk, sizeof(junk)), sizeof(junk));
	shutdown(sv[0], SHUT_WR);
	ret = mig_destination(sv[1], false, MIG_DIE_NEVER, &vm, &drep);
	printf("# garbage: %d (%s)\n", ret, drep.error);
	assert_true(ret < 0);
	assert_null(vm);
	assert_true(drep.error[0]);
	close(sv[0]);
	close(sv[1]);

	/* a well-framed HELLO with a description that means nothing: refused, with a reply */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(write(sv[0], &h, sizeof(h)), sizeof(h));
	assert_int_equal(write(sv[0], bad_cfg, sizeof(bad_cfg)), sizeof(bad_cfg));
	shutdown(sv[0], SHUT_WR);
	ret = mig_destination(sv[1], false, MIG_DIE_NEVER, &vm, &drep);
	printf("# bad description: %d (%s)\n", ret, drep.error);
	assert_true(ret < 0);
	assert_null(vm);
	assert_true(drep.error[0]);
	assert_int_equal(read(sv[0], &h, sizeof(h)), sizeof(h));
	assert_int_equal(h.magic, WIRE_MAGIC);
	assert_int_equal(h.type, WIRE_HELLO);
	assert_true(h.len > 3); /* an error text, not "ok" */
	close(sv[0]);
	close(sv[1]);

	/* an absurd length */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	h.len = UINT64_MAX;
	assert_int_equal(write(sv[0], &h, sizeof(h)), sizeof(h));
	shutdown(sv[0], SHUT_WR);
	ret = mig_destination(sv[1], false, MIG_DIE_NEVER, &vm, &drep);
	assert_true(ret < 0);
	assert_null(vm);
	close(sv[0]);
	close(sv[1]);
}

int main(void)
{
#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_nic_type1_pin),
		T(test_nic_type1_rw),
		T(test_nic_type1_iommu),
		T(test_nic_dma_log),
		T(test_nic_iommufd),
		T(test_bigmem),
		T(test_all_together),
		T(test_feature_subsets),
		T(test_no_devices),
		T(test_drop_one_page),
		T(test_kill_hello_quiet),
		T(test_kill_precopy_quiet),
		T(test_kill_switchover_quiet),
		T(test_kill_end_quiet),
		T(test_kill_hello_running),
		T(test_kill_precopy_running),
		T(test_kill_switchover_running),
		T(test_kill_end_running),
		T(test_round_cap_vcpu),
		T(test_round_cap_type1_iommu),
		T(test_idle_converges),
		T(test_idle_converges_capped),
		T(test_tiny_downtime_never_converges),
		T(test_file_round_trip),
		T(test_file_disk_full),
		T(test_corrupt_stop_copy_data),
		T(test_corrupt_precopy_data),
		T(test_cut_in_hello),
		T(test_cut_in_precopy),
		T(test_cut_in_stop_copy),
		T(test_cut_in_end),
		T(test_device_stop_fails),
		T(test_dest_cannot_build),
		T(test_dest_refuses_garbage),
		T(test_dest_oversized_dev_message),
	};
#undef T

	signal(SIGPIPE, SIG_IGN); /* a dead peer is an EPIPE to handle, not a signal */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
