/* SPDX-License-Identifier: GPL-2.0 */
/* The recording's layout on disk (little-endian, as x86-64 and arm64 write it). */
#ifndef VFMIG_RECORD_FORMAT_H
#define VFMIG_RECORD_FORMAT_H

#include <stdint.h>

#define REC_FILE_MAGIC "VFMIGREC"
#define REC_BLOCK_MAGIC "VFMB"
#define REC_BLOCK_TAIL "BMFV"
#define REC_MAX_WINDOWS 1024
#define REC_MAX_RAW (64u << 20) /* a block's bytes once decompressed, at most */

/* Then header_len bytes of JSON, then the XXH64 (seed 0) of both. */
struct rec_file_head {
	char magic[8];
	uint32_t version, header_len;
};

/* Then len - 48 bytes of zlib stream, then the tail. */
struct rec_block_head {
	char magic[4];
	uint32_t len; /* the whole block's, head and tail included */
	uint64_t seq; /* from 0, one per block written (or lost) */
	uint8_t kind, pad[3];
	uint32_t raw_len; /* the payload once decompressed */
	uint32_t count, pad2;
};

/* xxh: XXH64 (seed 0) of the head and the compressed payload. */
struct rec_block_tail {
	uint64_t xxh;
	uint32_t len;
	char magic[4];
};

#endif
