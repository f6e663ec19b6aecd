#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "husk/err.h"
#include "stdio_uri.h"

Test(stdio_uri, empty_is_none)
{
	struct shim_stdio_uri u;

	cr_assert(eq(int, shim_stdio_uri_parse("", &u, NULL), 0));
	cr_assert(eq(int, u.kind, SHIM_STDIO_NONE));
	cr_assert_null(u.path);
	cr_assert(eq(int, shim_stdio_uri_parse(NULL, &u, NULL), 0));
	cr_assert(eq(int, u.kind, SHIM_STDIO_NONE));
}

Test(stdio_uri, plain_path_is_a_fifo)
{
	struct shim_stdio_uri u;
	const char *p = "/run/containerd/fifo/123/c1-stdout";

	cr_assert(eq(int, shim_stdio_uri_parse(p, &u, NULL), 0));
	cr_assert(eq(int, u.kind, SHIM_STDIO_FIFO));
	cr_assert(eq(str, u.path, (char *)p));
	shim_stdio_uri_done(&u);
	shim_stdio_uri_done(&u);
	cr_assert_null(u.path);
}

Test(stdio_uri, fifo_scheme)
{
	struct shim_stdio_uri u;

	cr_assert(eq(int, shim_stdio_uri_parse("fifo:///tmp/a%20b", &u, NULL), 0));
	cr_assert(eq(int, u.kind, SHIM_STDIO_FIFO));
	cr_assert(eq(str, u.path, "/tmp/a b"));
	shim_stdio_uri_done(&u);
}

Test(stdio_uri, binary_with_query_keeps_order_and_decodes)
{
	struct shim_stdio_uri u;
	struct husk_err err = {0};

	cr_assert(eq(int,
		     shim_stdio_uri_parse("binary:///usr/bin/logger%2Dx?id=a+b&flag&path=%2Fvar",
					  &u, &err),
		     0),
		  "%s", err.msg);
	cr_assert(eq(int, u.kind, SHIM_STDIO_BINARY));
	cr_assert(eq(str, u.path, "/usr/bin/logger-x"));
	cr_assert(eq(sz, u.n_args, 6));
	cr_assert(eq(str, u.args[0], "id"));
	cr_assert(eq(str, u.args[1], "a b"));
	cr_assert(eq(str, u.args[2], "flag"));
	cr_assert(eq(str, u.args[3], ""));
	cr_assert(eq(str, u.args[4], "path"));
	cr_assert(eq(str, u.args[5], "/var"));
	shim_stdio_uri_done(&u);
}

Test(stdio_uri, binary_without_query_and_with_host)
{
	struct shim_stdio_uri u;

	cr_assert(eq(int, shim_stdio_uri_parse("binary://ignored/bin/log#frag", &u, NULL), 0));
	cr_assert(eq(str, u.path, "/bin/log"));
	cr_assert(eq(sz, u.n_args, 0));
	shim_stdio_uri_done(&u);
}

Test(stdio_uri, file_scheme)
{
	struct shim_stdio_uri u;

	cr_assert(eq(int, shim_stdio_uri_parse("file:///var/log/c1.log", &u, NULL), 0));
	cr_assert(eq(int, u.kind, SHIM_STDIO_FILE));
	cr_assert(eq(str, u.path, "/var/log/c1.log"));
	cr_assert(eq(sz, u.n_args, 0));
	shim_stdio_uri_done(&u);
	cr_assert(eq(int, shim_stdio_uri_parse("FILE:///x", &u, NULL), 0));
	cr_assert(eq(int, u.kind, SHIM_STDIO_FILE));
	shim_stdio_uri_done(&u);
}

Test(stdio_uri, unknown_scheme_is_invalid)
{
	struct shim_stdio_uri u;
	struct husk_err err = {0};

	cr_assert(lt(int, shim_stdio_uri_parse("tcp://1.2.3.4:5", &u, &err), 0));
	cr_assert(eq(int, err.kind, HUSK_ERR_INVALID));
	cr_assert(eq(str, err.msg, "unknown STDIO scheme tcp"));
	cr_assert(eq(int, u.kind, SHIM_STDIO_NONE));
}

Test(stdio_uri, bad_paths_and_escapes_are_invalid)
{
	struct shim_stdio_uri u;
	struct husk_err err = {0};
	const char *bad[] = {
		"binary://",	"binary:relative", "file://host",	"file:///a%2",
		"file:///a%zz", "file:///a%00b",   "binary:///x?k=%g0", "binary:///x?%",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err.kind = HUSK_ERR_INTERNAL;
		cr_assert(lt(int, shim_stdio_uri_parse(bad[i], &u, &err), 0), "%s", bad[i]);
		cr_assert(eq(int, err.kind, HUSK_ERR_INVALID), "%s", bad[i]);
		cr_assert_null(u.path, "%s", bad[i]);
		cr_assert_null(u.args, "%s", bad[i]);
	}
}

Test(stdio_uri, query_is_bounded)
{
	struct shim_stdio_uri u;
	char uri[1024] = "binary:///l?";

	for (int i = 0; i < 70; i++)
		(void)strcat(uri, "a=b&");
	cr_assert(lt(int, shim_stdio_uri_parse(uri, &u, NULL), 0));
}
