// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <linux/bpf.h>

#include "probe/helpers.h"

/* BPF helper names by id, as far as the uapi headers we build with know them. */
#define HELPER_NAME(name, ...) #name
static const char *const helper_names[] = {__BPF_FUNC_MAPPER(HELPER_NAME)};
#define NHELPERS (sizeof(helper_names) / sizeof(helper_names[0]))

bool helper_hidden(const char *list, const char *name)
{
	size_t len = strlen(name);
	const char *at;

	for (at = list; at && *at; at = strchr(at, ',') ? strchr(at, ',') + 1 : NULL) {
		if (!strncmp(at, "bpf_", 4))
			at += 4;
		if (!strncmp(at, name, len) && (at[len] == ',' || !at[len]))
			return true;
	}
	return false;
}

int helpers_check_hidden(const char *list, char *err, size_t errlen)
{
	char name[48];
	const char *at, *end;
	size_t i;

	for (at = list; at && *at; at = *end ? end + 1 : end) {
		end = strchrnul(at, ',');
		snprintf(name, sizeof(name), "%.*s", (int)(end - at), at);
		for (i = 0; i < NHELPERS && !helper_hidden(name, helper_names[i]); i++)
			;
		if (i == NHELPERS) {
			snprintf(err, errlen, "VFMIG_HIDE_HELPERS: '%s' is not a BPF helper", name);
			return -EINVAL;
		}
	}
	return 0;
}

const char *helper_hidden_note(const char *hidden, const char *name, const char *otherwise)
{
	return helper_hidden(hidden, name) ? " (hidden: VFMIG_HIDE_HELPERS)" : otherwise;
}

/* enum bpf_func_id's type id, found once per BTF: the search walks every type. */
static int func_id_enum(const struct btf *vmlinux)
{
	static const struct btf *seen;
	static int id = -1;

	if (vmlinux != seen) {
		seen = vmlinux;
		id = vmlinux ? btf__find_by_name_kind(vmlinux, "bpf_func_id", BTF_KIND_ENUM) : -1;
	}
	return id;
}

bool helper_in_kernel(const struct btf *vmlinux, const char *hidden, const char *name)
{
	const struct btf_type *t;
	const struct btf_enum *e;
	char want[64];
	int id, i;

	if (helper_hidden(hidden, name))
		return false;
	id = func_id_enum(vmlinux);
	if (id <= 0)
		return true; /* cannot tell: the verifier will say */
	t = btf__type_by_id(vmlinux, id);
	e = btf_enum(t);
	snprintf(want, sizeof(want), "BPF_FUNC_%s", name);
	for (i = 0; i < btf_vlen(t); i++, e++) {
		if (!strcmp(btf__name_by_offset(vmlinux, e->name_off), want))
			return true;
	}
	return false;
}

const char *helper_missing(const struct bpf_program *prog, const struct btf *vmlinux,
			   const char *hidden, char *why, size_t len)
{
	const struct bpf_insn *insn = bpf_program__insns(prog);
	size_t i, n = bpf_program__insn_cnt(prog);

	for (i = 0; i < n; i++) {
		const char *name;

		if (insn[i].code != (BPF_JMP | BPF_CALL) || insn[i].src_reg || insn[i].imm <= 0 ||
		    (size_t)insn[i].imm >= NHELPERS || insn[i].imm == BPF_FUNC_loop)
			continue;
		name = helper_names[insn[i].imm];
		if (helper_in_kernel(vmlinux, hidden, name))
			continue;
		snprintf(why, len, "needs bpf_%s, which this kernel lacks%s", name,
			 helper_hidden_note(hidden, name, ""));
		return why;
	}
	return NULL;
}
