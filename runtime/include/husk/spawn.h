/*
 * The fork recipe, one for the runtime and the shim (libuv's, STYLE §8.6): every signal
 * blocked around clone3; in the child, dispositions reset to SIG_DFL and the mask cleared,
 * the donated fds moved into place and every other fd closed; a pidfd from CLONE_PIDFD,
 * so no pid is ever used unowned. Never uv_spawn: the caller's waitpid(-1) reaper (the
 * shim's) or the caller itself reaps every child.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct husk_child;
struct husk_err;

/* The most fds one spawn donates; every target is below it. */
#define HUSK_SPAWN_FDS_MAX 64

/* One donated fd: fd (borrowed; -1 = /dev/null) becomes target in the child. */
struct husk_spawn_fd {
	int fd;
	int target;
	bool cloexec; /* keep O_CLOEXEC on target (a sync socket that must not reach an exec) */
};

/* The child's body: runs after the recipe, its return value is the exit code. */
typedef int husk_spawn_fn(void *arg);

struct husk_spawn_opts {
	const char *name;     /* PR_SET_NAME in the child (15 bytes max), NULL: keep */
	uint64_t clone_flags; /* extra CLONE_* flags (namespaces, CLONE_INTO_CGROUP) */
	int cgroup_fd;	      /* with CLONE_INTO_CGROUP: the cgroup2 dirfd the child is born in */
	const struct husk_spawn_fd *fds;
	size_t n_fds;
};

/*
 * Clone a child that runs fn(arg) and exits with its result. Targets must be distinct and
 * below HUSK_SPAWN_FDS_MAX; every other fd is closed in the child. On success *ret is the
 * caller's child (pid, pidfd, start time). Where clone3 is refused the child comes from
 * clone(2) (syscalls.c); where CLONE_PIDFD is refused too (valgrind) and no clone_flags are
 * asked for, from fork(), its pidfd from pidfd_open (-1 where that is refused as well).
 * Errors: HUSK_ERR_INTERNAL.
 */
int husk_spawn(const struct husk_spawn_opts *opts, husk_spawn_fn *fn, void *arg,
	       struct husk_child *ret, struct husk_err *err);

/* What husk_spawn_exec() runs. */
struct husk_spawn_exec {
	const char *path;  /* executable, absolute */
	char *const *argv; /* NULL-terminated */
	char *const *envp; /* NULL-terminated; NULL: inherit environ */
	bool new_session;  /* setsid(): own session and process group */
	const char *cwd;   /* NULL: inherit */
};

/*
 * husk_spawn() of a child that execs x. A failure before the exec (setsid, chdir, the fds,
 * execve itself) is an error here, with the child's errno, and the child is reaped before
 * returning (bounded, as husk_child_kill_and_reap()). opts->fds take one slot fewer than
 * HUSK_SPAWN_FDS_MAX (the exec-error pipe). Errors: HUSK_ERR_INTERNAL.
 */
int husk_spawn_exec(const struct husk_spawn_opts *opts, const struct husk_spawn_exec *x,
		    struct husk_child *ret, struct husk_err *err);
