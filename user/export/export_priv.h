/* SPDX-License-Identifier: GPL-2.0 */
/* What the export layer's files share: the exporter's state and the exposition writer. */
#ifndef VFMIG_EXPORT_EXPORT_PRIV_H
#define VFMIG_EXPORT_EXPORT_PRIV_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "export/export.h"
#include "model/model.h"
#include "probe/aggregate.h"
#include "probe/devname.h"

#define EXPORT_MAX_HISTS (VFMIG_MAX_DEVICES * 8) /* the hists map's size */
#define EXPORT_MAX_PROGS 256

/* A device's name and VM, kept once its process is gone: still what was profiled. */
struct export_named {
	uint64_t key;
	struct dev_owner o;
};

/* One VM's verdict at the link asked for. */
struct export_verdict {
	uint32_t pid;
	bool ok; /* the inputs were measured and the model ran */
	struct model_result r;
	double needed_bps; /* the smallest cap that converges, 0: none found */
};

/* A BPF program of this session, its run time summed over its instances. */
struct export_prog {
	char name[48];
	int nfds, fds[8];
	uint64_t run_ns, runs;
};

struct export_vm {
	uint32_t pid;
	char name[VFMIG_VM_NAME_LEN + 16];
};

struct exporter {
	struct vfmig_probes *p;
	struct live_link link;
	struct dirty_windows *dw;
	struct agg_view *view;
	uint64_t host[VFMIG_C_NR], received;
	int nhists;
	struct agg_hist *hists;
	int ndevs;
	uint64_t devs[VFMIG_MAX_DEVICES];
	int nnamed;
	struct export_named *named;
	int nvmnames;
	struct export_vm *vmnames; /* VFMIG_MAX_PROCS, this refresh's */
	int nverdicts;
	struct export_verdict *verdicts; /* VFMIG_MAX_PROCS */
	int stats_fd, nprogs;
	struct export_prog progs[EXPORT_MAX_PROGS];
	double t;
};

/* A device's name and owner (resolved while its process lives, then kept). */
const struct export_named *export_owner(struct exporter *x, uint64_t dev);
/* A VM's name: vfmig-emu --name, QEMU's guest, else "pid-N". */
const char *export_vm_name(struct exporter *x, uint32_t pid, char *buf, size_t len);
const char *export_iface_name(unsigned int iface);
const char *export_state_name(unsigned int state);

/* The exposition writer: "# HELP" and "# TYPE" once per family, then its samples. */
void prom_family(FILE *f, const char *name, const char *type, const char *help);
/* name{labels} value; labels is "k1", "v1", "k2", "v2" ..., NULL-ended (values escaped). */
#define PROM_END ((const char *)NULL) /* ends prom_sample's labels */
void prom_sample(FILE *f, const char *name, double v, ...);
void prom_sample_kv(FILE *f, const char *name, double v, const char *const *labels);
/* A log2 histogram (slot i: [2^i, 2^(i+1)) ns) in seconds, with the labels of labels[]. */
void prom_hist(FILE *f, const char *name, const struct vfmig_hist *h, const char *const *labels);

/* The families of each part. */
void export_counters_prom(struct exporter *x, FILE *f);
void export_hists_prom(struct exporter *x, FILE *f);
void export_devices_prom(struct exporter *x, FILE *f);
void export_health_prom(struct exporter *x, FILE *f);
void export_verdicts_prom(struct exporter *x, FILE *f);

/* BPF run time: finds this session's programs, reads their counts. */
void export_progs_find(struct exporter *x);
void export_progs_read(struct exporter *x);

/* The counter table: the name each counter is exported under, and its help. */
struct export_counter {
	int idx;
	const char *name, *help;
	unsigned int iface_lo, iface_hi; /* per interface: idx + iface for each in [lo, hi] */
};
extern const struct export_counter export_counters[];
extern const int export_ncounters;

#endif
