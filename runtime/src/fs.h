/*
 * Small filesystem helpers for runtime/: openat-style (the directory fd first, then the
 * path), every fd born O_CLOEXEC, reads bounded by a caller-given limit, writes that
 * survive short writes and EINTR. They return 0 (or a non-negative result) or -errno and
 * never log; callers add context with husk_err.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/types.h>

struct husk_err;

/*
 * openat(dirfd, path, flags | O_CLOEXEC, mode), retried on EINTR. Returns the fd (owned by
 * the caller) or -errno.
 */
int husk__openat(int dirfd, const char *path, int flags, mode_t mode);

/* Open a directory for *at() use (O_RDONLY | O_DIRECTORY | O_CLOEXEC). fd or -errno. */
int husk__open_dir_at(int dirfd, const char *path);

/*
 * Read fd to its end into a malloc'ed buffer with a NUL after the data (the data may
 * itself hold NULs). More than max bytes is -EFBIG (nothing returned). On success the
 * caller owns *ret_buf; *ret_len (may be NULL) is the data length. EINTR is retried.
 */
int husk__read_all(int fd, size_t max, char **ret_buf, size_t *ret_len);

/* husk__read_all() of the file at dirfd/path (opened O_RDONLY | O_NOCTTY). */
int husk__read_file_at(int dirfd, const char *path, size_t max, char **ret_buf, size_t *ret_len);

/*
 * Write all len bytes, looping over short writes and EINTR. Any other failure, EAGAIN
 * included, is returned as -errno at once (never spins on a non-blocking fd); bytes already
 * written stay written.
 */
int husk__write_all(int fd, const void *buf, size_t len);

/*
 * mkdir -p of path relative to dirfd: each missing component is created with mode (an
 * existing directory is fine; an existing non-directory is -ENOTDIR). "." and empty
 * components are skipped; ".." is refused with -EINVAL.
 */
int husk__mkdir_p_at(int dirfd, const char *path, mode_t mode);

/*
 * Replace dirfd/name atomically with buf: a temp file created O_EXCL in the same
 * directory (".<name>.tmp-<pid>-<n>"), written, then renameat() over name. Nothing is
 * fsync'ed: the content need not survive a power loss, only a crash of the writer. On any
 * failure the old file is untouched, the temp file is removed and err names the failed
 * step. A crash leaves the old or the new content, plus at most a stale temp file (see
 * husk__remove_stale_temps_at()).
 */
int husk__write_file_atomic_at(int dirfd, const char *name, const void *buf, size_t len,
			       mode_t mode, struct husk_err *err);

/* True when name is a temp file of husk__write_file_atomic_at() for target (NULL: any). */
bool husk__is_temp_name(const char *name, const char *target);

/*
 * Remove the temp files left in dirfd by an interrupted husk__write_file_atomic_at() of
 * target. Only safe when the caller excludes concurrent writers of target (holds its lock).
 * Returns the number removed or -errno.
 */
int husk__remove_stale_temps_at(int dirfd, const char *target);

/*
 * Strict decimal parsers: digits only (no sign, no spaces, no base prefix), at least one
 * digit, no overflow. A single trailing '\n' is accepted (for /proc and cgroup files).
 * -EINVAL on a malformed string, -ERANGE on overflow; *ret untouched on failure.
 */
int husk__safe_atou64(const char *s, uint64_t *ret);
int husk__safe_atou32(const char *s, uint32_t *ret);

/* A process id: like husk__safe_atou32(), and 1..INT32_MAX (-ERANGE otherwise). */
int husk__safe_atopid(const char *s, pid_t *ret);
