// SPDX-License-Identifier: GPL-2.0
/* The exporter: reads the probes' figures each refresh, keeps names, writes the exposition. */
#include <bpf/bpf.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "export/export_priv.h"
#include "probe/dirty_window.h"

struct exporter *exporter_new(struct vfmig_probes *p, const struct live_link *link)
{
	struct exporter *x = calloc(1, sizeof(*x));
	char err[128];

	if (!x)
		return NULL;
	x->p = p;
	x->link = *link;
	x->view = agg_view_new();
	x->hists = calloc(EXPORT_MAX_HISTS, sizeof(*x->hists));
	x->named = calloc(VFMIG_MAX_DEVICES, sizeof(*x->named));
	x->verdicts = calloc(VFMIG_MAX_PROCS, sizeof(*x->verdicts));
	x->vmnames = calloc(VFMIG_MAX_PROCS, sizeof(*x->vmnames));
	x->stats_fd = -1;
	if (!x->view || !x->hists || !x->named || !x->verdicts || !x->vmnames) {
		exporter_free(x);
		return NULL;
	}
	x->dw = dirty_windows_open(p, err, sizeof(err)); /* NULL: no verdicts, the rest stays */
	x->stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	export_progs_find(x);
	return x;
}

void exporter_free(struct exporter *x)
{
	int i, j;

	if (!x)
		return;
	for (i = 0; i < x->nprogs; i++)
		for (j = 0; j < x->progs[i].nfds; j++)
			close(x->progs[i].fds[j]);
	if (x->stats_fd >= 0)
		close(x->stats_fd);
	dirty_windows_close(x->dw);
	agg_view_free(x->view);
	free(x->hists);
	free(x->named);
	free(x->verdicts);
	free(x->vmnames);
	free(x);
}

bool exporter_bpf_stats(const struct exporter *x)
{
	return x->stats_fd >= 0;
}

static bool known(const struct dev_owner *o)
{
	return o->name[0] && strncmp(o->name, "unknown", 7);
}

static struct export_named *find_named(struct exporter *x, uint64_t dev)
{
	int i;

	for (i = 0; i < x->nnamed; i++)
		if (x->named[i].key == dev)
			return &x->named[i];
	return NULL;
}

/* A name read while the process lived is kept: /proc tells nothing once it is gone. */
static void resolve(struct exporter *x, uint64_t dev)
{
	struct export_named *n = find_named(x, dev);
	struct vfmig_dev_name seen;
	struct dev_owner now;

	if (!n) {
		if (x->nnamed == VFMIG_MAX_DEVICES)
			return;
		n = &x->named[x->nnamed++];
		n->key = dev;
		memset(&n->o, 0, sizeof(n->o));
	}
	devname_resolve(&devname_host, dev, agg_dev_seen(x->p, dev, &seen) ? NULL : &seen, &now);
	if (vfmig_dev_is_emu(dev))
		agg_vm_name(x->p, now.pid, now.domain, sizeof(now.domain));
	if ((known(&now) && (now.alive || !n->o.alive)) || !known(&n->o))
		n->o = now;
	else
		n->o.alive = now.alive;
}

const struct export_named *export_owner(struct exporter *x, uint64_t dev)
{
	if (!find_named(x, dev))
		resolve(x, dev);
	return find_named(x, dev);
}

static void vm_name(struct exporter *x, uint32_t pid, char *buf, size_t len)
{
	int i;

	if (!agg_vm_name(x->p, pid, buf, len) && buf[0])
		return;
	for (i = 0; i < x->nnamed; i++) {
		if (x->named[i].o.pid == pid && x->named[i].o.domain[0]) {
			snprintf(buf, len, "%s", x->named[i].o.domain);
			return;
		}
	}
	snprintf(buf, len, "pid-%u", pid);
}

/* Looked up once a refresh: every sample of a VM's devices carries its name. */
const char *export_vm_name(struct exporter *x, uint32_t pid, char *buf, size_t len)
{
	struct export_vm *v = NULL;
	int i;

	for (i = 0; i < x->nvmnames; i++)
		if (x->vmnames[i].pid == pid)
			v = &x->vmnames[i];
	if (!v && x->nvmnames < VFMIG_MAX_PROCS) {
		v = &x->vmnames[x->nvmnames++];
		v->pid = pid;
		vm_name(x, pid, v->name, sizeof(v->name));
	}
	if (!v)
		vm_name(x, pid, buf, len);
	else
		snprintf(buf, len, "%s", v->name);
	return buf;
}

int exporter_refresh(struct exporter *x, double t)
{
	int ret, i;

	x->t = t;
	ret = agg_step(x->p, x->view, t);
	if (ret)
		return ret;
	memcpy(x->host, x->view->host.total, sizeof(x->host));
	x->received = probes_received(x->p);
	if (x->dw)
		dirty_windows_poll(x->dw, 0);
	x->nhists = agg_hists(x->p, x->hists, EXPORT_MAX_HISTS);
	if (x->nhists < 0)
		x->nhists = 0;
	x->ndevs = agg_devices(x->p, x->devs, VFMIG_MAX_DEVICES);
	if (x->ndevs < 0)
		x->ndevs = 0;
	for (i = 0; i < x->ndevs; i++)
		resolve(x, x->devs[i]);
	x->nvmnames = 0;
	export_progs_read(x);
	return 0;
}

void exporter_prom(struct exporter *x, FILE *f)
{
	__fsetlocking(f, FSETLOCKING_BYCALLER); /* one writer: no lock per character */
	export_health_prom(x, f);
	export_counters_prom(x, f);
	export_devices_prom(x, f);
	export_hists_prom(x, f);
	export_verdicts_prom(x, f);
}
