/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one definition of everything BPF programs and user space both read:
 * event records, map keys and values, counter indexes and the histogram
 * layout. Included by the bpf/ programs (with vmlinux.h) and by user/ (with
 * <linux/types.h>), so it uses only __u8.. __u64 and plain enums.
 */
#ifndef VFMIG_ABI_H
#define VFMIG_ABI_H

#define VFMIG_HIST_SLOTS 40	      /* log2 buckets of nanoseconds: up to ~550 s */
#define VFMIG_MAX_DEVICES 1024	      /* per-device histogram and state entries */
#define VFMIG_MAX_INFLIGHT 4096	      /* syscalls being decoded at once */
#define VFMIG_MAX_RANGES 64	      /* write-protected ranges watched for faults */
#define VFMIG_BITMAP_MAX_WORDS 262144 /* u64 words counted per bitmap query: 64 GiB at 4 KiB */
/* The same without bpf_loop (before 5.17), where the verifier walks each pass: 1 GiB at 4 KiB */
#define VFMIG_BITMAP_BOUNDED_WORDS 4096
#define VFMIG_STATE_UNKNOWN 255	  /* a device's state before it was seen */
#define VFMIG_DEV_NAME_LEN 64	  /* a VFIO device's name as asked of its group */
#define VFMIG_MAX_KVM_SLOTS 4096  /* KVM memslot sizes remembered (least recently used go) */
#define VFMIG_CGROUP_MAX_DEPTH 64 /* cgroup levels the filter looks at: deeper ones never match */
#define VFMIG_MAX_DATA_FDS 1024	  /* migration data fds followed at once (read/write decoding) */
#define VFMIG_MAX_FOLLOWED 4096	  /* descendants of the watched process followed at once */
#define VFMIG_MAX_PROCS 1024	  /* processes whose counters are kept apart (dev_counters too) */
#define VFMIG_VM_NAME_LEN 64	  /* a VM's name (vfmig-emu --name), per process */

/* Where a probe's facts come from. */
enum vfmig_source {
	VFMIG_SRC_USDT = 1, /* the emulated device (or QEMU's dtrace probes) */
	VFMIG_SRC_SYSCALL,  /* ioctl decoding at syscall entry and exit */
	VFMIG_SRC_KPROBE,
	VFMIG_SRC_FENTRY,
	VFMIG_SRC_TRACEPOINT,
};

/* Dirty-bitmap interfaces, as the emulated device numbers them in its USDT probes (1-3). */
enum vfmig_iface {
	VFMIG_IFACE_QEMU = 0,	 /* QEMU's own count (vfio_get_dirty_bitmap): interface not said */
	VFMIG_IFACE_TYPE1 = 1,	 /* VFIO_IOMMU_DIRTY_PAGES GET_BITMAP (or unmap with bitmap) */
	VFMIG_IFACE_DMA_LOG = 2, /* VFIO_DEVICE_FEATURE DMA_LOGGING_REPORT */
	VFMIG_IFACE_IOMMUFD = 3, /* IOMMU_HWPT_GET_DIRTY_BITMAP */
	VFMIG_IFACE_KVM = 4,	 /* KVM_GET_DIRTY_LOG on a VM fd (vCPU dirtying), syscalls only */
	VFMIG_IFACE_NR = 5,
};

enum vfmig_event_type {
	VFMIG_EV_PIN = 1,      /* a = iova, b = pages asked, result = pinned or -errno */
	VFMIG_EV_UNPIN,	       /* a = iova, b = pages */
	VFMIG_EV_MAP,	       /* a = iova, b = bytes, c = 1 when VFIO's (else host DMA API) */
	VFMIG_EV_UNMAP,	       /* a = iova, b = bytes, c as for MAP */
	VFMIG_EV_BITMAP,       /* a = iova, b = length, c = page size, d = dirty pages counted,
				 * from = interface, to = 1 when the count was cut short */
	VFMIG_EV_STATE_SET,    /* from, to, result, a = latency ns, b = state left in */
	VFMIG_EV_FSM_STEP,     /* from, to, result, a = duration ns */
	VFMIG_EV_PRECOPY_INFO, /* a = initial bytes, b = dirty bytes, result */
	VFMIG_EV_DATA_SIZE,    /* a = stop-copy length, result */
	VFMIG_EV_DATA_READ,    /* a = bytes asked (a vectored call's iovecs: the first 64 where
				* the kernel has no bpf_loop), result = bytes or -errno;
				* syscalls: b = the data fd, dev = its device, from = the syscall
				* (vfmig_data_via), c = the call's other fd (splice, sendfile,
				* copy_file_range; else ~0), to = 1 when a fell short */
	VFMIG_EV_DATA_WRITE,   /* likewise */
	/* 12: reserved (a reset event, never sent: resets are counted, VFMIG_C_RESETS); the
	 * numbers after it kept */
	VFMIG_EV_FAULT_WINDOW = 13,   /* a = window, b = write faults (pages) in it */
	VFMIG_EV_STOPCOPY_TO_PRECOPY, /* the request unfixed kernels hang on */
	VFMIG_EV_KVM_MEMSLOT,	/* a = guest phys addr, b = bytes (0: delete), c = slot, d = flags,
				 * result */
	VFMIG_EV_KVM_CLEAR_LOG, /* a = first page, b = pages, c = slot, d = bits set (pages asked
				 * to be cleared), to = 1 when the count was cut short, result */
	VFMIG_EV_DEVICE_FD,	/* VFIO_GROUP_GET_DEVICE_FD: dev = the new device (else the group
				 * fd's), result = fd or -errno, a = name length, b..d = its
				 * first 24 bytes (the whole name is in the dev_names map) */
	VFMIG_EV_TRACKING,	/* dirty tracking started (to = 1) or stopped (to = 0): from =
				 * interface, result, a = latency ns; DMA logging start: b = page
				 * size, c = ranges, d = their bytes (to |= 2 when the sum was cut
				 * short); iommufd: c = the HWPT id */
	/*
	 * The VM's vCPUs stopped or set running again: a = the ns the pause or
	 * resume took (the event's time is its end; 0 when not traced: QEMU's
	 * vm_state_notify fires once its vCPUs are paused, and before they
	 * resume), b = vCPUs (0: not said), c = QEMU's RunState number (0 for the
	 * emulated VM), d = the first 8 bytes of its name ("finish-m", "running")
	 */
	VFMIG_EV_VCPU_PAUSE,
	VFMIG_EV_VCPU_RESUME,
	VFMIG_EV_NR,
};

/* The syscall that moved a data fd's bytes: DATA_READ/DATA_WRITE events' from. */
enum vfmig_data_via {
	VFMIG_VIA_READ = 1,
	VFMIG_VIA_WRITE,
	VFMIG_VIA_READV,
	VFMIG_VIA_WRITEV,
	VFMIG_VIA_PREAD64,
	VFMIG_VIA_PWRITE64,
	VFMIG_VIA_PREADV,
	VFMIG_VIA_PWRITEV,
	VFMIG_VIA_PREADV2,
	VFMIG_VIA_PWRITEV2,
	VFMIG_VIA_SPLICE,
	VFMIG_VIA_SENDFILE,
	VFMIG_VIA_COPY_FILE_RANGE,
	VFMIG_VIA_NR,
};

/*
 * A device key is one of two kinds: (pid << 32 | fd) of a VFIO device fd,
 * decoded at the syscall, or a kernel struct vfio_device pointer (fexit and
 * kprobe sources) tagged with the top bit (kernel addresses have it on x86-64
 * and arm64; set anyway). An emulated device, or what its IOMMU contexts
 * act on (USDT): VFMIG_DEV_EMU below. A device of QEMU's dtrace probes:
 * VFMIG_DEV_QEMU below.
 */
#define VFMIG_DEV_KERNEL (1ull << 63)

static inline __u64 vfmig_dev_kernel(__u64 ptr)
{
	return ptr | VFMIG_DEV_KERNEL;
}

static inline int vfmig_dev_is_kernel(__u64 dev)
{
	return !!(dev & VFMIG_DEV_KERNEL);
}

/*
 * A device QEMU names in its dtrace probes ("0000:65:00.0", an mdev UUID):
 * tagged with bit 62, the QEMU process's pid in bits 32..61 and a 32-bit
 * FNV-1a hash of the name below; the name itself is in dev_names.
 */
#define VFMIG_DEV_QEMU (1ull << 62)
#define VFMIG_DEV_QEMU_PID_MASK 0x3fffffffu

/* FNV-1a of a device name, its first VFMIG_DEV_NAME_LEN bytes at most: a QEMU key's low half. */
static inline __u32 vfmig_name_hash(const char *name)
{
	__u32 h = 2166136261u, i;

	for (i = 0; i < VFMIG_DEV_NAME_LEN && name[i]; i++) {
		h ^= (__u8)name[i];
		h *= 16777619u;
	}
	return h;
}

static inline __u64 vfmig_dev_qemu(__u32 pid, __u32 name_hash)
{
	return VFMIG_DEV_QEMU | (__u64)(pid & VFMIG_DEV_QEMU_PID_MASK) << 32 | name_hash;
}

static inline int vfmig_dev_is_qemu(__u64 dev)
{
	return !vfmig_dev_is_kernel(dev) && (dev & VFMIG_DEV_QEMU);
}

static inline __u32 vfmig_dev_qemu_pid(__u64 dev)
{
	return (dev >> 32) & VFMIG_DEV_QEMU_PID_MASK;
}

/*
 * What an emulated process's USDT probes act on (bit 61): a device, a type1
 * container, an iommufd IOAS or HWPT, in bits 56..60; the process's pid in
 * bits 32..55 (pid_max is at most 2^22); its id below. An IOAS or HWPT id
 * is (iommufd context << 16 | object id): each context numbers its own.
 * pid 0 only in a filter: that id in every process.
 */
#define VFMIG_DEV_EMU (1ull << 61)
#define VFMIG_DEV_EMU_PID_MASK 0xffffffu

enum vfmig_obj {
	VFMIG_OBJ_DEVICE = 0,
	VFMIG_OBJ_TYPE1 = 1, /* a type1 container */
	VFMIG_OBJ_IOAS = 2,
	VFMIG_OBJ_HWPT = 3,
	VFMIG_OBJ_NR,
};

/* The USDT argument saying what a query or mapping acts on, the pid aside. */
static inline __u64 vfmig_obj(__u32 kind, __u32 id)
{
	return (__u64)kind << 32 | id;
}

static inline __u64 vfmig_dev_emu(__u32 pid, __u64 obj)
{
	return VFMIG_DEV_EMU | (__u64)((obj >> 32) & 0x1f) << 56 |
	       (__u64)(pid & VFMIG_DEV_EMU_PID_MASK) << 32 | (__u32)obj;
}

static inline int vfmig_dev_is_emu(__u64 dev)
{
	return !(dev & (VFMIG_DEV_KERNEL | VFMIG_DEV_QEMU)) && (dev & VFMIG_DEV_EMU);
}

static inline __u32 vfmig_dev_emu_pid(__u64 dev)
{
	return (dev >> 32) & VFMIG_DEV_EMU_PID_MASK;
}

static inline __u32 vfmig_dev_emu_kind(__u64 dev)
{
	return (dev >> 56) & 0x1f;
}

/* A ring-buffer record: fixed size, so a reader can always skip one. */
struct vfmig_event {
	__u64 ts_ns;
	__u64 dev; /* a device key: see VFMIG_DEV_KERNEL */
	__u64 a, b, c, d;
	__u32 pid, tid;
	__u16 type, source;
	__u8 from, to;
	__u8 pad[2];
	__s32 result;
	__u32 pad2;
};

/* Counters: one slot each in a per-CPU array. */
enum vfmig_counter {
	VFMIG_C_PIN_CALLS,
	VFMIG_C_PAGES_PINNED,
	VFMIG_C_PIN_ERRORS,
	VFMIG_C_UNPIN_CALLS,
	VFMIG_C_PAGES_UNPINNED,
	VFMIG_C_MAP_CALLS,
	VFMIG_C_MAP_BYTES,
	VFMIG_C_UNMAP_CALLS,
	VFMIG_C_UNMAP_BYTES,
	VFMIG_C_HOST_MAP_CALLS, /* iommu tracepoints outside a VFIO/iommufd map ioctl */
	VFMIG_C_HOST_MAP_BYTES,
	VFMIG_C_HOST_UNMAP_CALLS,
	VFMIG_C_HOST_UNMAP_BYTES,
	VFMIG_C_BITMAP_QUERIES, /* + interface: one slot each */
	VFMIG_C_BITMAP_DIRTY = VFMIG_C_BITMAP_QUERIES + VFMIG_IFACE_NR,
	VFMIG_C_BITMAP_TRUNCATED = VFMIG_C_BITMAP_DIRTY + VFMIG_IFACE_NR,
	VFMIG_C_STATE_SETS = VFMIG_C_BITMAP_TRUNCATED + VFMIG_IFACE_NR,
	VFMIG_C_STATE_SET_ERRORS,
	VFMIG_C_FSM_STEPS,
	VFMIG_C_PRECOPY_INFOS,
	VFMIG_C_DATA_SIZES,
	VFMIG_C_DATA_READ_BYTES,
	VFMIG_C_DATA_WRITE_BYTES,
	VFMIG_C_RESETS,
	VFMIG_C_WRITE_FAULTS, /* write faults on watched (write-protected) ranges */
	VFMIG_C_KVM_DIRTY_PUSH,
	/*
	 * KVM_GET_DIRTY_LOG calls, whatever the result. Each is an error, a
	 * bitmap counted (VFMIG_C_BITMAP_* + VFMIG_IFACE_KVM), or an answer
	 * for a slot whose size vfmig never saw (set before it attached):
	 * unsized, not counted, never guessed.
	 */
	VFMIG_C_KVM_DIRTY_LOG_CALLS,
	VFMIG_C_KVM_DIRTY_LOG_ERRORS,
	VFMIG_C_KVM_DIRTY_LOG_UNSIZED,
	VFMIG_C_KVM_CLEAR_LOG_CALLS, /* KVM_CLEAR_DIRTY_LOG, whatever the result */
	VFMIG_C_KVM_CLEAR_LOG_ERRORS,
	VFMIG_C_KVM_CLEARED_PAGES, /* bits set in the bitmaps of successful clears */
	VFMIG_C_KVM_CLEAR_CUT,	   /* of those, counts cut short (the bound, or a failed read) */
	VFMIG_C_KVM_MEMSLOT_SETS,  /* KVM_SET_USER_MEMORY_REGION(2), whatever the result */
	VFMIG_C_EVENTS,		   /* records reserved in the ring buffer */
	VFMIG_C_DROPS,		   /* records the ring buffer had no room for */
	VFMIG_C_HANG_RISK,	   /* STOP_COPY -> PRE_COPY requests on PRE_COPY devices */
	VFMIG_C_V1_STATE_WRITES,   /* of the state requests, v1 device_state writes */
	/* dirty tracking switched on and off, per interface (type1, dma-log, iommufd): requests
	 * whatever the result, and of those the refused ones */
	VFMIG_C_TRACK_STARTS,
	VFMIG_C_TRACK_STOPS = VFMIG_C_TRACK_STARTS + VFMIG_IFACE_NR,
	VFMIG_C_TRACK_REFUSED = VFMIG_C_TRACK_STOPS + VFMIG_IFACE_NR,
	/*
	 * QEMU probe hits whose device or state name could not be read (its
	 * page not in memory: BPF cannot fault it in): counted nowhere else.
	 */
	VFMIG_C_QEMU_UNREADABLE = VFMIG_C_TRACK_REFUSED + VFMIG_IFACE_NR,
	/* children of a followed process not followed: the followed map was full */
	VFMIG_C_FOLLOW_OVERFLOW,
	/* counts a device's or a process's own map had no room for (host totals still have
	 * them): VFMIG_MAX_DEVICES devices, VFMIG_MAX_PROCS processes */
	VFMIG_C_DEV_OVERFLOW,
	VFMIG_C_PROC_OVERFLOW,
	VFMIG_C_NR,
};

/* What a latency histogram is of. */
enum vfmig_hist_kind {
	VFMIG_H_STATE_SET = 1, /* a MIG_DEVICE_STATE SET request, from -> to */
	VFMIG_H_FSM_STEP,      /* one arc the driver executed */
	VFMIG_H_BITMAP,	       /* a dirty-bitmap query; from = interface */
	VFMIG_H_PRECOPY_INFO,
	VFMIG_H_MAP,	  /* a map/unmap ioctl: from = 0 map, 1 unmap; to = interface */
	VFMIG_H_TRACKING, /* a dirty tracking start or stop: from = interface, to = 1 start */
};

struct vfmig_hist_key {
	__u64 dev;
	__u8 kind, from, to, pad;
	__s32 result; /* 0 or -errno: failures are kept apart */
};

struct vfmig_hist {
	__u64 count, sum_ns, max_ns;
	__u64 slots[VFMIG_HIST_SLOTS]; /* slot i: [2^i, 2^(i+1)) ns; slot 0 also holds 0 */
};

/* What the probes last saw of a device. */
struct vfmig_dev_state {
	/* VFMIG_STATE_UNKNOWN until a GET answered or a SET succeeded, and again after
	 * a SET failed (the driver may have stopped at an intermediate arc's end) */
	__u8 state;
	__u8 features_known;
	__u8 pad[2];
	__u32 features; /* VFIO_MIGRATION_* once a MIGRATION GET was seen */
	__u64 precopy_initial, precopy_dirty;
};

/*
 * A VFIO device fd (pid << 32 | fd) seen opened through its group: the name
 * asked for (the device's: PCI address, mdev UUID; options such as
 * vf_token cut off) and the opener; or a kernel device (VFMIG_DEV_KERNEL):
 * dev_name() of its struct device, read at the first step seen on it, and
 * the task that made that step; or an emulated device (VFMIG_DEV_EMU): its
 * variant ("nic", "bigmem"), from its device_new probe (comm left empty). In the shared dev_names map.
 */
struct vfmig_dev_name {
	char name[VFMIG_DEV_NAME_LEN];
	char comm[16];
};

/* A device's or a process's counters (dev_counters, proc_counters): the host's, kept apart. */
struct vfmig_counters {
	__u64 c[VFMIG_C_NR];
};

/* A process's VM name (vm_names, by pid), from the emulated device's device_new probe. */
struct vfmig_vm_name {
	char name[VFMIG_VM_NAME_LEN];
};

/* Loader tests only: test__ programs (and a map) the kernel is made to refuse. */
#define VFMIG_TEST_REFUSE_VERIFIER 1 /* test__refused_by_verifier: a map value read unchecked */
#define VFMIG_TEST_REFUSE_CORE 2     /* test__core_unresolved: a tracepoint field not in BTF */
#define VFMIG_TEST_REFUSE_MAP 4	     /* the loader creates one family's map with 0 entries */

/* Options the loader sets in .rodata before load. */
struct vfmig_filter {
	__u32 pid;	   /* 0: every process */
	__u32 test_refuse; /* 0; VFMIG_TEST_REFUSE_* bits in the loader's tests */
	__u64 dev;	   /* 0: every device */
	__u64 cgroup; /* 0: every cgroup; else a cgroup v2 id: that cgroup and those below it */
	/* 1: no bpf_loop here (kernels before 5.17): loops bounded at compile time instead */
	__u32 no_bpf_loop;
	/* 1: pid's descendants forked while watched count as pid (the followed map) */
	__u32 follow_children;
};

#endif
