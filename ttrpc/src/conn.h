/*
 * One ttrpc byte stream on a libuv unix socket, shared by the server's connections and the
 * client: reads feed the frame reader, frames go to the owner; writes are whole frames in
 * a bounded queue (reading pauses above the high-water mark and resumes at half of it).
 * The struct is embedded in its owner and handed back in ops->closed, from the handle's
 * close callback, which is where the owner frees it.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "frame.h"

/* libuv's read buffer, allocated for one read and released after it. */
#define TTRPC__READ_BUFFER (64u << 10)

/* Frames sent while one read is being handled go out together, in one writev of at most
 * this many frames. */
#define TTRPC__CORK_MAX 64

struct ttrpc__conn;

struct ttrpc__conn_ops {
	/* A frame arrived (kind DATA or OVERSIZE; data borrowed for the call). May close c. */
	void (*frame)(struct ttrpc__conn *c, const struct ttrpc__frame *f);
	/* Reading or writing failed, or the peer closed (-ECONNRESET for EOF). At most once;
	 * the owner decides what to do, normally ttrpc__conn_close(). */
	void (*error)(struct ttrpc__conn *c, int err);
	/* Optional: the write queue became empty. */
	void (*drained)(struct ttrpc__conn *c);
	/* The handle is closed; nothing of c is used after this returns. */
	void (*closed)(struct ttrpc__conn *c);
};

/* A frame being written: the header and data in one allocation. */
struct ttrpc__wbuf {
	uv_write_t req;
	struct ttrpc__conn *conn;
	struct ttrpc__wbuf *next; /* the rest of the frames written by the same request */
	size_t len;		  /* header + data */
	uint8_t frame[];
};

struct ttrpc__conn {
	uv_pipe_t pipe;
	const struct ttrpc__conn_ops *ops;
	struct ttrpc__frame_reader reader;
	uint8_t *rbuf;
	size_t queued; /* bytes of frames whose write has not completed */
	size_t n_queued;
	size_t high_water;
	size_t low_water;
	struct ttrpc__wbuf *cork_head; /* frames held while a read is being handled */
	struct ttrpc__wbuf *cork_tail;
	size_t n_cork;
	bool corked;
	bool want_read; /* the owner asked for reading */
	bool reading;	/* uv_read_start is in effect */
	bool paused;	/* back-pressure stopped reading */
	bool failed;	/* ops->error has run */
	bool closing;
	uint64_t partial_since; /* loop time (+1) when the frame being read began; 0: none */
};

/* Initialise c with an unconnected pipe handle on loop. high_water 0: no limit. */
void ttrpc__conn_init(struct ttrpc__conn *c, uv_loop_t *loop, const struct ttrpc__conn_ops *ops,
		      size_t high_water);

/* Start (or keep) reading, unless back-pressure holds it; -errno from libuv. */
int ttrpc__conn_read_start(struct ttrpc__conn *c);
void ttrpc__conn_read_stop(struct ttrpc__conn *c);

/*
 * A buffer for a frame with data_len bytes of data, to be filled at wbuf->frame +
 * TTRPC__HEADER_LEN. NULL on allocation failure.
 */
struct ttrpc__wbuf *ttrpc__wbuf_new(size_t data_len);

/*
 * Write a frame built in w (takes w, on failure too). -errno when it cannot be queued
 * (closing: -ECONNRESET).
 */
int ttrpc__conn_send(struct ttrpc__conn *c, uint32_t stream_id, uint8_t type,
		     struct ttrpc__wbuf *w);

/* Close the handle (once; later calls do nothing). ops->closed runs from the close callback. */
void ttrpc__conn_close(struct ttrpc__conn *c);
