/* The shim's socket address: derivation, the bundle's address file, listening and probing. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct husk_err;

/* Where every shim socket lives, whatever containerd's state dir is (protocol.md 2.4). */
#define SHIM_SOCKET_DIR	    "/run/containerd/s"
#define SHIM_ADDRESS_PREFIX "unix://"
/* sun_path is 108 bytes; containerd's library refuses paths longer than 106. */
#define SHIM_SOCKET_PATH_MAX 106
#define SHIM_ADDRESS_MAX     (sizeof(SHIM_ADDRESS_PREFIX) - 1 + SHIM_SOCKET_PATH_MAX + 1)

/* What a shim's socket name is derived from (all borrowed). */
struct shim_address_key {
	const char *grpc_address; /* containerd's -address */
	const char *ns;		  /* -namespace */
	const char *group_id;	  /* the sandbox's id, or the task's own */
};

/*
 * "unix://<dir>/" + hex(sha256("<grpc_address>/<namespace>/<group_id>")), as the runc shim
 * derives it, into buf. dir NULL means SHIM_SOCKET_DIR. HUSK_ERR_INVALID when it does not
 * fit (or the socket path would be longer than SHIM_SOCKET_PATH_MAX).
 */
int shim_address_derive(const char *dir, const struct shim_address_key *key, char *buf, size_t size,
			struct husk_err *err);

/* The filesystem path of a "unix://" address (a pointer into address); NULL otherwise. */
const char *shim_address_path(const char *address);

/*
 * Write <dirfd>/address atomically (".address" then rename), with no trailing newline.
 * containerd reads it on restart to reconnect.
 */
int shim_address_file_write(int dirfd, const char *address, struct husk_err *err);

/* Read <dirfd>/address into buf (NUL-terminated). HUSK_ERR_NOT_FOUND when absent. */
int shim_address_file_read(int dirfd, char *buf, size_t size, struct husk_err *err);

/*
 * True when something accepts connections on the unix socket at path (a live shim).
 * Non-blocking connect: a socket whose listener is gone (ECONNREFUSED), a missing file or
 * a full backlog that does not clear within timeout_ms counts as not alive.
 */
bool shim_socket_alive(const char *path, int timeout_ms);

/*
 * Bind and listen on a filesystem unix socket at path (mkdir of its directory if missing,
 * socket chmod 0600). Returns the listening fd (O_CLOEXEC, blocking) or:
 *  -EADDRINUSE with HUSK_ERR_EXISTS when a live server already listens there;
 *  other negative errno with HUSK_ERR_INTERNAL.
 * A stale socket file (no listener) is replaced atomically. The socket is bound under a
 * private name and link()ed into place, so concurrent callers never remove a live one.
 */
int shim_socket_listen(const char *path, struct husk_err *err);
