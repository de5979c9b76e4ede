/* SPDX-License-Identifier: MIT */
/*
 * Reporters on a deterministic synthetic replay: golden files for md, csv and
 * json (tests/golden/; PT_UPDATE_GOLDEN=1 rewrites them), and hostile texts
 * escaped in every format.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pooltrace/pooltrace.h"
#include "synth_report.h"

#define GOLDEN PT_SOURCE_DIR "/tests/golden/"

/* Run one reporter into memory, the version string replaced by @VERSION@. */
static char *render(struct synth *x, const char *fmt, size_t *len)
{
	const struct pt_reporter_ops *r = pt_reporter_find(fmt);
	assert_non_null(r);
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	assert_non_null(f);
	assert_int_equal(r->write(&x->rep, f), 0);
	fclose(f);
	/* version independence */
	const char *v = PT_VERSION_STRING;
	size_t vl = strlen(v);
	char *out = malloc(n * 2 + 16);
	assert_non_null(out);
	size_t o = 0;
	for (size_t i = 0; i < n;) {
		if (i + vl <= n && !memcmp(buf + i, v, vl)) {
			memcpy(out + o, "@VERSION@", 9);
			o += 9;
			i += vl;
		} else {
			out[o++] = buf[i++];
		}
	}
	out[o] = '\0';
	free(buf);
	*len = o;
	return out;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = NULL;
	size_t n = 0;
	FILE *m = open_memstream(&buf, &n);
	char tmp[4096];
	size_t k;
	while ((k = fread(tmp, 1, sizeof(tmp), f)) > 0)
		fwrite(tmp, 1, k, m);
	fclose(f);
	fclose(m);
	*len = n;
	return buf;
}

static void golden(const char *fmt, bool series, const char *name)
{
	struct synth *x = synth_new(true);
	assert_non_null(x);
	x->opts.csv_series = series;
	size_t n, gn = 0;
	char *got = render(x, fmt, &n);
	char path[1024];
	snprintf(path, sizeof(path), "%s%s", GOLDEN, name);
	if (getenv("PT_UPDATE_GOLDEN")) {
		FILE *f = fopen(path, "wb");
		assert_non_null(f);
		fwrite(got, 1, n, f);
		fclose(f);
	}
	char *want = slurp(path, &gn);
	if (!want)
		fail_msg("missing golden file %s (run with PT_UPDATE_GOLDEN=1)", path);
	if (gn != n || memcmp(want, got, n)) {
		snprintf(path, sizeof(path), "%s/%s.actual", PT_BINARY_DIR, name);
		FILE *f = fopen(path, "wb");
		if (f) {
			fwrite(got, 1, n, f);
			fclose(f);
		}
		fail_msg("%s differs from tests/golden/%s; actual output in %s", fmt, name, path);
	}
	free(want);
	free(got);
	synth_free(x);
}

static void test_golden_md(void **state)
{
	(void)state;
	golden("md", false, "synthetic.md");
}

static void test_golden_csv_summary(void **state)
{
	(void)state;
	golden("csv", false, "synthetic.csv");
}

static void test_golden_csv_series(void **state)
{
	(void)state;
	golden("csv", true, "synthetic.series.csv");
}

static void test_golden_json(void **state)
{
	(void)state;
	golden("json", false, "synthetic.json");
}

/* Every byte sequence valid UTF-8. */
static bool valid_utf8(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned char c = s[i];
		size_t k = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3
				: (c & 0xF8) == 0xF0		     ? 4
								     : 0;
		if (!k || i + k > n)
			return false;
		for (size_t j = 1; j < k; j++)
			if ((s[i + j] & 0xC0) != 0x80)
				return false;
		i += k;
	}
	return true;
}

static size_t count(const char *hay, const char *needle)
{
	size_t k = 0;
	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		k++;
	return k;
}

static void test_hostile_json(void **state)
{
	(void)state;
	struct synth *x = synth_new(true);
	size_t n;
	char *s = render(x, "json", &n);
	assert_true(valid_utf8((unsigned char *)s, n));
	/* < > & never appear raw: the document can sit in a <script> block */
	assert_null(strchr(s, '<'));
	assert_null(strchr(s, '>'));
	assert_null(strchr(s, '&'));
	assert_non_null(strstr(s, "\"tag\": \"\\u003c\\u0026\\\"'\""));
	assert_non_null(strstr(s, "\"tag\": \"\\\\xff\\\\x80z!\""));
	assert_non_null(strstr(s, "\"tag_hex\": \"ff807a21\""));
	/* the Latin-1 e-acute of the tag file comes out as UTF-8 */
	assert_non_null(strstr(s, "caf\xc3\xa9"));
	free(s);
	synth_free(x);
}

static void test_hostile_csv(void **state)
{
	(void)state;
	struct synth *x = synth_new(true);
	size_t n;
	char *s = render(x, "csv", &n);
	assert_true(valid_utf8((unsigned char *)s, n));
	/* quotes doubled, the field quoted */
	assert_non_null(strstr(s, "\"<&\"\"'\",3c262227,paged,"));
	assert_non_null(strstr(s, "\"Busy, churn \"\"objects\"\"\""));
	/* a formula-looking field is quoted and defused */
	assert_non_null(strstr(s, "\"'=SUM(A1) formula-looking description\""));
	assert_non_null(strstr(s, "\\xff\\x80z!,ff807a21,"));
	/* every record has the header's field count (no newline inside fields here) */
	size_t fields = 0;
	bool q = false;
	size_t header_fields = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"')
			q = !q;
		else if (!q && s[i] == ',')
			fields++;
		else if (!q && s[i] == '\n') {
			if (!header_fields)
				header_fields = fields;
			assert_int_equal(fields, header_fields);
			fields = 0;
		}
	}
	assert_false(q);
	free(s);
	synth_free(x);
}

static void test_hostile_md(void **state)
{
	(void)state;
	struct synth *x = synth_new(true);
	size_t n;
	char *s = render(x, "md", &n);
	assert_true(valid_utf8((unsigned char *)s, n));
	assert_null(strstr(s, "<b>"));
	assert_null(strstr(s, "</script>"));
	assert_non_null(strstr(s, "evil\\|pipe.sys"));
	assert_true(count(s, "|---") >= 3);
	assert_non_null(strstr(s, "&lt;&amp;\"'"));
	assert_non_null(strstr(s, "\\\\xff\\\\x80z\\!"));
	/* table rows keep their column count: unescaped pipes per line */
	char *save = NULL;
	size_t cols = 0;
	for (char *line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (line[0] != '|') {
			cols = 0;
			continue;
		}
		size_t k = 0;
		for (char *p = line; *p; p++) {
			if (*p == '\\' && p[1])
				p++;
			else if (*p == '|')
				k++;
		}
		if (!cols)
			cols = k;
		assert_int_equal(k, cols);
	}
	free(s);
	synth_free(x);
}

static void test_hostile_text(void **state)
{
	(void)state;
	struct synth *x = synth_new(true);
	size_t n;
	char *s = render(x, "text", &n);
	assert_non_null(strstr(s, "Mapped_Driver"));
	assert_non_null(strstr(s, "leaky.sys - Leaky"));
	/* no raw control bytes from the trace */
	for (size_t i = 0; i < n; i++)
		assert_true((unsigned char)s[i] >= 0x20 || s[i] == '\n');
	free(s);
	synth_free(x);
	/* without a tag map: no column */
	x = synth_new(false);
	s = render(x, "text", &n);
	assert_null(strstr(s, "Mapped_Driver"));
	free(s);
	synth_free(x);
}

static void test_hostile_html(void **state)
{
	(void)state;
	struct synth *x = synth_new(true);
	size_t n;
	char *s = render(x, "html", &n);
	assert_true(valid_utf8((unsigned char *)s, n));
	/* only our own two script blocks close */
	assert_int_equal(count(s, "</script"), 2);
	assert_int_equal(count(s, "<script"), 2);
	assert_null(strstr(s, "<b>"));
	assert_null(strstr(s, "alert(1)</"));
	assert_null(strstr(s, "x<y"));
	assert_non_null(strstr(s, "data-tag=\"&lt;&amp;&quot;&#39;\""));
	assert_non_null(strstr(s, "&lt;/script&gt;&lt;b&gt;x"));
	assert_non_null(strstr(s, "\\xff\\x80z!"));
	assert_non_null(strstr(s, "caf\xc3\xa9"));
	/* self-contained: nothing fetched */
	assert_null(strstr(s, "http://"));
	assert_null(strstr(s, "https://"));
	assert_null(strstr(s, " src="));
	assert_null(strstr(s, "@import"));
	assert_null(strstr(s, "url("));
	/* a chart and a verdict row per flagged tag */
	assert_int_equal(count(s, "<tr class=\"verdict "), 4);
	assert_true(count(s, "<figure class=\"chart\"") >= 4);
	/* kept as a build artefact to look at */
	FILE *f = fopen(PT_BINARY_DIR "/synthetic-report.html", "wb");
	if (f) {
		fwrite(s, 1, n, f);
		fclose(f);
	}
	free(s);
	synth_free(x);
}

/* printf("%.1f") of bytes / 1024^u: what pt_format_bytes() printed before it rounded in integers. */
static void bytes_by_printf(uint64_t bytes, char *buf, size_t n)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double v = (double)bytes;
	size_t u = 0;
	while (v >= 1024.0 && u + 1 < 5) {
		v /= 1024.0;
		u++;
	}
	if (u == 0)
		snprintf(buf, n, "%llu B", (unsigned long long)bytes);
	else
		snprintf(buf, n, "%.1f %s", v, units[u]);
}

static void check_bytes(uint64_t b)
{
	char want[64], got[64];
	bytes_by_printf(b, want, sizeof(want));
	pt_format_bytes(b, got, sizeof(got));
	if (strcmp(want, got))
		fail_msg("%llu bytes: \"%s\", printf gives \"%s\"", (unsigned long long)b, got, want);
}

/* Rounding to one decimal, ties to even, in every unit; the exact double path past 2^53. */
static void test_format_bytes(void **state)
{
	(void)state;
	for (uint64_t b = 0; b < (3u << 20); b++)
		check_bytes(b);
	uint64_t x = 88172645463325252ull;
	for (int i = 0; i < 2000000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		check_bytes(x >> (x & 63));
	}
	for (unsigned u = 1; u <= 6; u++) {
		uint64_t d = 1ull << (10 * u);
		for (uint64_t k = 0; k < 40000; k++) {
			/* around every tie n + 0.05 */
			uint64_t base = (k * d) / 20;
			for (int j = -2; j <= 2; j++)
				check_bytes(base + (uint64_t)j);
		}
	}
	check_bytes(UINT64_MAX);
	check_bytes(1ull << 53);
	check_bytes((1ull << 53) - 1);
	char buf[32];
	assert_string_equal(pt_format_bytes(46592, buf, sizeof(buf)), "45.5 KiB");
	assert_string_equal(pt_format_bytes(1023, buf, sizeof(buf)), "1023 B");
}

static void test_progress_line(void **state)
{
	(void)state;
	char buf[256];
	pt_progress_format(buf, sizeof(buf), 50u << 20, 100u << 20, 1200000, 10.0, 100);
	assert_non_null(strstr(buf, "[####"));
	assert_non_null(strstr(buf, " 50%  50.0 MiB / 100.0 MiB  1.2M events  120k ev/s  ETA 0:10"));
	assert_true(strlen(buf) < 100);
	/* narrow terminal: no bar, cut to the width */
	pt_progress_format(buf, sizeof(buf), 1, 2, 3, 1.0, 30);
	assert_true(strlen(buf) <= 29);
	/* unknown size (a pipe): no percentage, no ETA */
	pt_progress_format(buf, sizeof(buf), 4096, 0, 5, 1.0, 120);
	assert_string_equal(buf, "4.0 KiB read  5 events  5 ev/s");
	/* hours */
	pt_progress_format(buf, sizeof(buf), 1, 10000, 5, 10.0, 200);
	assert_non_null(strstr(buf, "ETA 27:46:30"));
	/* tiny buffer: no overflow */
	pt_progress_format(buf, 8, 1, 2, 3, 1.0, 120);
	assert_true(strlen(buf) < 8);
}

static void test_verdicts_of_synthetic(void **state)
{
	(void)state;
	struct synth *x = synth_new(false);
	size_t n[3];
	pt_report_verdict_counts(&x->rep, n);
	/* Leak, the hostile tag and the slab name leak; Part drains a third, but its
	 * troughs rose to the end of the workload: a leak as well */
	assert_int_equal(n[PT_VERDICT_LEAK], 4);
	assert_int_equal(n[PT_VERDICT_SUSPECT], 0);
	size_t set[8];
	size_t k = pt_report_chart_set(&x->rep, set, 8);
	assert_true(k >= 5);
	for (size_t i = 0; i < 4; i++)
		assert_int_not_equal(x->verdicts[set[i]].verdict, PT_VERDICT_OK);
	synth_free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verdicts_of_synthetic),
		cmocka_unit_test(test_format_bytes),
		cmocka_unit_test(test_progress_line),
		cmocka_unit_test(test_golden_md),
		cmocka_unit_test(test_golden_csv_summary),
		cmocka_unit_test(test_golden_csv_series),
		cmocka_unit_test(test_golden_json),
		cmocka_unit_test(test_hostile_json),
		cmocka_unit_test(test_hostile_csv),
		cmocka_unit_test(test_hostile_md),
		cmocka_unit_test(test_hostile_html),
		cmocka_unit_test(test_hostile_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
