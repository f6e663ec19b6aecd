/* The client: queued calls before connect, timeouts, failures, close, odd increasing ids. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/socket.h>
#include <sys/un.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "envelope.h"
#include "test_ttrpc_util.h"
#include "testutil.h"

TestSuite(ttrpc_client, .timeout = 60);

Test(ttrpc_client, per_call_timeout)
{
	struct tt_env e;
	struct tt_result r;
	struct ttrpc_client *c = NULL;

	tt_env_setup(&e, NULL);
	cr_assert(eq(int, ttrpc_client_new(&e.loop, e.path, &c), 0));
	/* connected first, so that the Hang request reaches the server before it times out */
	tt_call_sync(&e.loop, c, TT_SERVICE, "Echo", NULL, 0, 0, &r);
	cr_assert(eq(int, r.err, 0));
	tt_call_sync(&e.loop, c, TT_SERVICE, "Hang", NULL, 0, 40, &r);
	cr_assert(eq(int, r.err, -ETIMEDOUT));
	/* the late DeadlineExceeded from the server is dropped; the client still works */
	tt_call_sync(&e.loop, c, TT_SERVICE, "Echo", "x", 1, 5000, &r);
	cr_assert(eq(int, r.err, 0));
	cr_assert(eq(u32, r.code, 0));
	tt_result_free(&r);
	cr_assert(not(ttrpc_client_dead(c)));
	ttrpc_client_close(c, NULL, NULL);
	tt_env_teardown(&e);
	cr_assert(eq(sz, e.n_cancelled, 1), "the server's deadline cancelled its call too");
}

Test(ttrpc_client, server_going_away_fails_pending_calls)
{
	struct tt_env e;
	struct tt_result r[3] = {0};
	struct ttrpc_client *c = NULL;

	tt_env_setup(&e, NULL);
	cr_assert(eq(int, ttrpc_client_new(&e.loop, e.path, &c), 0));
	for (size_t i = 0; i < 3; i++)
		cr_assert(eq(int,
			     ttrpc_client_call(c,
					       &(struct ttrpc_client_request){.service = TT_SERVICE,
									      .method = "Hang"},
					       tt_result_cb, &r[i]),
			     0));
	while (e.n_kept < 3)
		(void)uv_run(&e.loop, UV_RUN_ONCE);
	tt_env_close_server(&e, 0);
	for (size_t i = 0; i < 3; i++) {
		cr_assert(tt_run_until(&e.loop, tt_result_done, &r[i], 10));
		cr_assert(eq(int, r[i].err, -ECONNRESET));
	}
	cr_assert(ttrpc_client_dead(c));
	cr_assert(eq(int,
		     ttrpc_client_call(c,
				       &(struct ttrpc_client_request){.service = TT_SERVICE,
								      .method = "Echo"},
				       tt_result_cb, &r[0]),
		     -ENOTCONN));
	ttrpc_client_close(c, NULL, NULL);
	tt_env_teardown(&e);
}

Test(ttrpc_client, connect_failures)
{
	struct tt_env e;
	struct tt_result r = {0};
	struct ttrpc_client *c = NULL;
	char path[160];

	tt_env_setup(&e, NULL);
	(void)snprintf(path, sizeof(path), "%s/missing", e.dir);
	cr_assert(eq(int, ttrpc_client_new(&e.loop, path, &c), 0));
	cr_assert(eq(
		int,
		ttrpc_client_call(c, &(struct ttrpc_client_request){.service = "a", .method = "b"},
				  tt_result_cb, &r),
		0));
	cr_assert(tt_run_until(&e.loop, tt_result_done, &r, 10));
	cr_assert(eq(int, r.err, -ENOENT));
	cr_assert(ttrpc_client_dead(c));
	ttrpc_client_close(c, NULL, NULL);

	/* a stale socket file with no listener behind it */
	(void)snprintf(path, sizeof(path), "%s/stale", e.dir);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	tt_sockaddr(&addr, path);
	cr_assert(eq(int, bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0));
	(void)close(fd);
	memset(&r, 0, sizeof(r));
	cr_assert(eq(int, ttrpc_client_new(&e.loop, path, &c), 0));
	cr_assert(eq(
		int,
		ttrpc_client_call(c, &(struct ttrpc_client_request){.service = "a", .method = "b"},
				  tt_result_cb, &r),
		0));
	cr_assert(tt_run_until(&e.loop, tt_result_done, &r, 10));
	cr_assert(eq(int, r.err, -ECONNREFUSED));
	ttrpc_client_close(c, NULL, NULL);

	char longpath[200];
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[sizeof(longpath) - 1] = '\0';
	cr_assert(eq(int, ttrpc_client_new(&e.loop, longpath, &c), -ENAMETOOLONG));
	tt_env_teardown(&e);
}

static void count_closed(void *ud)
{
	(*(int *)ud)++;
}

Test(ttrpc_client, close_cancels_pending_and_queued_calls)
{
	struct tt_env e;
	struct tt_result r[2] = {0};
	struct ttrpc_client *c = NULL;
	int closed = 0;

	tt_env_setup(&e, NULL);
	cr_assert(eq(int, ttrpc_client_new(&e.loop, e.path, &c), 0));
	cr_assert(eq(int,
		     ttrpc_client_call(c,
				       &(struct ttrpc_client_request){.service = TT_SERVICE,
								      .method = "Hang"},
				       tt_result_cb, &r[0]),
		     0));
	while (e.n_kept < 1)
		(void)uv_run(&e.loop, UV_RUN_ONCE);
	cr_assert(eq(int,
		     ttrpc_client_call(c,
				       &(struct ttrpc_client_request){.service = TT_SERVICE,
								      .method = "Hang",
								      .timeout_ms = 1000},
				       tt_result_cb, &r[1]),
		     0));
	ttrpc_client_close(c, count_closed, &closed);
	cr_assert(r[0].done && r[1].done);
	cr_assert(eq(int, r[0].err, -ECANCELED));
	cr_assert(eq(int, r[1].err, -ECANCELED));
	while (closed == 0)
		(void)uv_run(&e.loop, UV_RUN_ONCE);
	cr_assert(eq(int, closed, 1));

	/* closing while still connecting */
	struct tt_result q = {0};
	cr_assert(eq(int, ttrpc_client_new(&e.loop, e.path, &c), 0));
	cr_assert(eq(int,
		     ttrpc_client_call(c,
				       &(struct ttrpc_client_request){.service = TT_SERVICE,
								      .method = "Echo"},
				       tt_result_cb, &q),
		     0));
	ttrpc_client_close(c, count_closed, &closed);
	cr_assert(eq(int, q.err, -ECANCELED));
	while (closed == 1)
		(void)uv_run(&e.loop, UV_RUN_ONCE);
	tt_env_teardown(&e);
}

Test(ttrpc_client, request_over_the_limit_is_refused_locally)
{
	struct tt_env e;
	struct tt_result r = {0};
	struct ttrpc_client *c = NULL;
	uint8_t *big = calloc(1, TTRPC_MAX_DATA_LEN);

	tt_env_setup(&e, NULL);
	cr_assert(eq(int, ttrpc_client_new(&e.loop, e.path, &c), 0));
	cr_assert(eq(int,
		     ttrpc_client_call(c,
				       &(struct ttrpc_client_request){.service = TT_SERVICE,
								      .method = "Echo",
								      .payload = big,
								      .len = TTRPC_MAX_DATA_LEN},
				       tt_result_cb, &r),
		     -EMSGSIZE));
	/* just under the limit passes both ways */
	size_t len = TTRPC_MAX_DATA_LEN - 32;
	tt_call_sync(&e.loop, c, TT_SERVICE, "Echo", big, len, 0, &r);
	cr_assert(eq(int, r.err, 0));
	cr_assert(eq(u32, r.code, 0));
	tt_result_free(&r);
	ttrpc_client_close(c, NULL, NULL);
	tt_env_teardown(&e);
	free(big);
}

/* A raw server: accept one connection by hand and write arbitrary frames at the client. */
struct raw_server {
	int lfd;
	int fd;
};

static bool raw_accepted(void *arg)
{
	struct raw_server *rs = arg;
	rs->fd = accept4(rs->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	return rs->fd >= 0;
}

static int raw_listen(const char *path)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	tt_sockaddr(&addr, path);
	cr_assert(eq(int, bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0));
	cr_assert(eq(int, listen(fd, 4), 0));
	return fd;
}

/* Read one request frame from the raw server's connection, returning its stream id. */
static uint32_t raw_read_request(uv_loop_t *loop, int fd)
{
	uint8_t hdr[TTRPC__HEADER_LEN];
	size_t have = 0;
	struct ttrpc__frame_header h;

	while (have < sizeof(hdr)) {
		ssize_t n = recv(fd, hdr + have, sizeof(hdr) - have, MSG_DONTWAIT);
		if (n > 0)
			have += (size_t)n;
		else
			(void)uv_run(loop, UV_RUN_ONCE);
	}
	ttrpc__frame_header_parse(hdr, &h);
	uint8_t *body = malloc(h.length + 1);
	have = 0;
	while (have < h.length) {
		ssize_t n = recv(fd, body + have, h.length - have, MSG_DONTWAIT);
		if (n > 0)
			have += (size_t)n;
		else
			(void)uv_run(loop, UV_RUN_ONCE);
	}
	free(body);
	cr_assert(eq(u8, h.type, 1));
	return h.stream_id;
}

Test(ttrpc_client, odd_increasing_ids_oversize_and_unknown_frames)
{
	struct tt_env e;
	struct raw_server rs = {-1, -1};
	struct ttrpc_client *c = NULL;
	struct tt_result r[4] = {0};
	char path[160];

	tt_env_setup(&e, NULL);
	(void)snprintf(path, sizeof(path), "%s/raw", e.dir);
	rs.lfd = raw_listen(path);
	cr_assert(eq(int, ttrpc_client_new(&e.loop, path, &c), 0));
	for (size_t i = 0; i < 4; i++)
		cr_assert(
			eq(int,
			   ttrpc_client_call(
				   c, &(struct ttrpc_client_request){.service = "s", .method = "m"},
				   tt_result_cb, &r[i]),
			   0));
	cr_assert(tt_run_until(&e.loop, raw_accepted, &rs, 10));
	for (uint32_t i = 0; i < 4; i++)
		cr_assert(eq(u32, raw_read_request(&e.loop, rs.fd), 2 * i + 1));

	/* a frame for an unknown stream is dropped */
	tt_raw_frame(&e.loop, rs.fd, 99, 2, NULL, 0);
	/* stream 1: oversize, dropped and reported on that call only */
	uint8_t *big = calloc(1, TTRPC_MAX_DATA_LEN + 1);
	tt_raw_frame(&e.loop, rs.fd, 1, 2, big, TTRPC_MAX_DATA_LEN + 1);
	free(big);
	cr_assert(tt_run_until(&e.loop, tt_result_done, &r[0], 10));
	cr_assert(eq(int, r[0].err, -EMSGSIZE));
	/* stream 3: a Data frame fails the call */
	tt_raw_frame(&e.loop, rs.fd, 3, 3, NULL, 0);
	cr_assert(tt_run_until(&e.loop, tt_result_done, &r[1], 10));
	cr_assert(eq(int, r[1].err, -EPROTO));
	/* stream 7 before 5: out of order, with a status */
	uint8_t resp[64];
	size_t n = ttrpc__response_size(5, "gone", NULL, 0);
	ttrpc__response_pack(5, "gone", NULL, 0, resp);
	tt_raw_frame(&e.loop, rs.fd, 7, 2, resp, n);
	cr_assert(tt_run_until(&e.loop, tt_result_done, &r[3], 10));
	cr_assert(eq(int, r[3].err, 0));
	cr_assert(eq(u32, r[3].code, 5));
	cr_assert(eq(str, r[3].message, "gone"));
	cr_assert(not(r[2].done));
	n = ttrpc__response_size(0, NULL, (const uint8_t *)"ok", 2);
	ttrpc__response_pack(0, NULL, (const uint8_t *)"ok", 2, resp);
	tt_raw_frame(&e.loop, rs.fd, 5, 2, resp, n);
	cr_assert(tt_run_until(&e.loop, tt_result_done, &r[2], 10));
	cr_assert(eq(u32, r[2].code, 0));
	cr_assert(eq(sz, r[2].len, 2));
	tt_result_free(&r[2]);
	cr_assert(not(ttrpc_client_dead(c)));

	(void)close(rs.fd);
	(void)close(rs.lfd);
	ttrpc_client_close(c, NULL, NULL);
	tt_env_teardown(&e);
}
