/*
 * The kernel features husk needs, each refused in turn with ENOSYS by a seccomp filter
 * (test/helpers/enosys.c) that the husk CLI and everything it starts inherit, on a real
 * busybox bundle. clone3 and close_range have fallbacks: the container runs and exits 0,
 * an exec works, no fd of the caller reaches either, the init is in its cgroup in every
 * hierarchy (without clone3 there is no CLONE_INTO_CGROUP) and delete leaves nothing. The
 * others make `husk run` fail with one line naming the syscall and the kernel it needs,
 * leaving no state file, cgroup, child or mount. The test process is a subreaper: a
 * detached container's init is ours to reap once the CLI that created it has exited.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <jansson.h>
#include <seccomp.h>

#include "box.h"
#include "ctr.h"
#include "husk/kernel.h"
#include "testutil.h"

#define MAX_ARGS 16
/* A caller's fd that is not close-on-exec: husk must close it before the container runs. */
#define LEAK_FD 100

static struct box b;
static char *husk_bin;
static char *enosys_bin;

static void setup(void)
{
	cr_assert(testutil_is_root(), "this suite needs root");
	cr_assert(eq(int, prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0));
	husk_bin = testutil_binary_path("runtime/cli/husk");
	enosys_bin = testutil_binary_path("test/husk-enosys");
	cr_assert(eq(int, access(husk_bin, X_OK), 0), "%s: %s", husk_bin, strerror(errno));
	cr_assert(eq(int, access(enosys_bin, X_OK), 0), "%s: %s", enosys_bin, strerror(errno));
	box_init(&b, "kernel");
}

/* After a failed test: force-delete whatever the CLI left in the state root. */
static void remove_leftovers(void)
{
	char *argv[] = {husk_bin, "--root", b.state, "list", "--format", "json", NULL};
	_cleanup_res_ struct e2e_res r = e2e_run(argv, NULL, NULL, testutil_timeout(30));
	json_t *l = json_loads(r.out, 0, NULL);
	size_t i;
	json_t *c;

	json_array_foreach (l, i, c) {
		char *del[] = {husk_bin,  "--root",
			       b.state,	  "delete",
			       "--force", (char *)json_string_value(json_object_get(c, "id")),
			       NULL};
		struct e2e_res d = e2e_run(del, NULL, NULL, testutil_timeout(30));
		e2e_res_done(&d);
	}
	json_decref(l);
}

static void teardown(void)
{
	remove_leftovers();
	box_done(&b);
	free(husk_bin);
	free(enosys_bin);
}

TestSuite(kernel, .init = setup, .fini = teardown, .timeout = 120);

/* "<sys>-<worker pid>", with '_' as '-': unique on the host (the cgroup is /husk/<id>). */
static const char *id_for(const char *sys)
{
	static char id[64];

	(void)snprintf(id, sizeof(id), "k-%s-%d", sys, (int)getpid());
	for (char *c = id; *c; c++)
		if (*c == '_' || *c == ',')
			*c = '-';
	return id;
}

/* husk --root <state> ARGS... (NULL-terminated) with the syscalls in sys refused (NULL:
 * none, no filter). */
static struct e2e_res husk_without(const char *sys, const char *arg, ...) __attribute__((sentinel));
static struct e2e_res husk_without(const char *sys, const char *arg, ...)
{
	char *argv[MAX_ARGS + 1] = {enosys_bin, (char *)sys, husk_bin, "--root", b.state};
	size_t n = 5;
	va_list ap;

	if (!sys) {
		argv[0] = husk_bin;
		argv[1] = "--root";
		argv[2] = b.state;
		n = 3;
	}

	va_start(ap, arg);
	for (const char *a = arg; a; a = va_arg(ap, const char *)) {
		cr_assert(n < MAX_ARGS);
		argv[n++] = (char *)a;
	}
	va_end(ap);
	argv[n] = NULL;
	return e2e_run(argv, NULL, NULL, testutil_timeout(30));
}

/* The fds of pid, "0 1 2" (ascending, as /proc lists them). */
static void fds_of(pid_t pid, char *buf, size_t size)
{
	char path[64];
	char cmd[128];

	(void)snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	(void)snprintf(cmd, sizeof(cmd), "ls %s | sort -n | tr '\\n' ' '", path);
	FILE *f = popen(cmd, "r");
	cr_assert(f != NULL);
	size_t len = fread(buf, 1, size - 1, f);
	buf[len] = '\0';
	cr_assert(eq(int, pclose(f), 0), "%s", cmd);
	while (len > 0 && buf[len - 1] == ' ')
		buf[--len] = '\0';
}

/* Every hierarchy of /proc/<pid>/cgroup names the container's cgroup /husk/<id>. */
static void assert_in_cgroup(pid_t pid, const char *id)
{
	char path[64];
	char want[128];

	(void)snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	(void)snprintf(want, sizeof(want), "/husk/%s", id);
	char *s = testutil_read_file(path);
	cr_assert(s != NULL, "read %s: %s", path, strerror(errno));
	size_t lines = 0;
	char *save = NULL;
	for (char *l = strtok_r(s, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		const char *cg = strrchr(l, ':');
		cr_assert(cg != NULL, "%s: '%s'", path, l);
		cr_assert(eq(str, (char *)cg + 1, want), "%s: '%s'", path, l);
		lines++;
	}
	free(s);
	cr_assert(lines > 0, "%s is empty", path);
}

/* No state file, cgroup, child process or mount of the bundle left. */
static void assert_nothing_left(const char *id)
{
	cr_assert(box_state_root_empty(&b), "state files left in %s", b.state);
	cr_assert(box_cgroup_gone(id), "cgroup of %s left", id);
	cr_assert(eq(int, box_count_children(), 0), "child processes left");
	char *mi = testutil_read_file("/proc/self/mountinfo");
	cr_assert(mi != NULL);
	cr_assert(strstr(mi, b.dir) == NULL, "a mount under %s is left:\n%s", b.dir, mi);
	free(mi);
}

/* A container runs, execs and goes away with the syscalls in sys refused. */
static void runs_without(const char *sys)
{
	const char *id = id_for(sys);
	char fds[256];
	int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);

	cr_assert(devnull >= 0);
	cr_assert(eq(int, fcntl(devnull, F_DUPFD, LEAK_FD), LEAK_FD));
	(void)close(devnull);

	/* Attached: create, start, wait and delete in one command; the process sees only
	 * 0, 1, 2 (and ls its directory). */
	box_set_args(&b, "ls /proc/self/fd | tr '\\n' ' '");
	box_write_cfg(&b);
	_cleanup_res_ struct e2e_res run = husk_without(sys, "run", "--bundle", b.bundle, id, NULL);
	cr_assert(eq(int, run.status, 0), "husk run without %s: %s", sys, run.err);
	cr_assert(eq(str, run.out, "0 1 2 3 "), "fds of the container's process");
	cr_assert(eq(str, run.err, ""));
	assert_nothing_left(id);

	/* Detached, then an exec into it, a kill and a delete. */
	box_set_args(&b, "exec sleep 100000");
	box_write_cfg(&b);
	_cleanup_res_ struct e2e_res det =
		husk_without(sys, "run", "--detach", "--bundle", b.bundle, id, NULL);
	cr_assert(eq(int, det.status, 0), "husk run --detach without %s: %s", sys, det.err);
	pid_t pid = (pid_t)atoi(det.out);
	cr_assert(pid > 0, "printed '%s'", det.out);
	fds_of(pid, fds, sizeof(fds));
	cr_assert(eq(str, fds, "0 1 2"), "fds of the init");
	assert_in_cgroup(pid, id);

	_cleanup_res_ struct e2e_res ex =
		husk_without(sys, "exec", id, "sh", "-c", "ls /proc/self/fd | tr '\\n' ' '", NULL);
	cr_assert(eq(int, ex.status, 0), "husk exec without %s: %s", sys, ex.err);
	cr_assert(eq(str, ex.out, "0 1 2 3 "), "fds of the exec");

	_cleanup_res_ struct e2e_res k = husk_without(sys, "kill", id, "KILL", NULL);
	cr_assert(eq(int, k.status, 0), "husk kill without %s: %s", sys, k.err);
	int ws = 0;
	cr_assert(eq(int, (int)waitpid(pid, &ws, 0), (int)pid));
	_cleanup_res_ struct e2e_res d = husk_without(sys, "delete", id, NULL);
	cr_assert(eq(int, d.status, 0), "husk delete without %s: %s", sys, d.err);
	assert_nothing_left(id);
	(void)close(LEAK_FD);
}

/* `husk run` fails with the one line "husk needs <need>"; nothing is left behind. */
static void refused_without(const char *sys, const char *need)
{
	const char *id = id_for(sys);
	char want[512];

	box_set_args(&b, "echo never");
	box_write_cfg(&b);
	_cleanup_res_ struct e2e_res r = husk_without(sys, "run", "--bundle", b.bundle, id, NULL);
	(void)snprintf(want, sizeof(want),
		       "husk run: create %s: husk needs %s: Function not implemented\n", id, need);
	cr_assert(eq(int, r.status, 1), "husk run without %s: %s", sys, r.err);
	cr_assert(eq(str, r.err, want));
	cr_assert(eq(str, r.out, ""));
	assert_nothing_left(id);
}

Test(kernel, clone3_falls_back_to_clone)
{
	runs_without("clone3");
}

Test(kernel, close_range_falls_back_to_a_loop)
{
	runs_without("close_range");
}

/* A Docker-like profile on an older kernel: neither. */
Test(kernel, clone3_and_close_range_both)
{
	runs_without("clone3,close_range");
}

/*
 * On a running container (created with nothing refused), `husk <cmd> ID ARGS...` with sys
 * refused fails with "husk <cmd>: <want>: Function not implemented", and the container
 * still runs: it is killed and deleted without the filter afterwards.
 */
static void refused_on_running(const char *sys, const char *cmd, const char *arg, const char *want)
{
	const char *id = id_for(sys);
	char line[512];

	box_set_args(&b, "exec sleep 100000");
	box_write_cfg(&b);
	_cleanup_res_ struct e2e_res det =
		husk_without(NULL, "run", "--detach", "--bundle", b.bundle, id, NULL);
	cr_assert(eq(int, det.status, 0), "husk run --detach: %s", det.err);
	pid_t pid = (pid_t)atoi(det.out);
	cr_assert(pid > 0, "printed '%s'", det.out);

	_cleanup_res_ struct e2e_res r = husk_without(sys, cmd, id, arg, NULL);
	(void)snprintf(line, sizeof(line), "husk %s: %s: Function not implemented\n", cmd, want);
	cr_assert(eq(int, r.status, 1), "husk %s without %s: %s", cmd, sys, r.err);
	cr_assert(eq(str, r.err, line));
	cr_assert(eq(int, kill(pid, 0), 0), "the init is gone");

	_cleanup_res_ struct e2e_res d = husk_without(NULL, "delete", "--force", id, NULL);
	cr_assert(eq(int, d.status, 0), "husk delete --force: %s", d.err);
	int ws = 0;
	cr_assert(eq(int, (int)waitpid(pid, &ws, 0), (int)pid));
	assert_nothing_left(id);
}

/* An exec probes as a create does: without pidfd_open, the load found no init. */
Test(kernel, exec_names_pidfd_open)
{
	refused_on_running("pidfd_open", "exec", "true",
			   "husk needs pidfd_open(2) (Linux 5.3 or later)");
}

Test(kernel, kill_names_pidfd_send_signal)
{
	refused_on_running("pidfd_send_signal", "kill", "KILL",
			   "husk needs pidfd_send_signal(2) (Linux 5.1 or later)");
}

/*
 * Child side of close_range_without_proc: 0, or the step that failed. /proc hidden by a
 * tmpfs in a mount namespace of its own, close_range refused, a hard RLIMIT_NOFILE of
 * 2048: husk_close_range must reach fds 1000 and 2047 by trying every number.
 */
static int close_without_proc(void)
{
	struct rlimit rl = {.rlim_cur = 2048, .rlim_max = 2048};

	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return 1;
	if (mount("tmpfs", "/proc", "tmpfs", 0, NULL) < 0 || access("/proc/self/fd", F_OK) == 0)
		return 2;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 3;
	if (dup2(0, 5) != 5 || dup2(0, 1000) != 1000 || dup2(0, 2047) != 2047)
		return 4;
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx || seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(close_range), 0) < 0 ||
	    seccomp_load(ctx) < 0)
		return 5;
	seccomp_release(ctx);
	if (husk_close_range(1000, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		return 6;
	if (fcntl(1000, F_GETFD) != FD_CLOEXEC || fcntl(2047, F_GETFD) != FD_CLOEXEC ||
	    fcntl(5, F_GETFD) != 0)
		return 7;
	if (husk_close_range(6, ~0U, 0) < 0)
		return 8;
	if (fcntl(1000, F_GETFD) >= 0 || fcntl(2047, F_GETFD) >= 0 || fcntl(5, F_GETFD) != 0)
		return 9;
	return 0;
}

/* The last resort of the close_range fallback, where /proc cannot be read. */
Test(kernel, close_range_without_proc)
{
	int ws = 0;
	pid_t pid = fork();

	cr_assert(pid >= 0);
	if (pid == 0)
		_exit(close_without_proc());
	cr_assert(eq(int, (int)waitpid(pid, &ws, 0), (int)pid));
	cr_assert(0 != WIFEXITED(ws), "wait status %d", ws);
	int step = WEXITSTATUS(ws);
	cr_assert(eq(int, step, 0), "step %d failed", step);
}

/* clone(2) has no CLONE_NEWTIME: a time namespace needs clone3. */
Test(kernel, time_namespace_needs_clone3)
{
	json_t *ns = json_object_get(json_object_get(b.cfg, "linux"), "namespaces");
	cr_assert(eq(int, json_array_append_new(ns, json_pack("{ss}", "type", "time")), 0));
	refused_without("clone3", "clone3(2) (Linux 5.3 or later) for a time namespace");
}

#define REFUSED(sys, since)                                                   \
	Test(kernel, sys##_is_named)                                          \
	{                                                                     \
		refused_without(#sys, #sys "(2) (Linux " since " or later)"); \
	}

REFUSED(openat2, "5.6")
REFUSED(open_tree, "5.2")
REFUSED(move_mount, "5.2")
REFUSED(mount_setattr, "5.12")
REFUSED(fsopen, "5.2")
REFUSED(fsconfig, "5.2")
REFUSED(fsmount, "5.2")
REFUSED(pidfd_open, "5.3")
REFUSED(pidfd_send_signal, "5.1")
