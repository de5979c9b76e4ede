/* SPDX-License-Identifier: MIT */
/*
 * View model of `pooltrace top`: state, keys, time steps, rows with "( )"
 * deltas, and the screen as text lines. No terminal here.
 *
 * Time: the view shows the counters at the latest interval edge at or
 * before the view time (pt_tagstat_bucket of the bucket that ends there),
 * exactly at the trace end, and exactly at the times the replay captured
 * (workload start/end from an option or marker, --at).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pooltrace/error.h"
#include "pooltrace/tagmap.h"
#include "pooltrace/tags.h"
#include "pooltrace/topview.h"

#define TOP_TAG_MAX_WIDTH 24
#define TOP_LINE_MAX 1024
#define TOP_AUTO_PLAY_S 30.0  /* automatic speed: the whole trace in about this many seconds */
#define TOP_SPEED_MIN 1e-6
#define TOP_SPEED_MAX 1e9

struct pt_topview {
	const struct pt_replay *rp;
	const struct pt_tags *tags;
	const struct pt_tag_verdict *verdicts;
	const struct pt_trace_meta *meta;
	const struct pt_tagmap *tagmap;
	const char *input_name;
	const struct pt_tagstat *stats;
	size_t nstats;
	uint64_t end_ns, interval_ns;
	bool has_at;
	uint64_t at_ns;
	bool once;

	uint64_t t_ns, prev_ns;
	enum pt_pool_filter pools;
	enum pt_sort sort;
	bool reverse;     /* against the key's natural order (tags A-Z, numbers largest first) */
	bool by_change;
	bool totals;
	bool highlight;
	bool help;
	char filter[PT_TAG_MAX_LEN * 2 + 1];
	bool editing;
	char edit[PT_TAG_MAX_LEN * 2 + 1];
	size_t edit_len;

	bool paused;
	double speed;     /* trace ns per wall ns */
	double acc_ns;    /* trace time owed by playback, below one interval */

	size_t scroll;
	size_t page;

	struct pt_topview_row *rows, *tmp;
	size_t nrows;
	bool dirty;

	/* column widths, from the whole trace so they do not jump while playing */
	int w_tag, w_type, w_allocs, w_frees, w_diff, w_bytes, w_per;
};

void pt_topview_opts_init(struct pt_topview_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->sort = PT_SORT_BYTES;
	o->pools = PT_POOLSEL_BOTH;
}

static int digits_u(uint64_t v)
{
	int n = 1;
	while (v >= 10) {
		v /= 10;
		n++;
	}
	return n;
}

static int digits_i(int64_t v)
{
	return v < 0 ? 1 + digits_u((uint64_t)0 - (uint64_t)v) : digits_u((uint64_t)v);
}

static int imax(int a, int b)
{
	return a > b ? a : b;
}

static void layout_init(struct pt_topview *v)
{
	v->w_tag = 4;
	v->w_type = 4;
	uint64_t ma = 0, mf = 0, mb = 0;
	for (size_t i = 0; i < v->nstats; i++) {
		const struct pt_tagstat *st = &v->stats[i];
		char buf[PT_TAG_DISPLAY_MAX];
		pt_tags_display(v->tags, st->tag, buf, sizeof(buf));
		v->w_tag = imax(v->w_tag, (int)strlen(buf));
		v->w_type = imax(v->w_type, (int)strlen(pt_pool_name(st->pool)));
		if (st->now.allocs > ma)
			ma = st->now.allocs;
		if (st->now.frees > mf)
			mf = st->now.frees;
		if (st->peak_bytes > mb)
			mb = st->peak_bytes;
		if (st->now.bytes > mb)
			mb = st->now.bytes;
	}
	if (v->w_tag > TOP_TAG_MAX_WIDTH)
		v->w_tag = TOP_TAG_MAX_WIDTH;
	v->w_allocs = imax(6, digits_u(ma));
	v->w_frees = imax(6, digits_u(mf));
	v->w_diff = imax(5, digits_u(ma > mf ? ma : mf) + 1);
	v->w_bytes = imax(6, digits_u(mb));
	v->w_per = 9;
}

static uint64_t clamp_t(const struct pt_topview *v, uint64_t t)
{
	return t > v->end_ns ? v->end_ns : t;
}

static void set_filter(struct pt_topview *v, const char *pat)
{
	snprintf(v->filter, sizeof(v->filter), "%s", pat ? pat : "");
	v->scroll = 0;
	v->dirty = true;
}

struct pt_topview *pt_topview_new(const struct pt_topview_opts *o)
{
	if (!o || !o->rp)
		return NULL;
	struct pt_topview *v = calloc(1, sizeof(*v));
	if (!v)
		return NULL;
	v->rp = o->rp;
	v->tags = pt_replay_tags(o->rp);
	v->verdicts = o->verdicts;
	v->meta = o->meta;
	v->tagmap = o->tagmap;
	v->input_name = o->input_name;
	v->stats = pt_replay_stats(o->rp, &v->nstats);
	v->end_ns = pt_replay_end_ns(o->rp);
	v->interval_ns = pt_replay_interval_ns(o->rp);
	if (!v->interval_ns)
		v->interval_ns = 1;
	v->has_at = o->has_at && o->at_captured;
	v->at_ns = o->at_ns;
	v->once = o->once;
	v->rows = calloc(v->nstats ? v->nstats : 1, sizeof(*v->rows));
	v->tmp = calloc(v->nstats ? v->nstats : 1, sizeof(*v->tmp));
	if (!v->rows || !v->tmp) {
		pt_topview_free(v);
		return NULL;
	}
	v->pools = o->pools;
	v->sort = o->sort;
	v->reverse = o->ascending;
	v->by_change = o->sort_by_change;
	v->totals = o->totals;
	v->highlight = true;
	set_filter(v, o->filter);
	v->paused = o->paused || o->once;
	if (o->speed > 0)
		v->speed = o->speed;
	else
		v->speed = v->end_ns ? (double)v->end_ns / (TOP_AUTO_PLAY_S * 1e9) : 1.0;
	if (v->speed < TOP_SPEED_MIN)
		v->speed = TOP_SPEED_MIN;
	if (v->speed > TOP_SPEED_MAX)
		v->speed = TOP_SPEED_MAX;
	v->t_ns = o->has_at ? clamp_t(v, o->at_ns) : 0;
	v->prev_ns = v->t_ns;
	if (o->once)
		v->prev_ns = v->t_ns > v->interval_ns ? v->t_ns - v->interval_ns : 0;
	layout_init(v);
	v->dirty = true;
	return v;
}

void pt_topview_free(struct pt_topview *v)
{
	if (!v)
		return;
	free(v->rows);
	free(v->tmp);
	free(v);
}

/* ---- time ---- */

static bool exact_capture(const struct pt_topview *v, uint64_t t)
{
	const struct pt_phases *ph = pt_replay_phases(v->rp);
	if (t == ph->wstart_ns &&
	    (ph->wstart_src == PT_PHASE_OPTION || ph->wstart_src == PT_PHASE_MARKER))
		return true;
	if (t == ph->wend_ns && (ph->wend_src == PT_PHASE_OPTION || ph->wend_src == PT_PHASE_MARKER))
		return true;
	return v->has_at && t == v->at_ns;
}

void pt_topview_counts_at(const struct pt_topview *v, size_t stat, uint64_t t,
			  struct pt_counts *out)
{
	if (stat >= v->nstats) {
		memset(out, 0, sizeof(*out));
		return;
	}
	const struct pt_tagstat *st = &v->stats[stat];
	if (t >= v->end_ns) {
		*out = st->now;
		return;
	}
	if (exact_capture(v, t)) {
		pt_tagstat_at(v->rp, st, t, out);
		return;
	}
	uint64_t edge = t / v->interval_ns;
	if (edge == 0) {
		memset(out, 0, sizeof(*out));
		return;
	}
	uint64_t b = edge - 1;
	pt_tagstat_bucket(v->rp, st, b > UINT32_MAX ? UINT32_MAX : (uint32_t)b, out);
}

void pt_topview_seek(struct pt_topview *v, uint64_t t)
{
	t = clamp_t(v, t);
	if (t == v->t_ns)
		return;
	v->prev_ns = v->t_ns;
	v->t_ns = t;
	v->dirty = true;
}

static uint64_t next_edge(const struct pt_topview *v, uint64_t t)
{
	uint64_t e = t / v->interval_ns + 1;
	if (e > v->end_ns / v->interval_ns)
		return v->end_ns;
	return e * v->interval_ns;
}

static uint64_t prev_edge(const struct pt_topview *v, uint64_t t)
{
	return t ? (t - 1) / v->interval_ns * v->interval_ns : 0;
}

void pt_topview_step(struct pt_topview *v, int n)
{
	uint64_t t = v->t_ns;
	for (; n > 0 && t < v->end_ns; n--)
		t = next_edge(v, t);
	for (; n < 0 && t > 0; n++)
		t = prev_edge(v, t);
	pt_topview_seek(v, t);
}

bool pt_topview_tick(struct pt_topview *v, uint64_t wall_ns)
{
	if (v->paused)
		return false;
	if (v->t_ns >= v->end_ns) {
		v->paused = true;
		v->acc_ns = 0;
		return false;
	}
	v->acc_ns += v->speed * (double)wall_ns;
	double steps = v->acc_ns / (double)v->interval_ns;
	if (steps < 1.0)
		return false;
	double left = (double)(v->end_ns / v->interval_ns) + 2.0;
	uint64_t k = steps > left ? (uint64_t)left : (uint64_t)steps;
	v->acc_ns -= (double)k * (double)v->interval_ns;
	if (v->acc_ns < 0 || steps > left)
		v->acc_ns = 0;
	uint64_t t = v->t_ns / v->interval_ns * v->interval_ns;
	uint64_t room = (v->end_ns - t) / v->interval_ns + 1;
	t = k >= room ? v->end_ns : t + k * v->interval_ns;
	pt_topview_seek(v, t);
	if (v->t_ns >= v->end_ns) {
		v->paused = true;
		v->acc_ns = 0;
	}
	return true;
}

uint64_t pt_topview_time(const struct pt_topview *v)
{
	return v->t_ns;
}

uint64_t pt_topview_prev_time(const struct pt_topview *v)
{
	return v->prev_ns;
}

enum pt_top_phase pt_topview_phase(const struct pt_topview *v)
{
	const struct pt_phases *ph = pt_replay_phases(v->rp);
	if (v->t_ns < ph->wstart_ns)
		return PT_TOP_BEFORE;
	if (v->t_ns < ph->wend_ns)
		return PT_TOP_WORKLOAD;
	return PT_TOP_COOLDOWN;
}

const char *pt_topview_phase_name(enum pt_top_phase p)
{
	switch (p) {
	case PT_TOP_BEFORE:
		return "before workload";
	case PT_TOP_WORKLOAD:
		return "workload";
	default:
		return "cool-down";
	}
}

bool pt_topview_paused(const struct pt_topview *v)
{
	return v->paused;
}

double pt_topview_speed(const struct pt_topview *v)
{
	return v->speed;
}

enum pt_pool_filter pt_topview_pools(const struct pt_topview *v)
{
	return v->pools;
}

enum pt_sort pt_topview_sort(const struct pt_topview *v, bool *ascending, bool *by_change)
{
	if (ascending)
		*ascending = v->sort == PT_SORT_TAG ? !v->reverse : v->reverse;
	if (by_change)
		*by_change = v->by_change;
	return v->sort;
}

const char *pt_topview_filter(const struct pt_topview *v)
{
	return v->filter;
}

/* ---- keys ---- */

static void set_sort(struct pt_topview *v, enum pt_sort s)
{
	if (v->sort == s) {
		v->reverse = !v->reverse;
	} else {
		v->sort = s;
		v->reverse = false;
	}
	v->dirty = true;
}

static void set_speed(struct pt_topview *v, double s)
{
	if (s < TOP_SPEED_MIN)
		s = TOP_SPEED_MIN;
	if (s > TOP_SPEED_MAX)
		s = TOP_SPEED_MAX;
	v->speed = s;
	v->acc_ns = 0;
}

static unsigned edit_key(struct pt_topview *v, int key)
{
	switch (key) {
	case PT_TOPKEY_ENTER:
	case '\n':
	case '\r':
		v->edit[v->edit_len] = '\0';
		set_filter(v, v->edit);
		v->editing = false;
		return PT_TOPV_REDRAW;
	case PT_TOPKEY_ESC:
		v->editing = false;
		return PT_TOPV_REDRAW;
	case PT_TOPKEY_BACKSPACE:
	case 8:
	case 127:
		if (v->edit_len)
			v->edit[--v->edit_len] = '\0';
		return PT_TOPV_REDRAW;
	default:
		if (key >= 0x20 && key < 0x7f && v->edit_len + 1 < sizeof(v->edit)) {
			v->edit[v->edit_len++] = (char)key;
			v->edit[v->edit_len] = '\0';
			return PT_TOPV_REDRAW;
		}
		return 0;
	}
}

unsigned pt_topview_key(struct pt_topview *v, int key)
{
	if (v->editing)
		return edit_key(v, key);
	if (key >= 'A' && key <= 'Z')
		key = key - 'A' + 'a';
	if (v->help) {
		v->help = false;
		if (key == 'q' || key == PT_TOPKEY_ESC)
			return PT_TOPV_QUIT;
		return PT_TOPV_REDRAW;
	}
	switch (key) {
	case 'q':
	case PT_TOPKEY_ESC:
		return PT_TOPV_QUIT;
	case 'p':
		v->pools = v->pools == PT_POOLSEL_BOTH       ? PT_POOLSEL_NONPAGED
			   : v->pools == PT_POOLSEL_NONPAGED ? PT_POOLSEL_PAGED
							     : PT_POOLSEL_BOTH;
		v->scroll = 0;
		v->dirty = true;
		break;
	case 'b':
		set_sort(v, PT_SORT_BYTES);
		break;
	case 'm':
		set_sort(v, PT_SORT_PER_ALLOC);
		break;
	case 't':
		set_sort(v, PT_SORT_TAG);
		break;
	case 'a':
		set_sort(v, PT_SORT_ALLOCS);
		break;
	case 'f':
		set_sort(v, PT_SORT_FREES);
		break;
	case 's':
	case 'd':
		set_sort(v, PT_SORT_DIFF);
		break;
	case 'e':
		v->totals = !v->totals;
		break;
	case 'l':
		v->highlight = !v->highlight;
		break;
	case '(':
	case ')':
		v->by_change = !v->by_change;
		v->dirty = true;
		break;
	case '/':
		v->editing = true;
		snprintf(v->edit, sizeof(v->edit), "%s", v->filter);
		v->edit_len = strlen(v->edit);
		break;
	case '?':
	case 'h':
		v->help = true;
		break;
	case ' ':
		if (v->paused && v->t_ns >= v->end_ns)
			pt_topview_seek(v, 0); /* replay from the start */
		v->paused = !v->paused;
		v->acc_ns = 0;
		break;
	case PT_TOPKEY_LEFT:
		v->paused = true;
		pt_topview_step(v, -1);
		break;
	case PT_TOPKEY_RIGHT:
		v->paused = true;
		pt_topview_step(v, 1);
		break;
	case '[':
		set_speed(v, v->speed / 2);
		break;
	case ']':
		set_speed(v, v->speed * 2);
		break;
	case PT_TOPKEY_HOME:
		pt_topview_seek(v, 0);
		break;
	case PT_TOPKEY_END:
		pt_topview_seek(v, v->end_ns);
		break;
	case 'w':
		pt_topview_seek(v, pt_replay_phases(v->rp)->wend_ns);
		break;
	case 'c':
		pt_topview_seek(v, v->end_ns);
		break;
	case PT_TOPKEY_UP:
		if (v->scroll)
			v->scroll--;
		break;
	case PT_TOPKEY_DOWN:
		v->scroll++;
		break;
	case PT_TOPKEY_PGUP:
		v->scroll = v->scroll > v->page ? v->scroll - v->page : 0;
		break;
	case PT_TOPKEY_PGDN:
		v->scroll += v->page ? v->page : 1;
		break;
	default:
		return 0;
	}
	return PT_TOPV_REDRAW;
}

/* ---- rows ---- */

static bool pool_selected(enum pt_pool_filter f, enum pt_pool p)
{
	switch (f) {
	case PT_POOLSEL_PAGED:
		return pt_pool_is_paged(p);
	case PT_POOLSEL_NONPAGED:
		return !pt_pool_is_paged(p);
	default:
		return true;
	}
}

static int cmp_u(uint64_t x, uint64_t y)
{
	return x < y ? -1 : x > y;
}

static int cmp_i(int64_t x, int64_t y)
{
	return x < y ? -1 : x > y;
}

static int cmp_tag(const struct pt_topview *v, const struct pt_topview_row *a,
		   const struct pt_topview_row *b)
{
	const struct pt_tagstat *sa = &v->stats[a->stat], *sb = &v->stats[b->stat];
	size_t la, lb;
	const uint8_t *ta = pt_tags_bytes(v->tags, sa->tag, &la);
	const uint8_t *tb = pt_tags_bytes(v->tags, sb->tag, &lb);
	int r = memcmp(ta, tb, la < lb ? la : lb);
	if (r)
		return r;
	if (la != lb)
		return la < lb ? -1 : 1;
	return cmp_i(sa->pool, sb->pool);
}

/* Order of two rows: < 0 when a comes first. */
static int cmp_rows(const struct pt_topview *v, const struct pt_topview_row *a,
		    const struct pt_topview_row *b)
{
	int r = 0;
	bool ch = v->by_change;
	switch (v->sort) {
	case PT_SORT_ALLOCS:
		r = ch ? cmp_i(a->d_allocs, b->d_allocs) : cmp_u(a->c.allocs, b->c.allocs);
		break;
	case PT_SORT_FREES:
		r = ch ? cmp_i(a->d_frees, b->d_frees) : cmp_u(a->c.frees, b->c.frees);
		break;
	case PT_SORT_DIFF:
		r = ch ? cmp_i(a->d_diff, b->d_diff)
		       : cmp_i(pt_counts_diff(&a->c), pt_counts_diff(&b->c));
		break;
	case PT_SORT_BYTES:
		r = ch ? cmp_i(a->d_bytes, b->d_bytes) : cmp_u(a->c.bytes, b->c.bytes);
		break;
	case PT_SORT_PER_ALLOC:
		r = ch ? cmp_i(a->d_per_alloc, b->d_per_alloc)
		       : cmp_u(pt_per_alloc(&a->c), pt_per_alloc(&b->c));
		break;
	default:
		/* by tag; by change puts the changed rows first */
		if (ch && a->changed != b->changed)
			return a->changed ? -1 : 1;
		r = cmp_tag(v, a, b);
		return v->reverse ? -r : r;
	}
	r = -r; /* numbers: largest first */
	if (v->reverse)
		r = -r;
	if (r)
		return r;
	return cmp_tag(v, a, b);
}

/* Stable merge sort with the view as context. */
static void sort_rows(const struct pt_topview *v, struct pt_topview_row *a,
		      struct pt_topview_row *tmp, size_t n)
{
	if (n < 2)
		return;
	size_t h = n / 2;
	sort_rows(v, a, tmp, h);
	sort_rows(v, a + h, tmp, n - h);
	size_t i = 0, j = h, k = 0;
	while (i < h && j < n)
		tmp[k++] = cmp_rows(v, &a[j], &a[i]) < 0 ? a[j++] : a[i++];
	while (i < h)
		tmp[k++] = a[i++];
	while (j < n)
		tmp[k++] = a[j++];
	memcpy(a, tmp, n * sizeof(*a));
}

static bool row_visible(const struct pt_topview *v, size_t i)
{
	const struct pt_tagstat *st = &v->stats[i];
	if (!pool_selected(v->pools, st->pool))
		return false;
	if (v->filter[0]) {
		size_t len;
		const uint8_t *b = pt_tags_bytes(v->tags, st->tag, &len);
		if (!b || !pt_tag_match(v->filter, b, len))
			return false;
	}
	return true;
}

static void compute(struct pt_topview *v)
{
	size_t k = 0;
	for (size_t i = 0; i < v->nstats; i++) {
		if (!row_visible(v, i))
			continue;
		struct pt_topview_row *r = &v->rows[k];
		struct pt_counts p;
		memset(r, 0, sizeof(*r));
		r->stat = i;
		pt_topview_counts_at(v, i, v->t_ns, &r->c);
		if (v->prev_ns == v->t_ns)
			p = r->c;
		else
			pt_topview_counts_at(v, i, v->prev_ns, &p);
		r->d_allocs = (int64_t)(r->c.allocs - p.allocs);
		r->d_frees = (int64_t)(r->c.frees - p.frees);
		r->d_diff = pt_counts_diff(&r->c) - pt_counts_diff(&p);
		r->d_bytes = (int64_t)(r->c.bytes - p.bytes);
		r->d_per_alloc = (int64_t)(pt_per_alloc(&r->c) - pt_per_alloc(&p));
		r->changed = r->d_allocs || r->d_frees || r->d_bytes;
		r->verdict = v->verdicts ? v->verdicts[i].verdict : PT_VERDICT_OK;
		/* a tag not seen yet at the view time has no row, as in PoolMon */
		if (!r->c.allocs && !r->c.frees && !r->c.bytes && !r->c.live)
			continue;
		k++;
	}
	v->nrows = k;
	sort_rows(v, v->rows, v->tmp, k);
	v->dirty = false;
}

const struct pt_topview_row *pt_topview_rows(struct pt_topview *v, size_t *n)
{
	if (v->dirty)
		compute(v);
	*n = v->nrows;
	return v->rows;
}

void pt_topview_totals(struct pt_topview *v, struct pt_topview_totals *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < v->nstats; i++) {
		struct pt_counts c;
		pt_topview_counts_at(v, i, v->t_ns, &c);
		if (pt_pool_is_paged(v->stats[i].pool))
			out->paged_bytes += c.bytes;
		else
			out->nonpaged_bytes += c.bytes;
		out->live += c.live;
	}
	size_t n;
	const struct pt_topview_row *r = pt_topview_rows(v, &n);
	for (size_t i = 0; i < n; i++) {
		out->shown.allocs += r[i].c.allocs;
		out->shown.frees += r[i].c.frees;
		out->shown.bytes += r[i].c.bytes;
		out->shown.live += r[i].c.live;
		out->d_allocs += r[i].d_allocs;
		out->d_frees += r[i].d_frees;
		out->d_bytes += r[i].d_bytes;
	}
}

/* ---- text ---- */

struct line {
	char s[TOP_LINE_MAX];
	size_t n;
};

static void lput(struct line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void lput(struct line *l, const char *fmt, ...)
{
	if (l->n >= sizeof(l->s) - 1)
		return;
	va_list ap;
	va_start(ap, fmt);
	int r = vsnprintf(l->s + l->n, sizeof(l->s) - l->n, fmt, ap);
	va_end(ap);
	if (r > 0)
		l->n += (size_t)r;
	if (l->n > sizeof(l->s) - 1)
		l->n = sizeof(l->s) - 1;
}

static const char *sort_name(enum pt_sort s)
{
	static const char *const names[] = {"tag", "allocs", "frees", "diff", "bytes", "per alloc"};
	return (unsigned)s < sizeof(names) / sizeof(*names) ? names[s] : "?";
}

static const char *pools_name(enum pt_pool_filter f)
{
	return f == PT_POOLSEL_NONPAGED ? "nonpaged" : f == PT_POOLSEL_PAGED ? "paged" : "both";
}

static const char *verdict_word(enum pt_verdict_kind k)
{
	return k == PT_VERDICT_LEAK ? "leak" : "suspect";
}

char *pt_topview_status(struct pt_topview *v, char *buf, size_t bufsz)
{
	struct line l = {.n = 0};
	char a[32], b[32];
	lput(&l, " %s / %s  %s  ", pt_format_time(v->t_ns, a, sizeof(a)),
	     pt_format_time(v->end_ns, b, sizeof(b)), pt_topview_phase_name(pt_topview_phase(v)));
	if (v->once)
		lput(&l, "[still]");
	else if (v->t_ns >= v->end_ns && v->paused)
		lput(&l, "[end]");
	else
		lput(&l, "[%s x%.3g]", v->paused ? "paused" : "playing", v->speed);
	size_t n;
	const struct pt_topview_row *r = pt_topview_rows(v, &n);
	for (int pass = 0; pass < 2; pass++) {
		enum pt_verdict_kind want = pass ? PT_VERDICT_SUSPECT : PT_VERDICT_LEAK;
		bool first = true;
		for (size_t i = 0; i < n; i++) {
			if (r[i].verdict != want)
				continue;
			char tag[PT_TAG_DISPLAY_MAX];
			pt_tags_display(v->tags, v->stats[r[i].stat].tag, tag, sizeof(tag));
			if (first)
				lput(&l, "  %s:", verdict_word(want));
			lput(&l, " %s", tag);
			first = false;
		}
	}
	if (v->verdicts) {
		bool any = false;
		for (size_t i = 0; i < n; i++)
			any |= r[i].verdict != PT_VERDICT_OK;
		if (!any)
			lput(&l, "  no leak flagged");
	}
	snprintf(buf, bufsz, "%s", l.s);
	return buf;
}

/* Widths after squeezing the tag column into `width` (0 = no limit). */
struct cols {
	int tag, type, allocs, frees, diff, bytes, per, dc, db;
};

static int cols_width(const struct cols *c)
{
	return 1 + c->tag + 1 + c->type + 1 + c->allocs + 2 + c->dc + 1 + 1 + c->frees + 2 + c->dc +
	       1 + 1 + c->diff + 1 + c->bytes + 2 + c->db + 1 + 1 + c->per;
}

static void cols_for(struct pt_topview *v, int width, const struct pt_topview_row *r, size_t n,
		     struct cols *c)
{
	c->tag = v->w_tag;
	c->type = v->w_type;
	c->allocs = v->w_allocs;
	c->frees = v->w_frees;
	c->diff = v->w_diff;
	c->bytes = v->w_bytes;
	c->per = v->w_per;
	c->dc = 4;
	c->db = 6;
	for (size_t i = 0; i < n; i++) {
		c->dc = imax(c->dc, imax(digits_i(r[i].d_allocs), digits_i(r[i].d_frees)));
		c->db = imax(c->db, digits_i(r[i].d_bytes));
	}
	if (width > 0) {
		int over = cols_width(c) - width;
		if (over > 0)
			c->tag = imax(4, c->tag - over);
	}
}

static void columns_line(const struct pt_topview *v, const struct cols *c, struct line *l)
{
	lput(l, " %-*s %-*s %*s %*s %*s %*s %*s %*s %*s %*s", c->tag, "Tag", c->type, "Type",
	     c->allocs, "Allocs", c->dc + 2, "( )", c->frees, "Frees", c->dc + 2, "( )", c->diff,
	     "Diff", c->bytes, "Bytes", c->db + 2, "( )", c->per, "Per Alloc");
	if (v->tagmap)
		lput(l, "  Mapped_Driver");
}

static void row_line(struct pt_topview *v, const struct cols *c, const struct pt_topview_row *r,
		     struct line *l)
{
	char tag[PT_TAG_DISPLAY_MAX];
	const struct pt_tagstat *st = &v->stats[r->stat];
	pt_tags_display(v->tags, st->tag, tag, sizeof(tag));
	lput(l,
	     "%c%-*.*s %-*s %*" PRIu64 " (%*" PRId64 ") %*" PRIu64 " (%*" PRId64 ") %*" PRId64
	     " %*" PRIu64 " (%*" PRId64 ") %*" PRIu64,
	     r->changed && v->highlight ? '*' : ' ', c->tag, c->tag, tag, c->type,
	     pt_pool_name(st->pool), c->allocs, r->c.allocs, c->dc, r->d_allocs, c->frees,
	     r->c.frees, c->dc, r->d_frees, c->diff, pt_counts_diff(&r->c), c->bytes, r->c.bytes,
	     c->db, r->d_bytes, c->per, pt_per_alloc(&r->c));
	if (v->tagmap) {
		size_t len;
		const uint8_t *b = pt_tags_bytes(v->tags, st->tag, &len);
		char md[PT_MAPPED_MAX];
		pt_tagmap_mapped_driver(b ? pt_tagmap_lookup(v->tagmap, b, len) : NULL, md, sizeof(md));
		lput(l, "  %s", md);
	}
}

static void totals_line(const struct cols *c, const struct pt_topview_totals *t, struct line *l)
{
	lput(l,
	     " %-*s %-*s %*" PRIu64 " (%*" PRId64 ") %*" PRIu64 " (%*" PRId64 ") %*" PRId64
	     " %*" PRIu64 " (%*" PRId64 ")",
	     c->tag, "Total", c->type, "", c->allocs, t->shown.allocs, c->dc, t->d_allocs, c->frees,
	     t->shown.frees, c->dc, t->d_frees, c->diff, pt_counts_diff(&t->shown), c->bytes,
	     t->shown.bytes, c->db, t->d_bytes);
}

static const char *const help_text[] = {
	" Keys (either case); the same sort key again reverses the order",
	"  P        pools: nonpaged, paged, both    T      sort by tag",
	"  A        sort by allocs                  F      sort by frees",
	"  S D      sort by diff                    B      sort by bytes",
	"  M        sort by bytes per allocation    ( )    sort by change",
	"  E        totals line                     L      highlighting",
	"  /        filter tags (* ?), Enter        ? H    this help",
	"  space    play / pause                    <- ->  step one interval",
	"  [ ]      halve / double the speed        Home End  trace start / end",
	"  W        workload end                    C      end of the cool-down",
	"  Up Down PgUp PgDn  scroll                Q Esc  quit",
	" Rows marked * changed since the previous refresh; ( ) = that change.",
	" Any key closes this help.",
};

static void emit(pt_topview_line_fn fn, void *ctx, int *y, unsigned attr, struct line *l, int width)
{
	if (width > 0 && l->n > (size_t)width)
		l->s[width] = '\0';
	/* no trailing blanks */
	size_t n = strlen(l->s);
	while (n && l->s[n - 1] == ' ')
		l->s[--n] = '\0';
	fn(ctx, (*y)++, attr, l->s);
	l->n = 0;
	l->s[0] = '\0';
}

int pt_topview_render(struct pt_topview *v, int width, int height, pt_topview_line_fn fn,
		      void *ctx)
{
	size_t n;
	const struct pt_topview_row *rows = pt_topview_rows(v, &n);
	struct pt_topview_totals tot;
	pt_topview_totals(v, &tot);
	struct line l = {.n = 0};
	char a[32], b[32], c3[32];
	int y = 0;
	if (width >= TOP_LINE_MAX)
		width = TOP_LINE_MAX - 1;

	/* three top lines at most height - 1: the status line keeps the last */
	int top_max = height > 0 ? height - 1 : 3;
	if (top_max > 3)
		top_max = 3;
	const struct pt_trace_meta *m = v->meta;

	for (int i = 0; i < top_max; i++) {
		unsigned attr = PT_TOPL_HEADER;
		if (i == 0) {
			lput(&l, " Trace: %s", v->input_name ? v->input_name : "-");
			if (m && m->format[0])
				lput(&l, " (%s)", m->format);
			if (m && m->os[0])
				lput(&l, "  %s", m->os);
			if (m && m->os_build)
				lput(&l, " build %u", m->os_build);
			if (m && m->num_cpus)
				lput(&l, ", %u CPUs", m->num_cpus);
			if (m && m->pointer_size)
				lput(&l, ", %u-bit", m->pointer_size * 8);
			if (m && m->lost_known)
				lput(&l, "  Lost: %" PRIu64 " events", m->events_lost);
		} else if (i == 1) {
			lput(&l, " Pool N: %s  P: %s  Live: %" PRIu64 " allocs  Interval: %s",
			     pt_format_bytes(tot.nonpaged_bytes, a, sizeof(a)),
			     pt_format_bytes(tot.paged_bytes, b, sizeof(b)), tot.live,
			     pt_format_time(v->interval_ns, c3, sizeof(c3)));
		} else if (i == 2) {
			bool asc;
			pt_topview_sort(v, &asc, NULL);
			attr = PT_TOPL_INFO;
			lput(&l, " Sort: %s%s (%s)  Pools: %s  Filter: %s  Rows: %zu", sort_name(v->sort),
			     v->by_change ? " change" : "",
			     v->sort == PT_SORT_TAG && !v->by_change ? (asc ? "A-Z" : "Z-A")
								     : (asc ? "smallest first" : "largest first"),
			     pools_name(v->pools), v->filter[0] ? v->filter : "none", n);
		}
		emit(fn, ctx, &y, attr, &l, width);
	}

	struct cols c;
	/* body: column titles, totals, rows (or the help) */
	int body = height > 0 ? height - 1 - y : -1;
	size_t first = 0, count = n;
	if (height > 0) {
		int fixed = 1 + (v->totals ? 1 : 0);
		int room = body - fixed;
		if (room < 0)
			room = 0;
		v->page = (size_t)(room > 1 ? room - 1 : 1);
		if (v->scroll + (size_t)room > n)
			v->scroll = n > (size_t)room ? n - (size_t)room : 0;
		first = v->scroll;
		count = n - first < (size_t)room ? n - first : (size_t)room;
	}
	cols_for(v, width, rows + first, count, &c);
	if (v->help && !v->once) {
		size_t nh = sizeof(help_text) / sizeof(*help_text);
		for (size_t i = 0; i < nh && (height <= 0 || y < height - 1); i++) {
			lput(&l, "%s", help_text[i]);
			emit(fn, ctx, &y, PT_TOPL_HELP, &l, width);
		}
	} else {
		if (body != 0) {
			columns_line(v, &c, &l);
			emit(fn, ctx, &y, PT_TOPL_COLUMNS, &l, width);
		}
		if (v->totals && (height <= 0 || y < height - 1)) {
			totals_line(&c, &tot, &l);
			emit(fn, ctx, &y, PT_TOPL_TOTALS, &l, width);
		}
		for (size_t i = first; i < first + count && (height <= 0 || y < height - 1); i++) {
			unsigned attr = PT_TOPL_ROW;
			if (rows[i].changed && v->highlight)
				attr |= PT_TOPA_CHANGED;
			if (rows[i].verdict == PT_VERDICT_LEAK)
				attr |= PT_TOPA_LEAK;
			else if (rows[i].verdict == PT_VERDICT_SUSPECT)
				attr |= PT_TOPA_SUSPECT;
			row_line(v, &c, &rows[i], &l);
			emit(fn, ctx, &y, attr, &l, width);
		}
	}
	if (height > 0)
		y = height - 1;
	if (v->editing) {
		lput(&l, " Filter (* and ? wildcards; Enter applies, Esc cancels): %s", v->edit);
		emit(fn, ctx, &y, PT_TOPL_PROMPT, &l, width);
	} else {
		pt_topview_status(v, l.s, sizeof(l.s));
		l.n = strlen(l.s);
		emit(fn, ctx, &y, PT_TOPL_STATUS, &l, width);
	}
	return y;
}
