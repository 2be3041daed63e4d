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
#include "vfmig-emu/emu.h"

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

int usage_error(const char *fmt, const char *arg)
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
static const char *vm_opt_name(int c)
{
	static const char *const names[] = {
		[OPT_MEM - OPT_MEM] = "mem",	       [OPT_VCPUS - OPT_MEM] = "vcpus",
		[OPT_RATE - OPT_MEM] = "rate",	       [OPT_WSS - OPT_MEM] = "wss",
		[OPT_PATTERN - OPT_MEM] = "pattern",   [OPT_HOTF - OPT_MEM] = "hot-fraction",
		[OPT_HOTS - OPT_MEM] = "hot-share",    [OPT_SEED - OPT_MEM] = "seed",
		[OPT_DEVICE - OPT_MEM] = "device",     [OPT_TO - OPT_MEM] = "to",
		[OPT_FROM - OPT_MEM] = "from",	       [OPT_BW - OPT_MEM] = "bandwidth",
		[OPT_DOWNTIME - OPT_MEM] = "downtime", [OPT_TIME - OPT_MEM] = "time",
		[OPT_DROP - OPT_MEM] = "drop-page",    [OPT_DIE - OPT_MEM] = "die-at",
		[OPT_NAME - OPT_MEM] = "name",	       [OPT_HARVEST - OPT_MEM] = "harvest-ms",
	};

	return c >= OPT_MEM && c <= OPT_HARVEST ? names[c - OPT_MEM] : "?";
}

static int vm_opt(struct opts *o, int c, const char *arg)
{
	static bool own_devices;
	struct vm_cfg *v = &o->vm;
	uint64_t n = 0;
	char err[160];
	bool bad = false;

	snprintf(err, sizeof(err), "--%s '%%s': not a valid value", vm_opt_name(c));

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
		bad |= !n;
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
		return usage_error(err, arg);
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
	opterr = 0; /* our own one-line messages */
	while ((c = getopt_long(argc, argv, ":m:P:f:w:W:r:o:i:e:jh", longopts, NULL)) != -1) {
		char opt[3] = {'-', (char)optopt, 0};

		if (c == ':')
			return usage_error("option '%s' needs an argument", argv[optind - 1]);
		if (c == '?')
			return usage_error("unknown option '%s'", optopt ? opt : argv[optind - 1]);
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
	if (o->vm.wl.ws_pages * 4096 > o->vm.mem_size)
		return usage_error("%sthe working set (--wss) exceeds the guest RAM (--mem)", "");
	o->cmd = argv[optind];
	o->args = argv + optind + 1;
	o->nargs = argc - optind - 1;
	return 0;
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
