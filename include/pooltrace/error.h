/* SPDX-License-Identifier: MIT */
/* pooltrace error codes: negative integers, one table, one pt_strerror(). */
#ifndef POOLTRACE_ERROR_H
#define POOLTRACE_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

/* X(name, text): the list every error code and message comes from. */
#define PT_ERRNO_MAP(X)                                                     \
	X(NOMEM, "out of memory")                                           \
	X(IO, "input/output error")                                         \
	X(OPEN, "cannot open file")                                         \
	X(FORMAT, "malformed input")                                        \
	X(UNKNOWN_FORMAT, "unrecognised trace format")                      \
	X(TRUNCATED, "input ends early")                                    \
	X(LIMIT, "a configured limit was exceeded")                         \
	X(USAGE, "invalid argument")                                        \
	X(UNSUPPORTED, "unsupported feature of the input")                  \
	X(GZIP, "corrupt gzip stream")                                      \
	X(STATE, "operation not valid in the current state")

/* Error codes; every one is negative, 0 is success. */
enum pt_err {
	PT_OK = 0,
#define PT_ERR_ENUM_(name, text) PT_E##name,
	PT_E_FIRST_ = -1000,
	PT_ERRNO_MAP(PT_ERR_ENUM_)
#undef PT_ERR_ENUM_
	PT_E_LAST_
};

/**
 * pt_strerror() - a short English text for an error code.
 * @code: 0 or a negative PT_E* value.
 * @return: a static string, never NULL ("unknown error" for other values).
 */
const char *pt_strerror(int code);

/**
 * pt_err_name() - the symbolic name of an error code ("PT_EFORMAT").
 * @return: a static string, never NULL.
 */
const char *pt_err_name(int code);

#ifdef __cplusplus
}
#endif
#endif
