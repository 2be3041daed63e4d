// SPDX-License-Identifier: GPL-2.0
/*
 * The model's live verdict per VM, at the link asked for: whether it would
 * converge, its predicted downtime and time, and the least bandwidth that
 * would make it converge. The same inputs as vfmigprof predict (user/live).
 */
#include <string.h>

#include "export/export_priv.h"
#include "probe/dirty_window.h"

static void predict_vm(struct exporter *x, uint32_t pid, struct export_verdict *v)
{
	static struct live_measure m;
	static struct model_inputs in;
	static struct model_tuning t;
	char err[160];

	memset(v, 0, sizeof(*v));
	v->pid = pid;
	memset(&m, 0, sizeof(m));
	m.pid = pid;
	m.window_s = x->t;
	live_devices(x->p, pid, &m);
	if (live_inputs(x->dw, &m, &x->link, &in, err, sizeof(err)) || model_predict(&in, &v->r))
		return;
	model_tune(&in, &t);
	v->needed_bps = t.bandwidth_bps;
	v->ok = true;
}

void exporter_predict(struct exporter *x)
{
	int i;

	x->nverdicts = 0;
	if (!x->dw)
		return;
	for (i = 0; i < x->view->nvms; i++) {
		uint32_t pid = (uint32_t)x->view->vms[i].key;

		if (!dirty_windows_count(x->dw, pid))
			continue;
		predict_vm(x, pid, &x->verdicts[x->nverdicts]);
		if (x->verdicts[x->nverdicts].ok)
			x->nverdicts++;
	}
}

struct verdict_family {
	const char *name, *type, *help;
	double (*value)(const struct export_verdict *v);
};

static double converges(const struct export_verdict *v)
{
	return v->r.converged && !v->r.forced;
}

static double downtime(const struct export_verdict *v)
{
	return v->r.downtime_s;
}

static double total(const struct export_verdict *v)
{
	return v->r.total_s;
}

static double rounds(const struct export_verdict *v)
{
	return v->r.nrounds;
}

static double needed(const struct export_verdict *v)
{
	return v->needed_bps;
}

static const struct verdict_family verdicts[] = {
	{"vfmig_vm_predicted_converges", "gauge",
	 "1 when the model predicts the VM's migration converges at the link asked for.",
	 converges},
	{"vfmig_vm_predicted_downtime_seconds", "gauge", "The model's predicted downtime.",
	 downtime},
	{"vfmig_vm_predicted_migration_seconds", "gauge",
	 "The model's predicted migration time, start to resume.", total},
	{"vfmig_vm_predicted_rounds", "gauge", "The model's predicted pre-copy rounds.", rounds},
	{"vfmig_vm_needed_bandwidth_bytes_per_second", "gauge",
	 "The least bandwidth cap the model predicts converges (0: none found).", needed},
};

void export_verdicts_prom(struct exporter *x, FILE *f)
{
	char vm[VFMIG_VM_NAME_LEN + 16], pid[16];
	size_t k;
	int i;

	prom_family(f, "vfmig_model_bandwidth_bytes_per_second", "gauge",
		    "The bandwidth cap the verdicts are predicted at (0: none).");
	prom_sample(f, "vfmig_model_bandwidth_bytes_per_second",
		    x->link.cap_bps > 0 ? x->link.cap_bps : 0, PROM_END);
	prom_family(f, "vfmig_model_downtime_limit_seconds", "gauge",
		    "The downtime limit the verdicts are predicted at.");
	prom_sample(f, "vfmig_model_downtime_limit_seconds",
		    x->link.downtime_s >= 0 ? x->link.downtime_s : 0.3, PROM_END);
	if (!x->nverdicts)
		return;
	for (k = 0; k < sizeof(verdicts) / sizeof(verdicts[0]); k++) {
		prom_family(f, verdicts[k].name, verdicts[k].type, verdicts[k].help);
		for (i = 0; i < x->nverdicts; i++) {
			const struct export_verdict *v = &x->verdicts[i];

			snprintf(pid, sizeof(pid), "%u", v->pid);
			prom_sample(f, verdicts[k].name, verdicts[k].value(v), "vm",
				    export_vm_name(x, v->pid, vm, sizeof(vm)), "pid", pid,
				    PROM_END);
		}
	}
}
