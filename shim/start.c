/*
 * `start`: containerd runs it in the bundle; it prints the address of the shim that serves
 * this container's sandbox and exits. One shim per pod: if the sandbox's socket answers,
 * that address is reused; otherwise the daemon is forked with the listener as fd 3.
 * stdout carries only the address; nothing is printed to stderr on success (containerd
 * reads the combined output as the answer).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/magic.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "address.h"
#include "bootstrap.h"
#include "convert.h"
#include "husk/cleanup.h"
#include "husk/err.h"
#include "husk/id.h"
#include "husk/process.h"
#include "husk/spawn.h"
#include "husk/spec.h"
#include "log.h"
#include "reaper.h"
#include "shim_main.h"

#ifndef PR_SCHED_CORE
#define PR_SCHED_CORE 62
#endif
#define SCHED_CORE_CREATE	       1
#define SCHED_CORE_SCOPE_PROCESS_GROUP 2

static int group_id(const char *bundle, const char *id, char ret[HUSK_ID_MAX + 1],
		    struct husk_err *err)
{
	struct husk_spec *spec = NULL;
	int r = husk_spec_load(bundle, &spec, err);

	if (r < 0)
		return r;
	/* io.containerd.runc.v2.group, else the CRI sandbox id, else the task id. */
	r = husk_sandbox_id_from_spec(spec, id, ret, err);
	husk_spec_free(spec);
	return r;
}

/* A line in the bundle's log fifo, if containerd has it open; never on stderr. */
static void open_log(const struct shim_flags *f, bool debug)
{
	int fd = open("log", O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);

	shim_log_init(fd, debug, f->namespace_, f->id);
}

static void set_oom_score(pid_t pid)
{
	char path[64];
	char buf[32];
	_cleanup_close_ int self = open("/proc/self/oom_score_adj", O_RDONLY | O_CLOEXEC);
	ssize_t n = self >= 0 ? read(self, buf, sizeof(buf) - 1) : -1;

	if (n <= 0) {
		shim_log_warn("read oom_score_adj failed, continuing");
		return;
	}
	buf[n] = '\0';
	/* containerd is our parent: its score + 1, so the OOM killer takes the shim first. */
	long score = strtol(buf, NULL, 10) + 1;
	if (score > 1000)
		score = 1000;
	(void)snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", (int)pid);
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	n = snprintf(buf, sizeof(buf), "%ld", score);
	if (fd < 0 || write(fd, buf, (size_t)n) != n)
		shim_log_warn("set oom_score_adj %ld of the shim: %m, keeping the inherited one",
			      score);
}

/*
 * Write pid into <root>/<cg>/cgroup.procs: 1 when done, 0 when the cgroup is missing in this
 * hierarchy (skipped), or the failure, in the runc shim's words.
 */
static int join_cgroup(const char *root, const char *cg, const char *pid, size_t n,
		       struct husk_err *err)
{
	char path[PATH_MAX];
	struct stat st;

	if (snprintf(path, sizeof(path), "%s/%s", root, cg) >= (int)sizeof(path))
		return husk_err_set(err, HUSK_ERR_INVALID, ENAMETOOLONG, "failed to join cgroup %s",
				    cg);
	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		return 0;
	(void)strncat(path, "/cgroup.procs", sizeof(path) - strlen(path) - 1);
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, pid, n) != (ssize_t)n)
		return husk_err_errno(err, errno, "failed to join cgroup %s: write %s", cg, path);
	return 1;
}

/*
 * runc Options.ShimCgroup, joined as the runc shim does: on a unified host that cgroup of
 * /sys/fs/cgroup; else the cgroup in every v1 hierarchy where it exists (containerd's
 * cgroups.Load), not the unified tree of a hybrid host. As there, a cgroup that exists in no
 * hierarchy, or one that refuses the pid, fails the start.
 */
static int move_to_cgroup(pid_t pid, const char *cg, struct husk_err *err)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%d", (int)pid);
	struct statfs sfs;
	int joined = 0;
	int r;

	if (statfs("/sys/fs/cgroup", &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC) {
		r = join_cgroup("/sys/fs/cgroup", cg, buf, (size_t)n, err);
		if (r == 0)
			return husk_err_set(err, HUSK_ERR_NOT_FOUND, 0,
					    "failed to join cgroup %s: no such file or directory",
					    cg);
		return r < 0 ? r : 0;
	}
	_cleanup_closedir_ DIR *d = opendir("/sys/fs/cgroup");
	if (!d)
		return husk_err_errno(err, errno, "failed to load cgroup %s", cg);
	for (struct dirent *e = readdir(d); e; e = readdir(d)) {
		char root[PATH_MAX];
		/* Links (cpu -> cpu,cpuacct) name a hierarchy that is listed itself. */
		if (e->d_type != DT_DIR || e->d_name[0] == '.' || strcmp(e->d_name, "unified") == 0)
			continue;
		(void)snprintf(root, sizeof(root), "/sys/fs/cgroup/%s", e->d_name);
		if (statfs(root, &sfs) < 0 || sfs.f_type != CGROUP_SUPER_MAGIC)
			continue;
		r = join_cgroup(root, cg, buf, (size_t)n, err);
		if (r < 0)
			return r;
		joined += r;
	}
	if (joined == 0)
		return husk_err_set(err, HUSK_ERR_NOT_FOUND, 0,
				    "failed to load cgroup %s: cgroups: cgroup deleted", cg);
	return 0;
}

static void sched_core(pid_t pid)
{
	if (!getenv("SCHED_CORE"))
		return;
	if (prctl(PR_SCHED_CORE, SCHED_CORE_CREATE, pid, SCHED_CORE_SCOPE_PROCESS_GROUP, 0) < 0)
		shim_log_warn("create a core scheduling cookie: %m, continuing");
}

static int spawn_daemon(const struct shim_flags *f, bool debug, int listener, const char *bundle,
			struct husk_child *ret, struct husk_err *err)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n < 0)
		return husk_err_errno(err, errno, "readlink /proc/self/exe");
	self[n] = '\0';
	/* The runc shim's daemon command line: no action word, no -publish-binary. */
	char *argv[] = {self,
			(char *)"-namespace",
			(char *)f->namespace_,
			(char *)"-id",
			(char *)f->id,
			(char *)"-address",
			(char *)(f->address ? f->address : ""),
			debug ? (char *)"-debug" : NULL,
			NULL};
	struct husk_spawn_fd fds[] = {
		{-1, 0, false}, {-1, 1, false}, {-1, 2, false}, {listener, 3, false}};
	struct husk_spawn_opts o = {.fds = fds, .n_fds = ARRAY_SIZE(fds)};
	/* /proc/self/exe: the same binary even if the file was replaced meanwhile. */
	struct husk_spawn_exec x = {
		.path = "/proc/self/exe", .argv = argv, .new_session = true, .cwd = bundle};
	return husk_spawn_exec(&o, &x, ret, err);
}

/*
 * The daemon is single-threaded, and glibc's per-thread cache (tcache) keeps up to seven freed
 * chunks of each small size out of malloc_trim's reach: across requests they pin heap pages,
 * and an idle shim's Private_Dirty grows with what it has served. The daemon runs with the
 * cache off (a tunable, read at its start); it gives the operator's own GLIBC_TUNABLES back to
 * its environment (for what it runs) once started. An operator's tcache setting is kept.
 */
static int daemon_tunables(struct husk_err *err)
{
	const char *old = getenv("GLIBC_TUNABLES");
	_cleanup_free_ char *value = NULL;

	if (old && strstr(old, "glibc.malloc.tcache_count"))
		return 0;
	if (asprintf(&value, "%s%s" SHIM_TUNABLES, old && *old ? old : "", old && *old ? ":" : "") <
	    0) {
		value = NULL;
		return husk_err_errno(err, ENOMEM, "GLIBC_TUNABLES");
	}
	if (setenv(SHIM_TUNABLES_SAVED, old ? old : "", 1) < 0 ||
	    setenv("GLIBC_TUNABLES", value, 1) < 0)
		return husk_err_errno(err, errno, "setenv");
	return 0;
}

static int check_flags(const struct shim_flags *f, struct husk_err *err)
{
	if (!f->namespace_ || !*f->namespace_)
		return husk_err_set(err, HUSK_ERR_INVALID, 0, "-namespace is required");
	if (!f->id || !*f->id)
		return husk_err_set(err, HUSK_ERR_INVALID, 0, "-id is required");
	return husk_id_check(f->id, "container", err);
}

/* stdin: containerd 2.3+'s BootstrapParams, or 1.x's runtime options (bootstrap.h). */
static int read_stdin(const struct shim_flags *f, struct shim_bootstrap *b, struct shim_options *o,
		      struct husk_err *err)
{
	_cleanup_free_ uint8_t *in = NULL;
	size_t len = 0;
	int r = shim_read_all(STDIN_FILENO, 1 << 20, &in, &len);

	if (r < 0)
		return husk_err_errno(err, -r, "read options from stdin");
	struct shim_bootstrap_input i = {
		.in = in,
		.len = len,
		.id = f->id,
		.ns = f->namespace_,
		.max_version = getenv("MAX_SHIM_VERSION"),
	};
	return shim_bootstrap_parse(&i, b, o, err);
}

static int start(const struct shim_flags *f, const struct shim_bootstrap *b,
		 const struct shim_options *o, char *address, size_t size, struct husk_err *err)
{
	char bundle[PATH_MAX];
	char gid[HUSK_ID_MAX + 1];
	struct husk_child daemon = HUSK_CHILD_NULL;
	bool debug = f->debug || b->debug;
	int r;

	if (!getcwd(bundle, sizeof(bundle)))
		return husk_err_errno(err, errno, "getcwd");
	open_log(f, debug);
	struct shim_address_key key = {
		.grpc_address = f->address ? f->address : "", .ns = f->namespace_, .group_id = gid};
	if ((r = group_id(bundle, f->id, gid, err)) < 0 ||
	    (r = shim_address_derive(b->socket_dir, &key, address, size, err)) < 0)
		return r;
	const char *path = shim_address_path(address);
	_cleanup_close_ int listener = shim_socket_listen(path, err);
	/* The sandbox's shim is alive: containerd connects to it for this task too. */
	if (listener == -EADDRINUSE)
		return shim_address_file_write(AT_FDCWD, address, err);
	if (listener < 0)
		return listener;
	/* The daemon removes its socket on exit; the bundle's address file may be gone. */
	if (setenv("HUSK_SHIM_SOCKET", path, 1) < 0) {
		(void)unlink(path);
		return husk_err_errno(err, errno, "setenv");
	}
	r = daemon_tunables(err);
	if (r == 0)
		r = spawn_daemon(f, debug, listener, bundle, &daemon, err);
	if (r == 0)
		r = shim_address_file_write(AT_FDCWD, address, err);
	if (r < 0) {
		if (daemon.pid > 0)
			shim_child_kill_and_reap(&daemon);
		(void)unlink(path);
		return r;
	}
	sched_core(daemon.pid);
	if (o->shim_cgroup && (r = move_to_cgroup(daemon.pid, o->shim_cgroup, err)) < 0) {
		shim_child_kill_and_reap(&daemon);
		(void)unlink(path);
		return r;
	}
	set_oom_score(daemon.pid);
	/* Not waited for: it is reparented when we exit. */
	husk_child_release(&daemon);
	return 0;
}

int shim_start_main(const struct shim_flags *f)
{
	char address[SHIM_ADDRESS_MAX];
	char answer[SHIM_ADDRESS_MAX + 64];
	struct husk_err err = {0};
	struct shim_bootstrap b = {0};
	struct shim_options o = {0};
	int r = check_flags(f, &err);

	if (r == 0)
		r = read_stdin(f, &b, &o, &err);
	if (r == 0)
		r = start(f, &b, &o, address, sizeof(address), &err);
	if (r == 0)
		r = shim_bootstrap_answer(&b, address, answer, sizeof(answer), &err);
	shim_options_done(&o);
	shim_bootstrap_done(&b);
	if (r < 0) {
		(void)fprintf(stderr, "start: %s\n", err.msg);
		return 1;
	}
	if (shim_write_all(STDOUT_FILENO, answer, (size_t)r) < 0)
		return 1;
	return 0;
}
