/* SPDX-License-Identifier: MIT */
/*
 * HTML reporter: one self-contained page to attach to a bug ticket. Inline
 * CSS, inline SVG charts (hover values in <title> elements, so they work
 * without scripts) and a few lines of inline script for sortable tables.
 * No external fonts, scripts or requests. Every text that comes from the
 * trace, a tag file or the command line goes through pt_html_escape(); the
 * one JSON block goes through pt_json_string(), which escapes < > &.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pooltrace/error.h"
#include "pooltrace/tags.h"
#include "pooltrace/version.h"
#include "reporters/reporters.h"

#define MAX_CHARTS 40
#define TOP_EXTRA 5       /* charts of the largest unflagged tags */
#define MAX_POINTS 360    /* chart points at most (buckets are merged beyond) */

/* Chart geometry (SVG user units; the SVG scales to its box). */
#define CW 760.0
#define CH 230.0
#define ML 74.0
#define MR 18.0
#define MT 22.0
#define MB 38.0

static const char css[] =
	":root{--fg:#1d2330;--muted:#5b6474;--line:#d9dee7;--bg:#fff;--head:#f4f6f9;"
	"--leak:#c62828;--leak-bg:#fdecea;--sus:#a65f00;--sus-bg:#fff4e0;--ok:#2e7d32;"
	"--wl:#e3eefc;--cd:#fdf1e3;--acc:#1f5fbf}\n"
	"*{box-sizing:border-box}\n"
	"body{margin:0;font:14px/1.45 system-ui,-apple-system,\"Segoe UI\",Roboto,\"Helvetica Neue\","
	"Arial,sans-serif;color:var(--fg);background:var(--bg)}\n"
	"main{max-width:1120px;margin:0 auto;padding:0 20px 40px}\n"
	"header.top{background:#1d2330;color:#fff;padding:18px 0 14px}\n"
	"header.top .in{max-width:1120px;margin:0 auto;padding:0 20px}\n"
	"header.top h1{margin:0 0 4px;font-size:22px;font-weight:600}\n"
	"header.top p{margin:0;color:#c8cfdb;font-size:13px;word-break:break-all}\n"
	".badges{display:flex;gap:8px;flex-wrap:wrap;margin-top:12px}\n"
	".badge{display:inline-block;padding:3px 10px;border-radius:12px;font-weight:600;font-size:13px;"
	"background:#39414f;color:#fff}\n"
	".badge.leak{background:var(--leak)}.badge.sus{background:var(--sus)}.badge.ok{background:var(--ok)}\n"
	"nav{position:sticky;top:0;background:#fff;border-bottom:1px solid var(--line);z-index:2}\n"
	"nav .in{max-width:1120px;margin:0 auto;padding:6px 20px;display:flex;gap:16px;flex-wrap:wrap}\n"
	"nav a{color:var(--acc);text-decoration:none;font-size:13px}\n"
	"h2{font-size:18px;margin:28px 0 10px;padding-bottom:4px;border-bottom:2px solid var(--line)}\n"
	"h3{font-size:15px;margin:18px 0 6px}\n"
	".lead{font-size:15px;margin:16px 0}\n"
	".scroll{overflow-x:auto;-webkit-overflow-scrolling:touch}\n"
	"table{border-collapse:collapse;width:100%;font-size:13px}\n"
	"th,td{padding:5px 8px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}\n"
	"th{background:var(--head);font-weight:600;white-space:nowrap}\n"
	"td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
	"td.tag{font-family:ui-monospace,Consolas,\"DejaVu Sans Mono\",monospace;white-space:pre}\n"
	"table.sortable th{cursor:pointer;user-select:none}\n"
	"table.sortable th::after{content:\"\";display:inline-block;width:1em}\n"
	"th[aria-sort=ascending]::after{content:\" \\25B2\"}th[aria-sort=descending]::after{content:\" \\25BC\"}\n"
	"tr.leak td{background:var(--leak-bg)}tr.sus td{background:var(--sus-bg)}\n"
	".v{font-weight:700;font-size:12px;letter-spacing:.03em}\n"
	".v.leak{color:var(--leak)}.v.sus{color:var(--sus)}.v.ok{color:var(--ok)}\n"
	".muted{color:var(--muted)}\n"
	"dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;margin:0}\n"
	"dl.facts dt{color:var(--muted)}dl.facts dd{margin:0;word-break:break-word}\n"
	".charts{display:grid;grid-template-columns:1fr;gap:18px}\n"
	"figure.chart{margin:0;border:1px solid var(--line);border-radius:6px;padding:10px 12px 6px;"
	"break-inside:avoid;page-break-inside:avoid}\n"
	"figure.chart figcaption{font-weight:600;margin-bottom:4px}\n"
	"figure.chart figcaption .d{font-weight:400;color:var(--muted)}\n"
	"svg{display:block;width:100%;height:auto}\n"
	"svg text{font:11px system-ui,-apple-system,\"Segoe UI\",Roboto,Arial,sans-serif;fill:#4a5261}\n"
	"svg .grid{stroke:#e6e9ef;stroke-width:1}svg .axis{stroke:#8a93a3;stroke-width:1}\n"
	"svg .wl{fill:var(--wl)}svg .cd{fill:var(--cd)}\n"
	"svg .band-label{font-size:10px;fill:#6b7484;text-transform:uppercase;letter-spacing:.05em}\n"
	"td.why{min-width:220px}td.drv{min-width:140px}#verdict-table th{white-space:normal}\n"
	"svg .area{opacity:.13}svg .ln{fill:none;stroke-width:2}\n"
	"svg .pt{fill:transparent;stroke:none}svg .pt:hover{fill:currentColor;stroke:#fff}\n"
	"svg .mark{stroke:#6b7484;stroke-dasharray:4 3}\n"
	".phasebar{display:flex;height:26px;border-radius:4px;overflow:hidden;font-size:12px;"
	"border:1px solid var(--line)}\n"
	".phasebar div{display:flex;align-items:center;justify-content:center;white-space:nowrap;"
	"overflow:hidden;padding:0 4px}\n"
	".phasebar .pre{background:#eef0f3}.phasebar .wl{background:var(--wl)}"
	".phasebar .cd{background:var(--cd)}\n"
	".evidence article{border-left:4px solid var(--line);padding:2px 0 2px 14px;margin:14px 0}\n"
	".evidence article.leak{border-color:var(--leak)}.evidence article.sus{border-color:var(--sus)}\n"
	".evidence table{width:auto;min-width:50%}\n"
	"footer{margin-top:36px;padding-top:10px;border-top:1px solid var(--line);font-size:12px;"
	"color:var(--muted)}\n"
	"footer code{white-space:pre-wrap;word-break:break-all}\n"
	"@media (max-width:640px){main{padding:0 10px 30px}header.top .in,nav .in{padding-left:10px;"
	"padding-right:10px}th,td{padding:4px 5px}dl.facts{grid-template-columns:1fr}"
	"dl.facts dt{margin-top:6px}}\n"
	"@media print{nav{display:none}header.top{background:#fff;color:#000;border-bottom:2px solid #000}"
	"header.top p{color:#333}.badge{border:1px solid #000;color:#000;background:#fff!important}"
	"body{font-size:11px}main{max-width:none;padding:0}.scroll{overflow:visible}"
	"h2{break-after:avoid;page-break-after:avoid}tr{break-inside:avoid}"
	"tr.leak td,tr.sus td{-webkit-print-color-adjust:exact;print-color-adjust:exact}"
	"svg .wl,svg .cd,.phasebar div{-webkit-print-color-adjust:exact;print-color-adjust:exact}}\n";

static const char script[] =
	"(function(){\n"
	"function key(td){if(!td)return '';var v=td.getAttribute('data-v');"
	"return v!==null?parseFloat(v):td.textContent.trim().toLowerCase();}\n"
	"function sort(th){var tr=th.parentNode,table=tr.closest('table'),tb=table.tBodies[0];\n"
	" var i=Array.prototype.indexOf.call(tr.children,th);\n"
	" var asc=th.getAttribute('aria-sort')!=='ascending';\n"
	" Array.prototype.forEach.call(tr.children,function(h){h.removeAttribute('aria-sort');});\n"
	" th.setAttribute('aria-sort',asc?'ascending':'descending');\n"
	" var rows=Array.prototype.slice.call(tb.rows);\n"
	" rows.sort(function(a,b){var x=key(a.cells[i]),y=key(b.cells[i]);\n"
	"  var r=(typeof x==='number'&&typeof y==='number')?x-y:String(x).localeCompare(String(y));\n"
	"  return asc?r:-r;});\n"
	" rows.forEach(function(r){tb.appendChild(r);});}\n"
	"document.querySelectorAll('table.sortable th').forEach(function(th){\n"
	" th.setAttribute('tabindex','0');th.setAttribute('title','Sort');\n"
	" th.addEventListener('click',function(){sort(th);});\n"
	" th.addEventListener('keydown',function(e){if(e.key==='Enter'||e.key===' '){e.preventDefault();sort(th);}});});\n"
	"document.body.setAttribute('data-ready','1');\n"
	"})();\n";

static const char *vclass(enum pt_verdict_kind v)
{
	return v == PT_VERDICT_LEAK ? "leak" : v == PT_VERDICT_SUSPECT ? "sus" : "ok";
}

static const char *vlabel(enum pt_verdict_kind v)
{
	return v == PT_VERDICT_LEAK ? "LEAK" : v == PT_VERDICT_SUSPECT ? "SUSPECT" : "ok";
}

static const char *vcolor(enum pt_verdict_kind v)
{
	return v == PT_VERDICT_LEAK ? "#c62828" : v == PT_VERDICT_SUSPECT ? "#a65f00" : "#1f5fbf";
}

static void esc(FILE *out, const char *s)
{
	pt_html_escape(out, s);
}

static void tag_esc(const struct pt_report *rep, size_t s, FILE *out)
{
	size_t ns;
	const struct pt_tagstat *st = pt_replay_stats(rep->rp, &ns);
	char tag[PT_TAG_DISPLAY_MAX];
	esc(out, pt_tags_display(rep->tags, st[s].tag, tag, sizeof(tag)));
}

static double secs(uint64_t ns)
{
	return (double)ns / 1e9;
}

/* ---- axes ---- */

/* A 1-2-5 step giving about n ticks over [0, max]. */
static double nice_step(double max, int n)
{
	if (max <= 0)
		return 1;
	double raw = max / n, mag = pow(10, floor(log10(raw))), f = raw / mag;
	double step = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
	return step * mag;
}

/* Byte axis: a binary unit so labels read "1.5 MiB". */
static void byte_unit(double max, double *unit, const char **name)
{
	static const char *const names[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double u = 1;
	size_t i = 0;
	while (max >= 1024 * u && i + 1 < sizeof(names) / sizeof(*names)) {
		u *= 1024;
		i++;
	}
	*unit = u;
	*name = names[i];
}

/* ---- chart ---- */

struct pt_point {
	uint64_t t_ns;
	struct pt_counts c;
};

/* Timeline points of one entry: (0, 0) then each bucket end, merged to MAX_POINTS keeping maxima. */
static size_t chart_points(const struct pt_report *rep, const struct pt_tagstat *st,
			   struct pt_point *p)
{
	uint32_t nb = pt_replay_nbuckets(rep->rp);
	size_t k = 0;
	p[k].t_ns = 0;
	memset(&p[k].c, 0, sizeof(p[k].c));
	k++;
	uint32_t groups = nb < MAX_POINTS - 1 ? nb : MAX_POINTS - 1;
	for (uint32_t g = 0; g < groups; g++) {
		uint32_t b0 = (uint32_t)((uint64_t)g * nb / groups);
		uint32_t b1 = (uint32_t)((uint64_t)(g + 1) * nb / groups);
		struct pt_counts best;
		pt_tagstat_bucket(rep->rp, st, b1 - 1, &best);
		for (uint32_t b = b0; b + 1 < b1; b++) {
			struct pt_counts c;
			pt_tagstat_bucket(rep->rp, st, b, &c);
			if (c.bytes > best.bytes)
				best = c;
		}
		p[k].t_ns = pt_report_bucket_end_ns(rep->rp, b1 - 1);
		p[k].c = best;
		k++;
	}
	return k;
}

static void write_chart(const struct pt_report *rep, size_t s, FILE *out)
{
	size_t ns;
	const struct pt_tagstat *st = pt_replay_stats(rep->rp, &ns);
	const struct pt_phases *ph = pt_replay_phases(rep->rp);
	const struct pt_tag_verdict *v = rep->verdicts ? &rep->verdicts[s] : NULL;
	enum pt_verdict_kind vk = v ? v->verdict : PT_VERDICT_OK;
	uint64_t end = pt_replay_end_ns(rep->rp);
	struct pt_point *p = malloc(sizeof(*p) * MAX_POINTS);
	char tag[PT_TAG_DISPLAY_MAX], tb[32], bb[32];
	if (!p)
		return;
	size_t np = chart_points(rep, &st[s], p);
	uint64_t maxb = st[s].peak_bytes;
	for (size_t i = 0; i < np; i++)
		if (p[i].c.bytes > maxb)
			maxb = p[i].c.bytes;
	double unit;
	const char *uname;
	byte_unit((double)maxb, &unit, &uname);
	double ystep = nice_step((double)maxb / unit, 4) * unit;
	double ymax = ystep * ceil((double)maxb / ystep);
	if (ymax <= 0)
		ymax = ystep;
	double tmax = end ? secs(end) : 1;
	double xstep = nice_step(tmax, 8);
	double pw = CW - ML - MR, phh = CH - MT - MB;
#define X(t) (ML + (t) / tmax * pw)
#define Y(b) (MT + phh - (b) / ymax * phh)

	pt_tags_display(rep->tags, st[s].tag, tag, sizeof(tag));
	fputs("<figure class=\"chart\" data-tag=\"", out);
	esc(out, tag);
	fprintf(out, "\" data-pool=\"%s\" data-verdict=\"%s\" id=\"chart-%zu\">\n<figcaption>",
		pt_pool_id(st[s].pool), v ? pt_verdict_name(vk) : "none", s);
	fprintf(out, "<span class=\"v %s\">%s</span> ", vclass(vk), vlabel(vk));
	esc(out, tag);
	fprintf(out, " <span class=\"d\">%s", pt_pool_name(st[s].pool));
	const struct pt_tagmap_entry *me = pt_report_mapping(rep, s);
	if (me) {
		char md[PT_MAPPED_MAX];
		fputs(" &middot; ", out);
		esc(out, pt_tagmap_mapped_driver(me, md, sizeof(md)));
	}
	fprintf(out, " &middot; peak %s at %s</span></figcaption>\n",
		pt_format_bytes(st[s].peak_bytes, bb, sizeof(bb)),
		pt_format_time(st[s].peak_ns, tb, sizeof(tb)));

	fprintf(out,
		"<svg viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"Outstanding bytes of ",
		CW, CH);
	esc(out, tag);
	fputs(" over time\" style=\"color:", out);
	fputs(vcolor(vk), out);
	fputs("\">\n", out);
	/* phase bands */
	double ws = secs(ph->wstart_ns), we = secs(ph->wend_ns);
	if (we > tmax)
		we = tmax;
	if (ws > we)
		ws = we;
	fprintf(out, "<rect class=\"wl\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\">"
		     "<title>workload</title></rect>\n",
		X(ws), MT, X(we) - X(ws), phh);
	fprintf(out, "<rect class=\"cd\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\">"
		     "<title>cool-down</title></rect>\n",
		X(we), MT, X(tmax) - X(we), phh);
	if (X(we) - X(ws) > 60)
		fprintf(out, "<text class=\"band-label\" x=\"%.1f\" y=\"%.1f\">workload</text>\n",
			X(ws) + 4, MT - 6);
	if (X(tmax) - X(we) > 60)
		fprintf(out, "<text class=\"band-label\" x=\"%.1f\" y=\"%.1f\">cool-down</text>\n",
			X(we) + 4, MT - 6);
	/* grid and y labels */
	for (double yv = 0; yv <= ymax * 1.0001; yv += ystep) {
		fprintf(out, "<line class=\"grid\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>",
			ML, CW - MR, Y(yv), Y(yv));
		if (yv == 0)
			fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">0</text>\n", ML - 6,
				Y(yv) + 4);
		else
			fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%g %s</text>\n",
				ML - 6, Y(yv) + 4, yv / unit, uname);
	}
	/* x ticks */
	for (double xv = 0; xv <= tmax * 1.0001; xv += xstep)
		fprintf(out,
			"<line class=\"axis\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>"
			"<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%g</text>\n",
			X(xv), X(xv), MT + phh, MT + phh + 4, X(xv), MT + phh + 16, xv);
	fprintf(out,
		"<line class=\"axis\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>"
		"<line class=\"axis\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>\n",
		ML, CW - MR, MT + phh, MT + phh, ML, ML, MT, MT + phh);
	fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">time since trace start (s)</text>\n",
		ML + pw / 2, CH - 4);
	fprintf(out,
		"<text x=\"14\" y=\"%.1f\" text-anchor=\"middle\" transform=\"rotate(-90 14 %.1f)\">"
		"outstanding bytes</text>\n",
		MT + phh / 2, MT + phh / 2);
	/* workload end marker */
	fprintf(out, "<line class=\"mark\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\">"
		     "<title>workload end %s</title></line>\n",
		X(we), X(we), MT, MT + phh, pt_format_time(ph->wend_ns, tb, sizeof(tb)));
	/* area and line (a step line: counters hold until the next bucket) */
	fputs("<path class=\"area\" fill=\"currentColor\" d=\"", out);
	for (size_t i = 0; i < np; i++) {
		double x = X(secs(p[i].t_ns)), y = Y((double)p[i].c.bytes);
		if (i == 0)
			fprintf(out, "M%.1f %.1f", x, Y(0.0));
		fprintf(out, "L%.1f %.1f", x, y);
	}
	fprintf(out, "L%.1f %.1fZ\"/>\n", X(secs(p[np - 1].t_ns)), Y(0.0));
	fputs("<polyline class=\"ln\" stroke=\"currentColor\" points=\"", out);
	for (size_t i = 0; i < np; i++)
		fprintf(out, "%s%.1f,%.1f", i ? " " : "", X(secs(p[i].t_ns)), Y((double)p[i].c.bytes));
	fputs("\"/>\n<g fill=\"currentColor\">", out);
	/* hover targets: a <title> per point works without scripts */
	for (size_t i = 1; i < np; i++) {
		fprintf(out, "<circle class=\"pt\" cx=\"%.1f\" cy=\"%.1f\" r=\"4\"><title>%s: %s",
			X(secs(p[i].t_ns)), Y((double)p[i].c.bytes),
			pt_format_time(p[i].t_ns, tb, sizeof(tb)),
			pt_format_bytes(p[i].c.bytes, bb, sizeof(bb)));
		fprintf(out, " (%" PRIu64 " B), %" PRIu64 " live, %" PRIu64 " allocs, %" PRIu64
			     " frees</title></circle>",
			p[i].c.bytes, p[i].c.live, p[i].c.allocs, p[i].c.frees);
		if (i % 8 == 0)
			fputc('\n', out);
	}
	fputs("</g>\n", out);
	fputs("</svg>\n</figure>\n", out);
#undef X
#undef Y
	free(p);
}

/* ---- sections ---- */

static void write_head(const struct pt_report *rep, FILE *out)
{
	size_t n[3];
	pt_report_verdict_counts(rep, n);
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	      "<meta name=\"generator\" content=\"pooltrace " PT_VERSION_STRING "\">\n<title>",
	      out);
	fprintf(out, "Pool leak report: %zu leak%s, %zu suspect%s &ndash; ", n[PT_VERDICT_LEAK],
		n[PT_VERDICT_LEAK] == 1 ? "" : "s", n[PT_VERDICT_SUSPECT],
		n[PT_VERDICT_SUSPECT] == 1 ? "" : "s");
	esc(out, rep->opts->input_name ? rep->opts->input_name : "-");
	fprintf(out, "</title>\n<style>\n%s</style>\n</head>\n<body>\n", css);
	fputs("<header class=\"top\"><div class=\"in\">\n<h1>Pool leak report</h1>\n<p>", out);
	esc(out, rep->opts->input_name ? rep->opts->input_name : "-");
	fputs(" &middot; ", out);
	esc(out, rep->meta->format);
	fputs(" &middot; pooltrace " PT_VERSION_STRING "</p>\n<div class=\"badges\">", out);
	fprintf(out, "<span class=\"badge%s\">%zu leak%s</span>", n[PT_VERDICT_LEAK] ? " leak" : "",
		n[PT_VERDICT_LEAK], n[PT_VERDICT_LEAK] == 1 ? "" : "s");
	fprintf(out, "<span class=\"badge%s\">%zu suspect%s</span>", n[PT_VERDICT_SUSPECT] ? " sus" : "",
		n[PT_VERDICT_SUSPECT], n[PT_VERDICT_SUSPECT] == 1 ? "" : "s");
	fprintf(out, "<span class=\"badge ok\">%zu ok</span>", n[PT_VERDICT_OK]);
	fputs("</div>\n</div></header>\n", out);
	fputs("<nav><div class=\"in\"><a href=\"#verdicts\">Verdicts</a><a href=\"#charts\">Charts</a>"
	      "<a href=\"#trace\">Trace</a><a href=\"#evidence\">Evidence</a>"
	      "<a href=\"#table-wend\">At workload end</a><a href=\"#table-end\">At trace end</a>"
	      "<a href=\"#about\">Command line</a></div></nav>\n<main>\n",
	      out);
}

static void write_lead(const struct pt_report *rep, FILE *out)
{
	size_t ns;
	const struct pt_tagstat *st = pt_replay_stats(rep->rp, &ns);
	char b[32];
	size_t n[3];
	pt_report_verdict_counts(rep, n);
	fputs("<p class=\"lead\">", out);
	if (!rep->verdicts || n[PT_VERDICT_LEAK] + n[PT_VERDICT_SUSPECT] == 0) {
		fputs("No tag grew during the workload without draining afterwards.</p>\n", out);
		return;
	}
	size_t shown = 0;
	for (int pass = PT_VERDICT_LEAK; pass >= PT_VERDICT_SUSPECT; pass--) {
		for (size_t s = 0; s < ns; s++) {
			const struct pt_tag_verdict *v = &rep->verdicts[s];
			if ((int)v->verdict != pass)
				continue;
			if (shown++)
				fputs("<br>\n", out);
			fprintf(out, "<span class=\"v %s\">%s</span> <strong>", vclass(v->verdict),
				vlabel(v->verdict));
			tag_esc(rep, s, out);
			fprintf(out, "</strong> (%s", pt_pool_name(st[s].pool));
			const struct pt_tagmap_entry *me = pt_report_mapping(rep, s);
			if (me && me->driver[0]) {
				fputs(", ", out);
				esc(out, me->driver);
			}
			fprintf(out, "): %s outstanding at trace end, %.0f%% of the workload growth drained",
				pt_format_bytes(v->at_end.bytes, b, sizeof(b)), v->drained * 100.0);
		}
	}
	fputs("</p>\n", out);
}

static void td_num(FILE *out, uint64_t v)
{
	fprintf(out, "<td class=\"n\" data-v=\"%" PRIu64 "\">%" PRIu64 "</td>", v, v);
}

static void td_snum(FILE *out, int64_t v)
{
	fprintf(out, "<td class=\"n\" data-v=\"%" PRId64 "\">%" PRId64 "</td>", v, v);
}

static void td_bytes(FILE *out, uint64_t v)
{
	char b[32];
	fprintf(out, "<td class=\"n\" data-v=\"%" PRIu64 "\" title=\"%" PRIu64 " bytes\">%s</td>", v,
		v, pt_format_bytes(v, b, sizeof(b)));
}

static void td_driver(const struct pt_report *rep, size_t s, FILE *out)
{
	char md[PT_MAPPED_MAX];
	fputs("<td class=\"drv\">", out);
	esc(out, pt_tagmap_mapped_driver(pt_report_mapping(rep, s), md, sizeof(md)));
	fputs("</td>", out);
}

static void write_verdicts(const struct pt_report *rep, FILE *out)
{
	size_t ns;
	const struct pt_tagstat *st = pt_replay_stats(rep->rp, &ns);
	size_t n[3];
	pt_report_verdict_counts(rep, n);
	fputs("<section id=\"verdicts\">\n<h2>Verdicts</h2>\n", out);
	write_lead(rep, out);
	if (!rep->verdicts || n[PT_VERDICT_LEAK] + n[PT_VERDICT_SUSPECT] == 0) {
		fputs("</section>\n", out);
		return;
	}
	fputs("<div class=\"scroll\"><table class=\"sortable\" id=\"verdict-table\">\n<thead><tr>"
	      "<th>Verdict</th><th>Tag</th><th>Type</th><th>Driver</th><th class=\"n\">Growth</th>"
	      "<th class=\"n\">At workload end</th><th class=\"n\">At trace end</th>"
	      "<th class=\"n\">Drained</th><th class=\"n\">Peak</th><th class=\"n\">Score</th>"
	      "<th>Why</th></tr></thead>\n<tbody>\n",
	      out);
	for (int pass = PT_VERDICT_LEAK; pass >= PT_VERDICT_SUSPECT; pass--) {
		for (size_t s = 0; s < ns; s++) {
			const struct pt_tag_verdict *v = &rep->verdicts[s];
			char tag[PT_TAG_DISPLAY_MAX];
			if ((int)v->verdict != pass)
				continue;
			fprintf(out, "<tr class=\"verdict %s\" data-tag=\"", vclass(v->verdict));
			esc(out, pt_tags_display(rep->tags, st[s].tag, tag, sizeof(tag)));
			fprintf(out, "\" data-verdict=\"%s\"><td data-v=\"%d\"><a class=\"v %s\" href=\"#chart-%zu\">%s</a></td>"
				     "<td class=\"tag\">",
				pt_verdict_name(v->verdict), (int)v->verdict, vclass(v->verdict), s,
				vlabel(v->verdict));
			esc(out, tag);
			fprintf(out, "</td><td>%s</td>", pt_pool_name(st[s].pool));
			td_driver(rep, s, out);
			char b[32];
			uint64_t g = (uint64_t)(v->growth_bytes < 0 ? -v->growth_bytes : v->growth_bytes);
			fprintf(out, "<td class=\"n\" data-v=\"%" PRId64 "\" title=\"%" PRId64 " bytes\">%s%s</td>",
				v->growth_bytes, v->growth_bytes, v->growth_bytes < 0 ? "-" : "+",
				pt_format_bytes(g, b, sizeof(b)));
			td_bytes(out, v->at_wend.bytes);
			td_bytes(out, v->at_end.bytes);
			fprintf(out, "<td class=\"n\" data-v=\"%.4f\">%.0f%%</td>", v->drained,
				v->drained * 100.0);
			td_bytes(out, st[s].peak_bytes);
			fprintf(out, "<td class=\"n\" data-v=\"%.3f\">%.2f</td><td class=\"why\">", v->score, v->score);
			esc(out, v->reason);
			fputs("</td></tr>\n", out);
		}
	}
	fprintf(out, "</tbody></table></div>\n<p class=\"muted\">%zu other tag%s judged ok.</p>\n</section>\n",
		n[PT_VERDICT_OK], n[PT_VERDICT_OK] == 1 ? "" : "s");
}

static void write_charts(const struct pt_report *rep, FILE *out)
{
	size_t set[MAX_CHARTS], n[3];
	pt_report_verdict_counts(rep, n);
	size_t want = n[PT_VERDICT_LEAK] + n[PT_VERDICT_SUSPECT] + TOP_EXTRA;
	if (want > MAX_CHARTS)
		want = MAX_CHARTS;
	size_t k = pt_report_chart_set(rep, set, want);
	uint64_t iv = pt_replay_interval_ns(rep->rp);
	char tb[32];
	fputs("<section id=\"charts\">\n<h2>Outstanding bytes over time</h2>\n", out);
	fprintf(out, "<p class=\"muted\">Flagged tags first, then the largest others by peak. "
		     "One point per %s interval; hover a point for its values. "
		     "Blue band: workload; orange band: cool-down.</p>\n",
		pt_format_time(iv, tb, sizeof(tb)));
	if (!k)
		fputs("<p>No tag held any bytes.</p>\n", out);
	fputs("<div class=\"charts\">\n", out);
	for (size_t i = 0; i < k; i++)
		write_chart(rep, set[i], out);
	fputs("</div>\n</section>\n", out);
}

static void fact(FILE *out, const char *dt)
{
	fprintf(out, "<dt>%s</dt><dd>", dt);
}

static void write_trace(const struct pt_report *rep, FILE *out)
{
	const struct pt_trace_meta *m = rep->meta;
	const struct pt_replay_totals *t = pt_replay_totals(rep->rp);
	const struct pt_phases *ph = pt_replay_phases(rep->rp);
	uint64_t end = pt_replay_end_ns(rep->rp);
	char a[32], b[32];

	fputs("<section id=\"trace\">\n<h2>Trace</h2>\n<dl class=\"facts\">\n", out);
	fact(out, "Input");
	esc(out, rep->opts->input_name ? rep->opts->input_name : "-");
	fputs(" (", out);
	esc(out, m->format);
	fputs(")</dd>\n", out);
	if (m->host[0]) {
		fact(out, "Host");
		esc(out, m->host);
		fputs("</dd>\n", out);
	}
	fact(out, "System");
	esc(out, m->os[0] ? m->os : "unknown");
	if (m->os_build)
		fprintf(out, " build %u", m->os_build);
	if (m->num_cpus)
		fprintf(out, ", %u CPUs", m->num_cpus);
	if (m->pointer_size)
		fprintf(out, ", %u-bit", m->pointer_size * 8);
	fputs("</dd>\n", out);
	if (m->has_start_time) {
		time_t sec = (time_t)(m->start_unix_ns / 1000000000);
		struct tm tm;
		char buf[64];
		if (gmtime_r(&sec, &tm) && strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S UTC", &tm)) {
			fact(out, "Started");
			fprintf(out, "%s</dd>\n", buf);
		}
	}
	fact(out, "Duration");
	fprintf(out, "%s</dd>\n", pt_format_time(end, a, sizeof(a)));
	fact(out, "Events");
	fprintf(out,
		"%" PRIu64 " (%" PRIu64 " allocations, %" PRIu64 " frees, %" PRIu64 " markers, %" PRIu64
		" snapshot rows)</dd>\n",
		t->events, t->allocs, t->frees, t->markers, t->snapshots);
	if (rep->incomplete) {
		fact(out, "Incomplete");
		fputs("<strong>the numbers cover only what was read:</strong> ", out);
		pt_html_escape(out, rep->incomplete);
		fputs("</dd>\n", out);
	}
	fact(out, "Lost");
	if (m->lost_known)
		fprintf(out, "%" PRIu64 " events, %" PRIu64 " buffers</dd>\n", m->events_lost,
			m->buffers_lost);
	else
		fputs("not recorded in this format</dd>\n", out);
	fact(out, "Accounting");
	fprintf(out,
		"%" PRIu64 " frees of allocations made before the trace (unmatched), %" PRIu64
		" double allocations, %" PRIu64 " NULL frees, %" PRIu64
		" allocations not tracked (cap), %" PRIu64 " bad events skipped, %" PRIu64
		" allocations live at trace end</dd>\n",
		t->unmatched_frees, t->double_allocs, t->null_frees, t->live_dropped,
		rep->reader_skipped_bad, t->live);
	if (t->stacks || t->images) {
		fact(out, "Stacks");
		fprintf(out,
			"%" PRIu64 " stack events: %" PRIu64 " joined to live allocations (%zu distinct "
			"stacks), %" PRIu64 " of frees, %" PRIu64 " of allocations freed since, %" PRIu64
			" unmatched; %" PRIu64 " image events</dd>\n",
			t->stacks, t->stacks_joined, pt_replay_nstacks(rep->rp), t->stacks_free,
			t->stacks_not_live, t->stacks_unmatched + t->stacks_dropped, t->images);
	}
	if (rep->tagmap) {
		struct pt_tagmap_stats ts;
		pt_tagmap_stats(rep->tagmap, &ts);
		fact(out, "Tag files");
		fprintf(out, "%zu file%s, %zu tags (%zu wildcard patterns), %zu irregular lines</dd>\n",
			ts.files, ts.files == 1 ? "" : "s", ts.entries, ts.patterns, ts.irregular);
	}
	fputs("</dl>\n<h3 id=\"phases\">Phases</h3>\n", out);
	/* phase bar: widths in percent of the trace */
	double tot = end ? (double)end : 1;
	double pre = (double)ph->wstart_ns / tot * 100, wl = (double)(ph->wend_ns - ph->wstart_ns) / tot * 100;
	if (pre < 0)
		pre = 0;
	if (wl < 0)
		wl = 0;
	double cd = 100 - pre - wl;
	if (cd < 0)
		cd = 0;
	fputs("<div class=\"phasebar\" role=\"img\" aria-label=\"phase timeline\">", out);
	if (pre > 0.05)
		fprintf(out, "<div class=\"pre\" style=\"width:%.2f%%\" title=\"before the workload\"></div>", pre);
	fprintf(out, "<div class=\"wl\" style=\"width:%.2f%%\" title=\"workload %s to %s\">workload</div>", wl,
		pt_format_time(ph->wstart_ns, a, sizeof(a)), pt_format_time(ph->wend_ns, b, sizeof(b)));
	if (cd > 0.05)
		fprintf(out, "<div class=\"cd\" style=\"width:%.2f%%\" title=\"cool-down\">cool-down</div>", cd);
	fputs("</div>\n<div class=\"scroll\"><table>\n<thead><tr><th>Phase</th><th class=\"n\">From</th>"
	      "<th class=\"n\">To</th><th>Boundary set by</th></tr></thead>\n<tbody>\n",
	      out);
	fprintf(out, "<tr><td>workload</td><td class=\"n\">%s</td><td class=\"n\">%s</td><td>start: %s",
		pt_format_time(ph->wstart_ns, a, sizeof(a)), pt_format_time(ph->wend_ns, b, sizeof(b)),
		pt_phase_source_name(ph->wstart_src));
	if (ph->wstart_src == PT_PHASE_MARKER) {
		fputs(" &ldquo;", out);
		esc(out, ph->wstart_marker);
		fputs("&rdquo;", out);
	}
	fprintf(out, "; end: %s", pt_phase_source_name(ph->wend_src));
	if (ph->wend_src == PT_PHASE_MARKER) {
		fputs(" &ldquo;", out);
		esc(out, ph->wend_marker);
		fputs("&rdquo;", out);
	}
	fputs("</td></tr>\n", out);
	fprintf(out, "<tr><td>cool-down</td><td class=\"n\">%s</td><td class=\"n\">%s</td><td>trace end</td></tr>\n",
		pt_format_time(ph->wend_ns, a, sizeof(a)), pt_format_time(end, b, sizeof(b)));
	fputs("</tbody></table></div>\n", out);
	if (ph->wend_src == PT_PHASE_DEFAULT)
		fputs("<p class=\"muted\">No workload end was given (--workload-end) and the trace has no "
		      "marker: the last quarter of the trace is taken as the cool-down.</p>\n",
		      out);
	if (m->snapshot_only)
		fputs("<p class=\"muted\">Counter snapshots only (no addresses): bytes are as the "
		      "snapshots report them.</p>\n",
		      out);
	fputs("</section>\n", out);
}

/* ---- evidence: one function per kind, each writes its block for one entry ---- */

typedef void (*evidence_fn)(const struct pt_report *rep, size_t s, FILE *out);

static void counts_row(FILE *out, const char *label, uint64_t t_ns, const struct pt_counts *c)
{
	char tb[32];
	fprintf(out, "<tr><td>%s</td><td class=\"n\">%s</td>", label, pt_format_time(t_ns, tb, sizeof(tb)));
	td_num(out, c->allocs);
	td_num(out, c->frees);
	td_snum(out, pt_counts_diff(c));
	td_bytes(out, c->bytes);
	td_num(out, c->live);
	fputs("</tr>\n", out);
}

static void ev_drain(const struct pt_report *rep, size_t s, FILE *out)
{
	const struct pt_tag_verdict *v = &rep->verdicts[s];
	const struct pt_phases *ph = pt_replay_phases(rep->rp);
	char b[32];
	uint64_t g = (uint64_t)(v->growth_bytes < 0 ? -v->growth_bytes : v->growth_bytes);
	fprintf(out, "<h4>Drain</h4>\n<p>Grew by %s%s during the workload; %.1f%% of that growth was "
		     "freed by the end of the trace (score %.2f).</p>\n",
		v->growth_bytes < 0 ? "-" : "", pt_format_bytes(g, b, sizeof(b)), v->drained * 100.0,
		v->score);
	fputs("<div class=\"scroll\"><table>\n<thead><tr><th>Point</th><th class=\"n\">Time</th>"
	      "<th class=\"n\">Allocs</th><th class=\"n\">Frees</th><th class=\"n\">Diff</th>"
	      "<th class=\"n\">Bytes</th><th class=\"n\">Live</th></tr></thead>\n<tbody>\n",
	      out);
	counts_row(out, "workload start", ph->wstart_ns, &v->at_wstart);
	counts_row(out, "workload end", ph->wend_ns, &v->at_wend);
	counts_row(out, "trace end", pt_replay_end_ns(rep->rp), &v->at_end);
	fputs("</tbody></table></div>\n", out);
}

static void ev_peak(const struct pt_report *rep, size_t s, FILE *out)
{
	size_t ns;
	const struct pt_tagstat *st = pt_replay_stats(rep->rp, &ns);
	char b[32], tb[32], t1[32], t2[32];
	fprintf(out, "<h4>Peak and activity</h4>\n<p>Peak %s outstanding, first reached at %s; "
		     "%s allocated in all; first event at %s, last at %s.</p>\n",
		pt_format_bytes(st[s].peak_bytes, b, sizeof(b)),
		pt_format_time(st[s].peak_ns, tb, sizeof(tb)),
		pt_format_bytes(st[s].alloc_bytes_total, t2, sizeof(t2)),
		pt_format_time(st[s].first_ns, t1, sizeof(t1)),
		pt_format_time(st[s].last_ns, tb, sizeof(tb)));
}

static void ev_accounting(const struct pt_report *rep, size_t s, FILE *out)
{
	size_t ns;
	const struct pt_tagstat *st = pt_replay_stats(rep->rp, &ns);
	char b[32];
	if (!st[s].unmatched_frees && !st[s].double_allocs)
		return;
	fprintf(out, "<h4>Accounting</h4>\n<p>%" PRIu64 " frees of allocations made before the trace "
		     "(not counted against the tag's bytes); %" PRIu64
		     " allocations at an address that was still live (%s displaced).</p>\n",
		st[s].unmatched_frees, st[s].double_allocs,
		pt_format_bytes(st[s].displaced_bytes, b, sizeof(b)));
}

static void ev_reason(const struct pt_report *rep, size_t s, FILE *out)
{
	const struct pt_tag_verdict *v = &rep->verdicts[s];
	fputs("<h4>Why</h4>\n<p>", out);
	pt_html_escape(out, v->reason);
	fputs("</p>\n", out);
	if (v->suppressed) {
		fputs("<p>Suppressed: ", out);
		pt_html_escape(out, v->suppress_reason);
		fputs("</p>\n", out);
	}
}

static void ev_trend(const struct pt_report *rep, size_t s, FILE *out)
{
	const struct pt_tag_verdict *v = &rep->verdicts[s];
	if (!v->trend.valid)
		return;
	fprintf(out, "<h4>Trend of the troughs</h4>\n<p>Pattern: <strong>%s</strong>. The lowest outstanding "
		     "bytes of %u windows over the workload rise by %+.1f B/s (95%% CI %+.1f to %+.1f)",
		pt_pattern_name(v->pattern), v->trend.windows, v->trend.slope, v->trend.slope_lo,
		v->trend.slope_hi);
	if (v->trend.late_valid)
		fprintf(out, "; over its second half by %+.1f B/s (%+.1f to %+.1f)", v->trend.late_slope,
			v->trend.late_lo, v->trend.late_hi);
	fputs(".</p>\n", out);
}

static void ev_age(const struct pt_report *rep, size_t s, FILE *out)
{
	const struct pt_tag_verdict *v = &rep->verdicts[s];
	const struct pt_age *g = &v->age;
	char b1[32], b2[32], b3[32], tb[32];
	if (!(g->live_before + g->live_inside + g->live_after))
		return;
	fprintf(out, "<h4>Still live at trace end</h4>\n<p>%" PRIu64 " allocations (%s) made during the "
		     "workload, %" PRIu64 " (%s) before it, %" PRIu64 " (%s) in the cool-down.</p>\n",
		g->live_inside, pt_format_bytes(g->bytes_inside, b1, sizeof(b1)), g->live_before,
		pt_format_bytes(g->bytes_before, b2, sizeof(b2)), g->live_after,
		pt_format_bytes(g->bytes_after, b3, sizeof(b3)));
	fputs("<div class=\"scroll\"><table>\n<thead><tr><th>Oldest</th><th class=\"n\">Size</th>"
	      "<th class=\"n\">Allocated at</th><th class=\"n\">PID</th><th class=\"n\">TID</th></tr>"
	      "</thead>\n<tbody>\n",
	      out);
	for (uint32_t i = 0; i < g->noldest; i++) {
		const struct pt_live_alloc *a = &g->oldest[i];
		fprintf(out, "<tr><td><code>0x%" PRIx64 "</code></td>", a->addr);
		td_num(out, a->size);
		fprintf(out, "<td class=\"n\">%s</td>", pt_format_time(a->ts_ns, tb, sizeof(tb)));
		if (a->pid != PT_NONE32)
			td_num(out, a->pid);
		else
			fputs("<td class=\"n\">-</td>", out);
		if (a->tid != PT_NONE32)
			td_num(out, a->tid);
		else
			fputs("<td class=\"n\">-</td>", out);
		fputs("</tr>\n", out);
	}
	fputs("</tbody></table></div>\n", out);
	if (v->npids && !(v->npids == 1 && v->pids[0].pid == PT_NONE32)) {
		fputs("<p>By process:", out);
		for (uint32_t i = 0; i < v->npids; i++) {
			if (v->pids[i].pid == PT_NONE32)
				fprintf(out, "%s unknown %s", i ? "," : "",
					pt_format_bytes(v->pids[i].bytes, b1, sizeof(b1)));
			else
				fprintf(out, "%s pid %u: %s in %" PRIu64 " allocations", i ? "," : "",
					v->pids[i].pid, pt_format_bytes(v->pids[i].bytes, b1, sizeof(b1)),
					v->pids[i].live);
		}
		fputs(".</p>\n", out);
	}
}

static void ev_stacks(const struct pt_report *rep, size_t s, FILE *out)
{
	const struct pt_tag_verdict *v = &rep->verdicts[s];
	char b1[32];
	if (!v->nstacks)
		return;
	fprintf(out, "<h4>Live bytes by stack</h4>\n<p>%u distinct allocation stack%s hold live bytes",
		v->stacks_distinct, v->stacks_distinct == 1 ? "" : "s");
	if (v->live_nostack)
		fprintf(out, "; %s in %" PRIu64 " allocations have no stack",
			pt_format_bytes(v->bytes_nostack, b1, sizeof(b1)), v->live_nostack);
	fputs(". Frames innermost first.</p>\n<div class=\"scroll\"><table>\n<thead><tr>"
	      "<th class=\"n\">Bytes</th><th class=\"n\">Live</th><th>Stack</th></tr></thead>\n<tbody>\n",
	      out);
	for (uint32_t i = 0; i < v->nstacks; i++) {
		uint32_t id = v->stacks[i].stack;
		fputs("<tr>", out);
		td_bytes(out, v->stacks[i].bytes);
		td_num(out, v->stacks[i].live);
		fputs("<td><code>", out);
		uint32_t n = pt_report_stack_frames(rep, id);
		for (uint32_t k = 0; k < n; k++) {
			char fb[160];
			if (k)
				fputs("<br>", out);
			pt_html_escape(out, pt_report_frame(rep, id, k, fb, sizeof(fb)));
		}
		fputs("</code></td></tr>\n", out);
	}
	fputs("</tbody></table></div>\n", out);
}

static const evidence_fn evidence[] = {ev_reason, ev_drain, ev_trend, ev_age, ev_stacks, ev_peak,
				       ev_accounting};

static void write_evidence(const struct pt_report *rep, FILE *out)
{
	size_t ns;
	const struct pt_tagstat *st = pt_replay_stats(rep->rp, &ns);
	size_t shown = 0;
	fputs("<section id=\"evidence\" class=\"evidence\">\n<h2>Evidence</h2>\n", out);
	for (int pass = PT_VERDICT_LEAK; pass >= PT_VERDICT_SUSPECT && rep->verdicts; pass--) {
		for (size_t s = 0; s < ns; s++) {
			const struct pt_tag_verdict *v = &rep->verdicts[s];
			char tag[PT_TAG_DISPLAY_MAX];
			if ((int)v->verdict != pass)
				continue;
			pt_tags_display(rep->tags, st[s].tag, tag, sizeof(tag));
			fprintf(out, "<article class=\"%s\" id=\"evidence-%zu\" data-tag=\"", vclass(v->verdict), s);
			esc(out, tag);
			fprintf(out, "\">\n<h3><span class=\"v %s\">%s</span> ", vclass(v->verdict),
				vlabel(v->verdict));
			esc(out, tag);
			fprintf(out, " <span class=\"muted\">%s</span></h3>\n<p>", pt_pool_name(st[s].pool));
			esc(out, v->reason);
			fputs("</p>\n", out);
			const struct pt_tagmap_entry *me = pt_report_mapping(rep, s);
			if (me) {
				fputs("<p class=\"muted\">Tag file: ", out);
				esc(out, me->tag);
				fputs(" &rarr; ", out);
				esc(out, me->driver[0] ? me->driver : "(no binary named)");
				if (me->desc[0]) {
					fputs(" &ndash; ", out);
					esc(out, me->desc);
				}
				fputs(" (", out);
				esc(out, me->file);
				fprintf(out, ":%u)</p>\n", me->line);
			}
			for (size_t i = 0; i < sizeof(evidence) / sizeof(*evidence); i++)
				evidence[i](rep, s, out);
			fputs("</article>\n", out);
			shown++;
		}
	}
	if (!shown)
		fputs("<p>Nothing flagged.</p>\n", out);
	fputs("</section>\n", out);
}

/* PoolMon-style table; @at: 0 workload end (from the verdicts), 1 the report's table time. */
static void write_poolmon(const struct pt_report *rep, FILE *out, int at)
{
	size_t ns;
	const struct pt_tagstat *st = pt_replay_stats(rep->rp, &ns);
	const struct pt_phases *ph = pt_replay_phases(rep->rp);
	const struct pt_report_opts *o = rep->opts;
	char tb[32];
	uint64_t t = at == 0 ? ph->wend_ns : (o->has_at ? o->at_ns : pt_replay_end_ns(rep->rp));
	if (at == 0 && !rep->verdicts)
		return;
	fprintf(out, "<section id=\"%s\">\n<h2>PoolMon table at %s (%s)</h2>\n",
		at == 0 ? "table-wend" : "table-end",
		at == 0 ? "workload end" : (o->has_at ? "the requested time" : "trace end"),
		pt_format_time(t, tb, sizeof(tb)));
	fprintf(out, "<div class=\"scroll\"><table class=\"sortable poolmon\" id=\"poolmon-%s\">\n<thead><tr>"
		     "<th>Tag</th><th>Type</th><th class=\"n\">Allocs</th><th class=\"n\">Frees</th>"
		     "<th class=\"n\">Diff</th><th class=\"n\">Bytes</th><th class=\"n\">Per Alloc</th>%s"
		     "<th>Verdict</th></tr></thead>\n<tbody>\n",
		at == 0 ? "wend" : "end", rep->tagmap ? "<th>Mapped_Driver</th>" : "");
	for (size_t i = 0; i < rep->nrows; i++) {
		size_t s = rep->rows[i];
		struct pt_counts c;
		if (at == 0)
			c = rep->verdicts[s].at_wend;
		else
			pt_report_counts(rep, s, &c);
		enum pt_verdict_kind vk = rep->verdicts ? rep->verdicts[s].verdict : PT_VERDICT_OK;
		fprintf(out, "<tr%s><td class=\"tag\">",
			vk == PT_VERDICT_LEAK ? " class=\"leak\"" : vk == PT_VERDICT_SUSPECT ? " class=\"sus\"" : "");
		tag_esc(rep, s, out);
		fprintf(out, "</td><td>%s</td>", pt_pool_name(st[s].pool));
		td_num(out, c.allocs);
		td_num(out, c.frees);
		td_snum(out, pt_counts_diff(&c));
		td_num(out, c.bytes);
		td_num(out, pt_per_alloc(&c));
		if (rep->tagmap)
			td_driver(rep, s, out);
		if (rep->verdicts)
			fprintf(out, "<td data-v=\"%d\"><span class=\"v %s\">%s</span></td>", (int)vk,
				vclass(vk), vlabel(vk));
		else
			fputs("<td></td>", out);
		fputs("</tr>\n", out);
	}
	fputs("</tbody></table></div>\n</section>\n", out);
}

static void write_about(const struct pt_report *rep, FILE *out)
{
	size_t n[3];
	pt_report_verdict_counts(rep, n);
	fputs("<footer id=\"about\">\n<p>Produced by pooltrace " PT_VERSION_STRING
	      " with:<br><code>",
	      out);
	esc(out, rep->opts->command_line ? rep->opts->command_line : "");
	fputs("</code></p>\n<p>Leak rule: a tag whose outstanding bytes grew during the workload and of "
	      "which less than 10% was freed by the end of the trace is a leak; 10&ndash;50% freed, or "
	      "no cool-down, is a suspect.</p>\n</footer>\n",
	      out);
	/* machine-readable summary; pt_json_string escapes < > & */
	fputs("<script type=\"application/json\" id=\"pooltrace-summary\">{\"tool\": \"pooltrace\", "
	      "\"version\": \"" PT_VERSION_STRING "\", \"input\": ",
	      out);
	pt_json_string(out, rep->opts->input_name);
	fputs(", \"command_line\": ", out);
	pt_json_string(out, rep->opts->command_line);
	fprintf(out, ", \"leak\": %zu, \"suspect\": %zu, \"ok\": %zu, \"flagged\": [", n[PT_VERDICT_LEAK],
		n[PT_VERDICT_SUSPECT], n[PT_VERDICT_OK]);
	size_t ns, k = 0;
	const struct pt_tagstat *st = pt_replay_stats(rep->rp, &ns);
	for (size_t s = 0; rep->verdicts && s < ns; s++) {
		char tag[PT_TAG_DISPLAY_MAX];
		if (rep->verdicts[s].verdict == PT_VERDICT_OK)
			continue;
		fputs(k++ ? ", {\"tag\": " : "{\"tag\": ", out);
		pt_json_string(out, pt_tags_display(rep->tags, st[s].tag, tag, sizeof(tag)));
		fprintf(out, ", \"pool_type\": \"%s\", \"verdict\": \"%s\"}", pt_pool_id(st[s].pool),
			pt_verdict_name(rep->verdicts[s].verdict));
	}
	fputs("]}</script>\n", out);
}

static int html_write(const struct pt_report *rep, FILE *out)
{
	write_head(rep, out);
	write_verdicts(rep, out);
	write_charts(rep, out);
	write_trace(rep, out);
	write_evidence(rep, out);
	write_poolmon(rep, out, 0);
	write_poolmon(rep, out, 1);
	write_about(rep, out);
	fprintf(out, "</main>\n<script>\n%s</script>\n</body>\n</html>\n", script);
	return ferror(out) ? PT_EIO : 0;
}

const struct pt_reporter_ops pt_reporter_html = {
	.name = "html",
	.description = "self-contained HTML page: verdicts, SVG charts, evidence, PoolMon tables",
	.write = html_write,
};
