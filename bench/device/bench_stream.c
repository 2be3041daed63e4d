// SPDX-License-Identifier: GPL-2.0
/*
 * Save and load throughput of the large-memory device's migration stream
 * (framing and XXH3 checksums included) against a plain memcpy of the same
 * bytes, measured in the same run. Goal: at least 0.5x memcpy.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "device/device.h"

#define MEM_MIB 256
#define RUNS 7
#define CHUNK (4u << 20)

static struct emu_dev *mk(void)
{
	struct emu_dev_cfg cfg = {.variant = "bigmem", .params = "mem=256m,block=64k"};
	struct emu_dev *dev = emu_dev_create(&cfg);

	if (!dev) {
		fprintf(stderr, "bench_stream: %s\n", emu_last_error());
		exit(1);
	}
	return dev;
}

/* RUNNING -> STOP_COPY, read to EOF into buf. */
static size_t save(struct emu_dev *dev, uint8_t *buf, size_t cap)
{
	size_t len = 0;
	ssize_t n;
	int fd;

	if (emu_set_state(dev, VFIO_DEVICE_STATE_STOP_COPY, &fd))
		bench_die("STOP_COPY");
	while ((n = emu_fd_read(fd, buf + len, cap - len < CHUNK ? cap - len : CHUNK)) > 0)
		len += n;
	if (n < 0)
		bench_die("read");
	emu_fd_close(fd);
	if (emu_set_state(dev, VFIO_DEVICE_STATE_RUNNING, NULL))
		bench_die("RUNNING");
	return len;
}

/* RUNNING -> RESUMING, write buf, -> STOP (validates and loads), -> RUNNING. */
static void load(struct emu_dev *dev, const uint8_t *buf, size_t len)
{
	size_t off = 0;
	int fd;

	if (emu_set_state(dev, VFIO_DEVICE_STATE_RESUMING, &fd))
		bench_die("RESUMING");
	while (off < len) {
		ssize_t n = emu_fd_write(fd, buf + off, len - off < CHUNK ? len - off : CHUNK);

		if (n <= 0)
			bench_die("write");
		off += n;
	}
	emu_fd_close(fd);
	if (emu_set_state(dev, VFIO_DEVICE_STATE_RUNNING, NULL))
		bench_die(emu_dev_strerror(dev));
}

int main(void)
{
	size_t cap = ((size_t)MEM_MIB << 20) + (8u << 20), len = 0;
	double t_copy[RUNS], t_save[RUNS], t_load[RUNS];
	uint8_t *stream = bench_alloc(cap), *copy = bench_alloc(cap);
	struct emu_dev *src = mk(), *dst = mk();
	int i;

	bench_header("bench_stream", "bigmem (256 MiB) save / load through the migration stream "
				     "vs memcpy of the same bytes");
	for (i = 0; i < RUNS; i++) {
		double t = bench_now();

		len = save(src, stream, cap);
		t_save[i] = bench_now() - t;
		t = bench_now();
		memcpy(copy, stream, len);
		t_copy[i] = bench_now() - t;
		t = bench_now();
		load(dst, stream, len);
		t_load[i] = bench_now() - t;
	}
	if (emu_dev_digest(src) != emu_dev_digest(dst))
		bench_die("loaded state differs from the saved one");
	bench_rate("memcpy (baseline)", len, t_copy, RUNS, NULL);
	bench_rate("save (STOP_COPY read)", len, t_save, RUNS, t_copy);
	bench_rate("load (RESUMING write+STOP)", len, t_load, RUNS, t_copy);
	bench_goal("save", len, t_save, t_copy, RUNS, 0.5);
	bench_goal("load", len, t_load, t_copy, RUNS, 0.5);
	emu_dev_destroy(src);
	emu_dev_destroy(dst);
	munmap(stream, cap);
	munmap(copy, cap);
	return 0;
}
