/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The emulated IOMMU side of dirty tracking: a type1 container
 * (VFIO_IOMMU_MAP_DMA / UNMAP_DMA / DIRTY_PAGES) or an iommufd IOAS with a
 * dirty-tracking HWPT (IOAS_MAP / IOAS_UNMAP / HWPT_SET_DIRTY_TRACKING /
 * HWPT_GET_DIRTY_BITMAP), each answering with the kernel's checks and errno
 * and reporting what the kernel would report, plus the in-kernel API a
 * device driver uses to reach guest memory (vfio_pin_pages, vfio_dma_rw, or
 * plain DMA through the IOMMU).
 */
#ifndef VFMIG_MEMORY_IOMMU_H
#define VFMIG_MEMORY_IOMMU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/types.h>

#include "vfmig/abi.h"
#include "vfmig/uapi.h"

#define EMU_IOMMU_PAGE 4096ull
#define EMU_PIN_PAGES_MAX 512 /* VFIO_PIN_PAGES_MAX_ENTRIES on 4 KiB pages */
#define EMU_IOAS_ID 1	      /* the one IOAS of an iommufd context */
#define EMU_HWPT_ID 2	      /* its dirty-tracking capable HWPT */
#define EMU_PROT_WRITE_PIN 2  /* IOMMU_WRITE, for emu_pin_pages() */

enum emu_iommu_kind { EMU_IOMMU_TYPE1, EMU_IOMMU_IOMMUFD };

/*
 * How a device reaches guest memory, which decides what type1 can see:
 * PIN (an mdev-like device pins the pages it uses: pinned pages are dirty
 * on every read), RW (vfio_dma_rw: each write is logged), IOMMU (a real
 * VF DMAs through the IOMMU without pinning: type1 must report every mapped
 * page dirty, a real cause of non-convergence).
 */
enum emu_dma_mode { EMU_DMA_PIN, EMU_DMA_RW, EMU_DMA_IOMMU };

struct emu_iommu;
/* Called (without the IOMMU lock) when an unmap covers pages the device pinned. */
typedef void (*emu_dma_unmap_fn)(void *opaque, uint64_t iova, uint64_t length);

/* mem/mem_size: the only host memory mappings may point at (guest RAM's DMA view). */
struct emu_iommu *emu_iommu_create(enum emu_iommu_kind kind, void *mem, uint64_t mem_size);
void emu_iommu_destroy(struct emu_iommu *io);
enum emu_iommu_kind emu_iommu_kind(const struct emu_iommu *io);
/* The context's number in its process (from 1), as the probes name it. */
uint32_t emu_iommu_id(const struct emu_iommu *io);
/* What the probes say a query or mapping acts on: the type1 container, else the context's
 * IOAS or HWPT (obj); see vfmig_obj(). */
uint64_t emu_iommu_what(const struct emu_iommu *io, enum vfmig_obj obj);
int emu_iommu_attach(struct emu_iommu *io, enum emu_dma_mode mode, emu_dma_unmap_fn unmap,
		     void *opaque);
void emu_iommu_detach(struct emu_iommu *io, int attach_id);

/* The container fd / /dev/iommu ioctls: 0 or -1 with errno. */
int emu_type1_ioctl(struct emu_iommu *io, unsigned long cmd, void *arg);
int emu_iommufd_ioctl(struct emu_iommu *io, unsigned long cmd, void *arg);

/*
 * Device side. Return pages pinned / 0, or -errno. dev is the pinning
 * device's id, as vfio_pin_pages() takes the device: the USDT probes carry it.
 */
int emu_pin_pages(struct emu_iommu *io, uint32_t dev, uint64_t iova, int npage, int prot);
void emu_unpin_pages(struct emu_iommu *io, uint32_t dev, uint64_t iova, int npage);
int emu_dma_rw(struct emu_iommu *io, uint64_t iova, void *data, size_t len, bool write);
int emu_iommu_dma_write(struct emu_iommu *io, uint64_t iova, const void *data, size_t len);
/* The iova_bitmap contract: set the bits of [iova, iova + len) in a page_size bitmap at base. */
void emu_report_bits(uint8_t *user, uint64_t base, uint64_t page_size, uint64_t iova, uint64_t len);
/* Host address of a mapped, pinned or IOMMU-reachable IOVA range, or NULL. */
void *emu_iommu_translate(struct emu_iommu *io, uint64_t iova, size_t len);

#endif
