#include "worker.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "husk/cleanup.h"
#include "log.h"
#include "shim.h"

/* What precedes the payload in the one report message. */
struct report_head {
	int32_t r;
	uint32_t len;
	uint32_t fd_mask; /* which slots of the report's fds came, in order */
	struct husk_err err;
};

struct shim_worker {
	struct shim_worker *next;
	struct shim_service *svc;
	struct shim_proc_node node;
	int sock;	/* our end of the report pair */
	uv_poll_t poll; /* on sock: the report is acted on as soon as it comes */
	bool polling;	/* poll is initialised (closed with the worker) */
	bool answered;	/* done ran on the report; the exit is only awaited */
	shim_worker_done_fn *done;
	void *userdata;
};

struct close_ctx {
	const int *keep;
	size_t n_keep;
	int report;
};

static bool kept(const struct close_ctx *cc, int fd)
{
	if (fd <= 2 || fd == cc->report)
		return true;
	for (size_t i = 0; i < cc->n_keep; i++)
		if (cc->keep[i] == fd)
			return true;
	return false;
}

static void close_handle_fd(uv_handle_t *h, void *arg)
{
	const struct close_ctx *cc = arg;
	uv_os_fd_t fd = -1;

	/* A poll handle watches a runtime's fd (an OOM eventfd): the core here owns and closes
	 * it, so it stays. */
	if (uv_handle_get_type(h) == UV_POLL)
		return;
	if (uv_fileno(h, &fd) == 0 && !kept(cc, fd))
		(void)close(fd);
}

/*
 * Child side: close what the loop watches (ttrpc connections and listener, every
 * container's stdio pipes and fifos, the loop's own fds), so that the worker holds no
 * other container's pipe end open. The runtime's own fds (the cgroup hierarchies it keeps
 * open, state roots) stay: the core's code in this process relies on them.
 */
static void close_loop_fds(uv_loop_t *loop, const struct shim_worker_spec *spec, int report)
{
	struct close_ctx cc = {.keep = spec->keep, .n_keep = spec->n_keep, .report = report};
	int backend = uv_backend_fd(loop);

	uv_walk(loop, close_handle_fd, &cc);
	if (backend >= 0 && !kept(&cc, backend))
		(void)close(backend);
}

static _Noreturn void child_main(uv_loop_t *loop, const struct shim_worker_spec *spec, int report)
{
	sigset_t none;

	/* Nothing of the loop runs here: its handlers go (SIGCHLD back to the default, so the
	 * core's synchronous waits see their children), SIGPIPE stays ignored. */
	for (int sig = 1; sig <= SIGRTMAX; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			(void)signal(sig, sig == SIGPIPE ? SIG_IGN : SIG_DFL);
	(void)sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	if (spec->name)
		(void)prctl(PR_SET_NAME, spec->name, 0, 0, 0);
	/* What the work starts and orphans (an OCI runtime's detached exec, its waiter) comes to
	 * us while we run, not to the shim's reaper, which would reap it before the work has
	 * looked at it; on our exit it goes to the shim with everything else of ours. */
	(void)prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	close_loop_fds(loop, spec, report);
	_exit(spec->fn(spec->arg, report));
}

static void on_report(uv_poll_t *h, int status, int events);

int shim_worker_start(struct shim_service *svc, const struct shim_worker_spec *spec,
		      struct husk_err *err)
{
	int sp[2];
	sigset_t all;
	sigset_t old;

	husk_assert(spec->n_keep <= SHIM_WORKER_MAX_FDS);
	struct shim_worker *w = calloc(1, sizeof(*w));
	if (!w)
		return husk_err_errno(err, ENOMEM, "worker");
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) {
		int e = errno;
		free(w);
		return husk_err_errno(err, e, "worker socket");
	}
	(void)sigfillset(&all);
	(void)sigprocmask(SIG_SETMASK, &all, &old);
	pid_t pid = fork();
	if (pid == 0)
		child_main(svc->loop, spec, sp[1]);
	int e = errno;
	(void)sigprocmask(SIG_SETMASK, &old, NULL);
	(void)close(sp[1]);
	if (pid < 0) {
		(void)close(sp[0]);
		free(w);
		return husk_err_errno(err, e, "fork %s", spec->name ? spec->name : "worker");
	}
	w->svc = svc;
	w->sock = sp[0];
	w->done = spec->done;
	w->userdata = spec->userdata;
	w->node.kind = SHIM_PROC_WORKER;
	w->node.pid = pid;
	w->next = svc->workers;
	svc->workers = w;
	/* Before the loop runs again, so before the reaper can see its exit. */
	shim_exits_register(&svc->exits, &w->node);
	/* Without the poll, the report is read once the exit is reaped. */
	if (uv_poll_init(svc->loop, &w->poll, w->sock) == 0) {
		w->polling = true;
		w->poll.data = w;
		if (uv_poll_start(&w->poll, UV_READABLE, on_report) < 0)
			(void)uv_poll_stop(&w->poll);
	}
	return 0;
}

int shim_worker_report(int fd, const struct shim_worker_report *rep)
{
	struct report_head h = {.r = rep->r, .len = (uint32_t)rep->len};
	union {
		char buf[CMSG_SPACE(sizeof(int) * SHIM_WORKER_MAX_FDS)];
		struct cmsghdr align;
	} u;
	int sent[SHIM_WORKER_MAX_FDS];
	size_t n = 0;

	if (rep->len > SHIM_WORKER_MAX_PAYLOAD || rep->n_fds > SHIM_WORKER_MAX_FDS)
		return -EINVAL;
	if (rep->err)
		h.err = *rep->err;
	for (size_t i = 0; i < rep->n_fds; i++) {
		if (rep->fds[i] < 0)
			continue;
		sent[n++] = rep->fds[i];
		h.fd_mask |= 1u << i;
	}
	struct iovec iov[2] = {{.iov_base = &h, .iov_len = sizeof(h)},
			       {.iov_base = (void *)rep->payload, .iov_len = rep->len}};
	struct msghdr m = {.msg_iov = iov, .msg_iovlen = rep->len ? 2 : 1};
	if (n > 0) {
		memset(&u, 0, sizeof(u));
		m.msg_control = u.buf;
		m.msg_controllen = CMSG_SPACE(sizeof(int) * n);
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		if (!c)
			return -EINVAL;
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * n);
		memcpy(CMSG_DATA(c), sent, sizeof(int) * n);
	}
	ssize_t s;
	do
		s = sendmsg(fd, &m, MSG_NOSIGNAL);
	while (s < 0 && errno == EINTR);
	return s < 0 ? -errno : 0;
}

/* The fds a message carried, in order (beyond SHIM_WORKER_MAX_FDS: closed). */
static size_t received_fds(struct msghdr *m, int got[SHIM_WORKER_MAX_FDS])
{
	size_t n = 0;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
			if (n < SHIM_WORKER_MAX_FDS)
				got[n++] = fd;
			else
				(void)close(fd);
		}
	}
	return n;
}

/* The report, if the worker sent one (it has exited: the message is there or never will). */
static void read_report(int sock, struct shim_worker_result *res, uint8_t **ret_buf)
{
	size_t cap = sizeof(struct report_head) + SHIM_WORKER_MAX_PAYLOAD;
	union {
		char buf[CMSG_SPACE(sizeof(int) * SHIM_WORKER_MAX_FDS)];
		struct cmsghdr align;
	} u;
	uint8_t *buf = malloc(cap);
	int got[SHIM_WORKER_MAX_FDS];

	if (!buf)
		return;
	*ret_buf = buf;
	struct iovec iov = {.iov_base = buf, .iov_len = cap};
	struct msghdr m = {.msg_iov = &iov,
			   .msg_iovlen = 1,
			   .msg_control = u.buf,
			   .msg_controllen = sizeof(u.buf)};
	ssize_t n;
	do
		n = recvmsg(sock, &m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return;
	size_t n_got = received_fds(&m, got);
	/* Back into their slots; what does not fit the head's mask is closed. */
	struct report_head h = {0};
	if ((size_t)n >= sizeof(h))
		memcpy(&h, buf, sizeof(h));
	size_t next = 0;
	for (size_t i = 0; i < SHIM_WORKER_MAX_FDS && next < n_got; i++)
		if (h.fd_mask & (1u << i))
			res->fds[i] = got[next++];
	while (next < n_got)
		(void)close(got[next++]);
	if ((size_t)n < sizeof(h) || (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ||
	    h.len != (size_t)n - sizeof(h))
		return;
	h.err.msg[sizeof(h.err.msg) - 1] = '\0';
	res->reported = true;
	res->r = h.r;
	res->err = h.err;
	res->payload = buf + sizeof(h);
	res->len = h.len;
}

static void worker_free_cb(uv_handle_t *h)
{
	free(h->data);
}

static void worker_free(struct shim_worker *w)
{
	w->sock = husk_safe_close(w->sock);
	if (w->polling)
		uv_close((uv_handle_t *)&w->poll, worker_free_cb);
	else
		free(w);
}

/* Run done with what the worker reported (or with res->abandoned); its fds are closed after. */
static void worker_answer(struct shim_worker *w, bool abandoned)
{
	struct shim_worker_result res = {.abandoned = abandoned,
					 .wait_status = w->node.wait_status};
	_cleanup_free_ uint8_t *buf = NULL;

	for (size_t i = 0; i < SHIM_WORKER_MAX_FDS; i++)
		res.fds[i] = -1;
	if (!abandoned)
		read_report(w->sock, &res, &buf);
	w->answered = true;
	w->done(w->userdata, &res);
	for (size_t i = 0; i < SHIM_WORKER_MAX_FDS; i++)
		res.fds[i] = husk_safe_close(res.fds[i]);
}

/* The worker, out of the service's list already, is gone (reaped) or the shim is exiting:
 * answer if not done yet, forget it. */
static void worker_finish(struct shim_worker *w, bool abandoned)
{
	shim_exits_unregister(&w->svc->exits, &w->node);
	if (w->polling)
		(void)uv_poll_stop(&w->poll);
	if (!w->answered)
		worker_answer(w, abandoned);
	worker_free(w);
}

/*
 * The report came (or the worker closed its end without one): act on it now, before the
 * worker's exit is reaped. What it started and left is its child until then and the shim's
 * after, which the reaper handles either way (an exit seen before its registration waits).
 */
static void on_report(uv_poll_t *h, int status, int events)
{
	struct shim_worker *w = h->data;
	struct shim_worker_result res = {.wait_status = 0};
	_cleanup_free_ uint8_t *buf = NULL;

	(void)status;
	(void)events;
	(void)uv_poll_stop(h);
	if (w->answered)
		return;
	for (size_t i = 0; i < SHIM_WORKER_MAX_FDS; i++)
		res.fds[i] = -1;
	read_report(w->sock, &res, &buf);
	if (!res.reported) {
		/* None: how the worker ended says why, once it is reaped. */
		for (size_t i = 0; i < SHIM_WORKER_MAX_FDS; i++)
			res.fds[i] = husk_safe_close(res.fds[i]);
		return;
	}
	w->answered = true;
	w->done(w->userdata, &res);
	for (size_t i = 0; i < SHIM_WORKER_MAX_FDS; i++)
		res.fds[i] = husk_safe_close(res.fds[i]);
}

void shim_worker_exited(struct shim_service *svc, struct shim_proc_node *node)
{
	struct shim_worker *w =
		(struct shim_worker *)(void *)((char *)node - offsetof(struct shim_worker, node));

	for (struct shim_worker **pp = &svc->workers; *pp; pp = &(*pp)->next) {
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	}
	worker_finish(w, /* abandoned= */ false);
}

void shim_workers_abandon(struct shim_service *svc)
{
	while (svc->workers) {
		struct shim_worker *w = svc->workers;
		svc->workers = w->next;
		worker_finish(w, /* abandoned= */ true);
	}
}
