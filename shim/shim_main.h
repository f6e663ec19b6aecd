/* The actions of containerd-shim-husk-v2, one per file; main.c dispatches. */
#pragma once

#include "flags.h"

/* The version banner of -v; also RuntimeInfo.version. */
#define SHIM_RUNTIME_NAME "io.containerd.husk.v2"
#ifndef HUSK_VERSION
#define HUSK_VERSION "0.0.0"
#endif

/*
 * The daemon's glibc tunables (start.c says why), and the variable that carries the
 * operator's own GLIBC_TUNABLES ("" when unset) to the daemon, which restores it.
 */
#define SHIM_TUNABLES	    "glibc.malloc.tcache_count=0"
#define SHIM_TUNABLES_SAVED "HUSK_SHIM_GLIBC_TUNABLES"

/* `start`: print the address of the shim serving this container's sandbox. Exit code. */
int shim_start_main(const struct shim_flags *f);

/* `delete`: clean up a container from its state file; DeleteResponse on stdout. */
int shim_delete_main(const struct shim_flags *f);

/* No action: the daemon. */
int shim_serve_main(const struct shim_flags *f);

/* -info: a serialized containerd.types.RuntimeInfo on stdout. */
int shim_info_main(const struct shim_flags *f);

/* Read all of fd (bounded by max) into a malloc'ed buffer; -EFBIG beyond max. */
int shim_read_all(int fd, size_t max, uint8_t **ret, size_t *ret_len);

/* Write all of buf to fd (blocking fd). */
int shim_write_all(int fd, const void *buf, size_t len);
