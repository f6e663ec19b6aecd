/* Fixtures for the state-file, registry and CLI suites. */
#pragma once

#include <stdbool.h>

#include "husk/state.h"

/* Fill a fresh state (the caller frees with husk_state_done()); no init pid. */
void state_test_fill(struct husk_state *s, const char *sandbox, const char *container,
		     enum husk_status status);

/* Assert that every field of a and b is equal. */
void state_test_assert_equal(const struct husk_state *a, const struct husk_state *b);

/* "<dir>/<name>" in a per-call static ring of buffers (valid for a few calls). */
char *state_test_path(const char *dir, const char *name);

bool state_test_exists(const char *dir, const char *name);

/* Entries of dir, "." and ".." excluded. */
int state_test_count_entries(const char *dir);

/*
 * Write a state file for {sandbox, container} into root with the given status and init pid
 * (start time looked up when pid is alive, else 1). Uses husk_state_create().
 */
void state_test_put(struct husk_state_root *root, const char *sandbox, const char *container,
		    enum husk_status status, pid_t init_pid);

/* A pid that was just ours and is reaped: almost certainly not reused yet. */
pid_t state_test_dead_pid(void);
