// SPDX-License-Identifier: GPL-2.0
/*
 * vfmigtop's full screen driven in tmux: the rows of two emulated VMs (the
 * busier first, its NIC's 64 pinned buffer pages exact), sorting, the regex
 * filter, a VM's and a device's detail, help, resize, a terminal too small,
 * and quitting (q, Ctrl-C, a fatal signal) with the terminal restored.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/vfmig_test.h"
#include "vfmigtop/fixture_screen.h"

#define NIC "nic:dirty=type1-pin,rate=20000,buffers=64,bufsize=4k"

static int setup(void **state)
{
	(void)state;
	return screen_setup() ? 0 : -1;
}

/* Two VMs as vfmigtop's PROGRAM: slowvm dirties 500 pages/s, fastvm 20000. */
static void start_two_vms(int cols, int rows)
{
	char body[2048];

	snprintf(body, sizeof(body),
		 "%s -i 300 --bandwidth 250 --downtime 120 --binary %s -- sh -c '"
		 "%s run --time 120 --mem 16m --wss 8m --rate 500 --name slowvm --device %s & "
		 "%s run --time 120 --mem 16m --wss 8m --rate 20000 --name fastvm --device %s & "
		 "wait'",
		 top_bin, emu_bin, emu_bin, NIC, emu_bin, NIC);
	screen_start(cols, rows, body);
}

/* The restored terminal: canonical mode and echo back on. */
static void assert_restored(const char *exit_line)
{
	char *s = screen_wait("END", 10);

	assert_non_null(s);
	assert_non_null(strstr(s, exit_line));
	assert_non_null(strstr(s, "icanon echo"));
	free(s);
}

static void test_rows_sort_filter_detail(void **state)
{
	char *s, *line;
	int fast, slow;

	(void)state;
	start_two_vms(220, 50);
	s = screen_wait("VM slowvm", 30);
	assert_non_null(s);
	free(s);
	sleep(2); /* a few intervals: both rates measured */
	s = screen_text();
	fast = screen_line_of(s, "VM fastvm");
	slow = screen_line_of(s, "VM slowvm");
	assert_true(fast > 0 && slow > 0);
	assert_true(fast < slow); /* most active first */
	assert_non_null(strstr(s, "sort: dirty descending"));
	line = strstr(s, ":emu1 ");
	assert_non_null(line);
	line[strcspn(line, "\n")] = 0;
	assert_non_null(strstr(line, " nic "));
	assert_non_null(strstr(line, " 64 ")); /* its pinned pages, exact */
	free(s);

	screen_keys("r");
	s = screen_wait("sort: dirty ascending", 5);
	assert_non_null(s);
	assert_true(screen_line_of(s, "VM slowvm") < screen_line_of(s, "VM fastvm"));
	free(s);
	screen_keys("s");
	s = screen_wait("sort: pinned", 5);
	assert_non_null(s);
	free(s);

	screen_keys("/ s l o w Enter");
	s = screen_wait("filter: slow", 5);
	assert_non_null(s);
	assert_int_equal(screen_line_of(s, "VM fastvm"), -1);
	assert_true(screen_line_of(s, "VM slowvm") > 0);
	free(s);

	screen_keys("Enter"); /* the VM's detail */
	s = screen_wait("Detail (Esc: back)", 5);
	assert_non_null(s);
	assert_non_null(strstr(s, "W(t)"));
	assert_non_null(strstr(s, "Dirty pages/s:"));
	assert_non_null(strstr(s, "Tuning:"));
	/* the link the flags gave, and no migration: both VMs only run */
	assert_non_null(strstr(s, "Link from --bandwidth/--downtime: 250.0MB/s, 120 ms"));
	assert_non_null(strstr(s, "Migration: none seen"));
	assert_non_null(strstr(s, "MIG -"));
	free(s);
	screen_keys("Escape j Enter"); /* a device's */
	s = screen_wait("Latency per arc", 5);
	assert_non_null(s);
	free(s);
	screen_keys("Escape h");
	s = screen_wait("Keys (any key: back)", 5);
	assert_non_null(s);
	free(s);
	screen_keys("x q");
	assert_restored("EXITED 0");
	screen_stop();
}

static void test_resize_and_too_small(void **state)
{
	char *s;

	(void)state;
	start_two_vms(200, 40);
	s = screen_wait("VM fastvm", 30);
	assert_non_null(s);
	free(s);
	screen_resize(60, 10);
	s = screen_wait("vfmigtop needs at least 80x12 (this is 60x10); q quits", 5);
	assert_non_null(s);
	assert_int_equal(screen_line_of(s, "VM fastvm"), -1);
	free(s);
	screen_resize(120, 30);
	s = screen_wait("VM fastvm", 5);
	assert_non_null(s);
	free(s);
	screen_resize(70, 8);
	s = screen_wait("needs at least 80x12 (this is 70x8)", 5);
	assert_non_null(s);
	free(s);
	screen_keys("q"); /* q still quits */
	assert_restored("EXITED 0");
	screen_stop();
}

static void test_ctrl_c_restores(void **state)
{
	char *s, body[1024];

	(void)state;
	snprintf(body, sizeof(body), "%s -i 300 --emulate=1", top_bin);
	screen_start(200, 40, body);
	s = screen_wait("VM emu-", 30);
	assert_non_null(s);
	free(s);
	screen_keys("C-c");
	assert_restored("EXITED 0");
	screen_stop();
}

static void test_fatal_signal_restores(void **state)
{
	char *s, body[1024], pidfile[64];
	FILE *f;
	int pid = 0;

	(void)state;
	snprintf(pidfile, sizeof(pidfile), "/tmp/vfmigtop-test-pid-%d", getpid());
	snprintf(body, sizeof(body), "sh -c 'echo $$ > %s; exec %s -i 300 --emulate=1'", pidfile,
		 top_bin);
	screen_start(200, 40, body);
	s = screen_wait("sort: dirty", 30);
	assert_non_null(s);
	free(s);
	f = fopen(pidfile, "r");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%d", &pid), 1);
	fclose(f);
	unlink(pidfile);
	assert_int_equal(kill(pid, SIGSEGV), 0);
	assert_restored("EXITED 139"); /* 128 + SIGSEGV: the default action after restoring */
	screen_stop();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows_sort_filter_detail),
		cmocka_unit_test(test_resize_and_too_small),
		cmocka_unit_test(test_ctrl_c_restores),
		cmocka_unit_test(test_fatal_signal_restores),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
