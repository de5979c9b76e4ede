/* SPDX-License-Identifier: MIT */
/* A set of non-zero addresses: open addressing, linear probing, backward-shift deletion. */
#include <stdlib.h>

#include "capture.h"

struct pt_addrset {
	uint64_t *slot; /* 0 = empty */
	size_t cap;     /* power of two */
	size_t n;
	size_t max;
};

static size_t slot_of(const struct pt_addrset *s, uint64_t a)
{
	a ^= a >> 33;
	a *= 0xff51afd7ed558ccdull;
	a ^= a >> 33;
	return (size_t)a & (s->cap - 1);
}

struct pt_addrset *pt_addrset_new(size_t max)
{
	struct pt_addrset *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->cap = 1024;
	s->max = max ? max : 16u << 20;
	s->slot = calloc(s->cap, sizeof(*s->slot));
	if (!s->slot) {
		free(s);
		return NULL;
	}
	return s;
}

void pt_addrset_free(struct pt_addrset *s)
{
	if (!s)
		return;
	free(s->slot);
	free(s);
}

static int grow(struct pt_addrset *s)
{
	size_t oldcap = s->cap;
	uint64_t *old = s->slot;
	uint64_t *nv = calloc(oldcap * 2, sizeof(*nv));
	if (!nv)
		return PT_ENOMEM;
	s->slot = nv;
	s->cap = oldcap * 2;
	for (size_t i = 0; i < oldcap; i++) {
		if (!old[i])
			continue;
		size_t j = slot_of(s, old[i]);
		while (s->slot[j])
			j = (j + 1) & (s->cap - 1);
		s->slot[j] = old[i];
	}
	free(old);
	return 0;
}

int pt_addrset_add(struct pt_addrset *s, uint64_t addr)
{
	if (!addr)
		return PT_EUSAGE;
	if ((s->n + 1) * 4 > s->cap * 3) {
		int rc = grow(s);
		if (rc < 0)
			return rc;
	}
	size_t j = slot_of(s, addr);
	while (s->slot[j]) {
		if (s->slot[j] == addr)
			return 0;
		j = (j + 1) & (s->cap - 1);
	}
	if (s->n >= s->max)
		return PT_ELIMIT;
	s->slot[j] = addr;
	s->n++;
	return 0;
}

bool pt_addrset_remove(struct pt_addrset *s, uint64_t addr)
{
	if (!addr)
		return false;
	size_t mask = s->cap - 1, j = slot_of(s, addr);
	while (s->slot[j] && s->slot[j] != addr)
		j = (j + 1) & mask;
	if (!s->slot[j])
		return false;
	/* backward shift: move later members of the probe run into the hole */
	size_t hole = j;
	for (size_t k = (j + 1) & mask; s->slot[k]; k = (k + 1) & mask) {
		size_t home = slot_of(s, s->slot[k]);
		/* k's entry may fill the hole when its home is not in (hole, k] */
		bool between = hole <= k ? (home > hole && home <= k) : (home > hole || home <= k);
		if (!between) {
			s->slot[hole] = s->slot[k];
			hole = k;
		}
	}
	s->slot[hole] = 0;
	s->n--;
	return true;
}

size_t pt_addrset_count(const struct pt_addrset *s)
{
	return s->n;
}

bool pt_addrset_full(const struct pt_addrset *s)
{
	return s->n >= s->max;
}
