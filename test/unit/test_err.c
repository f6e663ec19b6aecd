#include <errno.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "husk/err.h"

Test(err, set_returns_negative_errno_and_appends_strerror)
{
	struct husk_err err = {0};
	int r = husk_err_set(&err, HUSK_ERR_NOT_FOUND, ENOENT, "open '%s'", "/x");
	cr_assert(eq(int, r, -ENOENT));
	cr_assert(eq(int, err.kind, HUSK_ERR_NOT_FOUND));
	cr_assert(eq(str, err.msg, "open '/x': No such file or directory"));
}

Test(err, set_without_errno_picks_code_by_kind)
{
	struct husk_err err = {0};
	cr_assert(eq(int, husk_err_set(&err, HUSK_ERR_INVALID, 0, "bad"), -EINVAL));
	cr_assert(eq(int, husk_err_set(&err, HUSK_ERR_PRECONDITION, 0, "state"), -EIO));
	cr_assert(eq(str, err.msg, "state"));
}

Test(err, prefix_adds_context_and_keeps_kind)
{
	struct husk_err err = {0};
	(void)husk_err_set(&err, HUSK_ERR_EXISTS, 0, "id 'a'");
	int r = husk_err_prefix(&err, "create %s", "a");
	cr_assert(eq(int, r, -EIO));
	cr_assert(eq(int, err.kind, HUSK_ERR_EXISTS));
	cr_assert(eq(str, err.msg, "create a: id 'a'"));
}

Test(err, long_messages_truncate_safely)
{
	struct husk_err err = {0};
	char big[2000];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	(void)husk_err_set(&err, HUSK_ERR_INTERNAL, EIO, "%s", big);
	cr_assert(eq(sz, strlen(err.msg), sizeof(err.msg) - 1));
	(void)husk_err_prefix(&err, "%s", big);
	cr_assert(eq(sz, strlen(err.msg), sizeof(err.msg) - 1));
}

Test(err, null_err_is_allowed)
{
	cr_assert(eq(int, husk_err_set(NULL, HUSK_ERR_INTERNAL, EPERM, "x"), -EPERM));
	cr_assert(eq(int, husk_err_prefix(NULL, "x"), -EIO));
}

Test(err, kind_names)
{
	cr_assert(eq(str, (char *)husk_err_kind_to_string(HUSK_ERR_NOT_FOUND), "not found"));
	cr_assert(husk_err_kind_to_string(_HUSK_ERR_KIND_MAX) == NULL);
}
