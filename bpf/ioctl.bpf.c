// SPDX-License-Identifier: GPL-2.0
/*
 * Syscall decoding: the migration and dirty-bitmap ioctls read from their
 * argument structures at syscall entry and exit, for hosts where neither
 * kprobes nor fentry reach VFIO. The ioctl numbers encode no size, so one
 * number means different things on different fds: 0x3B75 is
 * VFIO_DEVICE_FEATURE on a device fd and VFIO_IOMMU_DIRTY_PAGES on a
 * container fd. The flags tell them apart (a feature request sets GET, SET
 * or PROBE, bits 16-18; DIRTY_PAGES sets exactly one of bits 0-2).
 * A device is (pid, fd) here; user space resolves it to a name.
 *
 * Dirty tracking switched on and off is decoded the same way: type1
 * DIRTY_PAGES START/STOP (flags 1, 2), DMA_LOGGING START/STOP (features 6,
 * 7; START's ranges summed as passed, at most the kernel's 256) and
 * iommufd's HWPT_SET_DIRTY_TRACKING: a start or stop of its interface, with
 * its result and latency.
 *
 * KVM's dirty log is decoded on the VM fd the same way: a memslot's size
 * (KVM_SET_USER_MEMORY_REGION/2) tells how many bits the bitmap
 * KVM_GET_DIRTY_LOG fills has, and KVM_CLEAR_DIRTY_LOG carries its own
 * page count. KVM's numbers encode a size and KVMIO (0xAE), so they are
 * unambiguous. A slot set before vfmig attached has no known size: its
 * bitmaps are not counted (a counter says how many), never guessed.
 *
 * A MIG_DEVICE_STATE SET that succeeds may return a data fd (STOP_COPY,
 * PRE_COPY, RESUMING): (pid, data fd) is remembered as its device's, and
 * every syscall that moves bytes through it is counted as the device's data
 * stream bytes (read, readv, pread64, preadv, preadv2 and their writes;
 * splice, sendfile and copy_file_range on either end: the bytes returned)
 * until close(2), exec or the process's end forgets it. Every other such
 * call on the host leaves at a global count of those fds (0), or after a
 * hash lookup or two.
 */
#include "common.bpf.h"

#define CMD_GROUP_GET_DEVICE_FD 0x3b6a /* _IO(';', 100 + 6), argument: the name */
#define CMD_FEATURE_OR_DIRTY 0x3b75
#define CMD_PRECOPY_INFO 0x3b79
#define CMD_HWPT_SET_DIRTY 0x3b8b /* IOMMU_HWPT_SET_DIRTY_TRACKING */
#define CMD_HWPT_GET_DIRTY 0x3b8c
#define HWPT_DIRTY_ENABLE 1
#define FEAT_GET (1u << 16)
#define FEAT_SET (1u << 17)
#define FEAT_PROBE (1u << 18)
#define FEAT_MIGRATION 1 /* vfio_device_feature_migration { __aligned_u64 flags; } */
#define FEAT_MIG_DEVICE_STATE 2
#define FEAT_DMA_LOGGING_START 6
#define FEAT_DMA_LOGGING_STOP 7
#define FEAT_DMA_LOGGING_REPORT 8
#define LOG_MAX_RANGES 256 /* the kernel's (a page of ranges): more are refused, E2BIG */
#define FEAT_MIG_DATA_SIZE 9
#define DIRTY_START 1
#define DIRTY_STOP 2
#define DIRTY_GET_BITMAP 4
#define CMD_KVM_GET_DIRTY_LOG 0x4010ae42u   /* _IOW(KVMIO, 0x42, struct kvm_dirty_log) */
#define CMD_KVM_SET_MEMSLOT 0x4020ae46u	    /* _IOW(KVMIO, 0x46, kvm_userspace_memory_region) */
#define CMD_KVM_SET_MEMSLOT2 0x40a0ae49u    /* _IOW(KVMIO, 0x49, ..._memory_region2), 6.8 */
#define CMD_KVM_CLEAR_DIRTY_LOG 0xc018aec0u /* _IOWR(KVMIO, 0xc0, struct kvm_clear_dirty_log) */
#define KVM_PAGE_SHIFT 12		    /* memslots are in 4 KiB pages on x86 */

enum kind {
	K_NONE,
	K_STATE_SET,
	K_STATE_GET,
	K_BITMAP,
	K_PRECOPY,
	K_KVM_MEMSLOT,
	K_KVM_GET_LOG,
	K_KVM_CLEAR_LOG,
	K_DEVICE_FD,
	K_DATA_SIZE,
	K_MIGRATION_GET,
	K_TRACKING
};

struct call {
	__u64 ts, dev, arg;
	/*
	 * K_BITMAP: range, page size, bitmap. KVM: guest address (memslot) or
	 * first page (clear), bytes (memslot) or pages (clear), -, bitmap.
	 * K_TRACKING (to: 1 start, 0 stop): DMA logging's ranges (iova), their
	 * bytes (size), page size; iommufd's HWPT id (slot).
	 */
	__u64 iova, size, pgsize, bitmap;
	__u64 dirty;		     /* K_KVM_CLEAR_LOG: bits set in the bitmap passed */
	__u32 kind, iface, to, slot; /* to: the state asked for, or a memslot's flags */
	bool cut;
	char name[VFMIG_DEV_NAME_LEN]; /* K_DEVICE_FD */
};

struct kvm_slot_key {
	__u64 vm; /* pid << 32 | VM fd */
	__u32 slot;
	__u32 pad;
};

struct kvm_slot {
	__u64 gpa, npages;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, VFMIG_MAX_KVM_SLOTS);
	__type(key, struct kvm_slot_key);
	__type(value, struct kvm_slot);
} kvm_slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VFMIG_MAX_INFLIGHT);
	__type(key, __u32);
	__type(value, struct call);
} calls SEC(".maps");

/* Migration data fds: pid << 32 | data fd -> the device (pid << 32 | device fd). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VFMIG_MAX_DATA_FDS);
	__type(key, __u64);
	__type(value, __u64);
} data_fds SEC(".maps");

/* A call moving bytes on data fds, from entry to exit, per thread: read from in_fd,
 * written to out_fd; -1 where that side is not a data fd (splice may have both). */
struct data_call {
	__u64 in_dev, out_dev, len;
	__s32 in_fd, out_fd;
	__u8 via; /* enum vfmig_data_via */
	bool cut; /* len is short of what a vectored call asked (its iovecs not all read) */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VFMIG_MAX_INFLIGHT);
	__type(key, __u32);
	__type(value, struct data_call);
} data_calls SEC(".maps");

/* Entries in data_fds and data_calls: a data call or close leaves at once while 0. */
__s64 data_fds_open, data_calls_open;

struct iov_sum {
	__u64 vec, bytes;
	bool failed; /* a read failed: the sum stops there (no counter: the verifier would
		      * follow each value of it) */
};

/* Entry i of an array of 16-byte {address, length} pairs (iovec, DMA logging range). */
static long add_len(__u32 i, void *arg)
{
	struct iov_sum *s = arg;
	__u64 pair[2];

	if (bpf_probe_read_user(pair, sizeof(pair), (void *)(s->vec + (__u64)i * 16))) {
		s->failed = true;
		return 1;
	}
	s->bytes += pair[1];
	return 0;
}

#define LENS_CUT (1ull << 63) /* in lens_summed's answer: not every pair was summed */
#define LENS_BOUNDED 64	      /* pairs summed without bpf_loop: the verifier walks each pass */

/*
 * The lengths of the first n pairs at vec summed, at most max of them
 * (LENS_BOUNDED without bpf_loop), LENS_CUT set when not all n were.
 * Global, so that the verifier walks it once, not once per caller.
 */
__noinline __u64 lens_summed(__u64 vec, __u64 n, __u32 max)
{
	struct iov_sum s = {.vec = vec};
	__u32 i, bound = max;

	if (has_bpf_loop()) {
		bpf_loop(n < max ? n : max, add_len, &s, 0);
	} else {
		bound = max < LENS_BOUNDED ? max : LENS_BOUNDED;
		for (i = 0; i < LENS_BOUNDED; i++) {
			if (i >= n || i >= bound || add_len(i, &s))
				break;
		}
	}
	return (s.bytes & ~LENS_CUT) | (s.failed || n > bound ? LENS_CUT : 0);
}

static __always_inline __u64 sum_lens(__u64 vec, __u64 n, __u32 max, bool *cut)
{
	__u64 sum = lens_summed(vec, n, max);

	*cut = sum & LENS_CUT;
	return sum & ~LENS_CUT;
}

/* Three u64 fields (iova, length, page size) and the bitmap pointer, at arg + off. */
static __always_inline void read_range(struct call *c, __u64 arg, __u32 off, __u32 bm_off)
{
	__u64 v[3] = {};

	bpf_probe_read_user(v, sizeof(v), (void *)(arg + off));
	c->iova = v[0];
	c->size = v[1];
	c->pgsize = v[2];
	bpf_probe_read_user(&c->bitmap, 8, (void *)(arg + bm_off));
}

/*
 * DMA logging START carries vfio_device_feature_dma_logging_control:
 * page_size, num_ranges, reserved, ranges; the ranges ({iova, length}) are
 * summed as passed, as far as the kernel would read them. STOP carries none.
 */
static __always_inline void decode_logging(struct call *c, bool start)
{
	__u64 v[3] = {};

	c->kind = K_TRACKING;
	c->iface = VFMIG_IFACE_DMA_LOG;
	c->to = start;
	if (!start)
		return;
	bpf_probe_read_user(v, sizeof(v), (void *)(c->arg + 8));
	c->pgsize = v[0];
	c->iova = (__u32)v[1];
	c->size = sum_lens(v[2], c->iova, LOG_MAX_RANGES, &c->cut);
}

static __always_inline void decode_feature(struct call *c, __u32 flags)
{
	__u32 index = flags & 0xffff, state = 0;

	/* PROBE asks whether the feature exists: no state, size or report passes */
	if (flags & FEAT_PROBE)
		return;
	if (index == FEAT_MIG_DEVICE_STATE && (flags & FEAT_SET)) {
		bpf_probe_read_user(&state, 4, (void *)(c->arg + 8));
		c->kind = K_STATE_SET;
		c->to = state;
	} else if (index == FEAT_MIG_DEVICE_STATE && (flags & FEAT_GET)) {
		c->kind = K_STATE_GET;
	} else if (index == FEAT_MIG_DATA_SIZE && (flags & FEAT_GET)) {
		c->kind = K_DATA_SIZE;
	} else if (index == FEAT_MIGRATION && (flags & FEAT_GET)) {
		c->kind = K_MIGRATION_GET;
	} else if ((index == FEAT_DMA_LOGGING_START || index == FEAT_DMA_LOGGING_STOP) &&
		   (flags & FEAT_SET)) {
		decode_logging(c, index == FEAT_DMA_LOGGING_START);
	} else if (index == FEAT_DMA_LOGGING_REPORT && (flags & FEAT_GET)) {
		/* vfio_device_feature_dma_logging_report: iova, length, page_size, bitmap */
		c->kind = K_BITMAP;
		c->iface = VFMIG_IFACE_DMA_LOG;
		read_range(c, c->arg, 8, 8 + 24);
	}
}

static __always_inline void decode_kvm(struct call *c, __u32 cmd)
{
	__u64 v[4] = {};

	if (cmd == CMD_KVM_GET_DIRTY_LOG) {
		/* kvm_dirty_log: slot, padding1, dirty_bitmap */
		bpf_probe_read_user(v, 16, (void *)c->arg);
		c->kind = K_KVM_GET_LOG;
		c->bitmap = v[1];
	} else if (cmd == CMD_KVM_CLEAR_DIRTY_LOG) {
		/* kvm_clear_dirty_log: slot, num_pages, first_page, dirty_bitmap; read here, as
		 * passed: the pages asked to be cleared (write-protected again) */
		bpf_probe_read_user(v, 24, (void *)c->arg);
		c->kind = K_KVM_CLEAR_LOG;
		c->size = v[0] >> 32;
		c->iova = v[1];
		c->bitmap = v[2];
	} else {
		/* kvm_userspace_memory_region(2) begin alike: slot, flags, guest_phys_addr,
		 * memory_size (bytes, 0 deletes the slot) */
		bpf_probe_read_user(v, 24, (void *)c->arg);
		c->kind = K_KVM_MEMSLOT;
		c->to = v[0] >> 32;
		c->iova = v[1];
		c->size = v[2];
	}
	c->slot = (__u32)v[0]; /* address space << 16 | slot id, kept whole */
}

/*
 * The device name a group is asked for, as far as the first blank: vfio-pci
 * takes options after it ("0000:65:00.1 vf_token=UUID"), and the VF token
 * is a shared secret that has no place in a profile. Returns the length.
 */
static __always_inline __u32 read_dev_name(char *name, __u64 arg)
{
	bool end = false;
	__u32 i, len = 0;

	if (bpf_probe_read_user_str(name, VFMIG_DEV_NAME_LEN, (void *)arg) < 0)
		name[0] = 0;
	for (i = 0; i < VFMIG_DEV_NAME_LEN; i++) {
		if (name[i] == ' ' || name[i] == 0)
			end = true;
		if (end)
			name[i] = 0;
		else
			len++;
	}
	return len;
}

static __always_inline bool kvm_cmd(__u32 cmd)
{
	return cmd == CMD_KVM_GET_DIRTY_LOG || cmd == CMD_KVM_CLEAR_DIRTY_LOG ||
	       cmd == CMD_KVM_SET_MEMSLOT || cmd == CMD_KVM_SET_MEMSLOT2;
}

/* The ioctls decode_enter decodes: every other one on the host leaves at this test. */
static __always_inline bool decoded_cmd(__u32 cmd)
{
	return cmd == CMD_FEATURE_OR_DIRTY || cmd == CMD_PRECOPY_INFO ||
	       cmd == CMD_HWPT_SET_DIRTY || cmd == CMD_HWPT_GET_DIRTY ||
	       cmd == CMD_GROUP_GET_DEVICE_FD || kvm_cmd(cmd);
}

static __always_inline int decode_enter(__u32 fd, __u32 cmd, __u64 arg)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid(), hdr[2] = {};
	struct call c = {.ts = bpf_ktime_get_ns(), .arg = arg, .dev = fd_dev(fd)};

	if (cmd == CMD_FEATURE_OR_DIRTY) {
		bpf_probe_read_user(hdr, sizeof(hdr), (void *)arg);
		if (hdr[1] & (FEAT_GET | FEAT_SET | FEAT_PROBE)) {
			decode_feature(&c, hdr[1]);
		} else if (hdr[1] == DIRTY_GET_BITMAP) {
			/* dirty_bitmap_get: iova, size, then vfio_bitmap {pgsize, size, data} */
			c.kind = K_BITMAP;
			c.iface = VFMIG_IFACE_TYPE1;
			read_range(&c, arg, 8, 8 + 16 + 16);
		} else if (hdr[1] == DIRTY_START || hdr[1] == DIRTY_STOP) {
			c.kind = K_TRACKING;
			c.iface = VFMIG_IFACE_TYPE1;
			c.to = hdr[1] == DIRTY_START;
		}
	} else if (cmd == CMD_PRECOPY_INFO) {
		__u64 *dev = data_fds_open > 0 ? bpf_map_lookup_elem(&data_fds, &c.dev) : NULL;

		c.kind = K_PRECOPY;
		if (dev) /* asked of the data fd: the device's */
			c.dev = *dev;
	} else if (cmd == CMD_HWPT_SET_DIRTY) {
		/* iommu_hwpt_set_dirty_tracking: size, flags, hwpt_id, reserved */
		__u32 v[3] = {};

		bpf_probe_read_user(v, sizeof(v), (void *)arg);
		c.kind = K_TRACKING;
		c.iface = VFMIG_IFACE_IOMMUFD;
		c.to = v[1] & HWPT_DIRTY_ENABLE;
		c.slot = v[2];
	} else if (cmd == CMD_HWPT_GET_DIRTY) {
		/* iommu_hwpt_get_dirty_bitmap: size, hwpt_id, flags, rsvd, iova, length, ps, data */
		c.kind = K_BITMAP;
		c.iface = VFMIG_IFACE_IOMMUFD;
		read_range(&c, arg, 16, 16 + 24);
	} else if (kvm_cmd(cmd)) {
		decode_kvm(&c, cmd);
	} else if (cmd == CMD_GROUP_GET_DEVICE_FD) {
		c.kind = K_DEVICE_FD;
		c.size = read_dev_name(c.name, arg);
	}
	if (c.kind == K_NONE || dev_out(c.dev))
		return 0;
	/* KVM_CLEAR_DIRTY_LOG's bitmap is counted as passed, once the call is known to count */
	if (c.kind == K_KVM_CLEAR_LOG)
		c.dirty = count_dirty(c.bitmap, c.size, &c.cut);
	if (c.kind == K_STATE_SET) {
		/* from the state the device is known to be in: none, no flag */
		struct vfmig_dev_state *st = bpf_map_lookup_elem(&devices, &c.dev);

		if (st)
			hang_risk(c.dev, st, st->state, c.to, VFMIG_SRC_SYSCALL);
	}
	bpf_map_update_elem(&calls, &tid, &c, BPF_ANY);
	return 0;
}

static __always_inline void exit_bitmap(struct call *c, long ret, __u64 lat)
{
	if (!ret)
		report_bitmap(c->dev, c->iface, c->iova, c->size, c->pgsize, c->bitmap, lat,
			      VFMIG_SRC_SYSCALL);
}

/* Dirty tracking switched on or off: per interface, with its latency and result. */
static __always_inline void exit_tracking(struct call *c, long ret, __u64 lat)
{
	__u32 iface = c->iface < VFMIG_IFACE_NR ? c->iface : 0;
	struct vfmig_event *e;

	count_dev(c->dev, (c->to ? VFMIG_C_TRACK_STARTS : VFMIG_C_TRACK_STOPS) + iface, 1);
	if (ret)
		count_dev(c->dev, VFMIG_C_TRACK_REFUSED + iface, 1);
	hist_add(c->dev, VFMIG_H_TRACKING, iface, c->to, ret, lat);
	e = event_new(VFMIG_EV_TRACKING, VFMIG_SRC_SYSCALL, c->dev);
	if (!e)
		return;
	e->from = iface;
	e->to = c->to | (c->cut ? 2 : 0);
	e->result = ret;
	e->a = lat;
	e->b = c->pgsize;
	e->c = iface == VFMIG_IFACE_IOMMUFD ? c->slot : c->iova;
	e->d = c->size;
	event_send(e);
}

/* A SET that returned a data fd: (pid, fd) is the device's from now on. */
static __always_inline void data_fd_opened(struct call *c)
{
	__s32 fd = -1;
	__u64 key;

	/* vfio_device_feature {argsz, flags} then vfio_device_feature_mig_state {state, data_fd} */
	if (bpf_probe_read_user(&fd, 4, (void *)(c->arg + 8 + 4)) || fd < 0)
		return;
	key = pid_fd(c->dev, fd);
	if (!bpf_map_update_elem(&data_fds, &key, &c->dev, BPF_NOEXIST))
		__sync_fetch_and_add(&data_fds_open, 1);
	else
		bpf_map_update_elem(&data_fds, &key, &c->dev, BPF_EXIST);
}

static __always_inline void exit_data_size(struct call *c, long ret)
{
	struct vfmig_event *e;
	__u64 len = 0;

	count_dev(c->dev, VFMIG_C_DATA_SIZES, 1);
	if (!ret)
		bpf_probe_read_user(&len, 8, (void *)(c->arg + 8));
	e = event_new(VFMIG_EV_DATA_SIZE, VFMIG_SRC_SYSCALL, c->dev);
	if (e) {
		e->a = len;
		e->result = ret;
		event_send(e);
	}
}

static __always_inline void exit_state(struct call *c, long ret, __u64 lat)
{
	struct vfmig_dev_state *st = dev_state(c->dev);
	__u32 state = 0;

	if (c->kind == K_STATE_GET) {
		if (!ret && st && !bpf_probe_read_user(&state, 4, (void *)(c->arg + 8)))
			st->state = state; /* learned, never guessed */
		return;
	}
	if (!ret)
		data_fd_opened(c);
	/* a refused SET may have left the device at an intermediate arc's end: unknown */
	set_done(c->dev, st, st ? st->state : VFMIG_STATE_UNKNOWN, c->to, ret,
		 ret ? VFMIG_STATE_UNKNOWN : c->to, lat, VFMIG_SRC_SYSCALL);
}

/* A KVM memslot call or dirty-log clear, as decoded, with its result. */
static __always_inline void kvm_event(__u16 type, struct call *c, long ret, __u64 d)
{
	struct vfmig_event *e = event_new(type, VFMIG_SRC_SYSCALL, c->dev);

	if (!e)
		return;
	e->a = c->iova;
	e->b = c->size;
	e->c = c->slot;
	e->d = d;
	e->to = c->cut;
	e->result = ret;
	event_send(e);
}

static __always_inline void exit_kvm_memslot(struct call *c, long ret)
{
	struct kvm_slot_key key = {.vm = c->dev, .slot = c->slot, .pad = 0};
	struct kvm_slot slot = {.gpa = c->iova, .npages = c->size >> KVM_PAGE_SHIFT};

	count_dev(c->dev, VFMIG_C_KVM_MEMSLOT_SETS, 1);
	if (!ret && c->size)
		bpf_map_update_elem(&kvm_slots, &key, &slot, BPF_ANY);
	else if (!ret)
		bpf_map_delete_elem(&kvm_slots, &key);
	kvm_event(VFMIG_EV_KVM_MEMSLOT, c, ret, c->to);
}

/* The bitmap KVM filled holds one bit per page of the slot: as many as the slot has. */
static __always_inline void exit_kvm_get_log(struct call *c, long ret, __u64 lat)
{
	struct kvm_slot_key key = {.vm = c->dev, .slot = c->slot, .pad = 0};
	struct kvm_slot *slot;

	count_dev(c->dev, VFMIG_C_KVM_DIRTY_LOG_CALLS, 1);
	if (ret) {
		count_dev(c->dev, VFMIG_C_KVM_DIRTY_LOG_ERRORS, 1);
		return;
	}
	slot = bpf_map_lookup_elem(&kvm_slots, &key);
	if (!slot) {
		count_dev(c->dev, VFMIG_C_KVM_DIRTY_LOG_UNSIZED, 1);
		return;
	}
	report_bitmap(c->dev, VFMIG_IFACE_KVM, slot->gpa, slot->npages << KVM_PAGE_SHIFT,
		      1 << KVM_PAGE_SHIFT, c->bitmap, lat, VFMIG_SRC_SYSCALL);
}

static __always_inline void exit_kvm_clear_log(struct call *c, long ret)
{
	count_dev(c->dev, VFMIG_C_KVM_CLEAR_LOG_CALLS, 1);
	if (ret) {
		count_dev(c->dev, VFMIG_C_KVM_CLEAR_LOG_ERRORS, 1);
	} else {
		count_dev(c->dev, VFMIG_C_KVM_CLEARED_PAGES, c->dirty);
		if (c->cut)
			count_dev(c->dev, VFMIG_C_KVM_CLEAR_CUT, 1);
	}
	kvm_event(VFMIG_EV_KVM_CLEAR_LOG, c, ret, c->dirty);
}

/* A device fd handed out: remember its name; either way, an event. */
static __always_inline void exit_device_fd(struct call *c, long ret)
{
	__u64 dev = ret >= 0 ? pid_fd(c->dev, ret) : c->dev;
	struct vfmig_dev_name n = {};
	struct vfmig_event *e;

	if (ret >= 0) {
		__builtin_memcpy(n.name, c->name, sizeof(n.name));
		bpf_get_current_comm(n.comm, sizeof(n.comm));
		bpf_map_update_elem(&dev_names, &dev, &n, BPF_ANY);
	}
	e = event_new(VFMIG_EV_DEVICE_FD, VFMIG_SRC_SYSCALL, dev);
	if (!e)
		return;
	e->result = ret;
	e->a = c->size;
	__builtin_memcpy(&e->b, c->name, 24); /* b, c, d */
	event_send(e);
}

static __always_inline int decode_exit(long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct call *c = bpf_map_lookup_elem(&calls, &tid);
	__u64 lat, v[2] = {};
	struct vfmig_dev_state *st;

	if (!c)
		return 0;
	lat = bpf_ktime_get_ns() - c->ts;
	if (c->kind == K_BITMAP) {
		exit_bitmap(c, ret, lat);
	} else if (c->kind == K_KVM_MEMSLOT) {
		exit_kvm_memslot(c, ret);
	} else if (c->kind == K_KVM_GET_LOG) {
		exit_kvm_get_log(c, ret, lat);
	} else if (c->kind == K_KVM_CLEAR_LOG) {
		exit_kvm_clear_log(c, ret);
	} else if (c->kind == K_DEVICE_FD) {
		exit_device_fd(c, ret);
	} else if (c->kind == K_DATA_SIZE) {
		exit_data_size(c, ret);
	} else if (c->kind == K_TRACKING) {
		exit_tracking(c, ret, lat);
	} else if (c->kind == K_MIGRATION_GET) {
		st = ret ? NULL : dev_state(c->dev);
		if (st && !bpf_probe_read_user(v, 8, (void *)(c->arg + 8))) {
			st->features = (__u32)v[0]; /* VFIO_MIGRATION_STOP_COPY, P2P, PRE_COPY */
			st->features_known = 1;
		}
	} else if (c->kind == K_PRECOPY) {
		count_dev(c->dev, VFMIG_C_PRECOPY_INFOS, 1);
		st = dev_state(c->dev);
		if (!ret && st && !bpf_probe_read_user(v, sizeof(v), (void *)(c->arg + 8))) {
			st->precopy_initial = v[0];
			st->precopy_dirty = v[1];
		}
	} else {
		exit_state(c, ret, lat);
	}
	bpf_map_delete_elem(&calls, &tid);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_ioctl")
int tp__sys_enter_ioctl(struct trace_event_raw_sys_enter *ctx)
{
	if (!decoded_cmd(ctx->args[1]) || filtered_out())
		return 0;
	return decode_enter(ctx->args[0], ctx->args[1], ctx->args[2]);
}

SEC("tracepoint/syscalls/sys_exit_ioctl")
int tp__sys_exit_ioctl(struct trace_event_raw_sys_exit *ctx)
{
	return decode_exit(ctx->ret);
}

#include "data_fds.bpf.h"

/*
 * The same decoders for BPF_PROG_TEST_RUN on prepared inputs, for answers
 * this kernel cannot give (a filled bitmap, a state result):
 * args = { fd, cmd, arg, ret }.
 */
SEC("raw_tp")
int test__decode(struct bpf_raw_tracepoint_args *ctx)
{
	decode_enter(ctx->args[0], ctx->args[1], ctx->args[2]);
	return decode_exit((long)ctx->args[3]);
}

/*
 * The loader's tests only: programs the kernel refuses when the loader's
 * VFMIG_TEST_REFUSE_* knob in .rodata asks for it. Otherwise the branch is
 * dead code to the verifier (.rodata is frozen, its values known), and they
 * load as programs that return 0; they are never attached.
 */
SEC("raw_tp")
int test__refused_by_verifier(void *ctx)
{
	__u32 idx = VFMIG_C_EVENTS;
	__u64 *v;

	if (!(filter.test_refuse & VFMIG_TEST_REFUSE_VERIFIER))
		return 0;
	v = bpf_map_lookup_elem(&counters, &idx);
	return *v; /* no NULL check: the verifier must refuse it */
}

/* A tracepoint's record with a field no kernel has: its CO-RE relocation cannot resolve. */
struct trace_event_raw_sys_exit___vfmig_test {
	long no_such_field;
} __attribute__((preserve_access_index));

SEC("tracepoint/syscalls/sys_exit_ioctl")
int test__core_unresolved(struct trace_event_raw_sys_exit___vfmig_test *ctx)
{
	if (!(filter.test_refuse & VFMIG_TEST_REFUSE_CORE))
		return 0;
	return ctx->no_such_field;
}
