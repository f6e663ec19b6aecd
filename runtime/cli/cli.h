/* The husk admin CLI: shared context, the command table's types and small helpers. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <sys/types.h>

#include "husk/container.h"
#include "husk/err.h"
#include "husk/state.h"

/* Exit codes a shell user can rely on. */
enum {
	CLI_EXIT_OK = 0,
	CLI_EXIT_ERROR = 1, /* the command ran and failed */
	CLI_EXIT_USAGE = 2, /* bad command line */
};

struct cli {
	const char *root_path; /* --root, or /run/containerd/husk/<namespace> */
	bool debug;	       /* --debug: library debug lines on stderr */
};

/* A command: argv[0] is the command's name; returns a CLI_EXIT_* code. */
typedef int cli_command_fn(struct cli *cli, int argc, char **argv);

struct cli_command {
	const char *name;
	const char *args;    /* usage after the name */
	const char *summary; /* one line for `husk --help` */
	cli_command_fn *run;
};

/* Commands (one file per group). */
cli_command_fn cli_cmd_list;	 /* cmd_list.c */
cli_command_fn cli_cmd_state;	 /* cmd_list.c */
cli_command_fn cli_cmd_ps;	 /* cmd_procs.c */
cli_command_fn cli_cmd_kill;	 /* cmd_procs.c */
cli_command_fn cli_cmd_delete;	 /* cmd_delete.c */
cli_command_fn cli_cmd_debug;	 /* cmd_debug.c */
cli_command_fn cli_cmd_run;	 /* cmd_container.c */
cli_command_fn cli_cmd_exec;	 /* cmd_container.c */
cli_command_fn cli_cmd_pause;	 /* cmd_container.c */
cli_command_fn cli_cmd_resume;	 /* cmd_container.c */
cli_command_fn cli_cmd_stats;	 /* cmd_container.c */
cli_command_fn cli_cmd_update;	 /* cmd_container.c */
cli_command_fn cli_cmd_features; /* cmd_features.c */
cli_command_fn cli_cmd_check;	 /* cmd_check.c */

/* "husk <cmd>: <msg>" on stderr; returns CLI_EXIT_ERROR. */
int cli_fail(const char *cmd, const struct husk_err *err);

/* "husk <cmd>: <msg>" plus the command's usage on stderr; returns CLI_EXIT_USAGE. */
int cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The command's usage line ("husk [--root DIR] kill ID [SIGNAL] [--all]"). */
void cli_print_usage(FILE *f, const struct cli_command *c);
const struct cli_command *cli_find_command(const char *name);

/*
 * Open the state root without creating it: HUSK_ERR_NOT_FOUND "state root '<p>' does not
 * exist" when it is missing, so that read-only commands leave no directories behind.
 */
int cli_open_root(const struct cli *cli, struct husk_state_root **ret, struct husk_err *err);

/*
 * Open the runtime over the state root. create false: a missing root is HUSK_ERR_NOT_FOUND
 * "state root '<p>' does not exist" and nothing is created.
 */
int cli_open_runtime(const struct cli *cli, bool create, struct husk_runtime **ret,
		     struct husk_err *err);

/*
 * Load a container by id or unique prefix through the runtime, as the shim does (under the
 * state lock, its engine attached); a missing root is HUSK_ERR_NOT_FOUND "container '<id>'
 * not found". Free both with husk_container_free() and husk_runtime_free().
 */
int cli_load(const struct cli *cli, const char *id, struct husk_runtime **ret_rt,
	     struct husk_container **ret, struct husk_err *err);

/* Find a container's state by id or unique prefix (no lock); errors as husk_state_find(). */
int cli_find(const struct cli *cli, const char *id, bool lock, struct husk_state_root **ret_root,
	     struct husk_state_handle **ret, struct husk_err *err);

/* JSON string literal of s (quoted, escaped). */
void cli_json_string(FILE *f, const char *s);

/* RFC 3339 UTC with nanoseconds, or "-" for 0. */
void cli_format_time(int64_t ns, char *buf, size_t size);

/* A signal by number ("9") or name ("KILL", "SIGKILL", "sigkill"). -EINVAL if unknown. */
int cli_parse_signal(const char *s, int *ret);
