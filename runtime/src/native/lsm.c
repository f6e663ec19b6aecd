/* AppArmor and SELinux: detection, and the procfs attributes of a container's processes. */
#include "native/lsm.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>

#include "husk/cleanup.h"
#include "husk/err.h"

/* The kernel takes at most a page per attribute write and drops the rest. */
#define ATTR_MAX 4096

/* The first bytes of root/rel, NUL-terminated; the length read, or -errno. */
static ssize_t read_head(const char *root, const char *rel, char *buf, size_t size)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/%s", root, rel) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n;
	do
		n = read(fd, buf, size - 1);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return n;
}

/* libcontainer/apparmor's isEnabled (runc 1.1.5: "Y\n", more than one byte). */
static bool apparmor_enabled(const char *sys)
{
	char path[PATH_MAX];
	char buf[8] = "";
	struct stat st;

	if (snprintf(path, sizeof(path), "%s/kernel/security/apparmor", sys) >= (int)sizeof(path) ||
	    stat(path, &st) < 0)
		return false;
	return read_head(sys, "module/apparmor/parameters/enabled", buf, sizeof(buf)) > 1 &&
	       buf[0] == 'Y';
}

/* go-selinux's getEnabled: a read-write selinuxfs where it is mounted, and a task label
 * other than "kernel" (no policy loaded). An unreadable label still counts as enabled. */
static bool selinux_enabled(const char *sys, const char *proc)
{
	char path[PATH_MAX];
	char label[64] = "";
	struct statfs sfs;
	int r;

	if (snprintf(path, sizeof(path), "%s/fs/selinux", sys) >= (int)sizeof(path))
		return false;
	do
		r = statfs(path, &sfs);
	while (r < 0 && (errno == EINTR || errno == EAGAIN));
	if (r < 0 || (unsigned long)sfs.f_type != (unsigned long)SELINUX_MAGIC ||
	    (sfs.f_flags & ST_RDONLY))
		return false;
	ssize_t n = read_head(proc, "thread-self/attr/current", label, sizeof(label));
	/* The kernel ends a label with a NUL, which go-selinux trims. */
	return n < 0 || strcmp(label, "kernel") != 0;
}

void husk__lsm_detect(const char *sys, const char *proc, struct husk_lsm *ret)
{
	*ret = (struct husk_lsm){
		.apparmor = apparmor_enabled(sys),
		.selinux = selinux_enabled(sys, proc),
	};
}

int husk__lsm_check_process(const struct husk_lsm *lsm, const char *selinux_label,
			    struct husk_err *err)
{
	/* runc's words, and its kind: containerd sees Unknown from the runc shim here. */
	if (selinux_label && *selinux_label && !lsm->selinux)
		return husk_err_set(err, HUSK_ERR_INTERNAL, 0,
				    "selinux label is specified in config, but selinux is disabled "
				    "or not supported");
	return 0;
}

int husk__lsm_proc_open(const char *path, struct husk_err *err)
{
	struct statfs sfs;
	_cleanup_close_ int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return husk_err_errno(err, errno, "open '%s'", path);
	if (fstatfs(fd, &sfs) < 0)
		return husk_err_errno(err, errno, "statfs '%s'", path);
	if ((unsigned long)sfs.f_type != (unsigned long)PROC_SUPER_MAGIC)
		return husk_err_set(err, HUSK_ERR_INTERNAL, EXDEV, "'%s' is not a procfs", path);
	return TAKE_FD(fd);
}

/* value to <proc>/rel, which must be on proc's filesystem. Messages name /proc/rel. */
static int attr_write(int proc, const char *rel, const char *value, struct husk_err *err)
{
	struct stat root;
	struct stat file;
	size_t len = strlen(value);
	_cleanup_close_ int fd = openat(proc, rel, O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return husk_err_errno(err, errno, "open /proc/%s", rel);
	if (fstat(proc, &root) < 0 || fstat(fd, &file) < 0)
		return husk_err_errno(err, errno, "stat /proc/%s", rel);
	if (root.st_dev != file.st_dev)
		return husk_err_set(err, HUSK_ERR_INTERNAL, EXDEV, "file /proc/%s is not on procfs",
				    rel);
	ssize_t n = write(fd, value, len);
	if (n < 0)
		return husk_err_errno(err, errno, "write /proc/%s", rel);
	if ((size_t)n != len)
		return husk_err_set(err, HUSK_ERR_INTERNAL, EIO, "write /proc/%s: %zd of %zu bytes",
				    rel, n, len);
	return 0;
}

int husk__lsm_set_keycreate(int proc, const struct husk_lsm *lsm, const char *label,
			    struct husk_err *err)
{
	struct husk_err e = {0};

	label = label ? label : "";
	if (!*label && !lsm->selinux)
		return 0;
	int r = attr_write(proc, "self/attr/keycreate", label, &e);
	/* go-selinux: a kernel without the file, or an empty label we may not write. */
	if (r == -ENOENT || (r == -EACCES && !*label))
		return 0;
	if (r < 0 && err)
		*err = e;
	return r;
}

int husk__lsm_apparmor_exec(int proc, const char *profile, struct husk_err *err)
{
	char value[ATTR_MAX + 1];
	struct stat st;
	const char *rel = "self/attr/apparmor/exec";

	if (!profile || !*profile)
		return 0;
	/* aa_change_onexec, as runc writes it. */
	if (snprintf(value, sizeof(value), "exec %s", profile) > ATTR_MAX)
		return husk_err_set(err, HUSK_ERR_INVALID, 0,
				    "apparmor profile '%.64s...' is longer than %d bytes", profile,
				    ATTR_MAX - 5);
	/* Older kernels have no per-module directory: AppArmor shares attr/ with the others. */
	if (fstatat(proc, rel, &st, 0) < 0 && errno == ENOENT)
		rel = "self/attr/exec";
	int r = attr_write(proc, rel, value, err);
	if (r < 0)
		return husk_err_prefix(err, "apparmor failed to apply profile");
	return 0;
}

int husk__lsm_selinux_exec(int proc, const struct husk_lsm *lsm, const char *label,
			   struct husk_err *err)
{
	label = label ? label : "";
	if (!*label && !lsm->selinux)
		return 0;
	return attr_write(proc, "thread-self/attr/exec", label, err);
}

int husk__lsm_file_label(int fd, const struct husk_lsm *lsm, const char *label,
			 struct husk_err *err)
{
	char path[64];

	if (!lsm->selinux || !label || !*label)
		return 0;
	(void)snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (setxattr(path, "security.selinux", label, strlen(label), 0) < 0)
		return husk_err_errno(err, errno, "setxattr security.selinux");
	return 0;
}

int husk__lsm_mount_data(const char *data, const char *label, char **ret)
{
	char *out = NULL;
	int n = 0;

	data = data ? data : "";
	if (label && *label)
		n = asprintf(&out, "%s%scontext=\"%s\"", data, *data ? "," : "", label);
	else if (*data)
		n = (out = strdup(data)) ? 0 : -1;
	if (n < 0)
		return -ENOMEM;
	*ret = out;
	return 0;
}
