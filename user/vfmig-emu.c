// SPDX-License-Identifier: GPL-2.0
/* vfmig-emu: drive the emulated VFIO migration device. Argument parsing and wiring only. */
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

#define EXIT_USAGE 2

static const char usage_text[] =
	"Usage: vfmig-emu COMMAND [OPTIONS]\n"
	"Drive vfmig's emulated VFIO migration device (uAPI v2 and v1).\n"
	"\n"
	"Commands:\n"
	"  fsm FROM TO        drive a fresh device from RUNNING to FROM, make one FROM -> TO\n"
	"                     request and print the states it passes through, or the errno\n"
	"  save -o FILE       run the device, save it (pre-copy rounds if it has PRE_COPY, then\n"
	"                     stop-copy) into FILE and print the rounds and the state digest\n"
	"  resume -i FILE     resume a fresh device from FILE, print its state digest\n"
	"  migrate            run a VM (guest RAM, vCPU writers, devices) and migrate it live\n"
	"                     --to local (a destination process forked here, the default),\n"
	"                     unix:PATH, tcp:HOST:PORT or file:PATH\n"
	"  incoming --from EP  be the destination: unix:PATH, tcp:[HOST:]PORT or file:PATH\n"
	"  run --time SEC     run a VM and its workload for SEC seconds (to be profiled),\n"
	"                     harvesting its dirty pages every --harvest-ms MS as pre-copy\n"
	"                     would (default 100; 0: no dirty tracking)\n"
	"  predict            predict the migration migrate would run with the same options:\n"
	"                     rounds, total time, bytes, downtime and its parts, with a range\n"
	"                     (--json: migrate's keys, and the two baselines)\n"
	"  tune               what would make that migration converge: the smallest bandwidth\n"
	"                     and downtime limit, the vCPU and device rate throttles\n"
	"\n"
	"VM options (migrate, run):\n"
	"  --mem SIZE             guest RAM (default 256m)\n"
	"  --vcpus N              vCPU writer threads (default 1; 0: none)\n"
	"  --rate N               vCPU page writes per second, all together (default 20000)\n"
	"  --wss SIZE             working set, from guest address 0 (default 64m)\n"
	"  --pattern P            uniform, hotcold or sweep (default uniform)\n"
	"  --hot-fraction F       hotcold: share of the working set that is hot (0.1)\n"
	"  --hot-share F          hotcold: share of the writes it gets (0.9)\n"
	"  --seed N               workload seed (1)\n"
	"  --device SPEC          VARIANT[:opt=val,...], repeatable; opts dirty=none|type1-pin|\n"
	"                         type1-rw|type1-iommu|dma-log|iommufd, rate=UNITS/s,\n"
	"                         features=stop-copy+p2p+pre-copy, and the variant's own\n"
	"                         (default: nic:dirty=type1-pin,rate=20000 and\n"
	"                         bigmem:mem=32m,rate=100)\n"
	"Migration options:\n"
	"  --bandwidth MB/s       cap (default 1000; 0: none)\n"
	"  --downtime MS          downtime limit (default 300)\n"
	"  -r, --rounds N         pre-copy round cap (default 30; save: 8)\n"
	"\n"
	"Device options (fsm, save, resume):\n"
	"  -m, --variant NAME     device variant: nic, bigmem (default bigmem; --model is\n"
	"                         the old name)\n"
	"  -P, --params LIST      variant options, e.g. mem=64m,block=64k,seed=1\n"
	"  -f, --features LIST    of stop-copy, p2p, pre-copy (default: the variant's all)\n"
	"  -w, --work N           device work units run before saving (default 10000)\n"
	"  -W, --work-per-mib N   device work units per MiB read in pre-copy (default 4)\n"
	"  -r, --rounds N         at most N pre-copy rounds (default 8)\n"
	"  -e, --expect HEX       resume: fail unless the resumed digest is HEX\n"
	"  -j, --json             machine-readable output\n"
	"  --name NAME            the VM's name, as vfmigprof shows it (default vm-PID)\n"
	"  -h, --help             this text\n"
	"\n"
	"Examples:\n"
	"  vfmig-emu fsm --features stop-copy,p2p,pre-copy PRE_COPY RESUMING\n"
	"  vfmig-emu save -m bigmem -P mem=256m -o /tmp/dev.vfmig && vfmig-emu resume -m bigmem "
	"-P mem=256m -i /tmp/dev.vfmig\n";

struct opts {
	const char *cmd, *variant, *params, *file, *expect, *to, *from, *die_at;
	uint32_t features;
	uint64_t work, work_per_mib, rounds, bandwidth, downtime_ms, time_s, harvest_ms;
	bool json, rounds_set, drop_page;
	struct vm_cfg vm;
	char *const *args;
	int nargs;
};

enum {
	OPT_MEM = 256,
	OPT_VCPUS,
	OPT_RATE,
	OPT_WSS,
	OPT_PATTERN,
	OPT_HOTF,
	OPT_HOTS,
	OPT_SEED,
	OPT_DEVICE,
	OPT_TO,
	OPT_FROM,
	OPT_BW,
	OPT_DOWNTIME,
	OPT_TIME,
	OPT_DROP,
	OPT_DIE,
	OPT_NAME,
	OPT_HARVEST,
};

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "vfmig-emu: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (see vfmig-emu --help)\n");
	return EXIT_USAGE;
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 0);
	return (errno || !*s || *end || *s == '-') ? -1 : 0;
}

static int parse_size(const char *s, uint64_t *out)
{
	char buf[48];

	snprintf(buf, sizeof(buf), "v=%s", s);
	return emu_param_u64(buf, "v", 0, out);
}

static int parse_frac(const char *s, double *out)
{
	char *end;

	*out = strtod(s, &end);
	return (!*s || *end || *out < 0 || *out > 1) ? -1 : 0;
}

static void vm_defaults(struct vm_cfg *c)
{
	char err[128];

	memset(c, 0, sizeof(*c));
	c->mem_size = 256 << 20;
	c->wl = (struct workload_cfg){.threads = 1,
				      .rate = 20000,
				      .ws_pages = (64 << 20) / 4096,
				      .pattern = WORKLOAD_UNIFORM,
				      .hot_fraction = 0.1,
				      .hot_share = 0.9,
				      .seed = 1};
	vm_dev_spec_parse("nic:dirty=type1-pin,rate=20000", &c->devs[0], err, sizeof(err));
	vm_dev_spec_parse("bigmem:mem=32m,rate=100", &c->devs[1], err, sizeof(err));
	c->ndevs = 2;
}

/* The VM and migration options; --device replaces the default device list. */
static int vm_opt(struct opts *o, int c, const char *arg)
{
	static bool own_devices;
	struct vm_cfg *v = &o->vm;
	uint64_t n = 0;
	char err[160];
	bool bad = false;

	if (c != OPT_PATTERN && c != OPT_HOTF && c != OPT_HOTS && c != OPT_DEVICE && c != OPT_TO &&
	    c != OPT_FROM && c != OPT_DROP && c != OPT_DIE)
		bad = parse_size(arg, &n) != 0;
	switch (c) {
	case OPT_MEM:
		v->mem_size = n;
		bad |= !n;
		break;
	case OPT_VCPUS:
		v->wl.threads = n;
		bad |= n > WORKLOAD_MAX_THREADS;
		break;
	case OPT_RATE:
		v->wl.rate = n;
		break;
	case OPT_WSS:
		v->wl.ws_pages = n / 4096;
		bad |= n < 4096;
		break;
	case OPT_SEED:
		v->wl.seed = n;
		break;
	case OPT_BW:
		o->bandwidth = n;
		break;
	case OPT_DOWNTIME:
		o->downtime_ms = n;
		break;
	case OPT_TIME:
		o->time_s = n;
		break;
	case OPT_HARVEST:
		o->harvest_ms = n;
		break;
	case OPT_TO:
		o->to = arg;
		break;
	case OPT_FROM:
		o->from = arg;
		break;
	case OPT_DROP:
		o->drop_page = true;
		break;
	case OPT_DIE:
		o->die_at = arg;
		break;
	case OPT_PATTERN:
		bad = workload_pattern_parse(arg, &v->wl.pattern) != 0;
		break;
	case OPT_HOTF:
		bad = parse_frac(arg, &v->wl.hot_fraction) != 0;
		break;
	case OPT_HOTS:
		bad = parse_frac(arg, &v->wl.hot_share) != 0;
		break;
	case OPT_DEVICE:
		if (!own_devices)
			v->ndevs = 0;
		own_devices = true;
		if (v->ndevs == VM_MAX_DEVICES)
			return usage_error("at most 4 devices%s", "");
		if (vm_dev_spec_parse(arg, &v->devs[v->ndevs], err, sizeof(err)))
			return usage_error("--device: %s", err);
		v->ndevs++;
		break;
	}
	if (bad)
		return usage_error("bad value '%s' for a VM or migration option", arg);
	return 0;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{"variant", required_argument, NULL, 'm'},
		{"model", required_argument, NULL, 'm'},
		{"params", required_argument, NULL, 'P'},
		{"features", required_argument, NULL, 'f'},
		{"work", required_argument, NULL, 'w'},
		{"work-per-mib", required_argument, NULL, 'W'},
		{"rounds", required_argument, NULL, 'r'},
		{"output", required_argument, NULL, 'o'},
		{"input", required_argument, NULL, 'i'},
		{"expect", required_argument, NULL, 'e'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{"mem", required_argument, NULL, OPT_MEM},
		{"vcpus", required_argument, NULL, OPT_VCPUS},
		{"rate", required_argument, NULL, OPT_RATE},
		{"wss", required_argument, NULL, OPT_WSS},
		{"pattern", required_argument, NULL, OPT_PATTERN},
		{"hot-fraction", required_argument, NULL, OPT_HOTF},
		{"hot-share", required_argument, NULL, OPT_HOTS},
		{"seed", required_argument, NULL, OPT_SEED},
		{"device", required_argument, NULL, OPT_DEVICE},
		{"to", required_argument, NULL, OPT_TO},
		{"from", required_argument, NULL, OPT_FROM},
		{"bandwidth", required_argument, NULL, OPT_BW},
		{"downtime", required_argument, NULL, OPT_DOWNTIME},
		{"time", required_argument, NULL, OPT_TIME},
		{"drop-page", no_argument, NULL, OPT_DROP},
		{"die-at", required_argument, NULL, OPT_DIE},
		{"name", required_argument, NULL, OPT_NAME},
		{"harvest-ms", required_argument, NULL, OPT_HARVEST},
		{NULL, 0, NULL, 0},
	};
	int c;

	*o = (struct opts){.variant = "bigmem",
			   .params = "",
			   .work = 10000,
			   .work_per_mib = 4,
			   .rounds = 8,
			   .to = "local",
			   .bandwidth = 1000,
			   .downtime_ms = 300,
			   .time_s = 5,
			   .harvest_ms = 100};
	vm_defaults(&o->vm);
	while ((c = getopt_long(argc, argv, "m:P:f:w:W:r:o:i:e:jh", longopts, NULL)) != -1) {
		if (c == OPT_NAME) {
			if (emu_set_vm_name(optarg))
				return usage_error("--name '%s': 1 to 63 characters", optarg);
			continue;
		}
		if (c >= OPT_MEM) {
			int ret = vm_opt(o, c, optarg);

			if (ret)
				return ret;
			continue;
		}
		switch (c) {
		case 'm':
			o->variant = optarg;
			break;
		case 'P':
			o->params = optarg;
			break;
		case 'o':
		case 'i':
			o->file = optarg;
			break;
		case 'e':
			o->expect = optarg;
			break;
		case 'j':
			o->json = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			exit(0);
		case 'f':
			if (emu_flags_parse(optarg, &o->features))
				return usage_error("--features '%s': use stop-copy, p2p, pre-copy",
						   optarg);
			break;
		case 'w':
			if (parse_u64(optarg, &o->work))
				return usage_error("--work '%s' is not a number", optarg);
			break;
		case 'W':
			if (parse_u64(optarg, &o->work_per_mib))
				return usage_error("--work-per-mib '%s' is not a number", optarg);
			break;
		case 'r':
			if (parse_u64(optarg, &o->rounds) || !o->rounds)
				return usage_error("--rounds '%s' is not a positive number",
						   optarg);
			o->rounds_set = true;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind >= argc)
		return usage_error("%sno command given", "");
	o->cmd = argv[optind];
	o->args = argv + optind + 1;
	o->nargs = argc - optind - 1;
	return 0;
}

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

static int cmd_fsm(struct opts *o)
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

static int cmd_save(struct opts *o)
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

static int cmd_resume(struct opts *o)
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

static enum mig_die parse_die(const char *s)
{
	static const char *const names[] = {"never", "hello", "precopy", "switchover", "end"};
	size_t i;

	for (i = 0; s && i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(s, names[i]))
			return i;
	}
	return MIG_DIE_NEVER;
}

static int run_destination(int fd, bool from_file, const struct opts *o, bool quiet)
{
	struct mig_dest_report rep;
	struct vm *vm;
	int ret;

	ret = mig_destination(fd, from_file, parse_die(o->die_at), &vm, &rep);
	close(fd);
	if (ret) {
		fprintf(stderr, "vfmig-emu: destination: %s\n", rep.error);
		return 1;
	}
	if (!quiet && o->json)
		mig_dest_json(stdout, &rep);
	else if (!quiet)
		printf("destination: received %llu pages and %llu device bytes; loaded and RUNNING in "
		       "%.2f ms; state %s the source's at stop\n",
		       (unsigned long long)rep.pages, (unsigned long long)rep.dev_bytes,
		       rep.load_ns / 1e6, rep.verified ? "equals" : "DIFFERS FROM");
	if (o->from && o->time_s)
		sleep(o->time_s);
	vm_destroy(vm);
	return rep.verified ? 0 : 1;
}

static int open_target(struct opts *o, pid_t *child, bool *to_file)
{
	enum endpoint_kind kind;
	const char *rest;
	char err[256];
	int sv[2], fd;

	*child = -1;
	*to_file = false;
	if (strcmp(o->to, "local")) {
		fd = endpoint_connect(o->to, err, sizeof(err));
		if (fd < 0)
			fprintf(stderr, "vfmig-emu: %s\n", err);
		*to_file = !endpoint_kind(o->to, &kind, &rest) && kind == EP_FILE;
		return fd;
	}
	/* Fork before any thread exists: the destination is a process of its own. */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
		fprintf(stderr, "vfmig-emu: socketpair: %s\n", strerror(errno));
		return -1;
	}
	*child = fork();
	if (*child == 0) {
		close(sv[0]);
		exit(run_destination(sv[1], false, o, true));
	}
	close(sv[1]);
	return sv[0];
}

static void print_workload(const struct opts *o, struct vm *vm)
{
	struct workload_stats st = {0};

	if (!vm->wl)
		return;
	workload_stats(vm->wl, &st);
	fprintf(o->json ? stderr : stdout,
		"workload: %u vCPU writer(s), %.0f page writes/s asked, %.0f achieved\n",
		vm->cfg.wl.threads, st.rate_asked, st.rate_achieved);
}

static int cmd_migrate(struct opts *o)
{
	struct mig_opts mo = {.bandwidth = o->bandwidth * 1000000,
			      .downtime_ns = o->downtime_ms * 1000000,
			      .max_rounds = o->rounds_set ? o->rounds : 30,
			      .drop_one_page = o->drop_page};
	struct mig_summary *rep = calloc(1, sizeof(*rep));
	int fd, ret, status = 0;
	char err[256];
	struct vm *vm;
	pid_t child;

	signal(SIGPIPE, SIG_IGN);
	fd = rep ? open_target(o, &child, &mo.to_file) : -1;
	if (fd < 0) {
		free(rep);
		return 1;
	}
	vm = vm_create(&o->vm, err, sizeof(err));
	if (!vm || vm_start(vm)) {
		fprintf(stderr, "vfmig-emu: %s\n", vm ? vm->err : err);
		if (child > 0) { /* the local destination has nothing to wait for */
			kill(child, SIGKILL);
			waitpid(child, NULL, 0);
		}
		close(fd);
		vm_destroy(vm);
		free(rep);
		return 1;
	}
	usleep(200000); /* the workload settles into its rate first */
	ret = mig_source(vm, fd, &mo, rep);
	close(fd);
	if (child > 0)
		waitpid(child, &status, 0);
	if (o->json)
		mig_summary_json(stdout, vm, rep);
	else
		mig_summary_text(stdout, vm, rep);
	print_workload(o, vm);
	if (ret)
		fprintf(stderr, "vfmig-emu: migration failed: %s\n", rep->error);
	vm_destroy(vm);
	free(rep);
	return ret || !rep || (child > 0 && status) ? 1 : 0;
}

static int cmd_incoming(struct opts *o)
{
	enum endpoint_kind kind;
	const char *rest;
	char err[256];
	int fd;

	if (!o->from)
		return usage_error("incoming needs --from unix:PATH|tcp:[HOST:]PORT|file:PATH%s",
				   "");
	signal(SIGPIPE, SIG_IGN);
	fd = endpoint_accept(o->from, err, sizeof(err));
	if (fd < 0) {
		fprintf(stderr, "vfmig-emu: %s\n", err);
		return 1;
	}
	return run_destination(fd, !endpoint_kind(o->from, &kind, &rest) && kind == EP_FILE, o,
			       false);
}

static int prediction_inputs(const struct opts *o, struct model_inputs *in)
{
	return predict_migration(&o->vm, o->bandwidth * 1e6, o->downtime_ms / 1e3,
				 o->rounds_set ? o->rounds : 30, in);
}

static int cmd_predict(struct opts *o)
{
	static struct model_inputs in;
	static struct model_result r, lo, hi;

	if (prediction_inputs(o, &in) || model_predict(&in, &r)) {
		fprintf(stderr, "vfmig-emu: cannot predict: %s\n", r.why);
		return 1;
	}
	model_range(&in, &lo, &hi);
	if (o->json)
		model_print_json(stdout, &in, &r, &lo, &hi, true);
	else
		model_print_text(stdout, &in, &r, &lo, &hi);
	return 0;
}

static int cmd_tune(struct opts *o)
{
	static struct model_inputs in;
	static struct model_tuning t;

	if (prediction_inputs(o, &in))
		return 1;
	model_tune(&in, &t);
	model_print_tuning(stdout, &in, &t, o->json);
	return 0;
}

static int cmd_run(struct opts *o)
{
	char err[256];
	struct vm *vm = vm_create(&o->vm, err, sizeof(err));
	struct vm_measure m = {0};
	int ret = 0;

	if (!vm || vm_start(vm)) {
		fprintf(stderr, "vfmig-emu: %s\n", vm ? vm->err : err);
		vm_destroy(vm);
		return 1;
	}
	fprintf(o->json ? stderr : stdout,
		"running: pid %d, %llu MiB guest RAM, %u device(s), for %llu s, harvest every "
		"%llu ms\n",
		getpid(), (unsigned long long)(o->vm.mem_size >> 20), o->vm.ndevs,
		(unsigned long long)o->time_s, (unsigned long long)o->harvest_ms);
	fflush(o->json ? stderr : stdout);
	if (o->harvest_ms)
		ret = vm_measure(vm, o->harvest_ms * 1000000, o->time_s * 1000000000, &m);
	else
		sleep(o->time_s);
	vm_pause(vm);
	if (o->json && o->harvest_ms)
		vm_measure_json(stdout, vm, &m);
	else if (o->harvest_ms)
		vm_measure_text(stdout, vm, &m);
	print_workload(o, vm);
	if (ret)
		fprintf(stderr, "vfmig-emu: run: %s\n", m.error);
	vm_measure_free(&m);
	vm_destroy(vm);
	return ret ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct opts o;
	int ret = parse_opts(argc, argv, &o);

	if (ret)
		return ret;
	if (!strcmp(o.cmd, "fsm"))
		return cmd_fsm(&o);
	if (!strcmp(o.cmd, "save"))
		return cmd_save(&o);
	if (!strcmp(o.cmd, "resume"))
		return cmd_resume(&o);
	if (!strcmp(o.cmd, "migrate"))
		return cmd_migrate(&o);
	if (!strcmp(o.cmd, "incoming"))
		return cmd_incoming(&o);
	if (!strcmp(o.cmd, "run"))
		return cmd_run(&o);
	if (!strcmp(o.cmd, "predict"))
		return cmd_predict(&o);
	if (!strcmp(o.cmd, "tune"))
		return cmd_tune(&o);
	return usage_error("unknown command '%s'", o.cmd);
}
