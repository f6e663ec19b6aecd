#!/usr/bin/env bash
# containerd.sh start|stop|kill|env|status DIR: a private containerd under DIR.
#
# The instance has its own root (DIR/root), state (DIR/state), gRPC socket
# (DIR/containerd.sock), ttrpc socket (DIR/containerd.sock.ttrpc), opt dir (DIR/opt) and
# log (DIR/containerd.log), and no CRI plugin. The husk shim is registered by putting
# DIR/bin first on containerd's PATH, with DIR/bin/containerd-shim-husk-v2 a symlink to the
# built shim: containerd maps io.containerd.husk.v2 to containerd-shim-husk-v2 through PATH.
# The reference shim (io.containerd.runc.v2) is found in /usr/bin as usual.
#
#   start   write DIR/config.toml (first time), start containerd, wait until
#           `ctr version` answers. The shim binary is $HUSK_SHIM, else the first of
#           build/{asan,dev,demo,release}/shim/containerd-shim-husk-v2 that exists.
#   stop    delete every task and container through containerd, stop containerd, kill
#           any shim it started and their children, unmount everything under DIR and
#           remove the shims' sockets, fifos and cgroups. Safe to run twice.
#   kill    stop containerd only (SIGTERM); shims and tasks keep running (restart tests).
#   env     print `export CONTAINERD_ADDRESS=...` for eval.
#   status  exit 0 when containerd answers.
#
# With HUSK_CONTAINERD_WATCH_PID=PID, start also leaves a watcher that runs `stop DIR` once
# PID is gone: a test worker that crashes or times out does not leak its containerd.
#
# Shims started by this instance get ASAN_OPTIONS=log_path=DIR/asan:abort_on_error=1 (and
# UBSAN_OPTIONS=log_path=DIR/ubsan), so sanitizer reports from a shim whose stderr goes to
# containerd's log fifo land in DIR/asan.<pid> files that the tests check (STYLE.md §9).
# Shim sockets always live in /run/containerd/s (hard-coded in containerd).
set -euo pipefail

usage() {
	echo "usage: $0 start|stop|kill|env|status DIR" >&2
	exit 2
}

[ $# -eq 2 ] || usage
cmd=$1
dir=$2
case $dir in
/*) ;;
*) dir=$(pwd)/$dir ;;
esac
top=$(cd "$(dirname "$0")/.." && pwd)

sock=$dir/containerd.sock
pidfile=$dir/containerd.pid
log=$dir/containerd.log
timeout=${HUSK_CONTAINERD_TIMEOUT:-30}

ctr_() { ctr --address "$sock" "$@"; }

answers() { ctr_ --timeout 2s version >/dev/null 2>&1; }

containerd_pid() {
	local pid
	[ -f "$pidfile" ] || return 1
	pid=$(cat "$pidfile")
	[ -n "$pid" ] && [ -d "/proc/$pid" ] || return 1
	# The pid must still be our containerd, not a recycled pid.
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "--config $dir/config.toml" || return 1
	echo "$pid"
}

find_shim() {
	local c
	if [ -n "${HUSK_SHIM:-}" ]; then
		if [ -x "$HUSK_SHIM" ]; then
			echo "$HUSK_SHIM"
		else
			echo "containerd.sh: HUSK_SHIM=$HUSK_SHIM is not an executable" >&2
		fi
		return
	fi
	for c in asan dev demo release; do
		if [ -x "$top/build/$c/shim/containerd-shim-husk-v2" ]; then
			echo "$top/build/$c/shim/containerd-shim-husk-v2"
			return
		fi
	done
}

write_config() {
	cat >"$dir/config.toml" <<EOF
# Private containerd for husk tests and the demo (hack/containerd.sh).
version = 2
root = "$dir/root"
state = "$dir/state"
disabled_plugins = [
  "io.containerd.grpc.v1.cri",
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.internal.v1.tracing",
]

[grpc]
  address = "$sock"

[ttrpc]
  address = "$sock.ttrpc"

[debug]
  level = "${HUSK_CONTAINERD_LOG_LEVEL:-info}"

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = "$dir/opt"
EOF
}

start() {
	local shim pid i
	if containerd_pid >/dev/null && answers; then
		echo "containerd.sh: already running in $dir" >&2
		return 0
	fi
	mkdir -p "$dir/bin" "$dir/root" "$dir/state" "$dir/opt"
	chmod 0711 "$dir"
	[ -f "$dir/config.toml" ] || write_config
	shim=$(find_shim)
	if [ -n "$shim" ]; then
		ln -sfn "$(realpath "$shim")" "$dir/bin/containerd-shim-husk-v2"
	else
		rm -f "$dir/bin/containerd-shim-husk-v2"
		echo "containerd.sh: no containerd-shim-husk-v2 built; only other runtimes will work" >&2
	fi

	# setsid: containerd outlives this script and the caller's process group, as a
	# daemon would; stdin from /dev/null so it never holds a caller's pipe.
	PATH="$dir/bin:$PATH" \
		ASAN_OPTIONS="log_path=$dir/asan:abort_on_error=1" \
		UBSAN_OPTIONS="log_path=$dir/ubsan:print_stacktrace=1:halt_on_error=1" \
		setsid containerd --config "$dir/config.toml" </dev/null >>"$log" 2>&1 &
	pid=$!
	echo "$pid" >"$pidfile"

	for ((i = 0; i < timeout * 10; i++)); do
		if answers; then
			start_watcher
			return 0
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "containerd.sh: containerd exited; last lines of $log:" >&2
			tail -n 20 "$log" >&2
			return 1
		fi
		sleep 0.1
	done
	echo "containerd.sh: containerd did not answer within ${timeout}s; see $log" >&2
	return 1
}

start_watcher() {
	local w=${HUSK_CONTAINERD_WATCH_PID:-} old
	[ -n "$w" ] || return 0
	old=$(cat "$dir/watch.pid" 2>/dev/null || true)
	if [ -n "$old" ] && kill -0 "$old" 2>/dev/null; then
		return 0
	fi
	# Polls once a second: it is a safety net for crashed tests, not synchronisation.
	# shellcheck disable=SC2016 # expanded by the inner shell
	setsid bash -c 'while kill -0 "$1" 2>/dev/null; do sleep 1; done; exec "$2" stop "$3"' \
		watch "$w" "$top/hack/containerd.sh" "$dir" </dev/null >>"$dir/watch.log" 2>&1 &
	echo $! >"$dir/watch.pid"
}

stop_watcher() {
	local w
	w=$(cat "$dir/watch.pid" 2>/dev/null || true)
	rm -f "$dir/watch.pid"
	# The watcher execs `stop` itself: then $$ is the watcher's pid.
	if [ -n "$w" ] && [ "$w" != "$$" ]; then
		kill -- "-$w" 2>/dev/null || true
	fi
}

# Stop containerd itself; shims are separate processes and keep running.
stop_containerd() {
	local pid i
	pid=$(containerd_pid) || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
	rm -f "$pidfile"
}

# Delete every task and container through containerd, so the shims clean up as they
# would in normal use.
namespaces=()

delete_all() {
	local ns id
	answers || return 0
	mapfile -t namespaces < <(ctr_ namespaces ls -q 2>/dev/null)
	for ns in "${namespaces[@]}"; do
		for id in $(ctr_ -n "$ns" tasks ls -q 2>/dev/null); do
			ctr_ -n "$ns" --timeout 10s tasks kill -a -s KILL "$id" >/dev/null 2>&1 || true
			ctr_ -n "$ns" --timeout 10s tasks delete -f "$id" >/dev/null 2>&1 || true
		done
		for id in $(ctr_ -n "$ns" containers ls -q 2>/dev/null); do
			ctr_ -n "$ns" --timeout 10s containers delete "$id" >/dev/null 2>&1 || true
		done
	done
}

# Pids of shims started by this containerd (their argv carries -address DIR/containerd.sock).
shim_pids() {
	local p
	for p in /proc/[0-9]*; do
		tr '\0' '\n' 2>/dev/null <"$p/cmdline" | grep -qxF -- "$sock" || continue
		tr '\0' '\n' 2>/dev/null <"$p/cmdline" | head -n1 | grep -q 'containerd-shim' || continue
		echo "${p#/proc/}"
	done
}

descendants() {
	local c
	# children files hold space-separated pids on one line.
	for c in $(tr ' ' '\n' < <(cat /proc/"$1"/task/*/children 2>/dev/null)); do
		echo "$c"
		descendants "$c"
	done
}

kill_shims() {
	local pids=() p
	for p in $(shim_pids); do
		pids+=("$p")
		mapfile -t -O "${#pids[@]}" pids < <(descendants "$p")
	done
	[ ${#pids[@]} -gt 0 ] || return 0
	kill -KILL "${pids[@]}" 2>/dev/null || true
	for p in "${pids[@]}"; do
		while [ -d "/proc/$p" ] && ! grep -q '^State:.*Z' "/proc/$p/status" 2>/dev/null; do
			sleep 0.05
		done
	done
}

# Bundles: DIR/state/io.containerd.runtime.v2.task/<ns>/<id>.
cleanup_bundles() {
	local b addr cg c
	for b in "$dir"/state/io.containerd.runtime.v2.task/*/*; do
		[ -d "$b" ] || continue
		if [ -f "$b/address" ]; then
			addr=$(cat "$b/address")
			addr=${addr#unix://}
			case $addr in /run/containerd/s/*) rm -f "$addr" ;; esac
		fi
		cg=$(grep -o '"cgroupsPath":"[^"]*"' "$b/config.json" 2>/dev/null | cut -d'"' -f4 || true)
		case $cg in
		/*/*)
			for c in /sys/fs/cgroup/*"$cg" /sys/fs/cgroup"$cg"; do
				if [ -d "$c" ]; then rmdir "$c" 2>/dev/null || true; fi
			done
			;;
		esac
	done
}

# Namespace-level dirs that containerd and the shims leave once the containers are gone;
# rmdir removes only empty ones (a system containerd may share a namespace name).
remove_namespace_dirs() {
	local ns d
	for ns in "${namespaces[@]}"; do
		for d in /sys/fs/cgroup/*/"$ns" /sys/fs/cgroup/"$ns" /run/containerd/runc/"$ns" \
			/run/containerd/husk/"$ns"; do
			if [ -d "$d" ]; then rmdir "$d" 2>/dev/null || true; fi
		done
	done
}

unmount_all() {
	local m
	# mountinfo field 5 is the mount point, octal-escaped; deepest first.
	awk -v d="$dir/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo |
		sort -r | while read -r m; do
		m=$(printf '%b' "$m")
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
	done
}

stop() {
	stop_watcher
	delete_all
	stop_containerd
	kill_shims
	cleanup_bundles
	remove_namespace_dirs
	unmount_all
	rm -rf "$dir/fifo"
}

case $cmd in
start) start ;;
stop) stop ;;
kill) stop_containerd ;;
env) echo "export CONTAINERD_ADDRESS=$sock" ;;
status) answers ;;
*) usage ;;
esac
