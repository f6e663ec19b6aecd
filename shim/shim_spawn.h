/*
 * fork + exec of the shim's own helpers (the daemon at `start`, binary:// loggers), the
 * libuv way without libuv: signals blocked around fork, dispositions and mask reset in
 * the child, donated fds moved into place, everything else closed, exec failure reported
 * through a close-on-exec pipe. Never uv_spawn: the daemon's reaper owns every exit.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "husk/process.h"

struct husk_err;

#define SHIM_SPAWN_MAX_FDS 8

struct shim_spawn {
	const char *path;  /* executable, absolute */
	char *const *argv; /* NULL-terminated */
	char *const *envp; /* NULL-terminated; NULL: inherit environ */
	/*
	 * fds[i] becomes fd i in the child (borrowed; any may be -1). For 0..2 a -1 means
	 * /dev/null; above 2 it means closed. Every other fd is closed.
	 */
	int fds[SHIM_SPAWN_MAX_FDS];
	size_t n_fds;
	bool new_session; /* setsid(): own session and process group */
	const char *cwd;  /* NULL: inherit */
};

/*
 * Start the child. On success *ret holds its pid, a pidfd (-1 where the kernel or
 * valgrind lacks pidfd_open), start_time 0; the caller reaps it. Exec failure is an
 * error here (the child is reaped before returning).
 */
int shim_spawn(const struct shim_spawn *s, struct husk_child *ret, struct husk_err *err);

/* Signal a child through its pidfd, or by pid when it has none (it is unreaped, so the
 * pid cannot have been recycled). -errno on failure; ESRCH when it is gone. */
int shim_child_signal(const struct husk_child *c, int sig);

/* SIGKILL and reap (waitpid on its pid) a child nobody else will reap; reset it. */
void shim_child_kill_and_reap(struct husk_child *c);

/* Close the pidfd and reset (no signal, no reap). */
void shim_child_close(struct husk_child *c);
