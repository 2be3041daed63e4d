/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * vfmig: kernel uAPI definitions missing from older installed headers.
 *
 * The system headers are included first so that their definitions are
 * used whenever they exist.  Each block below is guarded on a macro the
 * kernel introduced together with the item, so compiling against newer
 * uapi headers (e.g. 6.12) makes every block vanish.  Values and layouts
 * are those of the kernel; "make check-abi" compares them with the
 * linux-source-6.12 uapi headers.
 */
#ifndef VFMIG_UAPI_H
#define VFMIG_UAPI_H

#include <linux/types.h>
#include <linux/ioctl.h>
#include <linux/vfio.h>
#include <linux/userfaultfd.h>
#include <linux/fs.h>
#include <linux/kvm.h>
#if defined(__has_include)
#if __has_include(<linux/iommufd.h>)
#include <linux/iommufd.h>
#endif
#endif

/* ---- vfio.h ---------------------------------------------------------- */

/* 6.2: PRE_COPY states, precopy info ioctl on the migration data fd */
#ifndef VFIO_MIG_GET_PRECOPY_INFO
#ifndef VFIO_MIGRATION_PRE_COPY
#define VFIO_MIGRATION_PRE_COPY (1 << 2)
#endif
/* members of enum vfio_device_mig_state that the older enum lacks */
#define VFIO_DEVICE_STATE_PRE_COPY 6
#define VFIO_DEVICE_STATE_PRE_COPY_P2P 7
#define VFIO_DEVICE_STATE_NR 8

struct vfio_precopy_info {
	__u32 argsz;
	__u32 flags;
	__aligned_u64 initial_bytes;
	__aligned_u64 dirty_bytes;
};

#define VFIO_MIG_GET_PRECOPY_INFO _IO(VFIO_TYPE, VFIO_BASE + 21)
#endif /* VFIO_MIG_GET_PRECOPY_INFO */

/* 6.2: estimated STOP_COPY data length */
#ifndef VFIO_DEVICE_FEATURE_MIG_DATA_SIZE
struct vfio_device_feature_mig_data_size {
	__aligned_u64 stop_copy_length;
};

#define VFIO_DEVICE_FEATURE_MIG_DATA_SIZE 9
#endif

/* post-6.1 (vfio-cdx): bus master control for devices without PCI config space */
#ifndef VFIO_DEVICE_FEATURE_BUS_MASTER
struct vfio_device_feature_bus_master {
	__u32 op;
#define VFIO_DEVICE_FEATURE_CLEAR_MASTER 0
#define VFIO_DEVICE_FEATURE_SET_MASTER 1
};
#define VFIO_DEVICE_FEATURE_BUS_MASTER 10
#endif

/* ---- iommufd.h: no such header before 6.2 ----------------------------- */

/* 6.2: base iommufd commands, IOAS map/unmap */
#ifndef IOMMUFD_TYPE
#define IOMMUFD_TYPE (';')

enum {
	IOMMUFD_CMD_BASE = 0x80,
	IOMMUFD_CMD_DESTROY = IOMMUFD_CMD_BASE,
	IOMMUFD_CMD_IOAS_ALLOC = 0x81,
	IOMMUFD_CMD_IOAS_ALLOW_IOVAS = 0x82,
	IOMMUFD_CMD_IOAS_COPY = 0x83,
	IOMMUFD_CMD_IOAS_IOVA_RANGES = 0x84,
	IOMMUFD_CMD_IOAS_MAP = 0x85,
	IOMMUFD_CMD_IOAS_UNMAP = 0x86,
	IOMMUFD_CMD_OPTION = 0x87,
	IOMMUFD_CMD_VFIO_IOAS = 0x88,
};

struct iommu_destroy {
	__u32 size;
	__u32 id;
};
#define IOMMU_DESTROY _IO(IOMMUFD_TYPE, IOMMUFD_CMD_DESTROY)

struct iommu_ioas_alloc {
	__u32 size;
	__u32 flags;
	__u32 out_ioas_id;
};
#define IOMMU_IOAS_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_ALLOC)

enum iommufd_ioas_map_flags {
	IOMMU_IOAS_MAP_FIXED_IOVA = 1 << 0,
	IOMMU_IOAS_MAP_WRITEABLE = 1 << 1,
	IOMMU_IOAS_MAP_READABLE = 1 << 2,
};

struct iommu_ioas_map {
	__u32 size;
	__u32 flags;
	__u32 ioas_id;
	__u32 __reserved;
	__aligned_u64 user_va;
	__aligned_u64 length;
	__aligned_u64 iova;
};
#define IOMMU_IOAS_MAP _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_MAP)

struct iommu_ioas_unmap {
	__u32 size;
	__u32 ioas_id;
	__aligned_u64 iova;
	__aligned_u64 length;
};
#define IOMMU_IOAS_UNMAP _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_UNMAP)
#endif /* IOMMUFD_TYPE */

/* 6.6: HWPT allocation command (flags decoded below) */
#ifndef IOMMU_HWPT_ALLOC
#define IOMMUFD_CMD_HWPT_ALLOC 0x89
#define IOMMU_HWPT_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_HWPT_ALLOC)
#endif

/* 6.6: hardware info command (reports IOMMU_HW_CAP_*) */
#ifndef IOMMU_GET_HW_INFO
#define IOMMUFD_CMD_GET_HW_INFO 0x8a
#define IOMMU_GET_HW_INFO _IO(IOMMUFD_TYPE, IOMMUFD_CMD_GET_HW_INFO)
#endif

/* 6.7: HWPT dirty tracking */
#ifndef IOMMU_HWPT_SET_DIRTY_TRACKING
#define IOMMUFD_CMD_HWPT_SET_DIRTY_TRACKING 0x8b
#define IOMMUFD_CMD_HWPT_GET_DIRTY_BITMAP 0x8c

/* enum iommufd_hwpt_alloc_flags */
#define IOMMU_HWPT_ALLOC_NEST_PARENT (1 << 0)
#define IOMMU_HWPT_ALLOC_DIRTY_TRACKING (1 << 1)
/* enum iommufd_hw_capabilities */
#define IOMMU_HW_CAP_DIRTY_TRACKING (1 << 0)
/* enum iommufd_hwpt_set_dirty_tracking_flags */
#define IOMMU_HWPT_DIRTY_TRACKING_ENABLE 1
/* enum iommufd_hwpt_get_dirty_bitmap_flags */
#define IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR 1

struct iommu_hwpt_set_dirty_tracking {
	__u32 size;
	__u32 flags;
	__u32 hwpt_id;
	__u32 __reserved;
};
#define IOMMU_HWPT_SET_DIRTY_TRACKING _IO(IOMMUFD_TYPE, IOMMUFD_CMD_HWPT_SET_DIRTY_TRACKING)

struct iommu_hwpt_get_dirty_bitmap {
	__u32 size;
	__u32 hwpt_id;
	__u32 flags;
	__u32 __reserved;
	__aligned_u64 iova;
	__aligned_u64 length;
	__aligned_u64 page_size;
	__aligned_u64 data;
};
#define IOMMU_HWPT_GET_DIRTY_BITMAP _IO(IOMMUFD_TYPE, IOMMUFD_CMD_HWPT_GET_DIRTY_BITMAP)
#endif /* IOMMU_HWPT_SET_DIRTY_TRACKING */

/* ---- kvm.h ---------------------------------------------------------- */

/* 6.8: memslots that may be backed by a guest_memfd */
#ifndef KVM_SET_USER_MEMORY_REGION2
#define KVM_MEM_GUEST_MEMFD (1UL << 2)

struct kvm_userspace_memory_region2 {
	__u32 slot;
	__u32 flags;
	__u64 guest_phys_addr;
	__u64 memory_size;
	__u64 userspace_addr;
	__u64 guest_memfd_offset;
	__u32 guest_memfd;
	__u32 pad1;
	__u64 pad2[14];
};

#define KVM_SET_USER_MEMORY_REGION2 _IOW(KVMIO, 0x49, struct kvm_userspace_memory_region2)
#endif /* KVM_SET_USER_MEMORY_REGION2 */

/* ---- userfaultfd.h ---------------------------------------------------- */

/* 6.1: WP on hugetlbfs/shmem (present in 6.1, kept for older headers) */
#ifndef UFFD_FEATURE_WP_HUGETLBFS_SHMEM
#define UFFD_FEATURE_WP_HUGETLBFS_SHMEM (1 << 12)
#endif

/* 6.4: WP markers on unpopulated anonymous ptes */
#ifndef UFFD_FEATURE_WP_UNPOPULATED
#define UFFD_FEATURE_WP_UNPOPULATED (1 << 13)
#endif

/* 6.7: asynchronous WP, resolved by the kernel, read via PAGEMAP_SCAN */
#ifndef UFFD_FEATURE_WP_ASYNC
#define UFFD_FEATURE_WP_ASYNC (1 << 15)
#endif

/* ---- fs.h: PAGEMAP_SCAN ioctl on /proc/pid/pagemap -------------------- */

/* 6.7: PAGEMAP_SCAN */
#ifndef PAGEMAP_SCAN
#ifndef PROCFS_IOCTL_MAGIC
#define PROCFS_IOCTL_MAGIC 'f'
#endif

#define PAGEMAP_SCAN _IOWR(PROCFS_IOCTL_MAGIC, 16, struct pm_scan_arg)

#define PAGE_IS_WPALLOWED (1 << 0)
#define PAGE_IS_WRITTEN (1 << 1)
#define PAGE_IS_FILE (1 << 2)
#define PAGE_IS_PRESENT (1 << 3)
#define PAGE_IS_SWAPPED (1 << 4)
#define PAGE_IS_PFNZERO (1 << 5)
#define PAGE_IS_HUGE (1 << 6)
#define PAGE_IS_SOFT_DIRTY (1 << 7)

struct page_region {
	__u64 start;
	__u64 end;
	__u64 categories;
};

#define PM_SCAN_WP_MATCHING (1 << 0)
#define PM_SCAN_CHECK_WPASYNC (1 << 1)

struct pm_scan_arg {
	__u64 size;
	__u64 flags;
	__u64 start;
	__u64 end;
	__u64 walk_end;
	__u64 vec;
	__u64 vec_len;
	__u64 max_pages;
	__u64 category_inverted;
	__u64 category_mask;
	__u64 category_anyof_mask;
	__u64 return_mask;
};
#endif /* PAGEMAP_SCAN */

#endif /* VFMIG_UAPI_H */
