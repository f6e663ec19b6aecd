/* Cleanup attributes and ownership-transfer helpers (kernel cleanup.h, systemd). */
#pragma once

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f)	   __attribute__((cleanup(f)))
#define _cleanup_free_	   _cleanup_(husk_freep)
#define _cleanup_close_	   _cleanup_(husk_closep)
#define _cleanup_fclose_   _cleanup_(husk_fclosep)
#define _cleanup_closedir_ _cleanup_(husk_closedirp)
#define _unused_	   __attribute__((unused))

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

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static inline void husk_freep(void *p)
{
	free(*(void **)p);
}

/* Close an fd > 2 and keep errno; closing 0..2 by accident is a bug we refuse. */
static inline int husk_safe_close(int fd)
{
	if (fd > 2) {
		int saved = errno;
		(void)close(fd);
		errno = saved;
	}
	return -1;
}

static inline void husk_closep(int *fd)
{
	*fd = husk_safe_close(*fd);
}

static inline void husk_fclosep(FILE **f)
{
	if (*f)
		(void)fclose(*f);
	*f = NULL;
}

static inline void husk_closedirp(DIR **d)
{
	if (*d)
		(void)closedir(*d);
	*d = NULL;
}
