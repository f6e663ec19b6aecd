#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "address.h"
#include "husk/err.h"
#include "sha256.h"
#include "testutil.h"

Test(sha256, fips_vectors)
{
	char hex[65];

	shim_sha256_hex("", 0, hex);
	cr_assert(eq(str, hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
	shim_sha256_hex("abc", 3, hex);
	cr_assert(eq(str, hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
	const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	shim_sha256_hex(m, strlen(m), hex);
	cr_assert(eq(str, hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"));
}

Test(sha256, million_a_in_odd_chunks)
{
	struct shim_sha256 s;
	uint8_t d[32];
	char chunk[997];
	char hex[65];
	size_t left = 1000000;

	memset(chunk, 'a', sizeof(chunk));
	shim_sha256_init(&s);
	while (left > 0) {
		size_t n = left < sizeof(chunk) ? left : sizeof(chunk);
		shim_sha256_update(&s, chunk, n);
		left -= n;
	}
	shim_sha256_final(&s, d);
	for (int i = 0; i < 32; i++)
		(void)snprintf(hex + 2 * i, 3, "%02x", d[i]);
	cr_assert(eq(str, hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"));
}

Test(sha256, padding_boundaries_55_56_64)
{
	char hex[65];
	char buf[64];

	memset(buf, 'a', sizeof(buf));
	shim_sha256_hex(buf, 55, hex);
	cr_assert(eq(str, hex, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"));
	shim_sha256_hex(buf, 56, hex);
	cr_assert(eq(str, hex, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"));
	shim_sha256_hex(buf, 64, hex);
	cr_assert(eq(str, hex, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"));
}

/* Golden vector observed with containerd 1.6.20 and the runc shim (protocol.md 2.4). */
Test(address, derivation_matches_runc_shim)
{
	char buf[SHIM_ADDRESS_MAX];

	struct shim_address_key key = {
		.grpc_address = "/tmp/research-proto/cd/containerd.sock",
		.ns = "probens",
		.group_id = "rc1",
	};

	cr_assert(eq(int, shim_address_derive(NULL, &key, buf, sizeof(buf), NULL), 0));
	cr_assert(eq(str, buf,
		     "unix:///run/containerd/s/"
		     "09e7c4da5a8a3ea09c22d9a29cf506693d744a165c2dec7e0e3a66fbb1060ecc"));
	cr_assert(eq(str, (char *)shim_address_path(buf),
		     "/run/containerd/s/"
		     "09e7c4da5a8a3ea09c22d9a29cf506693d744a165c2dec7e0e3a66fbb1060ecc"));
	cr_assert(eq(int, (int)strlen(buf), 89));
}

Test(address, too_long_directory_is_refused)
{
	char buf[512];
	char dir[100];
	struct husk_err err = {0};
	struct shim_address_key key = {.grpc_address = "/a", .ns = "n", .group_id = "i"};

	memset(dir, 'd', sizeof(dir) - 1);
	dir[0] = '/';
	dir[sizeof(dir) - 1] = '\0';
	cr_assert(lt(int, shim_address_derive(dir, &key, buf, sizeof(buf), &err), 0));
	cr_assert(eq(int, err.kind, HUSK_ERR_INVALID));
	cr_assert(lt(int, shim_address_derive(NULL, &key, buf, 40, NULL), 0));
}

Test(address, path_of_address)
{
	cr_assert_null(shim_address_path("/run/x"));
	cr_assert_null(shim_address_path("unix://relative"));
	cr_assert_null(shim_address_path(NULL));
	cr_assert(eq(str, (char *)shim_address_path("unix:///x/y"), "/x/y"));
}

Test(address, file_is_written_atomically_without_newline)
{
	char *dir = testutil_tmpdir("addr");
	int dfd = open(dir, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	char buf[256];
	char path[512];

	cr_assert(ge(int, dfd, 0));
	cr_assert(eq(int, shim_address_file_write(dfd, "unix:///run/containerd/s/abc", NULL), 0));
	(void)snprintf(path, sizeof(path), "%s/address", dir);
	char *content = testutil_read_file(path);
	cr_assert(eq(str, content, "unix:///run/containerd/s/abc"));
	free(content);
	/* Overwrite with a shorter one: no trailing bytes of the old content remain. */
	cr_assert(eq(int, shim_address_file_write(dfd, "unix:///x", NULL), 0));
	cr_assert(eq(int, shim_address_file_read(dfd, buf, sizeof(buf), NULL), 0));
	cr_assert(eq(str, buf, "unix:///x"));
	(void)snprintf(path, sizeof(path), "%s/.address", dir);
	cr_assert(ne(int, access(path, F_OK), 0), "temp file left behind");
	struct stat st;
	(void)snprintf(path, sizeof(path), "%s/address", dir);
	cr_assert(eq(int, stat(path, &st), 0));
	(void)close(dfd);
	testutil_rmtree_free(dir);
}

Test(address, read_missing_file_is_not_found)
{
	char *dir = testutil_tmpdir("addr");
	int dfd = open(dir, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	char buf[64];
	struct husk_err err = {0};

	cr_assert(lt(int, shim_address_file_read(dfd, buf, sizeof(buf), &err), 0));
	cr_assert(eq(int, err.kind, HUSK_ERR_NOT_FOUND));
	(void)close(dfd);
	testutil_rmtree_free(dir);
}

Test(socket, listen_detects_live_and_replaces_stale)
{
	char *dir = testutil_tmpdir("sock");
	char path[256];
	struct husk_err err = {0};
	struct stat st;

	(void)snprintf(path, sizeof(path), "%s/sub/s", dir);
	int fd = shim_socket_listen(path, &err);
	cr_assert(ge(int, fd, 0), "%s", err.msg);
	cr_assert(eq(int, stat(path, &st), 0));
	cr_assert(eq(int, (int)(st.st_mode & 0777), 0600));
	cr_assert(shim_socket_alive(path, 100));

	/* A second listener on the same path sees the live one. */
	cr_assert(eq(int, shim_socket_listen(path, &err), -EADDRINUSE));
	cr_assert(eq(int, err.kind, HUSK_ERR_EXISTS));

	/* Close the listener: the file stays behind, stale; listen replaces it. */
	cr_assert(eq(int, close(fd), 0));
	cr_assert(eq(int, stat(path, &st), 0));
	cr_assert_not(shim_socket_alive(path, 100));
	fd = shim_socket_listen(path, &err);
	cr_assert(ge(int, fd, 0), "%s", err.msg);
	cr_assert(shim_socket_alive(path, 100));
	cr_assert(eq(int, close(fd), 0));
	cr_assert(eq(int, unlink(path), 0));
	cr_assert_not(shim_socket_alive(path, 100));
	testutil_rmtree_free(dir);
}

Test(socket, listener_fd_is_cloexec)
{
	char *dir = testutil_tmpdir("sock");
	char path[256];

	(void)snprintf(path, sizeof(path), "%s/s", dir);
	int fd = shim_socket_listen(path, NULL);
	cr_assert(ge(int, fd, 0));
	cr_assert(ne(int, fcntl(fd, F_GETFD) & FD_CLOEXEC, 0));
	(void)close(fd);
	testutil_rmtree_free(dir);
}
