/*
 * Events.Forward to containerd, one event in flight at a time (events_queue.c keeps the
 * order and the retries). A failed connection is dropped and a new client is made at the
 * next attempt: containerd may be restarting, and its socket comes back at the same path.
 */
#include "events.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <ttrpc/ttrpc.h>

#include "convert.h"
#include "events_queue.h"
#include "husk/err.h"
#include "log.h"
#include "shim.h"

#define EVENTS_SERVICE "containerd.services.events.ttrpc.v1.Events"
/* namespaces.TTRPCHeader: containerd does not need it, the Go shims send it. */
#define NAMESPACE_HEADER "containerd-namespace-ttrpc"

struct shim_publisher {
	uv_loop_t *loop;
	char *path;
	char *ns;
	struct shim_event_queue queue;
	struct ttrpc_client *client;
	bool client_failed; /* the last call on client failed locally: remake it */
	uv_timer_t retry;
	uv_timer_t drain_timer;
	shim_publisher_drained_fn *drained;
	void *drained_ud;
	uint64_t rejected;
	unsigned open; /* handles and clients still closing */
	bool closing;
};

static void release(struct shim_publisher *pub)
{
	if (--pub->open > 0)
		return;
	free(pub->path);
	free(pub->ns);
	free(pub);
}

static void handle_closed(uv_handle_t *h)
{
	release(h->data);
}

static void client_closed(void *userdata)
{
	release(userdata);
}

static void drop_client(struct shim_publisher *pub)
{
	if (!pub->client)
		return;
	pub->open++;
	ttrpc_client_close(pub->client, client_closed, pub);
	pub->client = NULL;
	pub->client_failed = false;
}

static void check_drained(struct shim_publisher *pub)
{
	if (!pub->drained || !shim_event_queue_idle(&pub->queue))
		return;
	shim_publisher_drained_fn *cb = pub->drained;
	pub->drained = NULL;
	(void)uv_timer_stop(&pub->drain_timer);
	cb(pub->drained_ud, true);
}

static void forward_done(void *userdata, int error, const struct ttrpc_status *status,
			 const uint8_t *payload, size_t len)
{
	struct shim_publisher *pub = userdata;

	(void)payload;
	(void)len;
	if (pub->closing)
		return;
	if (error < 0) {
		pub->client_failed = true;
		shim_event_queue_done(&pub->queue, error);
		return;
	}
	if (status->code != TTRPC_OK) {
		/*
		 * containerd refused the event itself (InvalidArgument from its validation):
		 * sending it again cannot help and would hold every later event back.
		 */
		pub->rejected++;
		shim_log_error("event %s rejected by containerd: %s (%s), dropping it",
			       shim_event_queue_head_topic(&pub->queue)
				       ? shim_event_queue_head_topic(&pub->queue)
				       : "?",
			       status->message ? status->message : "",
			       ttrpc_code_name(status->code) ? ttrpc_code_name(status->code) : "?");
	}
	shim_event_queue_done(&pub->queue, 0);
	check_drained(pub);
}

static int send_event(void *userdata, const uint8_t *data, size_t len)
{
	struct shim_publisher *pub = userdata;
	const struct ttrpc_kv md = {.key = NAMESPACE_HEADER, .value = pub->ns};

	if (pub->client && (pub->client_failed || ttrpc_client_dead(pub->client)))
		drop_client(pub);
	if (!pub->client) {
		int r = ttrpc_client_new(pub->loop, pub->path, &pub->client);
		if (r < 0)
			return r;
	}
	struct ttrpc_client_request req = {
		.service = EVENTS_SERVICE,
		.method = "Forward",
		.payload = data,
		.len = len,
		.metadata = &md,
		.n_metadata = 1,
		.timeout_ms = SHIM_EVENTS_CALL_TIMEOUT_MS,
	};
	int r = ttrpc_client_call(pub->client, &req, forward_done, pub);
	if (r < 0)
		pub->client_failed = true;
	return r;
}

static void retry_cb(uv_timer_t *t)
{
	struct shim_publisher *pub = t->data;

	shim_event_queue_retry(&pub->queue);
}

static void schedule(void *userdata, uint64_t delay_ms)
{
	struct shim_publisher *pub = userdata;

	(void)uv_timer_start(&pub->retry, retry_cb, delay_ms, 0);
}

static void failed(void *userdata, const char *topic, unsigned attempt, int error)
{
	(void)userdata;
	/* The first failure and then every tenth: containerd may be down for a while. */
	if (attempt == 1 || attempt % 10 == 0)
		shim_log_warn("publish %s (attempt %u): %s, retrying", topic, attempt,
			      strerror(-error));
}

static const struct shim_event_queue_ops queue_ops = {
	.send = send_event,
	.schedule = schedule,
	.failed = failed,
};

int shim_publisher_new(uv_loop_t *loop, const char *address, const char *ns,
		       struct shim_publisher **ret)
{
	static const char prefix[] = "unix://";

	if (!address || !*address)
		return -EINVAL;
	if (strncmp(address, prefix, sizeof(prefix) - 1) == 0)
		address += sizeof(prefix) - 1;
	struct shim_publisher *pub = calloc(1, sizeof(*pub));
	if (!pub)
		return -ENOMEM;
	pub->loop = loop;
	pub->path = strdup(address);
	pub->ns = strdup(ns ? ns : "");
	if (!pub->path || !pub->ns) {
		free(pub->path);
		free(pub->ns);
		free(pub);
		return -ENOMEM;
	}
	shim_event_queue_init(&pub->queue, &queue_ops, pub, SHIM_EVENTS_MAX_QUEUED,
			      SHIM_EVENTS_MAX_BYTES);
	(void)uv_timer_init(loop, &pub->retry);
	(void)uv_timer_init(loop, &pub->drain_timer);
	pub->retry.data = pub;
	pub->drain_timer.data = pub;
	pub->open = 2;
	*ret = pub;
	return 0;
}

void shim_publish(struct shim_publisher *pub, const ProtobufCMessage *event)
{
	struct husk_err err = {0};
	uint8_t *data = NULL;
	size_t len = 0;
	const char *topic = shim_event_topic(event->descriptor);

	if (!pub || pub->closing)
		return;
	if (shim_event_pack(event, pub->ns, shim_now_ns(), &data, &len, &err) < 0) {
		shim_log_error("event %s: %s, not published", topic ? topic : "?", err.msg);
		return;
	}
	int r = shim_event_queue_push(&pub->queue, topic, data, len);
	free(data);
	if (r < 0)
		shim_log_error("event %s: queue %s (%zu queued), not published",
			       topic ? topic : "?", r == -ENOBUFS ? "full" : "out of memory",
			       pub->queue.n);
}

static void drain_timeout(uv_timer_t *t)
{
	struct shim_publisher *pub = t->data;
	shim_publisher_drained_fn *cb = pub->drained;

	pub->drained = NULL;
	if (cb)
		cb(pub->drained_ud, false);
}

void shim_publisher_drain(struct shim_publisher *pub, uint64_t timeout_ms,
			  shim_publisher_drained_fn *cb, void *userdata)
{
	pub->drained = cb;
	pub->drained_ud = userdata;
	if (shim_event_queue_idle(&pub->queue)) {
		check_drained(pub);
		return;
	}
	/* Waiting for a backoff would waste the drain time: try the head now. */
	(void)uv_timer_stop(&pub->retry);
	shim_event_queue_kick(&pub->queue);
	(void)uv_timer_start(&pub->drain_timer, drain_timeout, timeout_ms, 0);
}

uint64_t shim_publisher_sent(const struct shim_publisher *pub)
{
	return pub->queue.sent;
}

uint64_t shim_publisher_refused(const struct shim_publisher *pub)
{
	return pub->queue.refused;
}

uint64_t shim_publisher_rejected(const struct shim_publisher *pub)
{
	return pub->rejected;
}

void shim_publisher_free(struct shim_publisher *pub)
{
	if (!pub || pub->closing)
		return;
	pub->closing = true;
	pub->drained = NULL;
	size_t lost = shim_event_queue_clear(&pub->queue);
	if (lost > 0)
		shim_log_error("%zu events were never delivered to containerd", lost);
	drop_client(pub);
	uv_close((uv_handle_t *)&pub->retry, handle_closed);
	uv_close((uv_handle_t *)&pub->drain_timer, handle_closed);
}
