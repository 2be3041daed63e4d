/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Device variants plug into the emulated device through this ops table, the
 * way vendor variant drivers plug into vfio-pci-core: the core owns the FSM,
 * the data stream framing and the checksums; a variant owns its state.
 */
#ifndef VFMIG_DEVICE_VARIANT_H
#define VFMIG_DEVICE_VARIANT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct emu_dev;

/* Record types; the variant's own start at EMU_REC_VARIANT. */
enum emu_rec_type {
	EMU_REC_HEAD = 1, /* stream header, written by the core */
	EMU_REC_END = 2,  /* closes a complete stream, written by the core */
	EMU_REC_VARIANT = 16,
};

/* Bytes of framing around each record's payload: header (24) and checksum (8). */
#define EMU_REC_FRAME 32u

/* One record the variant hands to the stream: copied out before the next call. */
struct emu_rec {
	uint16_t type;
	uint64_t arg;
	const void *payload;
	uint32_t len;
};

/* Level of quiescing the FSM asks for. */
enum emu_quiesce {
	EMU_RUN,     /* RUNNING, PRE_COPY: everything allowed */
	EMU_P2P,     /* RUNNING_P2P, PRE_COPY_P2P: no new P2P DMA, in-flight DMA done */
	EMU_STOPPED, /* STOP and beyond: no DMA, no state change */
};

struct emu_variant_ops {
	const char *name;
	uint32_t id;	     /* variant id carried in the stream header */
	uint32_t version;    /* stream payload version of this variant */
	uint32_t mig_flags;  /* features the variant can offer */
	uint32_t max_record; /* largest payload it ever emits */

	int (*init)(struct emu_dev *dev, const char *params);
	void (*fini)(struct emu_dev *dev);
	/* Bytes identifying a compatible configuration (sizes, ports...). */
	uint64_t (*config_id)(struct emu_dev *dev);

	/* Saving. precopy: entering PRE_COPY (initial data = everything now). */
	void (*save_begin)(struct emu_dev *dev, bool precopy);
	/*
	 * Next record to send; final is false in PRE_COPY (only initial and
	 * dirty data) and true in STOP_COPY (everything left, then the
	 * device's registers). Returns 1 with rec filled, 0 when none is left.
	 */
	int (*save_next)(struct emu_dev *dev, bool final, struct emu_rec *rec);
	/* Framed bytes still to send in PRE_COPY, split as the uAPI reports them. */
	void (*save_pending)(struct emu_dev *dev, uint64_t *initial, uint64_t *dirty);
	/* Framed bytes STOP_COPY would send from the current state. */
	uint64_t (*stop_copy_size)(struct emu_dev *dev);
	void (*save_end)(struct emu_dev *dev);

	/* Resuming: records go to staging; commit makes them the device's state. */
	int (*load_begin)(struct emu_dev *dev);
	int (*load_record)(struct emu_dev *dev, const struct emu_rec *rec); /* 0 or -errno */
	int (*load_complete)(struct emu_dev *dev); /* 0 when staging holds a whole state */
	void (*load_commit)(struct emu_dev *dev);
	void (*load_abort)(struct emu_dev *dev);

	/* Running. quiesce returns once the level holds (in-flight work done). */
	void (*quiesce)(struct emu_dev *dev, enum emu_quiesce level);
	int (*run)(struct emu_dev *dev, uint64_t units);
	void (*reset)(struct emu_dev *dev);
	/* A hash of everything the device would migrate: registers and memory. */
	uint64_t (*digest)(struct emu_dev *dev);
	/* Optional: an unmap covers iova..+length; drop the pins held there. */
	void (*dma_unmap)(struct emu_dev *dev, uint64_t iova, uint64_t length);
};

/* DMA into guest memory through the attached IOMMU context; with dev->lock held. */
int emu_dev_dma_write(struct emu_dev *dev, uint64_t iova, const void *src, size_t len);

/* The variant's private data, allocated by init. */
void *emu_dev_priv(struct emu_dev *dev);
void emu_dev_set_priv(struct emu_dev *dev, void *priv);
/* Records an error text for emu_dev_strerror(); returns -err for chaining. */
int emu_dev_fail(struct emu_dev *dev, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Reads an integer option "key=N" (with k/m/g suffixes) from a params string. */
int emu_param_u64(const char *params, const char *key, uint64_t def, uint64_t *out);
int emu_param_check(const char *params, const char *const *known);

/* The variants' deterministic generator: the same seed gives the same device history. */
static inline uint64_t emu_lcg(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return *s >> 17;
}

extern const struct emu_variant_ops emu_variant_nic;
extern const struct emu_variant_ops emu_variant_bigmem;

#endif
