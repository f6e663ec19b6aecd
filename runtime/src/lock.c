#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <time.h>

#include <sys/file.h>
#include <sys/stat.h>

#include "fs.h"
#include "husk/cleanup.h"
#include "state_file.h"

/* True when fd is still the file at dirfd/name (not unlinked or replaced meanwhile). */
static int same_file(int dirfd, const char *name, int fd)
{
	struct stat a;
	struct stat b;
	if (fstat(fd, &a) < 0)
		return -errno;
	if (fstatat(dirfd, name, &b, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static int open_lock(int dirfd, const char *name, unsigned flags, bool *created)
{
	*created = false;
	if (flags & HUSK__LOCK_CREATE) {
		int fd = husk__openat(dirfd, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);
		if (fd != -EEXIST) {
			*created = fd >= 0;
			return fd;
		}
	}
	return husk__openat(dirfd, name, O_RDWR | O_NOFOLLOW, 0);
}

int husk__lock_timeout_ms = HUSK__LOCK_TIMEOUT_MS;

static int64_t mono_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * flock(2) has no timeout, and an alarm would be a signal handler in library code: try
 * without blocking and back off (1 ms doubling to 50 ms) until the deadline. The lock is
 * held across one operation of another process (a create, a delete), so it is rarely
 * contended for more than a few milliseconds.
 */
static int flock_bounded(int fd, int op, int64_t deadline)
{
	long wait_ms = 1;

	for (;;) {
		if (flock(fd, op | LOCK_NB) == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK)
			return -errno;
		int64_t left = deadline - mono_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		if (wait_ms > left)
			wait_ms = (long)left;
		struct timespec ts = {.tv_sec = 0, .tv_nsec = wait_ms * 1000000};
		(void)nanosleep(&ts, NULL);
		if (wait_ms < 50)
			wait_ms *= 2;
	}
}

int husk__lock_take(int dirfd, const char *name, unsigned flags, int *ret_fd, bool *ret_created)
{
	int op = (flags & HUSK__LOCK_SHARED) ? LOCK_SH : LOCK_EX;
	bool nonblock = flags & HUSK__LOCK_NONBLOCK;
	int64_t deadline = mono_ms() + husk__lock_timeout_ms;

	/* Each round loses only to a destroyer that unlinked the file under us; bound it
	 * anyway so that a pathological peer cannot keep us here forever. */
	for (int round = 0; round < 1000; round++) {
		bool created = false;
		_cleanup_close_ int fd = open_lock(dirfd, name, flags, &created);
		if (fd < 0)
			return fd;
		int r = nonblock ? flock_bounded(fd, op, 0) : flock_bounded(fd, op, deadline);
		if (r == -ETIMEDOUT && nonblock)
			r = -EWOULDBLOCK;
		if (r < 0)
			return r;
		int same = same_file(dirfd, name, fd);
		if (same < 0)
			return same;
		if (!same)
			continue;
		if (ret_created)
			*ret_created = created;
		*ret_fd = TAKE_FD(fd);
		return 0;
	}
	return -EAGAIN;
}

int husk__lock_probe(int dirfd, const char *name)
{
	_cleanup_close_ int fd = husk__openat(dirfd, name, O_RDONLY | O_NOFOLLOW, 0);
	if (fd < 0)
		return fd;
	if (flock(fd, LOCK_SH | LOCK_NB) == 0)
		return 0;
	return errno == EWOULDBLOCK ? 1 : -errno;
}
