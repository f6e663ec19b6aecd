/*
 * The gofer: a short-lived child in its own mount namespace that builds the container's
 * filesystem from untrusted image content and hands it over as a detached mount tree.
 * It holds nothing of the caller's: fds 0-2 are /dev/null, the sync socket is fd 3.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "husk/cleanup.h"
#include "husk/err.h"
#include "husk/process.h"
#include "husk/spec.h"
#include "native/native.h"
#include "native/sync.h"
#include "spawn_internal.h"
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
/* Directories deep a created path may go (each holds an fd during the walk). */
#define WALK_DEPTH_MAX 128

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

/* The entry name in dir, itself (a link is not followed), created when missing. */
static int open_or_create(int dir, const char *name, bool as_file)
{
	for (int tries = 0; tries < 2; tries++) {
		int fd = openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0 || errno != ENOENT)
			return fd < 0 ? -errno : fd;
		int r = create_entry(dir, name, as_file);
		if (r < 0 && r != -EEXIST)
			return r;
	}
	return -ENOENT;
}

/* path = target + "/" + rest (rest is a suffix of path itself). */
static int splice_link(char *path, size_t size, const char *target, const char *rest)
{
	char tmp[PATH_MAX];
	size_t tl = strlen(target);
	size_t rl = strlen(rest);

	if (tl + 1 + rl >= sizeof(tmp) || tl + 1 + rl >= size)
		return -ENAMETOOLONG;
	memcpy(tmp, target, tl + 1);
	tmp[tl] = '/';
	memcpy(tmp + tl + 1, rest, rl + 1);
	memcpy(path, tmp, tl + rl + 2);
	return 0;
}

struct walk {
	int fds[WALK_DEPTH_MAX]; /* fds[0] the root, fds[depth] the current directory */
	int depth;
	int links;
	char *path;  /* what is left to walk; a link's target is spliced into it */
	size_t size; /* path's buffer */
	bool file;   /* the last component is created as a file, not a directory */
};

static void walk_pop_to(struct walk *w, int depth)
{
	while (w->depth > depth)
		(void)husk_safe_close(w->fds[w->depth--]);
}

/* A copy of the current directory's fd through ret. */
static int walk_dup_top(const struct walk *w, int *ret)
{
	*ret = fcntl(w->fds[w->depth], F_DUPFD_CLOEXEC, 3);
	return *ret < 0 ? -errno : 0;
}

/* The link fd (closed here) read and spliced into w->path before rest: -EAGAIN to restart
 * the walk on the new path (from the root for an absolute target). */
static int walk_link(struct walk *w, int fd, const char *rest)
{
	char target[PATH_MAX];
	ssize_t n = readlinkat(fd, "", target, sizeof(target) - 1);

	(void)husk_safe_close(fd);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	if (++w->links > LINKS_MAX)
		return -ELOOP;
	if (target[0] == '/')
		walk_pop_to(w, 0);
	int r = splice_link(w->path, w->size, target, rest);
	return r < 0 ? r : -EAGAIN;
}

/* Push the directory fd (taken) as the current one. */
static int walk_push(struct walk *w, int fd, const struct stat *st)
{
	if (!S_ISDIR(st->st_mode)) {
		(void)husk_safe_close(fd);
		return -ENOTDIR;
	}
	if (w->depth + 1 >= WALK_DEPTH_MAX) {
		(void)husk_safe_close(fd);
		return -ENAMETOOLONG;
	}
	w->fds[++w->depth] = fd;
	return 0;
}

/* One component: ".." pops (never above the root), a directory is pushed, a link is spliced
 * into path (an absolute one restarts from the root); the last component's fd is returned
 * through ret (>= 0) instead of pushed. */
static int walk_step(struct walk *w, char *name, const char *rest, bool last, int *ret)
{
	if (strcmp(name, ".") == 0)
		return last ? walk_dup_top(w, ret) : 0;
	if (strcmp(name, "..") == 0) {
		walk_pop_to(w, w->depth ? w->depth - 1 : 0);
		return last ? walk_dup_top(w, ret) : 0;
	}
	int fd = open_or_create(w->fds[w->depth], name, last && w->file);
	struct stat st;
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0) {
		(void)husk_safe_close(fd);
		return -errno;
	}
	if (S_ISLNK(st.st_mode))
		return walk_link(w, fd, rest);
	if (last) {
		*ret = fd;
		return 0;
	}
	return walk_push(w, fd, &st);
}

/*
 * Walk path from the root one component at a time, each opened relative to the directory
 * the walk holds (never by a path from the root again), creating what is missing and
 * following links inside the root: the fd returned is where this one walk went, whatever is
 * renamed meanwhile.
 */
static int create_walk(int rootfd, char *path, size_t size, bool file)
{
	struct walk w = {.depth = 0, .path = path, .size = size, .file = file};
	int ret = -1;
	int r = 0;

	w.fds[0] = open_resolved(rootfd, "/", O_DIRECTORY);
	if (w.fds[0] < 0)
		return w.fds[0];
	char *p = path;
	while (r >= 0 && ret < 0) {
		while (*p == '/')
			p++;
		if (!*p) {
			ret = fcntl(w.fds[w.depth], F_DUPFD_CLOEXEC, 3);
			r = ret < 0 ? -errno : 0;
			break;
		}
		char *end = strchr(p, '/');
		char *rest = end ? end + 1 : p + strlen(p);
		if (end)
			*end = '\0';
		const char *after = rest;
		while (*after == '/')
			after++;
		r = walk_step(&w, p, after, !*after, &ret);
		if (r == -EAGAIN) {
			/* path now holds the link's target and the rest: walk it from here. */
			r = 0;
			p = path;
			continue;
		}
		p = rest;
	}
	walk_pop_to(&w, 0);
	(void)husk_safe_close(w.fds[0]);
	return r < 0 ? r : ret;
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
	/* Something is missing: one walk that creates it, as runc does for mount points
	 * (a dangling link on the way is followed inside the root and its target created). */
	memcpy(buf, path, len + 1);
	return create_walk(rootfd, buf, sizeof(buf), file);
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

/* MS_* of a bind's options as mount_setattr attributes for its top mount: what the options
 * set, and what they turned off explicitly ("rw", "suid"), which the source's must not
 * keep. The atime mode changes only when an option names one. */
static uint64_t attr_from_flags(unsigned long flags, unsigned long cleared, uint64_t *ret_clr)
{
	static const struct {
		unsigned long ms;
		uint64_t attr;
	} bits[] = {
		{MS_RDONLY, MOUNT_ATTR_RDONLY},		{MS_NOSUID, MOUNT_ATTR_NOSUID},
		{MS_NODEV, MOUNT_ATTR_NODEV},		{MS_NOEXEC, MOUNT_ATTR_NOEXEC},
		{MS_NODIRATIME, MOUNT_ATTR_NODIRATIME}, {MS_NOSYMFOLLOW, MOUNT_ATTR_NOSYMFOLLOW},
	};
	uint64_t set = 0;
	uint64_t clr = 0;

	for (size_t i = 0; i < ARRAY_SIZE(bits); i++) {
		if (flags & bits[i].ms)
			set |= bits[i].attr;
		else if (cleared & bits[i].ms)
			clr |= bits[i].attr;
	}
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

static int setattr(int fd, bool rec, uint64_t set, uint64_t clr, uint64_t propagation, int userns)
{
	struct mount_attr attr = {.attr_set = set, .attr_clr = clr, .propagation = propagation};

	if (userns >= 0)
		attr.userns_fd = (uint64_t)userns;
	if (husk__mount_setattr(fd, "", AT_EMPTY_PATH | (rec ? AT_RECURSIVE : 0), &attr,
				sizeof(attr)) < 0)
		return -errno;
	return 0;
}

static int write_id_map(pid_t pid, const char *file, const struct husk_id_mapping *m, size_t n)
{
	char path[64];
	char buf[4096];
	size_t len = 0;

	for (size_t i = 0; i < n; i++) {
		int w = snprintf(buf + len, sizeof(buf) - len, "%u %u %u\n", m[i].container_id,
				 m[i].host_id, m[i].size);
		if (w < 0 || (size_t)w >= sizeof(buf) - len)
			return -E2BIG;
		len += (size_t)w;
	}
	(void)snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, buf, len) != (ssize_t)len)
		return -errno;
	return 0;
}

/* A user namespace holding m's mappings, for MOUNT_ATTR_IDMAP: made by a child that waits
 * to be killed once its namespace is open. */
static int idmap_userns_open(const struct husk_plan_mount *m)
{
	int pidfd = -1;
	pid_t pid = husk__clone3(CLONE_NEWUSER | CLONE_PIDFD, &pidfd);

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		for (;;)
			pause();
	}
	char path[64];
	int r = write_id_map(pid, "uid_map", m->uid_mappings, m->n_uid_mappings);
	if (r >= 0)
		r = write_id_map(pid, "gid_map", m->gid_mappings, m->n_gid_mappings);
	int fd = -1;
	if (r >= 0) {
		(void)snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			r = -errno;
	}
	struct husk_child helper = {.pid = pid, .pidfd = pidfd};
	(void)husk_child_kill_and_reap(&helper);
	return r < 0 ? r : fd;
}

/*
 * The bind of m, detached: its source cloned (with every submount for rbind), idmapped,
 * its top mount's flags, its recursive attributes and its propagation set. Cloned while
 * the gofer's mounts still relate to the host's as the container's should, so that a
 * source's peer group or master is kept. Child side.
 */
static int bind_prepare(int sock, const struct husk_plan_mount *m)
{
	unsigned rec = m->recursive ? AT_RECURSIVE : 0;
	int tree = husk__open_tree(AT_FDCWD, m->source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | rec);

	if (tree < 0)
		return husk__sync_error(sock, errno, "bind source '%s'", m->source);
	int r = 0;
	const char *step = NULL;
	if (m->idmap) {
		_cleanup_close_ int userns = idmap_userns_open(m);
		step = m->idmap_rec ? "option 'ridmap'" : "option 'idmap'";
		r = userns < 0 ? userns
			       : setattr(tree, m->idmap_rec, MOUNT_ATTR_IDMAP, 0, 0, userns);
	}
	uint64_t clr = 0;
	uint64_t set = attr_from_flags(m->flags, m->cleared, &clr);
	if (r >= 0 && (set || clr)) {
		step = "flags";
		r = setattr(tree, false, set, clr, 0, -1);
	}
	if (r >= 0 && (m->attr_set || m->attr_clr)) {
		step = "recursive attributes";
		r = setattr(tree, true, m->attr_set, m->attr_clr, 0, -1);
	}
	/* (unbindable: set by the init, see husk__mounts_unbindable()) */
	if (r >= 0 && m->propagation && m->propagation != MS_UNBINDABLE) {
		step = "propagation";
		r = setattr(tree, m->propagation_rec, 0, 0, m->propagation, -1);
	}
	if (r < 0) {
		(void)husk_safe_close(tree);
		return husk__sync_error(sock, r, "bind '%s' on '%s': %s", m->source, m->destination,
					step);
	}
	return tree;
}

/* fsconfig the MS_* superblock flags and the comma-separated data of a new mount. */
/* Overlay's lowerdir=a:b:c, one "lowerdir+" per layer (Linux 6.8: neither the page that
 * mount(2) copies nor fsconfig's 256-byte strings limit the depth), else as one string;
 * -E2BIG when that string is too long for fsconfig. */
static int fs_lowerdirs(int fs, const char *v, size_t len)
{
	char layer[PATH_MAX];

	for (const char *l = v, *end = v + len; l < end;) {
		const char *e = memchr(l, ':', (size_t)(end - l));
		size_t n = e ? (size_t)(e - l) : (size_t)(end - l);
		if (n >= sizeof(layer))
			return -ENAMETOOLONG;
		memcpy(layer, l, n);
		layer[n] = '\0';
		if (husk__fsconfig(fs, FSCONFIG_SET_STRING, "lowerdir+", layer, 0) < 0) {
			if (l != v || errno != EINVAL)
				return -errno;
			/* No lowerdir+ (before 6.8): the whole list at once. */
			if (len >= 256)
				return -E2BIG;
			memcpy(layer, v, len);
			layer[len] = '\0';
			return husk__fsconfig(fs, FSCONFIG_SET_STRING, "lowerdir", layer, 0) < 0
				       ? -errno
				       : 0;
		}
		l += n + 1;
	}
	return 0;
}

/* One data option d[0..len) ("key=value" or a flag; overlay's lowerdir= layer by layer). */
static int fs_option(int fs, const char *fstype, const char *d, size_t len)
{
	char opt[PATH_MAX];
	int r = 0;

	if (strcmp(fstype, "overlay") == 0 && strncmp(d, "lowerdir=", 9) == 0)
		return fs_lowerdirs(fs, d + 9, len - 9);
	if (len >= sizeof(opt))
		return -ENAMETOOLONG;
	memcpy(opt, d, len);
	opt[len] = '\0';
	char *eq = strchr(opt, '=');
	if (eq) {
		*eq = '\0';
		char *v = eq + 1;
		size_t vlen = strlen(v);
		/* A quoted value (context="u:r:t:s0:c1,c2") goes to the filesystem without its
		 * quotes, as mount(2)'s option splitting passes it. */
		if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"') {
			v[vlen - 1] = '\0';
			v++;
		}
		r = husk__fsconfig(fs, FSCONFIG_SET_STRING, opt, v, 0);
	} else if (len) {
		r = husk__fsconfig(fs, FSCONFIG_SET_FLAG, opt, NULL, 0);
	}
	return r < 0 ? -errno : 0;
}

/* The end of the data option at d: the next comma outside double quotes, or the NUL. */
static const char *option_end(const char *d)
{
	bool quoted = false;

	for (; *d && (quoted || *d != ','); d++)
		if (*d == '"')
			quoted = !quoted;
	return d;
}

static int fs_configure(int fs, const char *fstype, const char *source, unsigned long flags,
			const char *data)
{
	static const struct {
		unsigned long ms;
		const char *key;
	} sb[] = {{MS_RDONLY, "ro"},	     {MS_SYNCHRONOUS, "sync"}, {MS_DIRSYNC, "dirsync"},
		  {MS_LAZYTIME, "lazytime"}, {MS_MANDLOCK, "mand"},    {MS_I_VERSION, "iversion"}};
	if (source && *source && husk__fsconfig(fs, FSCONFIG_SET_STRING, "source", source, 0) < 0)
		return -errno;
	for (size_t i = 0; i < ARRAY_SIZE(sb); i++)
		if ((flags & sb[i].ms) &&
		    husk__fsconfig(fs, FSCONFIG_SET_FLAG, sb[i].key, NULL, 0) < 0)
			return -errno;
	for (const char *d = data; d && *d;) {
		const char *end = option_end(d);
		int r = fs_option(fs, fstype, d, (size_t)(end - d));
		if (r < 0)
			return r;
		d = *end ? end + 1 : end;
	}
	if (husk__fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return -errno;
	return 0;
}

/* The kernel's reason for a failed fsconfig ("e tmpfs: Bad value for 'size'"), if any. */
static void fs_reason(int fs, char *buf, size_t size)
{
	ssize_t n = read(fs, buf, size - 1);

	buf[n > 0 ? n : 0] = '\0';
	if (n > 0 && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
}

int husk__fs_mount_detached(const char *fstype, const char *source, unsigned long flags,
			    const char *data, char *reason, size_t size)
{
	_cleanup_close_ int fs = husk__fsopen(fstype, FSOPEN_CLOEXEC);
	uint64_t clr = 0;

	reason[0] = '\0';
	if (fs < 0)
		return -errno;
	int r = fs_configure(fs, fstype, source, flags, data);
	if (r < 0) {
		fs_reason(fs, reason, size);
		return r;
	}
	uint64_t attr = attr_from_flags(flags, 0, &clr);
	int mnt = husk__fsmount(fs, FSMOUNT_CLOEXEC, (unsigned)attr);
	if (mnt < 0) {
		r = -errno;
		fs_reason(fs, reason, size);
		return r;
	}
	return mnt;
}

/* ---- child side ---------------------------------------------------------------------- */

/* Directories deep a tmpcopyup copies at most (each holds two fds and a stack frame). */
#define COPY_DEPTH_MAX 64

static int copy_file(int src, int dst, const char *name, mode_t mode)
{
	char buf[16384];
	_cleanup_close_ int in = openat(src, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (in < 0)
		return -errno;
	_cleanup_close_ int out = openat(
		dst, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode & 0777);
	if (out < 0)
		return -errno;
	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(out, buf + off, (size_t)(n - off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return -errno;
			off += w;
		}
	}
}

/* A directory being copied: its source entries, its copy, and what the copy gets once full. */
struct copy_dir {
	DIR *d;			 /* the source directory's entries (owns its fd) */
	int dst;		 /* the copy (owned) */
	char name[NAME_MAX + 1]; /* its name in the parent's copy ("" for the top) */
	struct stat st;		 /* its source's owner and mode */
};

/* The directories from the top of a tmpcopyup down to the one being read. */
struct copy_stack {
	struct copy_dir v[COPY_DEPTH_MAX + 1];
	int n;
};

/* The owner and mode of st onto dst's entry name (a link keeps its mode). */
static int copy_attrs(int dst, const char *name, const struct stat *st)
{
	if (fchownat(dst, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if (!S_ISLNK(st->st_mode) && fchmodat(dst, name, st->st_mode & 07777, 0) < 0)
		return -errno;
	return 0;
}

/* Push the directory src (copied into dst; both fds taken) to be read next. */
static int copy_push(struct copy_stack *s, int src, int dst, const char *name,
		     const struct stat *st)
{
	size_t len = strlen(name);

	if (s->n >= (int)ARRAY_SIZE(s->v) || len >= sizeof(s->v[0].name)) {
		(void)husk_safe_close(src);
		(void)husk_safe_close(dst);
		return -ELOOP;
	}
	DIR *d = fdopendir(src);
	if (!d) {
		int r = -errno;
		(void)husk_safe_close(src);
		(void)husk_safe_close(dst);
		return r;
	}
	struct copy_dir *f = &s->v[s->n++];
	f->d = d;
	f->dst = dst;
	memcpy(f->name, name, len + 1);
	f->st = st ? *st : (struct stat){0};
	return 0;
}

/* Close the directory read last. */
static struct copy_dir *copy_close_top(struct copy_stack *s)
{
	struct copy_dir *f = &s->v[--s->n];

	(void)closedir(f->d);
	(void)husk_safe_close(f->dst);
	return f;
}

/* Done with the directory read last: a nested one then gets its owner and mode, now that it
 * is full (a read-only one could not have been filled). */
static int copy_pop(struct copy_stack *s)
{
	const struct copy_dir *f = copy_close_top(s);

	if (s->n == 0)
		return 0;
	return copy_attrs(s->v[s->n - 1].dst, f->name, &f->st);
}

/* A nested directory: created (owner-only until full) and pushed to be read next. */
static int copy_subdir(struct copy_stack *s, int src, int dst, const char *name,
		       const struct stat *st)
{
	if (mkdirat(dst, name, 0700) < 0)
		return -errno;
	int sfd = openat(src, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sfd < 0)
		return -errno;
	int dfd = openat(dst, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0) {
		int r = -errno;
		(void)husk_safe_close(sfd);
		return r;
	}
	return copy_push(s, sfd, dfd, name, st);
}

/* The entry name of the directory being read: a directory is pushed, anything else copied
 * with its owner and mode. */
static int copy_entry(struct copy_stack *s, const char *name)
{
	const struct copy_dir *top = &s->v[s->n - 1];
	int src = dirfd(top->d);
	struct stat st;
	char target[PATH_MAX];
	int r = 0;

	if (fstatat(src, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	switch (st.st_mode & S_IFMT) {
	case S_IFDIR:
		return copy_subdir(s, src, top->dst, name, &st);
	case S_IFREG:
		r = copy_file(src, top->dst, name, st.st_mode);
		break;
	case S_IFLNK: {
		ssize_t n = readlinkat(src, name, target, sizeof(target) - 1);
		if (n < 0)
			return -errno;
		target[n] = '\0';
		if (symlinkat(target, top->dst, name) < 0)
			return -errno;
		break;
	}
	default:
		if (mknodat(top->dst, name, st.st_mode, st.st_rdev) < 0)
			return -errno;
	}
	return r < 0 ? r : copy_attrs(top->dst, name, &st);
}

/* Copy what directory src holds into directory dst (runc's tmpcopyup): files, directories,
 * links and nodes with their modes and owners, COPY_DEPTH_MAX directories deep at most. */
static int copy_tree(int src, int dst)
{
	struct copy_stack s = {.n = 0};
	int sfd = fcntl(src, F_DUPFD_CLOEXEC, 3);
	if (sfd < 0)
		return -errno;
	int dfd = fcntl(dst, F_DUPFD_CLOEXEC, 3);
	if (dfd < 0) {
		int r = -errno;
		(void)husk_safe_close(sfd);
		return r;
	}
	int r = copy_push(&s, sfd, dfd, "", NULL);
	while (r >= 0 && s.n > 0) {
		errno = 0;
		struct dirent *de = readdir(s.v[s.n - 1].d);
		if (!de)
			r = errno ? -errno : copy_pop(&s);
		else if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			r = copy_entry(&s, de->d_name);
	}
	while (s.n > 0)
		(void)copy_close_top(&s);
	return r;
}

/* tmpcopyup: the directory under the mount point (still reachable through target) into the
 * new tmpfs, whose root takes the directory's mode and owner. */
static int copy_up(int target, int mnt)
{
	struct stat st;
	_cleanup_close_ int src = openat(target, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_close_ int dst = openat(mnt, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (src < 0 || dst < 0 || fstat(src, &st) < 0)
		return -errno;
	int r = copy_tree(src, dst);
	if (r < 0)
		return r;
	if (fchown(dst, st.st_uid, st.st_gid) < 0 || fchmod(dst, st.st_mode & 07777) < 0)
		return -errno;
	return 0;
}

int husk__mount_new(int sock, int target, const struct husk_plan_mount *m)
{
	char reason[256];
	_cleanup_close_ int mnt = husk__fs_mount_detached(m->fstype, m->source, m->flags, m->data,
							  reason, sizeof(reason));
	const char *why = reason[0] == 'e' && reason[1] == ' ' ? reason + 2 : reason;

	if (mnt < 0)
		return husk__sync_error(sock, mnt, "mount %s on '%s'%s%s", m->fstype,
					m->destination, *why ? ": " : "", why);
	int r = 0;
	if (m->tmpcopyup && (r = copy_up(target, mnt)) < 0)
		return husk__sync_error(sock, r, "tmpcopyup of '%s'", m->destination);
	if (husk__move_mount(mnt, "", target, "",
			     MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return husk__sync_error(sock, errno, "mount %s on '%s'", m->fstype, m->destination);
	if ((m->attr_set || m->attr_clr) &&
	    (r = setattr(mnt, true, m->attr_set, m->attr_clr, 0, -1)) < 0)
		return husk__sync_error(sock, r, "mount %s on '%s': recursive attributes",
					m->fstype, m->destination);
	bool late = m->where == HUSK_MOUNT_IN_GOFER && m->propagation == MS_UNBINDABLE;
	if (m->propagation && !late &&
	    (r = setattr(mnt, m->propagation_rec, 0, 0, m->propagation, -1)) < 0)
		return husk__sync_error(sock, r, "mount %s on '%s': propagation", m->fstype,
					m->destination);
	return 0;
}

/* The longest common prefix of the ':'-separated layers ld[0..ld_end) that ends with '/'. */
static size_t layers_prefix(const char *ld, const char *ld_end)
{
	size_t prefix = 0;

	for (const char *l = ld; l < ld_end;) {
		const char *e = memchr(l, ':', (size_t)(ld_end - l));
		size_t n = e ? (size_t)(e - l) : (size_t)(ld_end - l);
		size_t k = 0;
		if (l == ld)
			prefix = n;
		while (k < prefix && k < n && l[k] == ld[k])
			k++;
		prefix = k;
		l += n + 1;
	}
	while (prefix && ld[prefix - 1] != '/')
		prefix--;
	return prefix;
}

/* data with each layer of its lowerdir list ld[0..ld_end) less the prefix; NULL: ENOMEM. */
static char *layers_relative(const char *data, const char *ld, const char *ld_end, size_t prefix)
{
	char *out = malloc(strlen(data) + 1);
	size_t o = (size_t)(ld - data);

	if (!out)
		return NULL;
	memcpy(out, data, o);
	for (const char *l = ld; l < ld_end;) {
		const char *e = memchr(l, ':', (size_t)(ld_end - l));
		size_t n = e ? (size_t)(e - l) : (size_t)(ld_end - l);
		memcpy(out + o, l + prefix, n - prefix);
		o += n - prefix;
		if (e)
			out[o++] = ':';
		l += n + 1;
	}
	memcpy(out + o, ld_end, strlen(ld_end) + 1);
	return out;
}

/* mount(2) with data relative to dir, which is the cwd meanwhile. */
static int mount_from_dir(const struct husk_plan_mount *m, const char *target, const char *dir,
			  const char *data)
{
	_cleanup_close_ int cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (cwd < 0 || chdir(dir) < 0)
		return -errno;
	int r = mount(m->source, target, m->fstype, m->flags, data) < 0 ? -errno : 0;
	if (fchdir(cwd) < 0 && r == 0)
		r = -errno;
	return r;
}

/*
 * An overlay whose lowerdir list is too long for fsconfig on a kernel without "lowerdir+":
 * mount(2) from the layers' common parent with the list made relative to it, as containerd
 * does, if that fits in the page mount(2) copies.
 */
static int mount_overlay_compact(const struct husk_plan_mount *m, const char *target)
{
	const char *ld = strstr(m->data, "lowerdir=");
	long page = sysconf(_SC_PAGESIZE);
	char dir[PATH_MAX];

	if (!ld || (ld != m->data && ld[-1] != ','))
		return -E2BIG;
	ld += 9;
	const char *ld_end = strchrnul(ld, ',');
	size_t prefix = layers_prefix(ld, ld_end);
	if (prefix < 2)
		return -E2BIG;
	if (prefix >= sizeof(dir))
		return -ENOMEM;
	memcpy(dir, ld, prefix);
	dir[prefix] = '\0';
	char *data = layers_relative(m->data, ld, ld_end, prefix);
	if (!data)
		return -ENOMEM;
	int r = (long)strlen(data) >= page ? -E2BIG : mount_from_dir(m, target, dir, data);
	free(data);
	return r;
}

int husk__mounts_unbindable(int sock, int rootfd, const struct husk_init_plan *p)
{
	for (size_t i = 0; i < p->n_unbindable; i++) {
		const struct husk_plan_mount *m = &p->unbindable[i];
		/* The mount's root (the walk crosses onto it), a file's or a directory's. */
		_cleanup_close_ int fd = husk__open_in_root(rootfd, m->destination, true);
		int r = fd < 0 ? fd : setattr(fd, m->propagation_rec, 0, 0, MS_UNBINDABLE, -1);
		if (r < 0)
			return husk__sync_error(sock, r, "make '%s' unbindable", m->destination);
	}
	return 0;
}

/* containerd's rootfs[i], a bind, onto the root. */
static int mount_rootfs_bind(int sock, const struct husk_gofer_plan *p, size_t i)
{
	const struct husk_plan_mount *m = &p->rootfs[i];
	unsigned long flags = m->flags | MS_BIND | (m->recursive ? MS_REC : 0);

	if (mount(m->source, p->root, NULL, flags, NULL) < 0)
		return husk__sync_error(sock, errno, "mount rootfs[%zu] '%s' (bind)", i,
					m->source ? m->source : "");
	if ((m->flags & MS_RDONLY) &&
	    mount(NULL, p->root, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0)
		return husk__sync_error(sock, errno, "remount rootfs[%zu] read-only", i);
	return 0;
}

/* containerd's rootfs[i], a new mount, onto the root: detached, so that an overlay of any
 * depth goes through (lowerdir+). */
static int mount_rootfs_fs(int sock, const struct husk_gofer_plan *p, size_t i)
{
	const struct husk_plan_mount *m = &p->rootfs[i];
	char reason[256];
	int mnt = husk__fs_mount_detached(m->fstype, m->source, m->flags, m->data, reason,
					  sizeof(reason));
	const char *why = reason[0] == 'e' && reason[1] == ' ' ? reason + 2 : reason;
	int r = 0;

	if (mnt == -E2BIG && strcmp(m->fstype, "overlay") == 0)
		r = mount_overlay_compact(m, p->root);
	else if (mnt < 0)
		r = mnt;
	else if (husk__move_mount(mnt, "", AT_FDCWD, p->root, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		r = -errno;
	if (mnt >= 0)
		(void)husk_safe_close(mnt);
	if (r < 0)
		return husk__sync_error(sock, r, "mount rootfs[%zu] '%s' (%s)%s%s", i,
					m->source ? m->source : "", m->fstype, *why ? ": " : "",
					why);
	return 0;
}

static int mount_rootfs(int sock, const struct husk_gofer_plan *p)
{
	if (p->n_rootfs == 0) {
		if (mount(p->root, p->root, NULL, MS_BIND | MS_REC, NULL) < 0)
			return husk__sync_error(sock, errno, "bind root '%s'", p->root);
		return 0;
	}
	for (size_t i = 0; i < p->n_rootfs; i++) {
		int r = p->rootfs[i].bind ? mount_rootfs_bind(sock, p, i)
					  : mount_rootfs_fs(sock, p, i);
		if (r < 0)
			return r;
	}
	return 0;
}

/* m on its mount point: tree is its prepared bind (bind_prepare), -1 for a new mount. */
static int mount_one(int sock, int rootfd, const struct husk_plan_mount *m, int tree)
{
	struct stat st;
	bool file = false;

	if (m->bind) {
		if (fstat(tree, &st) < 0)
			return husk__sync_error(sock, errno, "bind source '%s'", m->source);
		file = !S_ISDIR(st.st_mode);
	}
	_cleanup_close_ int target = husk__open_mount_point(sock, rootfd, m, file);
	if (target < 0)
		return target;
	if (!m->bind)
		return husk__mount_new(sock, target, m);
	if (husk__move_mount(tree, "", target, "",
			     MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return husk__sync_error(sock, errno, "bind '%s' on '%s'", m->source,
					m->destination);
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

/* The root and the mounts on it; trees[] (n_mounts, all -1) receives the binds' prepared
 * trees, which the caller closes. Returns the root's fd. */
static int gofer_mount_all(int sock, const struct husk_gofer_plan *p, int *trees)
{
	int r = 0;

	/* The container's view of the host's mounts (runc's prepareRoot): its binds are
	 * cloned now, so they keep their sources' peer groups or masters. */
	if (mount(NULL, "/", NULL, p->ns_propagation, NULL) < 0)
		return husk__sync_error(sock, errno, "propagation of '/'");
	for (size_t i = 0; r >= 0 && i < p->n_mounts; i++)
		if (p->mounts[i].bind)
			r = trees[i] = bind_prepare(sock, &p->mounts[i]);
	/* Nothing the gofer mounts from here on may reach the host. */
	if (r >= 0 && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		r = husk__sync_error(sock, errno, "make / private");
	if (r >= 0)
		r = mount_rootfs(sock, p);
	int rootfd = r >= 0 ? open(p->root, O_PATH | O_DIRECTORY | O_CLOEXEC) : -1;
	if (r >= 0 && rootfd < 0)
		r = husk__sync_error(sock, errno, "open root '%s'", p->root);
	for (size_t i = 0; r >= 0 && i < p->n_mounts; i++)
		r = mount_one(sock, rootfd, &p->mounts[i], trees[i]);
	if (r < 0) {
		if (rootfd >= 0)
			(void)husk_safe_close(rootfd);
		return r;
	}
	return rootfd;
}

static int gofer_mounts(int sock, const struct husk_gofer_plan *p)
{
	int *trees = calloc(p->n_mounts ? p->n_mounts : 1, sizeof(int));

	if (!trees)
		return husk__sync_error(sock, ENOMEM, "gofer");
	for (size_t i = 0; i < p->n_mounts; i++)
		trees[i] = -1;
	int r = gofer_mount_all(sock, p, trees);
	for (size_t i = 0; i < p->n_mounts; i++)
		if (trees[i] >= 0)
			(void)husk_safe_close(trees[i]);
	free(trees);
	return r;
}

static int gofer_main(void *arg)
{
	const struct husk_gofer_plan *p = arg;
	int sock = SYNC_FD;

	umask(0);
	_cleanup_close_ int rootfd = gofer_mounts(sock, p);
	if (rootfd < 0)
		return 1;
	for (size_t i = 0; i < p->n_devices; i++)
		if (make_device(sock, rootfd, &p->devices[i]) < 0)
			return 1;
	if (make_dev_links(sock, rootfd) < 0)
		return 1;
	_cleanup_close_ int tree = husk__open_tree(
		rootfd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH);
	if (tree < 0)
		return husk__sync_error(sock, errno, "open_tree '%s'", p->root), 1;
	if (husk__sync_send(sock, HUSK_SYNC_GOFER_READY, 0, tree, NULL) < 0)
		return 1;
	return 0;
}

/* ---- parent side ----------------------------------------------------------------------- */

int husk__gofer_start(const struct husk_gofer_plan *plan, struct husk_child *ret_gofer,
		      int *ret_sock, struct husk_err *err)
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

	r = husk_spawn(&o, gofer_main, (void *)plan, ret_gofer, err);
	if (r < 0)
		return r;
	*ret_sock = TAKE_FD(mine);
	return 0;
}

int husk__gofer_finish(struct husk_child *gofer, int sock, int *ret_tree, struct husk_err *err)
{
	_cleanup_close_ int tree = -1;
	int r = husk__sync_expect(
		sock,
		&(struct husk_sync_wait){HUSK_SYNC_GOFER_READY, HUSK_CHILD_TIMEOUT_MS, "gofer"},
		NULL, &tree, err);

	if (r >= 0 && tree < 0)
		r = husk_err_set(err, HUSK_ERR_INTERNAL, EPROTO, "gofer: no tree fd");
	if (r < 0) {
		husk_child_kill_and_reap(gofer);
		return r;
	}
	int status = husk__wait_pid(gofer->pid);
	husk_child_release(gofer);
	if (status < 0)
		return husk_err_errno(err, -status, "reap gofer");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return husk_err_set(err, HUSK_ERR_INTERNAL, 0, "gofer: exited with status %d",
				    status);
	*ret_tree = TAKE_FD(tree);
	return 0;
}

int husk__gofer_run(const struct husk_gofer_plan *plan, int *ret_tree, struct husk_err *err)
{
	struct husk_child gofer = HUSK_CHILD_NULL;
	_cleanup_close_ int sock = -1;
	int r = husk__gofer_start(plan, &gofer, &sock, err);

	return r < 0 ? r : husk__gofer_finish(&gofer, sock, ret_tree, err);
}
