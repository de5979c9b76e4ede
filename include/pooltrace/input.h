/* SPDX-License-Identifier: MIT */
/* Input layer: a file or stdin, plain or gzip (detected by magic bytes). */
#ifndef POOLTRACE_INPUT_H
#define POOLTRACE_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

struct pt_input;

/* Size of the look-ahead that pt_input_peek() guarantees when the input is long enough. */
#define PT_INPUT_PEEK_MAX 65536

/**
 * pt_input_open() - open a file ("-" for stdin) for reading. Gzip input
 * (magic 1f 8b) is decompressed transparently, concatenated members included.
 * A gzip stream that is cut short ends the input where its data ends (see
 * pt_input_cut_short()); damaged gzip data is an error (PT_EGZIP) naming
 * the offset in the compressed file.
 * @out: receives the handle.
 * @err, @errsz: receive a one-line message on failure ("trace.xml: No such file").
 * @return: 0, PT_EOPEN or PT_ENOMEM.
 */
int pt_input_open(struct pt_input **out, const char *path, char *err, size_t errsz);

/**
 * pt_input_open_many() - read several files one after another as one input
 * (PoolMon snapshot logs taken at intervals). Each file is opened when the
 * previous one ends and may be gzip on its own. Lines never span files:
 * pt_input_lineno() and pt_input_name() refer to the file being read, so
 * messages say "file:line" of the right file. A directory given to
 * pt_input_open() is read this way: its regular files whose names do not
 * start with '.', sorted by name (byte order).
 * @paths, @n: the files, n >= 1; copied.
 * @return: 0, PT_EOPEN (first file, or n == 0) or PT_ENOMEM.
 */
int pt_input_open_many(struct pt_input **out, const char *const *paths, size_t n,
		       char *err, size_t errsz);

/** pt_input_file_count() - number of files of the input (1 for a single file or stream). */
size_t pt_input_file_count(const struct pt_input *in);

/** pt_input_file_index() - 0-based index of the file being read now. */
size_t pt_input_file_index(const struct pt_input *in);

/**
 * pt_input_take_boundary() - true once after reading moved on to the next
 * file of a chain (cleared by the call); always false for a single file.
 */
bool pt_input_take_boundary(struct pt_input *in);

/**
 * pt_input_open_memory() - read from a caller-owned buffer (tests, fuzzing).
 * The buffer must outlive the handle. Gzip is detected as for files.
 * @name: used in messages.
 */
int pt_input_open_memory(struct pt_input **out, const void *data, size_t len,
			 const char *name);

/** pt_input_free() - close and free; NULL is accepted. */
void pt_input_free(struct pt_input *in);

/**
 * pt_input_peek() - look at the next bytes without consuming them (for a
 * chain, bytes of the current file only).
 * @want: bytes wanted, at most PT_INPUT_PEEK_MAX.
 * @got: receives how many are available (less only at end of input).
 * @return: pointer valid until the next read, or NULL on error (see pt_input_error()).
 */
const uint8_t *pt_input_peek(struct pt_input *in, size_t want, size_t *got);

/**
 * pt_input_read() - read up to n decompressed bytes.
 * @return: bytes read (0 at end of input) or a negative PT_E* code.
 */
ssize_t pt_input_read(struct pt_input *in, void *buf, size_t n);

/**
 * pt_input_read_full() - read exactly n bytes unless the input ends first.
 * @return: bytes read (< n only at end of input) or a negative PT_E* code.
 */
ssize_t pt_input_read_full(struct pt_input *in, void *buf, size_t n);

/**
 * pt_input_getline() - the next line, without its "\n" or "\r\n".
 * @line: receives a pointer valid until the next call; the line is NUL-terminated
 *        (embedded NUL bytes are kept; @len tells the real length).
 * @max_len: longest line accepted; a longer one gives PT_ELIMIT.
 * @return: 1 for a line, 0 at end of input, or a negative PT_E* code.
 */
int pt_input_getline(struct pt_input *in, char **line, size_t *len, size_t max_len);

/** pt_input_lineno() - number of lines returned by pt_input_getline() so far (of the current file of a chain). */
uint64_t pt_input_lineno(const struct pt_input *in);

/** pt_input_offset() - decompressed bytes consumed so far. */
uint64_t pt_input_offset(const struct pt_input *in);

/** pt_input_raw_offset() - bytes of the underlying file consumed so far (progress). */
uint64_t pt_input_raw_offset(const struct pt_input *in);

/** pt_input_raw_size() - size of the underlying file, 0 when unknown (pipes). */
uint64_t pt_input_raw_size(const struct pt_input *in);

/** pt_input_is_gzip() - true when the input is gzip-compressed. */
bool pt_input_is_gzip(const struct pt_input *in);

/** pt_input_name() - the path given at open ("<stdin>" for "-"); for a chain, the file being read. */
const char *pt_input_name(const struct pt_input *in);

/**
 * pt_input_cut_short() - after the input ended: the message when a gzip stream
 * was cut short ("FILE: compressed data cut short at offset N; read up to
 * there", N the compressed size), NULL when every stream was whole. For a
 * chain, the first file that was cut short.
 */
const char *pt_input_cut_short(const struct pt_input *in);

/** pt_input_error() - the message of the last failure, "" if none. */
const char *pt_input_error(const struct pt_input *in);

#ifdef __cplusplus
}
#endif
#endif
