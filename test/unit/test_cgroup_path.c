/* cgroupsPath translation (cgroupfs and systemd forms) and the caller's own cgroup. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "cgroup.h"
#include "husk/err.h"

static char *resolve_ok(const char *in, bool systemd, const char *id, const char *own)
{
	struct husk_err err = {0};
	char *out = NULL;
	int r = husk__cgroup_path_resolve(in, systemd, id, own, &out, &err);
	cr_assert(eq(int, r, 0), "'%s': %s", in ? in : "(null)", err.msg);
	cr_assert(out != NULL);
	return out;
}

static void expect(const char *in, bool systemd, const char *own, const char *want)
{
	char *out = resolve_ok(in, systemd, "ctr1", own);
	cr_expect(eq(str, out, (char *)want), "'%s' gave '%s'", in ? in : "(null)", out);
	free(out);
}

static void expect_invalid(const char *in, bool systemd, const char *needle)
{
	struct husk_err err = {0};
	char *out = (char *)0x1;
	int r = husk__cgroup_path_resolve(in, systemd, "ctr1", "/own", &out, &err);
	cr_expect(eq(int, r, -EINVAL), "'%s' accepted", in);
	cr_expect(eq(int, err.kind, HUSK_ERR_INVALID));
	cr_expect(out == (char *)0x1, "output touched on failure");
	cr_expect(strstr(err.msg, needle) != NULL, "'%s': message '%s' lacks '%s'", in, err.msg,
		  needle);
}

Test(cgroup_path, cgroupfs_absolute)
{
	expect("/a", false, "/own", "/a");
	expect("/a/b/c", false, "/own", "/a/b/c");
	expect("/kubepods/burstable/pod1/abc", false, NULL, "/kubepods/burstable/pod1/abc");
}

Test(cgroup_path, cgroupfs_relative_is_under_own_cgroup)
{
	expect("a/b", false, "/own/x", "/own/x/a/b");
	expect("a", false, "/", "/a");
	expect("c", false, "/process_api/abc", "/process_api/abc/c");
}

Test(cgroup_path, cgroupfs_malformed)
{
	const char *form = "expected cgroupfs path";
	expect_invalid("", false, form);
	expect_invalid("/", false, "root cgroup");
	expect_invalid("/a//b", false, "empty component");
	expect_invalid("//a", false, "empty component");
	expect_invalid("/a/b/", false, "trailing '/'");
	expect_invalid("/a/../b", false, "'.' and '..'");
	expect_invalid("/a/./b", false, "'.' and '..'");
	expect_invalid("..", false, "'.' and '..'");
	expect_invalid("/..", false, "'.' and '..'");
	expect_invalid("a/..", false, "'.' and '..'");

	char longc[300];
	memset(longc, 'x', sizeof(longc));
	longc[0] = '/';
	longc[sizeof(longc) - 1] = '\0';
	expect_invalid(longc, false, "longer than");
}

Test(cgroup_path, cgroupfs_relative_without_own_cgroup)
{
	struct husk_err err = {0};
	char *out = NULL;
	int r = husk__cgroup_path_resolve("a/b", false, "c", NULL, &out, &err);
	cr_assert(eq(int, r, -EINVAL));
	cr_assert(strstr(err.msg, "relative") != NULL, "%s", err.msg);
}

Test(cgroup_path, systemd_scope)
{
	expect("system.slice:docker:abc", true, NULL, "/system.slice/docker-abc.scope");
	expect("user.slice:cri-containerd:0123", true, NULL,
	       "/user.slice/cri-containerd-0123.scope");
	/* An empty slice defaults to system.slice; an empty prefix names the unit alone. */
	expect(":docker:abc", true, NULL, "/system.slice/docker-abc.scope");
	expect("system.slice::abc", true, NULL, "/system.slice/abc.scope");
}

Test(cgroup_path, systemd_nested_slices)
{
	expect("a-b.slice:p:n", true, NULL, "/a.slice/a-b.slice/p-n.scope");
	expect("kubepods-burstable-pod12.slice:cri-containerd:c1", true, NULL,
	       "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod12.slice/"
	       "cri-containerd-c1.scope");
	expect("-.slice:p:n", true, NULL, "/p-n.scope");
}

Test(cgroup_path, systemd_slice_as_unit)
{
	expect("system.slice:ignored:my.slice", true, NULL, "/system.slice/my.slice");
}

Test(cgroup_path, systemd_malformed)
{
	const char *form = "expected systemd path 'slice:prefix:name'";
	expect_invalid("abc", true, form);
	expect_invalid("a:b", true, form);
	expect_invalid("a.slice:b:c:d", true, form);
	expect_invalid("/system.slice/x", true, form);
	expect_invalid("system.slice:docker:", true, "empty unit name");
	expect_invalid("system:docker:abc", true, "not a valid slice name");
	expect_invalid(".slice:docker:abc", true, "not a valid slice name");
	expect_invalid("a/b.slice:docker:abc", true, "not a valid slice name");
	expect_invalid("a--b.slice:p:n", true, "empty component");
	expect_invalid("-a.slice:p:n", true, "empty component");
	expect_invalid("a-.slice:p:n", true, "empty component");
	expect_invalid("system.slice:do/cker:abc", true, "'/' in prefix or name");
	expect_invalid("system.slice:docker:a/bc", true, "'/' in prefix or name");
}

Test(cgroup_path, null_path_gets_default_from_id)
{
	char *out = resolve_ok(NULL, false, "abc", "/own");
	cr_expect(eq(str, out, "/husk/abc"));
	free(out);
	out = resolve_ok(NULL, true, "abc", NULL);
	cr_expect(eq(str, out, "/system.slice/husk-abc.scope"));
	free(out);

	struct husk_err err = {0};
	cr_expect(
		eq(int, husk__cgroup_path_resolve(NULL, false, "a/b", NULL, &out, &err), -EINVAL));
	cr_expect(eq(int, husk__cgroup_path_resolve(NULL, false, "", NULL, &out, &err), -EINVAL));
	cr_expect(eq(int, husk__cgroup_path_resolve(NULL, false, NULL, NULL, &out, &err), -EINVAL));
}

static char *own(const char *text, enum husk_cgroup_mode mode)
{
	struct husk_err err = {0};
	char *out = NULL;
	int r = husk__cgroup_own_path_parse(text, strlen(text), mode, &out, &err);
	cr_assert(eq(int, r, 0), "%s", err.msg);
	return out;
}

/* Captured on this project's hybrid machine. */
static const char hybrid_proc_cgroup[] = "9:name=systemd:/\n"
					 "8:pids:/\n"
					 "4:memory:/process_api/a31c72379c383a14747ddcfdef10833d\n"
					 "1:cpu:/\n"
					 "0::/user.slice/x\n";

Test(cgroup_path, own_cgroup_prefers_unified_then_systemd_then_first)
{
	char *p = own(hybrid_proc_cgroup, HUSK_CGROUP_MODE_HYBRID);
	cr_expect(eq(str, p, "/user.slice/x"));
	free(p);
	p = own(hybrid_proc_cgroup, HUSK_CGROUP_MODE_V1);
	cr_expect(eq(str, p, "/"));
	free(p);
	p = own("4:memory:/m\n3:cpu:/c\n", HUSK_CGROUP_MODE_V1);
	cr_expect(eq(str, p, "/m"));
	free(p);
	p = own("0::/pure/v2", HUSK_CGROUP_MODE_V2);
	cr_expect(eq(str, p, "/pure/v2"));
	free(p);
}

Test(cgroup_path, own_cgroup_garbage_is_invalid)
{
	struct husk_err err = {0};
	char *out = NULL;
	cr_expect(eq(int, husk__cgroup_own_path_parse("", 0, HUSK_CGROUP_MODE_V2, &out, &err),
		     -EINVAL));
	cr_expect(eq(int,
		     husk__cgroup_own_path_parse("garbage\n", 8, HUSK_CGROUP_MODE_V2, &out, &err),
		     -EINVAL));
	cr_expect(out == NULL);
}
