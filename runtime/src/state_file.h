/*
 * Internal pieces shared by state_file.c (codec, load, save), lock.c (flock files) and
 * registry.c (listing and prefix lookup).
 */
#pragma once

#include <stdbool.h>

#include "husk/state.h"

#define HUSK__STATE_SUFFIX ".state"
#define HUSK__LOCK_SUFFIX  ".lock"

struct husk_state_root {
	char *path;
	int dirfd;
};

struct husk_state_handle {
	struct husk_state_root *root; /* borrowed: the root outlives its handles */
	struct husk_state state;
	int lock_fd; /* -1 when the flock is not held */
};

/*
 * Read, parse and check the state file `name` (a well-formed state file name for id):
 * the id inside must match the name, and the status is corrected for a gone init.
 * Takes no lock. HUSK_ERR_NOT_FOUND when the file is missing, HUSK_ERR_INVALID when it is
 * corrupt (the file is named in the message).
 */
int husk__state_file_read(struct husk_state_root *root, const char *name,
			  const struct husk_full_id *id, struct husk_state *ret,
			  struct husk_err *err);

enum {
	HUSK__LOCK_CREATE = 1 << 0,   /* create the lock file when missing */
	HUSK__LOCK_NONBLOCK = 1 << 1, /* -EWOULDBLOCK instead of waiting */
	HUSK__LOCK_SHARED = 1 << 2,   /* LOCK_SH instead of LOCK_EX */
};

/* How long husk__lock_take() waits for another holder before -ETIMEDOUT. */
#define HUSK__LOCK_TIMEOUT_MS 10000
/* The wait in use (HUSK__LOCK_TIMEOUT_MS); the tests lower it. */
extern int husk__lock_timeout_ms;

/*
 * Open dirfd/name and flock it. The lock is retried when the file was unlinked or replaced
 * while we waited (a destroyer removes the lock file while holding it), so a held lock is
 * always the one on the path. *ret_created (may be NULL) tells whether this call created
 * the file. The wait is bounded by husk__lock_timeout_ms. Returns 0 with *ret_fd set, or
 * -errno (-ENOENT without HUSK__LOCK_CREATE, -EWOULDBLOCK at once with HUSK__LOCK_NONBLOCK,
 * -ETIMEDOUT when the holder kept it past the timeout).
 */
int husk__lock_take(int dirfd, const char *name, unsigned flags, int *ret_fd, bool *ret_created);

/*
 * Whether someone holds an exclusive flock on dirfd/name, without waiting: 1 held, 0 free,
 * -ENOENT when there is no lock file.
 */
int husk__lock_probe(int dirfd, const char *name);
