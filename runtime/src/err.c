#include "husk/err.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "husk/log.h"

static const char *const kind_names[_HUSK_ERR_KIND_MAX] = {
	[HUSK_ERR_INTERNAL] = "internal",
	[HUSK_ERR_INVALID] = "invalid argument",
	[HUSK_ERR_NOT_FOUND] = "not found",
	[HUSK_ERR_EXISTS] = "already exists",
	[HUSK_ERR_PRECONDITION] = "failed precondition",
	[HUSK_ERR_UNIMPLEMENTED] = "not implemented",
};

const char *husk_err_kind_to_string(enum husk_err_kind kind)
{
	if ((unsigned)kind >= _HUSK_ERR_KIND_MAX)
		return NULL;
	return kind_names[kind];
}

/* Append src to dst (capacity cap), truncating; dst stays NUL-terminated. */
static void append(char *dst, size_t cap, const char *src)
{
	size_t len = strnlen(dst, cap);
	if (len + 1 >= cap)
		return;
	size_t n = strnlen(src, cap - len - 1);
	memcpy(dst + len, src, n);
	dst[len + n] = '\0';
}

static int code_for(enum husk_err_kind kind, int errnum)
{
	if (errnum > 0)
		return -errnum;
	return kind == HUSK_ERR_INVALID ? -EINVAL : -EIO;
}

int(husk_err_code)(const struct husk_err *err)
{
	return code_for(err->kind, err->errnum);
}

int husk_err_setv(struct husk_err *err, enum husk_err_kind kind, int errnum, const char *fmt,
		  va_list ap)
{
	if (errnum < 0)
		errnum = -errnum;
	if (!err)
		return code_for(kind, errnum);

	err->kind = kind;
	err->errnum = errnum;
	if (vsnprintf(err->msg, sizeof(err->msg), fmt, ap) < 0)
		err->msg[0] = '\0';
	if (errnum > 0) {
		char buf[128];
		append(err->msg, sizeof(err->msg), ": ");
		append(err->msg, sizeof(err->msg), strerror_r(errnum, buf, sizeof(buf)));
	}
	return code_for(kind, errnum);
}

int(husk_err_set)(struct husk_err *err, enum husk_err_kind kind, int errnum, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = husk_err_setv(err, kind, errnum, fmt, ap);
	va_end(ap);
	return r;
}

int(husk_err_prefix)(struct husk_err *err, const char *fmt, ...)
{
	if (!err)
		return -EIO;

	char prefix[HUSK_ERR_MSG_MAX];
	char old[HUSK_ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	if (n < 0)
		return husk_err_code(err);

	memcpy(old, err->msg, sizeof(old));
	old[sizeof(old) - 1] = '\0';
	err->msg[0] = '\0';
	append(err->msg, sizeof(err->msg), prefix);
	if (old[0]) {
		append(err->msg, sizeof(err->msg), ": ");
		append(err->msg, sizeof(err->msg), old);
	}
	return husk_err_code(err);
}

void husk_err_clear(struct husk_err *err)
{
	if (!err)
		return;
	err->kind = HUSK_ERR_INTERNAL;
	err->errnum = 0;
	err->msg[0] = '\0';
}

_Noreturn void husk__assert_fail(const char *expr, const char *file, int line, const char *func)
{
	husk_log(HUSK_LOG_ERROR, "assertion failed: %s (%s:%d %s)", expr, file, line, func);
	(void)fprintf(stderr, "husk: assertion failed: %s (%s:%d %s)\n", expr, file, line, func);
	abort();
}
