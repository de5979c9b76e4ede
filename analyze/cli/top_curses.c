/* SPDX-License-Identifier: MIT */
/* pooltrace top: the ncurses front end. All state and text come from the view model. */
#include <curses.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pooltrace/error.h"
#include "top.h"

#define PAIR_LEAK 1
#define PAIR_SUSPECT 2

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct screen {
	bool colors;
	int cursor_y, cursor_x; /* where the cursor goes while typing a filter, -1 hidden */
};

static void draw_line(void *ctx, int y, unsigned attr, const char *text)
{
	struct screen *s = ctx;
	unsigned kind = attr & PT_TOPL_KIND_MASK;
	attr_t a = A_NORMAL;
	short pair = 0;
	switch (kind) {
	case PT_TOPL_HEADER:
	case PT_TOPL_COLUMNS:
	case PT_TOPL_TOTALS:
		a = A_BOLD;
		break;
	case PT_TOPL_STATUS:
	case PT_TOPL_PROMPT:
		a = A_REVERSE;
		break;
	case PT_TOPL_ROW:
		if (attr & PT_TOPA_CHANGED)
			a = A_BOLD;
		if (s->colors && (attr & PT_TOPA_LEAK))
			pair = PAIR_LEAK;
		else if (s->colors && (attr & PT_TOPA_SUSPECT))
			pair = PAIR_SUSPECT;
		break;
	default:
		break;
	}
	if (y < 0 || y >= LINES)
		return;
	attrset(a | COLOR_PAIR(pair));
	mvaddnstr(y, 0, text, COLS);
	if (kind == PT_TOPL_STATUS || kind == PT_TOPL_PROMPT) {
		int len = (int)strlen(text);
		for (int x = len; x < COLS; x++)
			mvaddch(y, x, ' ');
	}
	attrset(A_NORMAL);
	if (kind == PT_TOPL_PROMPT) {
		int len = (int)strlen(text);
		s->cursor_y = y;
		s->cursor_x = len < COLS ? len : COLS - 1;
	}
}

static void draw(struct pt_topview *v, struct screen *s)
{
	erase();
	s->cursor_y = s->cursor_x = -1;
	pt_topview_render(v, COLS, LINES, draw_line, s);
	if (s->cursor_y >= 0) {
		curs_set(1);
		move(s->cursor_y, s->cursor_x);
	} else {
		curs_set(0);
	}
	refresh();
}

static int map_key(int ch)
{
	switch (ch) {
	case KEY_LEFT:
		return PT_TOPKEY_LEFT;
	case KEY_RIGHT:
		return PT_TOPKEY_RIGHT;
	case KEY_UP:
		return PT_TOPKEY_UP;
	case KEY_DOWN:
		return PT_TOPKEY_DOWN;
	case KEY_PPAGE:
		return PT_TOPKEY_PGUP;
	case KEY_NPAGE:
		return PT_TOPKEY_PGDN;
	case KEY_HOME:
		return PT_TOPKEY_HOME;
	case KEY_END:
		return PT_TOPKEY_END;
	case KEY_ENTER:
	case '\n':
	case '\r':
		return PT_TOPKEY_ENTER;
	case KEY_BACKSPACE:
	case 127:
	case 8:
		return PT_TOPKEY_BACKSPACE;
	case 27:
		return PT_TOPKEY_ESC;
	default:
		return ch >= 0 && ch < 256 ? ch : -1;
	}
}

int pt__top_curses(struct pt_topview *v, uint64_t refresh_ns)
{
	/* keys come from the terminal even when the trace came on standard input */
	FILE *keys = isatty(0) ? stdin : fopen("/dev/tty", "r");
	if (!isatty(1) || !keys) {
		fprintf(stderr, "pooltrace top: needs a terminal; --once prints one screen without it\n");
		if (keys && keys != stdin)
			fclose(keys);
		return PT_EUSAGE;
	}
	/* ours before ncurses starts, so it leaves SIGINT/SIGTERM to us */
	struct sigaction sa, old_int, old_term, old_hup;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	sigaction(SIGHUP, &sa, &old_hup);
	g_stop = 0;

	SCREEN *scr = newterm(NULL, stdout, keys);
	if (!scr) {
		if (keys != stdin)
			fclose(keys);
		fprintf(stderr, "pooltrace top: cannot use this terminal (TERM=%s); --once prints one screen\n",
			getenv("TERM") ? getenv("TERM") : "");
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGTERM, &old_term, NULL);
		sigaction(SIGHUP, &old_hup, NULL);
		return PT_EUSAGE;
	}
	set_term(scr);
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	struct screen s = {false, -1, -1};
	if (has_colors()) {
		start_color();
		use_default_colors();
		init_pair(PAIR_LEAK, COLOR_RED, -1);
		init_pair(PAIR_SUSPECT, COLOR_YELLOW, -1);
		s.colors = true;
	}
	timeout(100);

	uint64_t last = now_ns();
	draw(v, &s);
	while (!g_stop) {
		bool redraw = false;
		int ch = getch();
		if (ch == KEY_RESIZE) {
			redraw = true;
		} else if (ch != ERR) {
			int k = map_key(ch);
			if (k >= 0) {
				bool was_paused = pt_topview_paused(v);
				unsigned r = pt_topview_key(v, k);
				if (r & PT_TOPV_QUIT)
					break;
				if (r & PT_TOPV_REDRAW)
					redraw = true;
				if (was_paused && !pt_topview_paused(v))
					last = now_ns(); /* a refresh period from now */
			}
		}
		uint64_t t = now_ns();
		if (pt_topview_paused(v)) {
			last = t;
		} else if (t - last >= refresh_ns) {
			pt_topview_tick(v, t - last);
			last = t;
			redraw = true;
		}
		if (redraw)
			draw(v, &s);
	}
	curs_set(1);
	endwin();
	delscreen(scr);
	if (keys != stdin)
		fclose(keys);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGHUP, &old_hup, NULL);
	return 0;
}
