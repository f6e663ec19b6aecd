#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include <criterion/criterion.h>

char *testutil_tmpdir(const char *tag)
{
	const char *base = getenv("TMPDIR");
	char *path = NULL;

	if (!base || !*base)
		base = "/tmp";
	cr_assert(asprintf(&path, "%s/husk-%s-XXXXXX", base, tag) > 0);
	cr_assert(mkdtemp(path) != NULL, "mkdtemp %s: %s", path, strerror(errno));
	return path;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP || flag == FTW_D)
		(void)rmdir(path);
	else
		(void)unlink(path);
	return 0;
}

void testutil_rmtree_free(char *path)
{
	if (!path)
		return;
	(void)nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
	free(path);
}

void testutil_write_file(const char *path, const char *content)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	cr_assert(fd >= 0, "open %s: %s", path, strerror(errno));
	size_t len = strlen(content);
	cr_assert(write(fd, content, len) == (ssize_t)len);
	cr_assert(close(fd) == 0);
}

char *testutil_read_file(const char *path)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return NULL;
	char *buf = NULL;
	size_t cap = 0;
	ssize_t n = getdelim(&buf, &cap, '\0', f);
	(void)fclose(f);
	if (n < 0) {
		free(buf);
		return strdup("");
	}
	return buf;
}

char *testutil_comm(pid_t pid)
{
	char path[64];

	(void)snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	char *comm = testutil_read_file(path);
	if (comm)
		comm[strcspn(comm, "\n")] = '\0';
	return comm;
}

double testutil_timeout(double seconds)
{
	const char *m = getenv("HUSK_TEST_TIMEOUT_MULTIPLIER");
	double mult = m ? strtod(m, NULL) : 1.0;
	if (mult < 1.0)
		mult = 1.0;
	return seconds * mult;
}

int testutil_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;
	struct dirent *de;

	cr_assert(d != NULL);
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	(void)closedir(d);
	return n - 1; /* the directory's own fd */
}

bool testutil_is_root(void)
{
	return geteuid() == 0;
}

static char *join_env(const char *var, const char *rel)
{
	const char *base = getenv(var);
	char *path = NULL;
	cr_assert(base != NULL, "%s is not set (run through ctest)", var);
	cr_assert(asprintf(&path, "%s/%s", base, rel) > 0);
	return path;
}

char *testutil_source_path(const char *rel)
{
	return join_env("HUSK_SOURCE_DIR", rel);
}

char *testutil_binary_path(const char *rel)
{
	return join_env("HUSK_BINARY_DIR", rel);
}
