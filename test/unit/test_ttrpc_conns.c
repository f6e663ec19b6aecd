/*
 * How many connections the server holds, and which it lets go: no cap that a pod's
 * containers reach, hung-up peers that stop counting at once, silent and half-sent
 * connections closed after the first-request timeout, floods that evict each other rather
 * than the clients that talk, and calls in flight that are never the price.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/socket.h>
#include <sys/un.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "server.h"
#include "test_ttrpc_util.h"
#include "testutil.h"

TestSuite(ttrpc_conns, .timeout = 60);

/* A request on a fresh raw connection, answered. */
static void expect_served(struct tt_env *e, int fd, const char *what)
{
	struct tt_raw_reply rep;

	tt_raw_request(&e->loop, fd, 1, TT_SERVICE, "Echo", "hi", 2, 0);
	cr_assert(tt_raw_read(&e->loop, fd, &rep), "%s: no reply", what);
	cr_assert(eq(u32, rep.code, 0), "%s: %s", what, rep.message);
	tt_raw_reply_free(&rep);
}

/* A pod of 1,024 containers holds one connection each (containerd 1.6): far more than the
 * old fixed 64 are open and served at the same time. */
Test(ttrpc_conns, hundreds_of_connections_are_served_at_once)
{
	enum { N = 300 };
	struct tt_env e;
	int *fd = calloc(N, sizeof(*fd));

	tt_env_setup(&e, NULL);
	for (int i = 0; i < N; i++) {
		fd[i] = tt_raw_connect(e.path);
		tt_raw_request(&e.loop, fd[i], 1, TT_SERVICE, "Echo", "x", 1, 0);
	}
	for (int i = 0; i < N; i++) {
		struct tt_raw_reply rep;
		cr_assert(tt_raw_read(&e.loop, fd[i], &rep), "connection %d got no reply", i);
		cr_assert(eq(u32, rep.code, 0));
		tt_raw_reply_free(&rep);
	}
	cr_expect(eq(sz, ttrpc_server_connections(e.server), N), "all still open");
	for (int i = 0; i < N; i++)
		(void)close(fd[i]);
	free(fd);
	tt_env_teardown(&e);
}

/* 200 connect+close before the server looks: the closed ones do not count against the
 * next client, even with a cap of 64. */
Test(ttrpc_conns, closed_connections_stop_counting_at_once)
{
	struct ttrpc_server_options opts = {.max_connections = 64};
	struct tt_env e;

	tt_env_setup(&e, &opts);
	for (int i = 0; i < 200; i++)
		(void)close(tt_raw_connect(e.path));
	int fd = tt_raw_connect(e.path);
	expect_served(&e, fd, "the client after the burst");
	(void)close(fd);
	tt_env_teardown(&e);
}

/* A connection that never completes a request is closed after the first-request timeout,
 * as is one that leaves a frame half-sent; one that talked and is idle stays. */
Test(ttrpc_conns, silent_and_half_sent_connections_time_out)
{
	struct ttrpc_server_options opts = {.first_request_ms = 300};
	struct tt_env e;
	static const uint8_t half[] = {0, 0, 0x03, 0xe8, 0, 0, 0, 1, 1, 0, 'x', 'y'};

	tt_env_setup(&e, &opts);
	int talker = tt_raw_connect(e.path);
	expect_served(&e, talker, "the talker");
	int quiet = tt_raw_connect(e.path);
	int slow = tt_raw_connect(e.path);
	tt_raw_send(&e.loop, slow, half, sizeof(half)); /* 1000 bytes announced, 2 sent */
	uint64_t t0 = uv_now(&e.loop);
	cr_assert(tt_raw_wait_eof(&e.loop, quiet), "the silent connection was closed");
	cr_assert(tt_raw_wait_eof(&e.loop, slow), "the half-sent frame's connection was closed");
	uv_update_time(&e.loop);
	cr_expect(ge(u64, uv_now(&e.loop) - t0, 250), "not before the timeout");
	/* The proven talker, idle for as long, is still served. */
	expect_served(&e, talker, "the idle talker");
	(void)close(quiet);
	(void)close(slow);
	(void)close(talker);
	tt_env_teardown(&e);
}

/* The loop itself blocked past the timeout (a long synchronous call) while a request
 * waited in the socket: that is not the peer's fault, and the request is served. */
Test(ttrpc_conns, a_late_loop_does_not_time_out_a_waiting_request)
{
	struct ttrpc_server_options opts = {.first_request_ms = 200};
	struct tt_env e;
	const struct timespec block = {0, 600 * 1000 * 1000};

	tt_env_setup(&e, &opts);
	int fd = tt_raw_connect(e.path);
	tt_run_idle(&e.loop); /* accepted */
	tt_raw_request(&e.loop, fd, 1, TT_SERVICE, "Echo", "x", 1, 0);
	/* Not a synchronisation: this stands for a loop that does not run for a while. */
	(void)nanosleep(&block, NULL);
	struct tt_raw_reply rep;
	cr_assert(tt_raw_read(&e.loop, fd, &rep), "the waiting request was dropped");
	cr_assert(eq(u32, rep.code, 0));
	tt_raw_reply_free(&rep);
	(void)close(fd);
	tt_env_teardown(&e);
}

/* A proven connection that then leaves a frame half-sent is closed too. */
Test(ttrpc_conns, proven_connection_with_a_stalled_frame_times_out)
{
	struct ttrpc_server_options opts = {.first_request_ms = 300};
	struct tt_env e;
	static const uint8_t half[] = {0, 0, 0x03, 0xe8, 0, 0, 0, 3, 1, 0, 'x'};

	tt_env_setup(&e, &opts);
	int fd = tt_raw_connect(e.path);
	expect_served(&e, fd, "first request");
	tt_raw_send(&e.loop, fd, half, sizeof(half));
	cr_assert(tt_raw_wait_eof(&e.loop, fd));
	(void)close(fd);
	tt_env_teardown(&e);
}

/* A flood of connections that never talk: the server holds at most max_pending of them,
 * and a client that talks still gets in and is served. */
Test(ttrpc_conns, flood_of_silent_connections_does_not_lock_out)
{
	/* valgrind makes each connection cost far more; the bound is what is tested. */
	const int N = getenv("HUSK_VALGRIND") ? 400 : 2000;
	struct ttrpc_server_options opts = {.max_pending = 32};
	struct tt_env e;
	int *fd = calloc(N, sizeof(*fd));

	tt_env_setup(&e, &opts);
	int busy = tt_raw_connect(e.path);
	tt_raw_request(&e.loop, busy, 1, TT_SERVICE, "Hang", NULL, 0, 0);
	for (int i = 0; i < N; i++) {
		fd[i] = tt_raw_connect(e.path);
		if (i % 256 == 255)
			tt_run_idle(&e.loop);
	}
	tt_run_idle(&e.loop);
	int fresh = tt_raw_connect(e.path);
	expect_served(&e, fresh, "a client after the flood");
	struct ttrpc__server_stats st;
	ttrpc__server_get_stats(e.server, &st);
	cr_expect(le(sz, st.connections, 32 + 2), "%zu connections held", st.connections);
	cr_expect(eq(sz, st.calls, 1), "the call in flight survived");
	cr_expect(eq(sz, e.n_cancelled, 0));
	for (int i = 0; i < N; i++)
		(void)close(fd[i]);
	(void)close(fresh);
	(void)close(busy);
	free(fd);
	tt_env_teardown(&e);
}

/* At the cap, the longest idle talker makes room; a connection with a call in flight
 * never does. */
Test(ttrpc_conns, at_the_cap_idle_goes_before_busy)
{
	struct ttrpc_server_options opts = {.max_connections = 8};
	struct tt_env e;
	int busy[4];
	int idle[4];

	tt_env_setup(&e, &opts);
	for (int i = 0; i < 4; i++) {
		busy[i] = tt_raw_connect(e.path);
		tt_raw_request(&e.loop, busy[i], 1, TT_SERVICE, "Hang", NULL, 0, 0);
		idle[i] = tt_raw_connect(e.path);
		expect_served(&e, idle[i], "idle talker");
	}
	int fresh[4];
	for (int i = 0; i < 4; i++) {
		fresh[i] = tt_raw_connect(e.path);
		expect_served(&e, fresh[i], "a new client at the cap");
		cr_assert(tt_raw_wait_eof(&e.loop, idle[i]), "the longest idle went first");
	}
	struct ttrpc__server_stats st;
	ttrpc__server_get_stats(e.server, &st);
	cr_expect(eq(sz, st.calls, 4), "every call in flight survived");
	cr_expect(eq(sz, e.n_cancelled, 0));
	for (int i = 0; i < 4; i++) {
		(void)close(busy[i]);
		(void)close(idle[i]);
		(void)close(fresh[i]);
	}
	tt_env_teardown(&e);
}

/* At the cap, a connection that never completed a request goes before an idle talker. */
Test(ttrpc_conns, at_the_cap_pending_goes_before_idle)
{
	struct ttrpc_server_options opts = {.max_connections = 4};
	struct tt_env e;
	int talker[3];

	tt_env_setup(&e, &opts);
	for (int i = 0; i < 3; i++) {
		talker[i] = tt_raw_connect(e.path);
		expect_served(&e, talker[i], "talker");
	}
	int slow = tt_raw_connect(e.path);
	tt_raw_send(&e.loop, slow, "\0", 1);
	tt_run_idle(&e.loop);
	int fd = tt_raw_connect(e.path);
	expect_served(&e, fd, "a new client at the cap");
	cr_assert(tt_raw_wait_eof(&e.loop, slow), "the pending one made room");
	for (int i = 0; i < 3; i++)
		expect_served(&e, talker[i], "talker still open");
	(void)close(fd);
	(void)close(slow);
	for (int i = 0; i < 3; i++)
		(void)close(talker[i]);
	tt_env_teardown(&e);
}

/* When every slot holds a call in flight, a new connection is the one refused. */
Test(ttrpc_conns, all_busy_refuses_the_new_one)
{
	struct ttrpc_server_options opts = {.max_connections = 4};
	struct tt_env e;
	int busy[4];

	tt_env_setup(&e, &opts);
	for (int i = 0; i < 4; i++) {
		busy[i] = tt_raw_connect(e.path);
		tt_raw_request(&e.loop, busy[i], 1, TT_SERVICE, "Hang", NULL, 0, 0);
	}
	tt_run_idle(&e.loop);
	int fd = tt_raw_connect(e.path);
	cr_assert(tt_raw_wait_eof(&e.loop, fd));
	cr_expect(eq(sz, e.n_cancelled, 0));
	(void)close(fd);
	for (int i = 0; i < 4; i++)
		(void)close(busy[i]);
	tt_env_teardown(&e);
}
