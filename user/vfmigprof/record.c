// SPDX-License-Identifier: GPL-2.0
/* vfmigprof record: not built yet (issue 12). */
#include <stdio.h>

#include "vfmigprof/prof.h"

int cmd_record(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "vfmigprof: record is not built yet\n");
	return 1;
}
