/*
 * `delete`: containerd runs it after every disconnect of a shim, and at start-up for
 * bundles whose shim is gone. It works from the state file alone, for this one container
 * (never another of the pod): kill what is left, remove its cgroup and state, and print a
 * containerd.task.v2.DeleteResponse. Nothing there is not an error: it stays idempotent.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "address.h"
#include "convert.h"
#include "husk/cleanup.h"
#include "husk/container.h"
#include "husk/err.h"
#include "husk/id.h"
#include "shim.h"
#include "shim_main.h"

struct delete_result {
	uint32_t pid;
	uint32_t exit_status;
	int64_t exited_ns;
};

static int open_runtime(const struct shim_flags *f, struct husk_runtime **ret, struct husk_err *err)
{
	const char *base = getenv("HUSK_ROOT");
	char root[PATH_MAX];

	if (!base || !*base)
		base = SHIM_RUNTIME_ROOT;
	if (snprintf(root, sizeof(root), "%s/%s", base, f->namespace_) >= (int)sizeof(root))
		return husk_err_set(err, HUSK_ERR_INVALID, ENAMETOOLONG, "runtime root");
	struct husk_runtime_config cfg = {.root = root};
	return husk_runtime_open(&cfg, ret, err);
}

/* Kill and remove the container; res keeps runc's defaults (137, now) unless recorded. */
static int cleanup(const struct shim_flags *f, const char *bundle, struct delete_result *res,
		   struct husk_err *err)
{
	struct husk_runtime *rt = NULL;
	struct husk_container *c = NULL;
	int status = 0;
	int64_t ns = 0;
	int r = open_runtime(f, &rt, err);

	if (r < 0)
		return r;
	r = husk_container_load(rt, f->id, &c, err);
	if (r < 0 && err->kind == HUSK_ERR_INVALID) {
		/* A state file that cannot be read: the bundle still tells where its processes
		 * and cgroup are. */
		struct husk_err e2 = {0};
		r = husk_container_remove_unreadable(rt, f->id, bundle, &e2);
		if (r < 0 && e2.kind != HUSK_ERR_NOT_FOUND)
			*err = e2;
		husk_runtime_free(rt);
		return r < 0 && e2.kind != HUSK_ERR_NOT_FOUND ? r : 0;
	}
	if (r < 0) {
		husk_runtime_free(rt);
		/* Already gone: nothing to do, and that is a success. */
		return err->kind == HUSK_ERR_NOT_FOUND ? 0 : r;
	}
	/* A prefix match would be another container: only the exact id is ours. */
	if (strcmp(husk_container_full_id(c)->container, f->id) != 0) {
		husk_container_free(c);
		husk_runtime_free(rt);
		return 0;
	}
	res->pid = (uint32_t)husk_container_init(c)->pid;
	if (husk_container_exit(c, &status, &ns)) {
		res->exit_status = (uint32_t)status;
		res->exited_ns = ns;
	}
	r = husk_container_delete(c, /* force= */ true, err);
	husk_container_free(c);
	husk_runtime_free(rt);
	return r;
}

/* A socket left behind by a shim that died (SIGKILL) serves nobody: remove it. */
static void remove_stale_socket(const char *bundle)
{
	char address[SHIM_ADDRESS_MAX];
	_cleanup_close_ int dfd = open(bundle, O_DIRECTORY | O_RDONLY | O_CLOEXEC);

	if (dfd < 0 || shim_address_file_read(dfd, address, sizeof(address), NULL) < 0)
		return;
	const char *path = shim_address_path(address);
	if (path && !shim_socket_alive(path, 100))
		(void)unlink(path);
}

int shim_delete_main(const struct shim_flags *f)
{
	struct delete_result res = {.exit_status = 128 + SIGKILL, .exited_ns = shim_now_ns()};
	struct husk_err err = {0};
	_cleanup_free_ uint8_t *out = NULL;
	size_t len = 0;
	char cwd[PATH_MAX];
	const char *bundle = f->bundle;

	if (!bundle || !*bundle)
		bundle = getcwd(cwd, sizeof(cwd)) ? cwd : ".";
	if (!f->namespace_ || !*f->namespace_ || !f->id || !husk_id_valid(f->id)) {
		(void)fprintf(stderr, "delete: -namespace and a valid -id are required\n");
		return 1;
	}
	/* Cleanup problems are warnings for containerd (stderr); the answer stays valid. */
	if (cleanup(f, bundle, &res, &err) < 0)
		(void)fprintf(stderr, "delete %s: %s\n", f->id, err.msg);
	remove_stale_socket(bundle);
	if (shim_delete_response_pack(res.pid, res.exit_status, res.exited_ns, &out, &len, &err) <
		    0 ||
	    shim_write_all(STDOUT_FILENO, out, len) < 0) {
		(void)fprintf(stderr, "delete %s: cannot write the response\n", f->id);
		return 1;
	}
	return 0;
}
