/* The one place where a husk_err becomes a ttrpc status {code, message}. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "husk/err.h"

/* google.rpc.Code values used by the shim (protocol.md 1.6). */
enum shim_code {
	SHIM_CODE_OK = 0,
	SHIM_CODE_UNKNOWN = 2,
	SHIM_CODE_INVALID_ARGUMENT = 3,
	SHIM_CODE_NOT_FOUND = 5,
	SHIM_CODE_ALREADY_EXISTS = 6,
	SHIM_CODE_FAILED_PRECONDITION = 9,
	SHIM_CODE_UNIMPLEMENTED = 12,
};

/*
 * The wire code of an error kind. HUSK_ERR_INTERNAL is Unknown (2), as containerd's errdefs
 * decodes any untyped error, and as the runc shim answers for its untyped errors.
 */
uint32_t shim_errmap_code(enum husk_err_kind kind);

/*
 * The wire message: "<msg>: <class text>" for typed kinds ("container not created: not
 * found"), because containerd strips that suffix and re-wraps the error with its class; the
 * suffix is not doubled when msg already ends with it. Internal errors keep msg as is.
 * Always NUL-terminates buf (truncating); returns the code.
 */
uint32_t shim_errmap_format(const struct husk_err *err, char *buf, size_t size);
