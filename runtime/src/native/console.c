/*
 * The container's terminal: a pty of the container's own devpts instance (child side), and
 * signals for its foreground process group (parent side).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sys/ioctl.h>

#include "husk/cleanup.h"
#include "husk/err.h"
#include "native/native.h"
#include "native/sync.h"
#include "syscalls.h"

/* Linux 6.9 (include/uapi/linux/pidfd.h); not in older headers. */
#ifndef PIDFD_SIGNAL_PROCESS_GROUP
#define PIDFD_SIGNAL_PROCESS_GROUP (1UL << 2)
#endif

int husk__console_setup(int sock, const struct husk_proc_plan *plan, uid_t uid, gid_t gid)
{
	int unlock = 0;
	_cleanup_close_ int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (master < 0)
		return husk__sync_error(sock, errno, "open /dev/ptmx");
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
		return husk__sync_error(sock, errno, "unlock pty");
	/* TIOCGPTPEER opens the peer through the master, never through a path. */
	_cleanup_close_ int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		return husk__sync_error(sock, errno, "open pty peer");
	if (fchown(slave, uid, gid) < 0)
		return husk__sync_error(sock, errno, "chown pty");
	if (plan->console_rows || plan->console_cols) {
		struct winsize ws = {.ws_row = plan->console_rows, .ws_col = plan->console_cols};
		if (ioctl(slave, TIOCSWINSZ, &ws) < 0)
			return husk__sync_error(sock, errno, "set window size");
	}
	if (setsid() < 0)
		return husk__sync_error(sock, errno, "setsid");
	if (ioctl(slave, TIOCSCTTY, 0) < 0)
		return husk__sync_error(sock, errno, "set controlling terminal");
	for (int fd = 0; fd < 3; fd++)
		if (dup2(slave, fd) < 0)
			return husk__sync_error(sock, errno, "dup pty to %d", fd);
	if (husk__sync_send(sock, HUSK_SYNC_CONSOLE_FD, 0, master, NULL) < 0)
		return husk__sync_error(sock, errno, "send pty master");
	return 0;
}

/* Field 8 (tpgid) of /proc/<pid>/stat: the foreground group of its controlling terminal,
 * numbered in our pid namespace (our procfs); 0 when it has none. */
static pid_t stat_tpgid(pid_t pid)
{
	char path[64];
	char buf[1024];

	(void)snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* "pid (comm) state ppid pgrp session tty_nr tpgid ...": comm may hold ") ". */
	char *rp = strrchr(buf, ')');
	if (!rp)
		return 0;
	/* After comm: state ppid pgrp session tty_nr tpgid. */
	char *save = NULL;
	char *field = strtok_r(rp + 1, " ", &save);
	for (int i = 0; field && i < 5; i++)
		field = strtok_r(NULL, " ", &save);
	if (!field)
		return 0;
	char *end = NULL;
	long tpgid = strtol(field, &end, 10);
	if (end == field || tpgid <= 0 || tpgid > INT_MAX)
		return 0;
	return (pid_t)tpgid;
}

pid_t husk__console_foreground(int master, pid_t pid)
{
	pid_t pgrp = 0;

	/* The kernel numbers the group in the caller's pid namespace: the container's pids
	 * come back as we see them. */
	if (master < 0 || ioctl(master, TIOCGPGRP, &pgrp) < 0)
		pgrp = stat_tpgid(pid);
	if (pgrp <= 0)
		return 0;
	pid_t own = getpgid(pid);
	return own == pgrp ? 0 : pgrp;
}

int husk__signal_group(pid_t pgrp, int sig, struct husk_err *err)
{
	_cleanup_close_ int fd = husk__pidfd_open(pgrp, 0);

	if (fd >= 0 && husk__pidfd_send_signal(fd, sig, PIDFD_SIGNAL_PROCESS_GROUP) == 0)
		return 0;
	if (fd >= 0 && errno != EINVAL)
		return husk_err_errno(err, errno, "signal process group %d", (int)pgrp);
	/* The leader is gone while its group lives on (pidfd_open: ESRCH), or the kernel
	 * predates group signals on pidfds (EINVAL). A group id is not reused while any
	 * member lives, so the bare id still names that group. */
	if (kill(-pgrp, sig) == 0)
		return 0;
	if (errno == ESRCH)
		return husk_err_set(err, HUSK_ERR_NOT_FOUND, 0, "process already finished");
	return husk_err_errno(err, errno, "signal process group %d", (int)pgrp);
}
