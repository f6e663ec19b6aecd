/* An OCI runtime binary: where it is, and its own features document. */
#pragma once

struct husk_err;

/*
 * The absolute path of an OCI runtime binary: a name is looked up on PATH (runc's default
 * PATH when unset), a path (with a '/') must be executable. *ret is malloc'ed.
 * HUSK_ERR_INVALID when there is no such executable.
 */
int husk__oci_binary_resolve(const char *name, char **ret, struct husk_err *err);
