/* SPDX-License-Identifier: MIT */
/* Internal: small parsing helpers shared by the line-oriented text readers. */
#ifndef PT_READERS_TEXTPARSE_H
#define PT_READERS_TEXTPARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "pooltrace/reader.h"

/* ASCII-only classification (no locale). */
static inline bool tp_isspace(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static inline bool tp_isdigit(int c)
{
	return c >= '0' && c <= '9';
}

static inline int tp_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static inline int tp_lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

/* Trim ASCII white space at both ends of s[0..*len), in place; returns the new start. */
static inline char *tp_trim(char *s, size_t *len)
{
	size_t n = *len;
	while (n && tp_isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n && tp_isspace((unsigned char)s[n - 1]))
		n--;
	*len = n;
	return s;
}

/* As tp_trim() for read-only text. */
static inline const char *tp_trim_c(const char *s, size_t *len)
{
	size_t n = *len;
	while (n && tp_isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n && tp_isspace((unsigned char)s[n - 1]))
		n--;
	*len = n;
	return s;
}

/*
 * keep_going handling of a bad record: r->errmsg holds "file:line: what";
 * count the record, repeat the message as a warning and clear the error.
 */
static inline void tp_skip_bad(struct pt_reader *r, uint64_t line)
{
	char prefix[64];
	int n = snprintf(prefix, sizeof(prefix), ":%llu: ", (unsigned long long)line);
	const char *msg = r->errmsg;
	const char *at = n > 0 ? strstr(r->errmsg, prefix) : NULL;
	if (at)
		msg = at + n;
	r->skipped_bad++;
	pt_reader_warn(r, line, "%s; skipped", msg);
	r->errmsg[0] = '\0';
}

/* Parse exactly s[0..len) as a decimal u64. Returns false on anything else or overflow. */
static inline bool tp_dec_u64(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!tp_isdigit((unsigned char)s[i]))
			return false;
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

/* Parse exactly s[0..len) as hex, with or without a 0x prefix. */
static inline bool tp_hex_u64(const char *s, size_t len, uint64_t *out)
{
	if (len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		len -= 2;
	}
	if (len == 0)
		return false;
	uint64_t v = 0;
	for (size_t i = 0; i < len; i++) {
		int h = tp_hexval((unsigned char)s[i]);
		if (h < 0 || (v >> 60))
			return false;
		v = (v << 4) | (uint64_t)h;
	}
	*out = v;
	return true;
}

/* Decimal, or hex when prefixed with 0x. */
static inline bool tp_num_u64(const char *s, size_t len, uint64_t *out)
{
	if (len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		return tp_hex_u64(s, len, out);
	return tp_dec_u64(s, len, out);
}

/*
 * Parse "SECONDS[.FRACTION]" (fraction up to 9 digits kept, more ignored)
 * scaled by unit_ns per whole unit (1e9 for seconds, 1000 for µs).
 */
static inline bool tp_decimal_ns(const char *s, size_t len, uint64_t unit_ns, uint64_t *out)
{
	size_t i = 0;
	uint64_t whole = 0;
	while (i < len && s[i] != '.')
		i++;
	if (!tp_dec_u64(s, i, &whole))
		return false;
	if (unit_ns && whole > UINT64_MAX / unit_ns)
		return false;
	uint64_t v = whole * unit_ns;
	if (i < len) {
		i++; /* the dot */
		if (i == len)
			return false;
		uint64_t frac = 0, scale = unit_ns;
		for (; i < len; i++) {
			if (!tp_isdigit((unsigned char)s[i]))
				return false;
			if (scale >= 10) {
				scale /= 10;
				frac += (uint64_t)(s[i] - '0') * scale;
			}
		}
		if (v > UINT64_MAX - frac)
			return false;
		v += frac;
	}
	*out = v;
	return true;
}

/* Lower-case alphanumerics of s[0..len) into out (NUL-terminated, cut to outsz - 1). */
static inline void tp_squash(const char *s, size_t len, char *out, size_t outsz)
{
	size_t o = 0;
	for (size_t i = 0; i < len && o + 1 < outsz; i++) {
		int c = (unsigned char)s[i];
		if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z'))
			out[o++] = (char)c;
		else if (c >= 'A' && c <= 'Z')
			out[o++] = (char)tp_lower(c);
	}
	out[o] = '\0';
}

/* Case-insensitive: does s[0..len) start with the NUL-terminated prefix p? */
static inline bool tp_prefix_ci(const char *s, size_t len, const char *p)
{
	size_t i = 0;
	for (; p[i]; i++)
		if (i >= len || tp_lower((unsigned char)s[i]) != tp_lower((unsigned char)p[i]))
			return false;
	return true;
}

#endif
