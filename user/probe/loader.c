// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "probe/helpers.h"
#include "probe/host.h"
#include "probe/loadlog.h"
#include "probe/loader.h"
#include "probe/usdt_notes.h"

#include "bitmap.skel.h"
#include "dirty.skel.h"
#include "iommu.skel.h"
#include "ioctl.skel.h"
#include "pins.skel.h"
#include "qemu.skel.h"
#include "state.skel.h"
#include "follow.skel.h"

#define MAX_LINKS 128
#define TRACEFS "/sys/kernel/tracing"
#define SHARED_MAPS 9
#define SHARED_EVENTS 3 /* "events", below */
#define BTF_FILES 3

static const char *const shared_maps[SHARED_MAPS] = {
	"counters",	"hists",	 "devices",  "events",	 "dev_names",
	"dev_counters", "proc_counters", "vm_names", "followed",
};

/* One probe family: its skeleton behind a uniform face. */
struct family {
	const char *name;
	void *(*open)(void);
	struct bpf_object *(*obj)(void *skel);
	struct vfmig_filter *(*filter)(void *skel);
	void (*destroy)(void *skel);
};

#define FAMILY(n)                                                \
	static void *n##_open(void)                              \
	{                                                        \
		return vfmig_##n##__open();                      \
	}                                                        \
	static struct bpf_object *n##_obj(void *s)               \
	{                                                        \
		return ((struct vfmig_##n *)s)->obj;             \
	}                                                        \
	static struct vfmig_filter *n##_filter(void *s)          \
	{                                                        \
		return &((struct vfmig_##n *)s)->rodata->filter; \
	}                                                        \
	static void n##_destroy(void *s)                         \
	{                                                        \
		vfmig_##n##__destroy(s);                         \
	}

FAMILY(state)
FAMILY(pins)
FAMILY(iommu)
FAMILY(bitmap)
FAMILY(dirty)
FAMILY(ioctl)
FAMILY(qemu)
FAMILY(follow)

#define F(n)                                                   \
	{                                                      \
#n, n##_open, n##_obj, n##_filter, n##_destroy \
	}
static const struct family families[] = {F(state), F(pins),  F(iommu), F(bitmap),
					 F(dirty), F(ioctl), F(qemu),  F(follow)};
#define NFAM (sizeof(families) / sizeof(families[0]))

struct vfmig_probes {
	struct probe_opts opts;
	void *skels[NFAM];
	struct bpf_link *links[MAX_LINKS];
	int nlinks;
	struct probe_row rows[PROBE_MAX_ROWS];
	int nrows;
	int shared_fd[SHARED_MAPS];
	struct ring_buffer *rb;
	probe_event_fn fn;
	void *fn_ctx;
	uint64_t received;
	uint64_t cgroup_id;
	bool tracefs;
	bool kprobes; /* kprobe_events in tracefs: the kernel has kprobes */
	bool btf_parsed;
	bool has_bpf_loop;
	struct btf *btf[BTF_FILES];
	char *kallsyms; /* read at the first kprobe's question, freed once loaded */
	size_t kallsyms_len;
	struct usdt_notes notes; /* the USDT target binary's */
};

static struct probe_row *row(struct vfmig_probes *p, const char *fam, const char *prog)
{
	struct probe_row *r;
	int i;

	for (i = 0; i < p->nrows; i++) {
		if (!strcmp(p->rows[i].family, fam) && !strcmp(p->rows[i].program, prog))
			return &p->rows[i];
	}
	if (p->nrows == PROBE_MAX_ROWS)
		return &p->rows[PROBE_MAX_ROWS - 1];
	r = &p->rows[p->nrows++];
	memset(r, 0, sizeof(*r));
	snprintf(r->family, sizeof(r->family), "%s", fam);
	snprintf(r->program, sizeof(r->program), "%s", prog);
	return r;
}

/* The part of a program's name after the kind: "kprobe__vfio_pin_pages" -> "vfio_pin_pages". */
static const char *target_of(const char *prog, char *kind, size_t klen)
{
	const char *sep = strstr(prog, "__");

	snprintf(kind, klen, "%.*s", sep ? (int)(sep - prog) : 0, prog);
	return sep ? sep + 2 : prog;
}

/* /proc/kallsyms, read once per open: each read walks every symbol, slow on a small VM. */
static bool in_kallsyms(struct vfmig_probes *p, const char *sym)
{
	size_t len = strlen(sym), cap = 0, n;
	const char *at, *end;
	FILE *f;

	if (!p->kallsyms) {
		f = fopen("/proc/kallsyms", "r");
		if (!f)
			return false;
		p->kallsyms_len = 0;
		do {
			if (p->kallsyms_len + 65536 + 1 > cap) {
				char *grown = realloc(p->kallsyms, cap = cap * 2 + 65536 * 4);

				if (!grown)
					break;
				p->kallsyms = grown;
			}
			n = fread(p->kallsyms + p->kallsyms_len, 1, 65536, f);
			p->kallsyms_len += n;
		} while (n);
		fclose(f);
		if (!p->kallsyms)
			return false;
		p->kallsyms[p->kallsyms_len] = 0;
	}
	/* "ADDRESS TYPE NAME\n" or "ADDRESS TYPE NAME\t[MODULE]\n" */
	end = p->kallsyms + p->kallsyms_len;
	for (at = p->kallsyms; (at = memmem(at, end - at, sym, len)); at += len) {
		if (at > p->kallsyms && at[-1] == ' ' && (at[len] == '\n' || at[len] == '\t'))
			return true;
	}
	return false;
}

/* Kernel and VFIO module BTF, parsed once for every fentry decision. */
static const char *const btf_files[BTF_FILES] = {"/sys/kernel/btf/vmlinux", "/sys/kernel/btf/vfio",
						 "/sys/kernel/btf/vfio_iommu_type1"};

static void parse_btf(struct vfmig_probes *p)
{
	size_t i;

	if (p->btf_parsed)
		return;
	p->btf_parsed = true;
	p->btf[0] = btf__parse(btf_files[0], NULL);
	for (i = 1; p->btf[0] && i < BTF_FILES; i++)
		p->btf[i] = btf__parse_split(btf_files[i], p->btf[0]);
}

static bool func_btf(struct vfmig_probes *p, const char *fn)
{
	size_t i;

	parse_btf(p);
	for (i = 0; i < BTF_FILES; i++) {
		if (p->btf[i] && btf__find_by_name_kind(p->btf[i], fn, BTF_KIND_FUNC) > 0)
			return true;
	}
	return false;
}

/* The kernel has BPF_FUNC_<name>, unless hidden to test what older kernels get. */
static bool kernel_has_helper(struct vfmig_probes *p, const char *name)
{
	parse_btf(p);
	return helper_in_kernel(p->btf[0], p->opts.hide_helpers, name);
}

/*
 * Before load libbpf holds only the entry function's instructions: a helper
 * called from a subprogram alone reaches the verifier, whose refusal then
 * switches the program off in its own words.
 */
static const char *missing_helper(struct vfmig_probes *p, struct bpf_program *prog, char *why,
				  size_t len)
{
	parse_btf(p);
	return helper_missing(prog, p->btf[0], p->opts.hide_helpers, why, len);
}

static bool is_usdt(const char *kind)
{
	return !strcmp(kind, "usdt") || !strcmp(kind, "qemu");
}

/* A usdt__ program is the emulated device's probe (provider vfmig), a qemu__ one QEMU's. */
static const char *usdt_provider(const char *kind)
{
	return !strcmp(kind, "qemu") ? "qemu" : "vfmig";
}

/*
 * QEMU trace events whose older signatures carry nothing vfmig reads
 * right: the migration protocol v1 (QEMU 7.2 and older) and the dirty
 * bitmap before QEMU counted its pages (8.0 and older).
 */
static const char *qemu_signature(const struct usdt_note *n)
{
	if (!strcmp(n->name, "vfio_migration_set_state") && n->nargs == 2 && n->size[1] != 8)
		return "qemu:vfio_migration_set_state(name, uint32 state) is the v1 migration "
		       "protocol (QEMU 7.2 and older): not read";
	if (!strcmp(n->name, "vfio_load_state_device_data") && n->nargs == 3 && n->size[2] == 8)
		return "qemu:vfio_load_state_device_data(name, offset, size) is the v1 migration "
		       "protocol (QEMU 7.2 and older): not read";
	if (!strcmp(n->name, "vfio_get_dirty_bitmap") && n->nargs == 5 && n->size[0] == 4)
		return "qemu:vfio_get_dirty_bitmap(fd, iova, size, bitmap_size, start) has no "
		       "dirty page count (QEMU 8.0 and older)";
	return NULL;
}

/* Why a USDT program does not attach to the target binary; NULL when its probe is there. */
static const char *usdt_unavailable(struct vfmig_probes *p, const char *provider,
				    const char *target, char *why, size_t len)
{
	const struct usdt_note *n;

	if (!p->opts.binary)
		return "no USDT target binary given";
	n = usdt_notes_find(&p->notes, provider, target);
	if (n)
		return strcmp(provider, "qemu") ? NULL : qemu_signature(n);
	snprintf(why, len, "no %s:%s note in %s%s", provider, target, p->opts.binary,
		 strcmp(provider, "qemu") ? ""
		 : usdt_notes_have(&p->notes, "qemu")
			 ? " (not in this QEMU version)"
			 : " (QEMU built without the dtrace backend?)");
	return why;
}

static bool is_fentry(const char *kind)
{
	return !strcmp(kind, "fentry") || !strcmp(kind, "fexit");
}

static bool is_kprobe(const char *kind)
{
	return !strcmp(kind, "kprobe") || !strcmp(kind, "kretprobe");
}

/* Why a program cannot be loaded here, from what the host has; NULL when it can. */
static const char *unavailable(struct vfmig_probes *p, const char *kind, const char *target,
			       char *why, size_t len)
{
	if (is_usdt(kind))
		return usdt_unavailable(p, usdt_provider(kind), target, why, len);
	if (is_fentry(kind)) {
		if (!func_btf(p, target))
			return snprintf(why, len,
					"no BTF id for %s (not in vmlinux or vfio module BTF)",
					target),
			       why;
		return NULL;
	}
	if (is_kprobe(kind)) {
		if (!p->kprobes)
			return "kernel built without kprobes (no kprobe_events in tracefs)";
		if (!in_kallsyms(p, target))
			return snprintf(why, len,
					"symbol %s not in /proc/kallsyms (module not loaded?)",
					target),
			       why;
		return NULL;
	}
	if (!strcmp(kind, "tp")) {
		if (!p->tracefs)
			return "tracefs is not mounted and could not be mounted";
		return NULL;
	}
	return NULL;
}

/* A tracepoint program's category/name from its section "tracepoint/cat/name". */
static const char *missing_tracepoint(struct bpf_program *prog, char *why, size_t len)
{
	const char *sec = bpf_program__section_name(prog), *cat = strchr(sec, '/');
	char path[256];

	if (!cat)
		return NULL;
	snprintf(path, sizeof(path), TRACEFS "/events%s/format", cat);
	if (!access(path, F_OK))
		return NULL;
	snprintf(why, len, "tracepoint %s not in this kernel", cat + 1);
	return why;
}

/* A program of that kind (fentry/fexit or kprobe/kretprobe) for target is still on. */
static bool kind_on(struct bpf_object *obj, const char *target, bool fentry)
{
	struct bpf_program *prog;
	char kind[16];

	bpf_object__for_each_program (prog, obj) {
		const char *t = target_of(bpf_program__name(prog), kind, sizeof(kind));

		if ((fentry ? is_fentry(kind) : is_kprobe(kind)) && !strcmp(t, target) &&
		    bpf_program__autoload(prog))
			return true;
	}
	return false;
}

/*
 * First what the host cannot run, and what the kernel refused before; then,
 * of fentry and kprobe for one function, the one not preferred goes where
 * the other is still on (fentry unless PREFER_KPROBE).
 */
/* Families that only an option asks for. */
static const char *not_asked(const struct vfmig_probes *p, const struct family *f)
{
	if (strcmp(f->name, "follow"))
		return NULL;
	if (!p->opts.pid)
		return "every process is watched: no children to follow";
	return p->opts.follow_children ? NULL : "children not followed (--no-inherit)";
}

static void choose(struct vfmig_probes *p, const struct family *f, struct bpf_object *obj)
{
	bool prefer_fentry = p->opts.prefer != PREFER_KPROBE;
	struct bpf_program *prog;
	char kind[16], why[160];

	bpf_object__for_each_program (prog, obj) {
		const char *name = bpf_program__name(prog),
			   *t = target_of(name, kind, sizeof(kind));
		struct probe_row *r = row(p, f->name, name);
		const char *no = r->refused ? r->reason : unavailable(p, kind, t, why, sizeof(why));

		if (!no)
			no = not_asked(p, f);
		if (!no && !strcmp(kind, "tp"))
			no = missing_tracepoint(prog, why, sizeof(why));
		if (!no)
			no = missing_helper(p, prog, why, sizeof(why));
		snprintf(r->source, sizeof(r->source), "%s", kind);
		if (no) {
			if (no != r->reason)
				snprintf(r->reason, sizeof(r->reason), "%s", no);
			bpf_program__set_autoload(prog, false);
		} else {
			r->reason[0] = 0; /* what an earlier try said of it no longer holds */
		}
	}
	bpf_object__for_each_program (prog, obj) {
		const char *name = bpf_program__name(prog),
			   *t = target_of(name, kind, sizeof(kind));
		struct probe_row *r = row(p, f->name, name);

		bool fentry = is_fentry(kind);

		if (!bpf_program__autoload(prog) || (!fentry && !is_kprobe(kind)) ||
		    fentry == prefer_fentry || !kind_on(obj, t, prefer_fentry))
			continue;
		snprintf(r->reason, sizeof(r->reason), "%s",
			 prefer_fentry ? "fentry is used for this function instead"
				       : "kprobe is used for this function instead (preferred)");
		bpf_program__set_autoload(prog, false);
	}
}

static int share_maps(struct vfmig_probes *p, struct bpf_object *obj)
{
	int i, ret;

	for (i = 0; i < SHARED_MAPS; i++) {
		struct bpf_map *m = bpf_object__find_map_by_name(obj, shared_maps[i]);

		if (m && p->shared_fd[i] >= 0) {
			ret = bpf_map__reuse_fd(m, p->shared_fd[i]);
			if (ret)
				return ret;
		}
	}
	return 0;
}

static void keep_shared(struct vfmig_probes *p, struct bpf_object *obj)
{
	int i;

	for (i = 0; i < SHARED_MAPS; i++) {
		struct bpf_map *m = bpf_object__find_map_by_name(obj, shared_maps[i]);

		if (m && p->shared_fd[i] < 0)
			p->shared_fd[i] = dup(bpf_map__fd(m));
	}
}

/* Test only: the map of one family the kernel is made to refuse (VFMIG_TEST_REFUSE_MAP). */
#define TEST_REFUSED_MAP "vfio_map_inflight"

static void test_knobs(struct vfmig_probes *p, struct bpf_object *obj)
{
	struct bpf_map *m = bpf_object__find_map_by_name(obj, TEST_REFUSED_MAP);

	if (m && (p->opts.test_refuse & VFMIG_TEST_REFUSE_MAP))
		bpf_map__set_max_entries(m, 0);
}

/*
 * The events ring, where the first family makes it (the others share it):
 * a recording keeps every event, and a larger ring rides out the reader's
 * pauses (compressing a block) at a busy device's rates.
 */
static void ring_size(struct vfmig_probes *p, struct bpf_object *obj)
{
	struct bpf_map *m = bpf_object__find_map_by_name(obj, "events");

	if (m && p->opts.ring_bytes && p->shared_fd[SHARED_EVENTS] < 0)
		bpf_map__set_max_entries(m, (__u32)p->opts.ring_bytes);
}

/*
 * A family that cannot load at all: its programs' rows give way to one row
 * saying why, in libbpf's words.
 */
static void family_failed(struct vfmig_probes *p, const char *fam, const char *why)
{
	struct probe_row *r;
	int i, n = 0;

	for (i = 0; i < p->nrows; i++) {
		if (strcmp(p->rows[i].family, fam))
			p->rows[n++] = p->rows[i];
	}
	p->nrows = n;
	r = row(p, fam, "*");
	snprintf(r->source, sizeof(r->source), "-");
	r->refused = true;
	snprintf(r->reason, sizeof(r->reason), "family not loaded: %s", why);
}

/*
 * Opens and loads one family. When the kernel or libbpf refuses a program
 * the host seemed to offer (the verifier, an attach target, a CO-RE
 * relocation), libbpf's log names it and says why: that program alone is
 * switched off with those words and the family loaded again without it.
 * libbpf stops at the first program that fails: one more try each.
 */
static int load_family(struct vfmig_probes *p, size_t fi, char *why, size_t whylen)
{
	const struct family *f = &families[fi];
	struct loadlog *log = malloc(sizeof(*log));
	int tries, ret = -ENOMEM;

	for (tries = 0; log && tries < PROBE_MAX_ROWS; tries++) {
		void *skel = f->open();
		struct bpf_program *prog;
		struct bpf_object *obj;
		const char *name;

		if (!skel) {
			ret = -errno;
			snprintf(why, whylen, "opening: %s", strerror(errno));
			break;
		}
		obj = f->obj(skel);
		f->filter(skel)->pid = p->opts.pid;
		f->filter(skel)->dev = p->opts.dev;
		f->filter(skel)->cgroup = p->cgroup_id;
		f->filter(skel)->test_refuse = p->opts.test_refuse;
		f->filter(skel)->no_bpf_loop = !p->has_bpf_loop;
		f->filter(skel)->follow_children = p->opts.pid && p->opts.follow_children;
		test_knobs(p, obj);
		ring_size(p, obj);
		choose(p, f, obj);
		loadlog_begin(log);
		ret = share_maps(p, obj);
		if (!ret)
			ret = bpf_object__load(obj);
		loadlog_end();
		if (!ret) {
			p->skels[fi] = skel;
			keep_shared(p, obj);
			break;
		}
		name = loadlog_failed(log);
		prog = name ? bpf_object__find_program_by_name(obj, name) : NULL;
		if (!prog || !bpf_program__autoload(prog)) {
			snprintf(why, whylen, "%s", log->warn[0] ? log->warn : strerror(-ret));
			f->destroy(skel);
			break;
		}
		{
			struct probe_row *r = row(p, f->name, name);

			loadlog_reason(log, name, r->reason, sizeof(r->reason));
			r->refused = true;
		}
		f->destroy(skel);
	}
	free(log);
	return ret;
}

static void attach_one(struct vfmig_probes *p, const struct family *f, struct bpf_program *prog)
{
	const char *name = bpf_program__name(prog);
	struct probe_row *r = row(p, f->name, name);
	char kind[16];
	const char *t = target_of(name, kind, sizeof(kind));
	struct bpf_link *link;

	if (!bpf_program__autoload(prog))
		return;
	if (!strcmp(kind, "test")) {
		snprintf(r->reason, sizeof(r->reason), "loaded for BPF_PROG_TEST_RUN only");
		return;
	}
	if (is_usdt(kind))
		/* followed children run the same binary: every process, the filter decides */
		link = bpf_program__attach_usdt(
			prog, p->opts.pid && !p->opts.follow_children ? p->opts.pid : -1,
			p->opts.binary, usdt_provider(kind), t, NULL);
	else
		link = bpf_program__attach(prog);
	if (!link) {
		snprintf(r->reason, sizeof(r->reason), "attach failed: %s%s", strerror(errno),
			 !is_usdt(kind)	   ? ""
			 : errno == ENOENT ? " (no such USDT note in binary)"
			 : errno == EINVAL ? " (libbpf cannot locate its arguments: -v says which)"
					   : "");
		return;
	}
	if (p->nlinks == MAX_LINKS) {
		bpf_link__destroy(link);
		snprintf(r->reason, sizeof(r->reason), "too many links");
		return;
	}
	p->links[p->nlinks++] = link;
	r->attached = true;
	snprintf(r->reason, sizeof(r->reason), "%s",
		 is_usdt(kind)	       ? p->opts.binary
		 : !strcmp(kind, "tp") ? bpf_program__section_name(prog)
				       : t);
}

static int ring_cb(void *ctx, void *data, size_t len)
{
	struct vfmig_probes *p = ctx;

	if (len < sizeof(struct vfmig_event))
		return 0;
	p->received++;
	return p->fn ? p->fn(p->fn_ctx, data) : 0;
}

static void mount_tracefs(struct vfmig_probes *p)
{
	if (access(TRACEFS "/events", F_OK))
		mount("nodev", TRACEFS, "tracefs", 0, NULL);
	p->tracefs = !access(TRACEFS "/events", F_OK);
	p->kprobes = !access(TRACEFS "/kprobe_events", F_OK); /* asked once, not per program */
}

/*
 * Without bpf_loop (before 5.17) the programs count bitmaps only so far:
 * the table says so in a row of its own.
 */
static void bounded_loops(struct vfmig_probes *p)
{
	struct probe_row *r;

	p->has_bpf_loop = kernel_has_helper(p, "loop");
	if (p->has_bpf_loop)
		return;
	r = row(p, "host", "bpf_loop");
	snprintf(r->source, sizeof(r->source), "-");
	snprintf(r->reason, sizeof(r->reason),
		 "not in this kernel%s: dirty bitmaps counted up to %d words (%d MiB at 4 KiB "
		 "pages) per query, the rest as cut short",
		 helper_hidden_note(p->opts.hide_helpers, "loop", " (before 5.17)"),
		 VFMIG_BITMAP_BOUNDED_WORDS, VFMIG_BITMAP_BOUNDED_WORDS * 64 * 4 / 1024);
}

static int check_privileges(char *err, size_t errlen)
{
	if (geteuid() == 0)
		return 0;
	snprintf(err, errlen,
		 "needs CAP_BPF and CAP_PERFMON (and CAP_SYS_ADMIN for tracefs): "
		 "run as root");
	return -EPERM;
}

int probes_open(struct vfmig_probes **out, const struct probe_opts *o, char *err, size_t errlen)
{
	struct vfmig_probes *p;
	struct bpf_program *prog;
	size_t i, loaded = 0;
	int ret;

	*out = NULL;
	ret = host_kernel_check_running(err, errlen);
	if (!ret)
		ret = check_privileges(err, errlen);
	if (ret)
		return ret;
	ret = helpers_check_hidden(o->hide_helpers, err, errlen);
	if (ret)
		return ret;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->opts = *o;
	bounded_loops(p);
	if (o->cgroup) {
		ret = host_cgroup_id(o->cgroup, &p->cgroup_id, err, errlen);
		if (ret) {
			free(p);
			return ret;
		}
	}
	for (i = 0; i < SHARED_MAPS; i++)
		p->shared_fd[i] = -1;
	if (o->binary)
		usdt_notes_read(o->binary, &p->notes); /* unreadable: no notes, each row says so */
	mount_tracefs(p);
	loadlog_install(o->verbose);
	libbpf_set_strict_mode(LIBBPF_STRICT_ALL);
	for (i = 0; i < NFAM; i++) {
		char why[160];
		int fret = load_family(p, i, why, sizeof(why));

		if (!fret) {
			loaded++;
			continue;
		}
		family_failed(p, families[i].name, why);
		if (!ret) {
			ret = fret;
			snprintf(err, errlen, "no probe family loaded: the %s probes: %s",
				 families[i].name, why);
		}
	}
	free(p->kallsyms);
	p->kallsyms = NULL;
	if (loaded)
		ret = 0;
	for (i = 0; i < NFAM && !ret; i++) {
		if (!p->skels[i])
			continue;
		for (prog = bpf_object__next_program(families[i].obj(p->skels[i]), NULL); prog;
		     prog = bpf_object__next_program(families[i].obj(p->skels[i]), prog))
			attach_one(p, &families[i], prog);
	}
	if (!ret) {
		p->rb = ring_buffer__new(p->shared_fd[3], ring_cb, p, NULL);
		if (!p->rb)
			ret = -errno;
	}
	if (ret) {
		probes_close(p);
		return ret;
	}
	*out = p;
	return 0;
}

void probes_close(struct vfmig_probes *p)
{
	size_t i;

	if (!p)
		return;
	ring_buffer__free(p->rb);
	for (i = 0; i < (size_t)p->nlinks; i++)
		bpf_link__destroy(p->links[i]);
	for (i = 0; i < NFAM; i++) {
		if (p->skels[i])
			families[i].destroy(p->skels[i]);
	}
	for (i = 0; i < SHARED_MAPS; i++) {
		if (p->shared_fd[i] >= 0)
			close(p->shared_fd[i]);
	}
	for (i = BTF_FILES; i-- > 0;)
		btf__free(p->btf[i]); /* modules before the base they split from */
	free(p->kallsyms);
	usdt_notes_free(&p->notes);
	free(p);
}

int probes_table(struct vfmig_probes *p, const struct probe_row **rows)
{
	*rows = p->rows;
	return p->nrows;
}

int probes_attached(struct vfmig_probes *p)
{
	return p->nlinks;
}

int probes_map_fd(struct vfmig_probes *p, const char *name)
{
	struct bpf_map *m = NULL;
	size_t i;

	for (i = 0; i < SHARED_MAPS; i++) {
		if (!strcmp(shared_maps[i], name))
			return p->shared_fd[i];
	}
	for (i = 0; i < NFAM && !m; i++) { /* a family's own map: the first of that name */
		if (p->skels[i])
			m = bpf_object__find_map_by_name(families[i].obj(p->skels[i]), name);
	}
	return m ? bpf_map__fd(m) : -1;
}

int probes_poll(struct vfmig_probes *p, int timeout_ms, probe_event_fn fn, void *ctx)
{
	int n;

	p->fn = fn;
	p->fn_ctx = ctx;
	n = ring_buffer__poll(p->rb, timeout_ms);
	/* records come without a wakeup until a quarter of the ring waits (event_send) */
	return n ? n : ring_buffer__consume(p->rb);
}

int probes_test_run(struct vfmig_probes *p, const char *prog_name, const uint64_t *args,
		    size_t nargs)
{
	struct bpf_test_run_opts opts = {
		.sz = sizeof(opts),
		.ctx_in = args,
		.ctx_size_in = nargs * 8,
	};
	struct bpf_program *prog = NULL;
	size_t i;

	for (i = 0; i < NFAM && !prog; i++) {
		if (p->skels[i])
			prog = bpf_object__find_program_by_name(families[i].obj(p->skels[i]),
								prog_name);
	}
	if (!prog)
		return -ENOENT;
	return bpf_prog_test_run_opts(bpf_program__fd(prog), &opts) ? -errno : (int)opts.retval;
}

uint64_t probes_received(struct vfmig_probes *p)
{
	return p->received;
}
