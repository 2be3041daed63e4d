/* SPDX-License-Identifier: GPL-2.0 */
#ifndef VFMIG_MIGRATION_ENDPOINT_H
#define VFMIG_MIGRATION_ENDPOINT_H

#include <stddef.h>

enum endpoint_kind { EP_UNIX, EP_TCP, EP_FILE };

int endpoint_kind(const char *spec, enum endpoint_kind *kind, const char **rest);
/* Source side: a connected socket, or a file created for writing; -errno and err. */
int endpoint_connect(const char *spec, char *err, size_t errlen);
/* Destination side: listens and accepts one peer, or opens the file; -errno and err. */
int endpoint_accept(const char *spec, char *err, size_t errlen);

#endif
