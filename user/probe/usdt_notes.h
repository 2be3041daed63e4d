/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The USDT notes (.note.stapsdt) of an ELF binary: which provider:name
 * probes it has and the size of each argument, so that the loader attaches
 * a program only where its probe is, and only to a signature it reads right
 * (QEMU's trace events changed arguments between versions).
 */
#ifndef VFMIG_PROBE_USDT_NOTES_H
#define VFMIG_PROBE_USDT_NOTES_H

#include <stdbool.h>
#include <stddef.h>

#define USDT_MAX_ARGS 12

struct usdt_note {
	char provider[32], name[64];
	int nargs;
	int size[USDT_MAX_ARGS]; /* bytes of each argument ("-4@%eax": 4) */
};

/* One a call site: a probe fired from several places has as many (QEMU's: one signature). */
struct usdt_notes {
	struct usdt_note *v;
	size_t n, cap;
};

/* 0 (a file that is not a 64-bit ELF has none), or -errno when path cannot be read. */
int usdt_notes_read(const char *path, struct usdt_notes *out);
void usdt_notes_free(struct usdt_notes *notes);
/* The first note of provider:name, or NULL. */
const struct usdt_note *usdt_notes_find(const struct usdt_notes *notes, const char *provider,
					const char *name);
bool usdt_notes_have(const struct usdt_notes *notes, const char *provider);
/* Argument sizes of a note's spec ("8@%rdi -4@-20(%rbp) ..."): how many were read. */
int usdt_args_parse(const char *spec, int *size, int max);

#endif
