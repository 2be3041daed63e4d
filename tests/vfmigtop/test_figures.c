// SPDX-License-Identifier: GPL-2.0
/*
 * vfmigtop's figures model, pure: rates and "not tracked" kept apart from 0,
 * pinned pages from the totals, the sparkline, rows that go away kept a
 * while then dropped, sorting (VMs and their devices grouped), the filter.
 */
#include <regex.h>
#include <string.h>

#include "common/vfmig_test.h"

#include "vfmigtop/figures.h"

static struct top_table a, b;

static struct top_dev *dev(struct top_table *t, uint32_t pid, uint32_t id, const char *model,
			   double bitmap)
{
	struct top_dev *d = &t->dev[t->ndevs++];

	memset(d, 0, sizeof(*d));
	d->key = (uint64_t)pid << 32 | id;
	d->pid = pid;
	snprintf(d->name, sizeof(d->name), "%u:emu%u", pid, id);
	snprintf(d->model, sizeof(d->model), "%s", model);
	d->state = 2; /* RUNNING */
	d->dirty_pins = d->pinned = TOP_NOT_TRACKED;
	d->dirty_bitmap = bitmap;
	d->last_from = d->last_to = -1;
	return d;
}

static struct top_vm *vm(struct top_table *t, uint32_t pid, const char *name, double vcpu)
{
	struct top_vm *v = &t->vm[t->nvms++];

	memset(v, 0, sizeof(*v));
	v->pid = pid;
	snprintf(v->name, sizeof(v->name), "%s", name);
	v->dirty_vcpu = vcpu;
	return v;
}

static void test_rates_and_not_tracked(void **state)
{
	char buf[16];

	(void)state;
	assert_true(top_rate(500, 0.5) == 1000);
	assert_true(top_rate(7, 0) == 0);
	assert_true(top_tracked_rate(false, 0, 1) == TOP_NOT_TRACKED);
	assert_true(top_tracked_rate(true, 0, 1) == 0);
	assert_true(top_pinned(300, 44, true) == 256);
	assert_true(top_pinned(10, 20, true) == 0);
	assert_true(top_pinned(0, 0, false) == TOP_NOT_TRACKED);
	assert_string_equal(top_fmt(TOP_NOT_TRACKED, buf, sizeof(buf)), "-");
	assert_string_equal(top_fmt(0, buf, sizeof(buf)), "0");
	assert_string_equal(top_fmt(12800, buf, sizeof(buf)), "12.8K");
	assert_string_equal(top_fmt_ns(TOP_NOT_TRACKED, buf, sizeof(buf)), "-");
	assert_string_equal(top_fmt_ns(131071, buf, sizeof(buf)), "131us");
	assert_string_equal(top_state_name(-1), "unknown");
	assert_string_equal(top_state_name(6), "PRE_COPY"); /* the uAPI's number */
}

static void test_dirty_sums_tracked_sources_only(void **state)
{
	struct top_dev *d;
	struct top_vm *v;

	(void)state;
	memset(&a, 0, sizeof(a));
	v = vm(&a, 10, "vm", TOP_NOT_TRACKED);
	d = dev(&a, 10, 1, "nic", TOP_NOT_TRACKED);
	assert_true(top_dev_dirty(d) == TOP_NOT_TRACKED);
	assert_true(top_vm_dirty(&a, v) == TOP_NOT_TRACKED);
	d->dirty_pins = 100;
	dev(&a, 10, 2, "bigmem", 50);
	assert_true(top_dev_dirty(d) == 100);
	assert_true(top_vm_dirty(&a, v) == 150);
	v->dirty_vcpu = 1000;
	assert_true(top_vm_dirty(&a, v) == 1150);
}

static void test_sparkline(void **state)
{
	double s[TOP_SPARK];
	unsigned int n = 0, i;
	char text[3 * TOP_SPARK + 1];

	(void)state;
	for (i = 0; i < TOP_SPARK + 5; i++)
		top_spark_push(s, &n, i);
	assert_int_equal(n, TOP_SPARK);
	assert_true(s[0] == 5 && s[TOP_SPARK - 1] == TOP_SPARK + 4);
	n = 0;
	top_spark_push(s, &n, 0);
	top_spark_push(s, &n, 10);
	top_spark_push(s, &n, TOP_NOT_TRACKED); /* drawn as 0 */
	top_spark_text(s, n, text, sizeof(text));
	assert_string_equal(text, "▁█▁");
}

static void test_gone_kept_then_dropped(void **state)
{
	(void)state;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	vm(&a, 10, "vm-a", 100);
	dev(&a, 10, 1, "nic", 5);
	vm(&a, 20, "vm-b", 100);
	dev(&a, 20, 1, "nic", 5);
	top_table_carry(NULL, &a, 100.0);
	assert_true(a.dev[0].state_since == 100.0);
	/* vm-b went away: shown gone */
	vm(&b, 10, "vm-a", 100);
	dev(&b, 10, 1, "nic", 5);
	top_table_carry(&a, &b, 101.0);
	assert_int_equal(b.nvms, 2);
	assert_int_equal(b.ndevs, 2);
	assert_true(b.vm[1].gone_since == 101.0 && b.dev[1].gone_since == 101.0);
	assert_true(b.dev[0].state_since == 100.0); /* same state: time in it carried */
	assert_int_equal(b.dev[0].nspark, 2);
	/* still gone within TOP_GONE_KEEP_S, dropped after */
	memset(&a, 0, sizeof(a));
	vm(&a, 10, "vm-a", 100);
	dev(&a, 10, 1, "nic", 5)->state = 3;
	top_table_carry(&b, &a, 101.0 + TOP_GONE_KEEP_S - 1);
	assert_int_equal(a.nvms, 2);
	assert_true(a.vm[1].gone_since == 101.0);
	assert_true(a.dev[0].state_since == 101.0 + TOP_GONE_KEEP_S - 1); /* a new state */
	memset(&b, 0, sizeof(b));
	vm(&b, 10, "vm-a", 100);
	dev(&b, 10, 1, "nic", 5);
	top_table_carry(&a, &b, 101.0 + TOP_GONE_KEEP_S + 0.5);
	assert_int_equal(b.nvms, 1);
	assert_int_equal(b.ndevs, 1);
}

static void test_sort_groups_devices_under_vms(void **state)
{
	struct top_sort s = {TOP_COL_DIRTY, false};
	unsigned int first, n;

	(void)state;
	memset(&a, 0, sizeof(a));
	vm(&a, 10, "quiet", 10);
	vm(&a, 20, "busy", 5000);
	vm(&a, 30, "gone", 90000)->gone_since = 1;
	dev(&a, 10, 1, "nic", 1);
	dev(&a, 20, 1, "nic", 10);
	dev(&a, 30, 1, "nic", 10);
	dev(&a, 20, 2, "bigmem", 300);
	top_table_sort(&a, &s);
	assert_string_equal(a.vm[0].name, "busy");
	assert_string_equal(a.vm[1].name, "quiet");
	assert_string_equal(a.vm[2].name, "gone"); /* gone rows last */
	n = top_vm_devs(&a, 20, &first);
	assert_int_equal(n, 2);
	assert_int_equal(first, 0);
	assert_string_equal(a.dev[0].model, "bigmem"); /* 300 before 10 */
	assert_string_equal(a.dev[2].name, "10:emu1");
	s.ascending = true;
	top_table_sort(&a, &s);
	assert_string_equal(a.vm[0].name, "quiet");
	assert_string_equal(a.dev[1].model, "nic");
	assert_string_equal(a.dev[2].model, "bigmem");
	s = (struct top_sort){TOP_COL_NAME, true};
	top_table_sort(&a, &s);
	assert_string_equal(a.vm[0].name, "busy");
	assert_string_equal(a.dev[0].name, "20:emu1");
}

static void test_filter(void **state)
{
	regex_t re;

	(void)state;
	memset(&a, 0, sizeof(a));
	vm(&a, 10, "web", 10);
	vm(&a, 20, "db", 10);
	dev(&a, 10, 1, "nic", 1);
	dev(&a, 20, 1, "bigmem", 1);
	assert_int_equal(regcomp(&re, "big", REG_EXTENDED | REG_NOSUB), 0);
	assert_false(top_vm_matches(&re, &a, &a.vm[0]));
	assert_true(top_vm_matches(&re, &a, &a.vm[1])); /* by its device */
	assert_false(top_dev_matches(&re, &a.vm[0], &a.dev[0]));
	assert_true(top_dev_matches(&re, &a.vm[1], &a.dev[1]));
	regfree(&re);
	assert_int_equal(regcomp(&re, "^web$", REG_EXTENDED | REG_NOSUB), 0);
	assert_true(top_dev_matches(&re, &a.vm[0], &a.dev[0])); /* its VM matches */
	assert_false(top_vm_matches(&re, &a, &a.vm[1]));
	regfree(&re);
	assert_true(top_vm_matches(NULL, &a, &a.vm[1]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rates_and_not_tracked),
		cmocka_unit_test(test_dirty_sums_tracked_sources_only),
		cmocka_unit_test(test_sparkline),
		cmocka_unit_test(test_gone_kept_then_dropped),
		cmocka_unit_test(test_sort_groups_devices_under_vms),
		cmocka_unit_test(test_filter),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
