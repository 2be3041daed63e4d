// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "score/draw.h"

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n'))
		*--e = 0;
	return s;
}

static int parse_line(char *line, struct scenario *s)
{
	char *vm = strchr(line, '|'), *mig;

	if (!vm || !(mig = strchr(vm + 1, '|')))
		return -1;
	*vm++ = 0;
	*mig++ = 0;
	if (sscanf(line, "%47s %15s", s->name, s->cls) != 2)
		return -1;
	snprintf(s->vm, sizeof(s->vm), "%s", trim(vm));
	snprintf(s->mig, sizeof(s->mig), "%s", trim(mig));
	return 0;
}

int scenarios_load(const char *path, struct scenario *out, int max)
{
	char line[1024];
	int n = 0, no = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return fprintf(stderr, "score: %s: cannot open\n", path), -1;
	while (fgets(line, sizeof(line), f)) {
		char *t = trim(line);

		no++;
		if (!*t || *t == '#')
			continue;
		if (n == max || parse_line(t, &out[n])) {
			fprintf(stderr,
				"score: %s:%d: not 'name class | VM flags | migration flags'\n",
				path, no);
			fclose(f);
			return -1;
		}
		n++;
	}
	fclose(f);
	return n;
}

/*
 * The ranges fresh scenarios come from. Each draw keeps a migration under about 20 s here:
 * RAM 64-256 MiB, a working set of 1/8 to 3/4 of it, 0-30000 vCPU page writes/s in one of the
 * three patterns, one NIC on a random dirty interface at 0-5000 units/s or a bigmem device of
 * 8-64 MiB at 50-1000 units/s, 30-400 MB/s, a 20-500 ms downtime limit, a 3-10 round cap.
 */
static unsigned int pick(unsigned int *seed, unsigned int lo, unsigned int hi)
{
	return lo + rand_r(seed) % (hi - lo + 1);
}

static void draw_one(unsigned int *seed, int i, struct scenario *s)
{
	static const char *const mem[] = {"64m", "96m", "128m", "192m", "256m"};
	static const unsigned int mib[] = {64, 96, 128, 192, 256};
	static const char *const pattern[] = {"uniform", "hotcold", "sweep"};
	static const char *const dirty[] = {"type1-pin", "type1-rw", "dma-log", "iommufd"};
	unsigned int m = pick(seed, 0, 4), wss = mib[m] * pick(seed, 1, 6) / 8;
	char dev[96];

	if (pick(seed, 0, 3))
		snprintf(dev, sizeof(dev), "nic:dirty=%s,rate=%u", dirty[pick(seed, 0, 3)],
			 pick(seed, 0, 5000));
	else
		snprintf(dev, sizeof(dev), "bigmem:mem=%um,rate=%u", pick(seed, 8, 64),
			 pick(seed, 50, 1000));
	snprintf(s->name, sizeof(s->name), "drawn-%d", i);
	snprintf(s->cls, sizeof(s->cls), "drawn");
	snprintf(s->vm, sizeof(s->vm), "--mem %s --wss %um --rate %u --pattern %s --device %s",
		 mem[m], wss ? wss : 8, pick(seed, 0, 30000), pattern[pick(seed, 0, 2)], dev);
	snprintf(s->mig, sizeof(s->mig), "--bandwidth %u --downtime %u --rounds %u",
		 pick(seed, 30, 400), pick(seed, 20, 500), pick(seed, 3, 10));
}

int scenarios_draw(unsigned int seed, unsigned int k, struct scenario *out, int max)
{
	int n = 0;

	for (unsigned int i = 0; i < k && n < max; i++)
		draw_one(&seed, n, &out[n]), n++;
	return n;
}
