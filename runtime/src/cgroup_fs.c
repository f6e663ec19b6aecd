/* dirfd I/O helpers for cgroupfs files (see cgroup_internal.h for why they are separate). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cgroup_internal.h"
#include "husk/cleanup.h"

/* At least 4 KiB free after len in *buf (of *cap bytes), up to max + 1 bytes in all. */
static int make_room(char **buf, size_t *cap, size_t len, size_t max)
{
	if (*cap - len >= 4096)
		return 0;
	size_t ncap = *cap ? *cap * 2 : 8192;
	if (ncap > max + 1)
		ncap = max + 1;
	if (ncap <= len + 1)
		return -EFBIG;
	char *nb = realloc(*buf, ncap);
	if (!nb)
		return -ENOMEM;
	*buf = nb;
	*cap = ncap;
	return 0;
}

int husk__cg_read_alloc(int dirfd, const char *file, size_t max, char **ret, size_t *ret_len)
{
	_cleanup_close_ int fd = openat(dirfd, file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	size_t cap = 0;

	if (fd < 0)
		return -errno;
	for (;;) {
		int r = make_room(&buf, &cap, len, max);
		if (r < 0)
			return r;
		ssize_t n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (!buf) {
		buf = malloc(1);
		if (!buf)
			return -ENOMEM;
	}
	buf[len] = '\0';
	*ret = TAKE_PTR(buf);
	if (ret_len)
		*ret_len = len;
	return 0;
}

int husk__cg_read_small(int dirfd, const char *file, char *buf, size_t cap)
{
	_cleanup_close_ int fd = openat(dirfd, file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	size_t len = 0;

	if (fd < 0)
		return -errno;
	while (len + 1 < cap) {
		ssize_t n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	return (int)len;
}

int husk__cg_read_u64(int dirfd, const char *file, uint64_t *ret)
{
	char buf[64];
	int n = husk__cg_read_small(dirfd, file, buf, sizeof(buf));

	if (n < 0)
		return n;
	return husk__cgroup_parse_u64(buf, (size_t)n, ret) < 0 ? -EINVAL : 0;
}

int husk__cg_write(int dirfd, const char *file, const char *value)
{
	_cleanup_close_ int fd = openat(dirfd, file, O_WRONLY | O_CLOEXEC | O_NOCTTY);
	size_t len = strlen(value);

	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t n = write(fd, value, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		/* A cgroupfs write is consumed whole or refused; a short count means the
		 * kernel took a prefix only, which must not pass as success. */
		return (size_t)n == len ? 0 : -EIO;
	}
}

int64_t husk__cg_now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void husk__cg_backoff(unsigned *step)
{
	/* 1 ms doubling up to 32 ms: the freezer and rmdir converge within a few steps. */
	unsigned ms = 1u << (*step < 5 ? *step : 5);
	struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)ms * 1000000L};

	(*step)++;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}
