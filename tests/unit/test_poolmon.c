/* SPDX-License-Identifier: MIT */
/* PoolMon snapshot reader and the chained (several files, folder) input. */
#include <sys/stat.h>
#include <unistd.h>

#include "textreader_test.h"

#define SEC 1000000000ull

static const char docs_screen[] =
	" Memory:  260620K Avail:   96364K  PageFlts:     0   InRam Krnl: 1916K P:17856K\n"
	" Commit: 203500K Limit: 640916K Peak: 260632K            Pool N: 8332K P:27220K\n"
	" System pool information\n"
	" Tag  Type     Allocs            Frees            Diff   Bytes       Per Alloc\n"
	"\n"
	" CM Paged 1283 ( 0) 1002 ( 0) 281 1377312 ( 0) 4901\n"
	"Strg  Paged  10385 ( 10)  6658  ( 4)  3727   317952 ( 512)    85\n"
	" Wait Nonp    3971107 (   0)   3971077 (   0)       30    8456 (     0)    281\n"
	" Io   Nonp    1021112 (   1)   1020985 (   1)      127   91912 (     0)    723\n";

static void test_docs_screen(void **state)
{
	(void)state;
	struct tr_run t;
	char buf[PT_TAG_DISPLAY_MAX];
	tr_run_str(&t, docs_screen, NULL, NULL);
	assert_int_equal(t.rc, 0);
	assert_string_equal(t.r->ops->name, "poolmon");
	assert_true(t.r->meta.snapshot_only);
	assert_int_equal(t.n, 4);
	struct pt_event *e = &t.evs[0].ev;
	assert_int_equal(e->kind, PT_EV_SNAPSHOT);
	assert_string_equal(tr_tag(&t, 0, buf, sizeof(buf)), "CM  ");
	assert_int_equal(e->pool, PT_POOL_PAGED);
	assert_int_equal(e->snap_allocs, 1283);
	assert_int_equal(e->snap_frees, 1002);
	assert_int_equal(e->size, 1377312);
	assert_int_equal(e->ts_ns, 0);
	e = &t.evs[1].ev;
	assert_string_equal(tr_tag(&t, 1, buf, sizeof(buf)), "Strg");
	assert_int_equal(e->snap_allocs, 10385);
	assert_int_equal(e->snap_frees, 6658);
	assert_int_equal(e->size, 317952);
	assert_int_equal(t.evs[2].ev.pool, PT_POOL_NONPAGED);
	assert_string_equal(tr_tag(&t, 3, buf, sizeof(buf)), "Io  ");
	/* the same tag as a Windows ULONG from the trace readers */
	pt_tag_id id;
	assert_int_equal(pt_tags_intern_u32(t.tags, 0x67727453, &id), 0); /* "Strg" */
	assert_int_equal(id, t.evs[1].ev.tag);
	assert_int_equal(t.r->skipped_bad, 0);
	tr_free(&t);
}

/* Two screens, no time anywhere: --snapshot-interval or a clear error. */
static const char two_screens[] =
	" Tag  Type     Allocs            Frees            Diff   Bytes       Per Alloc\n"
	" Leak Nonp        120 (   0)        100 (   0)       20      5120 (     0)    256\n"
	"\n"
	" Tag  Type     Allocs            Frees            Diff   Bytes       Per Alloc\n"
	" Leak Nonp        760 ( 640)        100 (   0)      660    168960 (163840)    256\n";

static void test_interval(void **state)
{
	(void)state;
	struct tr_run t;
	tr_run_str(&t, two_screens, "poolmon", NULL);
	assert_int_equal(t.rc, PT_EUSAGE);
	assert_non_null(strstr(t.err, "--snapshot-interval"));
	assert_non_null(strstr(t.err, "test.txt:1:"));
	tr_free(&t);

	uint64_t ns;
	assert_int_equal(pt_parse_duration("30m", &ns), 0);
	struct pt_reader_opts o = {.snapshot_interval_s = (double)ns / 1e9};
	tr_run_str(&t, two_screens, NULL, &o);
	assert_int_equal(t.rc, 0);
	assert_int_equal(t.n, 2);
	assert_int_equal(t.evs[0].ev.ts_ns, 0);
	assert_int_equal(t.evs[1].ev.ts_ns, 1800 * SEC);
	assert_int_equal(t.evs[1].ev.snap_allocs, 760);
	assert_false(t.r->meta.has_start_time);
	tr_free(&t);
}

static const char timed[] =
	"C:\\tools> date /t\r\n"
	"Wed 05/01/2024\r\n"
	"C:\\tools> time /t\r\n"
	"11:30 PM\r\n"
	" Leak Nonp \t 120 100 20 5120 256\r\n"
	"=== 2024-05-02 00:15:30 ===\r\n"
	" Leak\tNonp\t 130\t100\t30\t7680\t256\r\n"
	"2024-05-02T01:00:00Z\r\n"
	" Leak Nonp 140 100 40 10240 256\r\n";

static void test_timestamp_lines(void **state)
{
	(void)state;
	struct tr_run t;
	tr_run_str(&t, timed, NULL, NULL);
	assert_int_equal(t.rc, 0);
	assert_int_equal(t.n, 3);
	assert_int_equal(t.evs[0].ev.ts_ns, 0);
	assert_int_equal(t.evs[1].ev.ts_ns, 45 * 60 * SEC + 30 * SEC);
	assert_int_equal(t.evs[2].ev.ts_ns, 90 * 60 * SEC);
	assert_true(t.r->meta.has_start_time);
	/* 2024-05-01 23:30 as written */
	assert_int_equal(t.r->meta.start_unix_ns, 1714606200ll * (int64_t)SEC);
	tr_free(&t);

	/* times of day only: past midnight is the next day */
	tr_run_str(&t,
		   "23:30\n Leak Nonp 1 0 1 256 256\n00:00:00\n Leak Nonp 2 0 2 512 256\n"
		   "0:30:15.5\n Leak Nonp 3 0 3 768 256\n",
		   NULL, NULL);
	assert_int_equal(t.rc, 0);
	assert_int_equal(t.n, 3);
	assert_int_equal(t.evs[1].ev.ts_ns, 30 * 60 * SEC);
	assert_int_equal(t.evs[2].ev.ts_ns, 60 * 60 * SEC + 15 * SEC + SEC / 2);
	assert_false(t.r->meta.has_start_time);
	tr_free(&t);
}

static const char notepad[] =
	" Tag  Type     Allocs            Frees            Diff   Bytes       Per Alloc\n"
	" Strg Paged      10385 (  10)      6658 (   4)     3727   317952 (   512)\n"
	"     85\n"
	" MmSt Paged     283112 (   0)     276992 (   0)     6120   6266880 (     0)   10\n"
	"24  nt!\n"
	" Ntfx Nonp      312004 (   0)     310200 (   0)     1804   3175\n"
	"\n"
	" File Nonp      902117 (   0)     899707 (   0)     2410    886880 (     0)    999\n"
	" Even Nonp    1201331 (   0)    1192121 (   0)     9210    884160 (     0)     96\n"
	" Irp  Nonp    2210458 (   0)    2210148 (   0)      310    168640 (\n";

static void test_notepad_artefacts(void **state)
{
	(void)state;
	struct tr_run t;
	char buf[PT_TAG_DISPLAY_MAX];
	char *crlf = tr_crlf(notepad);
	tr_run_str(&t, crlf, NULL, NULL);
	assert_int_equal(t.rc, 0);
	assert_int_equal(t.n, 3);
	/* wrapped after a space, and inside a number */
	assert_string_equal(tr_tag(&t, 0, buf, sizeof(buf)), "Strg");
	assert_int_equal(t.evs[0].ev.size, 317952);
	assert_string_equal(tr_tag(&t, 1, buf, sizeof(buf)), "MmSt");
	assert_int_equal(t.evs[1].ev.size, 6266880);
	assert_string_equal(tr_tag(&t, 2, buf, sizeof(buf)), "Even");
	/* cut-off Ntfx and Irp, damaged File (Per Alloc 999) */
	assert_int_equal(t.r->skipped_bad, 3);
	assert_true(t.r->warnings >= 5);
	tr_free(&t);
	free(crlf);
}

static const char garbage[] =
	" Leak Nonp 120 100 20 5120 256\n"
	" Note Paged pool looked fine here\n"
	" Strg Paged 10x85 6658 3727 317952 85\n"
	" Wait Nonp 3971107 3971077 30 8456 281\n";

static void test_garbage(void **state)
{
	(void)state;
	struct tr_run t;
	tr_run_str(&t, garbage, "poolmon", NULL);
	assert_int_equal(t.rc, PT_EFORMAT);
	assert_non_null(strstr(t.err, "test.txt:3:"));
	assert_non_null(strstr(t.err, "Allocs"));
	assert_non_null(strstr(t.err, "10x85"));
	tr_free(&t);

	struct pt_reader_opts o = {.keep_going = true};
	tr_run_str(&t, garbage, "poolmon", &o);
	assert_int_equal(t.rc, 0);
	assert_int_equal(t.n, 2);
	assert_int_equal(t.r->skipped_bad, 1);
	tr_free(&t);

	tr_run_str(&t, "nothing to see\nhere\n", "poolmon", NULL);
	assert_int_equal(t.rc, PT_EFORMAT);
	assert_non_null(strstr(t.err, "no PoolMon rows"));
	tr_free(&t);
}

static void test_gzip(void **state)
{
	(void)state;
	struct tr_run t;
	size_t zlen;
	unsigned char *gz = tr_gzip(docs_screen, &zlen);
	tr_run_mem(&t, gz, zlen, "screen.txt.gz", NULL, NULL);
	assert_int_equal(t.rc, 0);
	assert_string_equal(t.r->ops->name, "poolmon");
	assert_int_equal(t.n, 4);
	assert_int_equal(t.evs[3].ev.snap_allocs, 1021112);
	tr_free(&t);
	free(gz);
}

/* The committed folder: one poolmon /n log per 30 minutes, time in the file name. */
static void test_sample_folder(void **state)
{
	(void)state;
	struct tr_run t;
	char buf[PT_TAG_DISPLAY_MAX];
	tr_run_path(&t, PT_SOURCE_DIR "/sample-traces/poolmon", NULL, NULL);
	assert_int_equal(t.rc, 0);
	assert_string_equal(t.r->ops->name, "poolmon");
	assert_true(t.r->meta.has_start_time);
	assert_int_equal(t.r->meta.start_unix_ns, 1714557600ll * (int64_t)SEC);
	assert_int_equal(pt_input_file_count(t.r->in), 8);
	uint64_t leak_first = 0, leak_last = 0;
	size_t snaps = 0;
	uint64_t last_ts = UINT64_MAX;
	for (size_t i = 0; i < t.n; i++) {
		if (t.evs[i].ev.ts_ns != last_ts) {
			assert_true(last_ts == UINT64_MAX || t.evs[i].ev.ts_ns == last_ts + 1800 * SEC);
			last_ts = t.evs[i].ev.ts_ns;
			snaps++;
		}
		if (!strcmp(tr_tag(&t, i, buf, sizeof(buf)), "Leak")) {
			if (!leak_first)
				leak_first = t.evs[i].ev.size;
			leak_last = t.evs[i].ev.size;
		}
	}
	assert_int_equal(snaps, 8);
	assert_int_equal(last_ts, 7 * 1800 * SEC);
	assert_true(leak_last > leak_first * 10);
	assert_int_equal(t.r->skipped_bad, 0);
	tr_free(&t);

	tr_run_path(&t, PT_SOURCE_DIR "/sample-traces/poolmon-screens.txt", NULL, NULL);
	assert_int_equal(t.rc, 0);
	assert_string_equal(t.r->ops->name, "poolmon");
	assert_int_equal(t.n, 6 * 20);
	assert_int_equal(t.evs[t.n - 1].ev.ts_ns, 5 * 1800 * SEC);
	assert_int_equal(t.r->skipped_bad, 0);
	tr_free(&t);
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void make_dir(const char *path)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(mkdir(path, 0755), 0);
}

/* File-name times of several spellings; a gzip file among plain ones; hidden files skipped. */
static void test_folder_names(void **state)
{
	(void)state;
	const char *dir = PT_BINARY_DIR "/poolmon-names";
	char path[1024];
	make_dir(dir);
	static const char *const names[] = {
		"a_2024-05-01_10-00.txt", "b_2024-05-01_10-30-00.txt", "c-20240501T1100.log",
		"d_202405011130.log",
	};
	for (size_t i = 0; i < 4; i++) {
		char text[128];
		snprintf(text, sizeof(text), " Leak Nonp %zu 0 %zu %zu 256\n", 10 * (i + 1),
			 10 * (i + 1), 2560 * (i + 1));
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (i == 2) {
			size_t zlen;
			unsigned char *gz = tr_gzip(text, &zlen);
			write_file(path, gz, zlen);
			free(gz);
		} else {
			write_file(path, text, strlen(text));
		}
	}
	snprintf(path, sizeof(path), "%s/.hidden", dir);
	write_file(path, "junk\n", 5);

	struct tr_run t;
	tr_run_path(&t, dir, NULL, NULL);
	assert_int_equal(t.rc, 0);
	assert_int_equal(t.n, 4);
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(t.evs[i].ev.ts_ns, i * 1800 * SEC);
		assert_int_equal(t.evs[i].ev.snap_allocs, 10 * (i + 1));
	}
	tr_free(&t);

	/* numbered files carry no time: the interval, or the error */
	make_dir(dir);
	for (int i = 1; i <= 3; i++) {
		snprintf(path, sizeof(path), "%s/snap_%04d.log", dir, i);
		write_file(path, " Leak Nonp 1 0 1 256 256\n", 25);
	}
	tr_run_path(&t, dir, NULL, NULL);
	assert_int_equal(t.rc, PT_EUSAGE);
	assert_non_null(strstr(t.err, "snap_0001.log:1:"));
	assert_non_null(strstr(t.err, "--snapshot-interval"));
	tr_free(&t);
	struct pt_reader_opts o = {.snapshot_interval_s = 60};
	tr_run_path(&t, dir, NULL, &o);
	assert_int_equal(t.rc, 0);
	assert_int_equal(t.n, 3);
	assert_int_equal(t.evs[2].ev.ts_ns, 120 * SEC);
	tr_free(&t);
}

/* The chained input itself: names, line numbers and boundaries per file. */
static void test_input_chain(void **state)
{
	(void)state;
	const char *dir = PT_BINARY_DIR "/input-chain";
	char p1[1024], p2[1024], p3[1024];
	make_dir(dir);
	snprintf(p1, sizeof(p1), "%s/one.txt", dir);
	snprintf(p2, sizeof(p2), "%s/empty.txt", dir);
	snprintf(p3, sizeof(p3), "%s/two.txt.gz", dir);
	write_file(p1, "a\nb", 3);
	write_file(p2, "", 0);
	size_t zlen;
	unsigned char *gz = tr_gzip("c\r\nd\n", &zlen);
	write_file(p3, gz, zlen);
	free(gz);

	const char *paths[] = {p1, p2, p3};
	struct pt_input *in;
	char err[256];
	assert_int_equal(pt_input_open_many(&in, paths, 3, err, sizeof(err)), 0);
	assert_int_equal(pt_input_file_count(in), 3);
	char *line;
	size_t len;
	assert_int_equal(pt_input_getline(in, &line, &len, 100), 1);
	assert_string_equal(line, "a");
	assert_false(pt_input_take_boundary(in));
	assert_int_equal(pt_input_getline(in, &line, &len, 100), 1);
	assert_string_equal(line, "b");
	assert_int_equal(pt_input_lineno(in), 2);
	assert_int_equal(pt_input_getline(in, &line, &len, 100), 1);
	assert_string_equal(line, "c");
	assert_true(pt_input_take_boundary(in));
	assert_false(pt_input_take_boundary(in));
	assert_int_equal(pt_input_lineno(in), 1);
	assert_string_equal(pt_input_name(in), p3);
	assert_int_equal(pt_input_file_index(in), 2);
	assert_true(pt_input_is_gzip(in));
	assert_int_equal(pt_input_getline(in, &line, &len, 100), 1);
	assert_string_equal(line, "d");
	assert_int_equal(pt_input_getline(in, &line, &len, 100), 0);
	assert_int_equal(pt_input_offset(in), 3 + 5);
	pt_input_free(in);

	/* a missing file in the middle is an error when reading reaches it */
	const char *bad[] = {p1, "/nonexistent/pooltrace-test-file"};
	assert_int_equal(pt_input_open_many(&in, bad, 2, err, sizeof(err)), 0);
	int rc;
	while ((rc = pt_input_getline(in, &line, &len, 100)) > 0)
		;
	assert_int_equal(rc, PT_EOPEN);
	assert_non_null(strstr(pt_input_error(in), "pooltrace-test-file"));
	pt_input_free(in);

	/* an empty folder */
	make_dir(dir);
	assert_int_equal(pt_input_open(&in, dir, err, sizeof(err)), PT_EOPEN);
	assert_non_null(strstr(err, "no files"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_docs_screen),
		cmocka_unit_test(test_interval),
		cmocka_unit_test(test_timestamp_lines),
		cmocka_unit_test(test_notepad_artefacts),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_gzip),
		cmocka_unit_test(test_sample_folder),
		cmocka_unit_test(test_folder_names),
		cmocka_unit_test(test_input_chain),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
