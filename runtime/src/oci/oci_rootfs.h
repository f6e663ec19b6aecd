/*
 * containerd's rootfs mounts for the oci engine. A task's rootfs reaches the shim as mounts
 * (an overlay of the image's snapshots, usually), not as a directory; the runc shim mounts
 * them on the bundle's root path before `runc create` and unmounts them after `runc delete`.
 * The oci engine does the same, in the shim's mount namespace, so the runtime binary finds
 * the image in root.path.
 */
#pragma once

#include <stddef.h>

struct husk_err;
struct husk_mount;

/*
 * Mount m[0..n) in order on target (an existing directory), each with its type, source and
 * options (flags, bind/rbind, filesystem data; a read-only bind is remounted read-only). On
 * failure what was mounted is unmounted again. HUSK_ERR_INVALID for options that do not
 * parse, HUSK_ERR_INTERNAL for a failed mount (named by index, source and type).
 */
int husk__oci_rootfs_mount(const char *target, const struct husk_mount *m, size_t n,
			   struct husk_err *err);

/*
 * Unmount everything stacked on target (lazily when busy). Not mounted or missing: 0.
 * HUSK_ERR_INTERNAL when a mount stays.
 */
int husk__oci_rootfs_unmount(const char *target, struct husk_err *err);
