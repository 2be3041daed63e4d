// SPDX-License-Identifier: GPL-2.0
/* vfmig-emu's commands on one device: fsm, save, resume. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "device/device.h"
#include "migration/endpoint.h"
#include "migration/measure.h"
#include "migration/migrate.h"
#include "migration/predict.h"
#include "device/variant.h"
#include "vfmig/version.h"
#include "migration/summary.h"
#include "device/xfer.h"
#include "vfmig-emu/emu.h"

static struct emu_dev *make_dev(const struct opts *o, const char *variant, const char *params)
{
	struct emu_dev_cfg cfg = {.variant = variant, .params = params, .mig_flags = o->features};
	struct emu_dev *dev = emu_dev_create(&cfg);

	if (!dev)
		fprintf(stderr, "vfmig-emu: %s\n", emu_last_error());
	return dev;
}

/* Walks a fresh device to FROM; ERROR is reached by failing an arc and its way back. */
static int reach(struct emu_dev *dev, enum vfio_device_mig_state from)
{
	if (from == VFIO_DEVICE_STATE_ERROR) {
		emu_dev_inject_arc_failure(dev, 2, EIO, 2);
		emu_set_state(dev, VFIO_DEVICE_STATE_STOP_COPY, NULL);
		return 0;
	}
	return emu_set_state(dev, from, NULL);
}

static void print_path(const struct opts *o, enum vfio_device_mig_state from,
		       enum vfio_device_mig_state to, const struct emu_step *steps, size_t n,
		       int err, enum vfio_device_mig_state now)
{
	const char *sep = "";
	size_t i;

	if (o->json) {
		printf("{\"version\":\"" VFMIG_VERSION
		       "\",\"from\":\"%s\",\"to\":\"%s\",\"features\":%u,\"result\":%d,\"errno\":\"%s\","
		       "\"path\":[\"%s\"",
		       vfio_state_name(from), vfio_state_name(to), o->features, err ? -1 : 0,
		       err ? strerrorname_np(err) : "", vfio_state_name(from));
		for (i = 0; i < n; i++)
			printf(",\"%s\"", vfio_state_name(steps[i].to));
		printf("],\"state\":\"%s\"}\n", vfio_state_name(now));
		return;
	}
	printf("%s", vfio_state_name(from));
	for (i = 0; i < n; i++, sep = "")
		printf("%s -> %s%s", sep, vfio_state_name(steps[i].to),
		       steps[i].result ? " (failed)" : "");
	if (err)
		printf("\nerror: %s (%s), device left in %s\n", strerrorname_np(err), strerror(err),
		       vfio_state_name(now));
	else
		printf("\n");
}

int cmd_fsm(struct opts *o)
{
	enum vfio_device_mig_state from, to, now = VFIO_DEVICE_STATE_ERROR;
	struct emu_step steps[32];
	struct emu_dev *dev;
	uint64_t before;
	size_t n;
	int err = 0;

	if (o->nargs != 2)
		return usage_error("fsm takes FROM and TO%s", "");
	if (vfio_state_parse(o->args[0], &from))
		return usage_error("'%s' is not a migration state", o->args[0]);
	if (vfio_state_parse(o->args[1], &to))
		return usage_error("'%s' is not a migration state", o->args[1]);
	dev = make_dev(o, "bigmem", "mem=64k,block=4k");
	if (!dev)
		return 1;
	o->features = emu_dev_mig_flags(dev);
	if (reach(dev, from) || emu_get_state(dev, &now) || now != from) {
		fprintf(stderr, "vfmig-emu: cannot reach %s with these features: %s\n",
			vfio_state_name(from), emu_dev_strerror(dev));
		emu_dev_destroy(dev);
		return 1;
	}
	before = emu_dev_steps_total(dev);
	if (emu_set_state(dev, to, NULL))
		err = errno;
	emu_get_state(dev, &now);
	n = emu_dev_steps_total(dev) - before;
	n = emu_dev_steps(dev, steps, n < 32 ? n : 32);
	print_path(o, from, to, steps, n, err, now);
	emu_dev_destroy(dev);
	return err ? 1 : 0;
}

static void print_save(const struct opts *o, const struct emu_save_report *r)
{
	unsigned int i;

	if (o->json) {
		printf("{\"version\":\"" VFMIG_VERSION "\",\"rounds\":[");
		for (i = 0; i < r->nrounds; i++)
			printf("%s{\"initial\":%llu,\"dirty\":%llu,\"bytes\":%llu,\"ns\":%llu}",
			       i ? "," : "", (unsigned long long)r->rounds[i].initial,
			       (unsigned long long)r->rounds[i].dirty,
			       (unsigned long long)r->rounds[i].bytes,
			       (unsigned long long)r->rounds[i].ns);
		printf("],\"data_size\":%llu,\"stop_copy_bytes\":%llu,\"total_bytes\":%llu,"
		       "\"stop_copy_ns\":%llu,\"digest\":\"%016llx\"}\n",
		       (unsigned long long)r->data_size_before,
		       (unsigned long long)r->stop_copy_bytes, (unsigned long long)r->total_bytes,
		       (unsigned long long)r->stop_copy_ns, (unsigned long long)r->digest);
		return;
	}
	if (r->nrounds)
		printf("%-6s %14s %14s %14s %10s\n", "round", "initial_bytes", "dirty_bytes",
		       "sent_bytes", "ms");
	for (i = 0; i < r->nrounds; i++)
		printf("%-6u %14llu %14llu %14llu %10.2f\n", i + 1,
		       (unsigned long long)r->rounds[i].initial,
		       (unsigned long long)r->rounds[i].dirty,
		       (unsigned long long)r->rounds[i].bytes, r->rounds[i].ns / 1e6);
	printf("stop-copy: MIG_DATA_SIZE said %llu bytes, sent %llu bytes in %.2f ms\n",
	       (unsigned long long)r->data_size_before, (unsigned long long)r->stop_copy_bytes,
	       r->stop_copy_ns / 1e6);
	printf("total %llu bytes; device state digest at stop: %016llx\n",
	       (unsigned long long)r->total_bytes, (unsigned long long)r->digest);
}

int cmd_save(struct opts *o)
{
	struct emu_save_opts so = {.max_rounds = o->rounds,
				   .dirty_limit = 0,
				   .work_per_mib = o->work_per_mib,
				   .chunk = 1 << 20};
	struct emu_save_report rep;
	struct emu_dev *dev;
	int fd, ret;

	if (!o->file)
		return usage_error("save needs -o FILE%s", "");
	dev = make_dev(o, o->variant, o->params);
	if (!dev)
		return 1;
	fd = open(o->file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		fprintf(stderr, "vfmig-emu: cannot create %s: %s\n", o->file, strerror(errno));
		emu_dev_destroy(dev);
		return 1;
	}
	emu_dev_run(dev, o->work);
	ret = emu_save_stream(dev, fd, &so, &rep);
	if (!ret && fsync(fd) && errno != EINVAL)
		ret = -errno;
	close(fd);
	if (ret)
		fprintf(stderr, "vfmig-emu: save failed: %s\n", emu_dev_strerror(dev));
	else
		print_save(o, &rep);
	emu_dev_destroy(dev);
	return ret ? 1 : 0;
}

int cmd_resume(struct opts *o)
{
	uint64_t bytes, digest;
	struct emu_dev *dev;
	int fd, ret;

	if (!o->file)
		return usage_error("resume needs -i FILE%s", "");
	dev = make_dev(o, o->variant, o->params);
	if (!dev)
		return 1;
	fd = open(o->file, O_RDONLY);
	if (fd < 0) {
		fprintf(stderr, "vfmig-emu: cannot open %s: %s\n", o->file, strerror(errno));
		emu_dev_destroy(dev);
		return 1;
	}
	ret = emu_resume_stream(dev, fd, &bytes, &digest);
	close(fd);
	if (ret) {
		fprintf(stderr, "vfmig-emu: resume from %s failed: %s\n", o->file,
			emu_dev_strerror(dev));
	} else if (o->json) {
		printf("{\"version\":\"" VFMIG_VERSION "\",\"bytes\":%llu,\"digest\":\"%016llx\","
		       "\"state\":\"RUNNING\"}\n",
		       (unsigned long long)bytes, (unsigned long long)digest);
	} else {
		printf("resumed %llu bytes; device RUNNING; state digest %016llx\n",
		       (unsigned long long)bytes, (unsigned long long)digest);
	}
	if (!ret && o->expect && strtoull(o->expect, NULL, 16) != digest) {
		fprintf(stderr, "vfmig-emu: resumed state %016llx differs from the source's %s\n",
			(unsigned long long)digest, o->expect);
		ret = -1;
	} else if (!ret && o->expect && !o->json) {
		printf("verified: resumed state equals the source's at stop\n");
	}
	emu_dev_destroy(dev);
	return ret ? 1 : 0;
}
