#!/bin/bash
# SPDX-License-Identifier: MIT
# All benchmarks in one run: builds its own Release tree (build-bench/),
# generates the traces with fixed seeds into a temporary folder (deleted at
# the end), times `pooltrace report` on each next to a baseline measured in
# the same run, and prints a markdown table.
#
# Usage: bench/run-all.sh [--write]
#   --write   also append the results to docs/performance.md
# Environment:
#   EVENTS=N       events of the churn traces (default 1000000; the issue's
#                  size is EVENTS=10000000)
#   XML_EVENTS=N   events of the XML traces (default EVENTS; 10 M events are
#                  12.5 GB of XML and take most of an hour on a loaded machine)
#   WIDE_TAGS=N    tags of the wide trace (default 50000; pt-gen takes at most 65536)
#   WIDE_LIVE=N    live allocations of the wide trace (default 5000000)
#   MEM_EVENTS="A B"  the two sizes of the memory-flatness check (default "1000000 4000000")
#   RUNS=N         runs per measurement, the median is shown (default 3)
#   BUILD=DIR      build tree (default build-bench)
# Every pooltrace case is timed twice: as it runs by default (a reader thread
# next to the replay when there are two CPUs) and with POOLTRACE_THREADS=1
# (one thread: its CPU time is the cost per core).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
write=0
[ "${1:-}" = --write ] && write=1
events=${EVENTS:-1000000}
xml_events=${XML_EVENTS:-$events}
wide_tags=${WIDE_TAGS:-50000}
wide_live=${WIDE_LIVE:-5000000}
mem_events=${MEM_EVENTS:-"1000000 4000000"}
runs=${RUNS:-3}
build=${BUILD:-$here/build-bench}

echo "building Release tree in $build ..." >&2
cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j2 >/dev/null
pt="$build/analyze/pooltrace"
gen="$build/tools/pt-gen"
for t in xmllint gzip /usr/bin/time; do
	command -v "$t" >/dev/null || { echo "missing: $t" >&2; exit 2; }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

# churn: five busy tags and one leaking, 300 s (about 10.04 M pool events in
# all, so EVENTS=10000000 gives exactly 10 M); the traces are cut at N events
cat >"$tmp/churn.scn" <<'SCN'
seed 7
duration 300s
workload-end 250s
marker 0s workload-start
marker 250s workload-end
tag Irp  nonpaged rate=7260/s size=160..480 lifetime=5ms..200ms
tag File paged    rate=6050/s size=64..512  lifetime=10ms..2s
tag Mdl  nonpaged rate=4840/s size=32..256  lifetime=1ms..50ms
tag Leak nonpaged rate=242/s  size=256      lifetime=forever
tag Ntfx paged    rate=1815/s size=1k..4k   lifetime=100ms..5s
SCN

# wide: many tags (4 hex digits each), every allocation kept (lifetime=forever);
# allocations happen in the workload (8 of 10 s), so the rate gives WIDE_LIVE
awk -v n="$wide_tags" -v live="$wide_live" 'BEGIN {
	print "seed 11"; print "duration 10s"; print "workload-end 8s"
	r = live / n / 8; if (r < 0.1) r = 0.1
	for (i = 0; i < n; i++)
		printf "tag %04X %s rate=%.3f/s size=32..4k lifetime=forever\n", i, (i % 2 ? "paged" : "nonpaged"), r
}' >"$tmp/wide.scn"
# tags: as many tags, each allocation freed soon (state per tag, no live set)
awk -v n="$wide_tags" 'BEGIN {
	print "seed 12"; print "duration 10s"
	for (i = 0; i < n; i++)
		printf "tag %04X nonpaged rate=2/s size=64 lifetime=1ms\n", i
}' >"$tmp/tags.scn"
# tiny: the fixed cost of a run
cp "$here/sample-traces/demo.scn" "$tmp/tiny.scn"

echo "generating traces (EVENTS=$events) ..." >&2
"$gen" "$tmp/churn.scn" --format etl -o "$tmp/churn.etl" --max-events "$events"
"$gen" "$tmp/churn.scn" --format etl-xpress -o "$tmp/churn-xpress.etl" --max-events "$events"
gzip -c "$tmp/churn.etl" >"$tmp/churn.etl.gz"
"$gen" "$tmp/churn.scn" --format xml -o "$tmp/churn.xml" --max-events "$xml_events"
gzip -c "$tmp/churn.xml" >"$tmp/churn.xml.gz"
"$pt" convert -q "$tmp/churn.etl" -o "$tmp/churn.ptz"
"$gen" "$tmp/wide.scn" --format etl -o "$tmp/wide.etl"
"$gen" "$tmp/tags.scn" --format etl -o "$tmp/tags.etl"
"$gen" "$tmp/tiny.scn" --format etl -o "$tmp/tiny.etl"
for m in $mem_events; do
	"$gen" "$tmp/churn.scn" --format etl -o "$tmp/mem-$m.etl" --max-events "$m"
done

# median of $runs runs: "wall cpu rss_kb" (cpu = user + sys)
measure() {
	local f="$tmp/m.$$" i
	: >"$f"
	for i in $(seq "$runs"); do
		/usr/bin/time -o "$tmp/t" -f '%e %U %S %M' "$@" >/dev/null 2>&1 || true
		awk '{ printf "%s %.2f %s\n", $1, $2 + $3, $4 }' "$tmp/t" >>"$f"
	done
	local w c m
	w=$(cut -d' ' -f1 "$f" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
	c=$(cut -d' ' -f2 "$f" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
	m=$(cut -d' ' -f3 "$f" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
	echo "$w $c $m"
}
events_of() { "$pt" info "$1" | awk '$1 == "events:" { print $2 }'; }

rows=""
# case name, file, baseline label, baseline command...
bench_case() {
	local name=$1 file=$2 blabel=$3
	shift 3
	local n size p b
	n=$(events_of "$file")
	size=$(stat -c %s "$file")
	cat "$file" >/dev/null
	echo "  $name ..." >&2
	p=$(measure "$pt" report --fail-on never "$file")
	q=$(POOLTRACE_THREADS=1 measure "$pt" report --fail-on never "$file")
	b=$(measure "$@")
	rows+=$(awk -v name="$name" -v n="$n" -v s="$size" -v p="$p" -v q="$q" -v b="$b" -v bl="$blabel" 'BEGIN {
		split(p, P, " "); split(q, Q, " "); split(b, B, " ")
		w = P[1] > 0 ? P[1] : 0.01; c = P[2] > 0 ? P[2] : 0.01; qc = Q[2] > 0 ? Q[2] : 0.01
		bw = B[1] > 0 ? B[1] : 0.01; bc = B[2] > 0 ? B[2] : 0.01
		printf "| %s | %.2f | %.1f | %.2f / %.2f | %.2f | %.2f / %.2f | **%.2f** | %.0f | %s: %.2f / %.2f | %.2f | %.2f |\n",
			name, n / 1e6, s / 1e6, P[1], P[2], n / w / 1e6, Q[1], Q[2], n / qc / 1e6, P[3] / 1024,
			bl, B[1], B[2], P[1] / bw, Q[2] / bc
	}')$'\n'
}

echo "measuring (median of $runs) ..." >&2
bench_case "ETL 64-bit" "$tmp/churn.etl" cat cat "$tmp/churn.etl"
bench_case "ETL XPRESS" "$tmp/churn-xpress.etl" cat cat "$tmp/churn-xpress.etl"
bench_case "ETL gzip" "$tmp/churn.etl.gz" "gzip -dc" gzip -dc "$tmp/churn.etl.gz"
bench_case "native .ptz" "$tmp/churn.ptz" cat cat "$tmp/churn.ptz"
bench_case "tracerpt XML" "$tmp/churn.xml" xmllint xmllint --stream --noout "$tmp/churn.xml"
bench_case "tracerpt XML gzip" "$tmp/churn.xml.gz" "gzip -dc" gzip -dc "$tmp/churn.xml.gz"
bench_case "wide ETL ($wide_tags tags)" "$tmp/wide.etl" cat cat "$tmp/wide.etl"

# records/s on the public kernel sample (`pooltrace info`, all records read)
airbus="$here/sample-traces/etl/airbus_ShutdownPerfDiagLogger.etl"
airbus_line=""
if [ -f "$airbus" ]; then
	recs=$("$pt" info "$airbus" | awk '$1 == "records:" { print $2; exit }')
	a=$(measure "$pt" info "$airbus")
	airbus_line=$(awk -v r="$recs" -v a="$a" 'BEGIN { split(a, A, " ")
		w = A[1] > 0 ? A[1] : 0.01; c = A[2] > 0 ? A[2] : 0.01
		printf "`pooltrace info` on airbus_ShutdownPerfDiagLogger.etl: %d records, %.2f s wall / %.2f s CPU (%.0f k records/s wall, %.0f k records/s CPU; timer resolution 10 ms, process start included)", r, A[1], A[2], r / w / 1e3, r / c / 1e3 }')
	# the reader alone, 200 reads in one process (no process start in the figure)
	if [ -x "$build/tools/pt-etlbench" ]; then
		eb=$("$build/tools/pt-etlbench" "$airbus" 200 | awk '/records\/s/ { print }')
		airbus_line+=$'\n\n'"\`pt-etlbench\` (reader only), the same file read 200 times in one process: $eb"
	fi
fi

# memory: RSS of the same churn scenario at two sizes, and the state per tag / live allocation
echo "  memory ..." >&2
mem_lines=""
for m in $mem_events; do
	r=$(measure "$pt" report --fail-on never "$tmp/mem-$m.etl")
	mem_lines+="- churn, $(events_of "$tmp/mem-$m.etl") events: peak RSS $(awk -v r="$r" 'BEGIN { split(r, R, " "); printf "%.1f MB", R[3] / 1024 }')"$'\n'
done
tiny=$(measure "$pt" report --fail-on never "$tmp/tiny.etl")
tags=$(measure "$pt" report --fail-on never "$tmp/tags.etl")
wide=$(measure "$pt" report --fail-on never "$tmp/wide.etl")
live=$("$pt" info "$tmp/wide.etl" | awk '$1 == "alloc" { print $2; exit }')
mem_lines+=$(awk -v t="$tiny" -v g="$tags" -v w="$wide" -v n="$wide_tags" -v live="$live" 'BEGIN {
	split(t, T, " "); split(g, G, " "); split(w, W, " ")
	pertag = (G[3] - T[3]) * 1024 / n
	perlive = ((W[3] - T[3]) * 1024 - n * pertag) / live
	printf "- tiny trace (demo.scn): peak RSS %.1f MB\n", T[3] / 1024
	printf "- %d tags, nothing live at the end: peak RSS %.1f MB, about %.0f bytes per tag\n", n, G[3] / 1024, pertag
	printf "- %d tags, %d live allocations: peak RSS %.1f MB, about %.0f bytes per live allocation\n", n, live, W[3] / 1024, perlive
}')

load_end=$(cut -d' ' -f1-3 /proc/loadavg)
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
out=$(cat <<MD
### Run of $(date -u +%Y-%m-%dT%H:%MZ)

Machine: $(nproc) cores, $cpu; load average (1/5/15 min) $load_start at start, $load_end at the end.
Commit $(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo unknown); \`bench/run-all.sh\` with EVENTS=$events XML_EVENTS=$xml_events RUNS=$runs WIDE_TAGS=$wide_tags WIDE_LIVE=$wide_live.
Times are the median of $runs runs of \`pooltrace report --fail-on never FILE > /dev/null\` and of the
baseline, from the page cache, as "wall / CPU (user+sys)" seconds. "2 threads" is the default run
(reader thread + replay), "1 thread" the same with POOLTRACE_THREADS=1; M events/s wall from the
default run, M events/s per core from the one-thread CPU time. Ratio wall: default run / baseline;
ratio CPU: one-thread CPU / baseline CPU.

| case | M events | MB | 2 threads s (wall / CPU) | M events/s wall | 1 thread s (wall / CPU) | M events/s per core | peak RSS MB | baseline s (wall / CPU) | ratio wall | ratio CPU |
|---|---|---|---|---|---|---|---|---|---|---|
${rows}
${airbus_line}

Memory (peak RSS, median of $runs):
${mem_lines}

MD
)
echo "$out"
if [ "$write" = 1 ]; then
	printf '\n%s\n' "$out" >>"$here/docs/performance.md"
	echo "appended to docs/performance.md" >&2
fi
