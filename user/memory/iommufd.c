// SPDX-License-Identifier: GPL-2.0
/*
 * The iommufd ioctls the dirty path needs, with the framing of
 * iommufd_fops_ioctl() (size field, minimum size, E2BIG for non-zero
 * trailing bytes) and the checks of ioas.c, hw_pagetable.c and
 * io_pagetable.c: IOAS_MAP, IOAS_UNMAP, HWPT_SET_DIRTY_TRACKING and
 * HWPT_GET_DIRTY_BITMAP (read-and-clear of the IOPTE dirty bits, or only
 * read with NO_CLEAR). One IOAS (EMU_IOAS_ID) with one dirty-capable
 * paging HWPT (EMU_HWPT_ID).
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "memory/iommu_priv.h"
#include "vfmig/usdt.h"

#define ULONG_MAX_ ((uint64_t)~0ul)

struct ioctl_op {
	unsigned long cmd;
	size_t size, min_size;
};

static const struct ioctl_op ops[] = {
	{IOMMU_IOAS_MAP, sizeof(struct iommu_ioas_map), offsetof(struct iommu_ioas_map, iova) + 8},
	{IOMMU_IOAS_UNMAP, sizeof(struct iommu_ioas_unmap),
	 offsetof(struct iommu_ioas_unmap, length) + 8},
	{IOMMU_HWPT_SET_DIRTY_TRACKING, sizeof(struct iommu_hwpt_set_dirty_tracking),
	 offsetof(struct iommu_hwpt_set_dirty_tracking, __reserved) + 4},
	{IOMMU_HWPT_GET_DIRTY_BITMAP, sizeof(struct iommu_hwpt_get_dirty_bitmap),
	 offsetof(struct iommu_hwpt_get_dirty_bitmap, data) + 8},
};

/* copy_struct_from_user(): a larger struct from a newer user is fine if its tail is zero. */
static int fetch(const struct ioctl_op *op, const void *arg, void *buf)
{
	uint32_t user_size;
	size_t i;

	memcpy(&user_size, arg, sizeof(user_size));
	if (user_size < op->min_size)
		return -EINVAL;
	memset(buf, 0, op->size);
	memcpy(buf, arg, user_size < op->size ? user_size : op->size);
	for (i = op->size; i < user_size; i++) {
		if (((const uint8_t *)arg)[i])
			return -E2BIG;
	}
	return 0;
}

static void respond(const struct ioctl_op *op, void *arg, const void *buf)
{
	uint32_t user_size;

	memcpy(&user_size, arg, sizeof(user_size));
	memcpy(arg, buf, user_size < op->size ? user_size : op->size);
}

/*
 * iopt_alloc_iova(): the lowest free IOVA from one page up, aligned like the
 * user address (to keep huge pages mappable), at most to the length rounded
 * up to a power of two and to 2 MiB.
 */
static uint64_t alloc_iova(struct emu_iommu *io, uint64_t uptr, uint64_t length)
{
	uint64_t align = 1, iova;
	size_t i;

	while (align < length)
		align <<= 1;
	if (uptr && (uptr & -uptr) < align)
		align = uptr & -uptr;
	if (align > (2u << 20))
		align = 2u << 20;
	if (align < EMU_IOMMU_PAGE)
		align = EMU_IOMMU_PAGE;
	iova = align;
	for (i = 0; i < io->nmaps; i++) {
		if (io->maps[i].iova >= iova + length)
			break;
		if (io->maps[i].iova + io->maps[i].size > iova)
			iova = (io->maps[i].iova + io->maps[i].size + align - 1) & ~(align - 1);
	}
	return iova;
}

static int ioas_map(struct emu_iommu *io, struct iommu_ioas_map *cmd)
{
	uint32_t prot = 0;
	int ret;

	if (cmd->flags & ~(IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_WRITEABLE |
			   IOMMU_IOAS_MAP_READABLE) ||
	    cmd->__reserved)
		return -EOPNOTSUPP;
	if (cmd->iova >= ULONG_MAX_ || cmd->length >= ULONG_MAX_)
		return -EOVERFLOW;
	if (!(cmd->flags & (IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE)))
		return -EINVAL;
	if (cmd->ioas_id != EMU_IOAS_ID)
		return -ENOENT;
	if (!cmd->length || cmd->length % EMU_IOMMU_PAGE || cmd->user_va % EMU_IOMMU_PAGE)
		return -EINVAL;
	if ((cmd->flags & IOMMU_IOAS_MAP_FIXED_IOVA) && cmd->iova + cmd->length - 1 < cmd->iova)
		return -EOVERFLOW;
	if (!(cmd->flags & IOMMU_IOAS_MAP_FIXED_IOVA))
		cmd->iova = alloc_iova(io, cmd->user_va, cmd->length);
	else if (cmd->iova % EMU_IOMMU_PAGE)
		return -EINVAL;
	if (emu_map_first_in(io, cmd->iova, cmd->length))
		return -EEXIST;
	if (cmd->flags & IOMMU_IOAS_MAP_WRITEABLE)
		prot |= EMU_PROT_WRITE;
	if (cmd->flags & IOMMU_IOAS_MAP_READABLE)
		prot |= EMU_PROT_READ;
	ret = emu_map_add(io, cmd->iova, cmd->length, (void *)(uintptr_t)cmd->user_va, prot);
	return ret;
}

static int ioas_unmap(struct emu_iommu *io, struct iommu_ioas_unmap *cmd)
{
	uint64_t first = cmd->iova, last = cmd->iova + cmd->length - 1, unmapped = 0;
	struct emu_map *m;

	if (cmd->ioas_id != EMU_IOAS_ID)
		return -ENOENT;
	if (cmd->iova == 0 && cmd->length == UINT64_MAX) {
		last = UINT64_MAX;
	} else {
		if (cmd->iova >= ULONG_MAX_ || cmd->length >= ULONG_MAX_)
			return -EOVERFLOW;
		if (!cmd->length)
			return -EINVAL;
		if (last < first)
			return -EOVERFLOW;
	}
	while ((m = emu_map_first_in(io, first, last - first + 1))) {
		if (m->iova < first || m->iova + m->size - 1 > last)
			return -ENOENT; /* an area only partly covered */
		if (m->npinned) {
			emu_iommu_unpin_range(io, m->iova, m->size);
			m = emu_map_first_in(io, first, last - first + 1);
			if (!m || m->npinned)
				return -EBUSY;
		}
		unmapped += m->size;
		emu_map_remove(io, m);
	}
	if (!unmapped && !(cmd->iova == 0 && cmd->length == UINT64_MAX))
		return -ENOENT;
	cmd->length = unmapped;
	return 0;
}

static int set_dirty_tracking(struct emu_iommu *io, struct iommu_hwpt_set_dirty_tracking *cmd)
{
	size_t i;

	if (cmd->flags & ~IOMMU_HWPT_DIRTY_TRACKING_ENABLE)
		return -EOPNOTSUPP;
	if (cmd->hwpt_id != EMU_HWPT_ID)
		return -ENOENT;
	if (cmd->flags & IOMMU_HWPT_DIRTY_TRACKING_ENABLE) {
		/* A clean snapshot: enabling clears the dirty bits first. */
		for (i = 0; i < io->nmaps; i++)
			memset(io->maps[i].hw, 0, BITMAP_WORDS(map_pages(&io->maps[i])) * 8);
	}
	io->hwpt_dirty = cmd->flags & IOMMU_HWPT_DIRTY_TRACKING_ENABLE;
	return 0;
}

static int check_iova_range(const struct iommu_hwpt_get_dirty_bitmap *cmd)
{
	uint64_t last;

	if (!cmd->length)
		return -EINVAL;
	if (__builtin_add_overflow(cmd->iova, cmd->length - 1, &last))
		return -EOVERFLOW;
	if (cmd->iova > ULONG_MAX_ || last > ULONG_MAX_)
		return -EOVERFLOW;
	if (cmd->iova % EMU_IOMMU_PAGE || (last + 1) % EMU_IOMMU_PAGE)
		return -EINVAL;
	if (!cmd->page_size)
		return -EINVAL;
	if (cmd->iova & (cmd->page_size - 1) || (last + 1) & (cmd->page_size - 1))
		return -EINVAL;
	return 0;
}

/*
 * Reports every dirty IOPTE of [iova, iova + length), clearing it unless
 * NO_CLEAR. Like the kernel's contiguous-area walk, it stops at the first
 * hole (and the call still succeeds).
 */
static void read_dirty(struct emu_iommu *io, const struct iommu_hwpt_get_dirty_bitmap *cmd)
{
	uint64_t end = cmd->iova + cmd->length, next = cmd->iova;
	size_t i;

	for (i = 0; i < io->nmaps; i++) {
		struct emu_map *m = &io->maps[i];
		uint64_t pg, first, last;

		if (m->iova >= end || m->iova + m->size <= cmd->iova)
			continue;
		if (m->iova > next)
			return;
		next = m->iova + m->size;
		first = m->iova < cmd->iova ? (cmd->iova - m->iova) / EMU_IOMMU_PAGE : 0;
		last = (m->iova + m->size < end ? m->size : end - m->iova) / EMU_IOMMU_PAGE;
		for (pg = bitmap_next(m->hw, first, last); pg < last;
		     pg = bitmap_next(m->hw, pg + 1, last)) {
			emu_report_bits((uint8_t *)(uintptr_t)cmd->data, cmd->iova, cmd->page_size,
					m->iova + pg * EMU_IOMMU_PAGE, EMU_IOMMU_PAGE);
			if (!(cmd->flags & IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR))
				bitmap_clear1(m->hw, pg);
		}
	}
}

static int get_dirty_bitmap(struct emu_iommu *io, struct iommu_hwpt_get_dirty_bitmap *cmd)
{
	int ret;

	if (cmd->flags & ~IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR || cmd->__reserved)
		return -EOPNOTSUPP;
	if (cmd->hwpt_id != EMU_HWPT_ID)
		return -ENOENT;
	ret = check_iova_range(cmd);
	if (ret)
		return ret;
	if (!cmd->data)
		return -EFAULT;
	EMU_PROBE6(dirty_query_start, 3, emu_iommu_what(io, VFMIG_OBJ_HWPT), cmd->iova, cmd->length,
		   cmd->page_size, cmd->data);
	read_dirty(io, cmd);
	EMU_PROBE6(dirty_query_end, 3, emu_iommu_what(io, VFMIG_OBJ_HWPT), cmd->iova, cmd->length,
		   cmd->data, (cmd->length / cmd->page_size + 7) / 8);
	return 0;
}

static int dispatch(struct emu_iommu *io, unsigned long cmd, void *buf)
{
	switch (cmd) {
	case IOMMU_IOAS_MAP:
		return ioas_map(io, buf);
	case IOMMU_IOAS_UNMAP:
		return ioas_unmap(io, buf);
	case IOMMU_HWPT_SET_DIRTY_TRACKING:
		return set_dirty_tracking(io, buf);
	default:
		return get_dirty_bitmap(io, buf);
	}
}

int emu_iommufd_ioctl(struct emu_iommu *io, unsigned long cmd, void *arg)
{
	uint8_t buf[64];
	size_t i;
	int ret = -ENOTTY;

	if (!io || io->kind != EMU_IOMMU_IOMMUFD) {
		errno = io ? ENOTTY : EBADF;
		return -1;
	}
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		if (ops[i].cmd == cmd)
			break;
	}
	if (i == sizeof(ops) / sizeof(ops[0]) || !arg) {
		errno = arg ? ENOTTY : EFAULT;
		return -1;
	}
	pthread_mutex_lock(&io->lock);
	ret = fetch(&ops[i], arg, buf);
	if (!ret)
		ret = dispatch(io, cmd, buf);
	if (!ret)
		respond(&ops[i], arg, buf);
	pthread_mutex_unlock(&io->lock);
	if (ret < 0) {
		errno = -ret;
		return -1;
	}
	return 0;
}
