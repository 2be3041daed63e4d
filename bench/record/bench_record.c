// SPDX-License-Identifier: GPL-2.0
/*
 * The recording writer fed in-process (goals: at least 1M events/s, at most 16 bytes per
 * event on disk), against two baselines timed in the same run: the same events written raw
 * (64 bytes each, no compression) and compressed raw by zlib without the codec; and the
 * time vfmigprof report takes on the 1M-event file; and the codec's blocks
 * compressed by zstd beside zlib, the writer's choice. The events are shaped like a busy
 * pinning device's: pins of consecutive pages by a few threads, data reads, bitmap queries
 * and state steps, microseconds apart.
 */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "bench.h"
#include "record/record.h"
#include "report/report.h"

#define NEV 1000000
#define RUNS 3

static void make_events(struct vfmig_event *ev)
{
	uint64_t t = 1000000000ull, iova = 0x100000000ull;
	unsigned int seed = 1;

	for (size_t i = 0; i < NEV; i++) {
		struct vfmig_event *e = &ev[i];
		unsigned int r = (unsigned int)rand_r(&seed);

		memset(e, 0, sizeof(*e));
		t += 500 + r % 2000;
		e->ts_ns = t;
		e->pid = 4242;
		e->tid = 4242 + r % 4;
		e->source = VFMIG_SRC_USDT;
		e->dev = vfmig_dev_emu(4242, vfmig_obj(0, 1 + r % 2));
		if (r % 10 < 7) {
			e->type = r % 10 < 5 ? VFMIG_EV_PIN : VFMIG_EV_UNPIN;
			e->a = iova;
			iova += 4096;
			e->b = 1;
			e->result = 1;
		} else if (r % 10 < 9) {
			e->type = VFMIG_EV_DATA_READ;
			e->a = 1u << (12 + r % 9);
			e->result = (int32_t)e->a;
			e->b = 7;
			e->c = ~0ull;
		} else {
			e->type = r % 2 ? VFMIG_EV_BITMAP : VFMIG_EV_FSM_STEP;
			e->a = r % 2 ? iova : 300 + r % 5000;
			e->b = 1u << 20;
			e->c = 4096;
			e->d = r % 256;
			e->from = 2;
			e->to = 6;
		}
	}
}

static double write_recording(const struct vfmig_event *ev, const char *path)
{
	char err[128];
	double t0 = bench_now();
	struct rec_writer *w = rec_create(path, "{\"host\":\"bench\"}", err, sizeof(err));

	if (!w)
		bench_die(err);
	for (size_t i = 0; i < NEV; i++)
		if (rec_event(w, &ev[i]))
			bench_die("rec_event");
	if (rec_close(w, "{}"))
		bench_die("rec_close");
	return bench_now() - t0;
}

static double write_raw(const struct vfmig_event *ev, const char *path)
{
	double t0 = bench_now();
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0)
		bench_die("open");
	for (size_t i = 0; i < NEV; i += REC_MAX_EVENTS) {
		size_t n = NEV - i < REC_MAX_EVENTS ? NEV - i : REC_MAX_EVENTS;

		if (write(fd, ev + i, n * sizeof(*ev)) != (ssize_t)(n * sizeof(*ev)))
			bench_die("write");
	}
	if (fsync(fd) || close(fd))
		bench_die("fsync");
	return bench_now() - t0;
}

/* zlib (level 1, as the writer) over the raw records in blocks: bytes per event. */
static double zlib_raw_bytes(const struct vfmig_event *ev)
{
	uLongf cap = compressBound(REC_MAX_EVENTS * sizeof(*ev)), total = 0;
	Bytef *out = malloc(cap);

	for (size_t i = 0; i < NEV; i += REC_MAX_EVENTS) {
		size_t n = NEV - i < REC_MAX_EVENTS ? NEV - i : REC_MAX_EVENTS;
		uLongf len = cap;

		if (compress2(out, &len, (const Bytef *)(ev + i), n * sizeof(*ev), 1) != Z_OK)
			bench_die("compress2");
		total += len;
	}
	free(out);
	return (double)total / NEV;
}

/* The codec's blocks, as the writer makes them, before compression; their total length. */
static uint8_t *encoded_blocks(const struct vfmig_event *ev, size_t *lens, size_t *nblocks)
{
	uint8_t *buf = malloc((size_t)NEV * REC_EVENT_MAX), *p = buf;

	if (!buf)
		bench_die("malloc");
	*nblocks = 0;
	for (size_t i = 0; i < NEV; i += REC_MAX_EVENTS) {
		size_t n = NEV - i < REC_MAX_EVENTS ? NEV - i : REC_MAX_EVENTS;

		lens[*nblocks] = rec_encode_events(ev + i, n, p);
		p += lens[(*nblocks)++];
	}
	return buf;
}

struct squeeze {
	double bytes_per_event, mevents_per_s;
};

/* The encoded blocks compressed each on its own by zlib or zstd at level: size and speed. */
static struct squeeze compress_blocks(const uint8_t *buf, const size_t *lens, size_t nblocks,
				      bool zstd, int level)
{
	size_t cap = ZSTD_compressBound(REC_MAX_EVENTS * sizeof(struct vfmig_event)) + 4096;
	uint8_t *out = malloc(cap);
	double total = 0, t0 = bench_now();
	const uint8_t *p = buf;

	if (!out)
		bench_die("malloc");
	for (size_t b = 0; b < nblocks; p += lens[b++]) {
		uLongf zlen = cap;
		size_t len;

		if (zstd) {
			len = ZSTD_compress(out, cap, p, lens[b], level);
			if (ZSTD_isError(len))
				bench_die("ZSTD_compress");
		} else {
			if (compress2(out, &zlen, p, lens[b], level) != Z_OK)
				bench_die("compress2");
			len = zlen;
		}
		total += (double)len;
	}
	free(out);
	return (struct squeeze){total / NEV, NEV / (bench_now() - t0) / 1e6};
}

static void codec_line(const char *what, struct squeeze s, const struct squeeze *base)
{
	printf("  %-28s %6.2f bytes/event  %7.1f M events/s", what, s.bytes_per_event,
	       s.mevents_per_s);
	if (base)
		printf("  size x%.2f, speed x%.2f of zlib 1",
		       s.bytes_per_event / base->bytes_per_event,
		       s.mevents_per_s / base->mevents_per_s);
	printf("\n");
}

/* zlib level 1 (the writer's) against zstd over the same encoded blocks. */
static void codecs(const struct vfmig_event *ev)
{
	size_t lens[NEV / REC_MAX_EVENTS + 1], n;
	uint8_t *buf = encoded_blocks(ev, lens, &n);
	struct squeeze z1 = compress_blocks(buf, lens, n, false, 1);

	printf("compression of the codec's blocks (each on its own, as the file keeps them)\n");
	codec_line("zlib level 1 (the writer's)", z1, NULL);
	codec_line("zlib level 6", compress_blocks(buf, lens, n, false, 6), &z1);
	codec_line("zstd level 1", compress_blocks(buf, lens, n, true, 1), &z1);
	codec_line("zstd level 3", compress_blocks(buf, lens, n, true, 3), &z1);
	free(buf);
}

static double report_time(const char *path)
{
	char err[128];
	struct report r;
	FILE *null = fopen("/dev/null", "w");
	double t0 = bench_now();

	if (report_load(path, &r, err, sizeof(err)))
		bench_die("report_load");
	report_print_json(null, &r);
	report_free(&r);
	fclose(null);
	return bench_now() - t0;
}

int main(void)
{
	struct vfmig_event *ev = bench_alloc(NEV * sizeof(*ev));
	const char *path = "/tmp/vfmig-bench-record.vfrec", *raw = "/tmp/vfmig-bench-raw";
	double tw[RUNS], tr[RUNS], tp[RUNS], lo, hi, mw, mr, mp, bytes;
	struct stat st;

	make_events(ev);
	for (int i = 0; i < RUNS; i++) {
		tw[i] = write_recording(ev, path);
		tr[i] = write_raw(ev, raw);
		tp[i] = report_time(path);
	}
	if (stat(path, &st))
		bench_die("stat");
	bytes = (double)st.st_size / NEV;
	mw = bench_median(tw, RUNS, &lo, &hi);
	mr = bench_median(tr, RUNS, NULL, NULL);
	mp = bench_median(tp, RUNS, NULL, NULL);
	printf("record writer, %d events, median of %d runs\n", NEV, RUNS);
	printf("  vfmig recording   %8.2f M events/s  %6.2f bytes/event  (%.3f s, %.3f-%.3f)\n",
	       NEV / mw / 1e6, bytes, mw, lo, hi);
	printf("  raw write         %8.2f M events/s  %6.2f bytes/event  (baseline)\n",
	       NEV / mr / 1e6, (double)sizeof(*ev));
	printf("  zlib of raw       %8s             %6.2f bytes/event  (baseline, no codec)\n", "",
	       zlib_raw_bytes(ev));
	printf("  report of the 1M-event file: %.3f s\n", mp);
	printf("  goals: >= 1 M events/s %s, <= 16 bytes/event %s\n",
	       NEV / mw >= 1e6 ? "met" : "MISSED", bytes <= 16 ? "met" : "MISSED");
	codecs(ev);
	unlink(path);
	unlink(raw);
	return 0;
}
