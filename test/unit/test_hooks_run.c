/*
 * Hooks with a large state on stdin: the write is part of the hook's timeout, a hook that
 * does not read is killed at its timeout, one that exits without reading is no error, and
 * the caller never dies of SIGPIPE (SIGPIPE keeps its default action in this process).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/wait.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "hooks.h"
#include "husk/err.h"
#include "husk/spec.h"
#include "testutil.h"

static char *dir;

static void setup(void)
{
	/* The default action: a SIGPIPE would kill this worker. */
	(void)signal(SIGPIPE, SIG_DFL);
	dir = testutil_tmpdir("hooksrun");
}

static void teardown(void)
{
	testutil_rmtree_free(dir);
}

TestSuite(hooks_run, .init = setup, .fini = teardown, .timeout = 60);

/* A spec with one createRuntime hook (JSON fragment) and 150 KiB of annotations. */
static struct husk_spec *spec_with(const char *hook)
{
	size_t cap = 200 * 1024;
	char *json = malloc(cap);
	size_t n = (size_t)snprintf(json, cap,
				    "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"r\"},"
				    "\"hooks\":{\"createRuntime\":[%s]},\"annotations\":{",
				    hook);
	for (int i = 0; i < 150; i++)
		n += (size_t)snprintf(json + n, cap - n, "%s\"a%03d\":\"%01000d\"", i ? "," : "", i,
				      0);
	n += (size_t)snprintf(json + n, cap - n, "}}");
	cr_assert(lt(sz, n, cap));
	struct husk_spec *spec = NULL;
	struct husk_err err = {0};
	cr_assert(eq(int, husk_spec_parse(json, n, &spec, &err), 0), "%s", err.msg);
	free(json);
	return spec;
}

static double now_s(void)
{
	struct timespec ts;
	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int run(struct husk_spec *spec, struct husk_err *err)
{
	struct husk_hook_state st = {.id = "h1", .status = "creating", .bundle = dir, .spec = spec};
	return husk__hooks_run(spec, HUSK_HOOK_CREATE_RUNTIME, &st, err);
}

static void require_pidfd(void)
{
	if (getenv("HUSK_VALGRIND"))
		cr_skip_test("valgrind turns clone3 and pidfds into ENOSYS");
}

Test(hooks_run, a_hook_that_sleeps_without_reading_is_killed_at_its_timeout)
{
	require_pidfd();
	struct husk_spec *spec =
		spec_with("{\"path\":\"/bin/sleep\",\"args\":[\"sleep\",\"60\"],\"timeout\":1}");
	struct husk_err err = {0};
	double t0 = now_s();
	int r = run(spec, &err);
	double took = now_s() - t0;
	cr_expect(lt(int, r, 0));
	cr_expect(strstr(err.msg, "timed out after 1s") != NULL, "%s", err.msg);
	cr_expect(lt(dbl, took, 1.0 * testutil_timeout(3)), "took %.2fs", took);
	cr_expect(ge(dbl, took, 0.9), "the timeout was honoured, took %.2fs", took);
	husk_spec_free(spec);
}

Test(hooks_run, a_hook_that_exits_without_reading_is_no_error)
{
	require_pidfd();
	struct husk_spec *spec = spec_with("{\"path\":\"/bin/true\",\"timeout\":5}");
	struct husk_err err = {0};
	cr_expect(eq(int, run(spec, &err), 0), "%s", err.msg);
	cr_expect(eq(int, run(spec, &err), 0), "twice: no SIGPIPE left pending, %s", err.msg);
	husk_spec_free(spec);
}

Test(hooks_run, a_hook_that_reads_gets_the_whole_state)
{
	require_pidfd();
	char hook[4300];
	(void)snprintf(
		hook, sizeof(hook),
		"{\"path\":\"/bin/sh\",\"args\":[\"sh\",\"-c\",\"cat > %.4000s/state.json\"],"
		"\"timeout\":10}",
		dir);
	struct husk_spec *spec = spec_with(hook);
	struct husk_err err = {0};
	cr_assert(eq(int, run(spec, &err), 0), "%s", err.msg);
	char path[4200];
	(void)snprintf(path, sizeof(path), "%s/state.json", dir);
	char *got = testutil_read_file(path);
	cr_assert(got != NULL);
	cr_expect(gt(sz, strlen(got), 150 * 1000), "%zu bytes", strlen(got));
	cr_expect(strstr(got, "\"a149\":\"0000") != NULL, "the last annotation arrived");
	cr_expect(eq(chr, got[strlen(got) - 1], '}'));
	free(got);
	husk_spec_free(spec);
}

Test(hooks_run, a_hook_that_cannot_be_executed_fails_at_once_with_its_errno)
{
	require_pidfd();
	struct husk_spec *spec = spec_with("{\"path\":\"/nonexistent/husk-hook\",\"timeout\":30}");
	struct husk_err err = {0};
	double t0 = now_s();
	cr_expect(lt(int, run(spec, &err), 0));
	cr_expect(lt(dbl, now_s() - t0, 1.0 * testutil_timeout(5)), "not at its timeout");
	cr_expect(eq(int, err.errnum, ENOENT), "%s", err.msg);
	cr_expect(strstr(err.msg, "exec '/nonexistent/husk-hook'") != NULL, "%s", err.msg);
	cr_expect(eq(int, waitpid(-1, NULL, WNOHANG), -1), "the hook's child is reaped");
	husk_spec_free(spec);
}
