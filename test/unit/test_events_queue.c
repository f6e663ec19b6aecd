#include <errno.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "events_queue.h"

/* A fake transport: records what was sent and what was scheduled. */
struct fake {
	int sent_ids[64];
	int n_sent;
	int in_flight;
	int refuse_start; /* make send() fail to start this many times */
	uint64_t scheduled[64];
	int n_scheduled;
	int failures;
};

static int fake_send(void *ud, const uint8_t *data, size_t len)
{
	struct fake *f = ud;
	int id;

	cr_assert(eq(sz, len, sizeof(id)));
	cr_assert(eq(int, f->in_flight, 0), "two events in flight");
	if (f->refuse_start > 0) {
		f->refuse_start--;
		return -ENOTCONN;
	}
	memcpy(&id, data, sizeof(id));
	f->sent_ids[f->n_sent++] = id;
	f->in_flight = 1;
	return 0;
}

static void fake_schedule(void *ud, uint64_t ms)
{
	struct fake *f = ud;

	f->scheduled[f->n_scheduled++] = ms;
}

static void fake_failed(void *ud, const char *topic, unsigned attempt, int error)
{
	struct fake *f = ud;

	(void)topic;
	(void)attempt;
	(void)error;
	f->failures++;
}

static const struct shim_event_queue_ops ops = {
	.send = fake_send,
	.schedule = fake_schedule,
	.failed = fake_failed,
};

static void push(struct shim_event_queue *q, int id)
{
	cr_assert(eq(int, shim_event_queue_push(q, "/tasks/exit", (uint8_t *)&id, sizeof(id)), 0));
}

static void complete(struct shim_event_queue *q, struct fake *f, int status)
{
	f->in_flight = 0;
	shim_event_queue_done(q, status);
}

Test(events_queue, fifo_one_in_flight)
{
	struct fake f = {0};
	struct shim_event_queue q;

	shim_event_queue_init(&q, &ops, &f, 16, 1024);
	push(&q, 1);
	push(&q, 2);
	push(&q, 3);
	cr_assert(eq(int, f.n_sent, 1), "only the head is in flight");
	complete(&q, &f, 0);
	complete(&q, &f, 0);
	complete(&q, &f, 0);
	cr_assert(eq(int, f.n_sent, 3));
	cr_assert(eq(int, f.sent_ids[0], 1));
	cr_assert(eq(int, f.sent_ids[1], 2));
	cr_assert(eq(int, f.sent_ids[2], 3));
	cr_assert(shim_event_queue_idle(&q));
	cr_assert(eq(u64, q.sent, 3));
}

Test(events_queue, failed_head_is_retried_first_with_backoff)
{
	struct fake f = {0};
	struct shim_event_queue q;

	shim_event_queue_init(&q, &ops, &f, 16, 1024);
	push(&q, 1);
	push(&q, 2);
	complete(&q, &f, -ECONNRESET);
	cr_assert(eq(int, f.n_scheduled, 1));
	cr_assert(eq(u64, f.scheduled[0], 100));
	/* A new event does not overtake the failed head. */
	push(&q, 3);
	cr_assert(eq(int, f.n_sent, 1));
	shim_event_queue_retry(&q);
	cr_assert(eq(int, f.n_sent, 2));
	cr_assert(eq(int, f.sent_ids[1], 1), "the head is resent");
	complete(&q, &f, -ECONNRESET);
	cr_assert(eq(u64, f.scheduled[1], 200), "backoff doubles");
	shim_event_queue_retry(&q);
	complete(&q, &f, 0);
	complete(&q, &f, 0);
	complete(&q, &f, 0);
	int want[] = {1, 1, 1, 2, 3};
	cr_assert(eq(int, f.n_sent, 5));
	for (int i = 0; i < 5; i++)
		cr_assert(eq(int, f.sent_ids[i], want[i]));
	cr_assert(eq(int, f.failures, 2));
	cr_assert(shim_event_queue_idle(&q));
}

Test(events_queue, never_dropped_after_many_failures)
{
	struct fake f = {0};
	struct shim_event_queue q;

	shim_event_queue_init(&q, &ops, &f, 16, 1024);
	push(&q, 7);
	for (int i = 0; i < 40; i++) {
		complete(&q, &f, -EPIPE);
		f.n_scheduled = 0;
		shim_event_queue_retry(&q);
	}
	complete(&q, &f, 0);
	cr_assert(eq(u64, q.sent, 1));
	cr_assert(eq(int, f.sent_ids[40], 7));
}

Test(events_queue, send_that_cannot_start_is_a_failed_attempt)
{
	struct fake f = {.refuse_start = 2};
	struct shim_event_queue q;

	shim_event_queue_init(&q, &ops, &f, 16, 1024);
	push(&q, 1);
	cr_assert(eq(int, f.n_sent, 0));
	cr_assert(eq(int, f.n_scheduled, 1));
	/* kick (connection back) before the timer: still refused, rescheduled. */
	shim_event_queue_kick(&q);
	cr_assert(eq(int, f.n_scheduled, 2));
	shim_event_queue_retry(&q);
	cr_assert(eq(int, f.n_sent, 1));
	/* A stale timer firing while in flight does nothing. */
	shim_event_queue_retry(&q);
	cr_assert(eq(int, f.n_sent, 1));
	complete(&q, &f, 0);
	cr_assert(shim_event_queue_idle(&q));
}

Test(events_queue, bounded_by_count_refuses_newest)
{
	struct fake f = {0};
	struct shim_event_queue q;

	shim_event_queue_init(&q, &ops, &f, 3, 1024);
	push(&q, 1);
	push(&q, 2);
	push(&q, 3);
	int id = 4;
	cr_assert(eq(int, shim_event_queue_push(&q, "/tasks/oom", (uint8_t *)&id, sizeof(id)),
		     -ENOBUFS));
	cr_assert(eq(u64, q.refused, 1));
	complete(&q, &f, 0);
	push(&q, 5);
	complete(&q, &f, 0);
	complete(&q, &f, 0);
	complete(&q, &f, 0);
	int want[] = {1, 2, 3, 5};
	for (int i = 0; i < 4; i++)
		cr_assert(eq(int, f.sent_ids[i], want[i]));
}

Test(events_queue, bounded_by_bytes)
{
	struct fake f = {0};
	struct shim_event_queue q;

	shim_event_queue_init(&q, &ops, &f, 100, 2 * sizeof(int));
	push(&q, 1);
	push(&q, 2);
	int id = 3;
	cr_assert(eq(int, shim_event_queue_push(&q, "/t", (uint8_t *)&id, sizeof(id)), -ENOBUFS));
	cr_assert(eq(sz, shim_event_queue_clear(&q), 2));
	cr_assert(shim_event_queue_idle(&q));
}

Test(events_queue, backoff_is_capped)
{
	cr_assert(eq(u64, shim_event_queue_backoff_ms(1), 100));
	cr_assert(eq(u64, shim_event_queue_backoff_ms(2), 200));
	cr_assert(eq(u64, shim_event_queue_backoff_ms(6), 3200));
	cr_assert(eq(u64, shim_event_queue_backoff_ms(7), 5000));
	cr_assert(eq(u64, shim_event_queue_backoff_ms(1000), 5000));
}

Test(events_queue, done_without_flight_is_ignored)
{
	struct fake f = {0};
	struct shim_event_queue q;

	shim_event_queue_init(&q, &ops, &f, 4, 64);
	shim_event_queue_done(&q, 0);
	cr_assert(shim_event_queue_idle(&q));
}
