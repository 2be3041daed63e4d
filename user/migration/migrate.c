// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/bitmap.h"
#include "device/device.h"
#include "migration/migrate.h"

#define BATCH_PAGES 256
#define PAGE 4096
#define DEV_CHUNK (1u << 20)

struct src {
	struct vm *vm;
	struct wire w;
	const struct mig_opts *o;
	struct mig_summary *rep;
	uint64_t *bitmap; /* harvested and not yet sent */
	uint64_t pages;
	int fds[VM_MAX_DEVICES];
	uint8_t *buf;
};

static int fail(char *err, int ret, const char *what)
{
	if (!err[0])
		snprintf(err, 256, "%s: %s", what, strerror(-ret));
	return ret;
}

/*
 * Sends every page whose bit is set, clearing the bits, straight from guest
 * RAM: a page a vCPU writes meanwhile is dirty again and goes next round.
 * drop_one is a test hook: the first page is lost on the way.
 */
static int send_pages(struct src *s, uint64_t *sent, bool drop_one)
{
	uint8_t *mem = guest_mem_vcpu(s->vm->mem);
	struct iovec iov[2 + BATCH_PAGES];
	uint64_t meta[1 + BATCH_PAGES], pg = 0;
	uint32_t n = 0;
	int ret;

	*sent = 0;
	for (;;) {
		pg = bitmap_next(s->bitmap, pg, s->pages);
		if (pg < s->pages) {
			bitmap_clear1(s->bitmap, pg);
			if (drop_one) {
				drop_one = false;
				pg++;
				continue;
			}
			meta[1 + n] = pg;
			iov[2 + n] = (struct iovec){mem + pg * PAGE, PAGE};
			n++;
		}
		if (n == BATCH_PAGES || (pg >= s->pages && n)) {
			meta[0] = n; /* u32 count, u32 pad */
			iov[1] = (struct iovec){meta, 8 + n * 8ull};
			ret = wire_sendv(&s->w, WIRE_PAGES, iov, 2 + n);
			if (ret)
				return fail(s->rep->error, ret, "sending guest RAM");
			*sent += n;
			n = 0;
		}
		if (pg >= s->pages)
			return 0;
		pg++;
	}
}

/* Reads up to budget bytes (all of it when budget is 0) of device i's stream and sends them. */
static int send_dev(struct src *s, unsigned int i, uint64_t budget, uint64_t *sent)
{
	struct emu_dev *dev = s->vm->devs[i].dev;
	uint32_t head[2] = {i, 0};

	*sent = 0;
	while (!budget || *sent < budget) {
		size_t want = budget && budget - *sent < DEV_CHUNK ? budget - *sent : DEV_CHUNK;
		ssize_t n = emu_fd_read(s->fds[i], s->buf, want);
		int ret;

		if (n < 0 && errno == ENOMSG)
			return 0;
		if (n < 0) {
			snprintf(s->rep->error, 256, "reading device %u's stream: %s", i,
				 emu_dev_strerror(dev));
			return -errno;
		}
		if (!n)
			return 0;
		ret = wire_send(&s->w, WIRE_DEV, head, sizeof(head), s->buf, n);
		if (ret)
			return fail(s->rep->error, ret, "sending device data");
		*sent += n;
	}
	return 0;
}

static bool dev_precopy(struct src *s, unsigned int i)
{
	return emu_dev_mig_flags(s->vm->devs[i].dev) & VFIO_MIGRATION_PRE_COPY;
}

/* One pre-copy pass over the devices: what PRECOPY_INFO said was there. */
static int devices_precopy(struct src *s, uint64_t *sent, bool *initial_left)
{
	uint64_t initial, dirty, n;
	unsigned int i;
	int ret;

	*sent = 0;
	*initial_left = false;
	for (i = 0; i < s->vm->cfg.ndevs; i++) {
		if (s->fds[i] < 0)
			continue;
		if (emu_get_precopy_info(s->fds[i], &initial, &dirty))
			return fail(s->rep->error, -errno, "PRECOPY_INFO");
		if (!initial && !dirty)
			continue;
		ret = send_dev(s, i, initial + dirty, &n);
		if (ret)
			return ret;
		*sent += n;
		if (emu_get_precopy_info(s->fds[i], &initial, &dirty))
			return fail(s->rep->error, -errno, "PRECOPY_INFO");
		*initial_left |= initial != 0;
	}
	return 0;
}

static uint64_t devices_data_size(struct src *s, bool record)
{
	uint64_t total = 0, n;
	unsigned int i;

	for (i = 0; i < s->vm->cfg.ndevs; i++) {
		if (emu_get_data_size(s->vm->devs[i].dev, &n))
			n = 0;
		if (record)
			s->rep->dev_data_size[i] = n;
		total += n;
	}
	return total;
}

static int hello(struct src *s)
{
	char text[1024], reply[256];
	struct wire_hdr hdr;
	int ret;

	ret = vm_cfg_format(&s->vm->cfg, text, sizeof(text));
	if (!ret)
		ret = wire_send(&s->w, WIRE_HELLO, text, strlen(text) + 1, NULL, 0);
	if (ret || s->o->to_file)
		return ret ? fail(s->rep->error, ret, "sending the VM description") : 0;
	ret = wire_recv_hdr(&s->w, &hdr);
	if (!ret && (hdr.type != WIRE_HELLO || hdr.len > sizeof(reply) - 1 || !hdr.len))
		ret = -EPROTO;
	if (!ret)
		ret = wire_recv(&s->w, reply, hdr.len);
	if (ret)
		return fail(s->rep->error, ret, "destination did not answer the VM description");
	reply[hdr.len] = 0;
	if (strcmp(reply, "ok")) {
		snprintf(s->rep->error, 256, "destination refused: %s", reply);
		return -ECONNREFUSED;
	}
	return 0;
}

static int start_precopy(struct src *s)
{
	unsigned int i;

	for (i = 0; i < s->vm->cfg.ndevs; i++) {
		if (dev_precopy(s, i) &&
		    emu_set_state(s->vm->devs[i].dev, VFIO_DEVICE_STATE_PRE_COPY, &s->fds[i])) {
			snprintf(s->rep->error, 256, "device %u -> PRE_COPY: %s", i,
				 emu_dev_strerror(s->vm->devs[i].dev));
			return -errno;
		}
	}
	return 0;
}

static int harvest(struct src *s, struct mig_round *r)
{
	int ret = vm_harvest(s->vm, s->bitmap, r->dirty_by_src);

	if (ret)
		snprintf(s->rep->error, 256, "%s", s->vm->err);
	return ret;
}

/* Round 0 sends all of RAM; round i what was dirtied during round i - 1. */
static int precopy(struct src *s)
{
	struct mig_summary *rep = s->rep;
	double bw = 0;
	bool initial_left = true;
	int ret;

	bitmap_set_range(s->bitmap, 0, s->pages);
	for (;;) {
		struct mig_round *r = &rep->rounds[rep->nrounds];
		uint64_t t0 = emu_now_ns(), sent0 = s->w.sent, dirty;

		if (rep->nrounds) {
			ret = harvest(s, r);
			if (ret)
				return ret;
			dirty = bitmap_weight(s->bitmap, s->pages);
			r->pending = dirty * PAGE + devices_data_size(s, false);
			if (!initial_left && r->pending <= bw * s->o->downtime_ns / 1e9) {
				rep->converged = true;
				return 0;
			}
			if (rep->nrounds >= s->o->max_rounds || rep->nrounds >= MIG_MAX_ROUNDS - 1)
				return 0;
		}
		wire_reset_clock(&s->w);
		ret = send_pages(s, &r->ram_pages, false);
		if (!ret)
			ret = devices_precopy(s, &r->dev_bytes, &initial_left);
		if (ret)
			return ret;
		r->ns = emu_now_ns() - t0;
		r->bytes = s->w.sent - sent0;
		r->bandwidth = r->ns ? r->bytes * 1e9 / r->ns : 0;
		if (r->bytes >= 1 << 20 || !bw)
			bw = r->bandwidth; /* a tiny round measures latency, not bandwidth */
		rep->nrounds++;
	}
}

static int stop_devices(struct src *s)
{
	enum vfio_device_mig_state p2p, st;
	unsigned int i;
	int fd;

	for (i = 0; i < s->vm->cfg.ndevs; i++) {
		struct emu_dev *dev = s->vm->devs[i].dev;

		if (!(emu_dev_mig_flags(dev) & VFIO_MIGRATION_P2P) || emu_get_state(dev, &st))
			continue;
		p2p = st == VFIO_DEVICE_STATE_PRE_COPY ? VFIO_DEVICE_STATE_PRE_COPY_P2P
						       : VFIO_DEVICE_STATE_RUNNING_P2P;
		if (emu_set_state(dev, p2p, NULL))
			goto err;
	}
	for (i = 0; i < s->vm->cfg.ndevs; i++) {
		if (emu_set_state(s->vm->devs[i].dev, VFIO_DEVICE_STATE_STOP_COPY, &fd))
			goto err;
		if (fd >= 0)
			s->fds[i] = fd;
	}
	return 0;
err:
	snprintf(s->rep->error, 256, "stopping device %u: %s", i,
		 emu_dev_strerror(s->vm->devs[i].dev));
	return -errno;
}

/* The state at stop, hashed: vfmig's own check, timed apart from the migration. */
static void digests(struct src *s, uint64_t *ram, uint64_t *dev)
{
	uint64_t t = emu_now_ns();
	unsigned int i;

	*ram = vm_ram_digest(s->vm);
	for (i = 0; i < s->vm->cfg.ndevs; i++)
		dev[i] = emu_dev_digest(s->vm->devs[i].dev);
	s->rep->verify_ns += emu_now_ns() - t;
}

/*
 * With a peer, the source hashes its state only after the destination runs
 * (it stays stopped meanwhile), so the check never lengthens the downtime;
 * a file carries the digests for whoever resumes it.
 */
static int send_end(struct src *s)
{
	struct wire_end end = {.ndevs = s->vm->cfg.ndevs};

	if (s->o->to_file) {
		end.flags = WIRE_END_DIGESTS;
		digests(s, &end.ram_digest, end.dev_digest);
	}
	return wire_send(&s->w, WIRE_END, &end, sizeof(end), NULL, 0);
}

static void verdict(struct src *s, const struct wire_ack *ack)
{
	uint64_t ram, dev[VM_MAX_DEVICES];
	uint32_t ok;
	unsigned int i;

	digests(s, &ram, dev);
	ok = ram == ack->ram_digest;
	for (i = 0; i < s->vm->cfg.ndevs; i++)
		ok &= dev[i] == ack->dev_digest[i];
	s->rep->verified = ok;
	wire_send(&s->w, WIRE_VERDICT, &ok, sizeof(ok), NULL, 0);
}

/* The destination's devices' own arcs; a peer that sends none leaves them unknown. */
static void recv_arcs(struct src *s)
{
	struct wire_hdr hdr;

	if (!wire_recv_hdr(&s->w, &hdr) && hdr.type == WIRE_ARCS &&
	    hdr.len == sizeof(s->rep->dst_arcs) &&
	    !wire_recv(&s->w, &s->rep->dst_arcs, sizeof(s->rep->dst_arcs)))
		s->rep->dst_arcs_known = s->rep->dst_arcs.ndevs <= VM_MAX_DEVICES;
}

static int await_ack(struct src *s, uint64_t t_pause)
{
	struct mig_summary *rep = s->rep;
	struct wire_ack ack;
	struct wire_hdr hdr;
	char boot[40] = "";
	FILE *f;
	int ret;

	ret = wire_recv_hdr(&s->w, &hdr);
	if (!ret && (hdr.type != WIRE_ACK || hdr.len != sizeof(ack)))
		ret = -EPROTO;
	if (!ret)
		ret = wire_recv(&s->w, &ack, sizeof(ack));
	if (ret)
		return fail(rep->error, ret, "destination gone before it acknowledged");
	ack.msg[sizeof(ack.msg) - 1] = 0;
	if (ack.status) {
		snprintf(rep->error, 256, "destination failed: %s", ack.msg);
		return -ack.status;
	}
	rep->dest_ns = ack.load_ns;
	rep->verify_ns += ack.verify_ns;
	f = fopen("/proc/sys/kernel/random/boot_id", "r");
	if (f) {
		if (!fgets(boot, sizeof(boot), f))
			boot[0] = 0;
		fclose(f);
	}
	rep->downtime_exact = boot[0] && !strncmp(boot, ack.boot_id, 36) && ack.t_running > t_pause;
	rep->downtime_ns = rep->downtime_exact ? ack.t_running - t_pause : emu_now_ns() - t_pause;
	/* t_running leaves the destination's verification out; the clock's reading has it */
	rep->running_at_ns = rep->downtime_exact ? ack.t_running + ack.verify_ns : 0;
	recv_arcs(s);
	verdict(s, &ack);
	return 0;
}

static int switchover(struct src *s)
{
	struct mig_summary *rep = s->rep;
	uint64_t t_pause, t, by_src[1 + VM_MAX_DEVICES], n;
	unsigned int i;
	int ret;

	t_pause = emu_now_ns();
	rep->paused_at_ns = t_pause;
	vm_pause(s->vm);
	ret = stop_devices(s);
	rep->stop_ns = emu_now_ns() - t_pause;
	if (!ret)
		ret = wire_send(&s->w, WIRE_SWITCHOVER, &t_pause, sizeof(t_pause), NULL, 0);
	if (ret)
		return fail(rep->error, ret, "switchover");
	devices_data_size(s, true);
	t = emu_now_ns();
	if (vm_harvest(s->vm, s->bitmap, by_src))
		return fail(rep->error, -EIO, s->vm->err);
	rep->final_harvest_ns = emu_now_ns() - t;
	t = emu_now_ns();
	wire_reset_clock(&s->w);
	ret = send_pages(s, &rep->final_pages, s->o->drop_one_page);
	rep->final_ram_ns = emu_now_ns() - t;
	t = emu_now_ns();
	for (i = 0; !ret && i < s->vm->cfg.ndevs; i++) {
		ret = send_dev(s, i, 0, &n);
		rep->final_dev_bytes += n;
	}
	rep->final_dev_ns = emu_now_ns() - t;
	if (!ret)
		ret = send_end(s);
	if (ret)
		return fail(rep->error, ret, "stop-copy");
	if (s->o->to_file) {
		/* The file is the destination: it commits once it is on disk. */
		t = emu_now_ns();
		if (fsync(s->w.fd) && errno != EINVAL)
			return fail(rep->error, -errno, "writing the migration file");
		rep->final_sync_ns = emu_now_ns() - t;
		rep->downtime_ns = emu_now_ns() - t_pause - rep->verify_ns;
		rep->verified = true; /* checked when the file is resumed */
		return 0;
	}
	return await_ack(s, t_pause);
}

/* Before the commit point: back to RUNNING, nothing lost. */
static void rollback(struct src *s)
{
	unsigned int i;

	for (i = 0; i < s->vm->cfg.ndevs; i++) {
		struct emu_dev *dev = s->vm->devs[i].dev;

		if (s->fds[i] >= 0)
			emu_fd_close(s->fds[i]);
		s->fds[i] = -1;
		if (emu_set_state(dev, VFIO_DEVICE_STATE_RUNNING, NULL))
			emu_dev_ioctl(dev, VFIO_DEVICE_RESET, NULL);
	}
	vm_track_stop(s->vm);
	vm_resume(s->vm);
}

int mig_source(struct vm *vm, int fd, const struct mig_opts *o, struct mig_summary *rep)
{
	struct src s = {.vm = vm, .o = o, .rep = rep, .pages = guest_mem_pages(vm->mem)};
	uint64_t t0 = emu_now_ns();
	unsigned int i;
	int ret;

	memset(rep, 0, sizeof(*rep));
	for (i = 0; i < VM_MAX_DEVICES; i++)
		s.fds[i] = -1;
	wire_init(&s.w, fd, o->bandwidth);
	s.bitmap = calloc(guest_mem_bitmap_words(vm->mem) + 1, 8);
	s.buf = malloc(DEV_CHUNK);
	if (!s.bitmap || !s.buf) {
		free(s.bitmap);
		free(s.buf);
		return fail(rep->error, -ENOMEM, "migration buffers");
	}
	ret = hello(&s);
	if (!ret) {
		ret = vm_track_start(vm);
		if (ret)
			snprintf(rep->error, 256, "%s", vm->err);
	}
	if (!ret)
		ret = start_precopy(&s);
	if (!ret)
		ret = precopy(&s);
	if (!ret)
		ret = switchover(&s);
	rep->total_ns = emu_now_ns() - t0;
	rep->bytes = s.w.sent;
	if (ret) {
		rollback(&s);
	} else {
		rep->committed = true;
		for (i = 0; i < vm->cfg.ndevs; i++) {
			emu_fd_close(s.fds[i]);
			emu_set_state(vm->devs[i].dev, VFIO_DEVICE_STATE_STOP, NULL);
		}
		vm_track_stop(vm);
	}
	vm_arcs_collect(vm, &rep->src_arcs);
	free(s.bitmap);
	free(s.buf);
	return ret;
}
