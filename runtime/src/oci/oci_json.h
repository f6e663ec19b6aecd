/*
 * JSON the oci engine writes: an OCI "process" object for `exec --process`, an OCI
 * "linux.resources" object for `update --resources -`, and the engine's private record in
 * the state file (engine_data). Pure; the output is malloc'ed, NUL-terminated text.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct husk_err;
struct husk_process;
struct husk_resources;

/* The process as config.json spells it (fields absent in the struct are left out). */
int husk__oci_process_format(const struct husk_process *p, char **ret_json, struct husk_err *err);

/* The resources as config.json spells linux.resources. A u64 value above INT64_MAX (which
 * JSON integers here cannot carry) is HUSK_ERR_INVALID naming the field. */
int husk__oci_resources_format(const struct husk_resources *res, char **ret_json,
			       struct husk_err *err);

/* What the state file keeps so that load and delete work with no shim alive. */
struct husk_oci_data {
	char *binary; /* resolved path of the runtime binary */
	char *root;   /* its --root */
	char *work;   /* the engine's per-container dir (log, pid files) */
	char **args;  /* global flags for every call (NULL-terminated); NULL = none */
	char *rootfs; /* where containerd's rootfs mounts were put; NULL: none were given */
	size_t n_args;
	bool systemd_cgroup;
};

int husk__oci_data_format(const struct husk_oci_data *d, char **ret_json, struct husk_err *err);
/* HUSK_ERR_INVALID naming the field ("engine_data.root: expected string"). */
int husk__oci_data_parse(const char *json, struct husk_oci_data *ret, struct husk_err *err);
void husk__oci_data_done(struct husk_oci_data *d);
