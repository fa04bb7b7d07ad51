#!/bin/bash
# Speed benchmark: memscript reading a ~60,000-mapping process, against `cat smaps` (the kernel floor) and pmap.
#
# usage: tests/bench/run.sh [BUILD_DIR]        (default BUILD_DIR: build-bench in the source tree)
# environment: ROUNDS (paired rounds, default 11), STARTUP_ROUNDS (default 51), MAPPINGS (default 60000),
#              CC (default cc)
# Exit status: 0 when all three goals are met, 1 when one is missed, 2 when something could not run.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
source_dir=$(cd "$here/../.." && pwd)
build_dir=${1:-$source_dir/build-bench}
rounds=${ROUNDS:-11}
startup_rounds=${STARTUP_ROUNDS:-51}
mappings=${MAPPINGS:-60000}
cc=${CC:-cc}
cflags="-std=c11 -O2 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Werror"

# Goals: smaps ratio to the cat floor, peak RSS of that run, start-up of `memscript -e ''`.
goal_ratio=1.25
goal_rss_mib=60
goal_startup_ms=2

cmake -S "$source_dir" -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build_dir" -j2 --target memscript >/dev/null
bench_dir=$build_dir/bench
mkdir -p "$bench_dir"
# shellcheck disable=SC2086 # cflags is a word list
$cc $cflags -o "$bench_dir/workload" "$here/workload.c"
# shellcheck disable=SC2086
$cc $cflags -o "$bench_dir/pairtime" "$here/pairtime.c"
memscript=$build_dir/memscript
pairtime=$bench_dir/pairtime

ready_file=$bench_dir/workload.out
rm -f "$ready_file"
"$bench_dir/workload" -n "$mappings" >"$ready_file" &
workload_pid=$!
# SIGTERM makes the workload remove its mapped files before it dies.
trap 'kill -TERM "$workload_pid" 2>/dev/null || true; wait "$workload_pid" 2>/dev/null || true' EXIT

for _ in $(seq 600); do
	grep -q ready "$ready_file" 2>/dev/null && break
	kill -0 "$workload_pid" 2>/dev/null || { echo "run.sh: workload died" >&2; exit 2; }
	sleep 0.1
done
grep -q ready "$ready_file" || { echo "run.sh: workload not ready after 60 s" >&2; exit 2; }
pid=$workload_pid

maps_lines=$(wc -l <"/proc/$pid/maps")
smaps_bytes=$(wc -c <"/proc/$pid/smaps")
# The tables must be complete, or the timing means nothing.
table_count=$("$memscript" -e "print(#proc.smaps($pid))")
if [ "$table_count" != "$maps_lines" ]; then
	echo "run.sh: proc.smaps($pid) has $table_count entries, /proc/$pid/maps $maps_lines lines" >&2
	exit 2
fi

echo "memscript speed benchmark, $(date -u +%Y-%m-%d), kernel $(uname -r), $(nproc) CPUs"
echo "workload pid $pid: $maps_lines lines in /proc/$pid/maps, /proc/$pid/smaps is $smaps_bytes bytes," \
	"proc.smaps gives $table_count tables"
echo

sum_rss="local s = 0 for _, m in ipairs(proc.smaps($pid)) do s = s + m.Rss + m.Pss + #m.path end print(s)"
extra=()
if python3 -c 'import psutil' 2>/dev/null; then
	extra+=(-- @psutil_memory_maps python3 -c \
		"import psutil; psutil.Process($pid).memory_maps(grouped=False)")
fi
if command -v smem >/dev/null; then
	extra+=(-- @smem smem -c "pid rss pss" -P "bench/workload")
fi

smaps_table=$bench_dir/smaps.txt
"$pairtime" -n "$rounds" -w 1 \
	-- @cat_smaps cat "/proc/$pid/smaps" \
	-- @memscript_smaps "$memscript" -e "proc.smaps($pid)" \
	-- @memscript_smaps_read_fields "$memscript" -e "$sum_rss" \
	-- @pmap_x pmap -x "$pid" \
	"${extra[@]}" | tee "$smaps_table"
echo

startup_table=$bench_dir/startup.txt
startup_cmds=(-- @true /bin/true)
if command -v lua5.4 >/dev/null; then
	startup_cmds+=(-- @lua5.4_e lua5.4 -e '')
fi
startup_cmds+=(-- @memscript_e "$memscript" -e '')
"$pairtime" -n "$startup_rounds" -w 3 "${startup_cmds[@]}" | tee "$startup_table"
echo

# Columns of a pairtime row: label, median s, min s, ratio, maxRSS KiB.
field() { awk -v label="$2" -v column="$3" '$1 == label { print $column }' "$1"; }
cat_s=$(field "$smaps_table" cat_smaps 2)
ms_s=$(field "$smaps_table" memscript_smaps 2)
ratio=$(field "$smaps_table" memscript_smaps 4)
rss_kib=$(field "$smaps_table" memscript_smaps 5)
pmap_ratio=$(field "$smaps_table" pmap_x 4)
startup_s=$(field "$startup_table" memscript_e 2)
true_s=$(field "$startup_table" true 2)

awk -v cat_s="$cat_s" -v ms_s="$ms_s" -v ratio="$ratio" -v rss_kib="$rss_kib" -v pmap_ratio="$pmap_ratio" \
	-v startup_s="$startup_s" -v true_s="$true_s" -v goal_ratio="$goal_ratio" -v goal_rss="$goal_rss_mib" \
	-v goal_startup="$goal_startup_ms" '
function verdict(ok) { if (!ok) missed = 1; return ok ? "met" : "MISSED" }
BEGIN {
	printf "%-38s %14s %12s  %s\n", "summary", "measured", "goal", ""
	printf "%-38s %12.1f ms\n", "cat /proc/PID/smaps (floor), median", cat_s * 1000
	printf "%-38s %12.1f ms\n", "memscript proc.smaps(PID), median", ms_s * 1000
	printf "%-38s %14.3f %12s  %s\n", "memscript / floor, median of pairs", ratio, "<= " goal_ratio,
		verdict(ratio <= goal_ratio)
	printf "%-38s %10.1f MiB %12s  %s\n", "memscript max RSS, median", rss_kib / 1024, "< " goal_rss " MiB",
		verdict(rss_kib / 1024 < goal_rss)
	printf "%-38s %11.2f ms %12s  %s\n", "memscript -e \x27\x27 start-up, median", startup_s * 1000,
		"< " goal_startup " ms", verdict(startup_s * 1000 < goal_startup)
	printf "%-38s %11.2f ms\n", "/bin/true (spawn reference), median", true_s * 1000
	printf "%-38s %14.3f\n", "pmap -x / floor, median of pairs", pmap_ratio
	exit missed
}'
