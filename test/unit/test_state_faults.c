/*
 * Fault injection for atomic saves: the binary is linked with
 * -Wl,--wrap=fsync,--wrap=fdatasync,--wrap=renameat,--wrap=write; write and renameat fail
 * their Nth call when armed, and the sync calls are counted (a save makes none). After any
 * failure the old file is intact and no temp file is left.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "husk/err.h"
#include "husk/state.h"
#include "state_test.h"
#include "testutil.h"

ssize_t __real_write(int fd, const void *buf, size_t n);
int __real_fsync(int fd);
int __real_fdatasync(int fd);
int __real_renameat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath);
ssize_t __wrap_write(int fd, const void *buf, size_t n);
int __wrap_fsync(int fd);
int __wrap_fdatasync(int fd);
int __wrap_renameat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath);

struct fault {
	int fail_at; /* 0: off; N: the Nth call fails */
	int calls;
	int err;
	bool short_io; /* write: return a short count instead of failing */
};

static struct fault f_write, f_rename;
static int syncs; /* fsync and fdatasync calls */

static bool hit(struct fault *f)
{
	return f->fail_at && ++f->calls == f->fail_at;
}

ssize_t __wrap_write(int fd, const void *buf, size_t n)
{
	if (f_write.fail_at && f_write.short_io && n > 1 && f_write.calls < 1000) {
		f_write.calls++;
		return __real_write(fd, buf, n / 2);
	}
	if (hit(&f_write)) {
		errno = f_write.err;
		return -1;
	}
	return __real_write(fd, buf, n);
}

int __wrap_fsync(int fd)
{
	syncs++;
	return __real_fsync(fd);
}

int __wrap_fdatasync(int fd)
{
	syncs++;
	return __real_fdatasync(fd);
}

int __wrap_renameat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath)
{
	if (hit(&f_rename)) {
		errno = f_rename.err;
		return -1;
	}
	return __real_renameat(olddirfd, oldpath, newdirfd, newpath);
}

static char *dir;
static struct husk_state_root *root;
static struct husk_state_handle *h;

static void setup(void)
{
	dir = testutil_tmpdir("faults");
	cr_assert(eq(int, husk_state_root_open(dir, &root, NULL), 0));
	struct husk_state s;
	state_test_fill(&s, "pod", "ctr", HUSK_STATUS_CREATING);
	cr_assert(eq(int, husk_state_create(root, &s, &h, NULL), 0));
	husk_state_done(&s);
}

static void teardown(void)
{
	f_write = f_rename = (struct fault){0};
	syncs = 0;
	h = husk_state_handle_free(h);
	root = husk_state_root_free(root);
	testutil_rmtree_free(dir);
}

TestSuite(faults, .init = setup, .fini = teardown, .timeout = 30);

static void save_fails_and_keeps_old(struct fault *f, int err, const char *step)
{
	char *before = testutil_read_file(state_test_path(dir, "ctr_sandbox:pod.state"));
	cr_assert(before != NULL);
	free(husk_state_handle_state(h)->engine_data);
	husk_state_handle_state(h)->engine_data = strdup("new content");

	*f = (struct fault){.fail_at = 1, .err = err};
	struct husk_err e = {0};
	cr_assert(lt(int, husk_state_save(h, &e), 0));
	*f = (struct fault){0};
	cr_assert(eq(int, e.kind, HUSK_ERR_INTERNAL));
	cr_assert(strstr(e.msg, step) != NULL, "'%s' should name '%s'", e.msg, step);
	cr_assert(strstr(e.msg, strerror(err)) != NULL, "%s", e.msg);

	char *after = testutil_read_file(state_test_path(dir, "ctr_sandbox:pod.state"));
	cr_assert(eq(str, after, before), "old content intact");
	/* Only the state and the lock file: no temp file behind. */
	cr_assert(eq(int, state_test_count_entries(dir), 2));
	free(before);
	free(after);

	/* And the next save works. */
	cr_assert(eq(int, husk_state_save(h, &e), 0), "%s", e.msg);
	after = testutil_read_file(state_test_path(dir, "ctr_sandbox:pod.state"));
	cr_assert(strstr(after, "new content") != NULL);
	free(after);
}

Test(faults, write_enospc)
{
	save_fails_and_keeps_old(&f_write, ENOSPC, "write");
}

Test(faults, write_eio)
{
	save_fails_and_keeps_old(&f_write, EIO, "write");
}

/* A state file need not survive a power loss (its processes do not): no sync, no wait. */
Test(faults, saves_never_sync)
{
	syncs = 0;
	struct husk_state s;
	state_test_fill(&s, "pod", "nosync", HUSK_STATUS_CREATING);
	struct husk_state_handle *o = NULL;
	struct husk_err e = {0};
	cr_assert(eq(int, husk_state_create(root, &s, &o, &e), 0), "%s", e.msg);
	husk_state_handle_state(o)->status = HUSK_STATUS_CREATED;
	cr_assert(eq(int, husk_state_save(o, &e), 0), "%s", e.msg);
	husk_state_unlock(o);
	husk_state_handle_state(o)->status = HUSK_STATUS_RUNNING;
	cr_assert(eq(int, husk_state_save(o, &e), 0), "%s", e.msg);
	cr_assert(eq(int, husk_state_destroy(o, &e), 0), "%s", e.msg);
	cr_assert(eq(int, syncs, 0));
	husk_state_handle_free(o);
	husk_state_done(&s);
}

Test(faults, rename_fails)
{
	save_fails_and_keeps_old(&f_rename, EXDEV, "rename");
}

Test(faults, short_writes_are_completed)
{
	f_write = (struct fault){.fail_at = 1, .short_io = true};
	free(husk_state_handle_state(h)->engine_data);
	husk_state_handle_state(h)->engine_data = strdup("after short writes");
	struct husk_err e = {0};
	cr_assert(eq(int, husk_state_save(h, &e), 0), "%s", e.msg);
	cr_assert(gt(int, f_write.calls, 1), "writes were split");
	f_write = (struct fault){0};
	struct husk_state_handle *r = NULL;
	cr_assert(eq(int, husk_state_load(root, &husk_state_handle_state(h)->id, false, &r, &e), 0),
		  "%s", e.msg);
	cr_assert(eq(str, husk_state_handle_state(r)->engine_data, "after short writes"));
	husk_state_handle_free(r);
}

/* A create whose first write fails leaves nothing behind (it created both files). */
Test(faults, failed_create_removes_what_it_created)
{
	struct husk_state s;
	state_test_fill(&s, "pod", "other", HUSK_STATUS_CREATING);
	struct husk_state_handle *o = NULL;
	f_rename = (struct fault){.fail_at = 1, .err = EIO};
	struct husk_err e = {0};
	cr_assert(lt(int, husk_state_create(root, &s, &o, &e), 0));
	cr_assert(o == NULL);
	cr_assert(state_test_exists(dir, "other_sandbox:pod.state") == false);
	cr_assert(state_test_exists(dir, "other_sandbox:pod.lock") == false);
	cr_assert(eq(int, state_test_count_entries(dir), 2));
	husk_state_done(&s);
}
