/* Pure parsing of the task API's stdio strings: fifo paths, binary:// and file:// URIs. */
#pragma once

#include <stddef.h>

struct husk_err;

enum shim_stdio_kind {
	SHIM_STDIO_NONE = 0, /* "" */
	SHIM_STDIO_FIFO,     /* a plain path (or fifo://path): containerd's fifo */
	SHIM_STDIO_BINARY,   /* binary:///path/to/logger?key=val: a logging binary */
	SHIM_STDIO_FILE,     /* file:///abs/path: stdout and stderr appended to a file */
};

struct shim_stdio_uri {
	enum shim_stdio_kind kind;
	char *path;  /* fifo, binary or file path (percent-decoded); NULL for NONE */
	char **args; /* binary: argv after argv[0]: key, value per query pair, in query order */
	size_t n_args;
};

/*
 * Parse one stdio string. The scheme decides the kind, as containerd's runc shim does it;
 * any other scheme is HUSK_ERR_INVALID "unknown STDIO scheme <s>". binary:// and file://
 * need an absolute path. On success ret is the caller's (shim_stdio_uri_done()); on failure
 * it is zeroed.
 */
int shim_stdio_uri_parse(const char *s, struct shim_stdio_uri *ret, struct husk_err *err);

/* Free what ret owns and zero it; safe to call twice. */
void shim_stdio_uri_done(struct shim_stdio_uri *u);
