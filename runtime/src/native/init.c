/*
 * The container init: cloned into the container's namespaces (through a stage process when
 * some are joined by path), it attaches the gofer's tree, mounts what needs the container's
 * namespaces, pivots, applies the linux and process spec, reports READY, and execs the
 * process on START. The sync socket is fd 3 and O_CLOEXEC: its EOF is a successful exec.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>

#include "cgroup.h"
#include "hooks.h"
#include "husk/cleanup.h"
#include "husk/err.h"
#include "husk/process.h"
#include "husk/spec.h"
#include "native/keyring.h"
#include "native/lsm.h"
#include "native/native.h"
#include "native/sync.h"
#include "spawn_internal.h"
#include "syscalls.h"

#define SYNC_FD 3
#define JOIN_FD 4 /* the `tasks` fds of ctx->join, in order */

/* ---- cgroup mount ----------------------------------------------------------------------- */

/* cpu → cpu,cpuacct, as on the host. */
static void link_controllers(int top, const char *ctrls)
{
	char copy[256];
	char *save = NULL;
	size_t len = strlen(ctrls);

	if (len >= sizeof(copy))
		return;
	memcpy(copy, ctrls, len + 1);
	/* Best effort, as runc's: a name taken already keeps what it is. */
	for (char *c = strtok_r(copy, ",", &save); c; c = strtok_r(NULL, ",", &save))
		if (symlinkat(ctrls, top, c) < 0)
			continue;
}

/* v1 and hybrid hosts: a tmpfs with one mount per hierarchy the init belongs to (in its
 * cgroup namespace, each shows the container's own cgroup as its root). */
static int mount_cgroup_v1(int sock, const struct husk_init_plan *p, const char *dest, int target,
			   unsigned long flags)
{
	char buf[4096];
	_cleanup_close_ int fd = open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return husk__sync_error(sock, errno, "read /proc/self/cgroup");
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0)
		return husk__sync_error(sock, errno, "read /proc/self/cgroup");
	buf[n] = '\0';
	char reason[256];
	/* Detached, then moved onto target: its fd is the tmpfs, no second lookup of dest. */
	_cleanup_close_ int top = husk__fs_mount_detached(
		"tmpfs", "tmpfs", flags & ~MS_RDONLY, p->cgroup_tmpfs_data, reason, sizeof(reason));
	if (top < 0)
		return husk__sync_error(sock, top, "mount cgroup tmpfs %s", reason);
	if (husk__move_mount(top, "", target, "",
			     MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return husk__sync_error(sock, errno, "cgroup tmpfs '%s'", dest);
	char *save = NULL;
	for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *ctrls = strchr(line, ':');
		char *path = ctrls ? strchr(ctrls + 1, ':') : NULL;
		if (!path)
			continue;
		*ctrls++ = '\0';
		*path = '\0';
		const char *name = *ctrls ? ctrls : "unified";
		if (strncmp(name, "name=", 5) == 0)
			name += 5;
		_cleanup_close_ int dir = husk__open_in_root(top, name, false);
		if (dir < 0)
			return husk__sync_error(sock, dir, "cgroup mount point '%s'", name);
		int r = *ctrls ? husk__mount_on_fd("cgroup", dir, "cgroup", flags, ctrls)
			       : husk__mount_on_fd("cgroup2", dir, "cgroup2", flags, NULL);
		if (r < 0)
			return husk__sync_error(sock, r, "mount cgroup '%s'", name);
		if (strchr(ctrls, ','))
			link_controllers(top, ctrls);
	}
	if ((flags & MS_RDONLY) &&
	    husk__mount_on_fd(NULL, top, NULL, MS_REMOUNT | flags, "mode=755") < 0)
		return husk__sync_error(sock, errno, "remount cgroup tmpfs read-only");
	return 0;
}

static int mount_cgroup(int sock, int rootfd, const struct husk_init_plan *p,
			const struct husk_plan_mount *m)
{
	struct statfs sfs;
	_cleanup_close_ int target = husk__open_in_root(rootfd, m->destination, false);

	if (target < 0)
		return husk__sync_error(sock, target, "mount point '%s'", m->destination);
	if (statfs("/sys/fs/cgroup", &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC) {
		if (husk__mount_on_fd("cgroup2", target, "cgroup2", m->flags, NULL) < 0)
			return husk__sync_error(sock, errno, "mount cgroup2 on '%s'",
						m->destination);
		return 0;
	}
	if (mount_cgroup_v1(sock, p, m->destination, target, m->flags) < 0)
		return -EIO;
	return 0;
}

/* ---- child side -------------------------------------------------------------------------- */

/* runc gives mqueue no context= but labels its mount point (where SELinux runs). */
static int mqueue_label(int sock, int rootfd, const struct husk_init_plan *p,
			const struct husk_plan_mount *m)
{
	struct husk_err e = {0};

	if (!p->proc.lsm.selinux || !p->mount_label || !*p->mount_label)
		return 0;
	_cleanup_close_ int fd = husk__open_in_root(rootfd, m->destination, false);
	if (fd < 0)
		return husk__sync_error(sock, fd, "mqueue '%s'", m->destination);
	if (husk__lsm_file_label(fd, &p->proc.lsm, p->mount_label, &e) < 0)
		return husk__sync_fail(sock, e.errnum, "label '%s': %s", m->destination, e.msg);
	return 0;
}

static int init_mounts(int sock, int rootfd, const struct husk_init_plan *p)
{
	for (size_t i = 0; i < p->n_mounts; i++) {
		const struct husk_plan_mount *m = &p->mounts[i];
		if (strcmp(m->fstype, "cgroup") == 0 || strcmp(m->fstype, "cgroup2") == 0) {
			if (mount_cgroup(sock, rootfd, p, m) < 0)
				return -EIO;
			continue;
		}
		_cleanup_close_ int target = husk__open_mount_point(sock, rootfd, m, false);
		if (target < 0)
			return target;
		if (husk__mount_new(sock, target, m) < 0)
			return -EIO;
		if (strcmp(m->fstype, "mqueue") == 0 && mqueue_label(sock, rootfd, p, m) < 0)
			return -EIO;
	}
	return 0;
}

static int do_pivot(int sock, const char *root, bool no_pivot)
{
	if (chdir(root) < 0)
		return husk__sync_error(sock, errno, "chdir '%s'", root);
	if (no_pivot) {
		/* NoPivotRoot (a root on a ramdisk): move it over / and chroot, as runc does. */
		if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
			return husk__sync_error(sock, errno, "move the root '%s' onto /", root);
		if (chroot(".") < 0)
			return husk__sync_error(sock, errno, "chroot '%s'", root);
		if (chdir("/") < 0)
			return husk__sync_error(sock, errno, "chdir /");
		return 0;
	}
	/* pivot_root(".", "."): the old root ends up on top of the new one, then goes. */
	if (husk__pivot_root(".", ".") < 0)
		return husk__sync_error(sock, errno, "pivot_root '%s'", root);
	if (umount2(".", MNT_DETACH) < 0)
		return husk__sync_error(sock, errno, "detach the old root");
	if (chdir("/") < 0)
		return husk__sync_error(sock, errno, "chdir /");
	return 0;
}

/* After pivot_root, so every component resolves in the container: mkdir -p cwd, as runc. */
static int make_cwd(int sock, const char *cwd)
{
	char path[PATH_MAX];
	size_t len = strlen(cwd);

	if (len >= sizeof(path))
		return husk__sync_error(sock, ENAMETOOLONG, "process.cwd '%s'", cwd);
	memcpy(path, cwd, len + 1);
	for (char *c = path + 1;; c++) {
		if (*c != '/' && *c != '\0')
			continue;
		char saved = *c;
		*c = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			return husk__sync_error(sock, errno, "create process.cwd '%s'", cwd);
		*c = saved;
		if (saved == '\0')
			break;
	}
	return 0;
}

/* A directory gets a read-only tmpfs (runc's: no size option), anything else /dev/null; on
 * the fd of one lookup of path. */
static int mask_path(const char *path, const char *data)
{
	char reason[256];
	struct stat st;
	_cleanup_close_ int at = open(path, O_PATH | O_CLOEXEC);

	if (at < 0 || fstat(at, &st) < 0)
		return -errno;
	_cleanup_close_ int mnt = S_ISDIR(st.st_mode)
					  ? husk__fs_mount_detached("tmpfs", "tmpfs", MS_RDONLY,
								    data, reason, sizeof(reason))
					  : husk__open_tree(AT_FDCWD, "/dev/null",
							    OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (mnt < 0)
		return S_ISDIR(st.st_mode) ? mnt : -errno;
	if (husk__move_mount(mnt, "", at, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) <
	    0)
		return -errno;
	return 0;
}

static int mask_paths(int sock, const struct husk_init_plan *p)
{
	for (size_t i = 0; i < p->n_masked_paths; i++) {
		int r = mask_path(p->masked_paths[i], p->masked_dir_data);
		if (r == -ENOENT)
			continue;
		if (r < 0)
			return husk__sync_error(sock, r, "mask '%s'", p->masked_paths[i]);
	}
	return 0;
}

static int readonly_path(const char *path, unsigned flags)
{
	struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY};
	/* One lookup: the clone comes from and goes back onto the same fd. */
	_cleanup_close_ int at = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (at < 0)
		return -errno;
	_cleanup_close_ int tree = husk__open_tree(
		at, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH);

	(void)flags;
	if (tree < 0)
		return -errno;
	if (husk__mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0)
		return -errno;
	if (husk__move_mount(tree, "", at, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) <
	    0)
		return -errno;
	return 0;
}

static int readonly_paths(int sock, const struct husk_init_plan *p)
{
	for (size_t i = 0; i < p->n_readonly_paths; i++) {
		int r = readonly_path(p->readonly_paths[i], 0);
		if (r == -ENOENT)
			continue;
		if (r < 0)
			return husk__sync_error(sock, r, "read-only path '%s'",
						p->readonly_paths[i]);
	}
	return 0;
}

static int root_readonly(int sock, const struct husk_init_plan *p)
{
	struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY};

	if (p->root_readonly && husk__mount_setattr(AT_FDCWD, "/", 0, &attr, sizeof(attr)) < 0)
		return husk__sync_error(sock, errno, "make the root read-only");
	return 0;
}

static int write_sysctl(int sock, const struct husk_kv *kv)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "/proc/sys/%s", kv->key) >= (int)sizeof(path) ||
	    strstr(kv->key, ".."))
		return husk__sync_error(sock, EINVAL, "sysctl '%s'", kv->key);
	for (char *c = path + 10; *c; c++)
		if (*c == '.')
			*c = '/';
	int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return husk__sync_error(sock, errno, "sysctl '%s'", kv->key);
	size_t len = strlen(kv->value);
	ssize_t n = write(fd, kv->value, len);
	int saved = errno;
	(void)close(fd);
	if (n != (ssize_t)len)
		return husk__sync_error(sock, n < 0 ? saved : EIO, "sysctl '%s'", kv->key);
	return 0;
}

static int linux_setup(int sock, const struct husk_init_plan *p)
{
	if (p->hostname && sethostname(p->hostname, strlen(p->hostname)) < 0)
		return husk__sync_error(sock, errno, "sethostname '%s'", p->hostname);
	if (p->domainname && setdomainname(p->domainname, strlen(p->domainname)) < 0)
		return husk__sync_error(sock, errno, "setdomainname '%s'", p->domainname);
	for (size_t i = 0; i < p->n_sysctl; i++)
		if (write_sysctl(sock, &p->sysctl[i]) < 0)
			return -EIO;
	if (p->set_personality && personality(p->personality) < 0)
		return husk__sync_error(sock, errno, "personality");
	return 0;
}

/* The hooks OCI runs in the container's namespaces: createContainer before pivot_root (the
 * path resolves in the runtime's root), startContainer right before the exec. */
static int child_hooks(int sock, const struct husk_init_ctx *ctx, enum husk_hook_kind kind,
		       const char *status, pid_t pid)
{
	struct husk_err e = {0};

	if (!ctx->spec || ctx->spec->hooks.n[kind] == 0)
		return 0;
	struct husk_hook_state hs = {.oci_version = ctx->spec->oci_version,
				     .id = ctx->id,
				     .status = status,
				     .pid = pid,
				     .bundle = ctx->bundle,
				     .spec = ctx->spec};
	if (husk__hooks_run(ctx->spec, kind, &hs, &e) >= 0)
		return 0;
	/* The message carries the errno's text already. */
	return husk__sync_error(sock, 0, "%s", e.msg);
}

static int attach_tree(int sock, const struct husk_init_plan *p, pid_t *ret_pid)
{
	_cleanup_close_ int tree = -1;
	struct husk_sync_msg msg;

	if (husk__sync_expect(
		    sock,
		    &(struct husk_sync_wait){HUSK_SYNC_TREE_FD, HUSK_CHILD_TIMEOUT_MS, "init"},
		    &msg, &tree, NULL) < 0 ||
	    tree < 0)
		return husk__sync_error(sock, EPROTO, "waiting for the rootfs tree");
	*ret_pid = msg.value;
	if (p->new_userns) {
		/* Mapped by the parent by now: become the namespace's root. */
		if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
			return husk__sync_error(sock, errno, "become root of the user namespace");
	}
	/* After the parent moved us into the container's cgroup: that is the new root. */
	if ((p->clone_flags & CLONE_NEWCGROUP) && unshare(CLONE_NEWCGROUP) < 0)
		return husk__sync_error(sock, errno, "unshare cgroup namespace");
	/* Nothing mounted from here on may propagate to the host. */
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
		return husk__sync_error(sock, errno, "make / a slave");
	if (husk__move_mount(tree, "", AT_FDCWD, p->root, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return husk__sync_error(sock, errno, "attach the rootfs tree on '%s'", p->root);
	return 0;
}

/* The first child (init, or its stage) moves itself into the container's cgroup: see
 * struct husk_cgroup_join. Born in the unified one already. */
static int join_cgroup(int sock, const struct husk_init_ctx *ctx)
{
	int fds[HUSK_CG_MAX_HIER];

	if (!ctx->join || ctx->join->n == 0)
		return 0;
	for (size_t i = 0; i < ctx->join->n; i++)
		fds[i] = JOIN_FD + (int)i;
	int r = husk__cgroup_enter_self(fds, ctx->join->n);
	(void)husk_close_range(JOIN_FD, JOIN_FD + (unsigned)ctx->join->n - 1, 0);
	if (r < 0)
		return husk__sync_error(sock, -r, "join the container's cgroup");
	return 0;
}

/* The runtime's hooks come first (prestart, createRuntime), then ours; without any, no
 * round trip to wait for. */
static int runtime_hooks_done(int sock, const struct husk_init_ctx *ctx)
{
	if (!husk__init_runtime_hooks(ctx->spec))
		return 0;
	if (husk__sync_send(sock, HUSK_SYNC_HOOKS, 0, -1, NULL) < 0)
		return -1;
	return husk__sync_expect(sock, &(struct husk_sync_wait){HUSK_SYNC_HOOKS, -1, "init"}, NULL,
				 NULL, NULL);
}

static int init_main(void *arg)
{
	const struct husk_init_ctx *ctx = arg;
	const struct husk_init_plan *p = ctx->plan;
	int sock = SYNC_FD;
	pid_t pid = 0; /* ours as the runtime sees it */

	/* Nothing in the container may open the runtime binary through /proc/1/exe. */
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	/* First, as runc: a session keyring of the container's own, searchable, with the
	 * process's SELinux label. */
	if (ctx->keyring && husk__keyring_join_labelled(sock, ctx->keyring, true, p->new_userns,
							&p->proc.lsm, p->proc.selinux_label) < 0)
		return 127;
	/* A stage joined already, and we were born where it is. */
	if (p->n_joins == 0 && join_cgroup(sock, ctx) < 0)
		return 127;
	if (attach_tree(sock, p, &pid) < 0)
		return 127;
	_cleanup_close_ int rootfd = open(p->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return husk__sync_error(sock, errno, "open root '%s'", p->root), 127;
	if (husk__mounts_unbindable(sock, rootfd, p) < 0 || init_mounts(sock, rootfd, p) < 0)
		return 127;
	if (runtime_hooks_done(sock, ctx) < 0)
		return 127;
	if (child_hooks(sock, ctx, HUSK_HOOK_CREATE_CONTAINER, "creating", pid) < 0 ||
	    do_pivot(sock, p->root, ctx->no_pivot) < 0)
		return 127;
	husk_closep(&rootfd);
	if (p->root_propagation && mount(NULL, "/", NULL, p->root_propagation, NULL) < 0)
		return husk__sync_error(sock, errno, "root propagation"), 127;
	/* runc's order: the cwd, the read-only root, hostname and sysctl (/proc/sys is still
	 * writable), then read-only and masked paths. */
	if (make_cwd(sock, p->proc.cwd) < 0 || root_readonly(sock, p) < 0 ||
	    linux_setup(sock, p) < 0 || readonly_paths(sock, p) < 0 || mask_paths(sock, p) < 0)
		return 127;
	if (p->proc.terminal &&
	    husk__console_setup(sock, &p->proc, ctx->io_uid ? ctx->io_uid : p->proc.uid,
				ctx->io_gid ? ctx->io_gid : p->proc.gid) < 0)
		return 127;
	char path[PATH_MAX];
	if (husk__proc_labels(sock, &p->proc, /* init= */ true) < 0 ||
	    husk__proc_setup(sock, &p->proc, ctx->seccomp) < 0 ||
	    husk__proc_lookup(sock, &p->proc, path, sizeof(path)) < 0)
		return 127;
	if (husk__sync_send(sock, HUSK_SYNC_READY, 0, -1, NULL) < 0)
		return 127;
	/* Created: wait for start as long as it takes; EOF means the runtime gave up. */
	if (husk__sync_expect(sock, &(struct husk_sync_wait){HUSK_SYNC_START, -1, "init"}, NULL,
			      NULL, NULL) < 0)
		return 127;
	/* As runc: after the user and capabilities are set, before the exec. */
	if (child_hooks(sock, ctx, HUSK_HOOK_START_CONTAINER, "created", pid) < 0)
		return 127;
	(void)husk__proc_exec(sock, &p->proc, path, ctx->seccomp);
	return 127;
}

/* The stage: joins the namespaces given by path, then clones the init as a sibling (our
 * parent's child, so the caller's reaper sees it) and reports its pid. */
static int stage_main(void *arg)
{
	const struct husk_init_ctx *ctx = arg;
	const struct husk_init_plan *p = ctx->plan;
	int sock = SYNC_FD;

	if (join_cgroup(sock, ctx) < 0)
		return 1;
	for (size_t i = 0; i < p->n_joins; i++) {
		int fd = open(p->joins[i].path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return husk__sync_error(sock, errno, "open namespace '%s'",
						p->joins[i].path),
			       1;
		int r = setns(fd, p->joins[i].clone_flag);
		int saved = errno;
		(void)close(fd);
		if (r < 0)
			return husk__sync_error(sock, saved, "join namespace '%s'",
						p->joins[i].path),
			       1;
	}
	pid_t pid =
		husk__clone3(CLONE_PARENT | (p->clone_flags & ~(uint64_t)CLONE_NEWCGROUP), NULL);
	if (pid < 0)
		return husk__sync_error(sock, errno, "clone init"), 1;
	if (pid == 0) {
		(void)prctl(PR_SET_NAME, "husk:[init]", 0, 0, 0);
		_exit(init_main(arg));
	}
	return husk__sync_send(sock, HUSK_SYNC_PID, pid, -1, NULL) < 0 ? 1 : 0;
}

/* ---- parent side ------------------------------------------------------------------------- */

static int write_map(pid_t pid, const char *file, const struct husk_id_mapping *m, size_t n,
		     struct husk_err *err)
{
	char path[64];
	char buf[4096];
	size_t len = 0;

	for (size_t i = 0; i < n; i++) {
		int w = snprintf(buf + len, sizeof(buf) - len, "%u %u %u\n", m[i].container_id,
				 m[i].host_id, m[i].size);
		if (w < 0 || (size_t)w >= sizeof(buf) - len)
			return husk_err_set(err, HUSK_ERR_INVALID, 0, "linux.%s: too many entries",
					    file);
		len += (size_t)w;
	}
	(void)snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, buf, len) != (ssize_t)len)
		return husk_err_errno(err, errno, "write %s", path);
	return 0;
}

/* Through the stage: its report gives the init's pid; the init is our child. */
static int spawn_staged(const struct husk_spawn_opts *o, const struct husk_init_ctx *ctx, int sock,
			struct husk_child *ret, struct husk_err *err)
{
	struct husk_child stage = HUSK_CHILD_NULL;
	struct husk_sync_msg msg;
	int r = husk_spawn(o, stage_main, (void *)ctx, &stage, err);

	if (r < 0)
		return r;
	r = husk__sync_expect(
		sock, &(struct husk_sync_wait){HUSK_SYNC_PID, HUSK_CHILD_TIMEOUT_MS, "init stage"},
		&msg, NULL, err);
	if (r < 0) {
		(void)husk_child_kill_and_reap(&stage);
		return r;
	}
	int status = husk__wait_pid(stage.pid);
	husk_child_release(&stage);
	struct husk_child init = {.pid = msg.value, .pidfd = -1};
	/* Our child (CLONE_PARENT) and unreaped: the pid cannot be recycled under us. */
	init.pidfd = husk_pidfd_open_checked(init.pid, 0, err);
	if (init.pidfd < 0)
		return init.pidfd;
	r = husk_proc_start_time(init.pid, &init.start_time, err);
	if (r < 0 || status != 0) {
		(void)husk_child_kill_and_reap(&init);
		return r < 0 ? r : husk_err_set(err, HUSK_ERR_INTERNAL, 0, "init stage failed");
	}
	*ret = init;
	return 0;
}

int husk__init_spawn(const struct husk_init_ctx *ctx, struct husk_child *ret_child, int *ret_sock,
		     struct husk_err *err)
{
	const struct husk_init_plan *p = ctx->plan;
	int sv[2];
	int r = husk__sync_pair(sv);

	if (r < 0)
		return husk_err_errno(err, -r, "init socketpair");
	_cleanup_close_ int mine = sv[0];
	_cleanup_close_ int theirs = sv[1];
	bool tty = p->proc.terminal;
	struct husk_spawn_fd fds[4 + HUSK_CG_MAX_HIER] = {{tty ? -1 : ctx->stdio[0], 0, false},
							  {tty ? -1 : ctx->stdio[1], 1, false},
							  {tty ? -1 : ctx->stdio[2], 2, false},
							  {theirs, SYNC_FD, true}};
	struct husk_spawn_opts o = {.fds = fds, .n_fds = 4};
	_cleanup_child_ struct husk_child init = HUSK_CHILD_NULL;

	if (ctx->join) {
		for (size_t i = 0; i < ctx->join->n; i++)
			fds[o.n_fds++] =
				(struct husk_spawn_fd){ctx->join->fds[i], JOIN_FD + (int)i, true};
		if (ctx->join->clone_fd >= 0) {
			o.clone_flags |= CLONE_INTO_CGROUP;
			o.cgroup_fd = ctx->join->clone_fd;
		}
	}

	if (p->n_joins) {
		o.name = "husk:[stage]";
		r = spawn_staged(&o, ctx, mine, &init, err);
	} else {
		o.name = "husk:[init]";
		/* The cgroup namespace is unshared by the init once it is in its cgroup. */
		o.clone_flags |= p->clone_flags & ~(uint64_t)CLONE_NEWCGROUP;
		r = husk_spawn(&o, init_main, (void *)ctx, &init, err);
	}
	if (r < 0)
		return r;
	husk_closep(&theirs);
	if (p->new_userns &&
	    ((r = write_map(init.pid, "uid_map", p->uid_mappings, p->n_uid_mappings, err)) < 0 ||
	     (r = write_map(init.pid, "gid_map", p->gid_mappings, p->n_gid_mappings, err)) < 0))
		return r;
	*ret_child = init;
	init = HUSK_CHILD_NULL;
	*ret_sock = TAKE_FD(mine);
	return 0;
}

bool husk__init_runtime_hooks(const struct husk_spec *spec)
{
	return spec && (spec->hooks.n[HUSK_HOOK_PRESTART] > 0 ||
			spec->hooks.n[HUSK_HOOK_CREATE_RUNTIME] > 0);
}

int husk__init_handoff(int sock, const struct husk_handoff *h, int *ret_console,
		       struct husk_err *err)
{
	_cleanup_close_ int console = -1;
	int r = husk__sync_send(sock, HUSK_SYNC_TREE_FD, h->pid, h->tree, NULL);

	/* An init that failed before it took the tree (joining its cgroup, say) has left its
	 * error on the socket: that, rather than the broken pipe, is the reason. */
	if (r < 0) {
		int e = husk__sync_expect(
			sock,
			&(struct husk_sync_wait){HUSK_SYNC_NONE, HUSK_CHILD_TIMEOUT_MS, "init"},
			NULL, NULL, err);
		return e < 0 ? e : husk_err_errno(err, -r, "init: send the rootfs tree");
	}
	if (h->runtime_hooks) {
		r = husk__sync_expect(
			sock,
			&(struct husk_sync_wait){HUSK_SYNC_HOOKS, HUSK_CHILD_TIMEOUT_MS, "init"},
			NULL, NULL, err);
		if (r < 0)
			return r;
		r = h->runtime_hooks(h->arg, err);
		if (r < 0)
			return r;
		r = husk__sync_send(sock, HUSK_SYNC_HOOKS, 0, -1, NULL);
		if (r < 0)
			return husk_err_errno(err, -r, "init: send hooks done");
	}
	if (h->terminal) {
		r = husk__sync_expect(sock,
				      &(struct husk_sync_wait){HUSK_SYNC_CONSOLE_FD,
							       HUSK_CHILD_TIMEOUT_MS, "init"},
				      NULL, &console, err);
		if (r < 0)
			return r;
		if (console < 0)
			return husk_err_set(err, HUSK_ERR_INTERNAL, EPROTO, "init: no pty master");
	}
	r = husk__sync_expect(sock,
			      &(struct husk_sync_wait){HUSK_SYNC_READY,
						       HUSK_CHILD_TIMEOUT_MS + h->extra_ms, "init"},
			      NULL, NULL, err);
	if (r < 0)
		return r;
	*ret_console = TAKE_FD(console);
	return 0;
}

int husk__init_release(int sock, int extra_ms, struct husk_err *err)
{
	int r = husk__sync_send(sock, HUSK_SYNC_START, 0, -1, NULL);

	if (r < 0)
		return husk_err_errno(err, -r, "init: send start");
	return husk__sync_expect(
		sock,
		&(struct husk_sync_wait){HUSK_SYNC_NONE, HUSK_CHILD_TIMEOUT_MS + extra_ms, "start"},
		NULL, NULL, err);
}
