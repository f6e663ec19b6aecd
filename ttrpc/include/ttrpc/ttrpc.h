/*
 * libhusk-ttrpc: the ttrpc protocol (containerd's RPC between containerd and its shims) on
 * libuv. Unary calls only: a Request frame (type 1) and its Response frame (type 2) on one
 * odd stream id. Knows nothing of containerd: payloads are opaque bytes.
 *
 * Everything runs on the caller's loop thread; nothing here starts a thread or uses the
 * libuv thread pool. Local failures are -errno; a remote failure is a status code.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

/* Largest data part of a frame (the 10-byte header not included), as in Go's ttrpc. */
#define TTRPC_MAX_DATA_LEN (4u << 20)

/* google.rpc.Code, the status codes ttrpc carries. */
enum ttrpc_code {
	TTRPC_OK = 0,
	TTRPC_CANCELED = 1,
	TTRPC_UNKNOWN = 2,
	TTRPC_INVALID_ARGUMENT = 3,
	TTRPC_DEADLINE_EXCEEDED = 4,
	TTRPC_NOT_FOUND = 5,
	TTRPC_ALREADY_EXISTS = 6,
	TTRPC_PERMISSION_DENIED = 7,
	TTRPC_RESOURCE_EXHAUSTED = 8,
	TTRPC_FAILED_PRECONDITION = 9,
	TTRPC_ABORTED = 10,
	TTRPC_OUT_OF_RANGE = 11,
	TTRPC_UNIMPLEMENTED = 12,
	TTRPC_INTERNAL = 13,
	TTRPC_UNAVAILABLE = 14,
	TTRPC_DATA_LOSS = 15,
	TTRPC_UNAUTHENTICATED = 16,
};

/* "OK", "NotFound", …; "Code(N)" style names are not produced: NULL when out of range. */
const char *ttrpc_code_name(uint32_t code);

/* A remote status: code 0 is success. message is borrowed (valid during the callback). */
struct ttrpc_status {
	uint32_t code;
	const char *message;
};

/* Request metadata (ttrpc.KeyValue); borrowed. */
struct ttrpc_kv {
	const char *key;
	const char *value;
};

/*
 * Log hook for the library's few lines (a dropped connection, a malformed frame). level is
 * syslog-like: 3 error, 4 warning, 6 info, 7 debug. Default: silent. Process-wide.
 */
typedef void ttrpc_log_fn(int level, const char *msg, void *userdata);
void ttrpc_set_log_fn(ttrpc_log_fn *fn, void *userdata);

/* ------------------------------------------------------------------------------------ */
/* Server                                                                                */
/* ------------------------------------------------------------------------------------ */

struct ttrpc_server;

/*
 * One request being served: the reply token. It belongs to the library; the handler (or
 * whoever it hands the call to) ends it exactly once with ttrpc_call_reply() or
 * ttrpc_call_fail(), now or much later (a task Wait replies when a process exits). If the
 * connection closes or the request's timeout_nano passes first, the call's cancel callback
 * runs (see ttrpc_call_on_cancel) and the call is gone: it must not be used afterwards.
 * A call cancelled by its deadline is answered DeadlineExceeded by the library.
 */
struct ttrpc_call;

/* The decoded request; valid until the call ends (reply, fail or cancel). */
struct ttrpc_request {
	const char *service; /* "containerd.task.v2.Task" */
	const char *method;  /* "Create" */
	const uint8_t *payload;
	size_t payload_len;
	int64_t timeout_nano; /* 0: none */
	const struct ttrpc_kv *metadata;
	size_t n_metadata;
	uint32_t stream_id;
};

/* A method handler: runs on the loop; it may reply before returning or keep the call. */
typedef void ttrpc_handler_fn(struct ttrpc_call *call, const struct ttrpc_request *req,
			      void *userdata);

/* Runs when a call ends without a reply (its connection closed, or its deadline passed). */
typedef void ttrpc_cancel_fn(struct ttrpc_call *call, void *userdata);

/* Runs once the server is fully closed (every handle closed); then it may be freed. */
typedef void ttrpc_server_closed_fn(struct ttrpc_server *server, void *userdata);

struct ttrpc_server_options {
	size_t max_connections;	   /* 0: 4096 open connections. Beyond it room is made by
				    * closing, in order: connections whose peer hung up, the
				    * oldest one that has not completed a request (silent ones
				    * first), the longest idle one with no call in flight;
				    * else the new one */
	size_t max_pending;	   /* 0: 128 connections that have not completed a request yet;
				    * beyond it the oldest of them (silent ones first) is closed */
	uint64_t first_request_ms; /* 0: 10 s. A connection that has not completed a request
				    * by then, or that leaves a frame half-sent that long, is
				    * closed */
	size_t max_calls_per_conn; /* 0: 1024 in-flight calls per connection; beyond it a
				    * request is answered ResourceExhausted */
	size_t write_high_water;   /* 0: 8 MiB queued replies per connection; reading that
				    * connection pauses above it and resumes below half */
	bool require_same_user;	   /* close connections whose SO_PEERCRED uid/gid differ
				    * from our euid/egid (Go's UnixSocketRequireSameUser) */
};

/* A new server on loop (no socket yet). opts NULL: defaults. -ENOMEM. */
int ttrpc_server_new(uv_loop_t *loop, const struct ttrpc_server_options *opts,
		     struct ttrpc_server **ret);

/*
 * Register fn for service/method (strings copied). A handler for method NULL is the
 * service's fallback (called for any method of that service without its own handler).
 * Requests for an unknown service get Unimplemented "service <name>"; for a known service
 * and unknown method, Unimplemented "method <name>" (as Go's ttrpc words them).
 * -EEXIST for a duplicate, -ENOMEM.
 */
int ttrpc_server_register(struct ttrpc_server *server, const char *service, const char *method,
			  ttrpc_handler_fn *fn, void *userdata);

/* Bind and listen on a unix socket path (created 0600; an existing path is -EADDRINUSE). */
int ttrpc_server_listen(struct ttrpc_server *server, const char *path);

/* Serve an already-listening unix socket fd (the server owns it from now on). */
int ttrpc_server_adopt(struct ttrpc_server *server, int fd);

/* Connections currently open. */
size_t ttrpc_server_connections(const struct ttrpc_server *server);

/*
 * Stop accepting; let replies already queued be written (bounded: at most linger_ms), then
 * close every connection, cancel every pending call (cancel callbacks run), and call cb.
 * The server is freed after cb returns. Safe to call once; the listening socket file is
 * not unlinked (the owner of the path does that).
 */
void ttrpc_server_close(struct ttrpc_server *server, uint64_t linger_ms, ttrpc_server_closed_fn *cb,
			void *userdata);

/*
 * End the call with a successful Response carrying payload (may be NULL/0 for an empty
 * message: Go sends a Response with no fields at all). Returns 0, or -errno when the reply
 * could not be queued (the call still ends). -EMSGSIZE when payload exceeds the limit: an
 * Internal status is sent instead.
 */
int ttrpc_call_reply(struct ttrpc_call *call, const uint8_t *payload, size_t len);

/* End the call with a status (code != 0) and message (copied). */
int ttrpc_call_fail(struct ttrpc_call *call, uint32_t code, const char *message);

/*
 * Set (or clear with cb NULL) the cancel callback. Without one, a cancelled call simply
 * ends. The callback must not reply.
 */
void ttrpc_call_on_cancel(struct ttrpc_call *call, ttrpc_cancel_fn *cb, void *userdata);

/* The request of a call still in flight. */
const struct ttrpc_request *ttrpc_call_request(const struct ttrpc_call *call);

/* Metadata lookup by key (keys compare case-insensitively); the first value or NULL. */
const char *ttrpc_call_metadata(const struct ttrpc_call *call, const char *key);

/* ------------------------------------------------------------------------------------ */
/* Client                                                                                */
/* ------------------------------------------------------------------------------------ */

struct ttrpc_client;

/*
 * The result of one call, delivered exactly once:
 * - error 0: a Response arrived; status->code is 0 on success (payload valid during the
 *   callback), else the remote's error (status->message may be "").
 * - error < 0: a local failure: -ETIMEDOUT (the per-call timeout passed), -ECONNREFUSED /
 *   -ENOENT (could not connect), -ECONNRESET / -EPIPE (the peer went away), -ECANCELED
 *   (the client was closed), -EMSGSIZE (the response was larger than the limit; it was
 *   dropped and the connection stays usable), -EPROTO (a frame other than a Response
 *   arrived on the call's stream), -EBADMSG (the Response could not be decoded).
 *   status is NULL then.
 */
typedef void ttrpc_response_fn(void *userdata, int error, const struct ttrpc_status *status,
			       const uint8_t *payload, size_t len);

/* Runs once the client is closed and freed. */
typedef void ttrpc_client_closed_fn(void *userdata);

/*
 * A client of the unix socket at path. Connecting starts at once; calls made before the
 * connection is up wait for it. When the connection fails or breaks, every pending call
 * fails and the client is dead: ttrpc_client_dead() says so, further calls fail with
 * -ENOTCONN, and the owner closes it and makes a new one to reconnect.
 */
int ttrpc_client_new(uv_loop_t *loop, const char *path, struct ttrpc_client **ret);

/* One unary call to send (all borrowed for the duration of ttrpc_client_call()). */
struct ttrpc_client_request {
	const char *service; /* "containerd.services.events.ttrpc.v1.Events" */
	const char *method;  /* "Forward" */
	const uint8_t *payload;
	size_t len;
	const struct ttrpc_kv *metadata;
	size_t n_metadata;
	uint64_t timeout_ms; /* 0: none; otherwise also sent as timeout_nano */
};

/*
 * Send one unary call (stream ids odd and increasing). The request's payload and metadata
 * are copied. cb runs exactly once, never from inside this function. -ENOTCONN (dead
 * client), -EMSGSIZE, -ENOMEM.
 */
int ttrpc_client_call(struct ttrpc_client *client, const struct ttrpc_client_request *req,
		      ttrpc_response_fn *cb, void *userdata);

/* True once the connection failed or broke. */
bool ttrpc_client_dead(const struct ttrpc_client *client);

/* Fail pending calls with -ECANCELED, close, free; cb (may be NULL) runs when done. */
void ttrpc_client_close(struct ttrpc_client *client, ttrpc_client_closed_fn *cb, void *userdata);
