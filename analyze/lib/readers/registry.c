/* SPDX-License-Identifier: MIT */
/* The one list of readers. Probe order matters only on ties (first wins). */
#include <stddef.h>
#include <string.h>

#include "readers/readers.h"

static const struct pt_reader_ops *const readers[] = {
	&pt_reader_native,
	&pt_reader_xperf,
	&pt_reader_tracerpt_xml,
	&pt_reader_etl,
	&pt_reader_ftrace,
	&pt_reader_poolmon,
	NULL
};

const struct pt_reader_ops *const *pt_reader_list(void)
{
	return readers;
}

const struct pt_reader_ops *pt_reader_find(const char *name)
{
	for (size_t i = 0; readers[i]; i++)
		if (!strcmp(readers[i]->name, name))
			return readers[i];
	return NULL;
}
