/*
 * pack -> unpack round trips for husk::api.
 *
 * The generic part walks each descriptor, fills every field with a non-default value
 * (nested messages, repeated fields with two elements, maps, Any, Timestamp, enums,
 * negative int64), packs, unpacks and compares field by field, then checks the decoded
 * message re-encodes to the same bytes. The typed part builds the messages other layers
 * use through the generated struct names and checks the decoded fields by name.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "cgroups/v1/metrics.pb-c.h"
#include "cgroups/v2/metrics.pb-c.h"
#include "events/task.pb-c.h"
#include "google/protobuf/any.pb-c.h"
#include "google/protobuf/empty.pb-c.h"
#include "google/protobuf/timestamp.pb-c.h"
#include "runc/options/oci.pb-c.h"
#include "runtime/task/v2/shim.pb-c.h"
#include "runtimeoptions/v1/api.pb-c.h"
#include "services/ttrpc/events/v1/events.pb-c.h"
#include "types/introspection.pb-c.h"
#include "types/metrics.pb-c.h"
#include "types/mount.pb-c.h"
#include "types/task/task.pb-c.h"

#define MAX_DEPTH  8
#define N_REPEATED 2

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);
	cr_assert(not(eq(ptr, p, NULL)));
	return p;
}

static size_t elem_size(ProtobufCType type)
{
	switch (type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_ENUM:
		return 4;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return 8;
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_STRING:
		return sizeof(char *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(ProtobufCMessage *);
	}
	cr_fatal("unknown protobuf-c type %d", (int)type);
	return 0;
}

/* Address of the member at byte offset off of a message (void *: no alignment casts). */
static void *at(const void *m, size_t off)
{
	return (void *)((const char *)m + off);
}

static ProtobufCMessage *fill_message(const ProtobufCMessageDescriptor *d, unsigned *seed,
				      int depth);

/* Store one non-default value of f's type at slot; every call yields a distinct value. */
/* NOLINTNEXTLINE(misc-no-recursion): depth bounded by MAX_DEPTH */
static void fill_value(const ProtobufCFieldDescriptor *f, void *slot, unsigned *seed, int depth)
{
	unsigned s = ++*seed;

	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		*(int32_t *)slot = -(int32_t)(s * 1000 + 7);
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		*(uint32_t *)slot = 0x80000000u + s;
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		*(int64_t *)slot = -62135596800LL - (int64_t)s;
		break;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		*(uint64_t *)slot = UINT64_MAX - s;
		break;
	case PROTOBUF_C_TYPE_FLOAT:
		*(float *)slot = (float)s + 0.25f;
		break;
	case PROTOBUF_C_TYPE_DOUBLE:
		*(double *)slot = (double)s + 0.125;
		break;
	case PROTOBUF_C_TYPE_BOOL:
		*(protobuf_c_boolean *)slot = 1;
		break;
	case PROTOBUF_C_TYPE_ENUM: {
		const ProtobufCEnumDescriptor *e = f->descriptor;
		cr_assert(gt(u32, e->n_values, 1));
		*(int *)slot = e->values[1 + s % (e->n_values - 1)].value;
		break;
	}
	case PROTOBUF_C_TYPE_STRING: {
		char *str = NULL;
		cr_assert(gt(int, asprintf(&str, "%s-%u-\xc3\xa9", f->name, s), 0));
		*(char **)slot = str;
		break;
	}
	case PROTOBUF_C_TYPE_BYTES: {
		ProtobufCBinaryData *b = slot;
		b->len = 3 + s % 5;
		b->data = xcalloc(b->len, 1);
		for (size_t i = 1; i < b->len; i++)
			b->data[i] = (uint8_t)((size_t)s * 31 + i); /* b->data[0] stays 0x00 */
		break;
	}
	case PROTOBUF_C_TYPE_MESSAGE:
		*(ProtobufCMessage **)slot = fill_message(f->descriptor, seed, depth + 1);
		break;
	}
}

/* NOLINTNEXTLINE(misc-no-recursion): depth bounded by MAX_DEPTH */
static ProtobufCMessage *fill_message(const ProtobufCMessageDescriptor *d, unsigned *seed,
				      int depth)
{
	cr_assert(lt(int, depth, MAX_DEPTH), "%s nests too deep", d->name);
	ProtobufCMessage *m = xcalloc(1, d->sizeof_message);
	protobuf_c_message_init(d, m);

	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		void *member = at(m, f->offset);

		cr_assert(eq(int, f->flags &PROTOBUF_C_FIELD_FLAG_ONEOF, 0), "%s.%s", d->name,
			  f->name);
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t size = elem_size(f->type);
			char *array = xcalloc(N_REPEATED, size);
			for (size_t k = 0; k < N_REPEATED; k++)
				fill_value(f, array + k * size, seed, depth);
			*(size_t *)at(m, f->quantifier_offset) = N_REPEATED;
			*(void **)member = array;
			continue;
		}
		if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->quantifier_offset != 0)
			*(protobuf_c_boolean *)at(m, f->quantifier_offset) = 1;
		fill_value(f, member, seed, depth);
	}
	return m;
}

static bool value_equal(const ProtobufCFieldDescriptor *f, const void *a, const void *b, char *why,
			size_t whylen);

/* NOLINTNEXTLINE(misc-no-recursion): depth bounded by MAX_DEPTH */
static bool msg_equal(const ProtobufCMessage *a, const ProtobufCMessage *b, char *why,
		      size_t whylen)
{
	if (a == NULL || b == NULL) {
		if (a != b)
			(void)snprintf(why, whylen, "one side is NULL");
		return a == b;
	}
	if (a->descriptor != b->descriptor) {
		(void)snprintf(why, whylen, "descriptor %s vs %s", a->descriptor->name,
			       b->descriptor->name);
		return false;
	}
	const ProtobufCMessageDescriptor *d = a->descriptor;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const void *ma = at(a, f->offset);
		const void *mb = at(b, f->offset);

		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t na = *(const size_t *)at(a, f->quantifier_offset);
			size_t nb = *(const size_t *)at(b, f->quantifier_offset);
			if (na != nb) {
				(void)snprintf(why, whylen, "%s.%s: %zu vs %zu elements", d->name,
					       f->name, na, nb);
				return false;
			}
			const char *arr_a = *(char *const *)ma;
			const char *arr_b = *(char *const *)mb;
			size_t size = elem_size(f->type);
			for (size_t k = 0; k < na; k++)
				if (!value_equal(f, arr_a + k * size, arr_b + k * size, why,
						 whylen))
					return false;
			continue;
		}
		if (!value_equal(f, ma, mb, why, whylen))
			return false;
	}
	return true;
}

/* NOLINTNEXTLINE(misc-no-recursion): depth bounded by MAX_DEPTH */
static bool value_equal(const ProtobufCFieldDescriptor *f, const void *a, const void *b, char *why,
			size_t whylen)
{
	bool same;

	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING:
		same = strcmp(*(char *const *)a, *(char *const *)b) == 0;
		break;
	case PROTOBUF_C_TYPE_BYTES: {
		const ProtobufCBinaryData *x = a;
		const ProtobufCBinaryData *y = b;
		same = x->len == y->len && (x->len == 0 || memcmp(x->data, y->data, x->len) == 0);
		break;
	}
	case PROTOBUF_C_TYPE_MESSAGE:
		return msg_equal(*(ProtobufCMessage *const *)a, *(ProtobufCMessage *const *)b, why,
				 whylen);
	default:
		same = memcmp(a, b, elem_size(f->type)) == 0;
		break;
	}
	if (!same)
		(void)snprintf(why, whylen, "field %s (%u) differs", f->name, f->id);
	return same;
}

/* True when every field of m (recursively) holds a non-default value. */
/* NOLINTNEXTLINE(misc-no-recursion): depth bounded by MAX_DEPTH */
static bool all_set(const ProtobufCMessage *m, char *why, size_t whylen)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;

	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const void *member = at(m, f->offset);
		bool set = true;

		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			set = *(const size_t *)at(m, f->quantifier_offset) > 0;
		} else if (f->type == PROTOBUF_C_TYPE_STRING) {
			set = (*(char *const *)member)[0] != '\0';
		} else if (f->type == PROTOBUF_C_TYPE_BYTES) {
			set = ((const ProtobufCBinaryData *)member)->len > 0;
		} else if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
			const ProtobufCMessage *sub = *(ProtobufCMessage *const *)member;
			set = sub != NULL && all_set(sub, why, whylen);
		} else {
			static const char zero[8];
			set = memcmp(member, zero, elem_size(f->type)) != 0;
		}
		if (!set) {
			if (why[0] == '\0')
				(void)snprintf(why, whylen, "%s.%s is default", d->name, f->name);
			return false;
		}
	}
	return true;
}

static void roundtrip_generic(const ProtobufCMessageDescriptor *d)
{
	unsigned seed = 0;
	char why[256] = "";
	ProtobufCMessage *orig = fill_message(d, &seed, 0);

	size_t len = protobuf_c_message_get_packed_size(orig);
	uint8_t *buf = xcalloc(len + 1, 1);
	cr_assert(eq(sz, protobuf_c_message_pack(orig, buf), len), "%s", d->name);

	ProtobufCMessage *back = protobuf_c_message_unpack(d, NULL, len, buf);
	cr_assert(not(eq(ptr, back, NULL)), "%s: unpack failed", d->name);
	cr_assert(msg_equal(orig, back, why, sizeof(why)), "%s: %s", d->name, why);
	if (d->n_fields > 0)
		cr_assert(all_set(back, why, sizeof(why)), "%s: %s", d->name, why);

	size_t len2 = protobuf_c_message_get_packed_size(back);
	cr_assert(eq(sz, len2, len), "%s", d->name);
	uint8_t *buf2 = xcalloc(len2 + 1, 1);
	protobuf_c_message_pack(back, buf2);
	cr_assert(eq(int, memcmp(buf, buf2, len), 0), "%s: re-encoding differs", d->name);

	free(buf2);
	free(buf);
	protobuf_c_message_free_unpacked(back, NULL);
	protobuf_c_message_free_unpacked(orig, NULL);
}

static const ProtobufCMessageDescriptor *const all_messages[] = {
	&google__protobuf__any__descriptor,
	&google__protobuf__empty__descriptor,
	&google__protobuf__timestamp__descriptor,
	&containerd__types__mount__descriptor,
	&containerd__types__metric__descriptor,
	&containerd__types__runtime_request__descriptor,
	&containerd__types__runtime_info__descriptor,
	&containerd__v1__types__process__descriptor,
	&containerd__v1__types__process_info__descriptor,
	/* task API: every request and response */
	&containerd__task__v2__state_request__descriptor,
	&containerd__task__v2__state_response__descriptor,
	&containerd__task__v2__create_task_request__descriptor,
	&containerd__task__v2__create_task_response__descriptor,
	&containerd__task__v2__start_request__descriptor,
	&containerd__task__v2__start_response__descriptor,
	&containerd__task__v2__delete_request__descriptor,
	&containerd__task__v2__delete_response__descriptor,
	&containerd__task__v2__pids_request__descriptor,
	&containerd__task__v2__pids_response__descriptor,
	&containerd__task__v2__pause_request__descriptor,
	&containerd__task__v2__resume_request__descriptor,
	&containerd__task__v2__checkpoint_task_request__descriptor,
	&containerd__task__v2__kill_request__descriptor,
	&containerd__task__v2__exec_process_request__descriptor,
	&containerd__task__v2__exec_process_response__descriptor,
	&containerd__task__v2__resize_pty_request__descriptor,
	&containerd__task__v2__close_iorequest__descriptor,
	&containerd__task__v2__update_task_request__descriptor,
	&containerd__task__v2__wait_request__descriptor,
	&containerd__task__v2__wait_response__descriptor,
	&containerd__task__v2__stats_request__descriptor,
	&containerd__task__v2__stats_response__descriptor,
	&containerd__task__v2__connect_request__descriptor,
	&containerd__task__v2__connect_response__descriptor,
	&containerd__task__v2__shutdown_request__descriptor,
	/* events */
	&containerd__services__events__ttrpc__v1__forward_request__descriptor,
	&containerd__services__events__ttrpc__v1__envelope__descriptor,
	&containerd__events__task_create__descriptor,
	&containerd__events__task_start__descriptor,
	&containerd__events__task_delete__descriptor,
	&containerd__events__task_io__descriptor,
	&containerd__events__task_exit__descriptor,
	&containerd__events__task_oom__descriptor,
	&containerd__events__task_exec_added__descriptor,
	&containerd__events__task_exec_started__descriptor,
	&containerd__events__task_paused__descriptor,
	&containerd__events__task_resumed__descriptor,
	&containerd__events__task_checkpointed__descriptor,
	/* options and stats payloads */
	&containerd__runc__v1__options__descriptor,
	&containerd__runc__v1__checkpoint_options__descriptor,
	&containerd__runc__v1__process_details__descriptor,
	&runtimeoptions__v1__options__descriptor,
	&io__containerd__cgroups__v1__metrics__descriptor,
	&io__containerd__cgroups__v2__metrics__descriptor,
};

Test(api_roundtrip, every_message_every_field)
{
	for (size_t i = 0; i < sizeof(all_messages) / sizeof(all_messages[0]); i++)
		roundtrip_generic(all_messages[i]);
}

/* The comparison must notice a difference, or the test above proves nothing. */
Test(api_roundtrip, comparison_detects_a_changed_nested_field)
{
	unsigned seed = 0;
	char why[256] = "";
	const ProtobufCMessageDescriptor *d =
		&containerd__task__v2__create_task_request__descriptor;
	Containerd__Task__V2__CreateTaskRequest *a = (void *)fill_message(d, &seed, 0);
	seed = 0;
	Containerd__Task__V2__CreateTaskRequest *b = (void *)fill_message(d, &seed, 0);

	cr_assert(msg_equal(&a->base, &b->base, why, sizeof(why)));
	b->rootfs[1]->options[0][0] ^= 1;
	cr_assert(not(msg_equal(&a->base, &b->base, why, sizeof(why))));
	cr_assert(eq(str, why, "field options (4) differs"));

	protobuf_c_message_free_unpacked(&a->base, NULL);
	protobuf_c_message_free_unpacked(&b->base, NULL);
}

/* --- typed round trips: the generated names other layers use --- */

static uint8_t *pack_msg(const ProtobufCMessage *m, size_t *ret_len)
{
	*ret_len = protobuf_c_message_get_packed_size(m);
	uint8_t *buf = xcalloc(*ret_len + 1, 1);
	cr_assert(eq(sz, protobuf_c_message_pack(m, buf), *ret_len));
	return buf;
}

/* Pack an inner message into a fresh Any (type_url = full name, as containerd does). */
static void any_pack(Google__Protobuf__Any *any, const ProtobufCMessage *inner)
{
	google__protobuf__any__init(any);
	any->type_url = (char *)inner->descriptor->name;
	any->value.data = pack_msg(inner, &any->value.len);
}

Test(api_roundtrip, create_task_request)
{
	char *opts1[] = {"index=off", "workdir=/s/2/work", "upperdir=/s/2/fs", "lowerdir=/s/1/fs"};
	char *opts2[] = {"rbind", "ro"};
	Containerd__Types__Mount m1 = CONTAINERD__TYPES__MOUNT__INIT;
	Containerd__Types__Mount m2 = CONTAINERD__TYPES__MOUNT__INIT;
	Containerd__Types__Mount *rootfs[] = {&m1, &m2};
	Containerd__Runc__V1__Options ro = CONTAINERD__RUNC__V1__OPTIONS__INIT;
	Google__Protobuf__Any any;
	Containerd__Task__V2__CreateTaskRequest req =
		CONTAINERD__TASK__V2__CREATE_TASK_REQUEST__INIT;

	m1.type = "overlay";
	m1.source = "overlay";
	m1.n_options = 4;
	m1.options = opts1;
	m2.type = "bind";
	m2.source = "/src";
	m2.target = "/dst";
	m2.n_options = 2;
	m2.options = opts2;
	ro.binary_name = "/usr/sbin/runc";
	ro.root = "/run/x";
	ro.systemd_cgroup = 1;
	ro.io_uid = 1000;
	any_pack(&any, &ro.base);

	req.id = "c1";
	req.bundle = "/run/containerd/io.containerd.runtime.v2.task/ns/c1";
	req.n_rootfs = 2;
	req.rootfs = rootfs;
	req.terminal = 1;
	req.stdin = "/fifo/in";
	req.stdout = "/fifo/out";
	req.stderr = "/fifo/err";
	req.checkpoint = "/ckpt";
	req.parent_checkpoint = "/parent";
	req.options = &any;

	size_t len;
	uint8_t *buf = pack_msg(&req.base, &len);
	free(any.value.data);

	Containerd__Task__V2__CreateTaskRequest *got =
		containerd__task__v2__create_task_request__unpack(NULL, len, buf);
	free(buf);
	cr_assert(not(eq(ptr, got, NULL)));
	cr_assert(eq(str, got->id, "c1"));
	cr_assert(eq(str, got->bundle, "/run/containerd/io.containerd.runtime.v2.task/ns/c1"));
	cr_assert(eq(sz, got->n_rootfs, 2));
	cr_assert(eq(str, got->rootfs[0]->type, "overlay"));
	cr_assert(eq(str, got->rootfs[0]->source, "overlay"));
	cr_assert(eq(str, got->rootfs[0]->target, ""));
	cr_assert(eq(sz, got->rootfs[0]->n_options, 4));
	cr_assert(eq(str, got->rootfs[0]->options[3], "lowerdir=/s/1/fs"));
	cr_assert(eq(str, got->rootfs[1]->target, "/dst"));
	cr_assert(eq(str, got->rootfs[1]->options[1], "ro"));
	cr_assert(eq(int, got->terminal, 1));
	cr_assert(eq(str, got->stdin, "/fifo/in"));
	cr_assert(eq(str, got->stdout, "/fifo/out"));
	cr_assert(eq(str, got->stderr, "/fifo/err"));
	cr_assert(eq(str, got->checkpoint, "/ckpt"));
	cr_assert(eq(str, got->parent_checkpoint, "/parent"));
	cr_assert(not(eq(ptr, got->options, NULL)));
	cr_assert(eq(str, got->options->type_url, "containerd.runc.v1.Options"));

	Containerd__Runc__V1__Options *o = containerd__runc__v1__options__unpack(
		NULL, got->options->value.len, got->options->value.data);
	cr_assert(not(eq(ptr, o, NULL)));
	cr_assert(eq(str, o->binary_name, "/usr/sbin/runc"));
	cr_assert(eq(str, o->root, "/run/x"));
	cr_assert(eq(int, o->systemd_cgroup, 1));
	cr_assert(eq(u32, o->io_uid, 1000));
	cr_assert(eq(int, o->no_pivot_root, 0));
	containerd__runc__v1__options__free_unpacked(o, NULL);
	containerd__task__v2__create_task_request__free_unpacked(got, NULL);
}

Test(api_roundtrip, state_response_with_status_and_exited_at)
{
	Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	Containerd__Task__V2__StateResponse r = CONTAINERD__TASK__V2__STATE_RESPONSE__INIT;

	ts.seconds = -62135596800LL; /* Go zero time: "not exited" */
	r.id = "e1";
	r.bundle = "/b";
	r.pid = 4242;
	r.status = CONTAINERD__V1__TYPES__STATUS__PAUSED;
	r.stdin = "i";
	r.stdout = "o";
	r.stderr = "e";
	r.terminal = 1;
	r.exit_status = 255;
	r.exited_at = &ts;
	r.exec_id = "x";

	size_t len;
	uint8_t *buf = pack_msg(&r.base, &len);
	Containerd__Task__V2__StateResponse *got =
		containerd__task__v2__state_response__unpack(NULL, len, buf);
	free(buf);
	cr_assert(not(eq(ptr, got, NULL)));
	cr_assert(eq(str, got->id, "e1"));
	cr_assert(eq(str, got->bundle, "/b"));
	cr_assert(eq(u32, got->pid, 4242));
	cr_assert(eq(int, got->status, CONTAINERD__V1__TYPES__STATUS__PAUSED));
	cr_assert(eq(str, got->stdin, "i"));
	cr_assert(eq(str, got->stdout, "o"));
	cr_assert(eq(str, got->stderr, "e"));
	cr_assert(eq(int, got->terminal, 1));
	cr_assert(eq(u32, got->exit_status, 255));
	cr_assert(not(eq(ptr, got->exited_at, NULL)));
	cr_assert(eq(i64, got->exited_at->seconds, -62135596800LL));
	cr_assert(eq(i32, got->exited_at->nanos, 0));
	cr_assert(eq(str, got->exec_id, "x"));
	containerd__task__v2__state_response__free_unpacked(got, NULL);
}

Test(api_roundtrip, update_task_request_annotations_map)
{
	Containerd__Task__V2__UpdateTaskRequest__AnnotationsEntry e1 =
		CONTAINERD__TASK__V2__UPDATE_TASK_REQUEST__ANNOTATIONS_ENTRY__INIT;
	Containerd__Task__V2__UpdateTaskRequest__AnnotationsEntry e2 =
		CONTAINERD__TASK__V2__UPDATE_TASK_REQUEST__ANNOTATIONS_ENTRY__INIT;
	Containerd__Task__V2__UpdateTaskRequest__AnnotationsEntry *entries[] = {&e1, &e2};
	Google__Protobuf__Any res = GOOGLE__PROTOBUF__ANY__INIT;
	Containerd__Task__V2__UpdateTaskRequest r = CONTAINERD__TASK__V2__UPDATE_TASK_REQUEST__INIT;
	static const char json[] = "{\"memory\":{\"limit\":1048576}}";

	e1.key = "io.kubernetes.cri.sandbox-id";
	e1.value = "abc";
	e2.key = "k2";
	e2.value = "";
	res.type_url = "types.containerd.io/opencontainers/runtime-spec/1/LinuxResources";
	res.value.data = (uint8_t *)json;
	res.value.len = sizeof(json) - 1;
	r.id = "c1";
	r.resources = &res;
	r.n_annotations = 2;
	r.annotations = entries;

	size_t len;
	uint8_t *buf = pack_msg(&r.base, &len);
	Containerd__Task__V2__UpdateTaskRequest *got =
		containerd__task__v2__update_task_request__unpack(NULL, len, buf);
	free(buf);
	cr_assert(not(eq(ptr, got, NULL)));
	cr_assert(eq(str, got->id, "c1"));
	cr_assert(eq(str, got->resources->type_url,
		     "types.containerd.io/opencontainers/runtime-spec/1/LinuxResources"));
	cr_assert(eq(sz, got->resources->value.len, sizeof(json) - 1));
	cr_assert(eq(int, memcmp(got->resources->value.data, json, sizeof(json) - 1), 0));
	cr_assert(eq(sz, got->n_annotations, 2));
	cr_assert(eq(str, got->annotations[0]->key, "io.kubernetes.cri.sandbox-id"));
	cr_assert(eq(str, got->annotations[0]->value, "abc"));
	cr_assert(eq(str, got->annotations[1]->key, "k2"));
	cr_assert(eq(str, got->annotations[1]->value, ""));
	containerd__task__v2__update_task_request__free_unpacked(got, NULL);
}

Test(api_roundtrip, pids_response_with_process_details)
{
	Containerd__Runc__V1__ProcessDetails det = CONTAINERD__RUNC__V1__PROCESS_DETAILS__INIT;
	Google__Protobuf__Any info;
	Containerd__V1__Types__ProcessInfo p1 = CONTAINERD__V1__TYPES__PROCESS_INFO__INIT;
	Containerd__V1__Types__ProcessInfo p2 = CONTAINERD__V1__TYPES__PROCESS_INFO__INIT;
	Containerd__V1__Types__ProcessInfo *procs[] = {&p1, &p2};
	Containerd__Task__V2__PidsResponse r = CONTAINERD__TASK__V2__PIDS_RESPONSE__INIT;

	det.exec_id = "e1";
	any_pack(&info, &det.base);
	p1.pid = 100;
	p2.pid = 101;
	p2.info = &info;
	r.n_processes = 2;
	r.processes = procs;

	size_t len;
	uint8_t *buf = pack_msg(&r.base, &len);
	free(info.value.data);
	Containerd__Task__V2__PidsResponse *got =
		containerd__task__v2__pids_response__unpack(NULL, len, buf);
	free(buf);
	cr_assert(not(eq(ptr, got, NULL)));
	cr_assert(eq(sz, got->n_processes, 2));
	cr_assert(eq(u32, got->processes[0]->pid, 100));
	cr_assert(eq(ptr, got->processes[0]->info, NULL));
	cr_assert(eq(u32, got->processes[1]->pid, 101));
	cr_assert(eq(str, got->processes[1]->info->type_url, "containerd.runc.v1.ProcessDetails"));
	Containerd__Runc__V1__ProcessDetails *d = containerd__runc__v1__process_details__unpack(
		NULL, got->processes[1]->info->value.len, got->processes[1]->info->value.data);
	cr_assert(not(eq(ptr, d, NULL)));
	cr_assert(eq(str, d->exec_id, "e1"));
	containerd__runc__v1__process_details__free_unpacked(d, NULL);
	containerd__task__v2__pids_response__free_unpacked(got, NULL);
}

Test(api_roundtrip, connect_and_exec_and_kill)
{
	Containerd__Task__V2__ConnectResponse c = CONTAINERD__TASK__V2__CONNECT_RESPONSE__INIT;
	c.shim_pid = 1;
	c.task_pid = 2;
	c.version = "husk 0.1.0";
	size_t len;
	uint8_t *buf = pack_msg(&c.base, &len);
	Containerd__Task__V2__ConnectResponse *cg =
		containerd__task__v2__connect_response__unpack(NULL, len, buf);
	free(buf);
	cr_assert(not(eq(ptr, cg, NULL)));
	cr_assert(eq(u32, cg->shim_pid, 1));
	cr_assert(eq(u32, cg->task_pid, 2));
	cr_assert(eq(str, cg->version, "husk 0.1.0"));
	containerd__task__v2__connect_response__free_unpacked(cg, NULL);

	static const char proc[] = "{\"args\":[\"sh\"],\"cwd\":\"/\"}";
	Google__Protobuf__Any spec = GOOGLE__PROTOBUF__ANY__INIT;
	Containerd__Task__V2__ExecProcessRequest e =
		CONTAINERD__TASK__V2__EXEC_PROCESS_REQUEST__INIT;
	spec.type_url = "types.containerd.io/opencontainers/runtime-spec/1/Process";
	spec.value.data = (uint8_t *)proc;
	spec.value.len = sizeof(proc) - 1;
	e.id = "c1";
	e.exec_id = "e1";
	e.terminal = 1;
	e.stdin = "a";
	e.stdout = "b";
	e.stderr = "c";
	e.spec = &spec;
	buf = pack_msg(&e.base, &len);
	Containerd__Task__V2__ExecProcessRequest *eg =
		containerd__task__v2__exec_process_request__unpack(NULL, len, buf);
	free(buf);
	cr_assert(not(eq(ptr, eg, NULL)));
	cr_assert(eq(str, eg->exec_id, "e1"));
	cr_assert(eq(int, eg->terminal, 1));
	cr_assert(eq(str, eg->spec->type_url,
		     "types.containerd.io/opencontainers/runtime-spec/1/Process"));
	cr_assert(eq(sz, eg->spec->value.len, sizeof(proc) - 1));
	containerd__task__v2__exec_process_request__free_unpacked(eg, NULL);

	Containerd__Task__V2__KillRequest k = CONTAINERD__TASK__V2__KILL_REQUEST__INIT;
	k.id = "c1";
	k.exec_id = "e1";
	k.signal = 9;
	k.all = 1;
	buf = pack_msg(&k.base, &len);
	Containerd__Task__V2__KillRequest *kg =
		containerd__task__v2__kill_request__unpack(NULL, len, buf);
	free(buf);
	cr_assert(not(eq(ptr, kg, NULL)));
	cr_assert(eq(str, kg->id, "c1"));
	cr_assert(eq(str, kg->exec_id, "e1"));
	cr_assert(eq(u32, kg->signal, 9));
	cr_assert(eq(int, kg->all, 1));
	containerd__task__v2__kill_request__free_unpacked(kg, NULL);
}

/* The shim's event path: event -> Any -> Envelope -> ForwardRequest -> bytes, and back. */
Test(api_roundtrip, task_exit_forwarded_in_an_envelope)
{
	Google__Protobuf__Timestamp exited = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	Google__Protobuf__Timestamp now = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	Containerd__Events__TaskExit ev = CONTAINERD__EVENTS__TASK_EXIT__INIT;
	Google__Protobuf__Any any;
	Containerd__Services__Events__Ttrpc__V1__Envelope env =
		CONTAINERD__SERVICES__EVENTS__TTRPC__V1__ENVELOPE__INIT;
	Containerd__Services__Events__Ttrpc__V1__ForwardRequest fwd =
		CONTAINERD__SERVICES__EVENTS__TTRPC__V1__FORWARD_REQUEST__INIT;

	exited.seconds = 1795354172;
	exited.nanos = 529238939;
	now.seconds = 1795354173;
	now.nanos = 1;
	ev.container_id = "py2";
	ev.id = "e1";
	ev.pid = 29376;
	ev.exit_status = 143;
	ev.exited_at = &exited;
	any_pack(&any, &ev.base);
	env.timestamp = &now;
	env.namespace_ = "probens";
	env.topic = "/tasks/exit";
	env.event = &any;
	fwd.envelope = &env;

	size_t len;
	uint8_t *buf = pack_msg(&fwd.base, &len);
	free(any.value.data);
	Containerd__Services__Events__Ttrpc__V1__ForwardRequest *got =
		containerd__services__events__ttrpc__v1__forward_request__unpack(NULL, len, buf);
	free(buf);
	cr_assert(not(eq(ptr, got, NULL)));
	Containerd__Services__Events__Ttrpc__V1__Envelope *e = got->envelope;
	cr_assert(not(eq(ptr, e, NULL)));
	cr_assert(eq(i64, e->timestamp->seconds, 1795354173));
	cr_assert(eq(i32, e->timestamp->nanos, 1));
	cr_assert(eq(str, e->namespace_, "probens"));
	cr_assert(eq(str, e->topic, "/tasks/exit"));
	cr_assert(eq(str, e->event->type_url, "containerd.events.TaskExit"));

	Containerd__Events__TaskExit *x = containerd__events__task_exit__unpack(
		NULL, e->event->value.len, e->event->value.data);
	cr_assert(not(eq(ptr, x, NULL)));
	cr_assert(eq(str, x->container_id, "py2"));
	cr_assert(eq(str, x->id, "e1"));
	cr_assert(eq(u32, x->pid, 29376));
	cr_assert(eq(u32, x->exit_status, 143));
	cr_assert(eq(i64, x->exited_at->seconds, 1795354172));
	cr_assert(eq(i32, x->exited_at->nanos, 529238939));
	containerd__events__task_exit__free_unpacked(x, NULL);
	containerd__services__events__ttrpc__v1__forward_request__free_unpacked(got, NULL);
}

Test(api_roundtrip, task_create_event_with_io_and_rootfs)
{
	char *opts[] = {"rw"};
	Containerd__Types__Mount m = CONTAINERD__TYPES__MOUNT__INIT;
	Containerd__Types__Mount *rootfs[] = {&m};
	Containerd__Events__TaskIO io = CONTAINERD__EVENTS__TASK_IO__INIT;
	Containerd__Events__TaskCreate ev = CONTAINERD__EVENTS__TASK_CREATE__INIT;

	m.type = "bind";
	m.source = "/snap/1";
	m.n_options = 1;
	m.options = opts;
	io.stdin = "/in";
	io.stdout = "/out";
	io.stderr = "/err";
	io.terminal = 1;
	ev.container_id = "py2";
	ev.bundle = "/b/py2";
	ev.n_rootfs = 1;
	ev.rootfs = rootfs;
	ev.io = &io;
	ev.checkpoint = "/ck";
	ev.pid = 29345;

	size_t len;
	uint8_t *buf = pack_msg(&ev.base, &len);
	Containerd__Events__TaskCreate *got =
		containerd__events__task_create__unpack(NULL, len, buf);
	free(buf);
	cr_assert(not(eq(ptr, got, NULL)));
	cr_assert(eq(str, got->container_id, "py2"));
	cr_assert(eq(str, got->bundle, "/b/py2"));
	cr_assert(eq(sz, got->n_rootfs, 1));
	cr_assert(eq(str, got->rootfs[0]->source, "/snap/1"));
	cr_assert(eq(str, got->rootfs[0]->options[0], "rw"));
	cr_assert(eq(str, got->io->stdin, "/in"));
	cr_assert(eq(str, got->io->stdout, "/out"));
	cr_assert(eq(str, got->io->stderr, "/err"));
	cr_assert(eq(int, got->io->terminal, 1));
	cr_assert(eq(str, got->checkpoint, "/ck"));
	cr_assert(eq(u32, got->pid, 29345));
	containerd__events__task_create__free_unpacked(got, NULL);
}

Test(api_roundtrip, v1_metrics_in_stats_response)
{
	uint64_t per_cpu[] = {10, 20};
	Io__Containerd__Cgroups__V1__CPUUsage usage = IO__CONTAINERD__CGROUPS__V1__CPUUSAGE__INIT;
	Io__Containerd__Cgroups__V1__CPUStat cpu = IO__CONTAINERD__CGROUPS__V1__CPUSTAT__INIT;
	Io__Containerd__Cgroups__V1__PidsStat pids = IO__CONTAINERD__CGROUPS__V1__PIDS_STAT__INIT;
	Io__Containerd__Cgroups__V1__MemoryEntry mu =
		IO__CONTAINERD__CGROUPS__V1__MEMORY_ENTRY__INIT;
	Io__Containerd__Cgroups__V1__MemoryStat mem =
		IO__CONTAINERD__CGROUPS__V1__MEMORY_STAT__INIT;
	Io__Containerd__Cgroups__V1__Metrics m = IO__CONTAINERD__CGROUPS__V1__METRICS__INIT;
	Google__Protobuf__Any any;
	Containerd__Task__V2__StatsResponse r = CONTAINERD__TASK__V2__STATS_RESPONSE__INIT;

	usage.total = 30;
	usage.kernel = 5;
	usage.n_per_cpu = 2;
	usage.per_cpu = per_cpu;
	cpu.usage = &usage;
	pids.current = 3;
	mu.limit = UINT64_C(9223372036854771712);
	mu.usage = 4096;
	mem.cache = 1;
	mem.total_inactive_file = 7;
	mem.usage = &mu;
	m.pids = &pids;
	m.cpu = &cpu;
	m.memory = &mem;
	any_pack(&any, &m.base);
	r.stats = &any;

	size_t len;
	uint8_t *buf = pack_msg(&r.base, &len);
	free(any.value.data);
	Containerd__Task__V2__StatsResponse *got =
		containerd__task__v2__stats_response__unpack(NULL, len, buf);
	free(buf);
	cr_assert(not(eq(ptr, got, NULL)));
	cr_assert(eq(str, got->stats->type_url, "io.containerd.cgroups.v1.Metrics"));
	Io__Containerd__Cgroups__V1__Metrics *mg = io__containerd__cgroups__v1__metrics__unpack(
		NULL, got->stats->value.len, got->stats->value.data);
	cr_assert(not(eq(ptr, mg, NULL)));
	cr_assert(eq(u64, mg->pids->current, 3));
	cr_assert(eq(u64, mg->cpu->usage->total, 30));
	cr_assert(eq(u64, mg->cpu->usage->kernel, 5));
	cr_assert(eq(sz, mg->cpu->usage->n_per_cpu, 2));
	cr_assert(eq(u64, mg->cpu->usage->per_cpu[1], 20));
	cr_assert(eq(ptr, mg->cpu->throttling, NULL));
	cr_assert(eq(u64, mg->memory->cache, 1));
	cr_assert(eq(u64, mg->memory->total_inactive_file, 7));
	cr_assert(eq(u64, mg->memory->usage->limit, UINT64_C(9223372036854771712)));
	cr_assert(eq(u64, mg->memory->usage->usage, 4096));
	cr_assert(eq(ptr, mg->blkio, NULL));
	io__containerd__cgroups__v1__metrics__free_unpacked(mg, NULL);
	containerd__task__v2__stats_response__free_unpacked(got, NULL);
}

Test(api_roundtrip, v2_metrics)
{
	Io__Containerd__Cgroups__V2__PSIData some = IO__CONTAINERD__CGROUPS__V2__PSIDATA__INIT;
	Io__Containerd__Cgroups__V2__PSIStats psi = IO__CONTAINERD__CGROUPS__V2__PSISTATS__INIT;
	Io__Containerd__Cgroups__V2__CPUStat cpu = IO__CONTAINERD__CGROUPS__V2__CPUSTAT__INIT;
	Io__Containerd__Cgroups__V2__MemoryStat mem =
		IO__CONTAINERD__CGROUPS__V2__MEMORY_STAT__INIT;
	Io__Containerd__Cgroups__V2__MemoryEvents ev =
		IO__CONTAINERD__CGROUPS__V2__MEMORY_EVENTS__INIT;
	Io__Containerd__Cgroups__V2__Metrics m = IO__CONTAINERD__CGROUPS__V2__METRICS__INIT;

	some.avg10 = 1.5;
	some.total = 99;
	psi.some = &some;
	cpu.usage_usec = 1234;
	cpu.psi = &psi;
	mem.usage = 8192;
	mem.usage_limit = UINT64_MAX;
	mem.inactive_file = 10;
	ev.oom_kill = 1;
	m.cpu = &cpu;
	m.memory = &mem;
	m.memory_events = &ev;

	size_t len;
	uint8_t *buf = pack_msg(&m.base, &len);
	Io__Containerd__Cgroups__V2__Metrics *got =
		io__containerd__cgroups__v2__metrics__unpack(NULL, len, buf);
	free(buf);
	cr_assert(not(eq(ptr, got, NULL)));
	cr_assert(eq(u64, got->cpu->usage_usec, 1234));
	cr_assert(eq(dbl, got->cpu->psi->some->avg10, 1.5));
	cr_assert(eq(u64, got->cpu->psi->some->total, 99));
	cr_assert(eq(ptr, got->cpu->psi->full, NULL));
	cr_assert(eq(u64, got->memory->usage, 8192));
	cr_assert(eq(u64, got->memory->usage_limit, UINT64_MAX));
	cr_assert(eq(u64, got->memory->inactive_file, 10));
	cr_assert(eq(u64, got->memory_events->oom_kill, 1));
	cr_assert(eq(ptr, got->pids, NULL));
	io__containerd__cgroups__v2__metrics__free_unpacked(got, NULL);
}

Test(api_roundtrip, runtime_info)
{
	Containerd__Types__RuntimeVersion v = CONTAINERD__TYPES__RUNTIME_VERSION__INIT;
	Containerd__Types__RuntimeInfo__AnnotationsEntry a =
		CONTAINERD__TYPES__RUNTIME_INFO__ANNOTATIONS_ENTRY__INIT;
	Containerd__Types__RuntimeInfo__AnnotationsEntry *ann[] = {&a};
	Containerd__Types__RuntimeInfo info = CONTAINERD__TYPES__RUNTIME_INFO__INIT;

	v.version = "0.1.0";
	v.revision = "abc";
	a.key = "containerd.io/runtime-allow-mounts";
	a.value = "overlay,bind";
	info.name = "io.containerd.husk.v2";
	info.version = &v;
	info.n_annotations = 1;
	info.annotations = ann;

	size_t len;
	uint8_t *buf = pack_msg(&info.base, &len);
	Containerd__Types__RuntimeInfo *got =
		containerd__types__runtime_info__unpack(NULL, len, buf);
	free(buf);
	cr_assert(not(eq(ptr, got, NULL)));
	cr_assert(eq(str, got->name, "io.containerd.husk.v2"));
	cr_assert(eq(str, got->version->version, "0.1.0"));
	cr_assert(eq(str, got->version->revision, "abc"));
	cr_assert(eq(ptr, got->options, NULL));
	cr_assert(eq(sz, got->n_annotations, 1));
	cr_assert(eq(str, got->annotations[0]->key, "containerd.io/runtime-allow-mounts"));
	cr_assert(eq(str, got->annotations[0]->value, "overlay,bind"));
	containerd__types__runtime_info__free_unpacked(got, NULL);
}
