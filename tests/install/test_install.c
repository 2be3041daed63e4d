// SPDX-License-Identifier: GPL-2.0
/*
 * make install DESTDIR=... PREFIX=/usr puts both tools in DESTDIR/usr/bin, where they run
 * (vfmigprof finds the vfmig-emu beside it); make uninstall takes them away again.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/run_util.h"
#include "common/vfmig_test.h"

static char tree[PATH_MAX], build[PATH_MAX];

/* build/tests/install/test_install: the tree is three levels up from its folder. */
static int setup(void **state)
{
	char emu[PATH_MAX], *slash;

	(void)state;
	if (!tool_path("vfmig-emu", emu, sizeof(emu)) || !realpath(emu, build))
		return -1;
	*strrchr(build, '/') = 0;
	snprintf(tree, sizeof(tree), "%s", build);
	slash = strrchr(tree, '/');
	if (!slash)
		return -1;
	*slash = 0;
	return access("/usr/bin/make", X_OK) ? -1 : 0;
}

static int make(const char *target, const char *destdir)
{
	char dest[PATH_MAX + 16], bld[PATH_MAX + 16], *out;
	char *argv[] = {"/usr/bin/make", "-s", "-C", tree, (char *)target, dest, bld,
			"PREFIX=/usr",	 NULL};
	int ret;

	snprintf(dest, sizeof(dest), "DESTDIR=%s", destdir);
	snprintf(bld, sizeof(bld), "BUILD=%s", build);
	ret = run_capture(argv, &out);
	free(out);
	return ret;
}

static void test_install_uninstall(void **state)
{
	char dir[] = "/tmp/vfmig-install-XXXXXX", bin[PATH_MAX], *out;
	char *fsm[] = {bin, "fsm", "RUNNING", "STOP", "--json", NULL};

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(make("install", dir), 0);
	snprintf(bin, sizeof(bin), "%s/usr/bin/vfmigprof", dir);
	assert_int_equal(access(bin, X_OK), 0);
	snprintf(bin, sizeof(bin), "%s/usr/bin/vfmig-emu", dir);
	assert_int_equal(run_capture(fsm, &out), 0);
	assert_non_null(strstr(out, "\"state\":\"STOP\""));
	free(out);
	assert_int_equal(make("uninstall", dir), 0);
	assert_int_not_equal(access(bin, F_OK), 0);
	snprintf(bin, sizeof(bin), "rm -rf %s", dir);
	assert_int_equal(system(bin), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_install_uninstall),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
