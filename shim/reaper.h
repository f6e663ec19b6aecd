/*
 * The one reaper: SIGCHLD (through a uv_signal handle) → waitpid(-1, WNOHANG) until
 * nothing is left → each exit to a callback. As a child subreaper the shim inherits
 * container processes whose parents died, so it must collect every pid, not only its own.
 */
#pragma once

#include <sys/types.h>

#include <uv.h>

struct husk_child;

typedef void shim_reaped_fn(void *userdata, pid_t pid, int wait_status);

struct shim_reaper {
	uv_signal_t sig;
	shim_reaped_fn *cb;
	void *userdata;
	unsigned long reaped;
};

/* Start watching SIGCHLD; reaps once at once in case a child exited before. */
int shim_reaper_start(struct shim_reaper *r, uv_loop_t *loop, shim_reaped_fn *cb, void *userdata);

/* Collect every exited child now (also what the signal handler does). */
void shim_reaper_reap(struct shim_reaper *r);

/* Stop watching (the handle is closed; r must stay valid until the loop runs once). */
void shim_reaper_stop(struct shim_reaper *r);

/*
 * SIGKILL and reap a child of ours that nobody else will reap, and reset it. Bounded: one
 * stuck in uninterruptible sleep is logged and left to the reaper (or to init).
 */
void shim_child_kill_and_reap(struct husk_child *c);
