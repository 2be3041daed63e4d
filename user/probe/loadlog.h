/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libbpf's log while a probe family loads, kept per program instead of
 * printed: the verifier's log between "prog 'NAME': -- BEGIN PROG LOAD LOG
 * --" and its END, "prog 'NAME': failed to load: -E", libbpf's own words on
 * a program (a BTF id not found, say) and its CO-RE relocation failures.
 * The loader builds a refused program's reason from them. Nothing reaches
 * stderr unless VFMIG_DEBUG=1 (2: libbpf's debug lines too) or verbose.
 */
#ifndef VFMIG_PROBE_LOADLOG_H
#define VFMIG_PROBE_LOADLOG_H

#include <stdbool.h>
#include <stddef.h>

#define LOADLOG_PROGS 16
#define LOADLOG_LINE 160

struct loadlog_prog {
	char name[48];
	char verifier[2][LOADLOG_LINE]; /* its last two words after the last instruction line */
	char core[LOADLOG_LINE];	/* "failed to resolve CO-RE relocation ..." */
	char libbpf[LOADLOG_LINE];	/* libbpf's first other words on it */
	char load_failed[LOADLOG_LINE]; /* "BPF program load failed: <strerror>" */
	int err;			/* from "failed to load: -E" */
};

struct loadlog {
	struct loadlog_prog progs[LOADLOG_PROGS];
	int nprogs;
	char in_log[48];	     /* inside this program's BEGIN .. END */
	char failed[48];	     /* the program libbpf last said failed to load */
	char warn[LOADLOG_LINE];     /* libbpf's last warning on no program: a map, BTF */
	char part[LOADLOG_LINE * 2]; /* a line not ended yet */
	size_t partlen;
};

/* libbpf's printer, once per process; verbose also copies it to stderr. */
void loadlog_install(bool verbose);
/* Keeps what libbpf says on this thread in l until loadlog_end(). */
void loadlog_begin(struct loadlog *l);
void loadlog_end(void);
/* Feeds text as libbpf printed it (lines, "libbpf: " prefixes and all). */
void loadlog_feed(struct loadlog *l, const char *text);
/* The program libbpf said failed to load, or NULL. */
const char *loadlog_failed(const struct loadlog *l);
/*
 * Why prog failed, in the kernel's or libbpf's words: "CO-RE: struct S.f not
 * in this kernel's BTF", "verifier: ...", "libbpf: ...", "kernel: BPF
 * program load failed: ...". Returns out.
 */
char *loadlog_reason(const struct loadlog *l, const char *prog, char *out, size_t len);

#endif
