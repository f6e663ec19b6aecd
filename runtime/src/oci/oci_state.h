/*
 * Pure parsers of what an OCI runtime CLI prints: `state`, `ps --format json`,
 * `events --stats`, its JSON log (--log-format json) and a process's /proc/<pid>/cgroup.
 * They take byte buffers (not necessarily NUL-terminated) and never do I/O. Checked
 * against output captured from runc 1.1.5 and runsc 20221219 (test/unit/data/oci/).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <sys/types.h>

#include "husk/cgroup.h"

struct husk_err;

/* `<runtime> state <id>`: the fields the engine uses. */
struct husk_oci_state {
	char *id;
	pid_t pid;    /* 0 when stopped (runc) or -1 (runsc): both mean none */
	char *status; /* "creating", "created", "running", "paused", "stopped" */
	char *bundle; /* NULL when absent */
};

/* HUSK_ERR_INVALID naming the field when id, pid or status is missing or mistyped. */
int husk__oci_state_parse(const char *json, size_t len, struct husk_oci_state *ret,
			  struct husk_err *err);
void husk__oci_state_done(struct husk_oci_state *state);

/*
 * `ps --format json`: runc prints an array of host pids (or `null` when nothing runs);
 * other runtimes print an array of objects with a "PID" member (runsc's table form).
 * *ret_pids is malloc'ed (NULL when *ret_n is 0) and the caller's.
 */
int husk__oci_ps_parse(const char *json, size_t len, pid_t **ret_pids, size_t *ret_n,
		       struct husk_err *err);

/*
 * `events --stats`: one {"type":"stats","data":{...}} object (runc's types.Stats) mapped into
 * *ret for the given mode (V1: memory.raw as v1 memory.stat, blkio lists; V2: raw as v2
 * memory.stat, blkio Read/Write lines folded into io entries). Groups the runtime did not
 * report stay absent; *ret is zeroed first.
 */
int husk__oci_events_stats_parse(const char *json, size_t len, enum husk_cgroup_stats_mode mode,
				 struct husk_cgroup_stats *ret, struct husk_err *err);

/*
 * The "msg" of the last line at level "error" (or "fatal") of a JSON log, as containerd's
 * runc shim reports it; lines that are not JSON are skipped. Copied (truncated) into out.
 * Returns 1 when one was found, 0 when none.
 */
int husk__oci_log_last_error(const char *buf, size_t len, char *out, size_t size);

/*
 * A process's cgroup from /proc/<pid>/cgroup text: on a v2 host the "0::" line, else the v1
 * line whose controllers include "memory" (then "pids", then the first v1 line): runc joins
 * the unified tree of a hybrid host but runsc does not, so the v1 path is the one both
 * share. *ret_path is malloc'ed. HUSK_ERR_INVALID when no line fits.
 */
int husk__oci_cgroup_from_proc(const char *text, size_t len, bool v2, char **ret_path,
			       struct husk_err *err);

/*
 * The pid of a runtime's long-lived helper from its own state file, when it records one
 * (runsc: "goferPid" in <root>/<id>_sandbox:<id>.state). 1 and *ret set when found and
 * positive, 0 otherwise (not JSON, absent, not a pid): the helper is optional.
 */
int husk__oci_helper_pid_parse(const char *json, size_t len, pid_t *ret);
