/* Signals to a native container: the init through its pidfd, every process, a stopped one. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sys/syscall.h>
#include <sys/wait.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "box.h"
#include "husk/container.h"
#include "husk/err.h"
#include "testutil.h"

TestSuite(kill, .timeout = 120);

static int pidfd_of(pid_t pid)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);
	cr_assert(fd >= 0, "pidfd_open %d: %s", (int)pid, strerror(errno));
	return fd;
}

static bool alive(int pidfd)
{
	struct pollfd p = {.fd = pidfd, .events = POLLIN};
	return poll(&p, 1, 0) == 0;
}

Test(kill, a_signal_reaches_the_init_through_its_pidfd)
{
	struct box b;
	struct husk_err err = {0};

	box_init(&b, "kill-init");
	/* A trapped signal interrupts `wait` at once (POSIX), not after the sleep. */
	struct husk_container *c = box_run(&b, "kill-init",
					   "trap 'echo got-term; exit 7' TERM; echo ready; "
					   "while :; do sleep 1000 & wait; done");
	box_expect_line(&b, "ready");
	cr_assert(eq(int, husk_container_kill(c, SIGTERM, /* all= */ false, &err), 0), "%s",
		  err.msg);
	box_expect_line(&b, "got-term");
	pid_t pid = husk_container_init(c)->pid;
	int status = 0;
	cr_assert(eq(int, (int)waitpid(pid, &status, 0), (int)pid));
	cr_assert(eq(int, box_code(status), 7));
	/* Reaped but not yet recorded: the state re-read says the init is gone, no other
	 * process is hit. */
	cr_assert(lt(int, husk_container_kill(c, SIGKILL, false, &err), 0));
	cr_assert(eq(int, (int)err.kind, (int)HUSK_ERR_NOT_FOUND));
	cr_assert(eq(str, err.msg, "process already finished"));
	cr_assert(eq(int, husk_container_set_exited(c, status, 0, &err), 0), "%s", err.msg);
	cr_assert(eq(int, husk_container_delete(c, false, &err), 0), "%s", err.msg);
	husk_container_free(c);
	box_done(&b);
}

Test(kill, kill_all_reaches_a_daemonized_process)
{
	struct box b;
	struct husk_err err = {0};

	box_init(&b, "kill-daemon");
	/* The subshell forks sleep and exits: sleep 1001 is reparented to the container's pid 1. */
	struct husk_container *c = box_run(
		&b, "kill-daemon", "(sleep 1001 >/dev/null 2>&1 &); echo ready; sleep 1000");
	box_expect_line(&b, "ready");
	pid_t daemon = box_wait_find_pid("kill-daemon", "sleep 1001");
	int dfd = pidfd_of(daemon);
	int ifd = pidfd_of(husk_container_init(c)->pid);

	/* SIGTERM to all: the daemon dies of it; pid 1 of the namespace ignores it. */
	cr_assert(eq(int, husk_container_kill(c, SIGTERM, /* all= */ true, &err), 0), "%s",
		  err.msg);
	box_wait_pidfd(dfd, 10);
	cr_assert(alive(ifd));
	cr_assert(eq(int, husk_container_kill(c, SIGKILL, true, &err), 0), "%s", err.msg);
	box_wait_pidfd(ifd, 10);
	cr_assert(eq(int, box_finish(c), 128 + SIGKILL));
	(void)close(dfd);
	(void)close(ifd);
	cr_assert(box_cgroup_gone("kill-daemon"));
	box_done(&b);
}

Test(kill, killing_a_stopped_container_is_not_found)
{
	struct box b;
	struct husk_err err = {0};
	int status = 0;

	box_init(&b, "kill-stopped");
	struct husk_container *c = box_run(&b, "kill-stopped", "exit 0");
	pid_t pid = husk_container_init(c)->pid;
	cr_assert(eq(int, (int)waitpid(pid, &status, 0), (int)pid));
	cr_assert(eq(int, husk_container_set_exited(c, status, 0, &err), 0), "%s", err.msg);
	for (int all = 0; all < 2; all++) {
		err = (struct husk_err){0};
		cr_assert(husk_container_kill(c, SIGTERM, all, &err) < 0);
		cr_assert(eq(int, (int)err.kind, (int)HUSK_ERR_NOT_FOUND));
		cr_assert(eq(str, err.msg, "process already finished"));
	}
	cr_assert(eq(int, husk_container_kill(c, 0, false, &err), -EINVAL));
	cr_assert(eq(int, husk_container_delete(c, false, &err), 0), "%s", err.msg);
	husk_container_free(c);
	box_done(&b);
}
