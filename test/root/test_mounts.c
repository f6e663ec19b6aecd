/*
 * The container's filesystem as the spec asks for it, checked against runc 1.1.5 on the same
 * bundle where the behaviour is user-visible: mount points that must be real directories,
 * mount options, propagation, and destinations raced with symlinks.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "box.h"
#include "husk/container.h"
#include "husk/err.h"
#include "testutil.h"

TestSuite(mounts, .timeout = 300);

/* ---- helpers ------------------------------------------------------------------------------ */

/* Run the bundle with `runc run` (its own --root under the box): exit status, output in out. */
static int runc_run(struct box *b, const char *id, char *out, size_t size)
{
	char cmd[4096];

	box_write_cfg(b);
	(void)snprintf(cmd, sizeof(cmd), "runc --root %s/runc run --bundle %s %s </dev/null 2>&1",
		       b->dir, b->bundle, id);
	FILE *f = popen(cmd, "r");
	cr_assert(f != NULL);
	size_t n = fread(out, 1, size - 1, f);
	out[n] = '\0';
	int status = pclose(f);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* Create with husk: 0 and started-and-finished output in out, or the create error. */
static int husk_run(struct box *b, const char *id, char *out, size_t size, struct husk_err *err)
{
	struct husk_container *c = NULL;
	int r = box_create(b, id, &c, err);

	if (r < 0)
		return r;
	cr_assert(eq(int, husk_container_start(c, err), 0), "%s", err->msg);
	int code = box_finish(c);
	(void)close(b->out[1]);
	b->out[1] = -1;
	box_read_all(b->out[0], out, size);
	return code;
}

static void replace_with_link(struct box *b, const char *rel, const char *target)
{
	char path[1300], cmd[2800];

	(void)snprintf(path, sizeof(path), "%s/%s", b->rootfs, rel);
	(void)snprintf(cmd, sizeof(cmd), "rm -rf %s && ln -s %s %s", path, target, path);
	cr_assert(eq(int, system(cmd), 0), "%s", cmd);
}

/* ---- /proc, /sys, /dev are ordinary directories ------------------------------------------ */

Test(mounts, proc_sys_and_dev_through_a_symlink_are_refused_as_runc_does)
{
	static const struct {
		const char *dir;
		const char *fs;
	} cases[] = {{"proc", "proc"}, {"sys", "sysfs"}, {"dev", "tmpfs"}};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct box b;
		struct husk_err err = {0};
		char out[4096], want[256], id[64];

		box_init(&b, "mnt-link");
		/* Inside the rootfs, so a lax runtime mounts there and the container runs. */
		char target[64];
		(void)snprintf(target, sizeof(target), "/tmp/%s-elsewhere", cases[i].dir);
		char mk[1300];
		(void)snprintf(mk, sizeof(mk), "%s%s", b.rootfs, target);
		cr_assert(eq(int, mkdir(mk, 0755), 0));
		replace_with_link(&b, cases[i].dir, target);
		box_set_args(&b, "echo ran");
		(void)snprintf(want, sizeof(want),
			       "filesystem \"%s\" must be mounted on ordinary "
			       "directory",
			       cases[i].fs);
		(void)snprintf(id, sizeof(id), "mnt-link-%zu", i);
		int r = husk_run(&b, id, out, sizeof(out), &err);
		cr_assert(r < 0, "%s through a link: container ran: %s", cases[i].dir, out);
		cr_assert(strstr(err.msg, want) != NULL, "%s", err.msg);
		cr_assert(box_state_gone(&b, id));
		cr_assert(box_cgroup_gone(id));
		/* runc refuses proc and sysfs with these words; /dev fails too (it sets up
		 * /dev/ptmx through the link). */
		r = runc_run(&b, id, out, sizeof(out));
		cr_assert(r != 0, "runc ran with %s a link: %s", cases[i].dir, out);
		/* (logfmt quotes the message: \"proc\") */
		(void)snprintf(want, sizeof(want),
			       "filesystem \\\"%s\\\" must be mounted on ordinary directory",
			       cases[i].fs);
		if (strcmp(cases[i].dir, "dev") != 0)
			cr_assert(strstr(out, want) != NULL, "%s", out);
		box_done(&b);
	}
}

Test(mounts, an_ordinary_proc_directory_is_created_when_missing)
{
	struct box b;
	struct husk_err err = {0};
	char out[4096], path[1300];

	box_init(&b, "mnt-noproc");
	(void)snprintf(path, sizeof(path), "%s/proc", b.rootfs);
	cr_assert(eq(int, rmdir(path), 0));
	box_set_args(&b, "test -d /proc/self && echo proc-ok");
	cr_assert(eq(int, husk_run(&b, "mnt-noproc", out, sizeof(out), &err), 0), "%s", err.msg);
	cr_assert(eq(str, out, "proc-ok\n"));
	box_done(&b);
}
