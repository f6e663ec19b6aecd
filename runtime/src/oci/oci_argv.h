/*
 * The oci engine's command lines: a pure builder of the argv of one OCI runtime CLI call
 * (runc, runsc, crun share these commands and global flags). No I/O; unit-tested.
 *
 * Layout: <binary> [--root R] [--log L] [--log-format json] [--systemd-cgroup] [extra...]
 *         <command> [command flags] <id> [command arguments]
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct husk_err;

enum husk_oci_cmd {
	HUSK_OCI_CREATE = 0,
	HUSK_OCI_START,
	HUSK_OCI_EXEC,
	HUSK_OCI_KILL,
	HUSK_OCI_PAUSE,
	HUSK_OCI_RESUME,
	HUSK_OCI_PS,
	HUSK_OCI_EVENTS,
	HUSK_OCI_STATE,
	HUSK_OCI_DELETE,
	HUSK_OCI_UPDATE,
	HUSK_OCI_WAIT, /* runsc: wait for a container's exit, print {"id", "exitStatus"} */
	_HUSK_OCI_CMD_MAX,
};

/* "create", "start", ...; NULL out of range. */
const char *husk__oci_cmd_to_string(enum husk_oci_cmd cmd);

/* The global flags, the same for every call of one container. */
struct husk_oci_global {
	const char *binary;	  /* argv[0] (required): the resolved path */
	const char *root;	  /* --root; NULL: the binary's default */
	const char *log;	  /* --log; NULL: none */
	bool log_json;		  /* --log-format json */
	bool systemd_cgroup;	  /* --systemd-cgroup */
	const char *const *extra; /* further global flags, as they are (NULL-terminated) */
};

/* One call. Fields a command does not take must stay unset (zero/NULL): that is checked. */
struct husk_oci_call {
	enum husk_oci_cmd cmd;
	const char *id;		    /* required by every command */
	const char *bundle;	    /* create (required) */
	const char *pid_file;	    /* create, exec */
	const char *console_socket; /* create, exec */
	const char *process;	    /* exec (required): path of the process JSON */
	bool detach;		    /* exec */
	int signal;		    /* kill (required, 1..64) */
	bool all;		    /* kill */
	bool force;		    /* delete */
	bool stats;		    /* events: one --stats snapshot instead of the stream */
	const char *resources;	    /* update (required): a path, or "-" for stdin */
	bool json;		    /* ps: --format json */
	bool no_pivot;		    /* create: --no-pivot */
	bool no_new_keyring;	    /* create: --no-new-keyring */
};

/* A NULL-terminated argv whose strings are owned by it. */
struct husk_oci_argv {
	char **v;
	size_t n; /* not counting the NULL */
};

/*
 * Build the argv of call. HUSK_ERR_INVALID when a required field is missing or empty, an
 * id, path or extra flag is empty or starts with '-' where it is a positional argument, or
 * a field is set that the command does not take ("exec: --bundle is not a flag of exec").
 * On success *ret is the caller's (husk__oci_argv_done()).
 */
int husk__oci_argv_build(const struct husk_oci_global *g, const struct husk_oci_call *call,
			 struct husk_oci_argv *ret, struct husk_err *err);
void husk__oci_argv_done(struct husk_oci_argv *argv);
