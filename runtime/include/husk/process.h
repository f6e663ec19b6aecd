/* Child processes owned through pidfds, identified by pid + start time. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <sys/types.h>

struct husk_err;

/* One child: owned by one struct until registered with a reaper or handed to a state file. */
struct husk_child {
	pid_t pid;	     /* 0: none */
	int pidfd;	     /* -1: none */
	uint64_t start_time; /* field 22 of /proc/<pid>/stat (clock ticks since boot) */
};

#define HUSK_CHILD_NULL ((struct husk_child){.pid = 0, .pidfd = -1, .start_time = 0})

/* Field 22 (starttime) of /proc/<pid>/stat. -ESRCH (HUSK_ERR_NOT_FOUND) when there is no such pid.
 */
int husk_proc_start_time(pid_t pid, uint64_t *ret, struct husk_err *err);

/*
 * Open a pidfd for pid and check that its start time is still expected_start_time
 * (0: do not check). A gone or recycled pid is HUSK_ERR_NOT_FOUND. Returns the pidfd
 * (O_CLOEXEC), owned by the caller.
 */
int husk_pidfd_open_checked(pid_t pid, uint64_t expected_start_time, struct husk_err *err);

/* True when pid exists and (if expected_start_time != 0) has that start time. */
bool husk_proc_alive(pid_t pid, uint64_t expected_start_time);

/*
 * Send sig through the pidfd. A process that has exited (ESRCH) is HUSK_ERR_NOT_FOUND
 * "process already finished"; never falls back to kill(pid).
 */
int husk_pidfd_signal(int pidfd, int sig, struct husk_err *err);

/*
 * Signal a child of ours: through its pidfd, or by pid when it has none or the kernel
 * refuses pidfd_send_signal (valgrind: an unreaped child's pid cannot have been recycled).
 * 0 or -errno; -ESRCH when it is gone (or child is empty).
 */
int husk_child_signal(const struct husk_child *child, int sig);

/* How long husk_child_kill_and_reap() waits for a SIGKILLed child to exit. */
#define HUSK_REAP_TIMEOUT_MS 5000

/*
 * SIGKILL the child (if any), reap it with waitpid(pid) if it exits within timeout_ms, and
 * reset it to HUSK_CHILD_NULL either way. 0, or -ETIMEDOUT when it did not exit in time
 * (uninterruptible sleep: it is left unreaped, for a waitpid(-1) reaper or init), or
 * -errno from waitpid.
 */
int husk_child_kill_and_reap_within(struct husk_child *child, int timeout_ms);

/* husk_child_kill_and_reap_within() with HUSK_REAP_TIMEOUT_MS. */
int husk_child_kill_and_reap(struct husk_child *child);

/* Close the pidfd and reset (does not signal or reap). */
void husk_child_release(struct husk_child *child);

/* _cleanup_child_: the "arm, then TAKE on success" idiom for children. */
static inline void husk_child_killp(struct husk_child *child)
{
	(void)husk_child_kill_and_reap(child);
}
#define _cleanup_child_ __attribute__((cleanup(husk_child_killp)))
