/*
 * Kill-all over a fake cgroupfs with the pidfd syscalls failing through -Wl,--wrap=syscall:
 * an error other than ESRCH stops the walk and names the pid it failed on.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>
#include <sys/syscall.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "cgroup.h"
#include "husk/err.h"
#include "testutil.h"

long __real_syscall(long nr, ...);
long __wrap_syscall(long nr, ...);

/* The pidfd syscall that fails, and the errno it fails with. */
static long fail_nr = -1;
static int fail_errno;
static int pidfd_opens;

/* Only the two pidfd calls reach syscall() on the kill-all path; their argument counts are
 * known, so no va_arg reads past what the caller passed. */
long __wrap_syscall(long nr, ...)
{
	va_list ap;
	long a[4] = {0};
	int nargs = nr == SYS_pidfd_open ? 2 : 4;

	cr_assert(nr == SYS_pidfd_open || nr == SYS_pidfd_send_signal, "unexpected syscall %ld",
		  nr);
	va_start(ap, nr);
	for (int i = 0; i < nargs; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (nr == SYS_pidfd_open)
		pidfd_opens++;
	if (nr == fail_nr) {
		errno = fail_errno;
		return -1;
	}
	return __real_syscall(nr, a[0], a[1], a[2], a[3]);
}

static char *root;

static void setup(void)
{
	root = testutil_tmpdir("cgfault");
	fail_nr = -1;
	pidfd_opens = 0;
}

static void teardown(void)
{
	testutil_rmtree_free(root);
	root = NULL;
}

static void mkdir_in_root(const char *rel)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	cr_assert(mkdir(path, 0755) == 0 || errno == EEXIST, "mkdir %s", path);
}

static void put(const char *rel, const char *content)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	testutil_write_file(path, content);
}

static const char v1_mountinfo[] =
	"25 30 0:22 / /sys/fs/cgroup rw,nosuid - tmpfs tmpfs rw,mode=755\n"
	"28 25 0:25 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n"
	"29 25 0:26 / /sys/fs/cgroup/freezer rw - cgroup cgroup rw,freezer\n";

/* A frozen cgroup /k/c whose procs files list pids that do not exist here. */
static struct husk_cgroup *frozen_cgroup(struct husk_cgroup_host **ret_host)
{
	static const char *const dirs[] = {"sys", "sys/fs", "sys/fs/cgroup", "sys/fs/cgroup/pids",
					   "sys/fs/cgroup/freezer"};
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		mkdir_in_root(dirs[i]);
	struct husk_err err = {0};
	struct husk_cgroup_host *h = NULL;
	struct husk_cgroup *cg = NULL;
	cr_assert(eq(int,
		     husk__cgroup_host_open(v1_mountinfo, strlen(v1_mountinfo), root, &h, &err), 0),
		  "%s", err.msg);
	cr_assert(eq(int, husk__cgroup_create(h, "/k/c", &cg, &err), 0), "%s", err.msg);
	put("sys/fs/cgroup/freezer/k/c/freezer.state", "FROZEN\n");
	put("sys/fs/cgroup/pids/k/c/cgroup.procs", "4194301\n4194302\n");
	*ret_host = h;
	return cg;
}

/* valgrind 3.19 turns pidfd_open into ENOSYS. */
static void require_pidfd_open(void)
{
	long fd = __real_syscall(SYS_pidfd_open, (long)getpid(), 0L);
	if (fd < 0)
		cr_skip_test("pidfd_open is not available here (%s)", strerror(errno));
	close((int)fd);
}

TestSuite(cgroup_faults, .init = setup, .fini = teardown, .timeout = 30);

Test(cgroup_faults, pidfd_open_failure_names_the_pid)
{
	struct husk_cgroup_host *h = NULL;
	struct husk_cgroup *cg = frozen_cgroup(&h);
	struct husk_err err = {0};

	fail_nr = SYS_pidfd_open;
	fail_errno = EPERM;
	int r = husk__cgroup_kill_all(cg, SIGKILL, 1000, &err);
	cr_expect(eq(int, r, -EPERM));
	cr_expect(eq(int, pidfd_opens, 1), "the walk stops at the first hard error");
	cr_expect(strstr(err.msg, "signal 9 to pid 4194301") != NULL, "%s", err.msg);
	husk__cgroup_free(cg);
	husk__cgroup_host_free(h);
}

/* A kernel (or seccomp profile) without pidfd_open: the one line naming it. */
Test(cgroup_faults, pidfd_open_enosys_names_the_syscall)
{
	struct husk_cgroup_host *h = NULL;
	struct husk_cgroup *cg = frozen_cgroup(&h);
	struct husk_err err = {0};

	fail_nr = SYS_pidfd_open;
	fail_errno = ENOSYS;
	int r = husk__cgroup_kill_all(cg, SIGKILL, 1000, &err);
	cr_expect(eq(int, r, -ENOSYS));
	cr_expect(eq(str, err.msg,
		     "husk needs pidfd_open(2) (Linux 5.3 or later): Function not implemented"));
	husk__cgroup_free(cg);
	husk__cgroup_host_free(h);
}

Test(cgroup_faults, pidfd_send_signal_failure_names_the_pid)
{
	require_pidfd_open();
	struct husk_cgroup_host *h = NULL;
	struct husk_cgroup *cg = frozen_cgroup(&h);
	struct husk_err err = {0};

	/* pidfd_open of pids that do not exist is ESRCH, which the walk skips: make the first
	 * one ours so that pidfd_send_signal runs. */
	char self[32];
	snprintf(self, sizeof(self), "%d\n4194302\n", (int)getpid());
	put("sys/fs/cgroup/pids/k/c/cgroup.procs", self);
	fail_nr = SYS_pidfd_send_signal;
	fail_errno = EACCES;
	int r = husk__cgroup_kill_all(cg, SIGKILL, 1000, &err);
	cr_expect(eq(int, r, -EACCES));
	char want[64];
	snprintf(want, sizeof(want), "signal 9 to pid %d", (int)getpid());
	cr_expect(strstr(err.msg, want) != NULL, "%s", err.msg);
	husk__cgroup_free(cg);
	husk__cgroup_host_free(h);
}

Test(cgroup_faults, vanished_pids_are_skipped)
{
	require_pidfd_open();
	struct husk_cgroup_host *h = NULL;
	struct husk_cgroup *cg = frozen_cgroup(&h);
	struct husk_err err = {0};

	cr_expect(eq(int, husk__cgroup_kill_all(cg, SIGKILL, 1000, &err), 0), "%s", err.msg);
	cr_expect(eq(int, pidfd_opens, 2));
	husk__cgroup_free(cg);
	husk__cgroup_host_free(h);
}

/* A cgroup that no freezer hierarchy holds is signalled unfrozen, as runc does when it
 * cannot freeze, instead of failing the kill. */
Test(cgroup_faults, a_cgroup_no_freezer_holds_is_signalled_unfrozen)
{
	require_pidfd_open();
	struct husk_cgroup_host *h = NULL;
	struct husk_cgroup *cg = husk__cgroup_free(frozen_cgroup(&h));
	struct husk_err err = {0};
	char *freezer = NULL;

	cr_assert(asprintf(&freezer, "%s/sys/fs/cgroup/freezer/k/c", root) > 0);
	testutil_rmtree_free(freezer);
	cr_assert(eq(int, husk__cgroup_open(h, "/k/c", &cg, &err), 0), "%s", err.msg);
	cr_expect(eq(int, husk__cgroup_kill_all(cg, SIGKILL, 1000, &err), 0), "%s", err.msg);
	cr_expect(eq(int, pidfd_opens, 2), "every pid of the list is tried");
	husk__cgroup_free(cg);
	husk__cgroup_host_free(h);
}
