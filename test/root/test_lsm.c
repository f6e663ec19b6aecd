/*
 * AppArmor and SELinux through the native engine, on the host's real modules: each test
 * runs where its module is enabled (and skips naming the one this host lacks), except the
 * last two, which pin runc 1.1.5's behaviour on a host that runs neither.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>
#include <sys/xattr.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "box.h"
#include "husk/container.h"
#include "husk/err.h"
#include "testutil.h"

TestSuite(lsm, .timeout = 120);

static bool apparmor_on(void)
{
	struct stat st;
	char *p = testutil_read_file("/sys/module/apparmor/parameters/enabled");
	bool on = p && p[0] == 'Y' && stat("/sys/kernel/security/apparmor", &st) == 0;

	free(p);
	return on;
}

static bool selinux_on(void)
{
	struct stat st;

	return stat("/sys/fs/selinux/enforce", &st) == 0;
}

static void need_apparmor(void)
{
	if (!apparmor_on())
		cr_skip_test("AppArmor is not enabled on this host "
			     "(/sys/module/apparmor/parameters/enabled is not Y)");
}

static void need_selinux(void)
{
	if (!selinux_on())
		cr_skip_test(
			"SELinux is not enabled on this host (no selinuxfs at /sys/fs/selinux)");
}

static void set_process(struct box *b, const char *key, const char *value)
{
	json_t *proc = json_object_get(b->cfg, "process");

	cr_assert(eq(int, json_object_set_new(proc, key, json_string(value)), 0));
}

/* Our own SELinux label (NUL trimmed): one we may give the container. */
static char *own_label(void)
{
	char *l = testutil_read_file("/proc/self/attr/current");

	cr_assert(l != NULL);
	l[strcspn(l, "\n")] = '\0';
	return l;
}

/* The container's first output line, with "(enforce)" and the like as the kernel says. */
static void expect_current(struct box *b, struct husk_container *c, const char *want)
{
	char out[512];
	struct husk_err err = {0};

	box_expect_line(b, want);
	json_t *p = box_exec_proc(b, "cat /proc/self/attr/current; echo");
	cr_assert(eq(int, box_exec(c, p, out, sizeof(out), &err), 0), "%s", err.msg);
	json_decref(p);
	out[strcspn(out, "\n")] = '\0';
	cr_assert(eq(str, out, (char *)want), "the exec's label");
}

Test(lsm, apparmor_unconfined_is_applied_to_the_init_and_execs)
{
	struct box b;

	need_apparmor();
	box_init(&b, "lsm-aa");
	set_process(&b, "apparmorProfile", "unconfined");
	struct husk_container *c =
		box_run(&b, "lsm-aa", "cat /proc/self/attr/current; echo; sleep 1000");
	expect_current(&b, c, "unconfined");
	box_kill_delete(c);
	box_done(&b);
}

Test(lsm, a_profile_that_is_not_loaded_fails_create_and_leaves_nothing)
{
	struct box b;
	struct husk_container *c = NULL;
	struct husk_err err = {0};

	need_apparmor();
	box_init(&b, "lsm-aa-missing");
	set_process(&b, "apparmorProfile", "husk-test-no-such-profile");
	box_set_args(&b, "true");
	cr_assert(lt(int, box_create(&b, "lsm-aa-missing", &c, &err), 0));
	cr_assert(strstr(err.msg, "unable to apply apparmor profile: apparmor failed to apply "
				  "profile: write /proc/self/attr/") != NULL,
		  "%s", err.msg);
	cr_assert(strstr(err.msg, "No such file or directory") != NULL, "%s", err.msg);
	cr_assert(box_state_gone(&b, "lsm-aa-missing"));
	cr_assert(box_cgroup_gone("lsm-aa-missing"));
	box_done(&b);
}

Test(lsm, selinux_label_is_applied_to_the_init_and_execs)
{
	struct box b;

	need_selinux();
	char *label = own_label();
	box_init(&b, "lsm-se");
	set_process(&b, "selinuxLabel", label);
	struct husk_container *c =
		box_run(&b, "lsm-se", "cat /proc/self/attr/current; echo; sleep 1000");
	expect_current(&b, c, label);
	box_kill_delete(c);
	box_done(&b);
	free(label);
}

Test(lsm, mount_label_is_the_context_of_the_containers_tmpfs)
{
	struct box b;
	char got[256];

	need_selinux();
	/* A label this host's policy has for tmpfs files: /dev/shm's. */
	ssize_t n = getxattr("/dev/shm", "security.selinux", got, sizeof(got) - 1);
	cr_assert(gt(sz, (size_t)(n > 0 ? n : 0), 0), "the label of /dev/shm");
	got[n] = '\0';
	char *label = strdup(got);
	box_init(&b, "lsm-ml");
	cr_assert(eq(int,
		     json_object_set_new(json_object_get(b.cfg, "linux"), "mountLabel",
					 json_string(label)),
		     0));
	struct husk_container *c = box_run(&b, "lsm-ml", "echo up; sleep 1000");
	box_expect_line(&b, "up");
	char path[64];
	(void)snprintf(path, sizeof(path), "/proc/%d/root/dev", (int)husk_container_init(c)->pid);
	n = getxattr(path, "security.selinux", got, sizeof(got) - 1);
	cr_assert(gt(sz, (size_t)(n > 0 ? n : 0), 0), "the label of the container's /dev");
	got[n] = '\0';
	cr_assert(eq(str, got, label));
	box_kill_delete(c);
	box_done(&b);
	free(label);
}

/* ---- a host with neither module: runc 1.1.5's outcomes ---- */

Test(lsm, without_apparmor_a_profile_fails_create_as_runc_and_leaves_nothing)
{
	struct box b;
	struct husk_container *c = NULL;
	struct husk_err err = {0};

	if (apparmor_on() || selinux_on())
		cr_skip_test("this host runs AppArmor or SELinux: the profile may apply");
	box_init(&b, "lsm-aa-off");
	set_process(&b, "apparmorProfile", "unconfined");
	box_set_args(&b, "true");
	cr_assert(lt(int, box_create(&b, "lsm-aa-off", &c, &err), 0));
	cr_assert(strstr(err.msg, "unable to apply apparmor profile: apparmor failed to apply "
				  "profile: write /proc/self/attr/exec: Invalid argument") != NULL,
		  "%s", err.msg);
	cr_assert(box_state_gone(&b, "lsm-aa-off"));
	cr_assert(box_cgroup_gone("lsm-aa-off"));
	cr_assert(eq(int, box_count_children(), 0));
	box_done(&b);
}

Test(lsm, without_selinux_a_label_is_refused_at_create_and_exec)
{
	struct box b;
	struct husk_container *c = NULL;
	struct husk_err err = {0};
	char out[256];
	static const char words[] =
		"selinux label is specified in config, but selinux is disabled or not supported";

	if (selinux_on())
		cr_skip_test("this host runs SELinux: the label may apply");
	box_init(&b, "lsm-se-off");
	set_process(&b, "selinuxLabel", "system_u:system_r:container_t:s0");
	box_set_args(&b, "true");
	cr_assert(lt(int, box_create(&b, "lsm-se-off", &c, &err), 0));
	cr_assert(strstr(err.msg, words) != NULL, "%s", err.msg);
	cr_assert(box_state_gone(&b, "lsm-se-off"));
	cr_assert(box_cgroup_gone("lsm-se-off"));

	json_object_del(json_object_get(b.cfg, "process"), "selinuxLabel");
	c = box_run(&b, "lsm-se-off", "echo up; sleep 1000");
	box_expect_line(&b, "up");
	json_t *p = box_exec_proc(&b, "echo ran");
	cr_assert(eq(int, json_object_set_new(p, "selinuxLabel", json_string("u:r:t:s0")), 0));
	cr_assert(lt(int, box_exec(c, p, out, sizeof(out), &err), 0));
	cr_assert(strstr(err.msg, words) != NULL, "%s", err.msg);
	json_decref(p);
	box_kill_delete(c);
	box_done(&b);
}
