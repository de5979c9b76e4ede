/* SPDX-License-Identifier: MIT */
/*
 * The ETL buffers' XPRESS (MS-XCA plain LZ77) decompressor. The first two
 * bytes of the input choose the output size; the rest is the compressed
 * stream. The same bytes are also compressed and decompressed again, which
 * must give them back.
 */
#include <string.h>

#include "etl/etl.h"
#include "fuzz.h"
#include "pooltrace/error.h"

#define MAX_OUT 65536

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[MAX_OUT];
	if (size < 2)
		return 0;
	size_t outlen = ((size_t)data[0] | (size_t)data[1] << 8) + 1; /* 1..65536 */
	const uint8_t *in = data + 2;
	size_t inlen = size - 2;

	/* an exact-size heap buffer so that overruns are caught */
	uint8_t *dst = malloc(outlen);
	if (!dst)
		return 0;
	size_t produced = (size_t)-1;
	int rc = pt__xpress_decompress(in, inlen, dst, outlen, &produced);
	PT_FUZZ_CHECK(rc == 0 || rc == PT_EFORMAT);
	if (rc == 0)
		PT_FUZZ_CHECK(produced <= outlen);
	free(dst);

	/* round trip of the raw bytes */
	if (inlen <= MAX_OUT) {
		uint8_t *comp = malloc(pt__xpress_bound(inlen) + 1);
		if (!comp)
			return 0;
		size_t clen = pt__xpress_compress(in, inlen, comp);
		PT_FUZZ_CHECK(clen <= pt__xpress_bound(inlen));
		produced = 0;
		rc = pt__xpress_decompress(comp, clen, out, inlen, &produced);
		PT_FUZZ_CHECK(rc == 0);
		PT_FUZZ_CHECK(produced == inlen);
		PT_FUZZ_CHECK(!memcmp(out, in, inlen));
		free(comp);
	}
	return 0;
}
