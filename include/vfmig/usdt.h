/* SPDX-License-Identifier: GPL-2.0 */
/*
 * USDT probes of the emulated device (provider "vfmig"). They carry raw
 * facts at the points where the kernel probes watch a real device, fired
 * once per call, never per byte or page: a uprobe hit costs microseconds.
 *
 *   state_set_start(dev, from, to)                 MIG_DEVICE_STATE SET entry
 *   state_set_end(dev, from, to, result, now)      its exit: -errno, state left in
 *   state_get(dev, state, result)                  MIG_DEVICE_STATE GET
 *   fsm_step(dev, from, to, result, dur_ns)        each arc the driver executed
 *   precopy_info(dev, initial, dirty, result)      VFIO_MIG_GET_PRECOPY_INFO
 *   data_size(dev, stop_copy_length, result)       MIG_DATA_SIZE
 *   data_read(dev, fd, len, result)                read on a data fd
 *   data_write(dev, fd, len, result)               write on a data fd
 *   reset(dev, from)                               VFIO_DEVICE_RESET
 *   v1_state_start(dev, from_bits, to_bits)        v1 device_state write entry
 *   v1_state(dev, from_bits, to_bits, result)      its exit
 *   pin_pages(dev, kind, iova, npage, result)      vfio_pin_pages, by device dev
 *   unpin_pages(dev, kind, iova, npage)            vfio_unpin_pages
 *   device_new(dev, variant, vm_name)              a device created: its id, its variant
 *                                                  ("nic", "bigmem") and its VM's name
 *   iommu_map(kind, what, iova, size) / iommu_unmap   a mapping made or removed
 *   dirty_query_start(iface, what, iova, size, pgsize, bitmap)   a dirty-bitmap query
 *   dirty_query_end(iface, what, iova, size, bitmap, bitmap_bytes)  its end: bits are
 *                                                  counted by whoever traces, not the device
 *
 * dev is a device's id in its process; what (vfmig_obj() of vfmig/abi.h) is
 * what a query or mapping acts on: a type1 container, an iommufd IOAS or
 * HWPT, or a device (DMA logging). The probes key each by (pid, what).
 *   wp_arm(start, len) / wp_disarm(start, len)     guest RAM write-protect tracking
 *   harvest(start, pages, len)                     a PAGEMAP_SCAN harvest, its count, the range
 *   vcpu_pause(vcpus, dur_ns)                      the VM's vCPUs (writer threads) and device
 *   vcpu_resume(vcpus, dur_ns)                     work stopped, or set running (started on a
 *                                                  destination): fired at the end, dur_ns after
 *                                                  it was asked
 */
#ifndef VFMIG_USDT_H
#define VFMIG_USDT_H

#include <linux/types.h>
#include <sys/sdt.h>

#include "vfmig/abi.h"

#define EMU_PROBE3(name, a, b, c) DTRACE_PROBE3(vfmig, name, a, b, c)
#define EMU_PROBE4(name, a, b, c, d) DTRACE_PROBE4(vfmig, name, a, b, c, d)
#define EMU_PROBE5(name, a, b, c, d, e) DTRACE_PROBE5(vfmig, name, a, b, c, d, e)
#define EMU_PROBE6(name, a, b, c, d, e, f) DTRACE_PROBE6(vfmig, name, a, b, c, d, e, f)
#define EMU_PROBE2(name, a, b) DTRACE_PROBE2(vfmig, name, a, b)

#endif
