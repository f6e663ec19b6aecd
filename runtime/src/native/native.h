/*
 * The native engine's internals: the children (gofer, init, exec) and their helpers.
 * Functions marked "child side" run after clone in a single-threaded child: they report
 * failures over the sync socket and return -errno; they never return to the caller's code
 * paths (the child exits with their result).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/types.h>

#include "native/plan.h"

struct husk_cgroup_join;
struct husk_child;
struct husk_err;
struct husk_seccomp;
struct husk_spec;

/* How long the parent waits for a child's next message (bounded: no call blocks forever). */
#define HUSK_CHILD_TIMEOUT_MS 30000

/* ---- fs helpers (fs_root.c in gofer.c) ------------------------------------------------ */

/*
 * Open path inside the tree at rootfd (every component resolved with RESOLVE_IN_ROOT, so
 * symlinks and ".." never leave it), creating missing components as directories inside the
 * tree; the last one as a directory, or as an empty file when file is true. Returns an
 * O_PATH fd or -errno. Child side, async-signal-safe.
 */
int husk__open_in_root(int rootfd, const char *path, bool file);

/*
 * The last component of path inside rootfd, which must be a directory and is never followed
 * as a link (its parent is resolved as husk__open_in_root() does); created when missing.
 * O_PATH fd, -ENOTDIR when it is anything but a directory, or -errno. Child side.
 */
int husk__open_ordinary_dir(int rootfd, const char *path);

/*
 * m's mount point in rootfd: husk__open_in_root(), or husk__open_ordinary_dir() when the
 * plan says so (proc, sysfs, /dev). Reports a failure on sock (runc's words for a link:
 * 'filesystem "proc" must be mounted on ordinary directory'). Child side.
 */
int husk__open_mount_point(int sock, int rootfd, const struct husk_plan_mount *m, bool file);

/* mount(2) onto an O_PATH fd through /proc/self/fd (the fd's exact location). */
int husk__mount_on_fd(const char *source, int targetfd, const char *fstype, unsigned long flags,
		      const char *data);

/*
 * A new filesystem, detached (fsopen, fsconfig of flags' superblock part and of data's
 * options, fsmount with flags' mount attributes): the mount fd, or -errno with the kernel's
 * reason (its fs_context log) in reason. Child side.
 */
int husk__fs_mount_detached(const char *fstype, const char *source, unsigned long flags,
			    const char *data, char *reason, size_t size);

/*
 * m (not a bind) created detached, filled from the image for tmpcopyup, moved onto target
 * (an O_PATH fd: no path is resolved again), then its recursive attributes and propagation
 * set. Reports a failure on sock. Child side.
 */
int husk__mount_new(int sock, int target, const struct husk_plan_mount *m);

/*
 * The init's part of the gofer's mounts: "unbindable"/"runbindable" set on each, in the
 * attached tree (the gofer's clone of its tree would have dropped them). Child side.
 */
int husk__mounts_unbindable(int sock, int rootfd, const struct husk_init_plan *p);

/* ---- gofer ---------------------------------------------------------------------------- */

/*
 * Spawn the gofer (own mount namespace, fds 0-2 on /dev/null, sync socket on 3), wait for
 * its tree fd and reap it. On success *ret_tree is the detached tree (O_CLOEXEC, the
 * caller's). The gofer never outlives this call.
 */
int husk__gofer_run(const struct husk_gofer_plan *plan, int *ret_tree, struct husk_err *err);

/*
 * husk__gofer_run() in two halves, so the caller can work while the gofer mounts: start
 * spawns it (*ret_gofer and its sync socket *ret_sock are the caller's); finish waits for
 * the tree and reaps it, and on failure kills and reaps it. The plan must outlive finish.
 */
int husk__gofer_start(const struct husk_gofer_plan *plan, struct husk_child *ret_gofer,
		      int *ret_sock, struct husk_err *err);
int husk__gofer_finish(struct husk_child *gofer, int sock, int *ret_tree, struct husk_err *err);

/* ---- init ----------------------------------------------------------------------------- */

struct husk_init_ctx {
	const struct husk_init_plan *plan;
	void *seccomp; /* scmp_filter_ctx built by the parent, NULL for none */
	uid_t io_uid;  /* console owner */
	gid_t io_gid;
	int stdio[3]; /* borrowed; -1: /dev/null */
	/* For the createContainer and startContainer hooks, which the init runs in the
	 * container's namespaces (OCI); the spec may be NULL (no hooks). */
	const struct husk_spec *spec;
	const char *id;
	const char *bundle;
	/* The container's cgroup, joined by the init (or its stage) itself before anything
	 * else; NULL: the caller moves it by pid (husk__cgroup_enter()). */
	const struct husk_cgroup_join *join;
	const char *keyring; /* session keyring to join ("_ses.<id>"); NULL: keep ours */
	bool no_pivot;	     /* MS_MOVE the root onto / and chroot instead of pivot_root */
};

/*
 * Spawn the init (directly, or through a stage that joins namespaces by path first; with a
 * new user namespace the maps are written here). It then waits for its tree: the caller
 * moves it into its cgroup first unless ctx->join has it join by itself, then calls
 * husk__init_handoff(). On success *ret_child is
 * the init (the caller's) and *ret_sock its sync socket (the caller's).
 */
int husk__init_spawn(const struct husk_init_ctx *ctx, struct husk_child *ret_child, int *ret_sock,
		     struct husk_err *err);

struct husk_handoff {
	int tree;      /* the gofer's tree (borrowed) */
	pid_t pid;     /* the init as we see it, for the hooks' state */
	bool terminal; /* a pty master comes back */
	int extra_ms;  /* time budget of the createContainer hooks */
	/* Run when the init's mounts are done (OCI prestart and createRuntime hooks, in the
	 * runtime's namespaces); the init runs createContainer after it returned. Set exactly
	 * when husk__init_runtime_hooks(spec): the init waits for it then only. */
	int (*runtime_hooks)(void *arg, struct husk_err *err);
	void *arg;
};

/* Whether the spec has hooks that run in the runtime once the init's mounts are done
 * (prestart, createRuntime). */
bool husk__init_runtime_hooks(const struct husk_spec *spec);

/* Hand the tree over and wait until the init is set up, hooks included (the OCI order:
 * prestart, createRuntime, createContainer). *ret_console is the pty master (the caller's)
 * with a terminal, else -1. */
int husk__init_handoff(int sock, const struct husk_handoff *h, int *ret_console,
		       struct husk_err *err);

/* Send START and wait for the exec (after the startContainer hooks: extra_ms): EOF is
 * success; a hook or exec failure comes back as error. */
int husk__init_release(int sock, int extra_ms, struct husk_err *err);

/* ---- process setup shared by init and exec (child side) ------------------------------- */

/*
 * The AppArmor profile and SELinux label of the execve (native/lsm.c), through the
 * container's /proc: before husk__proc_setup, as root. init: errors carry runc's init
 * prefixes ("unable to apply apparmor profile: ...", "can't set process label: ...").
 * Nothing is opened when there is nothing to write.
 */
int husk__proc_labels(int sock, const struct husk_proc_plan *plan, bool init);

/* rlimits, oom_score_adj, umask, cwd, groups/gid/uid, capabilities (and seccomp now when
 * no_new_privs is off: loading needs CAP_SYS_ADMIN then). */
int husk__proc_setup(int sock, const struct husk_proc_plan *plan, void *seccomp);

/*
 * Find argv[0] as runc 1.1 does (Go's exec.LookPath in the process's PATH, then an
 * executable check as the process's user) and put its path in buf. On failure, reports
 * runc's words ('exec: "x": executable file not found in $PATH', 'exec: "/x": stat /x: no
 * such file or directory') and returns -errno. Child side, after husk__proc_setup, so a
 * missing executable fails the create, not the start.
 */
int husk__proc_lookup(int sock, const struct husk_proc_plan *plan, char *buf, size_t size);

/* no_new_privs, seccomp (with no_new_privs), execve of path (from husk__proc_lookup).
 * Returns only on failure, after reporting it. */
int husk__proc_exec(int sock, const struct husk_proc_plan *plan, const char *path, void *seccomp);

/* Open a pty in the current /dev/pts, make it the controlling terminal on 0,1,2 and send the
 * master over sock (SYNC_CONSOLE_FD). Child side. */
int husk__console_setup(int sock, const struct husk_proc_plan *plan, uid_t uid, gid_t gid);

/*
 * Parent side. The foreground process group of the terminal of pid (a pty whose master we
 * hold, -1 for none: then /proc/<pid>/stat tells), in our pid namespace; 0 when there is
 * none or it is pid's own group, i.e. when a signal for the group is one for pid.
 */
pid_t husk__console_foreground(int master, pid_t pid);

/* Signal every process of group pgrp: through the leader's pidfd (PIDFD_SIGNAL_PROCESS_GROUP),
 * else kill(-pgrp). A group that is gone is HUSK_ERR_NOT_FOUND. */
int husk__signal_group(pid_t pgrp, int sig, struct husk_err *err);

/* ---- capabilities and seccomp --------------------------------------------------------- */

/* Drop the bounding set to caps->bounding. Child side. */
int husk__caps_drop_bounding(const struct husk_caps_plan *caps);
/* Set effective/permitted/inheritable, then ambient: one the kernel refuses to raise (not
 * inheritable and permitted) is skipped with a warning on sock, as runc does. Child side. */
int husk__caps_apply(int sock, const struct husk_caps_plan *caps);

/* Build a libseccomp filter (parent side, before spawning); *ret (scmp_filter_ctx) NULL when
 * the spec has none. HUSK_ERR_INVALID for an unknown action/arch/op. */
int husk__seccomp_build(const struct husk_seccomp *spec, void **ret, struct husk_err *err);
void husk__seccomp_free(void *ctx);
/* Load the filter into the calling process. Child side: -errno. */
int husk__seccomp_load(void *ctx);

/*
 * What husk__seccomp_build() accepts, for the features document: the i-th action,
 * comparison operator, filter flag and architecture name, NULL past the end. The
 * architectures are the runtime-spec's names; husk__seccomp_arch_resolve() gives the
 * libseccomp token of one (0 when this libseccomp does not know it), and
 * husk__seccomp_arch_usable() says whether a filter built here can include it. An action
 * or a flag is usable when a filter with it builds with this libseccomp on this kernel.
 */
const char *husk__seccomp_action_name(size_t i);
const char *husk__seccomp_operator_name(size_t i);
const char *husk__seccomp_flag_name(size_t i);
const char *husk__seccomp_arch_name(size_t i);
uint32_t husk__seccomp_arch_resolve(const char *name);
bool husk__seccomp_arch_usable(const char *name);
bool husk__seccomp_action_usable(const char *name);
bool husk__seccomp_flag_usable(const char *name);

/* ---- exec ----------------------------------------------------------------------------- */

struct husk_cgroup;

struct husk_exec_ctx {
	const struct husk_proc_plan *plan;
	void *seccomp;
	const struct husk_child *init; /* whose namespaces are joined */
	struct husk_cgroup *cgroup;    /* NULL: none; joined by the exec's stage itself */
	const char *keyring;	       /* session keyring to join; NULL: keep ours */
	uid_t io_uid;
	gid_t io_gid;
	int stdio[3];
};

/* Run a process inside the init's namespaces and cgroup. On success *ret_child is the
 * caller's and *ret_console the pty master or -1. Exec failures are errors. */
int husk__exec_spawn(const struct husk_exec_ctx *ctx, struct husk_child *ret_child,
		     int *ret_console, struct husk_err *err);
