#include "address.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "husk/cleanup.h"
#include "husk/err.h"
#include "sha256.h"

int shim_address_derive(const char *dir, const struct shim_address_key *key, char *buf, size_t size,
			struct husk_err *err)
{
	struct shim_sha256 s;
	uint8_t digest[SHIM_SHA256_SIZE];
	char hex[2 * SHIM_SHA256_SIZE + 1];

	if (!dir)
		dir = SHIM_SOCKET_DIR;
	shim_sha256_init(&s);
	shim_sha256_update(&s, key->grpc_address, strlen(key->grpc_address));
	shim_sha256_update(&s, "/", 1);
	shim_sha256_update(&s, key->ns, strlen(key->ns));
	shim_sha256_update(&s, "/", 1);
	shim_sha256_update(&s, key->group_id, strlen(key->group_id));
	shim_sha256_final(&s, digest);
	for (unsigned i = 0; i < SHIM_SHA256_SIZE; i++)
		(void)snprintf(hex + (size_t)2 * i, 3, "%02x", digest[i]);

	int n = snprintf(buf, size, SHIM_ADDRESS_PREFIX "%s/%s", dir, hex);
	if (n < 0 || (size_t)n >= size ||
	    (size_t)n - (sizeof(SHIM_ADDRESS_PREFIX) - 1) > SHIM_SOCKET_PATH_MAX)
		return husk_err_set(err, HUSK_ERR_INVALID, ENAMETOOLONG,
				    "socket path under '%s' is too long", dir);
	return 0;
}

const char *shim_address_path(const char *address)
{
	size_t n = sizeof(SHIM_ADDRESS_PREFIX) - 1;

	if (!address || strncmp(address, SHIM_ADDRESS_PREFIX, n) != 0 || address[n] != '/')
		return NULL;
	return address + n;
}

int shim_address_file_write(int dirfd, const char *address, struct husk_err *err)
{
	size_t len = strlen(address);
	_cleanup_close_ int fd = openat(
		dirfd, ".address", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return husk_err_errno(err, errno, "create '.address'");
	if (write(fd, address, len) != (ssize_t)len)
		return husk_err_errno(err, errno ? errno : EIO, "write '.address'");
	if (renameat(dirfd, ".address", dirfd, "address") < 0) {
		int r = husk_err_errno(err, errno, "rename '.address' to 'address'");
		(void)unlinkat(dirfd, ".address", 0);
		return r;
	}
	return 0;
}

int shim_address_file_read(int dirfd, char *buf, size_t size, struct husk_err *err)
{
	_cleanup_close_ int fd = openat(dirfd, "address", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			return husk_err_set(err, HUSK_ERR_NOT_FOUND, ENOENT, "read 'address'");
		return husk_err_errno(err, errno, "open 'address'");
	}
	ssize_t n = read(fd, buf, size - 1);
	if (n < 0)
		return husk_err_errno(err, errno, "read 'address'");
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}

static int sockaddr_set(struct sockaddr_un *sa, const char *path)
{
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, path, len + 1);
	return 0;
}

bool shim_socket_alive(const char *path, int timeout_ms)
{
	struct sockaddr_un sa;

	if (sockaddr_set(&sa, path) < 0)
		return false;
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return false;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return true;
	if (errno != EAGAIN && errno != EINPROGRESS)
		return false;
	/* A full backlog: wait a little for the server to accept. */
	struct pollfd p = {.fd = fd, .events = POLLOUT};
	if (poll(&p, 1, timeout_ms) <= 0)
		return false;
	int soerr = 0;
	socklen_t sl = sizeof(soerr);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr != 0)
		return false;
	return true;
}

static int mkdir_parent(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	const char *slash = strrchr(path, '/');

	if (!slash || slash == path)
		return 0;
	size_t n = (size_t)(slash - path);
	if (n >= sizeof(dir))
		return -ENAMETOOLONG;
	memcpy(dir, path, n);
	dir[n] = '\0';
	/* The runc shim creates it 0600; 0700 is as private and searchable by its owner. */
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/*
 * Bind and listen under a private name first, then link() it into place: link fails with
 * EEXIST instead of replacing, so two concurrent `start`s of one sandbox cannot unlink each
 * other's live socket (the loser finds the winner already listening).
 */
int shim_socket_listen(const char *path, struct husk_err *err)
{
	struct sockaddr_un sa;
	char tmp[sizeof(sa.sun_path)];
	int r;

	if (strlen(path) > SHIM_SOCKET_PATH_MAX ||
	    snprintf(tmp, sizeof(tmp), "%s.%d", path, (int)getpid()) >= (int)sizeof(tmp) ||
	    sockaddr_set(&sa, tmp) < 0)
		return husk_err_set(err, HUSK_ERR_INVALID, ENAMETOOLONG, "socket path '%s'", path);
	r = mkdir_parent(path);
	if (r < 0)
		return husk_err_errno(err, -r, "create the directory of '%s'", path);

	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return husk_err_errno(err, errno, "socket");
	(void)unlink(tmp);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return husk_err_errno(err, errno, "bind '%s'", tmp);
	if (chmod(tmp, 0600) < 0 || listen(fd, SOMAXCONN) < 0) {
		r = husk_err_errno(err, errno, "listen on '%s'", tmp);
		(void)unlink(tmp);
		return r;
	}
	if (link(tmp, path) < 0) {
		if (errno != EEXIST) {
			r = husk_err_errno(err, errno, "link '%s'", path);
			(void)unlink(tmp);
			return r;
		}
		if (shim_socket_alive(path, 100)) {
			(void)unlink(tmp);
			return husk_err_set(err, HUSK_ERR_EXISTS, EADDRINUSE,
					    "a shim already listens on '%s'", path);
		}
		/* Stale (its server is gone): replace it atomically. */
		if (rename(tmp, path) < 0) {
			r = husk_err_errno(err, errno, "replace stale socket '%s'", path);
			(void)unlink(tmp);
			return r;
		}
		return TAKE_FD(fd);
	}
	(void)unlink(tmp);
	return TAKE_FD(fd);
}
