#!/bin/bash
# Speed benchmark: proc.pagemap counting present pages, read and scanned, against pread of the same pagemap
# ranges doing nothing (the floor), on a 60,000-mapping process and on a 16 GiB mapping with 1 GiB written.
#
# usage: tests/bench/pagemap.sh [BUILD_DIR]        (default BUILD_DIR: build-bench in the source tree)
# environment: PAIRS (floor/memscript pairs per workload, default 7), ROUNDS (timed calls in each, default 5),
#              CC (default cc)
# Exit status: 0 when every goal is met, 1 when one is missed (the summary says which, in capitals), 2 when
# something could not run.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/bench/lib.sh
source "$here/lib.sh"
build_dir=${1:-$bench_source_dir/build-bench}
pairs=${PAIRS:-7}
rounds=${ROUNDS:-5}
goal=2.0 # memscript's time / the pread floor's, median of paired ratios, each method and workload

bench_build "$build_dir"
# shellcheck disable=SC2086 # bench_cflags is a word list
${CC:-cc} $bench_cflags -o "$bench_dir/pagemap_floor" "$here/pagemap_floor.c"
floor=$bench_dir/pagemap_floor
trap bench_stop_workloads EXIT

echo "memscript pagemap benchmark"
bench_machine
echo

# The 16 GiB mapping: pagemap_floor sparse, stopped with the workloads.
sparse_out=$bench_dir/pagemap-sparse.out
"$floor" sparse >"$sparse_out" &
sparse_bg=$!
bench_workload_pids+=("$sparse_bg")
bench_start_workload w -s anon -n 60000
for _ in $(seq 600); do
	grep -q ready "$sparse_out" 2>/dev/null && break
	kill -0 "$sparse_bg" 2>/dev/null || break
	sleep 0.1
done
grep -q ready "$sparse_out" || { echo "benchmark: pagemap_floor sparse did not start: $(cat "$sparse_out")" >&2; exit 2; }
read -r sparse_pid _ sparse_start sparse_end <"$sparse_out"

summary=$bench_dir/pagemap-summary.txt
: >"$summary"

# run NAME LABEL PID [START END]: PAIRS pairs of (floor, memscript), the median of each figure and of the
# ratios; every line they printed is kept in BUILD_DIR/bench/pagemap-NAME.log.
run() {
	local name=$1 label=$2 pid=$3
	shift 3
	local log=$bench_dir/pagemap-$name.log
	: >"$log"
	for _ in $(seq "$pairs"); do
		"$floor" -r "$rounds" "$pid" "$@" >>"$log"
		"$memscript" "$here/pagemap.lua" "$rounds" "$pid" "$@" >>"$log"
	done
	awk -v label="$label" -v goal="$goal" '
		function median(a, n,   i, j, t) {
			for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
			return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
		}
		/^ranges/ { n++; ranges = $2; entries = $4; pread[n] = $6; batched[n] = $8; scanf[n] = $10; mapsf[n] = $12 }
		/^read_ms/ { read[n] = $2; present = $4; rr[n] = $2 / pread[n]; rb[n] = $2 / batched[n] }
		/^scan_ms/ { scan[n] = $2; sr[n] = $2 / pread[n]; if (scanf[n] != "-") sf[n] = $2 / scanf[n] }
		/^auto:/ { auto = $0 }
		END {
			printf "%s: %d mappings, %d pagemap entries, %d bytes present\n", label, ranges, entries, present
			printf "  %-34s %10.3f ms\n", "floor: pread, nothing done", median(pread, n)
			printf "  %-34s %10.3f ms   (not the floor)\n", "pread batched as memscript reads", median(batched, n)
			if (scanf[1] != "-") printf "  %-34s %10.3f ms\n", "floor: PAGEMAP_SCAN, nothing done", median(scanf, n)
			if (mapsf[1] != "-") printf "  %-34s %10.3f ms   (not in the floor)\n", "read(2) of maps, nothing done", median(mapsf, n)
			printf "  %-34s %10.3f ms   / pread floor %6.3f   / batched %6.3f\n", "proc.pagemap, method read",
				median(read, n), median(rr, n), median(rb, n)
			if (length(scan) > 0)
				printf "  %-34s %10.3f ms   / pread floor %6.3f   / scan floor %6.3f\n", "proc.pagemap, method scan",
					median(scan, n), median(sr, n), median(sf, n)
			printf "  %s\n", auto
			printf "%-44s %8.3f  <= %s  %s\n", label ": read / pread floor", median(rr, n), goal,
				median(rr, n) <= goal ? "met" : "MISSED" >> "'"$summary"'"
			if (length(scan) > 0)
				printf "%-44s %8.3f  <= %s  %s\n", label ": scan / pread floor", median(sr, n), goal,
					median(sr, n) <= goal ? "met" : "MISSED" >> "'"$summary"'"
		}' "$log"
	echo
}

# shellcheck disable=SC2154 # set by bench_start_workload
run mappings "60,000 mappings" "$w_pid"
run sparse "16 GiB, 1 GiB written" "$sparse_pid" "$sparse_start" "$sparse_end"

echo "summary (median of $pairs paired ratios, each figure a median of $rounds calls)"
cat "$summary"
if grep -q MISSED "$summary"; then
	echo "pagemap.sh: A GOAL WAS MISSED" >&2
	exit 1
fi
