/*
 * The native engine: gofer, init and exec children, the cgroup through cgroup.h.
 * The first container of a sandbox creates the namespaces its spec asks for; later ones
 * join those their spec names by path (linux.namespaces[].path), which is how CRI shares a
 * pod's namespaces; nothing else is kept per sandbox.
 */
#include "engine.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup.h"
#include "hooks.h"
#include "husk/cleanup.h"
#include "husk/err.h"
#include "husk/log.h"
#include "husk/spec.h"
#include "husk/state.h"
#include "native/lsm.h"
#include "native/native.h"
#include "syscalls.h"

#define CGROUP_TIMEOUT_MS 10000

struct native {
	int init_sock; /* until start, else -1 */
	void *seccomp; /* the container's filter, for exec */
	bool seccomp_built;
	int console; /* a dup of the pty master (its foreground group), -1 without a terminal */
};

static struct native *nat(const struct husk_container *c)
{
	return c->engine_data;
}

static struct husk_state *st(const struct husk_container *c)
{
	return husk_state_handle_state(c->state);
}

static int native_alloc(struct husk_container *c, struct husk_err *err)
{
	struct native *n = calloc(1, sizeof(*n));

	if (!n)
		return husk_err_errno(err, ENOMEM, "native engine");
	n->init_sock = -1;
	n->console = -1;
	c->engine_data = n;
	return 0;
}

static void native_free(struct husk_container *c)
{
	struct native *n = nat(c);

	if (!n)
		return;
	n->init_sock = husk_safe_close(n->init_sock);
	n->console = husk_safe_close(n->console);
	husk__seccomp_free(n->seccomp);
	free(n);
	c->engine_data = NULL;
}

#define DEV(t, maj, min)                                                  \
	{                                                                 \
		.allow = true, .type = (t), .major = {(maj) >= 0, (maj)}, \
		.minor = {(min) >= 0, (min)}, .access = "rwm"             \
	}

/*
 * runc's AllowedDevices (libcontainer/specconv): appended after the spec's rules, so a spec
 * that only says "deny all" (containerd's default) still has /dev/null and friends. The
 * mknod rules let the init create the device nodes; -1 is a wildcard.
 */
static const struct husk_device_rule default_device_rules[] = {
	{.allow = true, .type = 'c', .access = "m"},
	{.allow = true, .type = 'b', .access = "m"},
	DEV('c', 1, 3),	   /* /dev/null */
	DEV('c', 1, 5),	   /* /dev/zero */
	DEV('c', 1, 7),	   /* /dev/full */
	DEV('c', 1, 8),	   /* /dev/random */
	DEV('c', 1, 9),	   /* /dev/urandom */
	DEV('c', 5, 0),	   /* /dev/tty */
	DEV('c', 5, 1),	   /* /dev/console */
	DEV('c', 5, 2),	   /* /dev/ptmx */
	DEV('c', 136, -1), /* /dev/pts/N */
};

/*
 * Apply res with the default device rules after its own; a copy of res points at the joint
 * list. Without device rules in res the device controller is left alone, as runc does for
 * an update.
 */
static int apply_resources(struct husk_cgroup *cg, const struct husk_resources *res,
			   struct husk_err *err)
{
	if (res->n_devices == 0)
		return husk__cgroup_apply(cg, res, err);
	size_t n = res->n_devices + ARRAY_SIZE(default_device_rules);
	_cleanup_free_ struct husk_device_rule *rules = calloc(n, sizeof(*rules));
	if (!rules)
		return husk_err_errno(err, ENOMEM, "device rules");
	memcpy(rules, res->devices, res->n_devices * sizeof(*rules));
	memcpy(rules + res->n_devices, default_device_rules, sizeof(default_device_rules));
	struct husk_resources joint = *res;
	joint.devices = rules;
	joint.n_devices = n;
	return husk__cgroup_apply(cg, &joint, err);
}

static int cgroup_setup(struct husk_container *c, struct husk_err *err)
{
	struct husk_cgroup_host *host = NULL;
	_cleanup_free_ char *own = NULL;
	_cleanup_free_ char *path = NULL;
	const struct husk_linux *lx = c->spec->linux_;
	int r = husk__cgroup_host_get(&host, err);

	if (r < 0)
		return r;
	r = husk__cgroup_own_path(husk__cgroup_host_mode(host), &own, err);
	if (r < 0)
		return r;
	r = husk__cgroup_path_resolve(lx ? lx->cgroups_path : NULL, c->rt->systemd_cgroup,
				      st(c)->id.container, own, &path, err);
	if (r < 0)
		return r;
	r = husk__cgroup_create(host, path, &c->cgroup, err);
	if (r < 0)
		return r;
	st(c)->cgroup_path = TAKE_PTR(path);
	r = husk__container_save(c, err);
	if (r < 0)
		return r;
	if (lx && lx->resources)
		return apply_resources(c->cgroup, lx->resources, err);
	return 0;
}

static void cgroup_remove(struct husk_container *c)
{
	struct husk_err e = {0};

	if (husk__container_cgroup_remove(c, CGROUP_TIMEOUT_MS, &e) < 0)
		husk_warn("remove cgroup of %s: %s, continuing", st(c)->id.container, e.msg);
	c->cgroup = husk__cgroup_free(c->cgroup);
}

static int run_hooks(struct husk_container *c, enum husk_hook_kind kind, struct husk_err *err)
{
	struct husk_hook_state hs = {
		.oci_version = c->spec->oci_version,
		.id = st(c)->id.container,
		.status = "creating",
		.pid = st(c)->init_pid,
		.bundle = st(c)->bundle,
		.spec = c->spec,
	};
	return husk__hooks_run(c->spec, kind, &hs, err);
}

/* OCI: prestart (deprecated) and createRuntime run in the runtime's namespaces once the
 * container's exist; the init waits for them before its createContainer hooks. */
static int runtime_hooks(void *arg, struct husk_err *err)
{
	struct husk_container *c = arg;
	int r = run_hooks(c, HUSK_HOOK_PRESTART, err);

	return r < 0 ? r : run_hooks(c, HUSK_HOOK_CREATE_RUNTIME, err);
}

static void gofer_plan_donep(struct husk_gofer_plan *p)
{
	husk__gofer_plan_done(p);
}

/*
 * Gofer, init, hand-off, hooks: the container exists afterwards (status still Creating). The
 * gofer mounts the tree while the init is cloned (the clone of its namespaces is most of a
 * spawn), and the init waits for the tree.
 */
static int create_children(struct husk_container *c, const struct husk_create_opts *opts,
			   const struct husk_init_plan *ip, struct husk_err *err)
{
	_cleanup_(gofer_plan_donep) struct husk_gofer_plan gp = {0};
	_cleanup_close_ int tree = -1;
	_cleanup_close_ int sock = -1;
	_cleanup_close_ int gofer_sock = -1;
	_cleanup_close_ int console = -1;
	_cleanup_child_ struct husk_child gofer = HUSK_CHILD_NULL;
	_cleanup_child_ struct husk_child init = HUSK_CHILD_NULL;
	struct husk_cgroup_join join;
	char keyring[HUSK_ID_MAX + 8];
	(void)snprintf(keyring, sizeof(keyring), "_ses.%s", st(c)->id.container);
	struct husk_init_ctx ctx = {.plan = ip,
				    .seccomp = nat(c)->seccomp,
				    .io_uid = opts->io_uid,
				    .io_gid = opts->io_gid,
				    .stdio = {opts->stdio[0], opts->stdio[1], opts->stdio[2]},
				    .spec = c->spec,
				    .id = st(c)->id.container,
				    .bundle = opts->bundle,
				    .join = &join,
				    .keyring = c->rt->no_new_keyring ? NULL : keyring,
				    .no_pivot = c->rt->no_pivot_root};
	int r = husk__gofer_plan_build(c->spec, opts->bundle, opts->rootfs, opts->n_rootfs, &gp,
				       err);

	if (r < 0)
		return r;
	r = husk__gofer_start(&gp, &gofer, &gofer_sock, err);
	if (r < 0)
		return r;
	/* The init joins its cgroup itself, first thing (before its cgroup namespace, which is
	 * rooted there): no move by pid, which would wait for the kernel's global lock. */
	r = husk__cgroup_join_open(c->cgroup, &join, err);
	if (r < 0)
		return r;
	r = husk__init_spawn(&ctx, &init, &sock, err);
	husk__cgroup_join_done(&join);
	if (r < 0)
		return r;
	r = husk__gofer_finish(&gofer, gofer_sock, &tree, err);
	if (r < 0)
		return r;
	/* Recorded before any hook runs: a crash from here on leaves a findable init. */
	st(c)->init_pid = init.pid;
	st(c)->init_start_time = init.start_time;
	r = husk__container_save(c, err);
	if (r < 0)
		return r;
	struct husk_handoff h = {
		.tree = tree,
		.pid = init.pid,
		.terminal = ip->proc.terminal,
		.extra_ms = husk__hooks_timeout_ms(c->spec, HUSK_HOOK_CREATE_CONTAINER),
		.runtime_hooks = husk__init_runtime_hooks(c->spec) ? runtime_hooks : NULL,
		.arg = c,
	};
	r = husk__init_handoff(sock, &h, &console, err);
	if (r < 0)
		return r;
	c->init = init;
	init = HUSK_CHILD_NULL;
	nat(c)->init_sock = TAKE_FD(sock);
	/* Ours only to ask for the foreground group; the caller's copy carries the I/O. */
	if (console >= 0)
		nat(c)->console = fcntl(console, F_DUPFD_CLOEXEC, 3);
	c->console = TAKE_FD(console);
	return 0;
}

static int native_create(struct husk_container *c, const struct husk_create_opts *opts,
			 struct husk_err *err)
{
	struct husk_init_plan ip;
	int r = native_alloc(c, err);

	if (r < 0)
		return r;
	r = husk__init_plan_build(c->spec, &ip, err);
	if (r < 0)
		return r;
	/* Before the cgroup, the gofer or the init: a kernel without what the engine needs
	 * gets one line naming it, and nothing to clean up. */
	r = husk__kernel_check(ip.clone_flags, err);
	husk__lsm_detect("/sys", "/proc", &ip.proc.lsm);
	if (r >= 0)
		r = husk__lsm_check_process(&ip.proc.lsm, ip.proc.selinux_label, err);
	if (r >= 0)
		r = husk__seccomp_build(c->spec->linux_ ? c->spec->linux_->seccomp : NULL,
					&nat(c)->seccomp, err);
	if (r >= 0)
		r = cgroup_setup(c, err);
	if (r >= 0)
		r = create_children(c, opts, &ip, err);
	husk__init_plan_done(&ip);
	if (r < 0)
		cgroup_remove(c);
	return r;
}

static int native_start(struct husk_container *c, struct husk_err *err)
{
	if (nat(c)->init_sock < 0)
		return husk_err_set(err, HUSK_ERR_PRECONDITION, 0,
				    "cannot start: the init is not waiting on this handle");
	_cleanup_close_ int sock = TAKE_FD(nat(c)->init_sock);
	/* The init runs the startContainer hooks in the container (OCI), then execs. */
	return husk__init_release(sock, husk__hooks_timeout_ms(c->spec, HUSK_HOOK_START_CONTAINER),
				  err);
}

static int native_exec_prepare(struct husk_container *c, struct husk_err *err)
{
	if (nat(c)->seccomp || !c->spec || !c->spec->linux_ || !c->spec->linux_->seccomp)
		return 0;
	return husk__seccomp_build(c->spec->linux_->seccomp, &nat(c)->seccomp, err);
}

static int native_exec(struct husk_container *c, const struct husk_exec_opts *opts,
		       struct husk_child *ret_child, int *ret_console, struct husk_err *err)
{
	struct husk_proc_plan pp;

	/* First: without pidfd_open, the load found no init. */
	int k = husk__kernel_check(0, err);
	if (k < 0)
		return k;
	if (c->init.pidfd < 0)
		return husk_err_set(err, HUSK_ERR_PRECONDITION, 0, "the init is not running");
	int r = native_exec_prepare(c, err);
	if (r < 0)
		return r;
	r = husk__proc_plan_build(opts->process, &pp, err);
	if (r < 0)
		return r;
	husk__lsm_detect("/sys", "/proc", &pp.lsm);
	r = husk__lsm_check_process(&pp.lsm, pp.selinux_label, err);
	if (r < 0) {
		husk__proc_plan_done(&pp);
		return r;
	}
	char keyring[HUSK_ID_MAX + 8];
	(void)snprintf(keyring, sizeof(keyring), "_ses.%s", st(c)->id.container);
	struct husk_exec_ctx ctx = {.plan = &pp,
				    .seccomp = nat(c)->seccomp,
				    .init = &c->init,
				    .cgroup = c->cgroup,
				    .keyring = c->rt->no_new_keyring ? NULL : keyring,
				    .io_uid = opts->io_uid,
				    .io_gid = opts->io_gid,
				    .stdio = {opts->stdio[0], opts->stdio[1], opts->stdio[2]}};
	r = husk__exec_spawn(&ctx, ret_child, ret_console, err);
	husk__proc_plan_done(&pp);
	return r;
}

static int need_cgroup(const struct husk_container *c, struct husk_err *err)
{
	if (!c->cgroup)
		return husk_err_set(err, HUSK_ERR_NOT_FOUND, 0, "container %s has no cgroup",
				    st(c)->id.container);
	return 0;
}

static int native_kill(struct husk_container *c, int sig, bool all, struct husk_err *err)
{
	/* Without a cgroup (none was made, or it is gone) the init is all there is. */
	if (all && c->cgroup) {
		int r = husk__cgroup_kill_all(c->cgroup, sig, CGROUP_TIMEOUT_MS, err);
		return r < 0 ? r : 0;
	}
	if (all)
		return c->init.pidfd < 0 ? husk_err_set(err, HUSK_ERR_NOT_FOUND, 0,
							"process already finished")
					 : husk_pidfd_signal(c->init.pidfd, sig, err);
	if (c->init.pidfd < 0)
		return husk_err_set(err, HUSK_ERR_NOT_FOUND, 0, "process already finished");
	/* With a terminal the signal is for its foreground job (a shell's foreground command,
	 * not the shell), as gVisor's ForwardSignals(pid, fgProcess) does; when the init's own
	 * group is in the foreground, that is the init. */
	bool terminal = c->spec && c->spec->process && c->spec->process->terminal;
	pid_t fg = terminal ? husk__console_foreground(nat(c)->console, c->init.pid) : 0;
	if (fg > 0) {
		struct husk_err gerr = {0};
		int r = husk__signal_group(fg, sig, &gerr);
		/* A job that ended meanwhile: the init is in the foreground again. */
		if (r >= 0 || gerr.kind != HUSK_ERR_NOT_FOUND) {
			if (r < 0 && err)
				*err = gerr;
			return r;
		}
	}
	return husk_pidfd_signal(c->init.pidfd, sig, err);
}

static int native_freeze(struct husk_container *c, bool frozen, struct husk_err *err)
{
	int r = need_cgroup(c, err);

	return r < 0 ? r : husk__cgroup_freeze(c->cgroup, frozen, CGROUP_TIMEOUT_MS, err);
}

static int native_update(struct husk_container *c, const struct husk_resources *res,
			 struct husk_err *err)
{
	int r = need_cgroup(c, err);

	return r < 0 ? r : apply_resources(c->cgroup, res, err);
}

static int native_pids(struct husk_container *c, pid_t **ret_pids, size_t *ret_n,
		       struct husk_err *err)
{
	if (c->cgroup)
		return husk__cgroup_pids(c->cgroup, ret_pids, ret_n, err);
	/* No cgroup (none was made, or it is gone): the init alone, while it lives. */
	*ret_pids = NULL;
	*ret_n = 0;
	if (c->init.pidfd < 0 || !husk_proc_alive(c->init.pid, c->init.start_time))
		return 0;
	*ret_pids = malloc(sizeof(**ret_pids));
	if (!*ret_pids)
		return husk_err_errno(err, ENOMEM, "pids of %s", st(c)->id.container);
	(*ret_pids)[0] = c->init.pid;
	*ret_n = 1;
	return 0;
}

static int native_stats(struct husk_container *c, struct husk_cgroup_stats *ret,
			struct husk_err *err)
{
	int r = need_cgroup(c, err);

	return r < 0 ? r : husk__cgroup_stats(c->cgroup, ret, err);
}

static int native_destroy(struct husk_container *c, struct husk_err *err)
{
	struct husk_err e = {0};

	nat(c)->init_sock = husk_safe_close(nat(c)->init_sock);
	if (husk__container_cgroup_kill(c, CGROUP_TIMEOUT_MS, &e) < 0)
		husk_warn("kill %s: %s, continuing", st(c)->id.container, e.msg);
	if (c->init.pidfd >= 0) {
		(void)husk_pidfd_signal(c->init.pidfd, SIGKILL, NULL);
		husk__container_wait_init(c, CGROUP_TIMEOUT_MS);
	}
	return husk__container_cgroup_remove(c, CGROUP_TIMEOUT_MS, err);
}

static void native_handoff(struct husk_container *c, int ret_fds[HUSK_ENGINE_HANDOFF_FDS])
{
	ret_fds[0] = TAKE_FD(nat(c)->init_sock);
	ret_fds[1] = TAKE_FD(nat(c)->console);
}

static void native_adopt(struct husk_container *c, int fds[HUSK_ENGINE_HANDOFF_FDS])
{
	nat(c)->init_sock = husk_safe_close(nat(c)->init_sock);
	nat(c)->init_sock = TAKE_FD(fds[0]);
	nat(c)->console = husk_safe_close(nat(c)->console);
	nat(c)->console = TAKE_FD(fds[1]);
}

static void native_reloaded(struct husk_container *c)
{
	if (st(c)->status != HUSK_STATUS_CREATING && st(c)->status != HUSK_STATUS_CREATED)
		nat(c)->init_sock = husk_safe_close(nat(c)->init_sock);
}

const struct husk_engine_ops husk__native_engine = {
	.name = "native",
	.create = native_create,
	.load = native_alloc,
	.start = native_start,
	.exec = native_exec,
	.exec_prepare = native_exec_prepare,
	.kill = native_kill,
	.freeze = native_freeze,
	.update = native_update,
	.pids = native_pids,
	.stats = native_stats,
	.destroy = native_destroy,
	.handoff = native_handoff,
	.adopt = native_adopt,
	.reloaded = native_reloaded,
	.free = native_free,
};
