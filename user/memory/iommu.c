// SPDX-License-Identifier: GPL-2.0
/*
 * Mappings, attachments and the device-side DMA paths of the emulated
 * IOMMU. The ioctl surfaces live in type1.c and iommufd.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "memory/iommu_priv.h"
#include "vfmig/usdt.h"

static uint32_t next_iommu_id;

struct emu_iommu *emu_iommu_create(enum emu_iommu_kind kind, void *mem, uint64_t mem_size)
{
	struct emu_iommu *io = calloc(1, sizeof(*io));

	if (!io)
		return NULL;
	pthread_mutex_init(&io->lock, NULL);
	io->kind = kind;
	io->id = __atomic_add_fetch(&next_iommu_id, 1, __ATOMIC_RELAXED);
	io->mem = mem;
	io->mem_size = mem_size;
	return io;
}

static void map_free(struct emu_map *m)
{
	free(m->pins);
	free(m->dirty);
	free(m->hw);
}

void emu_iommu_destroy(struct emu_iommu *io)
{
	size_t i;

	if (!io)
		return;
	for (i = 0; i < io->nmaps; i++)
		map_free(&io->maps[i]);
	free(io->maps);
	pthread_mutex_destroy(&io->lock);
	free(io);
}

enum emu_iommu_kind emu_iommu_kind(const struct emu_iommu *io)
{
	return io->kind;
}

uint32_t emu_iommu_id(const struct emu_iommu *io)
{
	return io->id;
}

uint64_t emu_iommu_what(const struct emu_iommu *io, enum vfmig_obj obj)
{
	if (io->kind == EMU_IOMMU_TYPE1)
		return vfmig_obj(VFMIG_OBJ_TYPE1, io->id);
	return vfmig_obj(obj, io->id << 16 | (obj == VFMIG_OBJ_HWPT ? EMU_HWPT_ID : EMU_IOAS_ID));
}

int emu_iommu_attach(struct emu_iommu *io, enum emu_dma_mode mode, emu_dma_unmap_fn unmap,
		     void *opaque)
{
	int i, ret = -ENOSPC;

	pthread_mutex_lock(&io->lock);
	for (i = 0; i < EMU_MAX_ATTACH; i++) {
		if (!io->att[i].used) {
			io->att[i] = (struct emu_attach){true, mode, unmap, opaque};
			ret = i;
			break;
		}
	}
	pthread_mutex_unlock(&io->lock);
	return ret;
}

void emu_iommu_detach(struct emu_iommu *io, int id)
{
	if (id < 0 || id >= EMU_MAX_ATTACH)
		return;
	pthread_mutex_lock(&io->lock);
	/* A device that DMAd unseen leaves: what it may have written is all dirty. */
	if (io->att[id].used && io->att[id].mode == EMU_DMA_IOMMU && io->tracking) {
		size_t i;

		for (i = 0; i < io->nmaps; i++)
			bitmap_set_range(io->maps[i].dirty, 0, map_pages(&io->maps[i]));
	}
	io->att[id].used = false;
	pthread_mutex_unlock(&io->lock);
}

bool emu_iommu_has_mode(struct emu_iommu *io, enum emu_dma_mode mode)
{
	int i;

	for (i = 0; i < EMU_MAX_ATTACH; i++) {
		if (io->att[i].used && io->att[i].mode == mode)
			return true;
	}
	return false;
}

/* The mapping holding iova, or NULL. */
struct emu_map *emu_map_find(struct emu_iommu *io, uint64_t iova)
{
	size_t lo = 0, hi = io->nmaps;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		struct emu_map *m = &io->maps[mid];

		if (iova < m->iova)
			hi = mid;
		else if (iova - m->iova >= m->size)
			lo = mid + 1;
		else
			return m;
	}
	return NULL;
}

/* The first mapping that intersects [iova, iova + size), or NULL. */
struct emu_map *emu_map_first_in(struct emu_iommu *io, uint64_t iova, uint64_t size)
{
	size_t i;

	for (i = 0; i < io->nmaps; i++) {
		struct emu_map *m = &io->maps[i];

		if (m->iova + m->size - 1 >= iova && m->iova <= iova + size - 1)
			return m;
	}
	return NULL;
}

int emu_map_add(struct emu_iommu *io, uint64_t iova, uint64_t size, void *vaddr, uint32_t prot)
{
	uint64_t npages = size / EMU_IOMMU_PAGE;
	struct emu_map m = {iova, size, vaddr, prot};
	size_t i;

	if ((uint8_t *)vaddr < io->mem || (uint8_t *)vaddr + size > io->mem + io->mem_size)
		return -EFAULT; /* the kernel fails pinning such a range the same way */
	if (io->nmaps == io->cap) {
		size_t cap = io->cap ? io->cap * 2 : 16;
		struct emu_map *maps = realloc(io->maps, cap * sizeof(*maps));

		if (!maps)
			return -ENOMEM;
		io->maps = maps;
		io->cap = cap;
	}
	m.pins = calloc(npages, sizeof(*m.pins));
	m.dirty = calloc(BITMAP_WORDS(npages) + 1, 8);
	m.hw = calloc(BITMAP_WORDS(npages) + 1, 8);
	if (!m.pins || !m.dirty || !m.hw) {
		map_free(&m);
		return -ENOMEM;
	}
	for (i = io->nmaps; i > 0 && io->maps[i - 1].iova > iova; i--)
		io->maps[i] = io->maps[i - 1];
	io->maps[i] = m;
	io->nmaps++;
	EMU_PROBE4(iommu_map, io->kind, emu_iommu_what(io, VFMIG_OBJ_IOAS), iova, size);
	return 0;
}

void emu_map_remove(struct emu_iommu *io, struct emu_map *m)
{
	size_t i = m - io->maps;

	EMU_PROBE4(iommu_unmap, io->kind, emu_iommu_what(io, VFMIG_OBJ_IOAS), m->iova, m->size);
	map_free(m);
	memmove(&io->maps[i], &io->maps[i + 1], (io->nmaps - i - 1) * sizeof(*m));
	io->nmaps--;
}

/*
 * An unmap over pinned pages asks every device to unpin them first, the
 * way vfio_notify_dma_unmap() does; the devices call back into us, so the
 * lock is dropped meanwhile.
 */
void emu_iommu_unpin_range(struct emu_iommu *io, uint64_t iova, uint64_t size)
{
	struct emu_attach att[EMU_MAX_ATTACH];
	int i;

	memcpy(att, io->att, sizeof(att));
	pthread_mutex_unlock(&io->lock);
	for (i = 0; i < EMU_MAX_ATTACH; i++) {
		if (att[i].used && att[i].unmap)
			att[i].unmap(att[i].opaque, iova, size);
	}
	pthread_mutex_lock(&io->lock);
}

/* The iova_bitmap contract: set the bits of [iova, iova + len) in a page_size bitmap. */
void emu_report_bits(uint8_t *user, uint64_t base, uint64_t page_size, uint64_t iova, uint64_t len)
{
	uint64_t first = (iova - base) / page_size, last = (iova + len - 1 - base) / page_size;

	for (; first <= last; first++)
		user[first / 8] |= 1u << (first % 8);
}

static int pin_one(struct emu_iommu *io, uint64_t iova, int prot)
{
	struct emu_map *m = emu_map_find(io, iova);
	uint64_t pg;

	if (!m)
		return -EINVAL;
	if ((m->prot & prot) != (uint32_t)prot)
		return -EPERM;
	pg = (iova - m->iova) / EMU_IOMMU_PAGE;
	if (!m->pins[pg]++)
		m->npinned++;
	if (io->tracking)
		bitmap_set1(m->dirty, pg);
	return 0;
}

static void unpin_one(struct emu_iommu *io, uint64_t iova)
{
	struct emu_map *m = emu_map_find(io, iova);
	uint64_t pg;

	if (!m)
		return;
	pg = (iova - m->iova) / EMU_IOMMU_PAGE;
	if (m->pins[pg] && !--m->pins[pg])
		m->npinned--;
}

/* vfio_pin_pages(): all pages or none. */
int emu_pin_pages(struct emu_iommu *io, uint32_t dev, uint64_t iova, int npage, int prot)
{
	int i, ret = 0;

	if (npage <= 0 || iova % EMU_IOMMU_PAGE)
		return -EINVAL;
	if (npage > EMU_PIN_PAGES_MAX)
		return -E2BIG;
	pthread_mutex_lock(&io->lock);
	for (i = 0; i < npage && !ret; i++)
		ret = pin_one(io, iova + i * EMU_IOMMU_PAGE, prot);
	if (ret) {
		while (--i > 0)
			unpin_one(io, iova + (i - 1) * EMU_IOMMU_PAGE);
	}
	pthread_mutex_unlock(&io->lock);
	EMU_PROBE5(pin_pages, dev, io->kind, iova, npage, ret ? ret : npage);
	return ret ? ret : npage;
}

void emu_unpin_pages(struct emu_iommu *io, uint32_t dev, uint64_t iova, int npage)
{
	int i;

	pthread_mutex_lock(&io->lock);
	for (i = 0; i < npage; i++)
		unpin_one(io, iova + i * EMU_IOMMU_PAGE);
	pthread_mutex_unlock(&io->lock);
	EMU_PROBE4(unpin_pages, dev, io->kind, iova, npage);
}

/* Walks [iova, iova + len) over mappings; fn handles each piece within one mapping. */
static int walk(struct emu_iommu *io, uint64_t iova, size_t len, uint32_t prot,
		int (*fn)(struct emu_iommu *, struct emu_map *, uint64_t, uint8_t *, size_t,
			  void *),
		void *arg)
{
	while (len) {
		struct emu_map *m = emu_map_find(io, iova);
		uint64_t off, n;
		int ret;

		if (!m)
			return -EINVAL;
		if ((m->prot & prot) != prot)
			return -EPERM;
		off = iova - m->iova;
		n = m->size - off < len ? m->size - off : len;
		ret = fn(io, m, off, m->vaddr + off, n, arg);
		if (ret)
			return ret;
		iova += n;
		len -= n;
		arg = (uint8_t *)arg + n;
	}
	return 0;
}

static void mark(uint64_t *map, uint64_t off, size_t n)
{
	uint64_t pg = off / EMU_IOMMU_PAGE, last = (off + n - 1) / EMU_IOMMU_PAGE;

	bitmap_set_range(map, pg, last - pg + 1);
}

static int rw_piece(struct emu_iommu *io, struct emu_map *m, uint64_t off, uint8_t *host, size_t n,
		    void *data)
{
	(void)io;
	(void)m;
	(void)off;
	memcpy(data, host, n);
	return 0;
}

static int write_piece(struct emu_iommu *io, struct emu_map *m, uint64_t off, uint8_t *host,
		       size_t n, void *data)
{
	memcpy(host, data, n);
	if (io->tracking)
		mark(m->dirty, off, n);
	return 0;
}

static int hw_write_piece(struct emu_iommu *io, struct emu_map *m, uint64_t off, uint8_t *host,
			  size_t n, void *data)
{
	memcpy(host, data, n);
	if (io->hwpt_dirty)
		mark(m->hw, off, n);
	return 0;
}

/* vfio_dma_rw(): a write marks its pages dirty while type1 tracking is on. */
int emu_dma_rw(struct emu_iommu *io, uint64_t iova, void *data, size_t len, bool write)
{
	int ret;

	if (!len)
		return -EINVAL;
	pthread_mutex_lock(&io->lock);
	/* vfio_iommu_type1_dma_rw_chunk() wants IOMMU_READ for writes too */
	ret = walk(io, iova, len, write ? EMU_PROT_READ | EMU_PROT_WRITE : EMU_PROT_READ,
		   write ? write_piece : rw_piece, data);
	pthread_mutex_unlock(&io->lock);
	return ret;
}

/* A device DMA write through the IOMMU: only the IOPTE dirty bits see it. */
int emu_iommu_dma_write(struct emu_iommu *io, uint64_t iova, const void *data, size_t len)
{
	int ret;

	if (!len)
		return 0;
	pthread_mutex_lock(&io->lock);
	ret = walk(io, iova, len, EMU_PROT_WRITE, hw_write_piece, (void *)data);
	pthread_mutex_unlock(&io->lock);
	return ret;
}

void *emu_iommu_translate(struct emu_iommu *io, uint64_t iova, size_t len)
{
	struct emu_map *m;
	void *p = NULL;

	pthread_mutex_lock(&io->lock);
	m = emu_map_find(io, iova);
	if (m && len <= m->size - (iova - m->iova))
		p = m->vaddr + (iova - m->iova);
	pthread_mutex_unlock(&io->lock);
	return p;
}
