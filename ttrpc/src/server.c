#include "server.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "conn.h"
#include "log.h"
#include "util.h"

#define DEFAULT_MAX_CONNECTIONS	 4096
#define DEFAULT_MAX_PENDING	 128
#define DEFAULT_FIRST_REQUEST_MS 10000
#define DEFAULT_MAX_CALLS	 1024
/* Connections accepted in one turn of the loop before the others wait for the next. */
#define ACCEPT_BURST	   32
#define DEFAULT_HIGH_WATER (8u << 20)

struct server_conn;

struct ttrpc_call {
	struct server_conn *sc; /* NULL once the call has ended */
	struct ttrpc_call *prev;
	struct ttrpc_call *next;
	Ttrpc__Request *msg;
	struct ttrpc_request req;
	struct ttrpc_kv *kv;
	ttrpc_cancel_fn *cancel_cb;
	void *cancel_userdata;
	bool has_timer;
	uv_timer_t timer; /* only initialised when the request has a deadline */
};

struct server_conn {
	struct ttrpc__conn conn; /* first: the ops callbacks cast back */
	struct ttrpc_server *server;
	struct server_conn *prev;
	struct server_conn *next;
	struct ttrpc_call *calls;
	size_t n_calls;
	bool closing;
	bool draining;	      /* the server is closing; close once the write queue is empty */
	bool proven;	      /* a request has been completed (until then it is pending) */
	pid_t peer_pid;	      /* SO_PEERCRED at accept; 0 when unknown */
	uint64_t accepted;    /* loop time of the accept */
	uint64_t last_active; /* loop time of the last request or of the end of a call */
};

enum listener_state { LISTENER_NONE, LISTENER_OPEN, LISTENER_CLOSED };

struct ttrpc_server {
	uv_loop_t *loop;
	struct ttrpc_server_options opts;
	struct ttrpc__service_entry *services;
	uv_pipe_t listener;
	enum listener_state listener_state;
	uv_timer_t linger;
	bool linger_inited;
	bool linger_closing;
	size_t handles;	  /* listener, sweep and linger timers not yet closed */
	uv_timer_t sweep; /* closes connections that stay pending or half-sent too long */
	bool sweep_inited;
	uv_timer_t accept_timer; /* resumes accepting after a burst */
	bool accept_inited;
	bool accept_deferred;
	size_t accept_burst;
	uint64_t burst_tick;
	struct server_conn *conns;
	size_t n_conns;	  /* including those closing */
	size_t n_open;	  /* not closing */
	size_t n_pending; /* not closing and not proven */
	uint64_t requests;
	bool closing;
	bool finished;
	ttrpc_server_closed_fn *closed_cb;
	void *closed_userdata;
};

/* ---- dispatch ---------------------------------------------------------------------- */

static const struct ttrpc__service_entry *lookup(const struct ttrpc_server *s, const char *service,
						 const char *method, bool *ret_known_service)
{
	const struct ttrpc__service_entry *fallback = NULL;

	*ret_known_service = false;
	for (const struct ttrpc__service_entry *e = s->services; e != NULL; e = e->next) {
		if (strcmp(e->service, service) != 0)
			continue;
		*ret_known_service = true;
		if (e->method == NULL)
			fallback = e;
		else if (strcmp(e->method, method) == 0)
			return e;
	}
	return fallback;
}

static void set_fail(struct ttrpc__dispatch *d, uint32_t code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_fail(struct ttrpc__dispatch *d, uint32_t code, const char *fmt, ...)
{
	va_list ap;

	d->action = TTRPC__ACT_FAIL;
	d->code = code;
	va_start(ap, fmt);
	(void)vsnprintf(d->message, sizeof(d->message), fmt, ap);
	va_end(ap);
}

void ttrpc__server_classify(const struct ttrpc_server *server, const struct ttrpc__frame *f,
			    struct ttrpc__dispatch *ret)
{
	Ttrpc__Request *msg = NULL;
	bool known_service;

	ret->action = TTRPC__ACT_IGNORE;
	ret->stream_id = f->header.stream_id;
	ret->msg = NULL;
	ret->entry = NULL;
	/* The order of the checks is Go ttrpc 1.1's (server.go): size, type, decode, id. */
	if (f->kind == TTRPC__FRAME_OVERSIZE) {
		set_fail(ret, TTRPC_RESOURCE_EXHAUSTED,
			 "message length %" PRIu32 " exceed maximum message size of %u",
			 f->header.length, TTRPC_MAX_DATA_LEN);
		return;
	}
	if (f->header.type != TTRPC__MSG_REQUEST)
		return;
	if (ttrpc__request_unpack(f->data, f->header.length, &msg) < 0) {
		set_fail(ret, TTRPC_INVALID_ARGUMENT,
			 "unmarshal request error: proto: cannot parse invalid wire-format data");
		return;
	}
	if (f->header.stream_id % 2 != 1) {
		ttrpc__request_free(msg);
		set_fail(ret, TTRPC_INVALID_ARGUMENT,
			 "StreamID must be odd for client initiated streams");
		return;
	}
	ret->entry = lookup(server, msg->service, msg->method, &known_service);
	if (ret->entry == NULL) {
		if (known_service)
			set_fail(ret, TTRPC_UNIMPLEMENTED, "method %s", msg->method);
		else
			set_fail(ret, TTRPC_UNIMPLEMENTED, "service %s", msg->service);
		ttrpc__request_free(msg);
		return;
	}
	ret->action = TTRPC__ACT_CALL;
	ret->msg = msg;
}

/* ---- replies ----------------------------------------------------------------------- */

static int send_response(struct server_conn *sc, uint32_t stream_id, uint32_t code,
			 const char *message, const uint8_t *payload, size_t len)
{
	size_t size = ttrpc__response_size(code, message, payload, len);
	struct ttrpc__wbuf *w;

	if (size > TTRPC_MAX_DATA_LEN)
		return -EMSGSIZE;
	w = ttrpc__wbuf_new(size);
	if (w == NULL)
		return -ENOMEM;
	ttrpc__response_pack(code, message, payload, len, w->frame + TTRPC__HEADER_LEN);
	return ttrpc__conn_send(&sc->conn, stream_id, TTRPC__MSG_RESPONSE, w);
}

static void call_free_cb(uv_handle_t *h)
{
	free(h->data);
}

/* Unlink call from its connection: from here on it no longer counts as in flight. */
static void call_detach(struct ttrpc_call *call)
{
	struct server_conn *sc = call->sc;

	if (sc == NULL)
		return;
	if (call->prev != NULL)
		call->prev->next = call->next;
	else
		sc->calls = call->next;
	if (call->next != NULL)
		call->next->prev = call->prev;
	sc->n_calls--;
	sc->last_active = uv_now(sc->server->loop);
	call->sc = NULL;
	call->prev = call->next = NULL;
}

static void call_release(struct ttrpc_call *call)
{
	ttrpc__request_free(call->msg);
	call->msg = NULL;
	free(call->kv);
	call->kv = NULL;
	if (call->has_timer) {
		(void)uv_timer_stop(&call->timer);
		uv_close((uv_handle_t *)&call->timer, call_free_cb);
		return;
	}
	free(call);
}

/* Unlink and return the oldest call in flight on sc; NULL when there is none. */
static struct ttrpc_call *pop_call(struct server_conn *sc)
{
	struct ttrpc_call *call = sc->calls;

	if (call == NULL)
		return NULL;
	sc->calls = call->next;
	if (sc->calls != NULL)
		sc->calls->prev = NULL;
	sc->n_calls--;
	sc->last_active = uv_now(sc->server->loop);
	call->sc = NULL;
	call->next = NULL;
	return call;
}

/* The call ends without a reply; its owner hears of it through the cancel callback. */
static void call_cancel(struct ttrpc_call *call)
{
	call_detach(call);
	if (call->cancel_cb != NULL)
		call->cancel_cb(call, call->cancel_userdata);
	call_release(call);
}

int ttrpc_call_reply(struct ttrpc_call *call, const uint8_t *payload, size_t len)
{
	struct server_conn *sc = call->sc;
	uint32_t sid = call->req.stream_id;
	int r = -ECONNRESET;

	call_detach(call);
	if (sc != NULL && !sc->closing) {
		r = send_response(sc, sid, TTRPC_OK, NULL, payload, len);
		if (r == -EMSGSIZE) {
			char msg[128];
			(void)snprintf(msg, sizeof(msg),
				       "response of %zu bytes exceeds maximum message size of %u",
				       len, TTRPC_MAX_DATA_LEN);
			(void)send_response(sc, sid, TTRPC_INTERNAL, msg, NULL, 0);
		}
	}
	call_release(call);
	return r;
}

int ttrpc_call_fail(struct ttrpc_call *call, uint32_t code, const char *message)
{
	struct server_conn *sc = call->sc;
	uint32_t sid = call->req.stream_id;
	int r = -ECONNRESET;

	call_detach(call);
	if (sc != NULL && !sc->closing)
		r = send_response(sc, sid, code != TTRPC_OK ? code : TTRPC_UNKNOWN, message, NULL,
				  0);
	call_release(call);
	return r;
}

void ttrpc_call_on_cancel(struct ttrpc_call *call, ttrpc_cancel_fn *cb, void *userdata)
{
	call->cancel_cb = cb;
	call->cancel_userdata = userdata;
}

const struct ttrpc_request *ttrpc_call_request(const struct ttrpc_call *call)
{
	return &call->req;
}

const char *ttrpc_call_metadata(const struct ttrpc_call *call, const char *key)
{
	for (size_t i = 0; i < call->req.n_metadata; i++)
		if (strcasecmp(call->req.metadata[i].key, key) == 0)
			return call->req.metadata[i].value;
	return NULL;
}

/* ---- calls ------------------------------------------------------------------------- */

static void deadline_cb(uv_timer_t *t)
{
	struct ttrpc_call *call = t->data;
	struct server_conn *sc = call->sc;

	/* Go's handler sees its context expire and returns context.DeadlineExceeded. */
	if (sc != NULL && !sc->closing)
		(void)send_response(sc, call->req.stream_id, TTRPC_DEADLINE_EXCEEDED,
				    "context deadline exceeded", NULL, 0);
	call_cancel(call);
}

static int arm_deadline(struct server_conn *sc, struct ttrpc_call *call)
{
	int64_t ns = call->req.timeout_nano;
	uint64_t ms;

	/* A negative timeout is already past, as Go's context.WithTimeout treats it. */
	ms = ns <= 0 ? 0 : ((uint64_t)ns + 999999) / 1000000;
	(void)uv_timer_init(sc->server->loop, &call->timer);
	call->timer.data = call;
	call->has_timer = true;
	return uv_timer_start(&call->timer, deadline_cb, ms, 0);
}

static void start_call(struct server_conn *sc, struct ttrpc__dispatch *d)
{
	struct ttrpc_call *call = calloc(1, sizeof(*call));
	const struct ttrpc__service_entry *e = d->entry;

	if (call == NULL || ttrpc__request_view(d->msg, d->stream_id, &call->req, &call->kv) < 0) {
		free(call);
		ttrpc__request_free(d->msg);
		(void)send_response(sc, d->stream_id, TTRPC_RESOURCE_EXHAUSTED, "out of memory",
				    NULL, 0);
		return;
	}
	call->msg = d->msg;
	call->sc = sc;
	call->next = sc->calls;
	if (sc->calls != NULL)
		sc->calls->prev = call;
	sc->calls = call;
	sc->n_calls++;
	sc->server->requests++;
	if (call->req.timeout_nano != 0 && arm_deadline(sc, call) < 0) {
		(void)ttrpc_call_fail(call, TTRPC_INTERNAL, "cannot arm the request deadline");
		return;
	}
	e->fn(call, &call->req, e->userdata);
}

static void conn_frame(struct ttrpc__conn *c, const struct ttrpc__frame *f)
{
	struct server_conn *sc = (struct server_conn *)c;
	struct ttrpc__dispatch d;

	if (sc->closing || sc->draining)
		return;
	ttrpc__server_classify(sc->server, f, &d);
	switch (d.action) {
	case TTRPC__ACT_IGNORE:
		break;
	case TTRPC__ACT_FAIL:
		(void)send_response(sc, d.stream_id, d.code, d.message, NULL, 0);
		break;
	case TTRPC__ACT_CALL:
		if (sc->n_calls >= sc->server->opts.max_calls_per_conn) {
			ttrpc__request_free(d.msg);
			(void)send_response(sc, d.stream_id, TTRPC_RESOURCE_EXHAUSTED,
					    "too many requests in flight on this connection", NULL,
					    0);
			break;
		}
		if (!sc->proven) {
			sc->proven = true;
			sc->server->n_pending--;
		}
		sc->last_active = uv_now(sc->server->loop);
		start_call(sc, &d);
		break;
	}
}

/* ---- connections ------------------------------------------------------------------- */

static void maybe_finish(struct ttrpc_server *s);

/* Close once: cancel the calls in flight (their cancel callbacks run), then the handle. */
static void server_conn_close(struct server_conn *sc)
{
	if (sc->closing)
		return;
	sc->closing = true;
	sc->server->n_open--;
	if (!sc->proven)
		sc->server->n_pending--;
	struct ttrpc_call *call;
	while ((call = pop_call(sc)) != NULL)
		call_cancel(call);
	ttrpc__conn_close(&sc->conn);
}

static void conn_error(struct ttrpc__conn *c, int err)
{
	struct server_conn *sc = (struct server_conn *)c;

	if (err != -ECONNRESET)
		ttrpc__log(TTRPC__LOG_DEBUG, "ttrpc: connection failed: %s", uv_strerror(err));
	server_conn_close(sc);
}

static void conn_drained(struct ttrpc__conn *c)
{
	struct server_conn *sc = (struct server_conn *)c;

	if (sc->draining)
		server_conn_close(sc);
}

static void conn_closed(struct ttrpc__conn *c)
{
	struct server_conn *sc = (struct server_conn *)c;
	struct ttrpc_server *s = sc->server;

	if (sc->prev != NULL)
		sc->prev->next = sc->next;
	else
		s->conns = sc->next;
	if (sc->next != NULL)
		sc->next->prev = sc->prev;
	s->n_conns--;
	free(sc);
	maybe_finish(s);
}

static const struct ttrpc__conn_ops server_conn_ops = {
	.frame = conn_frame,
	.error = conn_error,
	.drained = conn_drained,
	.closed = conn_closed,
};

/* Records the peer's pid (for fairness between peers) and checks its uid/gid when asked. */
static bool peer_allowed(struct server_conn *sc)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	uv_os_fd_t fd;

	if (uv_fileno((uv_handle_t *)&sc->conn.pipe, &fd) < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return !sc->server->opts.require_same_user;
	sc->peer_pid = cred.pid;
	if (!sc->server->opts.require_same_user)
		return true;
	return cred.uid == geteuid() && cred.gid == getegid();
}

static size_t open_connections(const struct ttrpc_server *s)
{
	return s->n_open;
}

static int conn_fd(struct server_conn *sc)
{
	uv_os_fd_t fd = -1;

	return uv_fileno((uv_handle_t *)&sc->conn.pipe, &fd) < 0 ? -1 : fd;
}

/* Close every connection whose peer has hung up but whose EOF the loop has not read yet:
 * a burst of connect+close must not count against the next client. */
static void close_dead(struct ttrpc_server *s)
{
	struct pollfd *pfd = calloc(s->n_conns, sizeof(*pfd));
	struct server_conn **who = calloc(s->n_conns, sizeof(struct server_conn *));
	nfds_t n = 0;

	if (pfd != NULL && who != NULL) {
		for (struct server_conn *sc = s->conns; sc != NULL && n < s->n_conns;
		     sc = sc->next) {
			int fd = sc->closing ? -1 : conn_fd(sc);
			if (fd < 0)
				continue;
			pfd[n] = (struct pollfd){.fd = fd, .events = POLLRDHUP};
			who[n++] = sc;
		}
		if (poll(pfd, n, 0) > 0)
			for (nfds_t i = 0; i < n; i++)
				if (pfd[i].revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL))
					server_conn_close(who[i]);
	}
	free(pfd);
	free(who);
}

/* A pending connection that has sent nothing at all (nothing buffered, nothing queued). */
/* Bytes the peer sent that the loop has not read yet (0 when unknown). */
static int unread(struct server_conn *sc)
{
	int fd = conn_fd(sc);
	int avail = 0;

	return fd >= 0 && ioctl(fd, FIONREAD, &avail) == 0 ? avail : 0;
}

static bool silent(struct server_conn *sc)
{
	return !ttrpc__frame_reader_partial(&sc->conn.reader) && unread(sc) == 0;
}

/* Pending connections held by the same peer process as sc (sc included). */
static size_t pending_of_peer(const struct ttrpc_server *s, const struct server_conn *sc)
{
	size_t n = 0;

	for (const struct server_conn *o = s->conns; o != NULL; o = o->next)
		n += !o->closing && !o->proven && o->peer_pid == sc->peer_pid;
	return n;
}

/*
 * The pending connection to close first. It belongs to the peer process that holds the
 * most pending connections, so one process flooding the socket evicts its own and not
 * containerd's single fresh connection; among those, a silent one (nothing sent) before
 * one whose request is already queued (it is read on the next turn of the loop), and the
 * oldest first. With only_silent, never one that has sent something.
 */
static struct server_conn *pick_pending(struct ttrpc_server *s, const struct server_conn *keep,
					bool only_silent)
{
	struct server_conn *best = NULL;
	size_t best_n = 0;
	bool best_silent = false;

	for (struct server_conn *sc = s->conns; sc != NULL; sc = sc->next) {
		if (sc->closing || sc->proven || sc == keep)
			continue;
		bool quiet = silent(sc);
		if (only_silent && !quiet)
			continue;
		size_t n = pending_of_peer(s, sc);
		/* The list is newest first: on a tie, a later match is older and wins. */
		if (best == NULL || n > best_n || (n == best_n && quiet >= best_silent)) {
			best = sc;
			best_n = n;
			best_silent = quiet;
		}
	}
	return best;
}

/* The proven connection with no call in flight that has been idle longest. */
static struct server_conn *pick_idle(struct ttrpc_server *s)
{
	struct server_conn *best = NULL;

	for (struct server_conn *sc = s->conns; sc != NULL; sc = sc->next)
		if (!sc->closing && sc->proven && sc->n_calls == 0 && sc->conn.n_queued == 0 &&
		    (best == NULL || sc->last_active <= best->last_active))
			best = sc;
	return best;
}

/* Bring the counts back under the limits after fresh was accepted; fresh itself is closed
 * only when nothing else can go. */
static void make_room(struct ttrpc_server *s, struct server_conn *fresh)
{
	while (s->n_pending > s->opts.max_pending) {
		struct server_conn *v = pick_pending(s, fresh, true);
		if (v == NULL)
			break;
		server_conn_close(v);
	}
	if (s->n_open > s->opts.max_connections)
		close_dead(s);
	while (s->n_open > s->opts.max_connections && !fresh->closing) {
		/* A connection that never completed a request goes before one that did:
		 * containerd takes its connection closing for the shim's death. */
		struct server_conn *v = pick_pending(s, fresh, false);
		if (v == NULL)
			v = pick_idle(s);
		if (v == NULL) {
			ttrpc__log(TTRPC__LOG_WARNING,
				   "ttrpc: too many connections, closing a new one");
			v = fresh;
		}
		server_conn_close(v);
	}
}

static void sweep_cb(uv_timer_t *t)
{
	struct ttrpc_server *s = t->data;
	uint64_t now = uv_now(s->loop);
	uint64_t limit = s->opts.first_request_ms;

	for (struct server_conn *sc = s->conns; sc != NULL; sc = sc->next) {
		uint64_t since = sc->conn.partial_since;
		if (sc->closing)
			continue;
		bool late = (!sc->proven && now - sc->accepted >= limit) ||
			    (since != 0 && now - (since - 1) >= limit);
		/* Bytes waiting in the socket mean the loop itself was late (a long
		 * synchronous call), not the peer: they are read on this turn. */
		if (late && unread(sc) == 0)
			server_conn_close(sc);
	}
}

static void accept_one(struct ttrpc_server *s)
{
	struct server_conn *sc = calloc(1, sizeof(*sc));

	if (sc == NULL)
		return;
	sc->server = s;
	sc->accepted = sc->last_active = uv_now(s->loop);
	ttrpc__conn_init(&sc->conn, s->loop, &server_conn_ops, s->opts.write_high_water);
	sc->next = s->conns;
	if (s->conns != NULL)
		s->conns->prev = sc;
	s->conns = sc;
	s->n_conns++;
	s->n_open++;
	s->n_pending++;
	if (uv_accept((uv_stream_t *)&s->listener, (uv_stream_t *)&sc->conn.pipe) < 0) {
		server_conn_close(sc);
		return;
	}
	if (!peer_allowed(sc)) {
		ttrpc__log(TTRPC__LOG_WARNING, "ttrpc: peer credentials refused");
		server_conn_close(sc);
		return;
	}
	make_room(s, sc);
	if (!sc->closing && ttrpc__conn_read_start(&sc->conn) < 0)
		server_conn_close(sc);
}

static void accept_resume_cb(uv_timer_t *t)
{
	struct ttrpc_server *s = t->data;

	s->accept_deferred = false;
	s->accept_burst = 0;
	s->burst_tick = uv_now(s->loop);
	if (!s->closing)
		accept_one(s); /* the connection libuv held also re-arms the listener */
}

static void on_connection(uv_stream_t *listener, int status)
{
	struct ttrpc_server *s = listener->data;

	if (status < 0 || s->closing) {
		ttrpc__log(TTRPC__LOG_WARNING, "ttrpc: accept failed: %s", uv_strerror(status));
		return;
	}
	/* libuv accepts until the backlog is empty: a peer that reconnects as fast as it is
	 * evicted would keep this loop turn going forever, and no request would ever be read.
	 * Past a burst, the next connection waits in libuv (which stops watching the listener
	 * meanwhile) until the loop has turned once. */
	if (uv_now(s->loop) != s->burst_tick) {
		s->burst_tick = uv_now(s->loop);
		s->accept_burst = 0;
	}
	if (s->accept_burst >= ACCEPT_BURST) {
		if (!s->accept_deferred) {
			s->accept_deferred = true;
			(void)uv_timer_start(&s->accept_timer, accept_resume_cb, 0, 0);
		}
		return;
	}
	s->accept_burst++;
	accept_one(s);
}

/* ---- server ------------------------------------------------------------------------ */

int ttrpc_server_new(uv_loop_t *loop, const struct ttrpc_server_options *opts,
		     struct ttrpc_server **ret)
{
	struct ttrpc_server *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return -ENOMEM;
	s->loop = loop;
	if (opts != NULL)
		s->opts = *opts;
	if (s->opts.max_connections == 0)
		s->opts.max_connections = DEFAULT_MAX_CONNECTIONS;
	if (s->opts.max_pending == 0)
		s->opts.max_pending = DEFAULT_MAX_PENDING;
	if (s->opts.first_request_ms == 0)
		s->opts.first_request_ms = DEFAULT_FIRST_REQUEST_MS;
	if (s->opts.max_calls_per_conn == 0)
		s->opts.max_calls_per_conn = DEFAULT_MAX_CALLS;
	if (s->opts.write_high_water == 0)
		s->opts.write_high_water = DEFAULT_HIGH_WATER;
	*ret = s;
	return 0;
}

static char *strdup_or_null(const char *s, bool *ret_failed)
{
	char *d;

	if (s == NULL)
		return NULL;
	d = strdup(s);
	*ret_failed = d == NULL;
	return d;
}

int ttrpc_server_register(struct ttrpc_server *server, const char *service, const char *method,
			  ttrpc_handler_fn *fn, void *userdata)
{
	struct ttrpc__service_entry *e;
	bool failed = false;

	for (e = server->services; e != NULL; e = e->next) {
		if (strcmp(e->service, service) != 0)
			continue;
		if ((e->method == NULL && method == NULL) ||
		    (e->method != NULL && method != NULL && strcmp(e->method, method) == 0))
			return -EEXIST;
	}
	e = calloc(1, sizeof(*e));
	if (e == NULL)
		return -ENOMEM;
	e->service = strdup_or_null(service, &failed);
	if (!failed)
		e->method = strdup_or_null(method, &failed);
	if (failed) {
		free(e->service);
		free(e);
		return -ENOMEM;
	}
	e->fn = fn;
	e->userdata = userdata;
	e->next = server->services;
	server->services = e;
	return 0;
}

static void handle_closed_cb(uv_handle_t *h)
{
	struct ttrpc_server *s = h->data;

	s->handles--;
	maybe_finish(s);
}

int ttrpc_server_adopt(struct ttrpc_server *server, int fd)
{
	int r;

	if (server->listener_state != LISTENER_NONE || server->closing) {
		(void)close(fd);
		return -EBUSY;
	}
	(void)uv_pipe_init(server->loop, &server->listener, 0);
	server->listener.data = server;
	server->handles++;
	server->listener_state = LISTENER_OPEN;
	r = uv_pipe_open(&server->listener, fd);
	if (r < 0)
		(void)close(fd);
	if (r == 0)
		r = uv_listen((uv_stream_t *)&server->listener, SOMAXCONN, on_connection);
	if (r < 0) {
		server->listener_state = LISTENER_CLOSED;
		uv_close((uv_handle_t *)&server->listener, handle_closed_cb);
		return r;
	}
	/* Checked a few times per limit, so a connection goes at most 25% late. */
	uint64_t every = server->opts.first_request_ms / 4;
	(void)uv_timer_init(server->loop, &server->sweep);
	server->sweep.data = server;
	server->sweep_inited = true;
	server->handles++;
	(void)uv_timer_start(&server->sweep, sweep_cb, every ? every : 1, every ? every : 1);
	uv_unref((uv_handle_t *)&server->sweep);
	(void)uv_timer_init(server->loop, &server->accept_timer);
	server->accept_timer.data = server;
	server->accept_inited = true;
	server->handles++;
	return 0;
}

int ttrpc_server_listen(struct ttrpc_server *server, const char *path)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	_cleanup_close_ int fd = -1;

	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	if (server->listener_state != LISTENER_NONE || server->closing)
		return -EBUSY;
	memcpy(addr.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* Linux gives the socket file the mode of the socket inode (less the umask) at bind
	 * time, so the path never exists with a wider mode than 0600. */
	if (fchmod(fd, 0600) < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return -errno;
	if (listen(fd, SOMAXCONN) < 0) {
		int r = -errno;
		(void)unlink(path);
		return r;
	}
	return ttrpc_server_adopt(server, TAKE_FD(fd));
}

size_t ttrpc_server_connections(const struct ttrpc_server *server)
{
	return open_connections(server);
}

static void linger_cb(uv_timer_t *t)
{
	struct ttrpc_server *s = t->data;

	for (struct server_conn *sc = s->conns; sc != NULL; sc = sc->next)
		server_conn_close(sc);
}

static void server_free(struct ttrpc_server *s)
{
	while (s->services != NULL) {
		struct ttrpc__service_entry *e = s->services;
		s->services = e->next;
		free(e->service);
		free(e->method);
		free(e);
	}
	free(s);
}

static void maybe_finish(struct ttrpc_server *s)
{
	if (!s->closing || s->finished)
		return;
	if (s->n_conns == 0 && s->linger_inited && !s->linger_closing) {
		s->linger_closing = true;
		(void)uv_timer_stop(&s->linger);
		uv_close((uv_handle_t *)&s->linger, handle_closed_cb);
	}
	if (s->n_conns > 0 || s->handles > 0)
		return;
	s->finished = true;
	if (s->closed_cb != NULL)
		s->closed_cb(s, s->closed_userdata);
	server_free(s);
}

void ttrpc_server_close(struct ttrpc_server *server, uint64_t linger_ms, ttrpc_server_closed_fn *cb,
			void *userdata)
{
	struct ttrpc_server *s = server;

	if (s->closing)
		return;
	s->closing = true;
	s->closed_cb = cb;
	s->closed_userdata = userdata;
	if (s->listener_state == LISTENER_OPEN) {
		s->listener_state = LISTENER_CLOSED;
		uv_close((uv_handle_t *)&s->listener, handle_closed_cb);
	}
	if (s->sweep_inited) {
		s->sweep_inited = false;
		(void)uv_timer_stop(&s->sweep);
		uv_close((uv_handle_t *)&s->sweep, handle_closed_cb);
	}
	if (s->accept_inited) {
		s->accept_inited = false;
		(void)uv_timer_stop(&s->accept_timer);
		uv_close((uv_handle_t *)&s->accept_timer, handle_closed_cb);
	}
	/* The timer is a handle of its own, so cb always runs from a close callback and never
	 * from inside this function. */
	(void)uv_timer_init(s->loop, &s->linger);
	s->linger.data = s;
	s->linger_inited = true;
	s->handles++;
	for (struct server_conn *sc = s->conns; sc != NULL; sc = sc->next) {
		ttrpc__conn_read_stop(&sc->conn);
		sc->draining = true;
		if (sc->conn.n_queued == 0)
			server_conn_close(sc);
	}
	if (s->n_conns > 0)
		(void)uv_timer_start(&s->linger, linger_cb, linger_ms, 0);
	maybe_finish(s);
}

void ttrpc__server_get_stats(const struct ttrpc_server *server, struct ttrpc__server_stats *ret)
{
	*ret = (struct ttrpc__server_stats){.requests = server->requests};
	for (const struct server_conn *sc = server->conns; sc != NULL; sc = sc->next) {
		if (sc->closing)
			continue;
		ret->connections++;
		ret->calls += sc->n_calls;
		ret->queued_bytes += sc->conn.queued;
		ret->paused += sc->conn.paused;
	}
}
