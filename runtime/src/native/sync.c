#include "native/sync.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/socket.h>

#include "husk/cleanup.h"
#include "husk/err.h"
#include "husk/log.h"

#define HEADER_SIZE offsetof(struct husk_sync_msg, text)

static const char *const type_names[_HUSK_SYNC_TYPE_MAX] = {
	[HUSK_SYNC_NONE] = "none",
	[HUSK_SYNC_GOFER_READY] = "gofer-ready",
	[HUSK_SYNC_TREE_FD] = "tree-fd",
	[HUSK_SYNC_PID] = "pid",
	[HUSK_SYNC_CONSOLE_FD] = "console-fd",
	[HUSK_SYNC_READY] = "ready",
	[HUSK_SYNC_START] = "start",
	[HUSK_SYNC_ERROR] = "error",
	[HUSK_SYNC_LOG] = "log",
	[HUSK_SYNC_HOOKS] = "hooks",
};

const char *husk__sync_type_to_string(enum husk_sync_type type)
{
	if ((unsigned)type >= _HUSK_SYNC_TYPE_MAX)
		return "unknown";
	return type_names[type];
}

int husk__sync_pair(int fds[2])
{
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0)
		return -errno;
	return 0;
}

int husk__sync_send(int sock, enum husk_sync_type type, int32_t value, int pass_fd,
		    const char *text)
{
	struct husk_sync_msg msg = {.type = (uint32_t)type, .value = value};
	size_t len = HEADER_SIZE;
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;

	if (text) {
		size_t n = strnlen(text, sizeof(msg.text) - 1);
		memcpy(msg.text, text, n);
		len += n;
	}
	struct iovec iov = {.iov_base = &msg, .iov_len = len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	if (pass_fd >= 0) {
		memset(&control, 0, sizeof(control));
		mh.msg_control = control.buf;
		mh.msg_controllen = sizeof(control.buf);
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &pass_fd, sizeof(int));
	}
	ssize_t n;
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if ((size_t)n != len)
		return -EMSGSIZE;
	return 0;
}

__attribute__((format(printf, 4, 0))) static int
send_textv(int sock, enum husk_sync_type type, int32_t value, const char *fmt, va_list ap)
{
	char text[HUSK_SYNC_TEXT_MAX];

	if (vsnprintf(text, sizeof(text), fmt, ap) < 0)
		text[0] = '\0';
	return husk__sync_send(sock, type, value, -1, text);
}

int husk__sync_error(int sock, int errnum, const char *fmt, ...)
{
	char text[HUSK_SYNC_TEXT_MAX];
	va_list ap;

	if (errnum < 0)
		errnum = -errnum;
	va_start(ap, fmt);
	if (vsnprintf(text, sizeof(text), fmt, ap) < 0)
		text[0] = '\0';
	va_end(ap);
	/* strerrordesc_np: no locale, no static buffer; fine after fork. */
	const char *desc = errnum > 0 ? strerrordesc_np(errnum) : NULL;
	if (desc) {
		size_t len = strnlen(text, sizeof(text));
		size_t dlen = strlen(desc);
		if (len + 2 + dlen < sizeof(text)) {
			text[len] = ':';
			text[len + 1] = ' ';
			memcpy(text + len + 2, desc, dlen + 1);
		}
	}
	(void)husk__sync_send(sock, HUSK_SYNC_ERROR, errnum, -1, text);
	return errnum > 0 ? -errnum : -EIO;
}

int husk__sync_fail(int sock, int errnum, const char *fmt, ...)
{
	va_list ap;

	if (errnum < 0)
		errnum = -errnum;
	va_start(ap, fmt);
	(void)send_textv(sock, HUSK_SYNC_ERROR, errnum, fmt, ap);
	va_end(ap);
	return errnum > 0 ? -errnum : -EIO;
}

int husk__sync_log(int sock, int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int r = send_textv(sock, HUSK_SYNC_LOG, level, fmt, ap);
	va_end(ap);
	return r;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* -errno after a failed call; -EIO should errno not say why. */
static int negative_errno(void)
{
	return errno > 0 ? -errno : -EIO;
}

static int wait_readable(int sock, int timeout_ms)
{
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;

	for (;;) {
		int left = -1;
		if (deadline >= 0) {
			int64_t d = deadline - now_ms();
			left = d > 0 ? (int)d : 0;
		}
		struct pollfd p = {.fd = sock, .events = POLLIN};
		int r = poll(&p, 1, left);
		if (r > 0)
			return 0;
		if (r == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

/* The fds of a control message: the first becomes *ret_fd, any others are closed. */
static int take_fds(struct msghdr *mh, int *ret_fd)
{
	int fd = -1;
	int bad = 0;

	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		size_t n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int x;
			memcpy(&x, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (fd < 0)
				fd = x;
			else {
				(void)husk_safe_close(x);
				bad = 1;
			}
		}
	}
	if (bad || (mh->msg_flags & MSG_CTRUNC)) {
		(void)husk_safe_close(fd);
		return -EBADMSG;
	}
	*ret_fd = fd;
	return 0;
}

int husk__sync_recv(int sock, int timeout_ms, struct husk_sync_msg *ret, int *ret_fd)
{
	struct husk_sync_msg msg;
	union {
		char buf[CMSG_SPACE(sizeof(int) * 4)];
		struct cmsghdr align;
	} control;
	struct iovec iov = {.iov_base = &msg, .iov_len = sizeof(msg)};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = control.buf,
			    .msg_controllen = sizeof(control.buf)};
	int fd = -1;
	ssize_t n;

	if (ret_fd)
		*ret_fd = -1;
	int r = wait_readable(sock, timeout_ms);
	if (r < 0)
		return r;
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == ECONNRESET ? 0 : negative_errno();
	r = take_fds(&mh, &fd);
	if (r < 0)
		return r;
	if (n == 0 && fd < 0)
		return 0;
	if ((size_t)n < HEADER_SIZE || (mh.msg_flags & MSG_TRUNC) || msg.type == HUSK_SYNC_NONE ||
	    msg.type >= _HUSK_SYNC_TYPE_MAX) {
		(void)husk_safe_close(fd);
		return -EBADMSG;
	}
	size_t tlen = (size_t)n - HEADER_SIZE;
	if (tlen >= sizeof(msg.text))
		tlen = sizeof(msg.text) - 1;
	msg.text[tlen] = '\0';
	*ret = msg;
	if (ret_fd)
		*ret_fd = fd;
	else
		(void)husk_safe_close(fd);
	return 1;
}

static void forward_log(const struct husk_sync_msg *m, const char *what)
{
	enum husk_log_level level = HUSK_LOG_DEBUG;

	if (m->value >= HUSK_LOG_ERROR && m->value <= HUSK_LOG_DEBUG)
		level = (enum husk_log_level)m->value;
	husk_log(level, "%s: %s", what, m->text);
}

/* What husk__sync_recv()'s r <= 0 means to a caller waiting for want. */
static int recv_failed(int r, enum husk_sync_type want, const char *what, struct husk_err *err)
{
	if (r == -ETIMEDOUT)
		return husk_err_errno(err, ETIMEDOUT, "%s: no '%s' message", what,
				      husk__sync_type_to_string(want));
	if (r < 0)
		return husk_err_errno(err, -r, "%s: receive", what);
	if (want == HUSK_SYNC_NONE)
		return 0;
	return husk_err_set(err, HUSK_ERR_INTERNAL, 0, "%s: exited without reporting", what);
}

/* A received message for a caller waiting for want: 0 it is the one, 1 wait on, or the error. */
static int judge(const struct husk_sync_msg *m, enum husk_sync_type want, const char *what,
		 struct husk_err *err)
{
	if (m->type == HUSK_SYNC_LOG) {
		forward_log(m, what);
		return 1;
	}
	if (m->type == HUSK_SYNC_ERROR) {
		int errnum = m->value > 0 ? m->value : EIO;
		(void)husk_err_set(err, HUSK_ERR_INTERNAL, 0, "%s: %s", what, m->text);
		if (err)
			err->errnum = errnum;
		return -errnum;
	}
	if (want == HUSK_SYNC_NONE || m->type != (uint32_t)want)
		return husk_err_set(
			err, HUSK_ERR_INTERNAL, EPROTO, "%s: got '%s' while waiting for '%s'", what,
			husk__sync_type_to_string(m->type), husk__sync_type_to_string(want));
	return 0;
}

int husk__sync_expect(int sock, const struct husk_sync_wait *w, struct husk_sync_msg *ret,
		      int *ret_fd, struct husk_err *err)
{
	enum husk_sync_type want = w->want;
	int timeout_ms = w->timeout_ms;
	const char *what = w->what;
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;

	for (;;) {
		struct husk_sync_msg m = {0};
		_cleanup_close_ int fd = -1;
		int left = -1;
		if (deadline >= 0) {
			int64_t d = deadline - now_ms();
			left = d > 0 ? (int)d : 0;
		}
		int r = husk__sync_recv(sock, left, &m, &fd);
		if (r <= 0)
			return recv_failed(r, want, what, err);
		r = judge(&m, want, what, err);
		if (r > 0)
			continue;
		if (r < 0)
			return r;
		if (ret)
			*ret = m;
		if (ret_fd)
			*ret_fd = TAKE_FD(fd);
		return 0;
	}
}
