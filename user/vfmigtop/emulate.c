// SPDX-License-Identifier: GPL-2.0
/* --emulate: vfmig-emu children, a migration loop among them (see emulate.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vfmigtop/emulate.h"

/* Device specs cycled through: a pinning NIC, a pre-copy device, two bitmap reporters. */
static const char *const specs[] = {
	"nic:dirty=type1-pin,rate=20000",
	"bigmem:mem=16m,rate=100",
	"nic:dirty=dma-log,rate=5000",
	"nic:dirty=iommufd,rate=2000",
};

int top_emu_path(char *path, size_t len)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (n <= 0)
		return -1;
	self[n] = 0;
	slash = strrchr(self, '/');
	if (!slash)
		return -1;
	*slash = 0;
	snprintf(path, len, "%s/vfmig-emu", self);
	return access(path, X_OK) ? -1 : 0;
}

static void quiet(void)
{
	int fd = open("/dev/null", O_RDWR);

	if (fd >= 0) {
		dup2(fd, 0), dup2(fd, 1), dup2(fd, 2);
		close(fd);
	}
}

static void vm_argv(const char *emu, int i, int ndevs, bool migrate, char *name, char **argv)
{
	int a = 0, d;

	argv[a++] = (char *)emu;
	argv[a++] = migrate ? "migrate" : "run";
	if (!migrate) {
		argv[a++] = "--time";
		argv[a++] = "86400";
	}
	argv[a++] = "--mem";
	argv[a++] = "64m";
	argv[a++] = "--wss";
	argv[a++] = "16m";
	argv[a++] = "--rate";
	argv[a++] = migrate ? "40000" : "5000";
	if (migrate) {
		argv[a++] = "--bandwidth";
		argv[a++] = "100";
	}
	argv[a++] = "--name";
	snprintf(name, 32, "emu-%s%d", migrate ? "migrating" : "vm", i);
	argv[a++] = name;
	for (d = 0; d < ndevs; d++) {
		argv[a++] = "--device";
		argv[a++] = (char *)specs[d];
	}
	argv[a] = NULL;
}

/* The migrating VM: migrate, pause, migrate again, until stopped. */
static void migrate_loop(char **argv)
{
	for (;;) {
		pid_t pid = fork();

		if (!pid) {
			execv(argv[0], argv);
			_exit(127);
		}
		if (pid < 0 || waitpid(pid, NULL, 0) < 0)
			_exit(1);
		sleep(2);
	}
}

int top_emulate_start(struct top_emulate *e, const char *emu, int nvms, int ndevs)
{
	char *argv[32], name[32];
	int i;

	memset(e, 0, sizeof(*e));
	for (i = 0; i < nvms && i < TOP_EMU_MAX; i++) {
		pid_t pid;

		vm_argv(emu, i, ndevs, i == 0, name, argv);
		pid = fork();
		if (pid < 0) {
			fprintf(stderr, "vfmigtop: --emulate: fork: %s\n", strerror(errno));
			top_emulate_stop(e);
			return -1;
		}
		if (!pid) {
			setpgid(0, 0);
			signal(SIGINT, SIG_DFL);
			signal(SIGTERM, SIG_DFL);
			quiet();
			if (i == 0)
				migrate_loop(argv);
			execv(emu, argv);
			_exit(127);
		}
		setpgid(pid, pid);
		e->pid[e->n++] = pid;
	}
	return 0;
}

void top_emulate_stop(struct top_emulate *e)
{
	int i, tries;

	for (i = 0; i < e->n; i++)
		kill(-e->pid[i], SIGTERM);
	for (i = 0; i < e->n; i++) {
		for (tries = 0; tries < 100; tries++) {
			if (waitpid(e->pid[i], NULL, WNOHANG) == e->pid[i])
				break;
			usleep(20000);
		}
		if (tries == 100) {
			kill(-e->pid[i], SIGKILL);
			waitpid(e->pid[i], NULL, 0);
		}
	}
	e->n = 0;
}
