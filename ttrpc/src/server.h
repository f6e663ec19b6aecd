/*
 * The server's decision for one incoming frame, separate from any connection so that it
 * is unit-tested and fuzzed on plain bytes (shared/docs/protocol.md §1.3, §1.4, §1.7):
 * oversize → ResourceExhausted, non-Request types ignored (ttrpc 1.1), undecodable Request →
 * InvalidArgument, even stream id → InvalidArgument, unknown service or method →
 * Unimplemented, else a call of a registered handler.
 */
#pragma once

#include <stdint.h>

#include "envelope.h"
#include "frame.h"
#include "ttrpc/ttrpc.h"

/* A registered handler. */
struct ttrpc__service_entry {
	struct ttrpc__service_entry *next;
	char *service;
	char *method; /* NULL: the service's fallback */
	ttrpc_handler_fn *fn;
	void *userdata;
};

enum ttrpc__action {
	TTRPC__ACT_IGNORE = 0, /* no reply at all */
	TTRPC__ACT_FAIL,       /* reply with status {code, message} */
	TTRPC__ACT_CALL,       /* run entry->fn for msg */
};

struct ttrpc__dispatch {
	enum ttrpc__action action;
	uint32_t stream_id;
	uint32_t code;
	char message[1024];
	Ttrpc__Request *msg; /* ACT_CALL: the caller owns it (ttrpc__request_free) */
	const struct ttrpc__service_entry *entry;
};

/* Classify frame f (kind DATA or OVERSIZE). Cannot fail: an allocation failure while
 * decoding is answered like malformed input. */
void ttrpc__server_classify(const struct ttrpc_server *server, const struct ttrpc__frame *f,
			    struct ttrpc__dispatch *ret);

/* Counters for tests and diagnostics. */
struct ttrpc__server_stats {
	size_t connections;  /* open (not closing) */
	size_t calls;	     /* in flight over all connections */
	size_t queued_bytes; /* reply bytes not yet written, all connections */
	size_t paused;	     /* connections whose reading is held by back-pressure */
	uint64_t requests;   /* handler invocations since the server started */
};
void ttrpc__server_get_stats(const struct ttrpc_server *server, struct ttrpc__server_stats *ret);
