// SPDX-License-Identifier: GPL-2.0
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/emu_name.h"
#include "probe/devname.h"

#define CDEV_DIR "/dev/vfio/devices/"
#define ANON_DEVICE "anon_inode:[vfio-device]" /* a device fd a group handed out */
#define ANON_KVM_VM "anon_inode:kvm-vm"	       /* a VM fd: KVM's dirty log is read on it */
#define SYSPATH_KEY "vfio-device-syspath:"

const struct devname_roots devname_host = {"/proc", "/sys"};

static const char *last_component(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

int devname_fdinfo_syspath(const char *fdinfo, char *out, size_t len)
{
	const char *line = fdinfo;
	char path[PATH_MAX];
	size_t n;

	while (line && strncmp(line, SYSPATH_KEY, strlen(SYSPATH_KEY))) {
		line = strchr(line, '\n');
		line = line ? line + 1 : NULL;
	}
	if (!line)
		return -1;
	line += strlen(SYSPATH_KEY);
	line += strspn(line, " \t");
	n = strcspn(line, " \t\n");
	snprintf(path, sizeof(path), "%.*s", (int)n, line);
	while (n && path[n - 1] == '/')
		path[--n] = 0;
	if (!*last_component(path))
		return -1;
	snprintf(out, len, "%s", last_component(path));
	return 0;
}

/*
 * QEMU's "-name" value: "guest=NAME,debug-threads=on" (libvirt) or "NAME,..."
 * (the implied first key is guest); ",," stands for a comma in a value.
 */
static int guest_of(const char *v, char *out, size_t len)
{
	char tok[256];
	bool first = true;
	int found = -1;
	size_t n;

	while (*v) {
		for (n = 0; *v && (*v != ',' || v[1] == ',');) {
			if (*v == ',')
				v++; /* ",," is one comma */
			if (n < sizeof(tok) - 1)
				tok[n++] = *v;
			v++;
		}
		tok[n] = 0;
		if (*v)
			v++;
		if (!strncmp(tok, "guest=", 6) || (first && !strchr(tok, '='))) {
			snprintf(out, len, "%s", strchr(tok, '=') ? tok + 6 : tok);
			found = 0;
		}
		first = false;
	}
	return found;
}

int devname_qemu_guest(const char *cmdline, size_t cmdlen, char *out, size_t len)
{
	const char *arg = cmdline, *end = cmdline + cmdlen, *next;
	int found = -1;

	if (!cmdlen || strncmp(last_component(cmdline), "qemu", 4))
		return -1; /* only QEMU's -name names a guest */
	for (; arg < end; arg = next) {
		next = arg + strnlen(arg, end - arg) + 1;
		if ((!strcmp(arg, "-name") || !strcmp(arg, "--name")) && next < end &&
		    !guest_of(next, out, len))
			found = 0; /* the last -name wins, as in QEMU */
	}
	return found;
}

int devname_emu_vm(const char *cmdline, size_t cmdlen, uint32_t pid, char *out, size_t len)
{
	const char *arg = cmdline, *end = cmdline + cmdlen, *next;

	if (!cmdlen || strncmp(last_component(cmdline), "vfmig-emu", 9))
		return -1;
	snprintf(out, len, "vm-%u", pid);
	for (; arg < end; arg = next) {
		next = arg + strnlen(arg, end - arg) + 1;
		if (!strcmp(arg, "--"))
			break;
		if (!strcmp(arg, "--name") && next < end)
			snprintf(out, len, "%s", next);
		else if (!strncmp(arg, "--name=", 7))
			snprintf(out, len, "%s", arg + 7);
	}
	return 0;
}

const char *devname_emu_id(uint64_t dev, char *out, size_t len)
{
	uint32_t pid = vfmig_dev_emu_pid(dev), id = (uint32_t)dev;

	switch (vfmig_dev_emu_kind(dev)) {
	case VFMIG_OBJ_DEVICE:
		emu_dev_name_of(pid, id, out, len);
		break;
	case VFMIG_OBJ_TYPE1:
		snprintf(out, len, "%u:type1-container%u", pid, id);
		break;
	case VFMIG_OBJ_IOAS:
		snprintf(out, len, "%u:iommufd%u/ioas%u", pid, id >> 16, id & 0xffff);
		break;
	case VFMIG_OBJ_HWPT:
		snprintf(out, len, "%u:iommufd%u/hwpt%u", pid, id >> 16, id & 0xffff);
		break;
	default:
		snprintf(out, len, "%u:emu-object%u.%u", pid, vfmig_dev_emu_kind(dev), id);
	}
	return out;
}

/* Up to len - 1 bytes of a file, NUL-terminated; -1 if it cannot be read. */
static ssize_t read_text(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = 0;
	return n;
}

static void owner_of(const struct devname_roots *r, const struct vfmig_dev_name *seen,
		     struct dev_owner *o)
{
	char path[PATH_MAX], buf[8192];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%u/comm", r->proc, o->pid);
	if (read_text(path, o->comm, sizeof(o->comm)) > 0)
		o->comm[strcspn(o->comm, "\n")] = 0;
	else if (seen)
		snprintf(o->comm, sizeof(o->comm), "%.15s", seen->comm);
	snprintf(path, sizeof(path), "%s/%u/cmdline", r->proc, o->pid);
	n = read_text(path, buf, sizeof(buf));
	if (n > 0 && devname_qemu_guest(buf, n, o->domain, sizeof(o->domain)))
		devname_emu_vm(buf, n, o->pid, o->domain, sizeof(o->domain));
}

/* Emulated: its name is its key's; the VM's is the process's, or vm-PID as vfmig-emu's. */
static void emu_named(const struct devname_roots *r, uint64_t dev,
		      const struct vfmig_dev_name *seen, struct dev_owner *o)
{
	static const char *const kinds[VFMIG_OBJ_NR] = {"", "type1-container", "ioas", "hwpt"};
	uint32_t kind = vfmig_dev_emu_kind(dev);
	char path[PATH_MAX];

	o->pid = vfmig_dev_emu_pid(dev);
	o->fd = (uint32_t)dev;
	o->from = "emu";
	devname_emu_id(dev, o->name, sizeof(o->name));
	if (kind != VFMIG_OBJ_DEVICE)
		snprintf(o->variant, sizeof(o->variant), "%s",
			 kind < VFMIG_OBJ_NR ? kinds[kind] : "?");
	else if (seen)
		snprintf(o->variant, sizeof(o->variant), "%.*s", VFMIG_DEV_NAME_LEN, seen->name);
	else
		snprintf(o->variant, sizeof(o->variant), "unknown (created before attach)");
	snprintf(path, sizeof(path), "%s/%u", r->proc, o->pid);
	o->alive = !access(path, F_OK);
	owner_of(r, seen, o);
	if (!o->domain[0])
		snprintf(o->domain, sizeof(o->domain), "vm-%u", o->pid);
}

/* /dev/vfio/devices/vfioX: sysfs links vfioX to its device (PCI function or mdev). */
static void name_of_cdev(const struct devname_roots *r, const char *vfio, struct dev_owner *o)
{
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/class/vfio-dev/%s/device", r->sys, vfio);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0) {
		snprintf(o->name, sizeof(o->name), "unknown (no %.60s in sysfs)", vfio);
		return;
	}
	link[n] = 0;
	o->from = "cdev";
	snprintf(o->name, sizeof(o->name), "%s", last_component(link));
}

/* What the fd number is now decides which facts about it still hold. */
static void name_of(const struct devname_roots *r, const struct vfmig_dev_name *seen,
		    struct dev_owner *o)
{
	char path[PATH_MAX + 64], link[PATH_MAX], buf[4096];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%u/fd/%u", r->proc, o->pid, o->fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0 && seen) {
		o->from = "open";
		snprintf(o->name, sizeof(o->name), "%.*s", VFMIG_DEV_NAME_LEN, seen->name);
		return;
	}
	if (n < 0) {
		snprintf(o->name, sizeof(o->name), "unknown (%s)",
			 o->alive ? "fd closed" : "process gone");
		return;
	}
	link[n] = 0;
	if (!strncmp(link, CDEV_DIR, strlen(CDEV_DIR))) {
		name_of_cdev(r, link + strlen(CDEV_DIR), o);
		return;
	}
	if (!strcmp(link, ANON_KVM_VM)) {
		o->from = "fd";
		snprintf(o->name, sizeof(o->name), "kvm-vm");
		return;
	}
	if (strcmp(link, ANON_DEVICE)) { /* something else now has this number */
		snprintf(o->name, sizeof(o->name), "unknown (not a VFIO device: %.80s)", link);
		return;
	}
	snprintf(path, sizeof(path), "%s/%u/fdinfo/%u", r->proc, o->pid, o->fd);
	if (read_text(path, buf, sizeof(buf)) > 0 &&
	    !devname_fdinfo_syspath(buf, o->name, sizeof(o->name))) {
		o->from = "fdinfo";
	} else if (seen) {
		o->from = "open";
		snprintf(o->name, sizeof(o->name), "%.*s", VFMIG_DEV_NAME_LEN, seen->name);
	} else {
		snprintf(o->name, sizeof(o->name), DEVNAME_UNKNOWN);
	}
}

/* A device only the probes name (kernel, QEMU): the name they read, else unknown and why. */
static void probe_named(struct dev_owner *o, const struct vfmig_dev_name *seen, const char *from,
			const char *unknown)
{
	o->from = seen ? from : "";
	snprintf(o->name, sizeof(o->name), "%.*s", seen ? VFMIG_DEV_NAME_LEN : (int)sizeof(o->name),
		 seen ? seen->name : unknown);
}

/*
 * What a real device is, from sysfs: an mdev's type ("mtty-1"), or a PCI
 * function's vendor:device ("pci 1234:11e8"); "" when sysfs has neither.
 */
static void kind_of(const struct devname_roots *r, struct dev_owner *o)
{
	char path[PATH_MAX], link[PATH_MAX], vendor[16] = "", device[16] = "";
	ssize_t n;

	if (strchr(o->name, '/') || o->name[0] == '.')
		return; /* a name a process chose (QEMU's) must not lead elsewhere in sysfs */
	snprintf(path, sizeof(path), "%s/bus/mdev/devices/%.128s/mdev_type", r->sys, o->name);
	n = readlink(path, link, sizeof(link) - 1);
	if (n > 0) {
		link[n] = 0;
		snprintf(o->variant, sizeof(o->variant), "%s", last_component(link));
		return;
	}
	snprintf(path, sizeof(path), "%s/bus/pci/devices/%.128s/vendor", r->sys, o->name);
	if (read_text(path, vendor, sizeof(vendor)) <= 0)
		return;
	snprintf(path, sizeof(path), "%s/bus/pci/devices/%.128s/device", r->sys, o->name);
	if (read_text(path, device, sizeof(device)) <= 0)
		return;
	vendor[strcspn(vendor, "\n")] = device[strcspn(device, "\n")] = 0;
	snprintf(o->variant, sizeof(o->variant), "pci %s:%s",
		 strncmp(vendor, "0x", 2) ? vendor : vendor + 2,
		 strncmp(device, "0x", 2) ? device : device + 2);
}

void devname_resolve(const struct devname_roots *r, uint64_t dev, const struct vfmig_dev_name *seen,
		     struct dev_owner *out)
{
	char path[PATH_MAX];

	memset(out, 0, sizeof(*out));
	out->from = "";
	if (vfmig_dev_is_kernel(dev)) { /* no pid, no fd: named by the probes, or unknown */
		probe_named(out, seen, "kernel", "unknown (kernel device: no name read)");
		if (seen) {
			snprintf(out->comm, sizeof(out->comm), "%.*s", (int)sizeof(seen->comm),
				 seen->comm);
			kind_of(r, out);
		}
		return;
	}
	if (vfmig_dev_is_emu(dev)) {
		emu_named(r, dev, seen, out);
		return;
	}
	out->pid = vfmig_dev_is_qemu(dev) ? vfmig_dev_qemu_pid(dev) : dev >> 32;
	out->fd = vfmig_dev_is_qemu(dev) ? 0 : (uint32_t)dev;
	snprintf(path, sizeof(path), "%s/%u", r->proc, out->pid);
	out->alive = !access(path, F_OK);
	owner_of(r, seen, out);
	if (!vfmig_dev_is_qemu(dev))
		name_of(r, seen, out);
	else /* in a QEMU process, no fd: the name QEMU's probes read */
		probe_named(out, seen, "qemu", "unknown (QEMU device: no name read)");
	if (*out->from)
		kind_of(r, out);
}
