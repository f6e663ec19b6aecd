/* The container lock: a create of an id whose lock is held fails at once; loads wait, bounded. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
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
#include "husk/state.h"
#include "state_file.h"
#include "testutil.h"

TestSuite(lock, .timeout = 120);

static double now_s(void)
{
	struct timespec ts;
	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void state_of(const char *id, struct husk_state *s)
{
	*s = (struct husk_state){.bundle = "/nonexistent-bundle",
				 .status = HUSK_STATUS_CREATING,
				 .engine = "native"};
	cr_assert(eq(int, husk_full_id_set(&s->id, id, id, NULL), 0));
}

/* A child that creates id's state (holding its lock) and keeps it until told over the pipe
 * (one byte: release after that many milliseconds). */
static pid_t holder(const char *root, const char *id, int *ret_ctl)
{
	int ready[2];
	int ctl[2];

	cr_assert(eq(int, pipe2(ready, O_CLOEXEC), 0));
	cr_assert(eq(int, pipe2(ctl, O_CLOEXEC), 0));
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		struct husk_state_root *r = NULL;
		struct husk_state_handle *h = NULL;
		struct husk_state s;
		unsigned char ms = 0;
		state_of(id, &s);
		if (husk_state_root_open(root, &r, NULL) < 0 ||
		    husk_state_create(r, &s, &h, NULL) < 0)
			_exit(1);
		(void)!write(ready[1], "r", 1);
		if (read(ctl[0], &ms, 1) == 1 && ms) {
			struct timespec ts = {0, (long)ms * 1000000};
			(void)nanosleep(&ts, NULL);
		}
		husk_state_handle_free(h);
		_exit(0);
	}
	(void)close(ready[1]);
	(void)close(ctl[0]);
	char c = 0;
	cr_assert(eq(int, (int)read(ready[0], &c, 1), 1));
	(void)close(ready[0]);
	*ret_ctl = ctl[1];
	return pid;
}

static void release(pid_t pid, int ctl, unsigned char after_ms)
{
	int status = 0;

	cr_assert(eq(int, (int)write(ctl, &after_ms, 1), 1));
	(void)close(ctl);
	if (after_ms)
		return;
	cr_assert(eq(int, (int)waitpid(pid, &status, 0), (int)pid));
	cr_assert(eq(int, status, 0));
}

Test(lock, a_second_handle_in_this_process_gets_exists_at_once)
{
	char *dir = testutil_tmpdir("lock-same");
	struct husk_state_root *root = NULL;
	struct husk_state_handle *a = NULL;
	struct husk_state_handle *b = NULL;
	struct husk_err err = {0};
	struct husk_state s;

	cr_assert(eq(int, husk_state_root_open(dir, &root, &err), 0), "%s", err.msg);
	state_of("lk", &s);
	cr_assert(eq(int, husk_state_create(root, &s, &a, &err), 0), "%s", err.msg);
	double t0 = now_s();
	cr_assert(husk_state_create(root, &s, &b, &err) < 0);
	cr_assert(now_s() - t0 < husk__lock_timeout_ms / 2000.0);
	cr_assert(eq(int, (int)err.kind, (int)HUSK_ERR_EXISTS));
	cr_assert(eq(str, err.msg, "container 'lk' already exists"));
	cr_assert(b == NULL);
	/* The first one is untouched: it still saves and removes its files. */
	cr_assert(eq(int, husk_state_save(a, &err), 0), "%s", err.msg);
	cr_assert(eq(int, husk_state_destroy(a, &err), 0), "%s", err.msg);
	husk_state_handle_free(a);
	husk_state_root_free(root);
	testutil_rmtree_free(dir);
}

Test(lock, a_create_while_another_process_creates_gets_exists_at_once)
{
	struct box b;
	struct husk_err err = {0};
	struct husk_container *c = NULL;
	int ctl = -1;

	box_init(&b, "lock-other");
	pid_t pid = holder(b.state, "lock-other", &ctl);
	box_set_args(&b, "true");
	double t0 = now_s();
	cr_assert(box_create(&b, "lock-other", &c, &err) < 0);
	cr_assert(now_s() - t0 < husk__lock_timeout_ms / 2000.0);
	cr_assert(eq(int, (int)err.kind, (int)HUSK_ERR_EXISTS));
	cr_assert(eq(str, err.msg, "container 'lock-other' already exists"));
	/* Nothing of ours was started or made. */
	cr_assert(eq(int, box_count_children(), 1));
	cr_assert(box_cgroup_gone("lock-other"));
	release(pid, ctl, 0);
	box_done(&b);
}

Test(lock, a_load_waits_for_a_holder_but_not_forever)
{
	char *dir = testutil_tmpdir("lock-load");
	struct husk_state_root *root = NULL;
	struct husk_state_handle *h = NULL;
	struct husk_err err = {0};
	struct husk_full_id id;
	int ctl = -1;

	cr_assert(eq(int, husk_state_root_open(dir, &root, &err), 0), "%s", err.msg);
	cr_assert(eq(int, husk_full_id_set(&id, "lk", "lk", NULL), 0));
	husk__lock_timeout_ms = 300;
	pid_t pid = holder(dir, "lk", &ctl);
	/* Without the lock a load never waits. */
	cr_assert(eq(int, husk_state_load(root, &id, /* lock= */ false, &h, &err), 0), "%s",
		  err.msg);
	husk_state_handle_free(h);
	h = NULL;
	cr_assert(eq(int, husk_state_load(root, &id, /* lock= */ true, &h, &err), -ETIMEDOUT));
	cr_assert(eq(str, err.msg,
		     "container 'lk' is busy: another process held its lock for 300 ms: "
		     "Connection timed out"));
	cr_assert(h == NULL);
	/* A holder that lets go within the bound: the load gets the lock. */
	husk__lock_timeout_ms = (int)(testutil_timeout(10) * 1000);
	release(pid, ctl, 50);
	cr_assert(eq(int, husk_state_load(root, &id, true, &h, &err), 0), "%s", err.msg);
	int status = 0;
	cr_assert(eq(int, (int)waitpid(pid, &status, 0), (int)pid));
	cr_assert(eq(int, status, 0));
	cr_assert(eq(int, husk_state_destroy(h, &err), 0), "%s", err.msg);
	husk_state_handle_free(h);
	husk_state_root_free(root);
	testutil_rmtree_free(dir);
}
