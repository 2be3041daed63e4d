// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xxhash.h>

#include "common/bitmap.h"
#include "device/variant.h"
#include "migration/vm.h"
#include "vfmig/usdt.h"

static const char *const dirty_names[] = {
	[VM_DIRTY_NONE] = "none",	  [VM_DIRTY_TYPE1_PIN] = "type1-pin",
	[VM_DIRTY_TYPE1_RW] = "type1-rw", [VM_DIRTY_TYPE1_IOMMU] = "type1-iommu",
	[VM_DIRTY_DMA_LOG] = "dma-log",	  [VM_DIRTY_IOMMUFD] = "iommufd",
};

const char *vm_dirty_name(enum vm_dirty d)
{
	return (unsigned int)d < sizeof(dirty_names) / sizeof(dirty_names[0]) ? dirty_names[d]
									      : "?";
}

int vm_dirty_parse(const char *s, enum vm_dirty *d)
{
	size_t i;

	for (i = 0; i < sizeof(dirty_names) / sizeof(dirty_names[0]); i++) {
		if (!strcmp(s, dirty_names[i])) {
			*d = i;
			return 0;
		}
	}
	return -EINVAL;
}

static int spec_key(struct vm_dev_spec *spec, const char *kv, size_t len, char *err, size_t errlen)
{
	char buf[160];

	if (len >= sizeof(buf))
		return snprintf(err, errlen, "device option too long"), -EINVAL;
	memcpy(buf, kv, len);
	buf[len] = 0;
	if (!strncmp(buf, "dirty=", 6)) {
		if (vm_dirty_parse(buf + 6, &spec->dirty))
			return snprintf(err, errlen,
					"dirty=%s: use none, type1-pin, type1-rw, type1-iommu, "
					"dma-log or iommufd",
					buf + 6),
			       -EINVAL;
	} else if (!strncmp(buf, "rate=", 5)) {
		if (emu_param_u64(buf, "rate", 0, &spec->rate))
			return snprintf(err, errlen, "rate=%s is not a number", buf + 5), -EINVAL;
	} else if (!strncmp(buf, "features=", 9)) {
		char list[160];
		size_t i;

		/* '+' separates features here, ',' separates options */
		memcpy(list, buf + 9, len - 8);
		for (i = 0; list[i]; i++)
			list[i] = list[i] == '+' ? ',' : list[i];
		if (emu_flags_parse(list, &spec->features))
			return snprintf(err, errlen, "features=%s: use stop-copy+p2p+pre-copy",
					buf + 9),
			       -EINVAL;
	} else {
		size_t n = strlen(spec->params);

		if (n + len + 2 > sizeof(spec->params))
			return snprintf(err, errlen, "device options too long"), -EINVAL;
		if (n)
			spec->params[n++] = ',';
		memcpy(spec->params + n, buf, len + 1);
	}
	return 0;
}

int vm_dev_spec_parse(const char *s, struct vm_dev_spec *spec, char *err, size_t errlen)
{
	size_t mlen = strcspn(s, ":");
	const char *p = s + mlen;

	memset(spec, 0, sizeof(*spec));
	if (!mlen || mlen >= sizeof(spec->variant))
		return snprintf(err, errlen, "device '%s': VARIANT[:option=value,...]", s), -EINVAL;
	memcpy(spec->variant, s, mlen);
	if (!emu_variant_known(spec->variant))
		return snprintf(err, errlen, "device '%s': unknown variant '%s' (nic, bigmem)", s,
				spec->variant),
		       -EINVAL;
	spec->dirty = strcmp(spec->variant, "nic") ? VM_DIRTY_NONE : VM_DIRTY_TYPE1_PIN;
	if (*p == ':')
		p++;
	while (*p) {
		size_t len = strcspn(p, ",");
		int ret = spec_key(spec, p, len, err, errlen);

		if (ret)
			return ret;
		p += len;
		if (*p == ',')
			p++;
	}
	if (spec->dirty != VM_DIRTY_NONE && strcmp(spec->variant, "nic"))
		return snprintf(err, errlen, "device %s does no DMA: dirty=none only",
				spec->variant),
		       -EINVAL;
	return 0;
}

int vm_cfg_format(const struct vm_cfg *c, char *buf, size_t len)
{
	const struct workload_cfg *w = &c->wl;
	size_t n;
	unsigned int i;

	n = snprintf(buf, len,
		     "mem=%llu vcpus=%u rate=%llu ws=%llu:%llu pattern=%s hot=%a:%a seed=%llu",
		     (unsigned long long)c->mem_size, w->threads, (unsigned long long)w->rate,
		     (unsigned long long)w->ws_start, (unsigned long long)w->ws_pages,
		     workload_pattern_name(w->pattern), w->hot_fraction, w->hot_share,
		     (unsigned long long)w->seed);
	for (i = 0; i < c->ndevs && n < len; i++) {
		const struct vm_dev_spec *d = &c->devs[i];

		n += snprintf(buf + n, len - n, " dev=%s;%u;%s;%llu;%s", d->variant, d->features,
			      vm_dirty_name(d->dirty), (unsigned long long)d->rate, d->params);
	}
	return n < len ? 0 : -ENOSPC;
}

static int parse_dev(const char *v, struct vm_dev_spec *d)
{
	char dirty[32];
	unsigned long long rate;
	int used = 0;

	memset(d, 0, sizeof(*d));
	if (sscanf(v, "%15[^;];%u;%31[^;];%llu;%n", d->variant, &d->features, dirty, &rate, &used) <
		    4 ||
	    !used || vm_dirty_parse(dirty, &d->dirty))
		return -EINVAL;
	d->rate = rate;
	snprintf(d->params, sizeof(d->params), "%.*s", (int)strcspn(v + used, " "), v + used);
	return 0;
}

int vm_cfg_parse(const char *text, struct vm_cfg *c, char *err, size_t errlen)
{
	struct workload_cfg *w = &c->wl;
	unsigned long long mem, rate, ws0, wsn, seed;
	char pattern[16];
	const char *p;

	memset(c, 0, sizeof(*c));
	if (sscanf(text,
		   "mem=%llu vcpus=%u rate=%llu ws=%llu:%llu pattern=%15s hot=%la:%la seed=%llu",
		   &mem, &w->threads, &rate, &ws0, &wsn, pattern, &w->hot_fraction, &w->hot_share,
		   &seed) != 9 ||
	    workload_pattern_parse(pattern, &w->pattern))
		return snprintf(err, errlen, "peer's VM description is malformed"), -EINVAL;
	c->mem_size = mem;
	w->rate = rate;
	w->ws_start = ws0;
	w->ws_pages = wsn;
	w->seed = seed;
	for (p = strstr(text, " dev="); p; p = strstr(p + 1, " dev=")) {
		if (c->ndevs == VM_MAX_DEVICES || parse_dev(p + 5, &c->devs[c->ndevs]))
			return snprintf(err, errlen, "peer's device list is malformed"), -EINVAL;
		c->ndevs++;
	}
	return 0;
}

static int type1_setup(struct vm *vm, struct vm_device *d)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)guest_mem_dma(vm->mem),
		.iova = 0,
		.size = guest_mem_size(vm->mem),
	};
	static const int mode[] = {[VM_DIRTY_TYPE1_PIN] = EMU_DMA_PIN,
				   [VM_DIRTY_TYPE1_RW] = EMU_DMA_RW,
				   [VM_DIRTY_TYPE1_IOMMU] = EMU_DMA_IOMMU};

	d->io = emu_iommu_create(EMU_IOMMU_TYPE1, guest_mem_dma(vm->mem), guest_mem_size(vm->mem));
	if (!d->io || emu_type1_ioctl(d->io, VFIO_IOMMU_MAP_DMA, &map))
		return -errno;
	return emu_dev_attach_iommu(d->dev, d->io, mode[d->spec.dirty], false);
}

static int iommufd_setup(struct vm *vm, struct vm_device *d)
{
	struct iommu_ioas_map map = {
		.size = sizeof(map),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = EMU_IOAS_ID,
		.user_va = (uintptr_t)guest_mem_dma(vm->mem),
		.length = guest_mem_size(vm->mem),
		.iova = 0,
	};

	d->io = emu_iommu_create(EMU_IOMMU_IOMMUFD, guest_mem_dma(vm->mem),
				 guest_mem_size(vm->mem));
	if (!d->io || emu_iommufd_ioctl(d->io, IOMMU_IOAS_MAP, &map))
		return -errno;
	return emu_dev_attach_iommu(d->dev, d->io, EMU_DMA_IOMMU,
				    d->spec.dirty == VM_DIRTY_DMA_LOG);
}

static int dev_setup(struct vm *vm, struct vm_device *d, char *err, size_t errlen)
{
	struct emu_dev_cfg cfg = {.variant = d->spec.variant,
				  .params = d->spec.params,
				  .mig_flags = d->spec.features};
	int ret = 0;

	d->dev = emu_dev_create(&cfg);
	if (!d->dev)
		return snprintf(err, errlen, "%s", emu_last_error()), -errno;
	d->bitmap = calloc(guest_mem_bitmap_words(vm->mem), 8);
	if (!d->bitmap)
		return snprintf(err, errlen, "out of memory"), -ENOMEM;
	if (d->spec.dirty >= VM_DIRTY_TYPE1_PIN && d->spec.dirty <= VM_DIRTY_TYPE1_IOMMU)
		ret = type1_setup(vm, d);
	else if (d->spec.dirty != VM_DIRTY_NONE)
		ret = iommufd_setup(vm, d);
	if (ret)
		snprintf(err, errlen, "device %s: cannot attach its IOMMU context: %s",
			 d->spec.variant, strerror(-ret));
	return ret;
}

struct vm *vm_create(const struct vm_cfg *cfg, char *err, size_t errlen)
{
	struct vm *vm = calloc(1, sizeof(*vm));
	unsigned int i;

	if (!vm)
		return snprintf(err, errlen, "out of memory"), NULL;
	vm->cfg = *cfg;
	pthread_mutex_init(&vm->runner_lock, NULL);
	pthread_cond_init(&vm->runner_cond, NULL);
	vm->mem = guest_mem_create(cfg->mem_size, err, errlen);
	if (!vm->mem)
		goto fail;
	vm->cfg.wl.mem = guest_mem_vcpu(vm->mem);
	vm->cfg.wl.mem_pages = guest_mem_pages(vm->mem);
	if (vm->cfg.wl.threads && workload_cfg_check(&vm->cfg.wl, err, errlen))
		goto fail;
	for (i = 0; i < cfg->ndevs; i++) {
		vm->devs[i].spec = cfg->devs[i];
		if (dev_setup(vm, &vm->devs[i], err, errlen))
			goto fail;
	}
	return vm;
fail:
	vm_destroy(vm);
	return NULL;
}

void vm_destroy(struct vm *vm)
{
	unsigned int i;

	if (!vm)
		return;
	vm_stop(vm);
	for (i = 0; i < VM_MAX_DEVICES; i++) {
		emu_dev_destroy(vm->devs[i].dev);
		emu_iommu_destroy(vm->devs[i].io);
		free(vm->devs[i].bitmap);
	}
	workload_destroy(vm->wl);
	guest_mem_destroy(vm->mem);
	pthread_cond_destroy(&vm->runner_cond);
	pthread_mutex_destroy(&vm->runner_lock);
	free(vm);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Makes every device do its work at its rate, in 1 ms steps. */
static void *runner(void *arg)
{
	struct vm *vm = arg;
	uint64_t done[VM_MAX_DEVICES] = {0};
	double t0 = now_s(), paused_at = 0;
	unsigned int i;

	pthread_mutex_lock(&vm->runner_lock);
	while (!vm->runner_stop) {
		if (vm->runner_paused) {
			paused_at = paused_at ? paused_at : now_s();
			pthread_cond_wait(&vm->runner_cond, &vm->runner_lock);
			continue;
		}
		if (paused_at) {
			t0 += now_s() - paused_at; /* work owed while paused is forgiven */
			paused_at = 0;
		}
		pthread_mutex_unlock(&vm->runner_lock);
		for (i = 0; i < vm->cfg.ndevs; i++) {
			uint64_t due = (uint64_t)((now_s() - t0) * vm->devs[i].spec.rate);

			if (due > done[i])
				emu_dev_run(vm->devs[i].dev, due - done[i]);
			done[i] = due;
		}
		nanosleep(&(struct timespec){0, 1000000}, NULL);
		pthread_mutex_lock(&vm->runner_lock);
	}
	pthread_mutex_unlock(&vm->runner_lock);
	return NULL;
}

/* The writer threads: the vCPUs the probes count. */
static unsigned int vm_vcpus(const struct vm *vm)
{
	return vm->wl ? vm->cfg.wl.threads : 0;
}

static int vm_run(struct vm *vm)
{
	if (vm->cfg.wl.threads && !vm->wl) {
		vm->wl = workload_start(&vm->cfg.wl, vm->err, sizeof(vm->err));
		if (!vm->wl)
			return -errno;
	}
	if (!vm->runner_on) {
		vm->runner_stop = vm->runner_paused = false;
		if (pthread_create(&vm->runner, NULL, runner, vm))
			return snprintf(vm->err, sizeof(vm->err), "cannot start the device runner"),
			       -EAGAIN;
		vm->runner_on = true;
	}
	return 0;
}

int vm_start(struct vm *vm)
{
	uint64_t t0 = emu_now_ns();
	bool idle = !vm->runner_on;
	int ret = vm_run(vm);

	if (!ret && idle)
		EMU_PROBE2(vcpu_resume, vm_vcpus(vm), emu_now_ns() - t0);
	return ret;
}

static void runner_set(struct vm *vm, bool paused, bool stop)
{
	pthread_mutex_lock(&vm->runner_lock);
	vm->runner_paused = paused;
	vm->runner_stop = stop;
	pthread_cond_broadcast(&vm->runner_cond);
	pthread_mutex_unlock(&vm->runner_lock);
}

/* Once per pause or resume, never per page: a probe hit costs microseconds. */
void vm_pause(struct vm *vm)
{
	uint64_t t0 = emu_now_ns();

	if (vm->wl)
		workload_pause(vm->wl);
	runner_set(vm, true, false);
	EMU_PROBE2(vcpu_pause, vm_vcpus(vm), emu_now_ns() - t0);
}

void vm_resume(struct vm *vm)
{
	uint64_t t0 = emu_now_ns();

	runner_set(vm, false, false);
	if (vm->wl)
		workload_resume(vm->wl);
	EMU_PROBE2(vcpu_resume, vm_vcpus(vm), emu_now_ns() - t0);
}

void vm_stop(struct vm *vm)
{
	if (vm->runner_on) {
		runner_set(vm, false, true);
		pthread_join(vm->runner, NULL);
		vm->runner_on = false;
	}
	if (vm->wl)
		workload_stop(vm->wl);
}

static int feature(struct emu_dev *dev, uint32_t flags, void *payload, size_t len)
{
	return emu_dev_feature(dev, flags, payload, len) ? -errno : 0;
}

static int dev_track(struct vm *vm, struct vm_device *d, bool on)
{
	struct vfio_iommu_type1_dirty_bitmap t1 = {
		.argsz = sizeof(t1),
		.flags = on ? VFIO_IOMMU_DIRTY_PAGES_FLAG_START : VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP,
	};
	struct iommu_hwpt_set_dirty_tracking hw = {
		.size = sizeof(hw), .flags = on, .hwpt_id = EMU_HWPT_ID};
	struct vfio_device_feature_dma_logging_range range = {0, guest_mem_size(vm->mem)};
	struct vfio_device_feature_dma_logging_control ctl = {
		.page_size = 4096, .num_ranges = 1, .ranges = (uintptr_t)&range};

	switch (d->spec.dirty) {
	case VM_DIRTY_NONE:
		return 0;
	case VM_DIRTY_DMA_LOG:
		return feature(d->dev,
			       VFIO_DEVICE_FEATURE_SET |
				       (on ? VFIO_DEVICE_FEATURE_DMA_LOGGING_START
					   : VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP),
			       &ctl, on ? sizeof(ctl) : 0);
	case VM_DIRTY_IOMMUFD:
		return emu_iommufd_ioctl(d->io, IOMMU_HWPT_SET_DIRTY_TRACKING, &hw) ? -errno : 0;
	default:
		return emu_type1_ioctl(d->io, VFIO_IOMMU_DIRTY_PAGES, &t1) ? -errno : 0;
	}
}

int vm_track_start(struct vm *vm)
{
	unsigned int i;
	int ret;

	if (guest_mem_track_start(vm->mem))
		return snprintf(vm->err, sizeof(vm->err), "%s", guest_mem_error(vm->mem)), -errno;
	for (i = 0; i < vm->cfg.ndevs; i++) {
		ret = dev_track(vm, &vm->devs[i], true);
		if (ret)
			return snprintf(vm->err, sizeof(vm->err),
					"device %u (%s): starting %s dirty tracking: %s", i,
					vm->devs[i].spec.variant,
					vm_dirty_name(vm->devs[i].spec.dirty), strerror(-ret)),
			       ret;
	}
	return 0;
}

void vm_track_stop(struct vm *vm)
{
	unsigned int i;

	for (i = 0; i < vm->cfg.ndevs; i++)
		dev_track(vm, &vm->devs[i], false);
	guest_mem_track_stop(vm->mem);
}

static int dev_report(struct vm *vm, struct vm_device *d)
{
	uint64_t size = guest_mem_size(vm->mem);
	struct {
		struct vfio_iommu_type1_dirty_bitmap hdr;
		struct vfio_iommu_type1_dirty_bitmap_get get;
	} t1 = {{sizeof(t1), VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP},
		{0, size, {4096, guest_mem_bitmap_words(vm->mem) * 8, (__u64 *)d->bitmap}}};
	struct iommu_hwpt_get_dirty_bitmap hw = {.size = sizeof(hw),
						 .hwpt_id = EMU_HWPT_ID,
						 .length = size,
						 .page_size = 4096,
						 .data = (uintptr_t)d->bitmap};
	struct vfio_device_feature_dma_logging_report rep = {0, size, 4096, (uintptr_t)d->bitmap};

	switch (d->spec.dirty) {
	case VM_DIRTY_DMA_LOG:
		return feature(d->dev,
			       VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT,
			       &rep, sizeof(rep));
	case VM_DIRTY_IOMMUFD:
		return emu_iommufd_ioctl(d->io, IOMMU_HWPT_GET_DIRTY_BITMAP, &hw) ? -errno : 0;
	default:
		return emu_type1_ioctl(d->io, VFIO_IOMMU_DIRTY_PAGES, &t1) ? -errno : 0;
	}
}

int vm_harvest(struct vm *vm, uint64_t *bitmap, uint64_t *by_src)
{
	uint64_t words = guest_mem_bitmap_words(vm->mem), w;
	unsigned int i;
	int ret;

	if (guest_mem_harvest(vm->mem, bitmap, &by_src[0]))
		return snprintf(vm->err, sizeof(vm->err), "%s", guest_mem_error(vm->mem)), -errno;
	for (i = 0; i < vm->cfg.ndevs; i++) {
		struct vm_device *d = &vm->devs[i];

		by_src[1 + i] = 0;
		if (d->spec.dirty == VM_DIRTY_NONE)
			continue;
		memset(d->bitmap, 0, words * 8);
		ret = dev_report(vm, d);
		if (ret)
			return snprintf(vm->err, sizeof(vm->err), "device %u: %s dirty report: %s",
					i, vm_dirty_name(d->spec.dirty), strerror(-ret)),
			       ret;
		by_src[1 + i] = bitmap_weight(d->bitmap, guest_mem_pages(vm->mem));
		for (w = 0; w < words; w++)
			bitmap[w] |= d->bitmap[w];
	}
	return 0;
}

uint64_t vm_ram_digest(struct vm *vm)
{
	return XXH3_64bits(guest_mem_vcpu(vm->mem), guest_mem_size(vm->mem));
}

void vm_arcs_collect(struct vm *vm, struct vm_arcs *out)
{
	unsigned int i;

	memset(out, 0, sizeof(*out));
	out->ndevs = vm->cfg.ndevs;
	for (i = 0; i < vm->cfg.ndevs; i++)
		out->n[i] = emu_dev_steps(vm->devs[i].dev, out->step[i], VM_MAX_ARCS);
}
