#!/usr/bin/env bash
# bench-scale.sh: how the shim's memory and a container's lifecycle grow with scale, husk
# and containerd-shim-runc-v2 in the same run.
#
# - One pod: the bench-shim driver grows one shim to BENCH_POD_POINTS (1,16,64,256) sleeping
#   containers; at each, the shim's Pss and the median of 10 /bin/true lifecycles in it.
# - Many pods: through a private containerd, BENCH_PODS_POINTS (1,16,64,200) idle pods (one
#   sleeping container and shim each); at each, all shims' total Pss and the median of 5
#   `ctr run --rm ... /bin/true`.
#
# The points are samples, so the run stays bounded (a few minutes). BENCH_RESULTS=DIR keeps
# scale.out ("key value" lines) for report.sh. Run as root.
set -euo pipefail
# shellcheck source=hack/bench/lib.sh
. "$(dirname "$0")/lib.sh"

pod_points=${BENCH_POD_POINTS:-1,16,64,256}
pods_points=${BENCH_PODS_POINTS:-1,16,64,200}
out_dir=${BENCH_RESULTS:-}

if [ "$(id -u)" -ne 0 ]; then
	echo "bench-scale: run as root" >&2
	exit 1
fi
driver=$(bench_find_test_binary bench-shim)
if [ -z "$driver" ]; then
	echo "bench-scale: build the tests first (the bench-shim target)" >&2
	exit 1
fi
husk=$(bench_find_shim)
runc=$(command -v containerd-shim-runc-v2 || true)
work=$(mktemp -d "${TMPDIR:-/tmp}/husk-bench-scale-XXXXXX")
results=$work/scale.out
: >"$results"

# ---- one pod ----
pod_one() { # name shim
	local name=$1 shim=$2
	mkdir -p "$work/$name/bundle"
	"$bench_top/hack/mkrootfs.sh" "$work/$name/bundle/rootfs" >/dev/null
	echo "bench-scale: one $name pod growing to $pod_points containers" >&2
	BENCH_SCALE=$pod_points "$driver" "$shim" "$work/$name/bundle" "$work/$name" 0 0 0 0 |
		awk -v n="$name" '/^scale_/ { sub(/^scale_/, "pod_" n "_"); print }' >>"$results"
}
[ -n "$husk" ] && pod_one husk "$husk"
[ -n "$runc" ] && pod_one runc "$runc"

# ---- many pods ----
bench_setup
for rt in $(bench_runtimes); do
	name=$([ "$rt" = "$HUSK_RUNTIME" ] && echo husk || echo runc)
	have=0
	for want in ${pods_points//,/ }; do
		echo "bench-scale: $name: growing to $want pods" >&2
		for (( ; have < want; have++)); do
			ctr run -d --null-io --runtime "$rt" "$bench_image" "p-$name-$have" sleep 1000000
		done
		for ((i = 0; i < want; i++)); do
			bench_wait_running "p-$name-$i"
		done
		pss=$(bench_shims_total "$(bench_shim_bin "$rt")" Pss)
		samples=()
		for ((i = 0; i < 5; i++)); do
			s=$(bench_now_ns)
			ctr run --rm --runtime "$rt" "$bench_image" "t-$name-$want-$i" /bin/true
			e=$(bench_now_ns)
			samples+=("$(awk -v d=$((e - s)) 'BEGIN { printf "%.3f", d / 1e6 }')")
		done
		run_ms=$(printf '%s\n' "${samples[@]}" | bench_median)
		# The measured run's own shim is gone by now: the total is the idle pods'.
		echo "pods_${name}_${want}_pss_kb $pss" >>"$results"
		echo "pods_${name}_${want}_run_ms $run_ms" >>"$results"
	done
	for ((i = 0; i < have; i++)); do
		bench_remove "p-$name-$i"
	done
done
echo "load_avg_end $(cut -d' ' -f1 /proc/loadavg)" >>"$results"

echo
printf '%-10s %6s %14s %14s %16s %16s\n' scale n "husk Pss kB" "runc Pss kB" "husk life ms" \
	"runc life ms"
v() { awk -v k="$1" '$1 == k { print $2 }' "$results"; }
for n in ${pod_points//,/ }; do
	printf '%-10s %6s %14s %14s %16s %16s\n' "one pod" "$n" "$(v "pod_husk_${n}_pss_kb")" \
		"$(v "pod_runc_${n}_pss_kb")" "$(v "pod_husk_${n}_lifecycle_ms")" \
		"$(v "pod_runc_${n}_lifecycle_ms")"
done
for n in ${pods_points//,/ }; do
	printf '%-10s %6s %14s %14s %16s %16s\n' "pods" "$n" "$(v "pods_husk_${n}_pss_kb")" \
		"$(v "pods_runc_${n}_pss_kb")" "$(v "pods_husk_${n}_run_ms")" \
		"$(v "pods_runc_${n}_run_ms")"
done
echo "(one pod: the shim's Pss and a Create+Start+Wait+Delete in it; pods: all shims' Pss"
echo " and a whole 'ctr run --rm /bin/true' beside them; load average at the end:" \
	"$(cut -d' ' -f1-3 /proc/loadavg))"
if [ -n "$out_dir" ]; then
	mkdir -p "$out_dir"
	cp "$results" "$out_dir/scale.out"
fi
rm -rf "$work"
