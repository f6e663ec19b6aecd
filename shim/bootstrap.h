/*
 * The start protocol's versions. containerd 1.6 and 1.7 give `start` the runtime options (a
 * serialized Any) or nothing on stdin and take a plain address back; 1.7 refuses an answer
 * of version 3, and 1.7 and 2.0-2.3 all set MAX_SHIM_VERSION=2, so the environment cannot
 * tell them apart. containerd 2.3+ writes a BootstrapParams on stdin (its options as
 * extensions) and takes the JSON {"version":3,...} back, then speaks task API v3: that
 * stdin, or a MAX_SHIM_VERSION of 3 or more, is what earns a version 3 answer
 * (protocol.md 2.3, 2.11).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "convert.h"

struct husk_err;

struct shim_bootstrap {
	bool params;	  /* stdin was a BootstrapParams for this -id and -namespace */
	bool debug;	  /* its log_level asks for debug or trace lines */
	char *socket_dir; /* its socket_dir, NULL when unset (owned) */
	int version;	  /* the answer: 3 (JSON) or 2 (the plain address) */
};

/* What start read and was told: stdin's bytes and the flags and environment that judge them. */
struct shim_bootstrap_input {
	const uint8_t *in; /* start's stdin (borrowed) */
	size_t len;
	const char *id;		 /* -id */
	const char *ns;		 /* -namespace */
	const char *max_version; /* MAX_SHIM_VERSION, NULL when unset */
};

/*
 * Decode start's stdin i->in[0..i->len): a BootstrapParams whose instance_id and namespace
 * are i->id and i->ns (its first runc or runtimeoptions extension becomes *opts), else the
 * runtime options Any of containerd 1.x (or nothing). *ret and *opts are zeroed first; free with
 * shim_bootstrap_done() and shim_options_done(). HUSK_ERR_INVALID for options that do not decode or
 * a socket_dir that is not an absolute path.
 */
int shim_bootstrap_parse(const struct shim_bootstrap_input *i, struct shim_bootstrap *ret,
			 struct shim_options *opts, struct husk_err *err);

/*
 * start's stdout for address ("unix:///..."): the address itself for version 2, else
 * {"version":3,"address":"<address>","protocol":"ttrpc"}. HUSK_ERR_INVALID when it does
 * not fit in size bytes (NUL included) or the address needs JSON escaping.
 */
int shim_bootstrap_answer(const struct shim_bootstrap *b, const char *address, char *buf,
			  size_t size, struct husk_err *err);

void shim_bootstrap_done(struct shim_bootstrap *b);
