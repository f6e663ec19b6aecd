#include "fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include "husk/cleanup.h"
#include "husk/err.h"

int husk__openat(int dirfd, const char *path, int flags, mode_t mode)
{
	for (;;) {
		int fd = openat(dirfd, path, flags | O_CLOEXEC, mode);
		if (fd >= 0)
			return fd;
		if (errno != EINTR)
			return -errno;
	}
}

int husk__open_dir_at(int dirfd, const char *path)
{
	return husk__openat(dirfd, path, O_RDONLY | O_DIRECTORY, 0);
}

int husk__read_all(int fd, size_t max, char **ret_buf, size_t *ret_len)
{
	size_t cap = max < 4096 ? max + 1 : 4096;
	size_t len = 0;
	_cleanup_free_ char *buf = malloc(cap + 1);
	if (!buf)
		return -ENOMEM;

	for (;;) {
		if (len == cap) {
			if (cap > max)
				return -EFBIG;
			/* Grow up to max + 1, so that one byte past the limit is seen. */
			size_t ncap = cap > max / 2 ? max + 1 : cap * 2;
			char *n = realloc(buf, ncap + 1);
			if (!n)
				return -ENOMEM;
			buf = n;
			cap = ncap;
		}
		ssize_t r = read(fd, buf + len, cap - len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	if (len > max)
		return -EFBIG;
	buf[len] = '\0';
	if (ret_len)
		*ret_len = len;
	*ret_buf = TAKE_PTR(buf);
	return 0;
}

int husk__read_file_at(int dirfd, const char *path, size_t max, char **ret_buf, size_t *ret_len)
{
	_cleanup_close_ int fd = husk__openat(dirfd, path, O_RDONLY | O_NOCTTY, 0);
	if (fd < 0)
		return fd;
	return husk__read_all(fd, max, ret_buf, ret_len);
}

int husk__write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t r = write(fd, p, len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			return -EIO;
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

static int mkdir_one(int dirfd, const char *name, mode_t mode)
{
	if (mkdirat(dirfd, name, mode) == 0)
		return 0;
	if (errno != EEXIST)
		return -errno;
	struct stat st;
	if (fstatat(dirfd, name, &st, 0) < 0)
		return -errno;
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

int husk__mkdir_p_at(int dirfd, const char *path, mode_t mode)
{
	size_t len = strlen(path);
	if (len == 0)
		return 0;
	if (len >= PATH_MAX)
		return -ENAMETOOLONG;

	char buf[PATH_MAX];
	memcpy(buf, path, len + 1);
	/* Walk the components, creating each prefix in turn (mkdirat with the full prefix). */
	for (size_t i = 0; i <= len; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		size_t start = i;
		while (start > 0 && buf[start - 1] != '/')
			start--;
		size_t clen = i - start;
		if (clen == 0 || (clen == 1 && buf[start] == '.'))
			continue;
		if (clen == 2 && buf[start] == '.' && buf[start + 1] == '.')
			return -EINVAL;
		char saved = buf[i];
		buf[i] = '\0';
		int r = mkdir_one(dirfd, buf, mode);
		buf[i] = saved;
		if (r < 0)
			return r;
	}
	return 0;
}

#define TEMP_MARK ".tmp-"

bool husk__is_temp_name(const char *name, const char *target)
{
	if (name[0] != '.')
		return false;
	const char *mark = strstr(name + 1, TEMP_MARK);
	if (!mark)
		return false;
	/* The last mark wins: a target name may itself contain ".tmp-". */
	for (const char *m = mark; m; m = strstr(m + 1, TEMP_MARK))
		mark = m;
	if (!target)
		return mark > name + 1;
	size_t tlen = strlen(target);
	return (size_t)(mark - (name + 1)) == tlen && strncmp(name + 1, target, tlen) == 0;
}

static int create_temp(int dirfd, const char *name, mode_t mode, char *tmp, size_t size)
{
	static unsigned counter;

	for (int attempt = 0; attempt < 16; attempt++) {
		int n = snprintf(tmp, size,
				 "."
				 "%s" TEMP_MARK "%ld-%u",
				 name, (long)getpid(), counter++);
		if (n < 0 || (size_t)n >= size || (size_t)n > NAME_MAX)
			return -ENAMETOOLONG;
		int fd = husk__openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode);
		if (fd != -EEXIST)
			return fd;
	}
	return -EEXIST;
}

int husk__write_file_atomic_at(int dirfd, const char *name, const void *buf, size_t len,
			       mode_t mode, struct husk_err *err)
{
	char tmp[NAME_MAX + 1];
	_cleanup_close_ int fd = create_temp(dirfd, name, mode, tmp, sizeof(tmp));
	if (fd < 0)
		return husk_err_errno(err, -fd, "create temp file for '%s'", name);

	int r = husk__write_all(fd, buf, len);
	if (r < 0) {
		(void)unlinkat(dirfd, tmp, 0);
		return husk_err_errno(err, -r, "write '%s'", tmp);
	}
	/* No fsync: the rename alone keeps a crashed writer's file whole (see husk/state.h). */
	if (renameat(dirfd, tmp, dirfd, name) < 0) {
		r = -errno;
		(void)unlinkat(dirfd, tmp, 0);
		return husk_err_errno(err, -r, "rename '%s' to '%s'", tmp, name);
	}
	return 0;
}

int husk__remove_stale_temps_at(int dirfd, const char *target)
{
	int dfd = husk__openat(dirfd, ".", O_RDONLY | O_DIRECTORY, 0);
	if (dfd < 0)
		return dfd;
	_cleanup_closedir_ DIR *d = fdopendir(dfd);
	if (!d) {
		int r = -errno;
		(void)husk_safe_close(dfd);
		return r;
	}
	int removed = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!husk__is_temp_name(de->d_name, target))
			continue;
		if (unlinkat(dirfd, de->d_name, 0) == 0)
			removed++;
	}
	return removed;
}

int husk__safe_atou64(const char *s, uint64_t *ret)
{
	uint64_t v = 0;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	if (*p == '\n')
		p++;
	if (*p != '\0')
		return -EINVAL;
	*ret = v;
	return 0;
}

int husk__safe_atou32(const char *s, uint32_t *ret)
{
	uint64_t v;
	int r = husk__safe_atou64(s, &v);
	if (r < 0)
		return r;
	if (v > UINT32_MAX)
		return -ERANGE;
	*ret = (uint32_t)v;
	return 0;
}

int husk__safe_atopid(const char *s, pid_t *ret)
{
	uint64_t v;
	int r = husk__safe_atou64(s, &v);
	if (r < 0)
		return r;
	if (v == 0 || v > INT32_MAX)
		return -ERANGE;
	*ret = (pid_t)v;
	return 0;
}
