/*
 * The public container lifecycle API: what the shim and the husk CLI call.
 *
 * Processes are reaped by the caller: the runtime forks the container init and exec
 * processes and hands out their pid, pidfd and start time; the caller's reaper waits for
 * them and reports the init's exit with husk_container_set_exited(). The runtime reaps only
 * the helpers it runs synchronously (the gofer, hooks), by pid, before returning.
 *
 * All calls are synchronous and bounded by timeouts; none blocks indefinitely.
 * Not thread-safe (the shim has one thread).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/types.h>

#include "husk/id.h"
#include "husk/process.h"
#include "husk/status.h"

struct husk_err;
struct husk_mount;
struct husk_process;
struct husk_resources;
struct husk_cgroup_stats;

struct husk_runtime_config {
	const char *root;	/* state dir (required), e.g. /run/containerd/husk/<namespace> */
	const char *engine;	/* "native" (NULL = native) or "oci" */
	const char *oci_binary; /* oci engine: runtime binary name or path (runsc, runc, crun) */
	const char *oci_root;	/* oci engine: the binary's --root; NULL = its default */
	/* oci engine: global flags given to every call of the binary (NULL-terminated), e.g.
	 * runsc's --platform; NULL = none */
	const char *const *oci_args;
	bool systemd_cgroup; /* cgroupsPath is in systemd "slice:prefix:name" form */
	/* runc options NoNewKeyring: the container keeps the runtime's session keyring instead
	 * of one of its own ("_ses.<id>") */
	bool no_new_keyring;
	/* runc options NoPivotRoot: the root is moved onto / and chroot'ed into (for a root on
	 * a ramdisk, where pivot_root fails) */
	bool no_pivot_root;
};

struct husk_runtime;

/* Open a runtime over a state root (created if missing). */
int husk_runtime_open(const struct husk_runtime_config *cfg, struct husk_runtime **ret,
		      struct husk_err *err);
struct husk_runtime *husk_runtime_free(struct husk_runtime *rt);

struct husk_create_opts {
	const char *id;	    /* container id */
	const char *bundle; /* absolute bundle path (holds config.json) */
	/* containerd's rootfs mounts, done by the gofer; none: the gofer binds root.path */
	const struct husk_mount *rootfs;
	size_t n_rootfs;
	/* fds that become the init's 0, 1, 2 (borrowed, dup'ed by the runtime); -1: /dev/null.
	 * Ignored when the spec asks for a terminal. */
	int stdio[3];
	uid_t io_uid; /* owner of the console (terminal) */
	gid_t io_gid;
};

struct husk_container;

/*
 * Create a container: state file (Creating), gofer, sandbox namespaces or joins them,
 * cgroup, init set up and waiting for start, createRuntime/createContainer hooks; then
 * status Created. On failure everything created is undone (gofer and init killed and
 * reaped, cgroup and state removed) and *ret is untouched.
 * Errors: HUSK_ERR_INVALID (bad id, bad spec: the JSON path is named), HUSK_ERR_EXISTS
 * (id in use), HUSK_ERR_INTERNAL.
 */
int husk_container_create(struct husk_runtime *rt, const struct husk_create_opts *opts,
			  struct husk_container **ret, struct husk_err *err);

/* The fds a handle from husk_container_create() holds that a handle loaded from the state
 * file cannot reopen: the console (pty master) and the engine's own (the native init's start
 * socket and its copy of the console). */
#define HUSK_CONTAINER_HANDOFF_FDS 3

/*
 * Hand a created container over to another process (the shim creates in a helper process):
 * the fds only this handle holds are moved to ret_fds (-1 where there is none) and the handle
 * keeps none of them. Send them over with SCM_RIGHTS; the receiver calls
 * husk_container_adopt().
 */
void husk_container_handoff(struct husk_container *c, int ret_fds[HUSK_CONTAINER_HANDOFF_FDS]);

/*
 * Load the container id that another process created and handed off, and take over its
 * fds: afterwards the handle is as husk_container_create() returned it in that process
 * (Start releases the init). The fds are taken in every case (closed on failure).
 */
int husk_container_adopt(struct husk_runtime *rt, const char *id,
			 int fds[HUSK_CONTAINER_HANDOFF_FDS], struct husk_container **ret,
			 struct husk_err *err);

/*
 * Load an existing container by id or unique prefix (for the CLI and the shim's delete
 * action). HUSK_ERR_NOT_FOUND when there is none.
 */
int husk_container_load(struct husk_runtime *rt, const char *id_or_prefix,
			struct husk_container **ret, struct husk_err *err);

/*
 * For a container whose state file cannot be read (truncated, corrupt), with no process left
 * that holds it: find what it still holds from its bundle (the absolute path of the bundle
 * containerd made for it) and remove it — every process in the cgroup that the spec's
 * cgroupsPath names (SIGKILL), that cgroup, and the state and lock files. The bundle's pod
 * (its sandbox id) must be the one the state file's name records (HUSK_ERR_INVALID
 * otherwise). HUSK_ERR_NOT_FOUND when id has no unreadable state file.
 */
int husk_container_remove_unreadable(struct husk_runtime *rt, const char *id, const char *bundle,
				     struct husk_err *err);

/* Free the in-memory handle only (the container keeps running). NULL allowed. */
struct husk_container *husk_container_free(struct husk_container *c);

const struct husk_full_id *husk_container_full_id(const struct husk_container *c);
const char *husk_container_bundle(const struct husk_container *c);
enum husk_status husk_container_status(const struct husk_container *c);

/* False once the container's state file is gone: another process (containerd's `delete`
 * action, the husk CLI) deleted it. */
bool husk_container_state_exists(const struct husk_container *c);

/* The init process: pid, start time and a pidfd owned by the container (borrowed). */
const struct husk_child *husk_container_init(const struct husk_container *c);

/* The pty master when the spec asked for a terminal (caller owns it); -1 otherwise. */
int husk_container_take_console(struct husk_container *c);

/*
 * Re-read the container's state file without the lock, so that a caller's checks see what
 * another process (the husk CLI) did; every mutating call below re-reads it under the lock
 * anyway. HUSK_ERR_NOT_FOUND when the file is gone; the handle's state is then unchanged.
 */
int husk_container_refresh(struct husk_container *c, struct husk_err *err);

/*
 * Another process acted on this container through its own copy of this handle (the shim runs
 * start, kill, pause, resume and update in a forked helper): re-read the state file and take
 * what changed — a new init (an OCI runtime's waiter) gets its pidfd opened, start-only fds go
 * once the container has started. HUSK_ERR_NOT_FOUND when the file is gone (the handle is then
 * unchanged).
 */
int husk_container_reload(struct husk_container *c, struct husk_err *err);
/* Whether another process holds the container's lock right now (a husk CLI call, which may
 * take seconds): a caller that must not wait does its call elsewhere. */
bool husk_container_locked_elsewhere(const struct husk_container *c);
/* Release the init to exec the user process; poststart hooks. Created → Running. */
int husk_container_start(struct husk_container *c, struct husk_err *err);

/*
 * Signal the init (all=false) or every process of the container (all=true: freeze, signal,
 * thaw). A stopped container: HUSK_ERR_NOT_FOUND "process already finished".
 */
int husk_container_kill(struct husk_container *c, int sig, bool all, struct husk_err *err);

/* Freezer: Running → Paused and back, waiting until the state is reached. */
int husk_container_pause(struct husk_container *c, struct husk_err *err);
int husk_container_resume(struct husk_container *c, struct husk_err *err);

/* Apply new resources to the cgroup. */
int husk_container_update(struct husk_container *c, const struct husk_resources *res,
			  struct husk_err *err);

/* Every pid in the container's cgroup (malloc'ed array, caller frees). */
int husk_container_pids(struct husk_container *c, pid_t **ret_pids, size_t *ret_n,
			struct husk_err *err);

/* Cgroup statistics (struct defined in husk/cgroup.h). */
int husk_container_stats(struct husk_container *c, struct husk_cgroup_stats *ret,
			 struct husk_err *err);

struct husk_exec_opts {
	const char *exec_id;
	const struct husk_process *process; /* borrowed */
	int stdio[3];			    /* as in husk_create_opts; ignored with a terminal */
	uid_t io_uid;
	gid_t io_gid;
};

/*
 * Run a process in the running container: joins the init's namespaces and cgroup, applies
 * the process spec and the container's seccomp profile, execs. On success *ret_child is the
 * caller's (register it with the reaper) and *ret_console the pty master or -1. An exec
 * failure (no such binary) is an error here, not an exit 127. A paused container (paused
 * by this handle or by another process) is HUSK_ERR_PRECONDITION "cannot exec in a paused
 * state", at once.
 */
int husk_container_exec(struct husk_container *c, const struct husk_exec_opts *opts,
			struct husk_child *ret_child, int *ret_console, struct husk_err *err);

/*
 * Build, once, what every exec of the container needs (the native engine's seccomp filter),
 * so that copies of this handle in forked helpers share it instead of each building it.
 * Optional: husk_container_exec() builds what is missing.
 */
int husk_container_exec_prepare(struct husk_container *c, struct husk_err *err);
/*
 * An fd that becomes readable when the container's cgroup may have had an OOM kill (v1
 * eventfd on memory.oom_control, v2 inotify on memory.events); -1 when unsupported.
 * Owned by the container. husk_container_oom_check() consumes it and says whether a new
 * OOM kill happened since the last check; it is also safe to call without the fd being
 * readable (the shim calls it synchronously before publishing the init's exit).
 */
int husk_container_oom_fd(const struct husk_container *c);
int husk_container_oom_check(struct husk_container *c, bool *ret_oom, struct husk_err *err);

/*
 * The caller's reaper saw the init exit: wait_status is as from waitpid(). Records exit
 * status (128+sig for a signal) and time in the state file, status Stopped.
 */
int husk_container_set_exited(struct husk_container *c, int wait_status, int64_t exited_ns,
			      struct husk_err *err);

/* Exit status and time recorded by set_exited (or by a previous shim); false if unknown. */
bool husk_container_exit(const struct husk_container *c, int *ret_status, int64_t *ret_ns);

/*
 * Delete: refuses a running container unless force (HUSK_ERR_PRECONDITION); with force
 * kills every remaining process (SIGKILL all) and reaps what is ours; removes the cgroup
 * (nested ones too), runs poststop hooks, removes the state and lock files. Idempotent on
 * what is already gone. The handle must still be freed.
 */
int husk_container_delete(struct husk_container *c, bool force, struct husk_err *err);
