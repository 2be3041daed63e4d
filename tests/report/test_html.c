// SPDX-License-Identifier: GPL-2.0
/*
 * vfmigprof report --html of two real recorded migrations, opened by
 * Debian's chromium headless and offline (its proxy a socket of ours that
 * must see no connection): after load, the DOM holds plots whose points are
 * each file's --json figures (rounds' dirty pages and device bytes, the
 * timeline's rounds and downtime, the dirty rate by source, a histogram per
 * arc), the rounds as many as vfmig-emu migrate counted, and the page fetched
 * nothing. An unwritable --html path: one line, exit 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "common/run_util.h"
#include "common/vfmig_test.h"
#include "report/fixture_html.h"

#define MAX_PTS 4096

struct pt {
	double x, y;
};

/* The value of attribute name in the tag that starts at tag (NULL when absent). */
static char *attr(const char *tag, const char *name, char *out, size_t len)
{
	const char *end = strchr(tag, '>'), *p;
	char key[64];
	size_t n;

	snprintf(key, sizeof(key), " %s=\"", name);
	p = strstr(tag, key);
	if (!p || !end || p > end)
		return NULL;
	p += strlen(key);
	n = (size_t)(strchr(p, '"') - p);
	snprintf(out, len, "%.*s", (int)(n < len ? n : len - 1), p);
	return out;
}

/* The k-th <svg> whose data-plot is plot (and data-mig mig, unless mig < 0): [*from, *to). */
static bool find_svg(const char *dom, const char *plot, int mig, int k, const char **from,
		     const char **to)
{
	const char *p = dom;
	char v[64];

	while ((p = strstr(p, "<svg ")) != NULL) {
		if (attr(p, "data-plot", v, sizeof(v)) && !strcmp(v, plot) &&
		    (mig < 0 || (attr(p, "data-mig", v, sizeof(v)) && atoi(v) == mig)) && !k--) {
			*from = p;
			*to = strstr(p, "</svg>");
			return *to != NULL;
		}
		p++;
	}
	return false;
}

/* The points of series (NULL: every series) in [from, to). */
static size_t points(const char *from, const char *to, const char *series, struct pt *out)
{
	const char *p = from, *g = NULL;
	char v[96];
	size_t n = 0;

	while ((p = strstr(p, "class=\"")) != NULL && p < to && n < MAX_PTS) {
		const char *tag = p;

		while (tag > from && *tag != '<')
			tag--;
		if (!strncmp(p, "class=\"series", 13))
			g = tag;
		else if (!strncmp(p, "class=\"pt\"", 10) &&
			 (!series ||
			  (g && attr(g, "data-series", v, sizeof(v)) && !strcmp(v, series)))) {
			out[n].x = strtod(attr(tag, "data-x", v, sizeof(v)), NULL);
			out[n].y = strtod(attr(tag, "data-y", v, sizeof(v)), NULL);
			n++;
		}
		p++;
	}
	return n;
}

static struct pt pts[MAX_PTS];

static size_t plot_points(const char *dom, const char *plot, int mig, int k, const char *series)
{
	const char *from, *to;

	if (!find_svg(dom, plot, mig, k, &from, &to))
		fail_msg("no plot %s (migration %d, #%d) in the DOM", plot, mig, k);
	return points(from, to, series, pts);
}

/*
 * Chromium itself calls its vendor's services through the proxy whatever the page holds (time,
 * updates, accounts, optimization hints): those requests are not the page's.
 */
static bool browser_service(const char *req)
{
	static const char *const hosts[] = {
		"clients2.google.com",
		"update.googleapis.com",
		"accounts.google.com",
		"optimizationguide-pa.googleapis.com",
		"safebrowsing.googleapis.com",
		"clientservices.googleapis.com",
		"content-autofill.googleapis.com",
		"redirector.gvt1.com",
		"edgedl.me.gvt1.com",
		"android.clients.google.com",
	};
	const char *h = strchr(req, ' ');
	size_t i, n;

	if (!h)
		return false;
	h++;
	if (!strncmp(h, "http://", 7))
		h += 7;
	n = strcspn(h, ":/ ");
	for (i = 0; i < sizeof(hosts) / sizeof(*hosts); i++)
		if (strlen(hosts[i]) == n && !strncmp(h, hosts[i], n))
			return true;
	return false;
}

/* The requests that reached the proxy and are not the browser's own. */
static int page_requests(int s)
{
	struct timeval tv = {.tv_usec = 500000};
	char req[512];
	int c, n = 0;
	ssize_t len;

	while ((c = accept(s, NULL, NULL)) >= 0) {
		setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		len = recv(c, req, sizeof(req) - 1, 0);
		req[len > 0 ? len : 0] = 0;
		if (!browser_service(req)) {
			print_message("the page requested: %.*s\n", (int)strcspn(req, "\r\n"), req);
			n++;
		}
		close(c);
	}
	assert_int_equal(errno, EAGAIN);
	return n;
}

/* chromium headless, its proxy a listening socket of ours: the DOM after load; connections. */
static char *open_page(const char *html, int *connections)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof(a);
	char tmp[] = "/tmp/vfmig-chromium-XXXXXX", cmd[1024], *dom;
	int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	assert_true(s >= 0);
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s, 128), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&a, &alen), 0);
	assert_non_null(mkdtemp(tmp));
	snprintf(cmd, sizeof(cmd),
		 "timeout 120 chromium --headless --no-sandbox --disable-gpu --no-first-run "
		 "--disable-background-networking --disable-component-update --disable-sync "
		 "--proxy-server=127.0.0.1:%d --user-data-dir=%s --dump-dom 'file://%s' "
		 "2>/dev/null; rm -rf %s",
		 ntohs(a.sin_port), tmp, html, tmp);
	assert_int_equal(fxh_sh(cmd, &dom), 0);
	*connections = page_requests(s);
	close(s);
	return dom;
}

static void check_rounds(const char *dom, struct json_object *m, struct json_object *truth)
{
	struct json_object *rounds = fxh_get(m, "rounds");
	size_t n = json_object_array_length(rounds), i;
	char what[64];

	/* the rounds the report rebuilt are those migrate ran */
	assert_int_equal(n, json_object_array_length(fxh_get(truth, "rounds")));
	assert_int_equal(plot_points(dom, "rounds_pages", 0, 0, "measured"), n);
	for (i = 0; i < n; i++) {
		snprintf(what, sizeof(what), "round %zu's dirty pages", i);
		fxh_near(pts[i].x, (double)i, what);
		fxh_near(pts[i].y, fxh_num(json_object_array_get_idx(rounds, i), "dirty_pages"),
			 what);
	}
	assert_int_equal(plot_points(dom, "rounds_dev_bytes", 0, 0, "measured"), n);
	for (i = 0; i < n; i++)
		fxh_near(pts[i].y, fxh_num(json_object_array_get_idx(rounds, i), "dev_bytes"),
			 "a round's device bytes");
	assert_true(plot_points(dom, "rounds_pages", 0, 0, "predicted") > 0);
}

/* The timeline: a segment per round at its start, and the downtime's. */
static void check_timeline(const char *dom, struct json_object *m)
{
	struct json_object *rounds = fxh_get(m, "rounds");
	const char *from, *to, *p;
	char v[64];
	size_t nr = 0;
	int down = 0;

	assert_true(find_svg(dom, "timeline", 0, 0, &from, &to));
	for (p = from; (p = strstr(p, "<rect class=\"seg ")) != NULL && p < to; p++) {
		if (!strncmp(p + 17, "round", 5)) {
			assert_true(nr < json_object_array_length(rounds));
			fxh_near(strtod(attr(p, "data-x", v, sizeof(v)), NULL),
				 fxh_num(json_object_array_get_idx(rounds, nr), "start_ms"),
				 "a round's start");
			fxh_near(strtod(attr(p, "data-w", v, sizeof(v)), NULL),
				 fxh_num(json_object_array_get_idx(rounds, nr), "ms"),
				 "a round's length");
			nr++;
		} else if (!strncmp(p + 17, "downtime", 8)) {
			fxh_near(strtod(attr(p, "data-w", v, sizeof(v)), NULL),
				 fxh_num(m, "downtime_ms"), "the downtime");
			down++;
		}
	}
	assert_int_equal(nr, json_object_array_length(rounds));
	assert_int_equal(down, 1);
}

static void check_figures(const char *dom, struct json_object *rep)
{
	struct json_object *dr = fxh_get(rep, "dirty_rate"), *lat = fxh_get(rep, "latency");
	struct json_object *wr = fxh_get(rep, "harvest_windows_rate");
	size_t i, j, n;
	double sum;

	assert_true(json_object_array_length(dr) > 0);
	assert_int_equal(plot_points(dom, "dirty_rate", -1, 0, "vcpu_faults_per_s"),
			 json_object_array_length(dr));
	for (i = 0; i < json_object_array_length(dr); i++) {
		fxh_near(pts[i].x, fxh_num(json_object_array_get_idx(dr, i), "t_s"), "a rate's t");
		fxh_near(pts[i].y, fxh_num(json_object_array_get_idx(dr, i), "vcpu_faults_per_s"),
			 "vCPU dirty rate");
	}
	assert_int_equal(plot_points(dom, "window_rate", -1, 0, NULL),
			 json_object_array_length(wr));
	assert_true(json_object_array_length(lat) > 0);
	for (i = 0; i < json_object_array_length(lat); i++) { /* a histogram per arc, its count */
		n = plot_points(dom, "latency", -1, (int)i, NULL);
		for (j = 0, sum = 0; j < n; j++)
			sum += pts[j].y;
		fxh_near(sum, fxh_num(json_object_array_get_idx(lat, i), "count"),
			 "a latency histogram's count");
	}
	n = plot_points(dom, "wt", 0, 0, "W(t)");
	assert_true(n > 1);
	for (i = 1; i < n; i++) /* W(t): distinct pages, never fewer later in the window */
		assert_true(pts[i].y >= pts[i - 1].y && pts[i].x > pts[i - 1].x);
}

static void test_pages(void **state)
{
	char html[96], cmd[PATH_MAX + 200], root[PATH_MAX], *out, *dom;
	double downtime[2];
	int i, conns;

	(void)state;
	assert_true(tool_path("..", root, sizeof(root)));
	snprintf(cmd, sizeof(cmd),
		 "command -v chromium >/dev/null || "
		 "(cd '%s' && scripts/deps.sh build/.deps-chromium chromium 2>&1)",
		 root);
	if (fxh_sh(cmd, &out))
		fail_msg("chromium is not installed and could not be: %s", out);
	free(out);
	for (i = 0; i < 2; i++) {
		struct fxh_run *run = &fxh_run[i];

		snprintf(html, sizeof(html), "%s.html", run->file);
		snprintf(cmd, sizeof(cmd), "'%s' report --html '%s' '%s'", fxh_prof, html,
			 run->file);
		assert_int_equal(fxh_sh(cmd, &out), 0);
		assert_string_equal(out, ""); /* the page goes to the file, nothing to stdout */
		free(out);
		dom = open_page(html, &conns);
		assert_non_null(strstr(dom, "data-ready=\"1\""));
		assert_non_null(strstr(dom, "data-resources=\"0\""));
		assert_int_equal(conns, 0);
		check_rounds(dom, run->mig, run->truth);
		check_timeline(dom, run->mig);
		check_figures(dom, run->rep);
		downtime[i] = fxh_num(run->mig, "downtime_ms");
		free(dom);
		unlink(html);
	}
	assert_true(downtime[0] != downtime[1]); /* two different migrations, two different pages */
}

static void test_unwritable(void **state)
{
	char cmd[PATH_MAX + 200], *out;

	(void)state;
	snprintf(cmd, sizeof(cmd), "'%s' report --html /nonexistent-dir/r.html '%s' 2>&1", fxh_prof,
		 fxh_run[0].file);
	assert_int_equal(fxh_sh(cmd, &out), 1);
	assert_int_equal(fxh_lines(out), 1);
	assert_non_null(strstr(out, "cannot write /nonexistent-dir/r.html"));
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pages),
		cmocka_unit_test(test_unwritable),
	};

	return cmocka_run_group_tests(tests, fxh_setup, fxh_teardown);
}
