/*
 * bench-floor: the kernel work of one /bin/true container with containerd's default spec
 * (`ctr oci spec`, the spec bench-shim writes) and of one exec into it, with no husk code
 * and nothing a runtime adds on top (no state file, no sync protocol, no gofer, no shim):
 * the floor a runtime can approach, measured on the same machine in the same run.
 *
 * One lifecycle:
 *   - a cgroup in every mounted hierarchy (v1 controllers, name=systemd, the unified tree),
 *     cpuset.cpus/mems copied down, the default spec's device rules (deny all, then runc's
 *     default allow list);
 *   - clone3 with the spec's namespaces (pid, ipc, uts, mount, network), born in the unified
 *     hierarchy's cgroup (CLONE_INTO_CGROUP);
 *   - the child joins every v1 hierarchy itself, writing "0" to its `tasks` file: a thread
 *     moving itself is the one migration that does not take the kernel's global
 *     cgroup_threadgroup_rwsem for writing, whose RCU grace period a `cgroup.procs` write
 *     waits for (about 12 ms here) unless cgroup2 is mounted with favordynmods;
 *   - then, in the child: / made rslave, the rootfs bound, the spec's mounts (proc, /dev tmpfs,
 *     devpts, shm, mqueue, ro sysfs, /run tmpfs), the default device nodes and /dev links,
 *     pivot_root and detach of the old root, masked and read-only paths, the rlimit, the
 *     capability sets and no_new_privs; it waits for the join, then execs /bin/true;
 *   - wait, and the cgroup removed in every hierarchy.
 * One exec: a stage born in the container's unified cgroup joins its v1 cgroups itself (as
 * above), enters all of its namespaces with one setns() on its pidfd, clones the process
 * (CLONE_PARENT), which sets its user and execs /bin/true; the caller waits for both.
 *
 * usage: bench-floor ROOTFS [LIFECYCLES [EXECS [IDLE_S [IDLE_EXECS]]]]
 * Output: "key value" lines with the keys bench-shim prints (lifecycle_p50_ms, exec_p50_ms,
 * exec_idle_p50_ms), so bench-shim.sh puts the three side by side.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#define NS_FLAGS  (CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNS | CLONE_NEWNET)
#define MAX_HIER  16
#define CG_PARENT "husk-floor"

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
	va_list ap;
	int e = errno;

	va_start(ap, fmt);
	(void)fprintf(stderr, "bench-floor: ");
	(void)vfprintf(stderr, fmt, ap);
	(void)fprintf(stderr, ": %s\n", strerror(e));
	va_end(ap);
	exit(1);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- cgroups ---- */

struct hier {
	char mnt[256];
	int fd;	     /* the hierarchy's root */
	bool v2;     /* the unified tree */
	bool cpuset; /* v1 cpuset: cpus/mems must be set before a task may join */
	bool devices;
};

static struct hier hier[MAX_HIER];
static size_t n_hier;
static int v2_index = -1;
static bool v2_only; /* a pure cgroup v2 host: CLONE_INTO_CGROUP does the whole join */

static void copy_down(int parent, int child, const char *file);

static void find_hierarchies(void)
{
	FILE *f = fopen("/proc/self/mounts", "re");
	char dev[256];
	char mnt[256];
	char type[64];
	char opts[1024];

	if (!f)
		die("open /proc/self/mounts");
	while (fscanf(f, "%255s %255s %63s %1023s %*d %*d", dev, mnt, type, opts) == 4) {
		bool v2 = strcmp(type, "cgroup2") == 0;
		if (!v2 && strcmp(type, "cgroup") != 0)
			continue;
		if (n_hier == MAX_HIER)
			break;
		struct hier *h = &hier[n_hier];
		(void)snprintf(h->mnt, sizeof(h->mnt), "%s", mnt);
		h->v2 = v2;
		h->cpuset = !v2 && strstr(opts, "cpuset") != NULL;
		h->devices = !v2 && strstr(opts, "devices") != NULL;
		h->fd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (h->fd < 0)
			die("open %s", mnt);
		if (v2)
			v2_index = (int)n_hier;
		n_hier++;
	}
	(void)fclose(f);
	v2_only = n_hier == 1 && v2_index == 0;
	for (size_t i = 0; i < n_hier; i++) {
		if (mkdirat(hier[i].fd, CG_PARENT, 0755) < 0 && errno != EEXIST)
			die("mkdir %s/%s", hier[i].mnt, CG_PARENT);
		if (hier[i].cpuset) {
			int fd = openat(hier[i].fd, CG_PARENT, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			copy_down(hier[i].fd, fd, "cpuset.cpus");
			copy_down(hier[i].fd, fd, "cpuset.mems");
			(void)close(fd);
		}
	}
	if (v2_only) {
		/* Delegate the controllers a container's cgroup gets. */
		int fd = openat(hier[0].fd, CG_PARENT "/cgroup.subtree_control",
				O_WRONLY | O_CLOEXEC);
		if (fd >= 0) {
			(void)!write(fd, "+cpu +memory +pids +io", 22);
			(void)close(fd);
		}
	}
}

static void write_at(int dirfd, const char *file, const char *val)
{
	int fd = openat(dirfd, file, O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		die("open %s", file);
	if (write(fd, val, strlen(val)) < 0)
		die("write '%s' to %s", val, file);
	(void)close(fd);
}

static void copy_down(int parent, int child, const char *file)
{
	char buf[4096];
	int fd = openat(parent, file, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

	if (n < 0)
		die("read %s", file);
	(void)close(fd);
	buf[n] = '\0';
	write_at(child, file, buf);
}

/* runc's default device rules, after the default spec's "deny all". */
static const char *const device_allow[] = {
	"c *:* m",   "b *:* m",	  "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm",   "c 1:8 rwm",
	"c 1:9 rwm", "c 5:0 rwm", "c 5:1 rwm", "c 5:2 rwm", "c 136:* rwm",
};

/* mkdir CG_PARENT/name in every hierarchy; the leaf dirfds into fds. */
static void cgroup_create(const char *name, int fds[MAX_HIER])
{
	char path[256];
	int parent = -1;

	memset(fds, -1, MAX_HIER * sizeof(fds[0]));
	(void)snprintf(path, sizeof(path), CG_PARENT "/%s", name);
	for (size_t i = 0; i < n_hier; i++) {
		if (mkdirat(hier[i].fd, path, 0755) < 0 && errno != EEXIST)
			die("mkdir %s/%s", hier[i].mnt, path);
		fds[i] = openat(hier[i].fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fds[i] < 0)
			die("open %s/%s", hier[i].mnt, path);
		if (hier[i].cpuset) {
			parent = openat(hier[i].fd, CG_PARENT, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			copy_down(parent, fds[i], "cpuset.cpus");
			copy_down(parent, fds[i], "cpuset.mems");
			(void)close(parent);
		}
		if (hier[i].devices) {
			write_at(fds[i], "devices.deny", "a");
			for (size_t d = 0; d < sizeof(device_allow) / sizeof(device_allow[0]); d++)
				write_at(fds[i], "devices.allow", device_allow[d]);
		}
	}
}

/* The calling (single-threaded) process joins every v1 hierarchy: "0" to `tasks`. The
 * unified one it was born into. */
static void cgroup_join_self(const int fds[MAX_HIER])
{
	for (size_t i = 0; i < n_hier; i++) {
		if ((int)i == v2_index)
			continue;
		if (write(fds[i], "0", 1) != 1) {
			perror("bench-floor: join cgroup");
			_exit(125);
		}
	}
}

/* The `tasks` files of a cgroup's v1 hierarchies, opened for cgroup_join_self(). */
static void tasks_open(const int dirs[MAX_HIER], int tasks[MAX_HIER])
{
	memset(tasks, -1, MAX_HIER * sizeof(tasks[0]));
	for (size_t i = 0; i < n_hier; i++) {
		if ((int)i != v2_index &&
		    (tasks[i] = openat(dirs[i], "tasks", O_WRONLY | O_CLOEXEC)) < 0)
			die("open tasks of %s", hier[i].mnt);
	}
}

static void tasks_close(int tasks[MAX_HIER])
{
	for (size_t i = 0; i < n_hier; i++)
		if (tasks[i] >= 0)
			(void)close(tasks[i]);
}

static void cgroup_remove(const char *name, int fds[MAX_HIER])
{
	char path[256];

	(void)snprintf(path, sizeof(path), CG_PARENT "/%s", name);
	for (size_t i = 0; i < n_hier; i++) {
		(void)close(fds[i]);
		/* A v1 hierarchy may still count the exited task for a moment: retry briefly. */
		for (int t = 0; unlinkat(hier[i].fd, path, AT_REMOVEDIR) < 0; t++) {
			if (errno != EBUSY || t == 1000)
				die("rmdir %s/%s", hier[i].mnt, path);
			usleep(100);
		}
	}
}

/* ---- the container init ---- */

static const char *rootfs;

static void must_mount(const char *src, const char *dst, const char *type, unsigned long fl,
		       const char *data)
{
	if (mount(src, dst, type, fl, data) < 0)
		die("mount %s on %s", type ? type : src, dst);
}

static void mount_in_root(const char *src, const char *dst, const char *type, unsigned long fl,
			  const char *data)
{
	char path[4096];

	(void)snprintf(path, sizeof(path), "%s%s", rootfs, dst);
	(void)mkdir(path, 0755);
	must_mount(src, path, type, fl, data);
}

static const struct {
	const char *name;
	unsigned maj, min;
} devices[] = {{"null", 1, 3},	 {"zero", 1, 5},    {"full", 1, 7},
	       {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0}};

static const char *const links[][2] = {
	{"/proc/self/fd", "fd"},       {"/proc/self/fd/0", "stdin"}, {"/proc/self/fd/1", "stdout"},
	{"/proc/self/fd/2", "stderr"}, {"pts/ptmx", "ptmx"},
};

static const char *const masked[] = {
	"/proc/acpi",	       "/proc/asound",	   "/proc/kcore",	"/proc/keys",
	"/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
	"/sys/firmware",       "/proc/scsi",
};

static const char *const readonly[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
				       "/proc/sysrq-trigger"};

static const int caps[] = {CAP_CHOWN,	CAP_DAC_OVERRIDE, CAP_FSETID,		CAP_FOWNER,
			   CAP_MKNOD,	CAP_NET_RAW,	  CAP_SETGID,		CAP_SETUID,
			   CAP_SETFCAP, CAP_SETPCAP,	  CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT,
			   CAP_KILL,	CAP_AUDIT_WRITE};

static void set_caps(void)
{
	struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct data[2] = {{0}};
	int last = 40;
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
	char line[32];

	if (f) {
		if (fgets(line, sizeof(line), f)) {
			char *end = NULL;
			long v = strtol(line, &end, 10);
			if (end != line && v > 0 && v < 64)
				last = (int)v;
		}
		(void)fclose(f);
	}
	for (int c = 0; c <= last; c++) {
		bool keep = false;
		for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
			keep |= caps[i] == c;
		if (!keep && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0)
			die("drop cap %d", c);
	}
	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		data[caps[i] / 32].effective |= 1u << (caps[i] % 32);
		data[caps[i] / 32].permitted |= 1u << (caps[i] % 32);
	}
	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if (syscall(SYS_capset, &hdr, data) < 0)
		die("capset");
}

/* The default spec's mounts under the rootfs, then its /dev nodes and links. */
static void setup_rootfs(void)
{
	char path[4096];

	must_mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL);
	must_mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL);
	mount_in_root("proc", "/proc", "proc", MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL);
	mount_in_root("tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k");
	mount_in_root("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
		      "newinstance,ptmxmode=0666,mode=0620,gid=5");
	mount_in_root("shm", "/dev/shm", "tmpfs", MS_NOSUID | MS_NOEXEC | MS_NODEV,
		      "mode=1777,size=65536k");
	mount_in_root("mqueue", "/dev/mqueue", "mqueue", MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL);
	mount_in_root("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY, NULL);
	mount_in_root("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k");
	for (size_t i = 0; i < sizeof(devices) / sizeof(devices[0]); i++) {
		(void)snprintf(path, sizeof(path), "%s/dev/%s", rootfs, devices[i].name);
		if (mknod(path, S_IFCHR | 0666, makedev(devices[i].maj, devices[i].min)) < 0)
			die("mknod %s", path);
	}
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		(void)snprintf(path, sizeof(path), "%s/dev/%s", rootfs, links[i][1]);
		if (symlink(links[i][0], path) < 0)
			die("symlink %s", path);
	}
}

/* After pivot_root: the default spec's masked and read-only paths. */
static void mask_paths(void)
{
	for (size_t i = 0; i < sizeof(masked) / sizeof(masked[0]); i++) {
		struct stat st;
		if (stat(masked[i], &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode))
			must_mount("tmpfs", masked[i], "tmpfs", MS_RDONLY, NULL);
		else
			must_mount("/dev/null", masked[i], NULL, MS_BIND, NULL);
	}
	for (size_t i = 0; i < sizeof(readonly) / sizeof(readonly[0]); i++) {
		if (access(readonly[i], F_OK) < 0)
			continue;
		must_mount(readonly[i], readonly[i], NULL, MS_BIND | MS_REC, NULL);
		must_mount(NULL, readonly[i], NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC,
			   NULL);
	}
}

static void init_main(const int tasks[MAX_HIER], const char *const argv[])
{
	cgroup_join_self(tasks);
	setup_rootfs();
	if (chdir(rootfs) < 0 || syscall(SYS_pivot_root, ".", ".") < 0 ||
	    umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
		die("pivot_root");
	mask_paths();
	struct rlimit rl = {1024, 1024};
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		die("setrlimit");
	set_caps();
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		die("no_new_privs");
	static char *const envp[] = {"PATH=/bin", NULL};
	execve(argv[0], (char *const *)argv, envp);
	_exit(127);
}

static pid_t clone3_pidfd(uint64_t flags, int cgroup_fd, int *pidfd)
{
	struct clone_args a = {
		.flags = flags | CLONE_PIDFD,
		.pidfd = (uint64_t)(uintptr_t)pidfd,
		.exit_signal = (flags & CLONE_PARENT) ? 0 : SIGCHLD,
	};

	*pidfd = -1; /* until the kernel stores the new process's pidfd */
	if (cgroup_fd >= 0) {
		a.flags |= CLONE_INTO_CGROUP;
		a.cgroup = (uint64_t)cgroup_fd;
	}
	return (pid_t)syscall(SYS_clone3, &a, sizeof(a));
}

/* Create and start a container running argv; its pid and pidfd. */
static pid_t container_run(const char *name, const char *const argv[], int fds[MAX_HIER],
			   int *ret_pidfd)
{
	int tasks[MAX_HIER];

	cgroup_create(name, fds);
	tasks_open(fds, tasks);
	pid_t pid = clone3_pidfd(NS_FLAGS, v2_index >= 0 ? fds[v2_index] : -1, ret_pidfd);
	if (pid < 0)
		die("clone3");
	if (pid == 0)
		init_main(tasks, argv);
	tasks_close(tasks);
	return pid;
}

static void wait_pidfd(int pidfd)
{
	siginfo_t si;

	while (waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED) < 0)
		if (errno != EINTR)
			die("waitid");
	(void)close(pidfd);
}

static double lifecycle(size_t i)
{
	static const char *const argv[] = {"/bin/true", NULL};
	char name[32];
	int fds[MAX_HIER];
	int pidfd = -1;

	(void)snprintf(name, sizeof(name), "life%zu", i);
	double t0 = now();
	(void)container_run(name, argv, fds, &pidfd);
	wait_pidfd(pidfd);
	cgroup_remove(name, fds);
	return (now() - t0) * 1000;
}

/* ---- exec ---- */

static int main_fds[MAX_HIER];
static int main_pidfd = -1;

static double exec_cycle(void)
{
	double t0 = now();
	int stage_pidfd = -1;
	int report_pid[2];
	int tasks[MAX_HIER];

	tasks_open(main_fds, tasks);
	if (pipe2(report_pid, O_CLOEXEC) < 0)
		die("pipe");
	pid_t stage = clone3_pidfd(0, v2_index >= 0 ? main_fds[v2_index] : -1, &stage_pidfd);
	if (stage < 0)
		die("clone3 stage");
	if (stage == 0) {
		cgroup_join_self(tasks);
		if (setns(main_pidfd, NS_FLAGS) < 0)
			_exit(125);
		int pfd = -1;
		pid_t p = clone3_pidfd(CLONE_PARENT, -1, &pfd);
		if (p == 0) {
			static char *const argv[] = {"/bin/true", NULL};
			static char *const envp[] = {"PATH=/bin", NULL};
			struct rlimit rl = {1024, 1024};
			if (setgroups(0, NULL) < 0 || setresgid(0, 0, 0) < 0 ||
			    setresuid(0, 0, 0) < 0 || chdir("/") < 0 ||
			    setrlimit(RLIMIT_NOFILE, &rl) < 0)
				_exit(126);
			set_caps();
			if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
				_exit(126);
			execve(argv[0], argv, envp);
			_exit(127);
		}
		_exit(p < 0 || write(report_pid[1], &p, sizeof(p)) != sizeof(p) ? 124 : 0);
	}
	(void)close(report_pid[1]);
	tasks_close(tasks);
	pid_t p = -1;
	if (read(report_pid[0], &p, sizeof(p)) != sizeof(p))
		die("exec stage failed");
	(void)close(report_pid[0]);
	wait_pidfd(stage_pidfd);
	/* The process is our child (CLONE_PARENT). */
	while (waitpid(p, NULL, 0) < 0)
		if (errno != EINTR)
			die("wait exec");
	return (now() - t0) * 1000;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a;
	double y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void report(const char *what, double *ms, size_t n)
{
	if (n == 0)
		return;
	qsort(ms, n, sizeof(ms[0]), cmp_double);
	printf("%s_p50_ms %.3f\n%s_p90_ms %.3f\n%s_p99_ms %.3f\n", what, ms[n / 2], what,
	       ms[n * 9 / 10], what, ms[n * 99 / 100]);
}

int main(int argc, char **argv)
{
	size_t nl = argc > 2 ? strtoul(argv[2], NULL, 10) : 100;
	size_t ne = argc > 3 ? strtoul(argv[3], NULL, 10) : 1000;
	unsigned idle_s = argc > 4 ? (unsigned)strtoul(argv[4], NULL, 10) : 10;
	size_t ni = argc > 5 ? strtoul(argv[5], NULL, 10) : 3;

	if (argc < 2) {
		(void)fprintf(stderr,
			      "usage: %s ROOTFS [LIFECYCLES [EXECS [IDLE_S [IDLE_EXECS]]]]\n",
			      argv[0]);
		return 2;
	}
	rootfs = realpath(argv[1], NULL);
	if (!rootfs)
		die("%s", argv[1]);
	size_t n = nl > ne ? nl : ne;
	double *ms = calloc(n > ni ? n : ni, sizeof(double));
	if (!ms)
		die("calloc");
	find_hierarchies();

	static const char *const sleeper[] = {"/bin/sleep", "100000", NULL};
	(void)container_run("main", sleeper, main_fds, &main_pidfd);

	for (size_t i = 0; i < nl; i++)
		ms[i] = lifecycle(i);
	report("lifecycle", ms, nl);
	for (size_t i = 0; i < ne; i++)
		ms[i] = exec_cycle();
	report("exec", ms, ne);
	for (size_t i = 0; i < ni; i++) {
		sleep(idle_s);
		ms[i] = exec_cycle();
	}
	report("exec_idle", ms, ni);

	if (syscall(SYS_pidfd_send_signal, main_pidfd, SIGKILL, NULL, 0) < 0)
		die("kill");
	wait_pidfd(main_pidfd);
	cgroup_remove("main", main_fds);
	for (size_t i = 0; i < n_hier; i++)
		(void)unlinkat(hier[i].fd, CG_PARENT, AT_REMOVEDIR);
	free(ms);
	return 0;
}
