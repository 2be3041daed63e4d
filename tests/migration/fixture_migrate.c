// SPDX-License-Identifier: GPL-2.0
/* The migration tests' fixture: see fixture_migrate.h. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "migration/fixture_migrate.h"

int group_setup(void **state)
{
	(void)state;
	signal(SIGPIPE, SIG_IGN); /* a dead peer is an EPIPE to handle, not a signal */
	return 0;
}

int setup(void **state)
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

int teardown(void **state)
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
int spawn_dest_limited(struct fx *f, enum mig_die die, uint64_t as_slack)
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

int spawn_dest(struct fx *f, enum mig_die die)
{
	return spawn_dest_limited(f, die, 0);
}

/* ---- a man in the middle: forwards both ways, corrupting or cutting the source's stream ---- */

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
int spawn_dest_via(struct fx *f, struct mitm *m)
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

void cfg_init(struct vm_cfg *c, uint64_t mem, unsigned int vcpus, uint64_t rate, uint64_t wss)
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

void cfg_dev(struct vm_cfg *c, const char *spec)
{
	char err[256] = "";

	if (vm_dev_spec_parse(spec, &c->devs[c->ndevs], err, sizeof(err)))
		fail_msg("%s: %s", spec, err);
	c->ndevs++;
}

struct vm *make_vm(struct fx *f, const struct vm_cfg *c, bool start)
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

void drop_vm(struct fx *f)
{
	vm_destroy(f->vm);
	f->vm = NULL;
}

/*
 * A VM that changes nothing by itself: RAM and devices hold content (a
 * pattern, nic ring state and pins, bigmem memory) but no vCPU writes and
 * no device work, so its digests can be compared across a failed migration.
 */
struct vm *quiet_vm(struct fx *f)
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
struct vm *busy_vm(struct fx *f)
{
	struct vm_cfg c;

	cfg_init(&c, 16 << 20, 1, 5000, 4 << 20);
	cfg_dev(&c, "nic:dirty=type1-rw,rate=5000");
	cfg_dev(&c, "bigmem:mem=4m,rate=500");
	return make_vm(f, &c, true);
}

/* ---- outcomes ---- */

void snapshot(struct vm *vm, struct snap *s)
{
	unsigned int i;

	memset(s, 0, sizeof(*s));
	s->ram = vm_ram_digest(vm);
	for (i = 0; i < vm->cfg.ndevs; i++)
		s->dev[i] = emu_dev_digest(vm->devs[i].dev);
}

void assert_states(struct vm *vm, enum vfio_device_mig_state want)
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
void assert_intact(struct vm *vm, const struct snap *before)
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
void assert_live(struct vm *vm)
{
	struct workload_stats a, b;
	uint64_t d0 = emu_dev_digest(vm->devs[0].dev);

	workload_stats(vm->wl, &a);
	usleep(50 * 1000);
	workload_stats(vm->wl, &b);
	assert_true(b.writes > a.writes);
	assert_true(emu_dev_digest(vm->devs[0].dev) != d0);
}

int child_exit(struct fx *f, int k)
{
	reap(f, k, false);
	if (!WIFEXITED(f->status[k]))
		return -1;
	return WEXITSTATUS(f->status[k]);
}

bool child_killed(struct fx *f, int k)
{
	reap(f, k, false);
	return WIFSIGNALED(f->status[k]) && WTERMSIG(f->status[k]) == SIGKILL;
}

void print_rep(const char *what, const struct mig_summary *r)
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
void migrate_ok(struct fx *f, int k, const struct mig_opts *o, const char *what)
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
void migrate_fails(struct fx *f, int fd, const struct mig_opts *o, const char *what)
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
