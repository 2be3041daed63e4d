// SPDX-License-Identifier: GPL-2.0
/*
 * check-abi: print every constant, ioctl number and struct layout that
 * vfmig takes from include/vfmig/uapi.h, one "key<TAB>value" line each.
 *
 * Built twice by tests/abi/abi.mk: against the installed headers (plus our
 * fallbacks) and against the linux-source-6.12 uapi headers, where every
 * fallback block in uapi.h is skipped.  check-abi.sh compares the outputs.
 *
 * Every item is one macro call on its own line starting with a tab; the
 * script counts those calls to know how many lines to expect.
 */
#include <stddef.h>
#include <stdio.h>

#include "vfmig/uapi.h"

#ifdef VFMIG_ABI_NEW_UAPI
/* side B must really see the 6.12 headers: test items our header lacks */
#if !defined(VFIO_DEVICE_INFO_CAP_PCI_ATOMIC_COMP) || !defined(UFFD_FEATURE_MOVE) || \
	!defined(PROCMAP_QUERY) || !defined(IOMMU_FAULT_QUEUE_ALLOC) ||              \
	!defined(KVM_PRE_FAULT_MEMORY)
#error "check-abi: side B is not using the linux-source-6.12 uapi headers"
#endif
#endif

static const char *scalar(size_t size, int is_signed)
{
	switch (size) {
	case 1:
		return is_signed ? "s8" : "u8";
	case 2:
		return is_signed ? "s16" : "u16";
	case 4:
		return is_signed ? "s32" : "u32";
	case 8:
		return is_signed ? "s64" : "u64";
	}
	return "?";
}

#define IS_SIGNED(x) ((__typeof__(x))-1 < (__typeof__(x))1)

/*
 * Values and members are inspected through a typed copy (v_) and a static
 * zeroed instance (z_) rather than sizeof(constant) or ((t *)0)->f.
 */

/* constant, flag or ioctl number: value and C type */
#define K(c)                                                          \
	do {                                                          \
		__typeof__(c) v_ = (c);                               \
		printf("%s\t0x%llx %s\n", #c, (unsigned long long)v_, \
		       scalar(sizeof(v_), IS_SIGNED(v_)));            \
	} while (0)
/* struct size and alignment */
#define S(t) printf("sizeof(%s)\t%zu align %zu\n", #t, sizeof(t), _Alignof(t))
/* scalar member: offset and type */
#define F(t, f)                                                              \
	do {                                                                 \
		static const t z_;                                           \
		printf("offsetof(%s, %s)\t%zu %s\n", #t, #f, offsetof(t, f), \
		       scalar(sizeof(z_.f), IS_SIGNED(z_.f)));               \
	} while (0)
/* aggregate member (struct, union, fixed array): offset and size */
#define FA(t, f)                                                                                  \
	do {                                                                                      \
		static const t z_;                                                                \
		printf("offsetof(%s, %s)\t%zu size %zu\n", #t, #f, offsetof(t, f), sizeof(z_.f)); \
	} while (0)
/* flexible array member: offset and element size */
#define FX(t, f)                                                                   \
	do {                                                                       \
		static const t z_;                                                 \
		printf("offsetof(%s, %s)\t%zu flex %zu\n", #t, #f, offsetof(t, f), \
		       sizeof(z_.f[0]));                                           \
	} while (0)
/* pointer member: offset, pointer size and pointee size */
#define FP(t, f)                                                                         \
	do {                                                                             \
		static const t z_;                                                       \
		printf("offsetof(%s, %s)\t%zu ptr %zu to %zu\n", #t, #f, offsetof(t, f), \
		       sizeof(z_.f), sizeof(*z_.f));                                     \
	} while (0)

static void vfio_base(void)
{
	K(VFIO_API_VERSION);
	K(VFIO_TYPE);
	K(VFIO_BASE);
	K(VFIO_TYPE1_IOMMU);
	K(VFIO_TYPE1v2_IOMMU);
	K(VFIO_GET_API_VERSION);
	K(VFIO_CHECK_EXTENSION);
	K(VFIO_SET_IOMMU);
	K(VFIO_GROUP_GET_STATUS);
	K(VFIO_GROUP_SET_CONTAINER);
	K(VFIO_GROUP_GET_DEVICE_FD);
	K(VFIO_DEVICE_GET_INFO);
	K(VFIO_DEVICE_GET_REGION_INFO);
	K(VFIO_DEVICE_RESET);
	K(VFIO_EEH_PE_OP);

	/* 6.12 appended "__u32 pad", so sizeof differs from 6.1: not compared */
	F(struct vfio_device_info, argsz);
	F(struct vfio_device_info, flags);
	F(struct vfio_device_info, num_regions);
	F(struct vfio_device_info, num_irqs);
	F(struct vfio_device_info, cap_offset);

	S(struct vfio_region_info);
	F(struct vfio_region_info, argsz);
	F(struct vfio_region_info, flags);
	F(struct vfio_region_info, index);
	F(struct vfio_region_info, cap_offset);
	F(struct vfio_region_info, size);
	F(struct vfio_region_info, offset);

	S(struct vfio_info_cap_header);
	F(struct vfio_info_cap_header, id);
	F(struct vfio_info_cap_header, version);
	F(struct vfio_info_cap_header, next);
}

static void vfio_mig_v2(void)
{
	K(VFIO_DEVICE_FEATURE);
	K(VFIO_DEVICE_FEATURE_MASK);
	K(VFIO_DEVICE_FEATURE_GET);
	K(VFIO_DEVICE_FEATURE_SET);
	K(VFIO_DEVICE_FEATURE_PROBE);
	K(VFIO_DEVICE_FEATURE_PCI_VF_TOKEN);
	K(VFIO_DEVICE_FEATURE_MIGRATION);
	K(VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE);
	K(VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY);
	K(VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP);
	K(VFIO_DEVICE_FEATURE_LOW_POWER_EXIT);
	K(VFIO_DEVICE_FEATURE_DMA_LOGGING_START);
	K(VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP);
	K(VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT);
	K(VFIO_DEVICE_FEATURE_MIG_DATA_SIZE);
	K(VFIO_DEVICE_FEATURE_BUS_MASTER);
	K(VFIO_DEVICE_FEATURE_CLEAR_MASTER);
	K(VFIO_DEVICE_FEATURE_SET_MASTER);
	K(VFIO_MIGRATION_STOP_COPY);
	K(VFIO_MIGRATION_P2P);
	K(VFIO_MIGRATION_PRE_COPY);
	K(VFIO_DEVICE_STATE_ERROR);
	K(VFIO_DEVICE_STATE_STOP);
	K(VFIO_DEVICE_STATE_RUNNING);
	K(VFIO_DEVICE_STATE_STOP_COPY);
	K(VFIO_DEVICE_STATE_RESUMING);
	K(VFIO_DEVICE_STATE_RUNNING_P2P);
	K(VFIO_DEVICE_STATE_PRE_COPY);
	K(VFIO_DEVICE_STATE_PRE_COPY_P2P);
	K(VFIO_DEVICE_STATE_NR);
	K(VFIO_MIG_GET_PRECOPY_INFO);

	S(struct vfio_device_feature);
	F(struct vfio_device_feature, argsz);
	F(struct vfio_device_feature, flags);
	FX(struct vfio_device_feature, data);

	S(struct vfio_device_feature_migration);
	F(struct vfio_device_feature_migration, flags);

	S(struct vfio_device_feature_mig_state);
	F(struct vfio_device_feature_mig_state, device_state);
	F(struct vfio_device_feature_mig_state, data_fd);

	S(struct vfio_device_feature_mig_data_size);
	F(struct vfio_device_feature_mig_data_size, stop_copy_length);

	S(struct vfio_precopy_info);
	F(struct vfio_precopy_info, argsz);
	F(struct vfio_precopy_info, flags);
	F(struct vfio_precopy_info, initial_bytes);
	F(struct vfio_precopy_info, dirty_bytes);

	S(struct vfio_device_feature_bus_master);
	F(struct vfio_device_feature_bus_master, op);

	S(struct vfio_device_feature_dma_logging_control);
	F(struct vfio_device_feature_dma_logging_control, page_size);
	F(struct vfio_device_feature_dma_logging_control, num_ranges);
	F(struct vfio_device_feature_dma_logging_control, __reserved);
	F(struct vfio_device_feature_dma_logging_control, ranges);

	S(struct vfio_device_feature_dma_logging_range);
	F(struct vfio_device_feature_dma_logging_range, iova);
	F(struct vfio_device_feature_dma_logging_range, length);

	S(struct vfio_device_feature_dma_logging_report);
	F(struct vfio_device_feature_dma_logging_report, iova);
	F(struct vfio_device_feature_dma_logging_report, length);
	F(struct vfio_device_feature_dma_logging_report, page_size);
	F(struct vfio_device_feature_dma_logging_report, bitmap);
}

static void vfio_mig_v1(void)
{
	K(VFIO_REGION_TYPE_MIGRATION_DEPRECATED);
	K(VFIO_REGION_SUBTYPE_MIGRATION_DEPRECATED);
	K(VFIO_DEVICE_STATE_V1_STOP);
	K(VFIO_DEVICE_STATE_V1_RUNNING);
	K(VFIO_DEVICE_STATE_V1_SAVING);
	K(VFIO_DEVICE_STATE_V1_RESUMING);
	K(VFIO_DEVICE_STATE_MASK);

	S(struct vfio_device_migration_info);
	F(struct vfio_device_migration_info, device_state);
	F(struct vfio_device_migration_info, reserved);
	F(struct vfio_device_migration_info, pending_bytes);
	F(struct vfio_device_migration_info, data_offset);
	F(struct vfio_device_migration_info, data_size);
}

static void vfio_type1(void)
{
	K(VFIO_IOMMU_GET_INFO);
	K(VFIO_IOMMU_MAP_DMA);
	K(VFIO_IOMMU_UNMAP_DMA);
	K(VFIO_IOMMU_DIRTY_PAGES);
	K(VFIO_IOMMU_INFO_PGSIZES);
	K(VFIO_IOMMU_INFO_CAPS);
	K(VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION);
	K(VFIO_DMA_MAP_FLAG_READ);
	K(VFIO_DMA_MAP_FLAG_WRITE);
	K(VFIO_DMA_MAP_FLAG_VADDR);
	K(VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP);
	K(VFIO_DMA_UNMAP_FLAG_ALL);
	K(VFIO_DMA_UNMAP_FLAG_VADDR);
	K(VFIO_IOMMU_DIRTY_PAGES_FLAG_START);
	K(VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP);
	K(VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP);

	/* 6.12 added an explicit "__u32 pad" where 6.1 had implicit padding */
	S(struct vfio_iommu_type1_info);
	F(struct vfio_iommu_type1_info, argsz);
	F(struct vfio_iommu_type1_info, flags);
	F(struct vfio_iommu_type1_info, iova_pgsizes);
	F(struct vfio_iommu_type1_info, cap_offset);

	S(struct vfio_iommu_type1_info_cap_migration);
	FA(struct vfio_iommu_type1_info_cap_migration, header);
	F(struct vfio_iommu_type1_info_cap_migration, flags);
	F(struct vfio_iommu_type1_info_cap_migration, pgsize_bitmap);
	F(struct vfio_iommu_type1_info_cap_migration, max_dirty_bitmap_size);

	S(struct vfio_iommu_type1_dma_map);
	F(struct vfio_iommu_type1_dma_map, argsz);
	F(struct vfio_iommu_type1_dma_map, flags);
	F(struct vfio_iommu_type1_dma_map, vaddr);
	F(struct vfio_iommu_type1_dma_map, iova);
	F(struct vfio_iommu_type1_dma_map, size);

	S(struct vfio_iommu_type1_dma_unmap);
	F(struct vfio_iommu_type1_dma_unmap, argsz);
	F(struct vfio_iommu_type1_dma_unmap, flags);
	F(struct vfio_iommu_type1_dma_unmap, iova);
	F(struct vfio_iommu_type1_dma_unmap, size);
	FX(struct vfio_iommu_type1_dma_unmap, data);

	S(struct vfio_bitmap);
	F(struct vfio_bitmap, pgsize);
	F(struct vfio_bitmap, size);
	FP(struct vfio_bitmap, data);

	S(struct vfio_iommu_type1_dirty_bitmap);
	F(struct vfio_iommu_type1_dirty_bitmap, argsz);
	F(struct vfio_iommu_type1_dirty_bitmap, flags);
	FX(struct vfio_iommu_type1_dirty_bitmap, data);

	S(struct vfio_iommu_type1_dirty_bitmap_get);
	F(struct vfio_iommu_type1_dirty_bitmap_get, iova);
	F(struct vfio_iommu_type1_dirty_bitmap_get, size);
	FA(struct vfio_iommu_type1_dirty_bitmap_get, bitmap);
}

static void iommufd(void)
{
	K(IOMMUFD_TYPE);
	K(IOMMUFD_CMD_BASE);
	K(IOMMUFD_CMD_DESTROY);
	K(IOMMUFD_CMD_IOAS_ALLOC);
	K(IOMMUFD_CMD_IOAS_ALLOW_IOVAS);
	K(IOMMUFD_CMD_IOAS_COPY);
	K(IOMMUFD_CMD_IOAS_IOVA_RANGES);
	K(IOMMUFD_CMD_IOAS_MAP);
	K(IOMMUFD_CMD_IOAS_UNMAP);
	K(IOMMUFD_CMD_OPTION);
	K(IOMMUFD_CMD_VFIO_IOAS);
	K(IOMMUFD_CMD_HWPT_ALLOC);
	K(IOMMUFD_CMD_GET_HW_INFO);
	K(IOMMUFD_CMD_HWPT_SET_DIRTY_TRACKING);
	K(IOMMUFD_CMD_HWPT_GET_DIRTY_BITMAP);
	K(IOMMU_DESTROY);
	K(IOMMU_IOAS_ALLOC);
	K(IOMMU_IOAS_MAP);
	K(IOMMU_IOAS_UNMAP);
	K(IOMMU_HWPT_ALLOC);
	K(IOMMU_GET_HW_INFO);
	K(IOMMU_HWPT_SET_DIRTY_TRACKING);
	K(IOMMU_HWPT_GET_DIRTY_BITMAP);
	K(IOMMU_IOAS_MAP_FIXED_IOVA);
	K(IOMMU_IOAS_MAP_WRITEABLE);
	K(IOMMU_IOAS_MAP_READABLE);
	K(IOMMU_HWPT_ALLOC_NEST_PARENT);
	K(IOMMU_HWPT_ALLOC_DIRTY_TRACKING);
	K(IOMMU_HW_CAP_DIRTY_TRACKING);
	K(IOMMU_HWPT_DIRTY_TRACKING_ENABLE);
	K(IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR);

	S(struct iommu_destroy);
	F(struct iommu_destroy, size);
	F(struct iommu_destroy, id);

	S(struct iommu_ioas_alloc);
	F(struct iommu_ioas_alloc, size);
	F(struct iommu_ioas_alloc, flags);
	F(struct iommu_ioas_alloc, out_ioas_id);

	S(struct iommu_ioas_map);
	F(struct iommu_ioas_map, size);
	F(struct iommu_ioas_map, flags);
	F(struct iommu_ioas_map, ioas_id);
	F(struct iommu_ioas_map, __reserved);
	F(struct iommu_ioas_map, user_va);
	F(struct iommu_ioas_map, length);
	F(struct iommu_ioas_map, iova);

	S(struct iommu_ioas_unmap);
	F(struct iommu_ioas_unmap, size);
	F(struct iommu_ioas_unmap, ioas_id);
	F(struct iommu_ioas_unmap, iova);
	F(struct iommu_ioas_unmap, length);

	S(struct iommu_hwpt_set_dirty_tracking);
	F(struct iommu_hwpt_set_dirty_tracking, size);
	F(struct iommu_hwpt_set_dirty_tracking, flags);
	F(struct iommu_hwpt_set_dirty_tracking, hwpt_id);
	F(struct iommu_hwpt_set_dirty_tracking, __reserved);

	S(struct iommu_hwpt_get_dirty_bitmap);
	F(struct iommu_hwpt_get_dirty_bitmap, size);
	F(struct iommu_hwpt_get_dirty_bitmap, hwpt_id);
	F(struct iommu_hwpt_get_dirty_bitmap, flags);
	F(struct iommu_hwpt_get_dirty_bitmap, __reserved);
	F(struct iommu_hwpt_get_dirty_bitmap, iova);
	F(struct iommu_hwpt_get_dirty_bitmap, length);
	F(struct iommu_hwpt_get_dirty_bitmap, page_size);
	F(struct iommu_hwpt_get_dirty_bitmap, data);
}

static void kvm(void)
{
	K(KVMIO);
	K(KVM_SET_USER_MEMORY_REGION);
	K(KVM_SET_USER_MEMORY_REGION2);
	K(KVM_GET_DIRTY_LOG);
	K(KVM_CLEAR_DIRTY_LOG);
	K(KVM_MEM_LOG_DIRTY_PAGES);
	K(KVM_MEM_READONLY);
	K(KVM_MEM_GUEST_MEMFD);

	S(struct kvm_userspace_memory_region);
	F(struct kvm_userspace_memory_region, slot);
	F(struct kvm_userspace_memory_region, flags);
	F(struct kvm_userspace_memory_region, guest_phys_addr);
	F(struct kvm_userspace_memory_region, memory_size);
	F(struct kvm_userspace_memory_region, userspace_addr);

	S(struct kvm_userspace_memory_region2);
	F(struct kvm_userspace_memory_region2, slot);
	F(struct kvm_userspace_memory_region2, flags);
	F(struct kvm_userspace_memory_region2, guest_phys_addr);
	F(struct kvm_userspace_memory_region2, memory_size);
	F(struct kvm_userspace_memory_region2, userspace_addr);
	F(struct kvm_userspace_memory_region2, guest_memfd_offset);
	F(struct kvm_userspace_memory_region2, guest_memfd);
	F(struct kvm_userspace_memory_region2, pad1);
	FA(struct kvm_userspace_memory_region2, pad2);

	S(struct kvm_dirty_log);
	F(struct kvm_dirty_log, slot);
	F(struct kvm_dirty_log, padding1);
	FP(struct kvm_dirty_log, dirty_bitmap);

	S(struct kvm_clear_dirty_log);
	F(struct kvm_clear_dirty_log, slot);
	F(struct kvm_clear_dirty_log, num_pages);
	F(struct kvm_clear_dirty_log, first_page);
	FP(struct kvm_clear_dirty_log, dirty_bitmap);
}

static void uffd(void)
{
	K(UFFD_API);
	K(UFFDIO);
	K(UFFDIO_API);
	K(UFFDIO_REGISTER);
	K(UFFDIO_UNREGISTER);
	K(UFFDIO_WAKE);
	K(UFFDIO_WRITEPROTECT);
	K(UFFD_EVENT_PAGEFAULT);
	K(UFFD_PAGEFAULT_FLAG_WRITE);
	K(UFFD_PAGEFAULT_FLAG_WP);
	K(UFFD_FEATURE_PAGEFAULT_FLAG_WP);
	K(UFFD_FEATURE_THREAD_ID);
	K(UFFD_FEATURE_WP_HUGETLBFS_SHMEM);
	K(UFFD_FEATURE_WP_UNPOPULATED);
	K(UFFD_FEATURE_WP_ASYNC);
	K(UFFDIO_REGISTER_MODE_MISSING);
	K(UFFDIO_REGISTER_MODE_WP);
	K(UFFDIO_REGISTER_MODE_MINOR);
	K(UFFDIO_WRITEPROTECT_MODE_WP);
	K(UFFDIO_WRITEPROTECT_MODE_DONTWAKE);

	S(struct uffdio_api);
	F(struct uffdio_api, api);
	F(struct uffdio_api, features);
	F(struct uffdio_api, ioctls);

	S(struct uffdio_range);
	F(struct uffdio_range, start);
	F(struct uffdio_range, len);

	S(struct uffdio_register);
	FA(struct uffdio_register, range);
	F(struct uffdio_register, mode);
	F(struct uffdio_register, ioctls);

	S(struct uffdio_writeprotect);
	FA(struct uffdio_writeprotect, range);
	F(struct uffdio_writeprotect, mode);

	S(struct uffd_msg);
	F(struct uffd_msg, event);
	FA(struct uffd_msg, arg);
	F(struct uffd_msg, arg.pagefault.flags);
	F(struct uffd_msg, arg.pagefault.address);
	F(struct uffd_msg, arg.pagefault.feat.ptid);
}

static void pagemap_scan(void)
{
	K(PROCFS_IOCTL_MAGIC);
	K(PAGEMAP_SCAN);
	K(PAGE_IS_WPALLOWED);
	K(PAGE_IS_WRITTEN);
	K(PAGE_IS_FILE);
	K(PAGE_IS_PRESENT);
	K(PAGE_IS_SWAPPED);
	K(PAGE_IS_PFNZERO);
	K(PAGE_IS_HUGE);
	K(PAGE_IS_SOFT_DIRTY);
	K(PM_SCAN_WP_MATCHING);
	K(PM_SCAN_CHECK_WPASYNC);

	S(struct page_region);
	F(struct page_region, start);
	F(struct page_region, end);
	F(struct page_region, categories);

	S(struct pm_scan_arg);
	F(struct pm_scan_arg, size);
	F(struct pm_scan_arg, flags);
	F(struct pm_scan_arg, start);
	F(struct pm_scan_arg, end);
	F(struct pm_scan_arg, walk_end);
	F(struct pm_scan_arg, vec);
	F(struct pm_scan_arg, vec_len);
	F(struct pm_scan_arg, max_pages);
	F(struct pm_scan_arg, category_inverted);
	F(struct pm_scan_arg, category_mask);
	F(struct pm_scan_arg, category_anyof_mask);
	F(struct pm_scan_arg, return_mask);
}

int main(void)
{
	vfio_base();
	vfio_mig_v2();
	vfio_mig_v1();
	vfio_type1();
	iommufd();
	kvm();
	uffd();
	pagemap_scan();
	return fflush(stdout) ? 1 : 0;
}
