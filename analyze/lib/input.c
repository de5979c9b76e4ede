/* SPDX-License-Identifier: MIT */
/*
 * Input layer. Reads a file, stdin or a memory buffer in large blocks;
 * gzip is detected by its magic bytes (1f 8b) and inflated with zlib,
 * concatenated members included. Readers see decompressed bytes only.
 *
 * With a second CPU, a gzip input is inflated in a thread of its own that
 * fills a small ring of decompressed blocks (struct gz_thread); the reading
 * side takes whole blocks from it, in order, and reports errors, the end of
 * the data and the compressed offset when it reaches them, so messages and
 * offsets are the same as when inflating inline.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "pooltrace/error.h"
#include "pooltrace/input.h"
#include "pooltrace/util.h"

#define RAW_BUF (1u << 20)   /* bytes per read() of the underlying file */
#define OUT_BUF (1u << 20)   /* initial decompressed buffer */

/* Inflating in a thread: blocks of decompressed data in a ring. */
#define GZ_BLOCK (256u << 10)       /* decompressed bytes per block */
#define GZ_HEAD PT_INPUT_PEEK_MAX   /* room in front of a block for bytes not yet consumed */
#define GZ_SLOTS 8                  /* blocks in the ring */
#define GZ_THREAD_MIN (1u << 20)    /* smaller compressed files are inflated inline */

struct gz_slot {
	uint8_t *data;          /* GZ_HEAD bytes of room, then the block */
	size_t cap;             /* size of data */
	size_t len;             /* bytes of the block, at data + GZ_HEAD */
	uint64_t raw_off;       /* compressed bytes read when the block was complete */
};

struct gz_thread {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t can_fill, can_use;
	struct gz_slot slot[GZ_SLOTS];
	size_t head, tail, count;  /* producer fills head, consumer takes tail */
	bool done;              /* the producer has finished: rc says how */
	int rc;                 /* 0 end of data, <0 error (message in src->errmsg) */
	bool stop;              /* the consumer is closing */
	int wake[2];            /* pipe that interrupts a wait for a pipe's data; -1 for files */
	struct pt_input *src;   /* owned by the producer while it runs: fd, zlib state */
};

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
	struct gz_thread *gzt;  /* inflating in a thread (then zs, raw are in gzt->src) */
	bool poll_wake;         /* producer of a pipe: wait for data or for wake_fd */
	int wake_fd;            /* readable once the consumer closes */

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
		if (in->poll_wake) {
			/* a pipe may stay quiet for long: closing the input must not wait for it */
			struct pollfd pf[2] = {{.fd = in->fd, .events = POLLIN},
					       {.fd = in->wake_fd, .events = POLLIN}};
			int pr = poll(pf, 2, -1);
			if (pr < 0 && errno == EINTR)
				continue;
			if (pr < 0)
				return set_err(in, PT_EIO, "read error: %s", strerror(errno));
			if (pf[1].revents)
				return set_err(in, PT_EIO, "input closed");
		}
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

static ssize_t gz_inflate(struct pt_input *in, uint8_t *dst, size_t room);
static ssize_t gz_take(struct pt_input *in);

/* Add more decompressed bytes at buf[len..]. Returns bytes added, 0 at end, <0 error. */
static ssize_t produce(struct pt_input *in)
{
	if (in->gzt)
		return gz_take(in);
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
	ssize_t r = gz_inflate(in, in->buf + in->len, room);
	if (r > 0)
		in->len += (size_t)r;
	return r;
}

/*
 * Inflate into dst[0..room). Returns bytes added, 0 at the end of the data
 * (in->cutmsg set when it was cut short), <0 error (in->errmsg set). The
 * bytes of an inflate() call that fails are not given out: when a member's
 * checksum finds damage, that call normally holds the member's last bytes,
 * so a reader that stops at its format's own end (a native trailer) still
 * meets the error.
 */
static ssize_t gz_inflate(struct pt_input *in, uint8_t *dst, size_t room)
{
	if (in->gz_end)
		return 0;
	in->zs.next_out = dst;
	in->zs.avail_out = (uInt)(room > UINT32_MAX ? UINT32_MAX : room);
	for (;;) {
		if (in->zs.avail_in == 0) {
			ssize_t r = raw_read(in, in->raw, in->raw_cap);
			if (r < 0)
				return r;
			in->zs.next_in = in->raw;
			in->zs.avail_in = (uInt)r;
			if (r == 0) {
				size_t got = (size_t)(in->zs.next_out - dst);
				if (got)
					return (ssize_t)got;
				/* cut short: what inflated so far is the input */
				snprintf(in->cutmsg, sizeof(in->cutmsg),
					 "%s: compressed data cut short at offset %llu; read up to there",
					 in->name, (unsigned long long)in->raw_off);
				in->gz_end = true;
				return 0;
			}
		}
		int zr = inflate(&in->zs, Z_NO_FLUSH);
		size_t got = (size_t)(in->zs.next_out - dst);
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
			if (got || in->gz_end)
				return (ssize_t)got;
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
		if (got)
			return (ssize_t)got;
		if (in->zs.avail_out == 0)
			return 0;
	}
}

/* Producer: inflate one block into slot s. Returns as gz_inflate(). */
static ssize_t gz_fill_slot(struct pt_input *src, struct gz_slot *s)
{
	s->len = 0;
	if (s->cap < GZ_HEAD + GZ_BLOCK + 1) {
		/* a new slot, or a smaller buffer the consumer gave back */
		uint8_t *nb = realloc(s->data, GZ_HEAD + GZ_BLOCK + 1);
		if (!nb)
			return set_err(src, PT_ENOMEM, "out of memory");
		s->data = nb;
		s->cap = GZ_HEAD + GZ_BLOCK + 1;
	}
	ssize_t r;
	do {
		r = gz_inflate(src, s->data + GZ_HEAD + s->len, GZ_BLOCK - s->len);
		if (r > 0)
			s->len += (size_t)r;
	} while (r > 0 && s->len < GZ_BLOCK);
	s->raw_off = src->raw_off;
	return r;
}

static void *gz_producer(void *arg)
{
	struct gz_thread *t = arg;
	for (;;) {
		pthread_mutex_lock(&t->mu);
		while (t->count == GZ_SLOTS && !t->stop)
			pthread_cond_wait(&t->can_fill, &t->mu);
		bool stop = t->stop;
		size_t idx = t->head;
		pthread_mutex_unlock(&t->mu);
		if (stop)
			break;
		struct gz_slot *s = &t->slot[idx];
		ssize_t r = gz_fill_slot(t->src, s);
		pthread_mutex_lock(&t->mu);
		if (s->len) {
			t->head = (t->head + 1) % GZ_SLOTS;
			t->count++;
		}
		if (r <= 0) {
			t->done = true;
			t->rc = (int)r;
		}
		pthread_cond_signal(&t->can_use);
		bool end = t->done;
		pthread_mutex_unlock(&t->mu);
		if (end)
			return NULL;
	}
	pthread_mutex_lock(&t->mu);
	t->done = true;
	t->rc = PT_EIO;
	pthread_cond_signal(&t->can_use);
	pthread_mutex_unlock(&t->mu);
	return NULL;
}

/*
 * Consumer: append the next block of the ring to buf. Returns bytes added,
 * 0 at the end of the data, <0 error: the producer's outcome, given once
 * every block before it has been taken.
 */
static ssize_t gz_take(struct pt_input *in)
{
	struct gz_thread *t = in->gzt;
	if (in->gz_end)
		return 0;
	pthread_mutex_lock(&t->mu);
	while (t->count == 0 && !t->done)
		pthread_cond_wait(&t->can_use, &t->mu);
	bool have = t->count > 0;
	size_t idx = t->tail;
	int end_rc = t->rc;
	pthread_mutex_unlock(&t->mu);
	if (!have) {
		/* the producer is finished and touches src no more */
		struct pt_input *src = t->src;
		in->raw_off = src->raw_off;
		if (end_rc < 0) {
			in->err = src->err ? src->err : end_rc;
			snprintf(in->errmsg, sizeof(in->errmsg), "%s", src->errmsg);
			return end_rc;
		}
		if (src->cutmsg[0])
			snprintf(in->cutmsg, sizeof(in->cutmsg), "%s", src->cutmsg);
		in->raw_eof = src->raw_eof;
		in->gz_end = true;
		return 0;
	}
	struct gz_slot *s = &t->slot[idx];
	size_t pend = in->len - in->pos;
	size_t n = s->len;
	if (pend <= GZ_HEAD) {
		/* the bytes not consumed yet go in front of the block; the buffers trade places */
		memcpy(s->data + GZ_HEAD - pend, in->buf + in->pos, pend);
		uint8_t *b = in->buf;
		size_t c = in->cap;
		in->buf = s->data;
		in->cap = s->cap;
		in->pos = GZ_HEAD - pend;
		in->len = GZ_HEAD + n;
		s->data = b;
		s->cap = c;
	} else {
		/* a long line or peek: keep what is pending and append a copy */
		memmove(in->buf, in->buf + in->pos, pend);
		in->pos = 0;
		in->len = pend;
		int rc = ensure_cap(in, pend + n + 1);
		if (rc < 0)
			return rc;
		memcpy(in->buf + in->len, s->data + GZ_HEAD, n);
		in->len += n;
	}
	in->raw_off = s->raw_off;
	pthread_mutex_lock(&t->mu);
	t->tail = (t->tail + 1) % GZ_SLOTS;
	t->count--;
	pthread_cond_signal(&t->can_fill);
	pthread_mutex_unlock(&t->mu);
	return (ssize_t)n;
}

/* Stop and join the producer (at any point), free the ring and its state. */
static void gz_thread_free(struct gz_thread *t)
{
	if (!t)
		return;
	pthread_mutex_lock(&t->mu);
	t->stop = true;
	pthread_cond_signal(&t->can_fill);
	pthread_mutex_unlock(&t->mu);
	if (t->wake[1] >= 0) {
		ssize_t w;
		do
			w = write(t->wake[1], "x", 1);
		while (w < 0 && errno == EINTR);
	}
	pthread_join(t->th, NULL);
	for (size_t i = 0; i < GZ_SLOTS; i++)
		free(t->slot[i].data);
	struct pt_input *src = t->src;
	inflateEnd(&src->zs);
	free(src->raw);
	free(src->name);
	free(src);
	if (t->wake[0] >= 0)
		close(t->wake[0]);
	if (t->wake[1] >= 0)
		close(t->wake[1]);
	pthread_cond_destroy(&t->can_use);
	pthread_cond_destroy(&t->can_fill);
	pthread_mutex_destroy(&t->mu);
	free(t);
}

/* Start zlib on in (inline) or on a producer's state: the 2 magic bytes are already read. */
static int gz_init(struct pt_input *in, const uint8_t magic[2])
{
	in->raw_cap = in->fd < 0 && in->mem_len < RAW_BUF ? in->mem_len : RAW_BUF;
	in->raw = malloc(in->raw_cap);
	if (!in->raw)
		return set_err(in, PT_ENOMEM, "out of memory");
	memcpy(in->raw, magic, 2);
	memset(&in->zs, 0, sizeof(in->zs));
	if (inflateInit2(&in->zs, 15 + 16) != Z_OK)
		return set_err(in, PT_ENOMEM, "cannot start zlib");
	in->zs_init = true;
	in->zs.next_in = in->raw;
	in->zs.avail_in = 2;
	return 0;
}

/*
 * Inflate in a thread when a second CPU is there and the input is large (or
 * a pipe). Returns 1 when the thread runs, 0 to inflate inline, <0 error.
 */
static int gz_thread_start(struct pt_input *in, const uint8_t magic[2])
{
	bool pipe_like = false;
	uint64_t size = in->raw_size;
	if (in->fd >= 0) {
		struct stat st;
		if (fstat(in->fd, &st) != 0)
			return 0;
		pipe_like = !S_ISREG(st.st_mode);
		size = pipe_like ? 0 : (uint64_t)st.st_size;
	}
	if (!pipe_like && size < GZ_THREAD_MIN)
		return 0;
	if (!pt_threads_allowed())
		return 0;
	struct gz_thread *t = calloc(1, sizeof(*t));
	struct pt_input *src = calloc(1, sizeof(*src));
	char *name = strdup(in->name);
	if (!t || !src || !name) {
		free(t);
		free(src);
		free(name);
		return set_err(in, PT_ENOMEM, "out of memory");
	}
	t->wake[0] = t->wake[1] = -1;
	src->name = name;
	src->fd = in->fd; /* the consumer's: closed after the join */
	src->mem = in->mem;
	src->mem_len = in->mem_len;
	src->mem_pos = in->mem_pos;
	src->raw_size = in->raw_size;
	src->raw_off = in->raw_off;
	src->raw_eof = in->raw_eof;
	src->gzip = true;
	int rc = gz_init(src, magic);
	if (rc < 0) {
		in->err = rc;
		snprintf(in->errmsg, sizeof(in->errmsg), "%s", src->errmsg);
		goto fail;
	}
	if (pipe_like) {
		if (pipe(t->wake) != 0) {
			t->wake[0] = t->wake[1] = -1;
			rc = 0;
			goto fail;
		}
		fcntl(t->wake[0], F_SETFD, FD_CLOEXEC);
		fcntl(t->wake[1], F_SETFD, FD_CLOEXEC);
		src->poll_wake = true;
		src->wake_fd = t->wake[0];
	}
	t->src = src;
	pthread_mutex_init(&t->mu, NULL);
	pthread_cond_init(&t->can_fill, NULL);
	pthread_cond_init(&t->can_use, NULL);
	if (pthread_create(&t->th, NULL, gz_producer, t) != 0) {
		pthread_cond_destroy(&t->can_use);
		pthread_cond_destroy(&t->can_fill);
		pthread_mutex_destroy(&t->mu);
		rc = 0; /* nothing was read past the magic: inflate inline */
		goto fail;
	}
	in->gzt = t;
	return 1;
fail:
	if (t->wake[0] >= 0)
		close(t->wake[0]);
	if (t->wake[1] >= 0)
		close(t->wake[1]);
	if (src->zs_init)
		inflateEnd(&src->zs);
	free(src->raw);
	free(src->name);
	free(src);
	free(t);
	return rc;
}

bool pt__input_threaded(const struct pt_input *in);

/* Tests: true when the input (the current file of a chain) is inflated in a thread. */
bool pt__input_threaded(const struct pt_input *in)
{
	if (in->paths)
		return in->cur && in->cur->gzt;
	return in->gzt != NULL;
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
		rc = gz_thread_start(in, in->buf);
		if (rc < 0)
			return rc;
		if (rc == 0)
			return gz_init(in, in->buf);
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
	gz_thread_free(in->gzt);
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
