/* Built with -Wconversion -Wsign-conversion: integer widths here are the wire format. */
#include "frame.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

void ttrpc__frame_header_format(const struct ttrpc__frame_header *h, uint8_t *out)
{
	put_be32(out, h->length);
	put_be32(out + 4, h->stream_id);
	out[8] = h->type;
	out[9] = h->flags;
}

void ttrpc__frame_header_parse(const uint8_t *in, struct ttrpc__frame_header *ret)
{
	ret->length = get_be32(in);
	ret->stream_id = get_be32(in + 4);
	ret->type = in[8];
	ret->flags = in[9];
}

void ttrpc__frame_reader_init(struct ttrpc__frame_reader *r, uint32_t max_len)
{
	*r = (struct ttrpc__frame_reader){.max_len = max_len};
}

void ttrpc__frame_reader_done(struct ttrpc__frame_reader *r)
{
	free(r->buf);
	r->buf = NULL;
	r->buf_cap = 0;
	r->buf_len = 0;
}

/* The frame in r->cur is complete: hand it out and start over with the next header. */
static void yield(struct ttrpc__frame_reader *r, enum ttrpc__frame_kind kind, const uint8_t *data,
		  struct ttrpc__frame *ret)
{
	ret->kind = kind;
	ret->header = r->cur;
	ret->data = data;
	r->in_body = false;
	r->hdr_len = 0;
	r->buf_len = 0;
	if (data != NULL && data == r->buf && r->buf_cap > TTRPC__KEEP_BUFFER)
		r->shrink = true;
}

/* Collect header bytes; once complete, decide how the body will be read. */
static ssize_t feed_header(struct ttrpc__frame_reader *r, const uint8_t *buf, size_t len,
			   struct ttrpc__frame *ret)
{
	size_t n = TTRPC__HEADER_LEN - r->hdr_len;
	if (n > len)
		n = len;
	memcpy(r->hdr + r->hdr_len, buf, n);
	r->hdr_len += n;
	if (r->hdr_len < TTRPC__HEADER_LEN)
		return (ssize_t)n;

	ttrpc__frame_header_parse(r->hdr, &r->cur);
	r->in_body = true;
	r->buf_len = 0;
	if (r->cur.length > r->max_len) {
		/* Go's ttrpc reads and drops the data, then answers ResourceExhausted. */
		r->discard = r->cur.length;
		return (ssize_t)n;
	}
	if (r->cur.length == 0) {
		yield(r, TTRPC__FRAME_DATA, NULL, ret);
		return (ssize_t)n;
	}
	if (len - n >= r->cur.length) {
		yield(r, TTRPC__FRAME_DATA, buf + n, ret);
		return (ssize_t)(n + r->cur.length);
	}
	/* Memory follows the bytes that really arrive, not the length a peer announces: the
	 * body's buffer grows as it comes (a peer that sends a header and stalls costs
	 * nothing). */
	return (ssize_t)n;
}

/* Make room for need bytes of the current frame, doubling up to its length. */
static int grow(struct ttrpc__frame_reader *r, size_t need)
{
	size_t cap = r->buf_cap;
	uint8_t *p;

	if (cap >= need)
		return 0;
	while (cap < need)
		cap = cap < TTRPC__MIN_BUFFER ? TTRPC__MIN_BUFFER : 2 * cap;
	if (cap > r->cur.length)
		cap = r->cur.length;
	p = realloc(r->buf, cap);
	if (p == NULL)
		return -ENOMEM;
	r->buf = p;
	r->buf_cap = cap;
	return 0;
}

static ssize_t feed_body(struct ttrpc__frame_reader *r, const uint8_t *buf, size_t len,
			 struct ttrpc__frame *ret)
{
	size_t n;

	if (r->discard > 0) {
		n = r->discard < len ? r->discard : len;
		r->discard -= (uint32_t)n;
		if (r->discard == 0)
			yield(r, TTRPC__FRAME_OVERSIZE, NULL, ret);
		return (ssize_t)n;
	}
	n = r->cur.length - r->buf_len;
	if (n > len)
		n = len;
	if (grow(r, r->buf_len + n) < 0)
		return -ENOMEM;
	if (n > 0)
		memcpy(r->buf + r->buf_len, buf, n);
	r->buf_len += n;
	if (r->buf_len == r->cur.length)
		yield(r, TTRPC__FRAME_DATA, r->buf, ret);
	return (ssize_t)n;
}

bool ttrpc__frame_reader_partial(const struct ttrpc__frame_reader *r)
{
	return r->in_body || r->hdr_len > 0;
}

ssize_t ttrpc__frame_reader_feed(struct ttrpc__frame_reader *r, const uint8_t *buf, size_t len,
				 struct ttrpc__frame *ret)
{
	*ret = (struct ttrpc__frame){.kind = TTRPC__FRAME_NONE};
	if (r->shrink) {
		ttrpc__frame_reader_done(r);
		r->shrink = false;
	}
	if (len == 0)
		return 0;
	if (!r->in_body)
		return feed_header(r, buf, len, ret);
	return feed_body(r, buf, len, ret);
}
