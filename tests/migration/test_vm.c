// SPDX-License-Identifier: GPL-2.0
/*
 * The emulated VM (user/emu/vm.c): device specs as the command line gives
 * them, the one-line VM description the source sends its peer (round trip
 * and malformed input), and vm_harvest() with every device dirty interface:
 * after known nic DMA (emu_dev_run, no runner thread) and known vCPU writes
 * (straight into the vCPU mapping), the per-source counts and the union
 * bitmap equal what this file computes from the nic's ring geometry, bit
 * for bit, across a u64 word edge.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/vfmig_test.h"
#include "vfmig/uapi.h"
#include "device/device.h"
#include "memory/guest_mem.h"
#include "migration/vm.h"

#define PG 4096ull

#define PROBE_OR_SKIP()                                    \
	do {                                               \
		char perr_[256];                           \
		if (guest_mem_probe(perr_, sizeof(perr_))) \
			VFMIG_SKIP("%s", perr_);           \
	} while (0)

static void parse_ok(const char *s, struct vm_dev_spec *spec)
{
	char err[256] = "";

	if (vm_dev_spec_parse(s, spec, err, sizeof(err)))
		fail_msg("vm_dev_spec_parse(\"%s\"): %s", s, err);
}

static void parse_bad(const char *s)
{
	struct vm_dev_spec spec;
	char err[256] = "";

	if (vm_dev_spec_parse(s, &spec, err, sizeof(err)) != -EINVAL)
		fail_msg("vm_dev_spec_parse(\"%s\") accepted", s);
	if (!err[0])
		fail_msg("vm_dev_spec_parse(\"%s\") refused without a reason", s);
}

static void test_dirty_names(void **state)
{
	enum vm_dirty d, back;

	(void)state;
	for (d = VM_DIRTY_NONE; d <= VM_DIRTY_IOMMUFD; d++) {
		assert_int_equal(vm_dirty_parse(vm_dirty_name(d), &back), 0);
		assert_int_equal(back, d);
	}
	assert_string_equal(vm_dirty_name(VM_DIRTY_TYPE1_PIN), "type1-pin");
	assert_string_equal(vm_dirty_name(VM_DIRTY_DMA_LOG), "dma-log");
	assert_int_equal(vm_dirty_parse("type1", &back), -EINVAL);
	assert_int_equal(vm_dirty_parse("", &back), -EINVAL);
	assert_string_equal(vm_dirty_name((enum vm_dirty)99), "?");
}

static void test_spec_defaults(void **state)
{
	struct vm_dev_spec s;

	(void)state;
	parse_ok("nic", &s);
	assert_string_equal(s.variant, "nic");
	assert_int_equal(s.dirty, VM_DIRTY_TYPE1_PIN);
	assert_int_equal(s.rate, 0);
	assert_int_equal(s.features, 0);
	assert_string_equal(s.params, "");

	parse_ok("bigmem", &s);
	assert_string_equal(s.variant, "bigmem");
	assert_int_equal(s.dirty, VM_DIRTY_NONE);
	assert_string_equal(s.params, "");

	/* a colon with nothing after it is no option */
	parse_ok("nic:", &s);
	assert_int_equal(s.dirty, VM_DIRTY_TYPE1_PIN);
	assert_string_equal(s.params, "");
}

static void test_spec_keys(void **state)
{
	static const struct {
		const char *s;
		enum vm_dirty d;
	} modes[] = {
		{"nic:dirty=none", VM_DIRTY_NONE},
		{"nic:dirty=type1-pin", VM_DIRTY_TYPE1_PIN},
		{"nic:dirty=type1-rw", VM_DIRTY_TYPE1_RW},
		{"nic:dirty=type1-iommu", VM_DIRTY_TYPE1_IOMMU},
		{"nic:dirty=dma-log", VM_DIRTY_DMA_LOG},
		{"nic:dirty=iommufd", VM_DIRTY_IOMMUFD},
	};
	struct vm_dev_spec s;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		parse_ok(modes[i].s, &s);
		assert_int_equal(s.dirty, modes[i].d);
		assert_string_equal(s.params, "");
	}

	/* vm keys are taken out, variant options pass through in order */
	parse_ok("nic:buffers=64,dirty=iommufd,rate=20000,pkt=100,features=stop-copy+p2p,seed=7",
		 &s);
	assert_string_equal(s.variant, "nic");
	assert_int_equal(s.dirty, VM_DIRTY_IOMMUFD);
	assert_int_equal(s.rate, 20000);
	assert_int_equal(s.features, VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P);
	assert_string_equal(s.params, "buffers=64,pkt=100,seed=7");

	parse_ok("bigmem:mem=4m,rate=2k,block=4k,features=stop-copy+pre-copy+p2p", &s);
	assert_string_equal(s.variant, "bigmem");
	assert_int_equal(s.dirty, VM_DIRTY_NONE);
	assert_int_equal(s.rate, 2048);
	assert_int_equal(s.features, EMU_MIG_FLAGS_ALL);
	assert_string_equal(s.params, "mem=4m,block=4k");

	parse_ok("bigmem:dirty=none,rate=0", &s);
	assert_int_equal(s.dirty, VM_DIRTY_NONE);
	assert_int_equal(s.rate, 0);
	assert_string_equal(s.params, "");

	/* the last value of a repeated key wins */
	parse_ok("nic:rate=5,rate=6,dirty=dma-log,dirty=type1-rw", &s);
	assert_int_equal(s.rate, 6);
	assert_int_equal(s.dirty, VM_DIRTY_TYPE1_RW);
}

static void test_spec_errors(void **state)
{
	char longvariant[64];

	(void)state;
	parse_bad("nic:dirty=bogus");
	parse_bad("nic:dirty=");
	parse_bad("nic:dirty=type1");
	parse_bad("nic:rate=abc");
	parse_bad("nic:rate=");
	parse_bad("nic:rate=-1");
	parse_bad("nic:rate=12x");
	parse_bad("bigmem:dirty=type1-pin");
	parse_bad("bigmem:dirty=iommufd");
	parse_bad("bigmem:rate=10,dirty=dma-log");
	parse_bad("nic:features=bogus");
	parse_bad("nic:features=stop-copy+warp");
	parse_bad("");
	parse_bad(":rate=1");
	memset(longvariant, 'x', sizeof(longvariant) - 1);
	longvariant[sizeof(longvariant) - 1] = 0;
	parse_bad(longvariant);
	parse_bad("abcdefghijklmnop:rate=1"); /* 16 characters: one too many */
}

static void cfg_sample(struct vm_cfg *c, unsigned int ndevs)
{
	static const char *const specs[] = {
		"nic:dirty=type1-iommu,rate=12345,buffers=64,pkt=100",
		"bigmem:mem=4m,block=4k,rate=77,features=stop-copy+pre-copy",
		"nic:dirty=iommufd,features=stop-copy+p2p,seed=99,rx_iova=2m",
		"nic:dirty=dma-log,rate=1",
	};
	unsigned int i;

	memset(c, 0, sizeof(*c));
	c->mem_size = 123ull << 20;
	c->wl.threads = 3;
	c->wl.rate = 987654321;
	c->wl.ws_start = 17;
	c->wl.ws_pages = 4321;
	c->wl.pattern = WORKLOAD_HOTCOLD;
	c->wl.hot_fraction = 0.1;
	c->wl.hot_share = 1.0 / 3.0;
	c->wl.seed = 0xfedcba9876543210ull;
	for (i = 0; i < ndevs; i++)
		parse_ok(specs[i], &c->devs[i]);
	c->ndevs = ndevs;
}

static void assert_cfg_equal(const struct vm_cfg *a, const struct vm_cfg *b)
{
	unsigned int i;

	assert_int_equal(a->mem_size, b->mem_size);
	assert_int_equal(a->wl.threads, b->wl.threads);
	assert_int_equal(a->wl.rate, b->wl.rate);
	assert_int_equal(a->wl.ws_start, b->wl.ws_start);
	assert_int_equal(a->wl.ws_pages, b->wl.ws_pages);
	assert_int_equal(a->wl.pattern, b->wl.pattern);
	assert_true(a->wl.hot_fraction == b->wl.hot_fraction); /* %a: exact */
	assert_true(a->wl.hot_share == b->wl.hot_share);
	assert_int_equal(a->wl.seed, b->wl.seed);
	assert_int_equal(a->ndevs, b->ndevs);
	for (i = 0; i < a->ndevs; i++) {
		assert_string_equal(a->devs[i].variant, b->devs[i].variant);
		assert_string_equal(a->devs[i].params, b->devs[i].params);
		assert_int_equal(a->devs[i].features, b->devs[i].features);
		assert_int_equal(a->devs[i].dirty, b->devs[i].dirty);
		assert_int_equal(a->devs[i].rate, b->devs[i].rate);
	}
}

static void test_cfg_round_trip(void **state)
{
	static const enum workload_pattern pats[] = {WORKLOAD_UNIFORM, WORKLOAD_HOTCOLD,
						     WORKLOAD_SWEEP};
	struct vm_cfg c, back;
	char text[1024], err[256];
	unsigned int n, p;

	(void)state;
	for (n = 0; n <= VM_MAX_DEVICES; n++) {
		for (p = 0; p < 3; p++) {
			cfg_sample(&c, n);
			c.wl.pattern = pats[p];
			c.wl.seed += n * 3 + p;
			assert_int_equal(vm_cfg_format(&c, text, sizeof(text)), 0);
			memset(&back, 0xa5, sizeof(back));
			err[0] = 0;
			if (vm_cfg_parse(text, &back, err, sizeof(err)))
				fail_msg("vm_cfg_parse(\"%s\"): %s", text, err);
			assert_cfg_equal(&c, &back);
		}
	}

	/* extremes: zero everywhere, and the largest values */
	memset(&c, 0, sizeof(c));
	assert_int_equal(vm_cfg_format(&c, text, sizeof(text)), 0);
	assert_int_equal(vm_cfg_parse(text, &back, err, sizeof(err)), 0);
	assert_cfg_equal(&c, &back);
	cfg_sample(&c, 2);
	c.mem_size = c.wl.rate = c.wl.ws_start = c.wl.ws_pages = c.wl.seed = UINT64_MAX;
	c.wl.threads = 64;
	c.wl.hot_fraction = 1.0;
	c.wl.hot_share = 0.0;
	c.devs[0].rate = UINT64_MAX;
	c.devs[1].features = EMU_MIG_FLAGS_ALL;
	assert_int_equal(vm_cfg_format(&c, text, sizeof(text)), 0);
	assert_int_equal(vm_cfg_parse(text, &back, err, sizeof(err)), 0);
	assert_cfg_equal(&c, &back);

	/* the longest device options survive */
	cfg_sample(&c, VM_MAX_DEVICES);
	for (n = 0; n < VM_MAX_DEVICES; n++) {
		memset(c.devs[n].params, 'a' + n, sizeof(c.devs[n].params) - 1);
		c.devs[n].params[sizeof(c.devs[n].params) - 1] = 0;
	}
	assert_int_equal(vm_cfg_format(&c, text, sizeof(text)), 0);
	assert_int_equal(vm_cfg_parse(text, &back, err, sizeof(err)), 0);
	assert_cfg_equal(&c, &back);
}

static void test_cfg_format_short_buffer(void **state)
{
	struct vm_cfg c;
	char text[1024];
	size_t full, len;

	(void)state;
	cfg_sample(&c, 3);
	assert_int_equal(vm_cfg_format(&c, text, sizeof(text)), 0);
	full = strlen(text);
	for (len = 1; len <= full; len += (len < 100 ? 1 : 37))
		assert_int_equal(vm_cfg_format(&c, text, len), -ENOSPC);
	assert_int_equal(vm_cfg_format(&c, text, full + 1), 0);
}

static void parse_cfg_bad(const char *text)
{
	struct vm_cfg c;
	char err[256] = "";

	if (vm_cfg_parse(text, &c, err, sizeof(err)) != -EINVAL)
		fail_msg("vm_cfg_parse accepted \"%s\"", text);
	if (!err[0])
		fail_msg("vm_cfg_parse refused \"%s\" without a reason", text);
}

static void test_cfg_malformed(void **state)
{
	static const char good[] =
		"mem=1048576 vcpus=1 rate=10 ws=0:16 pattern=uniform hot=0x1p-1:0x1p-1 seed=1";
	struct vm_cfg c, d;
	char text[1024], err[256];

	(void)state;
	assert_int_equal(vm_cfg_parse(good, &c, err, sizeof(err)), 0);
	assert_int_equal(c.mem_size, 1 << 20);
	assert_true(c.wl.hot_fraction == 0.5);
	assert_int_equal(c.ndevs, 0);

	parse_cfg_bad("");
	parse_cfg_bad("garbage");
	parse_cfg_bad("mem=abc vcpus=1 rate=10 ws=0:16 pattern=uniform hot=0x1p-1:0x1p-1 seed=1");
	parse_cfg_bad("mem=1048576 vcpus=1 rate=10 ws=0:16 pattern=uniform hot=0x1p-1:0x1p-1");
	parse_cfg_bad("mem=1048576 vcpus=1 rate=10 ws=0 pattern=uniform hot=0x1p-1:0x1p-1 seed=1");
	parse_cfg_bad(
		"mem=1048576 vcpus=1 rate=10 ws=0:16 pattern=zigzag hot=0x1p-1:0x1p-1 seed=1");
	parse_cfg_bad("mem=1048576 vcpus=1 rate=10 ws=0:16 pattern=uniform hot=x:y seed=1");
	/* devices: variant;features;dirty;rate;params */
	snprintf(text, sizeof(text), "%s dev=nic", good);
	parse_cfg_bad(text);
	snprintf(text, sizeof(text), "%s dev=nic;0;type1-pin", good);
	parse_cfg_bad(text);
	snprintf(text, sizeof(text), "%s dev=nic;0;type1-pin;5", good);
	parse_cfg_bad(text);
	snprintf(text, sizeof(text), "%s dev=nic;x;type1-pin;5;", good);
	parse_cfg_bad(text);
	snprintf(text, sizeof(text), "%s dev=nic;0;warp-drive;5;", good);
	parse_cfg_bad(text);
	snprintf(text, sizeof(text), "%s dev=nic;0;type1-pin;many;", good);
	parse_cfg_bad(text);
	snprintf(text, sizeof(text), "%s dev=", good);
	parse_cfg_bad(text);
	snprintf(text, sizeof(text), "%s dev=;0;none;0;", good);
	parse_cfg_bad(text);
	/* one device too many */
	snprintf(text, sizeof(text), "%s%s", good,
		 " dev=nic;0;none;0; dev=nic;0;none;0; dev=nic;0;none;0; dev=nic;0;none;0;"
		 " dev=nic;0;none;0;");
	parse_cfg_bad(text);

	/* ... and exactly VM_MAX_DEVICES is fine */
	snprintf(text, sizeof(text), "%s%s", good,
		 " dev=nic;0;none;0; dev=bigmem;7;none;3;mem=4m dev=nic;0;iommufd;9;pkt=1,seed=2"
		 " dev=nic;0;dma-log;0;");
	assert_int_equal(vm_cfg_parse(text, &d, err, sizeof(err)), 0);
	assert_int_equal(d.ndevs, 4);
	assert_string_equal(d.devs[1].variant, "bigmem");
	assert_int_equal(d.devs[1].features, 7);
	assert_int_equal(d.devs[1].rate, 3);
	assert_string_equal(d.devs[1].params, "mem=4m");
	assert_int_equal(d.devs[2].dirty, VM_DIRTY_IOMMUFD);
	assert_string_equal(d.devs[2].params, "pkt=1,seed=2");
	assert_string_equal(d.devs[3].params, "");
}

static void test_create_errors(void **state)
{
	struct vm_cfg c;
	char err[256] = "";
	struct vm *vm;

	(void)state;
	PROBE_OR_SKIP();
	memset(&c, 0, sizeof(c));
	c.mem_size = 1 << 20;
	c.ndevs = 1;
	strcpy(c.devs[0].variant, "toaster");
	vm = vm_create(&c, err, sizeof(err));
	assert_null(vm);
	assert_true(err[0]);

	err[0] = 0;
	parse_ok("nic:bogus=1", &c.devs[0]);
	vm = vm_create(&c, err, sizeof(err));
	assert_null(vm);
	assert_true(err[0]);

	/* a working set outside guest RAM */
	err[0] = 0;
	c.ndevs = 0;
	c.wl = (struct workload_cfg){
		.threads = 1, .rate = 10, .ws_start = 200, .ws_pages = 100, .seed = 1};
	vm = vm_create(&c, err, sizeof(err));
	assert_null(vm);
	assert_true(err[0]);
}

/* ---- vm_harvest ---- */

/* Ring geometry: buffers cross pages and the u64 word edge at page 64. */
#define NBUF 16
#define BUFSZ 6000ull
#define PKT 1000ull
#define RX_IOVA (248ull << 10) /* page 62 */
#define NIC_OPTS "buffers=16,bufsize=6000,pkt=1000,rx_iova=248k"
#define MEM_PAGES 1024ull
#define WORDS (MEM_PAGES / 64)

static void set_range(uint64_t *bm, uint64_t first, uint64_t last)
{
	uint64_t p;

	for (p = first; p <= last; p++)
		bm[p / 64] |= 1ull << (p % 64);
}

static uint64_t weight(const uint64_t *bm)
{
	uint64_t n = 0, i;

	for (i = 0; i < WORDS; i++)
		n += __builtin_popcountll(bm[i]);
	return n;
}

/*
 * The pages the kernel would report for slots [first, first + n) of the
 * ring: in pin mode the pages the nic pinned for each buffer, otherwise the
 * pages each packet's bytes landed in.
 */
static void ring_pages(uint64_t *bm, enum vm_dirty mode, uint64_t rx_iova, unsigned int first,
		       unsigned int n)
{
	unsigned int k;

	for (k = 0; k < n; k++) {
		uint64_t iova = rx_iova + (uint64_t)((first + k) % NBUF) * BUFSZ;

		if (mode == VM_DIRTY_TYPE1_PIN)
			set_range(bm, iova / PG, (iova + BUFSZ - 1) / PG);
		else
			set_range(bm, iova / PG, (iova + PKT - 1) / PG);
	}
}

static void vcpu_write(struct vm *vm, uint64_t *bm, const uint64_t *pages, size_t n)
{
	uint8_t *mem = guest_mem_vcpu(vm->mem);
	size_t i;

	for (i = 0; i < n; i++) {
		mem[pages[i] * PG + (i * 8 % PG)] ^= 0x5a;
		bm[pages[i] / 64] |= 1ull << (pages[i] % 64);
	}
}

struct expect {
	uint64_t vcpu[WORDS];
	uint64_t dev[VM_MAX_DEVICES][WORDS];
};

static void check_harvest(struct vm *vm, struct expect *e, const char *step)
{
	uint64_t got[WORDS], by_src[1 + VM_MAX_DEVICES], want[WORDS], i, w;
	unsigned int d;

	memset(got, 0, sizeof(got));
	memset(by_src, 0xff, sizeof(by_src));
	if (vm_harvest(vm, got, by_src))
		fail_msg("%s: vm_harvest: %s", step, vm->err);
	memcpy(want, e->vcpu, sizeof(want));
	if (by_src[0] != weight(e->vcpu))
		fail_msg("%s: vCPU pages %llu, expected %llu", step, (unsigned long long)by_src[0],
			 (unsigned long long)weight(e->vcpu));
	for (d = 0; d < vm->cfg.ndevs; d++) {
		if (by_src[1 + d] != weight(e->dev[d]))
			fail_msg("%s: device %u (%s) pages %llu, expected %llu", step, d,
				 vm_dirty_name(vm->devs[d].spec.dirty),
				 (unsigned long long)by_src[1 + d],
				 (unsigned long long)weight(e->dev[d]));
		for (w = 0; w < WORDS; w++)
			want[w] |= e->dev[d][w];
	}
	for (w = 0; w < WORDS; w++) {
		if (got[w] == want[w])
			continue;
		for (i = 0; i < 64; i++) {
			if ((got[w] ^ want[w]) >> i & 1)
				fail_msg("%s: page %llu is %s, expected %s", step,
					 (unsigned long long)(w * 64 + i),
					 got[w] >> i & 1 ? "dirty" : "clean",
					 want[w] >> i & 1 ? "dirty" : "clean");
		}
	}
	memset(e, 0, sizeof(*e));
}

static struct vm *harvest_vm(const char *const *specs, unsigned int n)
{
	struct vm_cfg c;
	char err[256] = "";
	struct vm *vm;
	unsigned int i;

	memset(&c, 0, sizeof(c));
	c.mem_size = MEM_PAGES * PG;
	for (i = 0; i < n; i++)
		parse_ok(specs[i], &c.devs[i]);
	c.ndevs = n;
	vm = vm_create(&c, err, sizeof(err));
	if (!vm)
		fail_msg("vm_create: %s", err);
	for (i = 0; i < n; i++) {
		enum vfio_device_mig_state st;

		assert_int_equal(emu_get_state(vm->devs[i].dev, &st), 0);
		assert_int_equal(st, VFIO_DEVICE_STATE_RUNNING);
	}
	if (vm_track_start(vm)) {
		char why[256];

		snprintf(why, sizeof(why), "%s", vm->err);
		vm_destroy(vm);
		fail_msg("vm_track_start: %s", why);
	}
	return vm;
}

static void harvest_mode(enum vm_dirty mode)
{
	static const uint64_t p1[] = {0, 62, 63, 64, 100, 1023};
	static const uint64_t p3[] = {1, 65, 70, 700};
	char spec[160];
	const char *specs[1] = {spec};
	struct expect *e = calloc(1, sizeof(*e));
	struct emu_dev *nic;
	struct vm *vm;

	assert_non_null(e);
	snprintf(spec, sizeof(spec), "nic:dirty=%s,%s", vm_dirty_name(mode), NIC_OPTS);
	vm = harvest_vm(specs, 1);
	nic = vm->devs[0].dev;

	/* Just armed: nothing written, nothing pinned; IOMMU DMA: every mapped page. */
	if (mode == VM_DIRTY_TYPE1_IOMMU)
		set_range(e->dev[0], 0, MEM_PAGES - 1);
	check_harvest(vm, e, "armed");

	/* Five packets (slots 0-4), and vCPU writes, one on a page the nic also wrote. */
	assert_int_equal(emu_dev_run(nic, 5), 0);
	vcpu_write(vm, e->vcpu, p1, sizeof(p1) / sizeof(p1[0]));
	ring_pages(e->dev[0], mode, RX_IOVA, 0, 5);
	if (mode == VM_DIRTY_TYPE1_IOMMU)
		set_range(e->dev[0], 0, MEM_PAGES - 1);
	check_harvest(vm, e, "five packets");

	/* Nothing happened: only what type1 reports regardless. */
	if (mode == VM_DIRTY_TYPE1_PIN)
		ring_pages(e->dev[0], mode, RX_IOVA, 0, 5); /* still pinned */
	if (mode == VM_DIRTY_TYPE1_IOMMU)
		set_range(e->dev[0], 0, MEM_PAGES - 1);
	check_harvest(vm, e, "idle");

	/* Twenty packets: slots 5-15, then 0-8 again. */
	assert_int_equal(emu_dev_run(nic, 20), 0);
	vcpu_write(vm, e->vcpu, p3, sizeof(p3) / sizeof(p3[0]));
	ring_pages(e->dev[0], mode, RX_IOVA, 5, 20);
	if (mode == VM_DIRTY_TYPE1_IOMMU)
		set_range(e->dev[0], 0, MEM_PAGES - 1);
	check_harvest(vm, e, "twenty packets");

	/* Idle again, then a single packet. */
	if (mode == VM_DIRTY_TYPE1_PIN)
		ring_pages(e->dev[0], mode, RX_IOVA, 0, NBUF);
	if (mode == VM_DIRTY_TYPE1_IOMMU)
		set_range(e->dev[0], 0, MEM_PAGES - 1);
	check_harvest(vm, e, "idle again");
	assert_int_equal(emu_dev_run(nic, 1), 0); /* slot 9 */
	ring_pages(e->dev[0], mode, RX_IOVA, mode == VM_DIRTY_TYPE1_PIN ? 0 : 9,
		   mode == VM_DIRTY_TYPE1_PIN ? NBUF : 1);
	if (mode == VM_DIRTY_TYPE1_IOMMU)
		set_range(e->dev[0], 0, MEM_PAGES - 1);
	check_harvest(vm, e, "one packet");

	vm_track_stop(vm);
	vm_destroy(vm);
	free(e);
}

static void test_harvest_type1_pin(void **state)
{
	(void)state;
	PROBE_OR_SKIP();
	harvest_mode(VM_DIRTY_TYPE1_PIN);
}

static void test_harvest_type1_rw(void **state)
{
	(void)state;
	PROBE_OR_SKIP();
	harvest_mode(VM_DIRTY_TYPE1_RW);
}

static void test_harvest_type1_iommu(void **state)
{
	(void)state;
	PROBE_OR_SKIP();
	harvest_mode(VM_DIRTY_TYPE1_IOMMU);
}

static void test_harvest_dma_log(void **state)
{
	(void)state;
	PROBE_OR_SKIP();
	harvest_mode(VM_DIRTY_DMA_LOG);
}

static void test_harvest_iommufd(void **state)
{
	(void)state;
	PROBE_OR_SKIP();
	harvest_mode(VM_DIRTY_IOMMUFD);
}

/* A nic without DMA tracking writes no guest RAM (private buffers) and reports nothing. */
static void test_harvest_none(void **state)
{
	static const uint64_t p[] = {5, 127, 128};
	const char *specs[] = {"nic:dirty=none," NIC_OPTS};
	struct expect *e = calloc(1, sizeof(*e));
	struct vm *vm;
	uint64_t before;

	(void)state;
	PROBE_OR_SKIP();
	assert_non_null(e);
	vm = harvest_vm(specs, 1);
	check_harvest(vm, e, "armed");
	before = vm_ram_digest(vm);
	assert_int_equal(emu_dev_run(vm->devs[0].dev, 40), 0);
	assert_true(vm_ram_digest(vm) == before);
	vcpu_write(vm, e->vcpu, p, 3);
	check_harvest(vm, e, "forty packets");
	vm_track_stop(vm);
	vm_destroy(vm);
	free(e);
}

/* Several devices at once: each counted in its own slot, all ORed together. */
static void test_harvest_mixed(void **state)
{
	static const uint64_t p[] = {3, 64, 300, 301, 1000};
	const char *specs[] = {
		"nic:dirty=type1-rw," NIC_OPTS,
		"bigmem:mem=256k,rate=100",
		"nic:dirty=iommufd,buffers=16,bufsize=6000,pkt=1000,rx_iova=1m",
		"nic:dirty=type1-pin,buffers=16,bufsize=6000,pkt=1000,rx_iova=2m",
	};
	struct expect *e = calloc(1, sizeof(*e));
	struct vm *vm;

	(void)state;
	PROBE_OR_SKIP();
	assert_non_null(e);
	vm = harvest_vm(specs, 4);
	check_harvest(vm, e, "armed");

	assert_int_equal(emu_dev_run(vm->devs[0].dev, 3), 0);
	assert_int_equal(emu_dev_run(vm->devs[1].dev, 500), 0);
	assert_int_equal(emu_dev_run(vm->devs[2].dev, 17), 0);
	assert_int_equal(emu_dev_run(vm->devs[3].dev, 2), 0);
	vcpu_write(vm, e->vcpu, p, sizeof(p) / sizeof(p[0]));
	ring_pages(e->dev[0], VM_DIRTY_TYPE1_RW, RX_IOVA, 0, 3);
	ring_pages(e->dev[2], VM_DIRTY_IOMMUFD, 1 << 20, 0, 17);
	ring_pages(e->dev[3], VM_DIRTY_TYPE1_PIN, 2 << 20, 0, 2);
	check_harvest(vm, e, "all devices");

	ring_pages(e->dev[3], VM_DIRTY_TYPE1_PIN, 2 << 20, 0, 2);
	check_harvest(vm, e, "idle");

	vm_track_stop(vm);
	vm_destroy(vm);
	free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dirty_names),
		cmocka_unit_test(test_spec_defaults),
		cmocka_unit_test(test_spec_keys),
		cmocka_unit_test(test_spec_errors),
		cmocka_unit_test(test_cfg_round_trip),
		cmocka_unit_test(test_cfg_format_short_buffer),
		cmocka_unit_test(test_cfg_malformed),
		cmocka_unit_test(test_create_errors),
		cmocka_unit_test(test_harvest_type1_pin),
		cmocka_unit_test(test_harvest_type1_rw),
		cmocka_unit_test(test_harvest_type1_iommu),
		cmocka_unit_test(test_harvest_dma_log),
		cmocka_unit_test(test_harvest_iommufd),
		cmocka_unit_test(test_harvest_none),
		cmocka_unit_test(test_harvest_mixed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
