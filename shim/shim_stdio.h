/*
 * A process's stdio on the shim side: containerd's fifos (or a binary:// logger, or a
 * file:// log) on one end, the process's pipes or pty master on the other, copied by libuv
 * with back-pressure: a source stops being read while its destination's write queue is
 * above a high-water mark, so no buffer grows without bound and no byte is lost.
 *
 * The process writes to pipes the shim owns; the shim holds each output fifo open for
 * reading and writing, so neither a detached client nor a containerd restart can make a
 * write fail with EPIPE. Every open is non-blocking (fifos: O_RDWR, or a reader first and
 * then our own writer), so the loop never waits for a peer.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <sys/types.h>

#include <uv.h>

#include "husk/process.h"

struct husk_err;

struct shim_stdio_config {
	const char *stdin_path; /* the task API strings ("" = none) */
	const char *stdout_path;
	const char *stderr_path;
	bool terminal;
	uid_t io_uid; /* owner of the pipes (0: leave as is) */
	gid_t io_gid;
	const char *container_id; /* for a binary:// logger's environment */
	const char *ns;
};

struct shim_stdio;

/* Called once when every output copy has finished (data flushed, fifo closed). */
typedef void shim_stdio_drained_fn(struct shim_stdio *s, void *userdata);

/*
 * Open the fifos/log, create the pipes, and start a binary:// logger (waiting, bounded,
 * until it reports ready). Errors: HUSK_ERR_INVALID (bad URI, terminal with file://),
 * HUSK_ERR_NOT_FOUND (a fifo path that does not exist), HUSK_ERR_INTERNAL.
 */
int shim_stdio_new(uv_loop_t *loop, const struct shim_stdio_config *cfg, struct shim_stdio **ret,
		   struct husk_err *err);

/* The fds that become the process's 0, 1, 2 (borrowed; -1 = /dev/null). */
void shim_stdio_child_fds(const struct shim_stdio *s, int ret[3]);

/*
 * The process exists and holds its ends: close ours and start copying. For a terminal,
 * master is the pty master (taken over); pass -1 otherwise.
 */
int shim_stdio_start(struct shim_stdio *s, int master, struct husk_err *err);

/* The binary:// logger, if any (its ownership moves to the caller; reset in s). */
bool shim_stdio_take_logger(struct shim_stdio *s, struct husk_child *ret);

/* CloseIO: close our writer on the stdin fifo, so the copy ends when the client's does. */
void shim_stdio_close_stdin(struct shim_stdio *s);

/* ResizePty: TIOCSWINSZ on the pty master; a no-op without a terminal. */
int shim_stdio_resize(struct shim_stdio *s, uint32_t width, uint32_t height, struct husk_err *err);

/* Whether all output copies have finished; cb is called when they do (once). */
bool shim_stdio_drained(const struct shim_stdio *s);
void shim_stdio_on_drained(struct shim_stdio *s, shim_stdio_drained_fn *cb, void *userdata);

/*
 * Stop copying, close every fd; the object frees itself once libuv has closed its
 * handles. s must not be used afterwards. NULL allowed.
 */
void shim_stdio_close(struct shim_stdio *s);

/* Bytes buffered in write queues right now (for tests and the memory budget). */
size_t shim_stdio_queued(const struct shim_stdio *s);

/* Copy buffer size and the write-queue water marks. */
#define SHIM_STDIO_BUF	((size_t)16 * 1024)
#define SHIM_STDIO_HIGH ((size_t)64 * 1024)
#define SHIM_STDIO_LOW	((size_t)16 * 1024)
/*
 * A pty master can read 0 bytes while its slave is being closed and hold more output after
 * that: the copy from a terminal ends on EIO, and a 0-byte read is retried after this many
 * ms, up to this many times in a row (about 2 s, runc's wait for output on delete).
 */
#define SHIM_STDIO_EOF_RETRY_MS 5
#define SHIM_STDIO_EOF_RETRIES	400
/*
 * Output left in a fifo whose client opened it after the shim did is held (the fifo kept
 * open) until the client has read it, polled every this many ms; Delete's wait for the
 * output bounds it.
 */
#define SHIM_STDIO_LINGER_MS 2
/* How long a binary:// logger may take to report ready. */
#define SHIM_LOGGER_READY_MS 10000
