#!/bin/bash
# SPDX-License-Identifier: MIT
# pooltrace-capture when its output fails (Linux, root, tracefs):
#  1. disk full while recording (a small tmpfs): exit 1, a message naming the
#     file and "disk full"; the file keeps every chunk completed before and no
#     trailer, so `pooltrace report` / `info` read those events with a
#     "cut short" warning and the report says the trace is incomplete;
#  2. disk full before the header fits: exit 2, nothing left behind;
#  3. output on a read-only file system: exit 2 before recording starts, a
#     clear message, no file and no tracing instance left behind.
# Skips (exit 77) when not root, without tracefs, or when tmpfs cannot be mounted.
set -u
fail() { echo "FAIL: $*"; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }
CAP="$PT_BIN/capture/pooltrace-capture"
HELPER="$PT_BIN/tests/leaky-helper"
[ "$(id -u)" = 0 ] || skip "capture_faults needs root for kernel tracing and tmpfs mounts"
[ -x "$CAP" ] || skip "pooltrace-capture is not built on this platform"
[ -x "$HELPER" ] || fail "leaky-helper not built"
T=/sys/kernel/tracing
[ -d "$T/events/kmem" ] || mount -t tracefs nodev "$T" 2>/dev/null
[ -d "$T/events/kmem" ] || skip "no tracefs with kmem events at $T"

# one capture test at a time on a machine (the same lock as capture_e2e)
exec 9>/run/lock/pooltrace-capture-e2e.lock
flock -w 300 9 || fail "another capture test holds the lock for too long"

work=$(mktemp -d)
mounts=()
cleanup() {
	for m in "${mounts[@]}"; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null; done
	rm -rf "$work"
}
trap cleanup EXIT
small="$work/small"
mkdir "$small"
mount -t tmpfs -o size=192k,mode=0755 tmpfs "$small" 2>/dev/null || skip "cannot mount a tmpfs here"
mounts+=("$small")
ctl="$work/ctl"

# 1. disk full while recording: a workload making kernel allocations until the capture stops it
out="$small/full.ptz"
# (--duration only bounds a run whose disk never fills; set-up alone takes tens of seconds
# under sanitizers)
"$CAP" -o "$out" --control "$ctl" --cooldown 0 --duration 300 -- \
	sh -c "while :; do '$HELPER' clean 2000 || exit 1; done" 2>"$work/full.err" &
cap=$!
wait $cap
rc=$?
cat "$work/full.err"
[ $rc -eq 1 ] || fail "disk full: capture exit $rc (want 1)"
grep -q "writing $out: disk full" "$work/full.err" || fail "disk full: no 'disk full' message naming the file"
grep -q "events written" "$work/full.err" && fail "disk full: a success summary was printed"
grep -q "stopped: duration" "$work/full.err" && fail "disk full: the capture did not stop at the full disk"
[ -s "$out" ] || fail "disk full: no file left"
[ -e "$T/instances/pooltrace-capture-$cap" ] && fail "disk full: tracing instance left behind"
said=$(sed -n 's/.*keeps the \([0-9]*\) chunks (\([0-9]*\) events).*/\1 \2/p' "$work/full.err")
chunks=${said% *}
events=${said#* }
[ -n "$said" ] && [ "$chunks" -gt 0 ] && [ "$events" -gt 0 ] ||
	fail "disk full: the message does not say how many chunks and events the file keeps"
"$POOLTRACE" report "$out" >"$work/full.txt" 2>"$work/rep.err"
rc=$?
[ $rc -le 1 ] || fail "report of the disk-full trace: exit $rc: $(cat "$work/rep.err")"
grep -q "cut short" "$work/rep.err" || fail "report of the disk-full trace: no cut-short warning"
grep -Eq "^Events: +$events " "$work/full.txt" ||
	{ head -5 "$work/full.txt"; fail "report: not the $events events of the $chunks chunks written"; }
grep -q "^Warning: the trace is incomplete" "$work/full.txt" || fail "report does not say the trace is incomplete"
"$POOLTRACE" info --json "$out" >"$work/full.json" 2>/dev/null || fail "info of the disk-full trace failed"
grep -q "\"total\": $events" "$work/full.json" || fail "info: not $events events"
grep -q '"cut_short": true' "$work/full.json" || fail "info --json: cut_short not set"
echo "disk full: capture stopped after $chunks chunks ($events events), all read back"

# 2. no room even for the header: nothing recorded, nothing left behind
rm -f "$out"
dd if=/dev/zero of="$small/filler" bs=4k 2>/dev/null
"$CAP" -o "$out" --control "$ctl" --duration 5 2>"$work/hdr.err"
rc=$?
cat "$work/hdr.err"
[ $rc -eq 2 ] || fail "full before the header: exit $rc (want 2)"
grep -q "cannot write $out: disk full" "$work/hdr.err" || fail "full before the header: unclear message"
[ -e "$out" ] && fail "full before the header: a file was left behind"
rm -f "$small/filler"

# 3. read-only output: refused before recording, nothing left behind
ro="$work/ro"
mkdir "$ro"
mount -t tmpfs -o size=64k,ro tmpfs "$ro" 2>/dev/null || fail "cannot mount a read-only tmpfs"
mounts+=("$ro")
"$CAP" -o "$ro/t.ptz" --control "$ctl" --duration 5 2>"$work/ro.err" &
cap=$!
wait $cap
rc=$?
cat "$work/ro.err"
[ $rc -eq 2 ] || fail "read-only output: exit $rc (want 2)"
grep -q "cannot write $ro/t.ptz: Read-only file system" "$work/ro.err" || fail "read-only output: unclear message"
[ -z "$(ls -A "$ro")" ] || fail "read-only output: something was left behind"
[ -e "$T/instances/pooltrace-capture-$cap" ] && fail "read-only output: tracing instance left behind"
[ -e "$ctl" ] && fail "read-only output: control FIFO left behind"
echo "OK"
