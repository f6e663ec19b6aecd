/*
 * Crashes around a running task: the shim SIGKILLed, containerd restarted, the task
 * exiting while containerd is down. Afterwards nothing may be left: no process, socket,
 * fifo, state file, cgroup or mount (the fixture's leak checks run after every test).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <criterion/criterion.h>
#include <criterion/logging.h>
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

TestSuite(crash, .init = setup, .fini = teardown);

#define TRAP_SCRIPT "trap 'exit 7' TERM; sleep 1000 & wait"

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

static char *remove_stopped(const char *id)
{
	_cleanup_res_ struct e2e_res rm = e2e_ctr(cd, NULL, "task", "rm", id, NULL);
	cr_assert(eq(int, rm.status, 0), "ctr task rm: %s", rm.err);
	_cleanup_res_ struct e2e_res crm = e2e_ctr(cd, NULL, "containers", "rm", id, NULL);
	cr_assert(eq(int, crm.status, 0), "ctr c rm: %s", crm.err);
	return strdup(rm.err);
}

/*
 * SIGKILL the test's only shim, then remove the task and container as a user would: containerd
 * notices the dead shim, runs `<shim> delete` and drops the task by itself; ctr task rm -f
 * either wins that race or finds the task gone. The container's processes must all go.
 */
static void kill_shim_and_remove(const char *id, pid_t init, const pid_t *procs, size_t n)
{
	pid_t shims[4];
	cr_assert(eq(sz, e2e_shim_pids(cd, shims, 4), 1), "expected one %s", cd->shim);
	cr_assert(eq(int, kill(shims[0], SIGKILL), 0));
	cr_assert(e2e_wait_pid_gone(shims[0], 10));

	_cleanup_res_ struct e2e_res rm = e2e_ctr(cd, NULL, "task", "rm", "-f", id, NULL);
	cr_assert(rm.status == 0 || strstr(rm.err, "not found") != NULL, "ctr task rm -f: %s",
		  rm.err);
	cr_assert(e2e_wait_task_status(cd, id, NULL, 30), "task still listed");
	_cleanup_res_ struct e2e_res crm = e2e_ctr(cd, NULL, "containers", "rm", id, NULL);
	cr_assert(eq(int, crm.status, 0), "ctr c rm: %s", crm.err);
	for (size_t i = 0; i < n; i++)
		cr_assert(e2e_wait_pid_gone(procs[i], 10), "container pid %d survived",
			  (int)procs[i]);
	cr_assert(e2e_wait_pid_gone(init, 10));
}

E2E_TEST(crash, shim_sigkill_then_rm)
{
	const char *id = e2e_id(cd, "shimkill");
	pid_t init = run_detached(id);
	pid_t procs[8];
	size_t n = e2e_container_pids(cd, id, procs, 8);
	cr_assert(eq(sz, n, 2), "expected sh and sleep, got %zu", n);

	pid_t shims[4];
	cr_assert(eq(sz, e2e_shim_pids(cd, shims, 4), 1), "expected one %s", cd->shim);
	char *sock = e2e_shim_socket(cd, id);
	cr_assert(eq(int, access(sock, F_OK), 0), "shim socket %s: %s", sock, strerror(errno));

	kill_shim_and_remove(id, init, procs, n);

	if (!cd->husk && access(sock, F_OK) == 0) {
		/* Known reference gap: containerd-shim-runc-v2 1.6 leaves its socket behind. */
		cr_log_info("%s left %s after SIGKILL (known); removing it", cd->shim, sock);
		(void)unlink(sock);
	}
	free(sock);
}

/* A state file truncated (a full disk, a crash mid-write of another tool) and then the shim
 * SIGKILLed: containerd's delete action finds the container's processes and cgroup from its
 * bundle and removes them; nothing is left (the fixture's checks). The reference leaks the
 * container's processes in the same case (runc delete cannot read its state either). */
E2E_TEST(crash, truncated_state_then_shim_sigkill)
{
	if (!cd->husk)
		cr_skip_test("containerd-shim-runc-v2 + runc leak this container: husk only");
	const char *id = e2e_id(cd, "truncated");
	pid_t init = run_detached(id);
	pid_t procs[8];
	size_t n = e2e_container_pids(cd, id, procs, 8);
	cr_assert(eq(sz, n, 2), "expected sh and sleep, got %zu", n);

	char path[512];
	(void)snprintf(path, sizeof(path), "/run/containerd/husk/%s/%s_sandbox:%s.state", cd->ns,
		       id, id);
	cr_assert(eq(int, truncate(path, 17), 0), "truncate %s: %s", path, strerror(errno));
	kill_shim_and_remove(id, init, procs, n);
	/* The delete action removes the state files last, after the processes are gone. */
	struct timespec tick = {0, 10 * 1000 * 1000};
	for (int i = 0; access(path, F_OK) == 0 && i < (int)(testutil_timeout(10) * 100); i++)
		(void)nanosleep(&tick, NULL);
	cr_assert(ne(int, access(path, F_OK), 0), "%s is still there", path);
}

E2E_TEST(crash, containerd_restart_keeps_task)
{
	const char *id = e2e_id(cd, "restart");
	pid_t init = run_detached(id);
	pid_t shims[4];
	cr_assert(eq(sz, e2e_shim_pids(cd, shims, 4), 1));

	e2e_cd_restart(cd);

	/* Same task, same shim: containerd reconnected through the bundle's address file. */
	char *st = e2e_task_status(cd, id);
	cr_assert(eq(str, st, "RUNNING"));
	free(st);
	cr_assert(eq(int, (int)e2e_task_pid(cd, id), (int)init));
	pid_t after[4];
	cr_assert(eq(sz, e2e_shim_pids(cd, after, 4), 1));
	cr_assert(eq(int, (int)after[0], (int)shims[0]));

	_cleanup_res_ struct e2e_res x = e2e_ctr(cd, NULL, E2E_EXEC(cd), "--exec-id", "post", id,
						 "echo", "still here", NULL);
	cr_assert(eq(int, x.status, 0), "exec after restart: %s", x.err);
	cr_assert(eq(str, x.out, "still here\n"));

	_cleanup_res_ struct e2e_res k = e2e_ctr(cd, NULL, "task", "kill", id, NULL);
	cr_assert(eq(int, k.status, 0), "ctr task kill: %s", k.err);
	cr_assert(e2e_wait_task_status(cd, id, "STOPPED", 30));
	char *warn = remove_stopped(id);
	cr_assert(strstr(warn, "exit code 7") != NULL, "ctr task rm: %s", warn);
	free(warn);
	cr_assert(e2e_wait_pid_gone(init, 10));
}

/* Connections held on the shim's socket by a local process that reconnects whenever one
 * is closed: it never sends a byte. */
#define FLOOD_CONNECTIONS 300

static int flood_connect(const char *path)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	(void)snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		_exit(0); /* the shim is gone: nothing left to hold */
	return fd;
}

static void __attribute__((noreturn)) flood_main(const char *path)
{
	struct pollfd p[FLOOD_CONNECTIONS];

	for (int i = 0; i < FLOOD_CONNECTIONS; i++)
		p[i] = (struct pollfd){.fd = flood_connect(path), .events = POLLRDHUP};
	for (;;) {
		if (poll(p, FLOOD_CONNECTIONS, -1) < 0)
			_exit(1);
		for (int i = 0; i < FLOOD_CONNECTIONS; i++) {
			if (!p[i].revents)
				continue;
			(void)close(p[i].fd);
			p[i].fd = flood_connect(path);
		}
	}
}

/* A restarted containerd reconnects to the shim while another local process keeps its
 * free connection slots taken: the task stays running and served. */
E2E_TEST(crash, containerd_restart_under_a_connection_flood)
{
	const char *id = e2e_id(cd, "flood");
	pid_t init = run_detached(id);
	char *sock = e2e_shim_socket(cd, id);

	pid_t flood = fork();
	cr_assert(ge(int, flood, 0));
	if (flood == 0)
		flood_main(sock);
	free(sock);

	e2e_cd_restart(cd);
	char *st = e2e_task_status(cd, id);
	cr_expect(eq(str, st ? st : "(none)", "RUNNING"), "the task survived the restart");
	free(st);
	cr_expect(eq(int, (int)e2e_task_pid(cd, id), (int)init));
	_cleanup_res_ struct e2e_res x = e2e_ctr(cd, NULL, E2E_EXEC(cd), "--exec-id", "post", id,
						 "echo", "still here", NULL);
	cr_expect(eq(int, x.status, 0), "exec after restart: %s", x.err);

	cr_assert(eq(int, kill(flood, SIGKILL), 0));
	cr_assert(eq(int, waitpid(flood, NULL, 0), flood));
	cr_assert(eq(str, x.out, "still here\n"));
	_cleanup_res_ struct e2e_res k = e2e_ctr(cd, NULL, "task", "kill", "-s", "KILL", id, NULL);
	cr_assert(eq(int, k.status, 0), "ctr task kill: %s", k.err);
	cr_assert(e2e_wait_task_status(cd, id, "STOPPED", 30));
	free(remove_stopped(id));
	cr_assert(e2e_wait_pid_gone(init, 10));
}

E2E_TEST(crash, task_exits_while_containerd_down)
{
	const char *id = e2e_id(cd, "downexit");
	pid_t init = run_detached(id);

	/* Stop containerd, kill the container's init from outside, start containerd again. */
	char *script = testutil_source_path("hack/containerd.sh");
	char *argv[] = {"bash", script, "kill", cd->dir, NULL};
	_cleanup_res_ struct e2e_res down = e2e_run(argv, NULL, NULL, testutil_timeout(60));
	free(script);
	cr_assert(eq(int, down.status, 0), "containerd.sh kill: %s", down.err);
	cr_assert(eq(int, kill(init, SIGKILL), 0));
	cr_assert(e2e_wait_pid_gone(init, 10));
	e2e_cd_restart(cd);

	/* The shim kept the exit status while nobody listened. */
	cr_assert(e2e_wait_task_status(cd, id, "STOPPED", 30));
	char *warn = remove_stopped(id);
	cr_assert(strstr(warn, "exit code 137") != NULL, "ctr task rm: %s", warn);
	free(warn);
}
