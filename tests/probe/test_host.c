// SPDX-License-Identifier: GPL-2.0
/*
 * The host checks made before any probe loads: the kernel version gate fed
 * release strings of every kind, and the running kernel checked the way
 * probes_open checks it.
 */
#include <errno.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "common/vfmig_test.h"

#include "probe/host.h"

static char err[256];

static int check(const char *release, bool btf)
{
	err[0] = 0;
	return host_kernel_check(release, btf, err, sizeof(err));
}

static void test_older_kernels_refused(void **state)
{
	(void)state;
	assert_int_equal(check("4.19", true), -EOPNOTSUPP);
	assert_string_equal(err, "kernel 4.19 is older than 5.15, the oldest vfmig supports "
				 "(a long-term kernel with the module BTF and "
				 "bpf_for_each_map_elem the probes use)");
	assert_int_equal(check("5.14.21", true), -EOPNOTSUPP);
	assert_non_null(strstr(err, "kernel 5.14.21 is older than 5.15"));
	assert_int_equal(check("5.10.0-23-amd64", true), -EOPNOTSUPP);
	assert_non_null(strstr(err, "kernel 5.10.0-23-amd64 is older than 5.15"));
	/* too old and without BTF: the version is what to fix first */
	assert_int_equal(check("4.19.0", false), -EOPNOTSUPP);
	assert_non_null(strstr(err, "older than 5.15"));
}

/* 5.15 and 5.16 lack bpf_loop and bpf_get_func_arg: the loader works around that, not the gate. */
static void test_supported_kernels_pass(void **state)
{
	(void)state;
	assert_int_equal(check("5.15.0-91-generic", true), 0);
	assert_int_equal(check("5.15", true), 0);
	assert_int_equal(check("5.16.20", true), 0);
	assert_int_equal(check("5.17.0", true), 0);
	assert_int_equal(check("6.12.0-rc1", true), 0);
	assert_int_equal(check("6.1.0-37-cloud-amd64", true), 0);
	assert_int_equal(check("10.0.0", true), 0); /* minor 0 of a later major */
	assert_string_equal(err, "");
}

static void test_missing_btf_refused(void **state)
{
	(void)state;
	assert_int_equal(check("6.12.0-rc1", false), -EOPNOTSUPP);
	assert_string_equal(err, "kernel 6.12.0-rc1 has no BTF (/sys/kernel/btf/vmlinux missing): "
				 "build it with CONFIG_DEBUG_INFO_BTF");
}

static void test_garbage_refused(void **state)
{
	static const char *const bad[] = {"garbage", "", "6", "6.", "v6.12", ".12", "6.x", " 6.1"};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(check(bad[i], true), -EINVAL);
		assert_non_null(strstr(err, "is not of the form MAJOR.MINOR"));
		assert_null(strchr(err, '\n'));
	}
	assert_int_equal(check("garbage", true), -EINVAL);
	assert_string_equal(err, "kernel release 'garbage' is not of the form MAJOR.MINOR: cannot "
				 "check it against 5.15, the oldest vfmig supports");
	assert_int_equal(check(NULL, true), -EINVAL);
}

/* This machine: the running check gives what the pure one gives on uname and the BTF file. */
static void test_running_kernel(void **state)
{
	struct utsname u;
	bool btf = !access(HOST_BTF_PATH, R_OK);
	int want;

	(void)state;
	assert_int_equal(uname(&u), 0);
	want = check(u.release, btf);
	assert_int_equal(host_kernel_check_running(err, sizeof(err)), want);
	if (want)
		VFMIG_SKIP("this kernel is not one vfmig supports: %s", err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_older_kernels_refused),
		cmocka_unit_test(test_supported_kernels_pass),
		cmocka_unit_test(test_missing_btf_refused),
		cmocka_unit_test(test_garbage_refused),
		cmocka_unit_test(test_running_kernel),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
