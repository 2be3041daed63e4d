/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The emulated VFIO migration device: public API.
 *
 * The kernel here has no VFIO (and no CUSE), so no real VFIO file descriptor
 * can exist. The device is driven in-process instead: emu_dev_ioctl() takes
 * the kernel's structures and returns what vfio_device_fops_unl_ioctl()
 * would (0 or -1 with errno), and the migration data stream is reached
 * through handles that behave like the kernel's data_fd under
 * emu_fd_read()/emu_fd_write()/emu_fd_ioctl()/emu_fd_close(). A handle is
 * NOT an OS file descriptor: passing it to read(2) fails with EBADF.
 */
#ifndef VFMIG_DEVICE_DEVICE_H
#define VFMIG_DEVICE_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/emu_name.h"
#include "common/vfio_state.h"
#include "vfmig/uapi.h"

#define EMU_NR_STATES VFIO_NR_MIG_STATES
#define EMU_MIG_FLAGS_ALL (VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P | VFIO_MIGRATION_PRE_COPY)
/* Handles start high so that a mix-up with a real fd is caught, not served. */
#define EMU_FD_BASE 0x40000000

struct emu_dev;
struct emu_variant_ops;

struct emu_dev_cfg {
	const char *variant; /* "nic", "bigmem" */
	uint32_t mig_flags;  /* VFIO_MIGRATION_*; 0 takes the variant's full set */
	const char *params;  /* variant options, "key=value,key=value" */
	uint32_t id;	     /* device id seen by the probes; 0 picks the next free one */
};

/*
 * The VM this process's devices belong to, as vfmig-emu --name gives it and the probes and
 * every tool show it; unset (or "") it is "vm-PID" of the process asking.
 */
int emu_set_vm_name(const char *name); /* -EINVAL: "" or over 63 bytes (NULL: unset) */
void emu_vm_name(char *out, size_t len);
/* A device's name, as the probes and every tool give it: "PID:emuN" (its process, its id). */
const char *emu_dev_name(const struct emu_dev *dev, char *out, size_t len);

/* NULL with errno set; emu_last_error() says why in one line. */
struct emu_dev *emu_dev_create(const struct emu_dev_cfg *cfg);
bool emu_variant_known(const char *name); /* nic, bigmem */
void emu_dev_destroy(struct emu_dev *dev);
const char *emu_last_error(void);

/* VFIO_DEVICE_FEATURE and VFIO_DEVICE_RESET, as the kernel answers them. */
int emu_dev_ioctl(struct emu_dev *dev, unsigned long cmd, void *arg);

/* The migration data stream (a data_fd handle from MIG_DEVICE_STATE SET). */
ssize_t emu_fd_read(int fd, void *buf, size_t len);
ssize_t emu_fd_write(int fd, const void *buf, size_t len);
int emu_fd_ioctl(int fd, unsigned long cmd, void *arg);
int emu_fd_close(int fd);
/* poll(2) answer: POLLIN when a read would not fail with ENOMSG, POLLOUT when writable. */
short emu_fd_poll(int fd);

/* Convenience wrappers over emu_dev_ioctl(); same return convention. */
/* VFIO_DEVICE_FEATURE with flags and a payload of up to 32 bytes, copied back. */
int emu_dev_feature(struct emu_dev *dev, uint32_t flags, void *payload, size_t len);
int emu_set_state(struct emu_dev *dev, enum vfio_device_mig_state state, int *data_fd);
int emu_get_state(struct emu_dev *dev, enum vfio_device_mig_state *state);
int emu_get_data_size(struct emu_dev *dev, uint64_t *stop_copy_length);
int emu_get_precopy_info(int fd, uint64_t *initial_bytes, uint64_t *dirty_bytes);

/* The kernel's vfio_mig_get_next_state(), for a device advertising mig_flags. */
int emu_mig_next_state(uint32_t mig_flags, enum vfio_device_mig_state cur,
		       enum vfio_device_mig_state new_state, enum vfio_device_mig_state *next);
bool emu_state_supported(uint32_t mig_flags, enum vfio_device_mig_state state);
bool emu_mig_flags_valid(uint32_t mig_flags);
int emu_flags_parse(const char *list, uint32_t *mig_flags);

/*
 * Fault injection: the nth FSM arc executed from now on (1 = the next one)
 * fails with -err, and so do the count - 1 arcs after it (walk-back arcs
 * included), so a test can fail any arc of a multi-step request.
 */
void emu_dev_inject_arc_failure(struct emu_dev *dev, unsigned int nth, int err, unsigned int count);

/* One executed FSM arc, kept as ground truth for the probes. */
struct emu_step {
	uint64_t t_start_ns, t_end_ns; /* CLOCK_MONOTONIC */
	uint8_t from, to;
	int16_t result; /* 0 or -errno */
};
/* Copies up to max of the most recent steps (oldest first); returns how many. */
size_t emu_dev_steps(struct emu_dev *dev, struct emu_step *out, size_t max);
uint64_t emu_dev_steps_total(struct emu_dev *dev);
/* The clock of the step log (CLOCK_MONOTONIC ns), for callers that time the same events. */
uint64_t emu_now_ns(void);

/* What a device is and does. */
uint32_t emu_dev_id(const struct emu_dev *dev);
uint32_t emu_dev_mig_flags(const struct emu_dev *dev);
const char *emu_dev_variant(const struct emu_dev *dev);
const char *emu_dev_strerror(struct emu_dev *dev); /* the last failure, one line */
/* A hash of the device's migratable state (registers and memory), to compare instances. */
uint64_t emu_dev_digest(struct emu_dev *dev);
/* Runs the variant's device work (DMA, memory updates) for units quanta, if the state allows. */
int emu_dev_run(struct emu_dev *dev, uint64_t units);

/*
 * Attaches the device to an IOMMU context (a type1 container or an iommufd
 * IOAS) for its DMA, in the given mode; dma_logging gives it DMA logging
 * (VFIO_DEVICE_FEATURE_DMA_LOGGING_*), which devices without it refuse
 * with ENOTTY as the kernel does.
 */
struct emu_iommu;
int emu_dev_attach_iommu(struct emu_dev *dev, struct emu_iommu *io, int dma_mode, bool dma_logging);
struct emu_iommu *emu_dev_iommu(struct emu_dev *dev, int *dma_mode);

/*
 * A variant pins and unpins guest pages through its IOMMU context as the
 * device (vfio_pin_pages(device, ...)), with the device lock held; the
 * device keeps its own account, the ground truth for the pin probes.
 */
struct emu_pin_stats {
	uint64_t pin_calls, pages_pinned, pin_errors, unpin_calls, pages_unpinned;
};
int emu_dev_pin_pages(struct emu_dev *dev, uint64_t iova, int npage, int prot);
void emu_dev_unpin_pages(struct emu_dev *dev, uint64_t iova, int npage);
void emu_dev_pin_stats(struct emu_dev *dev, struct emu_pin_stats *out);

/*
 * The v1 (pre-5.18, bit-encoded) protocol over the same core: accesses to
 * the migration region (struct vfio_device_migration_info, then the data
 * section), with pread/pwrite semantics on the region.
 */
#define EMU_V1_DATA_OFFSET 4096
#define EMU_V1_DATA_SIZE (1u << 20)
#define EMU_V1_REGION_SIZE (EMU_V1_DATA_OFFSET + EMU_V1_DATA_SIZE)
ssize_t emu_v1_region_read(struct emu_dev *dev, void *buf, size_t len, uint64_t off);
ssize_t emu_v1_region_write(struct emu_dev *dev, const void *buf, size_t len, uint64_t off);

#endif
