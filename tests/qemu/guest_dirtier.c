// SPDX-License-Identifier: GPL-2.0
/*
 * The real-QEMU bed's guest workload, built static and run as the guest's only
 * program: it dirties a working set at a set rate and shape, read from the
 * kernel command line:
 *   dirtier.rate=PAGES_PER_S dirtier.wss=MIB dirtier.shape=seq|uniform|hot
 * seq walks the set page by page (so a window of T seconds dirties exactly
 * min(rate x T, pages) distinct pages), uniform picks pages at random, hot
 * sends 90% of writes to the first 10% of the set. Every write stores a new
 * value, so a page's content (what QEMU's page sampling hashes) changes.
 * Once a second it checks every page of the set against its own record of
 * the last value written there (a page a migration lost shows as bad) and
 * prints "DIRTIER t=<ms> writes=<n> bad=<pages>" on the console: what it did.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define PAGE 4096

struct cfg {
	unsigned long rate, wss_mib;
	char shape[16];
};

static void read_cmdline(struct cfg *c)
{
	char buf[4096], *tok, *save;
	FILE *f = fopen("/proc/cmdline", "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

	if (f)
		fclose(f);
	buf[n] = '\0';
	for (tok = strtok_r(buf, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save)) {
		if (!strncmp(tok, "dirtier.rate=", 13))
			c->rate = strtoul(tok + 13, NULL, 10);
		else if (!strncmp(tok, "dirtier.wss=", 12))
			c->wss_mib = strtoul(tok + 12, NULL, 10);
		else if (!strncmp(tok, "dirtier.shape=", 14))
			snprintf(c->shape, sizeof(c->shape), "%s", tok + 14);
	}
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static size_t next_page(const struct cfg *c, size_t pages, uint64_t writes, uint64_t *rng)
{
	size_t hot = pages / 10 ? pages / 10 : 1;

	if (!strcmp(c->shape, "uniform"))
		return xorshift(rng) % pages;
	if (!strcmp(c->shape, "hot"))
		return xorshift(rng) % 10 ? xorshift(rng) % hot
					  : hot + xorshift(rng) % (pages - hot);
	return writes % pages;
}

/* Pages whose content is not the value last written there. */
static size_t count_bad(const char *ws, const uint64_t *last, size_t pages)
{
	size_t bad = 0;

	for (size_t i = 0; i < pages; i++)
		bad += last[i] && *(const uint64_t *)(ws + i * PAGE) != last[i];
	return bad;
}

int main(void)
{
	struct cfg c = {.rate = 1000, .wss_mib = 64, .shape = "seq"};
	uint64_t writes = 0, rng = 88172645463325252ULL, start, last_print, *last;
	size_t pages;
	char *ws;

	read_cmdline(&c);
	pages = c.wss_mib * (1024 * 1024 / PAGE);
	ws = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	last = calloc(pages, sizeof(*last));
	if (ws == MAP_FAILED || !last || pages < 10) {
		printf("DIRTIER failed: cannot map %lu MiB\n", c.wss_mib);
		return 1;
	}
	for (size_t i = 0; i < pages; i++)
		ws[i * PAGE] = 1;
	printf("DIRTIER ready rate=%lu wss_mib=%lu shape=%s\n", c.rate, c.wss_mib, c.shape);
	fflush(stdout);
	start = last_print = now_ns();
	for (;;) {
		uint64_t t = now_ns(), due = (t - start) / 1000 * c.rate / 1000000;
		struct timespec tick = {0, 1000000};

		while (writes < due) {
			size_t i = next_page(&c, pages, writes, &rng);

			*(uint64_t *)(ws + i * PAGE) = last[i] = ++writes;
		}
		if (t - last_print >= 1000000000ULL) {
			printf("DIRTIER t=%llu writes=%llu bad=%zu\n",
			       (unsigned long long)((t - start) / 1000000),
			       (unsigned long long)writes, count_bad(ws, last, pages));
			fflush(stdout);
			last_print = t;
		}
		nanosleep(&tick, NULL);
	}
}
