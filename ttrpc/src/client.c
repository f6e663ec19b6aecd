#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sys/un.h>

#include "conn.h"
#include "envelope.h"
#include "log.h"
#include "ttrpc/ttrpc.h"

enum client_state { CLIENT_CONNECTING, CLIENT_CONNECTED, CLIENT_DEAD };

struct client_call {
	struct ttrpc_client *client; /* NULL once the call has ended */
	struct client_call *prev;
	struct client_call *next;
	uint32_t stream_id;
	ttrpc_response_fn *cb;
	void *userdata;
	struct ttrpc__wbuf *unsent; /* the request, while the connection is not up yet */
	bool has_timer;
	uv_timer_t timer;
};

struct ttrpc_client {
	struct ttrpc__conn conn; /* first: the ops callbacks cast back */
	uv_connect_t connect_req;
	uv_loop_t *loop;
	enum client_state state;
	bool closing;
	uint32_t next_id;
	struct client_call *calls; /* oldest first */
	struct client_call *last;
	ttrpc_client_closed_fn *closed_cb;
	void *closed_userdata;
};

static void call_free_cb(uv_handle_t *h)
{
	free(h->data);
}

static void call_detach(struct client_call *call)
{
	struct ttrpc_client *c = call->client;

	if (c == NULL)
		return;
	if (call->prev != NULL)
		call->prev->next = call->next;
	else
		c->calls = call->next;
	if (call->next != NULL)
		call->next->prev = call->prev;
	else
		c->last = call->prev;
	call->client = NULL;
	call->prev = call->next = NULL;
}

static void call_release(struct client_call *call)
{
	free(call->unsent);
	call->unsent = NULL;
	if (call->has_timer) {
		(void)uv_timer_stop(&call->timer);
		uv_close((uv_handle_t *)&call->timer, call_free_cb);
		return;
	}
	free(call);
}

/* Deliver a local failure: the call ends. */
static void call_fail(struct client_call *call, int err)
{
	call_detach(call);
	call->cb(call->userdata, err, NULL, NULL, 0);
	call_release(call);
}

/* Unlink the oldest pending call; NULL when there is none. */
static struct client_call *pop_oldest(struct ttrpc_client *c)
{
	struct client_call *call = c->calls;

	if (call == NULL)
		return NULL;
	c->calls = call->next;
	if (c->calls != NULL)
		c->calls->prev = NULL;
	else
		c->last = NULL;
	call->client = NULL;
	call->next = NULL;
	return call;
}

static void fail_all(struct ttrpc_client *c, int err)
{
	struct client_call *call;

	while ((call = pop_oldest(c)) != NULL) {
		call->cb(call->userdata, err, NULL, NULL, 0);
		call_release(call);
	}
}

/* The connection failed or broke: every pending call fails, the client stays dead. */
static void die(struct ttrpc_client *c, int err)
{
	if (c->state == CLIENT_DEAD)
		return;
	c->state = CLIENT_DEAD;
	ttrpc__conn_read_stop(&c->conn);
	fail_all(c, err);
}

static struct client_call *find_call(struct ttrpc_client *c, uint32_t stream_id)
{
	for (struct client_call *call = c->calls; call != NULL; call = call->next)
		if (call->stream_id == stream_id && call->unsent == NULL)
			return call;
	return NULL;
}

static void deliver(struct client_call *call, const struct ttrpc__frame *f)
{
	Ttrpc__Response *resp = NULL;
	struct ttrpc_status st = {.code = TTRPC_OK, .message = ""};

	if (f->kind == TTRPC__FRAME_OVERSIZE) {
		call_fail(call, -EMSGSIZE);
		return;
	}
	/* Go's client fails the call on a frame type other than Response. */
	if (f->header.type != TTRPC__MSG_RESPONSE) {
		call_fail(call, -EPROTO);
		return;
	}
	if (ttrpc__response_unpack(f->data, f->header.length, &resp) < 0) {
		call_fail(call, -EBADMSG);
		return;
	}
	if (resp->status != NULL) {
		st.code = (uint32_t)resp->status->code;
		st.message = resp->status->message != NULL ? resp->status->message : "";
	}
	call_detach(call);
	call->cb(call->userdata, 0, &st, resp->payload.data, resp->payload.len);
	ttrpc__response_free(resp);
	call_release(call);
}

static void conn_frame(struct ttrpc__conn *conn, const struct ttrpc__frame *f)
{
	struct ttrpc_client *c = (struct ttrpc_client *)conn;
	struct client_call *call = find_call(c, f->header.stream_id);

	if (call == NULL) {
		ttrpc__log(TTRPC__LOG_DEBUG, "ttrpc: received message for unknown channel %u",
			   (unsigned int)f->header.stream_id);
		return;
	}
	deliver(call, f);
}

static void conn_error(struct ttrpc__conn *conn, int err)
{
	die((struct ttrpc_client *)conn, err);
}

static void conn_closed(struct ttrpc__conn *conn)
{
	struct ttrpc_client *c = (struct ttrpc_client *)conn;

	if (c->closed_cb != NULL)
		c->closed_cb(c->closed_userdata);
	free(c);
}

static const struct ttrpc__conn_ops client_conn_ops = {
	.frame = conn_frame,
	.error = conn_error,
	.closed = conn_closed,
};

static void connect_cb(uv_connect_t *req, int status)
{
	struct ttrpc_client *c = req->data;
	int r;

	/* UV_ECANCELED: ttrpc_client_close() closed the handle while connecting. */
	if (status == UV_ECANCELED || c->closing)
		return;
	if (status < 0) {
		die(c, status);
		return;
	}
	c->state = CLIENT_CONNECTED;
	r = ttrpc__conn_read_start(&c->conn);
	if (r < 0) {
		die(c, r);
		return;
	}
	for (struct client_call *call = c->calls; call != NULL; call = call->next) {
		if (call->unsent == NULL)
			continue;
		r = ttrpc__conn_send(&c->conn, call->stream_id, TTRPC__MSG_REQUEST, call->unsent);
		call->unsent = NULL;
		if (r < 0) {
			die(c, r);
			return;
		}
	}
}

int ttrpc_client_new(uv_loop_t *loop, const char *path, struct ttrpc_client **ret)
{
	struct sockaddr_un addr;
	struct ttrpc_client *c;

	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	c->loop = loop;
	c->next_id = 1;
	ttrpc__conn_init(&c->conn, loop, &client_conn_ops, 0);
	c->connect_req.data = c;
	/* libuv completes a unix-socket connect from the loop, never from a thread. */
	uv_pipe_connect(&c->connect_req, &c->conn.pipe, path, connect_cb);
	*ret = c;
	return 0;
}

static void timeout_cb(uv_timer_t *t)
{
	call_fail(t->data, -ETIMEDOUT);
}

static struct ttrpc__wbuf *build_request(const struct ttrpc_client_request *cr, int *ret_err)
{
	uint64_t timeout_ms = cr->timeout_ms;
	struct ttrpc_request req = {
		.service = cr->service,
		.method = cr->method,
		.payload = cr->payload,
		.payload_len = cr->len,
		.timeout_nano = timeout_ms > INT64_MAX / 1000000 ? INT64_MAX
								 : (int64_t)(timeout_ms * 1000000),
		.metadata = cr->metadata,
		.n_metadata = cr->n_metadata,
	};
	struct ttrpc__wbuf *w;
	size_t size;

	*ret_err = ttrpc__request_size(&req, &size);
	if (*ret_err < 0)
		return NULL;
	if (size > TTRPC_MAX_DATA_LEN) {
		*ret_err = -EMSGSIZE;
		return NULL;
	}
	w = ttrpc__wbuf_new(size);
	if (w == NULL) {
		*ret_err = -ENOMEM;
		return NULL;
	}
	*ret_err = ttrpc__request_pack(&req, w->frame + TTRPC__HEADER_LEN, size);
	if (*ret_err < 0) {
		free(w);
		return NULL;
	}
	return w;
}

static void link_call(struct ttrpc_client *c, struct client_call *call)
{
	call->client = c;
	call->prev = c->last;
	if (c->last != NULL)
		c->last->next = call;
	else
		c->calls = call;
	c->last = call;
}

int ttrpc_client_call(struct ttrpc_client *client, const struct ttrpc_client_request *req,
		      ttrpc_response_fn *cb, void *userdata)
{
	uint64_t timeout_ms = req->timeout_ms;
	struct ttrpc_client *c = client;
	struct client_call *call;
	struct ttrpc__wbuf *w;
	int r;

	if (c->state == CLIENT_DEAD || c->closing || c->next_id > UINT32_MAX - 2)
		return -ENOTCONN;
	w = build_request(req, &r);
	if (w == NULL)
		return r;
	call = calloc(1, sizeof(*call));
	if (call == NULL) {
		free(w);
		return -ENOMEM;
	}
	call->cb = cb;
	call->userdata = userdata;
	call->stream_id = c->next_id;
	if (timeout_ms > 0) {
		(void)uv_timer_init(c->loop, &call->timer);
		call->timer.data = call;
		call->has_timer = true;
		(void)uv_timer_start(&call->timer, timeout_cb, timeout_ms, 0);
	}
	if (c->state == CLIENT_CONNECTING) {
		call->unsent = w;
	} else {
		r = ttrpc__conn_send(&c->conn, call->stream_id, TTRPC__MSG_REQUEST, w);
		if (r < 0) {
			call_release(call);
			return r;
		}
	}
	c->next_id += 2;
	link_call(c, call);
	return 0;
}

bool ttrpc_client_dead(const struct ttrpc_client *client)
{
	return client->state == CLIENT_DEAD;
}

void ttrpc_client_close(struct ttrpc_client *client, ttrpc_client_closed_fn *cb, void *userdata)
{
	struct ttrpc_client *c = client;

	if (c->closing)
		return;
	c->closing = true;
	c->closed_cb = cb;
	c->closed_userdata = userdata;
	fail_all(c, -ECANCELED);
	ttrpc__conn_close(&c->conn);
}
