/*
 * Mount destinations raced with symlinks (the CVE-2021-30465 class): while a process swaps a
 * directory on the destination's path with a symlink to another directory of the rootfs
 * (renameat2 RENAME_EXCHANGE in a loop), the gofer must still place the mount where one walk
 * of the destination went: on <dir>/new-N/leaf or <other>/new-N/leaf, never anywhere else,
 * and never fail because the path moved between two lookups.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "husk/err.h"
#include "husk/spec.h"
#include "native/native.h"
#include "native/plan.h"
#include "syscalls.h"
#include "testutil.h"

TestSuite(mount_race, .timeout = 120);

#define RUNS 500

/* Exchange a and b until killed. */
static pid_t swapper_start(const char *a, const char *b)
{
	pid_t pid = fork();

	cr_assert(pid >= 0);
	if (pid == 0) {
		/* A failed assertion ends the worker: the swapper goes with it. */
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() == 1)
			_exit(0);
		for (;;)
			(void)renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE);
	}
	return pid;
}

/* The tree's entry at rel (resolved in the tree, no link followed) is a tmpfs. */
static bool tmpfs_at(int tree, const char *rel)
{
	struct statfs sfs;
	int fd = husk__openat2(tree, rel, O_PATH | O_CLOEXEC, 0,
			       RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS);

	if (fd < 0)
		return false;
	bool is = fstatfs(fd, &sfs) == 0 && sfs.f_type == TMPFS_MAGIC;
	(void)close(fd);
	return is;
}

Test(mount_race, a_destination_swapped_with_a_symlink_gets_its_mount_where_one_walk_went)
{
	char *dir = testutil_tmpdir("mnt-race");
	char root[1100], swap[1200], link[1200], other[1200], dest[64], rel[3][128];
	char *opts[] = {"mode=755", "size=64k"};
	int placed[3] = {0};

	(void)snprintf(root, sizeof(root), "%s/rootfs", dir);
	(void)snprintf(swap, sizeof(swap), "%s/swap", root);
	(void)snprintf(link, sizeof(link), "%s/swaplink", root);
	(void)snprintf(other, sizeof(other), "%s/elsewhere", root);
	cr_assert(eq(int, mkdir(root, 0755), 0));
	cr_assert(eq(int, mkdir(swap, 0755), 0));
	cr_assert(eq(int, mkdir(other, 0755), 0));
	cr_assert(eq(int, symlink("/elsewhere", link), 0));
	pid_t swapper = swapper_start(swap, link);

	for (int i = 0; i < RUNS; i++) {
		struct husk_mount m = {.destination = dest,
				       .type = "tmpfs",
				       .source = "tmpfs",
				       .options = opts,
				       .n_options = 2};
		struct husk_spec spec = {.root_path = root, .mounts = &m, .n_mounts = 1};
		struct husk_gofer_plan plan;
		struct husk_err err = {0};
		int tree = -1;

		/* A fresh leaf each run: every run creates its path while it is swapped. */
		(void)snprintf(dest, sizeof(dest), "/swap/new-%d/leaf", i);
		cr_assert(eq(int, husk__gofer_plan_build(&spec, dir, NULL, 0, &plan, &err), 0),
			  "%s", err.msg);
		int r = husk__gofer_run(&plan, &tree, &err);
		husk__gofer_plan_done(&plan);
		cr_assert(eq(int, r, 0), "run %d: %s", i, err.msg);
		/* Stopped, the directory is under one of its two names: look at all three. */
		cr_assert(eq(int, kill(swapper, SIGSTOP), 0));
		int st = 0;
		cr_assert(eq(int, (int)waitpid(swapper, &st, WUNTRACED), (int)swapper));
		(void)snprintf(rel[0], sizeof(rel[0]), "swap/new-%d/leaf", i);
		(void)snprintf(rel[1], sizeof(rel[1]), "swaplink/new-%d/leaf", i);
		(void)snprintf(rel[2], sizeof(rel[2]), "elsewhere/new-%d/leaf", i);
		int found = 0;
		for (int k = 0; k < 3; k++)
			if (tmpfs_at(tree, rel[k])) {
				placed[k]++;
				found++;
			}
		cr_assert(eq(int, kill(swapper, SIGCONT), 0));
		(void)close(tree);
		cr_assert(eq(int, found, 1), "run %d: the tmpfs is on %d of the expected places", i,
			  found);
	}
	(void)kill(swapper, SIGKILL);
	(void)waitpid(swapper, NULL, 0);
	cr_log_info("placed through the directory: %d, through the link: %d", placed[0] + placed[1],
		    placed[2]);
	testutil_rmtree_free(dir);
}
