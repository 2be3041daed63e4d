// SPDX-License-Identifier: GPL-2.0
/*
 * The migration data stream (uAPI v2): the all-or-nothing refusal of
 * damaged or foreign streams, each with a reason naming the cause.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "device/fixture_stream.h"

/*
 * Feeds a stream that must be refused: a write fails with EINVAL or RESUMING
 * -> STOP does. Afterwards the device is still RESUMING with nothing loaded,
 * and a reset brings it back to RUNNING. Returns the reason given (the first
 * one: the write's if a write failed), and in *at_stop the reason given by
 * the refused RESUMING -> STOP.
 */
static void refuse(struct emu_dev *dev, const uint8_t *p, size_t len, size_t seg, char *why,
		   char *at_stop)
{
	uint64_t before = emu_dev_digest(dev);
	bool write_failed = false;
	size_t off = 0;
	int fd;

	why[0] = at_stop[0] = 0;
	fd = set_ok(dev, VFIO_DEVICE_STATE_RESUMING);
	while (off < len) {
		size_t n = seg && seg < len - off ? seg : len - off;
		ssize_t w = emu_fd_write(fd, p + off, n);

		if (w < 0) {
			assert_int_equal(errno, EINVAL);
			snprintf(why, 256, "%s", emu_dev_strerror(dev));
			write_failed = true;
			break;
		}
		assert_int_equal(w, n);
		off += n;
	}
	assert_int_equal(emu_set_state(dev, VFIO_DEVICE_STATE_STOP, NULL), -1);
	assert_int_equal(errno, EINVAL);
	snprintf(at_stop, 256, "%s", emu_dev_strerror(dev));
	if (!write_failed)
		snprintf(why, 256, "%s", at_stop);
	assert_int_equal(state_of(dev), VFIO_DEVICE_STATE_RESUMING);
	assert_int_equal(emu_dev_digest(dev), before);
	assert_null(strchr(why, '\n'));
	assert_null(strchr(at_stop, '\n'));
	assert_int_equal(emu_fd_close(fd), 0);
	reset(dev);
}

/* ---- refusals ------------------------------------------------------------- */

static struct sbuf nic_stream(uint64_t *digest)
{
	struct emu_dev *src = mk("nic", NIC_PARAMS);
	struct sbuf s;

	emu_dev_run(src, 77);
	s = save_stop_copy(src, digest);
	emu_dev_destroy(src);
	assert_true(s.len > 150 && s.len < 300);
	return s;
}

static void test_every_byte_flip_refused(void **state)
{
	static const uint8_t masks[] = {0x01, 0xff, 0x80};
	char why[256], at_stop[256];
	uint64_t digest;
	struct sbuf s = nic_stream(&digest);
	uint8_t *p = malloc(s.len);
	size_t off, m;

	(void)state;
	assert_non_null(p);
	for (m = 0; m < sizeof(masks); m++) {
		for (off = 0; off < s.len; off++) {
			struct emu_dev *dst = mk("nic", NIC_PARAMS);

			memcpy(p, s.p, s.len);
			p[off] ^= masks[m];
			refuse(dst, p, s.len, m == 2 ? 1 : 0, why, at_stop);
			assert_true(strlen(why) > 10);
			emu_dev_destroy(dst);
		}
	}
	free(p);
	free(s.p);
}

static void test_every_truncation_refused(void **state)
{
	char why[256], at_stop[256];
	uint64_t digest;
	struct sbuf s = nic_stream(&digest);
	size_t len;

	(void)state;
	for (len = 0; len < s.len; len++) {
		struct emu_dev *dst = mk("nic", NIC_PARAMS);

		refuse(dst, s.p, len, len % 3 ? 0 : 5, why, at_stop);
		assert_non_null(strstr(why, "incomplete"));
		emu_dev_destroy(dst);
	}
	/* and the whole one is taken by the same kind of device */
	{
		struct emu_dev *dst = mk("nic", NIC_PARAMS);

		resume_ok(dst, &s, 0, digest);
		emu_dev_destroy(dst);
	}
	free(s.p);
}

/* Offset of the record number idx in a stream, walking the record headers. */
static size_t rec_off(const struct sbuf *s, unsigned int idx)
{
	struct emu_rec_hdr hdr;
	size_t off = 0;

	while (idx--) {
		assert_true(off + sizeof(hdr) <= s->len);
		memcpy(&hdr, s->p + off, sizeof(hdr));
		off += EMU_REC_FRAME + hdr.len;
	}
	assert_true(off <= s->len);
	return off;
}

static size_t rec_len(const struct sbuf *s, unsigned int idx)
{
	struct emu_rec_hdr hdr;

	memcpy(&hdr, s->p + rec_off(s, idx), sizeof(hdr));
	return EMU_REC_FRAME + hdr.len;
}

/* Recomputes a record's checksum the way stream.c does. */
static void rehash(struct sbuf *s, size_t off)
{
	struct emu_rec_hdr hdr;
	uint64_t h;

	memcpy(&hdr, s->p + off, sizeof(hdr));
	h = XXH3_64bits_withSeed(s->p + off, sizeof(hdr) + hdr.len, HASH_SEED);
	memcpy(s->p + off + sizeof(hdr) + hdr.len, &h, sizeof(h));
}

/* Refused with EINVAL, the reason naming the cause (the RESUMING -> STOP reason: see below). */
static void expect_refused(const char *variant, const char *params, const struct sbuf *s,
			   const char *keyword)
{
	struct emu_dev *dst = mk(variant, params);
	char why[256], at_stop[256];

	refuse(dst, s->p, s->len, 0, why, at_stop);
	if (!strstr(why, keyword))
		fail_msg("reason '%s' does not name '%s'", why, keyword);
	emu_dev_destroy(dst);
}

static void test_foreign_variant_refused(void **state)
{
	struct emu_dev *bm = mk("bigmem", BM_PARAMS);
	uint64_t d1, d2;
	struct sbuf nic = nic_stream(&d1), big = save_stop_copy(bm, &d2);

	(void)state;
	expect_refused("nic", NIC_PARAMS, &big, "variant");
	expect_refused("bigmem", BM_PARAMS, &nic, "variant");
	free(nic.p);
	free(big.p);
	emu_dev_destroy(bm);
}

static void test_foreign_config_refused(void **state)
{
	struct emu_dev *bm = mk("bigmem", BM_PARAMS);
	uint64_t d;
	struct sbuf big = save_stop_copy(bm, &d);

	(void)state;
	expect_refused("bigmem", "mem=128k,block=4k,seed=3", &big, "configuration");
	expect_refused("bigmem", "mem=256k,block=8k,seed=3", &big, "configuration");
	free(big.p);
	big = nic_stream(&d);
	expect_refused("nic", "buffers=128", &big, "configuration");
	expect_refused("nic", "bufsize=4k", &big, "configuration");
	free(big.p);
	emu_dev_destroy(bm);
}

static void test_bumped_major_refused(void **state)
{
	uint64_t d;
	struct sbuf s = nic_stream(&d);
	struct emu_stream_head head;
	const size_t hoff = sizeof(struct emu_rec_hdr);

	(void)state;
	memcpy(&head, s.p + hoff, sizeof(head));
	assert_int_equal(head.major, EMU_STREAM_MAJOR);
	head.major = EMU_STREAM_MAJOR + 1;
	memcpy(s.p + hoff, &head, sizeof(head));
	rehash(&s, 0);
	expect_refused("nic", NIC_PARAMS, &s, "version");

	/* a newer minor of the same major is read */
	head.major = EMU_STREAM_MAJOR;
	head.minor = EMU_STREAM_MINOR + 1;
	memcpy(s.p + hoff, &head, sizeof(head));
	rehash(&s, 0);
	{
		struct emu_dev *dst = mk("nic", NIC_PARAMS);

		resume_ok(dst, &s, 0, d);
		emu_dev_destroy(dst);
	}
	free(s.p);
}

static void test_oversized_record_refused(void **state)
{
	static const uint32_t lens[] = {73, 1000, 1u << 20, 0xffffffffu};
	uint64_t d;
	struct sbuf s = nic_stream(&d);
	size_t off = rec_off(&s, 1), i;

	(void)state;
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		struct sbuf t = {0};
		struct emu_rec_hdr hdr;

		sbuf_put(&t, s.p, s.len);
		memcpy(&hdr, t.p + off, sizeof(hdr));
		hdr.len = lens[i];
		memcpy(t.p + off, &hdr, sizeof(hdr));
		expect_refused("nic", NIC_PARAMS, &t, "claims");
		free(t.p);
	}
	free(s.p);
}

static void test_record_after_end_refused(void **state)
{
	uint64_t d;
	struct sbuf s = nic_stream(&d), t = {0};
	size_t off = rec_off(&s, 1), len = rec_len(&s, 1);
	struct emu_rec_hdr hdr;

	(void)state;
	/* the register record again, numbered as the next one and with a good checksum */
	sbuf_put(&t, s.p, s.len);
	sbuf_put(&t, s.p + off, len);
	memcpy(&hdr, t.p + s.len, sizeof(hdr));
	hdr.seq = 3;
	memcpy(t.p + s.len, &hdr, sizeof(hdr));
	rehash(&t, s.len);
	expect_refused("nic", NIC_PARAMS, &t, "end record");
	/* a second end record */
	t.len = s.len;
	sbuf_put(&t, s.p + rec_off(&s, 2), rec_len(&s, 2));
	expect_refused("nic", NIC_PARAMS, &t, "end record");
	/* one stray byte */
	t.len = s.len;
	sbuf_put(&t, "", 1);
	{
		struct emu_dev *dst = mk("nic", NIC_PARAMS);
		char why[256], at_stop[256];

		refuse(dst, t.p, t.len, 0, why, at_stop);
		emu_dev_destroy(dst);
	}
	free(t.p);
	free(s.p);
}

static void test_repeated_record_refused(void **state)
{
	uint64_t d;
	struct sbuf s = nic_stream(&d), t = {0};
	size_t off = rec_off(&s, 1), len = rec_len(&s, 1);

	(void)state;
	sbuf_put(&t, s.p, off + len);
	sbuf_put(&t, s.p + off, len);
	sbuf_put(&t, s.p + off + len, s.len - off - len);
	expect_refused("nic", NIC_PARAMS, &t, "due");
	/* the header twice */
	t.len = 0;
	sbuf_put(&t, s.p, rec_len(&s, 0));
	sbuf_put(&t, s.p, s.len);
	expect_refused("nic", NIC_PARAMS, &t, "due");
	/* a record left out */
	t.len = 0;
	sbuf_put(&t, s.p, off);
	sbuf_put(&t, s.p + off + len, s.len - off - len);
	expect_refused("nic", NIC_PARAMS, &t, "due");
	free(t.p);
	free(s.p);
}

/* Every record's checksum, recomputed in one shot as the reader does: how many are wrong. */
static unsigned int bad_checksums(const struct sbuf *s)
{
	unsigned int bad = 0;
	struct emu_rec_hdr hdr;
	size_t off = 0;
	uint64_t h;

	while (off + sizeof(hdr) <= s->len) {
		memcpy(&hdr, s->p + off, sizeof(hdr));
		assert_true(off + EMU_REC_FRAME + hdr.len <= s->len);
		memcpy(&h, s->p + off + sizeof(hdr) + hdr.len, sizeof(h));
		bad += h != XXH3_64bits_withSeed(s->p + off, sizeof(hdr) + hdr.len, HASH_SEED);
		off += EMU_REC_FRAME + hdr.len;
	}
	assert_int_equal(off, s->len);
	return bad;
}

/*
 * Leaves stack garbage that looks like a seeded XXH3_state_t (seed = ours,
 * extSecret = NULL, a garbage secret) at every 64-byte boundary below us.
 */
static void __attribute__((noinline)) poison_stack(void)
{
	volatile uint64_t junk[16384] __attribute__((aligned(64)));
	size_t i;

	for (i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
		junk[i] = i % 8 == 5 ? HASH_SEED : i % 8 == 7 ? 0 : 0xa5a5a5a5a5a5a5a5ull;
}

static size_t poisoned_read(int fd, struct sbuf *s, size_t chunk)
{
	uint8_t buf[8192];
	size_t total = 0;

	assert_true(chunk <= sizeof(buf));
	for (;;) {
		ssize_t n;

		poison_stack();
		n = emu_fd_read(fd, buf, chunk);
		if (n <= 0)
			return total;
		sbuf_put(s, buf, n);
		total += n;
	}
}

/*
 * The checksums a save writes must not depend on what was on the stack: a
 * seeded XXH3 state on the stack must be initialized (XXH3_INITSTATE) before
 * XXH3_64bits_reset_withSeed(), or a leftover state with the same seed makes
 * it skip deriving the secret from the seed.
 */
static void test_checksums_independent_of_stack(void **state)
{
	struct emu_dev *nic = mk("nic", NIC_PARAMS), *bm = mk("bigmem", BM_PARAMS);
	struct sbuf s = {0};
	int fd;

	(void)state;
	fd = set_ok(nic, VFIO_DEVICE_STATE_STOP_COPY);
	poisoned_read(fd, &s, 7);
	set_ok(nic, VFIO_DEVICE_STATE_STOP);
	assert_int_equal(emu_fd_close(fd), 0);
	assert_int_equal(s.len, HEAD_REC + NIC_REGS_REC + END_REC);
	assert_int_equal(bad_checksums(&s), 0);

	s.len = 0;
	fd = set_ok(bm, VFIO_DEVICE_STATE_PRE_COPY);
	poisoned_read(fd, &s, 3000);
	emu_dev_run(bm, 20);
	poisoned_read(fd, &s, 5000);
	set_ok(bm, VFIO_DEVICE_STATE_STOP_COPY);
	poisoned_read(fd, &s, 4096);
	set_ok(bm, VFIO_DEVICE_STATE_STOP);
	assert_int_equal(emu_fd_close(fd), 0);
	assert_int_equal(bad_checksums(&s), 0);
	free(s.p);
	emu_dev_destroy(nic);
	emu_dev_destroy(bm);
}

/*
 * After a write was refused, the refused RESUMING -> STOP must still say why
 * ("resume stream was refused earlier: <the write's reason>").
 */
static void test_stop_reason_names_the_cause(void **state)
{
	struct emu_dev *dst = mk("nic", NIC_PARAMS);
	char why[256], at_stop[256];
	uint64_t d;
	struct sbuf s = nic_stream(&d);
	struct emu_rec_hdr hdr;

	(void)state;
	memcpy(&hdr, s.p + rec_off(&s, 1), sizeof(hdr));
	hdr.len = 1000;
	memcpy(s.p + rec_off(&s, 1), &hdr, sizeof(hdr));
	refuse(dst, s.p, s.len, 0, why, at_stop);
	assert_non_null(strstr(why, "claims 1000 bytes"));
	if (!strstr(at_stop, why))
		fail_msg("RESUMING -> STOP reason '%s' lost the write's reason '%s'", at_stop, why);
	emu_dev_destroy(dst);
	free(s.p);
}

static void test_refusal_is_sticky(void **state)
{
	uint64_t d;
	struct sbuf s = nic_stream(&d);
	struct emu_dev *dst = mk("nic", NIC_PARAMS);
	uint8_t bad[8] = {0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 0};
	size_t off;
	int fd;

	(void)state;
	/* a bad start, then the whole good stream: every write still fails */
	fd = set_ok(dst, VFIO_DEVICE_STATE_RESUMING);
	assert_int_equal(emu_fd_write(fd, bad, sizeof(bad)), sizeof(bad));
	assert_int_equal(emu_fd_write(fd, s.p, s.len), -1);
	assert_int_equal(errno, EINVAL);
	for (off = 0; off < s.len; off++) {
		assert_int_equal(emu_fd_write(fd, s.p + off, 1), -1);
		assert_int_equal(errno, EINVAL);
	}
	assert_int_equal(emu_fd_write(fd, s.p, s.len), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(emu_set_state(dst, VFIO_DEVICE_STATE_STOP, NULL), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(state_of(dst), VFIO_DEVICE_STATE_RESUMING);
	/* and a second try at RESUMING -> STOP fails the same way */
	assert_int_equal(emu_set_state(dst, VFIO_DEVICE_STATE_STOP, NULL), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(emu_fd_close(fd), 0);
	reset(dst);
	/* a fresh RESUMING takes the good stream */
	resume_ok(dst, &s, 0, d);
	emu_dev_destroy(dst);
	free(s.p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_byte_flip_refused),
		cmocka_unit_test(test_every_truncation_refused),
		cmocka_unit_test(test_foreign_variant_refused),
		cmocka_unit_test(test_foreign_config_refused),
		cmocka_unit_test(test_bumped_major_refused),
		cmocka_unit_test(test_oversized_record_refused),
		cmocka_unit_test(test_record_after_end_refused),
		cmocka_unit_test(test_repeated_record_refused),
		cmocka_unit_test(test_checksums_independent_of_stack),
		cmocka_unit_test(test_stop_reason_names_the_cause),
		cmocka_unit_test(test_refusal_is_sticky),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
