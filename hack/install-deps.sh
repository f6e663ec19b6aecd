#!/usr/bin/env bash
# Install every Debian package the README's two commands need. Idempotent: a second run
# installs nothing and takes about a second.
set -euo pipefail

packages=(
	# build
	build-essential cmake pkg-config clang clang-format clang-tidy libclang-rt-14-dev
	protobuf-c-compiler libprotobuf-c-dev libuv1-dev libjansson-dev libcap-dev
	libseccomp-dev libcriterion-dev valgrind
	# the .deb: cpack runs dpkg-shlibdeps for its Depends
	dpkg-dev
	# runtime peers for tests and the demo
	containerd runc runsc busybox-static iproute2 util-linux procps tmux
	# CRI suite: its gRPC client and the CNI bridge
	python3-grpcio python3-protobuf python3-grpc-tools containernetworking-plugins
	# Go ttrpc interop peer (GOPATH mode, offline)
	golang-go golang-github-containerd-ttrpc-dev
)

missing=()
for p in "${packages[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages (${missing[*]}); run as root" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
