// SPDX-License-Identifier: GPL-2.0
/* Variant options: "key=value,key=value", numbers with k/m/g suffixes. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "device/variant.h"

static const char *find_key(const char *params, const char *key, size_t *vlen)
{
	size_t klen = strlen(key);
	const char *p = params;

	while (p && *p) {
		size_t len = strcspn(p, ",");

		if (len > klen && !strncmp(p, key, klen) && p[klen] == '=') {
			*vlen = len - klen - 1;
			return p + klen + 1;
		}
		p += len;
		if (*p == ',')
			p++;
	}
	return NULL;
}

int emu_param_u64(const char *params, const char *key, uint64_t def, uint64_t *out)
{
	char buf[32], *end;
	size_t vlen;
	const char *v = find_key(params, key, &vlen);
	unsigned long long n;
	unsigned int shift;

	*out = def;
	if (!v)
		return 0;
	if (!vlen || vlen >= sizeof(buf) || *v == '-')
		return -EINVAL;
	memcpy(buf, v, vlen);
	buf[vlen] = 0;
	errno = 0;
	n = strtoull(buf, &end, 0);
	if (errno)
		return -EINVAL;
	switch (*end) {
	case 'g':
	case 'G':
		shift = 30;
		break;
	case 'm':
	case 'M':
		shift = 20;
		break;
	case 'k':
	case 'K':
		shift = 10;
		break;
	default:
		shift = 0;
	}
	if (shift)
		end++;
	if (*end || n > (~0ull >> shift))
		return -EINVAL;
	n <<= shift;
	*out = n;
	return 0;
}

/* Returns 0, or -EINVAL when a key is not in known (NULL-terminated). */
int emu_param_check(const char *params, const char *const *known)
{
	const char *p = params;

	while (p && *p) {
		size_t len = strcspn(p, ","), klen = strcspn(p, "=");
		const char *const *k;

		if (klen > len)
			return -EINVAL;
		for (k = known; *k; k++) {
			if (strlen(*k) == klen && !strncmp(p, *k, klen))
				break;
		}
		if (!*k)
			return -EINVAL;
		p += len;
		if (*p == ',')
			p++;
	}
	return 0;
}
