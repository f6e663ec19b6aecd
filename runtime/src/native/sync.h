/*
 * The parent ↔ child protocol of the native engine: named messages over a
 * SOCK_SEQPACKET | SOCK_CLOEXEC socketpair (one message per packet, so a message is never
 * split or merged). An fd travels with a message as SCM_RIGHTS.
 *
 * Child side (gofer, init, exec): husk__sync_send*() are async-signal-safe apart from the
 * vsnprintf of the text, which is safe in a single-threaded forked child.
 * Parent side: husk__sync_expect() waits (bounded) for one message type, passing log lines
 * on to husk_log and turning SYNC_ERROR and EOF into a husk_err.
 */
#pragma once

#include <stdint.h>

struct husk_err;

enum husk_sync_type {
	HUSK_SYNC_NONE = 0,
	HUSK_SYNC_GOFER_READY, /* gofer → parent: the tree fd is attached */
	HUSK_SYNC_TREE_FD,     /* parent → init: the tree fd is attached */
	HUSK_SYNC_PID,	       /* stage → parent: value is the pid of the process it cloned */
	HUSK_SYNC_CONSOLE_FD,  /* child → parent: the pty master is attached */
	HUSK_SYNC_READY,       /* init/exec → parent: set up, waiting for START */
	HUSK_SYNC_START,       /* parent → child: exec the process now */
	HUSK_SYNC_ERROR,       /* child → parent: value is the errno, text the message */
	HUSK_SYNC_LOG,	       /* child → parent: value is the husk_log level, text the line */
	HUSK_SYNC_HOOKS,       /* init → parent: mounts done, run prestart/createRuntime;
				* parent → init: done, run createContainer (runc's procHooks) */
	_HUSK_SYNC_TYPE_MAX,
};

#define HUSK_SYNC_TEXT_MAX 480

struct husk_sync_msg {
	uint32_t type;		       /* enum husk_sync_type */
	int32_t value;		       /* errno, level or pid; 0 if unused */
	char text[HUSK_SYNC_TEXT_MAX]; /* NUL-terminated on receipt */
};

/* "gofer-ready", "tree-fd", ...; "unknown" when out of range. */
const char *husk__sync_type_to_string(enum husk_sync_type type);

/* socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC). 0 or -errno. */
int husk__sync_pair(int fds[2]);

/*
 * Send one message; pass_fd >= 0 is attached with SCM_RIGHTS (still owned by the caller);
 * text may be NULL. 0, or -errno (-EMSGSIZE for a short send). EINTR is retried.
 */
int husk__sync_send(int sock, enum husk_sync_type type, int32_t value, int pass_fd,
		    const char *text);

/* Child side: SYNC_ERROR with errnum and a formatted message. Returns -errnum (or -EIO). */
int husk__sync_error(int sock, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Child side: SYNC_ERROR with errnum and the message exactly as formatted (no errno text
 * appended). Returns -errnum (or -EIO). */
int husk__sync_fail(int sock, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Child side: a log line for the parent's log hook. 0 or -errno. */
int husk__sync_log(int sock, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * Receive one message, waiting at most timeout_ms (-1: forever). A received fd is
 * O_CLOEXEC and owned by the caller through *ret_fd (-1 when none; ret_fd NULL closes it).
 * Returns 1 for a message, 0 at EOF (peer closed: for a child that execs, success),
 * -ETIMEDOUT, -EBADMSG for a malformed packet, or -errno.
 */
int husk__sync_recv(int sock, int timeout_ms, struct husk_sync_msg *ret, int *ret_fd);

/* What husk__sync_expect() waits for, how long, and the name its errors carry. */
struct husk_sync_wait {
	enum husk_sync_type want;
	int timeout_ms; /* -1: forever */
	const char *what;
};

/*
 * Parent side: wait (at most w->timeout_ms) for a message of type w->want; w->what prefixes errors.
 * SYNC_LOG messages on the way are passed to husk_log. SYNC_ERROR becomes a husk_err with the
 * child's errno and text, prefixed by what ("<what>: <child's message>"); EOF before the message is
 * "<what>: exited without reporting"; another type is a protocol error. want HUSK_SYNC_NONE waits
 * for EOF instead (the sync fd is O_CLOEXEC: EOF is a successful execve) and a message other than
 * a log line or an error is then a protocol error. On success returns 0, *ret (may be NULL) holds
 * the message and *ret_fd (may be NULL) its fd.
 */
int husk__sync_expect(int sock, const struct husk_sync_wait *w, struct husk_sync_msg *ret,
		      int *ret_fd, struct husk_err *err);
