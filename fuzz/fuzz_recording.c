// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: a recording's bytes through the reader (header, blocks, resync past
 * damage, event decoding) and the whole report built on what it read, as vfmigprof report
 * --json would print it; and the bytes as packed events. Any crash, overflow or undefined behaviour is a bug.
 */
#include <stdint.h>
#include <stdio.h>

#include "record/record.h"
#include "report/report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *null;
	struct rec_reader *rd;
	struct report r;
	char err[256];

	static struct vfmig_event ev[4096];

	if (!null)
		null = fopen("/dev/null", "w");
	/* the event codec on its own: block checksums keep most mutations away from it */
	if (size)
		rec_decode_events(data + 1, size - 1, data[0] * 16u, ev);
	rd = rec_open_mem(data, size, err, sizeof(err));
	if (!rd)
		return 0;
	report_load_reader(rd, &r);
	rec_reader_close(rd);
	report_print_json(null, &r);
	report_print_text(null, &r);
	report_free(&r);
	return 0;
}
