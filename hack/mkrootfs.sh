#!/usr/bin/env bash
# mkrootfs.sh DIR: build a minimal busybox root filesystem in DIR, offline.
#
# The only input is Debian's busybox-static (/bin/busybox). DIR gets /bin/busybox, one
# symlink per applet in /bin, /etc/passwd and /etc/group (root, and nobody as uid/gid
# 1000), and the empty directories an OCI runtime mounts over (proc, sys, dev, tmp, run).
# DIR must not exist or be empty. Used by the tests (ctr run --rootfs) and by mkimage.sh.
set -euo pipefail

busybox=${BUSYBOX:-/bin/busybox}

usage() {
	echo "usage: $0 DIR" >&2
	exit 2
}

[ $# -eq 1 ] || usage
dir=$1

if [ ! -x "$busybox" ]; then
	echo "mkrootfs: $busybox not found (apt-get install busybox-static)" >&2
	exit 1
fi
if [ "$(head -c 4 "$busybox" | tail -c 3)" != ELF ]; then
	echo "mkrootfs: $busybox is not an ELF binary" >&2
	exit 1
fi
if [ -e "$dir" ] && [ -n "$(ls -A "$dir")" ]; then
	echo "mkrootfs: $dir exists and is not empty" >&2
	exit 1
fi

mkdir -p "$dir"
cd "$dir"

mkdir -p bin sbin etc proc sys dev tmp run root home/nobody var/tmp usr/bin usr/sbin
chmod 1777 tmp var/tmp
chmod 0700 root
install -m 0755 "$busybox" bin/busybox

# One symlink per applet, all in /bin: busybox --list prints bare names.
while read -r applet; do
	case $applet in
	busybox | "") continue ;;
	esac
	ln -sf busybox "bin/$applet"
done < <("$busybox" --list)

cat >etc/passwd <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:1000:1000:nobody:/home/nobody:/bin/sh
EOF
cat >etc/group <<'EOF'
root:x:0:
nobody:x:1000:
EOF
chmod 0644 etc/passwd etc/group
chown 1000:1000 home/nobody
echo husk >etc/hostname
: >etc/hosts
: >etc/resolv.conf
