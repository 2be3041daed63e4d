// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "probe/aggregate.h"
#include "vfio_real.h"

static int ioctl_err(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) < 0 ? -errno : 0;
}

static int group_of(const char *bus, const char *name)
{
	char link[PATH_MAX], target[PATH_MAX];
	ssize_t n;

	snprintf(link, sizeof(link), "/sys/bus/%s/devices/%s/iommu_group", bus, name);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = 0;
	return atoi(basename(target));
}

static int new_container(void)
{
	int c = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);

	if (c < 0)
		return -errno;
	if (ioctl(c, VFIO_GET_API_VERSION) != VFIO_API_VERSION) {
		close(c);
		return -EINVAL;
	}
	return c;
}

static int open_on_bus(struct real_dev *d, const char *bus, const char *uuid, int container)
{
	struct vfio_group_status st = {.argsz = sizeof(st)};
	char path[64];
	int g = group_of(bus, uuid), err;

	memset(d, 0, sizeof(*d));
	d->container = d->group = d->fd = -1;
	snprintf(d->name, sizeof(d->name), "%s", uuid);
	if (g < 0)
		return g;
	snprintf(path, sizeof(path), "/dev/vfio/%d", g);
	d->group = open(path, O_RDWR | O_CLOEXEC);
	if (d->group < 0)
		return -errno;
	err = ioctl_err(d->group, VFIO_GROUP_GET_STATUS, &st);
	if (err || !(st.flags & VFIO_GROUP_FLAGS_VIABLE))
		goto fail;
	d->container = container >= 0 ? dup(container) : new_container();
	if (d->container < 0) {
		err = d->container < -1 ? d->container : -errno;
		goto fail;
	}
	err = ioctl_err(d->group, VFIO_GROUP_SET_CONTAINER, &d->container);
	if (!err && container < 0)
		err = ioctl(d->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) < 0 ? -errno : 0;
	if (err)
		goto fail;
	d->fd = ioctl(d->group, VFIO_GROUP_GET_DEVICE_FD, uuid);
	if (d->fd >= 0)
		return 0;
	err = -errno;
fail:
	real_close(d);
	return err ? err : -ENODEV;
}

int real_open(struct real_dev *d, const char *uuid, int container)
{
	return open_on_bus(d, "mdev", uuid, container);
}

int real_open_pci(struct real_dev *d, const char *bdf, int container)
{
	return open_on_bus(d, "pci", bdf, container);
}

void real_close(struct real_dev *d)
{
	if (d->fd >= 0)
		close(d->fd);
	if (d->group >= 0)
		close(d->group);
	if (d->container >= 0)
		close(d->container);
	d->fd = d->group = d->container = -1;
}

int real_feature(struct real_dev *d, uint32_t flags, void *payload, size_t len)
{
	uint64_t buf[(sizeof(struct vfio_device_feature) + 64) / 8] = {};
	struct vfio_device_feature *f = (void *)buf;
	int err;

	if (len > 64)
		return -EINVAL;
	f->argsz = sizeof(*f) + len;
	f->flags = flags;
	if (len)
		memcpy(f->data, payload, len);
	err = ioctl_err(d->fd, VFIO_DEVICE_FEATURE, f);
	if (!err && len)
		memcpy(payload, f->data, len);
	return err;
}

int real_mig_flags(struct real_dev *d, uint32_t *flags)
{
	struct vfio_device_feature_migration m = {};
	int err = real_feature(d, VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIGRATION, &m,
			       sizeof(m));

	*flags = m.flags;
	return err;
}

int real_set_state(struct real_dev *d, enum vfio_device_mig_state s, int *data_fd)
{
	struct vfio_device_feature_mig_state m = {.device_state = s, .data_fd = -1};
	int err = real_feature(d, VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
			       &m, sizeof(m));

	if (data_fd)
		*data_fd = err ? -1 : m.data_fd;
	else if (!err && m.data_fd >= 0)
		close(m.data_fd);
	return err;
}

int real_get_state(struct real_dev *d, enum vfio_device_mig_state *s)
{
	struct vfio_device_feature_mig_state m = {};
	int err = real_feature(d, VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
			       &m, sizeof(m));

	*s = m.device_state;
	return err;
}

int real_data_size(struct real_dev *d, uint64_t *len)
{
	struct vfio_device_feature_mig_data_size m = {};
	int err = real_feature(d, VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIG_DATA_SIZE, &m,
			       sizeof(m));

	*len = m.stop_copy_length;
	return err;
}

int real_precopy_info(int data_fd, uint64_t *initial, uint64_t *dirty)
{
	struct vfio_precopy_info pi = {.argsz = sizeof(pi)};
	int err = ioctl_err(data_fd, VFIO_MIG_GET_PRECOPY_INFO, &pi);

	*initial = pi.initial_bytes;
	*dirty = pi.dirty_bytes;
	return err;
}

int real_reset(struct real_dev *d)
{
	return ioctl(d->fd, VFIO_DEVICE_RESET) < 0 ? -errno : 0;
}

static int bar0_offset(struct real_dev *d, uint64_t *off)
{
	struct vfio_region_info ri = {.argsz = sizeof(ri), .index = VFIO_PCI_BAR0_REGION_INDEX};
	int err = ioctl_err(d->fd, VFIO_DEVICE_GET_REGION_INFO, &ri);

	*off = ri.offset;
	return err;
}

int real_bar0_write8(struct real_dev *d, unsigned int off, uint8_t v)
{
	uint64_t base;
	int err = bar0_offset(d, &base);

	if (err)
		return err;
	return pwrite(d->fd, &v, 1, base + off) == 1 ? 0 : -errno;
}

int real_bar0_read8(struct real_dev *d, unsigned int off, uint8_t *v)
{
	uint64_t base;
	int err = bar0_offset(d, &base);

	if (err)
		return err;
	return pread(d->fd, v, 1, base + off) == 1 ? 0 : -errno;
}

/* dev_dbg's "DRIVER DEVICE: " before msg in rec: DEVICE, or "" */
static void dbg_device(const char *rec, const char *msg, char *dev, size_t len)
{
	const char *end = msg - 2, *start = end;

	*dev = 0;
	if (msg - rec < 2 || strncmp(end, ": ", 2))
		return;
	while (start > rec && start[-1] != ' ' && start[-1] != ';')
		start--;
	snprintf(dev, len, "%.*s", (int)(end - start), start);
}

int kmsg_next_arc(int kmsg, char *dev, size_t len, unsigned int *from, unsigned int *to)
{
	char rec[1024], *p;
	ssize_t n;

	while ((n = read(kmsg, rec, sizeof(rec) - 1)) > 0 || (n < 0 && errno == EPIPE)) {
		if (n <= 0)
			continue; /* EPIPE: records overwritten since the last read */
		rec[n] = 0;
		p = strstr(rec, "mtty_step_state: ");
		if (!p || sscanf(p, "mtty_step_state: %u -> %u", from, to) != 2)
			continue;
		if (dev)
			dbg_device(rec, p, dev, len);
		return 1;
	}
	return 0;
}

long real_drain(int data_fd, void *buf, size_t cap, int *end_errno)
{
	size_t got = 0;
	ssize_t n;

	*end_errno = 0;
	while (got < cap) {
		n = read(data_fd, (char *)buf + got, cap - got);
		if (n == 0)
			return got;
		if (n < 0) {
			*end_errno = errno;
			return errno == ENOMSG ? (long)got : -errno;
		}
		got += n;
	}
	return -EFBIG;
}

void vmtest_report(const char *fmt, ...)
{
	const char *path = getenv("VMTEST_REPORT");
	FILE *f = path ? fopen(path, "a") : NULL;
	va_list ap;

	va_start(ap, fmt);
	vfprintf(f ? f : stdout, fmt, ap);
	va_end(ap);
	fputc('\n', f ? f : stdout);
	if (f)
		fclose(f);
}

int real_dirty_pages(int container, uint32_t flags)
{
	struct vfio_iommu_type1_dirty_bitmap dp = {.argsz = sizeof(dp), .flags = flags};

	return ioctl_err(container, VFIO_IOMMU_DIRTY_PAGES, &dp);
}

int real_get_bitmap(int container, uint64_t iova, uint64_t size, uint64_t *bits)
{
	uint64_t buf[8] = {};
	struct vfio_iommu_type1_dirty_bitmap *get = (void *)buf;
	struct vfio_iommu_type1_dirty_bitmap_get *range = (void *)get->data;

	get->argsz = sizeof(*get) + sizeof(*range);
	get->flags = VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP;
	range->iova = iova;
	range->size = size;
	range->bitmap.pgsize = 4096;
	range->bitmap.size = size / 4096 / 8;
	range->bitmap.data = (void *)bits;
	return ioctl_err(container, VFIO_IOMMU_DIRTY_PAGES, get);
}

struct sources_ctx {
	uint16_t a, b;
	struct probe_sources *s;
};

static int count_source(void *ctx, const struct vfmig_event *e)
{
	struct sources_ctx *c = ctx;

	if (e->type != c->a && e->type != c->b)
		return 0;
	if (e->source == VFMIG_SRC_FENTRY)
		c->s->fentry++;
	else if (e->source == VFMIG_SRC_KPROBE)
		c->s->kprobe++;
	else if (e->source == VFMIG_SRC_SYSCALL)
		c->s->syscall++;
	else
		c->s->other++;
	return 0;
}

void probe_sources(struct vfmig_probes *p, uint16_t a, uint16_t b, struct probe_sources *s)
{
	struct sources_ctx c = {a, b, s};

	memset(s, 0, sizeof(*s));
	while (probes_poll(p, 0, count_source, &c) > 0)
		;
}
