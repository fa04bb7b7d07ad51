# lib.sh: what the benchmark scripts share: building, the machine's description, workloads. Sourced, not run.
# shellcheck shell=bash

bench_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bench_source_dir=$(cd "$bench_here/../.." && pwd)
bench_cflags="-std=c11 -O2 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Werror"

# bench_build BUILD_DIR: memscript (RelWithDebInfo) and the benchmark's programs in BUILD_DIR/bench.
# Sets memscript, pairtime, workload, nothp, readall, touchfloor, bench_dir.
bench_build() {
	local build_dir=$1 cc=${CC:-cc}
	cmake -S "$bench_source_dir" -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build "$build_dir" -j2 --target memscript >/dev/null
	bench_dir=$build_dir/bench
	mkdir -p "$bench_dir"
	# shellcheck disable=SC2086 # bench_cflags is a word list
	$cc $bench_cflags -pthread -o "$bench_dir/workload" "$bench_here/workload.c"
	# shellcheck disable=SC2086
	$cc $bench_cflags -o "$bench_dir/pairtime" "$bench_here/pairtime.c"
	# shellcheck disable=SC2086
	$cc $bench_cflags -o "$bench_dir/nothp" "$bench_here/nothp.c"
	# shellcheck disable=SC2086
	$cc $bench_cflags -pthread -o "$bench_dir/readall" "$bench_here/readall.c"
	# shellcheck disable=SC2086
	$cc $bench_cflags -o "$bench_dir/touchfloor" "$bench_here/touchfloor.c"
	memscript=$build_dir/memscript
	pairtime=$bench_dir/pairtime
	workload=$bench_dir/workload
	nothp=$bench_dir/nothp
	readall=$bench_dir/readall
	touchfloor=$bench_dir/touchfloor
}

# The machine the figures were measured on: every run prints it beside them.
bench_machine() {
	local cpu thp defrag
	cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
	thp=$(cat /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null || echo "not available")
	defrag=$(cat /sys/kernel/mm/transparent_hugepage/defrag 2>/dev/null || echo "not available")
	echo "date:    $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "cpu:     ${cpu:-unknown}, $(nproc) CPUs online"
	echo "kernel:  $(uname -r)"
	echo "THP:     enabled $thp; defrag $defrag"
	echo "memory:  $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
	echo "load:    $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min; other work on the machine shows in the figures)"
}

# bench_start_workload NAME ARGS...: starts workload ARGS in the background and waits until it is
# ready (up to 5 minutes); sets ${NAME}_pid. Every workload started is stopped by bench_stop_workloads.
bench_workload_pids=()
bench_start_workload() {
	local name=$1 out pid
	shift
	out=$bench_dir/workload-$name.out
	rm -f "$out"
	"$workload" "$@" >"$out" &
	pid=$!
	bench_workload_pids+=("$pid")
	for _ in $(seq 3000); do
		grep -q ready "$out" 2>/dev/null && break
		kill -0 "$pid" 2>/dev/null || { echo "benchmark: workload $* died" >&2; exit 2; }
		sleep 0.1
	done
	grep -q ready "$out" || { echo "benchmark: workload $* not ready after 5 minutes" >&2; exit 2; }
	printf -v "${name}_pid" '%s' "$pid"
}

# SIGTERM makes a workload remove its files and end its children before it dies.
bench_stop_workloads() {
	local pid
	for pid in "${bench_workload_pids[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	bench_workload_pids=()
}

# bench_field TABLE LABEL COLUMN: a column of pairtime's row LABEL (2 median s, 3 min s, 4 ratio, 5 maxRSS KiB).
bench_field() {
	awk -v label="$2" -v column="$3" '$1 == label { print $column }' "$1"
}
