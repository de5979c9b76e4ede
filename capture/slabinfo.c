/* SPDX-License-Identifier: MIT */
/* /proc/slabinfo rows: per-cache object counts for snapshot events. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"

int pt_slabinfo_parse_line(const char *line, struct pt_slab_row *row)
{
	/* "slabinfo - version: 2.1" and "# name <active_objs> ..." are headers */
	if (!strncmp(line, "slabinfo", 8) || line[0] == '#' || line[0] == '\0' || line[0] == '\n')
		return 0;
	size_t len = strcspn(line, " \t");
	if (len == 0 || len >= sizeof(row->name))
		return PT_EFORMAT;
	memcpy(row->name, line, len);
	row->name[len] = '\0';
	const char *p = line + len;
	uint64_t v[3];
	for (int i = 0; i < 3; i++) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!isdigit((unsigned char)*p))
			return PT_EFORMAT;
		char *end;
		v[i] = strtoull(p, &end, 10);
		p = end;
	}
	row->active_objs = v[0];
	row->num_objs = v[1];
	row->objsize = v[2];
	return 1;
}
