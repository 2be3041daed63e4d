// SPDX-License-Identifier: GPL-2.0
/* vfmigprof predict's inputs from a running QEMU, through its QMP socket: not built yet. */
#include <stdio.h>

#include "vfmigprof/predict.h"

int predict_qmp_inputs(struct predict_req *r, struct model_inputs *in)
{
	(void)r;
	(void)in;
	fprintf(stderr, "vfmigprof: predict --qmp is not built yet\n");
	return 1;
}
