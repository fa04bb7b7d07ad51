#!/bin/bash
# Speed benchmark: proc.smaps and proc.maps of three shapes of process against `cat` (the kernel's floor),
# peak memory at 60,000 mappings, and start-up against lua5.4.
#
# usage: tests/bench/run.sh [BUILD_DIR]        (default BUILD_DIR: build-bench in the source tree)
# environment: ROUNDS (paired rounds per shape, default 11), STARTUP_ROUNDS (default 51),
#              SHAPES (default "anon file mixed"), COUNT_THP_NEVER (1: the rows run with transparent huge
#              pages disabled count towards the exit status too; default 0), CC (default cc)
# Exit status: 0 when every counted goal is met, 1 when one is missed (the summary says which, in capitals),
# 2 when something could not run.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/bench/lib.sh
source "$here/lib.sh"
build_dir=${1:-$bench_source_dir/build-bench}
rounds=${ROUNDS:-11}
startup_rounds=${STARTUP_ROUNDS:-51}
shapes=${SHAPES:-anon file mixed}
count_thp_never=${COUNT_THP_NEVER:-0}

# The goals.
goal_smaps=1.10   # memscript proc.smaps / cat smaps, median of paired ratios, each shape
goal_maps=1.5     # memscript proc.maps / cat maps, the same
goal_rss_mib=60   # peak memory of proc.smaps at 60,000 mappings, with and without a ProtectionKey line
goal_startup=1.15 # memscript -e '' / lua5.4 -e '', median of paired ratios
declare -A mappings=([anon]=60000 [file]=60000 [mixed]=5000)

bench_build "$build_dir"
trap bench_stop_workloads EXIT

echo "memscript speed benchmark"
bench_machine
echo

summary=$bench_dir/run-summary.txt
: >"$summary"
# goal LABEL MEASURED OP LIMIT COUNTED: one line of the summary; COUNTED 0 marks a figure that depends
# on the host and is shown for comparison only.
goal() {
	awk -v label="$1" -v measured="$2" -v op="$3" -v limit="$4" -v counted="$5" 'BEGIN {
		ok = op == "<=" ? measured <= limit : measured < limit
		verdict = ok ? "met" : (counted ? "MISSED" : "missed")
		if (!counted) verdict = verdict " (THP never: not counted, see README)"
		printf "%-52s %10.3f %8s  %s\n", label, measured, op " " limit, verdict
	}' >>"$summary"
}

for shape in $shapes; do
	n=${mappings[$shape]:?unknown shape $shape}
	bench_start_workload w -s "$shape" -n "$n"
	# shellcheck disable=SC2154 # set by bench_start_workload
	pid=$w_pid
	lines=$(wc -l <"/proc/$pid/maps")
	bytes=$(wc -c <"/proc/$pid/smaps")
	# The tables must be complete, or the timing means nothing.
	counts=$("$memscript" -e "print(#proc.smaps($pid), #proc.maps($pid))")
	if [ "$counts" != "$lines	$lines" ]; then
		echo "run.sh: $shape: proc.smaps and proc.maps of $pid give $counts tables, /proc/$pid/maps has $lines lines" >&2
		exit 2
	fi
	echo "shape $shape: workload -s $shape -n $n, pid $pid: $lines mappings, $bytes bytes of smaps"
	sum_fields="local s = 0 for _, m in ipairs(proc.smaps($pid)) do s = s + m.Rss + m.Pss + #m.path end print(s)"
	extra=()
	if command -v pmap >/dev/null; then extra+=(-- @pmap_x pmap -x "$pid"); fi
	# The Lua heap the tables take, in MiB: touchfloor maps and writes as much, the floor of keeping
	# them where THP is never (a fresh 4 KiB page costs what it costs on the host, whatever the code).
	smaps_mib=$("$memscript" -e "local t = proc.smaps($pid) print(math.ceil(collectgarbage('count') / 1024))")
	maps_mib=$("$memscript" -e "local t = proc.maps($pid) print(math.ceil(collectgarbage('count') / 1024))")
	smaps_table=$bench_dir/smaps-$shape.txt
	"$pairtime" -n "$rounds" -w 1 \
		-- @cat_smaps cat "/proc/$pid/smaps" \
		-- @memscript_smaps "$memscript" -e "proc.smaps($pid)" \
		-- @memscript_smaps_thp_never "$nothp" "$memscript" -e "proc.smaps($pid)" \
		-- @memscript_smaps_read_fields "$memscript" -e "$sum_fields" \
		-- @fresh_${smaps_mib}MiB_thp_never "$nothp" "$touchfloor" "$smaps_mib" \
		"${extra[@]}" | tee "$smaps_table"
	maps_table=$bench_dir/maps-$shape.txt
	"$pairtime" -n "$rounds" -w 1 \
		-- @cat_maps cat "/proc/$pid/maps" \
		-- @memscript_maps "$memscript" -e "proc.maps($pid)" \
		-- @memscript_maps_thp_never "$nothp" "$memscript" -e "proc.maps($pid)" \
		-- @fresh_${maps_mib}MiB_thp_never "$nothp" "$touchfloor" "$maps_mib" | tee "$maps_table"
	echo
	goal "$shape ($lines): proc.smaps / cat smaps" "$(bench_field "$smaps_table" memscript_smaps 4)" "<=" "$goal_smaps" 1
	goal "$shape: the same, THP never" "$(bench_field "$smaps_table" memscript_smaps_thp_never 4)" "<=" "$goal_smaps" \
		"$count_thp_never"
	goal "$shape: THP never, the tables' $smaps_mib MiB alone" \
		"$(bench_field "$smaps_table" "fresh_${smaps_mib}MiB_thp_never" 4)" "<=" "$goal_smaps" 0
	goal "$shape: proc.maps / cat maps" "$(bench_field "$maps_table" memscript_maps 4)" "<=" "$goal_maps" 1
	goal "$shape: the same, THP never" "$(bench_field "$maps_table" memscript_maps_thp_never 4)" "<=" "$goal_maps" \
		"$count_thp_never"
	goal "$shape: THP never, the tables' $maps_mib MiB alone" \
		"$(bench_field "$maps_table" "fresh_${maps_mib}MiB_thp_never" 4)" "<=" "$goal_maps" 0

	if [ "$shape" = anon ]; then
		goal "anon: proc.smaps peak memory, MiB" "$(awk '{ print $1 / 1024 }' <<<"$(bench_field "$smaps_table" memscript_smaps 5)")" \
			"<=" "$goal_rss_mib" 1
		goal "anon: the same, THP never, MiB" \
			"$(awk '{ print $1 / 1024 }' <<<"$(bench_field "$smaps_table" memscript_smaps_thp_never 5)")" \
			"<=" "$goal_rss_mib" 1
		# A machine with memory protection keys prints a ProtectionKey line in every record: one key more
		# per mapping. A copy of the workload's files with that line, read as a captured tree.
		tree=$bench_dir/pkey-tree
		rm -rf "$tree"
		mkdir -p "$tree/$pid"
		awk '{ print } /^THPeligible:/ { print "ProtectionKey:         0" }' "/proc/$pid/smaps" >"$tree/$pid/smaps"
		cp "/proc/$pid/stat" "/proc/$pid/status" "$tree/$pid/"
		keys=$("$memscript" --proc-root "$tree" -e "local m = proc.smaps($pid) print(#m, m[1].ProtectionKey)")
		if [ "$keys" != "$lines	0" ]; then
			echo "run.sh: the ProtectionKey copy gives \"$keys\", not $lines tables with ProtectionKey 0" >&2
			exit 2
		fi
		pkey_table=$bench_dir/pkey.txt
		"$pairtime" -n 3 -w 0 -- @memscript_smaps_pkey "$memscript" --proc-root "$tree" -e "proc.smaps($pid)" \
			| tee "$pkey_table"
		echo
		goal "anon with ProtectionKey: peak memory, MiB" \
			"$(awk '{ print $1 / 1024 }' <<<"$(bench_field "$pkey_table" memscript_smaps_pkey 5)")" "<=" "$goal_rss_mib" 1
		rm -rf "$tree"
	fi
	bench_stop_workloads
done

startup_table=$bench_dir/startup.txt
if ! command -v lua5.4 >/dev/null; then
	echo "run.sh: lua5.4 is not installed (apt-get install lua5.4): the start-up goal is measured against it" >&2
	exit 2
fi
"$pairtime" -n "$startup_rounds" -w 3 -- @lua5.4_e lua5.4 -e '' -- @memscript_e "$memscript" -e '' \
	-- @true /bin/true | tee "$startup_table"
echo
goal "start-up: memscript -e '' / lua5.4 -e ''" "$(bench_field "$startup_table" memscript_e 4)" "<=" "$goal_startup" 1

echo "summary (ratios: medians of paired ratios; peak memory: median max RSS)"
printf '%-52s %10s %8s  %s\n' figure measured goal verdict
cat "$summary"
if grep -q MISSED "$summary"; then
	echo
	echo "run.sh: GOALS MISSED: $(grep -c MISSED "$summary") (marked MISSED above)"
	exit 1
fi
exit 0
