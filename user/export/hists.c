// SPDX-License-Identifier: GPL-2.0
/* The probes' latency histograms as Prometheus histograms, and what each device is doing. */
#include <stdlib.h>
#include <string.h>

#include "common/vfio_state.h"
#include "export/export_priv.h"

/* Each histogram kind's family, and what its key's from and to say. */
struct hist_family {
	const char *name, *help;
};

static const struct hist_family families[] = {
	[VFMIG_H_STATE_SET] = {"vfmig_state_set_duration_seconds",
			       "Migration state SET requests, by arc (from->to)."},
	[VFMIG_H_FSM_STEP] = {"vfmig_fsm_step_duration_seconds",
			      "Migration state arcs the drivers executed, by arc."},
	[VFMIG_H_BITMAP] = {"vfmig_dirty_bitmap_query_duration_seconds",
			    "Dirty-page bitmap queries, by interface."},
	[VFMIG_H_PRECOPY_INFO] = {"vfmig_precopy_info_duration_seconds", "PRE_COPY size queries."},
	[VFMIG_H_MAP] = {"vfmig_dma_map_duration_seconds",
			 "DMA map and unmap requests, by interface."},
	[VFMIG_H_TRACKING] = {"vfmig_dirty_tracking_switch_duration_seconds",
			      "Dirty tracking starts and stops, by interface."},
};

#define NFAMILIES (sizeof(families) / sizeof(families[0]))

static int by_kind(const void *a, const void *b)
{
	const struct agg_hist *x = a, *y = b;

	if (x->key.kind != y->key.kind)
		return x->key.kind < y->key.kind ? -1 : 1;
	if (x->key.dev != y->key.dev)
		return x->key.dev < y->key.dev ? -1 : 1;
	return memcmp(&x->key, &y->key, sizeof(x->key));
}

const char *export_state_name(unsigned int state)
{
	return state == VFMIG_STATE_UNKNOWN ? "unknown" : vfio_state_name(state);
}

const char *export_iface_name(unsigned int iface)
{
	static const char *const names[VFMIG_IFACE_NR] = {"qemu", "type1", "dma-log", "iommufd",
							  "kvm"};

	return iface < VFMIG_IFACE_NR ? names[iface] : "?";
}

/* The labels of one histogram: device, vm, and what its kind keys on; result last. */
static void hist_labels(struct exporter *x, const struct vfmig_hist_key *k, const char **kv,
			char *vm, size_t vmlen, char *arc, size_t arclen, char *result,
			size_t reslen)
{
	const struct export_named *n = export_owner(x, k->dev);
	int i = 4;

	kv[0] = "device";
	kv[1] = n ? n->o.name : "?";
	kv[2] = "vm";
	kv[3] = export_vm_name(x, agg_dev_pid(k->dev), vm, vmlen);
	switch (k->kind) {
	case VFMIG_H_STATE_SET:
	case VFMIG_H_FSM_STEP:
		snprintf(arc, arclen, "%s->%s", export_state_name(k->from),
			 export_state_name(k->to));
		kv[i++] = "arc";
		kv[i++] = arc;
		break;
	case VFMIG_H_BITMAP:
		kv[i++] = "interface";
		kv[i++] = export_iface_name(k->from);
		break;
	case VFMIG_H_MAP:
		kv[i++] = "op";
		kv[i++] = k->from ? "unmap" : "map";
		kv[i++] = "interface";
		kv[i++] = export_iface_name(k->to);
		break;
	case VFMIG_H_TRACKING:
		kv[i++] = "op";
		kv[i++] = k->to ? "start" : "stop";
		kv[i++] = "interface";
		kv[i++] = export_iface_name(k->from);
		break;
	}
	snprintf(result, reslen, "%d", k->result);
	kv[i++] = "result";
	kv[i++] = k->result ? result : "ok";
	kv[i] = NULL;
}

void export_hists_prom(struct exporter *x, FILE *f)
{
	char vm[VFMIG_VM_NAME_LEN + 16], arc[48], result[16];
	const char *kv[14];
	int i, kind = -1;

	qsort(x->hists, x->nhists, sizeof(*x->hists), by_kind);
	for (i = 0; i < x->nhists; i++) {
		const struct agg_hist *h = &x->hists[i];

		if (h->key.kind >= NFAMILIES || !families[h->key.kind].name)
			continue;
		if (h->key.kind != kind) {
			kind = h->key.kind;
			prom_family(f, families[kind].name, "histogram", families[kind].help);
		}
		hist_labels(x, &h->key, kv, vm, sizeof(vm), arc, sizeof(arc), result,
			    sizeof(result));
		prom_hist(f, families[kind].name, &h->h, kv);
	}
}

/* A device's state as a state set: 1 for the state it is in, 0 for the others. */
static void device_state(struct exporter *x, FILE *f, uint64_t dev, const char **kv)
{
	struct vfmig_dev_state st;
	unsigned int s;

	if (agg_dev_state(x->p, dev, &st))
		return;
	for (s = 0; s < VFIO_NR_MIG_STATES; s++) {
		kv[4] = "state";
		kv[5] = vfio_state_name(s);
		kv[6] = NULL;
		prom_sample_kv(f, "vfmig_device_state", st.state == s, kv);
	}
}

/* Devices with the given field: one family per field, so that each family's samples stay together. */
enum dev_field { DEV_INFO, DEV_STATE, DEV_PRE_INITIAL, DEV_PRE_DIRTY };

static void device_field(struct exporter *x, FILE *f, uint64_t dev, enum dev_field field)
{
	const struct export_named *n = export_owner(x, dev);
	char vm[VFMIG_VM_NAME_LEN + 16], pid[16];
	struct vfmig_dev_state st;
	const char *kv[14] = {"device", n ? n->o.name : "?", "vm", vm, NULL};

	export_vm_name(x, agg_dev_pid(dev), vm, sizeof(vm));
	if (field == DEV_STATE)
		return device_state(x, f, dev, kv);
	if (field == DEV_INFO) {
		snprintf(pid, sizeof(pid), "%u", agg_dev_pid(dev));
		kv[4] = "pid";
		kv[5] = pid;
		kv[6] = "process";
		kv[7] = n ? n->o.comm : "";
		kv[8] = "variant";
		kv[9] = n ? n->o.variant : "";
		kv[10] = "named_from";
		kv[11] = n && n->o.from ? n->o.from : "";
		kv[12] = NULL;
		return prom_sample_kv(f, "vfmig_device_info", 1, kv);
	}
	if (agg_dev_state(x->p, dev, &st))
		return;
	prom_sample_kv(f,
		       field == DEV_PRE_INITIAL ? "vfmig_device_precopy_initial_bytes"
						: "vfmig_device_precopy_dirty_bytes",
		       (double)(field == DEV_PRE_INITIAL ? st.precopy_initial : st.precopy_dirty),
		       kv);
}

void export_devices_prom(struct exporter *x, FILE *f)
{
	static const struct {
		const char *name, *help;
	} fam[] = {
		[DEV_INFO] = {"vfmig_device_info", "A device the probes know of, and its owner."},
		[DEV_STATE] = {"vfmig_device_state",
			       "The migration state the device is in (1), as the probes last saw."},
		[DEV_PRE_INITIAL] = {"vfmig_device_precopy_initial_bytes",
				     "PRE_COPY initial bytes at the last size query."},
		[DEV_PRE_DIRTY] = {"vfmig_device_precopy_dirty_bytes",
				   "PRE_COPY dirty bytes at the last size query."},
	};
	unsigned int field;
	int i;

	if (!x->ndevs)
		return;
	for (field = DEV_INFO; field <= DEV_PRE_DIRTY; field++) {
		prom_family(f, fam[field].name, "gauge", fam[field].help);
		for (i = 0; i < x->ndevs; i++)
			device_field(x, f, x->devs[i], field);
	}
}
