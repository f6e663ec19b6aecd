/*
 * Child processes through pidfds. pidfd_open/pidfd_send_signal are unknown to valgrind, so
 * this suite carries the root label (not run under valgrind).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/stat.h>
#include <sys/wait.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "husk/err.h"
#include "husk/process.h"

static pid_t spawn_sleeper(void)
{
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		for (;;)
			pause();
	}
	return pid;
}

static pid_t dead_pid(void)
{
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0)
		_exit(0);
	cr_assert(eq(int, waitpid(pid, NULL, 0), pid));
	return pid;
}

Test(process, start_time_of_self_and_missing)
{
	uint64_t a = 0, b = 0;
	cr_assert(eq(int, husk_proc_start_time(getpid(), &a, NULL), 0));
	cr_assert(gt(u64, a, 0));
	cr_assert(eq(int, husk_proc_start_time(getpid(), &b, NULL), 0));
	cr_assert(eq(u64, a, b), "stable");

	uint64_t parent = 0;
	cr_assert(eq(int, husk_proc_start_time(getppid(), &parent, NULL), 0));
	cr_assert(le(u64, parent, a), "a parent starts no later than its child");

	struct husk_err err = {0};
	cr_assert(eq(int, husk_proc_start_time(dead_pid(), &a, &err), -ESRCH));
	cr_assert(eq(int, err.kind, HUSK_ERR_NOT_FOUND));
	cr_assert(eq(int, husk_proc_start_time(0, &a, &err), -EINVAL));
	cr_assert(eq(int, husk_proc_start_time(-5, &a, &err), -EINVAL));
}

/* A comm with spaces and parentheses must not shift the fields. */
Test(process, start_time_with_tricky_comm)
{
	int sync[2];
	cr_assert(eq(int, pipe2(sync, O_CLOEXEC), 0));
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		int fd = open("/proc/self/comm", O_WRONLY | O_CLOEXEC);
		(void)write(fd, "a) b (c ) 1 2", 13);
		close(fd);
		(void)write(sync[1], "x", 1);
		for (;;)
			pause();
	}
	char c;
	cr_assert(eq(int, (int)read(sync[0], &c, 1), 1));
	char path[64], comm[64] = {0};
	(void)snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	cr_assert(read(fd, comm, sizeof(comm) - 1) > 0);
	close(fd);
	cr_assert(strchr(comm, ')') != NULL, "comm set: %s", comm);

	uint64_t st = 0, mine = 0;
	cr_assert(eq(int, husk_proc_start_time(pid, &st, NULL), 0));
	cr_assert(eq(int, husk_proc_start_time(getpid(), &mine, NULL), 0));
	cr_assert(ge(u64, st, mine));
	cr_assert(lt(u64, st, mine + 100000), "a plausible tick count, not another field");
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(sync[0]);
	close(sync[1]);
}

Test(process, alive)
{
	uint64_t st = 0;
	cr_assert(eq(int, husk_proc_start_time(getpid(), &st, NULL), 0));
	cr_assert(husk_proc_alive(getpid(), 0));
	cr_assert(husk_proc_alive(getpid(), st));
	cr_assert(husk_proc_alive(getpid(), st + 1) == false, "recycled pid");
	cr_assert(husk_proc_alive(dead_pid(), 0) == false);
	cr_assert(husk_proc_alive(0, 0) == false);
}

Test(process, pidfd_open_checked_and_signal)
{
	pid_t pid = spawn_sleeper();
	uint64_t st = 0;
	cr_assert(eq(int, husk_proc_start_time(pid, &st, NULL), 0));

	struct husk_err err = {0};
	int fd = husk_pidfd_open_checked(pid, st, &err);
	cr_assert(ge(int, fd, 3), "%s", err.msg);
	cr_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);

	/* Wrong start time: treated as a recycled pid. */
	cr_assert(eq(int, husk_pidfd_open_checked(pid, st + 1, &err), -ESRCH));
	cr_assert(eq(int, err.kind, HUSK_ERR_NOT_FOUND));

	cr_assert(eq(int, husk_pidfd_signal(fd, 0, &err), 0));
	cr_assert(eq(int, husk_pidfd_signal(fd, SIGTERM, &err), 0));
	int ws = 0;
	cr_assert(eq(int, waitpid(pid, &ws, 0), pid));
	cr_assert(0 != WIFSIGNALED(ws) && WTERMSIG(ws) == SIGTERM);

	/* The pidfd still names the reaped process, never whoever gets the pid next. */
	cr_assert(eq(int, husk_pidfd_signal(fd, SIGTERM, &err), -ESRCH));
	cr_assert(eq(int, err.kind, HUSK_ERR_NOT_FOUND));
	cr_assert(eq(str, err.msg, "process already finished: No such process"));
	close(fd);

	cr_assert(eq(int, husk_pidfd_open_checked(pid, 0, &err), -ESRCH));
	cr_assert(eq(int, err.kind, HUSK_ERR_NOT_FOUND));
	cr_assert(eq(int, husk_pidfd_signal(-1, SIGTERM, &err), -EBADF));
}

Test(process, child_kill_and_reap)
{
	struct husk_child ch = HUSK_CHILD_NULL;
	ch.pid = spawn_sleeper();
	ch.pidfd = husk_pidfd_open_checked(ch.pid, 0, NULL);
	cr_assert(ge(int, ch.pidfd, 0));
	pid_t pid = ch.pid;
	husk_child_kill_and_reap(&ch);
	cr_assert(eq(int, ch.pid, 0));
	cr_assert(eq(int, ch.pidfd, -1));
	cr_assert(eq(int, waitpid(pid, NULL, WNOHANG), -1), "already reaped");
	cr_assert(eq(int, errno, ECHILD));

	/* Without a pidfd (as under valgrind), an own child is still killed and reaped. */
	ch = HUSK_CHILD_NULL;
	ch.pid = spawn_sleeper();
	pid = ch.pid;
	husk_child_kill_and_reap(&ch);
	cr_assert(eq(int, waitpid(pid, NULL, WNOHANG), -1));

	/* Nothing to do for an empty child; twice is fine. */
	husk_child_kill_and_reap(&ch);
}

static pid_t armed_then_failed(bool take)
{
	_cleanup_child_ struct husk_child ch = HUSK_CHILD_NULL;
	ch.pid = spawn_sleeper();
	ch.pidfd = husk_pidfd_open_checked(ch.pid, 0, NULL);
	pid_t pid = ch.pid;
	if (take) {
		husk_child_release(&ch); /* handed over: the cleanup does nothing */
	}
	return pid;
}

Test(process, cleanup_child_kills_unless_taken)
{
	pid_t pid = armed_then_failed(false);
	cr_assert(eq(int, waitpid(pid, NULL, WNOHANG), -1), "killed and reaped by the cleanup");

	pid = armed_then_failed(true);
	cr_assert(husk_proc_alive(pid, 0), "released child lives on");
	kill(pid, SIGKILL);
	cr_assert(eq(int, waitpid(pid, NULL, 0), pid));
}

Test(process, release_closes_without_signal)
{
	struct husk_child ch = HUSK_CHILD_NULL;
	ch.pid = spawn_sleeper();
	ch.pidfd = husk_pidfd_open_checked(ch.pid, 0, NULL);
	int fd = ch.pidfd;
	pid_t pid = ch.pid;
	husk_child_release(&ch);
	cr_assert(eq(int, ch.pidfd, -1));
	cr_assert(eq(int, fcntl(fd, F_GETFD), -1), "closed");
	cr_assert(husk_proc_alive(pid, 0));
	kill(pid, SIGKILL);
	cr_assert(eq(int, waitpid(pid, NULL, 0), pid));
}

static void write_cg(const char *dir, const char *file, const char *v)
{
	char path[512];
	(void)snprintf(path, sizeof(path), "%s/%s", dir, file);
	FILE *f = fopen(path, "we");
	cr_assert(f != NULL, "open %s: %s", path, strerror(errno));
	cr_assert(fputs(v, f) >= 0);
	cr_assert(eq(int, fclose(f), 0), "write %s to %s: %s", v, path, strerror(errno));
}

static bool cg_frozen(const char *dir)
{
	char path[512];
	char buf[32] = "";
	(void)snprintf(path, sizeof(path), "%s/freezer.state", dir);
	FILE *f = fopen(path, "re");
	cr_assert(f != NULL);
	(void)!fgets(buf, sizeof(buf), f);
	(void)fclose(f);
	return strncmp(buf, "FROZEN", 6) == 0;
}

/* A child in uninterruptible sleep does not die of SIGKILL until it wakes: in a frozen v1
 * freezer cgroup it cannot. Kill-and-reap gives up after its bound and leaves the child
 * unreaped; once thawed it dies of the SIGKILL and is reaped by its parent. */
Test(process, kill_and_reap_of_a_frozen_child_is_bounded)
{
	char dir[256];
	if (access("/sys/fs/cgroup/freezer/cgroup.procs", F_OK) < 0)
		cr_skip_test("no cgroup v1 freezer hierarchy at /sys/fs/cgroup/freezer");
	(void)snprintf(dir, sizeof(dir), "/sys/fs/cgroup/freezer/husk-test-reap-%d", (int)getpid());
	cr_assert(eq(int, mkdir(dir, 0755), 0), "mkdir %s: %s", dir, strerror(errno));
	struct husk_child ch = HUSK_CHILD_NULL;
	ch.pid = spawn_sleeper();
	ch.pidfd = husk_pidfd_open_checked(ch.pid, 0, NULL);
	cr_assert(ge(int, ch.pidfd, 0));
	pid_t pid = ch.pid;
	char num[32];
	(void)snprintf(num, sizeof(num), "%d", (int)pid);
	write_cg(dir, "cgroup.procs", num);
	write_cg(dir, "freezer.state", "FROZEN");
	/* The kernel freezes asynchronously; the state file says when it is done. */
	for (int i = 0; i < 100000 && !cg_frozen(dir); i++)
		(void)sched_yield();
	cr_assert(cg_frozen(dir));

	struct timespec t0, t1;
	(void)clock_gettime(CLOCK_MONOTONIC, &t0);
	int r = husk_child_kill_and_reap(&ch);
	(void)clock_gettime(CLOCK_MONOTONIC, &t1);
	double took = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	cr_expect(eq(int, r, -ETIMEDOUT));
	cr_expect(eq(int, ch.pid, 0), "reset either way");
	cr_expect(eq(int, ch.pidfd, -1));
	cr_expect(ge(dbl, took, HUSK_REAP_TIMEOUT_MS / 1000.0 - 0.1), "took %.2fs", took);
	cr_expect(lt(dbl, took, HUSK_REAP_TIMEOUT_MS / 1000.0 + 3), "took %.2fs", took);
	cr_expect(eq(int, waitpid(pid, NULL, WNOHANG), 0), "left unreaped while frozen");

	write_cg(dir, "freezer.state", "THAWED");
	int status = 0;
	cr_assert(eq(int, waitpid(pid, &status, 0), pid));
	bool killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
	cr_expect(killed, "the SIGKILL took effect once thawed (status %d)", status);
	cr_expect(eq(int, rmdir(dir), 0), "rmdir %s: %s", dir, strerror(errno));
}
