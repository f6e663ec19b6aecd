#!/usr/bin/env bash
# bench-mem.sh: resident memory of one idle shim holding a sleeping container, husk vs
# containerd-shim-runc-v2 in the same run, through a private containerd.
#
# For each runtime: ctr run -d a busybox `sleep`, read the shim's /proc/PID/smaps_rollup
# (Pss: its fair share of every page; Private_Dirty: pages only it has written, the cost
# that really grows per pod), then run BENCH_EXECS (default 1000) `ctr task exec ... true`
# and read it again: memory that grows with execs is a leak or an unbounded cache.
# Then BENCH_PODS (default 20) idle pods (one sleeping container, so one shim, each): the
# total Pss of all their shims. Prints a table, husk/runc ratios (lower is better) and the
# goal (20 idle pods' husk shims <= 6 MiB Pss), met or not. BENCH_RESULTS=DIR keeps
# mem.out ("key value" lines) for report.sh. Run as root.
set -euo pipefail
# shellcheck source=hack/bench/lib.sh
. "$(dirname "$0")/lib.sh"

execs=${BENCH_EXECS:-1000}
pods=${BENCH_PODS:-20}
bench_setup

declare -A pss0 dirty0 pss1 dirty1 rss0
for rt in $(bench_runtimes); do
	name=${rt#io.containerd.}
	id=mem-${name%%.*}
	ctr run -d --null-io --runtime "$rt" "$bench_image" "$id" sleep 1000000
	bench_wait_running "$id"
	pid=$(bench_shim_pid "$id")
	sleep 1 # an idle shim: read a second after the last call
	rss0[$rt]=$(bench_smaps "$pid" Rss)
	pss0[$rt]=$(bench_smaps "$pid" Pss)
	dirty0[$rt]=$(bench_smaps "$pid" Private_Dirty)
	echo "$rt: shim pid $pid, idle Pss ${pss0[$rt]} kB, Private_Dirty ${dirty0[$rt]} kB; $execs execs..."
	start=$(bench_now_ns)
	for ((i = 0; i < execs; i++)); do
		ctr task exec --exec-id "e$i" "$id" true </dev/null
	done
	end=$(bench_now_ns)
	sleep 1
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

declare -A podpss
for rt in $(bench_runtimes); do
	name=${rt#io.containerd.}
	name=${name%%.*}
	for ((i = 0; i < pods; i++)); do
		ctr run -d --null-io --runtime "$rt" "$bench_image" "pod-$name-$i" sleep 1000000
	done
	for ((i = 0; i < pods; i++)); do
		bench_wait_running "pod-$name-$i"
	done
	sleep 1
	podpss[$rt]=$(bench_shims_total "$(bench_shim_bin "$rt")" Pss)
	echo "$rt: $pods idle pods, shims' total Pss ${podpss[$rt]} kB"
	for ((i = 0; i < pods; i++)); do
		bench_remove "pod-$name-$i"
	done
done
printf '%-24s %16s\n' runtime "Pss ${pods} pods kB"
for rt in $(bench_runtimes); do
	printf '%-24s %16s\n' "$rt" "${podpss[$rt]}"
done
printf '%-24s %16s\n' "ratio husk/runc" "$(bench_ratio "${podpss[$h]:-}" "${podpss[$r]}")"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ -n "${podpss[$h]:-}" ]; then
	verdict=$([ "${podpss[$h]}" -le 6144 ] && echo met || echo 'NOT MET')
	printf '%-58s %-8s %s\n' "goal: $pods idle pods' shims <= 6 MiB Pss" "$verdict" \
		"${podpss[$h]} KiB"
fi

if [ -n "${BENCH_RESULTS:-}" ]; then
	mkdir -p "$BENCH_RESULTS"
	{
		for rt in $(bench_runtimes); do
			n=$([ "$rt" = "$h" ] && echo husk || echo runc)
			echo "${n}_rss_kb ${rss0[$rt]}"
			echo "${n}_pss_kb ${pss0[$rt]}"
			echo "${n}_private_dirty_kb ${dirty0[$rt]}"
			echo "${n}_pss_after_execs_kb ${pss1[$rt]}"
			echo "${n}_private_dirty_after_execs_kb ${dirty1[$rt]}"
			echo "${n}_pods_pss_kb ${podpss[$rt]}"
		done
		echo "pods $pods"
		echo "execs $execs"
	} >"$BENCH_RESULTS/mem.out"
fi
