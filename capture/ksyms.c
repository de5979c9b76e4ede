/* SPDX-License-Identifier: MIT */
/* Kernel text symbols from /proc/kallsyms: call-site address to function name. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"

struct ksym {
	uint64_t addr;
	uint32_t name; /* offset into names */
};

struct pt_ksyms {
	struct ksym *syms;
	size_t n, cap;
	char *names;
	size_t nlen, ncap;
};

static int cmp_sym(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static int add(struct pt_ksyms *k, uint64_t addr, const char *name, size_t len)
{
	if (k->n == k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 4096;
		struct ksym *ns = realloc(k->syms, cap * sizeof(*ns));
		if (!ns)
			return PT_ENOMEM;
		k->syms = ns;
		k->cap = cap;
	}
	if (k->nlen + len + 1 > k->ncap) {
		size_t cap = k->ncap ? k->ncap * 2 : 65536;
		while (cap < k->nlen + len + 1)
			cap *= 2;
		if (cap > UINT32_MAX)
			return PT_ELIMIT;
		char *nn = realloc(k->names, cap);
		if (!nn)
			return PT_ENOMEM;
		k->names = nn;
		k->ncap = cap;
	}
	memcpy(k->names + k->nlen, name, len);
	k->names[k->nlen + len] = '\0';
	k->syms[k->n].addr = addr;
	k->syms[k->n].name = (uint32_t)k->nlen;
	k->n++;
	k->nlen += len + 1;
	return 0;
}

struct pt_ksyms *pt_ksyms_load(FILE *fp)
{
	struct pt_ksyms *k = calloc(1, sizeof(*k));
	char line[512];
	if (!k)
		return NULL;
	while (fgets(line, sizeof(line), fp)) {
		/* "ffffffff81000000 T _stext" or "... t name\t[module]" */
		char *end;
		uint64_t addr = strtoull(line, &end, 16);
		if (end == line || *end != ' ' || addr == 0)
			continue;
		char type = end[1];
		if ((type != 't' && type != 'T') || end[2] != ' ')
			continue;
		char *name = end + 3;
		size_t len = strcspn(name, " \t\r\n");
		if (len == 0)
			continue;
		if (add(k, addr, name, len) < 0) {
			pt_ksyms_free(k);
			return NULL;
		}
	}
	if (k->n)
		qsort(k->syms, k->n, sizeof(*k->syms), cmp_sym);
	return k;
}

void pt_ksyms_free(struct pt_ksyms *k)
{
	if (!k)
		return;
	free(k->syms);
	free(k->names);
	free(k);
}

size_t pt_ksyms_count(const struct pt_ksyms *k)
{
	return k->n;
}

const char *pt_ksyms_lookup(const struct pt_ksyms *k, uint64_t addr)
{
	size_t lo = 0, hi = k->n;
	if (!k->n || addr < k->syms[0].addr)
		return NULL;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (k->syms[mid].addr <= addr)
			lo = mid;
		else
			hi = mid;
	}
	return k->names + k->syms[lo].name;
}
