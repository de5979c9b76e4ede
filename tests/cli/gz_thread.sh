#!/bin/bash
# SPDX-License-Identifier: MIT
# Gzip traces inflated in a thread of their own (files of 1 MiB and more,
# standard input) give the same report, warnings, errors and exit code as
# inflated inline (POOLTRACE_THREADS=1): whole, cut short, damaged; tracerpt
# XML, ETL and native; a file, standard input and a directory of two files.
set -u
fail() { echo "FAIL: $*"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cat >"$work/scn" <<'EOF'
seed 7
duration 300s
workload-end 250s
marker 0s workload-start
marker 250s workload-end
tag Irp  nonpaged rate=6000/s size=160..480 lifetime=5ms..200ms
tag File paged    rate=5000/s size=64..512  lifetime=10ms..2s
tag Mdl  nonpaged rate=4000/s size=32..256  lifetime=1ms..50ms
tag Leak nonpaged rate=200/s  size=256      lifetime=forever
tag Ntfx paged    rate=1500/s size=1k..4k   lifetime=100ms..5s
EOF
"$PT_BIN/tools/pt-gen" "$work/scn" --format xml -z --max-events 80000 -o "$work/xml.gz" ||
	fail "pt-gen"
"$PT_BIN/tools/pt-etlgen" -n 150000 -o "$work/g.etl" >/dev/null || fail "pt-etlgen"
gzip -c "$work/g.etl" >"$work/etl.gz"

# run "$@" inline and threaded; the two must agree in every byte and the exit
# code; with "gzip-error" first, in the exit code and the gzip error only (the
# bytes of the failing inflate call are dropped, so a reader may meet the error
# a block earlier or later and say so at its own offset)
same() {
	local errors_only=
	[ "$1" = gzip-error ] && { errors_only=1; shift; }
	local what=$1 stdin=$2
	shift 2
	POOLTRACE_THREADS=1 "$POOLTRACE" "$@" <"$stdin" >"$work/1.out" 2>"$work/1.err"
	local rc1=$?
	POOLTRACE_THREADS=2 "$POOLTRACE" "$@" <"$stdin" >"$work/2.out" 2>"$work/2.err"
	local rc2=$?
	[ $rc1 -eq $rc2 ] || fail "$what: exit $rc1 inline, $rc2 threaded: $(cat "$work/2.err")"
	if [ -n "$errors_only" ]; then
		local g1 g2
		g1=$(grep -o 'corrupt gzip data at offset.*' "$work/1.err")
		g2=$(grep -o 'corrupt gzip data at offset.*' "$work/2.err")
		[ -n "$g1" ] && [ "$g1" = "$g2" ] ||
			fail "$what: gzip errors differ: $(cat "$work/1.err") / $(cat "$work/2.err")"
	else
		cmp -s "$work/1.out" "$work/2.out" ||
			fail "$what: reports differ: $(diff "$work/1.out" "$work/2.out" | head -5)"
		cmp -s "$work/1.err" "$work/2.err" ||
			fail "$what: messages differ: $(cat "$work/1.err") / $(cat "$work/2.err")"
	fi
	echo "$what: exit $rc1, $(wc -c <"$work/1.out") bytes of report, same $(head -c 120 "$work/1.err")"
}

for f in xml etl; do
	gz="$work/$f.gz"
	size=$(stat -c %s "$gz")
	[ "$size" -ge 1048576 ] || fail "$f: $size bytes compressed, want 1 MiB or more"
	same "$f whole" /dev/null report --json "$gz"
	[ $f = etl ] && same "$f stdin" "$gz" report -
	for pct in 40 80; do
		n=$((size * pct / 100))
		head -c $n "$gz" >"$work/cut.gz"
		if [ $pct = 40 ]; then
			same "$f cut at $n, stdin" "$work/cut.gz" report -
		else
			same "$f cut at $n" /dev/null report "$work/cut.gz"
		fi
		grep -q "compressed data cut short at offset $n; read up to there" "$work/2.err" ||
			fail "$f cut at $n: no cut-short warning: $(cat "$work/2.err")"
	done
	for at in $((size / 2)) $((size - 8)); do
		cp "$gz" "$work/bad.gz"
		printf '\252\252\252\252' | dd of="$work/bad.gz" bs=1 seek=$at conv=notrunc 2>/dev/null
		if [ $at -eq $((size - 8)) ]; then
			same gzip-error "$f damaged at $at" /dev/null report "$work/bad.gz"
			grep -q "corrupt gzip data at offset .*: incorrect data check" "$work/2.err" ||
				fail "$f damaged checksum: $(cat "$work/2.err")"
		elif [ $f = etl ]; then
			same gzip-error "$f damaged at $at, stdin" "$work/bad.gz" report -
		else
			# the XML parser meets the damaged bytes first
			same "$f damaged at $at, stdin" "$work/bad.gz" report -
		fi
	done
done

# a native trace stops reading at its trailer: damage found by the member's
# checksum still fails the run, threaded as inline, also with --keep-going
"$POOLTRACE" convert -q "$work/g.etl" -o "$work/g.ptz" || fail "convert to native"
gzip -c "$work/g.ptz" >"$work/native.gz"
size=$(stat -c %s "$work/native.gz")
[ "$size" -ge 1048576 ] || fail "native: $size bytes compressed, want 1 MiB or more"
same "native whole" /dev/null report "$work/native.gz"
cp "$work/native.gz" "$work/bad.gz"
printf '\252\252\252\252' | dd of="$work/bad.gz" bs=1 seek=$((size - 8)) conv=notrunc 2>/dev/null
for kg in "" --keep-going; do
	same gzip-error "native damaged checksum $kg" /dev/null report $kg "$work/bad.gz"
	POOLTRACE_THREADS=2 "$POOLTRACE" report $kg "$work/bad.gz" >/dev/null 2>&1
	[ $? -eq 2 ] || fail "native damaged checksum $kg: not exit 2"
done

# a directory of two gzip files, one after the other
mkdir "$work/dir"
cp "$work/etl.gz" "$work/dir/a.gz"
cp "$work/etl.gz" "$work/dir/b.gz"
same "directory" /dev/null info "$work/dir"
echo "OK"
