/*
 * The gofer: a short-lived child in its own mount namespace that builds the container's
 * filesystem from untrusted image content and hands it over as a detached mount tree.
 * It holds nothing of the caller's: fds 0-2 are /dev/null, the sync socket is fd 3.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "husk/cleanup.h"
#include "husk/err.h"
#include "husk/process.h"
#include "native/native.h"
#include "native/spawn.h"
#include "native/sync.h"
#include "syscalls.h"

#define SYNC_FD 3

static int open_resolved(int rootfd, const char *path, int flags)
{
	int fd;

	do
		fd = husk__openat2(rootfd, path, (uint64_t)(O_PATH | O_CLOEXEC | flags), 0,
				   RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
	while (fd < 0 && (errno == EAGAIN || errno == EINTR));
	return fd < 0 ? -errno : fd;
}

/* Links followed while creating one path (the kernel's own limit for a lookup). */
#define LINKS_MAX 40

/*
 * buf = head (the first head_len bytes) + target + "/" + rest, or target + "/" + rest for
 * an absolute target: the path with the dangling link at the end of head replaced.
 */
static int splice_link(char *buf, size_t size, size_t head_len, const char *target,
		       const char *rest)
{
	char tmp[PATH_MAX];
	size_t head = target[0] == '/' ? 0 : head_len;
	size_t tlen = strlen(target);
	size_t rlen = strlen(rest);

	if (head + tlen + 1 + rlen + 1 > sizeof(tmp) || head + tlen + 1 + rlen + 1 > size)
		return -ENAMETOOLONG;
	memcpy(tmp, buf, head);
	memcpy(tmp + head, target, tlen);
	tmp[head + tlen] = '/';
	memcpy(tmp + head + tlen + 1, rest, rlen + 1);
	memcpy(buf, tmp, head + tlen + 1 + rlen + 1);
	return 0;
}

/* The entry name in dir is a symlink (a dangling one: resolving it failed): rewrite buf so
 * that its target is created instead, inside the root like everything else. name ends at
 * end (a separator cut to NUL, restored here; NULL for the last component) and rest follows.
 * -EAGAIN tells the caller to walk the new path; -EEXIST when it is not a link. */
static int follow_dangling(int dir, char *buf, size_t size, char *name, char *end, const char *rest)
{
	char target[PATH_MAX];
	ssize_t n = readlinkat(dir, name, target, sizeof(target) - 1);

	if (n < 0)
		return errno == EINVAL ? -EEXIST : -errno;
	target[n] = '\0';
	if (end)
		*end = '/';
	int r = splice_link(buf, size, (size_t)(name - buf), target, rest ? rest : "");
	return r < 0 ? r : -EAGAIN;
}

/* Create the entry name in parent: a directory, or (as_file) an empty file. */
static int create_entry(int parent, const char *name, bool as_file)
{
	int r = as_file ? openat(parent, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC,
				 0644)
			: mkdirat(parent, name, 0755);

	if (r < 0)
		return -errno;
	if (as_file)
		(void)husk_safe_close(r);
	return 0;
}

/* One walk over buf from the root, creating what is missing. -EAGAIN: buf was rewritten
 * through a dangling symlink, walk again. */
static int create_walk(int rootfd, char *buf, size_t size, bool file)
{
	int parent = open_resolved(rootfd, "/", O_DIRECTORY);
	if (parent < 0)
		return parent;
	char *p = buf;
	while (*p == '/')
		p++;
	while (*p) {
		char *end = strchr(p, '/');
		char *rest = NULL;
		if (end) {
			*end = '\0';
			rest = end + 1;
			while (*rest == '/')
				rest++;
		}
		bool as_file = (!rest || !*rest) && file;
		int fd = open_resolved(rootfd, buf, as_file ? 0 : O_DIRECTORY);
		if (fd == -ENOENT) {
			int r = create_entry(parent, p, as_file);
			if (r == -EEXIST) {
				r = follow_dangling(parent, buf, size, p, end, rest);
				if (r != -EEXIST) {
					(void)husk_safe_close(parent);
					return r;
				}
			} else if (r < 0) {
				(void)husk_safe_close(parent);
				return r;
			}
			fd = open_resolved(rootfd, buf, as_file ? 0 : O_DIRECTORY);
		}
		(void)husk_safe_close(parent);
		if (fd < 0)
			return fd;
		parent = fd;
		if (!end)
			break;
		*end = '/';
		p = rest;
	}
	return parent;
}

int husk__open_in_root(int rootfd, const char *path, bool file)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);

	if (len >= sizeof(buf))
		return -ENAMETOOLONG;
	int fd = open_resolved(rootfd, path, file ? 0 : O_DIRECTORY);
	if (fd != -ENOENT)
		return fd;
	/* Walk the prefixes: each one exists (resolved in the root) or is created in the
	 * directory its parent resolved to, by a plain name, so nothing lands outside. A
	 * dangling symlink on the way is followed (inside the root) and its target created,
	 * as runc does for mount points. */
	memcpy(buf, path, len + 1);
	for (int links = 0; links <= LINKS_MAX; links++) {
		fd = create_walk(rootfd, buf, sizeof(buf), file);
		if (fd != -EAGAIN)
			return fd;
	}
	return -ELOOP;
}

/* path without trailing slashes, split into its parent (in dir) and its last component. */
static int split_last(const char *path, char *dir, size_t size, const char **ret_base)
{
	size_t len = strlen(path);

	while (len > 1 && path[len - 1] == '/')
		len--;
	if (len >= size)
		return -ENAMETOOLONG;
	memcpy(dir, path, len);
	dir[len] = '\0';
	char *slash = strrchr(dir, '/');
	if (!slash)
		return -EINVAL;
	const char *base = slash + 1;
	if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
		return -EINVAL;
	/* "/proc": the parent is "/", and base must survive the cut. */
	memmove(slash + 2, base, strlen(base) + 1);
	slash[1] = '\0';
	if (slash != dir)
		slash[0] = '\0';
	*ret_base = slash + 2;
	return 0;
}

int husk__open_ordinary_dir(int rootfd, const char *path)
{
	char dir[PATH_MAX + 2];
	const char *base = NULL;
	int r = split_last(path, dir, sizeof(dir) - 1, &base);

	if (r < 0)
		return r;
	_cleanup_close_ int parent = husk__open_in_root(rootfd, dir, false);
	if (parent < 0)
		return parent;
	for (int tries = 0; tries < 2; tries++) {
		int fd;
		do
			fd = husk__openat2(parent, base, O_PATH | O_NOFOLLOW | O_CLOEXEC, 0,
					   RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS);
		while (fd < 0 && (errno == EAGAIN || errno == EINTR));
		if (fd < 0 && errno == ENOENT) {
			if (mkdirat(parent, base, 0755) < 0 && errno != EEXIST)
				return -errno;
			continue;
		}
		if (fd < 0)
			return -errno;
		struct stat st;
		if (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode)) {
			(void)husk_safe_close(fd);
			return -ENOTDIR;
		}
		return fd;
	}
	return -ENOENT;
}

int husk__open_mount_point(int sock, int rootfd, const struct husk_plan_mount *m, bool file)
{
	if (!m->ordinary_dir) {
		int fd = husk__open_in_root(rootfd, m->destination, file);
		if (fd < 0)
			return husk__sync_error(sock, fd, "mount point '%s'", m->destination);
		return fd;
	}
	int fd = husk__open_ordinary_dir(rootfd, m->destination);
	if (fd == -ENOTDIR)
		return husk__sync_error(sock, 0,
					"mount %s on '%s': filesystem \"%s\" must be mounted on "
					"ordinary directory",
					m->fstype ? m->fstype : "bind", m->destination,
					m->fstype ? m->fstype : m->source);
	if (fd < 0)
		return husk__sync_error(sock, fd, "mount point '%s'", m->destination);
	return fd;
}

int husk__mount_on_fd(const char *source, int targetfd, const char *fstype, unsigned long flags,
		      const char *data)
{
	char target[64];

	(void)snprintf(target, sizeof(target), "/proc/self/fd/%d", targetfd);
	if (mount(source, target, fstype, flags, data) < 0)
		return -errno;
	return 0;
}

static uint64_t attr_from_flags(unsigned long flags, uint64_t *ret_clr)
{
	uint64_t set = 0;
	uint64_t clr = 0;

	if (flags & MS_RDONLY)
		set |= MOUNT_ATTR_RDONLY;
	if (flags & MS_NOSUID)
		set |= MOUNT_ATTR_NOSUID;
	if (flags & MS_NODEV)
		set |= MOUNT_ATTR_NODEV;
	if (flags & MS_NOEXEC)
		set |= MOUNT_ATTR_NOEXEC;
	if (flags & MS_NODIRATIME)
		set |= MOUNT_ATTR_NODIRATIME;
	if (flags & (MS_NOATIME | MS_STRICTATIME | MS_RELATIME)) {
		clr |= MOUNT_ATTR__ATIME;
		if (flags & MS_NOATIME)
			set |= MOUNT_ATTR_NOATIME;
		else if (flags & MS_STRICTATIME)
			set |= MOUNT_ATTR_STRICTATIME;
		else
			set |= MOUNT_ATTR_RELATIME;
	}
	*ret_clr = clr;
	return set;
}

int husk__bind_on_fd(const char *source, int targetfd, const struct husk_plan_mount *m)
{
	unsigned rec = m->recursive ? AT_RECURSIVE : 0;
	_cleanup_close_ int tree =
		open_tree(AT_FDCWD, source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | rec);
	struct mount_attr attr = {0};

	if (tree < 0)
		return -errno;
	uint64_t clr = 0;
	attr.attr_set = attr_from_flags(m->flags, &clr);
	attr.attr_clr = clr;
	if ((attr.attr_set || attr.attr_clr) &&
	    mount_setattr(tree, "", AT_EMPTY_PATH | rec, &attr, sizeof(attr)) < 0)
		return -errno;
	if (move_mount(tree, "", targetfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) <
	    0)
		return -errno;
	if (m->propagation) {
		struct mount_attr prop = {.propagation = m->propagation};
		if (mount_setattr(tree, "", AT_EMPTY_PATH | (m->propagation_rec ? AT_RECURSIVE : 0),
				  &prop, sizeof(prop)) < 0)
			return -errno;
	}
	return 0;
}

/* ---- child side ---------------------------------------------------------------------- */

static int mount_rootfs(int sock, const struct husk_gofer_plan *p)
{
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return husk__sync_error(sock, errno, "make / private");
	if (p->n_rootfs == 0) {
		if (mount(p->root, p->root, NULL, MS_BIND | MS_REC, NULL) < 0)
			return husk__sync_error(sock, errno, "bind root '%s'", p->root);
		return 0;
	}
	for (size_t i = 0; i < p->n_rootfs; i++) {
		const struct husk_plan_mount *m = &p->rootfs[i];
		unsigned long flags = m->flags;
		if (m->bind)
			flags |= MS_BIND | (m->recursive ? MS_REC : 0);
		if (mount(m->source, p->root, m->fstype, flags, m->data) < 0)
			return husk__sync_error(sock, errno, "mount rootfs[%zu] '%s' (%s)", i,
						m->source ? m->source : "",
						m->fstype ? m->fstype : "bind");
		if (m->bind && (m->flags & MS_RDONLY) &&
		    mount(NULL, p->root, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0)
			return husk__sync_error(sock, errno, "remount rootfs[%zu] read-only", i);
	}
	return 0;
}

static int mount_one(int sock, int rootfd, const struct husk_plan_mount *m)
{
	struct stat st;
	bool file = false;

	if (m->bind) {
		if (stat(m->source, &st) < 0)
			return husk__sync_error(sock, errno, "bind source '%s'", m->source);
		file = !S_ISDIR(st.st_mode);
	}
	_cleanup_close_ int target = husk__open_mount_point(sock, rootfd, m, file);
	if (target < 0)
		return target;
	int r = m->bind ? husk__bind_on_fd(m->source, target, m)
			: husk__mount_on_fd(m->source, target, m->fstype, m->flags, m->data);
	if (r < 0)
		return husk__sync_error(sock, r, "mount '%s' on '%s'", m->source ? m->source : "",
					m->destination);
	if (!m->bind && m->propagation) {
		/* Reopened: the new mount's root, not the directory under it. */
		_cleanup_close_ int top = husk__open_in_root(rootfd, m->destination, false);
		unsigned long prop = m->propagation | (m->propagation_rec ? MS_REC : 0);
		if (top < 0 || husk__mount_on_fd(NULL, top, NULL, prop, NULL) < 0)
			return husk__sync_error(sock, errno, "propagation of '%s'", m->destination);
	}
	return 0;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

static int make_device(int sock, int rootfd, const struct husk_plan_device *d)
{
	char dir[PATH_MAX];
	const char *base = base_name(d->path);
	size_t dlen = (size_t)(base - d->path);

	if (dlen >= sizeof(dir) || !*base)
		return husk__sync_error(sock, EINVAL, "device path '%s'", d->path);
	memcpy(dir, d->path, dlen);
	dir[dlen] = '\0';
	_cleanup_close_ int dirfd = husk__open_in_root(rootfd, dir, false);
	if (dirfd < 0)
		return husk__sync_error(sock, dirfd, "device directory '%s'", dir);
	/* O_PATH fds do not serve *at() creation calls directly: reopen as a directory. */
	_cleanup_close_ int wd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (wd < 0)
		return husk__sync_error(sock, errno, "device directory '%s'", dir);
	if (mknodat(wd, base, d->mode, d->rdev) < 0) {
		if (errno == EEXIST)
			return 0;
		return husk__sync_error(sock, errno, "mknod '%s'", d->path);
	}
	if (fchownat(wd, base, d->uid, d->gid, AT_SYMLINK_NOFOLLOW) < 0)
		return husk__sync_error(sock, errno, "chown '%s'", d->path);
	return 0;
}

static int make_dev_links(int sock, int rootfd)
{
	static const char *const links[][2] = {
		{"fd", "/proc/self/fd"},       {"stdin", "/proc/self/fd/0"},
		{"stdout", "/proc/self/fd/1"}, {"stderr", "/proc/self/fd/2"},
		{"ptmx", "pts/ptmx"},
	};
	_cleanup_close_ int dev = husk__open_in_root(rootfd, "/dev", false);
	if (dev < 0)
		return husk__sync_error(sock, dev, "open /dev");
	_cleanup_close_ int wd = openat(dev, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (wd < 0)
		return husk__sync_error(sock, errno, "open /dev");
	for (size_t i = 0; i < ARRAY_SIZE(links); i++)
		if (symlinkat(links[i][1], wd, links[i][0]) < 0 && errno != EEXIST)
			return husk__sync_error(sock, errno, "symlink /dev/%s", links[i][0]);
	return 0;
}

static int gofer_main(void *arg)
{
	const struct husk_gofer_plan *p = arg;
	int sock = SYNC_FD;

	umask(0);
	if (mount_rootfs(sock, p) < 0)
		return 1;
	_cleanup_close_ int rootfd = open(p->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return husk__sync_error(sock, errno, "open root '%s'", p->root), 1;
	for (size_t i = 0; i < p->n_mounts; i++)
		if (mount_one(sock, rootfd, &p->mounts[i]) < 0)
			return 1;
	for (size_t i = 0; i < p->n_devices; i++)
		if (make_device(sock, rootfd, &p->devices[i]) < 0)
			return 1;
	if (make_dev_links(sock, rootfd) < 0)
		return 1;
	_cleanup_close_ int tree = open_tree(
		rootfd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH);
	if (tree < 0)
		return husk__sync_error(sock, errno, "open_tree '%s'", p->root), 1;
	if (husk__sync_send(sock, HUSK_SYNC_GOFER_READY, 0, tree, NULL) < 0)
		return 1;
	return 0;
}

/* ---- parent side ----------------------------------------------------------------------- */

int husk__gofer_run(const struct husk_gofer_plan *plan, int *ret_tree, struct husk_err *err)
{
	int sv[2];
	int r = husk__sync_pair(sv);

	if (r < 0)
		return husk_err_errno(err, -r, "gofer socketpair");
	_cleanup_close_ int mine = sv[0];
	_cleanup_close_ int theirs = sv[1];
	struct husk_spawn_fd fds[] = {
		{-1, 0, false}, {-1, 1, false}, {-1, 2, false}, {theirs, SYNC_FD, true}};
	struct husk_spawn_opts o = {.name = "husk:[gofer]",
				    .clone_flags = CLONE_NEWNS,
				    .fds = fds,
				    .n_fds = ARRAY_SIZE(fds)};
	_cleanup_child_ struct husk_child gofer = HUSK_CHILD_NULL;

	r = husk__spawn(&o, gofer_main, (void *)plan, &gofer, err);
	if (r < 0)
		return r;
	theirs = husk_safe_close(theirs);
	_cleanup_close_ int tree = -1;
	r = husk__sync_expect(mine, HUSK_SYNC_GOFER_READY, HUSK_CHILD_TIMEOUT_MS, "gofer", NULL,
			      &tree, err);
	if (r < 0)
		return r;
	if (tree < 0)
		return husk_err_set(err, HUSK_ERR_INTERNAL, EPROTO, "gofer: no tree fd");
	int status = husk__wait_pid(gofer.pid);
	husk_child_release(&gofer);
	if (status < 0)
		return husk_err_errno(err, -status, "reap gofer");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return husk_err_set(err, HUSK_ERR_INTERNAL, 0, "gofer: exited with status %d",
				    status);
	*ret_tree = TAKE_FD(tree);
	return 0;
}
