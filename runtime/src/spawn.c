#include "husk/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <sys/prctl.h>
#include <sys/wait.h>

#include "husk/cleanup.h"
#include "husk/err.h"
#include "husk/kernel.h"
#include "husk/process.h"
#include "spawn_internal.h"
#include "syscalls.h"

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

static bool is_target(const struct husk_spawn_fd *fds, size_t n_fds, int fd)
{
	for (size_t i = 0; i < n_fds; i++)
		if (fds[i].target == fd)
			return true;
	return false;
}

int husk__spawn_donate(const struct husk_spawn_fd *fds, size_t n_fds)
{
	int tmp[HUSK_SPAWN_FDS_MAX];
	int max_target = 2;

	if (n_fds > HUSK_SPAWN_FDS_MAX)
		return -EINVAL;
	for (size_t i = 0; i < n_fds; i++)
		if (fds[i].target > max_target)
			max_target = fds[i].target;
	if (max_target >= HUSK_SPAWN_FDS_MAX)
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
	/* A gap above stdio is closed too: nothing reaches the child that was not donated. */
	for (int fd = 3; fd < max_target; fd++)
		if (!is_target(fds, n_fds, fd))
			(void)close(fd);
	if (husk_close_range((unsigned)max_target + 1, ~0U, 0) < 0)
		return -errno;
	return 0;
}

struct spawn_call {
	const struct husk_spawn_opts *opts;
	husk_spawn_fn *fn;
	void *arg;
	/* Where the child writes its errno when the recipe fails (-1: nowhere); at or above
	 * HUSK_SPAWN_FDS_MAX, so that no donated fd lands on it. */
	int report_fd;
};

static void report_errno(int fd, int e)
{
	if (fd >= 0)
		(void)!write(fd, &e, sizeof(e));
}

static _Noreturn void child_main(const struct spawn_call *sc)
{
	const struct husk_spawn_opts *opts = sc->opts;

	husk__spawn_reset_signals();
	if (opts->name)
		(void)prctl(PR_SET_NAME, opts->name, 0, 0, 0);
	int r = husk__spawn_donate(opts->fds, opts->n_fds);
	if (r < 0) {
		report_errno(sc->report_fd, -r);
		_exit(126);
	}
	_exit(sc->fn(sc->arg));
}

/* clone3 (or clone) with CLONE_PIDFD; where both are refused (valgrind takes neither with
 * CLONE_PIDFD) a child that needs no clone flag comes from fork(), its pidfd opened later. */
static pid_t clone_child(const struct husk_spawn_opts *opts, int *ret_pidfd)
{
	pid_t pid = husk__clone3_into(CLONE_PIDFD | opts->clone_flags, ret_pidfd, opts->cgroup_fd);

	if (pid < 0 && (errno == ENOSYS || errno == EINVAL) && opts->clone_flags == 0)
		pid = fork();
	return pid;
}

static int spawn(const struct spawn_call *sc, struct husk_child *ret, struct husk_err *err)
{
	const char *name = sc->opts->name ? sc->opts->name : "child";
	sigset_t all;
	sigset_t old;
	int pidfd = -1;

	sigfillset(&all);
	if (sigprocmask(SIG_SETMASK, &all, &old) < 0)
		return husk_err_errno(err, errno, "block signals");
	pid_t pid = clone_child(sc->opts, &pidfd);
	if (pid == 0)
		child_main(sc);
	int saved = errno;
	(void)sigprocmask(SIG_SETMASK, &old, NULL);
	if (pid < 0)
		return husk_err_errno(err, saved, "clone %s", name);
	/* From fork(): our own unreaped child's pid cannot be recycled before this pins it. */
	if (pidfd < 0)
		pidfd = husk__pidfd_open(pid, 0);

	struct husk_child ch = {.pid = pid, .pidfd = pidfd};
	/* Our own unreaped child: its start time cannot change under us. */
	if (husk_proc_start_time(pid, &ch.start_time, err) < 0) {
		(void)husk_child_kill_and_reap(&ch);
		return husk_err_prefix(err, "spawn %s", name);
	}
	*ret = ch;
	return 0;
}

int husk_spawn(const struct husk_spawn_opts *opts, husk_spawn_fn *fn, void *arg,
	       struct husk_child *ret, struct husk_err *err)
{
	struct spawn_call sc = {.opts = opts, .fn = fn, .arg = arg, .report_fd = -1};

	return spawn(&sc, ret, err);
}

struct exec_call {
	const struct husk_spawn_exec *x;
	int errfd; /* the exec-error pipe in the child, close-on-exec */
};

static int exec_main(void *arg)
{
	const struct exec_call *ec = arg;
	const struct husk_spawn_exec *x = ec->x;

	if ((!x->new_session || setsid() >= 0) && (!x->cwd || chdir(x->cwd) >= 0))
		(void)execve(x->path, x->argv, x->envp ? x->envp : environ);
	report_errno(ec->errfd, errno);
	return 127;
}

/* The child's errno from the exec-error pipe: 0 when it exec'd (EOF), else its errno. */
static int read_exec_errno(int fd)
{
	int e = 0;
	ssize_t n;

	do
		n = read(fd, &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof(e) ? e : 0;
}

int husk_spawn_exec(const struct husk_spawn_opts *opts, const struct husk_spawn_exec *x,
		    struct husk_child *ret, struct husk_err *err)
{
	struct husk_spawn_fd fds[HUSK_SPAWN_FDS_MAX];
	int max_target = 2;
	int p[2];

	if (opts->n_fds >= HUSK_SPAWN_FDS_MAX)
		return husk_err_set(err, HUSK_ERR_INTERNAL, EINVAL, "spawn '%s': too many fds",
				    x->path);
	for (size_t i = 0; i < opts->n_fds; i++) {
		fds[i] = opts->fds[i];
		if (fds[i].target > max_target)
			max_target = fds[i].target;
	}
	if (max_target + 1 >= HUSK_SPAWN_FDS_MAX)
		return husk_err_set(err, HUSK_ERR_INTERNAL, EINVAL, "spawn '%s': fd %d too high",
				    x->path, max_target);
	if (pipe2(p, O_CLOEXEC) < 0)
		return husk_err_errno(err, errno, "pipe");
	_cleanup_close_ int rd = p[0];
	_cleanup_close_ int wr_low = p[1];
	/* Above every target: the recipe's dups never land on it before the child reports. */
	_cleanup_close_ int wr = fcntl(wr_low, F_DUPFD_CLOEXEC, HUSK_SPAWN_FDS_MAX);
	if (wr < 0)
		return husk_err_errno(err, errno, "dup exec-error pipe");
	husk_closep(&wr_low);
	fds[opts->n_fds] =
		(struct husk_spawn_fd){.fd = wr, .target = max_target + 1, .cloexec = true};
	struct husk_spawn_opts o = *opts;
	o.fds = fds;
	o.n_fds = opts->n_fds + 1;
	struct exec_call ec = {.x = x, .errfd = max_target + 1};
	struct spawn_call sc = {.opts = &o, .fn = exec_main, .arg = &ec, .report_fd = wr};
	struct husk_child ch = HUSK_CHILD_NULL;
	int r = spawn(&sc, &ch, err);
	if (r < 0)
		return r;
	husk_closep(&wr);
	int e = read_exec_errno(rd);
	if (e != 0) {
		/* It exits right after reporting: the bounded reap does not wait long. */
		(void)husk_child_kill_and_reap(&ch);
		return husk_err_errno(err, e, "exec '%s'", x->path);
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
