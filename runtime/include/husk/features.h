/*
 * The OCI runtime features document (runtime-spec features.md, what `runc features` prints)
 * of the native engine, built from the tables its spec parser, plan and seccomp builder use:
 * a listed item is one the engine applies, not one it merely parses.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct husk_err;

/*
 * The features document as JSON text: indented by 4 spaces with a trailing newline when
 * pretty (as runc prints it), else compact (as containerd's shims embed it). *ret is
 * malloc'ed and NUL-terminated, *ret_len its length; the caller frees it. HUSK_ERR_INTERNAL
 * (ENOMEM) on allocation failure, with *ret untouched.
 */
int husk_features_json(bool pretty, char **ret, size_t *ret_len, struct husk_err *err);

/*
 * The features document of an OCI runtime binary (a name on PATH, or a path): what
 * `<binary> features` prints, compacted, as containerd-shim-runc-v2's -info embeds runc's.
 * HUSK_ERR_INVALID when there is no such binary; HUSK_ERR_UNIMPLEMENTED when it runs but
 * answers no JSON object (runsc has no features command): the caller then reports none.
 * *ret is malloc'ed; the caller frees it.
 */
int husk_oci_features_json(const char *binary, char **ret, size_t *ret_len, struct husk_err *err);
