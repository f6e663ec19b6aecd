#include "ctr.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/pidfd.h>
#include <sys/wait.h>

#include <criterion/criterion.h>

/* A child that prints more than this is broken; fail instead of eating memory. */
#define MAX_OUTPUT (256u << 20)

struct buf {
	char *data;
	size_t len;
	size_t cap;
};

struct e2e_proc {
	pid_t pid;
	int pidfd;
	int in_fd; /* -1 once closed */
	int out_fd;
	int err_fd;
	struct buf out;
	struct buf err;
	struct buf in; /* queued stdin bytes; in_off of them written */
	size_t in_off;
	bool close_in; /* close stdin once the queue is drained */
	bool exited;
	int status;
};

static void buf_reserve(struct buf *b, size_t extra)
{
	if (b->len + extra + 1 <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap < b->len + extra + 1)
		cap *= 2;
	cr_assert(cap <= MAX_OUTPUT + 1, "child output exceeds %u bytes", MAX_OUTPUT);
	char *n = realloc(b->data, cap);
	cr_assert(n != NULL);
	b->data = n;
	b->cap = cap;
}

static void buf_append(struct buf *b, const void *data, size_t len)
{
	buf_reserve(b, len);
	memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

static double now(void)
{
	struct timespec ts;
	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		(void)close(*fd);
	*fd = -1;
}

void e2e_res_done(struct e2e_res *r)
{
	free(r->out);
	free(r->err);
	r->out = NULL;
	r->err = NULL;
}

static void make_pipe(int fds[2])
{
	cr_assert(pipe2(fds, O_CLOEXEC) == 0, "pipe2: %s", strerror(errno));
}

static char **build_env(char *const env_add[])
{
	size_t n = 0;
	size_t m = 0;
	while (environ[n])
		n++;
	while (env_add && env_add[m])
		m++;
	char **env = calloc(n + m + 1, sizeof(*env));
	cr_assert(env != NULL);
	size_t k = 0;
	/* An added K=V replaces an inherited K. */
	for (size_t i = 0; i < n; i++) {
		const char *eq = strchr(environ[i], '=');
		size_t klen = eq ? (size_t)(eq - environ[i]) + 1 : strlen(environ[i]);
		bool replaced = false;
		for (size_t j = 0; j < m && !replaced; j++)
			replaced = strncmp(env_add[j], environ[i], klen) == 0;
		if (!replaced)
			env[k++] = environ[i];
	}
	for (size_t j = 0; j < m; j++)
		env[k++] = env_add[j];
	env[k] = NULL;
	return env;
}

static void spawn_attrs(posix_spawnattr_t *attr)
{
	sigset_t none;
	sigset_t dfl;

	(void)sigemptyset(&none);
	(void)sigemptyset(&dfl);
	(void)sigaddset(&dfl, SIGPIPE);
	(void)sigaddset(&dfl, SIGINT);
	(void)sigaddset(&dfl, SIGQUIT);
	(void)sigaddset(&dfl, SIGTERM);
	cr_assert(posix_spawnattr_init(attr) == 0);
	cr_assert(posix_spawnattr_setsigmask(attr, &none) == 0);
	cr_assert(posix_spawnattr_setsigdefault(attr, &dfl) == 0);
	cr_assert(posix_spawnattr_setpgroup(attr, 0) == 0);
	cr_assert(posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
							 POSIX_SPAWN_SETPGROUP) == 0);
}

struct e2e_proc *e2e_proc_spawn(char *const argv[], char *const env_add[])
{
	int in[2];
	int out[2];
	int err[2];
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;

	/* Writing to a child that stopped reading must be EPIPE here, not a dead worker. */
	(void)signal(SIGPIPE, SIG_IGN);

	make_pipe(in);
	make_pipe(out);
	make_pipe(err);
	cr_assert(posix_spawn_file_actions_init(&fa) == 0);
	cr_assert(posix_spawn_file_actions_adddup2(&fa, in[0], 0) == 0);
	cr_assert(posix_spawn_file_actions_adddup2(&fa, out[1], 1) == 0);
	cr_assert(posix_spawn_file_actions_adddup2(&fa, err[1], 2) == 0);
	spawn_attrs(&attr);

	char **env = build_env(env_add);
	struct e2e_proc *p = calloc(1, sizeof(*p));
	cr_assert(p != NULL);
	int r = posix_spawnp(&p->pid, argv[0], &fa, &attr, argv, env);
	free(env);
	(void)posix_spawn_file_actions_destroy(&fa);
	(void)posix_spawnattr_destroy(&attr);
	(void)close(in[0]);
	(void)close(out[1]);
	(void)close(err[1]);
	cr_assert(r == 0, "spawn %s: %s", argv[0], strerror(r));

	p->in_fd = in[1];
	p->out_fd = out[0];
	p->err_fd = err[0];
	(void)fcntl(p->in_fd, F_SETFL, O_NONBLOCK);
	(void)fcntl(p->out_fd, F_SETFL, O_NONBLOCK);
	(void)fcntl(p->err_fd, F_SETFL, O_NONBLOCK);
	p->pidfd = pidfd_open(p->pid, 0);
	cr_assert(p->pidfd >= 0, "pidfd_open: %s", strerror(errno));
	buf_reserve(&p->out, 0);
	buf_reserve(&p->err, 0);
	p->out.data[0] = '\0';
	p->err.data[0] = '\0';
	return p;
}

pid_t e2e_proc_pid(const struct e2e_proc *p)
{
	return p->pid;
}

const char *e2e_proc_out(const struct e2e_proc *p)
{
	return p->out.data;
}

const char *e2e_proc_err(const struct e2e_proc *p)
{
	return p->err.data;
}

void e2e_proc_write(struct e2e_proc *p, const void *data, size_t len)
{
	cr_assert(!p->close_in && p->in_fd >= 0, "stdin already closed");
	buf_append(&p->in, data, len);
}

static void flush_stdin(struct e2e_proc *p)
{
	while (p->in_fd >= 0 && p->in_off < p->in.len) {
		ssize_t n = write(p->in_fd, p->in.data + p->in_off, p->in.len - p->in_off);
		if (n > 0) {
			p->in_off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		/* EPIPE: the child closed its stdin; the rest cannot be delivered. */
		p->in_off = p->in.len;
		close_fd(&p->in_fd);
	}
	if (p->close_in && p->in_off == p->in.len)
		close_fd(&p->in_fd);
}

void e2e_proc_close_stdin(struct e2e_proc *p)
{
	p->close_in = true;
	flush_stdin(p);
}

/* Read what is there; false at EOF (the fd is then closed). */
static bool drain(int *fd, struct buf *b)
{
	char chunk[65536];

	while (*fd >= 0) {
		ssize_t n = read(*fd, chunk, sizeof(chunk));
		if (n > 0) {
			buf_append(b, chunk, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return true;
		close_fd(fd);
		return false;
	}
	return false;
}

static void reap(struct e2e_proc *p)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	cr_assert(waitid(P_PIDFD, (id_t)p->pidfd, &si, WEXITED) == 0, "waitid: %s",
		  strerror(errno));
	p->exited = true;
	p->status = si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
	/* A grandchild may still hold the pipes open: take what is there, do not wait. */
	(void)drain(&p->out_fd, &p->out);
	(void)drain(&p->err_fd, &p->err);
	close_fd(&p->pidfd);
}

/* One round of poll over stdio and the pidfd, at most until deadline. */
static void pump(struct e2e_proc *p, double deadline)
{
	struct pollfd fds[4];
	int n = 0;

	flush_stdin(p);
	if (p->out_fd >= 0)
		fds[n++] = (struct pollfd){.fd = p->out_fd, .events = POLLIN};
	if (p->err_fd >= 0)
		fds[n++] = (struct pollfd){.fd = p->err_fd, .events = POLLIN};
	if (p->in_fd >= 0 && p->in_off < p->in.len)
		fds[n++] = (struct pollfd){.fd = p->in_fd, .events = POLLOUT};
	fds[n++] = (struct pollfd){.fd = p->pidfd, .events = POLLIN};

	double left = deadline - now();
	int ms = left <= 0 ? 0 : (int)(left * 1000) + 1;
	int r = poll(fds, (nfds_t)n, ms);
	cr_assert(r >= 0 || errno == EINTR, "poll: %s", strerror(errno));
	(void)drain(&p->out_fd, &p->out);
	(void)drain(&p->err_fd, &p->err);
	flush_stdin(p);
	if (fds[n - 1].revents & POLLIN)
		reap(p);
}

bool e2e_proc_wait_out(struct e2e_proc *p, const char *needle, size_t min_len, double timeout)
{
	double deadline = now() + timeout;

	for (;;) {
		bool ok = (!needle || memmem(p->out.data, p->out.len, needle, strlen(needle))) &&
			  p->out.len >= min_len;
		if (ok)
			return true;
		if (p->exited || now() >= deadline)
			return false;
		pump(p, deadline);
	}
}

struct e2e_res e2e_proc_finish(struct e2e_proc *p, double timeout)
{
	double deadline = now() + timeout;
	struct e2e_res r = {0};

	e2e_proc_close_stdin(p);
	while (!p->exited && now() < deadline)
		pump(p, deadline);
	if (!p->exited) {
		(void)kill(-p->pid, SIGKILL);
		(void)pidfd_send_signal(p->pidfd, SIGKILL, NULL, 0);
		reap(p);
		r.timed_out = true;
	}
	close_fd(&p->in_fd);
	close_fd(&p->out_fd);
	close_fd(&p->err_fd);
	r.status = r.timed_out ? -1 : p->status;
	r.out = p->out.data;
	r.out_len = p->out.len;
	r.err = p->err.data;
	free(p->in.data);
	free(p);
	return r;
}

struct e2e_res e2e_run(char *const argv[], char *const env_add[], const char *stdin_data,
		       double timeout)
{
	struct e2e_proc *p = e2e_proc_spawn(argv, env_add);
	if (stdin_data)
		e2e_proc_write(p, stdin_data, strlen(stdin_data));
	return e2e_proc_finish(p, timeout);
}

void e2e_shell_append(char **buf, const char *s)
{
	struct buf b = {0};

	if (*buf)
		buf_append(&b, *buf, strlen(*buf));
	buf_append(&b, b.len ? " '" : "'", b.len ? 2 : 1);
	for (const char *c = s; *c; c++) {
		if (*c == '\'')
			buf_append(&b, "'\\''", 4);
		else
			buf_append(&b, c, 1);
	}
	buf_append(&b, "'", 1);
	free(*buf);
	*buf = b.data;
}
