/* SPDX-License-Identifier: GPL-2.0 */
/* Internals shared by the emulated device's core files. */
#ifndef VFMIG_DEVICE_DEVICE_PRIV_H
#define VFMIG_DEVICE_DEVICE_PRIV_H

#include <pthread.h>

#include "device/device.h"
#include "memory/iommu.h"
#include "device/variant.h"

#define EMU_STEP_LOG 1024 /* executed arcs kept for emu_dev_steps() */

/* The stream framing. Host byte order: the stream never crosses architectures. */
#define EMU_STREAM_MAGIC 0x72747367696d6676ULL /* "vfmigstr" */
#define EMU_STREAM_MAJOR 1
#define EMU_STREAM_MINOR 0
#define EMU_REC_MAGIC 0x524d4656u /* "VFMR" */

struct emu_rec_hdr {
	uint32_t magic;
	uint16_t type;
	uint16_t flags; /* 0: reserved */
	uint32_t seq;	/* records are numbered from 0 with no gap */
	uint32_t len;	/* payload bytes that follow */
	uint64_t arg;
};
/* Every record ends with an XXH3-64 of its header and payload. */
#define EMU_REC_OVERHEAD EMU_REC_FRAME
_Static_assert(sizeof(struct emu_rec_hdr) + sizeof(uint64_t) == EMU_REC_FRAME, "record frame");

struct emu_stream_head {
	uint64_t magic;
	uint16_t major, minor;
	uint32_t variant_id;
	uint32_t variant_version;
	uint32_t reserved;
	uint64_t config_id;
};

struct emu_stream_end {
	uint64_t stream_bytes; /* bytes before this record */
};

enum emu_file_kind { EMU_FILE_SAVE, EMU_FILE_RESUME };

/* A data_fd: one per entry into the saving group or RESUMING. */
struct emu_file {
	int handle;
	enum emu_file_kind kind;
	struct emu_dev *dev;
	bool disabled; /* the stream was ended by an arc or a reset */
	bool user_closed;
	/* save: the record being read out: head, payload, tail (its checksum) */
	uint8_t head[24], tail[8];
	const uint8_t *payload;
	uint8_t *buf; /* payload snapshot (save), or a record being assembled (resume) */
	size_t buf_size, buf_len, buf_pos;
	uint32_t seq;
	uint64_t total; /* bytes produced (save) or accepted (resume) */
	bool head_sent, end_sent;
	bool buf_dirty; /* the record being read out is dirty data, not initial */
	/* resume: bytes of an incomplete record, and what the stream said */
	int bad;       /* first -errno the stream earned; sticks */
	char why[200]; /* and the reason it was refused */
	bool seen_end;
	uint64_t max_bytes;
};

struct emu_dev {
	pthread_mutex_t lock; /* the state mutex: ioctls and device work */
	const struct emu_variant_ops *ops;
	void *priv;
	uint32_t id;
	uint32_t mig_flags;
	enum vfio_device_mig_state state;
	struct emu_file *save, *resume;
	int refs;
	char err[256];
	/* fault injection */
	unsigned int inject_nth, inject_count;
	int inject_err;
	/* ground truth */
	struct emu_step steps[EMU_STEP_LOG];
	uint64_t nsteps;
	/* v1 protocol */
	struct emu_v1 *v1;
	/* DMA: the IOMMU context it is attached to, and its own DMA log */
	struct emu_iommu *io;
	enum emu_dma_mode dma_mode;
	int attach_id;
	struct emu_dma_log *log;
	struct emu_pin_stats pins; /* ground truth: its own pins and unpins */
};

/* base.c: the leaf every other core file may call */
void emu_dev_get(struct emu_dev *dev);
void emu_dev_put(struct emu_dev *dev);

/* stream.c */
struct emu_file *emu_file_new(struct emu_dev *dev, enum emu_file_kind kind);
void emu_file_disable(struct emu_file *file);
void emu_file_drop(struct emu_file *file);
int emu_file_finish_resume(struct emu_file *file);
uint64_t emu_stream_stop_copy_size(struct emu_dev *dev);
int emu_file_pending(struct emu_file *file, uint64_t *initial, uint64_t *dirty);
ssize_t emu_file_read_locked(struct emu_file *file, void *buf, size_t len);
ssize_t emu_file_write_locked(struct emu_file *file, const void *buf, size_t len);

/* transition.c, called with dev->lock held */
enum emu_quiesce emu_quiesce_level(enum vfio_device_mig_state s);
int emu_set_state_locked(struct emu_dev *dev, enum vfio_device_mig_state new_state,
			 struct emu_file **out);
void emu_reset_locked(struct emu_dev *dev);

/* dma.c, called with dev->lock held */
int emu_dma_log_start(struct emu_dev *dev, void *data);
int emu_dma_log_stop(struct emu_dev *dev);
int emu_dma_log_report(struct emu_dev *dev, void *data);
void emu_dma_log_free(struct emu_dev *dev); /* at destroy */

/* v1.c, called by device.c at destroy */
void emu_v1_free(struct emu_dev *dev);

#endif
