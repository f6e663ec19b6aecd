#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "husk/err.h"
#include "husk/log.h"
#include "husk/state.h"
#include "state_test.h"
#include "testutil.h"

static char *dir;
static struct husk_state_root *root;

static void setup(void)
{
	dir = testutil_tmpdir("registry");
	cr_assert(eq(int, husk_state_root_open(dir, &root, NULL), 0));
}

static void teardown(void)
{
	root = husk_state_root_free(root);
	testutil_rmtree_free(dir);
}

TestSuite(registry, .init = setup, .fini = teardown, .timeout = 30);

static void find_ok(const char *query, const char *want_container, const char *want_sandbox)
{
	struct husk_state_handle *h = NULL;
	struct husk_err err = {0};
	cr_assert(eq(int, husk_state_find(root, query, false, &h, &err), 0), "%s: %s", query,
		  err.msg);
	struct husk_state *s = husk_state_handle_state(h);
	cr_assert(eq(str, s->id.container, (char *)want_container));
	cr_assert(eq(str, s->id.sandbox, (char *)want_sandbox));
	husk_state_handle_free(h);
}

static void find_fails(const char *query, enum husk_err_kind kind, const char *msg)
{
	struct husk_state_handle *h = (void *)0x1;
	struct husk_err err = {0};
	cr_assert(lt(int, husk_state_find(root, query, false, &h, &err), 0), "%s", query);
	cr_assert(eq(int, err.kind, kind), "%s: %s", query, err.msg);
	if (msg)
		cr_assert(eq(str, err.msg, (char *)msg));
	cr_assert(h == (void *)0x1, "untouched on failure");
}

Test(registry, prefix_lookup)
{
	state_test_put(root, "pod1", "abc123", HUSK_STATUS_CREATING, 0);
	state_test_put(root, "pod1", "abd456", HUSK_STATUS_CREATING, 0);
	state_test_put(root, "pod2", "xyz", HUSK_STATUS_CREATING, 0);
	state_test_put(root, "xyzw", "xyzw", HUSK_STATUS_CREATING, 0);

	find_ok("abc123", "abc123", "pod1");
	find_ok("abc", "abc123", "pod1");
	find_ok("abd", "abd456", "pod1");
	/* Exact beats prefix: "xyz" is also a prefix of "xyzw". */
	find_ok("xyz", "xyz", "pod2");
	find_ok("xyzw", "xyzw", "xyzw");

	find_fails("ab", HUSK_ERR_INVALID,
		   "ambiguous container id prefix 'ab': matches 'abc123' and 'abd456'");
	find_fails("nope", HUSK_ERR_NOT_FOUND, "container 'nope' not found");
	find_fails("pod1", HUSK_ERR_NOT_FOUND, NULL); /* sandbox ids are not container ids */
	find_fails("a:b", HUSK_ERR_INVALID, "invalid container id 'a:b'");
	find_fails("", HUSK_ERR_INVALID, NULL);
}

Test(registry, same_container_id_in_two_sandboxes_is_ambiguous)
{
	state_test_put(root, "p1", "dup", HUSK_STATUS_CREATING, 0);
	state_test_put(root, "p2", "dup", HUSK_STATUS_CREATING, 0);
	find_fails("dup", HUSK_ERR_INVALID,
		   "ambiguous container id 'dup': in sandboxes 'p1' and 'p2'");
}

Test(registry, lookup_with_lock)
{
	state_test_put(root, "pod", "locked1", HUSK_STATUS_CREATING, 0);
	struct husk_state_handle *h = NULL;
	cr_assert(eq(int, husk_state_find(root, "lock", true, &h, NULL), 0));
	cr_assert(eq(int, husk_state_save(h, NULL), 0));
	husk_state_handle_free(h);
}

static int warns;

static void on_log(enum husk_log_level level, const char *msg, void *userdata)
{
	(void)msg;
	(void)userdata;
	if (level == HUSK_LOG_WARN)
		warns++;
}

/* The seed's corrupt-state-file test: nothing stops working because of one bad file. */
Test(registry, corrupt_and_stale_files_do_not_stop_anything)
{
	state_test_put(root, "pod", "good", HUSK_STATUS_RUNNING, getpid());
	state_test_put(root, "pod", "stale", HUSK_STATUS_RUNNING, state_test_dead_pid());
	testutil_write_file(state_test_path(dir, "corrupt_sandbox:pod.state"), "{\"version\":");
	testutil_write_file(state_test_path(dir, "bad:name.state"), "{}");
	/* Not state files at all: ignored without a word. */
	testutil_write_file(state_test_path(dir, "orphan_sandbox:pod.lock"), "");
	testutil_write_file(state_test_path(dir, ".good_sandbox:pod.state.tmp-1-0"), "{");
	testutil_write_file(state_test_path(dir, "README"), "hi");

	/* Create a new container. */
	state_test_put(root, "pod", "new", HUSK_STATUS_CREATING, 0);
	/* Load another. */
	find_ok("good", "good", "pod");
	struct husk_state_handle *h = NULL;
	cr_assert(eq(int, husk_state_find(root, "stale", false, &h, NULL), 0));
	cr_assert(eq(int, husk_state_handle_state(h)->status, HUSK_STATUS_STOPPED));
	husk_state_handle_free(h);
	/* The corrupt one itself: a clear error. */
	struct husk_err err = {0};
	cr_assert(lt(int, husk_state_find(root, "corrupt", false, &h, &err), 0));
	cr_assert(eq(int, err.kind, HUSK_ERR_INVALID));
	cr_assert(strstr(err.msg, "state file 'corrupt_sandbox:pod.state'") != NULL, "%s", err.msg);

	/* List. */
	struct husk_state_list l = {0};
	warns = 0;
	husk_set_log_hook(on_log, NULL);
	cr_assert(eq(int, husk_state_list(root, NULL, &l, &err), 0), "%s", err.msg);
	husk_set_log_hook(NULL, NULL);
	cr_assert(eq(sz, l.n_states, 3));
	cr_assert(eq(str, l.states[0].id.container, "good"));
	cr_assert(eq(int, l.states[0].status, HUSK_STATUS_RUNNING));
	cr_assert(eq(str, l.states[1].id.container, "new"));
	cr_assert(eq(str, l.states[2].id.container, "stale"));
	cr_assert(eq(int, l.states[2].status, HUSK_STATUS_STOPPED));
	cr_assert(eq(sz, l.n_problems, 2));
	cr_assert(eq(str, l.problems[0].file, "bad:name.state"));
	cr_assert(strstr(l.problems[0].error, "invalid state file name") != NULL);
	cr_assert(eq(str, l.problems[1].file, "corrupt_sandbox:pod.state"));
	cr_assert(strstr(l.problems[1].error, "invalid json") != NULL, "%s", l.problems[1].error);
	/* One warning per skipped file, one for the stale init. */
	cr_assert(eq(int, warns, 3));
	husk_state_list_done(&l);
	husk_state_list_done(&l); /* done twice is harmless */
}

Test(registry, list_of_one_sandbox_never_opens_other_files)
{
	state_test_put(root, "pod", "a", HUSK_STATUS_CREATING, 0);
	state_test_put(root, "pod", "b", HUSK_STATUS_CREATING, 0);
	state_test_put(root, "other", "c", HUSK_STATUS_CREATING, 0);
	state_test_put(root, "pod2", "d", HUSK_STATUS_CREATING, 0);
	/* A fifo: opening it for reading would block, and the suite would time out. */
	cr_assert(eq(int, mkfifo(state_test_path(dir, "trap_sandbox:other.state"), 0600), 0));
	cr_assert(eq(int, mkfifo(state_test_path(dir, "trap_sandbox:xpod.state"), 0600), 0));

	struct husk_state_list l = {0};
	struct husk_err err = {0};
	cr_assert(eq(int, husk_state_list(root, "pod", &l, &err), 0), "%s", err.msg);
	cr_assert(eq(sz, l.n_states, 2));
	cr_assert(eq(str, l.states[0].id.container, "a"));
	cr_assert(eq(str, l.states[1].id.container, "b"));
	cr_assert(eq(sz, l.n_problems, 0));
	husk_state_list_done(&l);

	/* Prefix lookup reads names only, and opens just the match. */
	find_ok("d", "d", "pod2");

	cr_assert(eq(int, husk_state_list(root, "bad:sandbox", &l, &err), -EINVAL));
	cr_assert(eq(int, husk_state_list(root, "nosuch", &l, &err), 0));
	cr_assert(eq(sz, l.n_states, 0));
	husk_state_list_done(&l);
}

Test(registry, empty_root)
{
	struct husk_state_list l = {0};
	cr_assert(eq(int, husk_state_list(root, NULL, &l, NULL), 0));
	cr_assert(eq(sz, l.n_states + l.n_problems, 0));
	husk_state_list_done(&l);
	find_fails("x", HUSK_ERR_NOT_FOUND, "container 'x' not found");
}
