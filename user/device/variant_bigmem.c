// SPDX-License-Identifier: GPL-2.0
/*
 * "bigmem": a device with large on-board memory (think of a GPU or a
 * SmartNIC with gigabytes of it) that keeps changing that memory while it
 * runs, so it needs PRE_COPY: the memory is sent as initial bytes, and the
 * blocks it rewrites after they were sent come back as dirty bytes.
 *
 * Options: mem=SIZE (64m), block=SIZE (64k), seed=N.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "common/bitmap.h"
#include "device/device.h"
#include "device/variant.h"

enum { REC_BLOCK = EMU_REC_VARIANT, REC_REGS };

struct bigmem_regs {
	uint64_t generation; /* bumps on every write the device makes */
	uint64_t rng;	     /* where the next write goes */
	uint64_t writes;
	uint64_t ctrl;
};

struct bigmem {
	uint64_t mem_size, block_size, nblocks;
	uint8_t *mem;
	struct bigmem_regs regs;
	/* saving */
	uint64_t *todo;	 /* blocks still owed as initial data */
	uint64_t *dirty; /* blocks rewritten after they were sent */
	uint64_t ntodo, ndirty, cursor;
	bool saving, regs_sent;
	/* resuming; spare is kept from the last load so the next needs no fresh pages */
	uint8_t *stage, *spare;
	uint64_t *got;
	uint64_t ngot;
	struct bigmem_regs stage_regs;
	bool stage_regs_seen;
};

static void fill_pattern(struct bigmem *bm)
{
	uint64_t *w = (uint64_t *)bm->mem, s = bm->regs.rng ^ 0x9e3779b97f4a7c15ull, i;

	for (i = 0; i < bm->mem_size / 8; i++)
		w[i] = emu_lcg(&s) ^ i;
}

static int bigmem_init(struct emu_dev *dev, const char *params)
{
	static const char *const known[] = {"mem", "block", "seed", NULL};
	struct bigmem *bm;
	uint64_t seed;

	if (emu_param_check(params, known))
		return emu_dev_fail(NULL, EINVAL,
				    "bigmem: unknown option in '%s' (mem, block, seed)", params);
	bm = calloc(1, sizeof(*bm));
	if (!bm)
		return emu_dev_fail(NULL, ENOMEM, "bigmem: out of memory");
	if (emu_param_u64(params, "mem", 64 << 20, &bm->mem_size) ||
	    emu_param_u64(params, "block", 64 << 10, &bm->block_size) ||
	    emu_param_u64(params, "seed", 1, &seed) || bm->block_size < 64 ||
	    bm->block_size > (16u << 20) || bm->block_size % 64 || !bm->mem_size ||
	    bm->mem_size % bm->block_size) {
		free(bm);
		return emu_dev_fail(NULL, EINVAL,
				    "bigmem: mem must be a multiple of block, block 64..16m in "
				    "multiples of 64 ('%s')",
				    params);
	}
	bm->nblocks = bm->mem_size / bm->block_size;
	bm->mem = malloc(bm->mem_size);
	bm->todo = calloc(BITMAP_WORDS(bm->nblocks), 8);
	bm->dirty = calloc(BITMAP_WORDS(bm->nblocks), 8);
	if (!bm->mem || !bm->todo || !bm->dirty) {
		unsigned long long size = bm->mem_size;

		free(bm->mem);
		free(bm->todo);
		free(bm->dirty);
		free(bm);
		return emu_dev_fail(NULL, ENOMEM, "bigmem: cannot allocate %llu bytes", size);
	}
	bm->regs.rng = seed;
	fill_pattern(bm);
	emu_dev_set_priv(dev, bm);
	return 0;
}

static void bigmem_load_abort(struct emu_dev *dev);

static void bigmem_fini(struct emu_dev *dev)
{
	struct bigmem *bm = emu_dev_priv(dev);

	bigmem_load_abort(dev);
	free(bm->spare);
	free(bm->mem);
	free(bm->todo);
	free(bm->dirty);
	free(bm);
}

static uint64_t bigmem_config_id(struct emu_dev *dev)
{
	struct bigmem *bm = emu_dev_priv(dev);

	return bm->mem_size ^ (bm->block_size << 40);
}

static uint64_t block_rec(struct bigmem *bm)
{
	return EMU_REC_FRAME + bm->block_size;
}

static void bigmem_save_begin(struct emu_dev *dev, bool precopy)
{
	struct bigmem *bm = emu_dev_priv(dev);

	(void)precopy;
	memset(bm->todo, 0xff, BITMAP_WORDS(bm->nblocks) * 8);
	if (bm->nblocks % 64)
		bm->todo[BITMAP_WORDS(bm->nblocks) - 1] = (1ull << (bm->nblocks % 64)) - 1;
	memset(bm->dirty, 0, BITMAP_WORDS(bm->nblocks) * 8);
	bm->ntodo = bm->nblocks;
	bm->ndirty = 0;
	bm->cursor = 0;
	bm->saving = true;
	bm->regs_sent = false;
}

static void send_block(struct bigmem *bm, uint64_t i, struct emu_rec *rec)
{
	rec->type = REC_BLOCK;
	rec->arg = i;
	rec->payload = bm->mem + i * bm->block_size;
	rec->len = bm->block_size;
}

static int bigmem_save_next(struct emu_dev *dev, bool final, struct emu_rec *rec)
{
	struct bigmem *bm = emu_dev_priv(dev);
	uint64_t i;

	if (bm->ntodo) {
		i = bitmap_next(bm->todo, bm->cursor, bm->nblocks);
		bitmap_clear1(bm->todo, i);
		bm->ntodo--;
		bm->cursor = i + 1;
		send_block(bm, i, rec);
		return 1;
	}
	if (bm->ndirty) {
		i = bitmap_next(bm->dirty, 0, bm->nblocks);
		bitmap_clear1(bm->dirty, i);
		bm->ndirty--;
		send_block(bm, i, rec);
		return 1;
	}
	if (final && !bm->regs_sent) {
		bm->regs_sent = true;
		*rec = (struct emu_rec){REC_REGS, 0, &bm->regs, sizeof(bm->regs)};
		return 1;
	}
	return 0;
}

static void bigmem_save_pending(struct emu_dev *dev, uint64_t *initial, uint64_t *dirty)
{
	struct bigmem *bm = emu_dev_priv(dev);

	*initial = bm->ntodo * block_rec(bm);
	*dirty = bm->ndirty * block_rec(bm);
}

static uint64_t bigmem_stop_copy_size(struct emu_dev *dev)
{
	struct bigmem *bm = emu_dev_priv(dev);
	uint64_t blocks = bm->saving ? bm->ntodo + bm->ndirty : bm->nblocks;
	bool regs = !bm->saving || !bm->regs_sent;

	return blocks * block_rec(bm) + (regs ? EMU_REC_FRAME + sizeof(bm->regs) : 0);
}

static void bigmem_save_end(struct emu_dev *dev)
{
	struct bigmem *bm = emu_dev_priv(dev);

	bm->saving = false;
	bm->ntodo = bm->ndirty = 0;
}

static int bigmem_load_begin(struct emu_dev *dev)
{
	struct bigmem *bm = emu_dev_priv(dev);

	bm->stage = bm->spare ? bm->spare : malloc(bm->mem_size);
	bm->spare = NULL;
	bm->got = calloc(BITMAP_WORDS(bm->nblocks), 8);
	if (!bm->stage || !bm->got) {
		bigmem_load_abort(dev);
		return emu_dev_fail(dev, ENOMEM, "bigmem: no memory to stage a resume");
	}
	bm->ngot = 0;
	bm->stage_regs_seen = false;
	return 0;
}

static int bigmem_load_record(struct emu_dev *dev, const struct emu_rec *rec)
{
	struct bigmem *bm = emu_dev_priv(dev);

	if (rec->type == REC_REGS && rec->len == sizeof(bm->stage_regs)) {
		memcpy(&bm->stage_regs, rec->payload, rec->len);
		bm->stage_regs_seen = true;
		return 0;
	}
	if (rec->type != REC_BLOCK)
		return emu_dev_fail(dev, EINVAL, "bigmem: stream record of unknown type %u",
				    rec->type);
	if (rec->arg >= bm->nblocks || rec->len != bm->block_size)
		return emu_dev_fail(dev, EINVAL,
				    "bigmem: stream block %llu of %u bytes is out of range",
				    (unsigned long long)rec->arg, rec->len);
	memcpy(bm->stage + rec->arg * bm->block_size, rec->payload, rec->len);
	bm->ngot += bitmap_set1(bm->got, rec->arg);
	return 0;
}

static int bigmem_load_complete(struct emu_dev *dev)
{
	struct bigmem *bm = emu_dev_priv(dev);

	if (bm->ngot != bm->nblocks)
		return emu_dev_fail(dev, EINVAL, "bigmem: stream lacks %llu of %llu memory blocks",
				    (unsigned long long)(bm->nblocks - bm->ngot),
				    (unsigned long long)bm->nblocks);
	if (!bm->stage_regs_seen)
		return emu_dev_fail(dev, EINVAL, "bigmem: stream lacks the device registers");
	return 0;
}

static void bigmem_load_commit(struct emu_dev *dev)
{
	struct bigmem *bm = emu_dev_priv(dev);
	uint8_t *old = bm->mem;

	bm->mem = bm->stage;
	bm->stage = old;
	bm->regs = bm->stage_regs;
	bigmem_load_abort(dev);
}

static void bigmem_load_abort(struct emu_dev *dev)
{
	struct bigmem *bm = emu_dev_priv(dev);

	if (bm->stage && !bm->spare)
		bm->spare = bm->stage;
	else
		free(bm->stage);
	free(bm->got);
	bm->stage = NULL;
	bm->got = NULL;
}

static void bigmem_quiesce(struct emu_dev *dev, enum emu_quiesce level)
{
	(void)dev;
	(void)level; /* it does no DMA: its memory is its own */
}

/* One unit: the device rewrites 64 bytes somewhere in one block. */
static int bigmem_run(struct emu_dev *dev, uint64_t units)
{
	struct bigmem *bm = emu_dev_priv(dev);

	while (units--) {
		uint64_t blk = emu_lcg(&bm->regs.rng) % bm->nblocks;
		uint64_t off = (emu_lcg(&bm->regs.rng) % (bm->block_size / 64)) * 64;

		memset(bm->mem + blk * bm->block_size + off, (int)(bm->regs.generation & 0xff), 64);
		bm->regs.generation++;
		bm->regs.writes++;
		if (bm->saving && !bitmap_test(bm->todo, blk))
			bm->ndirty += bitmap_set1(bm->dirty, blk);
	}
	return 0;
}

static void bigmem_reset(struct emu_dev *dev)
{
	struct bigmem *bm = emu_dev_priv(dev);

	bm->regs.ctrl = 0;
}

static uint64_t bigmem_digest(struct emu_dev *dev)
{
	struct bigmem *bm = emu_dev_priv(dev);

	return XXH3_64bits_withSeed(bm->mem, bm->mem_size,
				    XXH3_64bits(&bm->regs, sizeof(bm->regs)));
}

const struct emu_variant_ops emu_variant_bigmem = {
	.name = "bigmem",
	.id = 2,
	.version = 1,
	.mig_flags = VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P | VFIO_MIGRATION_PRE_COPY,
	.max_record = 16u << 20,
	.init = bigmem_init,
	.fini = bigmem_fini,
	.config_id = bigmem_config_id,
	.save_begin = bigmem_save_begin,
	.save_next = bigmem_save_next,
	.save_pending = bigmem_save_pending,
	.stop_copy_size = bigmem_stop_copy_size,
	.save_end = bigmem_save_end,
	.load_begin = bigmem_load_begin,
	.load_record = bigmem_load_record,
	.load_complete = bigmem_load_complete,
	.load_commit = bigmem_load_commit,
	.load_abort = bigmem_load_abort,
	.quiesce = bigmem_quiesce,
	.run = bigmem_run,
	.reset = bigmem_reset,
	.digest = bigmem_digest,
};
