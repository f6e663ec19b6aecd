/*
 * The fork recipe (libuv's, STYLE §8.6): all signals blocked around clone3; in the child,
 * dispositions reset to SIG_DFL, the mask cleared, the donated fds moved into place and
 * every other fd closed; a pidfd from CLONE_PIDFD, so no pid is ever used unowned.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/types.h>

struct husk_child;
struct husk_err;

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
 * below 64; every fd from max(target)+1 up is closed in the child. On success *ret is the
 * caller's child (pid, pidfd, start time). Errors: HUSK_ERR_INTERNAL.
 */
int husk__spawn(const struct husk_spawn_opts *opts, husk_spawn_fn *fn, void *arg,
		struct husk_child *ret, struct husk_err *err);

/*
 * Child side, for a stage that clones again: reset dispositions 1..SIGRTMAX to SIG_DFL
 * and clear the signal mask. Async-signal-safe.
 */
void husk__spawn_reset_signals(void);

/*
 * Child side: move fds into place as described (all sources first dup'ed above the
 * targets, so a source may be another entry's target), then close every fd above the
 * highest target. 0 or -errno. Async-signal-safe.
 */
int husk__spawn_donate(const struct husk_spawn_fd *fds, size_t n_fds);

/* Reap a child synchronously by pid (EINTR retried); returns the wait status or -errno. */
int husk__wait_pid(pid_t pid);
