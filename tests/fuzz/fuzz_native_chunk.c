/* SPDX-License-Identifier: MIT */
/*
 * The native reader's chunk decoder, past the checksums and the codec. A
 * mutated .ptz almost never gets there: a changed byte fails a CRC-32 or
 * the decompression first. Here the input is the decompressed payload of one
 * chunk: the first byte picks the record layout (bit 0: layout 3, "PTC3";
 * else "PTC2") and the next four are the record count; the rest is packed
 * (zlib, which "PTC2"/"PTC3" headers may name), given valid checksums and put
 * between the header and trailer of an empty trace written by
 * pt_native_writer. Each file is then read as the reader targets read theirs
 * (fuzz_run.h).
 */
#define _GNU_SOURCE 1 /* open_memstream() */
#include <stdbool.h>
#include <string.h>
#include <zlib.h>

#include "fuzz_run.h"
#include "pooltrace/native.h"

#define MAX_PAYLOAD (1u << 20)

static uint8_t *frame(const uint8_t *data, size_t size, size_t *out_len)
{
	uint8_t *out = NULL, *z = NULL, *shell = NULL;
	size_t shell_len = 0, hdr_len = 0;
	FILE *fp = NULL;
	struct pt_tags *tags = pt_tags_new(16);
	struct pt_native_writer *w = NULL;
	if (!tags)
		goto done;
	/* an empty trace: its header, then its trailer */
	fp = open_memstream((char **)&shell, &shell_len);
	if (!fp)
		goto done;
	struct pt_native_info info;
	memset(&info, 0, sizeof(info));
	snprintf(info.meta.format, sizeof(info.meta.format), "native");
	if (pt_native_writer_new(&w, fp, tags, &info) < 0 || fflush(fp) != 0)
		goto done;
	hdr_len = shell_len;
	if (pt_native_writer_finish(w, NULL, NULL) < 0 || fflush(fp) != 0)
		goto done;
	fclose(fp);
	fp = NULL;

	bool layout3 = data[0] & 1;
	uint32_t nrec = (uint32_t)data[1] | (uint32_t)data[2] << 8 | (uint32_t)data[3] << 16 |
			(uint32_t)data[4] << 24;
	const uint8_t *payload = data + 5;
	size_t plen = size - 5;
	uLongf zlen = compressBound((uLong)plen);
	z = malloc(zlen);
	if (!z || compress2(z, &zlen, payload, (uLong)plen, 1) != Z_OK)
		goto done;
	uint8_t h[PT_NATIVE_CHUNK2_HDR_SIZE];
	memcpy(h, layout3 ? PT_NATIVE_CHUNK3_MAGIC : PT_NATIVE_CHUNK2_MAGIC, 4);
	h[4] = PT_NATIVE_CODEC_ZLIB;
	h[5] = h[6] = h[7] = 0;
	uint32_t f[5] = {(uint32_t)zlen, (uint32_t)plen, nrec, (uint32_t)crc32(0L, z, (uInt)zlen), 0};
	for (int i = 0; i < 4; i++)
		for (int b = 0; b < 4; b++)
			h[8 + 4 * i + b] = (uint8_t)(f[i] >> (8 * b));
	f[4] = (uint32_t)crc32(0L, h, (uInt)sizeof(h) - 4);
	for (int b = 0; b < 4; b++)
		h[24 + b] = (uint8_t)(f[4] >> (8 * b));

	*out_len = shell_len + sizeof(h) + zlen;
	out = malloc(*out_len);
	if (!out)
		goto done;
	memcpy(out, shell, hdr_len);
	memcpy(out + hdr_len, h, sizeof(h));
	memcpy(out + hdr_len + sizeof(h), z, zlen);
	memcpy(out + hdr_len + sizeof(h) + zlen, shell + hdr_len, shell_len - hdr_len);
done:
	if (fp)
		fclose(fp);
	pt_native_writer_free(w);
	pt_tags_free(tags);
	free(shell);
	free(z);
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 5 || size - 5 > MAX_PAYLOAD)
		return 0;
	size_t len = 0;
	uint8_t *file = frame(data, size, &len);
	if (!file)
		return 0;
	fuzz_run_once(file, len, "native", false, false);
	fuzz_run_once(file, len, "native", true, true);
	free(file);
	return 0;
}
