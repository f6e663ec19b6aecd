#include "box.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/stat.h>
#include <sys/wait.h>

#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <criterion/new/assert.h>

#include "husk/container.h"
#include "husk/err.h"
#include "husk/spec.h"
#include "testutil.h"

#define TEMPLATE_ENV "HUSK_TEST_ROOTFS_TEMPLATE"

static char *template_dir;

/* mkrootfs.sh forks once per applet (seconds); a copy of its output takes milliseconds. */
ReportHook(PRE_ALL)(struct criterion_test_set *set)
{
	char cmd[8192];

	(void)set;
	/* The runner must not assert (it would hang): without the source dir, the tests fail. */
	if (getenv(TEMPLATE_ENV) || !getenv("HUSK_SOURCE_DIR"))
		return;
	template_dir = testutil_tmpdir("rootfs-template");
	char *mk = testutil_source_path("hack/mkrootfs.sh");
	(void)snprintf(cmd, sizeof(cmd), "%s %s/rootfs >/dev/null", mk, template_dir);
	free(mk);
	if (system(cmd) == 0)
		(void)setenv(TEMPLATE_ENV, template_dir, 1);
}

ReportHook(POST_ALL)(struct criterion_global_stats *stats)
{
	(void)stats;
	if (template_dir)
		testutil_rmtree_free(template_dir);
	template_dir = NULL;
}

static void make_rootfs(struct box *b)
{
	char *cmd = NULL;
	const char *tpl = getenv(TEMPLATE_ENV);

	cr_assert(eq(int, mkdir(b->bundle, 0755), 0));
	if (tpl) {
		cr_assert(asprintf(&cmd, "cp -a %s/rootfs %s", tpl, b->rootfs) > 0);
	} else {
		char *mk = testutil_source_path("hack/mkrootfs.sh");
		cr_assert(asprintf(&cmd, "%s %s >/dev/null", mk, b->rootfs) > 0);
		free(mk);
	}
	cr_assert(eq(int, system(cmd), 0), "%s", cmd);
	free(cmd);
}

void box_init(struct box *b, const char *tag)
{
	char *fixture = testutil_source_path("test/helpers/config.json");
	json_error_t je;

	memset(b, 0, sizeof(*b));
	b->dir = testutil_tmpdir(tag);
	(void)snprintf(b->bundle, sizeof(b->bundle), "%s/bundle", b->dir);
	(void)snprintf(b->rootfs, sizeof(b->rootfs), "%s/rootfs", b->bundle);
	(void)snprintf(b->state, sizeof(b->state), "%s/state", b->dir);
	make_rootfs(b);
	b->cfg = json_load_file(fixture, 0, &je);
	free(fixture);
	cr_assert(b->cfg != NULL, "%s", je.text);
	struct husk_runtime_config rc = {.root = b->state};
	struct husk_err err = {0};
	cr_assert(eq(int, husk_runtime_open(&rc, &b->rt, &err), 0), "%s", err.msg);
	cr_assert(eq(int, pipe2(b->out, O_CLOEXEC), 0));
}

void box_done(struct box *b)
{
	husk_runtime_free(b->rt);
	json_decref(b->cfg);
	if (b->out[0] >= 0)
		(void)close(b->out[0]);
	if (b->out[1] >= 0)
		(void)close(b->out[1]);
	testutil_rmtree_free(b->dir);
}

void box_set_args(struct box *b, const char *script)
{
	json_t *args = json_pack("[sss]", "sh", "-c", script);
	json_object_set_new(json_object_get(b->cfg, "process"), "args", args);
}

void box_write_cfg(struct box *b)
{
	char path[4200];
	(void)snprintf(path, sizeof(path), "%s/config.json", b->bundle);
	cr_assert(eq(int, json_dump_file(b->cfg, path, 0), 0));
}

int box_create(struct box *b, const char *id, struct husk_container **c, struct husk_err *err)
{
	box_write_cfg(b);
	struct husk_create_opts o = {
		.id = id, .bundle = b->bundle, .stdio = {-1, b->out[1], b->out[1]}};
	return husk_container_create(b->rt, &o, c, err);
}

struct husk_container *box_run(struct box *b, const char *id, const char *script)
{
	struct husk_container *c = NULL;
	struct husk_err err = {0};

	box_set_args(b, script);
	cr_assert(eq(int, box_create(b, id, &c, &err), 0), "%s", err.msg);
	cr_assert(eq(int, husk_container_start(c, &err), 0), "%s", err.msg);
	return c;
}

void box_expect_line(struct box *b, const char *line)
{
	char buf[1024];
	size_t n = 0;

	while (n + 1 < sizeof(buf)) {
		ssize_t r = read(b->out[0], buf + n, 1);
		if (r < 0 && errno == EINTR)
			continue;
		cr_assert(r == 1, "container output ended after '%.*s'", (int)n, buf);
		if (buf[n++] == '\n')
			break;
	}
	buf[n] = '\0';
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	cr_assert(eq(str, buf, (char *)line));
}

int box_code(int status)
{
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

int box_finish(struct husk_container *c)
{
	struct husk_err err = {0};
	int status = 0;
	pid_t pid = husk_container_init(c)->pid;

	cr_assert(eq(int, (int)waitpid(pid, &status, 0), (int)pid));
	cr_assert(eq(int, husk_container_set_exited(c, status, 0, &err), 0), "%s", err.msg);
	cr_assert(eq(int, husk_container_delete(c, false, &err), 0), "%s", err.msg);
	husk_container_free(c);
	return box_code(status);
}

void box_kill_delete(struct husk_container *c)
{
	struct husk_err err = {0};
	pid_t pid = husk_container_init(c)->pid;
	int status = 0;

	cr_assert(eq(int, husk_container_delete(c, /* force= */ true, &err), 0), "%s", err.msg);
	if (pid > 0)
		(void)waitpid(pid, &status, 0);
	husk_container_free(c);
}

json_t *box_exec_proc(struct box *b, const char *script)
{
	json_t *p = json_deep_copy(json_object_get(b->cfg, "process"));
	json_object_set_new(p, "args", json_pack("[sss]", "sh", "-c", script));
	return p;
}

int box_exec_start(struct husk_container *c, json_t *proc, pid_t *ret_pid, int *ret_out,
		   struct husk_err *err)
{
	struct husk_process *p = NULL;
	char *text = json_dumps(proc, JSON_COMPACT);
	int pipefd[2];

	cr_assert(text != NULL);
	cr_assert(eq(int, husk_process_parse(text, strlen(text), &p, err), 0), "%s", err->msg);
	free(text);
	cr_assert(eq(int, pipe2(pipefd, O_CLOEXEC), 0));
	struct husk_exec_opts o = {
		.exec_id = "e", .process = p, .stdio = {-1, pipefd[1], pipefd[1]}};
	struct husk_child ch = HUSK_CHILD_NULL;
	int console = -1;
	int r = husk_container_exec(c, &o, &ch, &console, err);
	husk_process_free(p);
	(void)close(pipefd[1]);
	if (r < 0) {
		(void)close(pipefd[0]);
		return r;
	}
	*ret_pid = ch.pid;
	husk_child_release(&ch);
	if (console >= 0) {
		/* A terminal's output is the pty master's; closing the master would hang the
		 * terminal up and SIGHUP the process. */
		(void)close(pipefd[0]);
		*ret_out = console;
		return 0;
	}
	*ret_out = pipefd[0];
	return 0;
}

void box_read_all(int fd, char *out, size_t size)
{
	size_t n = 0;
	ssize_t r;

	while (n + 1 < size &&
	       ((r = read(fd, out + n, size - 1 - n)) > 0 || (r < 0 && errno == EINTR)))
		if (r > 0)
			n += (size_t)r;
	out[n] = '\0';
}

int box_exec(struct husk_container *c, json_t *proc, char *out, size_t size, struct husk_err *err)
{
	pid_t pid = 0;
	int fd = -1;
	int status = 0;
	int r = box_exec_start(c, proc, &pid, &fd, err);

	if (r < 0)
		return r;
	box_read_all(fd, out, size);
	(void)close(fd);
	cr_assert(eq(int, (int)waitpid(pid, &status, 0), (int)pid));
	return box_code(status);
}

int box_count_children(void)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	int n = 0;

	cr_assert(d != NULL);
	while ((de = readdir(d))) {
		char path[300];
		char buf[1024];
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		(void)snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		ssize_t len = read(fd, buf, sizeof(buf) - 1);
		(void)close(fd);
		if (len <= 0)
			continue;
		buf[len] = '\0';
		/* "pid (comm) state ppid ...": comm may hold spaces and parens. */
		char *rp = strrchr(buf, ')');
		int ppid = 0;
		char state = 0;
		if (rp && sscanf(rp + 1, " %c %d", &state, &ppid) == 2 && ppid == getpid())
			n++;
	}
	(void)closedir(d);
	return n;
}

bool box_state_gone(const struct box *b, const char *id)
{
	char path[4300];
	struct stat st;
	(void)snprintf(path, sizeof(path), "%s/%s_sandbox:%s.state", b->state, id, id);
	if (stat(path, &st) == 0 || errno != ENOENT)
		return false;
	(void)snprintf(path, sizeof(path), "%s/%s_sandbox:%s.lock", b->state, id, id);
	return stat(path, &st) < 0 && errno == ENOENT;
}

bool box_cgroup_gone(const char *id)
{
	char pattern[512];
	glob_t g;

	(void)snprintf(pattern, sizeof(pattern), "/sys/fs/cgroup/*/husk/%s", id);
	int r = glob(pattern, 0, NULL, &g);
	size_t n = r == 0 ? g.gl_pathc : 0;
	if (r == 0)
		globfree(&g);
	return n == 0;
}

void box_cgroup_dir(const char *ctrl, const char *id, char *buf, size_t size)
{
	(void)snprintf(buf, size, "/sys/fs/cgroup/%s/husk/%s", ctrl, id);
}

pid_t box_find_pid(const char *id, const char *prefix)
{
	char path[512];
	char line[64];

	(void)snprintf(path, sizeof(path), "/sys/fs/cgroup/pids/husk/%s/cgroup.procs", id);
	FILE *f = fopen(path, "re");
	if (!f)
		return 0;
	pid_t found = 0;
	while (!found && fgets(line, sizeof(line), f)) {
		pid_t pid = (pid_t)atoi(line);
		char cpath[64];
		char cmd[512];
		(void)snprintf(cpath, sizeof(cpath), "/proc/%d/cmdline", (int)pid);
		int fd = open(cpath, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		ssize_t n = read(fd, cmd, sizeof(cmd) - 1);
		(void)close(fd);
		if (n <= 0)
			continue;
		for (ssize_t i = 0; i < n; i++)
			if (cmd[i] == '\0')
				cmd[i] = ' ';
		cmd[n] = '\0';
		if (strncmp(cmd, prefix, strlen(prefix)) == 0)
			found = pid;
	}
	(void)fclose(f);
	return found;
}

json_t *box_state_json(const struct box *b, const char *id)
{
	char path[4300];
	json_error_t je;

	(void)snprintf(path, sizeof(path), "%s/%s_sandbox:%s.state", b->state, id, id);
	return json_load_file(path, 0, &je);
}

bool box_state_root_empty(const struct box *b)
{
	DIR *d = opendir(b->state);
	struct dirent *de;
	bool empty = true;

	cr_assert(d != NULL);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			empty = false;
	(void)closedir(d);
	return empty;
}

void box_wait_pidfd(int pidfd, double seconds)
{
	struct pollfd p = {.fd = pidfd, .events = POLLIN};
	int r;

	do
		r = poll(&p, 1, (int)(testutil_timeout(seconds) * 1000));
	while (r < 0 && errno == EINTR);
	cr_assert(eq(int, r, 1), "process did not exit in %.0fs", seconds);
}

pid_t box_wait_find_pid(const char *id, const char *prefix)
{
	struct timespec tick = {0, 5 * 1000 * 1000};
	long rounds = (long)(testutil_timeout(10) * 200);

	for (long i = 0; i < rounds; i++) {
		pid_t pid = box_find_pid(id, prefix);
		if (pid > 0)
			return pid;
		(void)nanosleep(&tick, NULL);
	}
	cr_fatal("no process '%s' in container %s", prefix, id);
	return 0;
}
