#include "husk/process.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/wait.h>

#include "fs.h"
#include "husk/cleanup.h"
#include "husk/err.h"
#include "syscalls.h"

/* /proc/<pid>/stat is one line; comm is at most 16 bytes, so this is ample. */
#define STAT_MAX 4096

/* starttime is field 22; fields after comm start at 3. */
#define STARTTIME_FIELD 22

static int parse_start_time(const char *stat, uint64_t *ret)
{
	/* comm (field 2) is in parentheses and may itself hold spaces and ')'. */
	const char *p = strrchr(stat, ')');
	if (!p)
		return -EINVAL;
	p++;
	for (int field = 3; field <= STARTTIME_FIELD; field++) {
		if (*p != ' ')
			return -EINVAL;
		p++;
		if (field == STARTTIME_FIELD)
			break;
		p = strchr(p, ' ');
		if (!p)
			return -EINVAL;
	}
	char num[32];
	size_t n = strcspn(p, " \n");
	if (n == 0 || n >= sizeof(num))
		return -EINVAL;
	memcpy(num, p, n);
	num[n] = '\0';
	return husk__safe_atou64(num, ret);
}

int husk_proc_start_time(pid_t pid, uint64_t *ret, struct husk_err *err)
{
	if (pid <= 0)
		return husk_err_set(err, HUSK_ERR_INVALID, 0, "invalid pid %d", (int)pid);

	char path[64];
	(void)snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	_cleanup_free_ char *buf = NULL;
	int r = husk__read_file_at(AT_FDCWD, path, STAT_MAX, &buf, NULL);
	/* A process that exits between open and read makes read fail with ESRCH. */
	if (r == -ENOENT || r == -ESRCH)
		return husk_err_set(err, HUSK_ERR_NOT_FOUND, ESRCH, "process %d", (int)pid);
	if (r < 0)
		return husk_err_errno(err, -r, "read '%s'", path);
	r = parse_start_time(buf, ret);
	if (r < 0)
		return husk_err_set(err, HUSK_ERR_INTERNAL, 0, "parse start time in '%s'", path);
	return 0;
}

int husk_pidfd_open_checked(pid_t pid, uint64_t expected_start_time, struct husk_err *err)
{
	if (pid <= 0)
		return husk_err_set(err, HUSK_ERR_INVALID, 0, "invalid pid %d", (int)pid);

	/* pidfds are always close-on-exec. */
	_cleanup_close_ int fd = husk__pidfd_open(pid, 0);
	if (fd < 0) {
		if (errno == ESRCH)
			return husk_err_set(err, HUSK_ERR_NOT_FOUND, ESRCH, "process %d", (int)pid);
		if (errno == ENOSYS)
			return husk__sys_missing(HUSK_SYS_PIDFD_OPEN, err);
		return husk_err_errno(err, errno, "pidfd_open %d", (int)pid);
	}
	if (expected_start_time != 0) {
		/* The pidfd pins whichever process held the pid at open time; if that one has
		 * the start time we recorded, it is ours and cannot be recycled any more. */
		uint64_t st = 0;
		int r = husk_proc_start_time(pid, &st, err);
		if (r < 0)
			return r;
		if (st != expected_start_time)
			return husk_err_set(err, HUSK_ERR_NOT_FOUND, ESRCH,
					    "process %d (start time %llu, expected %llu)", (int)pid,
					    (unsigned long long)st,
					    (unsigned long long)expected_start_time);
	}
	return TAKE_FD(fd);
}

bool husk_proc_alive(pid_t pid, uint64_t expected_start_time)
{
	uint64_t st = 0;
	if (pid <= 0 || husk_proc_start_time(pid, &st, NULL) < 0)
		return false;
	return expected_start_time == 0 || st == expected_start_time;
}

int husk_pidfd_signal(int pidfd, int sig, struct husk_err *err)
{
	if (pidfd < 0)
		return husk_err_set(err, HUSK_ERR_INVALID, EBADF, "signal %d: no pidfd", sig);
	if (husk__pidfd_send_signal(pidfd, sig, 0) == 0)
		return 0;
	if (errno == ESRCH)
		return husk_err_set(err, HUSK_ERR_NOT_FOUND, ESRCH, "process already finished");
	if (errno == ENOSYS)
		return husk__sys_missing(HUSK_SYS_PIDFD_SEND_SIGNAL, err);
	return husk_err_errno(err, errno, "pidfd_send_signal %d", sig);
}

int husk_child_signal(const struct husk_child *child, int sig)
{
	if (child->pid <= 0)
		return -ESRCH;
	if (child->pidfd >= 0) {
		if (husk__pidfd_send_signal(child->pidfd, sig, 0) == 0)
			return 0;
		/* valgrind opens pidfds but refuses pidfd_send_signal: the pid, as below. */
		if (errno != ENOSYS)
			return -errno;
	}
	return kill(child->pid, sig) < 0 ? -errno : 0;
}

/* Reap pid if it has exited within timeout_ms: poll its pidfd, or without one (valgrind)
 * try every few milliseconds. 1 reaped, 0 still there, -errno. */
static int reap_within(pid_t pid, int pidfd, int timeout_ms)
{
	struct timespec start;
	struct timespec now;

	(void)clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		pid_t r = waitpid(pid, NULL, WNOHANG);
		if (r == pid)
			return 1;
		if (r < 0 && errno != EINTR)
			return -errno;
		(void)clock_gettime(CLOCK_MONOTONIC, &now);
		long long spent = (long long)(now.tv_sec - start.tv_sec) * 1000 +
				  (now.tv_nsec - start.tv_nsec) / 1000000;
		if (r == 0 && spent >= timeout_ms)
			return 0;
		if (r != 0)
			continue;
		int left = (int)(timeout_ms - spent);
		if (pidfd >= 0) {
			struct pollfd p = {.fd = pidfd, .events = POLLIN};
			(void)poll(&p, 1, left);
		} else {
			const struct timespec step = {0, 5L * 1000 * 1000};
			(void)nanosleep(&step, NULL);
		}
	}
}

int husk_child_kill_and_reap_within(struct husk_child *child, int timeout_ms)
{
	int r = 0;

	if (child->pid > 0) {
		/* Without a working pidfd (valgrind) the pid of our own unreaped child cannot
		 * have been recycled, so husk_child_signal()'s kill() hits the right one. */
		(void)husk_child_signal(child, SIGKILL);
		/* A child in uninterruptible sleep (a frozen v1 cgroup, a hung mount) dies only
		 * when it wakes: never wait for that. It stays our child, so a waitpid(-1)
		 * reaper (the shim's) or init (after a CLI exits) reaps it later. */
		int reaped = reap_within(child->pid, child->pidfd, timeout_ms);
		if (reaped == 0)
			r = -ETIMEDOUT;
		else if (reaped < 0 && reaped != -ECHILD)
			r = reaped;
	}
	husk_child_release(child);
	return r;
}

int husk_child_kill_and_reap(struct husk_child *child)
{
	return husk_child_kill_and_reap_within(child, HUSK_REAP_TIMEOUT_MS);
}

void husk_child_release(struct husk_child *child)
{
	child->pidfd = husk_safe_close(child->pidfd);
	child->pid = 0;
	child->start_time = 0;
}
