/* OCI hooks: each run with its args and env, the state JSON on stdin, and its timeout. */
#pragma once

#include <sys/types.h>

#include "husk/spec.h"

struct husk_err;

/* The OCI state document a hook reads on stdin. */
struct husk_hook_state {
	const char *oci_version;
	const char *id;
	const char *status; /* "creating", "created", "running", "stopped" */
	pid_t pid;	    /* 0: omitted */
	const char *bundle;
	const struct husk_spec *spec; /* annotations from here; may be NULL */
};

/* Default timeout of a hook without one (seconds); every hook is bounded. */
#define HUSK_HOOK_DEFAULT_TIMEOUT 60

/*
 * Run the hooks of one kind in order; the first failure stops (a non-zero exit, a signal,
 * the timeout: the hook is killed and reaped, an exec failure). HUSK_ERR_INTERNAL naming
 * the hook kind, index and path.
 */
int husk__hooks_run(const struct husk_spec *spec, enum husk_hook_kind kind,
		    const struct husk_hook_state *state, struct husk_err *err);

/* The longest the hooks of one kind may take together (ms): the sum of their timeouts. */
int husk__hooks_timeout_ms(const struct husk_spec *spec, enum husk_hook_kind kind);
