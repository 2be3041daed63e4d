/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest the real-QEMU tests boot: scripts/qemu-guest.sh builds it (Debian's
 * kernel from the vmtest cache, busybox, the static dirtier), or says why not.
 */
#ifndef VFMIG_TEST_QEMU_GUEST_BED_H
#define VFMIG_TEST_QEMU_GUEST_BED_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "qemu/bed.h"

struct guest_bed {
	char kernel[PATH_MAX], initrd[PATH_MAX];
	char dir[64];
	char why[256]; /* set when the bed cannot run here */
};

/* Build the guest and make a temp dir; on failure bed->why says why, in one line. */
static inline void guest_bed_prepare(struct guest_bed *bed)
{
	const char *build = getenv("BUILD") ? getenv("BUILD") : "build";
	char cmd[PATH_MAX * 2], line[256] = "";
	FILE *p;
	int rc;

	memset(bed, 0, sizeof(*bed));
	if (system("command -v qemu-system-x86_64 >/dev/null 2>&1")) {
		snprintf(bed->why, sizeof(bed->why),
			 "qemu-system-x86_64 missing (qemu-system-x86)");
		return;
	}
	snprintf(cmd, sizeof(cmd), "scripts/qemu-guest.sh %s %s/tests/qemu/guest_dirtier 2>&1",
		 build, build);
	p = popen(cmd, "r");
	while (p && fgets(line, sizeof(line), p))
		line[strcspn(line, "\n")] = '\0';
	rc = p ? pclose(p) : -1;
	if (rc) {
		snprintf(bed->why, sizeof(bed->why), "%s",
			 line[0] ? line : "scripts/qemu-guest.sh failed");
		return;
	}
	snprintf(bed->kernel, sizeof(bed->kernel), "%s/qemu-guest/vmlinuz", build);
	snprintf(bed->initrd, sizeof(bed->initrd), "%s/qemu-guest/initramfs.cpio.gz", build);
	snprintf(bed->dir, sizeof(bed->dir), "/tmp/vfmig-qemu-XXXXXX");
	if (!mkdtemp(bed->dir))
		snprintf(bed->why, sizeof(bed->why), "mkdtemp: cannot make a temp dir");
}

static inline void guest_bed_cleanup(struct guest_bed *bed)
{
	char cmd[96];

	if (!bed->dir[0] || strncmp(bed->dir, "/tmp/vfmig-qemu-", 16))
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", bed->dir);
	if (system(cmd))
		fprintf(stderr, "could not remove %s\n", bed->dir);
}

/* src running the guest (its dirtier ready within ready_ms), dst waiting for it: 0 or -1, err. */
static inline int guest_bed_start(struct guest_bed *bed, struct qemu_vm *src, struct qemu_vm *dst,
				  struct qemu_guest *g, int ready_ms, char *err, size_t len)
{
	g->kernel = bed->kernel;
	g->initrd = bed->initrd;
	return qemu_vm_start(src, bed->dir, "src", g, false, err, len) ||
			       qemu_vm_start(dst, bed->dir, "dst", g, true, err, len) ||
			       qemu_vm_wait_console(src, "DIRTIER ready", ready_ms, err, len)
		       ? -1
		       : 0;
}

/* Both QEMUs stopped (either may never have started), the temp dir removed. */
static inline int guest_bed_stop(struct guest_bed *bed, struct qemu_vm *a, struct qemu_vm *b)
{
	qemu_vm_stop(a);
	qemu_vm_stop(b);
	guest_bed_cleanup(bed);
	return 0;
}

/*
 * The dirtier's last "DIRTIER t=<ms> writes=<n> bad=<pages>" on a console:
 * what it did, and the most pages it ever found not holding what it wrote.
 */
struct dirtier_report {
	unsigned long t_ms, writes, bad;
};

static inline int dirtier_progress(const char *console, struct dirtier_report *r)
{
	FILE *f = fopen(console, "re");
	unsigned long t, w, bad;
	char buf[256];
	int found = 0;

	r->bad = 0;
	while (f && fgets(buf, sizeof(buf), f))
		if (sscanf(buf, "DIRTIER t=%lu writes=%lu bad=%lu", &t, &w, &bad) == 3) {
			r->t_ms = t;
			r->writes = w;
			r->bad = bad > r->bad ? bad : r->bad;
			found = 1;
		}
	if (f)
		fclose(f);
	return found ? 0 : -1;
}

#endif
