// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <linux/magic.h>

#include "probe/host.h"

/* "MAJOR.MINOR" at the start of a release ("6.12.0-rc1", "5.10.0-23-amd64"); -1 if not. */
static int parse_release(const char *s, unsigned long *major, unsigned long *minor)
{
	char *end;

	if (!s || !isdigit((unsigned char)s[0]))
		return -1;
	*major = strtoul(s, &end, 10);
	if (*end != '.' || !isdigit((unsigned char)end[1]))
		return -1;
	*minor = strtoul(end + 1, &end, 10);
	return 0;
}

int host_kernel_check(const char *release, bool has_btf, char *err, size_t errlen)
{
	unsigned long major, minor;

	if (parse_release(release, &major, &minor)) {
		snprintf(err, errlen,
			 "kernel release '%s' is not of the form MAJOR.MINOR: cannot check it "
			 "against %d.%d, the oldest vfmig supports",
			 release ? release : "", HOST_MIN_MAJOR, HOST_MIN_MINOR);
		return -EINVAL;
	}
	if (major < HOST_MIN_MAJOR || (major == HOST_MIN_MAJOR && minor < HOST_MIN_MINOR)) {
		snprintf(err, errlen,
			 "kernel %s is older than %d.%d, the oldest vfmig supports (" HOST_MIN_WHY
			 ")",
			 release, HOST_MIN_MAJOR, HOST_MIN_MINOR);
		return -EOPNOTSUPP;
	}
	if (!has_btf) {
		/* CO-RE relocations and the tracepoint context types need the kernel's BTF */
		snprintf(err, errlen,
			 "kernel %s has no BTF (" HOST_BTF_PATH " missing): build it with "
			 "CONFIG_DEBUG_INFO_BTF",
			 release);
		return -EOPNOTSUPP;
	}
	return 0;
}

int host_kernel_check_running(char *err, size_t errlen)
{
	struct utsname u;

	if (uname(&u))
		return snprintf(err, errlen, "uname: cannot read the kernel release"), -errno;
	return host_kernel_check(u.release, !access(HOST_BTF_PATH, R_OK), err, errlen);
}

int host_cgroup2_mount(char *buf, size_t len)
{
	char line[1024], mnt[512], type[64];
	FILE *f = fopen("/proc/self/mountinfo", "r");
	int ret = -ENOENT;

	if (!f)
		return -errno;
	/* "id parent maj:min root mountpoint options [optional...] - fstype source opts" */
	while (ret && fgets(line, sizeof(line), f)) {
		const char *dash = strstr(line, " - ");

		if (dash && sscanf(dash, " - %63s", type) == 1 && !strcmp(type, "cgroup2") &&
		    sscanf(line, "%*s %*s %*s %*s %511s", mnt) == 1) {
			snprintf(buf, len, "%s", mnt);
			ret = 0;
		}
	}
	fclose(f);
	return ret;
}

/* Why path is no cgroup v2 directory, with where one is. */
static int not_cgroup2(const char *path, char *err, size_t errlen)
{
	char mnt[512];

	if (host_cgroup2_mount(mnt, sizeof(mnt)))
		snprintf(err, errlen,
			 "cgroup %s is not a cgroup v2 directory, and cgroup v2 is not mounted "
			 "here (mount -t cgroup2 none /sys/fs/cgroup)",
			 path);
	else
		snprintf(err, errlen,
			 "cgroup %s is not a cgroup v2 directory (cgroup v2 is mounted at %s)",
			 path, mnt);
	return -EINVAL;
}

int host_cgroup_id(const char *path, uint64_t *id, char *err, size_t errlen)
{
	union {
		struct file_handle fh;
		char buf[sizeof(struct file_handle) + 8];
	} h = {.fh.handle_bytes = 8};
	struct statfs fs;
	struct stat st;
	int mount_id;

	if (stat(path, &st))
		return snprintf(err, errlen, "cgroup %s: %s", path,
				errno == ENOENT ? "no such directory" : strerror(errno)),
		       -errno;
	if (!S_ISDIR(st.st_mode))
		return snprintf(err, errlen,
				"cgroup %s is a file, not a directory: give the cgroup's directory",
				path),
		       -ENOTDIR;
	if (statfs(path, &fs) || fs.f_type != CGROUP2_SUPER_MAGIC)
		return not_cgroup2(path, err, errlen);
	/* cgroupfs hands out the kernfs node id, the cgroup id, as its file handle */
	if (name_to_handle_at(AT_FDCWD, path, &h.fh, &mount_id, 0))
		return snprintf(err, errlen, "cgroup %s: cannot read its id: %s", path,
				strerror(errno)),
		       -errno;
	memcpy(id, h.fh.f_handle, 8);
	return 0;
}
