/* SPDX-License-Identifier: MIT */
/*
 * pt_native_copy(): any reader's events into the native format. Kept apart
 * from the writer (native_write.c) so that a program that only writes, such
 * as the Windows capture, links the writer without the readers.
 */
#include <stdio.h>
#include <string.h>

#include "pooltrace/error.h"
#include "pooltrace/native.h"
#include "pooltrace/reader.h"

static void info_from_reader(struct pt_native_info *info, const struct pt_reader *r,
			     const char *command_line, const char *tool)
{
	memset(info, 0, sizeof(*info));
	info->meta = *pt_reader_meta(r);
	info->source_format = r->ops->name;
	info->command_line = command_line;
	info->tool = tool;
}

int pt_native_copy(struct pt_reader *r, FILE *fp, const char *command_line, const char *tool,
		   uint64_t *events, char *err, size_t errsz)
{
	struct pt_native_info info;
	struct pt_native_writer *w = NULL;
	struct pt_event ev;
	int rc;
	if (events)
		*events = 0;
	info_from_reader(&info, r, command_line, tool);
	rc = pt_native_writer_new(&w, fp, r->tags, &info);
	if (rc < 0) {
		snprintf(err, errsz, "cannot write the native header: %s", pt_strerror(rc));
		return rc;
	}
	while ((rc = pt_reader_next(r, &ev)) > 0) {
		rc = pt_native_write_event(w, &ev);
		if (rc < 0) {
			snprintf(err, errsz, "cannot write event %llu: %s",
				 (unsigned long long)pt_native_writer_events(w), pt_strerror(rc));
			goto out;
		}
	}
	if (rc < 0) {
		snprintf(err, errsz, "%s", pt_reader_errmsg(r));
		goto out;
	}
	info_from_reader(&info, r, command_line, tool);
	const struct pt_trace_meta *m = pt_reader_meta(r);
	struct pt_native_totals t = {
		.end_ns = m->end_ns,
		.lost_known = m->lost_known,
		.events_lost = m->events_lost,
		.buffers_lost = m->buffers_lost,
		.stop_reason = "end of input",
	};
	rc = pt_native_writer_finish(w, &info, &t);
	if (rc < 0)
		snprintf(err, errsz, "cannot write the output: %s", pt_strerror(rc));
out:
	if (events)
		*events = pt_native_writer_events(w);
	pt_native_writer_free(w);
	return rc;
}
