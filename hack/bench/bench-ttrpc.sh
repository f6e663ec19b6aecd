#!/usr/bin/env bash
# bench-ttrpc.sh: the ttrpc layer alone. One Go ttrpc client (test/interop/peer, Debian's
# containerd/ttrpc 1.1.1) drives a trivial echo method with BENCH_CONC (64) concurrent calls
# over one connection, as containerd shares one connection per task, against
#   - husk: our server (test/interop/echo_server.c, libhusk-ttrpc on libuv, one thread)
#   - go:   the Go ttrpc server (ttrpc-peer server), GOMAXPROCS unchanged
# in the same run, and prints requests/second and p50/p99 latency side by side with
# husk/go ratios (rps: higher is better; latency: lower is better).
#
# Knobs: BENCH_CALLS (200000), BENCH_CONC (64), BENCH_SIZE (64 bytes of payload),
# BENCH_BUILD (build/bench: an optimised gcc build made here, no sanitizers).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
calls=${BENCH_CALLS:-200000}
conc=${BENCH_CONC:-64}
size=${BENCH_SIZE:-64}
build=${BENCH_BUILD:-$top/build/bench}

cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=gcc \
	>/dev/null
cmake --build "$build" -j"$(nproc)" --target ttrpc-echo-server ttrpc-peer >/dev/null
peer=$build/test/interop/ttrpc-peer
server=$build/test/ttrpc-echo-server

dir=$(mktemp -d "${TMPDIR:-/tmp}/husk-bench-ttrpc-XXXXXX")
pid=
cleanup() {
	[ -z "$pid" ] || kill "$pid" 2>/dev/null || true
	wait 2>/dev/null || true
	rm -rf "$dir"
}
trap cleanup EXIT

# start_server NAME CMD...: run it with stdout to a fifo and wait for "ready".
start_server() {
	local name=$1
	shift
	mkfifo "$dir/$name.out"
	"$@" >"$dir/$name.out" &
	pid=$!
	local line
	read -r line <"$dir/$name.out"
	[ "$line" = ready ] || { echo "bench: $name server said '$line'" >&2; exit 1; }
	cat "$dir/$name.out" >/dev/null &
}

stop_server() {
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	pid=
}

declare -A rps p50 p99
run() {
	local name=$1 sock=$dir/$1.sock
	shift
	start_server "$name" "$@" "$sock"
	local out
	out=$("$peer" bench -addr "$sock" -n "$calls" -c "$conc" -size "$size")
	stop_server
	# rps=… p50_us=… p99_us=…
	rps[$name]=$(sed -n 's/.*rps=\([0-9.]*\).*/\1/p' <<<"$out")
	p50[$name]=$(sed -n 's/.*p50_us=\([0-9.]*\).*/\1/p' <<<"$out")
	p99[$name]=$(sed -n 's/.*p99_us=\([0-9.]*\).*/\1/p' <<<"$out")
	echo "$name: $out"
}

echo "bench-ttrpc: $calls echo calls of $size bytes, $conc concurrent, one connection, $(nproc) CPUs"
run husk "$server"
run go "$peer" server -addr
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
printf '\n%-14s %12s %12s %12s\n' metric husk go husk/go
printf '%-14s %12.0f %12.0f %12s\n' "requests/s" "${rps[husk]}" "${rps[go]}" \
	"$(ratio "${rps[husk]}" "${rps[go]}")"
printf '%-14s %12.1f %12.1f %12s\n' "p50 (us)" "${p50[husk]}" "${p50[go]}" \
	"$(ratio "${p50[husk]}" "${p50[go]}")"
printf '%-14s %12.1f %12.1f %12s\n' "p99 (us)" "${p99[husk]}" "${p99[go]}" \
	"$(ratio "${p99[husk]}" "${p99[go]}")"
