/* SPDX-License-Identifier: GPL-2.0 */
/*
 * An emulated VM: guest RAM, vCPU-like writers, and emulated devices, each
 * in its own IOMMU context with guest RAM mapped at IOVA 0, with a runner
 * thread that makes the devices work (DMA, on-board memory writes) at their
 * set rates. The migration driver (migrate.c) moves one between processes.
 */
#ifndef VFMIG_MIGRATION_VM_H
#define VFMIG_MIGRATION_VM_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "device/device.h"
#include "memory/guest_mem.h"
#include "memory/iommu.h"
#include "memory/workload.h"

#define VM_MAX_DEVICES 4

/* How the driver learns what a device dirtied in guest RAM. */
enum vm_dirty {
	VM_DIRTY_NONE,	      /* the device does no DMA to guest RAM */
	VM_DIRTY_TYPE1_PIN,   /* type1 container; the device pins what it uses */
	VM_DIRTY_TYPE1_RW,    /* type1 container; the device writes with vfio_dma_rw */
	VM_DIRTY_TYPE1_IOMMU, /* type1 container; IOMMU DMA, no pinning: all pages dirty */
	VM_DIRTY_DMA_LOG,     /* the device logs its own DMA (DMA_LOGGING_*) */
	VM_DIRTY_IOMMUFD,     /* iommufd HWPT dirty bits */
};

struct vm_dev_spec {
	char variant[16];
	char params[160];  /* variant options */
	uint32_t features; /* 0: the variant's */
	enum vm_dirty dirty;
	uint64_t rate; /* device work units per second */
};

struct vm_cfg {
	uint64_t mem_size;
	struct workload_cfg wl; /* mem and mem_pages are filled in by vm_create */
	unsigned int ndevs;
	struct vm_dev_spec devs[VM_MAX_DEVICES];
};

struct vm_device {
	struct vm_dev_spec spec;
	struct emu_dev *dev;
	struct emu_iommu *io;
	uint64_t *bitmap; /* scratch for this device's dirty report */
};

/* Each device's most recent FSM arcs, from its own step log (the probes' ground truth). */
#define VM_MAX_ARCS 64
struct vm_arcs {
	uint32_t ndevs;
	uint32_t n[VM_MAX_DEVICES];
	struct emu_step step[VM_MAX_DEVICES][VM_MAX_ARCS];
};

struct vm {
	struct vm_cfg cfg;
	struct guest_mem *mem;
	struct workload *wl;
	struct vm_device devs[VM_MAX_DEVICES];
	pthread_t runner;
	bool runner_on, runner_stop, runner_paused;
	pthread_mutex_t runner_lock;
	pthread_cond_t runner_cond;
	char err[256];
};

const char *vm_dirty_name(enum vm_dirty d);
int vm_dirty_parse(const char *s, enum vm_dirty *d);
/* "VARIANT[:key=value,...]" with vm keys dirty=, rate=, features=; the rest goes to the variant. */
int vm_dev_spec_parse(const char *s, struct vm_dev_spec *spec, char *err, size_t errlen);
/* A one-line text of the configuration, for the peer to rebuild the same VM; and back. */
int vm_cfg_format(const struct vm_cfg *cfg, char *buf, size_t len);
int vm_cfg_parse(const char *text, struct vm_cfg *cfg, char *err, size_t errlen);

void vm_arcs_collect(struct vm *vm, struct vm_arcs *out);

/* Builds the VM (devices RUNNING, nothing running yet). NULL with vm_last_error(). */
struct vm *vm_create(const struct vm_cfg *cfg, char *err, size_t errlen);
void vm_destroy(struct vm *vm);
/* vCPU writers and device runner. */
int vm_start(struct vm *vm);
void vm_pause(struct vm *vm); /* vCPUs parked, device work stopped */
void vm_resume(struct vm *vm);
void vm_stop(struct vm *vm);

/* Starts dirty tracking of guest RAM: vCPU log and every device's interface. */
int vm_track_start(struct vm *vm);
void vm_track_stop(struct vm *vm);
/*
 * Harvests what was dirtied since the last harvest: ORs vCPU pages into
 * bitmap and each device's pages too, counting each source's pages in
 * by_src[0] (vCPU) and by_src[1 + i] (device i).
 */
int vm_harvest(struct vm *vm, uint64_t *bitmap, uint64_t *by_src);
uint64_t vm_ram_digest(struct vm *vm);

#endif
