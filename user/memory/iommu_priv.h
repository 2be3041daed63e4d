/* SPDX-License-Identifier: GPL-2.0 */
/* Internals shared by iommu.c, type1.c and iommufd.c. */
#ifndef VFMIG_MEMORY_IOMMU_PRIV_H
#define VFMIG_MEMORY_IOMMU_PRIV_H

#include <pthread.h>

#include "common/bitmap.h"
#include "memory/iommu.h"

#define EMU_MAX_ATTACH 16

/* One mapping: a vfio_dma for type1, an iopt_area for iommufd. */
struct emu_map {
	uint64_t iova, size;
	uint8_t *vaddr;
	uint32_t prot;	/* IOMMU_READ 1 | IOMMU_WRITE 2 */
	uint32_t *pins; /* pin count per page */
	uint64_t npinned;
	uint64_t *dirty; /* type1: pages dirtied since the last report (while tracking) */
	uint64_t *hw;	 /* iommufd: the IOPTE dirty bits */
};

struct emu_attach {
	bool used;
	enum emu_dma_mode mode;
	emu_dma_unmap_fn unmap;
	void *opaque;
};

struct emu_iommu {
	pthread_mutex_t lock;
	enum emu_iommu_kind kind;
	uint32_t id; /* this context's number in its process: probes tell contexts apart */
	uint8_t *mem;
	uint64_t mem_size;
	struct emu_map *maps; /* sorted by iova, never overlapping */
	size_t nmaps, cap;
	struct emu_attach att[EMU_MAX_ATTACH];
	bool tracking;	 /* type1 DIRTY_PAGES START..STOP */
	bool hwpt_dirty; /* iommufd HWPT dirty tracking enabled */
};

#define EMU_PROT_READ 1
#define EMU_PROT_WRITE 2

static inline uint64_t map_pages(const struct emu_map *m)
{
	return m->size / EMU_IOMMU_PAGE;
}

/* iommu.c, called with io->lock held */
struct emu_map *emu_map_find(struct emu_iommu *io, uint64_t iova);
struct emu_map *emu_map_first_in(struct emu_iommu *io, uint64_t iova, uint64_t size);
int emu_map_add(struct emu_iommu *io, uint64_t iova, uint64_t size, void *vaddr, uint32_t prot);
void emu_map_remove(struct emu_iommu *io, struct emu_map *m);
bool emu_iommu_has_mode(struct emu_iommu *io, enum emu_dma_mode mode);
void emu_iommu_unpin_range(struct emu_iommu *io, uint64_t iova, uint64_t size);

#endif
