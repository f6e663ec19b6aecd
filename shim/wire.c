/* Raw-bytes checks of requests: strings without NUL, ids that containerd would accept. */
#include "wire.h"

#include <stdbool.h>
#include <string.h>

#include "husk/err.h"

static bool alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool shim_identifier_valid(const char *s, size_t len)
{
	if (len == 0 || len > SHIM_IDENTIFIER_MAX)
		return false;
	/* Runs of alphanumerics separated by single '.', '_' or '-'; no separator at either
	 * end. */
	bool want_alnum = true;
	for (size_t i = 0; i < len; i++) {
		if (alnum(s[i])) {
			want_alnum = false;
			continue;
		}
		if (want_alnum || (s[i] != '.' && s[i] != '_' && s[i] != '-'))
			return false;
		want_alnum = true;
	}
	return !want_alnum;
}

struct cursor {
	const ProtobufCMessageDescriptor *desc;
	const uint8_t *p;
	const uint8_t *end;
};

static bool read_varint(struct cursor *c, uint64_t *ret)
{
	uint64_t v = 0;

	for (unsigned shift = 0; shift < 70 && c->p < c->end; shift += 7) {
		uint8_t b = *c->p++;
		v |= (uint64_t)(b & 0x7f) << (shift < 64 ? shift : 63);
		if (!(b & 0x80)) {
			*ret = v;
			return true;
		}
	}
	return false;
}

static bool skip(struct cursor *c, uint64_t n)
{
	if (n > (uint64_t)(c->end - c->p))
		return false;
	c->p += n;
	return true;
}

static int check_string(const struct cursor *c, const ProtobufCFieldDescriptor *f, bool top,
			const uint8_t *s, size_t n, struct husk_err *err)
{
	if (memchr(s, '\0', n))
		return husk_err_set(err, HUSK_ERR_INVALID, 0, "%s.%s: string holds a NUL byte",
				    c->desc->short_name, f->name);
	if (top && n > 0 && (strcmp(f->name, "id") == 0 || strcmp(f->name, "exec_id") == 0) &&
	    !shim_identifier_valid((const char *)s, n))
		return husk_err_set(err, HUSK_ERR_INVALID, 0,
				    "%s.%s: identifier \"%.*s\" must match "
				    "^[A-Za-z0-9]+(?:[._-](?:[A-Za-z0-9]+))*$ (at most %d bytes)",
				    c->desc->short_name, f->name, (int)(n > 80 ? 80 : n), s,
				    SHIM_IDENTIFIER_MAX);
	return 0;
}

/* One length-delimited field of c's message: a string is checked, a message is pushed. */
static int delimited(struct cursor *stack, size_t *depth, uint32_t number, uint64_t n,
		     struct husk_err *err)
{
	struct cursor *c = &stack[*depth];
	const uint8_t *v = c->p;
	const ProtobufCFieldDescriptor *f =
		protobuf_c_message_descriptor_get_field(c->desc, number);

	if (!skip(c, n))
		return husk_err_set(err, HUSK_ERR_INVALID, 0, "%s: truncated field %u",
				    c->desc->short_name, number);
	if (!f)
		return 0;
	if (f->type == PROTOBUF_C_TYPE_STRING)
		return check_string(c, f, *depth == 0, v, (size_t)n, err);
	if (f->type != PROTOBUF_C_TYPE_MESSAGE)
		return 0;
	if (*depth + 1 >= SHIM_WIRE_MAX_DEPTH)
		return husk_err_set(err, HUSK_ERR_INVALID, 0, "%s: messages nested too deep",
				    c->desc->short_name);
	stack[++*depth] = (struct cursor){f->descriptor, v, v + n};
	return 0;
}

static int field(struct cursor *stack, size_t *depth, struct husk_err *err)
{
	struct cursor *c = &stack[*depth];
	uint64_t tag = 0;
	uint64_t n = 0;

	if (!read_varint(c, &tag) || (tag >> 3) == 0 || (tag >> 3) > UINT32_MAX)
		return husk_err_set(err, HUSK_ERR_INVALID, 0, "%s: bad field tag",
				    c->desc->short_name);
	switch (tag & 7) {
	case 0:
		if (read_varint(c, &n))
			return 0;
		break;
	case 1:
		if (skip(c, 8))
			return 0;
		break;
	case 2:
		if (read_varint(c, &n))
			return delimited(stack, depth, (uint32_t)(tag >> 3), n, err);
		break;
	case 5:
		if (skip(c, 4))
			return 0;
		break;
	default:
		/* Groups (3, 4) are not proto3; protobuf-c refuses them too. */
		break;
	}
	return husk_err_set(err, HUSK_ERR_INVALID, 0, "%s: malformed field %u", c->desc->short_name,
			    (unsigned)(tag >> 3));
}

int shim_wire_check(const ProtobufCMessageDescriptor *desc, const uint8_t *buf, size_t len,
		    struct husk_err *err)
{
	struct cursor stack[SHIM_WIRE_MAX_DEPTH];
	size_t depth = 0;

	if (len == 0)
		return 0;
	stack[0] = (struct cursor){desc, buf, buf + len};
	for (;;) {
		if (stack[depth].p == stack[depth].end) {
			if (depth == 0)
				return 0;
			depth--;
			continue;
		}
		int r = field(stack, &depth, err);
		if (r < 0)
			return r;
	}
}
