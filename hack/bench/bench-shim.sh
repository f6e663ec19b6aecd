#!/usr/bin/env bash
# bench-shim.sh: the shim-level benchmark. Drives each shim binary directly over ttrpc, as
# containerd does but with no containerd or ctr in the loop (the bench-shim program built
# with the tests): a /bin/true container's Create+Start+Wait+Delete, an exec cycle, and
# the shim's Private_Dirty idle and after the execs. husk and containerd-shim-runc-v2 run
# in the same invocation; the last column is husk/runc (lower is better).
#
# BENCH_LIFECYCLES (100) and BENCH_EXECS (1000) set the counts.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

lifecycles=${BENCH_LIFECYCLES:-100}
execs=${BENCH_EXECS:-1000}

if [ "$(id -u)" -ne 0 ]; then
	echo "bench-shim: run as root" >&2
	exit 1
fi
husk=$(bench_find_shim)
runc=$(command -v containerd-shim-runc-v2 || true)
driver=""
for c in release demo dev asan; do
	if [ -x "$bench_top/build/$c/test/bench-shim" ]; then
		driver=$bench_top/build/$c/test/bench-shim
		break
	fi
done
if [ -z "$driver" ]; then
	echo "bench-shim: build the tests first (the bench-shim target)" >&2
	exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/husk-bench-shim-XXXXXX")
trap 'rm -rf "$work"' EXIT

run_one() { # name shim → key value lines in $work/<name>.out
	local name=$1 shim=$2
	mkdir -p "$work/$name/bundle"
	"$bench_top/hack/mkrootfs.sh" "$work/$name/bundle/rootfs" >/dev/null
	echo "bench-shim: $name ($shim): $lifecycles lifecycles, $execs execs" >&2
	"$driver" "$shim" "$work/$name/bundle" "$work/$name" "$lifecycles" "$execs" \
		>"$work/$name.out"
}

[ -n "$husk" ] && run_one husk "$husk"
[ -n "$runc" ] && run_one runc "$runc"

printf '%-30s %12s %12s %8s\n' metric husk runc-v2 ratio
keys=$(cat "$work"/*.out | awk '{print $1}' | awk '!seen[$0]++')
for k in $keys; do
	h=$(awk -v k="$k" '$1 == k {print $2}' "$work/husk.out" 2>/dev/null || true)
	r=$(awk -v k="$k" '$1 == k {print $2}' "$work/runc.out" 2>/dev/null || true)
	ratio=n/a
	if [ -n "$h" ] && [ -n "$r" ]; then
		ratio=$(awk -v h="$h" -v r="$r" 'BEGIN { if (r > 0) printf "%.3f", h / r; else print "n/a" }')
	fi
	printf '%-30s %12s %12s %8s\n' "$k" "${h:-n/a}" "${r:-n/a}" "$ratio"
done
