// SPDX-License-Identifier: GPL-2.0
/*
 * Migrations that fail, end to end as in test_migrate.c: the peer killed in
 * each phase, the stream cut or corrupted, a device that fails to stop, a
 * full disk, a destination that cannot build the VM or is fed garbage: the
 * source rolls back RUNNING with RAM and device state as they were, and a
 * running source migrates again afterwards. Migration into a file and back,
 * and a damaged file refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "migration/fixture_migrate.h"

/* ---- 1. the peer killed in each phase ---- */

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

/* ---- 2. file target ---- */

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

/* ---- 3. the stream cut or corrupted on the way ---- */

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
		T(test_kill_hello_quiet),
		T(test_kill_precopy_quiet),
		T(test_kill_switchover_quiet),
		T(test_kill_end_quiet),
		T(test_kill_hello_running),
		T(test_kill_precopy_running),
		T(test_kill_switchover_running),
		T(test_kill_end_running),
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

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
