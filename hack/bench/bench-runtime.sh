#!/usr/bin/env bash
# bench-runtime.sh: the runtime core on its own, through its CLI, against runc's CLI on the
# same busybox bundle, in one run: the median wall time of
#   run      create+start+exit+delete of /bin/true   (husk run / runc run, then delete)
#   exec     an exec cycle of /bin/true in a running container (husk exec / runc exec)
#   pause    pause+resume of a running container (husk pause+resume / runc pause+resume)
# Each figure includes starting the CLI binary, for both. BENCH_RUNS (100) per figure.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
runs=${BENCH_RUNS:-100}

if [ "$(id -u)" -ne 0 ]; then
	echo "bench-runtime: run as root" >&2
	exit 1
fi
husk=${HUSK_CLI:-}
if [ -z "$husk" ]; then
	for c in release demo dev asan; do
		if [ -x "$top/build/$c/runtime/cli/husk" ]; then
			husk=$top/build/$c/runtime/cli/husk
			break
		fi
	done
fi
[ -n "$husk" ] || { echo "bench-runtime: build the husk CLI first" >&2; exit 1; }
runc=$(command -v runc)

work=$(mktemp -d "${TMPDIR:-/tmp}/husk-bench-runtime-XXXXXX")
cleanup() {
	"$husk" --root "$work/husk-state" delete --force bench-sleep >/dev/null 2>&1 || true
	"$runc" --root "$work/runc-state" delete --force bench-sleep >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT
bundle=$work/bundle
mkdir -p "$bundle"
"$top/hack/mkrootfs.sh" "$bundle/rootfs" >/dev/null

spec() { # args-json → config.json (the test fixture's spec with other args)
	python3 - "$top/test/helpers/config.json" "$bundle/config.json" "$1" <<'PY'
import json, sys
cfg = json.load(open(sys.argv[1]))
cfg["process"]["args"] = json.loads(sys.argv[3])
json.dump(cfg, open(sys.argv[2], "w"))
PY
}

now_ms() { date +%s%N; }

# median of the numbers on stdin (ns) in ms
median() { sort -n | awk '{a[NR]=$1} END {m=a[int((NR+1)/2)]; printf "%.3f", m/1e6}'; }

time_runs() { # label command... (run $runs times, print the median)
	local label=$1 i t0 t1
	shift
	for ((i = 0; i < runs; i++)); do
		t0=$(now_ms)
		"$@" >/dev/null 2>&1
		t1=$(now_ms)
		echo $((t1 - t0))
	done | median
}

cd "$bundle"
spec '["/bin/true"]'
h_run=$(time_runs run bash -c "'$husk' --root '$work/husk-state' run h1 && '$husk' --root '$work/husk-state' delete h1")
r_run=$(time_runs run bash -c "'$runc' --root '$work/runc-state' run r1 && '$runc' --root '$work/runc-state' delete r1")

spec '["sleep", "100000"]'
"$husk" --root "$work/husk-state" run --detach bench-sleep >/dev/null
"$runc" --root "$work/runc-state" run --detach bench-sleep >/dev/null 2>&1 </dev/null
h_exec=$(time_runs exec "$husk" --root "$work/husk-state" exec bench-sleep -- /bin/true)
r_exec=$(time_runs exec "$runc" --root "$work/runc-state" exec bench-sleep /bin/true)
h_pause=$(time_runs pause bash -c "'$husk' --root '$work/husk-state' pause bench-sleep && '$husk' --root '$work/husk-state' resume bench-sleep")
r_pause=$(time_runs pause bash -c "'$runc' --root '$work/runc-state' pause bench-sleep && '$runc' --root '$work/runc-state' resume bench-sleep")

ratio() { awk -v h="$1" -v r="$2" 'BEGIN { printf "%.3f", h / r }'; }
printf '%-34s %10s %10s %8s\n' "median of $runs (ms)" husk runc ratio
printf '%-34s %10s %10s %8s\n' "run /bin/true (create..delete)" "$h_run" "$r_run" "$(ratio "$h_run" "$r_run")"
printf '%-34s %10s %10s %8s\n' "exec /bin/true" "$h_exec" "$r_exec" "$(ratio "$h_exec" "$r_exec")"
printf '%-34s %10s %10s %8s\n' "pause + resume" "$h_pause" "$r_pause" "$(ratio "$h_pause" "$r_pause")"
