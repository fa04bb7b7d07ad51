#!/bin/bash
# Benchmark: `memscript top.lua` against smem (whose per-process, per-user and per-mapping views it follows) and,
# for -m, against one `cat` of every process's smaps, on a simulated big host.
#
# usage: tests/bench/top_vs_smem.sh [BUILD_DIR]     (default BUILD_DIR: build-bench in the source tree)
# environment: ROUNDS (paired rounds per view, default 5), HOST_PROCESSES (default 1000), HOST_MAPPINGS (each
#              one's mappings, default 300), BIG_MAPPINGS (the one big process's, default 60000), SYSTEM (1: measure
#              the machine as it is first, for comparison; default 1), CC (default cc)
# smem (Debian package smem, a Python program) is installed with apt-get when it is missing; nothing but this
# benchmark uses it. Each view is one pairtime run: the programs alternate, round after round.
# Exit status: 0 when every goal is met on the simulated host, 1 when one is missed (marked MISSED), 2 when
# something could not run.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/bench/lib.sh
source "$here/lib.sh"
build_dir=${1:-$bench_source_dir/build-bench}
rounds=${ROUNDS:-5}
host_processes=${HOST_PROCESSES:-1000}
host_mappings=${HOST_MAPPINGS:-300}
big_mappings=${BIG_MAPPINGS:-60000}
with_system=${SYSTEM:-1}

# The goals on the simulated host: top.lua's wall time over smem's for the default view and -u, and for -m;
# top.lua -m's over one cat reading every process's smaps, one file after the other.
goal_view=0.05
goal_map_view=0.1
goal_cat=0.6

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

bench_build "$build_dir"
trap bench_stop_workloads EXIT
top_lua=$bench_source_dir/scripts/top.lua

# The two programs must have measured the same thing: smem's RSS of a process (kB, the sum of its smaps
# Rss lines) times 1024 is top.lua's (bytes, from smaps_rollup) for a process that holds still.
check_same_rss() {
	local pid=$1 smem_kb top_bytes
	smem_kb=$(smem -H -c "pid rss" | awk -v pid="$pid" '$1 == pid { print $2 }')
	top_bytes=$("$memscript" -f csv "$top_lua" -p "$pid" 2>/dev/null |
		awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "rss") column = i } NR == 2 { print $column }')
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
not_run=0

# goal_line SCENARIO FIGURE PEER_S TOP_S RATIO LIMIT COUNTED
goal_line() {
	awk -v scenario="$1" -v figure="$2" -v peer="$3" -v top="$4" -v ratio="$5" -v limit="$6" -v counted="$7" 'BEGIN {
		ok = ratio <= limit
		verdict = ok ? "met" : (counted ? "MISSED" : "missed")
		if (!counted) verdict = verdict " (for comparison, not counted)"
		printf "%-9s %-24s %10.1f ms %10.1f ms %7.3f %7s  %s\n", scenario, figure, peer * 1000, top * 1000, ratio,
			"<= " limit, verdict
	}' >>"$summary"
}

# measure SCENARIO COUNTED: one pairtime run per view against smem, and -m against cat.
measure() {
	local scenario=$1 counted=$2 view label table log smem_label limit
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
				printf '%-9s %-24s  not measured (smem failed)\n' "$scenario" "$label: top.lua / smem" >>"$summary"
				not_run=1
				continue
			fi
			echo "$scenario $label: smem $view stops at a file name that is not UTF-8; measuring smem*"
		fi
		table=$bench_dir/pairtime-$scenario$view.txt
		# shellcheck disable=SC2086 # an empty view is no argument
		if ! "$pairtime" -n "$rounds" -w 1 -- "@$smem_label" "${smem_cmd[@]}" \
			-- @top.lua "$memscript" "$top_lua" $view >"$table" 2>"$log"; then
			echo "top_vs_smem.sh: pairtime failed for $scenario $label:" >&2
			cat "$table" "$log" >&2
			exit 2
		fi
		echo "$scenario, view $label:"
		cat "$table"
		echo
		limit=$goal_view
		[ "$view" = -m ] && limit=$goal_map_view
		goal_line "$scenario" "$label: top.lua / $smem_label" "$(bench_field "$table" "$smem_label" 2)" \
			"$(bench_field "$table" top.lua 2)" "$(bench_field "$table" top.lua 4)" "$limit" "$counted"
	done
	# The floor of reading every process's smaps once, one after the other: one cat of them all. And
	# the kernel's floor on every CPU: readall's threads reading the same files, each taking the next.
	table=$bench_dir/pairtime-$scenario-cat.txt
	"$pairtime" -n "$rounds" -w 1 -- @cat_all_smaps sh -c 'cat /proc/[0-9]*/smaps >/dev/null 2>&1; exit 0' \
		-- @top.lua_-m "$memscript" "$top_lua" -m -- @top.lua_-m_thp_never "$nothp" "$memscript" "$top_lua" -m \
		-- @readall_all_cpus sh -c "\"\$0\" $(nproc) /proc/[0-9]*/smaps" "$readall" \
		2>"$bench_dir/pairtime-$scenario-cat.err" | tee "$table"
	echo
	goal_line "$scenario" "-m: top.lua / cat" "$(bench_field "$table" cat_all_smaps 2)" \
		"$(bench_field "$table" top.lua_-m 2)" "$(bench_field "$table" top.lua_-m 4)" "$goal_cat" "$counted"
	goal_line "$scenario" "-m, THP never: / cat" "$(bench_field "$table" cat_all_smaps 2)" \
		"$(bench_field "$table" top.lua_-m_thp_never 2)" "$(bench_field "$table" top.lua_-m_thp_never 4)" "$goal_cat" 0
	goal_line "$scenario" "-m: readall $(nproc) / cat" "$(bench_field "$table" cat_all_smaps 2)" \
		"$(bench_field "$table" readall_all_cpus 2)" "$(bench_field "$table" readall_all_cpus 4)" "$goal_cat" 0
}

processes() { find /proc -maxdepth 1 -name '[0-9]*' | wc -l; }

echo "top.lua versus smem and cat"
bench_machine
echo "smem:    $(dpkg-query -W -f '${Package} ${Version}' smem 2>/dev/null || echo smem)"
echo
# A process that holds still: a sleep (this shell's own RSS moves as it runs the commands that read it).
sleep 600 &
still_pid=$!
check_same_rss "$still_pid"
kill "$still_pid"
wait "$still_pid" 2>/dev/null || true
if [ "$with_system" = 1 ]; then
	echo "system: the machine's $(processes) processes as they are"
	measure system 0
fi
bench_start_workload big -s anon -n "$big_mappings"
bench_start_workload host -P "$host_processes" -n "$host_mappings"
# shellcheck disable=SC2154 # set by bench_start_workload
echo "host: the machine's processes, $host_processes processes of about $host_mappings mappings" \
	"(workload -P $host_processes -n $host_mappings) and one of $(wc -l <"/proc/$big_pid/maps") (workload -n $big_mappings):" \
	"$(processes) processes, $(cat /proc/[0-9]*/smaps 2>/dev/null | wc -c) bytes of smaps"
check_same_rss "$big_pid"
echo
# Starting a thousand processes leaves the machine busy for a while: let it settle.
sleep 10
echo "load before measuring: $(cut -d' ' -f1-3 /proc/loadavg)"
measure host 1
bench_stop_workloads

echo "summary (ratio: top.lua / peer, median of paired rounds; the goals hold on the simulated host)"
printf '%-9s %-24s %13s %13s %7s %7s  %s\n' scenario figure peer top.lua ratio goal verdict
cat "$summary"
if [ "$not_run" = 1 ]; then exit 2; fi
if grep -q MISSED "$summary"; then
	echo
	echo "top_vs_smem.sh: GOALS MISSED: $(grep -c MISSED "$summary") (marked MISSED above)"
	exit 1
fi
exit 0
