// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/utsname.h>
#include <unistd.h>

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
		snprintf(err, errlen, "kernel %s is older than %d.%d, the oldest vfmig supports",
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
