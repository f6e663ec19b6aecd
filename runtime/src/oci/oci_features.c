/*
 * `<binary> features`, as containerd-shim-runc-v2's -info runs it for its RuntimeInfo: the
 * binary's document, or none when it has no such command (runsc, youki).
 */
#include "oci/oci_features.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/wait.h>

#include <jansson.h>

#include "husk/cleanup.h"
#include "husk/err.h"
#include "husk/features.h"
#include "husk/process.h"
#include "husk/spawn.h"
#include "spawn_internal.h"
#include "spec_json.h"

/* runc's document is about 3 KiB; anything near this is not one. */
#define FEATURES_MAX (1u << 20)

/* Run path with argv, stdout into a malloc'ed buffer (bounded), stdin and stderr null. */
static int capture(const char *path, char *const argv[], char **ret, size_t *ret_len,
		   int *ret_status, struct husk_err *err)
{
	int p[2];
	struct husk_child ch = HUSK_CHILD_NULL;

	if (pipe2(p, O_CLOEXEC) < 0)
		return husk_err_errno(err, errno, "pipe");
	struct husk_spawn_fd fds[] = {{-1, 0, false}, {p[1], 1, false}, {-1, 2, false}};
	struct husk_spawn_opts o = {.fds = fds, .n_fds = ARRAY_SIZE(fds)};
	struct husk_spawn_exec x = {.path = path, .argv = argv};
	int r = husk_spawn_exec(&o, &x, &ch, err);
	(void)close(p[1]);
	if (r < 0) {
		(void)close(p[0]);
		return husk_err_prefix(err, "run '%s features'", path);
	}
	_cleanup_free_ char *buf = malloc(FEATURES_MAX + 1);
	size_t len = 0;
	while (buf && len < FEATURES_MAX) {
		ssize_t n = read(p[0], buf + len, FEATURES_MAX - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	(void)close(p[0]);
	int status = husk__wait_pid(ch.pid);
	ch.pid = 0;
	husk_child_release(&ch);
	if (status < 0)
		return husk_err_errno(err, -status, "wait for '%s features'", path);
	if (!buf)
		return husk_err_errno(err, ENOMEM, "features of '%s'", path);
	buf[len] = '\0';
	*ret = TAKE_PTR(buf);
	*ret_len = len;
	*ret_status = status;
	return 0;
}

int husk_oci_features_json(const char *binary, char **ret, size_t *ret_len, struct husk_err *err)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_free_ char *out = NULL;
	size_t len = 0;
	int status = 0;
	int r = husk__oci_binary_resolve(binary, &path, err);

	if (r < 0)
		return r;
	char *argv[] = {path, (char *)"features", NULL};
	if ((r = capture(path, argv, &out, &len, &status, err)) < 0)
		return r;
	_cleanup_json_ json_t *doc = WIFEXITED(status) && WEXITSTATUS(status) == 0
					     ? json_loadb(out, len, 0, NULL)
					     : NULL;
	if (!json_is_object(doc))
		return husk_err_set(err, HUSK_ERR_UNIMPLEMENTED, 0,
				    "'%s features' gives no features document", binary);
	char *s = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (!s)
		return husk_err_errno(err, ENOMEM, "features of '%s'", binary);
	*ret = s;
	if (ret_len)
		*ret_len = strlen(s);
	return 0;
}
