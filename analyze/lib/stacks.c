/* SPDX-License-Identifier: MIT */
/*
 * Stack table, address-to-stack map and image map of the replay.
 *
 * - Stacks: frames of all stacks in one growing array; a stack is (offset,
 *   count, pid, hash), found through an open-addressing index of ids.
 * - Bindings: open addressing keyed by allocation address, backward-shift
 *   deletion; one entry per live allocation whose stack was seen.
 * - Images: an array sorted at seal time by (owner, base), where the owner
 *   is 0 for kernel images and pid + 1 for the others; a lookup is a binary
 *   search plus a short backward scan (overlapping images are allowed).
 * Every count is capped (stacks.h), so hostile input costs bounded memory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "pooltrace/error.h"
#include "pooltrace/event.h"
#include "stacks.h"

#define IMAGE_SCAN 32u /* images looked at below the binary-search point */

struct stk {
	uint64_t hash;
	uint32_t off; /* into frames[] */
	uint32_t n;
	uint32_t pid; /* PT_NONE32 for kernel-only stacks */
};

struct bind {
	uint64_t addr; /* 0 = empty */
	uint32_t id;
};

struct img {
	uint64_t owner; /* 0 kernel, pid + 1 otherwise */
	uint64_t base, size;
	uint32_t name; /* offset into names */
	uint32_t seq;  /* arrival order: later images win ties */
};

struct pt__stacks {
	struct stk *stk;
	size_t nstk, stk_cap;
	uint64_t *fr;
	size_t nfr, fr_cap;
	uint32_t *idx; /* id + 1, 0 = empty */
	size_t idx_mask;

	struct bind *b;
	size_t b_mask, nb;

	struct img *img;
	size_t nimg, img_cap;
	char *names;
	size_t nnames, names_cap;
	bool sealed;
	uint64_t key; /* random hash key: frames and addresses come from the trace */
};

struct pt__stacks *pt__stacks_new(void)
{
	struct pt__stacks *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->key = pt__random64();
	s->idx_mask = 255;
	s->idx = calloc(s->idx_mask + 1, sizeof(*s->idx));
	s->b_mask = 1023;
	s->b = calloc(s->b_mask + 1, sizeof(*s->b));
	if (!s->idx || !s->b) {
		pt__stacks_free(s);
		return NULL;
	}
	return s;
}

void pt__stacks_free(struct pt__stacks *s)
{
	if (!s)
		return;
	free(s->stk);
	free(s->fr);
	free(s->idx);
	free(s->b);
	free(s->img);
	free(s->names);
	free(s);
}

/* ---- stacks ---- */

/* True for addresses only kernel code has (64-bit upper half, or a 32-bit kernel address). */
static bool kernel_addr(uint64_t a)
{
	return a >= 0xFFFF800000000000ull || (a >= 0x80000000ull && a <= 0xFFFFFFFFull);
}

/*
 * Hashes of stacks and of addresses start from the map's random key, so a
 * crafted trace cannot pick frames or addresses that collide (fmix64 alone
 * is invertible). Ids are given in first-seen order whatever the hash.
 */
static uint64_t stack_hash(uint64_t key, uint32_t pid, const uint64_t *f, uint32_t n)
{
	uint64_t h = pt__fmix64(((uint64_t)pid << 32) ^ n ^ key);
	for (uint32_t i = 0; i < n; i++)
		h = pt__fmix64(h ^ f[i]) + i;
	return h | 1;
}

static int idx_grow(struct pt__stacks *s)
{
	size_t ncap = (s->idx_mask + 1) * 2;
	uint32_t *ni = calloc(ncap, sizeof(*ni));
	if (!ni)
		return PT_ENOMEM;
	for (size_t i = 0; i < s->nstk; i++) {
		size_t h = s->stk[i].hash & (ncap - 1);
		while (ni[h])
			h = (h + 1) & (ncap - 1);
		ni[h] = (uint32_t)i + 1;
	}
	free(s->idx);
	s->idx = ni;
	s->idx_mask = ncap - 1;
	return 0;
}

int pt__stacks_intern(struct pt__stacks *s, uint32_t pid, const uint64_t *frames, uint32_t n,
		      uint32_t *id)
{
	*id = UINT32_MAX;
	if (n > PT_STACK_MAX_FRAMES)
		n = PT_STACK_MAX_FRAMES;
	bool kernel_only = true;
	for (uint32_t i = 0; i < n && kernel_only; i++)
		kernel_only = kernel_addr(frames[i]);
	if (kernel_only)
		pid = PT_NONE32;
	uint64_t h = stack_hash(s->key, pid, frames, n);
	size_t k = h & s->idx_mask;
	while (s->idx[k]) {
		const struct stk *e = &s->stk[s->idx[k] - 1];
		if (e->hash == h && e->n == n && e->pid == pid &&
		    (n == 0 || !memcmp(s->fr + e->off, frames, n * sizeof(*frames)))) {
			*id = s->idx[k] - 1;
			return 0;
		}
		k = (k + 1) & s->idx_mask;
	}
	if (s->nstk >= PT__STACKS_MAX || s->nfr + n > PT__STACK_FRAMES_MAX)
		return 0;
	if (s->nstk == s->stk_cap) {
		size_t ncap = s->stk_cap ? s->stk_cap * 2 : 64;
		struct stk *ns = realloc(s->stk, ncap * sizeof(*ns));
		if (!ns)
			return PT_ENOMEM;
		s->stk = ns;
		s->stk_cap = ncap;
	}
	if (s->nfr + n > s->fr_cap) {
		size_t ncap = s->fr_cap ? s->fr_cap : 1024;
		while (ncap < s->nfr + n)
			ncap *= 2;
		uint64_t *nf = realloc(s->fr, ncap * sizeof(*nf));
		if (!nf)
			return PT_ENOMEM;
		s->fr = nf;
		s->fr_cap = ncap;
	}
	if (n)
		memcpy(s->fr + s->nfr, frames, n * sizeof(*frames));
	struct stk *e = &s->stk[s->nstk];
	e->hash = h;
	e->off = (uint32_t)s->nfr;
	e->n = n;
	e->pid = pid;
	s->nfr += n;
	s->idx[k] = (uint32_t)s->nstk + 1;
	*id = (uint32_t)s->nstk++;
	if (s->nstk * 2 > s->idx_mask + 1 && idx_grow(s) < 0)
		return PT_ENOMEM;
	return 0;
}

size_t pt__stacks_count(const struct pt__stacks *s)
{
	return s ? s->nstk : 0;
}

const uint64_t *pt__stacks_get(const struct pt__stacks *s, uint32_t id, uint32_t *n, uint32_t *pid)
{
	if (!s || id >= s->nstk) {
		*n = 0;
		if (pid)
			*pid = PT_NONE32;
		return NULL;
	}
	*n = s->stk[id].n;
	if (pid)
		*pid = s->stk[id].pid;
	return s->fr ? s->fr + s->stk[id].off : NULL;
}

/* ---- bindings ---- */

static int b_grow(struct pt__stacks *s)
{
	size_t ncap = (s->b_mask + 1) * 2;
	struct bind *nb = calloc(ncap, sizeof(*nb));
	if (!nb)
		return PT_ENOMEM;
	for (size_t i = 0; i <= s->b_mask; i++) {
		if (!s->b[i].addr)
			continue;
		size_t h = pt__fmix64(s->b[i].addr ^ s->key) & (ncap - 1);
		while (nb[h].addr)
			h = (h + 1) & (ncap - 1);
		nb[h] = s->b[i];
	}
	free(s->b);
	s->b = nb;
	s->b_mask = ncap - 1;
	return 0;
}

static struct bind *b_find(const struct pt__stacks *s, uint64_t addr)
{
	size_t h = pt__fmix64(addr ^ s->key) & s->b_mask;
	for (;;) {
		struct bind *e = &s->b[h];
		if (e->addr == addr)
			return e;
		if (!e->addr)
			return NULL;
		h = (h + 1) & s->b_mask;
	}
}

int pt__stacks_bind(struct pt__stacks *s, uint64_t addr, uint32_t id)
{
	if (!addr)
		return 0;
	struct bind *e = b_find(s, addr);
	if (e) {
		e->id = id;
		return 0;
	}
	if ((s->nb + 1) * 4 > (s->b_mask + 1) * 3 && b_grow(s) < 0)
		return PT_ENOMEM;
	size_t h = pt__fmix64(addr ^ s->key) & s->b_mask;
	while (s->b[h].addr)
		h = (h + 1) & s->b_mask;
	s->b[h].addr = addr;
	s->b[h].id = id;
	s->nb++;
	return 0;
}

void pt__stacks_unbind(struct pt__stacks *s, uint64_t addr)
{
	if (!addr || !s->nb)
		return;
	struct bind *e = b_find(s, addr);
	if (!e)
		return;
	size_t i = (size_t)(e - s->b), j = i;
	for (;;) {
		j = (j + 1) & s->b_mask;
		if (!s->b[j].addr)
			break;
		size_t k = pt__fmix64(s->b[j].addr ^ s->key) & s->b_mask;
		if ((j > i && (k <= i || k > j)) || (j < i && (k <= i && k > j))) {
			s->b[i] = s->b[j];
			i = j;
		}
	}
	s->b[i].addr = 0;
	s->nb--;
}

uint32_t pt__stacks_lookup(const struct pt__stacks *s, uint64_t addr)
{
	if (!s || !s->nb || !addr)
		return UINT32_MAX;
	const struct bind *e = b_find(s, addr);
	return e ? e->id : UINT32_MAX;
}

size_t pt__stacks_bound(const struct pt__stacks *s)
{
	return s ? s->nb : 0;
}

/* ---- images ---- */

/* The file name part of a path ("\SystemRoot\system32\drivers\x.sys" -> "x.sys"). */
static const char *base_name(const char *path)
{
	const char *b = path;
	for (const char *p = path; *p; p++)
		if (*p == '\\' || *p == '/')
			b = p + 1;
	return b;
}

int pt__stacks_image(struct pt__stacks *s, uint64_t base, uint64_t size, uint32_t pid,
		     const char *path)
{
	if (!size || s->nimg >= PT__IMAGES_MAX)
		return 0;
	if (base + size < base)
		size = UINT64_MAX - base; /* reaches the top of the address space */
	const char *name = base_name(path ? path : "");
	size_t len = strnlen(name, PT__IMAGE_NAME_MAX - 1);
	if (!len) {
		name = "?"; /* the trace gave no file name */
		len = 1;
	}
	if (s->nimg == s->img_cap) {
		size_t ncap = s->img_cap ? s->img_cap * 2 : 64;
		struct img *ni = realloc(s->img, ncap * sizeof(*ni));
		if (!ni)
			return PT_ENOMEM;
		s->img = ni;
		s->img_cap = ncap;
	}
	if (s->nnames + len + 1 > s->names_cap) {
		size_t ncap = s->names_cap ? s->names_cap * 2 : 4096;
		while (ncap < s->nnames + len + 1)
			ncap *= 2;
		char *nn = realloc(s->names, ncap);
		if (!nn)
			return PT_ENOMEM;
		s->names = nn;
		s->names_cap = ncap;
	}
	memcpy(s->names + s->nnames, name, len);
	s->names[s->nnames + len] = '\0';
	struct img *m = &s->img[s->nimg];
	bool kernel = pid == 0 || pid == 4 || pid == PT_NONE32 || base >= 0xFFFF800000000000ull;
	m->owner = kernel ? 0 : (uint64_t)pid + 1;
	m->base = base;
	m->size = size;
	m->name = (uint32_t)s->nnames;
	m->seq = (uint32_t)s->nimg;
	s->nnames += len + 1;
	s->nimg++;
	s->sealed = false;
	return 1;
}

size_t pt__stacks_images(const struct pt__stacks *s)
{
	return s ? s->nimg : 0;
}

static int img_cmp(const void *a, const void *b)
{
	const struct img *x = a, *y = b;
	if (x->owner != y->owner)
		return x->owner < y->owner ? -1 : 1;
	if (x->base != y->base)
		return x->base < y->base ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void pt__stacks_seal(struct pt__stacks *s)
{
	if (!s || s->sealed)
		return;
	if (s->nimg > 1)
		qsort(s->img, s->nimg, sizeof(*s->img), img_cmp);
	s->sealed = true;
}

static bool covers(const struct img *m, uint64_t addr)
{
	return addr >= m->base && addr - m->base < m->size;
}

/* The image of owner covering addr, NULL when none. */
static const struct img *img_find(const struct pt__stacks *s, uint64_t owner, uint64_t addr)
{
	if (!s->sealed) {
		const struct img *best = NULL;
		for (size_t i = 0; i < s->nimg; i++)
			if (s->img[i].owner == owner && covers(&s->img[i], addr) &&
			    (!best || s->img[i].base >= best->base))
				best = &s->img[i];
		return best;
	}
	/* the last image with (owner, base) <= (owner, addr) */
	size_t lo = 0, hi = s->nimg;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct img *m = &s->img[mid];
		if (m->owner < owner || (m->owner == owner && m->base <= addr))
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t k = 0; k < IMAGE_SCAN && lo > 0; k++, lo--) {
		const struct img *m = &s->img[lo - 1];
		if (m->owner != owner)
			break;
		if (covers(m, addr))
			return m;
	}
	return NULL;
}

bool pt__stacks_frame(const struct pt__stacks *s, uint64_t addr, uint32_t pid, char *buf,
		      size_t bufsz)
{
	const struct img *m = NULL;
	if (s && s->nimg) {
		if (pid != PT_NONE32 && pid != 0 && pid != 4)
			m = img_find(s, (uint64_t)pid + 1, addr);
		if (!m)
			m = img_find(s, 0, addr);
	}
	if (!m) {
		snprintf(buf, bufsz, "0x%llx", (unsigned long long)addr);
		return false;
	}
	snprintf(buf, bufsz, "%s+0x%llx", s->names + m->name,
		 (unsigned long long)(addr - m->base));
	return true;
}
