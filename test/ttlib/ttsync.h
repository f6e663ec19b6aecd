/*
 * Synchronous ttrpc calls for test programs and benchmarks: a private uv loop, a client,
 * and calls that run the loop until their reply arrives (or a deadline passes). Also a
 * recording Events server, as containerd's, for shims that publish events.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <ttrpc/ttrpc.h>

#include <protobuf-c/protobuf-c.h>
#include <uv.h>

#define TTSYNC_MAX_EVENTS 256

struct ttsync_event {
	char topic[64];
	char type_url[96];
	uint8_t value[512]; /* the event message (truncated beyond) */
	size_t len;
};

struct ttsync {
	uv_loop_t loop;
	struct ttrpc_client *client;
	struct ttrpc_server *events;
	struct ttsync_event ev[TTSYNC_MAX_EVENTS];
	size_t n_ev;
	uint64_t n_ev_total; /* including those beyond TTSYNC_MAX_EVENTS */
	char ns_seen[80];    /* Envelope.namespace of the last event */
	bool bad_event;	     /* an envelope containerd would refuse (no timestamp, prefix) */
};

struct ttsync_reply {
	bool done;
	int error; /* local failure (-errno) */
	uint32_t code;
	char message[512];
	uint8_t *payload; /* malloc'ed copy */
	size_t len;
};

/* Init the loop; events_path non-NULL also serves Events.Forward there. 0 or -errno. */
int ttsync_init(struct ttsync *s, const char *events_path);

/* Connect the client to a socket path (replacing any previous client). */
int ttsync_connect(struct ttsync *s, const char *path);

/* Close everything (client, events server, loop). */
void ttsync_done(struct ttsync *s);

/* Run the loop until *flag or timeout_s passes; *flag's final value. */
bool ttsync_run_until(struct ttsync *s, const bool *flag, double timeout_s);

/* Run the loop until n events have arrived or timeout_s passes. */
bool ttsync_wait_events(struct ttsync *s, size_t n, double timeout_s);

/*
 * One call; req may be NULL (empty message). Returns 0 with *ret filled (ret->code is the
 * remote status), -ETIMEDOUT when no reply came in time, or the local error.
 */
int ttsync_call(struct ttsync *s, const char *service, const char *method,
		const ProtobufCMessage *req, double timeout_s, struct ttsync_reply *ret);

/*
 * Send a call and return at once; ret->done turns true when it ends (run the loop, e.g.
 * ttsync_run_until(s, &ret->done, …)). ret must stay valid until then: the call's own
 * timeout (timeout_s) guarantees that it ends.
 */
int ttsync_call_async(struct ttsync *s, const char *service, const char *method,
		      const ProtobufCMessage *req, double timeout_s, struct ttsync_reply *ret);

/* One call with a request given as raw bytes (for requests protobuf-c cannot build). */
int ttsync_call_raw(struct ttsync *s, const char *service, const char *method,
		    const uint8_t *payload, size_t len, double timeout_s, struct ttsync_reply *ret);

void ttsync_reply_done(struct ttsync_reply *r);

/*
 * Run a shim action as containerd does: `SHIM -namespace NS -address ADDRESS
 * -publish-binary /usr/bin/containerd -id ID -bundle BUNDLE ACTION` in BUNDLE, stdin
 * /dev/null, with env (NULL-terminated "K=V" strings, or NULL) added to ours. Its stdout
 * goes to out (NUL-terminated; *ret_len bytes). Returns the exit status (128+sig for a
 * signal) or -errno.
 */
int ttsync_shim_action(const char *shim, const char *bundle, const char *ns, const char *address,
		       const char *id, const char *action, char *const *env, char *out, size_t size,
		       size_t *ret_len);

/* The same with in[0..in_len) on the action's stdin (in NULL: /dev/null), as containerd
 * writes the runtime options or 2.3's BootstrapParams there. */
int ttsync_shim_action_in(const char *shim, const char *bundle, const char *ns, const char *address,
			  const char *id, const char *action, char *const *env, const void *in,
			  size_t in_len, char *out, size_t size, size_t *ret_len);

/* Monotonic seconds. */
double ttsync_now(void);
