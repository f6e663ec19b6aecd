/* The server over a real unix socket, driven by our client and by a raw socket. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "server.h"
#include "test_ttrpc_util.h"
#include "testutil.h"

TestSuite(ttrpc_server, .timeout = 60);

static struct ttrpc_client *client_of(struct tt_env *e)
{
	struct ttrpc_client *c = NULL;
	cr_assert(eq(int, ttrpc_client_new(&e->loop, e->path, &c), 0));
	return c;
}

Test(ttrpc_server, unary_echo_and_socket_mode)
{
	struct tt_env e;
	struct tt_result r;
	struct stat st;
	struct ttrpc_server *other = NULL;

	tt_env_setup(&e, NULL);
	cr_assert(eq(int, stat(e.path, &st), 0));
	cr_assert(eq(int, (int)(st.st_mode & 0777), 0600));
	cr_assert(eq(int, ttrpc_server_new(&e.loop, NULL, &other), 0));
	cr_assert(eq(int, ttrpc_server_listen(other, e.path), -EADDRINUSE));
	ttrpc_server_close(other, 0, NULL, NULL);

	struct ttrpc_client *c = client_of(&e);
	tt_call_sync(&e.loop, c, TT_SERVICE, "Echo", "hello", 5, 0, &r);
	cr_assert(eq(int, r.err, 0));
	cr_assert(eq(u32, r.code, 0));
	cr_assert(eq(sz, r.len, 5));
	cr_assert(eq(int, memcmp(r.payload, "hello", 5), 0));
	tt_result_free(&r);

	/* an empty payload is a zero-length Response */
	tt_call_sync(&e.loop, c, TT_SERVICE, "Echo", NULL, 0, 0, &r);
	cr_assert(eq(int, r.err, 0));
	cr_assert(eq(u32, r.code, 0));
	cr_assert(eq(sz, r.len, 0));
	cr_assert(eq(sz, ttrpc_server_connections(e.server), 1));
	ttrpc_client_close(c, NULL, NULL);
	tt_env_teardown(&e);
}

Test(ttrpc_server, empty_reply_is_a_zero_length_frame)
{
	struct tt_env e;
	struct tt_raw_reply rep;

	tt_env_setup(&e, NULL);
	int fd = tt_raw_connect(e.path);
	tt_raw_request(&e.loop, fd, 1, TT_SERVICE, "Echo", NULL, 0, 0);
	cr_assert(tt_raw_read(&e.loop, fd, &rep));
	cr_assert(eq(u32, rep.h.length, 0));
	cr_assert(eq(u32, rep.h.stream_id, 1));
	cr_assert(eq(u8, rep.h.type, 2));
	cr_assert(eq(u8, rep.h.flags, 0));
	(void)close(fd);
	tt_env_teardown(&e);
}

struct many {
	struct tt_result r[200];
	char want[200][16];
};

static bool all_done(void *arg)
{
	struct many *m = arg;
	for (size_t i = 0; i < 200; i++)
		if (!m->r[i].done)
			return false;
	return true;
}

Test(ttrpc_server, two_hundred_concurrent_calls)
{
	struct tt_env e;
	struct many *m = calloc(1, sizeof(*m));

	tt_env_setup(&e, NULL);
	struct ttrpc_client *c = client_of(&e);
	for (size_t i = 0; i < 200; i++) {
		(void)snprintf(m->want[i], sizeof(m->want[i]), "call-%zu", i);
		cr_assert(eq(int,
			     ttrpc_client_call(c,
					       &(struct ttrpc_client_request){
						       .service = TT_SERVICE,
						       .method = "Echo",
						       .payload = (uint8_t *)m->want[i],
						       .len = strlen(m->want[i])},
					       tt_result_cb, &m->r[i]),
			     0));
	}
	cr_assert(tt_run_until(&e.loop, all_done, m, 20));
	for (size_t i = 0; i < 200; i++) {
		cr_assert(eq(int, m->r[i].err, 0));
		cr_assert(eq(sz, m->r[i].len, strlen(m->want[i])));
		cr_assert(eq(int, memcmp(m->r[i].payload, m->want[i], m->r[i].len), 0));
		tt_result_free(&m->r[i]);
	}
	cr_assert(eq(sz, e.n_handled, 200));
	ttrpc_client_close(c, NULL, NULL);
	tt_env_teardown(&e);
	free(m);
}

struct kept_n {
	struct tt_env *e;
	size_t n;
};

static bool kept_at_least(void *arg)
{
	struct kept_n *k = arg;
	return k->e->n_kept >= k->n;
}

Test(ttrpc_server, deferred_replies_out_of_order)
{
	struct tt_env e;
	struct tt_result r[3] = {0};
	const char *p[3] = {"first", "second", "third"};

	tt_env_setup(&e, NULL);
	struct ttrpc_client *c = client_of(&e);
	for (size_t i = 0; i < 3; i++)
		cr_assert(eq(int,
			     ttrpc_client_call(c,
					       &(struct ttrpc_client_request){
						       .service = TT_SERVICE,
						       .method = "Defer",
						       .payload = (const uint8_t *)p[i],
						       .len = strlen(p[i])},
					       tt_result_cb, &r[i]),
			     0));
	struct kept_n k = {&e, 3};
	cr_assert(tt_run_until(&e.loop, kept_at_least, &k, 10));
	/* An unrelated call is answered while the three are still pending. */
	struct tt_result echo;
	tt_call_sync(&e.loop, c, TT_SERVICE, "Echo", "x", 1, 0, &echo);
	cr_assert(eq(int, echo.err, 0));
	tt_result_free(&echo);
	cr_assert(not(r[0].done || r[1].done || r[2].done));

	/* Answer the last first, each with its own request's payload. */
	for (size_t i = 3; i-- > 0;) {
		const struct ttrpc_request *req = ttrpc_call_request(e.kept[i]);
		char buf[32];
		cr_assert(lt(sz, req->payload_len, sizeof(buf)));
		memcpy(buf, req->payload, req->payload_len);
		cr_assert(
			eq(int, ttrpc_call_reply(e.kept[i], (uint8_t *)buf, req->payload_len), 0));
		e.kept[i] = NULL;
		cr_assert(tt_run_until(&e.loop, tt_result_done, &r[i], 10));
		for (size_t j = 0; j < i; j++)
			cr_assert(not(r[j].done));
	}
	for (size_t i = 0; i < 3; i++) {
		cr_assert(eq(int, r[i].err, 0));
		cr_assert(eq(sz, r[i].len, strlen(p[i])));
		cr_assert(eq(int, memcmp(r[i].payload, p[i], r[i].len), 0));
		tt_result_free(&r[i]);
	}
	ttrpc_client_close(c, NULL, NULL);
	tt_env_teardown(&e);
}

Test(ttrpc_server, metadata_reaches_the_handler)
{
	struct tt_env e;
	struct tt_result r = {0};
	const struct ttrpc_kv md[] = {{"other", "o"}, {"x-key", "value-1"}, {"x-key", "value-2"}};

	tt_env_setup(&e, NULL);
	struct ttrpc_client *c = client_of(&e);
	cr_assert(eq(int,
		     ttrpc_client_call(c,
				       &(struct ttrpc_client_request){.service = TT_SERVICE,
								      .method = "Meta",
								      .metadata = md,
								      .n_metadata = 3},
				       tt_result_cb, &r),
		     0));
	cr_assert(tt_run_until(&e.loop, tt_result_done, &r, 10));
	cr_assert(eq(u32, r.code, 0));
	cr_assert(eq(sz, r.len, 7));
	cr_assert(eq(int, memcmp(r.payload, "value-1", 7), 0));
	tt_result_free(&r);

	tt_call_sync(&e.loop, c, TT_SERVICE, "Meta", NULL, 0, 0, &r);
	cr_assert(eq(u32, r.code, TTRPC_NOT_FOUND));
	cr_assert(eq(str, r.message, "no x-key"));
	ttrpc_client_close(c, NULL, NULL);
	tt_env_teardown(&e);
}

Test(ttrpc_server, timeout_nano_gives_deadline_exceeded_and_cancels)
{
	struct tt_env e;
	struct tt_raw_reply rep;

	tt_env_setup(&e, NULL);
	int fd = tt_raw_connect(e.path);
	tt_raw_request(&e.loop, fd, 1, TT_SERVICE, "Hang", NULL, 0, 30 * 1000000LL);
	cr_assert(tt_raw_read(&e.loop, fd, &rep));
	cr_assert(eq(u32, rep.h.stream_id, 1));
	cr_assert(eq(u32, rep.code, TTRPC_DEADLINE_EXCEEDED));
	cr_assert(eq(str, rep.message, "context deadline exceeded"));
	cr_assert(eq(sz, e.n_cancelled, 1));
	cr_assert(eq(ptr, e.kept[0], NULL));

	/* Without a timeout nothing fires; a negative one is already past. */
	tt_raw_request(&e.loop, fd, 3, TT_SERVICE, "Hang", NULL, 0, -5);
	cr_assert(tt_raw_read(&e.loop, fd, &rep));
	cr_assert(eq(u32, rep.h.stream_id, 3));
	cr_assert(eq(u32, rep.code, TTRPC_DEADLINE_EXCEEDED));
	cr_assert(eq(sz, e.n_cancelled, 2));
	(void)close(fd);
	tt_env_teardown(&e);
}

static bool no_connections(void *arg)
{
	return ttrpc_server_connections(((struct tt_env *)arg)->server) == 0;
}

Test(ttrpc_server, disconnect_cancels_pending_calls)
{
	struct tt_env e;
	struct ttrpc__server_stats st;

	tt_env_setup(&e, NULL);
	int fd = tt_raw_connect(e.path);
	for (uint32_t i = 0; i < 3; i++)
		tt_raw_request(&e.loop, fd, 2 * i + 1, TT_SERVICE, "Hang", NULL, 0, 0);
	struct kept_n k = {&e, 3};
	cr_assert(tt_run_until(&e.loop, kept_at_least, &k, 10));
	ttrpc__server_get_stats(e.server, &st);
	cr_assert(eq(sz, st.calls, 3));
	cr_assert(eq(sz, e.n_cancelled, 0));
	(void)close(fd);
	cr_assert(tt_run_until(&e.loop, no_connections, &e, 10));
	cr_assert(eq(sz, e.n_cancelled, 3));
	tt_env_teardown(&e);
}

Test(ttrpc_server, unknown_service_and_method)
{
	struct tt_env e;
	struct tt_result r;

	tt_env_setup(&e, NULL);
	struct ttrpc_client *c = client_of(&e);
	tt_call_sync(&e.loop, c, "foo.Bar", "Baz", NULL, 0, 0, &r);
	cr_assert(eq(int, r.err, 0));
	cr_assert(eq(u32, r.code, TTRPC_UNIMPLEMENTED));
	cr_assert(eq(str, r.message, "service foo.Bar"));
	tt_call_sync(&e.loop, c, TT_SERVICE, "Nope", NULL, 0, 0, &r);
	cr_assert(eq(u32, r.code, TTRPC_UNIMPLEMENTED));
	cr_assert(eq(str, r.message, "method Nope"));
	/* a service fallback takes any method */
	tt_call_sync(&e.loop, c, "test.Any", "Whatever", NULL, 0, 0, &r);
	cr_assert(eq(u32, r.code, 0));
	cr_assert(eq(sz, r.len, 8));
	cr_assert(eq(int, memcmp(r.payload, "Whatever", 8), 0));
	tt_result_free(&r);
	cr_assert(
		eq(int, ttrpc_server_register(e.server, TT_SERVICE, "Echo", NULL, NULL), -EEXIST));
	cr_assert(eq(int, ttrpc_server_register(e.server, "test.Any", NULL, NULL, NULL), -EEXIST));
	ttrpc_client_close(c, NULL, NULL);
	tt_env_teardown(&e);
}

Test(ttrpc_server, even_stream_id_is_rejected)
{
	struct tt_env e;
	struct tt_raw_reply rep;

	tt_env_setup(&e, NULL);
	int fd = tt_raw_connect(e.path);
	tt_raw_request(&e.loop, fd, 2, TT_SERVICE, "Echo", "a", 1, 0);
	cr_assert(tt_raw_read(&e.loop, fd, &rep));
	cr_assert(eq(u32, rep.h.stream_id, 2));
	cr_assert(eq(u32, rep.code, TTRPC_INVALID_ARGUMENT));
	cr_assert(eq(str, rep.message, "StreamID must be odd for client initiated streams"));
	cr_assert(eq(sz, e.n_handled, 0));
	(void)close(fd);
	tt_env_teardown(&e);
}

Test(ttrpc_server, malformed_frames_harm_only_their_own_stream)
{
	struct tt_env e;
	struct tt_raw_reply rep;
	const uint8_t garbage[] = {0x0a, 0x7f, 'x'}; /* string field longer than the data */

	tt_env_setup(&e, NULL);
	struct ttrpc_client *c = client_of(&e);
	int fd = tt_raw_connect(e.path);
	/* a type-3 frame and an unknown type are ignored, as ttrpc 1.1 does */
	tt_raw_frame(&e.loop, fd, 1, 3, "zz", 2);
	tt_raw_frame(&e.loop, fd, 3, 0x42, NULL, 0);
	tt_raw_frame(&e.loop, fd, 5, 1, garbage, sizeof(garbage));
	cr_assert(tt_raw_read(&e.loop, fd, &rep));
	cr_assert(eq(u32, rep.h.stream_id, 5));
	cr_assert(eq(u32, rep.code, TTRPC_INVALID_ARGUMENT));
	cr_assert(eq(int, strncmp(rep.message, "unmarshal request error: ", 25), 0), "%s",
		  rep.message);

	struct tt_result r;
	tt_call_sync(&e.loop, c, TT_SERVICE, "Echo", "ok", 2, 0, &r);
	cr_assert(eq(u32, r.code, 0));
	tt_result_free(&r);

	tt_raw_request(&e.loop, fd, 7, TT_SERVICE, "Echo", "still", 5, 0);
	cr_assert(tt_raw_read(&e.loop, fd, &rep));
	cr_assert(eq(u32, rep.h.stream_id, 7));
	cr_assert(eq(u32, rep.code, 0));
	cr_assert(eq(sz, rep.len, 5));
	tt_raw_reply_free(&rep);
	(void)close(fd);
	ttrpc_client_close(c, NULL, NULL);
	tt_env_teardown(&e);
}

Test(ttrpc_server, oversized_request_gets_resource_exhausted)
{
	struct tt_env e;
	struct tt_raw_reply rep;
	size_t big = TTRPC_MAX_DATA_LEN + 1;
	uint8_t *junk = calloc(1, big);

	tt_env_setup(&e, NULL);
	int fd = tt_raw_connect(e.path);
	tt_raw_frame(&e.loop, fd, 1, 1, junk, big);
	cr_assert(tt_raw_read(&e.loop, fd, &rep));
	cr_assert(eq(u32, rep.h.stream_id, 1));
	cr_assert(eq(u32, rep.code, TTRPC_RESOURCE_EXHAUSTED));
	cr_assert(eq(str, rep.message,
		     "message length 4194305 exceed maximum message size of 4194304"));
	tt_raw_request(&e.loop, fd, 3, TT_SERVICE, "Echo", "after", 5, 0);
	cr_assert(tt_raw_read(&e.loop, fd, &rep));
	cr_assert(eq(u32, rep.h.stream_id, 3));
	cr_assert(eq(u32, rep.code, 0));
	cr_assert(eq(int, memcmp(rep.payload, "after", 5), 0));
	tt_raw_reply_free(&rep);
	(void)close(fd);
	tt_env_teardown(&e);
	free(junk);
}

Test(ttrpc_server, calls_per_connection_are_bounded)
{
	struct tt_env e;
	struct tt_raw_reply rep;
	struct ttrpc_server_options opts = {.max_calls_per_conn = 4};

	tt_env_setup(&e, &opts);
	int fd = tt_raw_connect(e.path);
	for (uint32_t i = 0; i < 5; i++)
		tt_raw_request(&e.loop, fd, 2 * i + 1, TT_SERVICE, "Hang", NULL, 0, 0);
	cr_assert(tt_raw_read(&e.loop, fd, &rep));
	cr_assert(eq(u32, rep.h.stream_id, 9));
	cr_assert(eq(u32, rep.code, TTRPC_RESOURCE_EXHAUSTED));
	cr_assert(eq(sz, e.n_kept, 4));
	(void)close(fd);
	tt_env_teardown(&e);
	cr_assert(eq(sz, e.n_cancelled, 4));
}

/* The client side of the back-pressure test: a libuv pipe that writes and never reads. */
struct slow_reader {
	uv_pipe_t pipe;
	uv_connect_t connect;
	bool connected;
	size_t received;
};

static void slow_connected(uv_connect_t *req, int status)
{
	cr_assert(eq(int, status, 0));
	((struct slow_reader *)req->data)->connected = true;
}

static bool slow_is_connected(void *arg)
{
	return ((struct slow_reader *)arg)->connected;
}

static bool server_paused(void *arg)
{
	struct ttrpc__server_stats st;
	ttrpc__server_get_stats(((struct tt_env *)arg)->server, &st);
	return st.paused == 1;
}

static void slow_alloc(uv_handle_t *h, size_t n, uv_buf_t *buf)
{
	static char b[65536];
	(void)h;
	(void)n;
	*buf = uv_buf_init(b, sizeof(b));
}

static void slow_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	(void)buf;
	if (n > 0)
		((struct slow_reader *)s->data)->received += (size_t)n;
}

struct drained {
	struct slow_reader *sr;
	size_t want;
};

static bool received_all(void *arg)
{
	struct drained *d = arg;
	return d->sr->received >= d->want;
}

#define BP_REQUESTS 64
#define BP_PAYLOAD  (128u << 10)
#define BP_HIGH	    (512u << 10)

Test(ttrpc_server, write_back_pressure_pauses_reading)
{
	struct tt_env e;
	struct ttrpc_server_options opts = {.write_high_water = BP_HIGH};
	struct slow_reader sr = {0};
	struct ttrpc__server_stats st;
	uint8_t *payload = malloc(BP_PAYLOAD);
	size_t frame = 0, reply_frame = 0;
	uint8_t *all;

	memset(payload, 'p', BP_PAYLOAD);
	tt_env_setup(&e, &opts);
	(void)uv_pipe_init(&e.loop, &sr.pipe, 0);
	sr.pipe.data = &sr;
	sr.connect.data = &sr;
	uv_pipe_connect(&sr.connect, &sr.pipe, e.path, slow_connected);
	cr_assert(tt_run_until(&e.loop, slow_is_connected, &sr, 10));

	/* Build all requests in one buffer and let libuv queue them client-side. */
	struct ttrpc_request req = {.service = TT_SERVICE,
				    .method = "Echo",
				    .payload = payload,
				    .payload_len = BP_PAYLOAD};
	size_t size;
	cr_assert(eq(int, ttrpc__request_size(&req, &size), 0));
	frame = TTRPC__HEADER_LEN + size;
	reply_frame = TTRPC__HEADER_LEN + ttrpc__response_size(0, NULL, payload, BP_PAYLOAD);
	all = malloc(frame * BP_REQUESTS);
	for (uint32_t i = 0; i < BP_REQUESTS; i++) {
		struct ttrpc__frame_header h = {.length = (uint32_t)size,
						.stream_id = 2 * i + 1,
						.type = TTRPC__MSG_REQUEST};
		ttrpc__frame_header_format(&h, all + i * frame);
		cr_assert(eq(int, ttrpc__request_pack(&req, all + i * frame + 10, size), 0));
	}
	uv_write_t wreq;
	uv_buf_t buf = uv_buf_init((char *)all, (unsigned int)(frame * BP_REQUESTS));
	cr_assert(eq(int, uv_write(&wreq, (uv_stream_t *)&sr.pipe, &buf, 1, NULL), 0));

	cr_assert(tt_run_until(&e.loop, server_paused, &e, 20), "reading never paused");
	tt_run_idle(&e.loop);
	ttrpc__server_get_stats(e.server, &st);
	uint64_t handled = st.requests;
	cr_assert(eq(sz, st.paused, 1));
	cr_assert(lt(u64, handled, (uint64_t)BP_REQUESTS));
	/* at most one read buffer's worth of replies beyond the mark */
	cr_assert(le(sz, st.queued_bytes, BP_HIGH + 2 * reply_frame), "queued %zu",
		  st.queued_bytes);
	tt_run_idle(&e.loop);
	ttrpc__server_get_stats(e.server, &st);
	cr_assert(eq(u64, st.requests, handled), "requests were read while paused");

	/* Start reading: everything drains, reading resumes, every request is answered. */
	cr_assert(eq(int, uv_read_start((uv_stream_t *)&sr.pipe, slow_alloc, slow_read), 0));
	struct drained d = {&sr, reply_frame * BP_REQUESTS};
	cr_assert(tt_run_until(&e.loop, received_all, &d, 30));
	cr_assert(eq(sz, sr.received, reply_frame * BP_REQUESTS));
	ttrpc__server_get_stats(e.server, &st);
	cr_assert(eq(u64, st.requests, (uint64_t)BP_REQUESTS));
	cr_assert(eq(sz, st.paused, 0));

	uv_close((uv_handle_t *)&sr.pipe, NULL);
	tt_env_teardown(&e);
	free(all);
	free(payload);
}

Test(ttrpc_server, close_lingers_for_a_queued_reply)
{
	struct tt_env e;
	struct tt_result r;

	tt_env_setup(&e, NULL);
	struct ttrpc_client *c = client_of(&e);
	/* a pending call on the same connection is cancelled by the close */
	struct tt_result hang = {0};
	cr_assert(eq(int,
		     ttrpc_client_call(c,
				       &(struct ttrpc_client_request){.service = TT_SERVICE,
								      .method = "Hang"},
				       tt_result_cb, &hang),
		     0));
	struct kept_n k = {&e, 1};
	cr_assert(tt_run_until(&e.loop, kept_at_least, &k, 10));
	/* a large reply that cannot be written in one go */
	size_t len = 3u << 20;
	uint8_t *big = malloc(len);
	memset(big, 'z', len);
	tt_call_sync(&e.loop, c, TT_SERVICE, "ReplyClose", big, len, 0, &r);
	cr_assert(eq(int, r.err, 0));
	cr_assert(eq(u32, r.code, 0));
	cr_assert(eq(sz, r.len, len));
	cr_assert(eq(int, memcmp(r.payload, big, len), 0));
	tt_result_free(&r);
	cr_assert(tt_run_until(&e.loop, tt_result_done, &hang, 10));
	cr_assert(eq(int, hang.err, -ECONNRESET));
	cr_assert(tt_run_until(&e.loop, (bool (*)(void *))ttrpc_client_dead, c, 10));
	cr_assert(eq(sz, e.n_cancelled, 1));
	struct tt_result after = {0};
	cr_assert(eq(int,
		     ttrpc_client_call(c,
				       &(struct ttrpc_client_request){.service = TT_SERVICE,
								      .method = "Echo"},
				       tt_result_cb, &after),
		     -ENOTCONN));
	ttrpc_client_close(c, NULL, NULL);
	tt_env_teardown(&e);
	cr_assert(e.server_closed);
	free(big);
}

Test(ttrpc_server, adopt_serves_a_listening_fd)
{
	struct tt_env e;
	struct ttrpc_server *s2 = NULL;
	struct tt_result r;
	char path[128];

	tt_env_setup(&e, NULL);
	(void)snprintf(path, sizeof(path), "%s/adopted", e.dir);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	tt_sockaddr(&addr, path);
	cr_assert(eq(int, bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0));
	cr_assert(eq(int, listen(fd, 8), 0));
	cr_assert(eq(int, ttrpc_server_new(&e.loop, NULL, &s2), 0));
	cr_assert(eq(int, ttrpc_server_register(s2, "a.B", "C", NULL, NULL), 0));
	cr_assert(eq(int, ttrpc_server_adopt(s2, fd), 0));
	struct ttrpc_client *c = NULL;
	cr_assert(eq(int, ttrpc_client_new(&e.loop, path, &c), 0));
	tt_call_sync(&e.loop, c, "a.X", "C", NULL, 0, 0, &r);
	cr_assert(eq(u32, r.code, TTRPC_UNIMPLEMENTED));
	ttrpc_client_close(c, NULL, NULL);
	ttrpc_server_close(s2, 0, NULL, NULL);
	tt_env_teardown(&e);
}

static void on_sigchld(uv_signal_t *s, int signo)
{
	(void)s;
	(void)signo;
}

/* Go's UnixSocketRequireSameUser: our own uid is served, another uid is hung up on. */
Test(ttrpc_server, require_same_user)
{
	struct tt_env e;
	struct ttrpc_server_options opts = {.require_same_user = true};
	struct tt_raw_reply rep;

	tt_env_setup(&e, &opts);
	int fd = tt_raw_connect(e.path);
	tt_raw_request(&e.loop, fd, 1, TT_SERVICE, "Echo", "me", 2, 0);
	cr_assert(tt_raw_read(&e.loop, fd, &rep));
	cr_assert(eq(u32, rep.code, 0));
	tt_raw_reply_free(&rep);
	(void)close(fd);
	if (geteuid() != 0) {
		tt_env_teardown(&e);
		cr_skip_test("another uid needs root");
	}
	/* let nobody reach the socket, then connect as nobody */
	cr_assert(eq(int, chmod(e.dir, 0755), 0));
	cr_assert(eq(int, chmod(e.path, 0666), 0));
	/* SIGCHLD wakes the loop when the child is done (installed before the fork) */
	uv_signal_t sigchld;
	cr_assert(eq(int, uv_signal_init(&e.loop, &sigchld), 0));
	cr_assert(eq(int, uv_signal_start(&sigchld, on_sigchld, SIGCHLD), 0));
	pid_t pid = fork();
	cr_assert(ge(int, pid, 0));
	if (pid == 0) {
		if (setgid(65534) < 0 || setuid(65534) < 0)
			_exit(10);
		int cfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct sockaddr_un addr;
		uint8_t b;
		tt_sockaddr(&addr, e.path);
		if (connect(cfd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
			_exit(11);
		/* the server closes without answering: EOF (or a reset) */
		ssize_t n = recv(cfd, &b, 1, 0);
		_exit(n <= 0 ? 0 : 12);
	}
	int status = -1;
	while (waitpid(pid, &status, WNOHANG) == 0)
		(void)uv_run(&e.loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&sigchld, NULL);
	bool exited = WIFEXITED(status);
	cr_assert(exited);
	cr_assert(eq(int, WEXITSTATUS(status), 0));
	tt_env_teardown(&e);
}
