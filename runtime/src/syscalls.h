/*
 * The one place husk makes each syscall of the kernel's new clone, open, mount and pidfd
 * interfaces (runtime/src/syscalls.c; close_range is husk_close_range() in husk/kernel.h,
 * for the shim too). Every wrapper returns what the syscall returns (-1 with errno set) and
 * is async-signal-safe: forked children call them.
 *
 * A kernel older than a syscall, or a seccomp profile that refuses it (Docker's default
 * refuses clone3), makes it fail with ENOSYS. Where a fallback keeps husk's guarantees the
 * wrapper takes it:
 *   clone3       → clone(2) with CLONE_PIDFD, a pidfd from birth all the same. Without
 *                  clone3 there is no CLONE_INTO_CGROUP either: children join the unified
 *                  cgroup by writing cgroup.procs themselves (husk__cgroup_join_open()).
 *   close_range  → each open fd of the range, found in /proc/self/fd, closed (or marked
 *                  close-on-exec) one by one.
 * The others have none: husk__kernel_check() finds a missing one before anything of a
 * container exists, and the error names the syscall and the kernel it needs.
 */
#pragma once

#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <linux/openat2.h>
#include <linux/sched.h>
#include <sys/mount.h>
#include <sys/pidfd.h>
#include <sys/syscall.h>
#include <sys/types.h>

#include "husk/kernel.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

struct husk_err;

/* The syscalls husk needs, in the order husk__kernel_check() probes them. */
enum husk_sys {
	HUSK_SYS_CLONE3,
	HUSK_SYS_CLOSE_RANGE,
	HUSK_SYS_OPENAT2,
	HUSK_SYS_OPEN_TREE,
	HUSK_SYS_MOVE_MOUNT,
	HUSK_SYS_MOUNT_SETATTR,
	HUSK_SYS_FSOPEN,
	HUSK_SYS_FSCONFIG,
	HUSK_SYS_FSMOUNT,
	HUSK_SYS_PIDFD_OPEN,
	HUSK_SYS_PIDFD_SEND_SIGNAL,
	_HUSK_SYS_MAX,
};

/* "open_tree", and the first kernel that has it ("5.2"). NULL outside the enum. */
const char *husk__sys_name(enum husk_sys s);
const char *husk__sys_since(enum husk_sys s);

/*
 * Whether the kernel answers s (anything but ENOSYS), probed once per process with
 * arguments it refuses before doing anything; later calls return the cached answer.
 */
bool husk__sys_have(enum husk_sys s);

/*
 * The error for a syscall husk cannot do without: HUSK_ERR_INTERNAL, errno ENOSYS,
 * "husk needs open_tree(2) (Linux 5.2 or later)" (+ ": Function not implemented").
 * Returns -ENOSYS.
 */
int husk__sys_missing(enum husk_sys s, struct husk_err *err);

/*
 * Before the native engine creates anything: every syscall without a fallback is there,
 * and clone_flags (the container's CLONE_NEW*) can be had without clone3 if it is missing
 * (a time namespace cannot: clone(2) has no bit for it). 0, or husk__sys_missing()'s error.
 */
int husk__kernel_check(uint64_t clone_flags, struct husk_err *err);

/*
 * clone3 without a stack: fork semantics (the child returns 0 on a copy of the stack).
 * flags are CLONE_* (namespaces, CLONE_PIDFD, CLONE_PARENT); *ret_pidfd is set with
 * CLONE_PIDFD (born O_CLOEXEC), -1 otherwise. The exit signal is SIGCHLD unless
 * CLONE_PARENT is given (the child then signals our parent as we would). With
 * CLONE_INTO_CGROUP (husk__clone3_into()) the child is born in the cgroup2 dirfd
 * cgroup_fd. Without clone3: clone(2) with the same flags, except that CLONE_INTO_CGROUP
 * and CLONE_NEWTIME fail with ENOSYS (callers ask husk__sys_have() first).
 */
pid_t husk__clone3_into(uint64_t flags, int *ret_pidfd, int cgroup_fd);
pid_t husk__clone3(uint64_t flags, int *ret_pidfd);

int husk__openat2(int dirfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve);

/* As the glibc functions of the same names (sys/mount.h). */
int husk__open_tree(int dfd, const char *path, unsigned flags);
int husk__move_mount(int from_dfd, const char *from_path, int to_dfd, const char *to_path,
		     unsigned flags);
int husk__mount_setattr(int dfd, const char *path, unsigned flags, struct mount_attr *attr,
			size_t size);
int husk__fsopen(const char *fstype, unsigned flags);
int husk__fsconfig(int fd, unsigned cmd, const char *key, const void *value, int aux);
int husk__fsmount(int fd, unsigned flags, unsigned attr_flags);

int husk__pidfd_open(pid_t pid, unsigned flags);
int husk__pidfd_send_signal(int pidfd, int sig, unsigned flags);

int husk__pivot_root(const char *new_root, const char *put_old);
