/* SPDX-License-Identifier: MIT */
/*
 * Tag interning. Tags are byte strings stored once in an arena; ids are
 * dense indices. Two open-addressing indexes: one by byte string, and a
 * fast path keyed by the 32-bit Windows tag value (the common case, a
 * single multiply-shift hash and one compare per event).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "pooltrace/error.h"
#include "pooltrace/tags.h"

struct tag_ent {
	uint32_t off;  /* into arena */
	uint16_t len;
};

struct pt_tags {
	struct tag_ent *ents;
	size_t n, cap, max;
	uint8_t *arena;
	size_t arena_len, arena_cap;
	/* byte-string index: slot holds id + 1, 0 = empty */
	uint32_t *idx;
	size_t idx_mask;
	/* u32 fast path: keys and id + 1 */
	uint32_t *u32_key;
	uint32_t *u32_val;
	size_t u32_mask, u32_n;
	uint64_t key_bytes, key_u32; /* hash keys: random; key_u32 odd */
};

/*
 * Both indexes are keyed with random numbers drawn for each table
 * (pt__random64()), so a crafted trace cannot pick tags that all collide
 * (each new one would probe past all the others, time growing with the
 * square of their number). Ids are given in first-seen order whatever the
 * hash, so nothing else changes from run to run.
 */
/* FNV-1a from a random start, then a full mix. */
static uint64_t hash_bytes(const struct pt_tags *t, const uint8_t *p, size_t len)
{
	uint64_t h = t->key_bytes;
	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 1099511628211ull;
	}
	return pt__fmix64(h);
}

/*
 * Multiply-shift with a random odd multiplier: bits 32 and up of the product,
 * i.e. the top bits of the product mod 2^(32 + log2(capacity)), a universal
 * family for 32-bit keys.
 */
static inline size_t hash_u32(const struct pt_tags *t, uint32_t v, size_t mask)
{
	return (size_t)(((uint64_t)v * t->key_u32) >> 32) & mask;
}

struct pt_tags *pt_tags_new(size_t max_tags)
{
	struct pt_tags *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->max = max_tags ? max_tags : 1000000;
	t->key_bytes = pt__random64();
	t->key_u32 = pt__random64() | 1;
	t->idx_mask = 255;
	t->idx = calloc(t->idx_mask + 1, sizeof(*t->idx));
	t->u32_mask = 255;
	t->u32_key = calloc(t->u32_mask + 1, sizeof(*t->u32_key));
	t->u32_val = calloc(t->u32_mask + 1, sizeof(*t->u32_val));
	if (!t->idx || !t->u32_key || !t->u32_val) {
		pt_tags_free(t);
		return NULL;
	}
	return t;
}

void pt_tags_free(struct pt_tags *t)
{
	if (!t)
		return;
	free(t->ents);
	free(t->arena);
	free(t->idx);
	free(t->u32_key);
	free(t->u32_val);
	free(t);
}

static const uint8_t *ent_bytes(const struct pt_tags *t, size_t id)
{
	return t->arena + t->ents[id].off;
}

static int grow_idx(struct pt_tags *t)
{
	size_t ncap = (t->idx_mask + 1) * 2;
	uint32_t *nidx = calloc(ncap, sizeof(*nidx));
	if (!nidx)
		return PT_ENOMEM;
	for (size_t id = 0; id < t->n; id++) {
		size_t h = hash_bytes(t, ent_bytes(t, id), t->ents[id].len) & (ncap - 1);
		while (nidx[h])
			h = (h + 1) & (ncap - 1);
		nidx[h] = (uint32_t)id + 1;
	}
	free(t->idx);
	t->idx = nidx;
	t->idx_mask = ncap - 1;
	return 0;
}

int pt_tags_intern(struct pt_tags *t, const void *bytes, size_t len, pt_tag_id *out)
{
	if (len == 0)
		return PT_EUSAGE;
	if (len > PT_TAG_MAX_LEN)
		len = PT_TAG_MAX_LEN;
	const uint8_t *b = bytes;
	size_t h = hash_bytes(t, b, len) & t->idx_mask;
	while (t->idx[h]) {
		size_t id = t->idx[h] - 1;
		if (t->ents[id].len == len && !memcmp(ent_bytes(t, id), b, len)) {
			*out = (pt_tag_id)id;
			return 0;
		}
		h = (h + 1) & t->idx_mask;
	}
	if (t->n >= t->max)
		return PT_ELIMIT;
	if (t->n == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 64;
		struct tag_ent *ne = realloc(t->ents, ncap * sizeof(*ne));
		if (!ne)
			return PT_ENOMEM;
		t->ents = ne;
		t->cap = ncap;
	}
	if (t->arena_len + len > t->arena_cap) {
		size_t ncap = t->arena_cap ? t->arena_cap * 2 : 1024;
		while (ncap < t->arena_len + len)
			ncap *= 2;
		if (ncap > UINT32_MAX)
			return PT_ELIMIT;
		uint8_t *na = realloc(t->arena, ncap);
		if (!na)
			return PT_ENOMEM;
		t->arena = na;
		t->arena_cap = ncap;
	}
	memcpy(t->arena + t->arena_len, b, len);
	t->ents[t->n].off = (uint32_t)t->arena_len;
	t->ents[t->n].len = (uint16_t)len;
	t->arena_len += len;
	t->idx[h] = (uint32_t)t->n + 1;
	*out = (pt_tag_id)t->n;
	t->n++;
	if (t->n * 2 > t->idx_mask + 1)
		return grow_idx(t);
	return 0;
}

static int grow_u32(struct pt_tags *t)
{
	size_t ncap = (t->u32_mask + 1) * 2;
	uint32_t *nk = calloc(ncap, sizeof(*nk));
	uint32_t *nv = calloc(ncap, sizeof(*nv));
	if (!nk || !nv) {
		free(nk);
		free(nv);
		return PT_ENOMEM;
	}
	for (size_t i = 0; i <= t->u32_mask; i++) {
		if (!t->u32_val[i])
			continue;
		size_t h = hash_u32(t, t->u32_key[i], ncap - 1);
		while (nv[h])
			h = (h + 1) & (ncap - 1);
		nk[h] = t->u32_key[i];
		nv[h] = t->u32_val[i];
	}
	free(t->u32_key);
	free(t->u32_val);
	t->u32_key = nk;
	t->u32_val = nv;
	t->u32_mask = ncap - 1;
	return 0;
}

int pt_tags_intern_u32(struct pt_tags *t, uint32_t tag, pt_tag_id *out)
{
	size_t h = hash_u32(t, tag, t->u32_mask);
	while (t->u32_val[h]) {
		if (t->u32_key[h] == tag) {
			*out = t->u32_val[h] - 1;
			return 0;
		}
		h = (h + 1) & t->u32_mask;
	}
	uint8_t b[4] = {(uint8_t)tag, (uint8_t)(tag >> 8), (uint8_t)(tag >> 16),
			(uint8_t)(tag >> 24)};
	pt_tag_id id;
	int rc = pt_tags_intern(t, b, 4, &id);
	if (rc < 0)
		return rc;
	t->u32_key[h] = tag;
	t->u32_val[h] = id + 1;
	t->u32_n++;
	*out = id;
	if (t->u32_n * 2 > t->u32_mask + 1)
		return grow_u32(t);
	return 0;
}

size_t pt_tags_count(const struct pt_tags *t)
{
	return t->n;
}

const uint8_t *pt_tags_bytes(const struct pt_tags *t, pt_tag_id id, size_t *len)
{
	if (id >= t->n) {
		if (len)
			*len = 0;
		return NULL;
	}
	if (len)
		*len = t->ents[id].len;
	return ent_bytes(t, id);
}

char *pt_tag_escape(const uint8_t *bytes, size_t len, char *buf, size_t bufsz)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	if (bufsz == 0)
		return buf;
	for (size_t i = 0; i < len; i++) {
		uint8_t c = bytes[i];
		char tmp[4];
		size_t n;
		if (c == '\\') {
			tmp[0] = '\\';
			tmp[1] = '\\';
			n = 2;
		} else if (c >= 0x20 && c < 0x7f) {
			tmp[0] = (char)c;
			n = 1;
		} else {
			tmp[0] = '\\';
			tmp[1] = 'x';
			tmp[2] = hex[c >> 4];
			tmp[3] = hex[c & 15];
			n = 4;
		}
		if (o + n >= bufsz)
			break;
		memcpy(buf + o, tmp, n);
		o += n;
	}
	buf[o] = '\0';
	return buf;
}

char *pt_tags_display(const struct pt_tags *t, pt_tag_id id, char *buf, size_t bufsz)
{
	size_t len;
	const uint8_t *b = pt_tags_bytes(t, id, &len);
	if (!b) {
		if (bufsz)
			snprintf(buf, bufsz, "%s", "?");
		return buf;
	}
	return pt_tag_escape(b, len, buf, bufsz);
}

char *pt_tags_hex(const struct pt_tags *t, pt_tag_id id, char *buf, size_t bufsz)
{
	static const char hex[] = "0123456789abcdef";
	size_t len, o = 0;
	const uint8_t *b = pt_tags_bytes(t, id, &len);
	if (bufsz == 0)
		return buf;
	for (size_t i = 0; b && i < len && o + 2 < bufsz; i++) {
		buf[o++] = hex[b[i] >> 4];
		buf[o++] = hex[b[i] & 15];
	}
	buf[o] = '\0';
	return buf;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int pt_tag_unescape(const char *s, uint8_t *out, size_t outsz)
{
	size_t o = 0;
	while (*s) {
		uint8_t c;
		if (s[0] == '\\' && s[1] == '\\') {
			c = '\\';
			s += 2;
		} else if (s[0] == '\\' && s[1] == 'x' && hexval(s[2]) >= 0 && hexval(s[3]) >= 0) {
			c = (uint8_t)(hexval(s[2]) << 4 | hexval(s[3]));
			s += 4;
		} else {
			c = (uint8_t)*s++;
		}
		if (o >= outsz || o >= PT_TAG_MAX_LEN)
			return PT_EUSAGE;
		out[o++] = c;
	}
	return o ? (int)o : PT_EUSAGE;
}

/*
 * '*' and '?' wildcard match of the whole tag. One pass with a single
 * backtrack point (the last '*'), so the time is at most pattern x tag
 * length whatever the pattern: "*a*a*a*...b" must not take exponential time.
 */
static int match_here(const char *p, const uint8_t *t, size_t len)
{
	const char *star = NULL; /* pattern just after the last '*' seen */
	size_t star_t = 0;       /* tag position that '*' is currently matched up to */
	size_t i = 0;
	while (i < len) {
		if (*p == '*') {
			while (*p == '*')
				p++;
			if (!*p)
				return 1;
			star = p;
			star_t = i;
		} else if (*p && (*p == '?' || (uint8_t)*p == t[i])) {
			p++;
			i++;
		} else if (star) {
			p = star;
			i = ++star_t;
		} else {
			return 0;
		}
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

int pt_tag_match(const char *pattern, const uint8_t *tag, size_t len)
{
	/* Trailing spaces (and NULs) pad short Windows tags: not significant. */
	while (len && (tag[len - 1] == ' ' || tag[len - 1] == '\0'))
		len--;
	size_t plen = strlen(pattern);
	char pbuf[PT_TAG_MAX_LEN * 2 + 1];
	if (plen >= sizeof(pbuf))
		return 0;
	memcpy(pbuf, pattern, plen + 1);
	while (plen && pbuf[plen - 1] == ' ')
		pbuf[--plen] = '\0';
	return match_here(pbuf, tag, len);
}
