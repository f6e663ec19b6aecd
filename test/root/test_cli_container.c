/*
 * The husk CLI's lifecycle commands (run, exec, pause, resume, stats, update) run as a user
 * runs them: the built binary on a real busybox bundle, with its output, exit codes and the
 * container's state and cgroup files checked; bad input gets a clear error and leaves
 * nothing behind. The test process is a subreaper: a detached container's init is ours to
 * reap once the CLI that created it has exited.
 */
#include <errno.h>
#include <glob.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <jansson.h>

#include "box.h"
#include "ctr.h"
#include "husk/container.h"
#include "husk/err.h"
#include "testutil.h"

#define MAX_ARGS 16

static struct box b;
static char *husk_bin;

/*
 * Container ids are unique on the host (the default cgroup is /husk/<id> in every
 * hierarchy, shared with every other suite): "<name>-<worker pid>".
 */
static const char *id_of(const char *name)
{
	static char ids[4][64];
	static unsigned next;
	char *buf = ids[next++ % 4];

	(void)snprintf(buf, sizeof(ids[0]), "%s-%d", name, (int)getpid());
	return buf;
}

#define ID(name) id_of(name)

static void setup(void)
{
	cr_assert(testutil_is_root(), "this suite needs root");
	cr_assert(eq(int, prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0));
	husk_bin = testutil_binary_path("runtime/cli/husk");
	cr_assert(eq(int, access(husk_bin, X_OK), 0), "%s: %s", husk_bin, strerror(errno));
	box_init(&b, "cli-ctr");
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
}

TestSuite(cli_container, .init = setup, .fini = teardown, .timeout = 120);

/* husk --root <state> ARGS... (NULL-terminated), stdin at EOF. */
static struct e2e_res husk(const char *arg, ...) __attribute__((sentinel));
static struct e2e_res husk(const char *arg, ...)
{
	char *argv[MAX_ARGS + 1] = {husk_bin, "--root", b.state};
	size_t n = 3;
	va_list ap;

	va_start(ap, arg);
	for (const char *a = arg; a; a = va_arg(ap, const char *)) {
		cr_assert(n < MAX_ARGS);
		argv[n++] = (char *)a;
	}
	va_end(ap);
	argv[n] = NULL;
	return e2e_run(argv, NULL, NULL, testutil_timeout(30));
}

static double now(void)
{
	struct timespec ts;
	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The container's status from `husk state ID`; asserts the command works. */
static char *status_of(const char *id)
{
	_cleanup_res_ struct e2e_res r = husk("state", id, NULL);
	json_error_t je;

	cr_assert(eq(int, r.status, 0), "husk state %s: %s", id, r.err);
	json_t *j = json_loads(r.out, 0, &je);
	cr_assert(j != NULL, "state is not json (%s): %s", je.text, r.out);
	char *s = strdup(json_string_value(json_object_get(j, "status")));
	json_decref(j);
	return s;
}

static void assert_status(const char *id, const char *want)
{
	char *s = status_of(id);
	cr_assert(eq(str, s, (char *)want), "container %s", id);
	free(s);
}

static char *cgroup_file(const char *ctrl, const char *id, const char *file)
{
	char dir[512];
	char path[700];

	box_cgroup_dir(ctrl, id, dir, sizeof(dir));
	(void)snprintf(path, sizeof(path), "%s/%s", dir, file);
	char *s = testutil_read_file(path);
	cr_assert(s != NULL, "read %s: %s", path, strerror(errno));
	s[strcspn(s, "\n")] = '\0';
	return s;
}

static void assert_cgroup_file(const char *ctrl, const char *id, const char *file, const char *want)
{
	char *s = cgroup_file(ctrl, id, file);
	cr_assert(eq(str, s, (char *)want), "%s/%s of %s", ctrl, file, id);
	free(s);
}

/* Poll `husk state` (bounded) until id has the status. */
static void wait_status(const char *id, const char *want)
{
	double end = now() + testutil_timeout(10);
	char *s = status_of(id);

	while (strcmp(s, want) != 0 && now() < end) {
		free(s);
		s = status_of(id);
	}
	cr_assert(eq(str, s, (char *)want), "container %s", id);
	free(s);
}

/* `husk run --detach` of a sleeping container; returns the init's pid it printed. */
static pid_t run_detached(const char *id)
{
	box_set_args(&b, "exec sleep 100000");
	box_write_cfg(&b);
	_cleanup_res_ struct e2e_res r = husk("run", "--detach", "--bundle", b.bundle, id, NULL);
	cr_assert(eq(int, r.status, 0), "husk run --detach: %s", r.err);
	char *end = NULL;
	long pid = strtol(r.out, &end, 10);
	cr_assert(pid > 0 && end && *end == '\n' && end[1] == '\0', "printed '%s'", r.out);
	assert_status(id, "running");
	return (pid_t)pid;
}

/* SIGKILL a detached container's init, reap it, delete it; assert nothing is left. */
static void kill_and_delete(const char *id, pid_t pid)
{
	int ws = 0;
	_cleanup_res_ struct e2e_res k = husk("kill", id, "KILL", NULL);
	cr_assert(eq(int, k.status, 0), "husk kill: %s", k.err);
	cr_assert(eq(int, (int)waitpid(pid, &ws, 0), (int)pid));
	cr_assert(0 != WIFSIGNALED(ws) && WTERMSIG(ws) == SIGKILL, "wait status %d", ws);
	_cleanup_res_ struct e2e_res d = husk("delete", id, NULL);
	cr_assert(eq(int, d.status, 0), "husk delete: %s", d.err);
	cr_assert(box_state_root_empty(&b));
	cr_assert(box_cgroup_gone(id));
}

/* No state file, cgroup or child process left by a failed command. */
static void assert_nothing_left(const char *id)
{
	cr_assert(box_state_root_empty(&b), "state files left in %s", b.state);
	cr_assert(box_cgroup_gone(id), "cgroup of %s left", id);
	cr_assert(eq(int, box_count_children(), 0), "child processes left");
}

static void assert_err_has(const struct e2e_res *r, int status, const char *needle)
{
	cr_assert(eq(int, r->status, status), "stderr: %s", r->err);
	cr_assert(strstr(r->err, needle) != NULL, "stderr lacks '%s': %s", needle, r->err);
}

Test(cli_container, run_attached_passes_stdio_and_the_exit_code)
{
	box_set_args(&b, "echo out; echo err >&2; read line; echo \"in=$line\"; exit 3");
	box_write_cfg(&b);
	char *argv[] = {husk_bin,   "--root", b.state,		 "run",
			"--bundle", b.bundle, (char *)ID("att"), NULL};
	_cleanup_res_ struct e2e_res r = e2e_run(argv, NULL, "typed\n", testutil_timeout(30));
	cr_assert(eq(int, r.status, 3), "stderr: %s", r.err);
	cr_assert(eq(str, r.out, "out\nin=typed\n"));
	cr_assert(eq(str, r.err, "err\n"));
	assert_nothing_left(ID("att"));
}

Test(cli_container, run_attached_in_the_bundle_dir_by_default)
{
	box_set_args(&b, "hostname; pwd");
	box_write_cfg(&b);
	char *argv[] = {"sh",	  "-c",	    "cd \"$0\" && exec \"$1\" --root \"$2\" run dflt",
			b.bundle, husk_bin, b.state,
			NULL};
	_cleanup_res_ struct e2e_res r = e2e_run(argv, NULL, NULL, testutil_timeout(30));
	cr_assert(eq(int, r.status, 0), "stderr: %s", r.err);
	cr_assert(eq(str, r.out, "husk-test\n/\n"));
	assert_nothing_left(ID("dflt"));
}

Test(cli_container, run_attached_reports_a_signal_death_as_128_plus_signal)
{
	box_set_args(&b, "echo ready; exec sleep 100000");
	box_write_cfg(&b);
	char *argv[] = {husk_bin,   "--root", b.state,		 "run",
			"--bundle", b.bundle, (char *)ID("sig"), NULL};
	struct e2e_proc *p = e2e_proc_spawn(argv, NULL);
	cr_assert(e2e_proc_wait_out(p, "ready\n", 0, testutil_timeout(30)), "no 'ready': %s",
		  e2e_proc_err(p));
	/* The process may print before the CLI has recorded the start: wait for that. */
	wait_status(ID("sig"), "running");
	_cleanup_res_ struct e2e_res k = husk("kill", ID("sig"), "KILL", NULL);
	cr_assert(eq(int, k.status, 0), "husk kill: %s", k.err);
	_cleanup_res_ struct e2e_res r = e2e_proc_finish(p, testutil_timeout(30));
	cr_assert(eq(int, r.status, 128 + SIGKILL), "stderr: %s", r.err);
	assert_nothing_left(ID("sig"));
}

Test(cli_container, exec_runs_in_the_container_with_its_exit_code)
{
	pid_t pid = run_detached(ID("ex"));

	_cleanup_res_ struct e2e_res r = husk("exec", ID("ex"), "--", "sh", "-c",
					      "hostname; pwd; id -u; echo $PATH; exit 4", NULL);
	cr_assert(eq(int, r.status, 4), "stderr: %s", r.err);
	cr_assert(eq(str, r.out,
		     "husk-test\n/\n0\n/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/"
		     "sbin:/bin\n"));
	/* Without "--" the command starts at the second argument. */
	_cleanup_res_ struct e2e_res r2 = husk("exec", ID("ex"), "cat", "/proc/1/cmdline", NULL);
	cr_assert(eq(int, r2.status, 0), "stderr: %s", r2.err);
	static const char cmdline[] = "sleep\0"
				      "100000";
	cr_assert(eq(int, (int)r2.out_len, (int)sizeof(cmdline)));
	cr_assert(eq(int, memcmp(r2.out, cmdline, sizeof(cmdline)), 0));
	/* stdin reaches the exec'ed process. */
	char *argv[] = {husk_bin, "--root", b.state, "exec", (char *)ID("ex"), "cat", NULL};
	_cleanup_res_ struct e2e_res r3 = e2e_run(argv, NULL, "piped\n", testutil_timeout(30));
	cr_assert(eq(int, r3.status, 0), "stderr: %s", r3.err);
	cr_assert(eq(str, r3.out, "piped\n"));
	assert_status(ID("ex"), "running");
	kill_and_delete(ID("ex"), pid);
}

Test(cli_container, pause_freezes_and_resume_thaws)
{
	pid_t pid = run_detached(ID("pz"));

	_cleanup_res_ struct e2e_res p = husk("pause", ID("pz"), NULL);
	cr_assert(eq(int, p.status, 0), "husk pause: %s", p.err);
	cr_assert(eq(str, p.out, ""));
	assert_status(ID("pz"), "paused");
	assert_cgroup_file("freezer", ID("pz"), "freezer.state", "FROZEN");
	/* A paused process stays frozen: its state in /proc is D or T-like, never R/S. */
	char stat_path[64];
	(void)snprintf(stat_path, sizeof(stat_path), "/proc/%d/status", (int)pid);
	char *st = testutil_read_file(stat_path);
	cr_assert(st != NULL && strstr(st, "State:\tS") == NULL && strstr(st, "State:\tR") == NULL,
		  "%s", st ? st : "no status");
	free(st);

	_cleanup_res_ struct e2e_res again = husk("pause", ID("pz"), NULL);
	assert_err_has(&again, 1, "husk pause: ");
	assert_status(ID("pz"), "paused");

	_cleanup_res_ struct e2e_res r = husk("resume", ID("pz"), NULL);
	cr_assert(eq(int, r.status, 0), "husk resume: %s", r.err);
	assert_status(ID("pz"), "running");
	assert_cgroup_file("freezer", ID("pz"), "freezer.state", "THAWED");

	_cleanup_res_ struct e2e_res r2 = husk("resume", ID("pz"), NULL);
	assert_err_has(&r2, 1, "husk resume: ");
	assert_status(ID("pz"), "running");
	/* Still alive and able to run things. */
	_cleanup_res_ struct e2e_res e = husk("exec", ID("pz"), "true", NULL);
	cr_assert(eq(int, e.status, 0), "%s", e.err);
	kill_and_delete(ID("pz"), pid);
}

static json_t *stats_json(const char *id)
{
	_cleanup_res_ struct e2e_res r = husk("stats", id, NULL);
	json_error_t je;

	cr_assert(eq(int, r.status, 0), "husk stats: %s", r.err);
	json_t *j = json_loads(r.out, 0, &je);
	cr_assert(j != NULL, "stats are not json (%s): %s", je.text, r.out);
	return j;
}

static json_int_t stat_int(json_t *j, const char *group, const char *key)
{
	json_t *v = json_object_get(json_object_get(j, group), key);
	cr_assert(0 != json_is_integer(v), "%s.%s is not an integer", group, key);
	return json_integer_value(v);
}

Test(cli_container, stats_prints_the_cgroup_counters_as_json)
{
	pid_t pid = run_detached(ID("st"));
	/* Make the container use some CPU and memory first. */
	_cleanup_res_ struct e2e_res e =
		husk("exec", ID("st"), "sh", "-c",
		     "i=0; while [ $i -lt 2000 ]; do i=$((i+1)); done", NULL);
	cr_assert(eq(int, e.status, 0), "%s", e.err);

	json_t *j = stats_json(ID("st"));
	cr_assert(0 != json_is_integer(json_object_get(j, "mode")));
	cr_assert(eq(i64, (int64_t)stat_int(j, "pids", "current"), 1), "only the sleeping init");
	cr_assert(eq(i64, (int64_t)stat_int(j, "pids", "limit"), 0), "no limit reads as 0");
	cr_assert(stat_int(j, "cpu", "usage_ns") > 0);
	cr_assert(stat_int(j, "cpu", "user_ns") + stat_int(j, "cpu", "kernel_ns") >= 0);
	cr_assert(stat_int(j, "memory", "usage") > 0);
	cr_assert(stat_int(j, "memory", "max") >= stat_int(j, "memory", "usage"));
	cr_assert(eq(i64, (int64_t)stat_int(j, "memory", "oom_kill"), 0));
	/* The figures are the cgroup's own: the usage is what the memory controller says. */
	char *usage = cgroup_file("memory", ID("st"), "memory.usage_in_bytes");
	cr_assert(stat_int(j, "memory", "usage") > 0 && strtoll(usage, NULL, 10) > 0);
	free(usage);
	json_decref(j);
	kill_and_delete(ID("st"), pid);
}

Test(cli_container, update_changes_the_limits)
{
	pid_t pid = run_detached(ID("up"));

	_cleanup_res_ struct e2e_res r = husk("update", "--memory", "67108864", "--pids", "50",
					      "--cpu-shares", "512", ID("up"), NULL);
	cr_assert(eq(int, r.status, 0), "husk update: %s", r.err);
	assert_cgroup_file("memory", ID("up"), "memory.limit_in_bytes", "67108864");
	assert_cgroup_file("pids", ID("up"), "pids.max", "50");
	assert_cgroup_file("cpu", ID("up"), "cpu.shares", "512");
	json_t *j = stats_json(ID("up"));
	cr_assert(eq(i64, (int64_t)stat_int(j, "memory", "limit"), 67108864));
	cr_assert(eq(i64, (int64_t)stat_int(j, "pids", "limit"), 50));
	json_decref(j);

	/* One resource at a time leaves the others alone. */
	_cleanup_res_ struct e2e_res r2 = husk("update", ID("up"), "--pids", "7", NULL);
	cr_assert(eq(int, r2.status, 2), "options come before the id: %s", r2.err);
	_cleanup_res_ struct e2e_res r3 = husk("update", "--pids", "7", ID("up"), NULL);
	cr_assert(eq(int, r3.status, 0), "%s", r3.err);
	assert_cgroup_file("pids", ID("up"), "pids.max", "7");
	assert_cgroup_file("memory", ID("up"), "memory.limit_in_bytes", "67108864");
	assert_cgroup_file("cpu", ID("up"), "cpu.shares", "512");

	/* The pids limit is enforced: the shell dies when its fork fails under pids.max 7. */
	_cleanup_res_ struct e2e_res e =
		husk("exec", ID("up"), "sh", "-c",
		     "for i in 1 2 3 4 5 6 7 8; do sleep 100 & done; echo all", NULL);
	cr_assert(e.status != 0 && strstr(e.out, "all") == NULL, "status %d: %s", e.status, e.out);
	cr_assert(strstr(e.err, "fork") != NULL, "%s", e.err);
	j = stats_json(ID("up"));
	cr_assert(stat_int(j, "pids", "current") <= 7);
	json_decref(j);
	kill_and_delete(ID("up"), pid);
}

Test(cli_container, update_rejects_bad_input_and_changes_nothing)
{
	pid_t pid = run_detached(ID("ub"));
	char *before = cgroup_file("pids", ID("ub"), "pids.max");

	const char *const bad[][4] = {
		{"--memory", "abc", ID("ub"), NULL}, /* not a number */
		{"--pids", "", ID("ub"), NULL},	     /* empty */
		{"--pids", "12x", ID("ub"), NULL},   /* trailing garbage */
		{"--bogus", "1", ID("ub"), NULL},    /* unknown option */
		{"--pids", "5", NULL, NULL},	     /* no id */
		{"--pids", "5", ID("ub"), "extra"},  /* two ids */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		_cleanup_res_ struct e2e_res r =
			husk("update", bad[i][0], bad[i][1], bad[i][2], bad[i][3], NULL);
		cr_assert(eq(int, r.status, 2), "case %zu: %s", i, r.err);
		cr_assert(strstr(r.err, "husk update: ") != NULL, "case %zu: %s", i, r.err);
		cr_assert(strstr(r.err, "usage: husk") != NULL, "case %zu: %s", i, r.err);
	}
	_cleanup_res_ struct e2e_res nf = husk("update", "--pids", "5", "nosuch", NULL);
	assert_err_has(&nf, 1, "husk update: ");
	cr_assert(strstr(nf.err, "nosuch") != NULL, "%s", nf.err);
	assert_cgroup_file("pids", ID("ub"), "pids.max", before);
	free(before);
	assert_status(ID("ub"), "running");
	kill_and_delete(ID("ub"), pid);
}

Test(cli_container, run_rejects_bad_input_and_leaves_nothing)
{
	_cleanup_res_ struct e2e_res noid = husk("run", "--bundle", b.bundle, NULL);
	assert_err_has(&noid, 2, "expected one container id");
	_cleanup_res_ struct e2e_res two = husk("run", "--bundle", b.bundle, "a", "b", NULL);
	assert_err_has(&two, 2, "expected one container id");
	_cleanup_res_ struct e2e_res opt = husk("run", "--nope", "x", NULL);
	assert_err_has(&opt, 2, "bad option");

	char missing[1200];
	(void)snprintf(missing, sizeof(missing), "%s/nosuch", b.dir);
	_cleanup_res_ struct e2e_res nb = husk("run", "--bundle", missing, ID("nb"), NULL);
	assert_err_has(&nb, 1, "No such file or directory");
	cr_assert(strstr(nb.err, missing) != NULL, "%s", nb.err);
	assert_nothing_left(ID("nb"));

	box_write_cfg(&b);
	_cleanup_res_ struct e2e_res bid = husk("run", "--bundle", b.bundle, "bad/id", NULL);
	assert_err_has(&bid, 1, "husk run: ");
	cr_assert(strstr(bid.err, "bad/id") != NULL, "%s", bid.err);
	assert_nothing_left("bad");

	char cfg[1200];
	(void)snprintf(cfg, sizeof(cfg), "%s/config.json", b.bundle);
	testutil_write_file(cfg, "{\"ociVersion\": \"1.0.2\", \"process\": ");
	_cleanup_res_ struct e2e_res bj = husk("run", "--bundle", b.bundle, ID("bj"), NULL);
	assert_err_has(&bj, 1, "husk run: ");
	cr_assert(strstr(bj.err, "json") != NULL || strstr(bj.err, "JSON") != NULL, "%s", bj.err);
	assert_nothing_left(ID("bj"));
}

Test(cli_container, run_of_a_missing_executable_fails_and_leaves_nothing)
{
	json_object_set_new(json_object_get(b.cfg, "process"), "args",
			    json_pack("[s]", "/bin/no-such-program"));
	box_write_cfg(&b);
	_cleanup_res_ struct e2e_res r = husk("run", "--bundle", b.bundle, ID("mx"), NULL);
	assert_err_has(&r, 1, "husk run: ");
	cr_assert(strstr(r.err, "no-such-program") != NULL, "%s", r.err);
	cr_assert(strstr(r.err, "No such file or directory") != NULL ||
			  strstr(r.err, "no such file or directory") != NULL,
		  "%s", r.err);
	assert_nothing_left(ID("mx"));
}

Test(cli_container, run_of_an_existing_id_fails_and_keeps_the_first)
{
	pid_t pid = run_detached(ID("dup"));

	_cleanup_res_ struct e2e_res r = husk("run", "--bundle", b.bundle, ID("dup"), NULL);
	assert_err_has(&r, 1, "husk run: ");
	cr_assert(strstr(r.err, "exists") != NULL, "%s", r.err);
	assert_status(ID("dup"), "running");
	cr_assert(eq(int, kill(pid, 0), 0), "the first container's init is alive");
	_cleanup_res_ struct e2e_res e = husk("exec", ID("dup"), "true", NULL);
	cr_assert(eq(int, e.status, 0), "%s", e.err);
	kill_and_delete(ID("dup"), pid);
}

Test(cli_container, commands_on_a_missing_container_fail_clearly)
{
	static const char *const cmds[] = {"pause", "resume", "stats"};

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		_cleanup_res_ struct e2e_res r = husk(cmds[i], "ghost", NULL);
		char want[64];
		(void)snprintf(want, sizeof(want), "husk %s: ", cmds[i]);
		assert_err_has(&r, 1, want);
		cr_assert(strstr(r.err, "ghost") != NULL, "%s", r.err);
		cr_assert(eq(str, r.out, ""));
		_cleanup_res_ struct e2e_res u = husk(cmds[i], NULL);
		assert_err_has(&u, 2, "expected one container id");
		_cleanup_res_ struct e2e_res u2 = husk(cmds[i], "a", "b", NULL);
		assert_err_has(&u2, 2, "expected one container id");
	}
	_cleanup_res_ struct e2e_res e = husk("exec", "ghost", "true", NULL);
	assert_err_has(&e, 1, "husk exec: ");
	cr_assert(strstr(e.err, "ghost") != NULL, "%s", e.err);
	_cleanup_res_ struct e2e_res e2 = husk("exec", "ghost", NULL);
	assert_err_has(&e2, 2, "expected an id and a command");
	_cleanup_res_ struct e2e_res e3 = husk("exec", "ghost", "--", NULL);
	assert_err_has(&e3, 2, "expected a command");
	assert_nothing_left("ghost");
}

Test(cli_container, exec_pause_and_resume_refuse_a_stopped_container)
{
	pid_t pid = run_detached(ID("gone"));
	int ws = 0;

	_cleanup_res_ struct e2e_res k = husk("kill", ID("gone"), "KILL", NULL);
	cr_assert(eq(int, k.status, 0), "%s", k.err);
	cr_assert(eq(int, (int)waitpid(pid, &ws, 0), (int)pid));
	assert_status(ID("gone"), "stopped");

	_cleanup_res_ struct e2e_res e = husk("exec", ID("gone"), "true", NULL);
	assert_err_has(&e, 1, "husk exec: ");
	_cleanup_res_ struct e2e_res p = husk("pause", ID("gone"), NULL);
	assert_err_has(&p, 1, "husk pause: ");
	_cleanup_res_ struct e2e_res r = husk("resume", ID("gone"), NULL);
	assert_err_has(&r, 1, "husk resume: ");
	assert_status(ID("gone"), "stopped");
	cr_assert(eq(int, box_count_children(), 0), "a failed exec left a process");
	_cleanup_res_ struct e2e_res d = husk("delete", ID("gone"), NULL);
	cr_assert(eq(int, d.status, 0), "%s", d.err);
	assert_nothing_left(ID("gone"));
}

/* ---- delete, kill and ps go through the runtime, as the shim's calls do ---- */

/* `husk run --detach` of script; returns the init's pid it printed. */
static pid_t run_script_detached(const char *id, const char *script)
{
	box_set_args(&b, script);
	box_write_cfg(&b);
	_cleanup_res_ struct e2e_res r = husk("run", "--detach", "--bundle", b.bundle, id, NULL);
	cr_assert(eq(int, r.status, 0), "husk run --detach: %s", r.err);
	long pid = strtol(r.out, NULL, 10);
	cr_assert(pid > 0, "printed '%s'", r.out);
	return (pid_t)pid;
}

static void reap(pid_t pid)
{
	cr_assert(eq(int, (int)waitpid(pid, NULL, 0), (int)pid));
}

/* Every hierarchy's cgroup dir of id (the default /husk/<id>); globfree() it. */
static void cgroup_dirs(const char *id, glob_t *g)
{
	char pattern[512];

	(void)snprintf(pattern, sizeof(pattern), "/sys/fs/cgroup/*/husk/%s", id);
	cr_assert(eq(int, glob(pattern, 0, NULL, g), 0), "no cgroup of %s", id);
}

/* The sorted pids of the cgroup dir and its nested ones (one level), as "[a,b,c]". */
static void cgroup_pids_json(const char *dir, char *out, size_t size)
{
	char pattern[600];
	glob_t g;
	long pids[512];
	size_t n = 0;

	(void)snprintf(pattern, sizeof(pattern), "%s/{cgroup.procs,*/cgroup.procs}", dir);
	cr_assert(eq(int, glob(pattern, GLOB_BRACE, NULL, &g), 0));
	for (size_t i = 0; i < g.gl_pathc; i++) {
		char *s = testutil_read_file(g.gl_pathv[i]);
		cr_assert(s != NULL, "read %s", g.gl_pathv[i]);
		for (char *p = s, *end = NULL; n < 512; p = end) {
			long v = strtol(p, &end, 10);
			if (end == p)
				break;
			pids[n++] = v;
		}
		free(s);
	}
	globfree(&g);
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && pids[j - 1] > pids[j]; j--) {
			long t = pids[j];
			pids[j] = pids[j - 1];
			pids[j - 1] = t;
		}
	size_t off = (size_t)snprintf(out, size, "[");
	for (size_t i = 0; i < n && off < size; i++)
		off += (size_t)snprintf(out + off, size - off, "%s%ld", i ? "," : "", pids[i]);
	(void)snprintf(out + off, off < size ? size - off : 0, "]\n");
}

/* How many pids the pids hierarchy lists for id and its nested cgroups. */
static size_t cgroup_pid_count(const char *id)
{
	char dir[512];
	char json[8192];
	size_t n = 0;

	box_cgroup_dir("pids", id, dir, sizeof(dir));
	cgroup_pids_json(dir, json, sizeof(json));
	for (const char *p = json; *p; p++)
		n += *p == ',';
	return strcmp(json, "[]\n") == 0 ? 0 : n + 1;
}

/* Wait (bounded) until the cgroup of id holds want processes; asserted. */
static void wait_pid_count(const char *id, size_t want)
{
	double end = now() + testutil_timeout(10);
	size_t n = cgroup_pid_count(id);

	while (n != want && now() < end) {
		struct timespec ts = {0, 10 * 1000 * 1000};
		(void)nanosleep(&ts, NULL);
		n = cgroup_pid_count(id);
	}
	cr_assert(eq(sz, n, want), "processes in the cgroup of %s", id);
}

Test(cli_container, delete_runs_the_poststop_hooks)
{
	char out[1200];
	char script[1400];

	(void)snprintf(out, sizeof(out), "%s/poststop.json", b.dir);
	(void)snprintf(script, sizeof(script), "cat > '%s'", out);
	json_object_set_new(b.cfg, "hooks",
			    json_pack("{s[{s:s,s:[s,s,s]}]}", "poststop", "path", "/bin/sh", "args",
				      "sh", "-c", script));
	pid_t pid = run_script_detached(ID("hk"), "exec sleep 100000");
	cr_assert(eq(int, access(out, F_OK), -1), "poststop ran before the delete");

	_cleanup_res_ struct e2e_res d = husk("delete", "--force", ID("hk"), NULL);
	cr_assert(eq(int, d.status, 0), "husk delete: %s", d.err);
	reap(pid);
	char *state = testutil_read_file(out);
	cr_assert(state != NULL, "the poststop hook did not run");
	json_t *j = json_loads(state, 0, NULL);
	cr_assert(j != NULL, "hook state: %s", state);
	cr_assert(eq(str, (char *)json_string_value(json_object_get(j, "id")), (char *)ID("hk")));
	cr_assert(eq(str, (char *)json_string_value(json_object_get(j, "status")), "stopped"));
	json_decref(j);
	free(state);
	assert_nothing_left(ID("hk"));
}

static bool gone(const char *path)
{
	return access(path, F_OK) < 0 && errno == ENOENT;
}

Test(cli_container, delete_of_an_oci_engine_container_runs_the_runtimes_delete)
{
	struct husk_runtime_config rc = {.root = b.state, .engine = "oci", .oci_binary = "runc"};
	struct husk_runtime *rt = NULL;
	struct husk_container *c = NULL;
	struct husk_err err = {0};
	char cg[128];
	const char *id = ID("oci");

	(void)snprintf(cg, sizeof(cg), "/husk/%s", id);
	json_object_set_new(json_object_get(b.cfg, "linux"), "cgroupsPath", json_string(cg));
	box_set_args(&b, "exec sleep 100000");
	cr_assert(eq(int, husk_runtime_open(&rc, &rt, &err), 0), "%s", err.msg);
	box_write_cfg(&b);
	struct husk_create_opts o = {.id = id, .bundle = b.bundle, .stdio = {-1, -1, -1}};
	cr_assert(eq(int, husk_container_create(rt, &o, &c, &err), 0), "%s", err.msg);
	cr_assert(eq(int, husk_container_start(c, &err), 0), "%s", err.msg);
	pid_t pid = husk_container_init(c)->pid;
	husk_container_free(c);
	husk_runtime_free(rt);

	char runc_dir[1200];
	char work[1200];
	(void)snprintf(runc_dir, sizeof(runc_dir), "%s/oci-runc/%s", b.state, id);
	(void)snprintf(work, sizeof(work), "%s/oci-work", b.state);
	cr_assert(not(gone(runc_dir) || gone(work)), "runc's state or the work dir is missing");

	_cleanup_res_ struct e2e_res d = husk("delete", "--force", id, NULL);
	cr_assert(eq(int, d.status, 0), "husk delete: %s", d.err);
	reap(pid);
	cr_assert(gone(runc_dir), "runc's state dir %s left", runc_dir);
	cr_assert(gone(work), "the work dir %s left", work);
	_cleanup_res_ struct e2e_res l = husk("list", "--format", "json", NULL);
	cr_assert(eq(str, l.out, "[]\n"), "%s", l.out);
	cr_assert(box_cgroup_gone(id), "cgroup of %s left", id);
}

/* mkdir <dir>/<rel> (a nested cgroup; cpuset's gets its parent's cpus and mems, without
 * which it takes no process) and, when pid > 0, move pid into it. */
static void nested_cgroup(const char *dir, const char *rel, pid_t pid)
{
	char sub[700];
	char parent[700];
	char path[800];

	(void)snprintf(sub, sizeof(sub), "%s/%s", dir, rel);
	cr_assert(eq(int, mkdir(sub, 0755), 0), "mkdir %s: %s", sub, strerror(errno));
	(void)snprintf(parent, sizeof(parent), "%s", sub);
	*strrchr(parent, '/') = '\0';
	static const char *const copied[] = {"cpuset.cpus", "cpuset.mems"};
	for (size_t i = 0; i < sizeof(copied) / sizeof(copied[0]); i++) {
		(void)snprintf(path, sizeof(path), "%s/%s", parent, copied[i]);
		char *v = testutil_read_file(path);
		if (!v)
			continue;
		(void)snprintf(path, sizeof(path), "%s/%s", sub, copied[i]);
		testutil_write_file(path, v);
		free(v);
	}
	if (pid <= 0)
		return;
	char p[32];
	(void)snprintf(path, sizeof(path), "%s/cgroup.procs", sub);
	(void)snprintf(p, sizeof(p), "%d", (int)pid);
	testutil_write_file(path, p);
}

Test(cli_container, delete_removes_the_nested_cgroups)
{
	pid_t pid = run_script_detached(ID("nest"), "exec sleep 100000");
	glob_t g;

	/* What a process of the container may do with a writable cgroupfs: a nested cgroup in
	 * every hierarchy, with the init moved two levels down. */
	cgroup_dirs(ID("nest"), &g);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		nested_cgroup(g.gl_pathv[i], "sub", 0);
		nested_cgroup(g.gl_pathv[i], "sub/deeper", pid);
	}
	globfree(&g);

	_cleanup_res_ struct e2e_res d = husk("delete", "--force", ID("nest"), NULL);
	cr_assert(eq(int, d.status, 0), "husk delete: %s", d.err);
	reap(pid);
	assert_nothing_left(ID("nest"));
}

/*
 * Eight loops each start a process and then kill the one before: a kill that reads the list
 * and then signals one pid after the other misses what a loop starts in between (two hundred
 * idle processes, with lower pids, come first in the list and make that walk long). --all
 * freezes the cgroup first. SIGTERM leaves the init (pid 1 of its namespace, no handler)
 * alone, so what survives besides it is what the kill missed. (The loops' shells report each
 * kill on stderr: a closed pipe there would kill them first.)
 */
Test(cli_container, kill_all_freezes_processes_that_fork)
{
	json_object_set_new(json_object_get(b.cfg, "linux"), "resources",
			    json_pack("{s{sI}}", "pids", "limit", (json_int_t)512));
	pid_t pid = run_script_detached(
		ID("fork"), "exec 2>/dev/null; "
			    "i=0; while [ $i -lt 200 ]; do sleep 100000 & i=$((i+1)); done; "
			    "for i in 1 2 3 4 5 6 7 8; do (o=0; while :; do sleep 1000 & n=$!; "
			    "[ $o = 0 ] || { kill $o; wait $o; }; o=$n; done) & done; "
			    "exec sleep 100000");
	/* Running once the init has exec'd its sleep (every process it starts is started: it
	 * ignores the TERM as a pid 1 does, and would go on starting them after the kill) and
	 * the cgroup holds it, the idle ones and each loop's shell. */
	char comm_path[64];
	(void)snprintf(comm_path, sizeof(comm_path), "/proc/%d/comm", (int)pid);
	double end = now() + testutil_timeout(10);
	for (;;) {
		char *comm = testutil_read_file(comm_path);
		bool ready =
			comm && strcmp(comm, "sleep\n") == 0 && cgroup_pid_count(ID("fork")) >= 209;
		free(comm);
		if (ready)
			break;
		cr_assert(now() < end, "the script's processes never all ran");
		struct timespec ts = {0, 10 * 1000 * 1000};
		(void)nanosleep(&ts, NULL);
	}
	_cleanup_res_ struct e2e_res k = husk("kill", "--all", ID("fork"), "TERM", NULL);
	cr_assert(eq(int, k.status, 0), "husk kill --all: %s", k.err);
	wait_pid_count(ID("fork"), 1);
	cr_assert(eq(int, kill(pid, 0), 0), "the init lives");
	kill_and_delete(ID("fork"), pid);
}

Test(cli_container, ps_lists_the_pids_of_the_cgroup_and_its_nested_ones)
{
	pid_t pid = run_script_detached(ID("ps"), "sleep 100000 & sleep 100000 & "
						  "exec sleep 100000");
	glob_t g;

	wait_pid_count(ID("ps"), 3);
	pid_t moved = box_wait_find_pid(ID("ps"), "sleep 100000");
	cgroup_dirs(ID("ps"), &g);
	for (size_t i = 0; i < g.gl_pathc; i++)
		nested_cgroup(g.gl_pathv[i], "sub", moved);
	globfree(&g);

	char dir[512];
	char want[1024];
	box_cgroup_dir("pids", ID("ps"), dir, sizeof(dir));
	cgroup_pids_json(dir, want, sizeof(want));
	_cleanup_res_ struct e2e_res r = husk("ps", "--format", "json", ID("ps"), NULL);
	cr_assert(eq(int, r.status, 0), "husk ps: %s", r.err);
	cr_assert(eq(str, r.out, want));
	kill_and_delete(ID("ps"), pid);
}
