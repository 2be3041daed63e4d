// SPDX-License-Identifier: GPL-2.0
/*
 * The names vfmig-emu prints are the names stat shows: a migration under
 * vfmigprof stat --json, its devices as vfmig-emu listed them ("PID:emuN"),
 * found in stat's devices and VMs with the variant and --name vfmig-emu was
 * given. And the pure parts of naming: ids of every kind of emulated object,
 * the VM name from a command line.
 */
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/vfmig_test.h"
#include "device/device.h"
#include "probe/devname.h"
#include "vfmig/version.h"

static char bin_dir[PATH_MAX];

static int setup(void **state)
{
	char *self = realpath("/proc/self/exe", NULL);

	(void)state;
	if (!self)
		return -1;
	/* build/tests/probe/test_identity_cli -> build */
	snprintf(bin_dir, sizeof(bin_dir), "%s/../..", dirname(self));
	free(self);
	return 0;
}

static void test_emu_ids(void **state)
{
	char buf[64], dev[64];

	(void)state;
	devname_emu_id(vfmig_dev_emu(42, vfmig_obj(VFMIG_OBJ_DEVICE, 3)), buf, sizeof(buf));
	assert_string_equal(buf, emu_dev_name_of(42, 3, dev, sizeof(dev)));
	assert_string_equal(buf, "42:emu3");
	devname_emu_id(vfmig_dev_emu(42, vfmig_obj(VFMIG_OBJ_TYPE1, 2)), buf, sizeof(buf));
	assert_string_equal(buf, "42:type1-container2");
	devname_emu_id(vfmig_dev_emu(42, vfmig_obj(VFMIG_OBJ_IOAS, 5 << 16 | 1)), buf, sizeof(buf));
	assert_string_equal(buf, "42:iommufd5/ioas1");
	devname_emu_id(vfmig_dev_emu(42, vfmig_obj(VFMIG_OBJ_HWPT, 5 << 16 | 2)), buf, sizeof(buf));
	assert_string_equal(buf, "42:iommufd5/hwpt2");
	/* the key keeps pid, kind and id apart from every other kind of device key */
	assert_true(vfmig_dev_is_emu(vfmig_dev_emu(4194303, vfmig_obj(VFMIG_OBJ_HWPT, ~0u))));
	assert_int_equal(vfmig_dev_emu_pid(vfmig_dev_emu(4194303, 7)), 4194303);
	assert_false(vfmig_dev_is_emu(vfmig_dev_qemu(12, 34)));
	assert_false(vfmig_dev_is_emu(vfmig_dev_kernel(0xffff888012345600ull)));
	assert_false(vfmig_dev_is_emu(7ull << 32 | 9)); /* a process's fd */
}

static void test_vm_name_from_cmdline(void **state)
{
	static const char named[] = "/usr/bin/vfmig-emu\0migrate\0--name\0db-1\0--mem\0"
				    "16m";
	static const char eq[] = "vfmig-emu\0run\0--name=web\0";
	static const char plain[] = "vfmig-emu\0migrate\0";
	static const char other[] = "bash\0--name\0x\0";
	char out[64];

	(void)state;
	assert_int_equal(devname_emu_vm(named, sizeof(named), 7, out, sizeof(out)), 0);
	assert_string_equal(out, "db-1");
	assert_int_equal(devname_emu_vm(eq, sizeof(eq), 7, out, sizeof(out)), 0);
	assert_string_equal(out, "web");
	assert_int_equal(devname_emu_vm(plain, sizeof(plain), 7, out, sizeof(out)), 0);
	assert_string_equal(out, "vm-7");
	assert_int_equal(devname_emu_vm(other, sizeof(other), 7, out, sizeof(out)), -1);
	emu_set_vm_name(NULL);
	emu_vm_name(out, sizeof(out));
	snprintf(out + 32, 32, "vm-%d", (int)getpid());
	assert_string_equal(out, out + 32);
	assert_int_equal(emu_set_vm_name(""), -22);
	emu_set_vm_name(NULL);
}

/* The object of stat's JSON starting at key holds want before its end ("}}"). */
static void object_has(const char *json, const char *key, const char *want)
{
	const char *obj = strstr(json, key), *end;
	const char *at;

	if (!obj)
		fail_msg("no %s in stat's output", key);
	end = strstr(obj, "}}");
	at = strstr(obj, want);
	if (!at || (end && at > end))
		fail_msg("%s: no %s", key, want);
}

static void test_migrate_names_as_stat(void **state)
{
	char cmd[3 * PATH_MAX], *text = malloc(1 << 20), *devs, key[96];
	unsigned int pid, id[2];
	char variant[2][16];
	size_t n;
	FILE *p;
	int i;

	(void)state;
	if (geteuid())
		VFMIG_SKIP("needs root (CAP_BPF, CAP_PERFMON) to load BPF programs");
	assert_non_null(text);
	snprintf(cmd, sizeof(cmd),
		 "%s/vfmigprof stat --json -- %s/vfmig-emu migrate --mem 16m --wss 4m --name "
		 "cli-vm 2>/dev/null",
		 bin_dir, bin_dir);
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(text, 1, (1 << 20) - 1, p);
	text[n] = 0;
	assert_int_equal(pclose(p), 0);
	devs = strstr(text, "devices: [0] ");
	assert_non_null(devs);
	assert_int_equal(sscanf(devs,
				"devices: [0] %u:emu%u %15s (dirty via %*[^)]) [1] %*u:emu%u %15s",
				&pid, &id[0], variant[0], &id[1], variant[1]),
			 5);
	assert_non_null(strstr(text, "\"version\":\"" VFMIG_VERSION "\""));
	for (i = 0; i < 2; i++) {
		snprintf(key, sizeof(key), "\"id\":\"%u:emu%u\"", pid, id[i]);
		object_has(text, key, "\"vm\":\"cli-vm\"");
		snprintf(cmd, sizeof(cmd), "\"variant\":\"%s\"", variant[i]);
		object_has(text, key, cmd);
		object_has(text, key, "\"fsm_steps\":");
	}
	snprintf(key, sizeof(key), "{\"pid\":%u,\"name\":\"cli-vm\",\"devices\":[\"%u:emu%u\"", pid,
		 pid, id[0]);
	assert_non_null(strstr(text, key));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_emu_ids),
		cmocka_unit_test(test_vm_name_from_cmdline),
		cmocka_unit_test(test_migrate_names_as_stat),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
