// SPDX-License-Identifier: GPL-2.0
/*
 * One identity per device: emulated devices of different processes (two
 * VMs at once, a migration's source and destination) are counted apart, each
 * device's counters equal its own log, containers and page tables are
 * counted as what they are, and the aggregator's intervals add up. The
 * processes are children of the test, forked after the probes attached (so
 * their devices share ids: only their pids tell them apart).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "device/device.h"
#include "device/xfer.h"
#include "memory/iommu.h"
#include "probe/probe_test.h"
#include "probe/stat_out.h"
#include "vfmig/version.h"

#define MEM (4u << 20)
#define MAX_STEPS 64

/* What a child did, by its own account: the ground truth the probes are held to. */
struct truth {
	uint32_t pid, dev_id, iommu_id;
	uint64_t steps, sets, pin_calls, pages_pinned, map_bytes, dirty_seen;
	uint64_t read_bytes, written_bytes;
	uint32_t nsteps;
	struct emu_step step[MAX_STEPS];
};

static struct emu_dev *mk(void)
{
	struct emu_dev_cfg cfg = {.variant = "bigmem", .params = "mem=64k,block=4k"};
	struct emu_dev *dev = emu_dev_create(&cfg);

	if (!dev)
		_exit(3);
	return dev;
}

static void account_steps(struct emu_dev *dev, struct truth *t)
{
	t->pid = getpid();
	t->dev_id = emu_dev_id(dev);
	t->steps = emu_dev_steps_total(dev);
	t->nsteps = emu_dev_steps(dev, t->step, MAX_STEPS);
}

/* The whole of mem mapped at IOVA 0 (or unmapped), dirty tracking started with the map. */
static int type1_map(struct emu_iommu *io, void *mem, bool unmap)
{
	struct vfio_iommu_type1_dma_unmap u = {.argsz = sizeof(u), .size = MEM};
	struct vfio_iommu_type1_dma_map m = {.argsz = sizeof(m), .flags = 3, .size = MEM};
	struct vfio_iommu_type1_dirty_bitmap on = {.argsz = sizeof(on), .flags = 1};

	if (unmap)
		return emu_type1_ioctl(io, VFIO_IOMMU_UNMAP_DMA, &u);
	m.vaddr = (uintptr_t)mem;
	return emu_type1_ioctl(io, VFIO_IOMMU_MAP_DMA, &m) ||
	       emu_type1_ioctl(io, VFIO_IOMMU_DIRTY_PAGES, &on);
}

/* One GET_BITMAP of the whole mapping: the bits its answer set. */
static uint64_t type1_dirty(struct emu_iommu *io)
{
	static uint64_t bits[MEM / 4096 / 64];
	struct {
		struct vfio_iommu_type1_dirty_bitmap hdr;
		struct vfio_iommu_type1_dirty_bitmap_get get;
	} q = {.hdr = {.argsz = sizeof(q), .flags = 4}};

	q.get.size = MEM;
	q.get.bitmap = (struct vfio_bitmap){
		.pgsize = 4096, .size = sizeof(bits), .data = (__u64 *)bits};
	if (emu_type1_ioctl(io, VFIO_IOMMU_DIRTY_PAGES, &q))
		_exit(5);
	return bitmap_weight(bits, MEM / 4096);
}

/* Through a type1 container: pins, DMA writes, one bitmap query whose bits the child counts. */
static void type1_work(struct emu_dev *dev, int npin, int nwrite, struct truth *t)
{
	void *mem = aligned_alloc(4096, MEM);
	struct emu_iommu *io = emu_iommu_create(EMU_IOMMU_TYPE1, mem, MEM);
	uint8_t page[4096] = {1};
	int i, r;

	if (!io || type1_map(io, mem, false))
		_exit(4);
	t->iommu_id = emu_iommu_id(io);
	t->map_bytes = MEM;
	r = emu_pin_pages(io, emu_dev_id(dev), 0x10000, npin, 2);
	t->pin_calls++;
	t->pages_pinned += r > 0 ? r : 0;
	for (i = 0; i < nwrite; i++)
		emu_dma_rw(io, 0x200000 + i * 0x2000ull, page, sizeof(page), true);
	t->dirty_seen = type1_dirty(io);
	emu_unpin_pages(io, emu_dev_id(dev), 0x10000, npin);
	type1_map(io, mem, true);
	emu_iommu_destroy(io);
	free(mem);
}

/* A VM of its own: a device making rounds of state changes, and a type1 container. */
static void vm_child(int out, const char *name, unsigned int rounds, int npin, int nwrite)
{
	struct truth t = {0};
	struct emu_dev *dev;
	unsigned int i;

	emu_set_vm_name(name);
	dev = mk();
	for (i = 0; i < rounds; i++) {
		emu_set_state(dev, VFIO_DEVICE_STATE_STOP, NULL);
		emu_set_state(dev, VFIO_DEVICE_STATE_RUNNING, NULL);
		t.sets += 2;
	}
	type1_work(dev, npin, nwrite, &t);
	account_steps(dev, &t);
	_exit(write(out, &t, sizeof(t)) == sizeof(t) ? 0 : 6);
}

static pid_t spawn_vm(int *in, const char *name, unsigned int rounds, int npin, int nwrite)
{
	int p[2];
	pid_t pid;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		close(p[0]);
		vm_child(p[1], name, rounds, npin, nwrite);
	}
	close(p[1]);
	*in = p[0];
	return pid;
}

static void collect(int in, pid_t pid, struct truth *t)
{
	int status;

	assert_int_equal(read(in, t, sizeof(*t)), sizeof(*t));
	close(in);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && !WEXITSTATUS(status));
}

static uint64_t dev_key(const struct truth *t)
{
	return vfmig_dev_emu(t->pid, vfmig_obj(VFMIG_OBJ_DEVICE, t->dev_id));
}

static uint64_t dc(uint64_t key, int idx)
{
	return probe_dev_counter(probes, key, idx);
}

/* Each arc of the device's step log, counted by the probes on that device's key alone. */
static void arcs_match(const struct truth *t)
{
	struct agg_hist *h = calloc(VFMIG_MAX_DEVICES * 8, sizeof(*h));
	int n, i, j;

	assert_non_null(h);
	n = agg_hists(probes, h, VFMIG_MAX_DEVICES * 8);
	for (i = 0; i < (int)t->nsteps; i++) {
		uint64_t want = 0, seen = 0;

		for (j = 0; j < (int)t->nsteps; j++)
			want += t->step[j].from == t->step[i].from &&
				t->step[j].to == t->step[i].to;
		for (j = 0; j < n; j++)
			if (h[j].key.kind == VFMIG_H_FSM_STEP && h[j].key.dev == dev_key(t) &&
			    h[j].key.from == t->step[i].from && h[j].key.to == t->step[i].to)
				seen += h[j].h.count;
		assert_int_equal(seen, want);
	}
	free(h);
}

/* The device's and its container's counters equal what the child did. */
static void vm_matches(const struct truth *t)
{
	uint64_t dev = dev_key(t),
		 c1 = vfmig_dev_emu(t->pid, vfmig_obj(VFMIG_OBJ_TYPE1, t->iommu_id));

	assert_int_equal(dc(dev, VFMIG_C_FSM_STEPS), t->steps);
	assert_int_equal(dc(dev, VFMIG_C_STATE_SETS), t->sets);
	assert_int_equal(dc(dev, VFMIG_C_PIN_CALLS), t->pin_calls);
	assert_int_equal(dc(dev, VFMIG_C_PAGES_PINNED), t->pages_pinned);
	assert_int_equal(dc(dev, VFMIG_C_MAP_BYTES), 0); /* the container's, not the device's */
	assert_int_equal(dc(c1, VFMIG_C_MAP_BYTES), t->map_bytes);
	assert_int_equal(dc(c1, VFMIG_C_UNMAP_BYTES), t->map_bytes);
	assert_int_equal(dc(c1, VFMIG_C_BITMAP_QUERIES + VFMIG_IFACE_TYPE1), 1);
	assert_int_equal(dc(c1, VFMIG_C_BITMAP_DIRTY + VFMIG_IFACE_TYPE1), t->dirty_seen);
	/* the process: its device's and its container's, nothing of the other VM's */
	assert_int_equal(probe_proc_counter(probes, t->pid, VFMIG_C_FSM_STEPS), t->steps);
	assert_int_equal(probe_proc_counter(probes, t->pid, VFMIG_C_MAP_BYTES), t->map_bytes);
	arcs_match(t);
}

/* stat's JSON totals: the object of device id holds each of the strings want. */
static void stat_device_has(const char *json, const char *id, const char *const *want, int n)
{
	char key[96], *obj, *end;
	int i;

	snprintf(key, sizeof(key), "\"id\":\"%s\"", id);
	obj = strstr(json, key);
	if (!obj)
		fail_msg("no %s in stat's devices", id);
	end = strstr(obj, "}}");
	assert_non_null(end);
	for (i = 0; i < n; i++) {
		char *at = strstr(obj, want[i]);

		if (!at || at > end)
			fail_msg("%s: no %s in %.*s", id, want[i], (int)(end - obj), obj);
	}
}

static char *stat_totals(void)
{
	struct stat_out *r;
	size_t len;
	char *text;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	r = stat_out_new(probes, true, f);
	assert_non_null(r);
	stat_out_total(r, 1.0);
	stat_out_free(r);
	fclose(f);
	return text;
}

static void stat_shows_vm(const char *json, const struct truth *t, const char *vm)
{
	char id[48], name[96], steps[64];
	const char *want[] = {name, "\"variant\":\"bigmem\"", steps};

	emu_dev_name_of(t->pid, t->dev_id, id, sizeof(id));
	snprintf(name, sizeof(name), "\"vm\":\"%s\"", vm);
	snprintf(steps, sizeof(steps), "\"fsm_steps\":%llu", (unsigned long long)t->steps);
	stat_device_has(json, id, want, 3);
	snprintf(name, sizeof(name), "{\"pid\":%u,\"name\":\"%s\",\"devices\":[\"%s\"", t->pid, vm,
		 id);
	if (!strstr(json, name))
		fail_msg("no VM %s in stat's vms", name);
}

/* Two VMs at once, each a process whose device has the same id: apart in every count. */
static void test_two_vms_apart(void **state)
{
	struct truth a, b;
	int in_a, in_b;
	pid_t pa, pb;
	char vm_a[64], vm_b[64], *json;

	(void)state;
	NEED_PROBES();
	pa = spawn_vm(&in_a, "vm-alpha", 3, 5, 17);
	pb = spawn_vm(&in_b, "vm-beta", 7, 300, 2);
	collect(in_a, pa, &a);
	collect(in_b, pb, &b);
	assert_int_equal(a.dev_id, b.dev_id); /* forked from one process: only pids differ */
	assert_true(a.steps != b.steps && a.pages_pinned != b.pages_pinned);
	vm_matches(&a);
	vm_matches(&b);
	assert_int_equal(agg_vm_name(probes, a.pid, vm_a, sizeof(vm_a)), 0);
	assert_int_equal(agg_vm_name(probes, b.pid, vm_b, sizeof(vm_b)), 0);
	assert_string_equal(vm_a, "vm-alpha");
	assert_string_equal(vm_b, "vm-beta");
	json = stat_totals();
	assert_non_null(strstr(json, "\"version\":\"" VFMIG_VERSION "\""));
	stat_shows_vm(json, &a, "vm-alpha");
	stat_shows_vm(json, &b, "vm-beta");
	free(json);
}

/* The source half of a migration: its device saved into out. */
static void source_child(int out, int report)
{
	struct emu_save_opts o = {.max_rounds = 2, .chunk = 1 << 16};
	struct emu_save_report rep;
	struct truth t = {0};
	struct emu_dev *dev = mk();

	if (emu_save_stream(dev, out, &o, &rep))
		_exit(7);
	close(out);
	t.read_bytes = rep.total_bytes;
	account_steps(dev, &t);
	_exit(write(report, &t, sizeof(t)) == sizeof(t) ? 0 : 6);
}

/* The destination half: a fresh device of the same variant resumed from in. */
static void dest_child(int in, int report)
{
	struct truth t = {0};
	struct emu_dev *dev = mk();
	uint64_t digest;

	if (emu_resume_stream(dev, in, &t.written_bytes, &digest))
		_exit(8);
	account_steps(dev, &t);
	_exit(write(report, &t, sizeof(t)) == sizeof(t) ? 0 : 6);
}

/* A migration's source and destination are two devices, each counted as its own log says. */
static void test_migration_ends_apart(void **state)
{
	int stream[2], rs[2], rd[2];
	struct truth s, d;
	pid_t ps, pd;

	(void)state;
	NEED_PROBES();
	assert_int_equal(pipe(stream), 0);
	assert_int_equal(pipe(rs), 0);
	assert_int_equal(pipe(rd), 0);
	ps = fork();
	if (!ps) {
		close(stream[0]);
		source_child(stream[1], rs[1]);
	}
	pd = fork();
	if (!pd) {
		close(stream[1]);
		dest_child(stream[0], rd[1]);
	}
	close(stream[0]);
	close(stream[1]);
	close(rs[1]);
	close(rd[1]);
	collect(rs[0], ps, &s);
	collect(rd[0], pd, &d);
	assert_int_equal(s.dev_id, d.dev_id);
	assert_true(s.read_bytes > 0 && s.read_bytes == d.written_bytes);
	assert_int_equal(dc(dev_key(&s), VFMIG_C_FSM_STEPS), s.steps);
	assert_int_equal(dc(dev_key(&d), VFMIG_C_FSM_STEPS), d.steps);
	assert_int_equal(dc(dev_key(&s), VFMIG_C_DATA_READ_BYTES), s.read_bytes);
	assert_int_equal(dc(dev_key(&s), VFMIG_C_DATA_WRITE_BYTES), 0);
	assert_int_equal(dc(dev_key(&d), VFMIG_C_DATA_WRITE_BYTES), d.written_bytes);
	assert_int_equal(dc(dev_key(&d), VFMIG_C_DATA_READ_BYTES), 0);
	arcs_match(&s);
	arcs_match(&d);
}

/* VFIO_DEVICE_FEATURE with a payload of len bytes. */
static int feature(struct emu_dev *dev, uint32_t flags, const void *payload, size_t len)
{
	uint64_t buf[16] = {0};
	struct vfio_device_feature *h = (void *)buf;

	h->argsz = sizeof(*h) + len;
	h->flags = flags;
	memcpy(h->data, payload, len);
	return emu_dev_ioctl(dev, VFIO_DEVICE_FEATURE, h) ? -errno : 0;
}

/* An iommufd context (its IOAS mapped, its HWPT tracking) and a nic logging its own DMA. */
struct objects {
	uint8_t *mem;
	struct emu_iommu *io;
	struct emu_dev *dev;
};

static void objects_setup(struct objects *o)
{
	struct iommu_ioas_map m = {.size = sizeof(m),
				   .flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
					    IOMMU_IOAS_MAP_WRITEABLE,
				   .ioas_id = EMU_IOAS_ID,
				   .length = MEM};
	struct iommu_hwpt_set_dirty_tracking on = {.size = sizeof(on),
						   .flags = IOMMU_HWPT_DIRTY_TRACKING_ENABLE,
						   .hwpt_id = EMU_HWPT_ID};
	struct vfio_device_feature_dma_logging_range r = {0, MEM};
	struct vfio_device_feature_dma_logging_control c = {4096, 1, 0, (uintptr_t)&r};
	struct emu_dev_cfg cfg = {.variant = "nic", .params = "buffers=32"};

	o->mem = aligned_alloc(4096, MEM);
	assert_non_null(o->mem);
	memset(o->mem, 0, MEM);
	o->io = emu_iommu_create(EMU_IOMMU_IOMMUFD, o->mem, MEM);
	assert_non_null(o->io);
	m.user_va = (uintptr_t)o->mem;
	assert_int_equal(emu_iommufd_ioctl(o->io, IOMMU_IOAS_MAP, &m), 0);
	assert_int_equal(emu_iommufd_ioctl(o->io, IOMMU_HWPT_SET_DIRTY_TRACKING, &on), 0);
	o->dev = emu_dev_create(&cfg);
	assert_non_null(o->dev);
	assert_int_equal(emu_dev_attach_iommu(o->dev, o->io, EMU_DMA_IOMMU, true), 0);
	assert_int_equal(feature(o->dev,
				 VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_DMA_LOGGING_START,
				 &c, sizeof(c)),
			 0);
}

/* The HWPT's and the device's dirty bitmaps, as their queries answered: set bits of each. */
static void objects_query(struct objects *o, uint64_t *hw_bits, uint64_t *log_bits)
{
	static uint64_t hw[MEM / 4096 / 64], lg[MEM / 4096 / 64];
	struct iommu_hwpt_get_dirty_bitmap g = {.size = sizeof(g),
						.hwpt_id = EMU_HWPT_ID,
						.length = MEM,
						.page_size = 4096,
						.data = (uintptr_t)hw};
	struct vfio_device_feature_dma_logging_report rep = {0, MEM, 4096, (uintptr_t)lg};

	memset(hw, 0, sizeof(hw));
	memset(lg, 0, sizeof(lg));
	assert_int_equal(feature(o->dev,
				 VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT,
				 &rep, sizeof(rep)),
			 0);
	assert_int_equal(emu_iommufd_ioctl(o->io, IOMMU_HWPT_GET_DIRTY_BITMAP, &g), 0);
	*hw_bits = bitmap_weight(hw, MEM / 4096);
	*log_bits = bitmap_weight(lg, MEM / 4096);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Containers and page tables are counted as what they are: mappings on the IOAS, the HWPT's
 * dirty bitmap on the HWPT, a DMA logging report on its device; one interval's deltas and
 * rates are what the test did in it.
 */
static void test_objects_and_intervals(void **state)
{
	struct agg_view *v = agg_view_new();
	const struct agg_figures *f, *vm;
	uint64_t ioas, hwpt, key, hw, lg;
	struct objects o;
	const int dl = VFMIG_C_BITMAP_DIRTY + VFMIG_IFACE_DMA_LOG;

	(void)state;
	NEED_PROBES();
	assert_non_null(v);
	objects_setup(&o);
	key = probe_emu_key(o.dev);
	ioas = vfmig_dev_emu(getpid(), emu_iommu_what(o.io, VFMIG_OBJ_IOAS));
	hwpt = vfmig_dev_emu(getpid(), emu_iommu_what(o.io, VFMIG_OBJ_HWPT));
	assert_int_equal(dc(ioas, VFMIG_C_MAP_BYTES), MEM);
	assert_int_equal(agg_step(probes, v, now_s()), 0);
	assert_int_equal(emu_dev_run(o.dev, 20), 0);
	objects_query(&o, &hw, &lg);
	assert_int_equal(agg_step(probes, v, now_s()), 0);
	assert_true(hw > 0 && lg > 0);
	assert_int_equal(dc(hwpt, VFMIG_C_BITMAP_QUERIES + VFMIG_IFACE_IOMMUFD), 1);
	assert_int_equal(dc(hwpt, VFMIG_C_BITMAP_DIRTY + VFMIG_IFACE_IOMMUFD), hw);
	assert_int_equal(dc(key, VFMIG_C_BITMAP_QUERIES + VFMIG_IFACE_DMA_LOG), 1);
	assert_int_equal(dc(key, dl), lg);
	assert_int_equal(dc(key, VFMIG_C_BITMAP_QUERIES + VFMIG_IFACE_IOMMUFD), 0);
	/* the interval: what was done in it, on the device, in its process, on the host */
	f = agg_device(v, key);
	vm = agg_vm(v, getpid());
	assert_non_null(f);
	assert_non_null(vm);
	assert_int_equal(f->delta[dl], lg);
	assert_int_equal(f->total[dl], lg);
	assert_int_equal(vm->delta[dl], lg);
	assert_true(v->host.delta[dl] >= lg);
	assert_true(v->seconds > 0);
	assert_true(agg_rate(v, f, dl) == lg / v->seconds);
	assert_int_equal(agg_step(probes, v, now_s()), 0); /* nothing done since: no delta */
	assert_int_equal(agg_device(v, key)->delta[dl], 0);
	emu_dev_destroy(o.dev);
	emu_iommu_destroy(o.io);
	free(o.mem);
	agg_view_free(v);
}

static int map_entries(const char *name)
{
	int fd = probes_map_fd(probes, name), n = 0;
	uint64_t key, next;
	void *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		n++;
	}
	return n;
}

/*
 * Past VFMIG_MAX_DEVICES devices a device's counts have no room: each is counted as unkept,
 * and still in the host's and the process's totals. Pins by ids no device has, refused
 * (outside any mapping): two counts each (a call, an error).
 */
static void test_overflow_counted(void **state)
{
	const int calls = VFMIG_MAX_DEVICES + 100;
	static uint8_t mem[1 << 16] __attribute__((aligned(4096)));
	struct emu_iommu *io = emu_iommu_create(EMU_IOMMU_TYPE1, mem, sizeof(mem));
	uint64_t unkept0, calls0, errors0, proc0;
	int i, room, refused = 0;

	(void)state;
	NEED_PROBES();
	assert_non_null(io);
	room = VFMIG_MAX_DEVICES - map_entries("dev_counters");
	unkept0 = counter(VFMIG_C_DEV_OVERFLOW);
	calls0 = counter(VFMIG_C_PIN_CALLS);
	errors0 = counter(VFMIG_C_PIN_ERRORS);
	proc0 = probe_proc_counter(probes, getpid(), VFMIG_C_PIN_CALLS);
	for (i = 0; i < calls; i++)
		refused += emu_pin_pages(io, 0x70000000 + i, 0x100000, 1, 2) < 0;
	assert_int_equal(refused, calls);
	assert_int_equal(map_entries("dev_counters"), VFMIG_MAX_DEVICES);
	assert_int_equal(counter(VFMIG_C_DEV_OVERFLOW) - unkept0, 2 * (calls - room));
	assert_int_equal(counter(VFMIG_C_PIN_CALLS) - calls0, calls);
	assert_int_equal(counter(VFMIG_C_PIN_ERRORS) - errors0, calls);
	assert_int_equal(probe_proc_counter(probes, getpid(), VFMIG_C_PIN_CALLS) - proc0, calls);
	emu_iommu_destroy(io);
}

/* -d N: that emulated id in any process (here, this one's), no other device. */
static void test_filter_id_any_process(void **state)
{
	static char self[PATH_MAX];
	struct emu_dev *a = mk(), *b = mk();
	struct probe_opts o = {.binary = self,
			       .dev = vfmig_dev_emu(0, vfmig_obj(VFMIG_OBJ_DEVICE, emu_dev_id(a)))};
	struct vfmig_probes *only_a;
	char err[256];
	uint64_t len;
	int i;

	(void)state;
	NEED_PROBES();
	assert_non_null(realpath("/proc/self/exe", self));
	if (probes_open(&only_a, &o, err, sizeof(err)))
		fail_msg("probes_open -d N: %s", err);
	for (i = 0; i < 5; i++)
		assert_int_equal(emu_get_data_size(i < 3 ? a : b, &len), 0);
	assert_int_equal(probe_dev_counter(only_a, probe_emu_key(a), VFMIG_C_DATA_SIZES), 3);
	assert_int_equal(probe_dev_counter(only_a, probe_emu_key(b), VFMIG_C_DATA_SIZES), 0);
	assert_int_equal(probe_counter(only_a, VFMIG_C_DATA_SIZES), 3);
	probes_close(only_a);
	emu_dev_destroy(a);
	emu_dev_destroy(b);
}

static int setup_children(void **state)
{
	static char self[PATH_MAX];
	struct probe_opts o = {.binary = self}; /* every process of this binary: the children */

	(void)state;
	if (!realpath("/proc/self/exe", self))
		return -1;
	return probes_setup(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_vms_apart),
		cmocka_unit_test(test_migration_ends_apart),
		cmocka_unit_test(test_objects_and_intervals),
		cmocka_unit_test(test_filter_id_any_process),
		cmocka_unit_test(test_overflow_counted), /* last: it fills the device map */
	};

	return cmocka_run_group_tests(tests, setup_children, teardown);
}
