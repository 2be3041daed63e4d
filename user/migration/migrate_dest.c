// SPDX-License-Identifier: GPL-2.0
/* The destination half of the migration driver. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "device/device.h"
#include "migration/migrate.h"

#define PAGE 4096

struct dst {
	struct wire w;
	struct vm *vm;
	bool from_file;
	enum mig_die die;
	struct mig_dest_report *rep;
	int fds[VM_MAX_DEVICES];
	uint8_t *buf;
	uint64_t t_switchover;
	struct wire_end end;
	uint64_t ram_digest, dev_digest[VM_MAX_DEVICES];
};

static int dfail(struct dst *d, int ret, const char *fmt, const char *what)
{
	/* wire_recv says EPIPE for a stream that stopped mid-message */
	const char *why = ret == -EPIPE ? "the stream ended early" : strerror(-ret);

	if (!d->rep->error[0])
		snprintf(d->rep->error, sizeof(d->rep->error), fmt, what, why);
	return ret;
}

static void die_if(struct dst *d, enum mig_die at)
{
	if (d->die == at)
		raise(SIGKILL); /* a test asked the peer to vanish here */
}

static int reply_hello(struct dst *d, const char *msg)
{
	if (d->from_file)
		return 0;
	return wire_send(&d->w, WIRE_HELLO, msg, strlen(msg) + 1, NULL, 0);
}

static int recv_hello(struct dst *d)
{
	struct wire_hdr hdr;
	char text[1024], err[256];
	unsigned int i;
	int ret;

	ret = wire_recv_hdr(&d->w, &hdr);
	if (!ret && (hdr.type != WIRE_HELLO || hdr.len >= sizeof(text) || !hdr.len))
		ret = -EPROTO;
	if (!ret)
		ret = wire_recv(&d->w, text, hdr.len);
	if (ret)
		return dfail(d, ret, "%s (%s)",
			     ret == -EPROTO ? "not a vfmig migration stream: no VM description"
					    : "no VM description from the source");
	text[hdr.len] = 0;
	if (vm_cfg_parse(text, &d->rep->cfg, err, sizeof(err)) ||
	    !(d->vm = vm_create(&d->rep->cfg, err, sizeof(err)))) {
		snprintf(d->rep->error, sizeof(d->rep->error), "cannot build the VM: %s", err);
		reply_hello(d, d->rep->error);
		return -EINVAL;
	}
	for (i = 0; i < d->vm->cfg.ndevs; i++) {
		if (emu_set_state(d->vm->devs[i].dev, VFIO_DEVICE_STATE_RESUMING, &d->fds[i])) {
			snprintf(d->rep->error, sizeof(d->rep->error), "device %u -> RESUMING: %s",
				 i, emu_dev_strerror(d->vm->devs[i].dev));
			reply_hello(d, d->rep->error);
			return -errno;
		}
	}
	die_if(d, MIG_DIE_HELLO);
	ret = reply_hello(d, "ok");
	return ret ? dfail(d, ret, "%s: %s", "answering the source") : 0;
}

static int recv_pages(struct dst *d, uint64_t len)
{
	uint64_t idx[256], i, pages = guest_mem_pages(d->vm->mem);
	struct iovec iov[256];
	uint8_t *mem = guest_mem_vcpu(d->vm->mem);
	uint32_t head[2];
	int ret;

	ret = wire_recv(&d->w, head, sizeof(head));
	if (ret)
		return ret;
	if (head[0] > 256 || len != 8 + head[0] * (8ull + PAGE))
		return -EPROTO;
	ret = wire_recv(&d->w, idx, head[0] * 8ull);
	for (i = 0; !ret && i < head[0]; i++) {
		if (idx[i] >= pages)
			return -EPROTO;
		iov[i] = (struct iovec){mem + idx[i] * PAGE, PAGE};
	}
	if (!ret)
		ret = wire_recvv(&d->w, iov, head[0]); /* straight into guest RAM */
	d->rep->pages += head[0];
	die_if(d, MIG_DIE_PRECOPY);
	return ret;
}

static int recv_dev(struct dst *d, uint64_t len)
{
	uint32_t head[2];
	ssize_t n;
	int ret;

	if (len < sizeof(head) || len - sizeof(head) > (64u << 20))
		return -EPROTO;
	ret = wire_recv(&d->w, head, sizeof(head));
	if (!ret && head[0] >= d->vm->cfg.ndevs)
		ret = -EPROTO;
	if (!ret)
		ret = wire_recv(&d->w, d->buf, len - sizeof(head));
	if (ret)
		return ret;
	n = emu_fd_write(d->fds[head[0]], d->buf, len - sizeof(head));
	if (n != (ssize_t)(len - sizeof(head))) {
		snprintf(d->rep->error, sizeof(d->rep->error), "device %u refused its stream: %s",
			 head[0], emu_dev_strerror(d->vm->devs[head[0]].dev));
		return n < 0 ? -errno : -EIO;
	}
	d->rep->dev_bytes += n;
	return 0;
}

static int receive(struct dst *d)
{
	struct wire_hdr hdr;
	int ret;

	for (;;) {
		ret = wire_recv_hdr(&d->w, &hdr);
		if (ret)
			return dfail(d, ret, "%s: %s", "the stream from the source broke");
		switch (hdr.type) {
		case WIRE_PAGES:
			ret = recv_pages(d, hdr.len);
			break;
		case WIRE_DEV:
			ret = recv_dev(d, hdr.len);
			break;
		case WIRE_SWITCHOVER:
			ret = hdr.len == 8 ? wire_recv(&d->w, &d->t_switchover, 8) : -EPROTO;
			die_if(d, MIG_DIE_SWITCHOVER);
			break;
		case WIRE_END:
			ret = hdr.len == sizeof(d->end) ? wire_recv(&d->w, &d->end, sizeof(d->end))
							: -EPROTO;
			return ret ? dfail(d, ret, "%s: %s", "the end of the stream") : 0;
		default:
			ret = -EPROTO;
		}
		if (ret)
			return dfail(d, ret, "%s: %s", "the stream from the source");
	}
}

/* Loads every device (RESUMING -> STOP validates), compares, then runs. */
static int finish(struct dst *d, uint64_t *t_running)
{
	struct vm *vm = d->vm;
	uint64_t t_verify;
	bool ok;
	unsigned int i;

	die_if(d, MIG_DIE_END);
	for (i = 0; i < vm->cfg.ndevs; i++) {
		emu_fd_close(d->fds[i]);
		d->fds[i] = -1;
		if (emu_set_state(vm->devs[i].dev, VFIO_DEVICE_STATE_STOP, NULL)) {
			snprintf(d->rep->error, sizeof(d->rep->error), "device %u did not load: %s",
				 i, emu_dev_strerror(vm->devs[i].dev));
			return -errno;
		}
	}
	/* Verification is vfmig's own check, not part of a migration: kept out of downtime. */
	t_verify = emu_now_ns();
	d->ram_digest = vm_ram_digest(vm);
	ok = d->end.ndevs == vm->cfg.ndevs && d->ram_digest == d->end.ram_digest;
	for (i = 0; i < vm->cfg.ndevs; i++) {
		d->dev_digest[i] = emu_dev_digest(vm->devs[i].dev);
		ok &= d->dev_digest[i] == d->end.dev_digest[i];
	}
	/* Without digests in the stream the source compares, and says so after the ACK. */
	d->rep->verified = (d->end.flags & WIRE_END_DIGESTS) && ok;
	d->rep->verify_ns = emu_now_ns() - t_verify;
	for (i = 0; i < vm->cfg.ndevs; i++) {
		if (emu_set_state(vm->devs[i].dev, VFIO_DEVICE_STATE_RUNNING, NULL)) {
			snprintf(d->rep->error, sizeof(d->rep->error), "device %u did not run: %s",
				 i, emu_dev_strerror(vm->devs[i].dev));
			return -errno;
		}
	}
	*t_running = emu_now_ns() - d->rep->verify_ns;
	return vm_start(vm);
}

static void send_ack(struct dst *d, int ret, uint64_t t_running, uint64_t load_ns)
{
	struct wire_ack ack = {.status = -ret,
			       .verified = d->rep->verified,
			       .t_running = t_running,
			       .load_ns = load_ns,
			       .verify_ns = d->rep->verify_ns,
			       .ram_digest = d->ram_digest};
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");

	if (f) {
		if (!fgets(ack.boot_id, sizeof(ack.boot_id), f))
			ack.boot_id[0] = 0;
		fclose(f);
	}
	memcpy(ack.dev_digest, d->dev_digest, sizeof(ack.dev_digest));
	snprintf(ack.msg, sizeof(ack.msg), "%s", d->rep->error);
	vm_arcs_collect(d->vm, &d->rep->arcs);
	if (d->from_file)
		return;
	if (!wire_send(&d->w, WIRE_ACK, &ack, sizeof(ack), NULL, 0) && !ret)
		wire_send(&d->w, WIRE_ARCS, &d->rep->arcs, sizeof(d->rep->arcs), NULL, 0);
}

static void recv_verdict(struct dst *d)
{
	struct wire_hdr hdr;
	uint32_t ok = 0;

	if (d->from_file || (d->end.flags & WIRE_END_DIGESTS))
		return;
	if (!wire_recv_hdr(&d->w, &hdr) && hdr.type == WIRE_VERDICT && hdr.len == sizeof(ok) &&
	    !wire_recv(&d->w, &ok, sizeof(ok)))
		d->rep->verified = ok;
}

int mig_destination(int fd, bool from_file, enum mig_die die, struct vm **out,
		    struct mig_dest_report *rep)
{
	struct dst d = {.from_file = from_file, .die = die, .rep = rep};
	uint64_t t_end, t_running = 0;
	unsigned int i;
	int ret;

	memset(rep, 0, sizeof(*rep));
	*out = NULL;
	for (i = 0; i < VM_MAX_DEVICES; i++)
		d.fds[i] = -1;
	wire_init(&d.w, fd, 0);
	d.buf = malloc(64u << 20);
	if (!d.buf)
		return dfail(&d, -ENOMEM, "%s: %s", "receive buffer");
	ret = recv_hello(&d);
	if (!ret)
		ret = receive(&d);
	t_end = emu_now_ns();
	if (!ret)
		ret = finish(&d, &t_running);
	rep->load_ns = t_running ? t_running - t_end : emu_now_ns() - t_end;
	rep->bytes = d.w.recvd;
	if (d.vm)
		send_ack(&d, ret, t_running, rep->load_ns);
	if (!ret)
		recv_verdict(&d);
	for (i = 0; i < VM_MAX_DEVICES; i++) {
		if (d.fds[i] >= 0)
			emu_fd_close(d.fds[i]);
	}
	free(d.buf);
	if (ret) {
		vm_destroy(d.vm);
		return ret;
	}
	*out = d.vm;
	return 0;
}
