#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "fs.h"
#include "husk/err.h"
#include "husk/id.h"

Test(id, valid_ids)
{
	const char *ok[] = {"a",   "abc", "A-b_c.d+e", "0123456789abcdef", "_", "-", "+",
			    "...", ".a",  "a..b"};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		cr_assert(husk_id_valid(ok[i]), "'%s' should be valid", ok[i]);

	char longest[HUSK_ID_MAX + 1];
	memset(longest, 'x', HUSK_ID_MAX);
	longest[HUSK_ID_MAX] = '\0';
	cr_assert(husk_id_valid(longest));
}

Test(id, invalid_ids)
{
	const char *bad[] = {"",  ".",	"..", "a:b", "a/b",  "a b", "a\tb",
			     "ü", "a*", "$x", "a\n", "a\\b", "a;b", "a@b"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert(husk_id_valid(bad[i]) == false, "'%s' should be invalid", bad[i]);
	cr_assert(husk_id_valid(NULL) == false);

	char toolong[HUSK_ID_MAX + 2];
	memset(toolong, 'x', HUSK_ID_MAX + 1);
	toolong[HUSK_ID_MAX + 1] = '\0';
	cr_assert(husk_id_valid(toolong) == false);
}

Test(id, check_names_the_kind_and_id)
{
	struct husk_err err = {0};
	cr_assert(eq(int, husk_id_check("ok", "container", &err), 0));
	cr_assert(eq(int, husk_id_check("a/b", "container", &err), -EINVAL));
	cr_assert(eq(int, err.kind, HUSK_ERR_INVALID));
	cr_assert(eq(str, err.msg, "invalid container id 'a/b'"));
	cr_assert(eq(int, husk_id_check("x:y", "sandbox", &err), -EINVAL));
	cr_assert(eq(str, err.msg, "invalid sandbox id 'x:y'"));
	cr_assert(eq(int, husk_id_check(NULL, "exec", &err), -EINVAL));
	cr_assert(eq(int, husk_id_check("bad id", "exec", NULL), -EINVAL));
}

Test(id, full_id_set_validates_both_parts)
{
	struct husk_err err = {0};
	struct husk_full_id id;
	memset(&id, 'z', sizeof(id));
	cr_assert(eq(int, husk_full_id_set(&id, "pod", "ctr", &err), 0));
	cr_assert(eq(str, id.sandbox, "pod"));
	cr_assert(eq(str, id.container, "ctr"));

	struct husk_full_id before = id;
	cr_assert(eq(int, husk_full_id_set(&id, "p:d", "ctr", &err), -EINVAL));
	cr_assert(eq(str, err.msg, "invalid sandbox id 'p:d'"));
	cr_assert(eq(int, husk_full_id_set(&id, "pod", "c/r", &err), -EINVAL));
	cr_assert(eq(str, err.msg, "invalid container id 'c/r'"));
	cr_assert(memcmp(&id, &before, sizeof(id)) == 0, "untouched on failure");
}

static void round_trip(const char *sandbox, const char *container)
{
	struct husk_full_id id, back;
	char name[256];
	cr_assert(eq(int, husk_full_id_set(&id, sandbox, container, NULL), 0));
	cr_assert(eq(int, husk_full_id_filename(&id, ".state", name, sizeof(name)), 0));
	struct husk_err err = {0};
	cr_assert(eq(int, husk_full_id_parse_filename(name, ".state", &back, &err), 0), "%s: %s",
		  name, err.msg);
	cr_assert(eq(str, back.sandbox, (char *)sandbox));
	cr_assert(eq(str, back.container, (char *)container));
}

Test(id, filename_round_trips)
{
	struct husk_full_id id;
	char name[256];
	cr_assert(eq(int, husk_full_id_set(&id, "pod1", "ctr1", NULL), 0));
	cr_assert(eq(int, husk_full_id_filename(&id, ".state", name, sizeof(name)), 0));
	cr_assert(eq(str, name, "ctr1_sandbox:pod1.state"));
	cr_assert(eq(int, husk_full_id_filename(&id, ".lock", name, sizeof(name)), 0));
	cr_assert(eq(str, name, "ctr1_sandbox:pod1.lock"));

	round_trip("pod1", "ctr1");
	round_trip("same", "same");
	/* '_' is a word character: ids may hold it, even "_sandbox" itself. */
	round_trip("a_b", "c_d");
	round_trip("x", "a_sandbox");
	round_trip("_sandbox", "_sandbox_");
	round_trip("s.state", "c.lock");
	round_trip("+-._", "-");
}

Test(id, filename_too_long)
{
	struct husk_full_id id;
	char big[HUSK_ID_MAX + 1];
	memset(big, 'a', HUSK_ID_MAX);
	big[HUSK_ID_MAX] = '\0';
	cr_assert(eq(int, husk_full_id_set(&id, big, big, NULL), 0));
	char name[512];
	cr_assert(eq(int, husk_full_id_filename(&id, ".state", name, sizeof(name)), -ENAMETOOLONG));

	cr_assert(eq(int, husk_full_id_set(&id, "s", "c", NULL), 0));
	char tiny[8];
	cr_assert(eq(int, husk_full_id_filename(&id, ".state", tiny, sizeof(tiny)), -ENAMETOOLONG));
}

Test(id, parse_rejects_wrong_shapes)
{
	const char *bad[] = {
		"ctr.state",		 /* no separator */
		"ctr_sandbox.state",	 /* no colon */
		"ctr:pod.state",	 /* colon without _sandbox */
		"ctrsandbox:pod.state",	 /* '_' missing */
		"_sandbox:pod.state",	 /* empty container */
		"ctr_sandbox:.state",	 /* empty sandbox */
		"ctr_sandbox:pod",	 /* no suffix */
		"ctr_sandbox:pod.lock",	 /* other suffix */
		"a:b_sandbox:pod.state", /* ':' in the container part */
		"ctr_sandbox:p:d.state", /* ':' in the sandbox part */
		"ctr_sandbox:pod_sandbox:x.state",
		"c/r_sandbox:pod.state", /* bad character */
		"ctr_sandbox:po d.state",
		"._sandbox:pod.state",	/* "." */
		"ctr_sandbox:...state", /* sandbox ".." */
		".state",
		"",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct husk_err err = {0};
		struct husk_full_id id;
		int r = husk_full_id_parse_filename(bad[i], ".state", &id, &err);
		cr_assert(eq(int, r, -EINVAL), "'%s' should be rejected", bad[i]);
		cr_assert(eq(int, err.kind, HUSK_ERR_INVALID));
		cr_assert(strstr(err.msg, "invalid state file name") != NULL, "%s", err.msg);
	}
}

Test(id, parse_rejects_overlong_part)
{
	char name[400];
	char big[HUSK_ID_MAX + 2];
	memset(big, 'a', HUSK_ID_MAX + 1);
	big[HUSK_ID_MAX + 1] = '\0';
	(void)snprintf(name, sizeof(name), "%s_sandbox:x.state", big);
	struct husk_full_id id;
	cr_assert(eq(int, husk_full_id_parse_filename(name, ".state", &id, NULL), -EINVAL));
}

/* fs.h number parsing, used for /proc and cgroup files. */
Test(fs, safe_atou64)
{
	uint64_t v = 7;
	cr_assert(eq(int, husk__safe_atou64("0", &v), 0));
	cr_assert(eq(u64, v, 0));
	cr_assert(eq(int, husk__safe_atou64("18446744073709551615", &v), 0));
	cr_assert(eq(u64, v, UINT64_MAX));
	cr_assert(eq(int, husk__safe_atou64("42\n", &v), 0));
	cr_assert(eq(u64, v, 42));
	cr_assert(eq(int, husk__safe_atou64("18446744073709551616", &v), -ERANGE));
	cr_assert(eq(u64, v, 42), "untouched on failure");
	const char *bad[] = {"", "-1", "+1", " 1", "1 ", "0x10", "1\n\n", "a", "1a", "\n"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert(eq(int, husk__safe_atou64(bad[i], &v), -EINVAL), "'%s'", bad[i]);

	uint32_t u;
	cr_assert(eq(int, husk__safe_atou32("4294967295", &u), 0));
	cr_assert(eq(int, husk__safe_atou32("4294967296", &u), -ERANGE));
	pid_t p;
	cr_assert(eq(int, husk__safe_atopid("1", &p), 0));
	cr_assert(eq(int, p, 1));
	cr_assert(eq(int, husk__safe_atopid("0", &p), -ERANGE));
	cr_assert(eq(int, husk__safe_atopid("2147483648", &p), -ERANGE));
}
