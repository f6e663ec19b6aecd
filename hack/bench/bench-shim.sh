#!/usr/bin/env bash
# bench-shim.sh: the shim-level benchmark. Drives each shim binary directly over ttrpc, as
# containerd does but with no containerd or ctr in the loop (the bench-shim program built
# with the tests): a /bin/true container's Create+Start+Wait+Delete, an exec cycle, a single
# exec after BENCH_IDLE_S seconds idle, and the shim's Private_Dirty idle, after the
# lifecycles and after the execs. The spec is containerd's default (`ctr oci spec`).
#
# husk, containerd-shim-runc-v2 and the floor (bench-floor: the same container's and exec's
# kernel work with no runtime at all) run in the same invocation. The table shows medians
# (p50) and ratios; then each goal, met or not met, with its figure.
#
# BENCH_LIFECYCLES (100), BENCH_EXECS (1000), BENCH_IDLE_S (10) and BENCH_IDLE_EXECS (3) set
# the counts. BENCH_RESULTS=DIR keeps the raw "key value" output of each (husk.out,
# runc.out, floor.out, host.out) for hack/bench/report.sh.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

lifecycles=${BENCH_LIFECYCLES:-100}
execs=${BENCH_EXECS:-1000}
idle_s=${BENCH_IDLE_S:-10}
idle_execs=${BENCH_IDLE_EXECS:-3}

if [ "$(id -u)" -ne 0 ]; then
	echo "bench-shim: run as root" >&2
	exit 1
fi
husk=$(bench_find_shim)
runc=$(command -v containerd-shim-runc-v2 || true)
driver=$(bench_find_test_binary bench-shim)
floor=$(bench_find_test_binary bench-floor)
if [ -z "$driver" ] || [ -z "$floor" ]; then
	echo "bench-shim: build the tests first (the bench-shim and bench-floor targets)" >&2
	exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/husk-bench-shim-XXXXXX")
trap 'rm -rf "$work"' EXIT
out=${BENCH_RESULTS:-$work/results}
mkdir -p "$out"

bench_host_info >"$out/host.out"
sed 's/^/bench-shim: /' "$out/host.out" >&2

run_one() { # name shim → key value lines in $out/<name>.out
	local name=$1 shim=$2
	mkdir -p "$work/$name/bundle"
	"$bench_top/hack/mkrootfs.sh" "$work/$name/bundle/rootfs" >/dev/null
	echo "bench-shim: $name ($shim): $lifecycles lifecycles, $execs execs, $idle_execs execs after ${idle_s}s idle" >&2
	"$driver" "$shim" "$work/$name/bundle" "$work/$name" "$lifecycles" "$execs" "$idle_s" \
		"$idle_execs" >"$out/$name.out"
}

[ -n "$husk" ] && run_one husk "$husk"
[ -n "$runc" ] && run_one runc "$runc"
mkdir -p "$work/floor"
"$bench_top/hack/mkrootfs.sh" "$work/floor/rootfs" >/dev/null
echo "bench-shim: floor ($floor): the same kernel work, no runtime" >&2
"$floor" "$work/floor/rootfs" "$lifecycles" "$execs" "$idle_s" "$idle_execs" >"$out/floor.out"

val() { awk -v k="$2" '$1 == k {print $2}' "$out/$1.out" 2>/dev/null || true; }
ratio() { # a b → a/b with two decimals, or n/a
	if [ -n "$1" ] && [ -n "$2" ]; then
		awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'
	else
		echo n/a
	fi
}

echo
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-34s %10s %10s %10s %11s %11s %10s\n' metric husk runc-v2 floor husk/floor \
	runc/floor husk/runc
keys=$(cat "$out"/husk.out "$out"/runc.out "$out"/floor.out 2>/dev/null | awk '{print $1}' |
	awk '!seen[$0]++' | grep -v '_p9[09]_ms$' || true)
for k in $keys; do
	h=$(val husk "$k")
	r=$(val runc "$k")
	f=$(val floor "$k")
	printf '%-34s %10s %10s %10s %11s %11s %10s\n' "$k" "${h:-n/a}" "${r:-n/a}" "${f:-n/a}" \
		"$(ratio "$h" "$f")" "$(ratio "$r" "$f")" "$(ratio "$h" "$r")"
done

# Goals: each met or not met, with the figure it was judged on.
goal() { # description verdict(0/1) figure
	printf '%-58s %-8s %s\n' "$1" "$([ "$2" = 1 ] && echo met || echo 'NOT MET')" "$3"
}
le() { awk -v a="$1" -v b="$2" 'BEGIN { print (a != "" && b != "" && a + 0 <= b + 0) ? 1 : 0 }'; }
echo
echo "goals (husk):"
for m in lifecycle exec exec_idle; do
	h=$(val husk "${m}_p50_ms")
	f=$(val floor "${m}_p50_ms")
	lim=$(awk -v f="$f" 'BEGIN { printf "%.3f", f * 1.3 }')
	goal "$m p50 <= 1.3 x floor" "$(le "$h" "$lim")" \
		"${h:-n/a} ms vs floor ${f:-n/a} ms (x$(ratio "$h" "$f"))"
done
idle=$(val husk private_dirty_idle_kb)
goal "idle Private_Dirty <= 200 KiB" "$(le "$idle" 200)" "${idle:-n/a} KiB"
for k in lifecycles execs; do
	a=$(val husk "private_dirty_after_${k}_kb")
	d=$(awk -v a="$a" -v i="$idle" 'BEGIN { if (a == "" || i == "") print ""; else print a - i }')
	n=$([ $k = lifecycles ] && echo "$lifecycles" || echo "$execs")
	goal "Private_Dirty after $n $k within 8 KiB of idle" "$(le "${d#-}" 8)" \
		"${a:-n/a} KiB (${d:-n/a} KiB from idle)"
done
