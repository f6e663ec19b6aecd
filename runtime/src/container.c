/* The public lifecycle API: ids, spec, state file, status machine, hooks, and the handles
 * every engine has (the init's pidfd, the cgroup and its OOM fd); the engine (engine.h)
 * makes the processes and the cgroup. */
#include "husk/container.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/wait.h>

#include "cgroup.h"
#include "engine.h"
#include "hooks.h"
#include "husk/cleanup.h"
#include "husk/err.h"
#include "husk/log.h"
#include "husk/spec.h"
#include "husk/state.h"
#include "spec_json.h"

static int64_t now_ns(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct husk_state *st(const struct husk_container *c)
{
	return husk_state_handle_state(c->state);
}

static const struct husk_engine_ops *engine_find(const char *name, struct husk_err *err)
{
	if (!name || strcmp(name, "native") == 0)
		return &husk__native_engine;
	if (strcmp(name, "oci") == 0)
		return &husk__oci_engine;
	(void)husk_err_set(err, HUSK_ERR_UNIMPLEMENTED, 0, "engine '%s' is not available", name);
	return NULL;
}

int husk_runtime_open(const struct husk_runtime_config *cfg, struct husk_runtime **ret,
		      struct husk_err *err)
{
	if (!cfg || !cfg->root || !*cfg->root)
		return husk_err_set(err, HUSK_ERR_INVALID, 0, "runtime root is required");
	if (!engine_find(cfg->engine, err))
		return husk_err_code(err);
	struct husk_runtime *rt = calloc(1, sizeof(*rt));
	if (!rt)
		return husk_err_errno(err, ENOMEM, "runtime");
	rt->systemd_cgroup = cfg->systemd_cgroup;
	rt->no_new_keyring = cfg->no_new_keyring;
	rt->no_pivot_root = cfg->no_pivot_root;
	rt->engine = strdup(cfg->engine ? cfg->engine : "native");
	rt->oci_binary = cfg->oci_binary ? strdup(cfg->oci_binary) : NULL;
	rt->oci_root = cfg->oci_root ? strdup(cfg->oci_root) : NULL;
	if (!rt->engine || (cfg->oci_binary && !rt->oci_binary) ||
	    (cfg->oci_root && !rt->oci_root) ||
	    husk__strv_dup(cfg->oci_args, &rt->oci_args, &rt->n_oci_args) < 0) {
		husk_runtime_free(rt);
		return husk_err_errno(err, ENOMEM, "runtime");
	}
	int r = husk_state_root_open(cfg->root, &rt->root, err);
	if (r < 0) {
		husk_runtime_free(rt);
		return r;
	}
	*ret = rt;
	return 0;
}

struct husk_runtime *husk_runtime_free(struct husk_runtime *rt)
{
	if (!rt)
		return NULL;
	husk_state_root_free(rt->root);
	free(rt->engine);
	free(rt->oci_binary);
	free(rt->oci_root);
	husk__strv_free(rt->oci_args, rt->n_oci_args);
	free(rt);
	return NULL;
}

static struct husk_container *container_new(struct husk_runtime *rt)
{
	struct husk_container *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->rt = rt;
	c->init = HUSK_CHILD_NULL;
	c->console = -1;
	return c;
}

struct husk_container *husk_container_free(struct husk_container *c)
{
	if (!c)
		return NULL;
	if (c->ops && c->ops->free)
		c->ops->free(c);
	c->cgroup = husk__cgroup_free(c->cgroup);
	husk_child_release(&c->init);
	c->console = husk_safe_close(c->console);
	husk_spec_free(c->spec);
	husk_state_handle_free(c->state);
	free(c);
	return NULL;
}

bool husk_container_state_exists(const struct husk_container *c)
{
	return husk_state_exists(c->state);
}

int husk__container_save(struct husk_container *c, struct husk_err *err)
{
	return husk_state_save(c->state, err);
}

/*
 * A transition — read, check, act, write — runs under the container's lock on the state it
 * re-read, so another process's change (`husk pause`, containerd's delete action) is seen
 * and never undone by a write from a stale copy. end() releases the lock.
 */
static int begin(struct husk_container *c, struct husk_err *err)
{
	int r = husk_state_lock(c->state, err);

	if (r < 0)
		return r;
	r = husk_state_reload(c->state, err);
	if (r < 0)
		husk_state_unlock(c->state);
	return r;
}

static int end(struct husk_container *c, int r)
{
	husk_state_unlock(c->state);
	return r;
}

int husk_container_refresh(struct husk_container *c, struct husk_err *err)
{
	return husk_state_reload(c->state, err);
}

int husk_container_reload(struct husk_container *c, struct husk_err *err)
{
	int r = husk_state_reload(c->state, err);

	if (r < 0)
		return r;
	struct husk_state *s = st(c);
	if (s->init_pid != c->init.pid) {
		husk_child_release(&c->init);
		c->init = HUSK_CHILD_NULL;
		if (s->init_pid > 0 && !s->exited && s->status != HUSK_STATUS_STOPPED) {
			int fd = husk_pidfd_open_checked(s->init_pid, s->init_start_time, NULL);
			/* Gone already: the reaper that reaped it records the exit. */
			c->init = (struct husk_child){s->init_pid, fd, s->init_start_time};
		}
	}
	if (c->ops->reloaded)
		c->ops->reloaded(c);
	return 0;
}

bool husk_container_locked_elsewhere(const struct husk_container *c)
{
	return husk_state_lock_probe(c->rt->root, &st(c)->id) == 1;
}

static void hook_state(const struct husk_container *c, const char *status,
		       struct husk_hook_state *ret)
{
	*ret = (struct husk_hook_state){
		.oci_version = c->spec ? c->spec->oci_version : NULL,
		.id = st(c)->id.container,
		.status = status,
		.pid = st(c)->init_pid,
		.bundle = st(c)->bundle,
		.spec = c->spec,
	};
}

static int run_hooks(struct husk_container *c, enum husk_hook_kind kind, const char *status,
		     struct husk_err *err)
{
	struct husk_hook_state hs;

	/* runc and runsc run every hook of config.json: running them here too would double. */
	if (c->ops && c->ops->runs_hooks)
		return 0;
	hook_state(c, status, &hs);
	return husk__hooks_run(c->spec, kind, &hs, err);
}

static int create_state(struct husk_container *c, const struct husk_create_opts *opts,
			struct husk_err *err)
{
	struct husk_state s = {
		.bundle = (char *)opts->bundle,
		.status = HUSK_STATUS_CREATING,
		.created_ns = now_ns(),
		.owner = geteuid(),
		.engine = c->rt->engine,
	};
	char sandbox[HUSK_ID_MAX + 1];
	int r = husk_sandbox_id_from_spec(c->spec, opts->id, sandbox, err);

	if (r < 0)
		return r;
	r = husk_full_id_set(&s.id, sandbox, opts->id, err);
	if (r < 0)
		return r;
	return husk_state_create(c->rt->root, &s, &c->state, err);
}

int husk_container_create(struct husk_runtime *rt, const struct husk_create_opts *opts,
			  struct husk_container **ret, struct husk_err *err)
{
	int r = husk_id_check(opts->id, "container", err);

	if (r < 0)
		return r;
	if (!opts->bundle || opts->bundle[0] != '/')
		return husk_err_set(err, HUSK_ERR_INVALID, 0, "bundle must be an absolute path");
	husk_debug("create %s in '%s'", opts->id, opts->bundle);
	struct husk_container *c = container_new(rt);
	if (!c)
		return husk_err_errno(err, ENOMEM, "create");
	c->ops = engine_find(rt->engine, err);
	if (!c->ops) {
		husk_container_free(c);
		return husk_err_code(err);
	}
	r = husk_spec_load(opts->bundle, &c->spec, err);
	if (r >= 0)
		r = create_state(c, opts, err);
	if (r < 0) {
		husk_container_free(c);
		return r;
	}
	r = c->ops->create(c, opts, err);
	if (r >= 0) {
		r = husk_status_transition(&st(c)->status, HUSK_STATUS_CREATED, err);
		if (r >= 0)
			r = husk__container_save(c, err);
		if (r < 0)
			(void)c->ops->destroy(c, NULL);
	}
	if (r < 0) {
		(void)husk_state_destroy(c->state, NULL);
		husk_container_free(c);
		return husk_err_prefix(err, "create %s", opts->id);
	}
	/* Held only while writing from now on: see husk_state_unlock(). */
	husk_state_unlock(c->state);
	*ret = c;
	return 0;
}

/*
 * The handles every engine has, from the state: a pidfd on the init while it runs (its start
 * time checked, so a recycled pid is never ours) and the cgroup. Either stays unset when it
 * is gone; delete still removes what the state names.
 */
static void handles_open(struct husk_container *c)
{
	struct husk_state *s = st(c);
	struct husk_cgroup_host *host = NULL;

	if (s->init_pid > 0 && !s->exited && s->status != HUSK_STATUS_STOPPED) {
		int fd = husk_pidfd_open_checked(s->init_pid, s->init_start_time, NULL);
		if (fd >= 0)
			c->init = (struct husk_child){s->init_pid, fd, s->init_start_time};
	}
	/* A file of an earlier boot: its cgroup path may name someone else's cgroup now. */
	if (s->cgroup_path && !s->stale && husk__cgroup_host_get(&host, NULL) >= 0 &&
	    husk__cgroup_open(host, s->cgroup_path, &c->cgroup, NULL) < 0)
		c->cgroup = NULL;
}

int husk_container_load(struct husk_runtime *rt, const char *id_or_prefix,
			struct husk_container **ret, struct husk_err *err)
{
	struct husk_container *c = container_new(rt);

	if (!c)
		return husk_err_errno(err, ENOMEM, "load");
	int r = husk_state_find(rt->root, id_or_prefix, /* lock= */ true, &c->state, err);
	if (r < 0) {
		husk_container_free(c);
		return r;
	}
	c->ops = engine_find(st(c)->engine, err);
	if (!c->ops) {
		husk_container_free(c);
		return husk_err_code(err);
	}
	/* Only for hooks and exec: a container whose bundle is gone can still be deleted. */
	if (husk_spec_load(st(c)->bundle, &c->spec, NULL) < 0)
		c->spec = NULL;
	handles_open(c);
	r = c->ops->load ? c->ops->load(c, err) : 0;
	if (r < 0) {
		husk_container_free(c);
		return r;
	}
	husk_state_unlock(c->state);
	*ret = c;
	return 0;
}

void husk_container_handoff(struct husk_container *c, int ret_fds[HUSK_CONTAINER_HANDOFF_FDS])
{
	for (size_t i = 0; i < HUSK_CONTAINER_HANDOFF_FDS; i++)
		ret_fds[i] = -1;
	ret_fds[0] = TAKE_FD(c->console);
	if (c->ops->handoff)
		c->ops->handoff(c, ret_fds + 1);
}

static void fds_close(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fds[i] = husk_safe_close(fds[i]);
}

int husk_container_adopt(struct husk_runtime *rt, const char *id,
			 int fds[HUSK_CONTAINER_HANDOFF_FDS], struct husk_container **ret,
			 struct husk_err *err)
{
	struct husk_container *c = NULL;
	int r = husk_id_check(id, "container", err);

	r = r < 0 ? r : husk_container_load(rt, id, &c, err);
	if (r < 0) {
		fds_close(fds, HUSK_CONTAINER_HANDOFF_FDS);
		return r;
	}
	c->console = TAKE_FD(fds[0]);
	if (c->ops->adopt)
		c->ops->adopt(c, fds + 1);
	fds_close(fds, HUSK_CONTAINER_HANDOFF_FDS);
	*ret = c;
	return 0;
}

const struct husk_full_id *husk_container_full_id(const struct husk_container *c)
{
	return &st(c)->id;
}

const char *husk_container_bundle(const struct husk_container *c)
{
	return st(c)->bundle;
}

enum husk_status husk_container_status(const struct husk_container *c)
{
	return st(c)->status;
}

const struct husk_child *husk_container_init(const struct husk_container *c)
{
	return &c->init;
}

int husk_container_take_console(struct husk_container *c)
{
	return TAKE_FD(c->console);
}

static int start_locked(struct husk_container *c, struct husk_err *err)
{
	int r = husk_require_status(st(c)->status, "start", HUSK_STATUS_BIT(HUSK_STATUS_CREATED),
				    err);

	if (r < 0)
		return r;
	husk_debug("start %s", st(c)->id.container);
	/* startContainer hooks run in the container's namespaces (OCI): the engine's job. */
	r = c->ops->start(c, err);
	if (r < 0) {
		/* The init is gone (it exits after a failed exec); the reaper records how. */
		if (husk_status_transition(&st(c)->status, HUSK_STATUS_STOPPED, NULL) >= 0)
			(void)husk__container_save(c, NULL);
		return r;
	}
	r = husk_status_transition(&st(c)->status, HUSK_STATUS_RUNNING, err);
	return r < 0 ? r : husk__container_save(c, err);
}

int husk_container_start(struct husk_container *c, struct husk_err *err)
{
	int r = begin(c, err);

	r = r < 0 ? r : end(c, start_locked(c, err));
	if (r < 0)
		return r;
	/* OCI: a failing poststart hook is logged; the container keeps running. */
	struct husk_err herr = {0};
	if (run_hooks(c, HUSK_HOOK_POSTSTART, "running", &herr) < 0)
		husk_warn("%s, continuing", herr.msg);
	return 0;
}

static bool stopped(const struct husk_container *c)
{
	return st(c)->status == HUSK_STATUS_STOPPED;
}

static int kill_locked(struct husk_container *c, int sig, bool all, struct husk_err *err)
{
	if (stopped(c)) {
		/* containerd's stopped state answers NotFound, with or without all (runc's
		 * "container not running" through checkKillError); what a shared pid namespace
		 * kept alive in the cgroup still gets the signal. */
		if (all)
			(void)c->ops->kill(c, sig, true, NULL);
		return husk_err_set(err, HUSK_ERR_NOT_FOUND, 0, "process already finished");
	}
	return c->ops->kill(c, sig, all, err);
}

int husk_container_kill(struct husk_container *c, int sig, bool all, struct husk_err *err)
{
	husk_debug("kill %s signal %d all %d", st(c)->id.container, sig, all);
	if (sig <= 0 || sig >= _NSIG)
		return husk_err_set(err, HUSK_ERR_INVALID, 0, "invalid signal %d", sig);
	int r = begin(c, err);
	return r < 0 ? r : end(c, kill_locked(c, sig, all, err));
}

static int freeze_locked(struct husk_container *c, bool frozen, struct husk_err *err)
{
	enum husk_status from = frozen ? HUSK_STATUS_RUNNING : HUSK_STATUS_PAUSED;
	int r = husk_require_status(st(c)->status, frozen ? "pause" : "resume",
				    HUSK_STATUS_BIT(from), err);

	if (r < 0)
		return r;
	r = c->ops->freeze(c, frozen, err);
	if (r < 0)
		return r;
	r = husk_status_transition(&st(c)->status,
				   frozen ? HUSK_STATUS_PAUSED : HUSK_STATUS_RUNNING, err);
	return r < 0 ? r : husk__container_save(c, err);
}

static int freeze(struct husk_container *c, bool frozen, struct husk_err *err)
{
	int r = begin(c, err);
	return r < 0 ? r : end(c, freeze_locked(c, frozen, err));
}

int husk_container_pause(struct husk_container *c, struct husk_err *err)
{
	return freeze(c, true, err);
}

int husk_container_resume(struct husk_container *c, struct husk_err *err)
{
	return freeze(c, false, err);
}

int husk_container_update(struct husk_container *c, const struct husk_resources *res,
			  struct husk_err *err)
{
	int r = begin(c, err);

	if (r < 0)
		return r;
	if (stopped(c))
		return end(c, husk_err_set(err, HUSK_ERR_PRECONDITION, 0,
					   "cannot update container in 'stopped' state"));
	return end(c, c->ops->update(c, res, err));
}

int husk_container_pids(struct husk_container *c, pid_t **ret_pids, size_t *ret_n,
			struct husk_err *err)
{
	return c->ops->pids(c, ret_pids, ret_n, err);
}

int husk_container_stats(struct husk_container *c, struct husk_cgroup_stats *ret,
			 struct husk_err *err)
{
	return c->ops->stats(c, ret, err);
}

int husk_container_exec(struct husk_container *c, const struct husk_exec_opts *opts,
			struct husk_child *ret_child, int *ret_console, struct husk_err *err)
{
	if (!opts->process)
		return husk_err_set(err, HUSK_ERR_INVALID, 0, "exec: no process");
	if (opts->exec_id && husk_id_check(opts->exec_id, "exec", err) < 0)
		return husk_err_code(err);
	int r = begin(c, err);
	if (r < 0)
		return r;
	/* An exec into a frozen cgroup would hang until its report times out. */
	if (st(c)->status == HUSK_STATUS_PAUSED)
		return end(c, husk_err_set(err, HUSK_ERR_PRECONDITION, 0,
					   "cannot exec in a paused state"));
	r = husk_require_status(
		st(c)->status, "exec in",
		HUSK_STATUS_BIT(HUSK_STATUS_CREATED) | HUSK_STATUS_BIT(HUSK_STATUS_RUNNING), err);
	if (r < 0)
		return end(c, r);
	husk_debug("exec %s in %s", opts->exec_id ? opts->exec_id : "", st(c)->id.container);
	return end(c, c->ops->exec(c, opts, ret_child, ret_console, err));
}

int husk_container_exec_prepare(struct husk_container *c, struct husk_err *err)
{
	return c->ops->exec_prepare ? c->ops->exec_prepare(c, err) : 0;
}

int husk_container_oom_fd(const struct husk_container *c)
{
	if (!c->cgroup)
		return -1;
	int fd = husk__cgroup_oom_fd(c->cgroup, NULL);
	return fd < 0 ? -1 : fd;
}

int husk_container_oom_check(struct husk_container *c, bool *ret_oom, struct husk_err *err)
{
	if (!c->cgroup) {
		*ret_oom = false;
		return 0;
	}
	return husk__cgroup_oom_check(c->cgroup, ret_oom, err);
}

bool husk__container_init_exited(const struct husk_container *c)
{
	struct pollfd p = {.fd = c->init.pidfd, .events = POLLIN};

	if (c->init.pidfd < 0)
		return !husk_proc_alive(st(c)->init_pid, st(c)->init_start_time);
	return poll(&p, 1, 0) > 0;
}

void husk__container_wait_init(const struct husk_container *c, int timeout_ms)
{
	struct pollfd p = {.fd = c->init.pidfd, .events = POLLIN};
	int64_t deadline = mono_ms() + timeout_ms;

	if (c->init.pidfd < 0)
		return;
	for (;;) {
		int64_t left = deadline - mono_ms();
		if (poll(&p, 1, left > 0 ? (int)left : 0) >= 0 || errno != EINTR)
			return;
	}
}

int husk__container_cgroup_kill(struct husk_container *c, int timeout_ms, struct husk_err *err)
{
	bool frozen = false;

	if (!c->cgroup)
		return 0;
	/* A frozen v1 task dies of SIGKILL only once thawed. */
	if (husk__cgroup_is_frozen(c->cgroup, &frozen, NULL) >= 0 && frozen)
		(void)husk__cgroup_freeze(c->cgroup, false, timeout_ms, NULL);
	return husk__cgroup_kill_all(c->cgroup, SIGKILL, timeout_ms, err);
}

int husk__container_cgroup_remove(struct husk_container *c, int timeout_ms, struct husk_err *err)
{
	if (!c->cgroup)
		return 0;
	int r = husk__cgroup_destroy(c->cgroup, timeout_ms, err);
	if (r < 0)
		return r;
	c->cgroup = husk__cgroup_free(c->cgroup);
	return 0;
}

static int record_exit(struct husk_state *s, int wait_status, int64_t exited_ns,
		       struct husk_err *err)
{
	s->exited = true;
	s->exit_status =
		WIFSIGNALED(wait_status) ? 128 + WTERMSIG(wait_status) : WEXITSTATUS(wait_status);
	s->exited_ns = exited_ns ? exited_ns : now_ns();
	if (s->status == HUSK_STATUS_STOPPED)
		return 0;
	return husk_status_transition(&s->status, HUSK_STATUS_STOPPED, err);
}

int husk_container_set_exited(struct husk_container *c, int wait_status, int64_t exited_ns,
			      struct husk_err *err)
{
	husk_child_release(&c->init);
	int r = begin(c, err);
	if (r < 0) {
		/* Not persisted (the file is gone or unreadable), but the caller still learns
		 * the exit through husk_container_exit(). */
		(void)record_exit(st(c), wait_status, exited_ns, NULL);
		return r;
	}
	r = record_exit(st(c), wait_status, exited_ns, err);
	return end(c, r < 0 ? r : husk__container_save(c, err));
}

bool husk_container_exit(const struct husk_container *c, int *ret_status, int64_t *ret_ns)
{
	const struct husk_state *s = st(c);

	if (!s->exited)
		return false;
	if (ret_status)
		*ret_status = s->exit_status;
	if (ret_ns)
		*ret_ns = s->exited_ns;
	return true;
}

static int delete_locked(struct husk_container *c, bool force, struct husk_err *err)
{
	struct husk_state *s = st(c);
	bool alive =
		s->init_pid > 0 && husk_proc_alive(s->init_pid, s->init_start_time) && !s->exited;

	husk_debug("delete %s force %d", s->id.container, force);
	if (alive && !force &&
	    (s->status == HUSK_STATUS_RUNNING || s->status == HUSK_STATUS_PAUSED))
		return husk_err_set(err, HUSK_ERR_PRECONDITION, 0,
				    "cannot delete container in '%s' state without force",
				    husk_status_to_string(s->status));
	int r = c->ops->destroy(c, err);
	if (r < 0)
		return husk_err_prefix(err, "delete %s", s->id.container);
	if (s->status != HUSK_STATUS_STOPPED)
		(void)husk_status_transition(&s->status, HUSK_STATUS_STOPPED, NULL);
	/* OCI: poststop failures are logged and the delete goes on. */
	struct husk_err herr = {0};
	if (run_hooks(c, HUSK_HOOK_POSTSTOP, "stopped", &herr) < 0)
		husk_warn("%s, continuing", herr.msg);
	return husk_state_destroy(c->state, err);
}

int husk_container_delete(struct husk_container *c, bool force, struct husk_err *err)
{
	int r = begin(c, err);

	/* Deleted meanwhile by another process: nothing of ours is left to remove. */
	if (r == -ENOENT)
		return 0;
	return r < 0 ? r : end(c, delete_locked(c, force, err));
}
