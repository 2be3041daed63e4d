// SPDX-License-Identifier: GPL-2.0
/*
 * qemu_bed's bad input: one line on stderr naming what is wrong, exit 2 for
 * usage, 1 when QEMU cannot start (its own reason in the line).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "common/vfmig_test.h"

/* Run qemu_bed with args; its exit status, and its stderr in err. */
static int run_bed(const char *args, char *err, size_t len)
{
	const char *build = getenv("BUILD") ? getenv("BUILD") : "build";
	char cmd[512];
	size_t n;
	FILE *p;
	int st;

	snprintf(cmd, sizeof(cmd), "%s/tests/qemu/qemu_bed %s 2>&1 >/dev/null", build, args);
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(err, 1, len - 1, p);
	err[n] = '\0';
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void assert_one_line(const char *err, const char *what)
{
	assert_non_null(strstr(err, what));
	assert_int_equal(strncmp(err, "qemu_bed: ", 10), 0);
	assert_ptr_equal(strchr(err, '\n'), err + strlen(err) - 1);
}

static void test_qemu_bed_usage(void **state)
{
	char err[1024];

	(void)state;
	assert_int_equal(run_bed("", err, sizeof(err)), 2);
	assert_one_line(err, "--kernel and --initrd are required");
	assert_int_equal(run_bed("--kernel k --initrd i --ram 64", err, sizeof(err)), 2);
	assert_one_line(err, "--ram 64: not a whole number in 128..65536");
	assert_int_equal(run_bed("--kernel k --initrd i --rate 1x", err, sizeof(err)), 2);
	assert_one_line(err, "--rate 1x: not a whole number");
	assert_int_equal(run_bed("--kernel k --initrd i --windows 2,61", err, sizeof(err)), 2);
	assert_one_line(err, "--windows 2,61: up to 8 whole seconds in 1..60");
	assert_int_equal(run_bed("--kernel k --initrd i --shape zigzag", err, sizeof(err)), 2);
	assert_one_line(err, "--shape zigzag: not seq, uniform or hot");
	assert_int_equal(run_bed("--kernel k --initrd i --wss 256", err, sizeof(err)), 2);
	assert_one_line(err, "--wss 256: must be less than --ram 256");
	assert_int_equal(run_bed("--kernel k --initrd i --bogus", err, sizeof(err)), 2);
	assert_one_line(err, "--bogus: unknown option");
	assert_int_equal(run_bed("--kernel k --initrd i extra", err, sizeof(err)), 2);
	assert_one_line(err, "extra: unexpected argument");
}

/* QEMU itself refuses a kernel that is not there: its reason, exit 1, nothing left running. */
static void test_qemu_bed_qemu_fails(void **state)
{
	char err[1024];

	(void)state;
	if (system("command -v qemu-system-x86_64 >/dev/null 2>&1"))
		VFMIG_SKIP("qemu-system-x86_64 missing (package qemu-system-x86)");
	assert_int_equal(run_bed("--kernel /nonexistent/vmlinuz --initrd /nonexistent/initrd", err,
				 sizeof(err)),
			 1);
	assert_one_line(err, "qemu-system-x86_64 (src) ended at start: qemu: could not open kernel "
			     "file '/nonexistent/vmlinuz'");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_qemu_bed_usage),
		cmocka_unit_test(test_qemu_bed_qemu_fails),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
