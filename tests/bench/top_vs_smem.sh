#!/bin/bash
# Benchmark: `memscript top.lua` against smem, whose per-process, per-user and per-mapping views it follows.
#
# usage: tests/bench/top_vs_smem.sh [BUILD_DIR]     (default BUILD_DIR: build-bench in the source tree)
# environment: ROUNDS (paired rounds per view, default 21), WORKLOAD (1: measure again with tests/bench/workload
#              running, 0: do not; default 1), MAPPINGS (the workload's mappings, default 60000), CC (default cc)
# smem (Debian package smem, a Python program) is installed with apt-get when it is missing; nothing but this
# benchmark uses it. Each view is one pairtime run: smem and top.lua alternate, round after round.
# Exit status: 0 when top.lua's time is at most 1/5 of smem's in every pair, 1 when a pair misses that,
# 2 when something could not run.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
source_dir=$(cd "$here/../.." && pwd)
build_dir=${1:-$source_dir/build-bench}
rounds=${ROUNDS:-21}
with_workload=${WORKLOAD:-1}
mappings=${MAPPINGS:-60000}
cc=${CC:-cc}
cflags="-std=c11 -O2 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Werror"

# The goal: top.lua's wall time over smem's, median of the paired ratios.
goal_ratio=0.2

if ! command -v smem >/dev/null; then
	if [ "$(id -u)" != 0 ]; then
		echo "top_vs_smem.sh: smem is not installed, and installing it needs root (apt-get install smem)" >&2
		exit 2
	fi
	# The package lists may be missing or stale on a fresh machine: update them once and try again.
	apt-get install -y --no-install-recommends smem >/dev/null ||
		{ apt-get update >/dev/null && apt-get install -y --no-install-recommends smem >/dev/null; } ||
		{ echo "top_vs_smem.sh: could not install smem" >&2; exit 2; }
fi

cmake -S "$source_dir" -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build_dir" -j2 --target memscript >/dev/null
bench_dir=$build_dir/bench
mkdir -p "$bench_dir"
# shellcheck disable=SC2086 # cflags is a word list
$cc $cflags -o "$bench_dir/pairtime" "$here/pairtime.c"
# shellcheck disable=SC2086
$cc $cflags -o "$bench_dir/workload" "$here/workload.c"
memscript=$build_dir/memscript
top_lua=$source_dir/scripts/top.lua
pairtime=$bench_dir/pairtime

workload_pid=
stop_workload() {
	if [ -n "$workload_pid" ]; then
		# SIGTERM makes the workload remove its mapped files before it dies.
		kill -TERM "$workload_pid" 2>/dev/null || true
		wait "$workload_pid" 2>/dev/null || true
		workload_pid=
	fi
}
trap stop_workload EXIT

start_workload() {
	local ready_file=$bench_dir/workload.out
	rm -f "$ready_file"
	"$bench_dir/workload" -n "$mappings" >"$ready_file" &
	workload_pid=$!
	for _ in $(seq 600); do
		grep -q ready "$ready_file" 2>/dev/null && return 0
		kill -0 "$workload_pid" 2>/dev/null || { echo "top_vs_smem.sh: workload died" >&2; exit 2; }
		sleep 0.1
	done
	echo "top_vs_smem.sh: workload not ready after 60 s" >&2
	exit 2
}

# The two programs must have measured the same thing: smem's RSS of a process (kB, the sum of its smaps
# Rss lines) times 1024 is top.lua's (bytes, from smaps_rollup) for a process that holds still.
check_same_rss() {
	local pid=$1 smem_kb top_bytes
	smem_kb=$(smem -H -c "pid rss" | awk -v pid="$pid" '$1 == pid { print $2 }')
	top_bytes=$("$memscript" -f csv "$top_lua" -p "$pid" 2>/dev/null | awk -F, 'NR == 2 { print $(NF - 1) }')
	if [ -z "$smem_kb" ] || [ "$((smem_kb * 1024))" != "$top_bytes" ]; then
		echo "top_vs_smem.sh: RSS of pid $pid: smem ${smem_kb:-none} kB, top.lua ${top_bytes:-none} bytes" >&2
		exit 2
	fi
	echo "pid $pid: smem and top.lua agree on its RSS ($top_bytes bytes)"
}

# smem reads /proc files as text with Python's strict UTF-8 decoding, and its -u and -m views stop with
# UnicodeDecodeError when any process maps a file whose name is not UTF-8 (the default view skips such a
# process). For those views smem then runs with open() decoding with errors="surrogateescape" instead:
# the same program doing the same reads, marked smem* in the results.
smem_path=$(command -v smem)
smem_python=$(sed -n '1s/^#! *\([^ ]*\).*/\1/p' "$smem_path")
smem_tolerant='import builtins, functools, io, sys
builtins.open = functools.partial(io.open, errors="surrogateescape")
path = sys.argv[1]
sys.argv = sys.argv[1:]
exec(compile(io.open(path).read(), path, "exec"), {"__name__": "__main__"})'

summary=$bench_dir/top_vs_smem.txt
: >"$summary"
missed=0
not_run=0

# measure SCENARIO: one pairtime run per view; a view that smem cannot run is reported and left out.
measure() {
	local scenario=$1 view label table log smem_label
	local -a smem_cmd
	for view in "" "-u" "-m"; do
		label=${view:-default}
		log=$bench_dir/pairtime-$scenario$view.err
		# shellcheck disable=SC2206 # an empty view is no argument
		smem_cmd=(smem $view)
		smem_label=smem
		if ! smem $view >/dev/null 2>"$log"; then
			# shellcheck disable=SC2206
			smem_cmd=("$smem_python" -c "$smem_tolerant" "$smem_path" $view)
			smem_label='smem*'
			if ! grep -q UnicodeDecodeError "$log" || ! "${smem_cmd[@]}" >/dev/null 2>"$log"; then
				echo "$scenario $label: smem $view failed, not measured: $(tail -n 1 "$log")"
				printf '%-9s %-8s %12s %12s %8s  %s\n' "$scenario" "$label" - - - "not measured (smem failed)" \
					>>"$summary"
				not_run=1
				continue
			fi
			echo "$scenario $label: smem $view stops at a file name that is not UTF-8; measuring smem*"
		fi
		table=$bench_dir/pairtime-$scenario$view.txt
		# shellcheck disable=SC2086 # an empty view is no argument
		if ! "$pairtime" -n "$rounds" -w 2 -- "@$smem_label" "${smem_cmd[@]}" \
			-- @top.lua "$memscript" "$top_lua" $view >"$table" 2>"$log"; then
			echo "top_vs_smem.sh: pairtime failed for $scenario $label:" >&2
			cat "$table" "$log" >&2
			exit 2
		fi
		echo "$scenario, view $label:"
		cat "$table"
		echo
		awk -v scenario="$scenario" -v label="$label" -v goal="$goal_ratio" -v peer="$smem_label" '
			$1 == peer { smem_s = $2 }
			$1 == "top.lua" { top_s = $2; ratio = $4 }
			END {
				printf "%-9s %-8s %9.1f ms %9.1f ms %8.3f  %s%s\n", scenario, label, smem_s * 1000, top_s * 1000,
					ratio, ratio <= goal ? "met" : "MISSED", peer == "smem" ? "" : " (against smem*)"
			}' "$table" >>"$summary"
	done
}

processes=$(find /proc -maxdepth 1 -name '[0-9]*' | wc -l)
echo "top.lua versus smem, $(date -u +%Y-%m-%d), kernel $(uname -r), $(nproc) CPUs, $processes processes," \
	"$(dpkg-query -W -f '${Package} ${Version}' smem 2>/dev/null || echo smem)"
echo
echo "system: the machine's processes as they are; workload: the same plus tests/bench/workload -n $mappings"
check_same_rss $$
measure system
if [ "$with_workload" = 1 ]; then
	start_workload
	echo "workload pid $workload_pid: $(wc -l <"/proc/$workload_pid/maps") mappings"
	check_same_rss "$workload_pid"
	echo
	measure workload
	stop_workload
fi

echo "summary (ratio: top.lua / smem, median of paired rounds; goal <= $goal_ratio)"
printf '%-9s %-8s %12s %12s %8s  %s\n' scenario view smem top.lua ratio verdict
cat "$summary"
grep -q MISSED "$summary" && missed=1
if [ "$not_run" = 1 ]; then exit 2; fi
exit "$missed"
