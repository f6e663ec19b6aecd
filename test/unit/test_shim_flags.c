#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "flags.h"
#include "husk/err.h"

#define ARGV(...)	   ((char *const[]){"shim", __VA_ARGS__, NULL})
#define ARGC(...)	   ((int)(sizeof((char *[]){"shim", __VA_ARGS__}) / sizeof(char *)))
#define PARSE(f, err, ...) shim_flags_parse(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), f, err)

Test(shim_flags, containerd_start_command_line)
{
	struct shim_flags f;
	struct husk_err err = {0};

	cr_assert(
		eq(int,
		   PARSE(&f, &err, "-namespace", "ns1", "-address", "/run/c.sock",
			 "-publish-binary", "/usr/bin/containerd", "-id", "c1", "-debug", "start"),
		   0));
	cr_assert(eq(str, (char *)f.namespace_, "ns1"));
	cr_assert(eq(str, (char *)f.address, "/run/c.sock"));
	cr_assert(eq(str, (char *)f.publish_binary, "/usr/bin/containerd"));
	cr_assert(eq(str, (char *)f.id, "c1"));
	cr_assert(f.debug);
	cr_assert(eq(str, (char *)f.action, "start"));
	cr_assert_null(f.bundle);
}

Test(shim_flags, daemon_command_line_has_no_action)
{
	struct shim_flags f;

	cr_assert(eq(int, PARSE(&f, NULL, "-namespace", "n", "-id", "x", "-address", "/a"), 0));
	cr_assert_null(f.action);
	cr_assert_not(f.debug);
}

Test(shim_flags, equals_and_double_dash_forms)
{
	struct shim_flags f;

	cr_assert(eq(int,
		     PARSE(&f, NULL, "--namespace=n2", "-bundle=/b/x", "--debug=false", "-socket",
			   "/tmp/s", "delete"),
		     0));
	cr_assert(eq(str, (char *)f.namespace_, "n2"));
	cr_assert(eq(str, (char *)f.bundle, "/b/x"));
	cr_assert(eq(str, (char *)f.socket, "/tmp/s"));
	cr_assert_not(f.debug);
	cr_assert(eq(str, (char *)f.action, "delete"));
}

Test(shim_flags, value_may_start_with_dash_and_empty_value_is_kept)
{
	struct shim_flags f;

	cr_assert(eq(int, PARSE(&f, NULL, "-id", "-weird", "-namespace=", "start"), 0));
	cr_assert(eq(str, (char *)f.id, "-weird"));
	cr_assert(eq(str, (char *)f.namespace_, ""));
}

Test(shim_flags, version_info_and_debug_socket)
{
	struct shim_flags f;

	cr_assert(eq(int, PARSE(&f, NULL, "-v"), 0));
	cr_assert(f.version);
	cr_assert(eq(int, PARSE(&f, NULL, "-info", "-debug-socket", "/d"), 0));
	cr_assert(f.info);
	cr_assert_not(f.version);
	cr_assert(eq(str, (char *)f.debug_socket, "/d"));
}

Test(shim_flags, parsing_stops_at_the_action_word)
{
	struct shim_flags f;

	cr_assert(eq(int, PARSE(&f, NULL, "-id", "a", "delete", "-bogus"), 0));
	cr_assert(eq(str, (char *)f.action, "delete"));
	cr_assert(eq(int, PARSE(&f, NULL, "--", "-notaflag"), 0));
	cr_assert(eq(str, (char *)f.action, "-notaflag"));
	cr_assert(eq(int, PARSE(&f, NULL, "-", "x"), 0));
	cr_assert(eq(str, (char *)f.action, "-"));
}

Test(shim_flags, errors_are_invalid_argument)
{
	struct shim_flags f;
	struct husk_err err = {0};

	cr_assert(lt(int, PARSE(&f, &err, "-bogus", "start"), 0));
	cr_assert(eq(int, err.kind, HUSK_ERR_INVALID));
	cr_assert(eq(str, err.msg, "flag provided but not defined: -bogus"));

	cr_assert(lt(int, PARSE(&f, &err, "-id"), 0));
	cr_assert(eq(str, err.msg, "flag needs an argument: -id"));

	cr_assert(lt(int, PARSE(&f, &err, "-debug=maybe"), 0));
	cr_assert(eq(str, err.msg, "invalid boolean value \"maybe\" for -debug"));

	cr_assert(lt(int, PARSE(&f, &err, "---id", "x"), 0));
	cr_assert(lt(int, PARSE(&f, &err, "-=x"), 0));
}

Test(shim_flags, go_boolean_spellings)
{
	struct shim_flags f;
	const char *yes[] = {"-debug=1",    "-debug=t",	   "-debug=T",
			     "-debug=true", "-debug=TRUE", "-debug=True"};

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		char *argv[] = {"shim", (char *)yes[i], NULL};
		cr_assert(eq(int, shim_flags_parse(2, argv, &f, NULL), 0));
		cr_assert(f.debug, "%s", yes[i]);
	}
	char *argv[] = {"shim", "-debug", "-debug=0", NULL};
	cr_assert(eq(int, shim_flags_parse(3, argv, &f, NULL), 0));
	cr_assert_not(f.debug);
}
