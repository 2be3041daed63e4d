// SPDX-License-Identifier: GPL-2.0
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "probe/usdt_notes.h"

#define NT_STAPSDT 3

int usdt_args_parse(const char *spec, int *size, int max)
{
	int n = 0;

	while (spec && *spec && n < max) {
		char *end;
		long s;

		spec += strspn(spec, " ");
		if (!*spec)
			break;
		s = strtol(spec, &end, 10);
		size[n++] = end != spec && *end == '@' ? (int)labs(s) : 0;
		spec = strchr(spec, ' ');
	}
	return n;
}

/* One NT_STAPSDT descriptor: pc, base, semaphore (8 bytes each), provider, name, args. */
static void add_note(struct usdt_notes *out, const char *desc, size_t len)
{
	const char *prov = desc + 24, *name, *args, *end = desc + len;
	struct usdt_note *n, *grown;

	if (len <= 24 || !memchr(prov, 0, end - prov))
		return;
	name = prov + strlen(prov) + 1;
	if (name >= end || !memchr(name, 0, end - name))
		return;
	args = name + strlen(name) + 1;
	if (args >= end || !memchr(args, 0, end - args))
		args = "";
	if (out->n == out->cap) { /* a QEMU has thousands */
		grown = realloc(out->v, (out->cap * 2 + 64) * sizeof(*out->v));
		if (!grown)
			return;
		out->v = grown;
		out->cap = out->cap * 2 + 64;
	}
	n = &out->v[out->n++];
	memset(n, 0, sizeof(*n));
	snprintf(n->provider, sizeof(n->provider), "%s", prov);
	snprintf(n->name, sizeof(n->name), "%s", name);
	n->nargs = usdt_args_parse(args, n->size, USDT_MAX_ARGS);
}

static void read_section(struct usdt_notes *out, const char *sec, size_t size)
{
	size_t off, next;

	for (off = 0; off + sizeof(Elf64_Nhdr) <= size; off += next) {
		const Elf64_Nhdr *n = (const Elf64_Nhdr *)(sec + off);
		const char *name = (const char *)(n + 1);
		/* in size_t: a malformed size near 4 GiB must not wrap */
		size_t namesz = ((size_t)n->n_namesz + 3) & ~(size_t)3;
		size_t descsz = ((size_t)n->n_descsz + 3) & ~(size_t)3;
		const char *desc = name + namesz;

		next = sizeof(*n) + namesz + descsz;
		if (next > size - off)
			break;
		if (n->n_type == NT_STAPSDT && n->n_namesz == 8 && !memcmp(name, "stapsdt", 8))
			add_note(out, desc, n->n_descsz);
	}
}

int usdt_notes_read(const char *path, struct usdt_notes *out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	const Elf64_Ehdr *eh;
	const Elf64_Shdr *sh;
	struct stat st;
	const char *m;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (fd < 0 || fstat(fd, &st)) {
		int err = -errno;

		if (fd >= 0)
			close(fd);
		return err;
	}
	m = st.st_size >= (off_t)sizeof(*eh) ? mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0)
					     : MAP_FAILED;
	close(fd);
	if (m == MAP_FAILED)
		return 0;
	eh = (const Elf64_Ehdr *)m;
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_shoff + (size_t)eh->e_shnum * sizeof(*sh) > (size_t)st.st_size)
		goto out;
	sh = (const Elf64_Shdr *)(m + eh->e_shoff);
	for (i = 0; i < eh->e_shnum; i++) {
		if (sh[i].sh_type == SHT_NOTE &&
		    sh[i].sh_offset + sh[i].sh_size <= (size_t)st.st_size)
			read_section(out, m + sh[i].sh_offset, sh[i].sh_size);
	}
out:
	munmap((void *)m, st.st_size);
	return 0;
}

void usdt_notes_free(struct usdt_notes *notes)
{
	free(notes->v);
	memset(notes, 0, sizeof(*notes));
}

const struct usdt_note *usdt_notes_find(const struct usdt_notes *notes, const char *provider,
					const char *name)
{
	size_t i;

	for (i = 0; i < notes->n; i++) {
		if (!strcmp(notes->v[i].provider, provider) && !strcmp(notes->v[i].name, name))
			return &notes->v[i];
	}
	return NULL;
}

bool usdt_notes_have(const struct usdt_notes *notes, const char *provider)
{
	size_t i;

	for (i = 0; i < notes->n; i++) {
		if (!strcmp(notes->v[i].provider, provider))
			return true;
	}
	return false;
}
