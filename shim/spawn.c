#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <sys/wait.h>

#include "husk/cleanup.h"
#include "husk/err.h"
#include "husk/kernel.h"
#include "husk/process.h"
#include "log.h"
#include "shim_spawn.h"

/* Child side: async-signal-safe only. Writes errno to errfd and exits on failure. */
static _Noreturn void child(const struct shim_spawn *s, int errfd)
{
	int moved[SHIM_SPAWN_MAX_FDS];
	sigset_t none;
	int e = 0;

	for (int sig = 1; sig < 32; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			(void)signal(sig, SIG_DFL);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);

	if (s->new_session && setsid() < 0)
		goto fail;
	if (s->cwd && chdir(s->cwd) < 0)
		goto fail;
	/* Move every donated fd above the targets first, so no dup2 clobbers a source. */
	for (size_t i = 0; i < s->n_fds; i++) {
		moved[i] = -1;
		int fd = s->fds[i];
		if (fd < 0 && i <= 2)
			fd = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		moved[i] = fcntl(fd, F_DUPFD_CLOEXEC, SHIM_SPAWN_MAX_FDS + 1);
		if (moved[i] < 0)
			goto fail;
	}
	if (errfd <= SHIM_SPAWN_MAX_FDS) {
		int e2 = fcntl(errfd, F_DUPFD_CLOEXEC, SHIM_SPAWN_MAX_FDS + 1);
		if (e2 < 0)
			goto fail;
		errfd = e2;
	}
	for (size_t i = 0; i < s->n_fds; i++)
		if (moved[i] >= 0 && dup2(moved[i], (int)i) < 0)
			goto fail;
	/* Everything above the donated range goes, except the error pipe (close-on-exec). */
	if (errfd > (int)s->n_fds)
		(void)husk_close_range((unsigned)s->n_fds, (unsigned)errfd - 1, 0);
	(void)husk_close_range((unsigned)errfd + 1, ~0U, 0);
	execve(s->path, s->argv, s->envp ? s->envp : environ);
fail:
	e = errno;
	(void)!write(errfd, &e, sizeof(e));
	_exit(127);
}

int shim_spawn(const struct shim_spawn *s, struct husk_child *ret, struct husk_err *err)
{
	int p[2];
	sigset_t all;
	sigset_t old;

	husk_assert(s->n_fds <= SHIM_SPAWN_MAX_FDS);
	if (pipe2(p, O_CLOEXEC) < 0)
		return husk_err_errno(err, errno, "pipe");
	_cleanup_close_ int rd = p[0];
	_cleanup_close_ int wr = p[1];

	sigfillset(&all);
	(void)sigprocmask(SIG_SETMASK, &all, &old);
	pid_t pid = fork();
	if (pid == 0)
		child(s, wr);
	int fork_errno = errno;
	(void)sigprocmask(SIG_SETMASK, &old, NULL);
	if (pid < 0)
		return husk_err_errno(err, fork_errno, "fork");
	husk_closep(&wr);

	int child_errno = 0;
	ssize_t n;
	do {
		n = read(rd, &child_errno, sizeof(child_errno));
	} while (n < 0 && errno == EINTR);
	if (n == (ssize_t)sizeof(child_errno)) {
		(void)waitpid(pid, NULL, 0);
		return husk_err_errno(err, child_errno, "exec '%s'", s->path);
	}

	struct husk_child c = {.pid = pid, .pidfd = -1, .start_time = 0};
	/* Race-free: only our own reaper can reap it, and it has not run yet. */
	int pidfd = husk_pidfd_open_checked(pid, 0, NULL);
	c.pidfd = pidfd < 0 ? -1 : pidfd;
	*ret = c;
	return 0;
}

int shim_child_signal(const struct husk_child *c, int sig)
{
	if (c->pid <= 0)
		return -ESRCH;
	if (c->pidfd >= 0) {
		return husk_pidfd_signal(c->pidfd, sig, NULL);
	}
	return kill(c->pid, sig) < 0 ? -errno : 0;
}

void shim_child_kill_and_reap(struct husk_child *c)
{
	/* Bounded: a child stuck in uninterruptible sleep is left to the reaper. */
	int r = husk_child_kill_and_reap(c);
	if (r < 0)
		shim_log_warn("child did not exit after SIGKILL: %s, leaving it to the reaper",
			      strerror(-r));
	*c = HUSK_CHILD_NULL;
}

void shim_child_close(struct husk_child *c)
{
	husk_safe_close(c->pidfd);
	*c = HUSK_CHILD_NULL;
}
