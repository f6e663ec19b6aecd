#!/usr/bin/env bash
# Build the libFuzzer variants of test/fuzz/fuzz_*.c (clang -fsanitize=fuzzer,address,
# undefined; libFuzzer comes from libclang-rt-14-dev) and run each for N seconds (default 60).
# New inputs go to build/fuzz/corpus/<name>; crashes to build/fuzz/artifacts/. Copy the
# interesting ones into test/fuzz/corpus/<name>/ by hand: that corpus is replayed by ctest.
#
#   hack/fuzz.sh [seconds] [name...]     names: the X of test/fuzz/fuzz_X.c (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
shift || true
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
	for f in test/fuzz/fuzz_*.c; do
		f=${f##*/fuzz_}
		names+=("${f%.c}")
	done
fi
build=build/fuzz

# Instrument the libraries for coverage too, not only the fuzz entry points.
cmake -S . -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
	-DHUSK_SANITIZE=ON -DHUSK_FUZZ_LIBFUZZER=ON -DCMAKE_C_FLAGS=-fsanitize=fuzzer-no-link \
	>/dev/null
targets=()
for n in "${names[@]}"; do targets+=("fuzz-$n"); done
cmake --build "$build" -j"$(nproc)" --target "${targets[@]}"

mkdir -p "$build/artifacts"
status=0
for n in "${names[@]}"; do
	work="$build/corpus/$n"
	mkdir -p "$work"
	echo "== fuzz-$n for ${secs}s"
	if ! ASAN_OPTIONS=abort_on_error=1:detect_leaks=1 \
		"$build/test/fuzz-$n" -max_total_time="$secs" -max_len=65536 -timeout=10 \
		-print_final_stats=1 -artifact_prefix="$build/artifacts/$n-" \
		"$work" "test/fuzz/corpus/$n" 2>&1 | tail -n 25; then
		status=1
	fi
done
exit $status
