#!/usr/bin/env bash
# demo.sh [DIR]: the README's main command. On a fresh Debian 12 machine, as root:
#   1. install the Debian packages (hack/install-deps.sh),
#   2. build the shim (release-style build in build/demo, or $HUSK_DEMO_BUILD),
#   3. start a private containerd in DIR (default: a new temp dir) with husk registered,
#   4. build a busybox image offline and import it,
#   5. ctr run --rm --runtime io.containerd.husk.v2 ... echo "hello from husk",
# and stop containerd on exit. Nothing outside DIR, the build dir and /run/containerd is
# touched; no system containerd is needed or used.
#
# HUSK_E2E_RUNTIME=io.containerd.runc.v2 runs the same container with the reference shim.
set -euo pipefail

cd "$(dirname "$0")/.."
top=$(pwd)
runtime=${HUSK_E2E_RUNTIME:-io.containerd.husk.v2}
build=${HUSK_DEMO_BUILD:-$top/build/demo}
ref=docker.io/library/busybox:latest
ns=husk-demo

step() { printf '\n== %s\n' "$*"; }

if [ "$(id -u)" -ne 0 ]; then
	echo "demo: run as root (a root shell, or sudo): containers need it" >&2
	exit 1
fi

step "dependencies (hack/install-deps.sh)"
hack/install-deps.sh

step "build ($build)"
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=gcc \
	-DHUSK_TESTS=OFF >/dev/null
shim=$build/shim/containerd-shim-husk-v2
targets=$(cmake --build "$build" --target help)
if [[ $targets == *containerd-shim-husk-v2* ]]; then
	cmake --build "$build" -j"$(nproc)" --target containerd-shim-husk-v2
	echo "built $shim"
elif [ "$runtime" = io.containerd.husk.v2 ]; then
	echo "demo: this tree has no containerd-shim-husk-v2 target yet" >&2
	echo "demo: HUSK_E2E_RUNTIME=io.containerd.runc.v2 $0 runs the demo with the reference shim" >&2
	exit 1
else
	echo "no husk shim in this tree yet; using $runtime"
fi

if [ $# -ge 1 ]; then
	dir=$1
	keep=1
	mkdir -p "$dir"
else
	dir=$(mktemp -d "${TMPDIR:-/tmp}/husk-demo-XXXXXX")
	keep=0
fi
dir=$(cd "$dir" && pwd)

cleanup() {
	local rc=$?
	step "stop containerd"
	hack/containerd.sh stop "$dir" || rc=1
	if [ "$keep" = 0 ]; then
		rm -rf "$dir"
	else
		echo "kept $dir (containerd.log is there)"
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step "private containerd in $dir"
HUSK_SHIM=$shim hack/containerd.sh start "$dir"
eval "$(hack/containerd.sh env "$dir")"
export CONTAINERD_ADDRESS
export CONTAINERD_NAMESPACE=$ns
ctr version | sed -n '/Server/,$p'

step "busybox image, built offline"
hack/mkimage.sh "$dir/busybox.tar" "$ref"
ctr images import "$dir/busybox.tar"

id=demo-$$
step "ctr run --rm --runtime $runtime $ref $id echo \"hello from husk\""
ctr run --rm --runtime "$runtime" "$ref" "$id" echo "hello from husk" </dev/null
