/*
 * A container whose state file cannot be read (truncated by a full disk, corrupt) still has
 * processes and a cgroup. With no state to say where they are, its bundle does: the spec's
 * cgroupsPath names the cgroup that create made, and every process of the container is in
 * it. containerd runs the shim's delete action in that bundle after the shim dies.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup.h"
#include "engine.h"
#include "husk/cleanup.h"
#include "husk/container.h"
#include "husk/err.h"
#include "husk/id.h"
#include "husk/log.h"
#include "husk/spec.h"
#include "husk/state.h"

/* How long the SIGKILLed processes and the cgroup removal may take. */
#define RESCUE_TIMEOUT_MS 10000

/* The full id of the one unreadable state file of container id; -ENOENT when none. */
static int find_unreadable(struct husk_state_root *root, const char *id, struct husk_full_id *ret,
			   struct husk_err *err)
{
	struct husk_state_list l = {0};
	int found = 0;

	if (husk_state_list(root, NULL, &l, err) < 0)
		return husk_err_code(err);
	for (size_t i = 0; i < l.n_problems; i++) {
		struct husk_full_id x;
		if (husk_full_id_parse_filename(l.problems[i].file, ".state", &x, NULL) == 0 &&
		    strcmp(x.container, id) == 0) {
			*ret = x;
			found++;
		}
	}
	husk_state_list_done(&l);
	if (found != 1)
		return husk_err_set(err, HUSK_ERR_NOT_FOUND, ENOENT,
				    "no unreadable state file of container '%s'", id);
	return 0;
}

/* Kill everything in the cgroup the spec names and remove it (nested ones too). */
static int remove_cgroup(const struct husk_runtime *rt, const struct husk_spec *spec,
			 const char *id, struct husk_err *err)
{
	struct husk_cgroup_host *host = NULL;
	struct husk_cgroup *cg = NULL;
	_cleanup_free_ char *own = NULL;
	_cleanup_free_ char *path = NULL;
	const struct husk_linux *lx = spec->linux_;
	int r = husk__cgroup_host_get(&host, err);

	r = r ?: husk__cgroup_own_path(husk__cgroup_host_mode(host), &own, err);
	r = r
		    ?: husk__cgroup_path_resolve(lx ? lx->cgroups_path : NULL, rt->systemd_cgroup,
						 id, own, &path, err);
	if (r < 0)
		return r;
	if (husk__cgroup_open(host, path, &cg, NULL) == 0) {
		r = husk__cgroup_kill_all(cg, SIGKILL, RESCUE_TIMEOUT_MS, err);
		husk__cgroup_free(cg);
		if (r < 0)
			return husk_err_prefix(err, "kill the processes of cgroup '%s'", path);
	}
	return husk__cgroup_destroy_path(host, path, RESCUE_TIMEOUT_MS, err);
}

int husk_container_remove_unreadable(struct husk_runtime *rt, const char *id, const char *bundle,
				     struct husk_err *err)
{
	struct husk_full_id fid;
	struct husk_spec *spec = NULL;
	char sandbox[HUSK_ID_MAX + 1];
	int r = find_unreadable(rt->root, id, &fid, err);

	if (r < 0)
		return r;
	r = husk_spec_load(bundle, &spec, err);
	r = r ?: husk_sandbox_id_from_spec(spec, id, sandbox, err);
	/* The bundle must be this container's: its pod is the one the file name records. */
	if (r == 0 && strcmp(sandbox, fid.sandbox) != 0)
		r = husk_err_set(err, HUSK_ERR_INVALID, 0,
				 "bundle '%s' is of sandbox '%s', the state file of sandbox '%s'",
				 bundle, sandbox, fid.sandbox);
	r = r ?: remove_cgroup(rt, spec, id, err);
	husk_spec_free(spec);
	if (r < 0)
		return husk_err_prefix(err, "remove container '%s' with an unreadable state file",
				       id);
	husk_warn("container '%s': state file unreadable, removed its cgroup and processes "
		  "found from bundle '%s', continuing",
		  id, bundle);
	return husk_state_remove_files(rt->root, &fid, err);
}
