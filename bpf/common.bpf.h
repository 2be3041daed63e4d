/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What every probe family shares: the maps (created once by the loader and
 * reused by every family's object), the filter, counters, log2 histograms,
 * device state and the ring buffer whose drops are counted, never hidden.
 */
#ifndef VFMIG_COMMON_BPF_H
#define VFMIG_COMMON_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "vfmig/abi.h"
#include "vfmig/dirty_window.h" /* vfmig_log2 */

/* Kernel ABI values the families decode (vmlinux.h has types, not macros). */
#define VFIO_DEVICE_STATE_STOP_COPY 3
#define VFIO_DEVICE_STATE_PRE_COPY 6
#define VFIO_DEVICE_STATE_PRE_COPY_P2P 7
#define VFIO_MIGRATION_PRE_COPY 4

char LICENSE[] SEC("license") = "GPL";

const volatile struct vfmig_filter filter = {};

/*
 * bpf_loop came in 5.17; before, loops are bounded ones the verifier walks
 * pass by pass. The loader says so in filter.no_bpf_loop (also to test
 * that path on a newer kernel); the kernel's own list of helpers decides
 * too, so that a wrong word from user space cannot load a dead call.
 */
static __always_inline bool has_bpf_loop(void)
{
	return !filter.no_bpf_loop && bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_loop);
}

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VFMIG_C_NR);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VFMIG_MAX_DEVICES * 8);
	__type(key, struct vfmig_hist_key);
	__type(value, struct vfmig_hist);
} hists SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VFMIG_MAX_DEVICES);
	__type(key, __u64);
	__type(value, struct vfmig_dev_state);
} devices SEC(".maps");

/* Device names: of a device fd opened through its group (ioctl), of a kernel device (state). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, VFMIG_MAX_DEVICES);
	__type(key, __u64);
	__type(value, struct vfmig_dev_name);
} dev_names SEC(".maps");

/* Processes forked by the watched one (or by one of these) while watched: tgid -> 1. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VFMIG_MAX_FOLLOWED);
	__type(key, __u32);
	__type(value, __u8);
} followed SEC(".maps");
/* Counters kept per device and per process, beside the host's (counters): bounded. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VFMIG_MAX_DEVICES);
	__type(key, __u64);
	__type(value, struct vfmig_counters);
} dev_counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VFMIG_MAX_PROCS);
	__type(key, __u32);
	__type(value, struct vfmig_counters);
} proc_counters SEC(".maps");

/* A process's VM name, from the emulated device's device_new probe. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, VFMIG_MAX_PROCS);
	__type(key, __u32);
	__type(value, struct vfmig_vm_name);
} vm_names SEC(".maps");

#define EVENTS_RING_BYTES (256 * 1024)

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, EVENTS_RING_BYTES);
} events SEC(".maps");

/*
 * In the filter's cgroup or one below it: the current task's cgroup v2
 * ancestors, from the root down, until one is the filter's or the task's
 * own level is passed (the helper gives 0 there). A cgroup's level is not
 * asked of user space, whose cgroup namespace may hide the levels above it.
 */
static __always_inline bool cgroup_out(void)
{
	__u64 id;
	int level;

	if (!filter.cgroup)
		return false;
	for (level = 0; level < VFMIG_CGROUP_MAX_DEPTH; level++) {
		id = bpf_get_current_ancestor_cgroup_id(level);
		if (id == filter.cgroup)
			return false;
		if (!id)
			break;
	}
	return true;
}

static __always_inline bool pid_out(__u32 tgid)
{
	if (!filter.pid || tgid == filter.pid)
		return false;
	return !filter.follow_children || !bpf_map_lookup_elem(&followed, &tgid);
}

static __always_inline bool filtered_out(void)
{
	if (pid_out(bpf_get_current_pid_tgid() >> 32))
		return true;
	return cgroup_out();
}

/* A device fd's key, (pid << 32 | fd): pid from id, a pid_tgid or another key of its process. */
static __always_inline __u64 pid_fd(__u64 id, __u32 fd)
{
	return (id & ~0xffffffffull) | fd;
}

/* The key of the current process's fd. */
static __always_inline __u64 fd_dev(__u32 fd)
{
	return pid_fd(bpf_get_current_pid_tgid(), fd);
}

/* What an emulated process's USDT probe acts on (vfmig_obj()), keyed with the current pid. */
static __always_inline __u64 emu_key(__u64 obj)
{
	return vfmig_dev_emu(bpf_get_current_pid_tgid() >> 32, obj);
}

/*
 * The device filter applies where a device is known: transitions and decoded ioctls. An
 * emulated filter with no pid ("--dev N") is that id in every process.
 */
static __always_inline bool dev_out(__u64 dev)
{
	if (!filter.dev || dev == filter.dev)
		return false;
	return !(vfmig_dev_is_emu(filter.dev) && !vfmig_dev_emu_pid(filter.dev) &&
		 vfmig_dev_is_emu(dev) &&
		 (dev & ~((__u64)VFMIG_DEV_EMU_PID_MASK << 32)) == filter.dev);
}

static __always_inline void count(__u32 idx, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &idx);

	if (v)
		*v += n; /* per-CPU slot: no atomics needed */
}

/* Adds n to slot idx of one device's or process's counters, made on first use. */
static __always_inline void count_in(void *map, void *key, __u32 idx, __u64 n, __u32 overflow)
{
	static const struct vfmig_counters zero;
	struct vfmig_counters *v = bpf_map_lookup_elem(map, key);

	if (!v) {
		bpf_map_update_elem(map, key, &zero, BPF_NOEXIST);
		v = bpf_map_lookup_elem(map, key);
		if (!v) {
			count(overflow, 1);
			return;
		}
	}
	barrier_var(idx); /* bound checked on the register the access uses, as the verifier wants */
	if (idx < VFMIG_C_NR)
		__sync_fetch_and_add(&v->c[idx], n);
}

/*
 * Counted for the host, the current process and dev (0: no device known). Only where
 * the current process is the one acting: not host DMA-API mappings. A function of its own:
 * inlined at every call its keys would grow the callers' stack past the verifier's 512 bytes.
 */
static __noinline void count_dev(__u64 dev, __u32 idx, __u64 n)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;

	count(idx, n);
	count_in(&proc_counters, &pid, idx, n, VFMIG_C_PROC_OVERFLOW);
	if (dev)
		count_in(&dev_counters, &dev, idx, n, VFMIG_C_DEV_OVERFLOW);
}

static __always_inline __u32 log2_slot(__u64 v)
{
	__u32 r = vfmig_log2(v);

	return r < VFMIG_HIST_SLOTS ? r : VFMIG_HIST_SLOTS - 1;
}

static __always_inline void hist_add(__u64 dev, __u8 kind, __u8 from, __u8 to, __s32 result,
				     __u64 ns)
{
	struct vfmig_hist_key key = {
		.dev = dev, .kind = kind, .from = from, .to = to, .result = result};
	static const struct vfmig_hist zero;
	struct vfmig_hist *h = bpf_map_lookup_elem(&hists, &key);
	__u32 slot;

	if (!h) {
		bpf_map_update_elem(&hists, &key, &zero, BPF_NOEXIST);
		h = bpf_map_lookup_elem(&hists, &key);
		if (!h)
			return;
	}
	slot = log2_slot(ns);
	__sync_fetch_and_add(&h->count, 1);
	__sync_fetch_and_add(&h->sum_ns, ns);
	if (ns > h->max_ns)
		h->max_ns = ns; /* a racing larger value may be lost: max is advisory */
	if (slot < VFMIG_HIST_SLOTS)
		__sync_fetch_and_add(&h->slots[slot], 1);
}

static __always_inline struct vfmig_dev_state *dev_state(__u64 dev)
{
	struct vfmig_dev_state *st = bpf_map_lookup_elem(&devices, &dev);
	struct vfmig_dev_state fresh = {.state = VFMIG_STATE_UNKNOWN};

	if (st)
		return st;
	bpf_map_update_elem(&devices, &dev, &fresh, BPF_NOEXIST);
	return bpf_map_lookup_elem(&devices, &dev);
}

/* A ring-buffer record, or NULL with the drop counted. */
static __always_inline struct vfmig_event *event_new(__u16 type, __u16 source, __u64 dev)
{
	struct vfmig_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	__u64 id = bpf_get_current_pid_tgid();

	if (!e) {
		count(VFMIG_C_DROPS, 1);
		return NULL;
	}
	count(VFMIG_C_EVENTS, 1);
	__builtin_memset(e, 0, sizeof(*e));
	e->ts_ns = bpf_ktime_get_ns();
	e->dev = dev;
	e->pid = id >> 32;
	e->tid = (__u32)id;
	e->type = type;
	e->source = source;
	return e;
}

#define BITS_CHUNK 64 /* u64 words read per bpf_probe_read_user */

/* One chunk of a bitmap being counted: too large for the BPF stack. */
struct bits_chunk {
	__u64 w[BITS_CHUNK];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bits_chunk);
} bits_buf SEC(".maps");

struct bits_ctx {
	const __u64 *bitmap;
	__u64 words, dirty; /* words counted (at most the bound) */
	__u64 tail;	    /* the first word not in a whole chunk */
	__u32 last_bits;    /* bits of the last word counted that are in the range: 1..64 */
	bool failed;	    /* a read failed: the count stops there */
};

/* Whole chunk i: BITS_CHUNK words in one read, counted with no branch. */
static long count_chunk(__u32 i, void *arg)
{
	struct bits_ctx *c = arg;
	struct bits_chunk *b;
	__u32 zero = 0, j;
	__u64 dirty = 0;

	b = bpf_map_lookup_elem(&bits_buf, &zero);
	if (!b)
		return 1;
	if (bpf_probe_read_user(b->w, sizeof(b->w), c->bitmap + (__u64)i * BITS_CHUNK)) {
		c->failed = true;
		return 1;
	}
#pragma clang loop unroll(disable)
	for (j = 0; j < BITS_CHUNK; j++)
		dirty += __builtin_popcountll(b->w[j]);
	c->dirty += dirty;
	return 0;
}

/* Word tail + i, after the whole chunks, one read each; the last one masked. */
static long count_word(__u32 i, void *arg)
{
	struct bits_ctx *c = arg;
	__u64 word = 0, at = c->tail + i;

	if (at >= c->words || bpf_probe_read_user(&word, 8, c->bitmap + at)) {
		c->failed = at < c->words;
		return 1;
	}
	if (at + 1 == c->words && c->last_bits < 64)
		word &= (1ull << c->last_bits) - 1;
	c->dirty += __builtin_popcountll(word);
	return 0;
}

/*
 * Without bpf_loop the verifier walks every pass of a loop: the chunks are
 * bounded by VFMIG_BITMAP_BOUNDED_WORDS, the tail (at most one chunk's worth,
 * see dirty_in_bitmap) by BITS_CHUNK words.
 */
static __always_inline void count_bounded(struct bits_ctx *b)
{
	__u32 i;

	for (i = 0; i < VFMIG_BITMAP_BOUNDED_WORDS / BITS_CHUNK; i++) {
		if (i >= b->tail / BITS_CHUNK || count_chunk(i, b))
			break;
	}
	for (i = 0; i < BITS_CHUNK && !b->failed; i++) {
		if (count_word(i, b))
			break;
	}
}

#define DIRTY_CUT (1ull << 63) /* in dirty_in_bitmap's answer: the count stopped short */

/*
 * Dirty pages in a user bitmap of nbits, counted at most
 * VFMIG_BITMAP_MAX_WORDS words far (VFMIG_BITMAP_BOUNDED_WORDS without
 * bpf_loop), BITS_CHUNK words per read; DIRTY_CUT set when the count
 * stopped short of nbits: the bound hit, or a read failed. Global, so that
 * the verifier walks it once, not once per caller: without bpf_loop that
 * walk is long.
 */
__noinline __u64 dirty_in_bitmap(__u64 bitmap, __u64 nbits)
{
	struct bits_ctx b = {.bitmap = (const __u64 *)bitmap, .last_bits = 64};
	__u64 words = (nbits + 63) / 64;
	__u64 bound = has_bpf_loop() ? VFMIG_BITMAP_MAX_WORDS : VFMIG_BITMAP_BOUNDED_WORDS;

	if (words > bound) {
		b.words = bound;
	} else {
		b.words = words;
		if (nbits & 63)
			b.last_bits = nbits & 63;
	}
	b.tail = b.words / BITS_CHUNK * BITS_CHUNK;
	/* last_bits < 64 only when words % BITS_CHUNK: the masked word is a tail word,
	 * unless the range ends on a chunk: then the last chunk is counted word by word */
	if (b.last_bits < 64 && b.tail == b.words)
		b.tail -= BITS_CHUNK;
	if (has_bpf_loop()) {
		bpf_loop(b.tail / BITS_CHUNK, count_chunk, &b, 0);
		if (!b.failed)
			bpf_loop(b.words - b.tail, count_word, &b, 0);
	} else {
		count_bounded(&b);
	}
	return b.dirty | (words > b.words || b.failed ? DIRTY_CUT : 0);
}

static __always_inline __u64 count_dirty(__u64 bitmap, __u64 nbits, bool *cut)
{
	__u64 dirty = dirty_in_bitmap(bitmap, nbits);

	*cut = dirty & DIRTY_CUT;
	return dirty & ~DIRTY_CUT;
}

/*
 * The reader is woken only once a quarter of the ring waits: a wakeup per
 * record is an IPI to the reader's CPU, microseconds on a VM, most of what
 * a record cost. The reader drains the rest when its poll times out.
 */
static __always_inline void event_send(struct vfmig_event *e)
{
	bool wake = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= EVENTS_RING_BYTES / 4;

	bpf_ringbuf_submit(e, wake ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
}

/*
 * STOP_COPY -> PRE_COPY(_P2P) on a device with PRE_COPY (or whose features
 * are not known): unfixed kernels never return from this request, so it is
 * flagged at its start, by every source that sees one.
 */
static __always_inline void hang_risk(__u64 dev, const struct vfmig_dev_state *st, __u8 from,
				      __u32 to, __u16 src)
{
	struct vfmig_event *e;

	if (from != VFIO_DEVICE_STATE_STOP_COPY ||
	    (to != VFIO_DEVICE_STATE_PRE_COPY && to != VFIO_DEVICE_STATE_PRE_COPY_P2P) ||
	    (st && st->features_known && !(st->features & VFIO_MIGRATION_PRE_COPY)))
		return;
	count_dev(dev, VFMIG_C_HANG_RISK, 1);
	e = event_new(VFMIG_EV_STOPCOPY_TO_PRECOPY, src, dev);
	if (e) {
		e->from = from;
		e->to = to;
		event_send(e);
	}
}

/*
 * A SET request finished, from any source: counted, its latency per arc and
 * result, the state it left the device in (now), an event.
 */
static __always_inline void set_done(__u64 dev, struct vfmig_dev_state *st, __u8 from, __u32 to,
				     long result, __u32 now, __u64 lat, __u16 src)
{
	struct vfmig_event *e;

	count_dev(dev, VFMIG_C_STATE_SETS, 1);
	if (result)
		count_dev(dev, VFMIG_C_STATE_SET_ERRORS, 1);
	hist_add(dev, VFMIG_H_STATE_SET, from, to, result, lat);
	if (st)
		st->state = now;
	e = event_new(VFMIG_EV_STATE_SET, src, dev);
	if (e) {
		e->from = from;
		e->to = to;
		e->result = result;
		e->a = lat;
		e->b = now;
		event_send(e);
	}
}

/* One dirty-bitmap query answered: counters, latency, and its event. */
static __always_inline void report_bitmap(__u64 dev, __u32 iface, __u64 iova, __u64 size,
					  __u64 pgsize, __u64 bitmap, __u64 lat, __u16 src)
{
	struct vfmig_event *e;
	bool cut;
	__u64 dirty = count_dirty(bitmap, pgsize ? size / pgsize : 0, &cut);

	if (iface >= VFMIG_IFACE_NR)
		iface = 0;
	count_dev(dev, VFMIG_C_BITMAP_QUERIES + iface, 1);
	count_dev(dev, VFMIG_C_BITMAP_DIRTY + iface, dirty);
	if (cut)
		count_dev(dev, VFMIG_C_BITMAP_TRUNCATED + iface, 1);
	hist_add(dev, VFMIG_H_BITMAP, iface, 0, 0, lat);
	e = event_new(VFMIG_EV_BITMAP, src, dev);
	if (e) {
		e->a = iova;
		e->b = size;
		e->c = pgsize;
		e->d = dirty;
		e->from = iface;
		e->to = cut;
		event_send(e);
	}
}

/* ---- a process's (pid << 32 | fd) keys, forgotten when it execs or exits ---- */

#define FORGET_BATCH 16

/* Keys of one process, collected from a map a batch at a time (deleted outside the walk). */
struct pid_keys {
	__u64 pid;
	__u32 n;
	__u64 keys[FORGET_BATCH];
};

/* A bpf_for_each_map_elem callback; the families that forget no fds leave it unused. */
static __attribute__((unused)) long collect_pid_keys(struct bpf_map *map, __u64 *key, void *value,
						     struct pid_keys *f)
{
	if (*key >> 32 != f->pid)
		return 0;
	if (f->n >= FORGET_BATCH)
		return 1;
	f->keys[f->n++] = *key;
	return 0;
}

/* At sched_process_exit: the process's fds go with its last thread. */
static __always_inline bool last_thread_exiting(void)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();

	return !BPF_CORE_READ(task, signal, live.counter);
}

#endif
