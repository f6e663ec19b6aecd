#include "conn.h"

#include <errno.h>
#include <stdlib.h>

#include "ttrpc/ttrpc.h"

static void report(struct ttrpc__conn *c, int err)
{
	if (c->failed || c->closing)
		return;
	c->failed = true;
	ttrpc__conn_read_stop(c);
	c->ops->error(c, err);
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct ttrpc__conn *c = h->data;
	(void)suggested;
	if (c->rbuf == NULL)
		c->rbuf = malloc(TTRPC__READ_BUFFER);
	*buf = uv_buf_init((char *)c->rbuf, c->rbuf != NULL ? TTRPC__READ_BUFFER : 0);
}

static void flush(struct ttrpc__conn *c);

static void feed(struct ttrpc__conn *c, const uint8_t *p, size_t len)
{
	/* Replies made while handling this read are written together afterwards: one writev
	 * instead of a write per reply. */
	c->corked = true;
	while (len > 0 && !c->closing && !c->failed) {
		struct ttrpc__frame f;
		ssize_t n = ttrpc__frame_reader_feed(&c->reader, p, len, &f);
		if (n < 0) {
			report(c, (int)n);
			return;
		}
		p += n;
		len -= (size_t)n;
		if (f.kind != TTRPC__FRAME_NONE)
			c->ops->frame(c, &f);
	}
	c->corked = false;
	flush(c);
}

static void read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct ttrpc__conn *c = s->data;

	if (nread == UV_ENOBUFS) {
		report(c, -ENOMEM);
		return;
	}
	if (nread < 0) {
		report(c, nread == UV_EOF ? -ECONNRESET : (int)nread);
		return;
	}
	feed(c, (const uint8_t *)buf->base, (size_t)nread);
	/* feed() consumed or copied every byte: an idle connection holds no read buffer, so
	 * thousands of them cost little. */
	free(c->rbuf);
	c->rbuf = NULL;
	if (!ttrpc__frame_reader_partial(&c->reader))
		c->partial_since = 0;
	else if (c->partial_since == 0)
		c->partial_since = uv_now(s->loop) + 1;
}

void ttrpc__conn_init(struct ttrpc__conn *c, uv_loop_t *loop, const struct ttrpc__conn_ops *ops,
		      size_t high_water)
{
	*c = (struct ttrpc__conn){.ops = ops, .high_water = high_water};
	c->low_water = high_water / 2;
	ttrpc__frame_reader_init(&c->reader, TTRPC_MAX_DATA_LEN);
	(void)uv_pipe_init(loop, &c->pipe, 0);
	c->pipe.data = c;
}

static int apply_reading(struct ttrpc__conn *c)
{
	bool want = c->want_read && !c->paused && !c->failed && !c->closing;
	int r = 0;

	if (want && !c->reading) {
		r = uv_read_start((uv_stream_t *)&c->pipe, alloc_cb, read_cb);
		c->reading = r == 0;
	} else if (!want && c->reading) {
		(void)uv_read_stop((uv_stream_t *)&c->pipe);
		c->reading = false;
	}
	return r;
}

int ttrpc__conn_read_start(struct ttrpc__conn *c)
{
	c->want_read = true;
	return apply_reading(c);
}

void ttrpc__conn_read_stop(struct ttrpc__conn *c)
{
	c->want_read = false;
	(void)apply_reading(c);
}

struct ttrpc__wbuf *ttrpc__wbuf_new(size_t data_len)
{
	struct ttrpc__wbuf *w = malloc(sizeof(*w) + TTRPC__HEADER_LEN + data_len);
	if (w == NULL)
		return NULL;
	w->conn = NULL;
	w->next = NULL;
	w->len = TTRPC__HEADER_LEN + data_len;
	return w;
}

/* Forget a chain of frames that was queued (written, dropped or failed). */
static void release_chain(struct ttrpc__conn *c, struct ttrpc__wbuf *w)
{
	while (w != NULL) {
		struct ttrpc__wbuf *next = w->next;
		c->queued -= w->len;
		c->n_queued--;
		free(w);
		w = next;
	}
}

static void write_cb(uv_write_t *req, int status)
{
	struct ttrpc__wbuf *w = (struct ttrpc__wbuf *)req;
	struct ttrpc__conn *c = w->conn;

	release_chain(c, w);
	/* UV_ECANCELED: the handle is closing and the write was dropped on purpose. */
	if (status < 0 && status != UV_ECANCELED) {
		report(c, status);
		return;
	}
	if (c->paused && c->queued <= c->low_water) {
		c->paused = false;
		(void)apply_reading(c);
	}
	if (c->n_queued == 0 && c->ops->drained != NULL && !c->closing)
		c->ops->drained(c);
}

/* Write the chain starting at head (n frames) with one request. */
static int write_chain(struct ttrpc__conn *c, struct ttrpc__wbuf *head, size_t n)
{
	uv_buf_t bufs[TTRPC__CORK_MAX];
	size_t i = 0;
	int r;

	for (struct ttrpc__wbuf *w = head; w != NULL && i < n; w = w->next)
		bufs[i++] = uv_buf_init((char *)w->frame, (unsigned int)w->len);
	head->conn = c;
	r = uv_write(&head->req, (uv_stream_t *)&c->pipe, bufs, (unsigned int)i, write_cb);
	if (r < 0)
		release_chain(c, head);
	return r;
}

static void flush(struct ttrpc__conn *c)
{
	struct ttrpc__wbuf *head = c->cork_head;
	size_t n = c->n_cork;
	int r;

	c->cork_head = c->cork_tail = NULL;
	c->n_cork = 0;
	if (head == NULL)
		return;
	if (c->closing || c->failed) {
		release_chain(c, head);
		return;
	}
	r = write_chain(c, head, n);
	if (r < 0)
		report(c, r);
}

int ttrpc__conn_send(struct ttrpc__conn *c, uint32_t stream_id, uint8_t type, struct ttrpc__wbuf *w)
{
	struct ttrpc__frame_header h = {
		.length = (uint32_t)(w->len - TTRPC__HEADER_LEN),
		.stream_id = stream_id,
		.type = type,
	};
	int r;

	if (c->closing || c->failed) {
		free(w);
		return -ECONNRESET;
	}
	ttrpc__frame_header_format(&h, w->frame);
	w->next = NULL;
	c->queued += w->len;
	c->n_queued++;
	if (c->corked) {
		if (c->cork_tail != NULL)
			c->cork_tail->next = w;
		else
			c->cork_head = w;
		c->cork_tail = w;
		if (++c->n_cork == TTRPC__CORK_MAX)
			flush(c);
	} else {
		r = write_chain(c, w, 1);
		if (r < 0)
			return r;
	}
	if (c->high_water > 0 && c->queued > c->high_water && !c->paused) {
		c->paused = true;
		(void)apply_reading(c);
	}
	return 0;
}

static void close_cb(uv_handle_t *h)
{
	struct ttrpc__conn *c = h->data;

	free(c->rbuf);
	c->rbuf = NULL;
	ttrpc__frame_reader_done(&c->reader);
	c->ops->closed(c);
}

void ttrpc__conn_close(struct ttrpc__conn *c)
{
	if (c->closing)
		return;
	c->closing = true;
	flush(c); /* drops what is still corked */
	(void)apply_reading(c);
	uv_close((uv_handle_t *)&c->pipe, close_cb);
}
