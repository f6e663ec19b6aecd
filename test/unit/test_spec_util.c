#include "test_spec_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "testutil.h"

char *spec_fixture(const char *name, size_t *ret_len)
{
	char rel[256];
	int n = snprintf(rel, sizeof(rel), "test/unit/data/spec/%s", name);
	cr_assert(n > 0 && (size_t)n < sizeof(rel));
	char *path = testutil_source_path(rel);
	char *s = testutil_read_file(path);
	cr_assert(s != NULL, "cannot read fixture %s", path);
	free(path);
	if (ret_len)
		*ret_len = strlen(s);
	return s;
}

struct husk_spec *spec_parse_ok(const char *json)
{
	struct husk_err err = {0};
	struct husk_spec *spec = NULL;
	int r = husk_spec_parse(json, strlen(json), &spec, &err);
	cr_assert(eq(int, r, 0), "parse failed: %s", err.msg);
	cr_assert(spec != NULL);
	return spec;
}

struct husk_err spec_parse_fail(const char *json)
{
	struct husk_err err = {0};
	struct husk_spec *spec = NULL;
	int r = husk_spec_parse(json, strlen(json), &spec, &err);
	cr_assert(r < 0, "parse of %s succeeded", json);
	cr_assert(spec == NULL);
	return err;
}
