/*
 * Runs a fuzzer's corpus through its LLVMFuzzerTestOneInput in any build (gcc, valgrind,
 * ASan), so the corpus is a regression test everywhere. Arguments are files or
 * directories (not recursive). Exits non-zero when nothing could be read.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
	struct stat st;
	uint8_t *buf;
	size_t have = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0) {
		perror(path);
		if (fd >= 0)
			(void)close(fd);
		return -1;
	}
	buf = malloc((size_t)st.st_size + 1);
	while (buf != NULL && have < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + have, (size_t)st.st_size - have);
		if (n <= 0)
			break;
		have += (size_t)n;
	}
	(void)close(fd);
	if (buf == NULL || have != (size_t)st.st_size) {
		free(buf);
		fprintf(stderr, "%s: short read\n", path);
		return -1;
	}
	(void)LLVMFuzzerTestOneInput(buf, have);
	free(buf);
	return 0;
}

static int run_dir(const char *dir, size_t *count)
{
	struct dirent **names = NULL;
	int n = scandir(dir, &names, NULL, alphasort);
	int r = 0;

	if (n < 0) {
		perror(dir);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		char path[4096];
		if (names[i]->d_name[0] != '.' && snprintf(path, sizeof(path), "%s/%s", dir,
							   names[i]->d_name) < (int)sizeof(path)) {
			if (run_file(path) < 0)
				r = -1;
			else
				(*count)++;
		}
		free(names[i]);
	}
	free(names);
	return r;
}

int main(int argc, char **argv)
{
	size_t count = 0;
	int r = 0;

	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			if (run_dir(argv[i], &count) < 0)
				r = 1;
		} else if (run_file(argv[i]) < 0) {
			r = 1;
		} else {
			count++;
		}
	}
	printf("replayed %zu inputs\n", count);
	return r != 0 || count == 0;
}
