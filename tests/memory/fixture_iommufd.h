/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the iommufd tests share: an emulated IOAS and dirty-tracking HWPT on
 * 8 MiB of guest memory, its ioctls (each returning 0 or -errno), and
 * device writes through it.
 */
#ifndef VFMIG_FIXTURE_IOMMUFD_H
#define VFMIG_FIXTURE_IOMMUFD_H

#include <stdbool.h>

#include "common/vfmig_test.h"
#include "vfmig/uapi.h"
#include "memory/iommu.h"

#define PG 4096ull
#define MEM_SIZE (8ull << 20)
#define RW (IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE)
#define FIXED_RW (IOMMU_IOAS_MAP_FIXED_IOVA | RW)
#define BASE (4ull << 20)

struct fx {
	uint8_t *mem;
	struct emu_iommu *io;
};

int setup(void **state);
int teardown(void **state);

int ioc(struct fx *f, unsigned long cmd, void *arg);
/* The user address of guest memory at offset off. */
uint64_t va(struct fx *f, uint64_t off);
int ioas_map(struct fx *f, uint32_t flags, uint64_t off, uint64_t len, uint64_t *iova);
int map_fixed(struct fx *f, uint64_t iova, uint64_t off, uint64_t len);
void map_ok(struct fx *f, uint64_t iova, uint64_t off, uint64_t len);
int ioas_unmap(struct fx *f, uint32_t ioas, uint64_t iova, uint64_t len, uint64_t *out);
int set_dirty_ex(struct fx *f, uint32_t flags, uint32_t hwpt, uint32_t reserved);
int set_dirty(struct fx *f, bool on);
int get_dirty_ex(struct fx *f, uint32_t hwpt, uint32_t flags, uint32_t reserved, uint64_t iova,
		 uint64_t len, uint64_t page_size, void *data);
int get_dirty(struct fx *f, uint32_t flags, uint64_t iova, uint64_t len, uint64_t page_size,
	      void *data);
void get_ok(struct fx *f, uint32_t flags, uint64_t iova, uint64_t len, uint64_t page_size,
	    void *data);
/* A device write through the IOMMU: what dirty tracking must report. */
void hw_write(struct fx *f, uint64_t iova, size_t len);

#endif
