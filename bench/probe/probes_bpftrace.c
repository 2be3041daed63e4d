// SPDX-License-Identifier: GPL-2.0
/* The probe benchmark's bpftrace script: generated per binary, run, and its output parsed. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/perf_event.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>

#include "bench.h"
#include "probe/usdt_notes.h"
#include "probe/probes_bpftrace.h"

/* ---- the bpftrace script: the same counts, the way one would write them ---- */

/* The script, a clause per probe: a binary without one of the probes gets no clause for it. */
static const char *const bt_clauses[] = {
	"BEGIN { printf(\"vfmig-bench-ready\\n\"); }",
	"usdt:%1$s:vfmig:state_set_start { @set_t[tid] = nsecs; }",
	"usdt:%1$s:vfmig:state_set_end { @set_ns[arg0, arg1, arg2, arg3] ="
	" hist(nsecs - @set_t[tid]); delete(@set_t[tid]); @state[arg0] = arg4; }",
	"usdt:%1$s:vfmig:state_get /arg2 == 0/ { @state[arg0] = arg1; }",
	"usdt:%1$s:vfmig:fsm_step { @step_ns[arg0, arg1, arg2, arg3] = hist(arg4); }",
	"usdt:%1$s:vfmig:precopy_info { @precopy_infos = count(); }",
	"usdt:%1$s:vfmig:data_size { @data_sizes = count(); }",
	"usdt:%1$s:vfmig:data_read /arg3 > 0/ { @read_bytes = sum(arg3); }",
	"usdt:%1$s:vfmig:data_write /arg3 > 0/ { @write_bytes = sum(arg3); }",
	"usdt:%1$s:vfmig:reset { @resets = count(); @state[arg0] = 2; }",
	"usdt:%1$s:vfmig:pin_pages { @pins = count();"
	" if (arg4 > 0) { @pinned = sum(arg4); } else { @pin_errors = count(); } }",
	"usdt:%1$s:vfmig:unpin_pages { @unpins = count(); @unpinned = sum(arg3); }",
	"usdt:%1$s:vfmig:iommu_map { @maps = count(); @map_bytes = sum(arg3); }",
	"usdt:%1$s:vfmig:iommu_unmap { @unmaps = count(); @unmap_bytes = sum(arg3); }",
	"usdt:%1$s:vfmig:dirty_query_start { @q_t[tid] = nsecs; }",
	"usdt:%1$s:vfmig:dirty_query_end { @query_ns[arg0] = hist(nsecs - @q_t[tid]);"
	" delete(@q_t[tid]); }",
	"usdt:%1$s:vfmig:wp_arm { @lo[pid] = arg0; @hi[pid] = arg0 + arg1; }",
	"usdt:%1$s:vfmig:wp_disarm { delete(@lo[pid]); delete(@hi[pid]); }",
	"usdt:%1$s:vfmig:harvest { @windows = count(); @window_faults = sum(@win[pid]);"
	" @win[pid] = 0; }",
	"tracepoint:exceptions:page_fault_user /pid == %2$d && (args->error_code & 2)/ {"
	" if (args->address >= @lo[pid] && args->address < @hi[pid]) {"
	" @faults = count(); @win[pid]++; } }",
};

struct bt_map {
	const char *name;
	size_t total, keys; /* offsets in struct totals; SIZE_MAX: not kept */
};

static const struct bt_map bt_maps[] = {
#define O(f) offsetof(struct totals, f)
	{"@set_ns", O(sets), O(set_arcs)},
	{"@step_ns", O(steps), O(step_arcs)},
	{"@read_bytes", O(read_bytes), SIZE_MAX},
	{"@write_bytes", O(write_bytes), SIZE_MAX},
	{"@pins", O(pins), SIZE_MAX},
	{"@pinned", O(pinned), SIZE_MAX},
	{"@unpins", O(unpins), SIZE_MAX},
	{"@unpinned", O(unpinned), SIZE_MAX},
	{"@maps", O(maps), SIZE_MAX},
	{"@map_bytes", O(map_bytes), SIZE_MAX},
	{"@unmaps", O(unmaps), SIZE_MAX},
	{"@unmap_bytes", O(unmap_bytes), SIZE_MAX},
	{"@query_ns", O(queries), SIZE_MAX},
	{"@faults", O(faults), SIZE_MAX},
	{"@windows", O(windows), SIZE_MAX},
	{"@window_faults", O(window_faults), SIZE_MAX},
#undef O
};

static void add_at(struct totals *t, size_t off, uint64_t v)
{
	if (off != SIZE_MAX)
		*(uint64_t *)((char *)t + off) += v;
}

/*
 * bpftrace's exit print-out: "@name: N", "@name[key]: N", or a histogram
 * "@name[key]:" followed by "[lo, hi)  N |@@@|" bucket lines.
 */
static void bt_parse_line(const char *line, struct totals *t, const struct bt_map **hist)
{
	const char *colon, *v;
	size_t i, len;

	if (line[0] == '[' || line[0] == '(') {
		v = strpbrk(line, ")]");
		if (*hist && v)
			add_at(t, (*hist)->total, strtoull(v + 1, NULL, 10));
		return;
	}
	*hist = NULL;
	colon = strchr(line, ':');
	if (line[0] != '@' || !colon)
		return;
	len = strcspn(line, "[:");
	for (i = 0; i < sizeof(bt_maps) / sizeof(bt_maps[0]); i++) {
		if (strlen(bt_maps[i].name) != len || strncmp(line, bt_maps[i].name, len))
			continue;
		if (line[len] == '[')
			add_at(t, bt_maps[i].keys, 1);
		for (v = colon + 1; *v == ' '; v++)
			;
		if (*v >= '0' && *v <= '9')
			add_at(t, bt_maps[i].total, strtoull(v, NULL, 10));
		else
			*hist = &bt_maps[i];
	}
}

static int perf_fds(pid_t pid)
{
	char path[300], link[64];
	struct dirent *de;
	int n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	d = opendir(path);
	while (d && (de = readdir(d))) {
		ssize_t l;

		snprintf(path, sizeof(path), "/proc/%d/fd/%s", pid, de->d_name);
		l = readlink(path, link, sizeof(link) - 1);
		n += l > 0 && !strncmp(link, "anon_inode:[perf_event]", (size_t)l);
	}
	if (d)
		closedir(d);
	return n;
}

/*
 * bpftrace attached to pid (stopped after exec): its output stream, once
 * its probes are on. BEGIN runs before the last probes are attached, so
 * this waits for one perf event per probe it announced, and one for END.
 */
#define BT_SCRIPT_MAX 8192

/* A clause the binary has the probe for (the fault clause reads the ranges wp_arm sets). */
static bool bt_clause_wanted(const char *clause, const struct usdt_notes *notes)
{
	static const char usdt[] = "usdt:%1$s:vfmig:";
	char name[64];

	if (!strncmp(clause, "tracepoint:", 11))
		return usdt_notes_find(notes, "vfmig", "wp_arm");
	if (strncmp(clause, usdt, sizeof(usdt) - 1))
		return true;
	snprintf(name, sizeof(name), "%.*s", (int)strcspn(clause + sizeof(usdt) - 1, " /{"),
		 clause + sizeof(usdt) - 1);
	return usdt_notes_find(notes, "vfmig", name);
}

static void bt_script(char *out, size_t len, const char *binary, pid_t pid)
{
	struct usdt_notes notes = {0};
	char fmt[BT_SCRIPT_MAX] = "";
	size_t i;

	if (usdt_notes_read(binary, &notes))
		bench_die("reading the USDT notes for the bpftrace script");
	for (i = 0; i < sizeof(bt_clauses) / sizeof(bt_clauses[0]); i++) {
		if (bt_clause_wanted(bt_clauses[i], &notes))
			strncat(fmt, bt_clauses[i], sizeof(fmt) - strlen(fmt) - 1);
	}
	usdt_notes_free(&notes);
	snprintf(out, len, fmt, binary, pid);
}

FILE *bt_start(pid_t pid, const char *binary, pid_t *btpid)
{
	char script[BT_SCRIPT_MAX + 2 * PATH_MAX], cmd[sizeof(script) + 128], line[256];
	int probes = 0, i;
	FILE *f;

	bt_script(script, sizeof(script), binary, pid);
	snprintf(cmd, sizeof(cmd), "exec bpftrace -p %d -e '%s' 2>&1 & echo $!", pid, script);
	f = popen(cmd, "r");
	if (!f || !fgets(line, sizeof(line), f))
		bench_die("starting bpftrace");
	*btpid = atoi(line);
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "Attaching %d probes", &probes);
		if (!strcmp(line, "vfmig-bench-ready\n")) /* not the script echoed in a warning */
			break;
	}
	for (i = 0; probes && i < 1000; i++) {
		if (perf_fds(*btpid) > probes)
			return f;
		usleep(10000);
	}
	pclose(f);
	bench_die("bpftrace (its probes never all attached)");
	return NULL;
}

void bt_stop(FILE *f, pid_t btpid, struct totals *t)
{
	const struct bt_map *hist = NULL;
	char line[512];

	kill(btpid, SIGINT);
	memset(t, 0, sizeof(*t));
	while (fgets(line, sizeof(line), f))
		bt_parse_line(line, t, &hist);
	pclose(f);
}
