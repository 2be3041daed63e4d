// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "probe/loadlog.h"

#define BEGIN_LOG "-- BEGIN PROG LOAD LOG --"
#define END_LOG "-- END PROG LOAD LOG --"
#define CORE_FAIL "failed to resolve CO-RE relocation "

static __thread struct loadlog *capture;
static int debug_level; /* 0: quiet, 1: warnings and info to stderr, 2: and debug */

static bool prefix(const char *s, const char *pfx)
{
	return !strncmp(s, pfx, strlen(pfx));
}

static void copy(char *dst, size_t len, const char *src, size_t n)
{
	snprintf(dst, len, "%.*s", (int)n, src);
}

static struct loadlog_prog *prog_of(struct loadlog *l, const char *name, size_t n)
{
	struct loadlog_prog *p;
	int i;

	for (i = 0; i < l->nprogs; i++) {
		if (strlen(l->progs[i].name) == n && !strncmp(l->progs[i].name, name, n))
			return &l->progs[i];
	}
	if (l->nprogs == LOADLOG_PROGS)
		return &l->progs[LOADLOG_PROGS - 1];
	p = &l->progs[l->nprogs++];
	memset(p, 0, sizeof(*p));
	copy(p->name, sizeof(p->name), name, n);
	return p;
}

/*
 * A verifier line that is no error message: an instruction ("12: (85) call
 * ..." or "0: R1=ctx()"), a source line ("; ..."), a branch's state ("from 4
 * to 7: ..."), call frames, or statistics.
 */
static bool context_line(const char *s)
{
	static const char *const ctx[] = {
		";",
		"from ",
		"func#",
		"Func#",
		"caller:",
		"callee:",
		"returning ",
		"to caller at ",
		"Validating ",
		"processed ",
		"verification time",
		"stack depth ",
		"mark_precise",
		"last_idx ",
		"regs=",
		"Live regs",
	};
	size_t i;

	if (isdigit((unsigned char)s[0])) {
		while (isdigit((unsigned char)*s))
			s++;
		return *s == ':';
	}
	if (isspace((unsigned char)s[0]))
		return true;
	for (i = 0; i < sizeof(ctx) / sizeof(ctx[0]); i++) {
		if (prefix(s, ctx[i]))
			return true;
	}
	return false;
}

static void verifier_line(struct loadlog_prog *p, const char *s, size_t n)
{
	char line[LOADLOG_LINE];

	copy(line, sizeof(line), s, n);
	if (!line[0])
		return;
	if (prefix(line, CORE_FAIL)) {
		snprintf(p->core, sizeof(p->core), "%s", line);
		return;
	}
	if (context_line(line)) {
		/* instructions after a message: the message was no failure */
		if (!prefix(line, "processed ") && !prefix(line, "verification time") &&
		    !prefix(line, "stack depth "))
			p->verifier[0][0] = p->verifier[1][0] = 0;
		return;
	}
	memcpy(p->verifier[0], p->verifier[1], sizeof(p->verifier[0]));
	snprintf(p->verifier[1], sizeof(p->verifier[1]), "%s", line);
}

/* "prog 'NAME': REST" */
static void prog_line(struct loadlog *l, const char *s, size_t n)
{
	const char *name = s + strlen("prog '"), *end = memchr(name, '\'', n - (name - s));
	struct loadlog_prog *p;
	const char *rest;
	size_t rlen;

	if (!end || (size_t)(end - s) + 3 > n || strncmp(end, "': ", 3))
		return;
	p = prog_of(l, name, end - name);
	rest = end + 3;
	rlen = n - (rest - s);
	if (prefix(rest, BEGIN_LOG)) {
		snprintf(l->in_log, sizeof(l->in_log), "%s", p->name);
		p->verifier[0][0] = p->verifier[1][0] = 0;
	} else if (prefix(rest, "failed to load: ")) {
		snprintf(l->failed, sizeof(l->failed), "%s", p->name);
		p->err = atoi(rest + strlen("failed to load: "));
	} else if (prefix(rest, "BPF program load failed: ")) {
		copy(p->load_failed, sizeof(p->load_failed), rest, rlen);
	} else if (!p->libbpf[0]) {
		copy(p->libbpf, sizeof(p->libbpf), rest, rlen);
	}
}

static void line(struct loadlog *l, const char *s, size_t n)
{
	const char *end;

	if (n >= 8 && !strncmp(s, "libbpf: ", 8)) {
		s += 8;
		n -= 8;
	}
	if (l->in_log[0]) {
		end = memmem(s, n, END_LOG, strlen(END_LOG));
		verifier_line(prog_of(l, l->in_log, strlen(l->in_log)), s,
			      end ? (size_t)(end - s) : n);
		if (end)
			l->in_log[0] = 0;
		return;
	}
	if (n > 6 && !strncmp(s, "prog '", 6))
		prog_line(l, s, n);
	else if (n && !(n >= 22 && !strncmp(s, "failed to load object ", 22)))
		copy(l->warn, sizeof(l->warn), s, n);
}

void loadlog_feed(struct loadlog *l, const char *text)
{
	const char *nl;
	size_t n;

	while (*text) {
		nl = strchr(text, '\n');
		n = nl ? (size_t)(nl - text) : strlen(text);
		if (l->partlen || !nl) { /* a line in pieces: joined (and cut) */
			size_t room = sizeof(l->part) - 1 - l->partlen;

			memcpy(l->part + l->partlen, text, n < room ? n : room);
			l->partlen += n < room ? n : room;
			if (nl) {
				line(l, l->part, l->partlen);
				l->partlen = 0;
			}
		} else {
			line(l, text, n);
		}
		text += n + (nl != NULL);
	}
}

static int print_cb(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char small[2048], *buf = small;
	va_list aq;
	int n;

	if (!capture && debug_level < (level == LIBBPF_DEBUG ? 2 : 1))
		return 0;
	va_copy(aq, ap);
	n = vsnprintf(small, sizeof(small), fmt, aq);
	va_end(aq);
	if (n >= (int)sizeof(small)) { /* a verifier log: its tail is what counts, keep it all */
		buf = malloc(n + 1);
		if (buf)
			vsnprintf(buf, n + 1, fmt, ap);
		else
			buf = small;
	}
	if (debug_level >= (level == LIBBPF_DEBUG ? 2 : 1))
		fputs(buf, stderr);
	if (capture && level != LIBBPF_DEBUG)
		loadlog_feed(capture, buf);
	if (buf != small)
		free(buf);
	return 0;
}

void loadlog_install(bool verbose)
{
	const char *env = getenv("VFMIG_DEBUG");

	debug_level = env && *env ? atoi(env) : 0;
	if (verbose && debug_level < 1)
		debug_level = 1;
	libbpf_set_print(print_cb);
}

void loadlog_begin(struct loadlog *l)
{
	memset(l, 0, sizeof(*l));
	capture = l;
}

void loadlog_end(void)
{
	if (capture && capture->partlen) {
		line(capture, capture->part, capture->partlen);
		capture->partlen = 0;
	}
	capture = NULL;
}

const char *loadlog_failed(const struct loadlog *l)
{
	return l->failed[0] ? l->failed : NULL;
}

/*
 * "<byte_off> [12] struct trace_event_raw_sys_exit___x.no_such (0:2 @ offset
 * 16)" -> "struct trace_event_raw_sys_exit.no_such": the root type and the
 * access path, a local flavour ("___x") cut off.
 */
static void core_spec(const char *spec, char *out, size_t len)
{
	const char *s = strchr(spec, ']'), *end, *flavour;
	size_t n;

	s = s ? s + 1 : spec;
	while (*s == ' ')
		s++;
	end = strstr(s, " (");
	n = end ? (size_t)(end - s) : strlen(s);
	flavour = strstr(s, "___");
	if (flavour && flavour < s + n) {
		const char *after = flavour + strcspn(flavour, ".[: ");

		if (after > s + n)
			after = s + n;
		snprintf(out, len, "%.*s%.*s", (int)(flavour - s), s, (int)(s + n - after), after);
		return;
	}
	copy(out, len, s, n);
}

char *loadlog_reason(const struct loadlog *l, const char *prog, char *out, size_t len)
{
	const struct loadlog_prog *p = NULL;
	char spec[LOADLOG_LINE];
	int i;

	for (i = 0; i < l->nprogs && !p; i++) {
		if (!strcmp(l->progs[i].name, prog))
			p = &l->progs[i];
	}
	if (!p) {
		snprintf(out, len, "load refused (libbpf named no reason)");
	} else if (p->core[0]) {
		core_spec(p->core + strlen(CORE_FAIL), spec, sizeof(spec));
		snprintf(out, len, "CO-RE: %s not in this kernel's BTF", spec);
	} else if (p->verifier[0][0]) {
		snprintf(out, len, "verifier: %s; %s", p->verifier[0], p->verifier[1]);
	} else if (p->verifier[1][0]) {
		snprintf(out, len, "verifier: %s", p->verifier[1]);
	} else if (p->libbpf[0]) {
		snprintf(out, len, "libbpf: %s", p->libbpf);
	} else if (p->load_failed[0]) {
		snprintf(out, len, "kernel: %s", p->load_failed);
	} else {
		snprintf(out, len, "failed to load: %s", strerror(p->err < 0 ? -p->err : p->err));
	}
	return out;
}
