/* containerd-shim-husk-v2: flags, then start, delete, -v, -info or the daemon. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "convert.h"
#include "flags.h"
#include "husk/cleanup.h"
#include "husk/err.h"
#include "shim_main.h"
#include "types/introspection.pb-c.h"

int shim_read_all(int fd, size_t max, uint8_t **ret, size_t *ret_len)
{
	size_t cap = 0, len = 0;
	_cleanup_free_ uint8_t *buf = NULL;

	for (;;) {
		if (len == cap) {
			if (cap >= max)
				return -EFBIG;
			size_t ncap = cap ? cap * 2 : 4096;
			uint8_t *n = realloc(buf, ncap);
			if (!n)
				return -ENOMEM;
			buf = n;
			cap = ncap;
		}
		ssize_t r = read(fd, buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			break;
		len += (size_t)r;
	}
	*ret = TAKE_PTR(buf);
	*ret_len = len;
	return 0;
}

int shim_write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t r = write(fd, p, len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

static int version_main(const char *argv0)
{
	printf("%s:\n  Version:  %s\n  Runtime:  %s\n\n", argv0, HUSK_VERSION, SHIM_RUNTIME_NAME);
	return 0;
}

int shim_info_main(const struct shim_flags *f)
{
	Containerd__Types__RuntimeInfo info = CONTAINERD__TYPES__RUNTIME_INFO__INIT;
	Containerd__Types__RuntimeVersion version = CONTAINERD__TYPES__RUNTIME_VERSION__INIT;
	_cleanup_free_ uint8_t *in = NULL;
	_cleanup_free_ uint8_t *out = NULL;
	size_t in_len = 0, out_len = 0;
	Google__Protobuf__Any *opts = NULL;

	(void)f;
	/* Optional runtime options on stdin, echoed back as containerd's runc shim does. */
	if (isatty(STDIN_FILENO) == 0 && shim_read_all(STDIN_FILENO, 1 << 20, &in, &in_len) == 0 &&
	    in_len > 0)
		opts = google__protobuf__any__unpack(NULL, in_len, in);
	info.name = (char *)SHIM_RUNTIME_NAME;
	version.version = (char *)HUSK_VERSION;
	info.version = &version;
	info.options = opts;
	int r = shim_pack(&info.base, &out, &out_len, NULL);
	if (opts)
		google__protobuf__any__free_unpacked(opts, NULL);
	if (r < 0 || shim_write_all(STDOUT_FILENO, out, out_len) < 0) {
		fprintf(stderr, "-info: cannot write RuntimeInfo\n");
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct shim_flags f;
	struct husk_err err = {0};

	if (shim_flags_parse(argc, argv, &f, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return 2;
	}
	if (f.version)
		return version_main(argv[0]);
	if (f.info)
		return shim_info_main(&f);
	if (!f.action)
		return shim_serve_main(&f);
	if (strcmp(f.action, "start") == 0)
		return shim_start_main(&f);
	if (strcmp(f.action, "delete") == 0)
		return shim_delete_main(&f);
	fprintf(stderr, "unknown action '%s'\n", f.action);
	return 2;
}
