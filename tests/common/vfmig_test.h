/* SPDX-License-Identifier: GPL-2.0 */
/* What every vfmig test includes: cmocka, and the skip convention tests/run.sh reads. */
#ifndef VFMIG_TEST_H
#define VFMIG_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

/*
 * A test that cannot run here says which and why on one line, then skips:
 * tests/run.sh lists these lines, and CI fails on any test not named in
 * tests/expected-skips.
 */
#define VFMIG_SKIP(...)                        \
	do {                                   \
		printf("SKIP %s: ", __func__); \
		printf(__VA_ARGS__);           \
		printf("\n");                  \
		fflush(stdout);                \
		skip();                        \
	} while (0)

#endif
