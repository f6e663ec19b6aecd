/*
 * The ttrpc frame codec (shared/docs/protocol.md §1.2): a 10-byte big-endian header
 * {length, stream id, type, flags} followed by length bytes of data. Pure: no I/O, fed
 * with byte buffers, so it is unit-tested and fuzzed without sockets.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/types.h>

#define TTRPC__HEADER_LEN 10

/* Reassembly buffers above this size are released once their frame has been handled. */
#define TTRPC__KEEP_BUFFER (64u << 10)
/* The first allocation for a frame split across reads; it doubles from there. */
#define TTRPC__MIN_BUFFER (4u << 10)

enum ttrpc__msg_type {
	TTRPC__MSG_REQUEST = 1,
	TTRPC__MSG_RESPONSE = 2,
	TTRPC__MSG_DATA = 3, /* ttrpc >= 1.2 streaming; ignored here as ttrpc 1.1 does */
};

struct ttrpc__frame_header {
	uint32_t length; /* bytes of data after the header */
	uint32_t stream_id;
	uint8_t type;
	uint8_t flags;
};

/* Write h as 10 big-endian bytes to out. */
void ttrpc__frame_header_format(const struct ttrpc__frame_header *h, uint8_t *out);

/* Read a header from 10 bytes at in. */
void ttrpc__frame_header_parse(const uint8_t *in, struct ttrpc__frame_header *ret);

enum ttrpc__frame_kind {
	TTRPC__FRAME_NONE = 0, /* more input needed */
	TTRPC__FRAME_DATA,     /* a whole frame: header + data */
	TTRPC__FRAME_OVERSIZE, /* a frame over the limit; its data was read and dropped */
};

struct ttrpc__frame {
	enum ttrpc__frame_kind kind;
	struct ttrpc__frame_header header;
	/* header.length bytes, NULL when the length is 0 or the frame was oversize. Borrowed:
	 * valid until the next ttrpc__frame_reader_feed() or _done() on the reader. */
	const uint8_t *data;
};

/* Reassembly state for one byte stream. Embedded; _init then _done. */
struct ttrpc__frame_reader {
	uint8_t hdr[TTRPC__HEADER_LEN];
	size_t hdr_len; /* header bytes collected so far */
	bool in_body;	/* the header of cur is complete */
	struct ttrpc__frame_header cur;
	uint32_t discard; /* bytes of an oversize frame still to drop */
	uint8_t *buf;	  /* reassembly buffer for frames split across feeds */
	size_t buf_cap;
	size_t buf_len;
	bool shrink; /* release buf on the next feed (it held a large frame) */
	uint32_t max_len;
};

/* max_len: the largest data length accepted (TTRPC_MAX_DATA_LEN in the library). */
void ttrpc__frame_reader_init(struct ttrpc__frame_reader *r, uint32_t max_len);

/* True while part of a frame (header or data) has been fed and the rest has not. */
bool ttrpc__frame_reader_partial(const struct ttrpc__frame_reader *r);

/* Release the reassembly buffer. Safe to call twice. */
void ttrpc__frame_reader_done(struct ttrpc__frame_reader *r);

/*
 * Consume input from buf (len > 0) and yield at most one frame in *ret (kind NONE when the
 * consumed bytes did not complete one). Returns the bytes consumed, at least 1; the caller
 * calls again with the rest. -ENOMEM when a reassembly buffer cannot be allocated (the
 * stream cannot continue). A frame that lies wholly inside buf is yielded without a copy.
 */
ssize_t ttrpc__frame_reader_feed(struct ttrpc__frame_reader *r, const uint8_t *buf, size_t len,
				 struct ttrpc__frame *ret);
