// SPDX-License-Identifier: GPL-2.0
/*
 * vfmigtop's full screen: ncurses, a row per VM and its devices under it, a
 * cursor, keys (see main.c's help), a detail view, redraw on resize, and
 * the terminal restored on every way out (q, Ctrl-C, SIGTERM, a fatal
 * signal).
 */
#include <curses.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <term.h>
#include <unistd.h>

#include "vfmigtop/output.h"
#include "vfmigtop/screen.h"

#define DETAIL_MAX 160

struct row_ref {
	int vm, dev; /* dev -1: the VM's row */
};

struct screen {
	struct top_run *r;
	struct row_ref rows[TOP_MAX_VMS + TOP_MAX_DEVS];
	int nrows, sel, top;
	bool paused, detail, help;
	uint64_t detail_key; /* the device, or the VM's pid, shown in detail */
	bool detail_vm;
	double next;
	char text[DETAIL_MAX][TOP_LINE];
};

static volatile sig_atomic_t curses_on;

static void restore(void)
{
	if (curses_on) {
		curses_on = 0;
		endwin();
	}
}

/* A fatal signal: the terminal back to normal first, then the default action (a core). */
static void on_fatal(int sig)
{
	restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

int top_screen_check(char *err, size_t len)
{
	const char *term = getenv("TERM");
	int e = 0;

	if (!isatty(0) || !isatty(1)) {
		snprintf(err, len, "the full screen needs a terminal: use -b for batch output");
		return -1;
	}
	if (!term || !*term || setupterm(NULL, 1, &e) != OK) {
		snprintf(err, len, "terminal '%s' cannot be initialised: use -b", term ? term : "");
		return -1;
	}
	if (!cursor_address || !clear_screen) {
		snprintf(err, len, "terminal '%s' cannot address the cursor: use -b", term);
		return -1;
	}
	return 0;
}

static void build_rows(struct screen *s)
{
	const struct top_table *t = s->r->cur;
	const regex_t *re = s->r->have_re ? &s->r->re : NULL;
	unsigned int i, j, first, nd;

	s->nrows = 0;
	for (i = 0; i < t->nvms; i++) {
		if (!top_vm_matches(re, t, &t->vm[i]))
			continue;
		s->rows[s->nrows++] = (struct row_ref){(int)i, -1};
		nd = top_vm_devs(t, t->vm[i].pid, &first);
		for (j = first; j < first + nd; j++)
			if (top_dev_matches(re, &t->vm[i], &t->dev[j]))
				s->rows[s->nrows++] = (struct row_ref){(int)i, (int)j};
	}
	if (s->sel >= s->nrows)
		s->sel = s->nrows ? s->nrows - 1 : 0;
}

static void put(int y, const char *text, bool bold)
{
	if (bold)
		attron(A_REVERSE);
	mvaddnstr(y, 0, text, COLS);
	if (bold) {
		int x = getcurx(stdscr);

		while (x++ < COLS)
			addch(' ');
		attroff(A_REVERSE);
	}
}

static int draw_header(struct screen *s)
{
	char line[TOP_LINE];

	top_header_line(&s->r->h, 0, line, sizeof(line));
	put(0, line, false);
	top_header_line(&s->r->h, 1, line, sizeof(line));
	put(1, line, false);
	snprintf(line, sizeof(line), "sort: %s %s  filter: %s  refresh %u ms%s  (h: help)",
		 top_col_name(s->r->sort.col), s->r->sort.ascending ? "ascending" : "descending",
		 s->r->have_re ? s->r->re_text : "none", s->r->interval_ms,
		 s->paused ? "  PAUSED" : "");
	put(2, line, false);
	return 3;
}

static void draw_rows(struct screen *s, int y)
{
	const struct top_table *t = s->r->cur;
	int i, room = LINES - y - 1;
	char line[TOP_LINE];

	put(y++, top_titles(), true);
	if (s->sel < s->top)
		s->top = s->sel;
	if (s->sel >= s->top + room)
		s->top = s->sel - room + 1;
	for (i = s->top; i < s->nrows && y < LINES; i++, y++) {
		const struct row_ref *rr = &s->rows[i];

		if (rr->dev < 0)
			top_vm_line(t, &t->vm[rr->vm], line, sizeof(line));
		else
			top_dev_line(t, &t->dev[rr->dev], line, sizeof(line));
		if (i == s->sel)
			attron(A_BOLD | A_UNDERLINE);
		put(y, line, false);
		if (i == s->sel)
			attroff(A_BOLD | A_UNDERLINE);
	}
	if (!s->nrows)
		put(y, "(no VM with a device seen yet)", false);
}

static void draw_detail(struct screen *s, int y)
{
	const struct top_table *t = s->r->cur;
	const struct top_vm *vm = NULL;
	const struct top_dev *d = NULL;
	unsigned int i;
	int n;

	for (i = 0; i < t->nvms && s->detail_vm; i++)
		if (t->vm[i].pid == s->detail_key)
			vm = &t->vm[i];
	for (i = 0; i < t->ndevs && !s->detail_vm; i++)
		if (t->dev[i].key == s->detail_key)
			d = &t->dev[i];
	put(y++, "Detail (Esc: back)", true);
	if (!vm && !d) {
		put(y, "(no longer shown)", false);
		return;
	}
	n = top_detail_lines(t, vm, d, s->text, DETAIL_MAX);
	for (i = 0; (int)i < n && y < LINES; i++)
		put(y++, s->text[i], false);
}

static void draw_help(int y)
{
	static const char *const keys[] = {
		"s / S    next / previous sort column",
		"r        reverse the sort direction",
		"/        filter by a regular expression (empty: none)",
		"p        pause / resume",
		"z        reset: figures from now",
		"+ / -    refresh interval x2 / /2",
		"Up/Down  move;  Enter: detail of the VM or device;  Esc: back",
		"h or ?   this help;  q: quit",
	};
	unsigned int i;

	put(y++, "Keys (any key: back)", true);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]) && y < LINES; i++)
		put(y++, keys[i], false);
}

static void draw(struct screen *s)
{
	char line[128];
	int y;

	erase();
	if (COLS < TOP_MIN_COLS || LINES < TOP_MIN_LINES) {
		snprintf(line, sizeof(line),
			 "vfmigtop needs at least %dx%d (this is %dx%d); q quits", TOP_MIN_COLS,
			 TOP_MIN_LINES, COLS, LINES);
		mvaddnstr(0, 0, line, COLS);
		refresh();
		return;
	}
	build_rows(s);
	y = draw_header(s);
	if (s->help)
		draw_help(y);
	else if (s->detail)
		draw_detail(s, y);
	else
		draw_rows(s, y);
	refresh();
}

static void ask_filter(struct screen *s)
{
	struct top_run *r = s->r;
	char text[128] = "";

	mvaddnstr(LINES - 1, 0, "filter (regex): ", COLS);
	clrtoeol();
	echo();
	curs_set(1);
	timeout(-1);
	getnstr(text, sizeof(text) - 1);
	noecho();
	curs_set(0);
	if (r->have_re)
		regfree(&r->re);
	r->have_re = text[0] && !regcomp(&r->re, text, REG_EXTENDED | REG_NOSUB);
	snprintf(r->re_text, sizeof(r->re_text), "%s", r->have_re ? text : "");
}

static void open_detail(struct screen *s)
{
	const struct row_ref *rr;

	if (!s->nrows)
		return;
	rr = &s->rows[s->sel];
	s->detail = true;
	s->detail_vm = rr->dev < 0;
	s->detail_key = s->detail_vm ? s->r->cur->vm[rr->vm].pid : s->r->cur->dev[rr->dev].key;
}

static void change_interval(struct screen *s, bool longer)
{
	unsigned int ms = s->r->interval_ms;

	ms = longer ? ms * 2 : ms / 2;
	s->r->interval_ms = ms < 100 ? 100 : ms > 60000 ? 60000 : ms;
	s->next = top_now() + s->r->interval_ms / 1e3;
}

static void sort_key(struct screen *s, int c)
{
	struct top_sort *so = &s->r->sort;

	if (c == 'r')
		so->ascending = !so->ascending;
	else
		so->col = (enum top_col)((so->col + (c == 's' ? 1 : TOP_COL_NR - 1)) % TOP_COL_NR);
	top_table_sort(s->r->cur, so);
}

/* One key; false to quit. */
static bool key(struct screen *s, int c)
{
	if (s->help && c != ERR && c != KEY_RESIZE) {
		s->help = false;
		return true;
	}
	switch (c) {
	case 'q':
	case 'Q':
		return false;
	case 's':
	case 'S':
	case 'r':
		sort_key(s, c);
		break;
	case '/':
		ask_filter(s);
		break;
	case 'p':
	case ' ':
		s->paused = !s->paused;
		break;
	case 'z':
		top_src_reset(s->r->src, top_now());
		memset(s->r->old, 0, sizeof(*s->r->old));
		break;
	case '+':
		change_interval(s, true);
		break;
	case '-':
		change_interval(s, false);
		break;
	case 'h':
	case '?':
		s->help = true;
		break;
	case KEY_UP:
	case 'k':
		s->sel -= s->sel > 0;
		break;
	case KEY_DOWN:
	case 'j':
		s->sel += s->sel + 1 < s->nrows;
		break;
	case '\n':
	case '\r':
	case KEY_ENTER:
		open_detail(s);
		break;
	case 27: /* Esc */
	case KEY_BACKSPACE:
		s->detail = false;
		break;
	}
	return true;
}

static void start_curses(void)
{
	setlocale(LC_ALL, "");
	initscr();
	curses_on = 1;
	atexit(restore);
	signal(SIGSEGV, on_fatal);
	signal(SIGBUS, on_fatal);
	signal(SIGFPE, on_fatal);
	signal(SIGABRT, on_fatal);
	signal(SIGILL, on_fatal);
	cbreak();
	noecho();
	keypad(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
}

int top_screen_run(struct top_run *r)
{
	static struct screen s;
	int c;

	memset(&s, 0, sizeof(s));
	s.r = r;
	start_curses();
	s.next = top_now() + r->interval_ms / 1e3;
	draw(&s);
	while (!top_stop) {
		double left = (s.next - top_now()) * 1e3;

		timeout(left > 100 ? 100 : left < 0 ? 0 : (int)left);
		c = getch();
		if (c != ERR && !key(&s, c))
			break;
		if (c == ERR)
			top_src_poll(r->src, 0);
		if (top_now() >= s.next) {
			if (!s.paused)
				top_refresh(r);
			s.next += r->interval_ms / 1e3;
			if (s.next < top_now())
				s.next = top_now() + r->interval_ms / 1e3;
		} else if (c == ERR) {
			continue;
		}
		draw(&s);
		if (r->ended && r->ended(r->ctx))
			s.paused = true; /* PROGRAM ended: its last figures stay on screen */
	}
	restore();
	return 0;
}
