/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest RAM for the emulated device: one memfd mapped twice.
 *
 * The vCPU mapping is what vCPU-like threads write; the DMA mapping is what
 * device variants' DMA engines write. Both see the same bytes. Only the vCPU
 * mapping is dirty-tracked, with the kernel's own machinery: userfaultfd
 * write-protect in async mode (the kernel resolves the fault itself and only
 * clears the PTE's uffd-wp bit) and PAGEMAP_SCAN, which returns the written
 * pages and write-protects them again in one walk. Device DMA therefore never
 * shows in the vCPU dirty log, as on a real host.
 *
 * Both mappings are populated, locked and kept off transparent huge pages,
 * so one write fault is exactly one 4 KiB page dirtied and no page can be
 * reclaimed (a reclaimed written PTE would read back as "not written").
 *
 * Bitmaps: bit i is page i of guest RAM, in little-endian u64 words
 * (word i / 64, bit i % 64); a bitmap for the whole guest has
 * guest_mem_bitmap_words() words.
 *
 * Calls return 0, or -1 with errno set and guest_mem_error() saying why in
 * one line. A guest_mem is not thread-safe: one thread arms and harvests
 * while any number of threads write through the mappings.
 */
#ifndef VFMIG_MEMORY_GUEST_MEM_H
#define VFMIG_MEMORY_GUEST_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct guest_mem;

/*
 * Kernel support for vCPU dirty tracking, without creating guest memory.
 * 0 when supported; otherwise -1 with a one-line reason in err, e.g.
 * "kernel lacks userfaultfd WP_ASYNC (needs Linux 6.7+)".
 */
int guest_mem_probe(char *err, size_t errlen);

/*
 * size bytes of guest RAM (a non-zero multiple of the page size), zeroed,
 * both mappings populated and locked. NULL with errno and err set on failure.
 * Dirty tracking is not armed: see guest_mem_track_start().
 */
struct guest_mem *guest_mem_create(uint64_t size, char *err, size_t errlen);
void guest_mem_destroy(struct guest_mem *g);

void *guest_mem_vcpu(const struct guest_mem *g);
void *guest_mem_dma(const struct guest_mem *g);
uint64_t guest_mem_size(const struct guest_mem *g);
uint64_t guest_mem_pages(const struct guest_mem *g);
size_t guest_mem_page_size(const struct guest_mem *g);
int guest_mem_fd(const struct guest_mem *g);
const char *guest_mem_error(const struct guest_mem *g);

static inline uint64_t guest_mem_bitmap_words(const struct guest_mem *g)
{
	return (guest_mem_pages(g) + 63) / 64;
}

/*
 * Registers the vCPU mapping for async write-protect and arms it (every page
 * write-protected): from here on, a page written through the vCPU mapping is
 * reported by the next harvest. Fails with the kernel's missing feature named.
 */
int guest_mem_track_start(struct guest_mem *g);

/*
 * Pages written through the vCPU mapping since the last arm or harvest: ORs
 * their bits into bitmap (guest_mem_bitmap_words() words) and stores in
 * *ndirty how many pages this harvest reported. Those pages are
 * write-protected again atomically with the report, so a write racing with
 * the harvest is reported either now or by the next one, never lost.
 */
int guest_mem_harvest(struct guest_mem *g, uint64_t *bitmap, uint64_t *ndirty);

/* Unregisters: the vCPU mapping becomes plain writable memory again. */
void guest_mem_track_stop(struct guest_mem *g);
bool guest_mem_tracking(const struct guest_mem *g);

/*
 * Test hooks. guest_mem_set_scan_vec() sets how many page_region entries a
 * PAGEMAP_SCAN call may return (default 4096), to exercise the walk_end
 * restart with a tiny output array. guest_mem_test_hide() makes the probe
 * believe the kernel lacks the given UFFD_FEATURE_* bits (and PAGEMAP_SCAN if
 * no_pagemap_scan), to check the unsupported-kernel message; 0/false undoes.
 */
int guest_mem_set_scan_vec(struct guest_mem *g, size_t entries);
void guest_mem_test_hide(uint64_t uffd_features, bool no_pagemap_scan);

#endif
