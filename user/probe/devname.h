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
 * name, as the probes read it ("qemu"). An emulated device or IOMMU object
 * (VFMIG_DEV_EMU) is named as vfmig-emu names it: "PID:emuN",
 * "PID:type1-containerN", "PID:iommufdC/ioasN", "PID:iommufdC/hwptN" ("emu"),
 * a device with its variant as its device_new probe read it. The owner is the process's
 * comm, and the VM: for QEMU the guest (libvirt domain) named by -name on its command line,
 * for vfmig-emu its --name (else vm-PID, its default).
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
	char name[128];	  /* PCI address, mdev UUID, PID:emuN, or "unknown (why)" */
	char variant[48]; /* an emulated device's ("nic", "bigmem"), a real one's mdev type
			   * ("mtty-1") or PCI ids ("pci 1234:11e8"), or "" */
	const char *from; /* "cdev", "fdinfo", "open" (seen by the probes), "kernel", "emu",
			   * "qemu" (QEMU's probes) or "" */
	char comm[16];	  /* "" when neither /proc nor the probes know it */
	char domain[128]; /* the VM: QEMU's -name guest, vfmig-emu's --name; "" if none */
	uint32_t pid, fd; /* an emulated device or object: fd is its id */
	bool alive;	  /* the process still exists */
};

/* The value of "vfio-device-syspath:" in fdinfo text, its last component into out; -1: none. */
int devname_fdinfo_syspath(const char *fdinfo, char *out, size_t len);
/* QEMU's guest name from a NUL-separated command line (/proc/PID/cmdline); -1: none or not
 * QEMU. */
int devname_qemu_guest(const char *cmdline, size_t cmdlen, char *out, size_t len);

/* vfmig-emu's VM name from its command line: --name, else vm-PID; -1: not vfmig-emu. */
int devname_emu_vm(const char *cmdline, size_t cmdlen, uint32_t pid, char *out, size_t len);
/* An emulated device's or IOMMU object's name, "PID:emuN" and so on (see above). */
const char *devname_emu_id(uint64_t dev, char *out, size_t len);

/* Names dev; seen is what the probes recorded when it was opened, or NULL. */
void devname_resolve(const struct devname_roots *r, uint64_t dev, const struct vfmig_dev_name *seen,
		     struct dev_owner *out);

#endif
