/* The frame codec: header layout, reassembly over arbitrary splits, the 4 MiB limit. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "frame.h"
#include "ttrpc/ttrpc.h"

/* protocol.md 1.2: containerd's Connect for task hx1 on stream 3. */
static const char connect_hex[] = "000000290000000301000a17636f6e7461696e6572642e7461736b2e76322e"
				  "5461736b1207436f6e6e6563741a050a03687831";

static size_t unhex(const char *hex, uint8_t *out)
{
	size_t n = strlen(hex) / 2;
	for (size_t i = 0; i < n; i++) {
		unsigned int b;
		cr_assert(eq(int, sscanf(hex + 2 * i, "%2x", &b), 1));
		out[i] = (uint8_t)b;
	}
	return n;
}

/* Everything the reader yielded, copied out. */
struct seen {
	size_t n;
	struct ttrpc__frame_header h[16];
	enum ttrpc__frame_kind kind[16];
	uint8_t *data[16];
};

static void seen_free(struct seen *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->data[i]);
}

static void feed_all(struct ttrpc__frame_reader *r, const uint8_t *p, size_t len, struct seen *s)
{
	while (len > 0) {
		struct ttrpc__frame f;
		ssize_t n = ttrpc__frame_reader_feed(r, p, len, &f);
		cr_assert(gt(sz, (size_t)n, 0));
		cr_assert(le(sz, (size_t)n, len));
		p += n;
		len -= (size_t)n;
		if (f.kind == TTRPC__FRAME_NONE)
			continue;
		cr_assert(lt(sz, s->n, 16));
		s->h[s->n] = f.header;
		s->kind[s->n] = f.kind;
		s->data[s->n] = NULL;
		if (f.header.length > 0 && f.kind == TTRPC__FRAME_DATA) {
			cr_assert(not(eq(ptr, (void *)f.data, NULL)));
			s->data[s->n] = malloc(f.header.length);
			memcpy(s->data[s->n], f.data, f.header.length);
		} else {
			cr_assert(eq(ptr, (void *)f.data, NULL));
		}
		s->n++;
	}
}

Test(ttrpc_frame, header_round_trip)
{
	struct ttrpc__frame_header h = {
		.length = 0x00abcdef, .stream_id = 0xfedcba97, .type = 2, .flags = 0x81};
	struct ttrpc__frame_header back;
	uint8_t b[TTRPC__HEADER_LEN];
	const uint8_t want[] = {0x00, 0xab, 0xcd, 0xef, 0xfe, 0xdc, 0xba, 0x97, 0x02, 0x81};

	ttrpc__frame_header_format(&h, b);
	cr_assert(eq(int, memcmp(b, want, sizeof(want)), 0));
	ttrpc__frame_header_parse(b, &back);
	cr_assert(eq(u32, back.length, h.length));
	cr_assert(eq(u32, back.stream_id, h.stream_id));
	cr_assert(eq(u8, back.type, 2));
	cr_assert(eq(u8, back.flags, 0x81));
}

Test(ttrpc_frame, golden_connect_frame)
{
	uint8_t b[64];
	size_t n = unhex(connect_hex, b);
	struct ttrpc__frame_reader r;
	struct seen s = {0};

	cr_assert(eq(sz, n, 51));
	ttrpc__frame_reader_init(&r, TTRPC_MAX_DATA_LEN);
	feed_all(&r, b, n, &s);
	cr_assert(eq(sz, s.n, 1));
	cr_assert(eq(u32, s.h[0].length, 41));
	cr_assert(eq(u32, s.h[0].stream_id, 3));
	cr_assert(eq(u8, s.h[0].type, TTRPC__MSG_REQUEST));
	cr_assert(eq(u8, s.h[0].flags, 0));
	cr_assert(eq(int, memcmp(s.data[0], b + 10, 41), 0));
	seen_free(&s);
	ttrpc__frame_reader_done(&r);
}

/* Two frames split into three pieces at every pair of offsets. */
Test(ttrpc_frame, split_at_every_offset)
{
	uint8_t b[128];
	size_t n = unhex(connect_hex, b);
	memcpy(b + n, b, n); /* the same frame twice, back to back */
	b[n + 7] = 5;	     /* second on stream 5 */
	size_t total = 2 * n;

	for (size_t i = 0; i <= total; i++) {
		for (size_t j = i; j <= total; j++) {
			struct ttrpc__frame_reader r;
			struct seen s = {0};
			ttrpc__frame_reader_init(&r, TTRPC_MAX_DATA_LEN);
			feed_all(&r, b, i, &s);
			feed_all(&r, b + i, j - i, &s);
			feed_all(&r, b + j, total - j, &s);
			cr_assert(eq(sz, s.n, 2), "split %zu/%zu", i, j);
			cr_assert(eq(u32, s.h[0].stream_id, 3));
			cr_assert(eq(u32, s.h[1].stream_id, 5));
			cr_assert(eq(int, memcmp(s.data[0], b + 10, 41), 0));
			cr_assert(eq(int, memcmp(s.data[1], b + 10, 41), 0));
			seen_free(&s);
			ttrpc__frame_reader_done(&r);
		}
	}
}

Test(ttrpc_frame, byte_at_a_time)
{
	uint8_t b[64];
	size_t n = unhex(connect_hex, b);
	struct ttrpc__frame_reader r;
	struct seen s = {0};

	ttrpc__frame_reader_init(&r, TTRPC_MAX_DATA_LEN);
	for (size_t i = 0; i < n; i++)
		feed_all(&r, b + i, 1, &s);
	cr_assert(eq(sz, s.n, 1));
	cr_assert(eq(int, memcmp(s.data[0], b + 10, 41), 0));
	seen_free(&s);
	ttrpc__frame_reader_done(&r);
}

Test(ttrpc_frame, many_frames_in_one_buffer_and_zero_length)
{
	uint8_t b[16 * TTRPC__HEADER_LEN + 64];
	size_t off = 0;
	struct ttrpc__frame_reader r;
	struct seen s = {0};

	for (uint32_t i = 0; i < 10; i++) {
		struct ttrpc__frame_header h = {.length = i % 2 ? 3 : 0,
						.stream_id = 2 * i + 1,
						.type = TTRPC__MSG_RESPONSE};
		ttrpc__frame_header_format(&h, b + off);
		off += TTRPC__HEADER_LEN;
		if (h.length) {
			memcpy(b + off, "abc", 3);
			off += 3;
		}
	}
	ttrpc__frame_reader_init(&r, TTRPC_MAX_DATA_LEN);
	feed_all(&r, b, off, &s);
	cr_assert(eq(sz, s.n, 10));
	for (uint32_t i = 0; i < 10; i++) {
		cr_assert(eq(u32, s.h[i].stream_id, 2 * i + 1));
		cr_assert(eq(u32, s.h[i].length, i % 2 ? 3 : 0));
		cr_assert(eq(int, s.kind[i], TTRPC__FRAME_DATA));
		if (i % 2)
			cr_assert(eq(int, memcmp(s.data[i], "abc", 3), 0));
	}
	seen_free(&s);
	ttrpc__frame_reader_done(&r);
}

Test(ttrpc_frame, unknown_type_is_passed_through)
{
	uint8_t b[TTRPC__HEADER_LEN + 2];
	struct ttrpc__frame_header h = {.length = 2, .stream_id = 7, .type = 0x7f, .flags = 3};
	struct ttrpc__frame_reader r;
	struct seen s = {0};

	ttrpc__frame_header_format(&h, b);
	b[10] = 1;
	b[11] = 2;
	ttrpc__frame_reader_init(&r, TTRPC_MAX_DATA_LEN);
	feed_all(&r, b, sizeof(b), &s);
	cr_assert(eq(sz, s.n, 1));
	cr_assert(eq(u8, s.h[0].type, 0x7f));
	cr_assert(eq(u8, s.h[0].flags, 3));
	seen_free(&s);
	ttrpc__frame_reader_done(&r);
}

/* Over the limit: the data is consumed and dropped, the next frame decodes normally. */
Test(ttrpc_frame, oversize_is_discarded_then_stream_continues)
{
	const size_t big = TTRPC_MAX_DATA_LEN + 1;
	size_t total = TTRPC__HEADER_LEN + big + TTRPC__HEADER_LEN + 2;
	uint8_t *b = calloc(1, total);
	struct ttrpc__frame_header h1 = {.length = (uint32_t)big, .stream_id = 1, .type = 1};
	struct ttrpc__frame_header h2 = {.length = 2, .stream_id = 3, .type = 1};
	struct ttrpc__frame_reader r;
	struct seen s = {0};

	ttrpc__frame_header_format(&h1, b);
	ttrpc__frame_header_format(&h2, b + TTRPC__HEADER_LEN + big);
	memcpy(b + total - 2, "ok", 2);
	ttrpc__frame_reader_init(&r, TTRPC_MAX_DATA_LEN);
	/* in 64 KiB reads, as libuv delivers them */
	for (size_t off = 0; off < total; off += 65536)
		feed_all(&r, b + off, total - off < 65536 ? total - off : 65536, &s);
	cr_assert(eq(sz, s.n, 2));
	cr_assert(eq(int, s.kind[0], TTRPC__FRAME_OVERSIZE));
	cr_assert(eq(u32, s.h[0].length, big));
	cr_assert(eq(u32, s.h[0].stream_id, 1));
	cr_assert(eq(int, s.kind[1], TTRPC__FRAME_DATA));
	cr_assert(eq(int, memcmp(s.data[1], "ok", 2), 0));
	cr_assert(eq(ptr, r.buf, NULL), "nothing was buffered for the oversize frame");
	seen_free(&s);
	ttrpc__frame_reader_done(&r);
	free(b);
}

/* Exactly the limit is accepted; a large reassembly buffer is released afterwards. */
Test(ttrpc_frame, max_size_accepted_and_buffer_released)
{
	const size_t len = TTRPC_MAX_DATA_LEN;
	uint8_t *b = malloc(TTRPC__HEADER_LEN + len);
	struct ttrpc__frame_header h = {.length = (uint32_t)len, .stream_id = 9, .type = 2};
	struct ttrpc__frame_reader r;
	struct seen s = {0};
	uint8_t small[TTRPC__HEADER_LEN];

	for (size_t i = 0; i < len; i++)
		b[TTRPC__HEADER_LEN + i] = (uint8_t)(i * 7);
	ttrpc__frame_header_format(&h, b);
	ttrpc__frame_reader_init(&r, TTRPC_MAX_DATA_LEN);
	feed_all(&r, b, 100, &s);
	feed_all(&r, b + 100, TTRPC__HEADER_LEN + len - 100, &s);
	cr_assert(eq(sz, s.n, 1));
	cr_assert(eq(int, memcmp(s.data[0], b + TTRPC__HEADER_LEN, len), 0));
	h.length = 0;
	ttrpc__frame_header_format(&h, small);
	feed_all(&r, small, sizeof(small), &s);
	cr_assert(eq(sz, s.n, 2));
	cr_assert(eq(ptr, r.buf, NULL));
	seen_free(&s);
	ttrpc__frame_reader_done(&r);
	ttrpc__frame_reader_done(&r); /* twice is fine */
	free(b);
}

/* A peer that announces the largest frame and sends a byte of it holds a few KiB, not what
 * it announced: memory grows with the bytes that arrive. */
Test(ttrpc_frame, a_stalled_frame_costs_what_arrived)
{
	struct ttrpc__frame_header h = {.length = TTRPC_MAX_DATA_LEN, .stream_id = 1, .type = 1};
	struct ttrpc__frame_reader r;
	struct seen s = {0};
	uint8_t b[TTRPC__HEADER_LEN + 1] = {0};

	ttrpc__frame_header_format(&h, b);
	ttrpc__frame_reader_init(&r, TTRPC_MAX_DATA_LEN);
	feed_all(&r, b, TTRPC__HEADER_LEN, &s);
	cr_expect(eq(sz, r.buf_cap, 0), "a header alone allocates nothing");
	cr_expect(ttrpc__frame_reader_partial(&r));
	feed_all(&r, b + TTRPC__HEADER_LEN, 1, &s);
	cr_expect(le(sz, r.buf_cap, TTRPC__MIN_BUFFER), "%zu bytes held", r.buf_cap);
	cr_expect(eq(sz, s.n, 0));
	seen_free(&s);
	ttrpc__frame_reader_done(&r);
}
