/* SPDX-License-Identifier: MIT */
/*
 * Linux backend: kmem tracepoints in a private tracefs instance, read from
 * the per-CPU raw ring buffers and decoded with libtraceevent.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event-parse.h>
#include <kbuffer.h>
#include <tracefs.h>

#include "capture.h"
#include "linux_kmem.h"

enum { EV_KMALLOC, EV_KFREE, EV_CACHE_ALLOC, EV_CACHE_FREE, EV_N_ };

static const char *const event_names[EV_N_] = {
	"kmalloc", "kfree", "kmem_cache_alloc", "kmem_cache_free",
};

struct evdesc {
	struct tep_event *ev;
	struct tep_format_field *call_site, *ptr, *bytes_alloc, *name;
	bool enabled;
};

struct pt_lk {
	struct tracefs_instance *inst;
	struct tep_handle *tep;
	struct kbuffer *kbuf;
	struct tracefs_cpu **cpus;
	int ncpus;
	void *page;
	int page_size;
	struct evdesc ev[EV_N_];
	struct pt_ksyms *ksyms;
	struct pt_tags *tags;
	const struct pt_lk_opts *o;
	uint64_t start_mono;
	pid_t self;
	uint64_t missed;          /* events the kernel said it dropped between pages */
	struct pt_addrset *addrs; /* with --tags: addresses of recorded allocations */
	bool addrs_full;
	char tmp[PT_TAG_MAX_LEN + 16];
};

uint64_t pt_lk_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void set_err(char *err, size_t errsz, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errsz, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
}

/* Remove the instances of captures that were killed before they could clean up. */
static void remove_stale_instances(void)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/instances", tracefs_tracing_dir());
	DIR *d = opendir(path);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		long pid;
		char extra;
		if (sscanf(de->d_name, "pooltrace-capture-%ld%c", &pid, &extra) != 1 || pid <= 0)
			continue;
		if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		snprintf(path, sizeof(path), "%s/instances/%s", tracefs_tracing_dir(), de->d_name);
		if (rmdir(path) == 0)
			fprintf(stderr, "pooltrace-capture: removed the tracing instance of a capture that "
				"was killed (%s)\n", de->d_name);
	}
	closedir(d);
}

int pt_lk_open(struct pt_lk **out, struct pt_tags *tags, const struct pt_lk_opts *o,
	       char *err, size_t errsz)
{
	*out = NULL;
	if (geteuid() != 0) {
		set_err(err, errsz, "kernel tracing needs root; run it as root (sudo pooltrace-capture ...)");
		return PT_EUSAGE;
	}
	struct pt_lk *lk = calloc(1, sizeof(*lk));
	if (!lk)
		return PT_ENOMEM;
	lk->tags = tags;
	lk->o = o;
	lk->self = getpid();
	int rc = PT_EIO;

	const char *dir = NULL;
	if (tracefs_tracing_dir_is_mounted(true, &dir) < 0 || !tracefs_tracing_dir()) {
		set_err(err, errsz,
			"tracefs is not mounted and mounting it failed; try 'mount -t tracefs nodev "
			"/sys/kernel/tracing' (the kernel needs CONFIG_FTRACE and CONFIG_TRACING)");
		goto fail;
	}
	remove_stale_instances();
	const char *sys[] = {"kmem", NULL};
	lk->tep = tracefs_local_events_system(NULL, sys);
	if (!lk->tep) {
		set_err(err, errsz, "cannot read the kmem event formats under %s/events/kmem: %s",
			tracefs_tracing_dir(), strerror(errno));
		goto fail;
	}
	bool want_kmalloc = o->which != PT_LK_SLAB_ONLY;
	bool want_slab = o->which != PT_LK_KMALLOC_ONLY;
	for (int i = 0; i < EV_N_; i++) {
		struct evdesc *d = &lk->ev[i];
		d->ev = tep_find_event_by_name(lk->tep, "kmem", event_names[i]);
		bool wanted = (i == EV_KMALLOC || i == EV_KFREE) ? want_kmalloc : want_slab;
		if (!wanted)
			continue;
		if (!d->ev) {
			set_err(err, errsz,
				"the kernel has no kmem:%s tracepoint (needs CONFIG_TRACEPOINTS; see "
				"%s/available_events)",
				event_names[i], tracefs_tracing_dir());
			goto fail;
		}
		d->call_site = tep_find_field(d->ev, "call_site");
		d->ptr = tep_find_field(d->ev, "ptr");
		d->bytes_alloc = tep_find_field(d->ev, "bytes_alloc");
		d->name = tep_find_field(d->ev, "name");
		if (!d->ptr || ((i == EV_KMALLOC || i == EV_CACHE_ALLOC) && !d->bytes_alloc)) {
			set_err(err, errsz, "kmem:%s has an unexpected format (no ptr/bytes_alloc field)",
				event_names[i]);
			goto fail;
		}
		d->enabled = true;
	}
	if (o->ntags) {
		lk->addrs = pt_addrset_new(0);
		if (!lk->addrs) {
			rc = PT_ENOMEM;
			goto fail;
		}
	}
	lk->kbuf = kbuffer_alloc(sizeof(long) == 8 ? KBUFFER_LSIZE_8 : KBUFFER_LSIZE_4,
				  tep_is_file_bigendian(lk->tep) ? KBUFFER_ENDIAN_BIG :
								   KBUFFER_ENDIAN_LITTLE);
	if (!lk->kbuf) {
		rc = PT_ENOMEM;
		goto fail;
	}

	FILE *fp = fopen("/proc/kallsyms", "r");
	lk->ksyms = fp ? pt_ksyms_load(fp) : NULL;
	if (fp)
		fclose(fp);
	if (!lk->ksyms) {
		set_err(err, errsz, "cannot read /proc/kallsyms: %s", strerror(errno));
		goto fail;
	}

	lk->inst = tracefs_instance_create(o->instance_name);
	if (!lk->inst) {
		set_err(err, errsz,
			"cannot create the tracing instance %s: %s (is another capture using that "
			"name? remove it with 'rmdir %s/instances/%s')",
			o->instance_name, strerror(errno), tracefs_tracing_dir(), o->instance_name);
		goto fail;
	}
	if (tracefs_trace_off(lk->inst) < 0 ||
	    tracefs_instance_file_write(lk->inst, "trace_clock", "mono") < 0) {
		set_err(err, errsz, "cannot set up the tracing instance %s: %s", o->instance_name,
			strerror(errno));
		goto fail;
	}
	if (o->buffer_kb && tracefs_instance_set_buffer_size(lk->inst, (size_t)o->buffer_kb, -1) < 0) {
		set_err(err, errsz,
			"cannot set the per-CPU buffer to %llu KiB: %s (try a smaller --buffer-size)",
			(unsigned long long)o->buffer_kb, strerror(errno));
		goto fail;
	}
	for (int i = 0; i < EV_N_; i++) {
		if (lk->ev[i].enabled &&
		    tracefs_event_enable(lk->inst, "kmem", event_names[i]) < 0) {
			set_err(err, errsz, "cannot enable kmem:%s: %s (busy? see %s/instances)",
				event_names[i], strerror(errno), tracefs_tracing_dir());
			goto fail;
		}
	}
	lk->ncpus = (int)sysconf(_SC_NPROCESSORS_CONF);
	if (lk->ncpus < 1)
		lk->ncpus = 1;
	lk->cpus = calloc((size_t)lk->ncpus, sizeof(*lk->cpus));
	if (!lk->cpus) {
		rc = PT_ENOMEM;
		goto fail;
	}
	for (int c = 0; c < lk->ncpus; c++) {
		lk->cpus[c] = tracefs_cpu_open(lk->inst, c, true);
		if (!lk->cpus[c])
			continue; /* offline CPU */
		int sz = tracefs_cpu_read_size(lk->cpus[c]);
		if (sz > lk->page_size)
			lk->page_size = sz;
	}
	if (lk->page_size <= 0) {
		set_err(err, errsz, "cannot open the per-CPU buffers of %s: %s", o->instance_name,
			strerror(errno));
		goto fail;
	}
	lk->page = malloc((size_t)lk->page_size);
	if (!lk->page) {
		rc = PT_ENOMEM;
		goto fail;
	}
	*out = lk;
	return 0;
fail:
	pt_lk_close(lk);
	return rc;
}

int pt_lk_ncpus(const struct pt_lk *lk)
{
	return lk->ncpus;
}

size_t pt_lk_nsyms(const struct pt_lk *lk)
{
	return pt_ksyms_count(lk->ksyms);
}

int pt_lk_start(struct pt_lk *lk, uint64_t start_mono)
{
	lk->start_mono = start_mono;
	return tracefs_trace_on(lk->inst) < 0 ? PT_EIO : 0;
}

int pt_lk_stop(struct pt_lk *lk)
{
	return tracefs_trace_off(lk->inst) < 0 ? PT_EIO : 0;
}

static uint64_t field_u64(struct tep_format_field *f, const void *data)
{
	unsigned long long v = 0;
	if (f && tep_read_number_field(f, data, &v) < 0)
		v = 0;
	return v;
}

/* The string of a __data_loc field (cache name). */
static size_t field_str(struct tep_format_field *f, const uint8_t *data, size_t size,
			const char **out)
{
	if (!f || f->size != 4 || (size_t)f->offset + 4 > size)
		return 0;
	uint32_t loc;
	memcpy(&loc, data + f->offset, 4);
	size_t off = loc & 0xffff, len = loc >> 16;
	if (f->flags & TEP_FIELD_IS_RELATIVE)
		off += (size_t)f->offset + 4;
	if (off > size || len > size - off)
		return 0;
	*out = (const char *)data + off;
	return strnlen(*out, len);
}

/* Tag of a call site: the function name, or the address when it is not in kallsyms. */
static int site_tag(struct pt_lk *lk, uint64_t site, const char *prefix, pt_tag_id *id)
{
	const char *name = pt_ksyms_lookup(lk->ksyms, site);
	if (name)
		snprintf(lk->tmp, sizeof(lk->tmp), "%s%s", prefix, name);
	else
		snprintf(lk->tmp, sizeof(lk->tmp), "%s0x%llx", prefix, (unsigned long long)site);
	return pt_tags_intern(lk->tags, lk->tmp, strlen(lk->tmp), id);
}

static bool tag_wanted(struct pt_lk *lk, pt_tag_id id)
{
	if (!lk->o->ntags)
		return true;
	size_t len;
	const uint8_t *b = pt_tags_bytes(lk->tags, id, &len);
	for (size_t i = 0; i < lk->o->ntags; i++)
		if (pt_tag_match(lk->o->tags[i], b, len))
			return true;
	return false;
}

static int decode(struct pt_lk *lk, int cpu, uint64_t ts, void *data, int size,
		  struct pt_pending *pend)
{
	struct tep_record rec = {.ts = ts, .cpu = cpu, .data = data, .size = size};
	int type = tep_data_type(lk->tep, &rec);
	int which = -1;
	for (int i = 0; i < EV_N_; i++)
		if (lk->ev[i].enabled && lk->ev[i].ev->id == type)
			which = i;
	if (which < 0)
		return 0;
	struct evdesc *d = &lk->ev[which];
	struct pt_event ev;
	pt_event_init(&ev);
	ev.ts_ns = ts > lk->start_mono ? ts - lk->start_mono : 0;
	ev.cpu = (uint32_t)cpu;
	int pid = tep_data_pid(lk->tep, &rec);
	if (pid >= 0)
		ev.pid = (uint32_t)pid;
	ev.addr = field_u64(d->ptr, data);
	if (!ev.addr)
		return 0; /* failed allocation or kfree(NULL) */
	bool alloc = which == EV_KMALLOC || which == EV_CACHE_ALLOC;
	if (alloc && pid == lk->self)
		return 0; /* the capture's own file writes */
	ev.kind = alloc ? PT_EV_ALLOC : PT_EV_FREE;
	ev.pool = (which == EV_KMALLOC || which == EV_KFREE) ? PT_POOL_KMALLOC : PT_POOL_SLAB;
	if (alloc)
		ev.size = field_u64(d->bytes_alloc, data);
	int rc = 0;
	if (which == EV_KMALLOC) {
		rc = site_tag(lk, field_u64(d->call_site, data), "", &ev.tag);
	} else if (which == EV_CACHE_ALLOC || which == EV_CACHE_FREE) {
		const char *name;
		size_t n = field_str(d->name, data, (size_t)size, &name);
		if (n)
			rc = pt_tags_intern(lk->tags, name, n, &ev.tag);
		else if (which == EV_CACHE_ALLOC)
			rc = site_tag(lk, field_u64(d->call_site, data), "cache@", &ev.tag);
		/* a cache free without a name stays untagged: matched by address */
	}
	if (rc < 0)
		return rc;
	if (ev.tag != PT_TAG_NONE && !tag_wanted(lk, ev.tag))
		return 0;
	if (lk->addrs) {
		/* an untagged free is kept only when its allocation was recorded */
		if (alloc) {
			rc = pt_addrset_add(lk->addrs, ev.addr);
			if (rc == PT_ELIMIT)
				lk->addrs_full = true;
			else if (rc < 0)
				return rc;
		} else if (!pt_addrset_remove(lk->addrs, ev.addr) && ev.tag == PT_TAG_NONE &&
			   !lk->addrs_full) {
			return 0;
		}
	}
	return pt_pending_add(pend, &ev);
}

int pt_lk_poll(struct pt_lk *lk, struct pt_pending *pend, uint64_t *events)
{
	for (int c = 0; c < lk->ncpus; c++) {
		if (!lk->cpus[c])
			continue;
		/* a bounded number of pages per CPU per round keeps rounds short */
		for (int pages = 0; pages < 4096; pages++) {
			int n = tracefs_cpu_read(lk->cpus[c], lk->page, true);
			if (n <= 0)
				break;
			if (kbuffer_load_subbuffer(lk->kbuf, lk->page) < 0)
				break;
			int missed = kbuffer_missed_events(lk->kbuf);
			if (missed > 0)
				lk->missed += (uint64_t)missed;
			unsigned long long ts;
			void *data = kbuffer_read_event(lk->kbuf, &ts);
			while (data) {
				int rc = decode(lk, c, ts, data, kbuffer_event_size(lk->kbuf), pend);
				if (rc < 0)
					return rc;
				if (events)
					(*events)++;
				data = kbuffer_next_event(lk->kbuf, &ts);
			}
		}
	}
	return 0;
}

/* "overrun: N" and "dropped events: N" of per_cpu/cpuN/stats. */
int pt_lk_lost(struct pt_lk *lk, uint64_t *per_cpu, int ncpus)
{
	for (int c = 0; c < ncpus && c < lk->ncpus; c++) {
		char path[64];
		per_cpu[c] = 0;
		snprintf(path, sizeof(path), "per_cpu/cpu%d/stats", c);
		char *s = tracefs_instance_file_read(lk->inst, path, NULL);
		if (!s)
			continue;
		static const char *const keys[] = {"overrun:", "dropped events:"};
		for (size_t k = 0; k < 2; k++) {
			char *p = strstr(s, keys[k]);
			if (p)
				per_cpu[c] += strtoull(p + strlen(keys[k]), NULL, 10);
		}
		free(s);
	}
	return 0;
}

uint64_t pt_lk_missed(const struct pt_lk *lk)
{
	return lk->missed;
}

void pt_lk_close(struct pt_lk *lk)
{
	if (!lk)
		return;
	if (lk->cpus) {
		for (int c = 0; c < lk->ncpus; c++)
			if (lk->cpus[c])
				tracefs_cpu_close(lk->cpus[c]);
		free(lk->cpus);
	}
	if (lk->inst) {
		tracefs_trace_off(lk->inst);
		tracefs_instance_destroy(lk->inst);
		tracefs_instance_free(lk->inst);
	}
	free(lk->page);
	if (lk->kbuf)
		kbuffer_free(lk->kbuf);
	if (lk->tep)
		tep_free(lk->tep);
	pt_ksyms_free(lk->ksyms);
	pt_addrset_free(lk->addrs);
	free(lk);
}
