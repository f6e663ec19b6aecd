/* Pause and resume of a native container through the freezer. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/wait.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "box.h"
#include "husk/container.h"
#include "husk/err.h"
#include "testutil.h"

TestSuite(pause, .timeout = 120);

static long counter(const struct box *b)
{
	char path[4300];

	(void)snprintf(path, sizeof(path), "%s/tmp/counter", b->rootfs);
	char *s = testutil_read_file(path);
	long v = s ? strtol(s, NULL, 10) : -1;
	free(s);
	return v;
}

static double now_s(void)
{
	struct timespec ts;
	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Poll (bounded) until the counter moves past v: the event we wait for is its change. */
static long wait_advance(const struct box *b, long v)
{
	double deadline = now_s() + testutil_timeout(10);
	struct timespec tick = {0, 5 * 1000 * 1000};

	for (;;) {
		long now = counter(b);
		if (now > v)
			return now;
		cr_assert(now_s() < deadline, "counter stuck at %ld", now);
		(void)nanosleep(&tick, NULL);
	}
}

static const char *status_of(const struct box *b, const char *id, char *buf, size_t size)
{
	json_t *st = box_state_json(b, id);
	cr_assert(st != NULL);
	(void)snprintf(buf, size, "%s", json_string_value(json_object_get(st, "status")));
	json_decref(st);
	return buf;
}

Test(pause, pause_stops_a_counting_loop_and_resume_restarts_it)
{
	struct box b;
	struct husk_err err = {0};
	char s[32];

	box_init(&b, "pause-count");
	struct husk_container *c =
		box_run(&b, "pause-count",
			"i=0; while :; do i=$((i+1)); echo $i >/tmp/counter.new; "
			"mv /tmp/counter.new /tmp/counter; done");
	long v = wait_advance(&b, 0);
	cr_assert(eq(int, husk_container_pause(c, &err), 0), "%s", err.msg);
	cr_assert(eq(int, (int)husk_container_status(c), (int)HUSK_STATUS_PAUSED));
	cr_assert(eq(str, (char *)status_of(&b, "pause-count", s, sizeof(s)), "paused"));
	char freezer[512];
	char path[600];
	box_cgroup_dir("freezer", "pause-count", freezer, sizeof(freezer));
	(void)snprintf(path, sizeof(path), "%s/freezer.state", freezer);
	char *fs = testutil_read_file(path);
	cr_assert(eq(str, fs, "FROZEN\n"));
	free(fs);
	/* Frozen means no progress at all: the value read after the freeze holds. */
	v = counter(&b);
	struct timespec pause_for = {0, 300 * 1000 * 1000};
	(void)nanosleep(&pause_for, NULL);
	cr_assert(eq(long, counter(&b), v));

	cr_assert(eq(int, husk_container_resume(c, &err), 0), "%s", err.msg);
	cr_assert(eq(int, (int)husk_container_status(c), (int)HUSK_STATUS_RUNNING));
	cr_assert(eq(str, (char *)status_of(&b, "pause-count", s, sizeof(s)), "running"));
	wait_advance(&b, v);

	/* A paused container can be force-deleted. */
	cr_assert(eq(int, husk_container_pause(c, &err), 0), "%s", err.msg);
	box_kill_delete(c);
	cr_assert(box_cgroup_gone("pause-count"));
	box_done(&b);
}

Test(pause, pause_and_resume_need_the_right_status)
{
	struct box b;
	struct husk_err err = {0};
	struct husk_container *c = NULL;

	box_init(&b, "pause-status");
	box_set_args(&b, "exit 0");
	cr_assert(eq(int, box_create(&b, "pause-status", &c, &err), 0), "%s", err.msg);
	cr_assert(eq(int, husk_container_pause(c, &err), -EIO));
	cr_assert(eq(int, (int)err.kind, (int)HUSK_ERR_PRECONDITION));
	cr_assert(eq(str, err.msg, "cannot pause container in 'created' state"));
	cr_assert(eq(int, husk_container_start(c, &err), 0), "%s", err.msg);
	cr_assert(eq(int, husk_container_resume(c, &err), -EIO));
	cr_assert(eq(int, (int)err.kind, (int)HUSK_ERR_PRECONDITION));
	cr_assert(eq(str, err.msg, "cannot resume container in 'running' state"));
	pid_t pid = husk_container_init(c)->pid;
	int status = 0;
	cr_assert(eq(int, (int)waitpid(pid, &status, 0), (int)pid));
	cr_assert(eq(int, husk_container_set_exited(c, status, 0, &err), 0), "%s", err.msg);
	cr_assert(eq(int, husk_container_pause(c, &err), -EIO));
	cr_assert(eq(int, (int)err.kind, (int)HUSK_ERR_PRECONDITION));
	cr_assert(eq(str, err.msg, "cannot pause container in 'stopped' state"));
	cr_assert(eq(int, husk_container_delete(c, false, &err), 0), "%s", err.msg);
	husk_container_free(c);
	box_done(&b);
}

/* Two handles on one container, as the shim's and the husk CLI's: each transition re-reads
 * the state under the lock, so neither undoes the other, and an exec into a container that
 * the other handle paused is refused at once instead of waiting on a frozen cgroup. */
Test(pause, a_second_handle_sees_what_the_first_did)
{
	struct box b;
	struct husk_err err = {0};
	struct husk_container *cli = NULL;
	char s[32];

	box_init(&b, "pause-two");
	struct husk_container *c = box_run(&b, "pause-two", "sleep 1000");
	cr_assert(eq(int, husk_container_load(b.rt, "pause-two", &cli, &err), 0), "%s", err.msg);

	cr_assert(eq(int, husk_container_pause(cli, &err), 0), "%s", err.msg);
	cr_assert(eq(str, (char *)status_of(&b, "pause-two", s, sizeof(s)), "paused"));
	json_t *proc = box_exec_proc(&b, "true");
	char out[64];
	cr_assert(lt(int, box_exec(c, proc, out, sizeof(out), &err), 0), "exec in a paused one");
	cr_assert(eq(int, (int)err.kind, (int)HUSK_ERR_PRECONDITION), "%s", err.msg);
	cr_assert(eq(str, err.msg, "cannot exec in a paused state"));

	/* The shim's handle resumes what the CLI paused, and its pause is the CLI's to undo. */
	cr_assert(eq(int, husk_container_resume(c, &err), 0), "%s", err.msg);
	cr_assert(eq(str, (char *)status_of(&b, "pause-two", s, sizeof(s)), "running"));
	cr_assert(eq(int, husk_container_pause(c, &err), 0), "%s", err.msg);
	cr_assert(eq(int, husk_container_resume(cli, &err), 0), "%s", err.msg);
	cr_assert(eq(str, (char *)status_of(&b, "pause-two", s, sizeof(s)), "running"));
	cr_assert(eq(int, box_exec(c, proc, out, sizeof(out), &err), 0), "%s", err.msg);
	json_decref(proc);

	/* A delete through the CLI's handle: the shim's next transition finds it gone. */
	cr_assert(eq(int, husk_container_delete(cli, /* force= */ true, &err), 0), "%s", err.msg);
	cr_assert(eq(int, husk_container_pause(c, &err), -ENOENT));
	cr_assert(eq(int, (int)err.kind, (int)HUSK_ERR_NOT_FOUND), "%s", err.msg);
	pid_t pid = husk_container_init(c)->pid;
	cr_assert(eq(int, (int)waitpid(pid, NULL, 0), (int)pid));
	cr_assert(lt(int, husk_container_set_exited(c, 0, 0, &err), 0), "the file is gone");
	cr_assert(husk_container_exit(c, NULL, NULL), "the exit is still known in memory");
	husk_container_free(cli);
	husk_container_free(c);
	cr_assert(box_state_gone(&b, "pause-two"));
	cr_assert(box_cgroup_gone("pause-two"));
	box_done(&b);
}
