/*
 * The ttrpc envelope (shared/docs/protocol.md §1.5): Request and Response messages packed
 * and unpacked with the protobuf-c code generated from ttrpc/proto/. Pure: no I/O.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "request.pb-c.h"
#include "ttrpc/ttrpc.h"

/*
 * Decode a Request. The caller owns *ret (ttrpc__request_free) on success. -EBADMSG when
 * data is not a valid Request, -ENOMEM.
 */
int ttrpc__request_unpack(const uint8_t *data, size_t len, Ttrpc__Request **ret);

/* NULL is allowed. */
void ttrpc__request_free(Ttrpc__Request *msg);

/*
 * Encoded size of a Request built from req (stream_id is not part of the envelope), and
 * its encoding into out, which holds at least that many bytes. -ENOMEM.
 */
int ttrpc__request_size(const struct ttrpc_request *req, size_t *ret_size);
int ttrpc__request_pack(const struct ttrpc_request *req, uint8_t *out, size_t size);

/*
 * A Response: code 0 → no status, the payload (omitted when empty), exactly as Go's
 * servers send it; code != 0 → status {code, message} and no payload.
 */
size_t ttrpc__response_size(uint32_t code, const char *message, const uint8_t *payload, size_t len);
void ttrpc__response_pack(uint32_t code, const char *message, const uint8_t *payload, size_t len,
			  uint8_t *out);

/*
 * The public view of a decoded Request for stream_id: strings and payload borrowed from
 * msg, metadata in *ret_kv (caller frees; NULL when there is none). -ENOMEM.
 */
int ttrpc__request_view(const Ttrpc__Request *msg, uint32_t stream_id, struct ttrpc_request *ret,
			struct ttrpc_kv **ret_kv);

/* Decode a Response; caller owns *ret (ttrpc__response_free). -EBADMSG, -ENOMEM. */
int ttrpc__response_unpack(const uint8_t *data, size_t len, Ttrpc__Response **ret);
void ttrpc__response_free(Ttrpc__Response *msg);
