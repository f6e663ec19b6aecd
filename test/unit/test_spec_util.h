/* Fixtures for the spec suites: data files and parse-or-fail helpers. */
#pragma once

#include <stddef.h>

#include "husk/err.h"
#include "husk/spec.h"

/* Contents of test/unit/data/spec/<name> (malloc'ed, NUL-terminated); aborts the test if
 * it cannot be read. *ret_len gets the length when non-NULL. */
char *spec_fixture(const char *name, size_t *ret_len);

/* Parse a NUL-terminated document that must be valid; aborts the test otherwise. */
struct husk_spec *spec_parse_ok(const char *json);

/* Parse a NUL-terminated document that must fail; returns the error. */
struct husk_err spec_parse_fail(const char *json);
