/*
 * Fixtures for the ttrpc server/client suites: a loop with a server listening in a private
 * temp dir, a small test service, result collectors for client calls, and a raw
 * non-blocking socket client for frames the library would never send itself.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "frame.h"
#include "ttrpc/ttrpc.h"

#define TT_SERVICE   "test.Svc"
#define TT_MAX_CALLS 512

struct tt_env {
	uv_loop_t loop;
	char *dir;
	char path[108];
	struct ttrpc_server *server;
	bool server_closed;
	/* calls kept by the Defer and Hang handlers, in arrival order */
	struct ttrpc_call *kept[TT_MAX_CALLS];
	size_t n_kept;
	size_t n_cancelled;
	size_t n_handled;
};

/*
 * Loop, temp dir and a server (opts may be NULL) listening on <dir>/s with service
 * test.Svc: Echo (reply with the payload), Defer (keep the call), Hang (keep it, count
 * cancels), Meta (reply with metadata "x-key"), ReplyClose (reply, then close the server
 * with a linger), and a fallback for service test.Any that replies with the method name.
 */
void tt_env_setup(struct tt_env *e, const struct ttrpc_server_options *opts);

/* Close the server if still open, run the loop until every handle is closed. */
void tt_env_teardown(struct tt_env *e);

/* Close the server (linger_ms) and run the loop until its closed callback ran. */
void tt_env_close_server(struct tt_env *e, uint64_t linger_ms);

/* Run the loop until pred(arg) holds; false if the (scaled) deadline passed first. */
bool tt_run_until(uv_loop_t *loop, bool (*pred)(void *), void *arg, double seconds);

/* Keep running the loop while it makes progress without blocking (bounded). */
void tt_run_idle(uv_loop_t *loop);

/* The outcome of one client call. */
struct tt_result {
	bool done;
	int err;
	uint32_t code;
	char message[256];
	uint8_t *payload;
	size_t len;
};

void tt_result_cb(void *userdata, int error, const struct ttrpc_status *status,
		  const uint8_t *payload, size_t len);
bool tt_result_done(void *result);
void tt_result_free(struct tt_result *r);

/* Call and wait for the result. */
void tt_call_sync(uv_loop_t *loop, struct ttrpc_client *c, const char *service, const char *method,
		  const void *payload, size_t len, uint64_t timeout_ms, struct tt_result *ret);

struct sockaddr_un;

/* Fill a unix socket address for path (asserts it fits). */
void tt_sockaddr(struct sockaddr_un *addr, const char *path);

/* Raw client: a non-blocking connected socket. */
int tt_raw_connect(const char *path);

/* Write all of buf, running the loop whenever the socket is full. */
void tt_raw_send(uv_loop_t *loop, int fd, const void *buf, size_t len);

/* Send a frame with an arbitrary header and data. */
void tt_raw_frame(uv_loop_t *loop, int fd, uint32_t stream_id, uint8_t type, const void *data,
		  size_t len);

/* Send a Request frame. */
void tt_raw_request(uv_loop_t *loop, int fd, uint32_t stream_id, const char *service,
		    const char *method, const void *payload, size_t len, int64_t timeout_nano);

/* A frame read back by the raw client, with its Response decoded. */
struct tt_raw_reply {
	struct ttrpc__frame_header h;
	uint32_t code;
	char message[1100];
	uint8_t *payload;
	size_t len;
};

/* Run the loop until a whole frame arrives on fd; false on deadline or EOF. */
bool tt_raw_read(uv_loop_t *loop, int fd, struct tt_raw_reply *ret);

/* True once the peer closed fd (run the loop until then, bounded). */
bool tt_raw_wait_eof(uv_loop_t *loop, int fd);

void tt_raw_reply_free(struct tt_raw_reply *r);
