#include "envelope.h"

#include <errno.h>
#include <stdlib.h>

static const char *const code_names[] = {
	[TTRPC_OK] = "OK",
	[TTRPC_CANCELED] = "Canceled",
	[TTRPC_UNKNOWN] = "Unknown",
	[TTRPC_INVALID_ARGUMENT] = "InvalidArgument",
	[TTRPC_DEADLINE_EXCEEDED] = "DeadlineExceeded",
	[TTRPC_NOT_FOUND] = "NotFound",
	[TTRPC_ALREADY_EXISTS] = "AlreadyExists",
	[TTRPC_PERMISSION_DENIED] = "PermissionDenied",
	[TTRPC_RESOURCE_EXHAUSTED] = "ResourceExhausted",
	[TTRPC_FAILED_PRECONDITION] = "FailedPrecondition",
	[TTRPC_ABORTED] = "Aborted",
	[TTRPC_OUT_OF_RANGE] = "OutOfRange",
	[TTRPC_UNIMPLEMENTED] = "Unimplemented",
	[TTRPC_INTERNAL] = "Internal",
	[TTRPC_UNAVAILABLE] = "Unavailable",
	[TTRPC_DATA_LOSS] = "DataLoss",
	[TTRPC_UNAUTHENTICATED] = "Unauthenticated",
};

const char *ttrpc_code_name(uint32_t code)
{
	if (code >= sizeof(code_names) / sizeof(code_names[0]))
		return NULL;
	return code_names[code];
}

int ttrpc__request_unpack(const uint8_t *data, size_t len, Ttrpc__Request **ret)
{
	/* protobuf-c reports no detail; a NULL is malformed input or allocation failure,
	 * and malformed input is by far the likelier. */
	Ttrpc__Request *msg = ttrpc__request__unpack(NULL, len, data);
	if (msg == NULL)
		return -EBADMSG;
	*ret = msg;
	return 0;
}

int ttrpc__request_view(const Ttrpc__Request *msg, uint32_t stream_id, struct ttrpc_request *ret,
			struct ttrpc_kv **ret_kv)
{
	struct ttrpc_kv *kv = NULL;

	if (msg->n_metadata > 0) {
		kv = calloc(msg->n_metadata, sizeof(*kv));
		if (kv == NULL)
			return -ENOMEM;
		for (size_t i = 0; i < msg->n_metadata; i++) {
			kv[i].key = msg->metadata[i]->key;
			kv[i].value = msg->metadata[i]->value;
		}
	}
	*ret = (struct ttrpc_request){
		.service = msg->service,
		.method = msg->method,
		.payload = msg->payload.data,
		.payload_len = msg->payload.len,
		.timeout_nano = msg->timeout_nano,
		.metadata = kv,
		.n_metadata = msg->n_metadata,
		.stream_id = stream_id,
	};
	*ret_kv = kv;
	return 0;
}

void ttrpc__request_free(Ttrpc__Request *msg)
{
	if (msg != NULL)
		ttrpc__request__free_unpacked(msg, NULL);
}

/*
 * A Request message borrowing req's strings and bytes. protobuf-c's message structs are not
 * const-correct, hence the casts: nothing here writes through them.
 */
struct request_view {
	Ttrpc__Request msg;
	Ttrpc__KeyValue *kvs;
	Ttrpc__KeyValue **kv_ptrs;
};

static int view_init(struct request_view *v, const struct ttrpc_request *req)
{
	*v = (struct request_view){.msg = TTRPC__REQUEST__INIT};
	v->msg.service = (char *)req->service;
	v->msg.method = (char *)req->method;
	v->msg.payload.data = (uint8_t *)req->payload;
	v->msg.payload.len = req->payload_len;
	v->msg.timeout_nano = req->timeout_nano;
	if (req->n_metadata == 0)
		return 0;
	v->kvs = calloc(req->n_metadata, sizeof(*v->kvs));
	v->kv_ptrs = calloc(req->n_metadata, sizeof(Ttrpc__KeyValue *));
	if (v->kvs == NULL || v->kv_ptrs == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < req->n_metadata; i++) {
		ttrpc__key_value__init(&v->kvs[i]);
		v->kvs[i].key = (char *)req->metadata[i].key;
		v->kvs[i].value = (char *)req->metadata[i].value;
		v->kv_ptrs[i] = &v->kvs[i];
	}
	v->msg.metadata = v->kv_ptrs;
	v->msg.n_metadata = req->n_metadata;
	return 0;
}

static void view_done(struct request_view *v)
{
	free(v->kvs);
	free(v->kv_ptrs);
}

int ttrpc__request_size(const struct ttrpc_request *req, size_t *ret_size)
{
	struct request_view v;
	int r = view_init(&v, req);
	if (r == 0)
		*ret_size = ttrpc__request__get_packed_size(&v.msg);
	view_done(&v);
	return r;
}

int ttrpc__request_pack(const struct ttrpc_request *req, uint8_t *out, size_t size)
{
	struct request_view v;
	int r = view_init(&v, req);
	if (r == 0 && ttrpc__request__pack(&v.msg, out) != size)
		r = -EINVAL;
	view_done(&v);
	return r;
}

static void response_view(Ttrpc__Response *msg, Ttrpc__Google__Rpc__Status *st, uint32_t code,
			  const char *message, const uint8_t *payload, size_t len)
{
	*msg = (Ttrpc__Response)TTRPC__RESPONSE__INIT;
	if (code != TTRPC_OK) {
		*st = (Ttrpc__Google__Rpc__Status)TTRPC__GOOGLE__RPC__STATUS__INIT;
		st->code = (int32_t)code;
		st->message = (char *)(message != NULL ? message : "");
		msg->status = st;
		return;
	}
	msg->payload.data = (uint8_t *)payload;
	msg->payload.len = len;
}

size_t ttrpc__response_size(uint32_t code, const char *message, const uint8_t *payload, size_t len)
{
	Ttrpc__Response msg;
	Ttrpc__Google__Rpc__Status st;
	response_view(&msg, &st, code, message, payload, len);
	return ttrpc__response__get_packed_size(&msg);
}

void ttrpc__response_pack(uint32_t code, const char *message, const uint8_t *payload, size_t len,
			  uint8_t *out)
{
	Ttrpc__Response msg;
	Ttrpc__Google__Rpc__Status st;
	response_view(&msg, &st, code, message, payload, len);
	(void)ttrpc__response__pack(&msg, out);
}

int ttrpc__response_unpack(const uint8_t *data, size_t len, Ttrpc__Response **ret)
{
	Ttrpc__Response *msg = ttrpc__response__unpack(NULL, len, data);
	if (msg == NULL)
		return -EBADMSG;
	*ret = msg;
	return 0;
}

void ttrpc__response_free(Ttrpc__Response *msg)
{
	if (msg != NULL)
		ttrpc__response__free_unpacked(msg, NULL);
}
