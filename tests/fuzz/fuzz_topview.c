/* SPDX-License-Identifier: MIT */
/*
 * The view model of `pooltrace top` on arbitrary replays and key sequences.
 * The input is read as event records up to a 0xFF byte, then as keys,
 * playback ticks and screen sizes. Checked: the view time stays within the
 * trace, rows never outnumber the entries, every rendered screen has the
 * asked height and no line is wider than asked.
 */
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "pooltrace/pooltrace.h"
#include "pooltrace/topview.h"

#define MAX_EVENTS 4096
#define MAX_ACTIONS 512

struct cursor {
	const uint8_t *p;
	size_t n;
};

static unsigned next(struct cursor *c)
{
	if (!c->n)
		return 0;
	c->n--;
	return *c->p++;
}

static const char *const tags[] = {"Leak", "File", "Irp ", "a\\b", "\x01\xff", "kmalloc-64",
				   "Ab*?", "very_long_call_site_name_of_a_linux_driver_module"};
static const char *const markers[] = {"workload-start", "workload-end", "hello", "stop"};

struct screen_check {
	int width, height, lines;
};

static void on_line(void *ctx, int y, unsigned attr, const char *text)
{
	struct screen_check *s = ctx;
	PT_FUZZ_CHECK(y >= 0);
	PT_FUZZ_CHECK(s->height <= 0 || y < s->height);
	PT_FUZZ_CHECK(s->width <= 0 || strlen(text) <= (size_t)s->width);
	PT_FUZZ_CHECK((attr & PT_TOPL_KIND_MASK) <= PT_TOPL_PROMPT);
	s->lines++;
}

static void render(struct pt_topview *v, int width, int height)
{
	struct screen_check s = {width, height, 0};
	int n = pt_topview_render(v, width, height, on_line, &s);
	if (height > 0)
		PT_FUZZ_CHECK(n == height);
	char buf[256];
	pt_topview_status(v, buf, sizeof(buf));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cursor c = {data, size};
	struct pt_tags *t = pt_tags_new(0);
	struct pt_replay *rp = NULL;
	struct pt_tag_verdict *verdicts = NULL;
	struct pt_topview *v = NULL;
	if (!t)
		return 0;
	struct pt_replay_opts ro;
	memset(&ro, 0, sizeof(ro));
	unsigned mode = next(&c);
	ro.interval_ns = (mode & 3) == 0 ? 0 : 1000ull << (mode & 15);
	if (mode & 0x10) {
		ro.has_wend = true;
		ro.wend_ns = (uint64_t)next(&c) << 20;
	}
	if (mode & 0x20) {
		ro.has_at = true;
		ro.at_ns = (uint64_t)next(&c) << 20;
	}
	rp = pt_replay_new(t, &ro);
	if (!rp)
		goto out;
	uint64_t ts = 0;
	for (int i = 0; i < MAX_EVENTS && c.n; i++) {
		unsigned op = next(&c);
		if (op == 0xFF)
			break;
		struct pt_event ev;
		pt_event_init(&ev);
		unsigned dt = next(&c) | next(&c) << 8;
		ts += (uint64_t)dt << (op & 0x40 ? 16 : 8);
		ev.ts_ns = (op & 0x80) && ts > 5000 ? ts - 5000 : ts; /* sometimes backwards */
		switch (op & 3) {
		case 0:
			ev.kind = PT_EV_ALLOC;
			break;
		case 1:
			ev.kind = PT_EV_FREE;
			break;
		case 2:
			ev.kind = PT_EV_SNAPSHOT;
			ev.snap_allocs = next(&c);
			ev.snap_frees = next(&c);
			break;
		default:
			ev.kind = PT_EV_MARKER;
			ev.marker = markers[(op >> 2) & 3];
			break;
		}
		if (ev.kind != PT_EV_MARKER) {
			const char *tg = tags[(op >> 2) & 7];
			if (pt_tags_intern(t, tg, strlen(tg), &ev.tag) < 0)
				goto out;
			ev.pool = (enum pt_pool)(next(&c) % PT_POOL_COUNT_);
			ev.size = (uint64_t)next(&c) << (op & 0x20 ? 20 : 0);
			ev.addr = next(&c);
		}
		if (pt_replay_event(rp, &ev) < 0)
			goto out;
	}
	if (pt_replay_finish(rp, (uint64_t)next(&c) << 16) < 0)
		goto out;
	struct pt_verdict_opts vo;
	pt_verdict_opts_init(&vo);
	if (pt_judge(rp, &vo, &verdicts) < 0)
		goto out;

	struct pt_topview_opts o;
	pt_topview_opts_init(&o);
	o.rp = rp;
	o.verdicts = verdicts;
	o.once = (mode & 0x40) != 0;
	o.has_at = ro.has_at;
	o.at_ns = ro.at_ns;
	o.at_captured = ro.has_at;
	o.speed = (mode & 0x80) ? 1e-3 * (double)(next(&c) + 1) : 0;
	v = pt_topview_new(&o);
	if (!v)
		goto out;
	uint64_t end = pt_replay_end_ns(rp);
	size_t nstats;
	pt_replay_stats(rp, &nstats);
	static const int special[] = {PT_TOPKEY_LEFT, PT_TOPKEY_RIGHT, PT_TOPKEY_UP,
				      PT_TOPKEY_DOWN, PT_TOPKEY_PGUP,  PT_TOPKEY_PGDN,
				      PT_TOPKEY_HOME, PT_TOPKEY_END,   PT_TOPKEY_ENTER,
				      PT_TOPKEY_BACKSPACE, PT_TOPKEY_ESC};
	render(v, 80, 24);
	for (int i = 0; i < MAX_ACTIONS && c.n; i++) {
		unsigned a = next(&c);
		if (a < 0xE0) {
			pt_topview_key(v, (int)a);
		} else if (a < 0xE0 + sizeof(special) / sizeof(*special)) {
			pt_topview_key(v, special[a - 0xE0]);
		} else if (a < 0xF8) {
			pt_topview_tick(v, (uint64_t)next(&c) << (a & 7) * 4);
		} else if (a == 0xF8) {
			pt_topview_step(v, (int)(int8_t)next(&c));
		} else if (a == 0xF9) {
			pt_topview_seek(v, (uint64_t)next(&c) << 24);
		} else {
			render(v, (int)next(&c) - 8, (int)next(&c) % 64);
		}
		PT_FUZZ_CHECK(pt_topview_time(v) <= end);
		size_t n;
		pt_topview_rows(v, &n);
		PT_FUZZ_CHECK(n <= nstats);
	}
	render(v, 0, 0);
	render(v, 100, 30);
out:
	pt_topview_free(v);
	free(verdicts);
	pt_replay_free(rp);
	pt_tags_free(t);
	return 0;
}
