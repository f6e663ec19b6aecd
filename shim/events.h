/*
 * The events publisher: serialized events go through the ordered, bounded queue
 * (events_queue.h) to containerd's Events.Forward over a ttrpc client of TTRPC_ADDRESS.
 * The client is made lazily and remade after containerd goes away, so events queued
 * while containerd restarts are delivered once it is back, in order.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

struct shim_publisher;

/* Bounds of the queue (the Go publisher keeps 2048 events). */
#define SHIM_EVENTS_MAX_QUEUED 2048
#define SHIM_EVENTS_MAX_BYTES  (8u << 20)
/* Per Forward call, as the Go publisher sets it. */
#define SHIM_EVENTS_CALL_TIMEOUT_MS 5000

/*
 * A publisher for namespace ns (copied) to the ttrpc socket at address (a path, with or
 * without "unix://"; copied). -ENOMEM, -EINVAL for an empty address.
 */
int shim_publisher_new(uv_loop_t *loop, const char *address, const char *ns,
		       struct shim_publisher **ret);

typedef void shim_publisher_drained_fn(void *userdata, bool drained);

/*
 * Call cb once nothing is queued or in flight (drained true), or after timeout_ms with
 * events still queued (false). Used on shutdown: the Go shim waits up to 5 s.
 */
void shim_publisher_drain(struct shim_publisher *pub, uint64_t timeout_ms,
			  shim_publisher_drained_fn *cb, void *userdata);

/* Events delivered, refused because the queue was full, and rejected by containerd. */
uint64_t shim_publisher_sent(const struct shim_publisher *pub);
uint64_t shim_publisher_refused(const struct shim_publisher *pub);
uint64_t shim_publisher_rejected(const struct shim_publisher *pub);

/* Discard what is queued (logged with the count), close the client and the timers, free
 * once every handle is closed. NULL allowed. */
void shim_publisher_free(struct shim_publisher *pub);
