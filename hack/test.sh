#!/usr/bin/env bash
# The README's test command: installs what it needs, builds the asan and dev presets with
# -Werror, and runs every suite in order (STYLE.md §9). Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)

hack/install-deps.sh

jobs=$(nproc)
export CTEST_OUTPUT_ON_FAILURE=1

configure() {
	cmake --preset "$1" -DHUSK_WERROR=ON "${@:2}" >/dev/null
	cmake --build --preset "$1" -j"$jobs"
}

configure asan -DHUSK_TEST_TIMEOUT_MULTIPLIER=3
configure dev

run() {
	local dir=$1 label=$2
	echo "== ctest -L $label ($dir)"
	(cd "build/$dir" && ctest -L "^${label}\$" -j"$jobs" --no-tests=ignore)
}

run asan unit
run dev valgrind
run asan root
run asan interop
run asan e2e
# The e2e suites run the sanitized shim; the one operators run is the release build's,
# linked -static-pie (valgrind cannot follow a static glibc, so the dev build's is not): it
# runs real containers through containerd here too.
echo "== ctest -R e2e-ctr-run (the release build's static shim)"
cmake --preset release -DHUSK_WERROR=ON >/dev/null
cmake --build --preset release -j"$jobs" --target containerd-shim-husk-v2
(cd build/asan && HUSK_SHIM="$top/build/release/shim/containerd-shim-husk-v2" \
	ctest -R '^e2e-ctr-run$' --no-tests=error)

echo "== lint"
hack/lint.sh

echo "all suites passed"
