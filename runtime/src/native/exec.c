/*
 * Exec: a process in a running container. A stage, born in the container's unified cgroup,
 * moves itself into its v1 cgroups (struct husk_cgroup_join: no move by pid), joins every
 * namespace of the init in one setns() on its pidfd, then clones the process as a sibling
 * (the caller's child), which inherits the cgroups; the caller releases it; it applies the
 * process spec and execs. Non-dumpable from the stage on, until execve.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <unistd.h>

#include <sys/prctl.h>
#include <sys/stat.h>

#include "cgroup.h"
#include "husk/cleanup.h"
#include "husk/err.h"
#include "husk/process.h"
#include "native/keyring.h"
#include "native/native.h"
#include "native/sync.h"
#include "spawn_internal.h"
#include "syscalls.h"

#define SYNC_FD	 3
#define PIDFD_FD 4
#define JOIN_FD	 5 /* the `tasks` fds of the cgroup join, in order */

struct exec_arg {
	const struct husk_exec_ctx *ctx;
	int ns_mask;
	size_t n_join; /* fds at JOIN_FD */
};

static int exec_main(const struct husk_exec_ctx *ctx)
{
	int sock = SYNC_FD;
	const struct husk_proc_plan *p = ctx->plan;

	(void)close(PIDFD_FD);
	/* The stage reports our pid on this socket too: nothing from us until the parent has
	 * it (START), so the messages cannot cross. */
	if (husk__sync_expect(
		    sock, &(struct husk_sync_wait){HUSK_SYNC_START, HUSK_CHILD_TIMEOUT_MS, "exec"},
		    NULL, NULL, NULL) < 0)
		return 127;
	/* The container's session keyring, which the init made (runc's setns init). */
	if (ctx->keyring && husk__keyring_join_labelled(sock, ctx->keyring, false, false, &p->lsm,
							p->selinux_label) < 0)
		return 127;
	if (p->terminal && husk__console_setup(sock, p, ctx->io_uid ? ctx->io_uid : p->uid,
					       ctx->io_gid ? ctx->io_gid : p->gid) < 0)
		return 127;
	char path[PATH_MAX];
	if (husk__proc_labels(sock, p, /* init= */ false) < 0 ||
	    husk__proc_setup(sock, p, ctx->seccomp) < 0 ||
	    husk__proc_lookup(sock, p, path, sizeof(path)) < 0)
		return 127;
	(void)husk__proc_exec(sock, p, path, ctx->seccomp);
	return 127;
}

static int stage_main(void *arg)
{
	const struct exec_arg *a = arg;
	int sock = SYNC_FD;

	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if (a->n_join) {
		int fds[HUSK_CG_MAX_HIER];
		for (size_t i = 0; i < a->n_join; i++)
			fds[i] = JOIN_FD + (int)i;
		int r = husk__cgroup_enter_self(fds, a->n_join);
		(void)husk_close_range(JOIN_FD, JOIN_FD + (unsigned)a->n_join - 1, 0);
		if (r < 0)
			return husk__sync_error(sock, -r, "join the container's cgroup"), 1;
	}
	if (a->ns_mask && setns(PIDFD_FD, a->ns_mask) < 0)
		return husk__sync_error(sock, errno, "join the init's namespaces"), 1;
	pid_t pid = husk__clone3(CLONE_PARENT, NULL);
	if (pid < 0)
		return husk__sync_error(sock, errno, "clone exec process"), 1;
	if (pid == 0)
		_exit(exec_main(a->ctx));
	return husk__sync_send(sock, HUSK_SYNC_PID, pid, -1, NULL) < 0 ? 1 : 0;
}

/* The namespaces of pid that differ from ours: joining one we are in is refused. */
static int ns_mask(pid_t pid, int *ret, struct husk_err *err)
{
	static const struct {
		const char *name;
		int flag;
	} nss[] = {
		{"user", CLONE_NEWUSER},     {"mnt", CLONE_NEWNS},    {"pid", CLONE_NEWPID},
		{"net", CLONE_NEWNET},	     {"ipc", CLONE_NEWIPC},   {"uts", CLONE_NEWUTS},
		{"cgroup", CLONE_NEWCGROUP}, {"time", CLONE_NEWTIME},
	};
	int mask = 0;

	for (size_t i = 0; i < ARRAY_SIZE(nss); i++) {
		char path[64];
		struct stat theirs;
		struct stat ours;
		(void)snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, nss[i].name);
		if (stat(path, &theirs) < 0) {
			if (errno == ENOENT && i > 0)
				continue;
			return husk_err_set(err, HUSK_ERR_NOT_FOUND, 0,
					    "init process already finished");
		}
		(void)snprintf(path, sizeof(path), "/proc/self/ns/%s", nss[i].name);
		if (stat(path, &ours) < 0 || ours.st_ino != theirs.st_ino ||
		    ours.st_dev != theirs.st_dev)
			mask |= nss[i].flag;
	}
	*ret = mask;
	return 0;
}

static int collect(struct husk_child *stage, int sock, struct husk_child *ret, struct husk_err *err)
{
	struct husk_sync_msg msg;
	int r = husk__sync_expect(
		sock, &(struct husk_sync_wait){HUSK_SYNC_PID, HUSK_CHILD_TIMEOUT_MS, "exec"}, &msg,
		NULL, err);

	if (r < 0) {
		(void)husk_child_kill_and_reap(stage);
		return r;
	}
	int status = husk__wait_pid(stage->pid);
	husk_child_release(stage);
	struct husk_child ch = {.pid = msg.value, .pidfd = -1};
	ch.pidfd = husk_pidfd_open_checked(ch.pid, 0, err);
	if (ch.pidfd < 0)
		return ch.pidfd;
	r = husk_proc_start_time(ch.pid, &ch.start_time, err);
	if (r < 0 || status != 0) {
		(void)husk_child_kill_and_reap(&ch);
		return r < 0 ? r : husk_err_set(err, HUSK_ERR_INTERNAL, 0, "exec stage failed");
	}
	*ret = ch;
	return 0;
}

/*
 * The stage process, with o's fds (an array of 5 + HUSK_CG_MAX_HIER) plus the container's
 * cgroup join fds, born in its cgroup2 where it can be.
 */
static int spawn_stage(struct exec_arg *a, struct husk_spawn_fd *fds, struct husk_spawn_opts *o,
		       struct husk_child *ret_stage, struct husk_err *err)
{
	struct husk_cgroup_join join = {.clone_fd = -1};
	int r;

	if (a->ctx->cgroup && (r = husk__cgroup_join_open(a->ctx->cgroup, &join, err)) < 0)
		return r;
	for (size_t i = 0; i < join.n; i++)
		fds[o->n_fds++] = (struct husk_spawn_fd){join.fds[i], JOIN_FD + (int)i, true};
	a->n_join = join.n;
	if (join.clone_fd >= 0) {
		o->clone_flags = CLONE_INTO_CGROUP;
		o->cgroup_fd = join.clone_fd;
	}
	r = husk_spawn(o, stage_main, a, ret_stage, err);
	husk__cgroup_join_done(&join);
	return r;
}

/* After START: the pty master when the exec has a terminal, then the exec's go-ahead. */
static int await_started(int mine, bool tty, int *ret_console, struct husk_err *err)
{
	int r;

	if (tty) {
		r = husk__sync_expect(mine,
				      &(struct husk_sync_wait){HUSK_SYNC_CONSOLE_FD,
							       HUSK_CHILD_TIMEOUT_MS, "exec"},
				      NULL, ret_console, err);
		if (r < 0)
			return r;
		if (*ret_console < 0)
			return husk_err_set(err, HUSK_ERR_INTERNAL, EPROTO, "exec: no pty master");
	}
	return husk__sync_expect(
		mine, &(struct husk_sync_wait){HUSK_SYNC_NONE, HUSK_CHILD_TIMEOUT_MS, "exec"}, NULL,
		NULL, err);
}

int husk__exec_spawn(const struct husk_exec_ctx *ctx, struct husk_child *ret_child,
		     int *ret_console, struct husk_err *err)
{
	struct exec_arg a = {.ctx = ctx};
	int sv[2];
	int r = ns_mask(ctx->init->pid, &a.ns_mask, err);

	if (r < 0)
		return r;
	r = husk__sync_pair(sv);
	if (r < 0)
		return husk_err_errno(err, -r, "exec socketpair");
	_cleanup_close_ int mine = sv[0];
	_cleanup_close_ int theirs = sv[1];
	bool tty = ctx->plan->terminal;
	struct husk_spawn_fd fds[5 + HUSK_CG_MAX_HIER] = {{tty ? -1 : ctx->stdio[0], 0, false},
							  {tty ? -1 : ctx->stdio[1], 1, false},
							  {tty ? -1 : ctx->stdio[2], 2, false},
							  {theirs, SYNC_FD, true},
							  {ctx->init->pidfd, PIDFD_FD, true}};
	struct husk_spawn_opts o = {.name = "husk:[exec]", .fds = fds, .n_fds = 5};
	struct husk_child stage = HUSK_CHILD_NULL;
	_cleanup_child_ struct husk_child proc = HUSK_CHILD_NULL;
	_cleanup_close_ int console = -1;

	r = spawn_stage(&a, fds, &o, &stage, err);
	if (r < 0)
		return r;
	husk_closep(&theirs);
	r = collect(&stage, mine, &proc, err);
	if (r < 0)
		return r;
	r = husk__sync_send(mine, HUSK_SYNC_START, 0, -1, NULL);
	if (r < 0)
		return husk_err_errno(err, -r, "exec: send start");
	r = await_started(mine, tty, &console, err);
	if (r < 0)
		return r;
	*ret_child = proc;
	proc = HUSK_CHILD_NULL;
	*ret_console = TAKE_FD(console);
	return 0;
}
