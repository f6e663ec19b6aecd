/*
 * Behaviour users see, run through husk and through the reference (containerd-shim-runc-v2
 * with runc) in the same test on one private containerd: each case runs with both runtimes
 * and asserts what each must do, so a wrong expectation fails on the reference too.
 *
 * Specs start from what `runc spec` writes (the default config.json users start from),
 * with the busybox rootfs, no terminal and a cgroup under the test's namespace, and go
 * through `ctr run --config`.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <jansson.h>

#include "containerd.h"
#include "testutil.h"

#define REF_RUNTIME "io.containerd.runc.v2"

static struct e2e_cd *cd;

static void setup(void)
{
	cd = e2e_cd_start();
}

static void teardown(void)
{
	e2e_cd_stop(cd);
	cd = NULL;
}

TestSuite(compat, .init = setup, .fini = teardown);

/* The runtimes every case runs with: the one under test, then the reference. */
static const char *runtime(size_t i)
{
	return i == 0 ? cd->runtime : REF_RUNTIME;
}

#define N_RUNTIMES 2

/* A container id for case name and runtime i: "<name>-husk", "<name>-runc". */
static const char *case_id(const char *name, size_t i)
{
	char *s = e2e_asprintf("%s-%s", name, i == 0 ? "husk" : "runc");
	const char *id = e2e_id(cd, s);
	free(s);
	return id;
}

/* SIGKILL the task, wait for it to stop, remove task and container (asserted, runtime rt). */
static void kill_and_remove(const char *id, const char *rt)
{
	_cleanup_res_ struct e2e_res k = e2e_ctr(cd, NULL, "task", "kill", "-s", "KILL", id, NULL);
	cr_assert(eq(int, k.status, 0), "%s: %s", rt, k.err);
	cr_assert(e2e_wait_task_status(cd, id, "STOPPED", 30), "%s", rt);
	_cleanup_res_ struct e2e_res d = e2e_ctr(cd, NULL, "task", "rm", id, NULL);
	cr_assert(eq(int, d.status, 0), "%s: %s", rt, d.err);
	_cleanup_res_ struct e2e_res c = e2e_ctr(cd, NULL, "containers", "rm", id, NULL);
	cr_assert(eq(int, c.status, 0), "%s: %s", rt, c.err);
}

/* `runc spec`'s config.json with the rootfs, no terminal, and args (NULL-terminated). */
static json_t *base_spec(const char *arg0, ...)
{
	char *dir = e2e_asprintf("%s/runc-spec", cd->dir);
	char *path = e2e_asprintf("%s/config.json", dir);
	json_error_t jerr;

	if (access(path, R_OK) != 0) {
		cr_assert(eq(int, mkdir(dir, 0755), 0));
		char *argv[] = {"runc", "spec", "--bundle", dir, NULL};
		_cleanup_res_ struct e2e_res r = e2e_run(argv, NULL, NULL, testutil_timeout(30));
		cr_assert(eq(int, r.status, 0), "runc spec: %s", r.err);
	}
	json_t *spec = json_load_file(path, 0, &jerr);
	cr_assert(spec != NULL, "%s: %s", path, jerr.text);
	free(path);
	free(dir);

	json_t *args = json_array();
	va_list ap;
	va_start(ap, arg0);
	for (const char *a = arg0; a; a = va_arg(ap, const char *))
		cr_assert(eq(int, json_array_append_new(args, json_string(a)), 0));
	va_end(ap);
	json_t *process = json_object_get(spec, "process");
	cr_assert(process != NULL);
	cr_assert(eq(int, json_object_set_new(process, "args", args), 0));
	cr_assert(eq(int, json_object_set_new(process, "terminal", json_false()), 0));
	cr_assert(
		eq(int,
		   json_object_set_new(spec, "root",
				       json_pack("{s:s, s:b}", "path", cd->rootfs, "readonly", 0)),
		   0));
	return spec;
}

/* The spec's "process" object. */
static json_t *spec_process(json_t *spec)
{
	json_t *p = json_object_get(spec, "process");
	cr_assert(p != NULL);
	return p;
}

/* Run spec as container id with runtime rt in the foreground (ctr run --rm --config). */
static struct e2e_res run_spec(json_t *spec, const char *rt, const char *id)
{
	char *path = e2e_asprintf("%s/%s.json", cd->dir, id);
	char *cgroup = e2e_asprintf("/%s/%s", cd->ns, id);
	json_t *lnx = json_object_get(spec, "linux");

	cr_assert(lnx != NULL);
	cr_assert(eq(int, json_object_set_new(lnx, "cgroupsPath", json_string(cgroup)), 0));
	cr_assert(eq(int, json_dump_file(spec, path, JSON_INDENT(1)), 0));
	struct e2e_res r = e2e_ctr(cd, NULL, "run", "--rm", "--runtime", rt, "--fifo-dir",
				   cd->fifo_dir, "--config", path, id, NULL);
	free(cgroup);
	free(path);
	return r;
}

/* ---- capabilities ------------------------------------------------------------------------ */

/*
 * `runc spec` asks for ambient capabilities without an inheritable set: the kernel refuses to
 * raise them, and runc goes on without. The process runs with the other sets as asked.
 */
E2E_TEST(compat, ambient_not_inheritable_is_skipped)
{
	for (size_t i = 0; i < N_RUNTIMES; i++) {
		json_t *spec = base_spec("/bin/grep", "^Cap", "/proc/self/status", NULL);
		_cleanup_res_ struct e2e_res r = run_spec(spec, runtime(i), case_id("ambient", i));
		json_decref(spec);

		cr_assert(eq(int, r.status, 0), "%s: %s", runtime(i), r.err);
		/* AUDIT_WRITE (29), KILL (5), NET_BIND_SERVICE (10); nothing inheritable. */
		cr_assert(eq(str, r.out,
			     "CapInh:\t0000000000000000\n"
			     "CapPrm:\t0000000020000420\n"
			     "CapEff:\t0000000020000420\n"
			     "CapBnd:\t0000000020000420\n"
			     "CapAmb:\t0000000000000000\n"),
			  "%s", runtime(i));
	}
}

/* ---- process environment ----------------------------------------------------------------- */

/* Run `echo HOME=$HOME` as uid, with extra_env appended to the spec's env (NULL: none). */
static void expect_home(const char *name, unsigned uid, const char *extra_env, const char *want)
{
	for (size_t i = 0; i < N_RUNTIMES; i++) {
		json_t *spec = base_spec("/bin/sh", "-c", "echo \"HOME=${HOME-unset}\"", NULL);
		json_t *user = json_object_get(spec_process(spec), "user");
		cr_assert(eq(int, json_object_set_new(user, "uid", json_integer(uid)), 0));
		if (extra_env) {
			json_t *env = json_object_get(spec_process(spec), "env");
			cr_assert(eq(int, json_array_append_new(env, json_string(extra_env)), 0));
		}
		_cleanup_res_ struct e2e_res r = run_spec(spec, runtime(i), case_id(name, i));
		json_decref(spec);

		cr_assert(eq(int, r.status, 0), "%s: %s", runtime(i), r.err);
		cr_assert(eq(str, r.out, (char *)want), "%s", runtime(i));
	}
}

E2E_TEST(compat, home_from_passwd)
{
	expect_home("home-root", 0, NULL, "HOME=/root\n");
	expect_home("home-nobody", 1000, NULL, "HOME=/home/nobody\n");
}

E2E_TEST(compat, home_without_passwd_entry_is_root_dir)
{
	expect_home("home-none", 4242, NULL, "HOME=/\n");
}

E2E_TEST(compat, home_from_env_is_kept)
{
	expect_home("home-env", 0, "HOME=/from-env", "HOME=/from-env\n");
	/* An empty HOME counts as none. */
	expect_home("home-empty", 1000, "HOME=", "HOME=/home/nobody\n");
}

/* ---- process.cwd ------------------------------------------------------------------------- */

E2E_TEST(compat, missing_cwd_is_created)
{
	for (size_t i = 0; i < N_RUNTIMES; i++) {
		char *cwd = e2e_asprintf("/made/for/%s", i == 0 ? "husk" : "runc");
		json_t *spec = base_spec("/bin/sh", "-c", "pwd; stat -c '%a %u' .", NULL);
		cr_assert(eq(int, json_object_set_new(spec_process(spec), "cwd", json_string(cwd)),
			     0));
		/* Created before the root turns read-only, as the process's own user can't. */
		cr_assert(eq(
			int,
			json_object_set_new(json_object_get(spec, "root"), "readonly", json_true()),
			0));
		json_t *user = json_object_get(spec_process(spec), "user");
		cr_assert(eq(int, json_object_set_new(user, "uid", json_integer(1000)), 0));
		_cleanup_res_ struct e2e_res r = run_spec(spec, runtime(i), case_id("cwd", i));
		json_decref(spec);

		cr_assert(eq(int, r.status, 0), "%s: %s", runtime(i), r.err);
		char *want = e2e_asprintf("%s\n755 0\n", cwd);
		cr_assert(eq(str, r.out, want), "%s", runtime(i));
		free(want);
		free(cwd);
	}
}

/* A symlink in the image on the way to the cwd resolves inside the rootfs, never the host. */
E2E_TEST(compat, missing_cwd_through_symlink_stays_in_rootfs)
{
	/* The link's target exists both on the host and, under the same path, in the rootfs. */
	char *outside = e2e_asprintf("%s/escape", cd->dir);
	char *link = e2e_asprintf("%s/up", cd->rootfs);
	char *target = e2e_asprintf("../../../../../../..%s", outside);
	char *mkdir_argv[] = {"mkdir", "-p", outside, NULL};
	_cleanup_res_ struct e2e_res m = e2e_run(mkdir_argv, NULL, NULL, testutil_timeout(10));
	cr_assert(eq(int, m.status, 0));
	char *in_rootfs = e2e_asprintf("%s%s", cd->rootfs, outside);
	char *mkdir2_argv[] = {"mkdir", "-p", in_rootfs, NULL};
	_cleanup_res_ struct e2e_res m2 = e2e_run(mkdir2_argv, NULL, NULL, testutil_timeout(10));
	cr_assert(eq(int, m2.status, 0));
	free(in_rootfs);

	cr_assert(eq(int, symlink(target, link), 0));
	for (size_t i = 0; i < N_RUNTIMES; i++) {
		char *cwd = e2e_asprintf("/up/%s", i == 0 ? "husk" : "runc");
		json_t *spec = base_spec("/bin/pwd", NULL);
		cr_assert(eq(int, json_object_set_new(spec_process(spec), "cwd", json_string(cwd)),
			     0));
		_cleanup_res_ struct e2e_res r = run_spec(spec, runtime(i), case_id("cwdlink", i));
		json_decref(spec);

		cr_assert(eq(int, r.status, 0), "%s: %s", runtime(i), r.err);
		char *inside =
			e2e_asprintf("%s%s/%s", cd->rootfs, outside, i == 0 ? "husk" : "runc");
		struct stat st;
		cr_assert(eq(int, stat(inside, &st), 0), "%s: %s not made in the rootfs",
			  runtime(i), inside);
		free(inside);
		free(cwd);
	}
	for (size_t i = 0; i < N_RUNTIMES; i++) {
		char *host = e2e_asprintf("%s/%s", outside, i == 0 ? "husk" : "runc");
		struct stat st;
		cr_assert(stat(host, &st) != 0, "%s: %s was made on the host", runtime(i), host);
		free(host);
	}
	free(target);
	free(link);
	free(outside);
}

/* ---- linux ------------------------------------------------------------------------------- */

/* Namespaced sysctls are written before /proc/sys turns read-only, which it still is after. */
E2E_TEST(compat, sysctl_applied_and_proc_sys_read_only)
{
	for (size_t i = 0; i < N_RUNTIMES; i++) {
		json_t *spec = base_spec(
			"/bin/sh", "-c",
			"cat /proc/sys/kernel/shm_rmid_forced /proc/sys/fs/mqueue/msg_max "
			"/proc/sys/net/ipv4/ip_unprivileged_port_start; "
			"if echo 0 2>/dev/null >/proc/sys/kernel/shm_rmid_forced; "
			"then echo writable; else echo read-only; fi",
			NULL);
		json_t *sysctl = json_pack("{s:s, s:s, s:s}", "kernel.shm_rmid_forced", "1",
					   "fs.mqueue.msg_max", "100",
					   "net.ipv4.ip_unprivileged_port_start", "80");
		cr_assert(eq(int,
			     json_object_set_new(json_object_get(spec, "linux"), "sysctl", sysctl),
			     0));
		_cleanup_res_ struct e2e_res r = run_spec(spec, runtime(i), case_id("sysctl", i));
		json_decref(spec);

		cr_assert(eq(int, r.status, 0), "%s: %s", runtime(i), r.err);
		cr_assert(eq(str, r.out, "1\n100\n80\nread-only\n"), "%s", runtime(i));
	}
}

/* ---- missing executables ----------------------------------------------------------------- */

/* runc's words for argv[0] (Go's exec.LookPath), and containerd's gRPC code Unknown. */
static void expect_lookup_error(const struct e2e_res *r, const char *rt, const char *arg0)
{
	char *want =
		strchr(arg0, '/')
			? e2e_asprintf("exec: \"%s\": stat %s: no such file or directory", arg0,
				       arg0)
			: e2e_asprintf("exec: \"%s\": executable file not found in $PATH", arg0);
	size_t len = strlen(r->err);

	cr_assert(r->status != 0, "%s: %s ran", rt, arg0);
	cr_assert(strstr(r->err, want) != NULL, "%s: '%s' not in: %s", rt, want, r->err);
	bool unknown = (len > 9 && strcmp(r->err + len - 9, ": unknown") == 0) ||
		       (len > 10 && strcmp(r->err + len - 10, ": unknown\n") == 0);
	cr_assert(unknown, "%s: not gRPC Unknown: %s", rt, r->err);
	free(want);
}

/* The task's Create fails (ctr run never gets to Start), so CRI reports a create error. */
E2E_TEST(compat, missing_executable_fails_create)
{
	const char *args[] = {"no-such-cmd", "/bin/no-such-cmd"};

	for (size_t i = 0; i < N_RUNTIMES; i++) {
		for (size_t a = 0; a < 2; a++) {
			const char *id = case_id(a == 0 ? "noexe" : "noexe-path", i);
			_cleanup_res_ struct e2e_res r =
				e2e_ctr(cd, NULL, "run", "--rm", "--runtime", runtime(i),
					"--fifo-dir", cd->fifo_dir, cd->image, id, args[a], NULL);
			expect_lookup_error(&r, runtime(i), args[a]);
			cr_assert(strstr(r.err, "failed to create shim task") != NULL,
				  "%s: not a create error: %s", runtime(i), r.err);
		}
	}
}

E2E_TEST(compat, missing_executable_fails_exec)
{
	const char *args[] = {"no-such-cmd", "/bin/no-such-cmd"};

	for (size_t i = 0; i < N_RUNTIMES; i++) {
		const char *id = case_id("noexe-exec", i);
		_cleanup_res_ struct e2e_res r =
			e2e_ctr(cd, NULL, "run", "-d", "--runtime", runtime(i), "--fifo-dir",
				cd->fifo_dir, cd->image, id, "sleep", "1000", NULL);
		cr_assert(eq(int, r.status, 0), "%s: %s", runtime(i), r.err);
		for (size_t a = 0; a < 2; a++) {
			_cleanup_res_ struct e2e_res x =
				e2e_ctr(cd, NULL, E2E_EXEC(cd), "--exec-id",
					a == 0 ? "bare" : "path", id, args[a], NULL);
			expect_lookup_error(&x, runtime(i), args[a]);
		}
		/* The container runs on, and an exec that exists still works. */
		_cleanup_res_ struct e2e_res ok =
			e2e_ctr(cd, NULL, E2E_EXEC(cd), "--exec-id", "ok", id, "echo", "ok", NULL);
		cr_assert(eq(int, ok.status, 0), "%s: %s", runtime(i), ok.err);
		cr_assert(eq(str, ok.out, "ok\n"), "%s", runtime(i));
		kill_and_remove(id, runtime(i));
	}
}

/* ---- answers and logs -------------------------------------------------------------------- */

/* Lines of containerd's log (which holds the shims' logs) with level=error naming id. */
static size_t error_lines_about(const char *id)
{
	char *path = e2e_asprintf("%s/containerd.log", cd->dir);
	char *log = testutil_read_file(path);
	char *needle = e2e_asprintf("id=%s ", id);
	size_t n = 0;

	cr_assert(log != NULL, "%s", path);
	for (char *save = NULL, *line = strtok_r(log, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strstr(line, "level=error") && strstr(line, needle)) {
			cr_log_info("%s", line);
			n++;
		}
	}
	free(needle);
	free(log);
	free(path);
	return n;
}

/* containerd kills every task it stops or deletes: for an exited one that is NotFound (but
 * fine with all, as runc kill --all is), without an error line in its log. */
E2E_TEST(compat, kill_of_exited_task_is_quiet_not_found)
{
	for (size_t i = 0; i < N_RUNTIMES; i++) {
		const char *id = case_id("killexited", i);
		_cleanup_res_ struct e2e_res r =
			e2e_ctr(cd, NULL, "run", "-d", "--runtime", runtime(i), "--fifo-dir",
				cd->fifo_dir, cd->image, id, "true", NULL);
		cr_assert(eq(int, r.status, 0), "%s: %s", runtime(i), r.err);
		cr_assert(e2e_wait_task_status(cd, id, "STOPPED", 30), "%s", runtime(i));
		for (int all = 0; all < 2; all++) {
			_cleanup_res_ struct e2e_res k =
				all ? e2e_ctr(cd, NULL, "task", "kill", "--all", id, NULL)
				    : e2e_ctr(cd, NULL, "task", "kill", id, NULL);
			if (all) {
				/* runc kill --all of a stopped container signals nothing, fine. */
				cr_assert(eq(int, k.status, 0), "%s: %s", runtime(i), k.err);
				continue;
			}
			cr_assert(eq(int, k.status, 1), "%s", runtime(i));
			cr_assert(eq(str, k.err, "ctr: process already finished: not found\n"),
				  "%s", runtime(i));
		}
		_cleanup_res_ struct e2e_res d = e2e_ctr(cd, NULL, "task", "rm", id, NULL);
		cr_assert(eq(int, d.status, 0), "%s: %s", runtime(i), d.err);
		_cleanup_res_ struct e2e_res c = e2e_ctr(cd, NULL, "containers", "rm", id, NULL);
		cr_assert(eq(int, c.status, 0), "%s: %s", runtime(i), c.err);
		cr_assert(eq(sz, error_lines_about(id), (size_t)0),
			  "%s: error lines in containerd's log", runtime(i));
	}
}

/* Without PATH in process.env runc searches nowhere: a bare name is not found. */
E2E_TEST(compat, bare_executable_without_path_env_is_not_found)
{
	for (size_t i = 0; i < N_RUNTIMES; i++) {
		json_t *spec = base_spec("sh", "-c", "echo ran", NULL);
		cr_assert(eq(int,
			     json_object_set_new(spec_process(spec), "env",
						 json_pack("[s]", "TERM=xterm")),
			     0));
		_cleanup_res_ struct e2e_res r = run_spec(spec, runtime(i), case_id("nopath", i));
		json_decref(spec);

		expect_lookup_error(&r, runtime(i), "sh");
		cr_assert(strstr(r.err, "failed to create shim task") != NULL,
			  "%s: not a create error: %s", runtime(i), r.err);
	}
}

/* An exec gets HOME from /etc/passwd too, for its own user. */
E2E_TEST(compat, home_for_exec_user)
{
	for (size_t i = 0; i < N_RUNTIMES; i++) {
		const char *id = case_id("home-exec", i);
		_cleanup_res_ struct e2e_res r =
			e2e_ctr(cd, NULL, "run", "-d", "--runtime", runtime(i), "--fifo-dir",
				cd->fifo_dir, cd->image, id, "sleep", "1000", NULL);
		cr_assert(eq(int, r.status, 0), "%s: %s", runtime(i), r.err);
		_cleanup_res_ struct e2e_res x =
			e2e_ctr(cd, NULL, E2E_EXEC(cd), "--exec-id", "h", "--user", "1000", id,
				"sh", "-c", "echo \"HOME=${HOME-unset}\"", NULL);
		cr_assert(eq(int, x.status, 0), "%s: %s", runtime(i), x.err);
		cr_assert(eq(str, x.out, "HOME=/home/nobody\n"), "%s", runtime(i));
		kill_and_remove(id, runtime(i));
	}
}

/* The line of the host's /proc/keys for keyring name, or NULL (malloc'ed). */
static char *host_keyring(const char *name)
{
	char *keys = testutil_read_file("/proc/keys");
	char needle[128];
	char *line = NULL;

	cr_assert(keys != NULL);
	(void)snprintf(needle, sizeof(needle), " %s: ", name);
	char *hit = strstr(keys, needle);
	if (hit) {
		char *start = hit;
		while (start > keys && start[-1] != '\n')
			start--;
		line = strndup(start, strcspn(start, "\n"));
	}
	free(keys);
	return line;
}

/* Every container has a session keyring of its own, "_ses.<id>", with the same permissions
 * under both runtimes (runc's shim; NoNewKeyring is not set). */
E2E_TEST(compat, session_keyring_of_its_own)
{
	for (size_t i = 0; i < N_RUNTIMES; i++) {
		const char *id = case_id("keyring", i);
		char *name = e2e_asprintf("_ses.%s", id);
		_cleanup_res_ struct e2e_res r =
			e2e_ctr(cd, NULL, "run", "-d", "--null-io", "--runtime", runtime(i),
				cd->image, id, "sleep", "1000", NULL);
		cr_assert(eq(int, r.status, 0), "%s: %s", runtime(i), r.err);
		cr_assert(e2e_wait_task_status(cd, id, "RUNNING", 30), "%s", runtime(i));
		char *line = host_keyring(name);
		cr_assert(line != NULL, "%s: no keyring %s in /proc/keys", runtime(i), name);
		cr_assert(strstr(line, " perm 3f1b0000 ") != NULL, "%s: %s", runtime(i), line);
		free(line);
		kill_and_remove(id, runtime(i));
		free(name);
	}
}
