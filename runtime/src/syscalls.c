#include "syscalls.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>

#include <sys/resource.h>

#include "husk/err.h"

static const struct {
	const char *name;
	const char *since; /* the first kernel release that has it */
	bool fallback;	   /* husk does without it (see syscalls.h) */
} sys_table[_HUSK_SYS_MAX] = {
	[HUSK_SYS_CLONE3] = {"clone3", "5.3", true},
	[HUSK_SYS_CLOSE_RANGE] = {"close_range", "5.9", true},
	[HUSK_SYS_OPENAT2] = {"openat2", "5.6", false},
	[HUSK_SYS_OPEN_TREE] = {"open_tree", "5.2", false},
	[HUSK_SYS_MOVE_MOUNT] = {"move_mount", "5.2", false},
	[HUSK_SYS_MOUNT_SETATTR] = {"mount_setattr", "5.12", false},
	[HUSK_SYS_FSOPEN] = {"fsopen", "5.2", false},
	[HUSK_SYS_FSCONFIG] = {"fsconfig", "5.2", false},
	[HUSK_SYS_FSMOUNT] = {"fsmount", "5.2", false},
	[HUSK_SYS_PIDFD_OPEN] = {"pidfd_open", "5.3", false},
	[HUSK_SYS_PIDFD_SEND_SIGNAL] = {"pidfd_send_signal", "5.1", false},
};

/* 0: not known yet; 1: the kernel answers it; -1: ENOSYS. Per process; children inherit
 * what their parent learnt, and a seccomp filter is inherited with it. */
static signed char have[_HUSK_SYS_MAX];

const char *husk__sys_name(enum husk_sys s)
{
	return (unsigned)s < _HUSK_SYS_MAX ? sys_table[s].name : NULL;
}

const char *husk__sys_since(enum husk_sys s)
{
	return (unsigned)s < _HUSK_SYS_MAX ? sys_table[s].since : NULL;
}

/* Each call is refused for its arguments (EINVAL, EBADF) before the kernel does anything,
 * or for the syscall itself (ENOSYS); none can succeed. */
static long probe(enum husk_sys s)
{
	switch (s) {
	case HUSK_SYS_CLONE3:
		return syscall(SYS_clone3, NULL, (size_t)0); /* size below VER0 */
	case HUSK_SYS_CLOSE_RANGE:
		return syscall(SYS_close_range, 1U, 0U, 0U); /* last below first */
	case HUSK_SYS_OPENAT2:
		return syscall(SYS_openat2, -1, "", NULL, (size_t)0); /* size below VER0 */
	case HUSK_SYS_OPEN_TREE:
		return syscall(SYS_open_tree, -1, "", ~0U); /* unknown flags */
	case HUSK_SYS_MOVE_MOUNT:
		return syscall(SYS_move_mount, -1, "", -1, "", ~0U);
	case HUSK_SYS_MOUNT_SETATTR:
		return syscall(SYS_mount_setattr, -1, "", ~0U, NULL, (size_t)0);
	case HUSK_SYS_FSOPEN:
		return syscall(SYS_fsopen, "", ~0U);
	case HUSK_SYS_FSCONFIG:
		return syscall(SYS_fsconfig, -1, ~0U, NULL, NULL, 0); /* no fd */
	case HUSK_SYS_FSMOUNT:
		return syscall(SYS_fsmount, -1, ~0U, 0U);
	case HUSK_SYS_PIDFD_OPEN:
		return syscall(SYS_pidfd_open, 0, ~0U); /* pid 0 */
	case HUSK_SYS_PIDFD_SEND_SIGNAL:
		return syscall(SYS_pidfd_send_signal, -1, 0, NULL, ~0U);
	default:
		errno = EINVAL;
		return -1;
	}
}

bool husk__sys_have(enum husk_sys s)
{
	if ((unsigned)s >= _HUSK_SYS_MAX)
		return false;
	if (have[s] == 0) {
		int saved = errno;
		long r = probe(s);
		have[s] = (r < 0 && errno == ENOSYS) ? -1 : 1;
		errno = saved;
	}
	return have[s] > 0;
}

int husk__sys_missing(enum husk_sys s, struct husk_err *err)
{
	return husk_err_set(err, HUSK_ERR_INTERNAL, ENOSYS, "husk needs %s(2) (Linux %s or later)",
			    husk__sys_name(s), husk__sys_since(s));
}

int husk__kernel_check(uint64_t clone_flags, struct husk_err *err)
{
	for (unsigned s = 0; s < _HUSK_SYS_MAX; s++)
		if (!sys_table[s].fallback && !husk__sys_have((enum husk_sys)s))
			return husk__sys_missing((enum husk_sys)s, err);
	if ((clone_flags & CLONE_NEWTIME) && !husk__sys_have(HUSK_SYS_CLONE3))
		return husk_err_set(
			err, HUSK_ERR_INTERNAL, ENOSYS,
			"husk needs clone3(2) (Linux 5.3 or later) for a time namespace");
	return 0;
}

/* ---- clone ----------------------------------------------------------------------------- */

/* pidfd_at: where the kernel stores the child's pidfd (CLONE_PIDFD). */
static pid_t clone3_call(uint64_t flags, uint64_t pidfd_at, int cgroup_fd)
{
	struct clone_args args;
	size_t size = CLONE_ARGS_SIZE_VER0;

	memset(&args, 0, sizeof(args));
	args.flags = flags;
	args.pidfd = pidfd_at;
	/* With CLONE_PARENT the kernel takes our own exit signal and refuses any other. */
	args.exit_signal = (flags & CLONE_PARENT) ? 0 : SIGCHLD;
	if (flags & CLONE_INTO_CGROUP) {
		args.cgroup = (uint64_t)cgroup_fd;
		size = CLONE_ARGS_SIZE_VER2;
	}
	return (pid_t)syscall(SYS_clone3, &args, size);
}

static pid_t clone_call(uint64_t flags, int *ret_pidfd)
{
	int pidfd = -1;

	/* clone(2)'s flags are 32 bits whose low byte is the exit signal: it has no
	 * CLONE_INTO_CGROUP (bit 33) and no CLONE_NEWTIME (0x80, which is clone3's alone). */
	if ((flags >> 32) != 0 || (flags & CSIGNAL) != 0) {
		errno = ENOSYS;
		return -1;
	}
	unsigned long cflags = (unsigned long)flags | ((flags & CLONE_PARENT) ? 0UL : SIGCHLD);
	int *parent_tid = (flags & CLONE_PIDFD) ? &pidfd : NULL;
	/* No stack: fork semantics. CLONE_PIDFD stores the pidfd where the parent's tid would
	 * go, the third argument everywhere but s390, whose first two are swapped. */
#if defined(__s390__)
	pid_t pid = (pid_t)syscall(SYS_clone, 0UL, cflags, parent_tid, NULL, 0UL);
#else
	pid_t pid = (pid_t)syscall(SYS_clone, cflags, 0UL, parent_tid, NULL, 0UL);
#endif
	if (pid > 0 && ret_pidfd)
		*ret_pidfd = pidfd;
	return pid;
}

pid_t husk__clone3_into(uint64_t flags, int *ret_pidfd, int cgroup_fd)
{
	if (ret_pidfd)
		*ret_pidfd = -1; /* until the kernel stores the child's pidfd (CLONE_PIDFD) */
	if (have[HUSK_SYS_CLONE3] >= 0) {
		pid_t pid = clone3_call(flags, (uint64_t)(uintptr_t)ret_pidfd, cgroup_fd);
		if (pid >= 0 || errno != ENOSYS)
			return pid;
		have[HUSK_SYS_CLONE3] = -1;
	}
	return clone_call(flags, ret_pidfd);
}

pid_t husk__clone3(uint64_t flags, int *ret_pidfd)
{
	return husk__clone3_into(flags, ret_pidfd, -1);
}

/* ---- close_range ------------------------------------------------------------------------ */

/* Ranges this short are closed number by number: cheaper than reading /proc. */
#define CLOSE_EACH_MAX 256

static void close_one(int fd, unsigned flags)
{
	if (flags & CLOSE_RANGE_CLOEXEC) {
		int f = fcntl(fd, F_GETFD);
		if (f >= 0 && !(f & FD_CLOEXEC))
			(void)fcntl(fd, F_SETFD, f | FD_CLOEXEC);
		return;
	}
	(void)close(fd);
}

static void close_each(unsigned first, unsigned last, unsigned flags)
{
	for (unsigned fd = first; fd <= last && fd <= (unsigned)INT32_MAX; fd++) {
		close_one((int)fd, flags);
		if (fd == last)
			break;
	}
}

/* The decimal fd number of a /proc/self/fd entry; -1 for "." and "..". */
static long fd_number(const char *name)
{
	long fd = 0;

	if (!*name)
		return -1;
	for (const char *c = name; *c; c++) {
		if (*c < '0' || *c > '9' || fd > INT32_MAX / 10)
			return -1;
		fd = fd * 10 + (*c - '0');
	}
	return fd;
}

/* Every open fd in the range, as /proc/self/fd lists them (getdents64 on a stack buffer:
 * no allocation). 0, or -1 with errno when /proc cannot be read. */
static int close_listed(unsigned first, unsigned last, unsigned flags)
{
	char buf[4096];
	int dir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dir < 0)
		return -1;
	for (;;) {
		long n = syscall(SYS_getdents64, dir, buf, sizeof(buf));
		if (n <= 0) {
			int saved = errno;
			(void)close(dir);
			errno = saved;
			return n == 0 ? 0 : -1;
		}
		/* The listing goes by fd number: closing listed ones does not disturb it. */
		for (long off = 0; off < n;) {
			const char *ent = buf + off;
			unsigned short reclen;
			memcpy(&reclen, ent + offsetof(struct dirent64, d_reclen), sizeof(reclen));
			long fd = fd_number(ent + offsetof(struct dirent64, d_name));
			off += reclen;
			if (fd >= 0 && fd != dir && (unsigned long)fd >= first &&
			    (unsigned long)fd <= last)
				close_one((int)fd, flags);
		}
	}
}

int husk_close_range(unsigned first, unsigned last, unsigned flags)
{
	if (first > last || (flags & ~(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC))) {
		errno = EINVAL;
		return -1;
	}
	if (have[HUSK_SYS_CLOSE_RANGE] >= 0) {
		if (syscall(SYS_close_range, first, last, flags) == 0)
			return 0;
		if (errno != ENOSYS)
			return -1;
		have[HUSK_SYS_CLOSE_RANGE] = -1;
	}
	if ((flags & CLOSE_RANGE_UNSHARE) && unshare(CLONE_FILES) < 0)
		return -1;
	if (last - first < CLOSE_EACH_MAX) {
		close_each(first, last, flags);
		return 0;
	}
	if (close_listed(first, last, flags) == 0)
		return 0;
	/* No /proc (a container without it, or one of another pid namespace): every number
	 * up to the hard limit, above which no fd can be opened. */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -1;
	if (rl.rlim_max == 0)
		return 0;
	rlim_t top = rl.rlim_max - 1;
	close_each(first, top < last ? (unsigned)top : last, flags);
	return 0;
}

/* ---- the others: no fallback ---------------------------------------------------------- */

int husk__openat2(int dirfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve)
{
	struct open_how how = {.flags = flags, .mode = mode, .resolve = resolve};

	return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

int husk__open_tree(int dfd, const char *path, unsigned flags)
{
	return open_tree(dfd, path, flags);
}

int husk__move_mount(int from_dfd, const char *from_path, int to_dfd, const char *to_path,
		     unsigned flags)
{
	return move_mount(from_dfd, from_path, to_dfd, to_path, flags);
}

int husk__mount_setattr(int dfd, const char *path, unsigned flags, struct mount_attr *attr,
			size_t size)
{
	return mount_setattr(dfd, path, flags, attr, size);
}

int husk__fsopen(const char *fstype, unsigned flags)
{
	return fsopen(fstype, flags);
}

int husk__fsconfig(int fd, unsigned cmd, const char *key, const void *value, int aux)
{
	return fsconfig(fd, cmd, key, value, aux);
}

int husk__fsmount(int fd, unsigned flags, unsigned attr_flags)
{
	return fsmount(fd, flags, attr_flags);
}

int husk__pidfd_open(pid_t pid, unsigned flags)
{
	return (int)syscall(SYS_pidfd_open, pid, flags);
}

int husk__pidfd_send_signal(int pidfd, int sig, unsigned flags)
{
	return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, flags);
}

int husk__pivot_root(const char *new_root, const char *put_old)
{
	return (int)syscall(SYS_pivot_root, new_root, put_old);
}
