# shellcheck shell=bash
# Shared set-up for the containerd-level benchmarks (bench-mem.sh, bench-ctr.sh): a private
# containerd (hack/containerd.sh) in a temp dir with the busybox image imported, both
# runtimes, and small helpers. Sourced, not run.

bench_top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bench_image=docker.io/library/busybox:latest
bench_ns=husk-bench
HUSK_RUNTIME=io.containerd.husk.v2
RUNC_RUNTIME=io.containerd.runc.v2

# The husk shim to measure: $HUSK_SHIM, else the first built one, preferring optimised
# builds (a sanitizer build would measure ASan, not husk).
bench_find_shim() {
	local c
	if [ -n "${HUSK_SHIM:-}" ]; then
		echo "$HUSK_SHIM"
		return
	fi
	for c in release demo dev asan; do
		if [ -x "$bench_top/build/$c/shim/containerd-shim-husk-v2" ]; then
			echo "$bench_top/build/$c/shim/containerd-shim-husk-v2"
			return
		fi
	done
}

# Runtimes to compare: husk (when a shim is built) and the reference.
bench_runtimes() {
	if [ -n "$bench_shim" ]; then
		echo "$HUSK_RUNTIME"
	fi
	echo "$RUNC_RUNTIME"
}

bench_setup() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "bench: run as root" >&2
		exit 1
	fi
	bench_shim=$(bench_find_shim)
	if [ -z "$bench_shim" ]; then
		echo "bench: no containerd-shim-husk-v2 built; measuring $RUNC_RUNTIME only" >&2
	else
		echo "bench: husk shim $bench_shim"
	fi
	bench_dir=$(mktemp -d "${TMPDIR:-/tmp}/husk-bench-XXXXXX")
	trap bench_teardown EXIT
	trap 'exit 130' INT TERM
	HUSK_SHIM=$bench_shim "$bench_top/hack/containerd.sh" start "$bench_dir"
	export CONTAINERD_ADDRESS=$bench_dir/containerd.sock
	export CONTAINERD_NAMESPACE=$bench_ns
	"$bench_top/hack/mkimage.sh" "$bench_dir/busybox.tar" "$bench_image" >/dev/null
	ctr images import "$bench_dir/busybox.tar" >/dev/null
}

bench_teardown() {
	local rc=$?
	"$bench_top/hack/containerd.sh" stop "$bench_dir" || true
	rm -rf "$bench_dir"
	exit $rc
}

# Pid of the shim serving task id (its argv holds -address <our socket> and -id <id>).
bench_shim_pid() {
	local id=$1 p argv
	for p in /proc/[0-9]*; do
		argv=$(tr '\0' ' ' 2>/dev/null <"$p/cmdline") || continue
		case $argv in
		*containerd-shim*" -address $CONTAINERD_ADDRESS"*" start"*) ;;
		*containerd-shim*" -address $CONTAINERD_ADDRESS"*)
			case " $argv " in *" -id $id "*)
				echo "${p#/proc/}"
				return 0
				;;
			esac
			;;
		esac
	done
	return 1
}

# A field of /proc/PID/smaps_rollup in kB.
bench_smaps() {
	awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/smaps_rollup"
}

# Median of the numbers on stdin.
bench_median() {
	sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# "a / b" with two decimals, or n/a.
bench_ratio() {
	if [ -z "$1" ] || [ -z "$2" ] || [ "$2" = 0 ]; then
		echo n/a
	else
		awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'
	fi
}

bench_now_ns() { date +%s%N; }

# Wait until task id is RUNNING (bounded).
bench_wait_running() {
	local i
	for ((i = 0; i < 500; i++)); do
		if ctr task ls 2>/dev/null | awk -v id="$1" '$1 == id && $3 == "RUNNING" { f = 1 } END { exit !f }'; then
			return 0
		fi
		sleep 0.02
	done
	echo "bench: task $1 did not start" >&2
	return 1
}

bench_remove() {
	ctr task kill -s KILL "$1" >/dev/null 2>&1 || true
	ctr task rm -f "$1" >/dev/null 2>&1 || true
	ctr containers rm "$1" >/dev/null 2>&1 || true
}

# A benchmark program built with the tests (bench-shim, bench-floor): the first build that
# has it, optimised builds first.
bench_find_test_binary() {
	local c
	for c in release demo dev asan; do
		if [ -x "$bench_top/build/$c/test/$1" ]; then
			echo "$bench_top/build/$c/test/$1"
			return
		fi
	done
}

# The cgroup layout: v2 (one unified tree), hybrid (v1 controllers and a unified tree) or v1.
bench_cgroup_mode() {
	if [ "$(stat -f -c %T /sys/fs/cgroup 2>/dev/null)" = cgroup2fs ]; then
		echo v2
	elif awk '$3 == "cgroup2" { f = 1 } END { exit !f }' /proc/mounts; then
		echo hybrid
	else
		echo v1
	fi
}

# Whether a cgroup2 mount has favordynmods: without it, the first cgroup.procs write after
# a pause waits for an RCU grace period (the global cgroup_threadgroup_rwsem), every
# hierarchy included. It can be turned on (`mount -o remount,favordynmods` on the cgroup2
# mount) but not off again until reboot, so the benchmarks only report it.
bench_favordynmods() {
	if awk '$3 == "cgroup2" && $4 ~ /favordynmods/ { f = 1 } END { exit !f }' /proc/mounts; then
		echo on
	else
		echo off
	fi
}

# "key value" lines describing the machine and the moment, for reports.
bench_host_info() {
	echo "date $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "kernel $(uname -r)"
	echo "cpu $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo | tr ' ' '_')"
	echo "cpus $(nproc)"
	echo "memory_mib $(awk '/^MemTotal/ { print int($2 / 1024) }' /proc/meminfo)"
	echo "cgroup_mode $(bench_cgroup_mode)"
	echo "favordynmods $(bench_favordynmods)"
	echo "loadavg_1m $(cut -d' ' -f1 /proc/loadavg)"
	echo "loadavg_5m $(cut -d' ' -f2 /proc/loadavg)"
	echo "containerd $(containerd --version 2>/dev/null | awk '{print $3}')"
	echo "runc $(runc --version 2>/dev/null | awk 'NR == 1 {print $3}')"
}

# Sum of a smaps_rollup field (kB) over every shim daemon of runtime binary $1
# (containerd-shim-husk-v2 or containerd-shim-runc-v2) serving our private containerd.
bench_shims_total() {
	local bin=$1 key=$2 p argv total=0 v
	for p in /proc/[0-9]*; do
		argv=$(tr '\0' ' ' 2>/dev/null <"$p/cmdline") || continue
		case $argv in
		*"$bin"*" -address $CONTAINERD_ADDRESS"*" start"*) continue ;;
		*"$bin"*" -address $CONTAINERD_ADDRESS"*) ;;
		*) continue ;;
		esac
		v=$(awk -v k="$key:" '$1 == k { print $2 }' "$p/smaps_rollup" 2>/dev/null || true)
		total=$((total + ${v:-0}))
	done
	echo "$total"
}

# The shim binary name of a runtime.
bench_shim_bin() {
	case $1 in
	"$HUSK_RUNTIME") echo containerd-shim-husk-v2 ;;
	*) echo containerd-shim-runc-v2 ;;
	esac
}
