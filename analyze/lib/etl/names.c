/* SPDX-License-Identifier: MIT */
/* ETL display names: record header kinds, kernel groups, GUID text. */
#include <stdio.h>

#include "etl/etl.h"

/* {0268a8b6-74fd-4302-9dd0-6e8f1795c0cf} in on-disk GUID byte order. */
const uint8_t pt__etl_pool_guid[16] = {0xb6, 0xa8, 0x68, 0x02, 0xfd, 0x74, 0x02, 0x43,
				       0x9d, 0xd0, 0x6e, 0x8f, 0x17, 0x95, 0xc0, 0xcf};

/* {def2fe46-7bd6-4b80-bd94-f57fe20d0ce3} */
const uint8_t pt__etl_stackwalk_guid[16] = {0x46, 0xfe, 0xf2, 0xde, 0xd6, 0x7b, 0x80, 0x4b,
					    0xbd, 0x94, 0xf5, 0x7f, 0xe2, 0x0d, 0x0c, 0xe3};

/* {2cb15d1d-5fc1-11d2-abe1-00a0c911f518} */
const uint8_t pt__etl_image_guid[16] = {0x1d, 0x5d, 0xb1, 0x2c, 0xc1, 0x5f, 0xd2, 0x11,
					0xab, 0xe1, 0x00, 0xa0, 0xc9, 0x11, 0xf5, 0x18};

const char *pt__etl_rec_name(enum pt_etl_rec k)
{
	static const char *const names[PT_ETL_REC_COUNT_] = {
		[PT_ETL_REC_SYSTEM32] = "system32",
		[PT_ETL_REC_SYSTEM64] = "system64",
		[PT_ETL_REC_COMPACT32] = "compact32",
		[PT_ETL_REC_COMPACT64] = "compact64",
		[PT_ETL_REC_PERFINFO32] = "perfinfo32",
		[PT_ETL_REC_PERFINFO64] = "perfinfo64",
		[PT_ETL_REC_FULL32] = "full_header32",
		[PT_ETL_REC_FULL64] = "full_header64",
		[PT_ETL_REC_INSTANCE32] = "instance32",
		[PT_ETL_REC_INSTANCE64] = "instance64",
		[PT_ETL_REC_EVENT32] = "event_header32",
		[PT_ETL_REC_EVENT64] = "event_header64",
		[PT_ETL_REC_MESSAGE] = "message",
		[PT_ETL_REC_ERROR] = "error",
		[PT_ETL_REC_TIMED] = "timed",
		[PT_ETL_REC_WNODE] = "wnode",
	};
	if ((unsigned)k >= PT_ETL_REC_COUNT_)
		return "?";
	return names[k];
}

const char *pt__etl_group_name(unsigned group)
{
	/* EVENT_TRACE_GROUP_* >> 8 (phnt ntwmi.h) */
	static const char *const names[] = {
		"header", "io", "memory", "process", "file", "thread", "tcpip", "job",
		"udpip", "registry", "dbgprint", "config", "spare1", "wnf", "pool",
		"perfinfo", "heap", "object", "power", "modbound", "image", "dpc", "cc",
		"critsec", "stackwalk", "ums", "alpc", "splitio", "thread_pool",
		"hypervisor", "hypervisorx",
	};
	if (group >= sizeof(names) / sizeof(names[0]))
		return NULL;
	return names[group];
}

char *pt__etl_guid_format(const uint8_t g[16], char *buf, size_t bufsz)
{
	snprintf(buf, bufsz,
		 "{%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x}",
		 (unsigned)pt__le32(g), (unsigned)pt__le16(g + 4), (unsigned)pt__le16(g + 6),
		 g[8], g[9], g[10], g[11], g[12], g[13], g[14], g[15]);
	return buf;
}
