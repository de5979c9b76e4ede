/* SPDX-License-Identifier: MIT */
/*
 * Input layer. Reads a file, stdin or a memory buffer in large blocks;
 * gzip is detected by its magic bytes (1f 8b) and inflated with zlib,
 * concatenated members included. Readers see decompressed bytes only.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "pooltrace/error.h"
#include "pooltrace/input.h"

#define RAW_BUF (1u << 20)   /* bytes per read() of the underlying file */
#define OUT_BUF (1u << 20)   /* initial decompressed buffer */

struct pt_input {
	char *name;
	int fd;                 /* -1 for memory input */
	bool own_fd;
	const uint8_t *mem;     /* memory input */
	size_t mem_len, mem_pos;
	uint64_t raw_size, raw_off;
	bool raw_eof;

	bool gzip;
	z_stream zs;
	bool zs_init;
	bool gz_end;            /* inflate saw Z_STREAM_END and no more input */
	uint8_t *raw;           /* raw read buffer (gzip) */
	size_t raw_len;
	size_t raw_cap;         /* size of raw */
	size_t step;            /* growth unit of buf: RAW_BUF, less for small memory input */

	uint8_t *buf;           /* decompressed data */
	size_t cap, pos, len;
	bool eof;               /* no more data will arrive in buf */
	uint64_t off;           /* decompressed bytes consumed */
	uint64_t lineno;
	int err;
	char errmsg[256];
	char cutmsg[300];       /* set when a gzip stream ended before its end */
	uint64_t member_off;    /* offset of the gzip member being inflated */

	/* a chain of files (pt_input_open_many(), a directory): reads go to cur */
	char **paths;
	size_t npaths, next_path;
	struct pt_input *cur;
	bool boundary;          /* moved on to another file since the last take */
	uint64_t done_off, done_raw; /* bytes of the files already finished */
};

/* Most files a directory input reads. */
#define MAX_DIR_FILES 100000

static int open_dir(struct pt_input **out, const char *path, char *err, size_t errsz);

static int set_err(struct pt_input *in, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int set_err(struct pt_input *in, int code, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(in->errmsg, sizeof(in->errmsg), "%s: ", in->name);
	if (n < 0 || (size_t)n >= sizeof(in->errmsg))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(in->errmsg + n, sizeof(in->errmsg) - (size_t)n, fmt, ap);
	va_end(ap);
	in->err = code;
	return code;
}

/* Read raw bytes from the file or memory. Returns bytes, 0 at EOF, <0 error. */
static ssize_t raw_read(struct pt_input *in, uint8_t *dst, size_t n)
{
	if (in->raw_eof)
		return 0;
	if (in->fd < 0) {
		size_t left = in->mem_len - in->mem_pos;
		if (n > left)
			n = left;
		memcpy(dst, in->mem + in->mem_pos, n);
		in->mem_pos += n;
		in->raw_off += n;
		if (n == 0)
			in->raw_eof = true;
		return (ssize_t)n;
	}
	for (;;) {
		ssize_t r = read(in->fd, dst, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return set_err(in, PT_EIO, "read error: %s", strerror(errno));
		if (r == 0)
			in->raw_eof = true;
		in->raw_off += (uint64_t)r;
		return r;
	}
}

static int ensure_cap(struct pt_input *in, size_t need)
{
	if (need <= in->cap)
		return 0;
	size_t ncap = in->cap ? in->cap : in->step;
	while (ncap < need)
		ncap *= 2;
	uint8_t *nb = realloc(in->buf, ncap);
	if (!nb)
		return set_err(in, PT_ENOMEM, "out of memory");
	in->buf = nb;
	in->cap = ncap;
	return 0;
}

/* Add more decompressed bytes at buf[len..]. Returns bytes added, 0 at end, <0 error. */
static ssize_t produce(struct pt_input *in)
{
	if (in->pos > 0 && in->pos == in->len) {
		in->pos = in->len = 0;
	} else if (in->pos > in->cap / 2) {
		memmove(in->buf, in->buf + in->pos, in->len - in->pos);
		in->len -= in->pos;
		in->pos = 0;
	}
	if (in->len + in->step / 4 > in->cap) {
		int rc = ensure_cap(in, in->len + in->step);
		if (rc < 0)
			return rc;
	}
	size_t room = in->cap - in->len - 1; /* keep one byte for a NUL */
	if (!in->gzip) {
		ssize_t r = raw_read(in, in->buf + in->len, room);
		if (r > 0)
			in->len += (size_t)r;
		return r;
	}
	if (in->gz_end)
		return 0;
	in->zs.next_out = in->buf + in->len;
	in->zs.avail_out = (uInt)(room > UINT32_MAX ? UINT32_MAX : room);
	for (;;) {
		if (in->zs.avail_in == 0) {
			ssize_t r = raw_read(in, in->raw, in->raw_cap);
			if (r < 0)
				return r;
			in->zs.next_in = in->raw;
			in->zs.avail_in = (uInt)r;
			if (r == 0) {
				size_t got = (size_t)(in->zs.next_out - (in->buf + in->len));
				if (got) {
					in->len += got;
					return (ssize_t)got;
				}
				/* cut short: what inflated so far is the input */
				snprintf(in->cutmsg, sizeof(in->cutmsg),
					 "%s: compressed data cut short at offset %llu; read up to there",
					 in->name, (unsigned long long)in->raw_off);
				in->gz_end = true;
				return 0;
			}
		}
		int zr = inflate(&in->zs, Z_NO_FLUSH);
		size_t got = (size_t)(in->zs.next_out - (in->buf + in->len));
		if (zr == Z_STREAM_END) {
			/* Another member may follow (concatenated gzip). */
			if (in->zs.avail_in == 0) {
				ssize_t r = raw_read(in, in->raw, in->raw_cap);
				if (r < 0)
					return r;
				in->zs.next_in = in->raw;
				in->zs.avail_in = (uInt)r;
			}
			if (in->zs.avail_in == 0 || in->zs.next_in[0] != 0x1f) {
				/* Trailing zero padding after the last member is tolerated. */
				in->gz_end = true;
			} else if (inflateReset(&in->zs) != Z_OK) {
				return set_err(in, PT_EGZIP, "cannot restart gzip member");
			} else {
				in->member_off = in->raw_off - in->zs.avail_in;
			}
			if (got || in->gz_end) {
				in->len += got;
				return (ssize_t)got;
			}
			continue;
		}
		if (zr != Z_OK && zr != Z_BUF_ERROR) {
			/* the first input byte inflate has not taken: where the damage is found */
			unsigned long long at = in->raw_off - in->zs.avail_in;
			const char *why = in->zs.msg ? in->zs.msg : "inflate failed";
			if (zr == Z_DATA_ERROR && strstr(why, "check"))
				/* CRC or length of the member: the damage is somewhere inside it */
				return set_err(in, PT_EGZIP,
					       "corrupt gzip data at offset %llu (0x%llx): %s; the member "
					       "from offset %llu is damaged somewhere before",
					       at, at, why, (unsigned long long)in->member_off);
			return set_err(in, PT_EGZIP, "corrupt gzip data at offset %llu (0x%llx): %s",
				       at, at, why);
		}
		if (got) {
			in->len += got;
			return (ssize_t)got;
		}
		if (in->zs.avail_out == 0)
			return 0;
	}
}

static int setup(struct pt_input *in)
{
	int rc = ensure_cap(in, in->step);
	if (rc < 0)
		return rc;
	/* Sniff the raw magic: read the first bytes raw into buf. */
	ssize_t r = raw_read(in, in->buf, 2);
	if (r < 0)
		return (int)r;
	size_t have = (size_t)r;
	if (have == 1) {
		ssize_t r2 = raw_read(in, in->buf + 1, 1);
		if (r2 < 0)
			return (int)r2;
		have += (size_t)r2;
	}
	if (have == 2 && in->buf[0] == 0x1f && in->buf[1] == 0x8b) {
		in->gzip = true;
		in->step = OUT_BUF;
		in->raw_cap = in->fd < 0 && in->mem_len < RAW_BUF ? in->mem_len : RAW_BUF;
		in->raw = malloc(in->raw_cap);
		if (!in->raw)
			return set_err(in, PT_ENOMEM, "out of memory");
		memcpy(in->raw, in->buf, 2);
		memset(&in->zs, 0, sizeof(in->zs));
		if (inflateInit2(&in->zs, 15 + 16) != Z_OK)
			return set_err(in, PT_ENOMEM, "cannot start zlib");
		in->zs_init = true;
		in->zs.next_in = in->raw;
		in->zs.avail_in = 2;
	} else {
		in->len = have;
	}
	return 0;
}

int pt_input_open(struct pt_input **out, const char *path, char *err, size_t errsz)
{
	*out = NULL;
	struct pt_input *in = calloc(1, sizeof(*in));
	if (!in)
		return PT_ENOMEM;
	bool is_stdin = !strcmp(path, "-");
	in->name = strdup(is_stdin ? "<stdin>" : path);
	in->step = OUT_BUF;
	if (!in->name) {
		free(in);
		return PT_ENOMEM;
	}
	if (is_stdin) {
		in->fd = 0;
	} else {
		in->fd = open(path, O_RDONLY | O_CLOEXEC);
		if (in->fd < 0) {
			if (err && errsz)
				snprintf(err, errsz, "%s: %s", path, strerror(errno));
			pt_input_free(in);
			return PT_EOPEN;
		}
		in->own_fd = true;
		struct stat st;
		if (fstat(in->fd, &st) == 0) {
			if (S_ISDIR(st.st_mode)) {
				pt_input_free(in);
				return open_dir(out, path, err, errsz);
			}
			if (S_ISREG(st.st_mode))
				in->raw_size = (uint64_t)st.st_size;
		}
#ifdef POSIX_FADV_SEQUENTIAL
		posix_fadvise(in->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
	}
	int rc = setup(in);
	if (rc < 0) {
		if (err && errsz)
			snprintf(err, errsz, "%s", in->errmsg);
		pt_input_free(in);
		return rc;
	}
	*out = in;
	return 0;
}

int pt_input_open_memory(struct pt_input **out, const void *data, size_t len, const char *name)
{
	*out = NULL;
	struct pt_input *in = calloc(1, sizeof(*in));
	if (!in)
		return PT_ENOMEM;
	in->name = strdup(name ? name : "<memory>");
	in->fd = -1;
	in->mem = data;
	in->mem_len = len;
	in->raw_size = len;
	/* small buffers for small plain inputs (tests and fuzzing open many) */
	in->step = len + 2 < 4096 ? 4096 : len + 2 > OUT_BUF ? OUT_BUF : len + 2;
	if (!in->name) {
		free(in);
		return PT_ENOMEM;
	}
	int rc = setup(in);
	if (rc < 0) {
		pt_input_free(in);
		return rc;
	}
	*out = in;
	return 0;
}

void pt_input_free(struct pt_input *in)
{
	if (!in)
		return;
	pt_input_free(in->cur);
	for (size_t i = 0; i < in->npaths; i++)
		free(in->paths[i]);
	free(in->paths);
	if (in->own_fd && in->fd >= 0)
		close(in->fd);
	if (in->zs_init)
		inflateEnd(&in->zs);
	free(in->raw);
	free(in->buf);
	free(in->name);
	free(in);
}

/* Make at least want bytes available at buf[pos..] unless the input ends. */
static int fill(struct pt_input *in, size_t want)
{
	while (in->len - in->pos < want && !in->eof) {
		if (in->fd < 0 && !in->gzip && in->mem_pos == in->mem_len) {
			in->eof = true; /* all of a plain memory input is in buf */
			break;
		}
		if (in->pos + want + 1 > in->cap) {
			/* compact first, then grow if still short */
			memmove(in->buf, in->buf + in->pos, in->len - in->pos);
			in->len -= in->pos;
			in->pos = 0;
			int rc = ensure_cap(in, want + in->step);
			if (rc < 0)
				return rc;
		}
		ssize_t r = produce(in);
		if (r < 0)
			return (int)r;
		if (r == 0 && (in->gzip ? in->gz_end || in->raw_eof : in->raw_eof))
			in->eof = true;
	}
	return 0;
}

/*
 * Chain: the current file ended; open the next one. Returns 1 when one was
 * opened, 0 when there is none (the last file stays current), <0 error.
 */
static int chain_advance(struct pt_input *in)
{
	if (in->next_path >= in->npaths)
		return 0;
	struct pt_input *next;
	char err[256] = "";
	int rc = pt_input_open(&next, in->paths[in->next_path], err, sizeof(err));
	if (rc < 0) {
		snprintf(in->errmsg, sizeof(in->errmsg), "%s", err[0] ? err : "cannot open file");
		in->err = rc;
		return rc;
	}
	in->next_path++;
	if (in->cur) {
		if (!in->cutmsg[0] && in->cur->cutmsg[0])
			snprintf(in->cutmsg, sizeof(in->cutmsg), "%s", in->cur->cutmsg);
		in->done_off += in->cur->off;
		in->done_raw += in->cur->raw_off;
		pt_input_free(in->cur);
	}
	in->cur = next;
	in->boundary = true;
	return 1;
}

const uint8_t *pt_input_peek(struct pt_input *in, size_t want, size_t *got)
{
	if (in->paths) {
		for (;;) {
			const uint8_t *p = pt_input_peek(in->cur, want, got);
			if (!p || *got)
				return p;
			int rc = chain_advance(in);
			if (rc < 0)
				return NULL;
			if (rc == 0)
				return p;
		}
	}
	if (want > PT_INPUT_PEEK_MAX)
		want = PT_INPUT_PEEK_MAX;
	if (fill(in, want) < 0) {
		*got = 0;
		return NULL;
	}
	size_t avail = in->len - in->pos;
	*got = avail < want ? avail : want;
	return in->buf + in->pos;
}

ssize_t pt_input_read(struct pt_input *in, void *buf, size_t n)
{
	if (in->paths) {
		for (;;) {
			ssize_t r = pt_input_read(in->cur, buf, n);
			if (r != 0 || n == 0)
				return r;
			int rc = chain_advance(in);
			if (rc <= 0)
				return rc;
		}
	}
	if (in->pos == in->len) {
		int rc = fill(in, 1);
		if (rc < 0)
			return rc;
	}
	size_t avail = in->len - in->pos;
	if (n > avail)
		n = avail;
	memcpy(buf, in->buf + in->pos, n);
	in->pos += n;
	in->off += n;
	return (ssize_t)n;
}

ssize_t pt_input_read_full(struct pt_input *in, void *buf, size_t n)
{
	size_t done = 0;
	while (done < n) {
		ssize_t r = pt_input_read(in, (uint8_t *)buf + done, n - done);
		if (r < 0)
			return r;
		if (r == 0)
			break;
		done += (size_t)r;
	}
	return (ssize_t)done;
}

int pt_input_getline(struct pt_input *in, char **line, size_t *len, size_t max_len)
{
	if (in->paths) {
		for (;;) {
			int r = pt_input_getline(in->cur, line, len, max_len);
			if (r != 0)
				return r;
			int rc = chain_advance(in);
			if (rc <= 0)
				return rc;
		}
	}
	size_t scanned = 0;
	for (;;) {
		uint8_t *start = in->buf + in->pos;
		size_t avail = in->len - in->pos;
		uint8_t *nl = avail > scanned ? memchr(start + scanned, '\n', avail - scanned) : NULL;
		if (nl) {
			size_t l = (size_t)(nl - start);
			in->pos += l + 1;
			in->off += l + 1;
			if (l > max_len)
				return set_err(in, PT_ELIMIT, "line %llu is longer than %zu bytes",
					       (unsigned long long)in->lineno + 1, max_len);
			if (l && start[l - 1] == '\r')
				l--;
			start[l] = '\0';
			in->lineno++;
			*line = (char *)start;
			*len = l;
			return 1;
		}
		scanned = avail;
		if (avail > max_len + 1)
			return set_err(in, PT_ELIMIT, "line %llu is longer than %zu bytes",
				       (unsigned long long)in->lineno + 1, max_len);
		if (in->eof) {
			if (avail == 0)
				return 0;
			/* last line without a newline: room for the NUL is kept by produce() */
			int rc = ensure_cap(in, in->len + 1);
			if (rc < 0)
				return rc;
			start = in->buf + in->pos;
			size_t l = avail;
			in->pos += avail;
			in->off += avail;
			if (l && start[l - 1] == '\r')
				l--;
			start[l] = '\0';
			in->lineno++;
			*line = (char *)start;
			*len = l;
			return 1;
		}
		int rc = fill(in, avail + 1);
		if (rc < 0)
			return rc;
	}
}

uint64_t pt_input_lineno(const struct pt_input *in)
{
	if (in->paths)
		return in->cur->lineno;
	return in->lineno;
}

uint64_t pt_input_offset(const struct pt_input *in)
{
	if (in->paths)
		return in->done_off + in->cur->off;
	return in->off;
}

uint64_t pt_input_raw_offset(const struct pt_input *in)
{
	if (in->paths)
		return in->done_raw + in->cur->raw_off;
	return in->raw_off;
}

uint64_t pt_input_raw_size(const struct pt_input *in)
{
	return in->raw_size;
}

bool pt_input_is_gzip(const struct pt_input *in)
{
	if (in->paths)
		return in->cur->gzip;
	return in->gzip;
}

const char *pt_input_name(const struct pt_input *in)
{
	if (in->paths)
		return in->cur->name;
	return in->name;
}

const char *pt_input_error(const struct pt_input *in)
{
	if (in->paths && !in->errmsg[0])
		return in->cur->errmsg;
	return in->errmsg;
}

const char *pt_input_cut_short(const struct pt_input *in)
{
	if (in->cutmsg[0])
		return in->cutmsg;
	if (in->paths && in->cur && in->cur->cutmsg[0])
		return in->cur->cutmsg;
	return NULL;
}

size_t pt_input_file_count(const struct pt_input *in)
{
	return in->paths ? in->npaths : 1;
}

size_t pt_input_file_index(const struct pt_input *in)
{
	return in->paths ? in->next_path - 1 : 0;
}

bool pt_input_take_boundary(struct pt_input *in)
{
	bool b = in->boundary;
	in->boundary = false;
	return b;
}

int pt_input_open_many(struct pt_input **out, const char *const *paths, size_t n,
		       char *err, size_t errsz)
{
	*out = NULL;
	if (n == 0) {
		if (err && errsz)
			snprintf(err, errsz, "no input files");
		return PT_EOPEN;
	}
	struct pt_input *in = calloc(1, sizeof(*in));
	if (!in)
		return PT_ENOMEM;
	in->fd = -1;
	in->paths = calloc(n, sizeof(*in->paths));
	in->name = strdup(paths[0]);
	if (!in->paths || !in->name) {
		pt_input_free(in);
		return PT_ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		in->paths[i] = strdup(paths[i]);
		if (!in->paths[i]) {
			pt_input_free(in);
			return PT_ENOMEM;
		}
		in->npaths++;
		struct stat st;
		if (stat(paths[i], &st) == 0 && S_ISREG(st.st_mode))
			in->raw_size += (uint64_t)st.st_size;
	}
	int rc = chain_advance(in);
	if (rc < 0) {
		if (err && errsz)
			snprintf(err, errsz, "%s", in->errmsg);
		pt_input_free(in);
		return rc;
	}
	in->boundary = false;
	*out = in;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A directory: its regular, non-hidden files in name order, as one chained input. */
static int open_dir(struct pt_input **out, const char *path, char *err, size_t errsz)
{
	DIR *d = opendir(path);
	if (!d) {
		if (err && errsz)
			snprintf(err, errsz, "%s: %s", path, strerror(errno));
		return PT_EOPEN;
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;
	size_t plen = strlen(path);
	while (plen > 1 && path[plen - 1] == '/')
		plen--;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		size_t need = plen + 1 + strlen(de->d_name) + 1;
		char *full = malloc(need);
		if (!full) {
			rc = PT_ENOMEM;
			break;
		}
		snprintf(full, need, "%.*s/%s", (int)plen, path, de->d_name);
		struct stat st;
		if (stat(full, &st) != 0 || !S_ISREG(st.st_mode)) {
			free(full);
			continue;
		}
		if (n == MAX_DIR_FILES) {
			free(full);
			if (err && errsz)
				snprintf(err, errsz, "%s: more than %d files", path, MAX_DIR_FILES);
			rc = PT_ELIMIT;
			break;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			char **nn = realloc(names, cap * sizeof(*nn));
			if (!nn) {
				free(full);
				rc = PT_ENOMEM;
				break;
			}
			names = nn;
		}
		names[n++] = full;
	}
	closedir(d);
	if (rc == 0 && n == 0) {
		if (err && errsz)
			snprintf(err, errsz, "%s: directory has no files to read", path);
		rc = PT_EOPEN;
	}
	if (rc == 0) {
		qsort(names, n, sizeof(*names), cmp_str);
		rc = pt_input_open_many(out, (const char *const *)names, n, err, errsz);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}
