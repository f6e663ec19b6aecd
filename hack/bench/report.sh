#!/usr/bin/env bash
# report.sh: run the shim benchmarks and render husk, the reference (containerd-shim-runc-v2)
# and the floor (bench-floor) side by side: charts (gnuplot, PNG) next to markdown tables
# with the machine and its load, and the goals met or not. Writes OUT_DIR (default
# docs/bench/): report.md, latency.png, memory.png, scale-pod.png, scale-pods.png, and the
# raw "key value" outputs under raw/.
#
# usage: sudo hack/bench/report.sh [OUT_DIR]
# Knobs: those of bench-shim.sh, bench-mem.sh and bench-scale.sh (BENCH_LIFECYCLES,
# BENCH_EXECS, BENCH_IDLE_S, BENCH_IDLE_EXECS, BENCH_PODS, BENCH_POD_POINTS,
# BENCH_PODS_POINTS). BENCH_SKIP_SCALE=1 leaves the scale section out (minutes saved);
# BENCH_RENDER_ONLY=1 renders OUT_DIR/raw again without running anything.
# gnuplot is a Debian package (gnuplot-nox); installed here when missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
out=${1:-$top/docs/bench}

if [ "$(id -u)" -ne 0 ]; then
	echo "report: run as root" >&2
	exit 1
fi
if ! command -v gnuplot >/dev/null; then
	echo "report: installing gnuplot-nox" >&2
	apt-get install -o DPkg::Lock::Timeout=600 -y --no-install-recommends gnuplot-nox >/dev/null
fi

raw=$out/raw
mkdir -p "$raw"
if [ -z "${BENCH_RENDER_ONLY:-}" ]; then
	rm -f "$raw"/*.out
	log=$raw/run.log
	: >"$log"
	echo "report: bench-shim.sh" >&2
	BENCH_RESULTS=$raw "$here/bench-shim.sh" >>"$log" 2>&1
	echo "report: bench-mem.sh" >&2
	BENCH_RESULTS=$raw BENCH_EXECS=${BENCH_MEM_EXECS:-1000} "$here/bench-mem.sh" >>"$log" 2>&1
	if [ -z "${BENCH_SKIP_SCALE:-}" ]; then
		echo "report: bench-scale.sh" >&2
		BENCH_RESULTS=$raw "$here/bench-scale.sh" >>"$log" 2>&1
	fi
fi

v() { awk -v k="$2" '$1 == k { print $2 }' "$raw/$1.out" 2>/dev/null || true; }
ratio() {
	if [ -n "$1" ] && [ -n "$2" ]; then
		awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'
	else
		echo n/a
	fi
}
le() { awk -v a="$1" -v b="$2" 'BEGIN { print (a != "" && b != "" && a + 0 <= b + 0) ? "met" : "**not met**" }'; }

# ---- charts ----
lat=$raw/latency.dat
{
	for m in lifecycle exec exec_idle; do
		echo "$m $(v husk "${m}_p50_ms") $(v runc "${m}_p50_ms") $(v floor "${m}_p50_ms")"
	done
	echo "start_reuse $(v husk start_reuse_p50_ms) $(v runc start_reuse_p50_ms) 0"
} >"$lat"
mem=$raw/memory.dat
{
	echo "idle_PrivDirty $(v husk private_dirty_idle_kb) $(v runc private_dirty_idle_kb)"
	echo "PrivDirty_after_lifecycles $(v husk private_dirty_after_lifecycles_kb) $(v runc private_dirty_after_lifecycles_kb)"
	echo "PrivDirty_after_execs $(v husk private_dirty_after_execs_kb) $(v runc private_dirty_after_execs_kb)"
	echo "idle_Pss $(v mem husk_pss_kb) $(v mem runc_pss_kb)"
} >"$mem"

gnuplot <<EOF
set terminal pngcairo size 900,420 font ",10" noenhanced
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set key top left
set grid ytics
set yrange [0:*]
set output "$out/latency.png"
set title "Latency, median ms (lower is better): husk, containerd-shim-runc-v2, kernel floor"
set ylabel "ms"
plot "$lat" using 2:xtic(1) title "husk" lc rgb "#2a9d8f", \
     "" using 3 title "runc-v2 (reference)" lc rgb "#e76f51", \
     "" using 4 title "floor (kernel work only)" lc rgb "#8d99ae"
set output "$out/memory.png"
set title "One idle shim's memory, KiB (lower is better)"
set ylabel "KiB"
set logscale y
set yrange [10:*]
plot "$mem" using 2:xtic(1) title "husk" lc rgb "#2a9d8f", \
     "" using 3 title "runc-v2 (reference)" lc rgb "#e76f51"
EOF

if [ -f "$raw/scale.out" ]; then
	for kind in pod pods; do
		dat=$raw/scale-$kind.dat
		key=$([ $kind = pod ] && echo lifecycle_ms || echo run_ms)
		awk -v kind="$kind" -v key="$key" '
			{ split($1, p, "_"); if (p[1] != kind) next
			  n = p[3]; rt = p[2]; k = substr($1, length(p[1] p[2] p[3]) + 4)
			  if (k == "pss_kb") pss[n, rt] = $2; else if (k == key) ms[n, rt] = $2; ns[n] = 1 }
			END { for (n in ns) print n, pss[n, "husk"], pss[n, "runc"], ms[n, "husk"], ms[n, "runc"] }
		' "$raw/scale.out" | sort -n >"$dat"
	done
	gnuplot <<EOF
set terminal pngcairo size 900,420 font ",10" noenhanced
set key top left
set grid
set yrange [0:*]
set y2range [0:*]
set logscale x 2
set xlabel "containers in the pod"
set ylabel "shim Pss, MiB"
set y2label "lifecycle median, ms"
set ytics nomirror
set y2tics
set output "$out/scale-pod.png"
set title "One pod growing: the shim's memory and a lifecycle in it"
plot "$raw/scale-pod.dat" using 1:(\$2/1024) with linespoints title "husk Pss" lc rgb "#2a9d8f" lw 2, \
     "" using 1:(\$3/1024) with linespoints title "runc-v2 Pss" lc rgb "#e76f51" lw 2, \
     "" using 1:4 axes x1y2 with linespoints lc rgb "#2a9d8f" dashtype 2 title "husk lifecycle", \
     "" using 1:5 axes x1y2 with linespoints lc rgb "#e76f51" dashtype 2 title "runc-v2 lifecycle"
set output "$out/scale-pods.png"
set xlabel "idle pods (one shim each)"
set ylabel "all shims' Pss, MiB"
set y2label "ctr run --rm median, ms"
set title "Many pods: all shims' memory, and a container run beside them"
plot "$raw/scale-pods.dat" using 1:(\$2/1024) with linespoints title "husk Pss" lc rgb "#2a9d8f" lw 2, \
     "" using 1:(\$3/1024) with linespoints title "runc-v2 Pss" lc rgb "#e76f51" lw 2, \
     "" using 1:4 axes x1y2 with linespoints lc rgb "#2a9d8f" dashtype 2 title "husk ctr run", \
     "" using 1:5 axes x1y2 with linespoints lc rgb "#e76f51" dashtype 2 title "runc-v2 ctr run"
EOF
fi

# ---- markdown ----
md=$out/report.md
{
	echo "# husk benchmark report"
	echo
	echo "Generated by \`hack/bench/report.sh\` on $(v host date). One run: every column comes"
	echo "from the same invocation on the same machine, so read the **ratios**; absolute"
	echo "figures move with the machine's load."
	echo
	echo "| machine | |"
	echo "|---|---|"
	echo "| kernel | $(v host kernel) |"
	echo "| cpu | $(v host cpu | tr '_' ' ') × $(v host cpus) |"
	echo "| memory | $(v host memory_mib) MiB |"
	echo "| cgroups | $(v host cgroup_mode), favordynmods $(v host favordynmods) |"
	echo "| load average (1 min / 5 min) at the start | $(v host loadavg_1m) / $(v host loadavg_5m) |"
	echo "| containerd, runc | $(v host containerd), $(v host runc) |"
	echo "| husk commit | $(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo unknown) |"
	echo
	echo "## Latency (bench-shim.sh: the shim driven over ttrpc, containerd's default spec)"
	echo
	echo "![latency](latency.png)"
	echo
	echo "| median | husk | runc-v2 | floor | husk/floor | runc/floor | husk/runc |"
	echo "|---|---:|---:|---:|---:|---:|---:|"
	for m in lifecycle exec exec_idle; do
		h=$(v husk "${m}_p50_ms")
		r=$(v runc "${m}_p50_ms")
		f=$(v floor "${m}_p50_ms")
		echo "| $m (ms) | $h | $r | $f | $(ratio "$h" "$f") | $(ratio "$r" "$f") | $(ratio "$h" "$r") |"
	done
	for m in start_new_ms start_reuse_p50_ms; do
		h=$(v husk "$m")
		r=$(v runc "$m")
		echo "| ${m%_ms} (ms) | $h | $r | | | | $(ratio "$h" "$r") |"
	done
	echo
	echo "lifecycle: Create+Start+Wait+Delete of /bin/true; exec: Exec+Start+Wait+Delete of"
	echo "/bin/true in a running container; exec_idle: one exec after ${BENCH_IDLE_S:-10} s idle (a liveness"
	echo "probe); start_new: the \`start\` action for a new sandbox (it spawns the daemon, one"
	echo "sample); start_reuse: \`start\` for a pod's next container. The floor is the same"
	echo "kernel work with no runtime (hack/bench/bench_floor.c)."
	echo
	echo "Where a cycle's time goes: the median of each call, as the driver sees it (a call's"
	echo "median; they need not add up to the cycle's)."
	echo
	echo "| median ms | Create / Exec | Start | Wait | Delete |"
	echo "|---|---:|---:|---:|---:|"
	for rt in husk runc; do
		for m in lifecycle exec exec_idle; do
			first=Exec
			[ "$m" = lifecycle ] && first=Create
			echo "| $rt $m | $(v "$rt" "${m}_${first}_p50_ms") | $(v "$rt" "${m}_Start_p50_ms") | $(v "$rt" "${m}_Wait_p50_ms") | $(v "$rt" "${m}_Delete_p50_ms") |"
		done
	done
	echo
	echo "## Memory"
	echo
	echo "![memory](memory.png)"
	echo
	echo "| KiB | husk | runc-v2 | husk/runc |"
	echo "|---|---:|---:|---:|"
	for k in private_dirty_idle_kb private_dirty_after_lifecycles_kb private_dirty_after_execs_kb; do
		echo "| ${k%_kb} (bench-shim) | $(v husk "$k") | $(v runc "$k") | $(ratio "$(v husk "$k")" "$(v runc "$k")") |"
	done
	for k in pss_kb private_dirty_kb pss_after_execs_kb pods_pss_kb; do
		h=$(v mem "husk_$k")
		r=$(v mem "runc_$k")
		echo "| ${k%_kb} (bench-mem, through containerd) | $h | $r | $(ratio "$h" "$r") |"
	done
	echo
	echo "pods_pss: the total Pss of $(v mem pods) idle pods' shims."
	echo
	echo "## Goals"
	echo
	echo "| goal | figure | verdict |"
	echo "|---|---|---|"
	for m in lifecycle exec exec_idle; do
		h=$(v husk "${m}_p50_ms")
		f=$(v floor "${m}_p50_ms")
		lim=$(awk -v f="$f" 'BEGIN { printf "%.3f", f * 1.3 }')
		echo "| $m ≤ 1.3 × floor | $h ms vs $f ms (×$(ratio "$h" "$f")) | $(le "$h" "$lim") |"
	done
	idle=$(v husk private_dirty_idle_kb)
	echo "| idle Private_Dirty ≤ 200 KiB | $idle KiB | $(le "$idle" 200) |"
	for k in lifecycles execs; do
		a=$(v husk "private_dirty_after_${k}_kb")
		d=$(awk -v a="$a" -v i="$idle" 'BEGIN { d = a - i; if (d < 0) d = -d; print d }')
		echo "| Private_Dirty after the $k within 8 KiB of idle | $a KiB (Δ $d KiB) | $(le "$d" 8) |"
	done
	pp=$(v mem husk_pods_pss_kb)
	echo "| $(v mem pods) idle pods' shims ≤ 6 MiB Pss | $pp KiB | $(le "$pp" 6144) |"
	echo
	if [ -f "$raw/scale.out" ]; then
		echo "## Scale (bench-scale.sh)"
		echo
		echo "![one pod](scale-pod.png)"
		echo
		echo "![many pods](scale-pods.png)"
		echo
		echo "| one pod: containers | husk Pss KiB | runc-v2 Pss KiB | husk lifecycle ms | runc-v2 lifecycle ms |"
		echo "|---:|---:|---:|---:|---:|"
		while read -r n a b c d; do echo "| $n | $a | $b | $c | $d |"; done <"$raw/scale-pod.dat"
		echo
		echo "| idle pods | husk shims' Pss KiB | runc-v2 shims' Pss KiB | husk ctr run ms | runc-v2 ctr run ms |"
		echo "|---:|---:|---:|---:|---:|"
		while read -r n a b c d; do echo "| $n | $a | $b | $c | $d |"; done <"$raw/scale-pods.dat"
		echo
		echo "Load average at the end of the scale run: $(v scale load_avg_end)."
		echo
	fi
	if [ -f "$out/notes.md" ]; then
		cat "$out/notes.md"
	fi
} >"$md"
echo "report: $md" >&2
