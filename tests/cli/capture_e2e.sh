#!/bin/bash
# SPDX-License-Identifier: MIT
# pooltrace-capture end to end (Linux, root): a workload that keeps kernel
# objects past the cool-down is flagged, one that closes them is not; Ctrl-C,
# SIGKILL and --mark leave readable traces.
set -u
fail() { echo "FAIL: $*"; exit 1; }
CAP="$PT_BIN/capture/pooltrace-capture"
HELPER="$PT_BIN/tests/leaky-helper"
if [ "$(id -u)" != 0 ]; then
	echo "SKIP: capture_e2e needs root for kernel tracing; run the tests as root to include it"
	exit 0
fi
[ -x "$CAP" ] || { echo "SKIP: pooltrace-capture is not built on this platform"; exit 0; }
[ -x "$HELPER" ] || fail "leaky-helper not built"

# one end-to-end run at a time on a machine: a concurrent leak run would show in our clean run
exec 9>/run/lock/pooltrace-capture-e2e.lock
flock -w 300 9 || fail "another capture end-to-end test holds the lock for too long"

work=$(mktemp -d)
holder=
cleanup() {
	[ -n "$holder" ] && kill "$holder" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
ctl="$work/ctl"
N=500
# background activity on the machine may grow a cache a little; 500 eventfds are far above this
MIN="--min-leak-bytes 8k"

# 1. leak: the holder keeps N eventfds open past the end of the capture
"$CAP" -o "$work/leak.ptz" --cooldown 5s --control "$ctl" -- \
	"$HELPER" leak $N 60 "$work/holder.pid" 2>"$work/cap.err" || fail "capture (leak): $(cat "$work/cap.err")"
holder=$(cat "$work/holder.pid")
grep -q "events written" "$work/cap.err" || fail "no summary line"
cat "$work/cap.err"
"$POOLTRACE" report $MIN "$work/leak.ptz" >"$work/leak.txt" 2>"$work/rep.err"
rc=$?
[ $rc -eq 1 ] || fail "report on the leak run: exit $rc (want 1): $(cat "$work/rep.err")"
grep -q 'marker "workload-start' "$work/leak.txt" || fail "workload-start marker not used for the phases"
grep -q 'marker "workload-end' "$work/leak.txt" || fail "workload-end marker not used for the phases"
grep -Eq '^ LEAK +do_eventfd ' "$work/leak.txt" || { cat "$work/leak.txt"; fail "do_eventfd (kmalloc call site) not flagged"; }
grep -Eq '^ LEAK +filp ' "$work/leak.txt" || { cat "$work/leak.txt"; fail "filp cache not flagged"; }
grep -E '^ (LEAK|SUSPECT) ' "$work/leak.txt" | grep -E 'do_eventfd|filp|dentry'
kill "$holder" 2>/dev/null
holder=

# 2. clean: the same objects, closed before the workload ends
"$CAP" -o "$work/clean.ptz" --cooldown 5s --control "$ctl" -- \
	"$HELPER" clean $N 2>"$work/cap.err" || fail "capture (clean): $(cat "$work/cap.err")"
"$POOLTRACE" report $MIN "$work/clean.ptz" >"$work/clean.txt" 2>"$work/rep.err"
rc=$?
[ $rc -le 1 ] || fail "report on the clean run: exit $rc: $(cat "$work/rep.err")"
grep -q 'marker "workload-end' "$work/clean.txt" || fail "clean run: no workload-end marker"
grep -Eq '^ +do_eventfd +Kmalloc +[0-9]{3}' "$work/clean.txt" || { cat "$work/clean.txt"; fail "clean run: eventfd allocations not recorded"; }
if grep -Eq '^ (LEAK|SUSPECT) +do_eventfd ' "$work/clean.txt"; then
	cat "$work/cap.err"
	grep -E '^(Events|Account|Phases):|do_eventfd' "$work/clean.txt"
	fail "clean run: do_eventfd flagged"
fi

# 3. Ctrl-C without a command, with --mark from another process
"$CAP" -o "$work/int.ptz" --control "$ctl" 2>"$work/int.err" &
cap=$!
# wait until the capture listens (set-up takes longer on a loaded machine, and tens of
# seconds under sanitizers: loading the event formats)
for i in $(seq 600); do
	"$CAP" --mark workload-start --control "$ctl" 2>/dev/null && break
	[ $i -eq 600 ] && fail "--mark to a running capture: $(cat "$work/int.err")"
	sleep 0.1
done
sleep 0.5
"$CAP" --mark "workload-end: by hand" --control "$ctl" || fail "--mark to a running capture"
sleep 0.5
kill -INT $cap
wait $cap || fail "capture stopped by SIGINT: exit $?: $(cat "$work/int.err")"
grep -q "signal SIGINT" "$work/int.err" || fail "stop reason not reported"
"$POOLTRACE" report "$work/int.ptz" >"$work/int.txt" 2>"$work/rep.err"
rc=$?
[ $rc -le 1 ] || fail "report after SIGINT: exit $rc: $(cat "$work/rep.err")"
grep -q warning "$work/rep.err" && fail "warnings reading a trace stopped by SIGINT: $(cat "$work/rep.err")"
grep -q 'marker "workload-end: by hand"' "$work/int.txt" || fail "--mark text not in the trace"
"$CAP" --mark hello --control "$work/nosuch" 2>/dev/null && fail "--mark without a capture must fail"

# 4. SIGKILL: the file reads back up to the last whole chunk, with a warning
"$CAP" -o "$work/kill.ptz" --control "$ctl" 2>/dev/null &
cap=$!
# kill it once the file holds its header and at least one chunk after it (set-up
# and the first flush take longer on a loaded machine or under sanitizers)
size() { stat -c %s "$work/kill.ptz" 2>/dev/null || echo 0; }
first=0
for i in $(seq 600); do
	sz=$(size)
	[ "$first" -eq 0 ] && [ "$sz" -gt 0 ] && first=$sz
	[ "$first" -gt 0 ] && [ "$sz" -gt "$first" ] && break
	kill -0 $cap 2>/dev/null || fail "capture for the SIGKILL check exited early"
	sleep 0.1
done
[ "$(size)" -gt "$first" ] || fail "capture wrote no chunk within 60 s"
sleep 0.5
kill -KILL $cap
wait $cap 2>/dev/null
"$POOLTRACE" report "$work/kill.ptz" >"$work/kill.txt" 2>"$work/rep.err"
rc=$?
[ $rc -le 1 ] || fail "report after SIGKILL: exit $rc: $(cat "$work/rep.err")"
grep -q "cut short" "$work/rep.err" || fail "no cut-short warning after SIGKILL: $(cat "$work/rep.err")"
grep -Eq 'Events: +[1-9]' "$work/kill.txt" || fail "no events read back after SIGKILL"
# the killed capture's tracing instance is removed by the next capture
"$CAP" -o "$work/after.ptz" --duration 0.5 --control "$ctl" 2>/dev/null || fail "capture after a killed one"
[ -e "/sys/kernel/tracing/instances/pooltrace-capture-$cap" ] && fail "stale instance of the killed capture left"

# 5. tag filter and slabinfo snapshots
"$CAP" -o "$work/tags.ptz" --tags 'do_eventfd,filp' --snapshot-interval 0.5 --cooldown 1s \
	--control "$ctl" -- "$HELPER" clean 100 2>/dev/null || fail "capture with --tags"
"$POOLTRACE" report "$work/tags.ptz" >"$work/tags.txt" 2>/dev/null
awk '$1 == "do_eventfd" && $2 == "Kmalloc" && $3 >= 100 && $4 >= 100 {ok=1} END {exit !ok}' "$work/tags.txt" ||
	{ cat "$work/tags.txt"; fail "--tags: do_eventfd row"; }
grep -Eq '^ +slabinfo:filp +Slab ' "$work/tags.txt" || fail "--snapshot-interval: no slabinfo:filp row"
awk '$1 !~ /^(do_eventfd|filp|slabinfo:filp)$/ && ($2 == "Slab" || $2 == "Kmalloc") {bad=1} END {exit bad}' \
	"$work/tags.txt" || fail "--tags: other tags recorded"
"$CAP" -o "$work/snap.ptz" --snapshots-only --snapshot-interval 0.3 --duration 1 --control "$ctl" \
	2>/dev/null || fail "--snapshots-only"
"$POOLTRACE" report "$work/snap.ptz" >"$work/snap.txt" 2>/dev/null
grep -Eq 'Events: +[0-9]+ \(0 allocs, 0 frees, 0 markers, [1-9][0-9]* snapshot rows\)' "$work/snap.txt" ||
	fail "--snapshots-only: no snapshot rows"

# 6. clear errors
"$CAP" -o /nonexistent-dir/x.ptz --duration 1 --control "$ctl" 2>"$work/err"; [ $? -eq 2 ] || fail "unwritable output: exit 2"
grep -q "choose a writable place" "$work/err" || fail "unwritable output message"
"$CAP" --pool paged 2>"$work/err"; [ $? -eq 2 ] || fail "--pool paged: exit 2"
"$CAP" --help | grep -q -- '--snapshot-interval' || fail "--help lists options"
echo "capture end-to-end: ok"
exit 0
