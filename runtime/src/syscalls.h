/*
 * Raw wrappers for the syscalls glibc 2.36 does not wrap (openat2, clone3, pivot_root) and
 * the includes of those it does (open_tree, move_mount, mount_setattr, fsopen/fsconfig/
 * fsmount, close_range, pidfd_*). All return what the syscall returns: -1 with errno set.
 * Async-signal-safe: usable in forked children.
 */
#pragma once

#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <linux/openat2.h>
#include <linux/sched.h>
#include <sys/mount.h>
#include <sys/pidfd.h>
#include <sys/syscall.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static inline int husk__openat2(int dirfd, const char *path, uint64_t flags, uint64_t mode,
				uint64_t resolve)
{
	struct open_how how = {.flags = flags, .mode = mode, .resolve = resolve};

	return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

/*
 * clone3 without a stack: fork semantics (the child returns 0 on a copy of the stack).
 * flags are CLONE_* (namespaces, CLONE_PIDFD, CLONE_PARENT); *ret_pidfd is set with
 * CLONE_PIDFD (born O_CLOEXEC). exit_signal is SIGCHLD unless CLONE_PARENT is given, in
 * which case the kernel uses the caller's own exit signal and requires 0 here. With
 * CLONE_INTO_CGROUP (husk__clone3_into()), the child is born in the cgroup2 dirfd cgroup_fd.
 */
static inline pid_t husk__clone3_into(uint64_t flags, int *ret_pidfd, int cgroup_fd)
{
	struct clone_args args;

	if (ret_pidfd)
		*ret_pidfd = -1; /* until the kernel stores the child's pidfd (CLONE_PIDFD) */
	memset(&args, 0, sizeof(args));
	args.flags = flags;
	args.pidfd = (uint64_t)(uintptr_t)ret_pidfd;
	args.exit_signal = (flags & CLONE_PARENT) ? 0 : SIGCHLD;
	if (flags & CLONE_INTO_CGROUP)
		args.cgroup = (uint64_t)cgroup_fd;
	return (pid_t)syscall(SYS_clone3, &args, sizeof(args));
}

static inline pid_t husk__clone3(uint64_t flags, int *ret_pidfd)
{
	return husk__clone3_into(flags, ret_pidfd, -1);
}

static inline int husk__pivot_root(const char *new_root, const char *put_old)
{
	return (int)syscall(SYS_pivot_root, new_root, put_old);
}
