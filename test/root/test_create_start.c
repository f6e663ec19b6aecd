/* The native engine end to end, as root, on a busybox bundle: create, start, exit, delete. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>
#include <sys/wait.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <jansson.h>

#include "husk/container.h"
#include "husk/err.h"
#include "husk/spec.h"
#include "testutil.h"

struct box {
	char *dir; /* temp dir: bundle/ and state/ */
	char bundle[4096];
	char state[4096];
	json_t *cfg;
	struct husk_runtime *rt;
	int out[2]; /* the container's stdout+stderr */
};

static void box_init(struct box *b, const char *tag)
{
	char cmd[8192];
	char *fixture = testutil_source_path("test/helpers/config.json");
	json_error_t je;

	memset(b, 0, sizeof(*b));
	b->dir = testutil_tmpdir(tag);
	(void)snprintf(b->bundle, sizeof(b->bundle), "%s/bundle", b->dir);
	(void)snprintf(b->state, sizeof(b->state), "%s/state", b->dir);
	char *mk = testutil_source_path("hack/mkrootfs.sh");
	(void)snprintf(cmd, sizeof(cmd), "%s %s/rootfs >/dev/null", mk, b->bundle);
	cr_assert(eq(int, system(cmd), 0));
	free(mk);
	b->cfg = json_load_file(fixture, 0, &je);
	free(fixture);
	cr_assert(b->cfg != NULL, "%s", je.text);
	struct husk_runtime_config rc = {.root = b->state};
	struct husk_err err = {0};
	cr_assert(eq(int, husk_runtime_open(&rc, &b->rt, &err), 0), "%s", err.msg);
	cr_assert(eq(int, pipe2(b->out, O_CLOEXEC), 0));
}

static void box_done(struct box *b)
{
	husk_runtime_free(b->rt);
	json_decref(b->cfg);
	if (b->out[0] >= 0)
		close(b->out[0]);
	if (b->out[1] >= 0)
		close(b->out[1]);
	testutil_rmtree_free(b->dir);
}

static void set_args(struct box *b, const char *script)
{
	json_t *args = json_pack("[sss]", "sh", "-c", script);
	json_object_set_new(json_object_get(b->cfg, "process"), "args", args);
}

static void write_cfg(struct box *b)
{
	char path[4200];
	(void)snprintf(path, sizeof(path), "%s/config.json", b->bundle);
	cr_assert(eq(int, json_dump_file(b->cfg, path, 0), 0));
}

static int box_create(struct box *b, const char *id, struct husk_container **c,
		      struct husk_err *err)
{
	write_cfg(b);
	struct husk_create_opts o = {
		.id = id, .bundle = b->bundle, .stdio = {-1, b->out[1], b->out[1]}};
	return husk_container_create(b->rt, &o, c, err);
}

/* Start, wait for the init, record the exit, delete; returns the exit status. */
static int box_finish(struct husk_container *c)
{
	struct husk_err err = {0};
	int status = 0;
	pid_t pid = husk_container_init(c)->pid;

	cr_assert(eq(int, (int)waitpid(pid, &status, 0), (int)pid));
	cr_assert(eq(int, husk_container_set_exited(c, status, 0, &err), 0), "%s", err.msg);
	int code = 0;
	cr_assert(husk_container_exit(c, &code, NULL));
	cr_assert(eq(int, husk_container_delete(c, false, &err), 0), "%s", err.msg);
	husk_container_free(c);
	return code;
}

static int run(struct box *b, const char *id, const char *script, char *out, size_t size)
{
	struct husk_container *c = NULL;
	struct husk_err err = {0};

	set_args(b, script);
	cr_assert(eq(int, box_create(b, id, &c, &err), 0), "%s", err.msg);
	cr_assert(eq(int, (int)husk_container_status(c), (int)HUSK_STATUS_CREATED));
	cr_assert(eq(int, husk_container_start(c, &err), 0), "%s", err.msg);
	cr_assert(eq(int, (int)husk_container_status(c), (int)HUSK_STATUS_RUNNING));
	int code = box_finish(c);
	close(b->out[1]);
	b->out[1] = -1;
	size_t n = 0;
	ssize_t r;
	while (n + 1 < size && (r = read(b->out[0], out + n, size - 1 - n)) > 0)
		n += (size_t)r;
	out[n] = '\0';
	return code;
}

static bool no_children(void)
{
	return waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD;
}

static bool state_gone(struct box *b, const char *id)
{
	char path[4300];
	struct stat st;
	(void)snprintf(path, sizeof(path), "%s/%s_sandbox:%s.state", b->state, id, id);
	return stat(path, &st) < 0 && errno == ENOENT;
}

static bool cgroup_gone(const char *id)
{
	char path[512];
	struct stat st;
	(void)snprintf(path, sizeof(path), "/sys/fs/cgroup/pids/husk/%s", id);
	return stat(path, &st) < 0 && errno == ENOENT;
}

TestSuite(create_start, .timeout = 120);

Test(create_start, echo_and_exit_zero)
{
	struct box b;
	char out[4096];

	box_init(&b, "cs-echo");
	cr_assert(eq(int, run(&b, "cs-echo", "echo hello; exit 0", out, sizeof(out)), 0));
	cr_assert(eq(str, out, "hello\n"));
	cr_assert(no_children());
	cr_assert(state_gone(&b, "cs-echo"));
	cr_assert(cgroup_gone("cs-echo"));
	box_done(&b);
}

Test(create_start, exit_codes)
{
	struct box b;
	char out[256];

	box_init(&b, "cs-exit");
	cr_assert(eq(int, run(&b, "cs-exit3", "exit 3", out, sizeof(out)), 3));
	/* The container's pid 1 ignores signals it has no handler for, except SIGKILL. */
	struct husk_container *c = NULL;
	struct husk_err err = {0};
	set_args(&b, "sleep 100");
	cr_assert(eq(int, box_create(&b, "cs-exit-sig", &c, &err), 0), "%s", err.msg);
	cr_assert(eq(int, husk_container_start(c, &err), 0), "%s", err.msg);
	cr_assert(eq(int, husk_container_kill(c, SIGKILL, false, &err), 0), "%s", err.msg);
	cr_assert(eq(int, box_finish(c), 128 + SIGKILL));
	box_done(&b);
}

Test(create_start, hostname_uid_pid1_caps)
{
	struct box b;
	char out[4096];

	box_init(&b, "cs-ids");
	run(&b, "cs-ids",
	    "hostname; id -u; echo $$; grep -E '^(CapEff|NoNewPrivs)' /proc/self/status", out,
	    sizeof(out));
	/* The fixture's eight capabilities (chown, dac_override, fowner, kill, setgid,
	 * setuid, net_bind_service, audit_write) are 0x200004eb. */
	cr_assert(eq(str, out, "husk-test\n0\n1\nCapEff:\t00000000200004eb\nNoNewPrivs:\t1\n"));
	box_done(&b);
}

Test(create_start, only_stdio_fds_reach_pid1)
{
	struct box b;
	char out[4096];

	box_init(&b, "cs-fds");
	/* exec replaces sh: pid 1 is ls itself, its fd 3 is the directory it reads. */
	json_object_set_new(json_object_get(b.cfg, "process"), "args",
			    json_pack("[ss]", "ls", "/proc/self/fd"));
	write_cfg(&b);
	struct husk_container *c = NULL;
	struct husk_err err = {0};
	cr_assert(eq(int, box_create(&b, "cs-fds", &c, &err), 0), "%s", err.msg);
	cr_assert(eq(int, husk_container_start(c, &err), 0), "%s", err.msg);
	cr_assert(eq(int, box_finish(c), 0));
	close(b.out[1]);
	b.out[1] = -1;
	ssize_t n = read(b.out[0], out, sizeof(out) - 1);
	cr_assert(n > 0);
	out[n] = '\0';
	cr_assert(eq(str, out, "0\n1\n2\n3\n"));
	box_done(&b);
}

Test(create_start, missing_binary_is_a_create_error)
{
	struct box b;
	struct husk_container *c = NULL;
	struct husk_err err = {0};

	box_init(&b, "cs-noexec");
	json_object_set_new(json_object_get(b.cfg, "process"), "args",
			    json_pack("[s]", "/no/such/binary"));
	/* As runc create: the lookup is done before the init reports ready. */
	cr_assert(eq(int, box_create(&b, "cs-noexec", &c, &err), -ENOENT));
	cr_assert(strstr(err.msg, "exec: \"/no/such/binary\": stat /no/such/binary: no such file "
				  "or directory") != NULL,
		  "%s", err.msg);
	cr_assert(eq(ptr, c, NULL));
	cr_assert(no_children());
	cr_assert(state_gone(&b, "cs-noexec"));
	box_done(&b);
}

Test(create_start, failed_create_leaves_nothing)
{
	struct box b;
	struct husk_container *c = NULL;
	struct husk_err err = {0};

	box_init(&b, "cs-fail");
	json_array_append_new(json_object_get(b.cfg, "mounts"),
			      json_pack("{s:s,s:s,s:[s]}", "destination", "/data", "source",
					"/no/such/source", "options", "rbind"));
	write_cfg(&b);
	cr_assert(box_create(&b, "cs-fail", &c, &err) < 0);
	cr_assert(strstr(err.msg, "/no/such/source") != NULL, "%s", err.msg);
	cr_assert(no_children());
	cr_assert(state_gone(&b, "cs-fail"));
	cr_assert(cgroup_gone("cs-fail"));
	box_done(&b);
}

Test(create_start, symlink_cannot_redirect_a_bind_mount)
{
	struct box b;
	char out[256];
	char path[4300];
	char src[4300];
	struct stat st;

	box_init(&b, "cs-evil");
	(void)snprintf(path, sizeof(path), "%s/rootfs/etc/evil", b.bundle);
	cr_assert(eq(int, symlink("/", path), 0));
	(void)snprintf(src, sizeof(src), "%s/vol", b.dir);
	cr_assert(eq(int, mkdir(src, 0755), 0));
	json_array_append_new(json_object_get(b.cfg, "mounts"),
			      json_pack("{s:s,s:s,s:[s]}", "destination",
					"/etc/evil/husk-evil-target", "source", src, "options",
					"rbind"));
	cr_assert(eq(int, run(&b, "cs-evil", "test -d /husk-evil-target", out, sizeof(out)), 0));
	cr_assert(stat("/husk-evil-target", &st) < 0 && errno == ENOENT);
	(void)snprintf(path, sizeof(path), "%s/rootfs/husk-evil-target", b.bundle);
	cr_assert(eq(int, stat(path, &st), 0));
	box_done(&b);
}

Test(create_start, no_container_mount_on_the_host)
{
	struct box b;
	struct husk_container *c = NULL;
	struct husk_err err = {0};

	box_init(&b, "cs-mounts");
	char *before = testutil_read_file("/proc/self/mountinfo");
	set_args(&b, "true");
	cr_assert(eq(int, box_create(&b, "cs-mounts", &c, &err), 0), "%s", err.msg);
	char *during = testutil_read_file("/proc/self/mountinfo");
	cr_assert(strstr(during, b.bundle) == NULL, "%s", during);
	cr_assert(eq(int, husk_container_start(c, &err), 0), "%s", err.msg);
	cr_assert(eq(int, box_finish(c), 0));
	char *after = testutil_read_file("/proc/self/mountinfo");
	cr_assert(eq(str, before, after));
	free(before);
	free(during);
	free(after);
	box_done(&b);
}

/*
 * An init that cannot join its cgroup says why and leaves nothing. Made real here: a
 * SCHED_FIFO task may not enter a v1 cpu cgroup that has no realtime budget
 * (cpu.rt_runtime_us 0, as every new one has), so a create from a realtime process fails
 * there (runc's does too).
 */
Test(create_start, an_init_that_cannot_join_its_cgroup_reports_why)
{
	if (access("/sys/fs/cgroup/cpu/cpu.rt_runtime_us", F_OK) < 0)
		cr_skip_test("no realtime group scheduling on a v1 cpu hierarchy here");
	struct box b;
	struct husk_container *c = NULL;
	struct husk_err err = {0};

	box_init(&b, "cs-rt");
	struct sched_param sp = {.sched_priority = 1};
	cr_assert(eq(int, sched_setscheduler(0, SCHED_FIFO, &sp), 0), "%s", strerror(errno));
	int r = box_create(&b, "cs-rt", &c, &err);
	sp.sched_priority = 0;
	cr_assert(eq(int, sched_setscheduler(0, SCHED_OTHER, &sp), 0));
	cr_assert(lt(int, r, 0));
	cr_assert(strstr(err.msg, "join the container's cgroup: Invalid argument") != NULL, "%s",
		  err.msg);
	cr_assert(eq(ptr, c, NULL));
	cr_assert(no_children());
	cr_assert(state_gone(&b, "cs-rt"));
	cr_assert(cgroup_gone("cs-rt"));
	box_done(&b);
}
