/* Signals for a container with a terminal: the foreground job of its shell gets them. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "box.h"
#include "husk/container.h"
#include "husk/err.h"
#include "testutil.h"

TestSuite(terminal, .timeout = 120);

/* Read the pty master (bounded) until want shows up in what was read so far. */
static void expect_output(int master, const char *want, char *buf, size_t size)
{
	size_t n = 0;
	int timeout_ms = (int)(testutil_timeout(10) * 1000);

	buf[0] = '\0';
	while (!strstr(buf, want)) {
		struct pollfd p = {.fd = master, .events = POLLIN};
		int r = poll(&p, 1, timeout_ms);
		cr_assert(eq(int, r, 1), "no '%s' on the terminal, got '%s'", want, buf);
		ssize_t got = read(master, buf + n, size - 1 - n);
		cr_assert(got > 0, "terminal closed before '%s', got '%s'", want, buf);
		n += (size_t)got;
		buf[n] = '\0';
	}
}

static int stat_field(pid_t pid, int field)
{
	char path[64];
	(void)snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	char *s = testutil_read_file(path);
	cr_assert(s != NULL);
	char *p = strrchr(s, ')') + 2;
	for (int i = 3; i < field; i++)
		p = strchr(p, ' ') + 1;
	int v = atoi(p);
	free(s);
	return v;
}

static struct husk_container *run_tty(struct box *b, const char *id, const char *script,
				      int *ret_master)
{
	struct husk_container *c = NULL;
	struct husk_err err = {0};

	json_object_set_new(json_object_get(b->cfg, "process"), "terminal", json_true());
	box_set_args(b, script);
	cr_assert(eq(int, box_create(b, id, &c, &err), 0), "%s", err.msg);
	*ret_master = husk_container_take_console(c);
	cr_assert(ge(int, *ret_master, 0));
	cr_assert(eq(int, husk_container_start(c, &err), 0), "%s", err.msg);
	return c;
}

Test(terminal, a_signal_goes_to_the_foreground_job_of_the_shell)
{
	struct box b;
	struct husk_err err = {0};
	char buf[4096];
	int master = -1;

	box_init(&b, "tty-fg");
	/* Job control: the shell runs sleep in its own process group, in the foreground. */
	struct husk_container *c = run_tty(
		&b, "tty-fg", "set -m; echo ready; sleep 1000; echo job=$?; exit 5", &master);
	expect_output(master, "ready", buf, sizeof(buf));
	pid_t init = husk_container_init(c)->pid;
	/* Wait (bounded) until the job owns the terminal: tpgid (field 8) leaves pgrp (5). */
	struct timespec tick = {0, 5 * 1000 * 1000};
	long rounds = (long)(testutil_timeout(10) * 200);
	while (stat_field(init, 8) == stat_field(init, 5) && rounds-- > 0)
		(void)nanosleep(&tick, NULL);
	cr_assert(rounds > 0, "the job never took the terminal");
	/* pid 1 of the namespace ignores SIGTERM (no handler): only the job can die of it.
	 * (Not SIGINT: ash answers a job killed by SIGINT by raising it on itself.) */
	cr_assert(eq(int, husk_container_kill(c, SIGTERM, /* all= */ false, &err), 0), "%s",
		  err.msg);
	expect_output(master, "job=143", buf, sizeof(buf));
	cr_assert(eq(int, box_finish(c), 5));
	(void)close(master);
	box_done(&b);
}

Test(terminal, without_a_job_the_init_gets_the_signal)
{
	struct box b;
	struct husk_err err = {0};
	char buf[4096];
	int master = -1;

	box_init(&b, "tty-init");
	struct husk_container *c = run_tty(&b, "tty-init",
					   "trap 'echo got-int; exit 3' INT; echo ready; "
					   "while :; do sleep 1000 & wait; done",
					   &master);
	expect_output(master, "ready", buf, sizeof(buf));
	cr_assert(eq(int, husk_container_kill(c, SIGINT, /* all= */ false, &err), 0), "%s",
		  err.msg);
	expect_output(master, "got-int", buf, sizeof(buf));
	cr_assert(eq(int, box_finish(c), 3));
	(void)close(master);
	box_done(&b);
}
