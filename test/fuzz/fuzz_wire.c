/*
 * Fuzz the raw-bytes check of Task requests against protobuf-c's own decoder. The first byte
 * picks a method of containerd.task.v2.Task, the rest is its request. Whenever the check
 * accepts bytes that protobuf-c decodes, no string of the decoded message (at any depth)
 * may be shorter than its bytes on the wire: protobuf-c allocates each string as its wire
 * length + 1, so an allocator that records sizes shows a string cut at a NUL.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <protobuf-c/protobuf-c.h>

#include "husk/err.h"
#include "runtime/task/v2/shim.pb-c.h"
#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct hdr {
	size_t size;
	size_t magic;
};

#define MAGIC ((size_t)0x5eed5eed5eedull)

static void *sized_alloc(void *ud, size_t n)
{
	(void)ud;
	struct hdr *h = malloc(sizeof(*h) + n);
	if (!h)
		return NULL;
	h->size = n;
	h->magic = MAGIC;
	return h + 1;
}

static void sized_free(void *ud, void *p)
{
	(void)ud;
	if (p)
		free((struct hdr *)p - 1);
}

static ProtobufCAllocator allocator = {sized_alloc, sized_free, NULL};

static void check_str(const char *s)
{
	if (s == NULL || s == protobuf_c_empty_string)
		return;
	struct hdr h;
	memcpy(&h, s - sizeof(h), sizeof(h));
	if (h.magic != MAGIC || h.size != strlen(s) + 1)
		abort(); /* a string shorter than its wire bytes passed the check */
}

/* A message being walked: its next field and, in a repeated field, the next element. */
struct frame {
	const ProtobufCMessage *m;
	unsigned field;
	size_t elem;
};

/* Value k of field f of m (n values in *ret_n), a string or a message pointer. */
static const void *value(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, size_t k,
			 size_t *ret_n)
{
	const char *base = (const char *)m;
	const void *v = NULL;
	uint32_t oneof_case = 0;

	*ret_n = 0;
	if (f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_MESSAGE)
		return NULL;
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
		memcpy(&oneof_case, base + f->quantifier_offset, sizeof(oneof_case));
		if (oneof_case != f->id)
			return NULL;
	}
	if (f->label != PROTOBUF_C_LABEL_REPEATED) {
		*ret_n = 1;
		memcpy(&v, base + f->offset, sizeof(v));
		return v;
	}
	const char *arr = NULL;
	memcpy(ret_n, base + f->quantifier_offset, sizeof(*ret_n));
	memcpy(&arr, base + f->offset, sizeof(arr));
	if (k < *ret_n)
		memcpy(&v, arr + k * sizeof(v), sizeof(v));
	return v;
}

/* Every string of top and of its nested messages, depth first, without recursion. */
static void check_strings(const ProtobufCMessage *top)
{
	struct frame stack[SHIM_WIRE_MAX_DEPTH + 1];
	size_t depth = 0;

	stack[0] = (struct frame){top, 0, 0};
	for (;;) {
		struct frame *fr = &stack[depth];
		const ProtobufCMessageDescriptor *d = fr->m->descriptor;
		if (fr->field == d->n_fields) {
			if (depth == 0)
				return;
			depth--;
			continue;
		}
		size_t n = 0;
		const void *x = value(fr->m, &d->fields[fr->field], fr->elem++, &n);
		if (fr->elem > n) {
			fr->field++;
			fr->elem = 0;
			continue;
		}
		if (d->fields[fr->field].type == PROTOBUF_C_TYPE_STRING) {
			check_str(x);
			continue;
		}
		if (x == NULL)
			continue;
		if (depth == SHIM_WIRE_MAX_DEPTH)
			abort(); /* the check bounds nesting */
		stack[++depth] = (struct frame){x, 0, 0};
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const ProtobufCServiceDescriptor *svc = &containerd__task__v2__task__descriptor;
	struct husk_err err = {0};

	if (size == 0)
		return 0;
	const ProtobufCMessageDescriptor *desc = svc->methods[data[0] % svc->n_methods].input;
	data++;
	size--;
	int r = shim_wire_check(desc, data, size, &err);
	if (r < 0 && (err.kind != HUSK_ERR_INVALID || err.msg[0] == '\0'))
		abort();
	ProtobufCMessage *m = protobuf_c_message_unpack(desc, &allocator, size, data);
	if (m == NULL)
		return 0;
	if (r == 0)
		check_strings(m);
	protobuf_c_message_free_unpacked(m, &allocator);
	return 0;
}
