#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <sys/prctl.h>
#include <sys/wait.h>

#include "husk/cleanup.h"
#include "husk/err.h"
#include "husk/process.h"
#include "spawn_internal.h"
#include "syscalls.h"

#define DONATE_MAX_TARGET 64

void husk__spawn_reset_signals(void)
{
	sigset_t none;

	/* SIG_IGN survives execve; a container must not inherit the shim's dispositions. */
	for (int sig = 1; sig <= SIGRTMAX; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		(void)signal(sig, SIG_DFL);
	}
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
}

int husk__spawn_donate(const struct husk_spawn_fd *fds, size_t n_fds)
{
	int tmp[DONATE_MAX_TARGET];
	int max_target = 2;

	if (n_fds > DONATE_MAX_TARGET)
		return -EINVAL;
	for (size_t i = 0; i < n_fds; i++)
		if (fds[i].target > max_target)
			max_target = fds[i].target;
	if (max_target >= DONATE_MAX_TARGET)
		return -EINVAL;
	/* First every source above all targets, so that no dup2 clobbers a later source. */
	for (size_t i = 0; i < n_fds; i++) {
		int src = fds[i].fd;
		if (src < 0) {
			src = open("/dev/null", O_RDWR | O_CLOEXEC);
			if (src < 0)
				return -errno;
		}
		tmp[i] = fcntl(src, F_DUPFD_CLOEXEC, max_target + 1);
		if (tmp[i] < 0)
			return -errno;
	}
	for (size_t i = 0; i < n_fds; i++) {
		if (dup3(tmp[i], fds[i].target, fds[i].cloexec ? O_CLOEXEC : 0) < 0)
			return -errno;
	}
	if (husk_close_range((unsigned)max_target + 1, ~0U, 0) < 0)
		return -errno;
	return 0;
}

static _Noreturn void child_main(const struct husk_spawn_opts *opts, husk_spawn_fn *fn, void *arg)
{
	husk__spawn_reset_signals();
	if (opts->name)
		(void)prctl(PR_SET_NAME, opts->name, 0, 0, 0);
	/* The child dies with the runtime that spawned it until it is handed over. */
	if (husk__spawn_donate(opts->fds, opts->n_fds) < 0)
		_exit(126);
	_exit(fn(arg));
}

int husk__spawn(const struct husk_spawn_opts *opts, husk_spawn_fn *fn, void *arg,
		struct husk_child *ret, struct husk_err *err)
{
	sigset_t all;
	sigset_t old;
	int pidfd = -1;

	sigfillset(&all);
	if (sigprocmask(SIG_SETMASK, &all, &old) < 0)
		return husk_err_errno(err, errno, "block signals");
	pid_t pid = husk__clone3_into(CLONE_PIDFD | opts->clone_flags, &pidfd, opts->cgroup_fd);
	if (pid == 0)
		child_main(opts, fn, arg);
	int saved = errno;
	(void)sigprocmask(SIG_SETMASK, &old, NULL);
	if (pid < 0)
		return husk_err_errno(err, saved, "clone %s", opts->name ? opts->name : "child");

	struct husk_child ch = {.pid = pid, .pidfd = pidfd};
	/* Our own unreaped child: its start time cannot change under us. */
	if (husk_proc_start_time(pid, &ch.start_time, err) < 0) {
		(void)husk_child_kill_and_reap(&ch);
		return husk_err_prefix(err, "spawn %s", opts->name ? opts->name : "child");
	}
	*ret = ch;
	return 0;
}

int husk__wait_pid(pid_t pid)
{
	int status;

	for (;;) {
		pid_t r = waitpid(pid, &status, __WALL);
		if (r == pid)
			return status;
		if (r < 0 && errno != EINTR)
			return -errno;
	}
}
