/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the host must offer before any probe is loaded: a kernel vfmig
 * supports (5.15 or later, with BTF), and for the cgroup filter a cgroup v2
 * directory. Each check answers 0, or -errno with one line saying what is
 * wrong and what to do.
 */
#ifndef VFMIG_PROBE_HOST_H
#define VFMIG_PROBE_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HOST_MIN_MAJOR 5
#define HOST_MIN_MINOR 15
/* Why HOST_MIN_MAJOR.HOST_MIN_MINOR: what the probes need from the kernel. */
#define HOST_MIN_WHY \
	"a long-term kernel with the module BTF and bpf_for_each_map_elem the probes use"
#define HOST_BTF_PATH "/sys/kernel/btf/vmlinux"

/* Pure: a kernel release string (uname -r) and whether its BTF is there. */
int host_kernel_check(const char *release, bool has_btf, char *err, size_t errlen);
/* The same for the running kernel. */
int host_kernel_check_running(char *err, size_t errlen);

/* Where cgroup2 is mounted ("/sys/fs/cgroup", or ".../unified" on hybrid hosts); -ENOENT: not. */
int host_cgroup2_mount(char *buf, size_t len);
/* The id bpf_get_current_cgroup_id() gives in the cgroup v2 directory path. */
int host_cgroup_id(const char *path, uint64_t *id, char *err, size_t errlen);

#endif
