#include "errmap.h"

#include <stdio.h>
#include <string.h>

/* containerd errdefs' class texts for the kinds it decodes from a code. */
static const char *class_text(enum husk_err_kind kind)
{
	switch (kind) {
	case HUSK_ERR_INVALID:
		return "invalid argument";
	case HUSK_ERR_NOT_FOUND:
		return "not found";
	case HUSK_ERR_EXISTS:
		return "already exists";
	case HUSK_ERR_PRECONDITION:
		return "failed precondition";
	case HUSK_ERR_UNIMPLEMENTED:
		return "not implemented";
	case HUSK_ERR_INTERNAL:
	case _HUSK_ERR_KIND_MAX:
		break;
	}
	return NULL;
}

uint32_t shim_errmap_code(enum husk_err_kind kind)
{
	switch (kind) {
	case HUSK_ERR_INVALID:
		return SHIM_CODE_INVALID_ARGUMENT;
	case HUSK_ERR_NOT_FOUND:
		return SHIM_CODE_NOT_FOUND;
	case HUSK_ERR_EXISTS:
		return SHIM_CODE_ALREADY_EXISTS;
	case HUSK_ERR_PRECONDITION:
		return SHIM_CODE_FAILED_PRECONDITION;
	case HUSK_ERR_UNIMPLEMENTED:
		return SHIM_CODE_UNIMPLEMENTED;
	case HUSK_ERR_INTERNAL:
	case _HUSK_ERR_KIND_MAX:
		break;
	}
	return SHIM_CODE_UNKNOWN;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s);
	size_t m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Copy at most n bytes of s to buf + *len, leaving room for the NUL. */
static void append(char *buf, size_t size, size_t *len, const char *s, size_t n)
{
	size_t room = size - 1 - *len;

	if (n > room)
		n = room;
	memcpy(buf + *len, s, n);
	*len += n;
	buf[*len] = '\0';
}

uint32_t shim_errmap_format(const struct husk_err *err, char *buf, size_t size)
{
	const char *cls = class_text(err->kind);
	const char *msg = err->msg[0] ? err->msg : "unknown error";
	size_t len = 0;
	char suffix[32];

	if (size == 0)
		return shim_errmap_code(err->kind);
	buf[0] = '\0';
	if (!cls) {
		append(buf, size, &len, msg, strlen(msg));
		return shim_errmap_code(err->kind);
	}
	(void)snprintf(suffix, sizeof(suffix), ": %s", cls);
	if (ends_with(msg, suffix) || strcmp(msg, cls) == 0) {
		append(buf, size, &len, msg, strlen(msg));
	} else {
		/* Truncate the message, never the class suffix containerd decodes. */
		size_t sl = strlen(suffix);
		size_t keep = size > sl + 1 ? size - sl - 1 : 0;
		size_t ml = strlen(msg);
		append(buf, size, &len, msg, ml < keep ? ml : keep);
		append(buf, size, &len, suffix, sl);
	}
	return shim_errmap_code(err->kind);
}
