/* husk error objects: caller-owned, fixed-size, never allocated. */
#pragma once

#include <errno.h>
#include <stdarg.h>

/* Exactly the ttrpc statuses the design allows; only shim/errmap.c maps them to the wire. */
enum husk_err_kind {
	HUSK_ERR_INTERNAL = 0,
	HUSK_ERR_INVALID,	/* → InvalidArgument */
	HUSK_ERR_NOT_FOUND,	/* → NotFound */
	HUSK_ERR_EXISTS,	/* → AlreadyExists */
	HUSK_ERR_PRECONDITION,	/* → FailedPrecondition */
	HUSK_ERR_UNIMPLEMENTED, /* → Unimplemented */
	_HUSK_ERR_KIND_MAX,
};

#define HUSK_ERR_MSG_MAX 512

struct husk_err {
	enum husk_err_kind kind;
	int errnum;		    /* errno behind it, 0 if none */
	char msg[HUSK_ERR_MSG_MAX]; /* lowercase, no trailing period */
};

/*
 * Fill err (when non-NULL) with kind, errnum and a formatted message.
 * Returns -errnum, or -EINVAL (invalid kind) / -EIO (other kinds) when errnum is 0,
 * so that `return husk_err_set(...)` works in any function returning int.
 * When errnum is non-zero, ": <strerror>" is appended to the message.
 */
int husk_err_set(struct husk_err *err, enum husk_err_kind kind, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Like husk_err_set() with a va_list. */
int husk_err_setv(struct husk_err *err, enum husk_err_kind kind, int errnum, const char *fmt,
		  va_list ap) __attribute__((format(printf, 4, 0)));

/* Internal-kind shorthand for a failed syscall: husk_err_set(err, INTERNAL, errnum, ...). */
#define husk_err_errno(err, errnum, ...) \
	husk_err_set((err), HUSK_ERR_INTERNAL, (errnum), __VA_ARGS__)

/*
 * Prefix the message with context on the way up: "<prefix>: <old message>".
 * Kind and errnum are kept. Returns the negative errno the error carries (or -EIO).
 * A NULL err is allowed and does nothing.
 */
int husk_err_prefix(struct husk_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Reset to the empty, internal-kind state. */
void husk_err_clear(struct husk_err *err);

/* The negative errno an error stands for (-errnum, or -EINVAL/-EIO when errnum is 0). */
int husk_err_code(const struct husk_err *err);

/*
 * husk_err_set(), husk_err_prefix() and husk_err_code() never return >= 0. The wrappers
 * below say so where the compiler and clang's static analyzer see it, so that neither follows
 * a path on which a failed call looked like a success.
 */
static inline int husk__err_negative(int r)
{
	return r < 0 ? r : -EIO;
}
#define husk_err_set(...)    husk__err_negative(husk_err_set(__VA_ARGS__))
#define husk_err_prefix(...) husk__err_negative(husk_err_prefix(__VA_ARGS__))
#define husk_err_code(err)   husk__err_negative(husk_err_code(err))

/* "internal", "invalid argument", "not found", "already exists", "failed precondition",
 * "not implemented"; NULL for an out-of-range kind. */
const char *husk_err_kind_to_string(enum husk_err_kind kind);

/* Programming error: log the failed expression and abort(), in every build. */
#define husk_assert(expr)                                                       \
	do {                                                                    \
		if (__builtin_expect(!(expr), 0))                               \
			husk__assert_fail(#expr, __FILE__, __LINE__, __func__); \
	} while (0)

_Noreturn void husk__assert_fail(const char *expr, const char *file, int line, const char *func);
