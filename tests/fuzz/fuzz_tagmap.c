/* SPDX-License-Identifier: MIT */
/*
 * The pooltag.txt parser (tagmap.h): load the input as a tag file, then look
 * up tags taken from the input itself and format their Mapped_Driver text.
 * Entries must keep the header's promise: valid UTF-8, no control characters.
 */
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "pooltrace/tagmap.h"
#include "pooltrace/tags.h"

/* Valid UTF-8 without C0 controls or DEL (a lenient check: no overlong test). */
static bool clean_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		if (*p < 0x20 || *p == 0x7f)
			return false;
		int n = *p < 0x80 ? 0 : (*p & 0xe0) == 0xc0 ? 1 : (*p & 0xf0) == 0xe0 ? 2 :
			(*p & 0xf8) == 0xf0 ? 3 : -1;
		if (n < 0)
			return false;
		p++;
		for (int i = 0; i < n; i++, p++)
			if ((*p & 0xc0) != 0x80)
				return false;
	}
	return true;
}

static void check_entry(const struct pt_tagmap_entry *e)
{
	char buf[PT_MAPPED_MAX];
	PT_FUZZ_CHECK(e->tag && e->driver && e->desc);
	PT_FUZZ_CHECK(clean_utf8(e->tag));
	PT_FUZZ_CHECK(clean_utf8(e->driver));
	PT_FUZZ_CHECK(clean_utf8(e->desc));
	char *m = pt_tagmap_mapped_driver(e, buf, sizeof(buf));
	PT_FUZZ_CHECK(m && strlen(m) < sizeof(buf));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pt_tagmap *m = pt_tagmap_new();
	if (!m)
		return 0;
	if (pt_tagmap_load_buffer(m, "fuzz", (const char *)data, size) == 0) {
		struct pt_tagmap_stats st;
		pt_tagmap_stats(m, &st);
		PT_FUZZ_CHECK(st.entries == pt_tagmap_count(m));
		PT_FUZZ_CHECK(st.patterns <= st.entries);
		/* every 4-byte window at line starts, and a few fixed tags */
		for (size_t i = 0; i + 4 <= size; i++) {
			if (i && data[i - 1] != '\n')
				continue;
			const struct pt_tagmap_entry *e = pt_tagmap_lookup(m, data + i, 4);
			if (e)
				check_entry(e);
		}
		static const char *const probe[] = {"Leak", "Irp ", "File", "MmSt", "Ntf\xff", "a"};
		for (size_t i = 0; i < sizeof(probe) / sizeof(probe[0]); i++) {
			const struct pt_tagmap_entry *e =
				pt_tagmap_lookup(m, (const uint8_t *)probe[i], strlen(probe[i]));
			if (e)
				check_entry(e);
		}
	}
	pt_tagmap_free(m);
	return 0;
}
