/*
 * The husk CLI against real cgroups: `ps` lists the container's cgroup, `kill --all` and
 * `delete --force` reach every process in it, also in a cgroup that only one hierarchy (no
 * freezer) holds.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>
#include <sys/wait.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "husk/process.h"
#include "husk/state.h"
#include "state_test.h"
#include "testutil.h"

#define HIERARCHY "/sys/fs/cgroup/pids"

static char *dir;
static struct husk_state_root *root;
static char cgname[64];
static char cgdir[128];

static void setup(void)
{
	cr_assert(testutil_is_root(), "this suite needs root");
	dir = testutil_tmpdir("cli-cg");
	cr_assert(eq(int, husk_state_root_open(dir, &root, NULL), 0));
	(void)snprintf(cgname, sizeof(cgname), "husk-test-cli-%d", (int)getpid());
	(void)snprintf(cgdir, sizeof(cgdir), HIERARCHY "/%s", cgname);
	cr_assert(eq(int, mkdir(cgdir, 0755), 0), "mkdir %s: %s", cgdir, strerror(errno));
}

static void teardown(void)
{
	(void)rmdir(cgdir);
	root = husk_state_root_free(root);
	testutil_rmtree_free(dir);
}

TestSuite(cli_cgroup, .init = setup, .fini = teardown, .timeout = 60);

/* A sleeper already moved into the test cgroup when this returns. */
static pid_t sleeper_in_cgroup(void)
{
	int sync[2];
	cr_assert(eq(int, pipe2(sync, O_CLOEXEC), 0));
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		char procs[256];
		(void)snprintf(procs, sizeof(procs), "%s/cgroup.procs", cgdir);
		int fd = open(procs, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, "0", 1) != 1)
			_exit(1);
		(void)write(sync[1], "x", 1);
		for (;;)
			pause();
	}
	close(sync[1]);
	char c;
	cr_assert(eq(int, (int)read(sync[0], &c, 1), 1), "child failed to join the cgroup");
	close(sync[0]);
	return pid;
}

static int run_husk(const char *a, const char *b, const char *c, const char *d, char **out)
{
	char *bin = testutil_binary_path("runtime/cli/husk");
	char cmd[8192];
	(void)snprintf(cmd, sizeof(cmd), "'%s' --root '%s' %s %s %s %s", bin, dir, a, b ? b : "",
		       c ? c : "", d ? d : "");
	FILE *p = popen(cmd, "re");
	cr_assert(p != NULL);
	char *buf = calloc(1, 65536);
	size_t n = fread(buf, 1, 65535, p);
	buf[n] = '\0';
	int st = pclose(p);
	free(bin);
	if (out)
		*out = buf;
	else
		free(buf);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void put_container(const char *id, pid_t init)
{
	struct husk_state s;
	state_test_fill(&s, "pod", id, HUSK_STATUS_RUNNING);
	s.init_pid = init;
	cr_assert(eq(int, husk_proc_start_time(init, &s.init_start_time, NULL), 0));
	char cg[80];
	(void)snprintf(cg, sizeof(cg), "/%s", cgname);
	s.cgroup_path = strdup(cg);
	struct husk_state_handle *h = NULL;
	cr_assert(eq(int, husk_state_create(root, &s, &h, NULL), 0));
	husk_state_handle_free(h);
	husk_state_done(&s);
}

static void assert_killed(pid_t pid, int sig)
{
	int ws = 0;
	cr_assert(eq(int, waitpid(pid, &ws, 0), pid));
	cr_assert(0 != WIFSIGNALED(ws) && WTERMSIG(ws) == sig, "pid %d: wait status %d", (int)pid,
		  ws);
}

Test(cli_cgroup, ps_lists_the_cgroup_and_kill_all_reaches_everyone)
{
	pid_t a = sleeper_in_cgroup(), b = sleeper_in_cgroup();
	put_container("cg1", a);

	char *out = NULL;
	cr_assert(eq(int, run_husk("ps", "--format", "json", "cg1", &out), 0));
	char want[64];
	(void)snprintf(want, sizeof(want), "[%d,%d]\n", (int)(a < b ? a : b), (int)(a < b ? b : a));
	cr_assert(eq(str, out, want));
	free(out);

	cr_assert(eq(int, run_husk("debug", "cg1", NULL, NULL, &out), 0));
	(void)snprintf(want, sizeof(want), "pids:        %d %d\n", (int)(a < b ? a : b),
		       (int)(a < b ? b : a));
	cr_assert(strstr(out, want) != NULL, "%s", out);
	free(out);

	/* Without --all only the init gets the signal. */
	cr_assert(eq(int, run_husk("kill", "cg1", "USR1", NULL, NULL), 0));
	assert_killed(a, SIGUSR1);
	cr_assert(husk_proc_alive(b, 0));

	/* The init is gone: the container is stopped, kill refuses; delete --force cleans up. */
	cr_assert(eq(int, run_husk("kill", "--all", "cg1", "KILL", NULL), 1));
	cr_assert(eq(int, run_husk("delete", "--force", "cg1", NULL, NULL), 0));
	assert_killed(b, SIGKILL);
	struct stat st;
	cr_assert(eq(int, stat(cgdir, &st), -1), "cgroup removed");
	cr_assert(eq(int, state_test_count_entries(dir), 0));
}

Test(cli_cgroup, kill_all_signals_every_process)
{
	pid_t a = sleeper_in_cgroup(), b = sleeper_in_cgroup(), c = sleeper_in_cgroup();
	put_container("cg2", a);
	cr_assert(eq(int, run_husk("kill", "cg2", "TERM", "--all", NULL), 0));
	assert_killed(a, SIGTERM);
	assert_killed(b, SIGTERM);
	assert_killed(c, SIGTERM);
}

Test(cli_cgroup, delete_force_kills_a_live_container)
{
	pid_t a = sleeper_in_cgroup(), b = sleeper_in_cgroup();
	put_container("cg3", a);
	cr_assert(eq(int, run_husk("delete", "cg3", NULL, NULL, NULL), 1), "live: refused");
	cr_assert(husk_proc_alive(a, 0) && husk_proc_alive(b, 0));
	cr_assert(eq(int, run_husk("delete", "--force", "cg3", NULL, NULL), 0));
	assert_killed(a, SIGKILL);
	assert_killed(b, SIGKILL);
	cr_assert(eq(int, state_test_count_entries(dir), 0));
}

/*
 * A state file of an earlier boot (a disk-backed /run) names a cgroup path that this boot may
 * have given to someone else: delete removes the file and leaves that cgroup and its
 * processes alone.
 */
Test(cli_cgroup, delete_of_a_file_of_an_earlier_boot_leaves_the_cgroup_alone)
{
	pid_t a = sleeper_in_cgroup();
	uint64_t st = 0;
	cr_assert(eq(int, husk_proc_start_time(a, &st, NULL), 0));
	char doc[1024];
	(void)snprintf(doc, sizeof(doc),
		       "{\"version\":1,\"container_id\":\"old\",\"sandbox_id\":\"pod\","
		       "\"bundle\":\"/b\",\"status\":\"running\",\"created_ns\":5,\"owner\":0,"
		       "\"engine\":\"native\",\"cgroup_path\":\"/%s\",\"init_pid\":%d,"
		       "\"init_start_time\":%llu,"
		       "\"boot_id\":\"00000000-1111-2222-3333-444444444444\"}",
		       cgname, (int)a, (unsigned long long)st);
	testutil_write_file(state_test_path(dir, "old_sandbox:pod.state"), doc);

	cr_assert(eq(int, run_husk("delete", "--force", "old", NULL, NULL), 0));
	cr_assert(eq(int, state_test_count_entries(dir), 0));
	cr_assert(eq(int, (int)waitpid(a, NULL, WNOHANG), 0), "the process in that cgroup lives");
	struct stat sb;
	cr_assert(eq(int, stat(cgdir, &sb), 0), "the cgroup stays");
	cr_assert(eq(int, kill(a, SIGKILL), 0));
	assert_killed(a, SIGKILL);
}
