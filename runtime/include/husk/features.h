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
