// SPDX-License-Identifier: GPL-2.0
/* A running VM's dirtying, harvested every period as pre-copy would (see measure.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/json.h"
#include "device/device.h"
#include "migration/measure.h"
#include "vfmig/version.h"

static volatile sig_atomic_t *query_flag, *stop_flag;
static uint64_t query_hold_ns;

void vm_measure_query_on(volatile sig_atomic_t *flag, uint64_t hold_ns)
{
	query_flag = flag;
	query_hold_ns = hold_ns;
}

void vm_measure_stop_on(volatile sig_atomic_t *flag)
{
	stop_flag = flag;
}

/* Sleeps until the monotonic time at_ns. */
static void sleep_until(uint64_t at_ns)
{
	struct timespec ts = {.tv_sec = at_ns / 1000000000ull, .tv_nsec = at_ns % 1000000000ull};

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static struct vm_window *next_window(struct vm_measure *m)
{
	if (m->nwindows == m->cap) {
		unsigned int cap = m->cap ? m->cap * 2 : 64;
		struct vm_window *w = realloc(m->windows, cap * sizeof(*w));

		if (!w)
			return NULL;
		m->windows = w;
		m->cap = cap;
	}
	memset(&m->windows[m->nwindows], 0, sizeof(*m->windows));
	return &m->windows[m->nwindows];
}

/* One window's end: writers parked, harvest, truth cut, writers on. */
static int close_window(struct vm *vm, struct vm_measure *m, uint64_t *bitmap, uint64_t start)
{
	struct vm_window *w = next_window(m);
	uint64_t t0 = emu_now_ns(), t1;
	unsigned int i;
	int ret;

	if (!w)
		return snprintf(m->error, sizeof(m->error), "out of memory"), -ENOMEM;
	if (vm->wl)
		workload_pause(vm->wl);
	t1 = emu_now_ns();
	ret = vm_harvest(vm, bitmap, w->dirty_by_src);
	m->harvest_ns += emu_now_ns() - t1;
	if (vm->wl) {
		workload_cut(vm->wl, NULL, &w->truth_vcpu);
		workload_resume(vm->wl);
	}
	m->parked_ns += emu_now_ns() - t0;
	if (ret)
		return snprintf(m->error, sizeof(m->error), "%s", vm->err), ret;
	w->ns = t1 - start;
	for (i = 0; i <= vm->cfg.ndevs; i++)
		m->total_by_src[i] += w->dirty_by_src[i];
	m->total_truth_vcpu += w->truth_vcpu;
	m->nwindows++;
	return 0;
}

static int measure_loop(struct vm *vm, uint64_t period_ns, uint64_t duration_ns,
			struct vm_measure *m, uint64_t *bitmap)
{
	uint64_t t0 = emu_now_ns(), start = t0, end = t0 + duration_ns, next;
	int ret = 0;

	if (vm->wl) { /* writes before tracking are in no window */
		workload_pause(vm->wl);
		workload_cut(vm->wl, NULL, NULL);
	}
	ret = vm_track_start(vm);
	if (vm->wl)
		workload_resume(vm->wl);
	if (ret)
		return snprintf(m->error, sizeof(m->error), "%s", vm->err), ret;
	while (!ret && start < end && !(stop_flag && *stop_flag)) {
		next = start + period_ns < end ? start + period_ns : end;
		sleep_until(next);
		ret = close_window(vm, m, bitmap, start);
		start = next;
		if (!ret && query_flag && *query_flag) {
			*query_flag = 0;
			ret = vm_precopy_query(vm, query_hold_ns, m->sizes, m->error,
					       sizeof(m->error));
			m->nqueries++;
		}
	}
	vm_track_stop(vm);
	m->ns = emu_now_ns() - t0;
	return ret;
}

int vm_measure(struct vm *vm, uint64_t period_ns, uint64_t duration_ns, struct vm_measure *m)
{
	uint64_t *bitmap = calloc(guest_mem_bitmap_words(vm->mem) + 1, 8);
	int ret;

	memset(m, 0, sizeof(*m));
	if (!bitmap || !period_ns)
		return snprintf(m->error, sizeof(m->error), "%s",
				bitmap ? "harvest period of 0" : "out of memory"),
		       bitmap ? -EINVAL : -ENOMEM;
	ret = measure_loop(vm, period_ns, duration_ns, m, bitmap);
	free(bitmap);
	return ret;
}

void vm_measure_free(struct vm_measure *m)
{
	free(m->windows);
	m->windows = NULL;
	m->nwindows = m->cap = 0;
}

static void by_src_json(FILE *f, const struct vm *vm, const uint64_t *by_src)
{
	fprintf(f, "{\"vcpu\":%llu", (unsigned long long)by_src[0]);
	for (unsigned int j = 0; j < vm->cfg.ndevs; j++)
		fprintf(f, ",\"dev%u\":%llu", j, (unsigned long long)by_src[1 + j]);
	fprintf(f, "}");
}

/* The last pre-copy size query's answers, the truth vfmigprof predict's are checked against. */
static void sizes_json(FILE *f, const struct vm *vm, const struct vm_measure *m)
{
	fprintf(f, "\"precopy_queries\":%u,\"precopy_sizes\":[", m->nqueries);
	for (unsigned int j = 0; m->nqueries && j < vm->cfg.ndevs; j++) {
		const struct vm_dev_sizes *z = &m->sizes[j];

		fprintf(f,
			"%s{\"queried\":%s,\"initial_bytes\":%llu,\"dirty_before\":%llu,"
			"\"dirty_after\":%llu,\"held_ms\":%.3f}",
			j ? "," : "", z->queried ? "true" : "false",
			(unsigned long long)z->initial_bytes, (unsigned long long)z->dirty_before,
			(unsigned long long)z->dirty_after, z->held_ns / 1e6);
	}
	fprintf(f, "]");
}

void vm_measure_json(FILE *f, const struct vm *vm, const struct vm_measure *m)
{
	fprintf(f, "{\"version\":\"%s\",\"windows\":[", VFMIG_VERSION);
	for (unsigned int i = 0; i < m->nwindows; i++) {
		const struct vm_window *w = &m->windows[i];

		fprintf(f, "%s{\"ms\":%.3f,\"dirty_pages\":", i ? "," : "", w->ns / 1e6);
		by_src_json(f, vm, w->dirty_by_src);
		fprintf(f, ",\"truth_vcpu_pages\":%llu}", (unsigned long long)w->truth_vcpu);
	}
	fprintf(f, "],\"totals\":{\"windows\":%u,\"dirty_pages\":", m->nwindows);
	by_src_json(f, vm, m->total_by_src);
	fprintf(f,
		",\"truth_vcpu_pages\":%llu,\"ms\":%.3f,\"harvest_ms\":%.3f,"
		"\"writers_parked_ms\":%.3f},",
		(unsigned long long)m->total_truth_vcpu, m->ns / 1e6, m->harvest_ns / 1e6,
		m->parked_ns / 1e6);
	sizes_json(f, vm, m);
	fprintf(f, ",\"error\":");
	json_string(f, m->error);
	fprintf(f, ",\"ok\":%s}\n", m->error[0] ? "false" : "true");
}

void vm_measure_text(FILE *f, const struct vm *vm, const struct vm_measure *m)
{
	unsigned int j;

	fprintf(f, "%u harvest windows in %.1f ms: dirty pages vcpu %llu (writers' log %llu)",
		m->nwindows, m->ns / 1e6, (unsigned long long)m->total_by_src[0],
		(unsigned long long)m->total_truth_vcpu);
	for (j = 0; j < vm->cfg.ndevs; j++)
		fprintf(f, ", dev%u %llu", j, (unsigned long long)m->total_by_src[1 + j]);
	fprintf(f, "; harvests took %.2f ms, writers parked %.2f ms\n", m->harvest_ns / 1e6,
		m->parked_ns / 1e6);
	if (m->error[0])
		fprintf(f, "measurement FAILED: %s\n", m->error);
}
