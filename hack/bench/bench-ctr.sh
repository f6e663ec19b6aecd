#!/usr/bin/env bash
# bench-ctr.sh: end-to-end latency through a private containerd, husk vs
# containerd-shim-runc-v2 in the same run.
#
#   run   median wall time of `ctr run --rm --runtime RT busybox ID /bin/true`
#         (shim start, Create, Start, Wait, Delete, Shutdown, shim exit)
#   exec  median wall time of `ctr task exec ... /bin/true` into a running container
#         (Exec, Start, Wait, Delete of one process)
#
# BENCH_RUNS (default 30) samples each, after BENCH_WARMUP (default 3) unmeasured ones.
# Includes ctr's own start-up (about 10 ms), the same for both runtimes. Prints medians in
# ms and husk/runc ratios (lower is better). Run as root.
set -euo pipefail
# shellcheck source=hack/bench/lib.sh
. "$(dirname "$0")/lib.sh"

runs=${BENCH_RUNS:-30}
warmup=${BENCH_WARMUP:-3}
bench_setup

# Wall time of one command in ms (fractional).
time_ms() {
	local s e
	s=$(bench_now_ns)
	"$@" </dev/null >/dev/null
	e=$(bench_now_ns)
	awk -v d=$((e - s)) 'BEGIN { printf "%.2f\n", d / 1e6 }'
}

declare -A run_ms exec_ms
for rt in $(bench_runtimes); do
	name=${rt#io.containerd.}
	name=${name%%.*}
	samples=()
	for ((i = 0; i < warmup + runs; i++)); do
		t=$(time_ms ctr run --rm --runtime "$rt" "$bench_image" "run-$name-$i" /bin/true)
		((i < warmup)) || samples+=("$t")
	done
	run_ms[$rt]=$(printf '%s\n' "${samples[@]}" | bench_median)

	id=exec-$name
	ctr run -d --null-io --runtime "$rt" "$bench_image" "$id" sleep 1000000
	bench_wait_running "$id"
	samples=()
	for ((i = 0; i < warmup + runs; i++)); do
		t=$(time_ms ctr task exec --exec-id "x$i" "$id" /bin/true)
		((i < warmup)) || samples+=("$t")
	done
	exec_ms[$rt]=$(printf '%s\n' "${samples[@]}" | bench_median)
	bench_remove "$id"
	echo "$rt: run ${run_ms[$rt]} ms, exec ${exec_ms[$rt]} ms (median of $runs)"
done

h=$HUSK_RUNTIME
r=$RUNC_RUNTIME
echo
printf '%-24s %14s %14s\n' runtime "run --rm ms" "exec ms"
for rt in $(bench_runtimes); do
	printf '%-24s %14s %14s\n' "$rt" "${run_ms[$rt]}" "${exec_ms[$rt]}"
done
printf '%-24s %14s %14s\n' "ratio husk/runc" "$(bench_ratio "${run_ms[$h]:-}" "${run_ms[$r]}")" \
	"$(bench_ratio "${exec_ms[$h]:-}" "${exec_ms[$r]}")"
