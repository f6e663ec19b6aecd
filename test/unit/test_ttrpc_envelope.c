/* The Request/Response envelope against the golden bytes of protocol.md §1.2 and §1.5. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "envelope.h"
#include "ttrpc/ttrpc.h"

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

/* The data part of the Connect frame (protocol.md 1.2). */
static const char connect_hex[] = "0a17636f6e7461696e6572642e7461736b2e76322e5461736b1207436f6e6e"
				  "6563741a050a03687831";

Test(ttrpc_envelope, golden_connect_request)
{
	uint8_t want[64];
	size_t n = unhex(connect_hex, want);
	Ttrpc__Request *msg = NULL;
	struct ttrpc_request req = {.service = "containerd.task.v2.Task",
				    .method = "Connect",
				    .payload = (const uint8_t *)"\x0a\x03hx1",
				    .payload_len = 5};
	uint8_t got[64];
	size_t size;

	cr_assert(eq(int, ttrpc__request_size(&req, &size), 0));
	cr_assert(eq(sz, size, n));
	cr_assert(eq(int, ttrpc__request_pack(&req, got, size), 0));
	cr_assert(eq(int, memcmp(got, want, n), 0));

	cr_assert(eq(int, ttrpc__request_unpack(want, n, &msg), 0));
	cr_assert(eq(str, msg->service, "containerd.task.v2.Task"));
	cr_assert(eq(str, msg->method, "Connect"));
	cr_assert(eq(sz, msg->payload.len, 5));
	cr_assert(eq(int, memcmp(msg->payload.data, "\x0a\x03hx1", 5), 0));
	cr_assert(eq(i64, msg->timeout_nano, 0));
	cr_assert(eq(sz, msg->n_metadata, 0));
	ttrpc__request_free(msg);
}

Test(ttrpc_envelope, request_round_trip_with_metadata_and_timeout)
{
	const struct ttrpc_kv kv[] = {
		{"containerd-namespace-ttrpc", "default"}, {"k", "v1"}, {"k", "v2"}};
	struct ttrpc_request req = {.service = "s",
				    .method = "m",
				    .payload = (const uint8_t *)"xyz",
				    .payload_len = 3,
				    .timeout_nano = 1500000000,
				    .metadata = kv,
				    .n_metadata = 3};
	uint8_t buf[256];
	size_t size;
	Ttrpc__Request *msg = NULL;
	struct ttrpc_request view;
	struct ttrpc_kv *vkv = NULL;

	cr_assert(eq(int, ttrpc__request_size(&req, &size), 0));
	cr_assert(lt(sz, size, sizeof(buf)));
	cr_assert(eq(int, ttrpc__request_pack(&req, buf, size), 0));
	cr_assert(eq(int, ttrpc__request_unpack(buf, size, &msg), 0));
	cr_assert(eq(int, ttrpc__request_view(msg, 7, &view, &vkv), 0));
	cr_assert(eq(str, (char *)view.service, "s"));
	cr_assert(eq(str, (char *)view.method, "m"));
	cr_assert(eq(sz, view.payload_len, 3));
	cr_assert(eq(i64, view.timeout_nano, 1500000000));
	cr_assert(eq(u32, view.stream_id, 7));
	cr_assert(eq(sz, view.n_metadata, 3));
	for (size_t i = 0; i < 3; i++) {
		cr_assert(eq(str, (char *)view.metadata[i].key, (char *)kv[i].key));
		cr_assert(eq(str, (char *)view.metadata[i].value, (char *)kv[i].value));
	}
	free(vkv);
	ttrpc__request_free(msg);
}

/* protocol.md 1.5: unknown service on stream 1. */
Test(ttrpc_envelope, golden_unimplemented_response)
{
	uint8_t want[64];
	size_t n = unhex("0a13080c120f7365727669636520666f6f2e426172", want);
	uint8_t got[64];
	Ttrpc__Response *resp = NULL;

	cr_assert(eq(sz, ttrpc__response_size(12, "service foo.Bar", NULL, 0), n));
	ttrpc__response_pack(12, "service foo.Bar", NULL, 0, got);
	cr_assert(eq(int, memcmp(got, want, n), 0));
	cr_assert(eq(int, ttrpc__response_unpack(want, n, &resp), 0));
	cr_assert(not(eq(ptr, resp->status, NULL)));
	cr_assert(eq(i32, resp->status->code, 12));
	cr_assert(eq(str, resp->status->message, "service foo.Bar"));
	cr_assert(eq(sz, resp->payload.len, 0));
	ttrpc__response_free(resp);
}

/* protocol.md 1.5: the Wait reply on stream 11 is field 2 holding the WaitResponse. */
Test(ttrpc_envelope, golden_wait_success_response)
{
	uint8_t want[32];
	size_t n = unhex("120e120c08bcdc8bd806109b97aefc01", want);
	uint8_t got[32];

	cr_assert(eq(sz, ttrpc__response_size(0, NULL, want + 2, 14), n));
	ttrpc__response_pack(0, NULL, want + 2, 14, got);
	cr_assert(eq(int, memcmp(got, want, n), 0));
}

/* An empty success is a Response with no fields at all: zero bytes. */
Test(ttrpc_envelope, empty_success_is_zero_bytes)
{
	Ttrpc__Response *resp = NULL;

	cr_assert(eq(sz, ttrpc__response_size(0, NULL, NULL, 0), 0));
	cr_assert(eq(sz, ttrpc__response_size(0, "ignored", NULL, 0), 0));
	cr_assert(eq(int, ttrpc__response_unpack(NULL, 0, &resp), 0));
	cr_assert(eq(ptr, resp->status, NULL));
	cr_assert(eq(sz, resp->payload.len, 0));
	ttrpc__response_free(resp);
}

Test(ttrpc_envelope, malformed_is_rejected)
{
	const uint8_t bad[][3] = {{0x0a, 0x05, 'a'}, {0xff, 0xff, 0xff}, {0x0b, 0x00, 0x00}};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		Ttrpc__Request *msg = NULL;
		cr_assert(eq(int, ttrpc__request_unpack(bad[i], 3, &msg), -EBADMSG), "case %zu", i);
	}
}

Test(ttrpc_envelope, code_names)
{
	cr_assert(eq(str, (char *)ttrpc_code_name(0), "OK"));
	cr_assert(eq(str, (char *)ttrpc_code_name(TTRPC_NOT_FOUND), "NotFound"));
	cr_assert(eq(str, (char *)ttrpc_code_name(TTRPC_UNAUTHENTICATED), "Unauthenticated"));
	cr_assert(eq(ptr, (void *)ttrpc_code_name(17), NULL));
}
