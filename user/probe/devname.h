/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A kernel-side device is (pid << 32 | fd): this names it as people know
 * it, and says who holds it. The name is the device's (PCI address or mdev
 * UUID), found, in order, from the fd's character device
 * (/dev/vfio/devices/vfioX -> /sys/class/vfio-dev/vfioX/device), from the
 * kernel's fdinfo (vfio-device-syspath:, newer kernels), or from the
 * VFIO_GROUP_GET_DEVICE_FD the probes saw open it; else it is unknown, and
 * says why: never guessed. A kernel device (VFMIG_DEV_KERNEL: fexit and
 * kprobe sources) has no pid or fd: its name is dev_name() as the probes
 * read it at its first step ("kernel"), or unknown. A KVM VM fd (whose dirty log is decoded) is
 * "kvm-vm". A device QEMU's dtrace probes named (VFMIG_DEV_QEMU) is that
 * name, as the probes read it ("qemu"). The owner is the process's comm, and for QEMU the
 * guest (libvirt domain) named by -name on its command line.
 *
 * The string parsers are pure; the rest reads a /proc and a /sys given as
 * roots, so that tests can hand it a fake tree.
 */
#ifndef VFMIG_PROBE_DEVNAME_H
#define VFMIG_PROBE_DEVNAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/types.h>

#include "vfmig/abi.h"

#define DEVNAME_UNKNOWN "unknown (attached after open)"

struct devname_roots {
	const char *proc, *sys;
};

extern const struct devname_roots devname_host; /* "/proc", "/sys" */

struct dev_owner {
	char name[128];	  /* PCI address, mdev UUID, emuN, or "unknown (why)" */
	const char *from; /* "cdev", "fdinfo", "open" (seen by the probes), "kernel", "emu",
			   * "qemu" (QEMU's probes) or "" */
	char comm[16];	  /* "" when neither /proc nor the probes know it */
	char domain[128]; /* QEMU's -name guest, "" if none */
	uint32_t pid, fd; /* pid 0: an emulated device, fd its id */
	bool alive;	  /* the process still exists */
};

/* The value of "vfio-device-syspath:" in fdinfo text, its last component into out; -1: none. */
int devname_fdinfo_syspath(const char *fdinfo, char *out, size_t len);
/* QEMU's guest name from a NUL-separated command line (/proc/PID/cmdline); -1: none or not
 * QEMU. */
int devname_qemu_guest(const char *cmdline, size_t cmdlen, char *out, size_t len);

/* Names dev; seen is what the probes recorded when it was opened, or NULL. */
void devname_resolve(const struct devname_roots *r, uint64_t dev, const struct vfmig_dev_name *seen,
		     struct dev_owner *out);

#endif
