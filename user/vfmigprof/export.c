// SPDX-License-Identifier: GPL-2.0
/* vfmigprof export: not built yet (issue 12). */
#include <stdio.h>

#include "vfmigprof/prof.h"

int cmd_export(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "vfmigprof: export is not built yet\n");
	return 1;
}
