/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A real VFIO device opened the type1 way (container, group, device fd),
 * for the tests that run inside the vmtest guest against the kernel's
 * mtty sample. Each call returns 0 or -errno, as the kernel answered.
 */
#ifndef VFMIG_VMTEST_VFIO_REAL_H
#define VFMIG_VMTEST_VFIO_REAL_H

#include <stddef.h>
#include <stdint.h>

#include "common/probe_util.h"
#include "vfmig/uapi.h"

/* The mdev UUIDs the guest's init created (tests/vmtest/init). */
#define VMTEST_MTTY_A "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001"
#define VMTEST_MTTY_B "83b8f4f2-509f-382f-3c1e-e6bfe0fa1002"
#define VMTEST_DMADEV "83b8f4f2-509f-382f-3c1e-e6bfe0fa1003" /* tests/vmtest/kmod */

struct real_dev {
	int container, group, fd;
	char name[64];
};

/* Opens a PCI device bound to vfio-pci (address as in /sys/bus/pci/devices) like real_open(). */
int real_open_pci(struct real_dev *d, const char *bdf, int container);

/* Opens the mdev through its group into container (-1: a new type1 v2 container). */
int real_open(struct real_dev *d, const char *uuid, int container);
void real_close(struct real_dev *d);

int real_feature(struct real_dev *d, uint32_t flags, void *payload, size_t len);
int real_mig_flags(struct real_dev *d, uint32_t *flags);
int real_set_state(struct real_dev *d, enum vfio_device_mig_state s, int *data_fd);
int real_get_state(struct real_dev *d, enum vfio_device_mig_state *s);
int real_data_size(struct real_dev *d, uint64_t *len);
int real_precopy_info(int data_fd, uint64_t *initial, uint64_t *dirty);
int real_reset(struct real_dev *d);

/* BAR0 access: mtty's first UART; offset 7 is its scratch register. */
int real_bar0_write8(struct real_dev *d, unsigned int off, uint8_t v);
int real_bar0_read8(struct real_dev *d, unsigned int off, uint8_t *v);

/* A line of what the bed covered, for scripts/vmtest.sh to print ($VMTEST_REPORT). */
void vmtest_report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The events of type a or b that p's ring buffer holds, by source; drains it. */
struct probe_sources {
	unsigned int fentry, kprobe, syscall, other;
};
void probe_sources(struct vfmig_probes *p, uint16_t a, uint16_t b, struct probe_sources *s);

/* Type1 VFIO_IOMMU_DIRTY_PAGES with flags START or STOP on container. */
int real_dirty_pages(int container, uint32_t flags);
/* GET_BITMAP of [iova, iova + size) at 4 KiB into bits, left as the kernel returns it. */
int real_get_bitmap(int container, uint64_t iova, uint64_t size, uint64_t *bits);

/*
 * The next arc mtty's driver logged on kmsg (a /dev/kmsg fd, O_NONBLOCK,
 * moved to its end before; dynamic debug of mtty_step_state on): 1 with
 * *from and *to, and in dev (when given) the device dev_dbg named, 0 when
 * kmsg holds no more.
 */
int kmsg_next_arc(int kmsg, char *dev, size_t len, unsigned int *from, unsigned int *to);

/* Reads the data fd to its end (0 or ENOMSG); returns bytes, or -errno. */
long real_drain(int data_fd, void *buf, size_t cap, int *end_errno);

#endif
