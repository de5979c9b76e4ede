/* SPDX-License-Identifier: MIT */
/* The progress line the programs draw on a terminal while reading a large trace. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "pooltrace/report.h"
#include "pooltrace/util.h"

/* "1.2M" style count. */
static void short_count(double v, char *buf, size_t sz)
{
	if (v >= 1e9)
		snprintf(buf, sz, "%.1fG", v / 1e9);
	else if (v >= 1e6)
		snprintf(buf, sz, "%.1fM", v / 1e6);
	else if (v >= 1e4)
		snprintf(buf, sz, "%.0fk", v / 1e3);
	else
		snprintf(buf, sz, "%.0f", v);
}

char *pt_progress_format(char *buf, size_t bufsz, uint64_t done, uint64_t total,
			 uint64_t events, double elapsed_s, unsigned width)
{
	char tail[160], a[32], b[32], ev[32], rate[32], eta[32] = "";
	if (!bufsz)
		return buf;
	if (width < 20)
		width = 20;
	short_count((double)events, ev, sizeof(ev));
	short_count(elapsed_s > 0 ? (double)events / elapsed_s : 0, rate, sizeof(rate));
	if (total && done > total)
		done = total;
	if (total && done && elapsed_s > 0.5) {
		double left = elapsed_s * (double)(total - done) / (double)done;
		unsigned s = left > 359999 ? 359999 : (unsigned)(left + 0.5);
		if (s >= 3600)
			snprintf(eta, sizeof(eta), "  ETA %u:%02u:%02u", s / 3600, s / 60 % 60, s % 60);
		else
			snprintf(eta, sizeof(eta), "  ETA %u:%02u", s / 60, s % 60);
	}
	if (total)
		snprintf(tail, sizeof(tail), " %3.0f%%  %s / %s  %s events  %s ev/s%s",
			 100.0 * (double)done / (double)total, pt_format_bytes(done, a, sizeof(a)),
			 pt_format_bytes(total, b, sizeof(b)), ev, rate, eta);
	else
		snprintf(tail, sizeof(tail), "%s read  %s events  %s ev/s",
			 pt_format_bytes(done, a, sizeof(a)), ev, rate);
	size_t tl = strlen(tail);
	size_t room = width - 1;
	if (!total || tl + 12 > room) {
		/* no bar: the text alone, cut to the width */
		snprintf(buf, bufsz, "%.*s", (int)(room < bufsz ? room : bufsz - 1),
			 tail[0] == ' ' ? tail + 1 : tail);
		return buf;
	}
	size_t bar = room - tl - 2;
	if (bar > 40)
		bar = 40;
	size_t fill = (size_t)((double)bar * (double)done / (double)total);
	size_t o = 0;
	if (bar + tl + 3 > bufsz) {
		snprintf(buf, bufsz, "%s", tail + 1);
		return buf;
	}
	buf[o++] = '[';
	for (size_t i = 0; i < bar; i++)
		buf[o++] = i < fill ? '#' : '-';
	buf[o++] = ']';
	memcpy(buf + o, tail, tl + 1);
	return buf;
}
