/*
 * Golden byte vectors from shared/docs/protocol.md ([obs 1.6.20] captures of real
 * containerd/runc traffic, and encodings the doc spells out). Each vector must decode to
 * the documented values and re-encode to the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "events/task.pb-c.h"
#include "google/protobuf/any.pb-c.h"
#include "google/protobuf/empty.pb-c.h"
#include "google/protobuf/timestamp.pb-c.h"
#include "runc/options/oci.pb-c.h"
#include "runtime/task/v2/shim.pb-c.h"
#include "runtimeoptions/v1/api.pb-c.h"

/* Pack m and require exactly the bytes want[0..len). */
static void assert_packs_to(const ProtobufCMessage *m, const uint8_t *want, size_t len)
{
	size_t n = protobuf_c_message_get_packed_size(m);
	cr_assert(eq(sz, n, len), "%s: packed size", m->descriptor->name);
	uint8_t *buf = calloc(n + 1, 1);
	cr_assert(not(eq(ptr, buf, NULL)));
	cr_assert(eq(sz, protobuf_c_message_pack(m, buf), n));
	cr_assert(eq(int, memcmp(buf, want, len), 0), "%s: bytes differ", m->descriptor->name);
	free(buf);
}

/* protocol.md 1.5: the payload of the Wait reply on stream 11 (exit code 0). */
static const uint8_t wait_response[] = {0x12, 0x0c, 0x08, 0xbc, 0xdc, 0x8b, 0xd8,
					0x06, 0x10, 0x9b, 0x97, 0xae, 0xfc, 0x01};

Test(api_golden, wait_response_from_probe_shim)
{
	Containerd__Task__V2__WaitResponse *w = containerd__task__v2__wait_response__unpack(
		NULL, sizeof(wait_response), wait_response);
	cr_assert(not(eq(ptr, w, NULL)));
	cr_assert(eq(u32, w->exit_status, 0));
	cr_assert(not(eq(ptr, w->exited_at, NULL)));
	cr_assert(eq(i64, w->exited_at->seconds, 1795354172));
	cr_assert(eq(i32, w->exited_at->nanos, 529238939));
	assert_packs_to(&w->base, wait_response, sizeof(wait_response));
	containerd__task__v2__wait_response__free_unpacked(w, NULL);
}

/* protocol.md 2.7: stdout of runc's `delete`: pid 3837, exit 137, timestamp. */
static const uint8_t delete_response[] = {0x08, 0xfd, 0x1d, 0x10, 0x89, 0x01, 0x1a,
					  0x0b, 0x08, 0xd8, 0xd8, 0x8b, 0xd8, 0x06,
					  0x10, 0xda, 0xf2, 0xea, 0x10};

Test(api_golden, delete_response_from_runc_delete_stdout)
{
	Containerd__Task__V2__DeleteResponse *d = containerd__task__v2__delete_response__unpack(
		NULL, sizeof(delete_response), delete_response);
	cr_assert(not(eq(ptr, d, NULL)));
	cr_assert(eq(u32, d->pid, 3837));
	cr_assert(eq(u32, d->exit_status, 137));
	cr_assert(not(eq(ptr, d->exited_at, NULL)));
	cr_assert(eq(i64, d->exited_at->seconds, 1795353688));
	cr_assert(eq(i32, d->exited_at->nanos, 35305818));
	assert_packs_to(&d->base, delete_response, sizeof(delete_response));
	containerd__task__v2__delete_response__free_unpacked(d, NULL);
}

Test(api_golden, delete_response_truncated_is_rejected)
{
	for (size_t len = 1; len < sizeof(delete_response); len++) {
		if (len == 3 || len == 6)
			continue; /* field boundaries: a shorter message is still valid */
		Containerd__Task__V2__DeleteResponse *d =
			containerd__task__v2__delete_response__unpack(NULL, len, delete_response);
		cr_assert(eq(ptr, d, NULL), "accepted %zu of %zu bytes", len,
			  sizeof(delete_response));
	}
}

/* protocol.md 2.7: empty stdout decodes as an all-zero response. */
Test(api_golden, empty_input_is_an_all_default_message)
{
	Containerd__Task__V2__DeleteResponse *d =
		containerd__task__v2__delete_response__unpack(NULL, 0, (const uint8_t *)"");
	cr_assert(not(eq(ptr, d, NULL)));
	cr_assert(eq(u32, d->pid, 0));
	cr_assert(eq(u32, d->exit_status, 0));
	cr_assert(eq(ptr, d->exited_at, NULL));
	containerd__task__v2__delete_response__free_unpacked(d, NULL);

	/* and google.protobuf.Empty (Kill, Shutdown, Forward replies) packs to 0 bytes */
	Google__Protobuf__Empty e = GOOGLE__PROTOBUF__EMPTY__INIT;
	cr_assert(eq(sz, google__protobuf__empty__get_packed_size(&e), 0));
}

/* protocol.md 2.3: stdin of `start` with `ctr --runtime-config-path /etc/probe.toml`. */
static const uint8_t runtimeoptions_any[] = {
	0x0a, 0x19, 'r', 'u', 'n', 't', 'i', 'm', 'e', 'o', 'p', 't',  'i',  'o',  'n',	 's',
	'.',  'v',  '1', '.', 'O', 'p', 't', 'i', 'o', 'n', 's', 0x12, 0x11, 0x12, 0x0f, '/',
	'e',  't',  'c', '/', 'p', 'r', 'o', 'b', 'e', '.', 't', 'o',  'm',  'l'};

Test(api_golden, runtimeoptions_any_from_start_stdin)
{
	cr_assert(eq(sz, sizeof(runtimeoptions_any), 46));
	Google__Protobuf__Any *any =
		google__protobuf__any__unpack(NULL, sizeof(runtimeoptions_any), runtimeoptions_any);
	cr_assert(not(eq(ptr, any, NULL)));
	cr_assert(eq(str, any->type_url, "runtimeoptions.v1.Options"));
	cr_assert(eq(str, any->type_url, (char *)runtimeoptions__v1__options__descriptor.name));
	cr_assert(eq(sz, any->value.len, 17));

	Runtimeoptions__V1__Options *o =
		runtimeoptions__v1__options__unpack(NULL, any->value.len, any->value.data);
	cr_assert(not(eq(ptr, o, NULL)));
	cr_assert(eq(str, o->type_url, ""));
	cr_assert(eq(str, o->config_path, "/etc/probe.toml"));
	cr_assert(eq(sz, o->config_body.len, 0));
	assert_packs_to(&o->base, runtimeoptions_any + 29, 17);
	runtimeoptions__v1__options__free_unpacked(o, NULL);

	assert_packs_to(&any->base, runtimeoptions_any, sizeof(runtimeoptions_any));
	google__protobuf__any__free_unpacked(any, NULL);
}

/* protocol.md 1.2: the payload of containerd's Connect request for task hx1. */
Test(api_golden, connect_request_payload)
{
	static const uint8_t payload[] = {0x0a, 0x03, 'h', 'x', '1'};
	Containerd__Task__V2__ConnectRequest *c =
		containerd__task__v2__connect_request__unpack(NULL, sizeof(payload), payload);
	cr_assert(not(eq(ptr, c, NULL)));
	cr_assert(eq(str, c->id, "hx1"));
	assert_packs_to(&c->base, payload, sizeof(payload));
	containerd__task__v2__connect_request__free_unpacked(c, NULL);
}

/*
 * protocol.md 3.4: "not exited" is Go's zero time, seconds = -62135596800, a 10-byte
 * varint (uint64 18446744011573954816) on the wire, nanos omitted.
 */
Test(api_golden, go_zero_time_exited_at)
{
	static const uint8_t want[] = {0x12, 0x0b, 0x08, 0x80, 0x92, 0xb8, 0xc3,
				       0x98, 0xfe, 0xff, 0xff, 0xff, 0x01};
	Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	Containerd__Task__V2__WaitResponse w = CONTAINERD__TASK__V2__WAIT_RESPONSE__INIT;

	ts.seconds = -62135596800LL;
	w.exited_at = &ts;
	assert_packs_to(&w.base, want, sizeof(want));

	Containerd__Task__V2__WaitResponse *got =
		containerd__task__v2__wait_response__unpack(NULL, sizeof(want), want);
	cr_assert(not(eq(ptr, got, NULL)));
	cr_assert(eq(i64, got->exited_at->seconds, -62135596800LL));
	cr_assert(eq(i32, got->exited_at->nanos, 0));
	containerd__task__v2__wait_response__free_unpacked(got, NULL);
}

/* protocol.md 4.2: the TaskOOM Any published as {1:"viapublish"}. */
Test(api_golden, task_oom_event_any)
{
	static const uint8_t want[] = {0x0a, 0x19, 'c', 'o', 'n', 't',	'a',  'i',  'n',  'e', 'r',
				       'd',  '.',  'e', 'v', 'e', 'n',	't',  's',  '.',  'T', 'a',
				       's',  'k',  'O', 'O', 'M', 0x12, 0x0c, 0x0a, 0x0a, 'v', 'i',
				       'a',  'p',  'u', 'b', 'l', 'i',	's',  'h'};
	Google__Protobuf__Any *any = google__protobuf__any__unpack(NULL, sizeof(want), want);
	cr_assert(not(eq(ptr, any, NULL)));
	cr_assert(eq(str, any->type_url, (char *)containerd__events__task_oom__descriptor.name));
	Containerd__Events__TaskOOM *oom =
		containerd__events__task_oom__unpack(NULL, any->value.len, any->value.data);
	cr_assert(not(eq(ptr, oom, NULL)));
	cr_assert(eq(str, oom->container_id, "viapublish"));
	assert_packs_to(&oom->base, want + 29, sizeof(want) - 29);
	containerd__events__task_oom__free_unpacked(oom, NULL);
	assert_packs_to(&any->base, want, sizeof(want));
	google__protobuf__any__free_unpacked(any, NULL);
}

/* protocol.md 2.3: runc options with --runc-binary and --runc-root are fields 6 and 7. */
Test(api_golden, runc_options_binary_name_and_root)
{
	static const uint8_t want[] = {0x32, 0x0e, '/', 'u', 's', 'r', '/', 's',  'b',
				       'i',  'n',  '/', 'r', 'u', 'n', 'c', 0x3a, 0x12,
				       '/',  'r',  'u', 'n', '/', 'r', 'e', 's',  'e',
				       'a',  'r',  'c', 'h', '-', 'r', 'u', 'n',  'c'};
	Containerd__Runc__V1__Options o = CONTAINERD__RUNC__V1__OPTIONS__INIT;

	o.binary_name = "/usr/sbin/runc";
	o.root = "/run/research-runc";
	assert_packs_to(&o.base, want, sizeof(want));
}

/*
 * Newer containerd versions add fields; a decoder must skip what it does not know and
 * keep what it does.
 */
Test(api_golden, unknown_fields_are_skipped)
{
	/* ConnectRequest{id:"hx1"} + field 99 varint 7 + field 100 length-delimited "zz" */
	static const uint8_t in[] = {0x0a, 0x03, 'h',  'x',  '1', 0x98, 0x06,
				     0x07, 0xa2, 0x06, 0x02, 'z', 'z'};
	Containerd__Task__V2__ConnectRequest *c =
		containerd__task__v2__connect_request__unpack(NULL, sizeof(in), in);
	cr_assert(not(eq(ptr, c, NULL)));
	cr_assert(eq(str, c->id, "hx1"));
	containerd__task__v2__connect_request__free_unpacked(c, NULL);
}
