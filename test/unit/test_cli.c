/*
 * The husk CLI, run as a built binary against temp roots: outputs and exit codes.
 * Commands that signal through pidfds are skipped under valgrind (it turns pidfd_open into
 * ENOSYS for the traced CLI too).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/wait.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "husk/err.h"
#include "husk/process.h"
#include "husk/state.h"
#include "state_test.h"
#include "testutil.h"

static char *dir;
static struct husk_state_root *root;

struct run {
	int status; /* exit code, or 128+signal */
	char *out;
	char *err;
};

static void setup(void)
{
	dir = testutil_tmpdir("cli");
	cr_assert(eq(int, husk_state_root_open(dir, &root, NULL), 0));
}

static void teardown(void)
{
	root = husk_state_root_free(root);
	testutil_rmtree_free(dir);
}

TestSuite(cli, .init = setup, .fini = teardown, .timeout = 60);

static void run_done(struct run *r)
{
	free(r->out);
	free(r->err);
}

/* Run `husk --root <dir> args...` (NULL-terminated), capturing both streams. */
static struct run husk(const char *arg, ...)
{
	char *bin = testutil_binary_path("runtime/cli/husk");
	char *argv[32] = {bin, "--root", dir};
	int n = 3;
	va_list ap;
	va_start(ap, arg);
	for (const char *a = arg; a && n < 31; a = va_arg(ap, const char *))
		argv[n++] = (char *)a;
	va_end(ap);
	argv[n] = NULL;

	char *outp = NULL, *errp = NULL;
	cr_assert(asprintf(&outp, "%s.out", dir) > 0 && asprintf(&errp, "%s.err", dir) > 0);
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		int o = open(outp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		int e = open(errp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
			_exit(126);
		execv(bin, argv);
		_exit(127);
	}
	int ws = 0;
	cr_assert(eq(int, waitpid(pid, &ws, 0), pid));
	struct run r = {0};
	r.status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
	r.out = testutil_read_file(outp);
	r.err = testutil_read_file(errp);
	cr_assert(r.out && r.err);
	(void)unlink(outp);
	(void)unlink(errp);
	free(outp);
	free(errp);
	free(bin);
	cr_assert(r.status != 127, "cannot exec the husk binary");
	return r;
}

#define assert_has(hay, needle) \
	cr_assert(strstr((hay), (needle)) != NULL, "no '%s' in:\n%s", (needle), (hay))
#define assert_lacks(hay, needle) \
	cr_assert(strstr((hay), (needle)) == NULL, "'%s' in:\n%s", (needle), (hay))

/* One good (init: this test process), one stale (init gone), one corrupt file. */
static void prepare_root(void)
{
	state_test_put(root, "pod", "good", HUSK_STATUS_RUNNING, getpid());
	state_test_put(root, "pod", "stale", HUSK_STATUS_RUNNING, state_test_dead_pid());
	testutil_write_file(state_test_path(dir, "corrupt_sandbox:pod.state"), "{\"version\": 1,");
}

Test(cli, list_good_stale_corrupt)
{
	prepare_root();
	struct run r = husk("list", NULL);
	cr_assert(eq(int, r.status, 0), "%s", r.err);
	assert_has(r.out, "ID");
	assert_has(r.out, "STATUS");
	cr_assert(strstr(r.out, "good") < strstr(r.out, "stale"), "sorted:\n%s", r.out);
	assert_has(strstr(r.out, "good"), "running");
	assert_has(strstr(r.out, "stale"), "stopped");
	assert_lacks(r.out, "corrupt");
	assert_has(r.err, "skipping state file 'corrupt_sandbox:pod.state'");
	run_done(&r);

	r = husk("list", "--format", "json", NULL);
	cr_assert(eq(int, r.status, 0), "%s", r.err);
	assert_has(r.out, "\"id\": \"good\", \"sandbox\": \"pod\"");
	assert_has(r.out, "\"status\": \"stopped\"");
	cr_assert(r.out[0] == '[');
	run_done(&r);

	r = husk("list", "--sandbox", "nosuch", "--format", "json", NULL);
	cr_assert(eq(int, r.status, 0));
	cr_assert(eq(str, r.out, "[]\n"));
	run_done(&r);
}

Test(cli, list_of_missing_root_is_empty_and_creates_nothing)
{
	char *bin = testutil_binary_path("runtime/cli/husk");
	char *missing = NULL;
	cr_assert(asprintf(&missing, "%s/not/there", dir) > 0);
	char cmd[8192];
	(void)snprintf(cmd, sizeof(cmd), "'%s' --root '%s' list --format json >/dev/null", bin,
		       missing);
	cr_assert(eq(int, system(cmd), 0));
	cr_assert(eq(int, access(missing, F_OK), -1), "list must not create the root");
	free(missing);
	free(bin);
}

Test(cli, state_by_id_and_prefix)
{
	prepare_root();
	struct run r = husk("state", "good", NULL);
	cr_assert(eq(int, r.status, 0), "%s", r.err);
	assert_has(r.out, "\"container_id\": \"good\"");
	assert_has(r.out, "\"status\": \"running\"");
	run_done(&r);

	r = husk("state", "st", NULL);
	cr_assert(eq(int, r.status, 0), "%s", r.err);
	assert_has(r.out, "\"container_id\": \"stale\"");
	assert_has(r.out, "\"status\": \"stopped\"");
	assert_has(r.err, "is gone");
	run_done(&r);

	r = husk("state", "nope", NULL);
	cr_assert(eq(int, r.status, 1));
	cr_assert(eq(str, r.out, ""));
	assert_has(r.err, "husk state: container 'nope' not found");
	run_done(&r);

	r = husk("state", "corrupt", NULL);
	cr_assert(eq(int, r.status, 1));
	assert_has(r.err, "state file 'corrupt_sandbox:pod.state'");
	run_done(&r);

	state_test_put(root, "pod", "goodbye", HUSK_STATUS_CREATING, 0);
	r = husk("state", "goo", NULL);
	cr_assert(eq(int, r.status, 1));
	assert_has(r.err, "ambiguous container id prefix 'goo': matches 'good' and 'goodbye'");
	run_done(&r);
}

Test(cli, debug_reports_everything)
{
	prepare_root();
	testutil_write_file(state_test_path(dir, "orphan_sandbox:pod.lock"), "");
	struct run r = husk("debug", NULL);
	cr_assert(eq(int, r.status, 0), "%s", r.err);
	assert_has(r.out, "container good");
	assert_has(r.out, "container stale");
	assert_has(r.out, "failed to load corrupt_sandbox:pod.state: state file");
	assert_has(r.out, "leftover orphan_sandbox:pod.lock: lock file without a state file");
	assert_has(r.out, "summary: 2 container(s), 1 file(s) failed to load");
	char want[64];
	(void)snprintf(want, sizeof(want), "pid %d, start time", (int)getpid());
	assert_has(r.out, want);
	assert_has(strstr(r.out, "container stale"), ": gone");
	assert_has(r.out, "lock:        free");
	run_done(&r);

	r = husk("debug", "corrupt", NULL);
	cr_assert(eq(int, r.status, 0), "%s", r.err);
	assert_has(r.out, "failed to load corrupt_sandbox:pod.state");
	assert_lacks(r.out, "container good");
	run_done(&r);

	r = husk("debug", "nope", NULL);
	cr_assert(eq(int, r.status, 1));
	run_done(&r);
}

Test(cli, usage_errors_exit_2)
{
	const char *cases[][4] = {
		{"bogus", NULL},
		{"kill", NULL},
		{"kill", "good", "NOTASIG", NULL},
		{"kill", "good", "9", "extra"},
		{"list", "extra", NULL},
		{"list", "--format", "xml", NULL},
		{"state", NULL},
		{"delete", NULL},
		{"delete", "--nope", "x", NULL},
		{"ps", NULL},
		{"debug", "bad/id", NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct run r = husk(cases[i][0], cases[i][1], cases[i][2], cases[i][3], NULL);
		cr_assert(eq(int, r.status, 2), "%s %s: %d\n%s", cases[i][0],
			  cases[i][1] ? cases[i][1] : "", r.status, r.err);
		cr_assert(strlen(r.err) > 0);
		run_done(&r);
	}
	struct run r = husk("--help", NULL);
	cr_assert(eq(int, r.status, 0));
	assert_has(r.out, "commands:");
	run_done(&r);
}

Test(cli, delete_stopped_is_idempotent_and_live_needs_force)
{
	prepare_root();
	struct run r = husk("delete", "stale", NULL);
	cr_assert(eq(int, r.status, 0), "%s", r.err);
	cr_assert(state_test_exists(dir, "stale_sandbox:pod.state") == false);
	cr_assert(state_test_exists(dir, "stale_sandbox:pod.lock") == false);
	run_done(&r);
	r = husk("delete", "stale", NULL);
	cr_assert(eq(int, r.status, 0), "%s", r.err);
	assert_has(r.err, "not found, nothing to delete");
	run_done(&r);

	/* The init is this very test process: refuse. */
	r = husk("delete", "good", NULL);
	cr_assert(eq(int, r.status, 1));
	assert_has(r.err, "cannot delete container in 'running' state without force");
	cr_assert(state_test_exists(dir, "good_sandbox:pod.state"));
	run_done(&r);

	/* A prefix is not enough to delete. */
	r = husk("delete", "goo", NULL);
	cr_assert(eq(int, r.status, 1));
	assert_has(r.err, "delete needs the full container id");
	run_done(&r);

	/* An unreadable file goes only with --force. */
	r = husk("delete", "corrupt", NULL);
	cr_assert(eq(int, r.status, 1));
	cr_assert(state_test_exists(dir, "corrupt_sandbox:pod.state"));
	run_done(&r);
	r = husk("delete", "--force", "corrupt", NULL);
	cr_assert(eq(int, r.status, 0), "%s", r.err);
	cr_assert(state_test_exists(dir, "corrupt_sandbox:pod.state") == false);
	run_done(&r);
}

static pid_t spawn_sleeper(void)
{
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		for (;;)
			pause();
	}
	return pid;
}

static void skip_under_valgrind(void)
{
	if (getenv("HUSK_VALGRIND"))
		cr_skip_test("valgrind has no pidfd_open");
}

Test(cli, ps_and_kill_without_cgroup)
{
	skip_under_valgrind();
	pid_t pid = spawn_sleeper();
	state_test_put(root, "pod", "live", HUSK_STATUS_RUNNING, pid);

	struct run r = husk("ps", "live", NULL);
	cr_assert(eq(int, r.status, 0), "%s", r.err);
	char want[64];
	(void)snprintf(want, sizeof(want), "PID\n%d\n", (int)pid);
	cr_assert(eq(str, r.out, want));
	run_done(&r);
	r = husk("ps", "--format", "json", "live", NULL);
	(void)snprintf(want, sizeof(want), "[%d]\n", (int)pid);
	cr_assert(eq(str, r.out, want));
	run_done(&r);

	r = husk("kill", "live", "SIGUSR1", NULL);
	cr_assert(eq(int, r.status, 0), "%s", r.err);
	run_done(&r);
	int ws = 0;
	cr_assert(eq(int, waitpid(pid, &ws, 0), pid));
	cr_assert(0 != WIFSIGNALED(ws) && WTERMSIG(ws) == SIGUSR1, "wait status %d", ws);

	/* Its init is gone now: the container reads as stopped, kill fails clearly. */
	r = husk("kill", "live", "9", NULL);
	cr_assert(eq(int, r.status, 1));
	assert_has(r.err, "is not running");
	run_done(&r);
	r = husk("ps", "live", NULL);
	cr_assert(eq(int, r.status, 0));
	cr_assert(eq(str, r.out, "PID\n"));
	run_done(&r);
}

Test(cli, kill_all_without_cgroup_signals_the_init)
{
	skip_under_valgrind();
	pid_t pid = spawn_sleeper();
	state_test_put(root, "pod", "live", HUSK_STATUS_RUNNING, pid);
	struct run r = husk("kill", "--all", "live", "term", NULL);
	cr_assert(eq(int, r.status, 0), "%s", r.err);
	run_done(&r);
	int ws = 0;
	cr_assert(eq(int, waitpid(pid, &ws, 0), pid));
	cr_assert(0 != WIFSIGNALED(ws) && WTERMSIG(ws) == SIGTERM, "wait status %d", ws);
}

Test(cli, delete_force_kills_then_removes)
{
	skip_under_valgrind();
	pid_t pid = spawn_sleeper();
	state_test_put(root, "pod", "live", HUSK_STATUS_RUNNING, pid);
	struct run r = husk("delete", "--force", "live", NULL);
	cr_assert(eq(int, r.status, 0), "%s", r.err);
	run_done(&r);
	int ws = 0;
	cr_assert(eq(int, waitpid(pid, &ws, 0), pid));
	cr_assert(0 != WIFSIGNALED(ws) && WTERMSIG(ws) == SIGKILL, "wait status %d", ws);
	cr_assert(eq(int, state_test_count_entries(dir), 0));
	r = husk("delete", "--force", "live", NULL);
	cr_assert(eq(int, r.status, 0), "idempotent: %s", r.err);
	run_done(&r);
}

/*
 * A state file an earlier boot left (a disk-backed /run): its init pid and start time
 * belong to that boot; here they name a live process of this one, which must be left alone.
 */
Test(cli, file_of_an_earlier_boot_is_stale)
{
	pid_t pid = spawn_sleeper();
	uint64_t st = 0;
	cr_assert(eq(int, husk_proc_start_time(pid, &st, NULL), 0));
	char doc[1024];
	(void)snprintf(doc, sizeof(doc),
		       "{\"version\":1,\"container_id\":\"old\",\"sandbox_id\":\"pod\","
		       "\"bundle\":\"/b\",\"status\":\"running\",\"created_ns\":5,\"owner\":0,"
		       "\"engine\":\"native\",\"init_pid\":%d,\"init_start_time\":%llu,"
		       "\"boot_id\":\"00000000-1111-2222-3333-444444444444\"}",
		       (int)pid, (unsigned long long)st);
	testutil_write_file(state_test_path(dir, "old_sandbox:pod.state"), doc);

	struct run r = husk("list", NULL);
	cr_assert(eq(int, r.status, 0), "%s", r.err);
	assert_has(strstr(r.out, "old"), "stale");
	assert_has(r.err, "from an earlier boot");
	run_done(&r);
	r = husk("list", "--format", "json", NULL);
	cr_assert(eq(int, r.status, 0), "%s", r.err);
	assert_has(r.out, "\"status\": \"stopped\"");
	assert_has(r.out, "\"stale\": true");
	run_done(&r);

	r = husk("debug", "old", NULL);
	cr_assert(eq(int, r.status, 0), "%s", r.err);
	assert_has(r.out, "an earlier boot: stale");
	assert_has(r.out, "init:        none");
	run_done(&r);

	/* No --force needed, and nothing is killed. */
	r = husk("delete", "old", NULL);
	cr_assert(eq(int, r.status, 0), "%s", r.err);
	run_done(&r);
	cr_assert(eq(int, state_test_count_entries(dir), 0));
	cr_assert(eq(int, kill(pid, 0), 0), "the process of this boot lives");
	cr_assert(eq(int, kill(pid, SIGKILL), 0));
	cr_assert(eq(int, waitpid(pid, NULL, 0), pid));
}

/* check reads the host's mounts and names the cgroup mode and favordynmods; it changes
 * nothing. */
Test(cli, check_reports_cgroup_mode_and_favordynmods)
{
	char *before = testutil_read_file("/proc/self/mountinfo");
	struct run r = husk("check", NULL);
	cr_assert(eq(int, r.status, 0), "%s", r.err);
	cr_assert(strncmp(r.out, "cgroup: ", 8) == 0, "%s", r.out);
	cr_assert(strstr(r.out, "\nfavordynmods: ") != NULL, "%s", r.out);
	run_done(&r);
	char *after = testutil_read_file("/proc/self/mountinfo");
	cr_assert(eq(str, after, before));
	free(before);
	free(after);
	r = husk("check", "extra", NULL);
	cr_assert(eq(int, r.status, 2));
	run_done(&r);
}
