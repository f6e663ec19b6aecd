#include "syscalls.h"

#include <errno.h>

/* 0: not known yet; 1: the kernel answers it; -1: ENOSYS. Per process; children inherit
 * what their parent learnt, and a seccomp filter is inherited with it. */
static signed char have[_HUSK_SYS_MAX];

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

int husk_close_range(unsigned first, unsigned last, unsigned flags)
{
	return (int)syscall(SYS_close_range, first, last, flags);
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
