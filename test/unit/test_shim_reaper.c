#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <sys/prctl.h>
#include <sys/wait.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <uv.h>

#include "reaper.h"
#include "testutil.h"

struct seen {
	pid_t pids[16];
	int statuses[16];
	int n;
};

static void on_reaped(void *ud, pid_t pid, int status)
{
	struct seen *s = ud;

	cr_assert(lt(int, s->n, 16));
	s->pids[s->n] = pid;
	s->statuses[s->n] = status;
	s->n++;
}

static int status_of(const struct seen *s, pid_t pid)
{
	for (int i = 0; i < s->n; i++)
		if (s->pids[i] == pid)
			return s->statuses[i];
	return -1;
}

static void run_until_count(uv_loop_t *loop, const struct seen *s, int n)
{
	uint64_t deadline = uv_now(loop) + (uint64_t)(testutil_timeout(10) * 1000);

	while (s->n < n) {
		cr_assert(lt(u64, uv_now(loop), deadline), "timed out with %d of %d", s->n, n);
		(void)uv_run(loop, UV_RUN_ONCE);
	}
}

static pid_t child_exit(int code)
{
	pid_t pid = fork();

	cr_assert(ge(int, pid, 0));
	if (pid == 0)
		_exit(code);
	return pid;
}

Test(shim_reaper, reaps_every_child_with_its_status, .timeout = 30)
{
	uv_loop_t loop;
	struct shim_reaper r;
	struct seen s = {0};
	uv_timer_t tick;

	cr_assert(eq(int, uv_loop_init(&loop), 0));
	cr_assert(eq(int, shim_reaper_start(&r, &loop, on_reaped, &s), 0));
	/* A timer keeps UV_RUN_ONCE from blocking forever if a signal were missed. */
	cr_assert(eq(int, uv_timer_init(&loop, &tick), 0));
	pid_t a = child_exit(0);
	pid_t b = child_exit(3);
	pid_t c = fork();
	cr_assert(ge(int, c, 0));
	if (c == 0) {
		pause();
		_exit(0);
	}
	cr_assert(eq(int, kill(c, SIGKILL), 0));
	run_until_count(&loop, &s, 3);
	cr_assert(eq(int, status_of(&s, a), 0));
	cr_assert(eq(int, status_of(&s, b), 3 << 8));
	cr_assert(eq(int, status_of(&s, c), SIGKILL));
	cr_assert(eq(int, waitpid(-1, NULL, WNOHANG), -1), "a child was left unreaped");
	cr_assert(eq(int, errno, ECHILD));
	shim_reaper_stop(&r);
	uv_close((uv_handle_t *)&tick, NULL);
	(void)uv_run(&loop, UV_RUN_DEFAULT);
	cr_assert(eq(int, uv_loop_close(&loop), 0));
}

Test(shim_reaper, collects_orphans_as_subreaper, .timeout = 30)
{
	uv_loop_t loop;
	struct shim_reaper r;
	struct seen s = {0};
	int hold[2], report[2];

	cr_assert(eq(int, prctl(PR_SET_CHILD_SUBREAPER, 1), 0));
	cr_assert(eq(int, uv_loop_init(&loop), 0));
	cr_assert(eq(int, shim_reaper_start(&r, &loop, on_reaped, &s), 0));
	cr_assert(eq(int, pipe2(hold, O_CLOEXEC), 0));
	cr_assert(eq(int, pipe2(report, O_CLOEXEC), 0));
	pid_t mid = fork();
	cr_assert(ge(int, mid, 0));
	if (mid == 0) {
		pid_t gc = fork();
		if (gc == 0) {
			char ch;
			(void)close(hold[1]);
			(void)!read(hold[0], &ch, 1); /* until the test closes its end */
			_exit(7);
		}
		(void)!write(report[1], &gc, sizeof(gc));
		_exit(0);
	}
	(void)close(hold[0]);
	(void)close(report[1]);
	pid_t gc;
	cr_assert(eq(int, (int)read(report[0], &gc, sizeof(gc)), (int)sizeof(gc)));
	run_until_count(&loop, &s, 1);
	cr_assert(eq(int, s.pids[0], mid));
	(void)close(hold[1]);
	run_until_count(&loop, &s, 2);
	cr_assert(eq(int, s.pids[1], gc), "the orphaned grandchild is ours to reap");
	cr_assert(eq(int, s.statuses[1], 7 << 8));
	(void)close(report[0]);
	shim_reaper_stop(&r);
	(void)uv_run(&loop, UV_RUN_DEFAULT);
	cr_assert(eq(int, uv_loop_close(&loop), 0));
}
