/*
 * The fork recipe's internals (husk/spawn.h is the recipe itself): the child-side steps a
 * stage that clones again repeats, and a synchronous reap by pid.
 */
#pragma once

#include <stddef.h>

#include <sys/types.h>

#include "husk/spawn.h"

/*
 * Child side, for a stage that clones again: reset dispositions 1..SIGRTMAX to SIG_DFL
 * and clear the signal mask. Async-signal-safe.
 */
void husk__spawn_reset_signals(void);

/*
 * Child side: move fds into place as described (all sources first dup'ed above the
 * targets, so a source may be another entry's target), then close every other fd: those
 * above the highest target and those below it that no entry targets. 0 or -errno.
 * Async-signal-safe.
 */
int husk__spawn_donate(const struct husk_spawn_fd *fds, size_t n_fds);

/* Reap a child synchronously by pid (EINTR retried); returns the wait status or -errno. */
int husk__wait_pid(pid_t pid);
