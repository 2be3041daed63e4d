// SPDX-License-Identifier: GPL-2.0
/*
 * "nic": a NIC-like device with small state and no PRE_COPY. Its DMA engine
 * writes received packets into guest receive buffers. In RUNNING_P2P it
 * starts no new DMA (it cannot tell P2P DMA from the rest, so it stops all
 * of it, as the uAPI asks) and counts the packets it misses instead; because
 * device work runs under the state mutex, DMA in flight when an arc begins
 * has completed before the arc returns.
 *
 * Attached to an IOMMU context (emu_dev_attach_iommu) its receive buffers
 * are guest memory at rx_iova: in PIN mode it pins each buffer's pages the
 * first time it uses it and keeps them pinned (as an mdev driver would)
 * until an unmap asks for them back; otherwise it DMAs through
 * vfio_dma_rw or the IOMMU. Unattached, it writes a private buffer.
 *
 * Options: buffers=N (256), bufsize=SIZE (2k), pkt=SIZE (1500), seed=N,
 * rx_iova=ADDR (1m).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "device/device.h"
#include "memory/iommu.h"
#include "device/variant.h"

enum { REC_REGS = EMU_REC_VARIANT };

struct nic_regs {
	uint64_t rx_packets, rx_bytes, rx_missed;
	uint64_t dma_writes;
	uint32_t rx_head, rx_tail, nbuf, bufsize;
	uint32_t ctrl, irq_mask;
	uint64_t rng;
	uint8_t mac[8];
};

struct nic {
	struct nic_regs regs, stage;
	bool stage_seen, regs_sent;
	enum emu_quiesce level;
	uint32_t pkt;
	uint8_t *rxbuf;	  /* private stand-in for guest buffers when not attached */
	uint64_t rx_iova; /* where the guest put its receive buffers */
	uint64_t *pinned; /* one bit per receive buffer whose pages we hold */
	uint8_t pkt_data[65536];
};

static int nic_init(struct emu_dev *dev, const char *params)
{
	static const char *const known[] = {"buffers", "bufsize", "pkt", "seed", "rx_iova", NULL};
	uint64_t nbuf, bufsize, pkt, seed, rx_iova;
	struct nic *nic;

	if (emu_param_check(params, known))
		return emu_dev_fail(NULL, EINVAL,
				    "nic: unknown option in '%s' (buffers, bufsize, pkt, seed)",
				    params);
	if (emu_param_u64(params, "buffers", 256, &nbuf) ||
	    emu_param_u64(params, "bufsize", 2048, &bufsize) ||
	    emu_param_u64(params, "pkt", 1500, &pkt) || emu_param_u64(params, "seed", 1, &seed) ||
	    emu_param_u64(params, "rx_iova", 1 << 20, &rx_iova) || !nbuf || nbuf > 65536 ||
	    !bufsize || bufsize > (1 << 20) || !pkt || pkt > bufsize || pkt > 65536 ||
	    rx_iova % 4096)
		return emu_dev_fail(
			NULL, EINVAL,
			"nic: buffers 1..65536, bufsize 1..1m, pkt 1..min(bufsize,64k), "
			"rx_iova page-aligned ('%s')",
			params);
	nic = calloc(1, sizeof(*nic));
	if (!nic)
		return emu_dev_fail(NULL, ENOMEM, "nic: out of memory");
	nic->rxbuf = calloc(nbuf, bufsize);
	nic->pinned = calloc((nbuf + 63) / 64, 8);
	if (!nic->rxbuf || !nic->pinned) {
		free(nic->rxbuf);
		free(nic->pinned);
		free(nic);
		return emu_dev_fail(NULL, ENOMEM, "nic: out of memory for receive buffers");
	}
	nic->regs.nbuf = nbuf;
	nic->regs.bufsize = bufsize;
	nic->regs.rng = seed;
	nic->regs.ctrl = 1;
	memcpy(nic->regs.mac, "\x02\x00\x76\x66\x6d\x67", 6);
	nic->pkt = pkt;
	nic->rx_iova = rx_iova;
	emu_dev_set_priv(dev, nic);
	return 0;
}

static void nic_fini(struct emu_dev *dev)
{
	struct nic *nic = emu_dev_priv(dev);

	free(nic->rxbuf);
	free(nic->pinned);
	free(nic);
}

static uint64_t nic_config_id(struct emu_dev *dev)
{
	struct nic *nic = emu_dev_priv(dev);

	return (uint64_t)nic->regs.nbuf << 32 | nic->regs.bufsize;
}

static void nic_save_begin(struct emu_dev *dev, bool precopy)
{
	struct nic *nic = emu_dev_priv(dev);

	(void)precopy;
	nic->regs_sent = false;
}

static int nic_save_next(struct emu_dev *dev, bool final, struct emu_rec *rec)
{
	struct nic *nic = emu_dev_priv(dev);

	if (!final || nic->regs_sent)
		return 0;
	nic->regs_sent = true;
	*rec = (struct emu_rec){REC_REGS, 0, &nic->regs, sizeof(nic->regs)};
	return 1;
}

static void nic_save_pending(struct emu_dev *dev, uint64_t *initial, uint64_t *dirty)
{
	(void)dev;
	*initial = *dirty = 0;
}

static uint64_t nic_stop_copy_size(struct emu_dev *dev)
{
	struct nic *nic = emu_dev_priv(dev);

	return nic->regs_sent ? 0 : EMU_REC_FRAME + sizeof(nic->regs);
}

static void nic_save_end(struct emu_dev *dev)
{
	struct nic *nic = emu_dev_priv(dev);

	nic->regs_sent = false;
}

static int nic_load_begin(struct emu_dev *dev)
{
	struct nic *nic = emu_dev_priv(dev);

	nic->stage_seen = false;
	return 0;
}

static int nic_load_record(struct emu_dev *dev, const struct emu_rec *rec)
{
	struct nic *nic = emu_dev_priv(dev);
	struct nic_regs r;

	if (rec->type != REC_REGS || rec->len != sizeof(r))
		return emu_dev_fail(dev, EINVAL,
				    "nic: stream record type %u of %u bytes is not nic state",
				    rec->type, rec->len);
	memcpy(&r, rec->payload, sizeof(r));
	if (r.nbuf != nic->regs.nbuf || r.bufsize != nic->regs.bufsize || r.rx_head >= r.nbuf ||
	    r.rx_tail >= r.nbuf)
		return emu_dev_fail(dev, EINVAL, "nic: stream ring state does not fit this nic");
	nic->stage = r;
	nic->stage_seen = true;
	return 0;
}

static int nic_load_complete(struct emu_dev *dev)
{
	struct nic *nic = emu_dev_priv(dev);

	return nic->stage_seen
		       ? 0
		       : emu_dev_fail(dev, EINVAL, "nic: stream lacks the device registers");
}

static void nic_load_commit(struct emu_dev *dev)
{
	struct nic *nic = emu_dev_priv(dev);

	nic->regs = nic->stage;
	nic->stage_seen = false;
}

static void nic_load_abort(struct emu_dev *dev)
{
	struct nic *nic = emu_dev_priv(dev);

	nic->stage_seen = false;
}

static void nic_quiesce(struct emu_dev *dev, enum emu_quiesce level)
{
	struct nic *nic = emu_dev_priv(dev);

	nic->level = level;
}

/* In PIN mode a buffer's pages are pinned before the first DMA into it. */
static int pin_buffer(struct emu_dev *dev, struct nic *nic, uint32_t i)
{
	uint64_t iova = nic->rx_iova + (uint64_t)i * nic->regs.bufsize;
	uint64_t first = iova & ~4095ull;
	int ret;

	if (nic->pinned[i / 64] >> (i % 64) & 1)
		return 0;
	ret = emu_dev_pin_pages(dev, first, (int)((iova + nic->regs.bufsize - first + 4095) / 4096),
				EMU_PROT_WRITE_PIN);
	if (ret < 0)
		return ret;
	nic->pinned[i / 64] |= 1ull << (i % 64);
	return 0;
}

static void unpin_buffer(struct emu_dev *dev, struct nic *nic, uint32_t i)
{
	uint64_t iova = nic->rx_iova + (uint64_t)i * nic->regs.bufsize;
	uint64_t first = iova & ~4095ull;

	if (!(nic->pinned[i / 64] >> (i % 64) & 1))
		return;
	emu_dev_unpin_pages(dev, first, (int)((iova + nic->regs.bufsize - first + 4095) / 4096));
	nic->pinned[i / 64] &= ~(1ull << (i % 64));
}

static void nic_dma_unmap(struct emu_dev *dev, uint64_t iova, uint64_t length)
{
	struct nic *nic = emu_dev_priv(dev);
	uint32_t i;

	for (i = 0; i < nic->regs.nbuf; i++) {
		uint64_t a = nic->rx_iova + (uint64_t)i * nic->regs.bufsize;

		if (a < iova + length && a + nic->regs.bufsize > iova)
			unpin_buffer(dev, nic, i);
	}
}

static int dma_packet(struct emu_dev *dev, struct nic *nic, uint32_t slot)
{
	int mode, ret;

	memset(nic->pkt_data, (int)(emu_lcg(&nic->regs.rng) & 0xff), nic->pkt);
	if (!emu_dev_iommu(dev, &mode)) {
		memcpy(nic->rxbuf + (uint64_t)slot * nic->regs.bufsize, nic->pkt_data, nic->pkt);
		return 0;
	}
	if (mode == EMU_DMA_PIN) {
		ret = pin_buffer(dev, nic, slot);
		if (ret)
			return ret;
	}
	return emu_dev_dma_write(dev, nic->rx_iova + (uint64_t)slot * nic->regs.bufsize,
				 nic->pkt_data, nic->pkt);
}

/* One unit: one packet arrives. DMA only while fully running. */
static int nic_run(struct emu_dev *dev, uint64_t units)
{
	struct nic *nic = emu_dev_priv(dev);
	struct nic_regs *r = &nic->regs;
	int ret;

	while (units--) {
		if (nic->level != EMU_RUN) {
			r->rx_missed++;
			continue;
		}
		ret = dma_packet(dev, nic, r->rx_tail);
		if (ret)
			return emu_dev_fail(
				dev, -ret, "nic: DMA to iova %#llx failed",
				(unsigned long long)(nic->rx_iova +
						     (uint64_t)r->rx_tail * r->bufsize));
		r->dma_writes++;
		r->rx_packets++;
		r->rx_bytes += nic->pkt;
		r->rx_tail = (r->rx_tail + 1) % r->nbuf;
		if (r->rx_tail == r->rx_head)
			r->rx_head = (r->rx_head + 1) % r->nbuf; /* the guest consumed one */
	}
	return 0;
}

static void nic_reset(struct emu_dev *dev)
{
	struct nic *nic = emu_dev_priv(dev);

	if (emu_dev_iommu(dev, NULL))
		nic_dma_unmap(dev, 0, UINT64_MAX);

	nic->regs.rx_head = nic->regs.rx_tail = 0;
	nic->regs.irq_mask = 0;
	nic->regs.ctrl = 1;
}

static uint64_t nic_digest(struct emu_dev *dev)
{
	struct nic *nic = emu_dev_priv(dev);

	return XXH3_64bits(&nic->regs, sizeof(nic->regs));
}

const struct emu_variant_ops emu_variant_nic = {
	.name = "nic",
	.id = 1,
	.version = 1,
	.mig_flags = VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P,
	.max_record = sizeof(struct nic_regs),
	.init = nic_init,
	.fini = nic_fini,
	.config_id = nic_config_id,
	.save_begin = nic_save_begin,
	.save_next = nic_save_next,
	.save_pending = nic_save_pending,
	.stop_copy_size = nic_stop_copy_size,
	.save_end = nic_save_end,
	.load_begin = nic_load_begin,
	.load_record = nic_load_record,
	.load_complete = nic_load_complete,
	.load_commit = nic_load_commit,
	.load_abort = nic_load_abort,
	.quiesce = nic_quiesce,
	.run = nic_run,
	.reset = nic_reset,
	.digest = nic_digest,
	.dma_unmap = nic_dma_unmap,
};
