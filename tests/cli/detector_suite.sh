#!/usr/bin/env bash
# The leak detector benchmark with one seed per scenario: no false positive, no miss.
set -u
out=$(bash "$PT_SRC/bench/detector/run.sh" "$PT_BIN" 1 2>&1)
rc=$?
echo "$out" | tail -n 8
[ $rc -eq 0 ] || { echo "$out"; echo "FAIL: verdicts outside the expectation"; exit 1; }
echo "$out" | grep -q "precision 1.000  recall 1.000" || { echo "FAIL: precision/recall below 1"; exit 1; }
echo "1 passed, 0 failed"
