/*
 * A detached task through a private containerd: ctr run -d, then task ls, ps, exec (with
 * and without a terminal, with stdin), pause/resume, metrics, kill, kill -a, delete.
 * Every test ends with the fixture's leak checks.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "containerd.h"
#include "testutil.h"

static struct e2e_cd *cd;

static void setup(void)
{
	cd = e2e_cd_start();
}

static void teardown(void)
{
	e2e_cd_stop(cd);
	cd = NULL;
}

TestSuite(ctr_task, .init = setup, .fini = teardown);

/* Exits 7 on SIGTERM (as pid 1 it would otherwise ignore it), else sleeps. */
#define TRAP_SCRIPT "trap 'exit 7' TERM; sleep 1000 & wait"

/* ctr run -d with no stdio (so no fifos outlive ctr); returns the task's pid. */
static pid_t run_detached(const char *id)
{
	_cleanup_res_ struct e2e_res r = e2e_ctr(cd, NULL, E2E_RUN(cd), "-d", "--null-io",
						 cd->image, id, "sh", "-c", TRAP_SCRIPT, NULL);
	cr_assert(eq(int, r.status, 0), "ctr run -d: %s", r.err);
	cr_assert(e2e_wait_task_status(cd, id, "RUNNING", 30), "task %s not running", id);
	pid_t pid = e2e_task_pid(cd, id);
	cr_assert(gt(int, (int)pid, 0));
	return pid;
}

/* ctr task rm and ctr c rm; returns ctr task rm's stderr (exit code warnings), malloc'ed. */
static char *remove_task(const char *id)
{
	_cleanup_res_ struct e2e_res rm = e2e_ctr(cd, NULL, "task", "rm", id, NULL);
	cr_assert(eq(int, rm.status, 0), "ctr task rm: %s", rm.err);
	_cleanup_res_ struct e2e_res crm = e2e_ctr(cd, NULL, "containers", "rm", id, NULL);
	cr_assert(eq(int, crm.status, 0), "ctr c rm: %s", crm.err);
	char *s = e2e_task_status(cd, id);
	cr_assert(s == NULL, "task %s still listed as %s", id, s);
	return strdup(rm.err);
}

static void kill_and_remove(const char *id, const char *signal, bool all)
{
	_cleanup_res_ struct e2e_res k =
		all ? e2e_ctr(cd, NULL, "task", "kill", "-a", "-s", signal, id, NULL)
		    : e2e_ctr(cd, NULL, "task", "kill", "-s", signal, id, NULL);
	cr_assert(eq(int, k.status, 0), "ctr task kill: %s", k.err);
	cr_assert(e2e_wait_task_status(cd, id, "STOPPED", 30));
	free(remove_task(id));
}

E2E_TEST(ctr_task, ls_ps_kill_delete)
{
	const char *id = e2e_id(cd, "life");
	pid_t pid = run_detached(id);

	/* The listed pid is the container's init, in the container's cgroup. */
	pid_t in_cg[8];
	size_t n = e2e_container_pids(cd, id, in_cg, 8);
	cr_assert(eq(sz, n, 2), "expected sh and sleep in the cgroup, got %zu", n);
	cr_assert(in_cg[0] == pid || in_cg[1] == pid, "task pid %d not in its cgroup", (int)pid);

	_cleanup_res_ struct e2e_res ps = e2e_ctr(cd, NULL, "task", "ps", id, NULL);
	cr_assert(eq(int, ps.status, 0), "ctr task ps: %s", ps.err);
	char want[32];
	(void)snprintf(want, sizeof(want), "\n%d ", (int)pid);
	cr_assert(strstr(ps.out, want) != NULL, "ps lacks pid %d: %s", (int)pid, ps.out);

	/* A running task cannot be deleted, and the failed attempt changes nothing. */
	_cleanup_res_ struct e2e_res early = e2e_ctr(cd, NULL, "task", "rm", id, NULL);
	cr_assert(ne(int, early.status, 0));
	cr_assert(strstr(early.err, "stopped") != NULL, "ctr task rm: %s", early.err);
	char *st = e2e_task_status(cd, id);
	cr_assert(eq(str, st, "RUNNING"));
	free(st);

	/* Default signal SIGTERM: the trap exits 7, which ctr task rm reports. */
	_cleanup_res_ struct e2e_res k = e2e_ctr(cd, NULL, "task", "kill", id, NULL);
	cr_assert(eq(int, k.status, 0), "ctr task kill: %s", k.err);
	cr_assert(e2e_wait_task_status(cd, id, "STOPPED", 30));
	char *warn = remove_task(id);
	cr_assert(strstr(warn, "exit code 7") != NULL, "ctr task rm: %s", warn);
	free(warn);
	cr_assert(e2e_wait_pid_gone(pid, 10));
}

E2E_TEST(ctr_task, exec_plain)
{
	const char *id = e2e_id(cd, "exec");
	run_detached(id);

	_cleanup_res_ struct e2e_res r =
		e2e_ctr(cd, NULL, E2E_EXEC(cd), "--exec-id", "x1", id, "sh", "-c",
			"echo in-exec $$; echo exec-err >&2; exit 5", NULL);
	cr_assert(eq(int, r.status, 5), "ctr task exec: %s", r.err);
	/* Same pid namespace as the init: the exec is not pid 1. */
	cr_assert(strncmp(r.out, "in-exec ", 8) == 0, "stdout: %s", r.out);
	cr_assert(strcmp(r.out, "in-exec 1\n") != 0);
	cr_assert(strstr(r.err, "exec-err\n") != NULL, "stderr: %s", r.err);

	/* The exec id is free again once the exec was waited for. */
	_cleanup_res_ struct e2e_res again =
		e2e_ctr(cd, NULL, E2E_EXEC(cd), "--exec-id", "x1", "--user", "1000", "--cwd",
			"/home/nobody", id, "sh", "-c", "id -u; pwd", NULL);
	cr_assert(eq(int, again.status, 0), "second exec x1: %s", again.err);
	cr_assert(eq(str, again.out, "1000\n/home/nobody\n"));

	kill_and_remove(id, "KILL", false);
}

E2E_TEST(ctr_task, exec_tty)
{
	const char *id = e2e_id(cd, "exectty");
	run_detached(id);

	_cleanup_res_ struct e2e_res r =
		e2e_ctr_tty(cd, E2E_EXEC(cd), "-t", "--exec-id", "t1", id, "sh", "-c",
			    "tty; [ -t 0 ] && echo on-a-tty; exit 6", NULL);
	cr_assert(eq(int, r.status, 6), "ctr task exec -t: %s%s", r.out, r.err);
	cr_assert(strstr(r.out, "/dev/pts/") != NULL, "output: %s", r.out);
	cr_assert(strstr(r.out, "on-a-tty\r") != NULL, "output: %s", r.out);

	kill_and_remove(id, "KILL", false);
}

E2E_TEST(ctr_task, exec_stdin)
{
	const char *id = e2e_id(cd, "execin");
	run_detached(id);

	/* As with ctr run, close stdin only once the exec echoed (ctr's CloseIO race). */
	struct e2e_proc *p = e2e_ctr_spawn(cd, E2E_EXEC(cd), "--exec-id", "cat", id, "cat", NULL);
	e2e_proc_write(p, "ping\n", 5);
	cr_assert(e2e_proc_wait_out(p, "ping\n", 0, testutil_timeout(30)), "no echo: %s",
		  e2e_proc_err(p));
	e2e_proc_write(p, "pong\n", 5);
	_cleanup_res_ struct e2e_res r = e2e_proc_finish(p, testutil_timeout(30));
	cr_assert(eq(int, r.status, 0), "ctr task exec cat: %s", r.err);
	cr_assert(eq(str, r.out, "ping\npong\n"));

	kill_and_remove(id, "KILL", false);
}

E2E_TEST(ctr_task, exec_detached_then_kill_all)
{
	const char *id = e2e_id(cd, "killall");
	pid_t pid = run_detached(id);

	/*
	 * ctr exec -d leaves the fifos it made (ctr owns them, not the shim): give them a
	 * dir of their own and remove it at the end.
	 */
	char *fifos = NULL;
	cr_assert(asprintf(&fifos, "%s/exec-d", cd->dir) > 0);
	_cleanup_res_ struct e2e_res x = e2e_ctr(cd, NULL, "task", "exec", "--fifo-dir", fifos,
						 "-d", "--exec-id", "bg", id, "sleep", "999", NULL);
	cr_assert(eq(int, x.status, 0), "ctr task exec -d: %s", x.err);

	_cleanup_res_ struct e2e_res ps = e2e_ctr(cd, NULL, "task", "ps", id, NULL);
	cr_assert(eq(int, ps.status, 0), "ctr task ps: %s", ps.err);
	/* Header, the init, its sleep child, the exec. */
	size_t lines = 0;
	for (const char *c = ps.out; *c; c++)
		lines += *c == '\n';
	cr_assert(eq(sz, lines, 4), "ctr task ps: %s", ps.out);

	pid_t pids[8];
	size_t n = e2e_container_pids(cd, id, pids, 8);
	cr_assert(eq(sz, n, 3));

	kill_and_remove(id, "KILL", true);
	for (size_t i = 0; i < n; i++)
		cr_assert(e2e_wait_pid_gone(pids[i], 10), "pid %d survived kill -a", (int)pids[i]);
	cr_assert(e2e_wait_pid_gone(pid, 10));
	char *rm[] = {"rm", "-rf", fifos, NULL};
	_cleanup_res_ struct e2e_res r = e2e_run(rm, NULL, NULL, testutil_timeout(30));
	cr_assert(eq(int, r.status, 0));
	free(fifos);
}

E2E_TEST(ctr_task, pause_resume)
{
	const char *id = e2e_id(cd, "pause");
	run_detached(id);

	_cleanup_res_ struct e2e_res p = e2e_ctr(cd, NULL, "task", "pause", id, NULL);
	cr_assert(eq(int, p.status, 0), "ctr task pause: %s", p.err);
	char *st = e2e_task_status(cd, id);
	cr_assert(eq(str, st, "PAUSED"));
	free(st);

	_cleanup_res_ struct e2e_res r = e2e_ctr(cd, NULL, "task", "resume", id, NULL);
	cr_assert(eq(int, r.status, 0), "ctr task resume: %s", r.err);
	st = e2e_task_status(cd, id);
	cr_assert(eq(str, st, "RUNNING"));
	free(st);

	/* Resumed for real: an exec runs and SIGTERM is handled by the trap. */
	_cleanup_res_ struct e2e_res x =
		e2e_ctr(cd, NULL, E2E_EXEC(cd), "--exec-id", "after", id, "true", NULL);
	cr_assert(eq(int, x.status, 0), "exec after resume: %s", x.err);
	_cleanup_res_ struct e2e_res k = e2e_ctr(cd, NULL, "task", "kill", id, NULL);
	cr_assert(eq(int, k.status, 0), "ctr task kill: %s", k.err);
	cr_assert(e2e_wait_task_status(cd, id, "STOPPED", 30));
	char *warn = remove_task(id);
	cr_assert(strstr(warn, "exit code 7") != NULL, "ctr task rm: %s", warn);
	free(warn);
}

/* Pause or resume the task behind the shim's back with the runtime's own CLI: `husk` over
 * the shim's state root, or `runc` over the runc shim's. */
static void runtime_cli(const char *verb, const char *id)
{
	char root[512];
	char *husk = testutil_binary_path("runtime/cli/husk");
	(void)snprintf(root, sizeof(root), "/run/containerd/%s/%s", cd->husk ? "husk" : "runc",
		       cd->ns);
	char *argv[] = {
		cd->husk ? husk : (char *)"runc", "--root", root, (char *)verb, (char *)id, NULL};
	_cleanup_res_ struct e2e_res r = e2e_run(argv, NULL, NULL, 30);
	cr_assert(eq(int, r.status, 0), "%s %s: %s", argv[0], verb, r.err);
	free(husk);
}

/* What another process did to the container is what the shim acts on: after a pause made
 * with the runtime's CLI an exec is refused at once (the shim does not exec into a frozen
 * cgroup and time out), until the CLI resumes it. (State keeps saying RUNNING: the runc
 * shim answers it from its own state machine.) */
E2E_TEST(ctr_task, a_pause_made_outside_the_shim_is_seen)
{
	const char *id = e2e_id(cd, "xpause");
	run_detached(id);

	runtime_cli("pause", id);
	_cleanup_res_ struct e2e_res x =
		e2e_ctr(cd, NULL, E2E_EXEC(cd), "--exec-id", "frozen", id, "true", NULL);
	cr_assert(ne(int, x.status, 0), "exec in a paused container succeeded");
	cr_assert(strstr(x.err, "paused") != NULL, "exec in a paused container: %s", x.err);

	runtime_cli("resume", id);
	_cleanup_res_ struct e2e_res y =
		e2e_ctr(cd, NULL, E2E_EXEC(cd), "--exec-id", "thawed", id, "true", NULL);
	cr_assert(eq(int, y.status, 0), "exec after resume: %s", y.err);
	kill_and_remove(id, "SIGKILL", false);
}

E2E_TEST(ctr_task, metrics)
{
	const char *id = e2e_id(cd, "metrics");
	run_detached(id);

	_cleanup_res_ struct e2e_res m = e2e_ctr(cd, NULL, "task", "metrics", id, NULL);
	cr_assert(eq(int, m.status, 0), "ctr task metrics: %s", m.err);
	cr_assert(strstr(m.out, "METRIC") != NULL, "metrics: %s", m.out);
	/* sh and sleep: two pids in the container's cgroup. */
	const char *pc = strstr(m.out, "pids.current");
	cr_assert(pc != NULL, "metrics: %s", m.out);
	cr_assert(eq(long, strtol(pc + strlen("pids.current"), NULL, 10), 2), "metrics: %s", m.out);

	_cleanup_res_ struct e2e_res j =
		e2e_ctr(cd, NULL, "task", "metrics", "--format", "json", id, NULL);
	cr_assert(eq(int, j.status, 0), "ctr task metrics json: %s", j.err);
	cr_assert(strstr(j.out, "\"memory\"") != NULL, "metrics: %s", j.out);
	cr_assert(strstr(j.out, "\"cpu\"") != NULL, "metrics: %s", j.out);

	kill_and_remove(id, "KILL", false);
}

E2E_TEST(ctr_task, sigkill_reports_137)
{
	const char *id = e2e_id(cd, "k9");
	run_detached(id);
	_cleanup_res_ struct e2e_res k = e2e_ctr(cd, NULL, "task", "kill", "-s", "KILL", id, NULL);
	cr_assert(eq(int, k.status, 0), "ctr task kill: %s", k.err);
	cr_assert(e2e_wait_task_status(cd, id, "STOPPED", 30));
	char *warn = remove_task(id);
	cr_assert(strstr(warn, "exit code 137") != NULL, "ctr task rm: %s", warn);
	free(warn);
}

E2E_TEST(ctr_task, start_created_task)
{
	/*
	 * ctr c create + ctr task start: the Create and Start calls as separate commands.
	 * "--": ctr c create reorders flags, and would take sh's -c for its --config.
	 */
	const char *id = e2e_id(cd, "created");
	_cleanup_res_ struct e2e_res c =
		e2e_ctr(cd, NULL, "containers", "create", "--runtime", cd->runtime, cd->image, id,
			"--", "sh", "-c", "echo started; exit 2", NULL);
	cr_assert(eq(int, c.status, 0), "ctr c create: %s", c.err);
	_cleanup_res_ struct e2e_res s =
		e2e_ctr(cd, NULL, "task", "start", "--fifo-dir", cd->fifo_dir, id, NULL);
	cr_assert(eq(int, s.status, 2), "ctr task start: %s", s.err);
	cr_assert(eq(str, s.out, "started\n"));
	/* ctr task start deletes the task once it exits; the container stays. */
	cr_assert(e2e_wait_task_status(cd, id, NULL, 10));
	_cleanup_res_ struct e2e_res crm = e2e_ctr(cd, NULL, "containers", "rm", id, NULL);
	cr_assert(eq(int, crm.status, 0), "ctr c rm: %s", crm.err);
}
