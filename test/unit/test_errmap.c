#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "errmap.h"
#include "husk/err.h"

Test(errmap, kinds_to_codes)
{
	cr_assert(eq(u32, shim_errmap_code(HUSK_ERR_INTERNAL), 2));
	cr_assert(eq(u32, shim_errmap_code(HUSK_ERR_INVALID), 3));
	cr_assert(eq(u32, shim_errmap_code(HUSK_ERR_NOT_FOUND), 5));
	cr_assert(eq(u32, shim_errmap_code(HUSK_ERR_EXISTS), 6));
	cr_assert(eq(u32, shim_errmap_code(HUSK_ERR_PRECONDITION), 9));
	cr_assert(eq(u32, shim_errmap_code(HUSK_ERR_UNIMPLEMENTED), 12));
	cr_assert(eq(u32, shim_errmap_code(_HUSK_ERR_KIND_MAX), 2));
}

Test(errmap, typed_messages_carry_the_errdefs_class)
{
	struct husk_err err = {0};
	char buf[600];

	(void)husk_err_set(&err, HUSK_ERR_NOT_FOUND, 0, "container not created");
	cr_assert(eq(u32, shim_errmap_format(&err, buf, sizeof(buf)), 5));
	cr_assert(eq(str, buf, "container not created: not found"));

	(void)husk_err_set(&err, HUSK_ERR_EXISTS, 0, "id e1");
	cr_assert(eq(u32, shim_errmap_format(&err, buf, sizeof(buf)), 6));
	cr_assert(eq(str, buf, "id e1: already exists"));

	(void)husk_err_set(&err, HUSK_ERR_PRECONDITION, 0,
			   "container c1 init process is not running");
	(void)shim_errmap_format(&err, buf, sizeof(buf));
	cr_assert(eq(str, buf, "container c1 init process is not running: failed precondition"));

	(void)husk_err_set(&err, HUSK_ERR_INVALID, 0, "bad spec");
	(void)shim_errmap_format(&err, buf, sizeof(buf));
	cr_assert(eq(str, buf, "bad spec: invalid argument"));

	(void)husk_err_set(&err, HUSK_ERR_UNIMPLEMENTED, 0, "checkpoint");
	(void)shim_errmap_format(&err, buf, sizeof(buf));
	cr_assert(eq(str, buf, "checkpoint: not implemented"));
}

Test(errmap, suffix_is_not_doubled)
{
	struct husk_err err = {0};
	char buf[128];

	(void)husk_err_set(&err, HUSK_ERR_NOT_FOUND, 0, "process already finished: not found");
	(void)shim_errmap_format(&err, buf, sizeof(buf));
	cr_assert(eq(str, buf, "process already finished: not found"));
}

Test(errmap, internal_errors_are_unknown_without_suffix)
{
	struct husk_err err = {0};
	char buf[128];

	(void)husk_err_set(&err, HUSK_ERR_INTERNAL, 0, "cgroup write failed");
	cr_assert(eq(u32, shim_errmap_format(&err, buf, sizeof(buf)), 2));
	cr_assert(eq(str, buf, "cgroup write failed"));
	/* An ENOENT behind an internal error never becomes NotFound. */
	(void)husk_err_errno(&err, 2, "open cgroup.procs");
	cr_assert(eq(u32, shim_errmap_format(&err, buf, sizeof(buf)), 2));
}

Test(errmap, truncation_keeps_the_class_suffix)
{
	struct husk_err err = {0};
	char buf[32];

	(void)husk_err_set(&err, HUSK_ERR_NOT_FOUND, 0, "a very long message that goes on and on");
	(void)shim_errmap_format(&err, buf, sizeof(buf));
	cr_assert(eq(sz, strlen(buf), sizeof(buf) - 1));
	cr_assert(eq(str, buf + strlen(buf) - strlen(": not found"), ": not found"));
}

Test(errmap, empty_message_gets_placeholder)
{
	struct husk_err err = {.kind = HUSK_ERR_NOT_FOUND};
	char buf[64];

	(void)shim_errmap_format(&err, buf, sizeof(buf));
	cr_assert(eq(str, buf, "unknown error: not found"));
}
