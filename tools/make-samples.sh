#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Regenerates the generated sample traces from their scenario descriptions.
# The output is deterministic: running it again gives the same files
# (tests/unit/test_scenario.c checks the committed demo against its scenario).
# Usage: tools/make-samples.sh [BUILD_DIR]   (default: build; PT_BIN also works)
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-${PT_BIN:-$src/build}}
gen=$bin/tools/pt-gen
if [ ! -x "$gen" ]; then
	echo "make-samples: $gen not found; build first: cmake -S . -B build && cmake --build build" >&2
	exit 2
fi
"$gen" "$src/sample-traces/demo.scn" --gzip -o "$src/sample-traces/demo.xml.gz"
echo "wrote sample-traces/demo.xml.gz"
