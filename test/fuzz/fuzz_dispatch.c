/*
 * Fuzz the server's request path on raw bytes: frames from the reader go through the same
 * classification the server's connections use (size, type, Request decode, stream id,
 * service and method lookup), and every outcome is encoded as the server would answer it:
 * an error Response, or the handler's view of the request and an echo Response. Encoded
 * Responses must decode back to the same status.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "envelope.h"
#include "frame.h"
#include "server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void unused_handler(struct ttrpc_call *call, const struct ttrpc_request *req, void *ud)
{
	(void)call;
	(void)req;
	(void)ud;
	abort(); /* classification never runs handlers */
}

static struct ttrpc_server *server(void)
{
	static uv_loop_t loop;
	static struct ttrpc_server *s;

	if (s != NULL)
		return s;
	if (uv_loop_init(&loop) != 0 || ttrpc_server_new(&loop, NULL, &s) != 0 ||
	    ttrpc_server_register(s, "containerd.task.v2.Task", "Create", unused_handler, NULL) ||
	    ttrpc_server_register(s, "containerd.task.v2.Task", "Wait", unused_handler, NULL) ||
	    ttrpc_server_register(s, "any.Service", NULL, unused_handler, NULL))
		abort();
	return s;
}

static void check_response(uint32_t code, const char *message, const uint8_t *payload, size_t len)
{
	size_t n = ttrpc__response_size(code, message, payload, len);
	uint8_t *buf = malloc(n + 1);
	Ttrpc__Response *resp = NULL;

	if (buf == NULL)
		abort();
	ttrpc__response_pack(code, message, payload, len, buf);
	if (ttrpc__response_unpack(buf, n, &resp) < 0)
		abort();
	if ((resp->status == NULL) != (code == 0) ||
	    (resp->status != NULL && ((uint32_t)resp->status->code != code ||
				      strcmp(resp->status->message, message) != 0)) ||
	    resp->payload.len != (code == 0 ? len : 0))
		abort();
	ttrpc__response_free(resp);
	free(buf);
}

static void handle(const struct ttrpc__frame *f)
{
	struct ttrpc__dispatch d;
	struct ttrpc_request req;
	struct ttrpc_kv *kv = NULL;

	ttrpc__server_classify(server(), f, &d);
	switch (d.action) {
	case TTRPC__ACT_IGNORE:
		if (f->header.type == TTRPC__MSG_REQUEST && f->kind != TTRPC__FRAME_OVERSIZE)
			abort();
		break;
	case TTRPC__ACT_FAIL:
		if (d.code == 0 || d.msg != NULL)
			abort();
		check_response(d.code, d.message, NULL, 0);
		break;
	case TTRPC__ACT_CALL:
		if (d.msg == NULL || d.entry == NULL || d.stream_id % 2 != 1)
			abort();
		if (ttrpc__request_view(d.msg, d.stream_id, &req, &kv) == 0) {
			for (size_t i = 0; i < req.n_metadata; i++)
				if (req.metadata[i].key == NULL || req.metadata[i].value == NULL)
					abort();
			check_response(0, NULL, req.payload, req.payload_len);
			free(kv);
		}
		ttrpc__request_free(d.msg);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ttrpc__frame_reader r;

	ttrpc__frame_reader_init(&r, TTRPC_MAX_DATA_LEN);
	while (size > 0) {
		struct ttrpc__frame f;
		ssize_t n = ttrpc__frame_reader_feed(&r, data, size, &f);
		if (n <= 0)
			abort();
		data += n;
		size -= (size_t)n;
		if (f.kind != TTRPC__FRAME_NONE)
			handle(&f);
	}
	ttrpc__frame_reader_done(&r);
	return 0;
}
