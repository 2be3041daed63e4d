/* SPDX-License-Identifier: GPL-2.0 */
/* The test device's private ioctls, shared by the module and the guest tests. */
#ifndef VFMIG_DMADEV_H
#define VFMIG_DMADEV_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <linux/types.h>
#include <linux/ioctl.h>
#endif

struct vfmig_dmadev_op {
	__u64 iova;  /* page aligned */
	__u32 npage; /* 1 .. 512 (VFIO_PIN_PAGES_MAX_ENTRIES) */
	__u32 flags; /* 0 */
};

/* One vfio_pin_pages() call: returns the pages pinned, or -errno. At most 64 held at once. */
#define VFMIG_DMADEV_PIN _IOW(';', 0xe0, struct vfmig_dmadev_op)
/* One vfio_unpin_pages() per earlier pin overlapping [iova, iova + npage pages). */
#define VFMIG_DMADEV_UNPIN _IOW(';', 0xe1, struct vfmig_dmadev_op)

#endif
