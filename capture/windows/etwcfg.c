/* SPDX-License-Identifier: MIT */
/* The byte blocks an ETW kernel pool session is configured with (see wincap.h). */
#include <stdio.h>
#include <string.h>

#include "pooltrace/error.h"
#include "pooltrace/tags.h"
#include "wincap.h"

/* {0268a8b6-74fd-4302-9dd0-6e8f1795c0cf}: Data1, Data2, Data3 little-endian, then Data4. */
const uint8_t pt_etw_pool_guid[16] = {0xb6, 0xa8, 0x68, 0x02, 0xfd, 0x74, 0x02, 0x43,
				      0x9d, 0xd0, 0x6e, 0x8f, 0x17, 0x95, 0xc0, 0xcf};

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

void pt_etw_groupmask_init(struct pt_etw_groupmask *gm)
{
	memset(gm, 0, sizeof(*gm));
}

void pt_etw_groupmask_set(struct pt_etw_groupmask *gm, uint32_t perf)
{
	gm->masks[perf >> 29] |= perf & 0x1FFFFFFFu;
}

bool pt_etw_groupmask_test(const struct pt_etw_groupmask *gm, uint32_t perf)
{
	uint32_t bits = perf & 0x1FFFFFFFu;
	return (gm->masks[perf >> 29] & bits) == bits;
}

void pt_etw_pool_groupmask(struct pt_etw_groupmask *gm)
{
	pt_etw_groupmask_init(gm);
	pt_etw_groupmask_set(gm, PT_PERF_PROCESS);
	pt_etw_groupmask_set(gm, PT_PERF_THREAD);
	pt_etw_groupmask_set(gm, PT_PERF_LOADER);
	pt_etw_groupmask_set(gm, PT_PERF_POOL);
}

void pt_etw_groupmask_encode(const struct pt_etw_groupmask *gm, uint8_t out[PT_PERF_GROUPMASK_SIZE])
{
	for (int i = 0; i < PT_PERF_NUM_MASKS; i++)
		put32(out + 4 * i, gm->masks[i]);
}

size_t pt_etw_pool_stack_ids(uint8_t *out, size_t outsz)
{
	size_t need = PT_ETW_POOL_STACK_EVENTS * PT_ETW_CLASSIC_ID_SIZE;
	if (outsz < need)
		return 0;
	memset(out, 0, need);
	for (int i = 0; i < PT_ETW_POOL_STACK_EVENTS; i++) {
		uint8_t *e = out + i * PT_ETW_CLASSIC_ID_SIZE;
		memcpy(e, pt_etw_pool_guid, 16);
		e[16] = (uint8_t)(0x20 + i); /* Type: opcode of the pool event */
	}
	return need;
}

static bool is_pad(uint8_t c)
{
	return c == ' ' || c == '\0';
}

int pt_etw_tagfilter_parse(const char *list, struct pt_etw_tagfilter *f, char *err, size_t errsz)
{
	memset(f, 0, sizeof(*f));
	if (!list || !*list)
		return 0;
	const char *p = list;
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		char item[64];
		if (n == 0) {
			snprintf(err, errsz, "--tags: empty tag in \"%s\"", list);
			return PT_EUSAGE;
		}
		if (n >= sizeof(item)) {
			snprintf(err, errsz, "--tags: tag \"%.*s...\" is longer than 4 characters", 8, p);
			return PT_EUSAGE;
		}
		memcpy(item, p, n);
		item[n] = '\0';
		if (strpbrk(item, "*?")) {
			snprintf(err, errsz,
				 "--tags: \"%s\": the kernel pool-tag filter takes exact tags, not "
				 "wildcards (filter with wildcards when analysing instead)",
				 item);
			return PT_EUSAGE;
		}
		uint8_t bytes[PT_TAG_MAX_LEN];
		int len = pt_tag_unescape(item, bytes, sizeof(bytes));
		if (len < 1 || len > 4) {
			snprintf(err, errsz, "--tags: \"%s\" must be 1 to 4 characters", item);
			return PT_EUSAGE;
		}
		if (f->n == PT_ETW_MAX_TAGS) {
			snprintf(err, errsz,
				 "--tags: at most %d tags can be filtered by the kernel (\"%s\")",
				 PT_ETW_MAX_TAGS, list);
			return PT_EUSAGE;
		}
		uint8_t *t = f->bytes[f->n];
		memset(t, ' ', 4);
		memcpy(t, bytes, (size_t)len);
		f->tags[f->n] = (uint32_t)t[0] | (uint32_t)t[1] << 8 | (uint32_t)t[2] << 16 |
				(uint32_t)t[3] << 24;
		for (size_t i = 0; i < f->n; i++) {
			if (f->tags[i] == f->tags[f->n]) {
				snprintf(err, errsz, "--tags: \"%s\" is given twice", item);
				return PT_EUSAGE;
			}
		}
		f->n++;
		if (!comma)
			break;
		p = comma + 1;
	}
	return 0;
}

bool pt_etw_tagfilter_match(const struct pt_etw_tagfilter *f, uint32_t tag)
{
	if (!f || f->n == 0)
		return true;
	uint8_t t[4] = {(uint8_t)tag, (uint8_t)(tag >> 8), (uint8_t)(tag >> 16), (uint8_t)(tag >> 24)};
	size_t tl = 4;
	while (tl && is_pad(t[tl - 1]))
		tl--;
	for (size_t i = 0; i < f->n; i++) {
		size_t fl = 4;
		while (fl && is_pad(f->bytes[i][fl - 1]))
			fl--;
		if (fl == tl && !memcmp(f->bytes[i], t, tl))
			return true;
	}
	return false;
}

size_t pt_etw_tagfilter_info(const struct pt_etw_tagfilter *f, uint64_t trace_handle,
			     uint8_t *out, size_t outsz)
{
	if (!f || f->n == 0 || f->n > PT_ETW_MAX_TAGS)
		return 0;
	size_t need = 16 + 4 * f->n;
	if (outsz < need)
		return 0;
	memset(out, 0, need);
	put32(out, PT_EVENT_TRACE_POOLTAG_FILTER_INFORMATION);
	put64(out + 8, trace_handle);
	for (size_t i = 0; i < f->n; i++)
		put32(out + 16 + 4 * i, f->tags[i]);
	return need;
}

size_t pt_etw_ext_build(const struct pt_etw_groupmask *gm, const uint16_t *hooks, size_t nhooks,
			const struct pt_etw_tagfilter *tf, uint8_t *out, size_t outsz)
{
	size_t ntags = tf ? tf->n : 0;
	if (nhooks > 256 || ntags > PT_ETW_MAX_TAGS)
		return 0;
	size_t items = 1 + (nhooks ? 1 : 0) + (ntags ? 1 : 0);
	size_t dwords = 1 + (1 + PT_PERF_NUM_MASKS) + (nhooks ? 1 + nhooks : 0) +
			(ntags ? 1 + ntags : 0);
	if (outsz < dwords * 4)
		return 0;
	uint8_t *p = out;
	put32(p, (uint32_t)dwords | (uint32_t)items << 16);
	p += 4;
	put32(p, (uint32_t)(1 + PT_PERF_NUM_MASKS) | (uint32_t)PT_ETW_EXT_ENABLE_FLAGS << 16);
	p += 4;
	pt_etw_groupmask_encode(gm, p);
	p += PT_PERF_GROUPMASK_SIZE;
	if (nhooks) {
		put32(p, (uint32_t)(1 + nhooks) | (uint32_t)PT_ETW_EXT_STACKWALK_FILTER << 16);
		p += 4;
		for (size_t i = 0; i < nhooks; i++, p += 4)
			put32(p, hooks[i]);
	}
	if (ntags) {
		put32(p, (uint32_t)(1 + ntags) | (uint32_t)PT_ETW_EXT_POOLTAG_FILTER << 16);
		p += 4;
		for (size_t i = 0; i < ntags; i++, p += 4)
			put32(p, tf->tags[i]);
	}
	return (size_t)(p - out);
}

uint32_t pt_etw_ext_enable_flags(size_t offset)
{
	if (offset == 0 || offset > 0xFFFF || offset % 4)
		return 0;
	return PT_ETW_EXT_FLAG | (uint32_t)offset;
}

size_t pt_etw_mark_build(const char *text, uint8_t *out, size_t outsz)
{
	size_t n = text ? strnlen(text, PT_ETW_MAX_MARK) : 0;
	if (outsz < 4 + n + 1)
		return 0;
	put32(out, 0);
	if (n)
		memcpy(out + 4, text, n);
	out[4 + n] = '\0';
	return 4 + n + 1;
}
