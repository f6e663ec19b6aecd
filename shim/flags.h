/* Command line of containerd-shim-husk-v2, parsed the way Go's flag package does it. */
#pragma once

#include <stdbool.h>

struct husk_err;

struct shim_flags {
	/* Strings point into argv (borrowed for the life of the process). */
	const char *namespace_;	    /* -namespace */
	const char *address;	    /* -address: containerd's gRPC socket path */
	const char *publish_binary; /* -publish-binary (accepted, unused) */
	const char *id;		    /* -id: the task id */
	const char *bundle;	    /* -bundle: the bundle path (delete) */
	const char *socket;	    /* -socket: serve on this path instead of fd 3 */
	const char *debug_socket;   /* -debug-socket (accepted, unused) */
	bool debug;		    /* -debug */
	bool version;		    /* -v */
	bool info;		    /* -info */
	const char *action;	    /* first non-flag argument: "start", "delete"; NULL: serve */
};

/*
 * Parse argv (argv[0] is the program). Go flag syntax: "-name value", "-name=value",
 * "--name" the same as "-name"; booleans take no separate value ("-debug", "-debug=false").
 * Parsing stops at the first non-flag argument (the action) or after "--".
 * Unknown flags and missing values fail with HUSK_ERR_INVALID, e.g.
 * "flag provided but not defined: -x". ret is zeroed first.
 */
int shim_flags_parse(int argc, char *const *argv, struct shim_flags *ret, struct husk_err *err);
