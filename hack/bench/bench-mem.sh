#!/usr/bin/env bash
# bench-mem.sh: resident memory of one idle shim holding a sleeping container, husk vs
# containerd-shim-runc-v2 in the same run, through a private containerd.
#
# For each runtime: ctr run -d a busybox `sleep`, read the shim's /proc/PID/smaps_rollup
# (Pss: its fair share of every page; Private_Dirty: pages only it has written, the cost
# that really grows per pod), then run BENCH_EXECS (default 1000) `ctr task exec ... true`
# and read it again: memory that grows with execs is a leak or an unbounded cache.
# Prints a table and husk/runc ratios (lower is better). Run as root.
set -euo pipefail
# shellcheck source=hack/bench/lib.sh
. "$(dirname "$0")/lib.sh"

execs=${BENCH_EXECS:-1000}
bench_setup

declare -A pss0 dirty0 pss1 dirty1 rss0
for rt in $(bench_runtimes); do
	name=${rt#io.containerd.}
	id=mem-${name%%.*}
	ctr run -d --null-io --runtime "$rt" "$bench_image" "$id" sleep 1000000
	bench_wait_running "$id"
	pid=$(bench_shim_pid "$id")
	rss0[$rt]=$(bench_smaps "$pid" Rss)
	pss0[$rt]=$(bench_smaps "$pid" Pss)
	dirty0[$rt]=$(bench_smaps "$pid" Private_Dirty)
	echo "$rt: shim pid $pid, idle Pss ${pss0[$rt]} kB, Private_Dirty ${dirty0[$rt]} kB; $execs execs..."
	start=$(bench_now_ns)
	for ((i = 0; i < execs; i++)); do
		ctr task exec --exec-id "e$i" "$id" true </dev/null
	done
	end=$(bench_now_ns)
	pss1[$rt]=$(bench_smaps "$pid" Pss)
	dirty1[$rt]=$(bench_smaps "$pid" Private_Dirty)
	echo "$rt: $execs execs in $(((end - start) / 1000000)) ms"
	bench_remove "$id"
done

h=$HUSK_RUNTIME
r=$RUNC_RUNTIME
echo
printf '%-24s %12s %12s %12s %14s %14s\n' runtime "Rss kB" "Pss kB" "PrivDirty kB" "Pss+${execs}x" "PrivD+${execs}x"
for rt in $(bench_runtimes); do
	printf '%-24s %12s %12s %12s %14s %14s\n' "$rt" "${rss0[$rt]}" "${pss0[$rt]}" "${dirty0[$rt]}" \
		"${pss1[$rt]}" "${dirty1[$rt]}"
done
printf '%-24s %12s %12s %12s %14s %14s\n' "ratio husk/runc" \
	"$(bench_ratio "${rss0[$h]:-}" "${rss0[$r]}")" \
	"$(bench_ratio "${pss0[$h]:-}" "${pss0[$r]}")" \
	"$(bench_ratio "${dirty0[$h]:-}" "${dirty0[$r]}")" \
	"$(bench_ratio "${pss1[$h]:-}" "${pss1[$r]}")" \
	"$(bench_ratio "${dirty1[$h]:-}" "${dirty1[$r]}")"
