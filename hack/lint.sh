#!/usr/bin/env bash
# Formatting and layer rules. Fails on the first class of problem it finds, listing every file.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0

mapfile -t sources < <(git ls-files -co --exclude-standard -- '*.c' '*.h' | grep -v '^build/')

bad=()
for f in "${sources[@]}"; do
	[ -f "$f" ] || continue
	clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if [ ${#bad[@]} -gt 0 ]; then
	echo "lint: not formatted per .clang-format: ${bad[*]}" >&2
	status=1
fi

# Layer rules (DESIGN.md): runtime/ never sees libuv or protobuf-c; ttrpc/ never sees
# containerd types or husk/ headers.
if grep -rnE '#include *[<"](uv\.h|protobuf-c/)' runtime/ 2>/dev/null; then
	echo "lint: runtime/ includes libuv or protobuf-c" >&2
	status=1
fi
if grep -rnE '#include *[<"](husk/|.*containerd)' ttrpc/ 2>/dev/null; then
	echo "lint: ttrpc/ includes husk/ or containerd headers" >&2
	status=1
fi

# clang-tidy 14 does not flag socket()/accept4() without SOCK_CLOEXEC.
if grep -rnE '\b(socket|socketpair|accept4)\(' runtime/ ttrpc/ shim/ 2>/dev/null \
	| grep -v 'SOCK_CLOEXEC' | grep -vE '^\S+:[0-9]+:\s*(/\*|\*)'; then
	echo "lint: socket()/socketpair()/accept4() without SOCK_CLOEXEC" >&2
	status=1
fi

if [ $status -eq 0 ]; then
	echo "lint: ok (${#sources[@]} files)"
fi
exit $status
