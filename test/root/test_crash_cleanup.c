/* Crashes and failures leave nothing behind: a creator killed with SIGKILL, every failed
 * create path. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
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

TestSuite(crash_cleanup, .timeout = 120);

/*
 * In a child: open the runtime, create (and start when asked), report the init's pid over
 * the pipe, then wait to be killed. The init is then nobody's child we know of.
 */
static pid_t crashing_creator(struct box *b, const char *id, bool start, pid_t *ret_init)
{
	int p[2];

	cr_assert(eq(int, pipe2(p, O_CLOEXEC), 0));
	box_set_args(b, "echo ready; exec sleep 1000");
	box_write_cfg(b);
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		struct husk_runtime *rt = NULL;
		struct husk_container *c = NULL;
		struct husk_runtime_config rc = {.root = b->state};
		struct husk_create_opts o = {
			.id = id, .bundle = b->bundle, .stdio = {-1, b->out[1], b->out[1]}};
		if (husk_runtime_open(&rc, &rt, NULL) < 0 ||
		    husk_container_create(rt, &o, &c, NULL) < 0 ||
		    (start && husk_container_start(c, NULL) < 0))
			_exit(1);
		pid_t init = husk_container_init(c)->pid;
		(void)!write(p[1], &init, sizeof(init));
		for (;;)
			pause();
	}
	(void)close(p[1]);
	cr_assert(eq(int, (int)read(p[0], ret_init, sizeof(*ret_init)), (int)sizeof(*ret_init)));
	(void)close(p[0]);
	return pid;
}

static void crash_and_clean(const char *id, bool start)
{
	struct box b;
	struct husk_err err = {0};
	pid_t init = 0;

	box_init(&b, id);
	pid_t creator = crashing_creator(&b, id, start, &init);
	if (start)
		box_expect_line(&b, "ready");
	int ifd = (int)syscall(SYS_pidfd_open, init, 0);
	cr_assert(ifd >= 0);
	cr_assert(eq(int, kill(creator, SIGKILL), 0));
	int status = 0;
	cr_assert(eq(int, (int)waitpid(creator, &status, 0), (int)creator));
	bool signaled = WIFSIGNALED(status);
	cr_assert(signaled);

	/* Another process (a fresh runtime here) cleans up from the state files alone. */
	struct husk_runtime *rt = NULL;
	struct husk_runtime_config rc = {.root = b.state};
	struct husk_container *c = NULL;
	cr_assert(eq(int, husk_runtime_open(&rc, &rt, &err), 0), "%s", err.msg);
	cr_assert(eq(int, husk_container_load(rt, id, &c, &err), 0), "%s", err.msg);
	cr_assert(eq(int, husk_container_delete(c, /* force= */ true, &err), 0), "%s", err.msg);
	husk_container_free(c);
	husk_runtime_free(rt);
	box_wait_pidfd(ifd, 10);
	(void)close(ifd);
	cr_assert(box_cgroup_gone(id));
	cr_assert(box_state_root_empty(&b));
	cr_assert(eq(int, box_count_children(), 0));
	box_done(&b);
}

Test(crash_cleanup, a_killed_creator_of_a_running_container)
{
	crash_and_clean("crash-running", true);
}

Test(crash_cleanup, a_killed_creator_of_a_created_container)
{
	crash_and_clean("crash-created", false);
}

/* The mountinfo lines that name a path under dir (other suites running in parallel mount
 * and unmount elsewhere on the host meanwhile). */
static size_t mounts_under(const char *info, const char *dir)
{
	size_t n = 0;
	for (const char *p = info; (p = strstr(p, dir)); p += strlen(dir))
		n++;
	return n;
}

/* Nothing of id exists: no child, no cgroup, no state file, no mount of the box's on the
 * host. */
static void assert_nothing_left(struct box *b, const char *id, const char *mounts_before)
{
	cr_assert(eq(int, box_count_children(), 0));
	cr_assert(box_cgroup_gone(id));
	cr_assert(box_state_root_empty(b));
	char *now = testutil_read_file("/proc/self/mountinfo");
	cr_assert(eq(sz, mounts_under(now, b->dir), mounts_under(mounts_before, b->dir)), "%s",
		  now);
	free(now);
}

static void expect_create_failure(struct box *b, const char *id, const char *msg_part)
{
	struct husk_container *c = NULL;
	struct husk_err err = {0};
	char *before = testutil_read_file("/proc/self/mountinfo");

	cr_assert(box_create(b, id, &c, &err) < 0);
	cr_assert(c == NULL);
	cr_assert(strstr(err.msg, msg_part) != NULL, "%s", err.msg);
	assert_nothing_left(b, id, before);
	free(before);
}

Test(crash_cleanup, a_bad_spec_leaves_nothing)
{
	struct box b;
	char path[4300];
	struct husk_container *c = NULL;
	struct husk_err err = {0};

	box_init(&b, "fail-spec");
	char *before = testutil_read_file("/proc/self/mountinfo");
	(void)snprintf(path, sizeof(path), "%s/config.json", b.bundle);
	testutil_write_file(path, "{\"ociVersion\": \"1.0.2\", \"process\": ");
	struct husk_create_opts o = {.id = "fail-spec", .bundle = b.bundle, .stdio = {-1, -1, -1}};
	cr_assert(husk_container_create(b.rt, &o, &c, &err) < 0);
	cr_assert(eq(int, (int)err.kind, (int)HUSK_ERR_INVALID), "%s", err.msg);
	assert_nothing_left(&b, "fail-spec", before);
	/* A well-formed spec with a wrong type. */
	json_object_set_new(json_object_get(b.cfg, "process"), "args", json_pack("[si]", "sh", 3));
	expect_create_failure(&b, "fail-spec", "process.args[1]");
	free(before);
	box_done(&b);
}

Test(crash_cleanup, a_bad_mount_source_leaves_nothing)
{
	struct box b;

	box_init(&b, "fail-mount");
	json_array_append_new(json_object_get(b.cfg, "mounts"),
			      json_pack("{s:s,s:s,s:[s]}", "destination", "/data", "source",
					"/no/such/source", "options", "rbind"));
	expect_create_failure(&b, "fail-mount", "/no/such/source");
	box_done(&b);
}

Test(crash_cleanup, a_limit_the_host_cannot_apply_leaves_nothing)
{
	struct box b;

	box_init(&b, "fail-limit");
	json_object_set_new(json_object_get(b.cfg, "linux"), "resources",
			    json_pack("{s:[{s:s,s:I}]}", "hugepageLimits", "pageSize", "3MB",
				      "limit", (json_int_t)1 << 30));
	expect_create_failure(&b, "fail-limit", "hugepageLimits");
	/* One that fails in the kernel, after the cgroup was made: no such cpu. */
	json_object_set_new(json_object_get(b.cfg, "linux"), "resources",
			    json_pack("{s:{s:s}}", "cpu", "cpus", "63"));
	expect_create_failure(&b, "fail-limit", "cpuset.cpus");
	box_done(&b);
}

Test(crash_cleanup, a_failing_hook_leaves_nothing)
{
	struct box b;

	box_init(&b, "fail-hook");
	json_object_set_new(b.cfg, "hooks",
			    json_pack("{s:[{s:s,s:[sss]}]}", "createRuntime", "path", "/bin/sh",
				      "args", "sh", "-c", "exit 3"));
	expect_create_failure(&b, "fail-hook", "exited with status 3");
	box_done(&b);
}

/* runc looks the executable up before create returns: a missing one fails Create, and
 * leaves nothing. */
Test(crash_cleanup, a_missing_binary_fails_create_and_leaves_nothing)
{
	struct box b;

	box_init(&b, "fail-start");
	json_object_set_new(json_object_get(b.cfg, "process"), "args",
			    json_pack("[s]", "/no/such/binary"));
	expect_create_failure(&b, "fail-start", "stat /no/such/binary: no such file or directory");
	box_done(&b);
}

Test(crash_cleanup, a_binary_gone_at_start_leaves_nothing_after_delete)
{
	struct box b;
	struct husk_container *c = NULL;
	struct husk_err err = {0};
	char path[1200], cmd[2600];

	box_init(&b, "fail-gone");
	char *before = testutil_read_file("/proc/self/mountinfo");
	/* Found at create, removed before start: the execve itself fails. */
	(void)snprintf(path, sizeof(path), "%s/bin/vanishing", b.rootfs);
	(void)snprintf(cmd, sizeof(cmd), "cp '%s/bin/busybox' '%s'", b.rootfs, path);
	cr_assert(eq(int, system(cmd), 0));
	json_object_set_new(json_object_get(b.cfg, "process"), "args",
			    json_pack("[s]", "/bin/vanishing"));
	cr_assert(eq(int, box_create(&b, "fail-gone", &c, &err), 0), "%s", err.msg);
	cr_assert(eq(int, unlink(path), 0));
	pid_t pid = husk_container_init(c)->pid;
	cr_assert(eq(int, husk_container_start(c, &err), -ENOENT), "%s", err.msg);
	cr_assert(eq(int, (int)husk_container_status(c), (int)HUSK_STATUS_STOPPED));
	/* The caller's reaper reaps the init; delete removes the rest. */
	int status = 0;
	cr_assert(eq(int, (int)waitpid(pid, &status, 0), (int)pid));
	cr_assert(eq(int, husk_container_delete(c, false, &err), 0), "%s", err.msg);
	husk_container_free(c);
	assert_nothing_left(&b, "fail-gone", before);
	free(before);
	box_done(&b);
}

/* A state file that cannot be read: the bundle leads to the container's cgroup. A bundle of
 * another pod is refused and removes nothing; the right one removes everything. */
Test(crash_cleanup, an_unreadable_state_file_is_cleaned_through_the_bundle)
{
	struct box b;
	struct husk_err err = {0};
	char path[2200];

	box_init(&b, "unread");
	struct husk_container *c = box_run(&b, "unread", "sleep 1000");
	pid_t pid = husk_container_init(c)->pid;
	(void)snprintf(path, sizeof(path), "%s/unread_sandbox:unread.state", b.state);
	cr_assert(eq(int, truncate(path, 10), 0), "%s", strerror(errno));

	/* The same bundle claiming another pod. */
	json_object_set_new(b.cfg, "annotations",
			    json_pack("{s:s}", "io.containerd.runc.v2.group", "otherpod"));
	box_write_cfg(&b);
	cr_assert(lt(int, husk_container_remove_unreadable(b.rt, "unread", b.bundle, &err), 0));
	cr_assert(eq(int, (int)err.kind, (int)HUSK_ERR_INVALID), "%s", err.msg);
	cr_assert(eq(int, access(path, F_OK), 0), "the state file went with a refused bundle");
	cr_assert(eq(int, kill(pid, 0), 0), "the init died with a refused bundle");

	json_object_del(b.cfg, "annotations");
	box_write_cfg(&b);
	cr_assert(eq(int, husk_container_remove_unreadable(b.rt, "unread", b.bundle, &err), 0),
		  "%s", err.msg);
	int status = 0;
	cr_assert(eq(int, (int)waitpid(pid, &status, 0), (int)pid));
	cr_assert(eq(int, WIFSIGNALED(status) ? WTERMSIG(status) : 0, SIGKILL));
	husk_container_free(c);
	cr_assert(box_cgroup_gone("unread"));
	cr_assert(box_state_root_empty(&b));
	/* Nothing left to find the second time. */
	cr_assert(lt(int, husk_container_remove_unreadable(b.rt, "unread", b.bundle, &err), 0));
	cr_assert(eq(int, (int)err.kind, (int)HUSK_ERR_NOT_FOUND), "%s", err.msg);
	box_done(&b);
}
