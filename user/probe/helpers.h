/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The BPF helpers a kernel has, by its own list (enum bpf_func_id in its
 * BTF), less those a caller hides to see what an older kernel gets
 * (probe_opts.hide_helpers, VFMIG_HIDE_HELPERS): "loop,get_func_arg".
 */
#ifndef VFMIG_PROBE_HELPERS_H
#define VFMIG_PROBE_HELPERS_H

#include <stdbool.h>
#include <stddef.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

/* name ("loop", no "bpf_") is in the hidden list (names with "bpf_" or not). */
bool helper_hidden(const char *hidden, const char *name);
/* " (hidden: VFMIG_HIDE_HELPERS)" when name is hidden, else otherwise. */
const char *helper_hidden_note(const char *hidden, const char *name, const char *otherwise);
/* Each name in hidden is a helper: 0, or -EINVAL naming the first that is not. */
int helpers_check_hidden(const char *hidden, char *err, size_t errlen);
/* BPF_FUNC_<name> is in vmlinux's list and not hidden; true when vmlinux cannot tell. */
bool helper_in_kernel(const struct btf *vmlinux, const char *hidden, const char *name);
/*
 * A helper prog's entry function calls that the kernel lacks (bpf_loop
 * aside: the programs bound their loops themselves without it), said in
 * why; NULL when none.
 */
const char *helper_missing(const struct bpf_program *prog, const struct btf *vmlinux,
			   const char *hidden, char *why, size_t len);

#endif
