/* The husk config file a CRI runtime handler's ConfigPath names: what it accepts, every
 * refusal with its message, and loading from disk. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "husk/engine_config.h"
#include "husk/err.h"

TestSuite(engine_config, .timeout = 30);

static struct husk_engine_config parse_ok(const char *json)
{
	struct husk_engine_config c;
	struct husk_err err = {0};
	int r = husk_engine_config_parse(json, strlen(json), "t.json", &c, &err);

	cr_assert(eq(int, r, 0), "%s: %s", json, err.msg);
	return c;
}

Test(engine_config, empty_object_is_the_native_engine)
{
	struct husk_engine_config c = parse_ok("{}");

	cr_expect(eq(str, c.engine, "native"));
	cr_expect(c.binary == NULL && c.root == NULL && c.runtime_args == NULL);
	cr_expect(c.systemd_cgroup == false);
	husk_engine_config_done(&c);

	c = parse_ok("{\"engine\":\"native\",\"systemd_cgroup\":true}");
	cr_expect(eq(str, c.engine, "native"));
	cr_expect(c.systemd_cgroup == true);
	husk_engine_config_done(&c);
}

Test(engine_config, oci_engine_with_runsc_flags)
{
	struct husk_engine_config c = parse_ok(
		"{\"engine\":\"oci\",\"binary\":\"runsc\",\"root\":\"/run/containerd/runsc\","
		"\"runtime_args\":[\"--platform=systrap\",\"--network=sandbox\",\"-debug\"]}");

	cr_expect(eq(str, c.engine, "oci"));
	cr_expect(eq(str, c.binary, "runsc"));
	cr_expect(eq(str, c.root, "/run/containerd/runsc"));
	cr_assert(eq(sz, c.n_runtime_args, 3));
	cr_expect(eq(str, c.runtime_args[0], "--platform=systrap"));
	cr_expect(eq(str, c.runtime_args[1], "--network=sandbox"));
	cr_expect(eq(str, c.runtime_args[2], "-debug"));
	cr_expect(c.runtime_args[3] == NULL);
	husk_engine_config_done(&c);
}

struct refusal {
	const char *json;
	const char *msg;
};

Test(engine_config, what_cannot_be_honoured_is_refused)
{
	static const struct refusal cases[] = {
		{"[]", "'t.json': config: expected object"},
		{"{\"binary_name\":\"runsc\"}", "'t.json': unknown key 'binary_name'"},
		{"{\"engine\":\"gvisor\"}", "'t.json': engine: 'gvisor' is not 'native' or 'oci'"},
		{"{\"engine\":\"oci\"}",
		 "'t.json': engine 'oci' needs \"binary\" (e.g. \"runsc\")"},
		{"{\"binary\":\"runsc\"}",
		 "'t.json': binary: only the 'oci' engine takes it (engine is 'native')"},
		{"{\"runtime_args\":[\"--debug\"]}",
		 "'t.json': runtime_args: only the 'oci' engine takes it (engine is 'native')"},
		{"{\"engine\":\"oci\",\"binary\":\"runsc\",\"root\":\"run/x\"}",
		 "'t.json': root: 'run/x' is not an absolute path"},
		{"{\"engine\":\"oci\",\"binary\":\"\"}", "'t.json': binary: empty"},
		{"{\"engine\":\"oci\",\"binary\":\"runsc\",\"runtime_args\":[\"--root=/x\"]}",
		 "'t.json': runtime_args[0]: '--root' is set by husk, use \"root\""},
		{"{\"engine\":\"oci\",\"binary\":\"runsc\",\"runtime_args\":[\"--systemd-cgroup\"]"
		 "}",
		 "'t.json': runtime_args[0]: '--systemd-cgroup' is set by husk, use "
		 "\"systemd_cgroup\""},
		{"{\"engine\":\"oci\",\"binary\":\"runsc\",\"runtime_args\":[\"run\"]}",
		 "'t.json': runtime_args[0]: 'run' is not a flag (global flags only, as "
		 "--flag=value)"},
		{"{\"engine\":\"oci\",\"binary\":\"runsc\",\"runtime_args\":[\"--network\","
		 "\"host\"]}",
		 "'t.json': runtime_args[1]: 'host' is not a flag (global flags only, as "
		 "--flag=value)"},
		{"{\"engine\":\"oci\",\"binary\":\"runsc\",\"runtime_args\":\"--debug\"}",
		 "'t.json': runtime_args: expected array"},
		{"{\"systemd_cgroup\":\"yes\"}", "'t.json': systemd_cgroup: expected boolean"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct husk_engine_config c;
		struct husk_err err = {0};
		int r = husk_engine_config_parse(cases[i].json, strlen(cases[i].json), "t.json", &c,
						 &err);
		cr_expect(lt(int, r, 0), "%s", cases[i].json);
		cr_expect(eq(int, err.kind, HUSK_ERR_INVALID), "%s", cases[i].json);
		cr_expect(eq(str, err.msg, (char *)cases[i].msg), "%s", cases[i].json);
		cr_expect(c.engine == NULL && c.binary == NULL && c.runtime_args == NULL);
	}
}

Test(engine_config, load_reads_an_absolute_path_only)
{
	char dir[] = "/tmp/husk-engine-config-XXXXXX";
	char path[64];
	struct husk_engine_config c;
	struct husk_err err = {0};

	cr_assert(mkdtemp(dir) != NULL);
	(void)snprintf(path, sizeof(path), "%s/runsc.json", dir);
	FILE *f = fopen(path, "we");
	cr_assert(f != NULL);
	cr_assert(fputs("{\"engine\":\"oci\",\"binary\":\"runsc\"}\n", f) >= 0);
	cr_assert(eq(int, fclose(f), 0));

	cr_assert(eq(int, husk_engine_config_load(path, &c, &err), 0), "%s", err.msg);
	cr_expect(eq(str, c.binary, "runsc"));
	husk_engine_config_done(&c);

	cr_expect(lt(int, husk_engine_config_load("runsc.json", &c, &err), 0));
	cr_expect(eq(str, err.msg, "config path 'runsc.json' is not an absolute path"));

	cr_assert(eq(int, unlink(path), 0));
	cr_expect(lt(int, husk_engine_config_load(path, &c, &err), 0));
	cr_expect(eq(int, err.kind, HUSK_ERR_INVALID));
	cr_expect(strstr(err.msg, "read config file") != NULL, "%s", err.msg);
	cr_expect(strstr(err.msg, "No such file") != NULL, "%s", err.msg);
	cr_assert(eq(int, rmdir(dir), 0));
}

Test(engine_config, no_pivot_root_and_no_new_keyring)
{
	struct husk_engine_config c = parse_ok("{\"no_pivot_root\":true,\"no_new_keyring\":true}");

	cr_expect(c.no_pivot_root && c.no_new_keyring);
	husk_engine_config_done(&c);
	c = parse_ok("{}");
	cr_expect(not(c.no_pivot_root || c.no_new_keyring));
	husk_engine_config_done(&c);
}
