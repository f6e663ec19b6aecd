#include "events_queue.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct shim_event {
	struct shim_event *next;
	char topic[32];
	size_t len;
	uint8_t data[];
};

uint64_t shim_event_queue_backoff_ms(unsigned attempt)
{
	uint64_t ms = SHIM_EVENT_RETRY_MIN_MS;

	for (unsigned i = 1; i < attempt && ms < SHIM_EVENT_RETRY_MAX_MS; i++)
		ms *= 2;
	return ms < SHIM_EVENT_RETRY_MAX_MS ? ms : SHIM_EVENT_RETRY_MAX_MS;
}

void shim_event_queue_init(struct shim_event_queue *q, const struct shim_event_queue_ops *ops,
			   void *userdata, size_t max_n, size_t max_bytes)
{
	memset(q, 0, sizeof(*q));
	q->ops = ops;
	q->userdata = userdata;
	q->max_n = max_n;
	q->max_bytes = max_bytes;
}

static void failed(struct shim_event_queue *q, int status)
{
	q->attempts++;
	if (q->ops->failed)
		q->ops->failed(q->userdata, q->head->topic, q->attempts, status);
	q->retry_pending = true;
	q->ops->schedule(q->userdata, shim_event_queue_backoff_ms(q->attempts));
}

/* Send the head if nothing is in flight or waiting for a retry. */
static void pump(struct shim_event_queue *q)
{
	if (!q->head || q->in_flight || q->retry_pending)
		return;
	int r = q->ops->send(q->userdata, q->head->data, q->head->len);
	if (r < 0) {
		failed(q, r);
		return;
	}
	q->in_flight = true;
}

int shim_event_queue_push(struct shim_event_queue *q, const char *topic, const uint8_t *data,
			  size_t len)
{
	if (q->n >= q->max_n || q->bytes + len > q->max_bytes) {
		q->refused++;
		return -ENOBUFS;
	}
	struct shim_event *ev = malloc(sizeof(*ev) + len);
	if (!ev)
		return -ENOMEM;
	ev->next = NULL;
	(void)strncpy(ev->topic, topic ? topic : "", sizeof(ev->topic) - 1);
	ev->topic[sizeof(ev->topic) - 1] = '\0';
	ev->len = len;
	if (len)
		memcpy(ev->data, data, len);
	if (q->tail)
		q->tail->next = ev;
	else
		q->head = ev;
	q->tail = ev;
	q->n++;
	q->bytes += len;
	pump(q);
	return 0;
}

void shim_event_queue_done(struct shim_event_queue *q, int status)
{
	if (!q->in_flight || !q->head)
		return;
	q->in_flight = false;
	if (status < 0) {
		failed(q, status);
		return;
	}
	struct shim_event *ev = q->head;
	q->head = ev->next;
	if (!q->head)
		q->tail = NULL;
	q->n--;
	q->bytes -= ev->len;
	q->attempts = 0;
	q->sent++;
	free(ev);
	pump(q);
}

void shim_event_queue_retry(struct shim_event_queue *q)
{
	if (!q->retry_pending)
		return;
	q->retry_pending = false;
	pump(q);
}

void shim_event_queue_kick(struct shim_event_queue *q)
{
	shim_event_queue_retry(q);
}

const char *shim_event_queue_head_topic(const struct shim_event_queue *q)
{
	return q->head ? q->head->topic : NULL;
}

bool shim_event_queue_idle(const struct shim_event_queue *q)
{
	return !q->head && !q->in_flight;
}

size_t shim_event_queue_clear(struct shim_event_queue *q)
{
	size_t n = 0;

	while (q->head) {
		struct shim_event *ev = q->head;
		q->head = ev->next;
		free(ev);
		n++;
	}
	q->tail = NULL;
	q->n = 0;
	q->bytes = 0;
	q->in_flight = false;
	q->retry_pending = false;
	return n;
}
