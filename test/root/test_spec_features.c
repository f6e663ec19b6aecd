/*
 * What a spec asks for is what the container gets: env, cwd, user and groups, mounts and
 * their read-only flag, masked and read-only paths, capabilities, no_new_privs, a seccomp
 * profile, rlimits; and a bad spec is refused with the JSON path named, leaving nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <jansson.h>

#include "box.h"
#include "husk/container.h"
#include "husk/err.h"
#include "testutil.h"

static struct box b;

static void setup(void)
{
	box_init(&b, "features");
}

static void teardown(void)
{
	box_done(&b);
}

TestSuite(features, .init = setup, .fini = teardown, .timeout = 120);

static json_t *process(void)
{
	return json_object_get(b.cfg, "process");
}

static json_t *linux_(void)
{
	return json_object_get(b.cfg, "linux");
}

/* Run script to its end; its output in out, its exit status returned. */
static int run_script(const char *id, const char *script, char *out, size_t size)
{
	struct husk_container *c = box_run(&b, id, script);
	int code = box_finish(c);

	(void)close(b.out[1]);
	b.out[1] = -1;
	box_read_all(b.out[0], out, size);
	return code;
}

Test(features, env_cwd_user_groups)
{
	char out[4096];
	json_t *user = json_pack("{s:i, s:i, s:[i, i]}", "uid", 1000, "gid", 1000, "additionalGids",
				 10, 20);

	json_object_set_new(process(), "user", user);
	json_object_set_new(process(), "cwd", json_string("/tmp"));
	json_array_append_new(json_object_get(process(), "env"), json_string("HUSK_X=forty two"));
	int code = run_script("f-user", "echo \"$HUSK_X\"; pwd; id -u; id -g; id -G", out,
			      sizeof(out));
	cr_assert(eq(int, code, 0), "%s", out);
	cr_assert(eq(str, out, "forty two\n/tmp\n1000\n1000\n1000 10 20\n"));
}

Test(features, bind_mount_visible_and_readonly)
{
	char src[2048], file[2200], out[4096];

	(void)snprintf(src, sizeof(src), "%.2000s/hostdata", b.dir);
	cr_assert(eq(int, mkdir(src, 0755), 0));
	(void)snprintf(file, sizeof(file), "%s/hello", src);
	testutil_write_file(file, "from the host\n");
	json_t *m = json_pack("{s:s, s:s, s:s, s:[s, s]}", "destination", "/data", "type", "bind",
			      "source", src, "options", "rbind", "ro");
	json_array_append_new(json_object_get(b.cfg, "mounts"), m);
	int code = run_script("f-bind", "cat /data/hello; touch /data/x 2>/dev/null || echo ro",
			      out, sizeof(out));
	cr_assert(eq(int, code, 0), "%s", out);
	cr_assert(eq(str, out, "from the host\nro\n"));
	(void)snprintf(file, sizeof(file), "%s/x", src);
	cr_assert(eq(int, access(file, F_OK), -1), "nothing written through a read-only bind");
}

Test(features, readonly_root)
{
	char out[4096];

	json_object_set_new(json_object_get(b.cfg, "root"), "readonly", json_true());
	int code = run_script("f-roroot",
			      "touch /etc/x 2>/dev/null || echo ro; "
			      "touch /dev/shm/x && echo tmpfs-rw",
			      out, sizeof(out));
	cr_assert(eq(int, code, 0), "%s", out);
	cr_assert(eq(str, out, "ro\ntmpfs-rw\n"));
}

Test(features, masked_and_readonly_paths)
{
	char out[4096];

	/* /proc/keys reads nothing (a /dev/null bind); /sys/firmware is an empty directory. */
	int code = run_script("f-mask",
			      "wc -c </proc/keys; ls -A /sys/firmware | wc -l; "
			      "(echo 1 >/proc/sys/kernel/domainname) 2>/dev/null || echo ro",
			      out, sizeof(out));
	cr_assert(eq(int, code, 0), "%s", out);
	cr_assert(eq(str, out, "0\n0\nro\n"));
}

Test(features, capabilities_and_no_new_privs)
{
	char out[4096];
	json_t *caps = json_pack("{s:[s], s:[s], s:[s]}", "bounding", "CAP_KILL", "effective",
				 "CAP_KILL", "permitted", "CAP_KILL");

	json_object_set_new(process(), "capabilities", caps);
	int code = run_script("f-caps",
			      "grep -E '^(CapEff|CapBnd|CapPrm|CapInh|CapAmb|NoNewPrivs)' "
			      "/proc/self/status",
			      out, sizeof(out));
	cr_assert(eq(int, code, 0), "%s", out);
	/* CAP_KILL is bit 5. */
	cr_assert(eq(str, out,
		     "CapInh:\t0000000000000000\nCapPrm:\t0000000000000020\n"
		     "CapEff:\t0000000000000020\nCapBnd:\t0000000000000020\n"
		     "CapAmb:\t0000000000000000\nNoNewPrivs:\t1\n"));
}

Test(features, seccomp_errno)
{
	char out[4096];
	json_t *sc = json_pack("{s:s, s:[s], s:[{s:[s, s], s:s, s:i}]}", "defaultAction",
			       "SCMP_ACT_ALLOW", "architectures", "SCMP_ARCH_X86_64", "syscalls",
			       "names", "mkdir", "mkdirat", "action", "SCMP_ACT_ERRNO", "errnoRet",
			       (int)EROFS);

	json_object_set_new(linux_(), "seccomp", sc);
	int code = run_script("f-seccomp", "mkdir /tmp/d 2>&1; echo rc=$?; touch /tmp/f && echo ok",
			      out, sizeof(out));
	cr_assert(eq(int, code, 0), "%s", out);
	cr_assert(strstr(out, "Read-only file system") != NULL, "mkdir fails with EROFS: %s", out);
	cr_assert(strstr(out, "rc=1\nok\n") != NULL, "other syscalls work: %s", out);
}

Test(features, rlimits)
{
	char out[4096];
	json_t *rl =
		json_pack("[{s:s, s:i, s:i}]", "type", "RLIMIT_NOFILE", "hard", 300, "soft", 200);

	json_object_set_new(process(), "rlimits", rl);
	int code = run_script("f-rlimit", "ulimit -n; ulimit -Hn", out, sizeof(out));
	cr_assert(eq(int, code, 0), "%s", out);
	cr_assert(eq(str, out, "200\n300\n"));
}

Test(features, pid1_and_hostname)
{
	char out[4096];

	int code = run_script("f-pid1", "echo $$; hostname", out, sizeof(out));
	cr_assert(eq(int, code, 0), "%s", out);
	cr_assert(eq(str, out, "1\nhusk-test\n"));
}

/* A bad spec: refused with the path named, and nothing created. */
static void expect_refused(const char *id, const char *path_in_msg)
{
	struct husk_container *c = NULL;
	struct husk_err err = {0};
	int children = box_count_children();

	cr_assert(lt(int, box_create(&b, id, &c, &err), 0), "a bad spec is refused");
	cr_assert(eq(int, err.kind, HUSK_ERR_INVALID), "%s", err.msg);
	cr_assert(strstr(err.msg, path_in_msg) != NULL, "'%s' names '%s'", err.msg, path_in_msg);
	cr_assert(eq(ptr, c, NULL));
	cr_assert(box_state_gone(&b, id), "no state file left");
	cr_assert(box_cgroup_gone(id), "no cgroup left");
	cr_assert(eq(int, box_count_children(), children), "no child left");
}

Test(features, bad_specs_leave_nothing)
{
	char path[4200];

	json_object_set_new(process(), "args", json_pack("[s, i]", "sh", 3));
	expect_refused("f-bad1", "process.args[1]");

	json_object_set_new(process(), "args", json_pack("[s]", "true"));
	json_object_del(b.cfg, "root");
	expect_refused("f-bad2", "root");

	/* Not JSON at all. */
	(void)snprintf(path, sizeof(path), "%s/config.json", b.bundle);
	testutil_write_file(path, "{\"ociVersion\": ");
	struct husk_create_opts o = {.id = "f-bad3", .bundle = b.bundle, .stdio = {-1, -1, -1}};
	struct husk_container *c = NULL;
	struct husk_err err = {0};
	cr_assert(lt(int, husk_container_create(b.rt, &o, &c, &err), 0));
	cr_assert(eq(int, err.kind, HUSK_ERR_INVALID), "%s", err.msg);
	cr_assert(strstr(err.msg, "config.json") != NULL, "%s", err.msg);
	cr_assert(box_state_gone(&b, "f-bad3"));
}
