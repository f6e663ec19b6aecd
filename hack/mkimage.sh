#!/usr/bin/env bash
# mkimage.sh OUT.tar [REF]: build an OCI image archive of the busybox rootfs, offline.
#
# The archive is an OCI image layout (oci-layout, index.json, blobs/sha256/...) with one
# gzip layer, an image config (Cmd /bin/sh, Env PATH) and a manifest; index.json names it
# with the org.opencontainers.image.ref.name annotation, so `ctr images import OUT.tar`
# registers it as REF (default docker.io/library/busybox:latest). The layer is built
# reproducibly (sorted, mtime 0, numeric owners, gzip -n): the same busybox gives the
# same digests. ROOTFS=DIR uses an existing rootfs instead of running mkrootfs.sh;
# IMAGE_CMD='["sleep","inf"]' sets the image's Cmd (a JSON array; default ["/bin/sh"]);
# EXTRA_LAYERS=N stacks N more layers on the busybox one, layer i adding /layers/i (holding
# "i"), for images deeper than a page of overlay options.
set -euo pipefail

usage() {
	echo "usage: $0 OUT.tar [REF]" >&2
	exit 2
}

if [ $# -lt 1 ] || [ $# -gt 2 ]; then usage; fi
out=$1
ref=${2:-docker.io/library/busybox:latest}
cmd=${IMAGE_CMD:-'["/bin/sh"]'}
here=$(cd "$(dirname "$0")" && pwd)

case $(dpkg --print-architecture 2>/dev/null || uname -m) in
amd64 | x86_64) arch=amd64 ;;
arm64 | aarch64) arch=arm64 ;;
armhf | armv7l) arch=arm ;;
ppc64el | ppc64le) arch=ppc64le ;;
s390x) arch=s390x ;;
riscv64) arch=riscv64 ;;
*)
	echo "mkimage: unknown architecture" >&2
	exit 1
	;;
esac

work=$(mktemp -d "${TMPDIR:-/tmp}/husk-mkimage-XXXXXX")
trap 'rm -rf "$work"' EXIT

rootfs=${ROOTFS:-}
if [ -z "$rootfs" ]; then
	rootfs=$work/rootfs
	"$here/mkrootfs.sh" "$rootfs"
fi

layout=$work/layout
blobs=$layout/blobs/sha256
mkdir -p "$blobs"

sha() { sha256sum "$1" | cut -d' ' -f1; }
size() { stat -c %s "$1"; }

# Move a file into blobs/sha256 under its digest; prints the digest.
put_blob() {
	local d
	d=$(sha "$1")
	mv "$1" "$blobs/$d"
	echo "$d"
}

# One reproducible gzip layer of directory $1: appends to diff_ids and layers.
diff_ids=""
layers=""
add_layer() {
	tar --sort=name --mtime=@0 --numeric-owner --format=posix \
		--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
		-C "$1" -cf "$work/layer.tar" .
	local diff_id layer_size layer
	diff_id=$(sha "$work/layer.tar")
	gzip -n -9 "$work/layer.tar"
	layer_size=$(size "$work/layer.tar.gz")
	layer=$(put_blob "$work/layer.tar.gz")
	diff_ids="$diff_ids${diff_ids:+,}\"sha256:$diff_id\""
	layers="$layers${layers:+,}{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:$layer\",\"size\":$layer_size}"
}

add_layer "$rootfs"
for i in $(seq 1 "${EXTRA_LAYERS:-0}"); do
	mkdir -p "$work/extra/layers"
	echo "$i" >"$work/extra/layers/$i"
	add_layer "$work/extra"
	rm -rf "$work/extra"
done

cat >"$work/config.json" <<EOF
{"architecture":"$arch","os":"linux","created":"1970-01-01T00:00:00Z","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":$cmd,"WorkingDir":"/"},"rootfs":{"type":"layers","diff_ids":[$diff_ids]},"history":[{"created":"1970-01-01T00:00:00Z","created_by":"hack/mkimage.sh"}]}
EOF
config_size=$(size "$work/config.json")
config=$(put_blob "$work/config.json")

cat >"$work/manifest.json" <<EOF
{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:$config","size":$config_size},"layers":[$layers]}
EOF
manifest_size=$(size "$work/manifest.json")
manifest=$(put_blob "$work/manifest.json")

cat >"$layout/index.json" <<EOF
{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:$manifest","size":$manifest_size,"platform":{"architecture":"$arch","os":"linux"},"annotations":{"org.opencontainers.image.ref.name":"$ref"}}]}
EOF
echo '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"

tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$layout" -cf "$work/out.tar" .
mv "$work/out.tar" "$out"
echo "mkimage: $out: $ref (manifest sha256:$manifest)"
