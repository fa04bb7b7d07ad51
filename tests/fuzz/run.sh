#!/usr/bin/env bash
# tests/fuzz/run.sh: builds the libFuzzer harnesses with clang and runs each for a while, printing its executions.
#
# Usage: tests/fuzz/run.sh [SECONDS [HARNESS...]]   (60 s each and every harness by default)
# The build goes to $BUILD_DIR (build-fuzz). Logs: BUILD/tests/fuzz/logs/; inputs that fail a
# harness: BUILD/tests/fuzz/artifacts/. Needs clang and its runtime (Debian: clang libclang-rt-14-dev).
# MEMSCRIPT_FUZZ_LUA_SOURCE=DIR (a Lua 5.4 src/ directory) adds lproc_apicheck; MEMSCRIPT_FUZZ_SKIP
# (e.g. "stat") leaves `proc` functions out of the lproc harnesses, to get past a known failure.
set -euo pipefail

src=$(cd "$(dirname "$0")/../.." && pwd)
seconds=${1:-60}
[ $# -gt 0 ] && shift
build=${BUILD_DIR:-$src/build-fuzz}
fuzz=$build/tests/fuzz

command -v clang >/dev/null || { echo "run.sh: clang not found (apt-get install clang libclang-rt-14-dev)" >&2; exit 2; }
lua=()
[ -n "${MEMSCRIPT_FUZZ_LUA_SOURCE:-}" ] && lua=(-DMEMSCRIPT_FUZZ_LUA_SOURCE="$MEMSCRIPT_FUZZ_LUA_SOURCE")
cmake -S "$src" -B "$build" -DCMAKE_C_COMPILER=clang -DMEMSCRIPT_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo "${lua[@]}" >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null

harnesses=("$@")
if [ ${#harnesses[@]} -eq 0 ]; then
  for exe in "$fuzz"/fuzz_*; do
    [ -x "$exe" ] && [ -f "$exe" ] && harnesses+=("${exe##*/fuzz_}")
  done
fi
mkdir -p "$fuzz/logs" "$fuzz/artifacts"

failed=0
for h in "${harnesses[@]}"; do
  dirs=("$fuzz/work/$h" "$fuzz/seeds/$h")
  # A variant of a harness (_tsan, _apicheck) shares its corpus: the input format is the same.
  base=${h%_tsan}; base=${base%_apicheck}
  [ -d "$src/tests/fuzz/corpus/$base" ] && dirs+=("$src/tests/fuzz/corpus/$base")
  mkdir -p "$fuzz/work/$h"
  log=$fuzz/logs/$h.log
  status=0
  "$fuzz/fuzz_$h" -max_total_time="$seconds" -timeout=25 -print_final_stats=1 \
    -artifact_prefix="$fuzz/artifacts/$h-" "${dirs[@]}" >"$log" 2>&1 || status=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  corpus=$(grep -Eo 'corp: [0-9]+/[0-9A-Za-z]+' "$log" | tail -1 || true)
  printf '%-16s %12s executions in %s s  (%s)\n' "$h" "${execs:-?}" "$seconds" "${corpus:-no corpus yet}"
  if [ "$status" -ne 0 ]; then
    failed=1
    echo "  FAILED (exit $status), log $log:"
    grep -E 'ERROR|check failed|raised|out of memory|SUMMARY|Test unit written|runtime error' "$log" | head -20 | sed 's/^/    /'
  fi
done
exit $failed
