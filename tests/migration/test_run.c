// SPDX-License-Identifier: GPL-2.0
/*
 * Measuring a running VM (vm_measure, `vfmig-emu run`): each window's
 * harvested vCPU pages (the kernel's PAGEMAP_SCAN) equal the pages the
 * writers logged as written in it (their ground truth), window by window
 * and in total; the windows cover the run at the period asked; the CLI's
 * --json says the same, with "version"; a bad --harvest-ms is refused.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include <json-c/json.h>

#include "common/need_tracking.h"
#include "common/run_util.h"
#include "migration/measure.h"
#include "vfmig/version.h"

static char tool[PATH_MAX];

static void test_windows_equal_truth(void **state)
{
	struct vm_cfg c = {.mem_size = 16 << 20,
			   .wl = {.threads = 2, .rate = 40000, .ws_pages = 4096, .seed = 3}};
	struct vm_measure m;
	uint64_t vcpu = 0, truth = 0;
	char err[256];
	struct vm *vm;

	(void)state;
	NEED_TRACKING();
	vm = vm_create(&c, err, sizeof(err));
	if (!vm || vm_start(vm))
		fail_msg("vm: %s", vm ? vm->err : err);
	assert_int_equal(vm_measure(vm, 50000000, 500000000, &m), 0);
	assert_int_equal(m.nwindows, 10);
	for (unsigned int i = 0; i < m.nwindows; i++) {
		assert_int_equal(m.windows[i].dirty_by_src[0], m.windows[i].truth_vcpu);
		assert_true(m.windows[i].truth_vcpu > 0);
		assert_true(m.windows[i].ns >= 50000000);
		vcpu += m.windows[i].dirty_by_src[0];
		truth += m.windows[i].truth_vcpu;
	}
	assert_int_equal(vcpu, m.total_by_src[0]);
	assert_int_equal(truth, m.total_truth_vcpu);
	assert_int_equal(vcpu, truth);
	assert_false(guest_mem_tracking(vm->mem)); /* tracking ends with the run */
	vm_measure_free(&m);
	vm_destroy(vm);
}

/* Runs tool with args (words split on blanks); its stdout in out, exit status returned. */
static int run_tool(const char *args, char *out, size_t len)
{
	char words[512], *argv[32] = {tool}, *save = NULL, *got;
	int n = 1, ret;

	snprintf(words, sizeof(words), "%s", args);
	for (char *w = strtok_r(words, " ", &save); w && n < 31; w = strtok_r(NULL, " ", &save))
		argv[n++] = w;
	argv[n] = NULL;
	ret = run_capture(argv, &got);
	snprintf(out, len, "%s", got ? got : "");
	free(got);
	return ret;
}

static uint64_t u64_at(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		fail_msg("no \"%s\" in %s", key, json_object_to_json_string(o));
	return json_object_get_uint64(v);
}

static uint64_t vcpu_of(struct json_object *o)
{
	struct json_object *d;

	assert_true(json_object_object_get_ex(o, "dirty_pages", &d));
	return u64_at(d, "vcpu");
}

static void test_run_json(void **state)
{
	static char out[1 << 16];
	struct json_object *j, *wins, *tot;
	uint64_t sum = 0;
	size_t i, n;

	(void)state;
	NEED_TRACKING();
	assert_int_equal(run_tool("run --time 1 --harvest-ms 200 --mem 32m --wss 16m --json "
				  "--device nic:dirty=dma-log,rate=5000",
				  out, sizeof(out)),
			 0);
	j = json_tokener_parse(out);
	if (!j)
		fail_msg("not JSON: %s", out);
	assert_true(json_object_object_get_ex(j, "version", &wins));
	assert_string_equal(json_object_get_string(wins), VFMIG_VERSION);
	assert_true(json_object_object_get_ex(j, "windows", &wins));
	assert_true(json_object_object_get_ex(j, "totals", &tot));
	n = json_object_array_length(wins);
	assert_int_equal(n, 5);
	for (i = 0; i < n; i++) {
		struct json_object *w = json_object_array_get_idx(wins, i);
		struct json_object *d;

		assert_int_equal(vcpu_of(w), u64_at(w, "truth_vcpu_pages"));
		assert_true(json_object_object_get_ex(w, "dirty_pages", &d));
		assert_true(u64_at(d, "dev0") > 0); /* the nic's DMA log, by source */
		sum += vcpu_of(w);
	}
	assert_int_equal(u64_at(tot, "windows"), n);
	assert_int_equal(vcpu_of(tot), sum);
	assert_int_equal(u64_at(tot, "truth_vcpu_pages"), sum);
	json_object_put(j);
}

static void test_bad_harvest_ms(void **state)
{
	char out[256];

	(void)state;
	assert_int_equal(run_tool("run --harvest-ms x", out, sizeof(out)), 2);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_windows_equal_truth),
		cmocka_unit_test(test_run_json),
		cmocka_unit_test(test_bad_harvest_ms),
	};
	(void)argc;
	(void)argv;
	if (!tool_path("vfmig-emu", tool, sizeof(tool)))
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
