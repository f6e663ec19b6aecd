/* Small fixtures shared by every suite: temp dirs and timeouts. libc and criterion only. */
#pragma once

#include <stdbool.h>

#include <sys/types.h>

/*
 * Make a fresh private directory under $TMPDIR (or /tmp) named husk-<tag>-XXXXXX.
 * Returns a malloc'ed path the caller frees with testutil_rmtree_free(). Aborts the test
 * on failure.
 */
char *testutil_tmpdir(const char *tag);

/* Remove a directory tree (not crossing mounts) and free the path; NULL is allowed. */
void testutil_rmtree_free(char *path);

/* Write a file (mode 0644) with the given content; aborts the test on failure. */
void testutil_write_file(const char *path, const char *content);

/* Read a whole file into a malloc'ed NUL-terminated string; NULL when it cannot be read. */
char *testutil_read_file(const char *path);

/* The comm of pid (/proc/<pid>/comm, without its newline), malloc'ed; NULL when it is gone. */
char *testutil_comm(pid_t pid);

/* Seconds scaled by HUSK_TEST_TIMEOUT_MULTIPLIER (valgrind and sanitizer runs). */
double testutil_timeout(double seconds);

/* Number of open fds of this process (from /proc/self/fd), for leak checks. */
int testutil_count_fds(void);

/* True when running as root (tests labelled root assume it and fail otherwise). */
bool testutil_is_root(void);

/* Absolute path of a file in the source tree (HUSK_SOURCE_DIR), malloc'ed. */
char *testutil_source_path(const char *rel);

/* Absolute path of a file in the build tree (HUSK_BINARY_DIR), malloc'ed. */
char *testutil_binary_path(const char *rel);
