/*
 * The oci engine: drives an OCI runtime binary (runc, runsc, crun) through its CLI.
 *
 * Each call is a synchronous child bounded by a timeout (killed and reaped when it passes),
 * with its output captured (bounded) for the error message; the runtime also writes JSON
 * log lines to <work>/log.json, whose last error line since the call began is what an error
 * reports, as containerd's runc shim does. No threads.
 *
 * Processes: after `create` (and `exec --detach`) returns, the container's init (or the
 * exec'd process) is an orphan, reparented to the nearest subreaper: the shim, which reaps
 * it with its waitpid(-1) reaper (container.h: the caller reaps). We only open a pidfd on
 * it. With runsc the pid is the sandbox's (for exec, the runsc process waiting on the
 * exec'd one), which exits with the container process's status.
 *
 * Files: the runtime's --root defaults to <state root>/oci-<binary name>; the engine's own
 * per-container files (log, pid files, exec process JSON) are in <state root>/oci-work/<id>,
 * and a console socket lives in a private /tmp/husk-oci-XXXXXX directory for one call. The
 * state file's engine_data keeps binary, root and work dir, so that load and delete work
 * with no shim alive.
 *
 * Cgroups: the runtime owns them. The engine finds the container's cgroup from
 * /proc/<init>/cgroup after create (runc joins the unified tree of a hybrid host, runsc
 * does not, so the v1 memory path is used there) and opens it as the container's cgroup
 * (engine.h) for the OOM fd and counter only; stats come from `events --stats`, pids from
 * `ps --format json`.
 * After the runtime's delete the cgroup is removed again if it is still there.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "cgroup.h"
#include "engine.h"
#include "fs.h"
#include "husk/cleanup.h"
#include "husk/err.h"
#include "husk/log.h"
#include "husk/spec.h"
#include "husk/state.h"
#include "oci/oci_argv.h"
#include "oci/oci_features.h"
#include "oci/oci_json.h"
#include "oci/oci_rootfs.h"
#include "oci/oci_state.h"
#include "spawn_internal.h"
#include "spec_json.h"

#define OCI_TIMEOUT_MS	   60000
#define OCI_WAIT_EXIT_MS   10000
#define OCI_CGROUP_MS	   10000
#define OCI_CONSOLE_MS	   5000
#define OCI_OUT_MAX	   (4u << 20) /* stdout of ps/events/state */
#define OCI_ERR_MAX	   4096	      /* stderr kept for a message */
#define OCI_LOG_TAIL_MAX   (64u << 10)
#define OCI_PID_FILE_MAX   64
#define OCI_DEFAULT_BINARY "runc"
#define OCI_DEFAULT_PATH   "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

struct oci {
	struct husk_oci_data d; /* binary, root, work, systemd_cgroup */
	char *log;		/* <work>/log.json */
	unsigned exec_seq;
};

static struct oci *oc(const struct husk_container *c)
{
	return c->engine_data;
}

static struct husk_state *st(const struct husk_container *c)
{
	return husk_state_handle_state(c->state);
}

static const char *cid(const struct husk_container *c)
{
	return st(c)->id.container;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- binary and paths --------------------------------------------------------------- */

static int find_on_path(const char *name, char **ret, struct husk_err *err)
{
	const char *path = getenv("PATH");
	char buf[PATH_MAX];

	if (!path || !*path)
		path = OCI_DEFAULT_PATH;
	for (const char *p = path; *p;) {
		size_t n = strcspn(p, ":");
		if (n > 0 && n + 1 + strlen(name) < sizeof(buf)) {
			memcpy(buf, p, n);
			buf[n] = '/';
			memcpy(buf + n + 1, name, strlen(name) + 1);
			if (access(buf, X_OK) == 0) {
				char *abs = realpath(buf, NULL);
				if (!abs)
					return husk_err_errno(err, errno, "resolve '%s'", buf);
				*ret = abs;
				return 0;
			}
		}
		p += n;
		if (*p == ':')
			p++;
	}
	return husk_err_set(err, HUSK_ERR_INVALID, ENOENT,
			    "oci runtime binary '%s' not found in PATH", name);
}

int husk__oci_binary_resolve(const char *name, char **ret, struct husk_err *err)
{
	if (!strchr(name, '/'))
		return find_on_path(name, ret, err);
	if (access(name, X_OK) < 0)
		return husk_err_set(err, HUSK_ERR_INVALID, errno, "oci runtime binary '%s'", name);
	char *abs = realpath(name, NULL);
	if (!abs)
		return husk_err_set(err, HUSK_ERR_INVALID, errno, "oci runtime binary '%s'", name);
	*ret = abs;
	return 0;
}

static char *path_join(const char *a, const char *b)
{
	char *s = NULL;
	return asprintf(&s, "%s/%s", a, b) < 0 ? NULL : s;
}

static int oci_alloc(struct husk_container *c, struct husk_err *err)
{
	struct oci *o = calloc(1, sizeof(*o));

	if (!o)
		return husk_err_errno(err, ENOMEM, "oci engine");
	c->engine_data = o;
	return 0;
}

static void oci_free(struct husk_container *c)
{
	struct oci *o = oc(c);

	if (!o)
		return;
	husk__oci_data_done(&o->d);
	free(o->log);
	free(o);
	c->engine_data = NULL;
}

/* Binary, root and work dir from the runtime config (create). */
static int paths_setup(struct husk_container *c, struct husk_err *err)
{
	struct oci *o = oc(c);
	const char *name = c->rt->oci_binary ? c->rt->oci_binary : OCI_DEFAULT_BINARY;
	const char *sroot = husk_state_root_path(c->rt->root);
	_cleanup_free_ char *base = NULL;
	int r = husk__oci_binary_resolve(name, &o->d.binary, err);

	if (r < 0)
		return r;
	const char *slash = strrchr(name, '/');
	if (asprintf(&base, "oci-%s", slash ? slash + 1 : name) < 0)
		return husk_err_errno(err, ENOMEM, "oci root");
	o->d.root = c->rt->oci_root ? strdup(c->rt->oci_root) : path_join(sroot, base);
	_cleanup_free_ char *works = path_join(sroot, "oci-work");
	o->d.work = works ? path_join(works, cid(c)) : NULL;
	o->log = o->d.work ? path_join(o->d.work, "log.json") : NULL;
	o->d.systemd_cgroup = c->rt->systemd_cgroup;
	if (husk__strv_dup((const char *const *)c->rt->oci_args, &o->d.args, &o->d.n_args) < 0 ||
	    !o->d.root || !o->d.work || !o->log)
		return husk_err_errno(err, ENOMEM, "oci paths");
	r = husk__mkdir_p_at(AT_FDCWD, o->d.root, 0711);
	if (r < 0)
		return husk_err_errno(err, -r, "create oci root '%s'", o->d.root);
	r = husk__mkdir_p_at(AT_FDCWD, o->d.work, 0700);
	/* Another shim's delete may remove the empty oci-work between our two mkdirs. */
	if (r == -ENOENT)
		r = husk__mkdir_p_at(AT_FDCWD, o->d.work, 0700);
	if (r < 0)
		return husk_err_errno(err, -r, "create '%s'", o->d.work);
	return 0;
}

static int save_engine_data(struct husk_container *c, struct husk_err *err)
{
	char *json = NULL;
	int r = husk__oci_data_format(&oc(c)->d, &json, err);

	if (r < 0)
		return r;
	free(st(c)->engine_data);
	st(c)->engine_data = json;
	return husk__container_save(c, err);
}

/* Remove the files in the work dir, then the dir, then oci-work when that was the last
 * one (ENOTEMPTY otherwise). Missing is fine. */
static void work_remove(const struct oci *o)
{
	_cleanup_closedir_ DIR *d = opendir(o->d.work);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			(void)unlinkat(dirfd(d), de->d_name, 0);
	if (rmdir(o->d.work) < 0)
		return;
	const char *slash = strrchr(o->d.work, '/');
	char *parent = slash && slash != o->d.work ? strndup(o->d.work, (size_t)(slash - o->d.work))
						   : NULL;
	if (parent)
		(void)rmdir(parent);
	free(parent);
}

/* ---- running the binary ------------------------------------------------------------- */

struct run {
	struct husk_oci_call call;
	int stdio[3];	   /* the child's 0, 1, 2 (-1: /dev/null) unless capture / input */
	bool capture;	   /* stdout and stderr to pipes */
	const char *input; /* stdin content, NULL: stdio[0] */
	char *out;	   /* captured stdout (NUL-terminated), the caller frees */
	size_t out_len;
	char errbuf[OCI_ERR_MAX];
	size_t err_len;
	bool out_too_big;
};

static int exec_child(void *arg)
{
	char **argv = arg;

	execv(argv[0], argv);
	return 127;
}

static off_t file_size(const char *path)
{
	struct stat sb;
	return stat(path, &sb) == 0 ? sb.st_size : 0;
}

/* Append what fd has now; false at EOF or error. */
static bool drain_one(int fd, struct run *run, bool is_out)
{
	char buf[8192];
	ssize_t n = read(fd, buf, sizeof(buf));

	if (n < 0 && errno == EINTR)
		return true;
	if (n <= 0)
		return false;
	if (!is_out) {
		size_t k = (size_t)n < sizeof(run->errbuf) - 1 - run->err_len
				   ? (size_t)n
				   : sizeof(run->errbuf) - 1 - run->err_len;
		memcpy(run->errbuf + run->err_len, buf, k);
		run->err_len += k;
		run->errbuf[run->err_len] = '\0';
		return true;
	}
	if (run->out_len + (size_t)n > OCI_OUT_MAX) {
		run->out_too_big = true;
		return true;
	}
	char *nb = realloc(run->out, run->out_len + (size_t)n + 1);
	if (!nb) {
		run->out_too_big = true;
		return true;
	}
	run->out = nb;
	memcpy(run->out + run->out_len, buf, (size_t)n);
	run->out_len += (size_t)n;
	run->out[run->out_len] = '\0';
	return true;
}

/* Until the child exits or the deadline: false on timeout. The pipes are read meanwhile. */
static bool wait_child(const struct husk_child *ch, int *out, int *errp, struct run *run)
{
	int64_t deadline = now_ms() + OCI_TIMEOUT_MS;

	for (;;) {
		struct pollfd p[3] = {{.fd = ch->pidfd, .events = POLLIN},
				      {.fd = *out, .events = POLLIN},
				      {.fd = *errp, .events = POLLIN}};
		int64_t left = deadline - now_ms();
		if (left <= 0)
			return false;
		int n = poll(p, 3, (int)left);
		if (n < 0 && errno != EINTR)
			return false;
		if (n <= 0)
			continue;
		if (p[1].revents && !drain_one(*out, run, true))
			*out = husk_safe_close(*out);
		if (p[2].revents && !drain_one(*errp, run, false))
			*errp = husk_safe_close(*errp);
		if (p[0].revents)
			return true;
	}
}

/* What is left in a pipe after the child exited (a grandchild may hold it: no waiting). */
static void drain_rest(int fd, struct run *run, bool is_out)
{
	if (fd < 0 || fcntl(fd, F_SETFL, O_NONBLOCK) < 0)
		return;
	while (drain_one(fd, run, is_out))
		;
}

static int memfd_with(const char *text, struct husk_err *err)
{
	_cleanup_close_ int fd = memfd_create("husk-oci-input", MFD_CLOEXEC);

	if (fd < 0)
		return husk_err_errno(err, errno, "memfd_create");
	int r = husk__write_all(fd, text, strlen(text));
	if (r < 0)
		return husk_err_errno(err, -r, "write runtime input");
	if (lseek(fd, 0, SEEK_SET) < 0)
		return husk_err_errno(err, errno, "lseek runtime input");
	return TAKE_FD(fd);
}

/* The message of a failed call: the runtime's last log error, else stderr, else status. */
static int run_failed(const struct oci *o, struct run *run, off_t log_at, int status,
		      struct husk_err *err)
{
	char msg[HUSK_ERR_MSG_MAX] = "";
	_cleanup_close_ int fd = husk__openat(AT_FDCWD, o->log, O_RDONLY, 0);
	const char *cmd = husk__oci_cmd_to_string(run->call.cmd);
	const char *name = strrchr(o->d.binary, '/') ? strrchr(o->d.binary, '/') + 1 : o->d.binary;

	if (fd >= 0) {
		off_t end = lseek(fd, 0, SEEK_END);
		off_t from =
			end - log_at > (off_t)OCI_LOG_TAIL_MAX ? end - OCI_LOG_TAIL_MAX : log_at;
		_cleanup_free_ char *buf = NULL;
		size_t len = 0;
		if (end > from && lseek(fd, from, SEEK_SET) == from &&
		    husk__read_all(fd, OCI_LOG_TAIL_MAX, &buf, &len) >= 0)
			(void)husk__oci_log_last_error(buf, len, msg, sizeof(msg));
	}
	if (!msg[0] && run->err_len) {
		while (run->err_len && (run->errbuf[run->err_len - 1] == '\n'))
			run->errbuf[--run->err_len] = '\0';
		const char *last = strrchr(run->errbuf, '\n');
		const char *from = last ? last + 1 : run->errbuf;
		size_t k = strnlen(from, sizeof(msg) - 1);
		memcpy(msg, from, k);
		msg[k] = '\0';
	}
	if (!msg[0]) {
		if (WIFSIGNALED(status))
			(void)snprintf(msg, sizeof(msg), "killed by signal %d", WTERMSIG(status));
		else
			(void)snprintf(msg, sizeof(msg), "exit status %d", WEXITSTATUS(status));
	}
	return husk_err_set(err, HUSK_ERR_INTERNAL, 0, "%s %s %s: %s", name, cmd, run->call.id,
			    msg);
}

struct run_fds {
	int in; /* borrowed */
	int out[2];
	int err[2];
};

static int spawn_and_wait(const struct oci *o, struct husk_oci_argv *argv, struct run *run,
			  struct run_fds *rf, struct husk_err *err)
{
	int *outp = rf->out;
	int *errp = rf->err;
	int in = rf->in;
	struct husk_child ch = HUSK_CHILD_NULL;
	struct husk_spawn_fd fds[3] = {
		{.fd = in, .target = 0},
		{.fd = run->capture ? outp[1] : run->stdio[1], .target = 1},
		{.fd = run->capture ? errp[1] : run->stdio[2], .target = 2},
	};
	struct husk_spawn_opts so = {.fds = fds, .n_fds = 3};
	off_t log_at = file_size(o->log);
	int r = husk_spawn(&so, exec_child, argv->v, &ch, err);

	outp[1] = husk_safe_close(outp[1]);
	errp[1] = husk_safe_close(errp[1]);
	if (r < 0)
		return r;
	if (!wait_child(&ch, &outp[0], &errp[0], run)) {
		(void)husk_child_kill_and_reap(&ch);
		return husk_err_set(err, HUSK_ERR_INTERNAL, ETIMEDOUT,
				    "%s %s %s: timed out after %d ms", o->d.binary,
				    husk__oci_cmd_to_string(run->call.cmd), run->call.id,
				    OCI_TIMEOUT_MS);
	}
	int status = husk__wait_pid(ch.pid);
	ch.pid = 0;
	husk_child_release(&ch);
	if (status < 0)
		return husk_err_errno(err, -status, "wait for %s", o->d.binary);
	drain_rest(outp[0], run, true);
	drain_rest(errp[0], run, false);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return run_failed(o, run, log_at, status, err);
	if (run->out_too_big)
		return husk_err_set(err, HUSK_ERR_INTERNAL, EFBIG,
				    "%s %s %s: output above %u bytes", o->d.binary,
				    husk__oci_cmd_to_string(run->call.cmd), run->call.id,
				    OCI_OUT_MAX);
	return 0;
}

/* Run one call of the container's runtime. On failure run->out is freed. */
static int oci_run(struct husk_container *c, struct run *run, struct husk_err *err)
{
	struct oci *o = oc(c);
	struct husk_oci_global g = {.binary = o->d.binary,
				    .root = o->d.root,
				    .log = o->log,
				    .log_json = true,
				    .systemd_cgroup = o->d.systemd_cgroup,
				    .extra = (const char *const *)o->d.args};
	struct husk_oci_argv argv = {0};
	struct run_fds rf = {.in = run->stdio[0], .out = {-1, -1}, .err = {-1, -1}};
	int *outp = rf.out;
	int *errp = rf.err;
	_cleanup_close_ int memfd = -1;

	run->call.id = cid(c);
	int r = husk__oci_argv_build(&g, &run->call, &argv, err);
	if (r < 0)
		return r;
	husk_debug("oci: %s %s %s", o->d.binary, husk__oci_cmd_to_string(run->call.cmd), cid(c));
	if (run->input)
		r = memfd = memfd_with(run->input, err);
	if (memfd >= 0)
		rf.in = memfd;
	if (r >= 0 && run->capture && (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0))
		r = husk_err_errno(err, errno, "pipe");
	if (r >= 0)
		r = spawn_and_wait(o, &argv, run, &rf, err);
	for (int i = 0; i < 2; i++) {
		outp[i] = husk_safe_close(outp[i]);
		errp[i] = husk_safe_close(errp[i]);
	}
	husk__oci_argv_done(&argv);
	if (r < 0) {
		free(run->out);
		run->out = NULL;
		run->out_len = 0;
	}
	return r;
}

/* A plain call with captured output: for commands that print nothing we need. */
static int oci_call(struct husk_container *c, struct husk_oci_call call, struct husk_err *err)
{
	struct run run = {.call = call, .capture = true, .stdio = {-1, -1, -1}};
	int r = oci_run(c, &run, err);

	free(run.out);
	return r;
}

static bool msg_gone(const struct husk_err *e)
{
	return strstr(e->msg, "does not exist") || strstr(e->msg, "not running") ||
	       strstr(e->msg, "no such process") || strstr(e->msg, "already finished") ||
	       strstr(e->msg, "not found");
}

/* ---- console socket ----------------------------------------------------------------- */

struct console {
	char dir[64]; /* "" until made */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int fd; /* listening socket */
};

static void console_done(struct console *cs)
{
	cs->fd = husk_safe_close(cs->fd);
	if (cs->path[0])
		(void)unlink(cs->path);
	if (cs->dir[0])
		(void)rmdir(cs->dir);
	cs->dir[0] = cs->path[0] = '\0';
}

static int console_listen(struct console *cs, struct husk_err *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	(void)snprintf(cs->dir, sizeof(cs->dir), "/tmp/husk-oci-XXXXXX");
	if (!mkdtemp(cs->dir)) {
		int e = errno;
		cs->dir[0] = '\0';
		return husk_err_errno(err, e, "console socket dir");
	}
	(void)snprintf(cs->path, sizeof(cs->path), "%s/console.sock", cs->dir);
	memcpy(sa.sun_path, cs->path, sizeof(sa.sun_path));
	cs->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (cs->fd < 0)
		return husk_err_errno(err, errno, "console socket");
	if (bind(cs->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(cs->fd, 1) < 0)
		return husk_err_errno(err, errno, "bind '%s'", cs->path);
	return 0;
}

static int wait_readable(int fd, int timeout_ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int n;

	do
		n = poll(&p, 1, timeout_ms);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n == 0 ? -ETIMEDOUT : 0;
}

/* The runtime has connected and sent the pty master by now (its create/exec returned). */
static int console_receive(struct console *cs, int *ret_master, struct husk_err *err)
{
	int r = wait_readable(cs->fd, OCI_CONSOLE_MS);
	if (r < 0)
		return husk_err_errno(err, -r, "the runtime sent no console");
	_cleanup_close_ int conn = accept4(cs->fd, NULL, NULL, SOCK_CLOEXEC);
	if (conn < 0)
		return husk_err_errno(err, errno, "accept console connection");
	r = wait_readable(conn, OCI_CONSOLE_MS);
	if (r < 0)
		return husk_err_errno(err, -r, "receive console");

	char name[256];
	union {
		char buf[CMSG_SPACE(4 * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = {.iov_base = name, .iov_len = sizeof(name)};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = u.buf,
			    .msg_controllen = sizeof(u.buf)};
	ssize_t n;
	do
		n = recvmsg(conn, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return husk_err_errno(err, errno, "receive console");
	int master = -1;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		size_t nfd = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < nfd; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (master < 0)
				master = fd;
			else
				(void)husk_safe_close(fd);
		}
	}
	if (master < 0)
		return husk_err_set(err, HUSK_ERR_INTERNAL, 0, "console message without an fd");
	*ret_master = master;
	return 0;
}

/* ---- pid files and processes -------------------------------------------------------- */

static int read_pid_file(const char *path, pid_t *ret, struct husk_err *err)
{
	_cleanup_free_ char *buf = NULL;
	int r = husk__read_file_at(AT_FDCWD, path, OCI_PID_FILE_MAX, &buf, NULL);

	if (r < 0)
		return husk_err_errno(err, -r, "read pid file '%s'", path);
	r = husk__safe_atopid(buf, ret);
	if (r < 0)
		return husk_err_set(err, HUSK_ERR_INTERNAL, 0, "pid file '%s': bad pid '%s'", path,
				    buf);
	return 0;
}

/* A pidfd on the runtime's orphan (ours to reap as the subreaper, or already gone). */
static int child_from_pid_file(const char *path, struct husk_child *ret, struct husk_err *err)
{
	pid_t pid = 0;
	uint64_t start = 0;
	int r = read_pid_file(path, &pid, err);

	if (r < 0)
		return r;
	_cleanup_close_ int fd = husk_pidfd_open_checked(pid, 0, err);
	if (fd < 0)
		return fd;
	r = husk_proc_start_time(pid, &start, err);
	if (r < 0)
		return r;
	*ret = (struct husk_child){.pid = pid, .pidfd = TAKE_FD(fd), .start_time = start};
	return 0;
}

static void cgroup_find(struct husk_container *c, pid_t pid)
{
	struct husk_cgroup_host *host = NULL;
	char procf[64];
	_cleanup_free_ char *text = NULL;
	_cleanup_free_ char *path = NULL;
	size_t len = 0;
	struct husk_err e = {0};

	(void)snprintf(procf, sizeof(procf), "/proc/%d/cgroup", (int)pid);
	if (husk__cgroup_host_get(&host, &e) < 0 ||
	    husk__read_file_at(AT_FDCWD, procf, 1u << 16, &text, &len) < 0 ||
	    husk__oci_cgroup_from_proc(text, len,
				       husk__cgroup_host_mode(host) == HUSK_CGROUP_MODE_V2, &path,
				       &e) < 0 ||
	    husk__cgroup_open(host, path, &c->cgroup, &e) < 0) {
		husk_warn("cgroup of %s not found (%s), continuing without OOM events", cid(c),
			  e.msg[0] ? e.msg : procf);
		return;
	}
	free(st(c)->cgroup_path);
	st(c)->cgroup_path = TAKE_PTR(path);
}

/* The runtime's helper that outlives its create (runsc's gofer), kept as the state's gofer:
 * our orphan like the init, and one whose zombie would stall the runtime's delete. */
static void helper_find(struct husk_container *c)
{
	char name[2 * HUSK_ID_MAX + 32];
	_cleanup_free_ char *path = NULL;
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	pid_t pid = 0;
	uint64_t start = 0;

	(void)snprintf(name, sizeof(name), "%s_sandbox:%s.state", cid(c), cid(c));
	path = path_join(oc(c)->d.root, name);
	if (!path || husk__read_file_at(AT_FDCWD, path, HUSK_STATE_MAX_SIZE, &text, &len) < 0 ||
	    husk__oci_helper_pid_parse(text, len, &pid) <= 0 ||
	    husk_proc_start_time(pid, &start, NULL) < 0)
		return;
	st(c)->gofer_pid = pid;
	st(c)->gofer_start_time = start;
}

/* ---- create ------------------------------------------------------------------------- */

static bool spec_terminal(const struct husk_container *c)
{
	return c->spec && c->spec->process && c->spec->process->terminal;
}

/* containerd's rootfs mounts on the spec's root path, recorded first so that a crash in
 * between leaves enough for delete to unmount them. */
static int rootfs_mount(struct husk_container *c, const struct husk_create_opts *opts,
			struct husk_err *err)
{
	struct oci *o = oc(c);

	if (opts->n_rootfs == 0)
		return 0;
	if (!c->spec || !c->spec->root_path)
		return husk_err_set(err, HUSK_ERR_INVALID, 0, "rootfs mounts need root.path");
	o->d.rootfs = strdup(c->spec->root_path);
	if (!o->d.rootfs)
		return husk_err_errno(err, ENOMEM, "rootfs");
	int r = save_engine_data(c, err);
	r = r ?: husk__oci_rootfs_mount(o->d.rootfs, opts->rootfs, opts->n_rootfs, err);
	return r;
}

static int rootfs_unmount(struct oci *o, struct husk_err *err)
{
	return o->d.rootfs ? husk__oci_rootfs_unmount(o->d.rootfs, err) : 0;
}

/* Remove what a failed create left with the runtime (its state, its cgroup). */
static void create_undo(struct husk_container *c)
{
	struct husk_err e = {0};

	if (oci_call(c, (struct husk_oci_call){.cmd = HUSK_OCI_DELETE, .force = true}, &e) < 0 &&
	    !msg_gone(&e))
		husk_warn("%s, continuing", e.msg);
	rootfs_unmount(oc(c), NULL);
	work_remove(oc(c));
}

static int create_run(struct husk_container *c, const struct husk_create_opts *opts,
		      struct console *cs, struct husk_err *err)
{
	struct oci *o = oc(c);
	_cleanup_free_ char *pid_file = path_join(o->d.work, "init.pid");
	bool tty = spec_terminal(c);
	struct run run = {.call = {.cmd = HUSK_OCI_CREATE,
				   .bundle = st(c)->bundle,
				   .no_pivot = c->rt->no_pivot_root,
				   .no_new_keyring = c->rt->no_new_keyring,
				   .pid_file = pid_file,
				   .console_socket = tty ? cs->path : NULL},
			  .capture = tty,
			  .stdio = {opts->stdio[0], opts->stdio[1], opts->stdio[2]}};

	if (!pid_file)
		return husk_err_errno(err, ENOMEM, "pid file");
	if (tty)
		run.stdio[0] = -1;
	int r = oci_run(c, &run, err);
	free(run.out);
	if (r < 0)
		return r;
	if (tty) {
		r = console_receive(cs, &c->console, err);
		if (r < 0)
			return r;
	}
	r = child_from_pid_file(pid_file, &c->init, err);
	if (r < 0)
		return r;
	st(c)->init_pid = c->init.pid;
	st(c)->init_start_time = c->init.start_time;
	cgroup_find(c, c->init.pid);
	helper_find(c);
	return husk__container_save(c, err);
}

static int oci_create(struct husk_container *c, const struct husk_create_opts *opts,
		      struct husk_err *err)
{
	struct console cs = {.fd = -1};
	int r = oci_alloc(c, err);

	r = r ?: paths_setup(c, err);
	if (r < 0)
		return r;
	/* Before the runtime runs: a crash from here on leaves enough to delete. */
	r = save_engine_data(c, err);
	r = r ?: rootfs_mount(c, opts, err);
	if (r >= 0 && spec_terminal(c))
		r = console_listen(&cs, err);
	if (r >= 0)
		r = create_run(c, opts, &cs, err);
	console_done(&cs);
	if (r < 0) {
		c->console = husk_safe_close(c->console);
		husk_child_release(&c->init);
		create_undo(c);
	}
	return r;
}

/* ---- load --------------------------------------------------------------------------- */

static int oci_load(struct husk_container *c, struct husk_err *err)
{
	struct husk_state *s = st(c);
	int r = oci_alloc(c, err);

	if (r < 0)
		return r;
	/* No engine data: the creator died before the runtime ran; the config's paths. */
	if (!s->engine_data)
		return paths_setup(c, err);
	r = husk__oci_data_parse(s->engine_data, &oc(c)->d, err);
	if (r < 0)
		return husk_err_prefix(err, "container %s", cid(c));
	oc(c)->log = path_join(oc(c)->d.work, "log.json");
	if (!oc(c)->log)
		return husk_err_errno(err, ENOMEM, "oci paths");
	return 0;
}

/* ---- lifecycle ---------------------------------------------------------------------- */

/*
 * runsc reports its sandbox's pid for every container of a pod (pid file and `state`), and
 * that process outlives the pod's other containers: their exits are never seen on it. Such
 * a container gets a waiter instead, as gVisor's own shim does: `runsc wait ID` prints the
 * container's exit status, and the waiter exits with it, so the caller's reaper sees the
 * container's exit as an init's. The first container of a pod keeps the sandbox's pid.
 */
static bool needs_waiter(const struct husk_container *c)
{
	const char *slash = strrchr(oc(c)->d.binary, '/');
	const char *name = slash ? slash + 1 : oc(c)->d.binary;

	return strstr(name, "runsc") && strcmp(st(c)->id.sandbox, cid(c)) != 0;
}

/* The waiter, in its own process: run argv (`<runtime> wait ID`), exit with its status. */
static int waiter_main(void *arg)
{
	char **argv = arg;
	char buf[4096];
	size_t len = 0;
	int p[2];
	struct husk_child ch = HUSK_CHILD_NULL;

	if (pipe2(p, O_CLOEXEC) < 0)
		return 255;
	struct husk_spawn_fd fds[3] = {{-1, 0, false}, {p[1], 1, false}, {-1, 2, false}};
	struct husk_spawn_opts so = {.fds = fds, .n_fds = 3};
	struct husk_spawn_exec x = {.path = argv[0], .argv = argv};
	int r = husk_spawn_exec(&so, &x, &ch, NULL);
	(void)close(p[1]);
	if (r < 0)
		return 255;
	while (len < sizeof(buf) - 1) {
		ssize_t n = read(p[0], buf + len, sizeof(buf) - 1 - len);
		if (n == 0 || (n < 0 && errno != EINTR))
			break;
		len += n > 0 ? (size_t)n : 0;
	}
	buf[len] = '\0';
	(void)husk__wait_pid(ch.pid);
	husk_child_release(&ch);
	/* {"id":"...","exitStatus":N}: N is 128+signal for a killed process, as runc's. */
	const char *s = strstr(buf, "\"exitStatus\":");
	if (!s)
		return 255;
	char *end = NULL;
	unsigned long status = strtoul(s + strlen("\"exitStatus\":"), &end, 10);
	if (end == s + strlen("\"exitStatus\":"))
		return 255;
	return (int)(status & 0xff);
}

static int waiter_spawn(struct husk_container *c, struct husk_err *err)
{
	struct oci *o = oc(c);
	struct husk_oci_global g = {.binary = o->d.binary,
				    .root = o->d.root,
				    .log = o->log,
				    .log_json = true,
				    .systemd_cgroup = o->d.systemd_cgroup,
				    .extra = (const char *const *)o->d.args};
	struct husk_oci_argv argv = {0};
	struct husk_child w = HUSK_CHILD_NULL;
	int r = husk__oci_argv_build(
		&g, &(struct husk_oci_call){.cmd = HUSK_OCI_WAIT, .id = cid(c)}, &argv, err);

	if (r < 0)
		return r;
	struct husk_spawn_fd fds[3] = {
		{.fd = -1, .target = 0}, {.fd = -1, .target = 1}, {.fd = -1, .target = 2}};
	struct husk_spawn_opts so = {.name = "husk:[wait]", .fds = fds, .n_fds = 3};
	r = husk_spawn(&so, waiter_main, argv.v, &w, err);
	husk__oci_argv_done(&argv);
	if (r < 0)
		return r;
	/* The sandbox's pid was only borrowed: its pidfd goes, the process stays. */
	husk_child_release(&c->init);
	c->init = w;
	st(c)->init_pid = w.pid;
	st(c)->init_start_time = w.start_time;
	return husk__container_save(c, err);
}

static int oci_start(struct husk_container *c, struct husk_err *err)
{
	int r = oci_call(c, (struct husk_oci_call){.cmd = HUSK_OCI_START}, err);

	if (r >= 0 && needs_waiter(c))
		r = waiter_spawn(c, err);
	return r;
}

static int oci_kill(struct husk_container *c, int sig, bool all, struct husk_err *err)
{
	struct husk_err e = {0};
	int r = oci_call(c, (struct husk_oci_call){.cmd = HUSK_OCI_KILL, .signal = sig, .all = all},
			 &e);

	if (r >= 0)
		return 0;
	if (msg_gone(&e) || husk__container_init_exited(c))
		return husk_err_set(err, HUSK_ERR_NOT_FOUND, 0, "process already finished");
	if (err)
		*err = e;
	return r;
}

static int oci_freeze(struct husk_container *c, bool frozen, struct husk_err *err)
{
	return oci_call(c, (struct husk_oci_call){.cmd = frozen ? HUSK_OCI_PAUSE : HUSK_OCI_RESUME},
			err);
}

static int oci_update(struct husk_container *c, const struct husk_resources *res,
		      struct husk_err *err)
{
	_cleanup_free_ char *json = NULL;
	int r = husk__oci_resources_format(res, &json, err);

	if (r < 0)
		return r;
	struct run run = {.call = {.cmd = HUSK_OCI_UPDATE, .resources = "-"},
			  .capture = true,
			  .input = json,
			  .stdio = {-1, -1, -1}};
	r = oci_run(c, &run, err);
	free(run.out);
	return r;
}

static int oci_pids(struct husk_container *c, pid_t **ret_pids, size_t *ret_n, struct husk_err *err)
{
	struct run run = {
		.call = {.cmd = HUSK_OCI_PS, .json = true}, .capture = true, .stdio = {-1, -1, -1}};
	int r = oci_run(c, &run, err);

	if (r < 0)
		return r;
	r = husk__oci_ps_parse(run.out ? run.out : "null", run.out ? run.out_len : 4, ret_pids,
			       ret_n, err);
	free(run.out);
	return r < 0 ? husk_err_prefix(err, "%s ps", oc(c)->d.binary) : 0;
}

static int oci_stats(struct husk_container *c, struct husk_cgroup_stats *ret, struct husk_err *err)
{
	struct husk_cgroup_host *host = NULL;
	struct run run = {.call = {.cmd = HUSK_OCI_EVENTS, .stats = true},
			  .capture = true,
			  .stdio = {-1, -1, -1}};
	int r = husk__cgroup_host_get(&host, err);

	r = r ?: oci_run(c, &run, err);
	if (r < 0)
		return r;
	enum husk_cgroup_stats_mode mode = husk__cgroup_host_mode(host) == HUSK_CGROUP_MODE_V2
						   ? HUSK_CGROUP_STATS_V2
						   : HUSK_CGROUP_STATS_V1;
	r = husk__oci_events_stats_parse(run.out ? run.out : "", run.out_len, mode, ret, err);
	free(run.out);
	return r < 0 ? husk_err_prefix(err, "%s events", oc(c)->d.binary) : 0;
}

/* ---- exec --------------------------------------------------------------------------- */

struct exec_files {
	char *process; /* <work>/exec-<n>.json */
	char *pid;     /* <work>/exec-<n>.pid */
};

static void exec_files_done(struct exec_files *f)
{
	if (f->process)
		(void)unlink(f->process);
	if (f->pid)
		(void)unlink(f->pid);
	free(f->process);
	free(f->pid);
}

static int exec_files_write(struct husk_container *c, const struct husk_process *p,
			    struct exec_files *f, struct husk_err *err)
{
	_cleanup_free_ char *json = NULL;
	unsigned n = ++oc(c)->exec_seq;

	if (asprintf(&f->process, "%s/exec-%d-%u.json", oc(c)->d.work, (int)getpid(), n) < 0) {
		f->process = NULL;
		return husk_err_errno(err, ENOMEM, "exec files");
	}
	if (asprintf(&f->pid, "%s/exec-%d-%u.pid", oc(c)->d.work, (int)getpid(), n) < 0) {
		f->pid = NULL;
		return husk_err_errno(err, ENOMEM, "exec files");
	}
	int r = husk__oci_process_format(p, &json, err);
	if (r < 0)
		return r;
	_cleanup_close_ int fd =
		husk__openat(AT_FDCWD, f->process, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return husk_err_errno(err, -fd, "create '%s'", f->process);
	r = husk__write_all(fd, json, strlen(json));
	if (r < 0)
		return husk_err_errno(err, -r, "write '%s'", f->process);
	return 0;
}

struct exec_call {
	struct exec_files files;
	struct console cs;
};

static int exec_run(struct husk_container *c, const struct husk_exec_opts *opts,
		    struct exec_call *x, struct husk_child *ret_child, int *ret_console,
		    struct husk_err *err)
{
	struct exec_files *f = &x->files;
	struct console *cs = &x->cs;
	bool tty = opts->process->terminal;
	struct run run = {.call = {.cmd = HUSK_OCI_EXEC,
				   .process = f->process,
				   .detach = true,
				   .pid_file = f->pid,
				   .console_socket = tty ? cs->path : NULL},
			  .capture = tty,
			  .stdio = {tty ? -1 : opts->stdio[0], opts->stdio[1], opts->stdio[2]}};
	_cleanup_close_ int console = -1;
	struct husk_child ch = HUSK_CHILD_NULL;
	int r = oci_run(c, &run, err);

	free(run.out);
	if (r < 0)
		return r;
	if (tty) {
		r = console_receive(cs, &console, err);
		if (r < 0)
			return r;
	}
	r = child_from_pid_file(f->pid, &ch, err);
	if (r < 0)
		return r;
	*ret_child = ch;
	*ret_console = TAKE_FD(console);
	return 0;
}

static int oci_exec(struct husk_container *c, const struct husk_exec_opts *opts,
		    struct husk_child *ret_child, int *ret_console, struct husk_err *err)
{
	struct exec_call x = {.cs = {.fd = -1}};
	int r = exec_files_write(c, opts->process, &x.files, err);

	if (r >= 0 && opts->process->terminal)
		r = console_listen(&x.cs, err);
	if (r >= 0)
		r = exec_run(c, opts, &x, ret_child, ret_console, err);
	console_done(&x.cs);
	exec_files_done(&x.files);
	return r;
}

/* ---- delete ------------------------------------------------------------------------- */

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

/*
 * A live init is killed and, when it is our child, reaped here with its exit recorded
 * (husk_container_exit() reports it): runsc's delete waits until the sandbox (the init) is
 * gone, and a zombie of ours would never go while we wait for the runtime.
 */
static void kill_and_reap_init(struct husk_container *c)
{
	siginfo_t si;

	if (c->init.pidfd < 0 || husk__container_init_exited(c))
		return;
	(void)oci_call(c,
		       (struct husk_oci_call){.cmd = HUSK_OCI_KILL, .signal = SIGKILL, .all = true},
		       NULL);
	if (!husk__container_init_exited(c))
		(void)husk_pidfd_signal(c->init.pidfd, SIGKILL, NULL);
	husk__container_wait_init(c, OCI_WAIT_EXIT_MS);
	memset(&si, 0, sizeof(si));
	if (waitid((idtype_t)P_PIDFD, (id_t)c->init.pidfd, &si, WEXITED | WNOHANG) < 0 ||
	    si.si_pid != c->init.pid)
		return;
	int status = si.si_code == CLD_EXITED ? W_EXITCODE(si.si_status, 0)
					      : W_EXITCODE(0, si.si_status);
	struct husk_err e = {0};
	if (husk_container_set_exited(c, status, 0, &e) < 0)
		husk_warn("record exit of %s: %s, continuing", cid(c), e.msg);
}

/* Once the init is gone, the helper exits too: reap it if it is ours (else whoever's). */
static void reap_helper(struct husk_container *c)
{
	struct husk_state *s = st(c);
	siginfo_t si;

	if (s->gofer_pid <= 0 || (c->init.pidfd >= 0 && !husk__container_init_exited(c)))
		return;
	_cleanup_close_ int fd = husk_pidfd_open_checked(s->gofer_pid, s->gofer_start_time, NULL);
	if (fd >= 0) {
		(void)wait_readable(fd, OCI_WAIT_EXIT_MS);
		memset(&si, 0, sizeof(si));
		(void)waitid((idtype_t)P_PIDFD, (id_t)fd, &si, WEXITED | WNOHANG);
	}
	s->gofer_pid = 0;
	s->gofer_start_time = 0;
}

static int oci_destroy(struct husk_container *c, struct husk_err *err)
{
	struct oci *o = oc(c);
	struct husk_err e = {0};

	kill_and_reap_init(c);
	reap_helper(c);
	int r = oci_call(c, (struct husk_oci_call){.cmd = HUSK_OCI_DELETE, .force = true}, &e);

	if (r < 0 && !msg_gone(&e)) {
		if (err)
			*err = e;
		return r;
	}
	husk__container_wait_init(c, OCI_WAIT_EXIT_MS);
	/* The runtime removed it; a runtime that lost its state leaves it to us. */
	(void)husk__container_cgroup_kill(c, OCI_CGROUP_MS, NULL);
	r = husk__container_cgroup_remove(c, OCI_CGROUP_MS, err);
	if (r < 0)
		return r;
	/* The runc shim unmounts the rootfs after `runc delete`, as here. */
	r = rootfs_unmount(o, err);
	if (r < 0)
		return r;
	work_remove(o);
	return 0;
}

const struct husk_engine_ops husk__oci_engine = {
	.name = "oci",
	.runs_hooks = true,
	.create = oci_create,
	.load = oci_load,
	.start = oci_start,
	.exec = oci_exec,
	.kill = oci_kill,
	.freeze = oci_freeze,
	.update = oci_update,
	.pids = oci_pids,
	.stats = oci_stats,
	.destroy = oci_destroy,
	.free = oci_free,
};
