/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the stream tests share: the stream's record sizes, a growing buffer,
 * devices and their states, saves and resumes checked against the device's
 * own digest.
 */
#ifndef VFMIG_FIXTURE_STREAM_H
#define VFMIG_FIXTURE_STREAM_H

#include <stdbool.h>

#include "common/vfmig_test.h"
#include "device/device_priv.h"

#define NIC_PARAMS ""
#define BM_PARAMS "mem=256k,block=4k,seed=3"
#define BM_BLOCK 4096u
#define BM_NBLOCKS 64u
#define BM_BLOCK_REC (BM_BLOCK + EMU_REC_FRAME)
#define HEAD_REC (EMU_REC_FRAME + sizeof(struct emu_stream_head))
#define END_REC (EMU_REC_FRAME + sizeof(struct emu_stream_end))
#define HASH_SEED 0x76666d6967ull
#define NIC_REGS_REC (EMU_REC_FRAME + 72u) /* struct nic_regs in variant_nic.c */
#define BM_REGS_REC (EMU_REC_FRAME + 32u)  /* struct bigmem_regs in variant_bigmem.c */

/* A growing byte buffer for saved streams. */
struct sbuf {
	uint8_t *p;
	size_t len, cap;
};

void sbuf_put(struct sbuf *s, const void *p, size_t n);
/* A fixed pseudo-random sequence: sizes of reads and writes. */
uint64_t rnd(void);
struct emu_dev *mk(const char *variant, const char *params);
enum vfio_device_mig_state state_of(struct emu_dev *dev);
int set_ok(struct emu_dev *dev, enum vfio_device_mig_state s);
uint64_t data_size(struct emu_dev *dev);
void reset(struct emu_dev *dev);
size_t drain(int fd, struct sbuf *out, size_t chunk, bool expect_eof);
struct sbuf save_stop_copy(struct emu_dev *dev, uint64_t *digest);
struct sbuf save_precopy(struct emu_dev *dev, unsigned int rounds, uint64_t work, uint64_t *digest);
void resume_ok(struct emu_dev *dev, const struct sbuf *s, size_t seg, uint64_t want);

#endif
