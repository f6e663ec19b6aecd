/*
 * The cleanup helpers libhusk-ttrpc needs. This is a deliberate copy of the two helpers and
 * TAKE_* macros of runtime/include/husk/cleanup.h (STYLE.md §2, §5): ttrpc is an independent
 * library and must not include husk/ headers, and twenty duplicated lines are cheaper than
 * a shared dependency.
 */
#pragma once

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f)	__attribute__((cleanup(f)))
#define _cleanup_free_	_cleanup_(ttrpc__freep)
#define _cleanup_close_ _cleanup_(ttrpc__closep)

#define TAKE_PTR(p)                 \
	({                          \
		typeof(p) _p = (p); \
		(p) = NULL;         \
		_p;                 \
	})
#define TAKE_FD(fd)             \
	({                      \
		int _fd = (fd); \
		(fd) = -1;      \
		_fd;            \
	})

static inline void ttrpc__freep(void *p)
{
	free(*(void **)p);
}

/* Closes fd >= 0 (keeping errno), leaving -1 behind. */
static inline void ttrpc__closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		(void)close(*fd);
		errno = saved;
	}
	*fd = -1;
}
