/*
 * Kernel interfaces the shim and the runtime share, with their fallbacks. The other
 * syscalls husk needs, and which kernel has each, are in runtime/src/syscalls.h and the
 * README's "Kernel and security modules".
 */
#pragma once

#ifndef CLOSE_RANGE_UNSHARE
#define CLOSE_RANGE_UNSHARE (1U << 1)
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/*
 * close_range(2) (Linux 5.9): close every fd in [first, last], or with CLOSE_RANGE_CLOEXEC
 * mark each close-on-exec. Where the kernel refuses it (ENOSYS: an older kernel, a seccomp
 * profile), the fds are found in /proc/self/fd and closed one by one; without /proc, every
 * number up to the hard RLIMIT_NOFILE is tried. 0, or -1 with errno. Async-signal-safe.
 */
int husk_close_range(unsigned first, unsigned last, unsigned flags);
