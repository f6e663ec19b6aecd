/* The fork recipe (husk/spawn.h) that the runtime and the shim share, on real children. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/wait.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "husk/cleanup.h"
#include "husk/err.h"
#include "husk/process.h"
#include "husk/spawn.h"
#include "testutil.h"

TestSuite(spawn, .timeout = 60);

/* Read fd to EOF (bounded) into a NUL-terminated string; closes fd. */
static char *slurp(int fd)
{
	size_t cap = 8192;
	size_t len = 0;
	char *buf = malloc(cap);

	cr_assert(not(eq(ptr, buf, NULL)));
	for (;;) {
		ssize_t n = read(fd, buf + len, cap - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		cr_assert(ge(long, (long)n, 0L));
		if (n == 0)
			break;
		len += (size_t)n;
		cr_assert(lt(sz, len, cap - 1), "output too long");
	}
	buf[len] = '\0';
	(void)close(fd);
	return buf;
}

static int reap(struct husk_child *ch)
{
	int status = 0;

	cr_assert(eq(int, waitpid(ch->pid, &status, 0), ch->pid));
	husk_child_release(ch);
	return status;
}

/* Run argv with stdout on a pipe at target out_target and the given extra fds; returns what
 * it printed and reaps it (exit status 0 required). */
static char *run_capture(char *const *argv, int out_target, const struct husk_spawn_exec *base)
{
	int p[2];
	struct husk_child ch = HUSK_CHILD_NULL;
	struct husk_err err = {0};

	cr_assert(eq(int, pipe2(p, O_CLOEXEC), 0));
	struct husk_spawn_fd fds[] = {
		{-1, 0, false}, {-1, 1, false}, {-1, 2, false}, {p[1], out_target, false}};
	struct husk_spawn_opts o = {.fds = fds, .n_fds = out_target > 2 ? 4 : 3};
	if (out_target <= 2)
		fds[out_target].fd = p[1];
	struct husk_spawn_exec x = base ? *base : (struct husk_spawn_exec){0};
	x.path = argv[0];
	x.argv = argv;
	cr_assert(eq(int, husk_spawn_exec(&o, &x, &ch, &err), 0), "%s", err.msg);
	(void)close(p[1]);
	char *out = slurp(p[0]);
	int status = reap(&ch);
	bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
	cr_assert(ok, "status %d, output '%s'", status, out);
	return out;
}

Test(spawn, an_exec_failure_is_an_error_with_the_childs_errno_and_the_child_is_reaped)
{
	char *argv[] = {(char *)"/nonexistent/husk-spawn", NULL};
	struct husk_spawn_exec x = {.path = argv[0], .argv = argv};
	struct husk_spawn_opts o = {0};
	struct husk_child ch = HUSK_CHILD_NULL;
	struct husk_err err = {0};

	cr_assert(lt(int, husk_spawn_exec(&o, &x, &ch, &err), 0));
	cr_expect(eq(int, err.errnum, ENOENT));
	cr_expect(strstr(err.msg, "exec '/nonexistent/husk-spawn'") != NULL, "%s", err.msg);
	cr_expect(eq(int, ch.pid, 0), "*ret untouched on failure");
	cr_expect(eq(int, waitpid(-1, NULL, WNOHANG), -1), "no child left");
	cr_expect(eq(int, errno, ECHILD));
}

Test(spawn, a_cwd_that_cannot_be_entered_is_an_error)
{
	char *argv[] = {(char *)"/bin/true", NULL};
	struct husk_spawn_exec x = {.path = argv[0], .argv = argv, .cwd = "/nonexistent/dir"};
	struct husk_spawn_opts o = {0};
	struct husk_child ch = HUSK_CHILD_NULL;
	struct husk_err err = {0};

	cr_assert(lt(int, husk_spawn_exec(&o, &x, &ch, &err), 0));
	cr_expect(eq(int, err.errnum, ENOENT), "%s", err.msg);
	cr_expect(eq(int, waitpid(-1, NULL, WNOHANG), -1), "no child left");
}

/* Whether fd is in ls's one-per-line listing of /proc/self/fd. */
static bool listed(const char *out, int fd)
{
	char want[16];
	size_t n = (size_t)snprintf(want, sizeof(want), "%d\n", fd);

	for (const char *p = out; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, want, n) == 0)
			return true;
	return false;
}

Test(spawn, only_donated_fds_reach_the_child)
{
	/* Not close-on-exec: one in the gap below the highest target, one above it. */
	int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	cr_assert(ge(int, devnull, 0));
	int gap = fcntl(devnull, F_DUPFD, 40);
	int above = fcntl(devnull, F_DUPFD, 55);
	cr_assert(lt(int, gap, 50));
	cr_assert(gt(int, above, 51));
	int p[2];
	cr_assert(eq(int, pipe2(p, O_CLOEXEC), 0));
	char *argv[] = {(char *)"/bin/ls", (char *)"-1", (char *)"/proc/self/fd", NULL};
	struct husk_spawn_exec x = {.path = argv[0], .argv = argv};
	struct husk_spawn_fd fds[] = {
		{-1, 0, false}, {p[1], 1, false}, {-1, 2, false}, {-1, 50, false}};
	struct husk_spawn_opts o = {.fds = fds, .n_fds = ARRAY_SIZE(fds)};
	struct husk_child ch = HUSK_CHILD_NULL;
	struct husk_err err = {0};
	cr_assert(eq(int, husk_spawn_exec(&o, &x, &ch, &err), 0), "%s", err.msg);
	(void)close(p[1]);
	char *out = slurp(p[0]);
	int status = reap(&ch);
	cr_assert(eq(int, status, 0), "%s", out);
	cr_expect(listed(out, 50), "the donated fd: %s", out);
	cr_expect(not(listed(out, gap)), "a gap below the highest target: %s", out);
	cr_expect(not(listed(out, above)), "above the highest target: %s", out);
	cr_expect(not(listed(out, 51)), "the exec-error pipe went with the exec: %s", out);
	free(out);
	(void)close(gap);
	(void)close(above);
	(void)close(devnull);
}

Test(spawn, new_session_and_cwd)
{
	char *argv[] = {(char *)"/bin/sh", (char *)"-c",
			(char *)"pwd; read -r s < /proc/$$/stat; echo \"$$ $s\"", NULL};
	struct husk_spawn_exec x = {.new_session = true, .cwd = "/proc/sys"};
	char *out = run_capture(argv, 1, &x);
	int pid = 0;
	int sid = -1;
	/* "<pid> <pid> (sh) S <ppid> <pgrp> <session> ..." */
	cr_assert(eq(int, sscanf(out, "/proc/sys\n%d %*d (%*[^)]) %*c %*d %*d %d", &pid, &sid), 2),
		  "%s", out);
	cr_expect(eq(int, sid, pid), "the child leads its own session");
	free(out);
}

Test(spawn, dispositions_and_mask_are_reset)
{
	if (getenv("HUSK_VALGRIND"))
		cr_skip_test("valgrind's own signal handling shows in a traced child's mask");
	sigset_t block;
	sigset_t old;
	(void)signal(SIGUSR1, SIG_IGN);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR2);
	cr_assert(eq(int, sigprocmask(SIG_BLOCK, &block, &old), 0));
	char *argv[] = {(char *)"/bin/grep", (char *)"-E", (char *)"^Sig(Ign|Blk)",
			(char *)"/proc/self/status", NULL};
	char *out = run_capture(argv, 1, NULL);
	(void)sigprocmask(SIG_SETMASK, &old, NULL);
	(void)signal(SIGUSR1, SIG_DFL);
	cr_expect(eq(str, out, "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n"));
	free(out);
}

Test(spawn, the_child_comes_with_a_pidfd_and_start_time_and_is_signalled_through_it)
{
	char *argv[] = {(char *)"/bin/sleep", (char *)"60", NULL};
	struct husk_spawn_exec x = {.path = argv[0], .argv = argv};
	struct husk_spawn_fd fds[] = {{-1, 0, false}, {-1, 1, false}, {-1, 2, false}};
	struct husk_spawn_opts o = {.name = "husk:[test]", .fds = fds, .n_fds = 3};
	struct husk_child ch = HUSK_CHILD_NULL;
	struct husk_err err = {0};

	cr_assert(eq(int, husk_spawn_exec(&o, &x, &ch, &err), 0), "%s", err.msg);
	uint64_t st = 0;
	cr_assert(eq(int, husk_proc_start_time(ch.pid, &st, NULL), 0));
	cr_expect(eq(u64, ch.start_time, st));
	if (!getenv("HUSK_VALGRIND"))
		cr_expect(ge(int, ch.pidfd, 0));
	cr_assert(eq(int, husk_child_signal(&ch, SIGTERM), 0));
	struct husk_child copy = ch;
	int status = 0;
	cr_assert(eq(int, waitpid(ch.pid, &status, 0), ch.pid));
	bool by_term = WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM;
	cr_expect(by_term, "status %d", status);
	if (copy.pidfd >= 0)
		cr_expect(eq(int, husk_child_signal(&copy, SIGTERM), -ESRCH), "a reaped child");
	husk_child_release(&ch);
}

Test(spawn, a_target_out_of_range_is_refused)
{
	char *argv[] = {(char *)"/bin/true", NULL};
	struct husk_spawn_exec x = {.path = argv[0], .argv = argv};
	struct husk_spawn_fd fds[] = {{-1, HUSK_SPAWN_FDS_MAX - 1, false}};
	struct husk_spawn_opts o = {.fds = fds, .n_fds = 1};
	struct husk_child ch = HUSK_CHILD_NULL;
	struct husk_err err = {0};

	cr_assert(lt(int, husk_spawn_exec(&o, &x, &ch, &err), 0));
	cr_expect(eq(int, err.errnum, EINVAL), "%s", err.msg);
	cr_expect(eq(int, waitpid(-1, NULL, WNOHANG), -1), "nothing spawned");
}
