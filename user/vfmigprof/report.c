// SPDX-License-Identifier: GPL-2.0
/* vfmigprof report: not built yet (issue 12). */
#include <stdio.h>

#include "vfmigprof/prof.h"

int cmd_report(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "vfmigprof: report is not built yet\n");
	return 1;
}
