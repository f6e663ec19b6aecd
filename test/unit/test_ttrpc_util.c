#include "test_ttrpc_util.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/socket.h>
#include <sys/un.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "envelope.h"
#include "testutil.h"

static void h_echo(struct ttrpc_call *call, const struct ttrpc_request *req, void *ud)
{
	struct tt_env *e = ud;
	e->n_handled++;
	(void)ttrpc_call_reply(call, req->payload, req->payload_len);
}

static void keep(struct tt_env *e, struct ttrpc_call *call)
{
	cr_assert(lt(sz, e->n_kept, TT_MAX_CALLS));
	e->kept[e->n_kept++] = call;
}

static void h_defer(struct ttrpc_call *call, const struct ttrpc_request *req, void *ud)
{
	(void)req;
	((struct tt_env *)ud)->n_handled++;
	keep(ud, call);
}

static void on_cancel(struct ttrpc_call *call, void *ud)
{
	struct tt_env *e = ud;
	for (size_t i = 0; i < e->n_kept; i++)
		if (e->kept[i] == call)
			e->kept[i] = NULL;
	e->n_cancelled++;
}

static void h_hang(struct ttrpc_call *call, const struct ttrpc_request *req, void *ud)
{
	(void)req;
	((struct tt_env *)ud)->n_handled++;
	keep(ud, call);
	ttrpc_call_on_cancel(call, on_cancel, ud);
}

static void h_meta(struct ttrpc_call *call, const struct ttrpc_request *req, void *ud)
{
	const char *v = ttrpc_call_metadata(call, "X-Key");
	(void)req;
	((struct tt_env *)ud)->n_handled++;
	if (v == NULL) {
		(void)ttrpc_call_fail(call, TTRPC_NOT_FOUND, "no x-key");
		return;
	}
	(void)ttrpc_call_reply(call, (const uint8_t *)v, strlen(v));
}

static void server_closed(struct ttrpc_server *s, void *ud)
{
	struct tt_env *e = ud;
	(void)s;
	e->server_closed = true;
	e->server = NULL;
}

static void h_reply_close(struct ttrpc_call *call, const struct ttrpc_request *req, void *ud)
{
	struct tt_env *e = ud;
	e->n_handled++;
	(void)ttrpc_call_reply(call, req->payload, req->payload_len);
	ttrpc_server_close(e->server, 5000, server_closed, e);
}

static void h_any(struct ttrpc_call *call, const struct ttrpc_request *req, void *ud)
{
	((struct tt_env *)ud)->n_handled++;
	(void)ttrpc_call_reply(call, (const uint8_t *)req->method, strlen(req->method));
}

void tt_env_setup(struct tt_env *e, const struct ttrpc_server_options *opts)
{
	static const struct {
		const char *method;
		ttrpc_handler_fn *fn;
	} methods[] = {{"Echo", h_echo},
		       {"Defer", h_defer},
		       {"Hang", h_hang},
		       {"Meta", h_meta},
		       {"ReplyClose", h_reply_close}};

	memset(e, 0, sizeof(*e));
	cr_assert(eq(int, uv_loop_init(&e->loop), 0));
	e->dir = testutil_tmpdir("ttrpc");
	cr_assert(
		lt(int, snprintf(e->path, sizeof(e->path), "%s/s", e->dir), (int)sizeof(e->path)));
	cr_assert(eq(int, ttrpc_server_new(&e->loop, opts, &e->server), 0));
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		cr_assert(eq(int,
			     ttrpc_server_register(e->server, TT_SERVICE, methods[i].method,
						   methods[i].fn, e),
			     0));
	cr_assert(eq(int, ttrpc_server_register(e->server, "test.Any", NULL, h_any, e), 0));
	cr_assert(eq(int, ttrpc_server_listen(e->server, e->path), 0));
}

static bool server_is_closed(void *arg)
{
	return ((struct tt_env *)arg)->server_closed;
}

void tt_env_close_server(struct tt_env *e, uint64_t linger_ms)
{
	if (e->server != NULL)
		ttrpc_server_close(e->server, linger_ms, server_closed, e);
	cr_assert(tt_run_until(&e->loop, server_is_closed, e, 10), "server never closed");
}

void tt_env_teardown(struct tt_env *e)
{
	if (!e->server_closed)
		tt_env_close_server(e, 0);
	cr_assert(eq(int, uv_run(&e->loop, UV_RUN_DEFAULT), 0));
	cr_assert(eq(int, uv_loop_close(&e->loop), 0), "handles left open on the loop");
	testutil_rmtree_free(e->dir);
}

static void deadline_cb(uv_timer_t *t)
{
	*(bool *)t->data = true;
}

bool tt_run_until(uv_loop_t *loop, bool (*pred)(void *), void *arg, double seconds)
{
	uv_timer_t timer;
	bool expired = false;
	bool ok;

	(void)uv_timer_init(loop, &timer);
	timer.data = &expired;
	(void)uv_timer_start(&timer, deadline_cb, (uint64_t)(testutil_timeout(seconds) * 1000), 0);
	while (!(ok = pred(arg)) && !expired)
		(void)uv_run(loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&timer, NULL);
	(void)uv_run(loop, UV_RUN_NOWAIT);
	return ok;
}

void tt_run_idle(uv_loop_t *loop)
{
	for (int i = 0; i < 50; i++)
		(void)uv_run(loop, UV_RUN_NOWAIT);
}

void tt_result_cb(void *userdata, int error, const struct ttrpc_status *status,
		  const uint8_t *payload, size_t len)
{
	struct tt_result *r = userdata;

	cr_assert(not(r->done), "result delivered twice");
	r->done = true;
	r->err = error;
	if (status != NULL) {
		r->code = status->code;
		(void)snprintf(r->message, sizeof(r->message), "%s", status->message);
	}
	if (len > 0) {
		r->payload = malloc(len);
		memcpy(r->payload, payload, len);
	}
	r->len = len;
}

bool tt_result_done(void *result)
{
	return ((struct tt_result *)result)->done;
}

void tt_result_free(struct tt_result *r)
{
	free(r->payload);
	r->payload = NULL;
}

void tt_call_sync(uv_loop_t *loop, struct ttrpc_client *c, const char *service, const char *method,
		  const void *payload, size_t len, uint64_t timeout_ms, struct tt_result *ret)
{
	memset(ret, 0, sizeof(*ret));
	cr_assert(eq(int,
		     ttrpc_client_call(c,
				       &(struct ttrpc_client_request){.service = service,
								      .method = method,
								      .payload = payload,
								      .len = len,
								      .timeout_ms = timeout_ms},
				       tt_result_cb, ret),
		     0));
	cr_assert(not(ret->done), "callback ran inside ttrpc_client_call");
	cr_assert(tt_run_until(loop, tt_result_done, ret, 20), "%s/%s never answered", service,
		  method);
}

void tt_sockaddr(struct sockaddr_un *addr, const char *path)
{
	size_t len = strlen(path);

	cr_assert(lt(sz, len, sizeof(addr->sun_path)));
	memset(addr, 0, sizeof(*addr));
	addr->sun_family = AF_UNIX;
	memcpy(addr->sun_path, path, len + 1);
}

int tt_raw_connect(const char *path)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	cr_assert(ge(int, fd, 0));
	tt_sockaddr(&addr, path);
	cr_assert(eq(int, connect(fd, (struct sockaddr *)&addr, sizeof(addr)), 0), "connect: %s",
		  strerror(errno));
	return fd;
}

void tt_raw_send(uv_loop_t *loop, int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	double deadline = testutil_timeout(20) * 1000;
	uint64_t start = uv_now(loop);

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			cr_assert(eq(int, errno, EAGAIN), "send: %s", strerror(errno));
			(void)uv_run(loop, UV_RUN_ONCE);
			uv_update_time(loop);
			cr_assert(lt(dbl, (double)(uv_now(loop) - start), deadline),
				  "send stalled");
			continue;
		}
		p += n;
		len -= (size_t)n;
	}
}

void tt_raw_frame(uv_loop_t *loop, int fd, uint32_t stream_id, uint8_t type, const void *data,
		  size_t len)
{
	struct ttrpc__frame_header h = {
		.length = (uint32_t)len, .stream_id = stream_id, .type = type};
	uint8_t hdr[TTRPC__HEADER_LEN];

	ttrpc__frame_header_format(&h, hdr);
	tt_raw_send(loop, fd, hdr, sizeof(hdr));
	if (len > 0)
		tt_raw_send(loop, fd, data, len);
}

void tt_raw_request(uv_loop_t *loop, int fd, uint32_t stream_id, const char *service,
		    const char *method, const void *payload, size_t len, int64_t timeout_nano)
{
	struct ttrpc_request req = {.service = service,
				    .method = method,
				    .payload = payload,
				    .payload_len = len,
				    .timeout_nano = timeout_nano};
	size_t size;
	uint8_t *buf;

	cr_assert(eq(int, ttrpc__request_size(&req, &size), 0));
	buf = malloc(size + 1);
	cr_assert(eq(int, ttrpc__request_pack(&req, buf, size), 0));
	tt_raw_frame(loop, fd, stream_id, TTRPC__MSG_REQUEST, buf, size);
	free(buf);
}

/* Read exactly len bytes from fd, running the loop while none are available: 1 done,
 * 0 end of file, -1 deadline. */
static int raw_read_exact(uv_loop_t *loop, int fd, uint8_t *p, size_t len)
{
	uint64_t start = uv_now(loop);
	double deadline = testutil_timeout(20) * 1000;

	while (len > 0) {
		ssize_t n = recv(fd, p, len, MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno == ECONNRESET))
			return 0;
		if (n < 0) {
			cr_assert(eq(int, errno, EAGAIN), "recv: %s", strerror(errno));
			(void)uv_run(loop, UV_RUN_ONCE);
			uv_update_time(loop);
			if ((double)(uv_now(loop) - start) > deadline)
				return -1;
			continue;
		}
		p += n;
		len -= (size_t)n;
	}
	return 1;
}

bool tt_raw_read(uv_loop_t *loop, int fd, struct tt_raw_reply *ret)
{
	uint8_t hdr[TTRPC__HEADER_LEN];
	uint8_t *data;
	Ttrpc__Response *resp = NULL;

	memset(ret, 0, sizeof(*ret));
	if (raw_read_exact(loop, fd, hdr, sizeof(hdr)) != 1)
		return false;
	ttrpc__frame_header_parse(hdr, &ret->h);
	data = malloc(ret->h.length + 1);
	if (raw_read_exact(loop, fd, data, ret->h.length) != 1) {
		free(data);
		return false;
	}
	cr_assert(eq(int, ttrpc__response_unpack(data, ret->h.length, &resp), 0));
	free(data);
	if (resp->status != NULL) {
		ret->code = (uint32_t)resp->status->code;
		(void)snprintf(ret->message, sizeof(ret->message), "%s", resp->status->message);
	}
	ret->len = resp->payload.len;
	if (ret->len > 0) {
		ret->payload = malloc(ret->len);
		memcpy(ret->payload, resp->payload.data, ret->len);
	}
	ttrpc__response_free(resp);
	return true;
}

bool tt_raw_wait_eof(uv_loop_t *loop, int fd)
{
	uint8_t b;
	return raw_read_exact(loop, fd, &b, 1) == 0;
}

void tt_raw_reply_free(struct tt_raw_reply *r)
{
	free(r->payload);
	r->payload = NULL;
}
