/*
 * Allocation failure at every point of a parse: the Nth of our allocations fails (through
 * -Wl,--wrap=malloc,calloc,realloc,strdup), for N = 1, 2, ... until a parse needs no more
 * than N - 1. Each run must fail with HUSK_ERR_INTERNAL/ENOMEM and free the half-built
 * struct: ASan and valgrind catch a leak.
 *
 * jansson's own allocations go through json_set_alloc_funcs() and are counted, so that each
 * run also proves every json_t was released, but never failed: jansson 2.14 drops the
 * result of its lexer's buffer growth (lex_save(), akheron/jansson#362) and then reads past
 * the buffer or asserts, so a failure there crashes inside the library whatever we do.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <jansson.h>

#include "husk/err.h"
#include "husk/spec.h"
#include "test_spec_util.h"
#include "testutil.h"

void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t size);
char *__real_strdup(const char *s);
void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t size);
char *__wrap_strdup(const char *s);

static long fail_at = -1; /* 1-based allocation number to fail; -1: never */
static long n_allocs;
static bool failed;
static long json_live; /* jansson blocks allocated and not yet freed */

static bool should_fail(void)
{
	if (fail_at < 0)
		return false;
	if (++n_allocs != fail_at)
		return false;
	failed = true;
	return true;
}

void *__wrap_malloc(size_t size)
{
	return should_fail() ? NULL : __real_malloc(size);
}

void *__wrap_calloc(size_t n, size_t size)
{
	return should_fail() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t size)
{
	return should_fail() ? NULL : __real_realloc(p, size);
}

char *__wrap_strdup(const char *s)
{
	return should_fail() ? NULL : __real_strdup(s);
}

static void *json_malloc(size_t size)
{
	void *p = __real_malloc(size);

	json_live += p != NULL;
	return p;
}

static void json_free(void *p)
{
	json_live -= p != NULL;
	free(p);
}

static void setup(void)
{
	json_set_alloc_funcs(json_malloc, json_free);
}

TestSuite(spec_oom, .init = setup, .timeout = 600);

typedef int parse_fn(const char *json, size_t len, struct husk_err *err);

static int parse_spec(const char *json, size_t len, struct husk_err *err)
{
	struct husk_spec *s = NULL;
	int r = husk_spec_parse(json, len, &s, err);
	husk_spec_free(s);
	return r;
}

static int parse_process(const char *json, size_t len, struct husk_err *err)
{
	struct husk_process *p = NULL;
	int r = husk_process_parse(json, len, &p, err);
	husk_process_free(p);
	return r;
}

static int parse_resources(const char *json, size_t len, struct husk_err *err)
{
	struct husk_resources *res = NULL;
	int r = husk_resources_parse(json, len, &res, err);
	husk_resources_free(res);
	return r;
}

/* The bundle's path rides in json (len unused): husk_spec_load reads and allocates too. */
static int load_spec(const char *bundle, size_t len, struct husk_err *err)
{
	struct husk_spec *s = NULL;
	(void)len;
	int r = husk_spec_load(bundle, &s, err);
	husk_spec_free(s);
	return r;
}

/* Returns how many allocations a successful parse made. */
static long exhaust(parse_fn *fn, const char *json, size_t len)
{
	for (long k = 1;; k++) {
		struct husk_err err = {0};
		n_allocs = 0;
		failed = false;
		fail_at = k;
		int r = fn(json, len, &err);
		fail_at = -1;
		cr_assert(eq(long, json_live, 0), "allocation %ld: json_t leaked", k);
		if (!failed) {
			cr_assert(eq(int, r, 0), "unfailed parse: %s", err.msg);
			return k - 1;
		}
		cr_assert(eq(int, r, -ENOMEM), "allocation %ld: r=%d '%s'", k, r, err.msg);
		cr_assert(eq(int, err.kind, HUSK_ERR_INTERNAL), "allocation %ld: %s", k, err.msg);
		cr_assert(eq(int, err.errnum, ENOMEM));
	}
}

static void exhaust_fixture(const char *name, long min_allocs)
{
	size_t len = 0;
	char *json = spec_fixture(name, &len);
	long n = exhaust(parse_spec, json, len);
	cr_log_info("%s: %ld allocations", name, n);
	cr_assert(n >= min_allocs, "%s: only %ld allocations", name, n);
	free(json);
}

Test(spec_oom, full_spec)
{
	exhaust_fixture("full.json", 100);
}

Test(spec_oom, cri_container_with_unsupported_fields)
{
	exhaust_fixture("cri-container.json", 50);
}

Test(spec_oom, ctr_run_seccomp)
{
	exhaust_fixture("ctr-run-seccomp.json", 300);
}

Test(spec_oom, big_integers)
{
	static const char doc[] = "{\"ociVersion\":\"1\",\"root\":{\"path\":\"r\"},"
				  "\"process\":{\"args\":[\"a\"],\"cwd\":\"/\",\"rlimits\":[{"
				  "\"type\":\"RLIMIT_CORE\",\"hard\":18446744073709551615,"
				  "\"soft\":18446744073709551615}]}}";
	cr_assert(exhaust(parse_spec, doc, strlen(doc)) >= 8);
}

Test(spec_oom, process_and_resources)
{
	static const char proc[] =
		"{\"args\":[\"sh\",\"-c\",\"id\"],\"cwd\":\"/w\",\"env\":[\"A=1\"],"
		"\"user\":{\"uid\":1,\"gid\":1,\"additionalGids\":[2,3]},"
		"\"capabilities\":{\"bounding\":[\"CAP_KILL\"]},"
		"\"selinuxLabel\":\"x\"}";
	static const char res[] = "{\"devices\":[{\"allow\":true}],\"memory\":{\"limit\":1},"
				  "\"cpu\":{\"cpus\":\"0\",\"mems\":\"0\"},"
				  "\"blockIO\":{\"weightDevice\":[{\"major\":1,\"minor\":1}]},"
				  "\"hugepageLimits\":[{\"pageSize\":\"2MB\",\"limit\":1}],"
				  "\"unified\":{\"a\":\"b\"}}";
	cr_assert(exhaust(parse_process, proc, strlen(proc)) >= 9);
	cr_assert(exhaust(parse_resources, res, strlen(res)) >= 10);
}

Test(spec_oom, load_relative_root)
{
	char *dir = testutil_tmpdir("spec-oom");
	char path[PATH_MAX];
	cr_assert(snprintf(path, sizeof(path), "%s/config.json", dir) < (int)sizeof(path));
	testutil_write_file(path, "{\"ociVersion\":\"1\",\"root\":{\"path\":\"rootfs\"},"
				  "\"mounts\":[{\"destination\":\"rel\"}]}");
	cr_assert(exhaust(load_spec, dir, 0) > 5);
	testutil_rmtree_free(dir);
}
