#include "containerd.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <glob.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/pidfd.h>
#include <sys/stat.h>

#include <criterion/criterion.h>
#include <criterion/logging.h>

#include "mountinfo.h"
#include "testutil.h"

#define MAX_ARGS 64

/* The instance of the running test (one test per worker process). */
static struct e2e_cd *current;

static double now(void)
{
	struct timespec ts;
	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

char *e2e_asprintf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	int r = vasprintf(&s, fmt, ap);
	va_end(ap);
	cr_assert(r >= 0);
	return s;
}

static bool exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

/* containerd's rule: io.containerd.runc.v2 -> containerd-shim-runc-v2. */
static char *shim_binary_name(const char *runtime)
{
	const char *last = strrchr(runtime, '.');
	cr_assert(last != NULL && last != runtime, "bad runtime name %s", runtime);
	const char *prev = last - 1;
	while (prev > runtime && *prev != '.')
		prev--;
	if (*prev == '.')
		prev++;
	return e2e_asprintf("containerd-shim-%.*s-%s", (int)(last - prev), prev, last + 1);
}

static struct e2e_res run_script(struct e2e_cd *cd, const char *cmd, char *const env[])
{
	char *script = testutil_source_path("hack/containerd.sh");
	char *argv[] = {"bash", script, (char *)cmd, cd->dir, NULL};
	struct e2e_res r = e2e_run(argv, env, NULL, testutil_timeout(60));
	free(script);
	return r;
}

static void containerd_up(struct e2e_cd *cd, const char *shim_path)
{
	char *shim_env = e2e_asprintf("HUSK_SHIM=%s", shim_path ? shim_path : "");
	char *watch_env = e2e_asprintf("HUSK_CONTAINERD_WATCH_PID=%d", (int)getpid());
	char *env[] = {shim_env, watch_env, NULL};
	_cleanup_res_ struct e2e_res r = run_script(cd, "start", env);

	free(shim_env);
	free(watch_env);
	cr_assert(r.status == 0, "hack/containerd.sh start %s failed:\n%s%s", cd->dir, r.out,
		  r.err);
}

/*
 * Build the busybox rootfs and image once per build tree (flock'ed: parallel workers and
 * suites share it) and rebuild when the scripts or busybox are newer than the cache.
 */
static char *ensure_cache(void)
{
	static const char script[] =
		"set -e; cache=$1; src=$2; ref=$3\n"
		"exec 9>\"$cache.lock\"; flock 9\n"
		"if [ -f \"$cache/stamp\" ] && [ \"$cache/stamp\" -nt \"$src/hack/mkimage.sh\" ] "
		"&&\n"
		"   [ \"$cache/stamp\" -nt \"$src/hack/mkrootfs.sh\" ] &&\n"
		"   [ \"$cache/stamp\" -nt /bin/busybox ]; then exit 0; fi\n"
		"rm -rf \"$cache\" \"$cache.tmp\"; mkdir -p \"$cache.tmp\"\n"
		"\"$src/hack/mkrootfs.sh\" \"$cache.tmp/rootfs\"\n"
		"ROOTFS=\"$cache.tmp/rootfs\" \"$src/hack/mkimage.sh\" \"$cache.tmp/busybox.tar\" "
		"\"$ref\"\n"
		"touch \"$cache.tmp/stamp\"; mv \"$cache.tmp\" \"$cache\"\n";
	char *cache = testutil_binary_path("e2e-cache");
	char *src = testutil_source_path("");
	char *argv[] = {"bash", "-c", (char *)script, "ensure-cache", cache, src, E2E_IMAGE, NULL};
	_cleanup_res_ struct e2e_res r = e2e_run(argv, NULL, NULL, testutil_timeout(120));

	free(src);
	cr_assert(r.status == 0, "building the e2e image failed:\n%s%s", r.out, r.err);
	return cache;
}

static void setup_image(struct e2e_cd *cd)
{
	char *cache = ensure_cache();
	char *tar = e2e_asprintf("%s/busybox.tar", cache);
	char *rootfs = e2e_asprintf("%s/rootfs", cache);
	char *cp[] = {"cp", "-a", rootfs, cd->rootfs, NULL};
	_cleanup_res_ struct e2e_res c = e2e_run(cp, NULL, NULL, testutil_timeout(60));
	cr_assert(c.status == 0, "cp -a %s: %s", rootfs, c.err);

	_cleanup_res_ struct e2e_res r = e2e_ctr(cd, NULL, "images", "import", tar, NULL);
	cr_assert(r.status == 0, "ctr images import %s: %s", tar, r.err);
	free(cache);
	free(tar);
	free(rootfs);
}

struct e2e_cd *e2e_cd_start(void)
{
	struct e2e_cd *cd = calloc(1, sizeof(*cd));
	const char *rt = getenv("HUSK_E2E_RUNTIME");
	char *shim_path = NULL;

	cr_assert(cd != NULL);
	cr_assert(testutil_is_root(), "the e2e suites need root");
	cd->runtime = strdup(rt && *rt ? rt : E2E_DEFAULT_RUNTIME);
	cd->husk = strcmp(cd->runtime, "io.containerd.husk.v2") == 0;
	cd->shim = shim_binary_name(cd->runtime);
	cd->dir = testutil_tmpdir("e2e");
	cd->address = e2e_asprintf("%s/containerd.sock", cd->dir);
	/* mkdtemp's suffix is [A-Za-z0-9]: a valid, unique containerd namespace. */
	cd->ns = e2e_asprintf("husk-%s", strrchr(cd->dir, '-') + 1);
	cd->image = strdup(E2E_IMAGE);
	cd->rootfs = e2e_asprintf("%s/rootfs", cd->dir);
	cd->fifo_dir = e2e_asprintf("%s/fifo", cd->dir);
	cr_assert(mkdir(cd->fifo_dir, 0700) == 0);

	if (cd->husk) {
		const char *env = getenv("HUSK_SHIM");
		shim_path = env && *env ? strdup(env)
					: testutil_binary_path("shim/containerd-shim-husk-v2");
		cr_assert(access(shim_path, X_OK) == 0, "husk shim %s: %s", shim_path,
			  strerror(errno));
	}
	containerd_up(cd, shim_path);
	free(shim_path);
	setup_image(cd);
	cr_log_info("e2e: containerd in %s, namespace %s, runtime %s", cd->dir, cd->ns,
		    cd->runtime);
	current = cd;
	return cd;
}

void e2e_cd_restart(struct e2e_cd *cd)
{
	_cleanup_res_ struct e2e_res r = run_script(cd, "kill", NULL);
	cr_assert(r.status == 0, "hack/containerd.sh kill: %s", r.err);
	/* The shim symlink in <dir>/bin stays; HUSK_SHIM is only read when it is missing. */
	char *link = e2e_asprintf("%s/bin/containerd-shim-husk-v2", cd->dir);
	char *target = realpath(link, NULL);
	containerd_up(cd, target);
	free(target);
	free(link);
}

const char *e2e_id(struct e2e_cd *cd, const char *name)
{
	char **ids = realloc(cd->ids, (cd->n_ids + 1) * sizeof(*ids));
	cr_assert(ids != NULL);
	cd->ids = ids;
	cd->ids[cd->n_ids] = strdup(name);
	cr_assert(cd->ids[cd->n_ids] != NULL);
	return cd->ids[cd->n_ids++];
}

static char **ctr_argv(struct e2e_cd *cd, va_list ap)
{
	char **argv = calloc(MAX_ARGS + 1, sizeof(*argv));
	size_t n = 0;

	cr_assert(argv != NULL);
	argv[n++] = "ctr";
	argv[n++] = "--address";
	argv[n++] = cd->address;
	argv[n++] = "--namespace";
	argv[n++] = cd->ns;
	for (char *a = va_arg(ap, char *); a; a = va_arg(ap, char *)) {
		cr_assert(n < MAX_ARGS, "too many ctr arguments");
		argv[n++] = a;
	}
	argv[n] = NULL;
	return argv;
}

struct e2e_res e2e_ctr_v(struct e2e_cd *cd, const char *stdin_data, char *const args[])
{
	char *argv[MAX_ARGS + 1] = {"ctr", "--address", cd->address, "--namespace", cd->ns};
	size_t n = 5;

	for (size_t i = 0; args[i]; i++) {
		cr_assert(n < MAX_ARGS, "too many ctr arguments");
		argv[n++] = args[i];
	}
	argv[n] = NULL;
	return e2e_run(argv, NULL, stdin_data, testutil_timeout(60));
}

struct e2e_res e2e_ctr(struct e2e_cd *cd, const char *stdin_data, ...)
{
	va_list ap;

	va_start(ap, stdin_data);
	char **argv = ctr_argv(cd, ap);
	va_end(ap);
	struct e2e_res r = e2e_run(argv, NULL, stdin_data, testutil_timeout(60));
	free(argv);
	return r;
}

struct e2e_proc *e2e_ctr_spawn(struct e2e_cd *cd, ...)
{
	va_list ap;

	va_start(ap, cd);
	char **argv = ctr_argv(cd, ap);
	va_end(ap);
	struct e2e_proc *p = e2e_proc_spawn(argv, NULL);
	free(argv);
	return p;
}

struct e2e_res e2e_ctr_tty(struct e2e_cd *cd, ...)
{
	va_list ap;
	char *cmd = NULL;

	va_start(ap, cd);
	char **argv = ctr_argv(cd, ap);
	va_end(ap);
	for (size_t i = 0; argv[i]; i++)
		e2e_shell_append(&cmd, argv[i]);
	free(argv);

	/* -e: exit with ctr's status; -q: no banner; the typescript goes to /dev/null. */
	char *script[] = {"script", "-qec", cmd, "/dev/null", NULL};
	char *env[] = {"SHELL=/bin/sh", NULL};
	struct e2e_proc *p = e2e_proc_spawn(script, env);
	double timeout = testutil_timeout(60);
	/* Keep stdin open until ctr is done: EOF on script's stdin would reach the pty. */
	(void)e2e_proc_wait_out(p, NULL, SIZE_MAX, timeout);
	free(cmd);
	return e2e_proc_finish(p, 1);
}

/* Find id's row in `ctr task ls`; returns the malloc'ed line or NULL. */
static char *task_row(struct e2e_cd *cd, const char *id)
{
	_cleanup_res_ struct e2e_res r = e2e_ctr(cd, NULL, "task", "ls", NULL);
	char *save = NULL;

	cr_assert(r.status == 0, "ctr task ls: %s", r.err);
	for (char *line = strtok_r(r.out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		size_t n = strlen(id);
		if (strncmp(line, id, n) == 0 && (line[n] == ' ' || line[n] == '\t'))
			return strdup(line);
	}
	return NULL;
}

char *e2e_task_status(struct e2e_cd *cd, const char *id)
{
	char *row = task_row(cd, id);
	char *save = NULL, *status = NULL;

	if (!row)
		return NULL;
	(void)strtok_r(row, " \t", &save);
	(void)strtok_r(NULL, " \t", &save);
	char *s = strtok_r(NULL, " \t", &save);
	if (s)
		status = strdup(s);
	free(row);
	return status;
}

pid_t e2e_task_pid(struct e2e_cd *cd, const char *id)
{
	char *row = task_row(cd, id);
	char *save = NULL;
	long pid = 0;

	if (!row)
		return 0;
	(void)strtok_r(row, " \t", &save);
	char *s = strtok_r(NULL, " \t", &save);
	if (s)
		pid = strtol(s, NULL, 10);
	free(row);
	return (pid_t)pid;
}

bool e2e_wait_task_status(struct e2e_cd *cd, const char *id, const char *status, double timeout)
{
	double deadline = now() + testutil_timeout(timeout);

	/* ctr has no "task wait": poll the listing, bounded by the deadline. */
	for (;;) {
		char *s = e2e_task_status(cd, id);
		bool ok = status ? s && strcmp(s, status) == 0 : s == NULL;
		free(s);
		if (ok)
			return true;
		if (now() >= deadline)
			return false;
		(void)nanosleep(&(struct timespec){.tv_nsec = 20 * 1000 * 1000}, NULL);
	}
}

/* argv of pid as a NUL-separated buffer; returns its length (0 if gone). */
static size_t read_cmdline(const char *pid, char *buf, size_t cap)
{
	char path[64];
	(void)snprintf(path, sizeof(path), "/proc/%s/cmdline", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, cap - 1);
	(void)close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return (size_t)n;
}

static bool is_pid_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* Whether pid is one of the forks husk names "husk:[...]" (workers, runsc waiters). */
static bool husk_fork(pid_t pid)
{
	char *comm = testutil_comm(pid);
	bool named = comm && strncmp(comm, "husk:[", 6) == 0;

	free(comm);
	return named;
}

/* The parent of pid (0 if it is gone). */
static pid_t parent_of(pid_t pid)
{
	char path[64], line[256];
	pid_t ppid = 0;

	(void)snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "PPid: %d", &ppid) == 1)
			break;
	(void)fclose(f);
	return ppid;
}

static bool pid_in(pid_t pid, const pid_t *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (set[i] == pid)
			return true;
	return false;
}

/* Every process with the command line of a shim this containerd started, forks too, at
 * most max of them; returns how many there are. */
static size_t shim_processes(struct e2e_cd *cd, pid_t *pids, size_t max)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	size_t count = 0;
	static char buf[65536];

	cr_assert(d != NULL);
	while ((de = readdir(d))) {
		if (!is_pid_name(de->d_name))
			continue;
		size_t n = read_cmdline(de->d_name, buf, sizeof(buf));
		if (!n)
			continue;
		const char *base = strrchr(buf, '/');
		base = base ? base + 1 : buf;
		if (strncmp(base, "containerd-shim", 15) != 0)
			continue;
		bool ours = false;
		for (size_t off = 0; off < n && !ours; off += strlen(buf + off) + 1)
			ours = strcmp(buf + off, cd->address) == 0;
		if (!ours)
			continue;
		if (count < max)
			pids[count] = (pid_t)strtol(de->d_name, NULL, 10);
		count++;
	}
	(void)closedir(d);
	return count;
}

size_t e2e_shim_pids(struct e2e_cd *cd, pid_t *pids, size_t max)
{
	enum { CAP = 256 };
	pid_t all[CAP];
	size_t n_all = shim_processes(cd, all, CAP);
	size_t count = 0;

	n_all = n_all < CAP ? n_all : CAP;
	/* A shim's forks keep its command line: husk names its own husk:[...], and a process
	 * whose parent has one of the command lines, or that is gone meanwhile (parent 0), is
	 * not counted either. */
	for (size_t i = 0; i < n_all; i++) {
		pid_t ppid = parent_of(all[i]);
		if (husk_fork(all[i]) || ppid == 0 || pid_in(ppid, all, n_all))
			continue;
		if (count < max)
			pids[count] = all[i];
		count++;
	}
	return count;
}

char *e2e_shim_socket(struct e2e_cd *cd, const char *id)
{
	char *key = e2e_asprintf("%s/%s/%s", cd->address, cd->ns, id);
	char *argv[] = {"sha256sum", NULL};
	_cleanup_res_ struct e2e_res r = e2e_run(argv, NULL, key, testutil_timeout(30));

	free(key);
	cr_assert(r.status == 0 && r.out_len >= 64, "sha256sum: %s", r.err);
	return e2e_asprintf("/run/containerd/s/%.64s", r.out);
}

/* Does a /proc/<pid>/cgroup file name a cgroup at or under prefix in any hierarchy? */
static bool cgroup_under(const char *pid, const char *prefix)
{
	char path[64], line[4096];
	size_t plen = strlen(prefix);
	bool hit = false;

	(void)snprintf(path, sizeof(path), "/proc/%s/cgroup", pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return false;
	while (!hit && fgets(line, sizeof(line), f)) {
		/* hierarchy-id:controllers:path */
		char *p = strchr(line, ':');
		p = p ? strchr(p + 1, ':') : NULL;
		if (!p)
			continue;
		p++;
		p[strcspn(p, "\n")] = '\0';
		hit = strncmp(p, prefix, plen) == 0 && (p[plen] == '\0' || p[plen] == '/');
	}
	(void)fclose(f);
	return hit;
}

/* State letter from /proc/<pid>/stat; 0 when the process is gone. */
static char proc_state(const char *pid)
{
	char path[64], state = 0;

	(void)snprintf(path, sizeof(path), "/proc/%s/stat", pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return 0;
	if (fscanf(f, "%*d (%*[^)]) %c", &state) != 1)
		state = 0;
	(void)fclose(f);
	return state;
}

/*
 * Live processes (zombies are skipped: once a shim is gone its dead children wait for
 * the host's init to reap them, which is not the shim's doing) in a cgroup under prefix.
 */
static size_t pids_in_cgroup(const char *prefix, pid_t *pids, size_t max)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	size_t count = 0;

	cr_assert(d != NULL);
	while ((de = readdir(d))) {
		if (!is_pid_name(de->d_name) || !cgroup_under(de->d_name, prefix))
			continue;
		if (proc_state(de->d_name) == 'Z')
			continue;
		if (count < max)
			pids[count] = (pid_t)strtol(de->d_name, NULL, 10);
		count++;
	}
	(void)closedir(d);
	return count;
}

size_t e2e_container_pids(struct e2e_cd *cd, const char *id, pid_t *pids, size_t max)
{
	char *prefix = e2e_asprintf("/%s/%s", cd->ns, id);
	size_t n = pids_in_cgroup(prefix, pids, max);
	free(prefix);
	return n;
}

bool e2e_wait_pid_gone(pid_t pid, double timeout)
{
	int fd = pidfd_open(pid, 0);
	if (fd < 0)
		return errno == ESRCH;
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	int r = poll(&pfd, 1, (int)(testutil_timeout(timeout) * 1000));
	(void)close(fd);
	if (r == 1)
		return true;
	/* A zombie that nobody reaps is gone for our purposes, too. */
	char id[32];
	(void)snprintf(id, sizeof(id), "%d", (int)pid);
	char state = proc_state(id);
	return state == 0 || state == 'Z';
}

/* Entries of a directory other than . and ..; -1 when it does not exist. */
static int count_entries(const char *path, char *first, size_t first_cap)
{
	DIR *d = opendir(path);
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (n++ == 0 && first)
			(void)snprintf(first, first_cap, "%s", de->d_name);
	}
	(void)closedir(d);
	return n;
}

static void wait_shims_gone(struct e2e_cd *cd)
{
	pid_t pids[64];
	size_t n = shim_processes(cd, pids, 64);

	/* After Delete and Shutdown a shim exits on its own; give it time, bounded. */
	for (size_t i = 0; i < n && i < 64; i++)
		(void)e2e_wait_pid_gone(pids[i], 10);
}

static bool check_sanitizer_reports(struct e2e_cd *cd)
{
	char *pattern = e2e_asprintf("%s/*san.*", cd->dir);
	glob_t g;
	bool ok = true;

	if (glob(pattern, 0, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc; i++) {
			char *text = testutil_read_file(g.gl_pathv[i]);
			cr_expect(false, "leak check: sanitizer report %s:\n%s", g.gl_pathv[i],
				  text ? text : "");
			free(text);
			ok = false;
		}
		globfree(&g);
	}
	free(pattern);
	return ok;
}

/* "pid <n>: <argv> (cgroup <line>)" for leak messages, malloc'ed. */
static char *describe_pid(pid_t pid)
{
	static char argv[4096];
	char id[32];

	(void)snprintf(id, sizeof(id), "%d", (int)pid);
	size_t n = read_cmdline(id, argv, sizeof(argv));
	for (size_t i = 0; i + 1 < n; i++)
		if (argv[i] == '\0')
			argv[i] = ' ';
	char *path = e2e_asprintf("/proc/%d/cgroup", (int)pid);
	char *cg = testutil_read_file(path);
	free(path);
	char *s = e2e_asprintf("pid %d: %s\n%s", (int)pid, n ? argv : "?", cg ? cg : "");
	free(cg);
	return s;
}

static bool check_processes(struct e2e_cd *cd)
{
	pid_t pids[16];
	bool ok = true;
	size_t n = shim_processes(cd, pids, 16);

	for (size_t i = 0; i < n && i < 16; i++) {
		char *what = describe_pid(pids[i]);
		cr_expect(false, "leak check: shim (or its fork) still running: %s", what);
		free(what);
	}
	ok = ok && n == 0;

	char *prefix = e2e_asprintf("/%s", cd->ns);
	n = pids_in_cgroup(prefix, pids, 16);
	for (size_t i = 0; i < n && i < 16; i++) {
		char *what = describe_pid(pids[i]);
		cr_expect(false, "leak check: process left in cgroup %s/: %s", prefix, what);
		free(what);
	}
	ok = ok && n == 0;
	free(prefix);
	return ok;
}

/* A namespace cgroup dir must have no child cgroups (one per container) left. */
static bool check_cgroup_dir(const char *path)
{
	DIR *c = opendir(path);
	struct dirent *ce;
	int subdirs = 0;
	char first[256] = "";

	if (!c)
		return true;
	while ((ce = readdir(c))) {
		if (ce->d_type == DT_DIR && ce->d_name[0] != '.' && subdirs++ == 0)
			(void)snprintf(first, sizeof(first), "%s", ce->d_name);
	}
	(void)closedir(c);
	cr_expect(subdirs == 0, "leak check: cgroup %s/%s left behind", path, first);
	return subdirs == 0;
}

static bool check_cgroups(struct e2e_cd *cd)
{
	/* cgroup v2 at the top, or one dir per v1 hierarchy (plus "unified" when hybrid). */
	char *top = e2e_asprintf("/sys/fs/cgroup/%s", cd->ns);
	bool ok = check_cgroup_dir(top);
	DIR *d = opendir("/sys/fs/cgroup");
	struct dirent *de;

	free(top);
	while (d && (de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		char *path = e2e_asprintf("/sys/fs/cgroup/%s/%s", de->d_name, cd->ns);
		ok = check_cgroup_dir(path) && ok;
		free(path);
	}
	if (d)
		(void)closedir(d);
	return ok;
}

static bool check_sockets(struct e2e_cd *cd)
{
	bool ok = true;

	for (size_t i = 0; i < cd->n_ids; i++) {
		char *sock = e2e_shim_socket(cd, cd->ids[i]);
		bool leaked = exists(sock);
		cr_expect(!leaked, "leak check: shim socket %s (id %s) left behind", sock,
			  cd->ids[i]);
		ok = ok && !leaked;
		free(sock);
	}
	return ok;
}

static bool check_mounts(struct e2e_cd *cd)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[8192];
	char *prefix = e2e_asprintf("%s/", cd->dir);
	bool ok = true;

	cr_assert(f != NULL);
	while (fgets(line, sizeof(line), f)) {
		struct husk_mountinfo_entry m;
		if (husk__mountinfo_split(line, &m, NULL) < 0)
			continue;
		if (strncmp(m.mount_point, prefix, strlen(prefix)) == 0) {
			cr_expect(false, "leak check: mount %s left behind", m.mount_point);
			ok = false;
		}
	}
	(void)fclose(f);
	free(prefix);
	return ok;
}

/* nftw callbacks take no context. */
static int fifo_count;
static char fifo_first[4096];

static int note_fifo(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)flag;
	(void)ftw;
	if (S_ISFIFO(st->st_mode) && fifo_count++ == 0)
		(void)snprintf(fifo_first, sizeof(fifo_first), "%s", path);
	return 0;
}

/*
 * Entries left in path, waiting up to timeout seconds (scaled) for it to empty: after a
 * dead shim, containerd removes the bundle asynchronously.
 */
static int entries_after(const char *path, double timeout, char *first, size_t cap)
{
	double deadline = now() + testutil_timeout(timeout);

	for (;;) {
		int n = count_entries(path, first, cap);
		if (n <= 0 || now() >= deadline)
			return n;
		(void)nanosleep(&(struct timespec){.tv_nsec = 20 * 1000 * 1000}, NULL);
	}
}

static bool check_files(struct e2e_cd *cd)
{
	char first[256] = "";
	bool ok = true;

	const char *dirs[] = {"state", "root"};
	for (size_t i = 0; i < 2; i++) {
		char *b = e2e_asprintf("%s/%s/io.containerd.runtime.v2.task/%s", cd->dir, dirs[i],
				       cd->ns);
		int n = entries_after(b, 10, first, sizeof(first));
		cr_expect(n <= 0, "leak check: bundle %s/%s left behind", b, first);
		ok = ok && n <= 0;
		free(b);
	}

	fifo_count = 0;
	(void)nftw(cd->dir, note_fifo, 16, FTW_PHYS | FTW_MOUNT);
	cr_expect(fifo_count == 0, "leak check: %d fifo(s) under %s, e.g. %s", fifo_count, cd->dir,
		  fifo_first);
	ok = ok && fifo_count == 0;

	char *state = e2e_asprintf("/run/containerd/%s/%s", cd->husk ? "husk" : "runc", cd->ns);
	if (cd->husk || strcmp(cd->runtime, "io.containerd.runc.v2") == 0) {
		int n = entries_after(state, 10, first, sizeof(first));
		cr_expect(n <= 0, "leak check: runtime state %s/%s left behind", state, first);
		ok = ok && n <= 0;
	}
	free(state);
	return ok;
}

static bool check_listed(struct e2e_cd *cd)
{
	_cleanup_res_ struct e2e_res t = e2e_ctr(cd, NULL, "task", "ls", "-q", NULL);
	_cleanup_res_ struct e2e_res c = e2e_ctr(cd, NULL, "containers", "ls", "-q", NULL);

	cr_expect(!*t.out, "leak check: tasks still listed: %s", t.out);
	cr_expect(!*c.out, "leak check: containers still listed: %s", c.out);
	return t.status == 0 && c.status == 0 && !*t.out && !*c.out;
}

bool e2e_cd_check_leaks(struct e2e_cd *cd)
{
	bool ok = true;

	wait_shims_gone(cd);
	ok = check_sanitizer_reports(cd) && ok;
	ok = check_processes(cd) && ok;
	ok = check_cgroups(cd) && ok;
	ok = check_sockets(cd) && ok;
	ok = check_mounts(cd) && ok;
	ok = check_files(cd) && ok;
	ok = check_listed(cd) && ok;
	return ok;
}

static void print_log_tail(struct e2e_cd *cd)
{
	char *path = e2e_asprintf("%s/containerd.log", cd->dir);
	char *text = testutil_read_file(path);
	if (text) {
		size_t len = strlen(text);
		const char *tail = len > 6000 ? text + len - 6000 : text;
		cr_log_info("e2e: tail of %s:\n%s", path, tail);
	}
	free(text);
	free(path);
}

/* Remove the namespace's (now empty) cgroup and runtime state dirs; best effort. */
static void remove_namespace_dirs(struct e2e_cd *cd)
{
	char *pattern = e2e_asprintf("/sys/fs/cgroup/*/%s", cd->ns);
	glob_t g;

	if (glob(pattern, GLOB_ONLYDIR, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc; i++)
			(void)rmdir(g.gl_pathv[i]);
		globfree(&g);
	}
	free(pattern);
	const char *dirs[] = {"/sys/fs/cgroup", "/run/containerd/husk", "/run/containerd/runc"};
	for (size_t i = 0; i < 3; i++) {
		char *p = e2e_asprintf("%s/%s", dirs[i], cd->ns);
		(void)rmdir(p);
		free(p);
	}
}

void e2e_cd_assert_clean(struct e2e_cd *cd)
{
	cr_assert(cd != NULL, "no private containerd: e2e_cd_start() was not called");
	cd->checked = true;
	if (!e2e_cd_check_leaks(cd)) {
		print_log_tail(cd);
		cr_assert_fail("e2e: the test left resources behind (see above)");
	}
}

struct e2e_cd *e2e_cd_current(void)
{
	return current;
}

void e2e_cd_stop(struct e2e_cd *cd)
{
	if (!cd)
		return;
	if (!cd->checked)
		cr_log_info("e2e: the test did not finish; leak checks skipped, cleaning up");
	_cleanup_res_ struct e2e_res r = run_script(cd, "stop", NULL);
	cr_expect(r.status == 0, "hack/containerd.sh stop: %s%s", r.out, r.err);
	remove_namespace_dirs(cd);
	if (getenv("HUSK_E2E_KEEP")) {
		cr_log_info("e2e: keeping %s (HUSK_E2E_KEEP)", cd->dir);
		free(cd->dir);
	} else {
		testutil_rmtree_free(cd->dir);
	}
	for (size_t i = 0; i < cd->n_ids; i++)
		free(cd->ids[i]);
	free(cd->ids);
	free(cd->address);
	free(cd->ns);
	free(cd->runtime);
	free(cd->shim);
	free(cd->image);
	free(cd->rootfs);
	free(cd->fifo_dir);
	if (current == cd)
		current = NULL;
	free(cd);
}
