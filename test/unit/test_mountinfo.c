/* The one mountinfo parser: fields, optional fields, escapes, bad lines. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "husk/err.h"
#include "mountinfo.h"

Test(mountinfo, splits_a_line_with_optional_fields_and_escapes)
{
	char line[] = "31 25 0:28 /a\\040b /sys/fs/cgroup/uni\\040fied rw,nosuid shared:9 "
		      "master:2 - cgroup2 cg\\040src rw,nsdelegate,favordynmods\n";
	struct husk_mountinfo_entry m;
	struct husk_err err = {0};

	cr_assert(eq(int, husk__mountinfo_split(line, &m, &err), 0), "%s", err.msg);
	cr_expect(eq(str, (char *)m.root, "/a b"));
	cr_expect(eq(str, (char *)m.mount_point, "/sys/fs/cgroup/uni fied"));
	cr_expect(eq(str, (char *)m.mount_opts, "rw,nosuid"));
	cr_expect(eq(str, (char *)m.fstype, "cgroup2"));
	cr_expect(eq(str, (char *)m.source, "cg src"));
	cr_expect(eq(str, (char *)m.super_opts, "rw,nsdelegate,favordynmods"));
	cr_expect(husk__mountinfo_has_opt(m.super_opts, "favordynmods"));
	cr_expect(husk__mountinfo_has_opt(m.super_opts, "rw"));
	cr_expect(not(husk__mountinfo_has_opt(m.super_opts, "nsdelegat")));
	cr_expect(not(husk__mountinfo_has_opt("", "rw")));
}

Test(mountinfo, a_line_without_source_or_options_still_splits)
{
	char line[] = "40 25 8:1 / /data rw - ext4";
	struct husk_mountinfo_entry m;

	cr_assert(eq(int, husk__mountinfo_split(line, &m, NULL), 0));
	cr_expect(eq(str, (char *)m.fstype, "ext4"));
	cr_expect(eq(str, (char *)m.source, ""));
	cr_expect(eq(str, (char *)m.super_opts, ""));
}

Test(mountinfo, bad_lines_name_what_is_missing)
{
	static const char *const cases[][2] = {
		{"1 2 0:3 / /x", "short line"},
		{"1 2 0:3 / /x rw shared:1 cgroup cgroup rw", "no ' - ' separator"},
		{"1 2 0:3 / /x rw -", "no fs type"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char line[128];
		struct husk_mountinfo_entry m;
		struct husk_err err = {0};
		(void)snprintf(line, sizeof(line), "%s", cases[i][0]);
		cr_expect(eq(int, husk__mountinfo_split(line, &m, &err), -EINVAL), "%s",
			  cases[i][0]);
		cr_expect(eq(int, err.kind, HUSK_ERR_INVALID));
		cr_expect(strstr(err.msg, cases[i][1]) != NULL, "%s", err.msg);
	}
}
