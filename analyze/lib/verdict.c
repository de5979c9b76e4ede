/* SPDX-License-Identifier: MIT */
/*
 * Leak verdicts (docs/leak-detection.md). Three kinds of evidence are
 * combined for every (tag, pool type):
 *
 *  - drain: outstanding bytes at workload start, workload end and trace end;
 *  - age: which live allocations at trace end were made inside the workload
 *    (WPA's "allocated inside, freed outside"), by process, oldest first;
 *  - trend: the Theil-Sen slope of the troughs (lowest outstanding bytes of
 *    each window) over the workload and over its second half, with Sen's
 *    95 % confidence interval, so a sawtooth with flat troughs is no leak
 *    and rising troughs are one even when most of the churn drains.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "pooltrace/error.h"
#include "pooltrace/report.h"
#include "pooltrace/verdict.h"

#define TREND_WINDOWS 16
#define NS_PER_S 1e9

void pt_verdict_opts_init(struct pt_verdict_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->min_leak_bytes = 1;
	o->leak_max_drain = 0.10;
	o->ok_min_drain = 0.50;
}

const char *pt_verdict_name(enum pt_verdict_kind v)
{
	switch (v) {
	case PT_VERDICT_LEAK:
		return "leak";
	case PT_VERDICT_SUSPECT:
		return "suspect";
	default:
		return "ok";
	}
}

const char *pt_pattern_name(enum pt_pattern p)
{
	static const char *const names[] = {"none",          "flat",      "sawtooth",
					    "steady growth", "staircase", "plateau"};
	return (unsigned)p < sizeof(names) / sizeof(*names) ? names[p] : "?";
}

/* ---- trend ---- */

/*
 * Sort n doubles (no NaN) in increasing order. Shell sort with Ciura's gaps:
 * the arrays here hold at most 120 values, and an inline compare is several
 * times cheaper than qsort()'s call per compare, which was a tenth of a run
 * with 50 k tags (docs/performance.md, "Wide traces").
 */
static void sort_doubles(double *a, size_t n)
{
	static const size_t gaps[] = {57, 23, 10, 4, 1};
	for (size_t g = 0; g < sizeof(gaps) / sizeof(gaps[0]); g++) {
		size_t gap = gaps[g];
		for (size_t i = gap; i < n; i++) {
			double v = a[i];
			size_t j = i;
			for (; j >= gap && a[j - gap] > v; j -= gap)
				a[j] = a[j - gap];
			a[j] = v;
		}
	}
}

/* Theil-Sen slope of (x, y) with Sen's 95 % interval. Returns false with fewer than 3 points. */
static bool theil_sen(const double *x, const double *y, size_t n, double *slope, double *lo,
		      double *hi)
{
	double s[TREND_WINDOWS * TREND_WINDOWS / 2 + 1];
	size_t m = 0;
	if (n < 3)
		return false;
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			if (x[j] != x[i])
				s[m++] = (y[j] - y[i]) / (x[j] - x[i]);
	if (m < 3)
		return false;
	sort_doubles(s, m);
	*slope = (m % 2) ? s[m / 2] : (s[m / 2 - 1] + s[m / 2]) / 2;
	double nn = (double)n;
	double c = 1.96 * sqrt(nn * (nn - 1) * (2 * nn + 5) / 18.0);
	double l = floor(((double)m - c) / 2.0), u = ceil(((double)m + c) / 2.0);
	*lo = s[l < 0 ? 0 : (size_t)l];
	*hi = s[u >= (double)m ? m - 1 : (size_t)u];
	return true;
}

static void fit_trend(const struct pt_replay *rp, const struct pt_tagstat *st, uint64_t ws,
		      uint64_t we, struct pt_trend *t, enum pt_pattern *pattern)
{
	uint64_t iv = pt_replay_interval_ns(rp);
	uint32_t b0 = (uint32_t)(ws / iv), b1 = (uint32_t)(we / iv);
	memset(t, 0, sizeof(*t));
	*pattern = PT_PATTERN_NONE;
	if (b1 <= b0)
		return;
	uint32_t nb = b1 - b0;
	uint32_t w = nb < TREND_WINDOWS ? nb : TREND_WINDOWS;
	double x[TREND_WINDOWS], y[TREND_WINDOWS], pk[TREND_WINDOWS];
	struct pt_series_cursor cur;
	pt_series_cursor_init(&cur, st);
	for (uint32_t i = 0; i < w; i++) {
		uint32_t lo = b0 + (uint32_t)((uint64_t)i * nb / w);
		uint32_t hi = b0 + (uint32_t)((uint64_t)(i + 1) * nb / w);
		uint64_t trough = UINT64_MAX, peak = 0;
		for (uint32_t b = lo; b < hi; b++) {
			const struct pt_series_point *p = pt_series_cursor_at(&cur, b);
			uint64_t mn = pt_series_point_min(p, b), bytes = p ? p->c.bytes : 0;
			if (mn < trough)
				trough = mn;
			if (bytes > peak)
				peak = bytes;
		}
		x[i] = ((double)lo + (double)(hi - lo) / 2.0) * (double)iv / NS_PER_S;
		y[i] = (double)trough;
		pk[i] = (double)peak;
	}
	t->windows = w;
	if (w < 4)
		return;
	t->valid = theil_sen(x, y, w, &t->slope, &t->slope_lo, &t->slope_hi);
	if (!t->valid)
		return;
	uint32_t h = w / 2;
	t->late_valid = theil_sen(x + h, y + h, w - h, &t->late_slope, &t->late_lo, &t->late_hi);
	t->trough_first = y[0];
	t->trough_last = y[w - 1];
	double amp = 0;
	for (uint32_t i = 0; i < w; i++)
		amp += pk[i] - y[i];
	t->peak_to_trough = amp / w;

	double span = x[w - 1] - x[0];
	double rise = t->slope * span;
	double net = t->trough_last - t->trough_first;
	bool late_flat = t->late_valid && t->late_lo <= 0 &&
			 t->late_slope * span / 2 < 0.2 * (net > 0 ? net : 0);
	bool rising = t->slope_lo > 0 && rise > 0;
	/* rose (early), then level for the whole second half */
	if (net > 0 && late_flat && net > 0.5 * t->peak_to_trough) {
		*pattern = PT_PATTERN_PLATEAU;
		return;
	}
	if (!rising) {
		*pattern = t->peak_to_trough > 0 && t->peak_to_trough > 2 * fabs(rise) ?
				   PT_PATTERN_SAWTOOTH : PT_PATTERN_FLAT;
		return;
	}
	/* staircase: a few window-to-window steps carry most of the rise */
	double inc[TREND_WINDOWS], total = 0;
	uint32_t ni = 0, zero = 0;
	for (uint32_t i = 1; i < w; i++) {
		double d = y[i] - y[i - 1];
		if (d > 0) {
			inc[ni++] = d;
			total += d;
		} else {
			zero++;
		}
	}
	sort_doubles(inc, ni);
	double top = 0;
	uint32_t k = (w - 1 + 3) / 4;
	for (uint32_t i = 0; i < k && i < ni; i++)
		top += inc[ni - 1 - i];
	*pattern = (total > 0 && top >= 0.75 * total && zero >= (w - 1) / 3) ? PT_PATTERN_STAIRCASE
									    : PT_PATTERN_STEADY;
}

/* ---- age and processes (one pass over the live map for all entries) ---- */

struct pidkey {
	uint32_t stat, pid;
	uint64_t live, bytes;
	bool used;
};

struct age_ctx {
	struct pt_tag_verdict *v;
	uint64_t ws, we, end;
	struct pidkey *pk;
	size_t pk_mask, pk_n;
	int err;
	/* (stat, stack) -> live bytes, when the trace has stacks; same layout as pk */
	struct pidkey *sk;
	size_t sk_mask, sk_n;
	uint64_t hkey; /* random key of pk_hash(): pids come from the trace */
};

/*
 * Hash of a (stat, pid) key. Every bit of the key must reach the low bits
 * the mask keeps: a plain multiply-and-shift left the low 15 bits of the
 * hash depending on the pid alone, so with thousands of tags and one process
 * every key fell into one probe run and the pass became quadratic in the
 * number of tags (the wide benchmark spent half its time here).
 */
static size_t pk_hash(uint64_t hkey, uint32_t stat, uint32_t pid, size_t mask)
{
	/* keyed: fmix64 alone is invertible, so a crafted trace could pick colliding pids */
	return (size_t)pt__fmix64(((uint64_t)stat << 32 | pid) ^ hkey) & mask;
}

static int pk_grow_tab(struct pidkey **tab, size_t *mask, uint64_t hkey)
{
	size_t ncap = (*mask + 1) * 2;
	struct pidkey *n = calloc(ncap, sizeof(*n));
	if (!n)
		return PT_ENOMEM;
	for (size_t i = 0; i <= *mask; i++) {
		if (!(*tab)[i].used)
			continue;
		size_t h = pk_hash(hkey, (*tab)[i].stat, (*tab)[i].pid, ncap - 1);
		while (n[h].used)
			h = (h + 1) & (ncap - 1);
		n[h] = (*tab)[i];
	}
	free(*tab);
	*tab = n;
	*mask = ncap - 1;
	return 0;
}

/* Count a live allocation under (stat, key) in a pidkey table. */
static int pk_add(struct pidkey **tab, size_t *mask, size_t *n, uint64_t hkey, uint32_t stat,
		  uint32_t key, uint64_t size)
{
	if ((*n + 1) * 2 > *mask + 1 && pk_grow_tab(tab, mask, hkey) < 0)
		return PT_ENOMEM;
	size_t h = pk_hash(hkey, stat, key, *mask);
	while ((*tab)[h].used && ((*tab)[h].stat != stat || (*tab)[h].pid != key))
		h = (h + 1) & *mask;
	if (!(*tab)[h].used) {
		(*tab)[h].used = true;
		(*tab)[h].stat = stat;
		(*tab)[h].pid = key;
		(*n)++;
	}
	(*tab)[h].live++;
	(*tab)[h].bytes += size;
	return 0;
}

/*
 * on_live() for a, a few allocations from now: ask for the lines it will
 * touch (the entry's age counters, its histogram bin, its oldest list and
 * the process slot). The live map is walked in hash order, so with tens of
 * thousands of entries each of those is a cache miss of its own.
 */
static void on_live_ahead(void *ctx, const struct pt_live_alloc *a)
{
#if defined(__GNUC__) || defined(__clang__)
	struct age_ctx *c = ctx;
	const struct pt_age *g = &c->v[a->stat].age;
	__builtin_prefetch(g, 1, 3);
	__builtin_prefetch(&g->hist_count[PT_AGE_BINS / 2], 1, 3);
	__builtin_prefetch(&g->hist_bytes[PT_AGE_BINS / 2], 1, 3);
	__builtin_prefetch(&g->oldest[PT_OLDEST_MAX - 1], 1, 3);
	__builtin_prefetch(&c->pk[pk_hash(c->hkey, a->stat, a->pid, c->pk_mask)], 1, 3);
#else
	(void)ctx;
	(void)a;
#endif
}

/*
 * The age histogram's bin of time ts: bin i holds [i, i + 1) x (end + 1) /
 * PT_AGE_BINS. Times and ends past 2^61 ns (only in hostile traces; end + 1
 * can even wrap to 0) take a division that cannot overflow instead.
 */
static uint64_t age_bin(uint64_t ts, uint64_t end)
{
	if (!end)
		return 0;
	uint64_t bin;
	if (end < UINT64_MAX / PT_AGE_BINS && ts < UINT64_MAX / PT_AGE_BINS)
		bin = ts * PT_AGE_BINS / (end + 1);
	else
		bin = ts / (end / PT_AGE_BINS + 1);
	return bin < PT_AGE_BINS ? bin : PT_AGE_BINS - 1;
}

static int on_live(void *ctx, const struct pt_live_alloc *a)
{
	struct age_ctx *c = ctx;
	struct pt_age *g = &c->v[a->stat].age;
	if (a->ts_ns < c->ws) {
		g->live_before++;
		g->bytes_before += a->size;
	} else if (a->ts_ns <= c->we) {
		g->live_inside++;
		g->bytes_inside += a->size;
		if (a->ts_ns < c->ws + (c->we - c->ws) / 2) {
			g->live_early++;
			g->bytes_early += a->size;
		}
	} else {
		g->live_after++;
		g->bytes_after += a->size;
	}
	uint64_t bin = age_bin(a->ts_ns, c->end);
	g->hist_count[bin]++;
	g->hist_bytes[bin] += a->size;
	/* keep the oldest few, sorted by time then address (deterministic) */
	uint32_t n = g->noldest, pos = n;
	while (pos > 0 && (g->oldest[pos - 1].ts_ns > a->ts_ns ||
			   (g->oldest[pos - 1].ts_ns == a->ts_ns && g->oldest[pos - 1].addr > a->addr)))
		pos--;
	if (pos < PT_OLDEST_MAX) {
		uint32_t last = n < PT_OLDEST_MAX ? n : PT_OLDEST_MAX - 1;
		memmove(&g->oldest[pos + 1], &g->oldest[pos], (last - pos) * sizeof(g->oldest[0]));
		g->oldest[pos] = *a;
		if (n < PT_OLDEST_MAX)
			g->noldest++;
	}
	/* per-process live bytes */
	if (pk_add(&c->pk, &c->pk_mask, &c->pk_n, c->hkey, a->stat, a->pid, a->size) < 0) {
		c->err = PT_ENOMEM;
		return 1;
	}
	/* live bytes by stack */
	if (c->sk) {
		if (a->stack == PT_NONE32) {
			c->v[a->stat].live_nostack++;
			c->v[a->stat].bytes_nostack += a->size;
		} else if (pk_add(&c->sk, &c->sk_mask, &c->sk_n, c->hkey, a->stat, a->stack, a->size) < 0) {
			c->err = PT_ENOMEM;
			return 1;
		}
	}
	return 0;
}

/*
 * Put k into the top list list[0..*n) of capacity cap (struct pt_pid_bytes
 * or pt_stack_bytes, whose key field is KEY): most bytes first, ties by the
 * smaller key; an item past the capacity is left out.
 */
#define TOP_INSERT(list, n, cap, KEY, k)                                                  \
	do {                                                                              \
		uint32_t pos_ = (n);                                                      \
		while (pos_ > 0 && ((list)[pos_ - 1].bytes < (k)->bytes ||                \
				    ((list)[pos_ - 1].bytes == (k)->bytes &&              \
				     (list)[pos_ - 1].KEY > (k)->pid)))                   \
			pos_--;                                                           \
		if (pos_ >= (cap))                                                        \
			break;                                                            \
		uint32_t last_ = (n) < (cap) ? (n) : (cap) - 1;                           \
		memmove(&(list)[pos_ + 1], &(list)[pos_], (last_ - pos_) * sizeof((list)[0])); \
		(list)[pos_].KEY = (k)->pid;                                              \
		(list)[pos_].live = (k)->live;                                            \
		(list)[pos_].bytes = (k)->bytes;                                          \
		if ((n) < (cap))                                                          \
			(n)++;                                                            \
	} while (0)

/* A stack's live bytes of one entry (the stack id is in pidkey.pid). */
static void add_stack(struct pt_tag_verdict *v, const struct pidkey *k)
{
	v->stacks_distinct++;
	TOP_INSERT(v->stacks, v->nstacks, PT_TOP_STACKS, stack, k);
}

static void add_pid(struct pt_tag_verdict *v, const struct pidkey *k)
{
	TOP_INSERT(v->pids, v->npids, PT_TOP_PIDS, pid, k);
}

static int gather_age(const struct pt_replay *rp, struct pt_tag_verdict *v, size_t n)
{
	const struct pt_phases *ph = pt_replay_phases(rp);
	struct age_ctx c = {v, ph->wstart_ns, ph->wend_ns, pt_replay_end_ns(rp), NULL, 255, 0, 0,
			    NULL, 255, 0, pt__random64()};
	(void)n;
	c.pk = calloc(c.pk_mask + 1, sizeof(*c.pk));
	if (!c.pk)
		return PT_ENOMEM;
	if (pt_replay_has_stacks(rp)) {
		c.sk = calloc(c.sk_mask + 1, sizeof(*c.sk));
		if (!c.sk) {
			free(c.pk);
			return PT_ENOMEM;
		}
	}
	pt_replay_live_foreach_ahead(rp, on_live, on_live_ahead, &c);
	if (!c.err) {
		for (size_t i = 0; i <= c.pk_mask; i++)
			if (c.pk[i].used)
				add_pid(&v[c.pk[i].stat], &c.pk[i]);
		for (size_t i = 0; c.sk && i <= c.sk_mask; i++)
			if (c.sk[i].used)
				add_stack(&v[c.sk[i].stat], &c.sk[i]);
	}
	free(c.pk);
	free(c.sk);
	return c.err;
}

/* ---- the decision ---- */

/* a - b as int64_t, saturating at +-INT64_MAX (byte totals from hostile traces can be huge). */
static int64_t sdiff(uint64_t a, uint64_t b)
{
	uint64_t d = a >= b ? a - b : b - a;
	int64_t m = d > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)d;
	return a >= b ? m : -m;
}

/* A non-negative double as uint64_t, saturating (slopes over tiny spans can be huge). */
static uint64_t clamp_u64(double d)
{
	if (!(d > 0))
		return 0;
	if (d >= 18446744073709549568.0)
		return UINT64_MAX;
	return (uint64_t)d;
}

static bool significant_rise(const struct pt_trend *t, bool late, double span_s, uint64_t min_bytes)
{
	double s = late ? t->late_slope : t->slope, lo = late ? t->late_lo : t->slope_lo;
	if (late && !t->late_valid)
		return false;
	if (!t->valid || lo <= 0)
		return false;
	return s * span_s >= (double)min_bytes;
}

static void judge_one(const struct pt_replay *rp, const struct pt_tagstat *st,
		      const struct pt_verdict_opts *o, double loss_rate, bool snapshot_only,
		      struct pt_tag_verdict *v)
{
	const struct pt_phases *ph = pt_replay_phases(rp);
	uint64_t end = pt_replay_end_ns(rp);
	char t1[32], b1[32], b2[32], b3[32];

	if (ph->wstart_src == PT_PHASE_DEFAULT && snapshot_only && st->nseries)
		v->at_wstart = st->series[0].c; /* counters since boot: the first sample is the baseline */
	else if (ph->wstart_src == PT_PHASE_DEFAULT)
		memset(&v->at_wstart, 0, sizeof(v->at_wstart)); /* nothing before the trace */
	else
		pt_tagstat_at(rp, st, ph->wstart_ns, &v->at_wstart);
	pt_tagstat_at(rp, st, ph->wend_ns, &v->at_wend);
	v->at_end = st->now;
	v->growth_bytes = sdiff(v->at_wend.bytes, v->at_wstart.bytes);
	v->residual_bytes = sdiff(v->at_end.bytes, v->at_wstart.bytes);
	int64_t freed = sdiff(v->at_wend.bytes, v->at_end.bytes);
	v->drained = v->growth_bytes > 0 ? (double)freed / (double)v->growth_bytes : 0.0;
	fit_trend(rp, st, ph->wstart_ns, ph->wend_ns, &v->trend, &v->pattern);

	uint64_t cooldown = end > ph->wend_ns ? end - ph->wend_ns : 0;
	bool has_cooldown = cooldown > 0;
	double span = (double)(ph->wend_ns - ph->wstart_ns) / NS_PER_S;
	/* what the workload left behind: live allocations made inside it (exact with
	 * addresses), else the residual of the counters */
	int64_t left = snapshot_only ? v->residual_bytes : sdiff(v->age.bytes_inside, 0);
	uint64_t left_live = snapshot_only ? (v->at_end.live > v->at_wstart.live ?
						     v->at_end.live - v->at_wstart.live : 0)
					   : v->age.live_inside;
	uint64_t workload_allocs = v->at_wend.allocs - v->at_wstart.allocs;
	bool rise = significant_rise(&v->trend, false, span, o->min_leak_bytes);
	bool late_rise = significant_rise(&v->trend, true, span / 2, o->min_leak_bytes);
	double pct = v->drained * 100.0;

	pt_format_time(cooldown, t1, sizeof(t1));
	pt_format_bytes(v->growth_bytes > 0 ? (uint64_t)v->growth_bytes : 0, b1, sizeof(b1));
	pt_format_bytes(left > 0 ? (uint64_t)left : 0, b2, sizeof(b2));
	pt_format_bytes(clamp_u64(fabs(v->trend.late_valid ? v->trend.late_slope : v->trend.slope)),
			b3, sizeof(b3));

	v->verdict = PT_VERDICT_OK;
	v->score = 0;
	if ((v->growth_bytes <= 0 || (uint64_t)v->growth_bytes < o->min_leak_bytes) &&
	    (left <= 0 || (uint64_t)left < o->min_leak_bytes)) {
		snprintf(v->reason, sizeof(v->reason), "no growth during the workload");
		return;
	}
	if (left <= 0 || (uint64_t)left < o->min_leak_bytes) {
		snprintf(v->reason, sizeof(v->reason),
			 "grew by %s during the workload; everything allocated then was freed by the end",
			 b1);
		return;
	}
	/* lost events: a lost free looks like a leak */
	if (o->lost_known && o->events_lost > 0 && workload_allocs > 0) {
		double frac = (double)left_live / (double)workload_allocs;
		if (frac <= 3.0 * loss_rate + 0.001 || left_live <= o->events_lost / 1000)
			v->lost_events_matter = true;
	}
	if (!has_cooldown) {
		v->verdict = PT_VERDICT_SUSPECT;
		v->score = rise ? 0.6 : 0.3;
		snprintf(v->reason, sizeof(v->reason),
			 "grew by %s during the workload%s; the trace ends with the workload, so draining "
			 "cannot be tested (record a cool-down)",
			 b1, rise ? " and its troughs rose steadily" : "");
		return;
	}
	enum pt_verdict_kind kind;
	/* a plateau is a bounded cache only while the tag stays busy (allocations
	 * in the second half of the workload that did not raise the troughs) and
	 * recycles its objects: most of what is still live was allocated late.
	 * Objects from the growth phase that are all still there are stuck: a leak
	 * that stopped growing. */
	struct pt_counts mid;
	pt_tagstat_at(rp, st, ph->wstart_ns + (ph->wend_ns - ph->wstart_ns) / 2, &mid);
	bool busy_late = v->at_wend.allocs > mid.allocs;
	bool recycled = snapshot_only || v->age.bytes_early * 2 < v->age.bytes_inside;
	if (v->drained < o->leak_max_drain) {
		if (v->pattern == PT_PATTERN_PLATEAU && !late_rise && busy_late && recycled) {
			kind = PT_VERDICT_SUSPECT;
			v->score = 0.4;
			snprintf(v->reason, sizeof(v->reason),
				 "grew by %s early in the workload, then levelled off while its objects were "
				 "recycled, and did not drain in %s of cool-down: a cache that fills to a bound?",
				 b1, t1);
		} else {
			kind = PT_VERDICT_LEAK;
			v->score = 0.7 + 0.2 * (rise ? 1 : 0) + 0.1 * (1.0 - (v->drained > 0 ? v->drained : 0));
			snprintf(v->reason, sizeof(v->reason),
				 "grew by %s during the workload (%s); only %.0f%% freed in %s of cool-down; "
				 "%s in %llu allocations made during the workload still outstanding",
				 b1, pt_pattern_name(v->pattern), pct < 0 ? 0.0 : pct, t1, b2,
				 (unsigned long long)left_live);
		}
	} else if (rise && late_rise && v->trend.slope * span >= 0.5 * (double)left) {
		/* the churn drains but the troughs kept rising to the end: a slow leak under churn */
		kind = PT_VERDICT_LEAK;
		v->score = 0.75;
		snprintf(v->reason, sizeof(v->reason),
			 "%.0f%% of the growth drained in %s of cool-down, but its troughs rose steadily "
			 "(%s/s) to the end of the workload: %s in %llu allocations made during the "
			 "workload are still outstanding",
			 pct, t1, b3, b2, (unsigned long long)left_live);
	} else if (v->drained >= o->ok_min_drain) {
		kind = PT_VERDICT_OK;
		snprintf(v->reason, sizeof(v->reason),
			 "grew by %s during the workload and %.0f%% of it was freed in %s of cool-down",
			 b1, pct, t1);
	} else {
		kind = PT_VERDICT_SUSPECT;
		v->score = 0.5 * (1.0 - v->drained);
		snprintf(v->reason, sizeof(v->reason),
			 "grew by %s during the workload; %.0f%% freed in %s of cool-down (partial drain, "
			 "troughs %s)",
			 b1, pct, t1, late_rise ? "still rising" : "not rising");
	}
	if (kind == PT_VERDICT_LEAK && v->lost_events_matter) {
		kind = PT_VERDICT_SUSPECT;
		v->score *= 0.5;
		size_t l = strlen(v->reason);
		snprintf(v->reason + l, sizeof(v->reason) - l,
			 "; but the trace lost %llu events and a lost free looks like a leak",
			 (unsigned long long)o->events_lost);
	} else if (kind == PT_VERDICT_LEAK && o->lost_known && o->events_lost > 0) {
		v->score *= 0.9;
	}
	if (kind == PT_VERDICT_LEAK && ph->wend_src == PT_PHASE_DEFAULT) {
		/* nothing says when the workload ended: the cool-down is a guess */
		kind = PT_VERDICT_SUSPECT;
		v->score *= 0.6;
		size_t l = strlen(v->reason);
		snprintf(v->reason + l, sizeof(v->reason) - l,
			 "; but the workload end is assumed (no marker, no --workload-end, no drop in "
			 "the event rate): give --workload-end to confirm");
	}
	if (kind == PT_VERDICT_LEAK && v->score < o->min_score) {
		kind = PT_VERDICT_SUSPECT;
		size_t l = strlen(v->reason);
		snprintf(v->reason + l, sizeof(v->reason) - l, " (score %.2f below --min-confidence)",
			 v->score);
	}
	v->verdict = kind;
}

int pt_judge(const struct pt_replay *rp, const struct pt_verdict_opts *opts,
	     struct pt_tag_verdict **out)
{
	struct pt_verdict_opts def;
	if (!opts) {
		pt_verdict_opts_init(&def);
		opts = &def;
	}
	size_t n;
	const struct pt_tagstat *st = pt_replay_stats(rp, &n);
	struct pt_tag_verdict *v = calloc(n ? n : 1, sizeof(*v));
	if (!v)
		return PT_ENOMEM;
	int rc = gather_age(rp, v, n);
	if (rc < 0) {
		free(v);
		return rc;
	}
	const struct pt_replay_totals *t = pt_replay_totals(rp);
	double loss_rate = 0;
	if (opts->lost_known && t->events + opts->events_lost > 0)
		loss_rate = (double)opts->events_lost / (double)(t->events + opts->events_lost);
	bool snapshot_only = t->snapshots > 0 && t->allocs == 0;
	for (size_t i = 0; i < n; i++) {
		v[i].stat = i;
		judge_one(rp, &st[i], opts, loss_rate, snapshot_only, &v[i]);
	}
	*out = v;
	return 0;
}
