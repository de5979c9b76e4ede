/* SPDX-License-Identifier: MIT */
/*
 * tracerpt XML reader ("tracerpt-xml").
 *
 * Streams the file through libxml2's xmlTextReader; no tree is built, so
 * memory does not depend on the file size. The bytes reach libxml2 through
 * a small feed that
 *   - strips a byte order mark and turns UTF-16 (LE/BE) into UTF-8,
 *   - scans the prolog and refuses a DOCTYPE (so no entity is ever declared,
 *     let alone expanded or loaded from a file or the network),
 *   - wraps a bare sequence of <Event> elements in a synthetic <Events> root.
 *
 * Pool events are recognised by their EventGuid (PoolGuid) and System/Opcode
 * 32..35, or by the RenderingInfo names when the GUID is absent. The
 * EventTrace header fills the trace metadata. Marks (EventName "Mark", or
 * "PerfInfo" with Opcode "Mark", text in Data "Mark", "Name" or "Text")
 * become marker events. Everything else is counted and skipped.
 * docs/tracerpt-xml.md describes the accepted forms.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/xmlreader.h>

#include "pooltrace/error.h"
#include "pooltrace/reader.h"
#include "pooltrace/xmlwrite.h"
#include "readers/readers.h"

#define PROLOG_MAX (1u << 20)  /* bytes before the first element */
#define RAW_CHUNK 32768        /* UTF-16 bytes transcoded at a time */
#define VAL_MAX 256            /* longest field value kept (longer: flagged) */

#define POOL_GUID "0268a8b6-74fd-4302-9dd0-6e8f1795c0cf"
#define HEADER_GUID "68fdd900-4a3e-11d1-84f4-0000f80464e3"

enum enc { ENC_UTF8 = 0, ENC_UTF16LE, ENC_UTF16BE };

/* The byte feed between pt_input and libxml2. */
struct feed {
	struct pt_input *in;
	enum enc enc;
	uint8_t *pend;           /* bytes handed out before reading on */
	size_t pend_cap, pend_pos, pend_len;
	uint8_t *raw;            /* UTF-16 input chunk */
	uint32_t hi_surrogate;   /* pending high surrogate (UTF-16) */
	uint8_t odd_byte;
	bool has_odd;
	bool wrap;               /* synthetic <Events> root added */
	bool in_eof;             /* pt_input exhausted */
	bool done;               /* closing tag (if any) queued */
	int err;                 /* first I/O error */
	char errmsg[256];
	/* markup scanner: caps on node size and attribute count (see scan_markup) */
	uint64_t max_node;       /* longest tag or text run, bytes */
	int sc_state;            /* SC_* */
	uint8_t sc_quote;        /* quote that opened the attribute value */
	uint8_t sc_last[2];      /* last two bytes (end of comment / CDATA / PI) */
	uint8_t sc_open[9];      /* first bytes of a <! construct */
	size_t sc_open_len;
	uint64_t sc_run;         /* bytes of the current tag or text run */
	uint64_t sc_attrs;       /* attributes of the current tag */
	uint64_t sc_line;        /* line of the scanned bytes, for messages */
	uint64_t max_depth;      /* deepest element nesting */
	uint64_t sc_depth;       /* open elements */
	bool sc_closing;         /* the current tag is an end tag */
};

/* Per-event fields, kept as text until the event's kind is known. */
enum slot_id {
	SL_SYS_OPCODE = 0,
	SL_COMPUTER,
	SL_TIME,
	SL_PID,
	SL_TID,
	SL_CPU,
	SL_R_OPCODE,
	SL_R_EVENTNAME,
	SL_GUID,
	/* EventData/Data Name="..." */
	SL_D_TYPE,
	SL_D_TAG,
	SL_D_BYTES,
	SL_D_ENTRY,
	SL_D_SESSION,
	SL_D_POINTERSIZE,
	SL_D_EVENTSLOST,
	SL_D_BUFFERSLOST,
	SL_D_STARTTIME,
	SL_D_ENDTIME,
	SL_D_PERFFREQ,
	SL_D_NPROC,
	SL_D_VERSION,
	SL_D_PROVIDERVERSION,
	SL_D_LOGGERNAME,
	SL_D_MARK,
	SL_D_NAME,
	SL_D_TEXT,
	SL_COUNT_,
	SL_NONE = -1
};

static const char *const slot_field[SL_COUNT_] = {
	[SL_SYS_OPCODE] = "System/Opcode",
	[SL_COMPUTER] = "Computer",
	[SL_TIME] = "TimeCreated SystemTime",
	[SL_PID] = "ProcessID",
	[SL_TID] = "ThreadID",
	[SL_CPU] = "ProcessorID",
	[SL_R_OPCODE] = "RenderingInfo/Opcode",
	[SL_R_EVENTNAME] = "EventName",
	[SL_GUID] = "EventGuid",
	[SL_D_TYPE] = "Type",
	[SL_D_TAG] = "Tag",
	[SL_D_BYTES] = "NumberOfBytes",
	[SL_D_ENTRY] = "Entry",
	[SL_D_SESSION] = "SessionId",
	[SL_D_POINTERSIZE] = "PointerSize",
	[SL_D_EVENTSLOST] = "EventsLost",
	[SL_D_BUFFERSLOST] = "BuffersLost",
	[SL_D_STARTTIME] = "StartTime",
	[SL_D_ENDTIME] = "EndTime",
	[SL_D_PERFFREQ] = "PerfFreq",
	[SL_D_NPROC] = "NumberOfProcessors",
	[SL_D_VERSION] = "Version",
	[SL_D_PROVIDERVERSION] = "ProviderVersion",
	[SL_D_LOGGERNAME] = "LoggerName",
	[SL_D_MARK] = "Mark",
	[SL_D_NAME] = "Name",
	[SL_D_TEXT] = "Text",
};

struct slot {
	uint32_t len;
	bool overlong;
	uint64_t line;
	char val[VAL_MAX];
};

enum sect { SEC_NONE = 0, SEC_SYSTEM, SEC_DATA, SEC_RENDER, SEC_EXT, SEC_OTHER };

/* Dictionary pointers of the names compared (libxml2 interns all names). */
struct names {
	const xmlChar *Events, *Event, *System, *EventData, *RenderingInfo, *ExtendedTracingInfo;
	const xmlChar *Opcode, *TimeCreated, *SystemTime, *Execution, *ProcessID, *ThreadID,
		*ProcessorID, *Computer, *Data, *Name, *EventName, *EventGuid;
};

struct xr {
	struct feed feed;
	xmlTextReaderPtr xr;
	struct names n;
	bool root_seen;
	/* current event */
	bool in_event;
	uint64_t ev_line;
	uint64_t attr_line;      /* line of the element whose attributes are read */
	uint64_t data_line;      /* line of EventData (0: none yet) */
	enum sect sect;
	int cur_slot;
	int cur_depth;           /* depth of the element that owns cur_slot */
	bool present[SL_COUNT_];
	struct slot slots[SL_COUNT_];
	/* libxml2's first error */
	bool xml_err;
	int xml_err_line;
	char xml_errmsg[256];
	/* state across events */
	bool start_from_header;
	bool warned_before_start;
	bool has_pending;
	struct pt_event pending;
	char marker[VAL_MAX];
	char pending_marker[VAL_MAX];
	bool at_end;
};

/* ---------------------------------------------------------------- feed */

static int pend_reserve(struct feed *f, size_t extra)
{
	if (f->pend_len + extra <= f->pend_cap)
		return 0;
	size_t cap = f->pend_cap ? f->pend_cap : 65536;
	while (cap < f->pend_len + extra)
		cap *= 2;
	uint8_t *p = realloc(f->pend, cap);
	if (!p)
		return PT_ENOMEM;
	f->pend = p;
	f->pend_cap = cap;
	return 0;
}

static int feed_fail(struct feed *f, ssize_t code)
{
	if (!f->err) {
		f->err = (int)code;
		snprintf(f->errmsg, sizeof(f->errmsg), "%s", pt_input_error(f->in));
		if (!f->errmsg[0])
			snprintf(f->errmsg, sizeof(f->errmsg), "%s: %s", pt_input_name(f->in),
				 pt_strerror((int)code));
	}
	return (int)code;
}

static void put_utf8(uint8_t **o, uint32_t c)
{
	uint8_t *p = *o;
	if (c < 0x80) {
		*p++ = (uint8_t)c;
	} else if (c < 0x800) {
		*p++ = (uint8_t)(0xC0 | (c >> 6));
		*p++ = (uint8_t)(0x80 | (c & 0x3F));
	} else if (c < 0x10000) {
		*p++ = (uint8_t)(0xE0 | (c >> 12));
		*p++ = (uint8_t)(0x80 | ((c >> 6) & 0x3F));
		*p++ = (uint8_t)(0x80 | (c & 0x3F));
	} else {
		*p++ = (uint8_t)(0xF0 | (c >> 18));
		*p++ = (uint8_t)(0x80 | ((c >> 12) & 0x3F));
		*p++ = (uint8_t)(0x80 | ((c >> 6) & 0x3F));
		*p++ = (uint8_t)(0x80 | (c & 0x3F));
	}
	*o = p;
}

/*
 * Append the next chunk of input to pend as UTF-8.
 * @return: bytes appended (0 at end of input) or a negative PT_E* code.
 */
static ssize_t feed_more(struct feed *f)
{
	if (f->in_eof)
		return 0;
	if (f->enc == ENC_UTF8) {
		int rc = pend_reserve(f, RAW_CHUNK);
		if (rc < 0)
			return rc;
		ssize_t n = pt_input_read(f->in, f->pend + f->pend_len, RAW_CHUNK);
		if (n < 0)
			return feed_fail(f, n);
		if (n == 0)
			f->in_eof = true;
		f->pend_len += (size_t)n;
		return n;
	}
	if (!f->raw) {
		f->raw = malloc(RAW_CHUNK + 1);
		if (!f->raw)
			return PT_ENOMEM;
	}
	size_t have = 0;
	if (f->has_odd) {
		f->raw[0] = f->odd_byte;
		have = 1;
		f->has_odd = false;
	}
	ssize_t n = pt_input_read(f->in, f->raw + have, RAW_CHUNK);
	if (n < 0)
		return feed_fail(f, n);
	have += (size_t)n;
	if (n == 0)
		f->in_eof = true;
	/* Every code unit gives at most 3 UTF-8 bytes (pairs: 4 for 2 units). */
	int rc = pend_reserve(f, (have / 2 + 2) * 3 + 4);
	if (rc < 0)
		return rc;
	uint8_t *o = f->pend + f->pend_len, *o0 = o;
	size_t i = 0;
	for (; i + 1 < have; i += 2) {
		uint32_t u = f->enc == ENC_UTF16LE ? (uint32_t)f->raw[i] | (uint32_t)f->raw[i + 1] << 8
						   : (uint32_t)f->raw[i] << 8 | (uint32_t)f->raw[i + 1];
		if (f->hi_surrogate) {
			if (u >= 0xDC00 && u <= 0xDFFF) {
				put_utf8(&o, 0x10000 + ((f->hi_surrogate - 0xD800) << 10) + (u - 0xDC00));
				f->hi_surrogate = 0;
				continue;
			}
			put_utf8(&o, 0xFFFD);
			f->hi_surrogate = 0;
		}
		if (u >= 0xD800 && u <= 0xDBFF)
			f->hi_surrogate = u;
		else if (u >= 0xDC00 && u <= 0xDFFF)
			put_utf8(&o, 0xFFFD);
		else
			put_utf8(&o, u);
	}
	if (i < have) {
		if (f->in_eof) {
			put_utf8(&o, 0xFFFD);
		} else {
			f->odd_byte = f->raw[i];
			f->has_odd = true;
		}
	}
	if (f->in_eof && f->hi_surrogate) {
		put_utf8(&o, 0xFFFD);
		f->hi_surrogate = 0;
	}
	f->pend_len += (size_t)(o - o0);
	if (o == o0 && !f->in_eof)
		return feed_more(f);
	return o - o0;
}

static const uint8_t *find_bytes(const uint8_t *h, size_t n, const char *needle)
{
	size_t m = strlen(needle);
	if (m == 0 || n < m)
		return NULL;
	for (size_t i = 0; i + m <= n; i++)
		if (h[i] == (uint8_t)needle[0] && !memcmp(h + i, needle, m))
			return h + i;
	return NULL;
}

static bool is_ws(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/*
 * Look at the prolog in pend. @return 1 decided (*elem_pos set, *is_event
 * when the first element is <Event>), 0 need more bytes, PT_EFORMAT for a
 * DOCTYPE (message in f->errmsg).
 */
static int scan_prolog(struct feed *f, size_t *elem_pos, bool *is_event)
{
	const uint8_t *p = f->pend;
	size_t n = f->pend_len, i = 0;
	*is_event = false;
	for (;;) {
		while (i < n && is_ws(p[i]))
			i++;
		if (i >= n)
			return 0;
		if (p[i] != '<') {
			*elem_pos = i;
			return 1; /* not XML as expected: libxml2 will say what is wrong */
		}
		if (n - i < 2)
			return 0;
		if (p[i + 1] == '?') {
			const uint8_t *e = find_bytes(p + i + 2, n - i - 2, "?>");
			if (!e)
				return 0;
			i = (size_t)(e - p) + 2;
			continue;
		}
		if (p[i + 1] == '!') {
			if (n - i < 4)
				return 0;
			if (p[i + 2] == '-' && p[i + 3] == '-') {
				const uint8_t *e = find_bytes(p + i + 4, n - i - 4, "-->");
				if (!e)
					return 0;
				i = (size_t)(e - p) + 3;
				continue;
			}
			if (n - i < 9)
				return 0;
			if (!memcmp(p + i, "<!DOCTYPE", 9)) {
				uint64_t line = 1;
				for (size_t k = 0; k < i; k++)
					line += p[k] == '\n';
				snprintf(f->errmsg, sizeof(f->errmsg),
					 "%s:%llu: DOCTYPE declarations are not accepted (entities "
					 "are never expanded or loaded)",
					 pt_input_name(f->in), (unsigned long long)line);
				f->err = PT_EFORMAT;
				return PT_EFORMAT;
			}
			*elem_pos = i;
			return 1;
		}
		/* First element: its name up to white space, '>' or '/'. */
		size_t s = i + 1, e = s;
		while (e < n && !is_ws(p[e]) && p[e] != '>' && p[e] != '/')
			e++;
		if (e >= n)
			return 0;
		size_t ls = s;
		for (size_t k = s; k < e; k++)
			if (p[k] == ':')
				ls = k + 1;
		*elem_pos = i;
		*is_event = e - ls == 5 && !memcmp(p + ls, "Event", 5);
		return 1;
	}
}

/* Detect the encoding, read the prolog, add the wrapper when needed. */
static int feed_start(struct feed *f)
{
	size_t got;
	const uint8_t *h = pt_input_peek(f->in, 4, &got);
	if (!h)
		return feed_fail(f, PT_EIO);
	size_t skip = 0;
	if (got >= 3 && h[0] == 0xEF && h[1] == 0xBB && h[2] == 0xBF) {
		skip = 3;
	} else if (got >= 2 && h[0] == 0xFF && h[1] == 0xFE) {
		f->enc = ENC_UTF16LE;
		skip = 2;
	} else if (got >= 2 && h[0] == 0xFE && h[1] == 0xFF) {
		f->enc = ENC_UTF16BE;
		skip = 2;
	} else if (got >= 2 && h[0] != 0 && h[1] == 0) {
		f->enc = ENC_UTF16LE;
	} else if (got >= 2 && h[0] == 0 && h[1] != 0) {
		f->enc = ENC_UTF16BE;
	}
	if (skip) {
		uint8_t tmp[4];
		ssize_t n = pt_input_read(f->in, tmp, skip);
		if (n < 0)
			return feed_fail(f, n);
	}
	size_t pos = 0;
	bool is_event = false;
	for (;;) {
		int rc = scan_prolog(f, &pos, &is_event);
		if (rc < 0)
			return rc;
		if (rc > 0)
			break;
		if (f->pend_len > PROLOG_MAX) {
			snprintf(f->errmsg, sizeof(f->errmsg),
				 "%s: no element in the first %u bytes", pt_input_name(f->in),
				 PROLOG_MAX);
			f->err = PT_EFORMAT;
			return PT_EFORMAT;
		}
		ssize_t n = feed_more(f);
		if (n < 0)
			return (int)n;
		if (n == 0 && f->in_eof) {
			pos = f->pend_len;
			break;
		}
	}
	if (is_event) {
		static const char open_tag[] = "<Events>";
		size_t olen = sizeof(open_tag) - 1;
		int rc = pend_reserve(f, olen);
		if (rc < 0)
			return rc;
		memmove(f->pend + pos + olen, f->pend + pos, f->pend_len - pos);
		memcpy(f->pend + pos, open_tag, olen);
		f->pend_len += olen;
		f->wrap = true;
	}
	return 0;
}

static int feed_read_raw(void *ctx, char *buf, int len)
{
	struct feed *f = ctx;
	if (len <= 0)
		return 0;
	for (;;) {
		if (f->pend_pos < f->pend_len) {
			size_t n = f->pend_len - f->pend_pos;
			if (n > (size_t)len)
				n = (size_t)len;
			memcpy(buf, f->pend + f->pend_pos, n);
			f->pend_pos += n;
			return (int)n;
		}
		f->pend_pos = f->pend_len = 0;
		if (f->done)
			return 0;
		if (!f->in_eof) {
			if (f->enc == ENC_UTF8) {
				ssize_t n = pt_input_read(f->in, buf, (size_t)len);
				if (n < 0) {
					feed_fail(f, n);
					return -1;
				}
				if (n > 0)
					return (int)n;
				f->in_eof = true;
			} else {
				ssize_t n = feed_more(f);
				if (n < 0) {
					if (!f->err) {
						f->err = (int)n;
						snprintf(f->errmsg, sizeof(f->errmsg), "%s: %s",
							 pt_input_name(f->in), pt_strerror((int)n));
					}
					return -1;
				}
				continue;
			}
		}
		f->done = true;
		if (f->wrap) {
			static const char close_tag[] = "</Events>\n";
			if (pend_reserve(f, sizeof(close_tag)) < 0) {
				f->err = PT_ENOMEM;
				return -1;
			}
			memcpy(f->pend, close_tag, sizeof(close_tag) - 1);
			f->pend_len = sizeof(close_tag) - 1;
			continue;
		}
		return 0;
	}
}

/*
 * Markup scanner over the bytes handed to libxml2. It enforces what
 * libxml2 2.9 does not bound cheaply: the length of one tag and of one text
 * run (opts.max_xml_node) and the number of attributes of one element
 * (MAX_ATTRS; libxml2 checks duplicate attributes pairwise, so 100,000 of
 * them take minutes). Comments, CDATA sections and processing instructions
 * are followed to their end so that their content is not mistaken for tags.
 */
#define MAX_ATTRS 1024
enum { SC_TEXT = 0, SC_LT, SC_TAG, SC_QUOTE, SC_BANG, SC_COMMENT, SC_CDATA, SC_PI, SC_DECL };

/* Record a cap being hit at the scanner's line. */
static int scan_fail(struct feed *f, const char *what, unsigned long long cap, const char *option,
		     bool bytes)
{
	snprintf(f->errmsg, sizeof(f->errmsg), "%s:%llu: XML %s %llu%s%s%s%s", pt_input_name(f->in),
		 (unsigned long long)f->sc_line, what, cap, bytes ? " bytes" : "",
		 option ? " (raise the cap with " : "", option ? option : "", option ? ")" : "");
	f->err = PT_ELIMIT;
	return -1;
}

/*
 * Speed (docs/performance.md): the scanner sees every byte of the file, so
 * its bulk work is done 16 bytes at a time with SSE2 where the compiler
 * offers it (all x86-64 targets); other targets use the byte loops below,
 * which give the same results.
 */
#if defined(__SSE2__) && (defined(__GNUC__) || defined(__clang__))
#include <emmintrin.h>
#define SCAN_SSE2 1
#endif

/* Newlines in p[0..n). */
static uint64_t count_nl(const uint8_t *p, size_t n)
{
	uint64_t k = 0;
	size_t i = 0;
#ifdef SCAN_SSE2
	/*
	 * Each compare gives 0 or -1 per byte; subtracting them counts per byte
	 * lane for up to 255 steps, then psadbw adds the 16 lanes up.
	 */
	const __m128i nl = _mm_set1_epi8('\n'), zero = _mm_setzero_si128();
	while (n - i >= 16) {
		size_t steps = (n - i) / 16;
		if (steps > 255)
			steps = 255;
		__m128i acc = zero;
		for (size_t s = 0; s < steps; s++, i += 16)
			acc = _mm_sub_epi8(acc, _mm_cmpeq_epi8(
							_mm_loadu_si128((const __m128i *)(const void *)(p + i)),
							nl));
		__m128i sum = _mm_sad_epu8(acc, zero);
		k += (uint64_t)_mm_cvtsi128_si32(sum) +
		     (uint64_t)_mm_cvtsi128_si32(_mm_srli_si128(sum, 8));
	}
#endif
	for (; i < n; i++)
		k += p[i] == '\n';
	return k;
}

/* The bytes the text, tag and quoted-value states act on. */
static bool is_special(uint8_t c)
{
	return c == '<' || c == '>' || c == '=' || c == '"' || c == '\'';
}

/* Bit k set when p[k] (k < len <= 64) is one of is_special(). */
static uint64_t special_mask(const uint8_t *p, size_t len)
{
	uint64_t m = 0;
#ifdef SCAN_SSE2
	if (len == 64) {
		const __m128i lt = _mm_set1_epi8('<'), two = _mm_set1_epi8(2),
			      dq = _mm_set1_epi8('"'), sq = _mm_set1_epi8('\'');
		for (int k = 0; k < 4; k++) {
			__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * k));
			/* '<', '=' and '>' are consecutive: v - '<' is 0, 1 or 2 (unsigned) */
			__m128i d = _mm_sub_epi8(v, lt);
			__m128i r = _mm_cmpeq_epi8(_mm_min_epu8(d, two), d);
			r = _mm_or_si128(r, _mm_cmpeq_epi8(v, dq));
			r = _mm_or_si128(r, _mm_cmpeq_epi8(v, sq));
			m |= (uint64_t)(uint32_t)_mm_movemask_epi8(r) << (16 * k);
		}
		return m;
	}
#endif
	for (size_t k = 0; k < len; k++)
		if (is_special(p[k]))
			m |= (uint64_t)1 << k;
	return m;
}

static unsigned low_bit(uint64_t m)
{
#if defined(__GNUC__) || defined(__clang__)
	return (unsigned)__builtin_ctzll(m);
#else
	unsigned k = 0;
	while (!(m & 1)) {
		m >>= 1;
		k++;
	}
	return k;
#endif
}

/*
 * Fast path of scan_markup() for text, tags and quoted values, the states
 * nearly all bytes are in. Their state only changes at < > = " ', so
 * instead of stepping through every byte it finds those bytes 64 at a time
 * (a bit mask per 64 bytes, like a structural index) and skips the bytes
 * between them. The run length is not counted byte by byte either: byte k
 * of a tag or text run is its (k - anchor)th byte, with anchor the '<' of
 * the tag or the '>' before the text. A run only has to be checked where
 * something else could fail or the run ends ('=', '>' and '<') and where
 * the scan stops; the byte reported is still the first one past the cap
 * (anchor + cap + 1), and the attribute count and the depth are checked at
 * the same bytes as before, so every error names the same byte and line as
 * the byte-at-a-time state machine did. Newlines are only counted when the
 * scan stops (or fails), in one pass over the scanned bytes.
 * @return index where the scan stopped (n, or the byte after "<!" or "<?",
 * whose states scan_markup() follows byte by byte), or -1 after scan_fail().
 */
static ptrdiff_t scan_fast(struct feed *f, const uint8_t *p, size_t n, size_t i)
{
	const size_t i0 = i;
	/* no run reaches 2^62 bytes: a larger cap acts as that */
	const int64_t lim = f->max_node > ((uint64_t)1 << 62) ? (int64_t)1 << 62 : (int64_t)f->max_node;
	int state = f->sc_state;
	int64_t anchor = (int64_t)i - 1 - (int64_t)f->sc_run;
	uint64_t attrs = f->sc_attrs, depth = f->sc_depth;
	uint8_t quote = f->sc_quote;
	bool closing = f->sc_closing;
	int64_t e = 0; /* byte that passed a cap */
	const char *what = NULL;
	unsigned long long cap = 0;
	const char *option = NULL;
	bool bytes = false;

	for (size_t w = i & ~(size_t)63; w < n; w += 64) {
		if (i >= w + 64)
			continue;
		uint64_t bits = special_mask(p + w, n - w < 64 ? n - w : 64);
		if (i > w)
			bits &= ~(uint64_t)0 << (i - w);
		for (; bits; bits &= bits - 1) {
			size_t j = w + low_bit(bits);
			uint8_t c = p[j];
			if (state == SC_TEXT) {
				if (c != '<' || j < i)
					continue; /* text byte (or the byte after '<', taken already) */
				if ((int64_t)j - 1 - anchor > lim)
					goto too_long;
				anchor = (int64_t)j;
				attrs = 0;
				i = j + 1;
				if (i == n) {
					state = SC_LT;
					goto out;
				}
				/* the byte after '<' (what the SC_LT state does) */
				c = p[i++];
				closing = c == '/';
				if (c == '!' || c == '?') {
					state = c == '!' ? SC_BANG : SC_PI;
					f->sc_open_len = 0;
					f->sc_last[0] = f->sc_last[1] = 0;
					goto out;
				}
				if (c == '>')
					anchor = (int64_t)j + 1;
				else
					state = SC_TAG;
				continue;
			}
			if (j < i)
				continue;
			if (state == SC_QUOTE) {
				if (c == quote)
					state = SC_TAG;
				continue;
			}
			/* SC_TAG */
			if (c == '"' || c == '\'') {
				quote = c;
				state = SC_QUOTE;
			} else if (c == '=') {
				if ((int64_t)j - anchor > lim)
					goto too_long;
				if (++attrs > MAX_ATTRS) {
					e = (int64_t)j;
					what = "element with more attributes than";
					cap = MAX_ATTRS;
					goto fail;
				}
			} else if (c == '>') {
				if ((int64_t)j - anchor > lim)
					goto too_long;
				/*
				 * "/>" ends an empty element. The byte before '>' can be the
				 * one after '<' (or from the previous block: sc_last[1]); it is
				 * '/' there only in "</>", an end tag anyway.
				 */
				uint8_t prev = j ? p[j - 1] : f->sc_last[1];
				if (closing) {
					if (depth)
						depth--;
				} else if (prev != '/' && ++depth > f->max_depth) {
					e = (int64_t)j;
					what = "elements nested deeper than";
					cap = f->max_depth;
					option = "--max-xml-depth";
					goto fail;
				}
				state = SC_TEXT;
				anchor = (int64_t)j;
			}
		}
	}
	i = n;
	if ((int64_t)n - 1 - anchor > lim)
		goto too_long;
	f->sc_last[1] = p[n - 1];
out:
	f->sc_state = state;
	f->sc_run = state == SC_LT ? 1 : (uint64_t)((int64_t)i - 1 - anchor);
	f->sc_attrs = attrs;
	f->sc_depth = depth;
	f->sc_quote = quote;
	f->sc_closing = closing;
	f->sc_line += count_nl(p + i0, i - i0);
	return (ptrdiff_t)i;
too_long:
	e = anchor + lim + 1;
	what = state == SC_TEXT ? "text run longer than" : "tag longer than";
	cap = f->max_node;
	option = "--max-xml-node";
	bytes = true;
fail:
	f->sc_line += count_nl(p + i0, (size_t)e + 1 - i0);
	return scan_fail(f, what, cap, option, bytes);
}

static int scan_markup(struct feed *f, const uint8_t *p, size_t n)
{
	size_t i = 0;
	while (i < n) {
		if (f->sc_state == SC_TEXT || f->sc_state == SC_TAG || f->sc_state == SC_QUOTE) {
			ptrdiff_t k = scan_fast(f, p, n, i);
			if (k < 0)
				return -1;
			i = (size_t)k;
			continue;
		}
		uint8_t c = p[i++];
		if (c == '\n')
			f->sc_line++;
		/* text, tags and quoted values: scan_fast() */
		switch (f->sc_state) {
		case SC_LT:
			f->sc_state = c == '!' ? SC_BANG : c == '?' ? SC_PI : SC_TAG;
			f->sc_open_len = 0;
			f->sc_last[0] = f->sc_last[1] = 0;
			f->sc_closing = c == '/';
			if (f->sc_state == SC_TAG && c == '>') {
				f->sc_state = SC_TEXT;
				f->sc_run = 0;
			}
			break;
		case SC_BANG:
			/* "<!--" comment, "<![CDATA[" section, or another declaration */
			f->sc_open[f->sc_open_len++] = c;
			if (f->sc_open_len == 2 && !memcmp(f->sc_open, "--", 2)) {
				f->sc_state = SC_COMMENT;
			} else if (f->sc_open_len == 7 && !memcmp(f->sc_open, "[CDATA[", 7)) {
				f->sc_state = SC_CDATA;
			} else if (memcmp(f->sc_open, "--", f->sc_open_len < 2 ? f->sc_open_len : 2) &&
				   memcmp(f->sc_open, "[CDATA[", f->sc_open_len)) {
				f->sc_state = c == '>' ? SC_TEXT : SC_DECL;
				f->sc_run = 0;
			}
			f->sc_last[0] = f->sc_last[1] = 0;
			break;
		case SC_COMMENT:
		case SC_CDATA:
		case SC_PI:
			/* libxml2 bounds these itself (10 MB); only their end matters here */
			if ((f->sc_state == SC_COMMENT && c == '>' && f->sc_last[0] == '-' &&
			     f->sc_last[1] == '-') ||
			    (f->sc_state == SC_CDATA && c == '>' && f->sc_last[0] == ']' &&
			     f->sc_last[1] == ']') ||
			    (f->sc_state == SC_PI && c == '>' && f->sc_last[1] == '?')) {
				f->sc_state = SC_TEXT;
				f->sc_run = 0;
			}
			f->sc_last[0] = f->sc_last[1];
			f->sc_last[1] = c;
			break;
		case SC_DECL:
			if (c == '>') {
				f->sc_state = SC_TEXT;
				f->sc_run = 0;
			}
			break;
		}
	}
	return 0;
}

static int feed_read(void *ctx, char *buf, int len)
{
	struct feed *f = ctx;
	int n = feed_read_raw(ctx, buf, len);
	if (n > 0 && scan_markup(f, (const uint8_t *)buf, (size_t)n) < 0)
		return -1;
	return n;
}

static int feed_close(void *ctx)
{
	(void)ctx;
	return 0;
}

/* ---------------------------------------------------------------- probe */

static int probe(const uint8_t *head, size_t len)
{
	static const char ns[] = "schemas.microsoft.com/win/2004/08/events/event";
	uint8_t buf[16384];
	size_t n = 0, i = 0;
	int step = 1, lo = 0;
	if (len >= 2 && head[0] == 0xFF && head[1] == 0xFE) {
		step = 2, i = 2, lo = 0;
	} else if (len >= 2 && head[0] == 0xFE && head[1] == 0xFF) {
		step = 2, i = 2, lo = 1;
	} else if (len >= 2 && head[0] == '<' && head[1] == 0) {
		step = 2, lo = 0;
	} else if (len >= 2 && head[0] == 0 && head[1] == '<') {
		step = 2, lo = 1;
	} else if (len >= 3 && head[0] == 0xEF && head[1] == 0xBB && head[2] == 0xBF) {
		i = 3;
	}
	if (step == 2) {
		for (; i + 1 < len && n < sizeof(buf); i += 2) {
			uint8_t c = head[i + (size_t)lo], other = head[i + 1 - (size_t)lo];
			buf[n++] = other ? '?' : c;
		}
	} else {
		size_t m = len - i < sizeof(buf) ? len - i : sizeof(buf);
		memcpy(buf, head + i, m);
		n = m;
	}
	size_t k = 0;
	while (k < n && is_ws(buf[k]))
		k++;
	if (k >= n || buf[k] != '<')
		return 0;
	const uint8_t *p = buf;
	size_t rest = n;
	int score = 0;
	for (;;) {
		const uint8_t *e = find_bytes(p, rest, "<Event");
		if (!e)
			break;
		size_t off = (size_t)(e - buf);
		if (off + 7 > n)
			break;
		uint8_t c = buf[off + 6];
		if (c == 's' && off + 8 <= n &&
		    (is_ws(buf[off + 7]) || buf[off + 7] == '>' || buf[off + 7] == '/'))
			return 95;
		if (is_ws(c) || c == '>' || c == '/') {
			if (find_bytes(buf, n, ns))
				return 95;
			score = 50;
		}
		rest = n - off - 6;
		p = buf + off + 6;
	}
	return score;
}

/* ---------------------------------------------------------------- values */

static void trim(const char **s, size_t *len)
{
	const char *p = *s;
	size_t n = *len;
	while (n && is_ws((uint8_t)*p))
		p++, n--;
	while (n && is_ws((uint8_t)p[n - 1]))
		n--;
	*s = p;
	*len = n;
}

/* Decimal or 0x-prefixed hex; no sign. @return 0 or -1. */
static int parse_u64(const char *s, size_t len, uint64_t *out)
{
	trim(&s, &len);
	if (!len)
		return -1;
	uint64_t v = 0;
	if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		if (len - 2 > 16)
			return -1;
		for (size_t i = 2; i < len; i++) {
			unsigned c = (unsigned char)s[i], d;
			if (c >= '0' && c <= '9')
				d = c - '0';
			else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
				d = (c | 0x20) - 'a' + 10;
			else
				return -1;
			v = v << 4 | d;
		}
	} else {
		for (size_t i = 0; i < len; i++) {
			unsigned c = (unsigned char)s[i];
			if (c < '0' || c > '9')
				return -1;
			if (v > (UINT64_MAX - (c - '0')) / 10)
				return -1;
			v = v * 10 + (c - '0');
		}
	}
	*out = v;
	return 0;
}

static bool slot_is(const struct xr *x, int id, const char *word)
{
	if (!x->present[id])
		return false;
	const char *s = x->slots[id].val;
	size_t len = x->slots[id].len;
	trim(&s, &len);
	return len == strlen(word) && !strncasecmp(s, word, len);
}

/* Compare a GUID text with a lowercase GUID, braces optional. */
static bool slot_guid_is(const struct xr *x, const char *guid)
{
	const char *s = x->slots[SL_GUID].val;
	size_t len = x->slots[SL_GUID].len;
	trim(&s, &len);
	if (len >= 2 && s[0] == '{' && s[len - 1] == '}')
		s++, len -= 2;
	return len == 36 && !strncasecmp(s, guid, 36);
}

/* A field error: recorded, or a warning and a skip with keep_going. */
struct bad {
	int slot;
	const char *what;
};

static int get_u64(const struct xr *x, int id, uint64_t *v, struct bad *b)
{
	const struct slot *s = &x->slots[id];
	if (s->overlong || parse_u64(s->val, s->len, v) < 0) {
		b->slot = id;
		b->what = "not a number";
		return -1;
	}
	return 0;
}

static int get_u32(const struct xr *x, int id, uint32_t *v, struct bad *b)
{
	uint64_t w;
	if (get_u64(x, id, &w, b) < 0)
		return -1;
	if (w > UINT32_MAX) {
		b->slot = id;
		b->what = "out of range for 32 bits";
		return -1;
	}
	*v = (uint32_t)w;
	return 0;
}

static int need(const struct xr *x, int id, struct bad *b)
{
	if (!x->present[id]) {
		b->slot = id;
		b->what = "missing";
		return -1;
	}
	return 0;
}

/* Absolute time of the current event. @return 0, 1 when absent, -1 bad. */
static int event_time(const struct xr *x, int64_t *abs_ns, struct bad *b)
{
	if (!x->present[SL_TIME])
		return 1;
	const struct slot *s = &x->slots[SL_TIME];
	if (s->overlong || pt_iso8601_parse(s->val, s->len, abs_ns) < 0) {
		b->slot = SL_TIME;
		b->what = "not an ISO 8601 time";
		return -1;
	}
	return 0;
}

static void set_start(struct pt_reader *r, int64_t abs_ns)
{
	r->meta.has_start_time = true;
	r->meta.start_unix_ns = abs_ns;
}

static uint64_t rel_time(struct pt_reader *r, struct xr *x, int64_t abs_ns)
{
	if (!r->meta.has_start_time)
		set_start(r, abs_ns);
	if (abs_ns < r->meta.start_unix_ns) {
		if (!x->warned_before_start) {
			x->warned_before_start = true;
			pt_reader_warn(r, x->ev_line,
				       "event time before the trace start time; such events "
				       "are placed at time 0");
		}
		return 0;
	}
	return (uint64_t)(abs_ns - r->meta.start_unix_ns);
}

static void copy_text(char *dst, size_t dstsz, const struct slot *s)
{
	const char *p = s->val;
	size_t len = s->len;
	trim(&p, &len);
	if (len >= dstsz)
		len = dstsz - 1;
	memcpy(dst, p, len);
	dst[len] = 0;
}

/* A header time: FILETIME number or ISO 8601; 0 stays 0 (unknown). */
static int header_time(const struct xr *x, int id, int64_t *t, struct bad *b)
{
	const struct slot *s = &x->slots[id];
	uint64_t v;
	bool ok;
	*t = 0;
	if (parse_u64(s->val, s->len, &v) == 0)
		ok = v == 0 || pt_filetime_to_unix_ns(v, t) == 0;
	else
		ok = !s->overlong && pt_iso8601_parse(s->val, s->len, t) == 0;
	if (!ok) {
		b->slot = id;
		b->what = "neither a FILETIME nor an ISO 8601 time";
		return -1;
	}
	return 0;
}

static int do_header(struct pt_reader *r, struct xr *x, struct bad *b)
{
	struct pt_trace_meta *m = &r->meta;
	uint64_t v;
	uint32_t u;
	if (x->present[SL_D_POINTERSIZE]) {
		if (get_u32(x, SL_D_POINTERSIZE, &u, b) < 0)
			return -1;
		if (u == 4 || u == 8)
			m->pointer_size = u;
		else
			pt_reader_warn(r, x->slots[SL_D_POINTERSIZE].line,
				       "PointerSize %u is neither 4 nor 8; ignored", u);
	}
	if (x->present[SL_D_EVENTSLOST]) {
		if (get_u64(x, SL_D_EVENTSLOST, &v, b) < 0)
			return -1;
		m->events_lost = v;
		m->lost_known = true;
	}
	if (x->present[SL_D_BUFFERSLOST]) {
		if (get_u64(x, SL_D_BUFFERSLOST, &v, b) < 0)
			return -1;
		m->buffers_lost = v;
		m->lost_known = true;
	}
	if (x->present[SL_D_PERFFREQ]) {
		if (get_u64(x, SL_D_PERFFREQ, &v, b) < 0)
			return -1;
		m->perf_freq = v;
	}
	if (x->present[SL_D_NPROC]) {
		if (get_u32(x, SL_D_NPROC, &u, b) < 0)
			return -1;
		m->num_cpus = u;
	}
	if (x->present[SL_D_PROVIDERVERSION]) {
		if (get_u32(x, SL_D_PROVIDERVERSION, &u, b) < 0)
			return -1;
		m->os_build = u;
	}
	if (x->present[SL_D_VERSION]) {
		if (get_u32(x, SL_D_VERSION, &u, b) < 0)
			return -1;
		if (u)
			snprintf(m->os, sizeof(m->os), "Windows %u.%u", u & 0xFF, (u >> 8) & 0xFF);
	}
	if (x->present[SL_D_LOGGERNAME])
		copy_text(m->logger, sizeof(m->logger), &x->slots[SL_D_LOGGERNAME]);
	int64_t t = 0, end = 0;
	if (x->present[SL_D_STARTTIME]) {
		if (header_time(x, SL_D_STARTTIME, &t, b) < 0)
			return -1;
		if (t && !r->meta.has_start_time) {
			set_start(r, t);
			x->start_from_header = true;
		}
	}
	if (x->present[SL_D_ENDTIME] && header_time(x, SL_D_ENDTIME, &end, b) < 0)
		return -1;
	int64_t abs_ns;
	if (event_time(x, &abs_ns, b) == 0 && !r->meta.has_start_time)
		set_start(r, abs_ns);
	if (end && r->meta.has_start_time && end > r->meta.start_unix_ns &&
	    (uint64_t)(end - r->meta.start_unix_ns) > m->end_ns)
		m->end_ns = (uint64_t)(end - r->meta.start_unix_ns);
	return 0;
}

enum evkind { K_OTHER = 0, K_HEADER, K_MARKER, K_POOL };

static enum evkind classify(const struct xr *x, enum pt_event_kind *kind)
{
	static const char *const opnames[4] = {"PoolAllocation", "SessionPoolAllocation",
					       "PoolFree", "SessionPoolFree"};
	static const enum pt_event_kind kinds[4] = {PT_EV_ALLOC, PT_EV_SESSION_ALLOC, PT_EV_FREE,
						    PT_EV_SESSION_FREE};
	uint64_t op = UINT64_MAX;
	bool has_op = x->present[SL_SYS_OPCODE] &&
		      parse_u64(x->slots[SL_SYS_OPCODE].val, x->slots[SL_SYS_OPCODE].len, &op) == 0;
	bool has_guid = x->present[SL_GUID];
	bool pool_guid = has_guid && slot_guid_is(x, POOL_GUID);
	bool header_guid = has_guid && slot_guid_is(x, HEADER_GUID);
	bool pool_name = slot_is(x, SL_R_EVENTNAME, "Pool") ||
			 slot_is(x, SL_R_EVENTNAME, "PoolAllocation") ||
			 slot_is(x, SL_R_EVENTNAME, "PoolTrace");

	if (pool_guid || (!has_guid && pool_name)) {
		if (has_op && op >= 32 && op <= 35) {
			*kind = kinds[op - 32];
			return K_POOL;
		}
		if (!has_op || !pool_guid) {
			for (int i = 0; i < 4; i++) {
				if (slot_is(x, SL_R_OPCODE, opnames[i])) {
					*kind = kinds[i];
					return K_POOL;
				}
			}
		}
		return K_OTHER;
	}
	if (header_guid || (!has_guid && slot_is(x, SL_R_EVENTNAME, "EventTrace"))) {
		if ((has_op && op == 0) || (!has_op && slot_is(x, SL_R_OPCODE, "Header")) ||
		    (!header_guid && slot_is(x, SL_R_OPCODE, "Header")))
			return K_HEADER;
		return K_OTHER;
	}
	if (slot_is(x, SL_R_EVENTNAME, "Mark") ||
	    (slot_is(x, SL_R_EVENTNAME, "PerfInfo") && slot_is(x, SL_R_OPCODE, "Mark"))) {
		if (x->present[SL_D_MARK] || x->present[SL_D_NAME] || x->present[SL_D_TEXT])
			return K_MARKER;
	}
	return K_OTHER;
}

static int do_pool(struct pt_reader *r, struct xr *x, struct pt_event *ev, struct bad *b)
{
	uint32_t type, tag;
	uint64_t bytes = 0, entry;
	if (need(x, SL_D_TYPE, b) || need(x, SL_D_TAG, b) || need(x, SL_D_ENTRY, b) ||
	    (pt_event_is_alloc(ev) && need(x, SL_D_BYTES, b)) || need(x, SL_TIME, b))
		return -1;
	if (get_u32(x, SL_D_TYPE, &type, b) || get_u32(x, SL_D_TAG, &tag, b) ||
	    get_u64(x, SL_D_ENTRY, &entry, b) ||
	    (x->present[SL_D_BYTES] && get_u64(x, SL_D_BYTES, &bytes, b)))
		return -1;
	uint32_t sid = PT_NONE32, pid = PT_NONE32, tid = PT_NONE32, cpu = PT_NONE32;
	bool session = ev->kind == PT_EV_SESSION_ALLOC || ev->kind == PT_EV_SESSION_FREE;
	if (session && x->present[SL_D_SESSION] && get_u32(x, SL_D_SESSION, &sid, b))
		return -1;
	if ((x->present[SL_PID] && get_u32(x, SL_PID, &pid, b)) ||
	    (x->present[SL_TID] && get_u32(x, SL_TID, &tid, b)) ||
	    (x->present[SL_CPU] && get_u32(x, SL_CPU, &cpu, b)))
		return -1;
	int64_t abs_ns;
	if (event_time(x, &abs_ns, b))
		return -1;
	pt_tag_id id;
	int rc = pt_tags_intern_u32(r->tags, tag, &id);
	if (rc < 0)
		return rc;
	ev->ts_ns = rel_time(r, x, abs_ns);
	ev->raw_pool_type = type;
	ev->pool = pt_pool_from_windows(type, &ev->pool_flags);
	ev->tag = id;
	ev->size = bytes;
	ev->addr = entry;
	ev->pid = pid;
	ev->tid = tid;
	ev->cpu = cpu;
	ev->session_id = sid;
	return 0;
}

static int do_marker(struct pt_reader *r, struct xr *x, struct pt_event *ev, struct bad *b)
{
	int64_t abs_ns;
	if (need(x, SL_TIME, b) || event_time(x, &abs_ns, b))
		return -1;
	int id = x->present[SL_D_MARK] ? SL_D_MARK : x->present[SL_D_NAME] ? SL_D_NAME : SL_D_TEXT;
	const struct slot *s = &x->slots[id];
	memcpy(x->marker, s->val, s->len);
	x->marker[s->len] = 0;
	uint32_t pid = PT_NONE32, tid = PT_NONE32, cpu = PT_NONE32;
	if ((x->present[SL_PID] && get_u32(x, SL_PID, &pid, b)) ||
	    (x->present[SL_TID] && get_u32(x, SL_TID, &tid, b)) ||
	    (x->present[SL_CPU] && get_u32(x, SL_CPU, &cpu, b)))
		return -1;
	ev->kind = PT_EV_MARKER;
	ev->ts_ns = rel_time(r, x, abs_ns);
	ev->marker = x->marker;
	ev->pid = pid;
	ev->tid = tid;
	ev->cpu = cpu;
	return 0;
}

/*
 * The current event is complete. @return 1 with *ev filled, 0 when it is
 * not returned (header, other, skipped bad event), negative on error.
 */
static int finish_event(struct pt_reader *r, struct xr *x, struct pt_event *ev)
{
	struct bad b = {SL_NONE, NULL};
	enum pt_event_kind kind = PT_EV_ALLOC;
	enum evkind k = classify(x, &kind);
	int rc = 0;
	const char *what = "event";

	if (x->present[SL_COMPUTER] && !r->meta.host[0])
		copy_text(r->meta.host, sizeof(r->meta.host), &x->slots[SL_COMPUTER]);
	switch (k) {
	case K_HEADER:
		what = "EventTrace header";
		rc = do_header(r, x, &b);
		break;
	case K_POOL:
		what = "pool event";
		ev->kind = kind;
		rc = do_pool(r, x, ev, &b);
		if (rc == 0)
			return 1;
		break;
	case K_MARKER:
		what = "mark event";
		rc = do_marker(r, x, ev, &b);
		if (rc == 0)
			return 1;
		break;
	case K_OTHER:
		r->skipped_other++;
		if (!r->meta.has_start_time) {
			int64_t abs_ns;
			if (event_time(x, &abs_ns, &b) == 0)
				set_start(r, abs_ns);
		}
		return 0;
	}
	if (rc == 0)
		return 0;
	if (rc < -1)
		return pt_reader_error(r, rc, x->ev_line, "%s: %s", what, pt_strerror(rc));
	uint64_t line = x->present[b.slot]                   ? x->slots[b.slot].line
			: b.slot >= SL_D_TYPE && x->data_line ? x->data_line
							      : x->ev_line;
	char shown[48] = "";
	if (x->present[b.slot]) {
		const char *s = x->slots[b.slot].val;
		size_t len = x->slots[b.slot].len;
		trim(&s, &len);
		snprintf(shown, sizeof(shown), " '%.*s%s'", (int)(len > 32 ? 32 : len), s,
			 len > 32 || x->slots[b.slot].overlong ? "..." : "");
	}
	if (r->opts.keep_going) {
		r->skipped_bad++;
		pt_reader_warn(r, line, "%s: field %s%s: %s; event skipped", what,
			       slot_field[b.slot], shown, b.what);
		pt_event_init(ev);
		return 0;
	}
	return pt_reader_error(r, PT_EFORMAT, line, "%s: field %s%s: %s", what, slot_field[b.slot],
			       shown, b.what);
}

/* ---------------------------------------------------------------- parsing */

static void on_xml_error(void *ctx, xmlErrorPtr err)
{
	struct xr *x = ctx;
	if (!err || err->level < XML_ERR_ERROR || x->xml_err)
		return;
	x->xml_err = true;
	x->xml_err_line = err->line;
	snprintf(x->xml_errmsg, sizeof(x->xml_errmsg), "%s", err->message ? err->message : "");
	size_t n = strlen(x->xml_errmsg);
	while (n && (x->xml_errmsg[n - 1] == '\n' || x->xml_errmsg[n - 1] == ' '))
		x->xml_errmsg[--n] = 0;
}

static int xml_failure(struct pt_reader *r, struct xr *x)
{
	if (x->feed.err) {
		snprintf(r->errmsg, sizeof(r->errmsg), "%s", x->feed.errmsg);
		return x->feed.err;
	}
	uint64_t line = x->xml_err ? (uint64_t)(x->xml_err_line > 0 ? x->xml_err_line : 0)
				   : (uint64_t)xmlTextReaderGetParserLineNumber(x->xr);
	return pt_reader_error(r, PT_EFORMAT, line, "malformed XML: %s",
			       x->xml_err && x->xml_errmsg[0] ? x->xml_errmsg : "parse error");
}

static int data_slot(const xmlChar *name)
{
	static const int ids[] = {
		SL_D_TYPE, SL_D_TAG, SL_D_BYTES, SL_D_ENTRY, SL_D_SESSION, SL_D_POINTERSIZE,
		SL_D_EVENTSLOST, SL_D_BUFFERSLOST, SL_D_STARTTIME, SL_D_ENDTIME, SL_D_PERFFREQ, SL_D_NPROC,
		SL_D_VERSION, SL_D_PROVIDERVERSION, SL_D_LOGGERNAME, SL_D_MARK, SL_D_NAME, SL_D_TEXT,
	};
	if (!name)
		return SL_NONE;
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		if (!strcmp((const char *)name, slot_field[ids[i]]))
			return ids[i];
	return SL_NONE;
}

/*
 * Line of the current node. The parser reads ahead of the node the reader
 * is on, so its own line number can be a few lines late; the node keeps the
 * line it started on (exact below 65535, found through XML_PARSE_BIG_LINES
 * text nodes above it). Falls back to the parser's line.
 */
static uint64_t node_line(struct xr *x)
{
	xmlNodePtr node = xmlTextReaderCurrentNode(x->xr);
	if (node) {
		long l = xmlGetLineNo(node);
		if (l > 0 && l != 65535)
			return (uint64_t)l;
	}
	int l = xmlTextReaderGetParserLineNumber(x->xr);
	return l > 0 ? (uint64_t)l : 0;
}

static void slot_begin(struct xr *x, int id, int depth)
{
	struct slot *s = &x->slots[id];
	x->present[id] = true;
	s->len = 0;
	s->overlong = false;
	s->val[0] = 0;
	s->line = node_line(x);
	x->cur_slot = id;
	x->cur_depth = depth;
}

static void slot_append(struct slot *s, const xmlChar *text)
{
	if (!text)
		return;
	size_t n = strlen((const char *)text);
	if (s->len + n >= VAL_MAX) {
		s->overlong = true;
		n = VAL_MAX - 1 - s->len;
	}
	memcpy(s->val + s->len, text, n);
	s->len += (uint32_t)n;
	s->val[s->len] = 0;
}

static void slot_set_attr(struct xr *x, int id)
{
	struct slot *s = &x->slots[id];
	x->present[id] = true;
	s->len = 0;
	s->overlong = false;
	s->val[0] = 0;
	s->line = x->attr_line;
	slot_append(s, xmlTextReaderConstValue(x->xr));
}

/* Element start inside an Event (depth >= 2). */
static void element_in_event(struct xr *x, const xmlChar *name, int depth, bool empty)
{
	const struct names *n = &x->n;
	if (depth == 2) {
		if (name == n->EventData)
			x->data_line = node_line(x);
		x->sect = name == n->System ? SEC_SYSTEM
			  : name == n->EventData ? SEC_DATA
			  : name == n->RenderingInfo ? SEC_RENDER
			  : name == n->ExtendedTracingInfo ? SEC_EXT
							    : SEC_OTHER;
		return;
	}
	if (depth != 3)
		return;
	int id = SL_NONE;
	switch (x->sect) {
	case SEC_SYSTEM:
		if (name == n->Opcode) {
			id = SL_SYS_OPCODE;
		} else if (name == n->Computer) {
			id = SL_COMPUTER;
		} else if (name == n->TimeCreated || name == n->Execution) {
			x->attr_line = node_line(x);
			while (xmlTextReaderMoveToNextAttribute(x->xr) == 1) {
				const xmlChar *an = xmlTextReaderConstLocalName(x->xr);
				if (an == n->SystemTime)
					slot_set_attr(x, SL_TIME);
				else if (an == n->ProcessID)
					slot_set_attr(x, SL_PID);
				else if (an == n->ThreadID)
					slot_set_attr(x, SL_TID);
				else if (an == n->ProcessorID)
					slot_set_attr(x, SL_CPU);
			}
			xmlTextReaderMoveToElement(x->xr);
			return;
		}
		break;
	case SEC_DATA:
		if (name == n->Data) {
			while (xmlTextReaderMoveToNextAttribute(x->xr) == 1) {
				if (xmlTextReaderConstLocalName(x->xr) == n->Name) {
					id = data_slot(xmlTextReaderConstValue(x->xr));
					break;
				}
			}
			xmlTextReaderMoveToElement(x->xr);
		}
		break;
	case SEC_RENDER:
		if (name == n->Opcode)
			id = SL_R_OPCODE;
		else if (name == n->EventName)
			id = SL_R_EVENTNAME;
		break;
	case SEC_EXT:
		if (name == n->EventGuid)
			id = SL_GUID;
		break;
	default:
		break;
	}
	if (id == SL_NONE)
		return;
	slot_begin(x, id, depth);
	if (empty)
		x->cur_slot = SL_NONE;
}

/*
 * Parse on until one event is ready. @return 1 with *ev, 0 at end, or a
 * negative PT_E* code (message set).
 */
static int parse_next(struct pt_reader *r, struct xr *x, struct pt_event *ev)
{
	const struct names *n = &x->n;
	if (x->at_end)
		return 0;
	for (;;) {
		int rc = xmlTextReaderRead(x->xr);
		if (rc == 0) {
			x->at_end = true;
			if (x->xml_err || x->feed.err)
				return xml_failure(r, x);
			return 0;
		}
		if (rc < 0 || x->feed.err)
			return xml_failure(r, x);
		int type = xmlTextReaderNodeType(x->xr);
		switch (type) {
		case XML_READER_TYPE_ELEMENT: {
			int depth = xmlTextReaderDepth(x->xr);
			const xmlChar *name = xmlTextReaderConstLocalName(x->xr);
			bool empty = xmlTextReaderIsEmptyElement(x->xr) == 1;
			if (depth == 0) {
				if (name != n->Events) {
					return pt_reader_error(
						r, PT_EFORMAT, node_line(x),
						"root element <%s>: expected <Events> or a sequence "
						"of <Event> elements",
						name ? (const char *)name : "?");
				}
				x->root_seen = true;
			} else if (depth == 1) {
				if (name != n->Event)
					break;
				x->in_event = true;
				x->ev_line = node_line(x);
				x->sect = SEC_NONE;
				x->cur_slot = SL_NONE;
				x->data_line = 0;
				memset(x->present, 0, sizeof(x->present));
				if (empty) {
					x->in_event = false;
					int fr = finish_event(r, x, ev);
					if (fr != 0)
						return fr;
				}
			} else if (x->in_event) {
				x->cur_slot = SL_NONE;
				element_in_event(x, name, depth, empty);
			}
			break;
		}
		case XML_READER_TYPE_TEXT:
		case XML_READER_TYPE_CDATA:
		case XML_READER_TYPE_SIGNIFICANT_WHITESPACE:
		case XML_READER_TYPE_WHITESPACE:
			if (x->cur_slot != SL_NONE && x->in_event &&
			    xmlTextReaderDepth(x->xr) == x->cur_depth + 1)
				slot_append(&x->slots[x->cur_slot], xmlTextReaderConstValue(x->xr));
			break;
		case XML_READER_TYPE_END_ELEMENT: {
			if (!x->in_event)
				break;
			int depth = xmlTextReaderDepth(x->xr);
			if (depth == x->cur_depth)
				x->cur_slot = SL_NONE;
			if (depth == 2)
				x->sect = SEC_NONE;
			if (depth == 1) {
				x->in_event = false;
				int fr = finish_event(r, x, ev);
				if (fr != 0)
					return fr;
			}
			break;
		}
		case XML_READER_TYPE_DOCUMENT_TYPE:
		case XML_READER_TYPE_ENTITY_REFERENCE:
		case XML_READER_TYPE_ENTITY:
			return pt_reader_error(r, PT_EFORMAT, node_line(x),
					       "DTDs and entity references are not accepted");
		default:
			break;
		}
	}
}

/* ---------------------------------------------------------------- ops */

static void xr_close(struct pt_reader *r)
{
	struct xr *x = r->priv;
	if (!x)
		return;
	if (x->xr)
		xmlFreeTextReader(x->xr);
	free(x->feed.pend);
	free(x->feed.raw);
	free(x);
	r->priv = NULL;
}

static int xr_open(struct pt_reader *r)
{
	struct xr *x = calloc(1, sizeof(*x));
	if (!x)
		return PT_ENOMEM;
	r->priv = x;
	x->cur_slot = SL_NONE;
	x->feed.in = r->in;
	r->meta.clock = PT_CLOCK_WALL;
	int rc = feed_start(&x->feed);
	if (rc < 0) {
		if (x->feed.errmsg[0])
			snprintf(r->errmsg, sizeof(r->errmsg), "%s", x->feed.errmsg);
		return rc;
	}
	x->feed.max_node = r->opts.max_xml_node;
	x->feed.max_depth = r->opts.max_xml_depth;
	x->feed.sc_line = 1;
	int options = XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_NOCDATA | XML_PARSE_COMPACT |
		      XML_PARSE_BIG_LINES;
	/* libxml2's own limits (depth 256, 10 MB nodes) give way to ours when raised */
	if (r->opts.max_xml_depth > 256 || r->opts.max_xml_node > 10000000)
		options |= XML_PARSE_HUGE;
	if (x->feed.enc != ENC_UTF8)
		options |= XML_PARSE_IGNORE_ENC;
	x->xr = xmlReaderForIO(feed_read, feed_close, &x->feed, NULL, NULL, options);
	if (!x->xr) {
		if (x->feed.err) {
			snprintf(r->errmsg, sizeof(r->errmsg), "%s", x->feed.errmsg);
			return x->feed.err;
		}
		return pt_reader_error(r, PT_ENOMEM, 0, "cannot create the XML reader");
	}
	xmlTextReaderSetStructuredErrorHandler(x->xr, on_xml_error, x);
	struct names *n = &x->n;
#define INTERN(f) n->f = xmlTextReaderConstString(x->xr, BAD_CAST #f)
	INTERN(Events);
	INTERN(Event);
	INTERN(System);
	INTERN(EventData);
	INTERN(RenderingInfo);
	INTERN(ExtendedTracingInfo);
	INTERN(Opcode);
	INTERN(TimeCreated);
	INTERN(SystemTime);
	INTERN(Execution);
	INTERN(ProcessID);
	INTERN(ThreadID);
	INTERN(ProcessorID);
	INTERN(Computer);
	INTERN(Data);
	INTERN(Name);
	INTERN(EventName);
	INTERN(EventGuid);
#undef INTERN
	if (!n->Events || !n->EventGuid)
		return pt_reader_error(r, PT_ENOMEM, 0, "cannot create the XML reader");
	/* Read up to the first event so the header's metadata is known after open. */
	pt_event_init(&x->pending);
	rc = parse_next(r, x, &x->pending);
	if (rc < 0)
		return rc;
	x->has_pending = rc > 0;
	if (x->has_pending && x->pending.kind == PT_EV_MARKER) {
		memcpy(x->pending_marker, x->marker, sizeof(x->marker));
		x->pending.marker = x->pending_marker;
	}
	return 0;
}

static int xr_next(struct pt_reader *r, struct pt_event *ev)
{
	struct xr *x = r->priv;
	if (x->has_pending) {
		x->has_pending = false;
		*ev = x->pending;
		return 1;
	}
	return parse_next(r, x, ev);
}

const struct pt_reader_ops pt_reader_tracerpt_xml = {
	.name = "tracerpt-xml",
	.description = "Windows tracerpt XML export (<Events>/<Event>, UTF-8 or UTF-16)",
	.probe = probe,
	.open = xr_open,
	.next = xr_next,
	.close = xr_close,
};
