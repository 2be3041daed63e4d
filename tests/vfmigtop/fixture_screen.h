/* SPDX-License-Identifier: GPL-2.0 */
/* vfmigtop's full screen in tmux (fixture_screen.c). */
#ifndef VFMIG_TEST_VFMIGTOP_SCREEN_H
#define VFMIG_TEST_VFMIGTOP_SCREEN_H

#include <limits.h>
#include <stdbool.h>

extern char top_bin[PATH_MAX], emu_bin[PATH_MAX];

/* Finds the tools and tmux (installing it when root and missing). */
bool screen_setup(void);
/*
 * A pane of cols x rows running the shell lines body, then "EXITED <status>",
 * the terminal's icanon/echo flags as stty reports them, and "END".
 */
void screen_start(int cols, int rows, const char *body);
void screen_stop(void);
/* tmux send-keys arguments ("j Enter"), then a moment for the redraw. */
void screen_keys(const char *keys);
void screen_resize(int cols, int rows);
/* The pane's text (malloc'd). */
char *screen_text(void);
/* The pane's text once it contains text, or NULL (what it showed on stderr) after seconds. */
char *screen_wait(const char *text, double seconds);
/* The line of s where text first is, -1 when absent. */
int screen_line_of(const char *s, const char *text);

#endif
