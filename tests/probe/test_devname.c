// SPDX-License-Identifier: GPL-2.0
/*
 * Device names and owners: the parsers fed strings, and resolution over a
 * fake /proc and /sys tree built here the way the kernel lays them out
 * (fd links to /dev/vfio/devices/vfioX or anon_inode:[vfio-device], the
 * vfio-dev class links, fdinfo with and without vfio-device-syspath, QEMU
 * command lines), so that it runs on a host without VFIO.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/vfmig_test.h"

#include "probe/devname.h"

static char root[64], proc[128], sys[128];
static struct devname_roots roots;

static void put(const char *rel, const char *text, size_t len)
{
	char path[PATH_MAX], *slash;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (slash = strchr(path + strlen(root) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = 0;
		mkdir(path, 0755);
		*slash = '/';
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
}

static void link_to(const char *rel, const char *target)
{
	char path[PATH_MAX];

	put(rel, "", 0); /* makes the directories */
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	unlink(path);
	assert_int_equal(symlink(target, path), 0);
}

#define PUT(rel, lit) put(rel, lit, sizeof(lit) - 1)

static const char qemu_cmdline[] = "/usr/bin/qemu-system-x86_64\0-machine\0q35\0-name\0"
				   "guest=web,,01,debug-threads=on\0-device\0vfio-pci\0";

static int setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/vfmig-devname-XXXXXX");
	if (!mkdtemp(root))
		return -1;
	snprintf(proc, sizeof(proc), "%s/proc", root);
	snprintf(sys, sizeof(sys), "%s/sys", root);
	roots.proc = proc;
	roots.sys = sys;
	/* pid 100: QEMU under libvirt, a cdev fd, group fds with and without syspath */
	PUT("proc/100/comm", "qemu-system-x86\n");
	put("proc/100/cmdline", qemu_cmdline, sizeof(qemu_cmdline));
	link_to("proc/100/fd/20", "/dev/vfio/devices/vfio3");
	link_to("sys/class/vfio-dev/vfio3/device", "../../../0000:65:00.1");
	link_to("proc/100/fd/21", "/dev/vfio/devices/vfio4");
	link_to("sys/class/vfio-dev/vfio4/device",
		"../../../0000:00:02.0/83b8f4f2-509f-382f-3c1e-e6bfe0fa1001");
	/* what each is: a PCI function's ids, an mdev's type */
	PUT("sys/bus/pci/devices/0000:65:00.1/vendor", "0x15b3\n");
	PUT("sys/bus/pci/devices/0000:65:00.1/device", "0x101e\n");
	link_to("sys/bus/mdev/devices/83b8f4f2-509f-382f-3c1e-e6bfe0fa1001/mdev_type",
		"../../../devices/virtual/mtty/mtty/mdev_supported_types/mtty-2");
	link_to("proc/100/fd/22", "anon_inode:[vfio-device]");
	PUT("proc/100/fdinfo/22", "pos:\t0\nflags:\t02000002\nmnt_id:\t16\nino:\t1057\n"
				  "vfio-device-syspath: /sys/devices/pci0000:e0/0000:e0:01.1/"
				  "0000:e1:00.0/0000:e8:00.0\n");
	link_to("proc/100/fd/23", "anon_inode:[vfio-device]");
	PUT("proc/100/fdinfo/23", "pos:\t0\nflags:\t02000002\nmnt_id:\t16\nino:\t1057\n");
	link_to("proc/100/fd/24", "/dev/null");
	link_to("proc/100/fd/25", "/dev/vfio/devices/vfio9"); /* no such class device */
	link_to("proc/100/fd/26", "anon_inode:kvm-vm");
	/* pid 300: a plain program with a -name argument of its own */
	PUT("proc/300/comm", "bash\n");
	put("proc/300/cmdline", "bash\0-name\0web\0", 15);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	return system(cmd) ? -1 : 0;
}

static uint64_t dev(uint32_t pid, uint32_t fd)
{
	return (uint64_t)pid << 32 | fd;
}

static void test_fdinfo_syspath(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(devname_fdinfo_syspath("pos:\t0\nvfio-device-syspath: /sys/devices/"
						"pci0000:00/0000:00:05.0\nino:\t3\n",
						out, sizeof(out)),
			 0);
	assert_string_equal(out, "0000:00:05.0");
	assert_int_equal(devname_fdinfo_syspath("vfio-device-syspath:\t/sys/devices/platform/"
						"fff51000.ethernet/\n",
						out, sizeof(out)),
			 0);
	assert_string_equal(out, "fff51000.ethernet");
	assert_int_equal(devname_fdinfo_syspath("pos:\t0\nflags:\t02\n", out, sizeof(out)), -1);
	assert_int_equal(devname_fdinfo_syspath("vfio-device-syspath: \n", out, sizeof(out)), -1);
	/* the key only counts at the start of a line */
	assert_int_equal(devname_fdinfo_syspath("x vfio-device-syspath: /a/b\n", out, sizeof(out)),
			 -1);
}

static int guest(const char *cmdline, size_t len, char *out)
{
	out[0] = 0;
	return devname_qemu_guest(cmdline, len, out, 64);
}

#define GUEST(lit, out) guest(lit, sizeof(lit), out)

static void test_qemu_guest(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(guest(qemu_cmdline, sizeof(qemu_cmdline), out), 0);
	assert_string_equal(out, "web,01"); /* ",," is a comma in QEMU's option syntax */
	assert_int_equal(GUEST("qemu-system-x86_64\0-name\0vm2\0", out), 0);
	assert_string_equal(out, "vm2");
	assert_int_equal(GUEST("qemu-kvm\0--name\0vm3,process=qemu:vm3\0", out), 0);
	assert_string_equal(out, "vm3");
	assert_int_equal(GUEST("qemu-system-x86_64\0-name\0debug-threads=on,guest=vm4\0", out), 0);
	assert_string_equal(out, "vm4");
	/* the last -name wins, as in QEMU */
	assert_int_equal(GUEST("qemu-system-aarch64\0-name\0a\0-m\0512\0-name\0b\0", out), 0);
	assert_string_equal(out, "b");
	/* no -name, -name without a value, a value without a guest, and not QEMU at all */
	assert_int_equal(GUEST("qemu-system-x86_64\0-m\0512\0", out), -1);
	assert_int_equal(GUEST("qemu-system-x86_64\0-name\0", out), -1);
	assert_int_equal(GUEST("qemu-system-x86_64\0-name\0debug-threads=on\0", out), -1);
	assert_int_equal(GUEST("bash\0-name\0web\0", out), -1);
	assert_int_equal(guest("", 0, out), -1);
}

static void test_resolve_fake_proc(void **state)
{
	struct vfmig_dev_name seen = {"0000:3b:00.0", "qemu-system-x86"};
	struct dev_owner o;

	(void)state;
	devname_resolve(&roots, dev(100, 20), NULL, &o);
	assert_string_equal(o.name, "0000:65:00.1");
	assert_string_equal(o.from, "cdev");
	assert_string_equal(o.comm, "qemu-system-x86");
	assert_string_equal(o.domain, "web,01");
	assert_true(o.alive);
	assert_int_equal(o.pid, 100);
	assert_int_equal(o.fd, 20);
	assert_string_equal(o.variant, "pci 15b3:101e");
	devname_resolve(&roots, dev(100, 21), NULL, &o);
	assert_string_equal(o.name, "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001"); /* an mdev */
	assert_string_equal(o.variant, "mtty-2");
	devname_resolve(&roots, dev(100, 22), NULL, &o);
	assert_string_equal(o.name, "0000:e8:00.0");
	assert_string_equal(o.from, "fdinfo");
	assert_string_equal(o.variant, ""); /* not in this sysfs */
	/* a group's device fd on a kernel without the fdinfo line: what the probes saw, or
	 * unknown */
	devname_resolve(&roots, dev(100, 23), NULL, &o);
	assert_string_equal(o.name, DEVNAME_UNKNOWN);
	assert_string_equal(o.from, "");
	devname_resolve(&roots, dev(100, 23), &seen, &o);
	assert_string_equal(o.name, "0000:3b:00.0");
	assert_string_equal(o.from, "open");
	/* the fd number now holds something else: what was seen there is stale */
	devname_resolve(&roots, dev(100, 24), &seen, &o);
	assert_string_equal(o.name, "unknown (not a VFIO device: /dev/null)");
	devname_resolve(&roots, dev(100, 25), NULL, &o);
	assert_string_equal(o.name, "unknown (no vfio9 in sysfs)");
	devname_resolve(&roots, dev(100, 99), NULL, &o);
	assert_string_equal(o.name, "unknown (fd closed)");
	devname_resolve(&roots, dev(100, 26), NULL, &o);
	assert_string_equal(o.name, "kvm-vm");
	assert_string_equal(o.domain, "web,01");
}

static void test_resolve_gone_and_emulated(void **state)
{
	struct vfmig_dev_name seen = {"0000:3b:00.0", "qemu-system-x86"};
	struct dev_owner o;

	(void)state;
	/* the process is gone: the name and opener the probes recorded */
	devname_resolve(&roots, dev(200, 7), &seen, &o);
	assert_false(o.alive);
	assert_string_equal(o.name, "0000:3b:00.0");
	assert_string_equal(o.from, "open");
	assert_string_equal(o.comm, "qemu-system-x86");
	assert_string_equal(o.domain, "");
	devname_resolve(&roots, dev(200, 7), NULL, &o);
	assert_string_equal(o.name, "unknown (process gone)");
	assert_string_equal(o.comm, "");
	/* not QEMU: no guest, whatever its arguments */
	devname_resolve(&roots, dev(300, 3), NULL, &o);
	assert_string_equal(o.comm, "bash");
	assert_string_equal(o.domain, "");
	/* an emulated device: (pid, id), no fd; its VM vfmig-emu's default name for the pid */
	devname_resolve(&roots, vfmig_dev_emu(300, vfmig_obj(VFMIG_OBJ_DEVICE, 5)), NULL, &o);
	assert_string_equal(o.name, "300:emu5");
	assert_string_equal(o.from, "emu");
	assert_string_equal(o.domain, "vm-300");
	assert_string_equal(o.variant, "unknown (created before attach)");
	/* a kernel device: no pid, no fd (never a pid decoded from a pointer) */
	devname_resolve(&roots, vfmig_dev_kernel(0xffff888012345600ull), &seen, &o);
	assert_string_equal(o.name, "0000:3b:00.0");
	assert_string_equal(o.from, "kernel");
	assert_string_equal(o.comm, "qemu-system-x86");
	assert_int_equal(o.pid, 0);
	assert_int_equal(o.fd, 0);
	devname_resolve(&roots, vfmig_dev_kernel(0x12345600ull), NULL, &o);
	assert_string_equal(o.name, "unknown (kernel device: no name read)");
	assert_int_equal(o.pid, 0);
	assert_false(vfmig_dev_is_kernel(dev(100, 20)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fdinfo_syspath),
		cmocka_unit_test(test_qemu_guest),
		cmocka_unit_test(test_resolve_fake_proc),
		cmocka_unit_test(test_resolve_gone_and_emulated),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
