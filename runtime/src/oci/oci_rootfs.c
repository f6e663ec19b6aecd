/* containerd's rootfs mounts on the bundle's root path for the oci engine (oci_rootfs.h). */
#include "oci/oci_rootfs.h"

#include <errno.h>

#include <sys/mount.h>

#include "husk/err.h"
#include "husk/spec.h"
#include "mount_opts.h"

/* Stacked mounts on one rootfs: containerd sends one (or a few) per task. */
#define ROOTFS_MAX_STACK 64

static int mount_one(const char *target, const struct husk_mount *m, size_t i, struct husk_err *err)
{
	struct husk_mount_opts o;
	int r = husk__mount_opts_parse(m->options, m->n_options, &o, err);

	if (r < 0)
		return husk_err_prefix(err, "rootfs[%zu]", i);
	unsigned long flags = o.flags;
	if (o.bind)
		flags |= MS_BIND | (o.recursive ? MS_REC : 0);
	const char *type = m->type && *m->type && !o.bind ? m->type : NULL;
	if (mount(m->source, target, type, flags, o.data) < 0)
		r = husk_err_errno(err, errno, "mount rootfs[%zu] '%s' (%s) on '%s'", i,
				   m->source ? m->source : "", type ? type : "bind", target);
	/* A bind mount ignores MS_RDONLY until a remount (mount(2)). */
	else if (o.bind && (o.flags & MS_RDONLY) &&
		 mount(NULL, target, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0)
		r = husk_err_errno(err, errno, "remount rootfs[%zu] read-only", i);
	husk__mount_opts_done(&o);
	return r;
}

int husk__oci_rootfs_mount(const char *target, const struct husk_mount *m, size_t n,
			   struct husk_err *err)
{
	for (size_t i = 0; i < n; i++) {
		int r = mount_one(target, &m[i], i, err);
		if (r < 0) {
			(void)husk__oci_rootfs_unmount(target, NULL);
			return r;
		}
	}
	return 0;
}

int husk__oci_rootfs_unmount(const char *target, struct husk_err *err)
{
	for (int i = 0; i < ROOTFS_MAX_STACK; i++) {
		if (umount2(target, UMOUNT_NOFOLLOW) == 0)
			continue;
		/* EINVAL: not a mount point (any more); ENOENT: the bundle is gone. */
		if (errno == EINVAL || errno == ENOENT)
			return 0;
		if (errno == EBUSY && umount2(target, UMOUNT_NOFOLLOW | MNT_DETACH) == 0)
			continue;
		return husk_err_errno(err, errno, "unmount rootfs '%s'", target);
	}
	return husk_err_set(err, HUSK_ERR_INTERNAL, 0, "unmount rootfs '%s': still mounted",
			    target);
}
