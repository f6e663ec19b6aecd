/*
 * The raw-bytes check of Task requests: for every method of containerd.task.v2.Task, every
 * string field at every depth holding a NUL is InvalidArgument and names the field, though
 * protobuf-c alone decodes it (cut at the NUL); ids follow containerd's identifier rules.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <protobuf-c/protobuf-c.h>

#include "convert.h"
#include "husk/err.h"
#include "runc/options/oci.pb-c.h"
#include "runtime/task/v2/shim.pb-c.h"
#include "wire.h"

TestSuite(shim_wire, .timeout = 30);

static size_t put_varint(uint8_t *buf, uint64_t v)
{
	size_t n = 0;

	do {
		buf[n] = (uint8_t)(v & 0x7f);
		v >>= 7;
		if (v)
			buf[n] |= 0x80;
		n++;
	} while (v);
	return n;
}

/* Wrap inner (len bytes at buf + off) in a length-delimited field number: the result is
 * written just before it; its new offset is returned. */
static size_t wrap(uint8_t *buf, size_t off, size_t len, uint32_t number)
{
	uint8_t hdr[20];
	size_t h = put_varint(hdr, ((uint64_t)number << 3) | 2);
	h += put_varint(hdr + h, len);
	cr_assert(off >= h);
	memcpy(buf + off - h, hdr, h);
	return off - h;
}

#define MAX_PATH 4

/* A chain of fields from a request down to one string field. */
struct path {
	const ProtobufCFieldDescriptor *f[MAX_PATH];
	size_t n;
};

/* Encode the path with value as the string at its end; returns the offset in buf (the bytes
 * run to the end of buf). */
static size_t encode(const struct path *p, const char *value, size_t vlen, uint8_t *buf,
		     size_t size)
{
	size_t off = size - vlen;
	memcpy(buf + off, value, vlen);
	for (size_t i = p->n; i-- > 0;)
		off = wrap(buf, off, size - off, p->f[i]->id);
	return off;
}

static void check_path(const ProtobufCMessageDescriptor *req, const struct path *p, int *count)
{
	uint8_t buf[256];
	struct husk_err err = {0};
	const char *leaf = p->f[p->n - 1]->name;

	/* "ab" passes everywhere, ids included. */
	size_t off = encode(p, "ab", 2, buf, sizeof(buf));
	cr_expect(eq(int, shim_wire_check(req, buf + off, sizeof(buf) - off, &err), 0), "%s: %s",
		  req->name, err.msg);

	off = encode(p, "ab\0junk", 7, buf, sizeof(buf));
	ProtobufCMessage *m = protobuf_c_message_unpack(req, NULL, sizeof(buf) - off, buf + off);
	cr_assert(m != NULL, "protobuf-c decodes %s with a NUL in %s", req->name, leaf);
	protobuf_c_message_free_unpacked(m, NULL);
	int r = shim_wire_check(req, buf + off, sizeof(buf) - off, &err);
	cr_expect(eq(int, r, -EINVAL), "%s.%s", req->name, leaf);
	cr_expect(eq(int, err.kind, HUSK_ERR_INVALID));
	char want[128];
	(void)snprintf(want, sizeof(want), ".%s: string holds a NUL byte", leaf);
	cr_expect(strstr(err.msg, want) != NULL, "%s: %s", req->name, err.msg);
	(*count)++;
}

/* Every path to a string field under req, depth first over an explicit stack. */
static int check_all_strings(const ProtobufCMessageDescriptor *req)
{
	const ProtobufCMessageDescriptor *desc[MAX_PATH + 1] = {req};
	unsigned next[MAX_PATH + 1] = {0};
	struct path p = {0};
	size_t depth = 0;
	int count = 0;

	for (;;) {
		if (next[depth] == desc[depth]->n_fields) {
			if (depth == 0)
				return count;
			depth--;
			p.n--;
			continue;
		}
		const ProtobufCFieldDescriptor *f = &desc[depth]->fields[next[depth]++];
		if (f->type == PROTOBUF_C_TYPE_STRING) {
			p.f[p.n++] = f;
			check_path(req, &p, &count);
			p.n--;
		} else if (f->type == PROTOBUF_C_TYPE_MESSAGE && depth + 1 < MAX_PATH) {
			p.f[p.n++] = f;
			desc[++depth] = f->descriptor;
			next[depth] = 0;
		}
	}
}

Test(shim_wire, every_string_of_every_request_refuses_nul)
{
	const ProtobufCServiceDescriptor *svc = &containerd__task__v2__task__descriptor;
	int total = 0;

	cr_assert(eq(u32, svc->n_methods, 17));
	for (unsigned i = 0; i < svc->n_methods; i++) {
		int n = check_all_strings(svc->methods[i].input);
		cr_expect(gt(int, n, 0), "%s has string fields", svc->methods[i].name);
		total += n;
	}
	/* Create alone: id, bundle, 5 stdio/checkpoint paths, rootfs' 4 Mount strings,
	 * options.type_url. */
	cr_expect(ge(int, total, 40), "%d string fields", total);
}

static int check_state_id(const char *id, size_t len, struct husk_err *err)
{
	uint8_t buf[256];
	size_t off = sizeof(buf) - len;

	memcpy(buf + off, id, len);
	off = wrap(buf, off, len, 1);
	return shim_wire_check(&containerd__task__v2__state_request__descriptor, buf + off,
			       sizeof(buf) - off, err);
}

Test(shim_wire, ids_follow_containerd_identifier_rules)
{
	static const char *const good[] = {"a", "c1", "A-b_c.d", "0", "x1.y2-z3_4"};
	static const char *const bad[] = {"-a", "a-", "a..b", "a b", "a/b", "_x", "a+b", "é"};
	struct husk_err err = {0};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		cr_expect(eq(int, check_state_id(good[i], strlen(good[i]), &err), 0), "%s: %s",
			  good[i], err.msg);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_expect(eq(int, check_state_id(bad[i], strlen(bad[i]), &err), -EINVAL), "%s",
			  bad[i]);
		cr_expect(strstr(err.msg, "StateRequest.id: identifier") != NULL, "%s", err.msg);
	}
	char longest[SHIM_IDENTIFIER_MAX + 2];
	memset(longest, 'a', sizeof(longest));
	cr_expect(eq(int, check_state_id(longest, SHIM_IDENTIFIER_MAX, &err), 0));
	cr_expect(eq(int, check_state_id(longest, SHIM_IDENTIFIER_MAX + 1, &err), -EINVAL));
	cr_expect(eq(int, check_state_id("", 0, &err), 0), "an empty id is the handler's call");
}

Test(shim_wire, malformed_bytes_are_invalid)
{
	const ProtobufCMessageDescriptor *d = &containerd__task__v2__state_request__descriptor;
	static const uint8_t truncated[] = {0x0a, 0x05, 'a', 'b'};
	static const uint8_t bad_varint[] = {0x08, 0xff, 0xff, 0xff, 0xff, 0xff,
					     0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	static const uint8_t group[] = {0x0b, 0x0c};
	static const uint8_t unknown_ok[] = {0xf8, 0x07, 0x01, 0x0a, 0x02, 'c', '1'};
	struct husk_err err = {0};

	cr_expect(eq(int, shim_wire_check(d, truncated, sizeof(truncated), &err), -EINVAL));
	cr_expect(eq(int, shim_wire_check(d, bad_varint, sizeof(bad_varint), &err), -EINVAL));
	cr_expect(eq(int, shim_wire_check(d, group, sizeof(group), &err), -EINVAL));
	cr_expect(eq(int, shim_wire_check(d, unknown_ok, sizeof(unknown_ok), &err), 0), "%s",
		  err.msg);
	cr_expect(eq(int, shim_wire_check(d, NULL, 0, &err), 0));
}

Test(shim_wire, runtime_options_refuse_nul)
{
	/* binary_name (6) = "runc\0x" */
	static const uint8_t opts[] = {0x32, 0x06, 'r', 'u', 'n', 'c', 0, 'x'};
	struct shim_options o;
	struct husk_err err = {0};
	char url[] = "containerd.runc.v1.Options";

	const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(
		&containerd__runc__v1__options__descriptor, 6);
	cr_assert(f != NULL && strcmp(f->name, "binary_name") == 0);
	int r = shim_options_parse(url, opts, sizeof(opts), &o, &err);
	cr_expect(eq(int, r, -EINVAL));
	cr_expect(eq(int, err.kind, HUSK_ERR_INVALID));
	cr_expect(strstr(err.msg, "string holds a NUL byte") != NULL, "%s", err.msg);
}
