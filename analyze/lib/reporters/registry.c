/* SPDX-License-Identifier: MIT */
/* The one list of reporters. */
#include <stddef.h>
#include <string.h>

#include "reporters/reporters.h"

static const struct pt_reporter_ops *const reporters[] = {
	&pt_reporter_text,
	&pt_reporter_json,
	&pt_reporter_md,
	&pt_reporter_csv,
	&pt_reporter_html,
	NULL
};

const struct pt_reporter_ops *const *pt_reporter_list(void)
{
	return reporters;
}

const struct pt_reporter_ops *pt_reporter_find(const char *name)
{
	for (size_t i = 0; reporters[i]; i++)
		if (!strcmp(reporters[i]->name, name))
			return reporters[i];
	return NULL;
}
