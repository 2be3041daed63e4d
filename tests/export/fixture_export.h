/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the export tests share: free ports, processes started in the
 * background and stopped, an HTTP client for the exporter and Prometheus's
 * query API, the exposition text's samples.
 */
#ifndef VFMIG_TEST_EXPORT_FIXTURE_H
#define VFMIG_TEST_EXPORT_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* A port of 127.0.0.1 nothing listened on a moment ago. */
int free_port(void);

/* argv in the background, stdout and stderr into log (or /dev/null). */
pid_t spawn(char *const *argv, const char *log);
/* SIGTERM, then SIGKILL after timeout_s: the exit status, or 128 + signal. */
int stop(pid_t pid, double timeout_s);

/* METHOD path on 127.0.0.1:port; the status (-1: no answer), body malloc'd (or NULL). */
int http_request(int port, const char *method, const char *path, char **body);
/* Until GET path answers 200 or timeout_s passes. */
bool wait_http(int port, const char *path, double timeout_s);

/* Prometheus's /api/v1/query of q: the first result's value; false when it has none. */
bool prom_query(int port, const char *q, double *value);

/* The value of the sample whose line starts with name_labels + ' ' in text; -1: none. */
double sample_value(const char *text, const char *name_labels);

/* The repository's root (build/.. of the tools), for scripts/deps.sh. */
bool repo_root(char *out, size_t len);

double now_s(void);

#endif
