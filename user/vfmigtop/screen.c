// SPDX-License-Identifier: GPL-2.0
/* vfmigtop's full screen (placeholder until the ncurses view lands). */
#include <stdio.h>

#include "vfmigtop/screen.h"

int top_screen_check(char *err, size_t len)
{
	snprintf(err, len, "the full screen is not built yet: use -b");
	return -1;
}

int top_screen_run(struct top_run *r)
{
	(void)r;
	return 1;
}
