/*
 * A husk config file: the engine a runtime handler uses, named by the ConfigPath of
 * containerd's runtimeoptions.v1.Options (what containerd 1.6/1.7 send for a CRI runtime
 * whose runtime_type is not runc's). A JSON object:
 *
 *   {
 *     "engine": "oci",                    "native" (default) or "oci"
 *     "binary": "runsc",                  oci: the runtime binary (name on PATH, or a path)
 *     "root": "/run/containerd/runsc",    oci: its --root (the namespace is appended)
 *     "runtime_args": ["--platform=systrap"],  oci: global flags, each as --flag=value,
 *                                         put before every command
 *     "systemd_cgroup": false,            cgroupsPath is in systemd "slice:prefix:name" form
 *     "no_pivot_root": false,             move the root onto / and chroot (runc's NoPivotRoot)
 *     "no_new_keyring": false             keep the runtime's session keyring (NoNewKeyring)
 *   }
 *
 * Every key the shim cannot honour is an error: an unknown key, a value of the wrong type,
 * an oci-only key with the native engine, an oci engine without a binary, and runtime_args
 * that the engine sets itself (--root, --log, --log-format, --systemd-cgroup) or that are
 * not flags.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct husk_err;

/* Longest config file accepted. */
#define HUSK_ENGINE_CONFIG_MAX ((size_t)64 * 1024)

struct husk_engine_config {
	char *engine;	     /* "native" or "oci" (never NULL after a parse) */
	char *binary;	     /* oci: runtime binary; NULL for native */
	char *root;	     /* oci: the binary's --root before the namespace; NULL: default */
	char **runtime_args; /* oci: NULL-terminated global flags; NULL when none */
	size_t n_runtime_args;
	bool systemd_cgroup;
	bool no_pivot_root;
	bool no_new_keyring;
};

/*
 * Parse len bytes of JSON (what names the document in messages, e.g. the file's path).
 * HUSK_ERR_INVALID for every case listed above, naming the key ("'/etc/husk/runsc.json':
 * runtime_args[0]: '--root' is set by husk, use \"root\""). On success *ret is the
 * caller's (husk_engine_config_done()); on failure it is zeroed.
 */
int husk_engine_config_parse(const char *buf, size_t len, const char *what,
			     struct husk_engine_config *ret, struct husk_err *err);

/*
 * Read and parse the file at path (absolute). HUSK_ERR_INVALID when the path is relative,
 * the file is missing, unreadable or larger than HUSK_ENGINE_CONFIG_MAX, or does not parse.
 */
int husk_engine_config_load(const char *path, struct husk_engine_config *ret, struct husk_err *err);

void husk_engine_config_done(struct husk_engine_config *c);
