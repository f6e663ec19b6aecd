/*
 * The ordered, bounded queue behind event publishing (pure logic, no I/O).
 *
 * Exactly one event is in flight at a time: containerd's ttrpc server handles each request
 * in its own goroutine, so two pipelined Forward calls could be delivered out of order.
 * A failed send is retried at the head of the line with exponential backoff; later events
 * wait behind it, so nothing is reordered and nothing is dropped on retry. The queue is
 * bounded (events and bytes): when it is full the NEW event is refused and counted, and the
 * caller logs it — a loud, explicit loss instead of unbounded memory while containerd is away.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct shim_event_queue_ops {
	/*
	 * Begin sending one serialized event. Return 0 when the send started: its result is
	 * reported later with shim_event_queue_done() (never from inside this call). A
	 * negative return means it could not start (e.g. not connected) and counts as a
	 * failed attempt.
	 */
	int (*send)(void *userdata, const uint8_t *data, size_t len);
	/* Arrange for shim_event_queue_retry() to be called after delay_ms. */
	void (*schedule)(void *userdata, uint64_t delay_ms);
	/* A send failed: attempt is 1 for the first failure of this event (for logging). */
	void (*failed)(void *userdata, const char *topic, unsigned attempt, int error);
};

struct shim_event;

struct shim_event_queue {
	const struct shim_event_queue_ops *ops;
	void *userdata;
	struct shim_event *head;
	struct shim_event *tail;
	size_t n;
	size_t bytes;
	size_t max_n;
	size_t max_bytes;
	bool in_flight;	    /* the head is being sent */
	bool retry_pending; /* a retry is scheduled */
	unsigned attempts;  /* failed attempts of the head */
	uint64_t sent;	    /* events delivered */
	uint64_t refused;   /* events refused because the queue was full */
};

/* Backoff after the n-th failure of the head: 100 ms doubling, at most 5 s. */
#define SHIM_EVENT_RETRY_MIN_MS 100
#define SHIM_EVENT_RETRY_MAX_MS 5000
uint64_t shim_event_queue_backoff_ms(unsigned attempt);

void shim_event_queue_init(struct shim_event_queue *q, const struct shim_event_queue_ops *ops,
			   void *userdata, size_t max_n, size_t max_bytes);

/*
 * Append a copy of data (topic is copied for logs). Starts sending when idle.
 * -ENOBUFS when full (refused counter incremented), -ENOMEM.
 */
int shim_event_queue_push(struct shim_event_queue *q, const char *topic, const uint8_t *data,
			  size_t len);

/* Result of the send in flight: 0 delivered (the next one starts), else retried later. */
void shim_event_queue_done(struct shim_event_queue *q, int status);

/* The scheduled retry is due: resend the head. */
void shim_event_queue_retry(struct shim_event_queue *q);

/* Try the head again now (e.g. the connection came back), cancelling the wait. */
void shim_event_queue_kick(struct shim_event_queue *q);

/* The topic of the event at the head (being sent or waiting for a retry); NULL if none. */
const char *shim_event_queue_head_topic(const struct shim_event_queue *q);

/* Nothing queued and nothing in flight. */
bool shim_event_queue_idle(const struct shim_event_queue *q);

/* Free everything still queued; returns how many events were discarded. */
size_t shim_event_queue_clear(struct shim_event_queue *q);
