/*
 * The LSM seam (native/lsm.c) against a temp dir standing in for /sys and /proc: what it
 * detects, and the exact bytes it writes to which attribute for AppArmor on and off,
 * SELinux on and off and empty labels. An open for writing that writes nothing (an empty
 * SELinux label resets the attribute) is seen through inotify's IN_CLOSE_WRITE.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/inotify.h>
#include <sys/stat.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "husk/cleanup.h"
#include "husk/err.h"
#include "native/lsm.h"
#include "testutil.h"

static char *dir;
static char *sys;
static char *proc;
static int proc_fd = -1;

static const struct husk_lsm none = {0};
static const struct husk_lsm apparmor = {.apparmor = true};
static const struct husk_lsm selinux = {.selinux = true};

static char *at(const char *root, const char *rel)
{
	char *p = NULL;

	cr_assert(asprintf(&p, "%s/%s", root, rel) > 0);
	return p;
}

/* mkdir -p root/rel's parent, then rel: a file with content, or a directory for NULL. */
static void make(const char *root, const char *rel, const char *content)
{
	char *p = at(root, rel);

	for (char *s = strchr(p + strlen(root) + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		cr_assert(mkdir(p, 0755) == 0 || errno == EEXIST, "mkdir %s: %s", p,
			  strerror(errno));
		*s = '/';
	}
	if (content)
		testutil_write_file(p, content);
	else
		cr_assert(eq(int, mkdir(p, 0755), 0));
	free(p);
}

static char *slurp(const char *rel)
{
	char *p = at(proc, rel);
	char *s = testutil_read_file(p);

	cr_assert(s != NULL, "read %s", p);
	free(p);
	return s;
}

static void expect_file(const char *rel, const char *want)
{
	char *got = slurp(rel);

	cr_assert(eq(str, got, (char *)want), "/proc/%s", rel);
	free(got);
}

static void setup(void)
{
	dir = testutil_tmpdir("lsm");
	sys = at(dir, "sys");
	proc = at(dir, "proc");
	cr_assert(eq(int, mkdir(sys, 0755), 0));
	cr_assert(eq(int, mkdir(proc, 0755), 0));
	make(proc, "self/attr/exec", "");
	make(proc, "self/attr/keycreate", "");
	make(proc, "thread-self/attr/exec", "");
	make(proc, "thread-self/attr/current", "");
	proc_fd = open(proc, O_PATH | O_DIRECTORY | O_CLOEXEC);
	cr_assert(proc_fd >= 0);
}

static void teardown(void)
{
	proc_fd = husk_safe_close(proc_fd);
	free(sys);
	free(proc);
	testutil_rmtree_free(dir);
}

TestSuite(lsm, .init = setup, .fini = teardown, .timeout = 30);

/* ---- detection ---- */

static struct husk_lsm detect(void)
{
	struct husk_lsm l = {.apparmor = true, .selinux = true};

	husk__lsm_detect(sys, proc, &l);
	return l;
}

Test(lsm, apparmor_is_enabled_with_securityfs_and_the_module_parameter)
{
	make(sys, "kernel/security/apparmor", NULL);
	make(sys, "module/apparmor/parameters/enabled", "Y\n");
	struct husk_lsm l = detect();
	cr_assert(l.apparmor);
	cr_assert(not(l.selinux));
}

Test(lsm, apparmor_is_off_without_either_or_with_n)
{
	make(sys, "module/apparmor/parameters/enabled", "Y\n");
	cr_assert(not(detect().apparmor), "no securityfs entry");

	make(sys, "kernel/security/apparmor", NULL);
	char *p = at(sys, "module/apparmor/parameters/enabled");
	testutil_write_file(p, "N\n");
	cr_assert(not(detect().apparmor), "N");
	/* runc 1.1.5 wants more than one byte. */
	testutil_write_file(p, "Y");
	cr_assert(not(detect().apparmor), "a lone Y");
	cr_assert(eq(int, unlink(p), 0));
	cr_assert(not(detect().apparmor), "no module parameter");
	free(p);
}

Test(lsm, selinux_needs_a_real_selinuxfs)
{
	/* A directory that looks like selinuxfs is not one (go-selinux checks the magic). */
	make(sys, "fs/selinux/enforce", "1\n");
	make(sys, "fs/selinux/status", "");
	cr_assert(not(detect().selinux));
}

Test(lsm, this_hosts_detection_matches_its_files)
{
	struct husk_lsm l;
	struct stat st;
	char buf[8] = "";

	husk__lsm_detect("/sys", "/proc", &l);
	FILE *f = fopen("/sys/module/apparmor/parameters/enabled", "re");
	if (f) {
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = '\0';
		(void)fclose(f);
	}
	bool aa = stat("/sys/kernel/security/apparmor", &st) == 0 && buf[0] == 'Y';
	cr_assert(eq(int, l.apparmor, aa));
	if (stat("/sys/fs/selinux/enforce", &st) < 0)
		cr_assert(not(l.selinux), "no selinuxfs, no SELinux");
}

/* ---- the parent's check ---- */

Test(lsm, a_selinux_label_without_selinux_is_refused_with_runcs_words)
{
	struct husk_err err = {0};

	cr_assert(eq(int, husk__lsm_check_process(&none, "system_u:system_r:container_t:s0", &err),
		     -EIO));
	cr_assert(eq(int, err.kind, HUSK_ERR_INTERNAL), "the runc shim answers Unknown");
	cr_assert(eq(str, err.msg,
		     "selinux label is specified in config, but selinux is disabled or not "
		     "supported"));
	cr_assert(eq(int, husk__lsm_check_process(&apparmor, "x:y:z", NULL), -EIO));
	cr_assert(eq(int, husk__lsm_check_process(&none, "", &err), 0));
	cr_assert(eq(int, husk__lsm_check_process(&none, NULL, &err), 0));
	cr_assert(eq(int, husk__lsm_check_process(&selinux, "x:y:z", &err), 0));
}

/* ---- procfs ---- */

Test(lsm, proc_open_takes_a_procfs_only)
{
	struct husk_err err = {0};
	int fd = husk__lsm_proc_open("/proc", &err);

	cr_assert(fd >= 0, "%s", err.msg);
	cr_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	(void)close(fd);
	cr_assert(eq(int, husk__lsm_proc_open(proc, &err), -EXDEV));
	cr_assert(strstr(err.msg, "is not a procfs") != NULL, "%s", err.msg);
	cr_assert(eq(int, husk__lsm_proc_open("/no/such/dir", &err), -ENOENT));
}

/* ---- what is written where ---- */

/* Both labels of an execve, in the engine's order. */
static int set_exec(const struct husk_lsm *l, const char *profile, const char *label,
		    struct husk_err *err)
{
	int r = husk__lsm_apparmor_exec(proc_fd, profile, err);

	return r < 0 ? r : husk__lsm_selinux_exec(proc_fd, l, label, err);
}

/* IN_CLOSE_WRITE on proc/rel: whether it was opened for writing (and closed). */
static int watch(const char *rel)
{
	int in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	char *p = at(proc, rel);

	cr_assert(in >= 0);
	cr_assert(inotify_add_watch(in, p, IN_CLOSE_WRITE) >= 0, "watch %s", p);
	free(p);
	return in;
}

static bool written(int in)
{
	char buf[4096];
	ssize_t n = read(in, buf, sizeof(buf));

	(void)close(in);
	return n > 0;
}

Test(lsm, apparmor_profile_goes_to_the_modules_own_exec_attribute)
{
	struct husk_err err = {0};

	make(proc, "self/attr/apparmor/exec", "");
	int other = watch("self/attr/exec");
	int se = watch("thread-self/attr/exec");
	cr_assert(eq(int, set_exec(&apparmor, "cri-containerd.apparmor.d", "", &err), 0), "%s",
		  err.msg);
	expect_file("self/attr/apparmor/exec", "exec cri-containerd.apparmor.d");
	cr_assert(not(written(other)), "the shared attribute is left alone");
	cr_assert(not(written(se)), "no SELinux, empty label: nothing");
}

Test(lsm, apparmor_profile_falls_back_to_the_shared_exec_attribute)
{
	struct husk_err err = {0};

	cr_assert(eq(int, set_exec(&apparmor, "unconfined", NULL, &err), 0), "%s", err.msg);
	expect_file("self/attr/exec", "exec unconfined");
	expect_file("thread-self/attr/exec", "");
}

Test(lsm, apparmor_profile_is_written_even_where_apparmor_is_off)
{
	struct husk_err err = {0};

	/* runc 1.1.5 does not ask: the kernel refuses it where no module takes it. */
	cr_assert(eq(int, husk__lsm_apparmor_exec(proc_fd, "my-profile", &err), 0), "%s", err.msg);
	expect_file("self/attr/exec", "exec my-profile");
}

Test(lsm, empty_labels_write_nothing_without_selinux)
{
	struct husk_err err = {0};
	int aa = watch("self/attr/exec");
	int se = watch("thread-self/attr/exec");
	int key = watch("self/attr/keycreate");

	cr_assert(eq(int, set_exec(&apparmor, "", "", &err), 0));
	cr_assert(eq(int, set_exec(&none, NULL, NULL, &err), 0));
	cr_assert(eq(int, husk__lsm_set_keycreate(proc_fd, &apparmor, "", &err), 0));
	cr_assert(eq(int, husk__lsm_set_keycreate(proc_fd, &none, NULL, &err), 0));
	cr_assert(not(written(aa)));
	cr_assert(not(written(se)));
	cr_assert(not(written(key)));
}

Test(lsm, selinux_label_goes_to_the_threads_exec_attribute)
{
	struct husk_err err = {0};
	int shared = watch("self/attr/exec");

	cr_assert(eq(int, set_exec(&selinux, NULL, "system_u:system_r:container_t:s0:c1,c2", &err),
		     0),
		  "%s", err.msg);
	expect_file("thread-self/attr/exec", "system_u:system_r:container_t:s0:c1,c2");
	cr_assert(not(written(shared)));
}

Test(lsm, an_empty_selinux_label_resets_where_selinux_is_on)
{
	struct husk_err err = {0};
	int se = watch("thread-self/attr/exec");
	int key = watch("self/attr/keycreate");

	cr_assert(eq(int, set_exec(&selinux, NULL, "", &err), 0), "%s", err.msg);
	cr_assert(eq(int, husk__lsm_set_keycreate(proc_fd, &selinux, "", &err), 0), "%s", err.msg);
	cr_assert(written(se), "an empty write resets the exec label");
	cr_assert(written(key), "an empty write resets the key label");
	expect_file("thread-self/attr/exec", "");
}

Test(lsm, both_modules_each_get_their_own_bytes)
{
	struct husk_err err = {0};

	make(proc, "self/attr/apparmor/exec", "");
	cr_assert(eq(int, set_exec(&(struct husk_lsm){true, true}, "p", "u:r:t:s0", &err), 0), "%s",
		  err.msg);
	expect_file("self/attr/apparmor/exec", "exec p");
	expect_file("thread-self/attr/exec", "u:r:t:s0");
	expect_file("self/attr/exec", "");
}

Test(lsm, keycreate_gets_the_process_label)
{
	struct husk_err err = {0};

	cr_assert(
		eq(int, husk__lsm_set_keycreate(proc_fd, &selinux, "u:r:container_t:s0", &err), 0),
		"%s", err.msg);
	expect_file("self/attr/keycreate", "u:r:container_t:s0");
}

Test(lsm, keycreate_missing_or_refused_when_empty_is_fine)
{
	struct husk_err err = {0};
	char *p = at(proc, "self/attr/keycreate");

	cr_assert(eq(int, unlink(p), 0));
	cr_assert(eq(int, husk__lsm_set_keycreate(proc_fd, &selinux, "u:r:t:s0", &err), 0));
	cr_assert(eq(int, husk__lsm_set_keycreate(proc_fd, &selinux, "", &err), 0));
	/* Another failure is reported, naming /proc's path. */
	cr_assert(eq(int, mkdir(p, 0755), 0));
	cr_assert(eq(int, husk__lsm_set_keycreate(proc_fd, &selinux, "u:r:t:s0", &err), -EISDIR));
	cr_assert(eq(str, err.msg, "open /proc/self/attr/keycreate: Is a directory"));
	free(p);
}

Test(lsm, failures_carry_runcs_words_and_paths)
{
	struct husk_err err = {0};
	char *p = at(proc, "self/attr/exec");

	cr_assert(eq(int, unlink(p), 0));
	cr_assert(eq(int, mkdir(p, 0755), 0));
	cr_assert(eq(int, set_exec(&none, "x", NULL, &err), -EISDIR));
	cr_assert(
		eq(str, err.msg,
		   "apparmor failed to apply profile: open /proc/self/attr/exec: Is a directory"));
	free(p);
	p = at(proc, "thread-self/attr/exec");
	cr_assert(eq(int, unlink(p), 0));
	cr_assert(eq(int, set_exec(&selinux, NULL, "u:r:t:s0", &err), -ENOENT));
	cr_assert(eq(str, err.msg, "open /proc/thread-self/attr/exec: No such file or directory"));
	free(p);
}

Test(lsm, an_attribute_on_another_filesystem_is_not_written)
{
	struct husk_err err = {0};
	char *p = at(proc, "thread-self/attr/exec");

	/* What a mount over /proc/thread-self/attr would look like: another device. */
	cr_assert(eq(int, unlink(p), 0));
	cr_assert(eq(int, symlink("/dev/null", p), 0));
	cr_assert(eq(int, set_exec(&selinux, NULL, "u:r:t:s0", &err), -EXDEV));
	cr_assert(
		eq(str, err.msg,
		   "file /proc/thread-self/attr/exec is not on procfs: Invalid cross-device link"));
	free(p);
}

Test(lsm, an_overlong_profile_is_refused)
{
	struct husk_err err = {0};
	char *profile = malloc(5000);

	cr_assert(profile != NULL);
	memset(profile, 'a', 4999);
	profile[4999] = '\0';
	cr_assert(eq(int, set_exec(&apparmor, profile, NULL, &err), -EINVAL));
	cr_assert(eq(int, err.kind, HUSK_ERR_INVALID));
	expect_file("self/attr/exec", "");
	free(profile);
}

Test(lsm, a_file_label_needs_selinux_and_a_label)
{
	struct husk_err err = {0};

	/* Nothing is touched: not even the (invalid) fd. */
	cr_assert(eq(int, husk__lsm_file_label(-1, &apparmor, "u:r:t:s0", &err), 0));
	cr_assert(eq(int, husk__lsm_file_label(-1, &selinux, "", &err), 0));
	cr_assert(eq(int, husk__lsm_file_label(-1, &selinux, NULL, &err), 0));
	cr_assert(lt(int, husk__lsm_file_label(-1, &selinux, "u:r:t:s0", &err), 0));
	cr_assert(strstr(err.msg, "setxattr security.selinux") != NULL, "%s", err.msg);
}

Test(lsm, mount_data_appends_the_quoted_context)
{
	char *d = NULL;

	cr_assert(eq(int, husk__lsm_mount_data("mode=755", "u:r:t:s0:c1,c2", &d), 0));
	cr_assert(eq(str, d, "mode=755,context=\"u:r:t:s0:c1,c2\""));
	free(d);
	cr_assert(eq(int, husk__lsm_mount_data(NULL, "u:r:t:s0", &d), 0));
	cr_assert(eq(str, d, "context=\"u:r:t:s0\""));
	free(d);
	cr_assert(eq(int, husk__lsm_mount_data("", "", &d), 0));
	cr_assert(eq(ptr, d, NULL));
	cr_assert(eq(int, husk__lsm_mount_data("size=1m", NULL, &d), 0));
	cr_assert(eq(str, d, "size=1m"));
	free(d);
}
