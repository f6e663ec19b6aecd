/* Exec in a running native container: namespaces, process spec, seccomp, errors, many at once. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/wait.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "box.h"
#include "husk/container.h"
#include "husk/err.h"

TestSuite(exec, .timeout = 120);

static char *host_ns(pid_t pid, const char *ns)
{
	char path[64];
	char buf[128];

	(void)snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, ns);
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);
	cr_assert(n > 0);
	buf[n] = '\0';
	return strdup(buf);
}

Test(exec, sees_the_init_hostname_pid_namespace_and_mounts)
{
	struct box b;
	struct husk_err err = {0};
	char out[4096];
	char want[1024];

	box_init(&b, "ex-ns");
	struct husk_container *c = box_run(
		&b, "ex-ns", "echo written-by-init >/tmp/from-init; echo ready; sleep 1000");
	box_expect_line(&b, "ready");
	/* sh execs its last command: the init is sleep itself by now. */
	pid_t init = husk_container_init(c)->pid;
	json_t *p = box_exec_proc(&b, "hostname; tr '\\0' ' ' </proc/1/cmdline; echo; "
				      "cat /tmp/from-init; readlink /proc/self/ns/pid; "
				      "readlink /proc/self/ns/mnt; readlink /proc/self/ns/uts; "
				      "test $$ -ne 1 && echo not-pid-1");
	cr_assert(eq(int, box_exec(c, p, out, sizeof(out), &err), 0), "%s", err.msg);
	json_decref(p);
	char *pidns = host_ns(init, "pid");
	char *mntns = host_ns(init, "mnt");
	char *utsns = host_ns(init, "uts");
	(void)snprintf(want, sizeof(want),
		       "husk-test\nsleep 1000 \nwritten-by-init\n%s\n%s\n%s\nnot-pid-1\n", pidns,
		       mntns, utsns);
	cr_assert(eq(str, out, want));
	free(pidns);
	free(mntns);
	free(utsns);
	box_kill_delete(c);
	box_done(&b);
}

Test(exec, applies_user_groups_caps_no_new_privs_env_and_cwd)
{
	struct box b;
	struct husk_err err = {0};
	char out[4096];

	box_init(&b, "ex-user");
	struct husk_container *c = box_run(&b, "ex-user", "echo ready; sleep 1000");
	box_expect_line(&b, "ready");
	json_t *p = box_exec_proc(&b, "id -u; id -g; id -G; pwd; echo \"$FOO\"; "
				      "grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs)' "
				      "/proc/self/status");
	json_object_set_new(
		p, "user",
		json_pack("{s:i,s:i,s:[i,i]}", "uid", 1000, "gid", 1000, "additionalGids", 5, 7));
	json_object_set_new(p, "cwd", json_string("/tmp"));
	json_object_set_new(p, "env", json_pack("[ss]", "PATH=/bin", "FOO=bar baz"));
	json_object_set_new(p, "noNewPrivileges", json_false());
	json_object_set_new(p, "capabilities",
			    json_pack("{s:[ss],s:[s],s:[ss],s:[s],s:[s]}", "bounding", "CAP_KILL",
				      "CAP_CHOWN", "effective", "CAP_KILL", "permitted", "CAP_KILL",
				      "CAP_CHOWN", "inheritable", "CAP_KILL", "ambient",
				      "CAP_KILL"));
	cr_assert(eq(int, box_exec(c, p, out, sizeof(out), &err), 0), "%s", err.msg);
	json_decref(p);
	/* CAP_CHOWN = bit 0, CAP_KILL = bit 5. Ambient caps are raised into the effective set
	 * of a non-root exec, so CapEff holds kill (the spec's effective set anyway). */
	cr_assert(eq(str, out,
		     "1000\n1000\n1000 5 7\n/tmp\nbar baz\nCapInh:\t0000000000000020\n"
		     "CapPrm:\t0000000000000020\nCapEff:\t0000000000000020\n"
		     "CapBnd:\t0000000000000021\nCapAmb:\t0000000000000020\nNoNewPrivs:\t0\n"));

	/* The same container, another exec as root with no_new_privs and no capabilities. */
	p = box_exec_proc(&b, "id -u; grep -E '^(CapEff|NoNewPrivs)' /proc/self/status");
	json_object_set_new(p, "noNewPrivileges", json_true());
	json_object_del(p, "capabilities");
	cr_assert(eq(int, box_exec(c, p, out, sizeof(out), &err), 0), "%s", err.msg);
	json_decref(p);
	cr_assert(eq(str, out, "0\nCapEff:\t0000000000000000\nNoNewPrivs:\t1\n"));
	box_kill_delete(c);
	box_done(&b);
}

Test(exec, the_container_seccomp_profile_applies_to_execs)
{
	struct box b;
	struct husk_err err = {0};
	char out[4096];

	box_init(&b, "ex-seccomp");
	json_object_set_new(json_object_get(b.cfg, "linux"), "seccomp",
			    json_pack("{s:s,s:[s],s:[{s:[ss],s:s,s:i}]}", "defaultAction",
				      "SCMP_ACT_ALLOW", "architectures", "SCMP_ARCH_X86_64",
				      "syscalls", "names", "mkdir", "mkdirat", "action",
				      "SCMP_ACT_ERRNO", "errnoRet", ENOSPC));
	struct husk_container *c = box_run(&b, "ex-seccomp", "echo ready; sleep 1000");
	box_expect_line(&b, "ready");
	/* Both with and without no_new_privs (the filter is loaded at different points). */
	for (int nnp = 0; nnp < 2; nnp++) {
		json_t *p = box_exec_proc(&b, "mkdir /tmp/denied 2>&1; echo rc=$?; "
					      "test -d /tmp/denied || echo absent");
		json_object_set_new(p, "noNewPrivileges", json_boolean(nnp));
		cr_assert(eq(int, box_exec(c, p, out, sizeof(out), &err), 0), "%s", err.msg);
		json_decref(p);
		cr_assert(strstr(out, "No space left on device\nrc=1\nabsent\n") != NULL, "%s",
			  out);
	}
	box_kill_delete(c);
	box_done(&b);
}

Test(exec, a_missing_binary_is_an_exec_error)
{
	struct box b;
	struct husk_err err = {0};
	char out[256];

	box_init(&b, "ex-missing");
	struct husk_container *c = box_run(&b, "ex-missing", "echo ready; sleep 1000");
	box_expect_line(&b, "ready");
	int before = box_count_children();
	json_t *p = box_exec_proc(&b, "unused");
	json_object_set_new(p, "args", json_pack("[s]", "/no/such/binary"));
	cr_assert(eq(int, box_exec(c, p, out, sizeof(out), &err), -ENOENT));
	cr_assert(eq(int, err.errnum, ENOENT));
	cr_assert(eq(int, (int)err.kind, (int)HUSK_ERR_INTERNAL));
	cr_assert(strstr(err.msg, "exec: \"/no/such/binary\": stat /no/such/binary: no such file "
				  "or directory") != NULL,
		  "%s", err.msg);
	/* In PATH but not executable: not found, as Go's exec.LookPath in runc says. */
	json_object_set_new(p, "args", json_pack("[s]", "passwd"));
	json_object_set_new(p, "env", json_pack("[s]", "PATH=/etc"));
	cr_assert(eq(int, box_exec(c, p, out, sizeof(out), &err), -ENOENT), "%s", err.msg);
	cr_assert(eq(int, err.errnum, ENOENT));
	cr_assert(strstr(err.msg, "exec: \"passwd\": executable file not found in $PATH") != NULL,
		  "%s", err.msg);
	/* Named by path but not executable: permission denied. */
	json_object_set_new(p, "args", json_pack("[s]", "/etc/passwd"));
	cr_assert(eq(int, box_exec(c, p, out, sizeof(out), &err), -EACCES), "%s", err.msg);
	cr_assert(strstr(err.msg, "exec: \"/etc/passwd\": permission denied") != NULL, "%s",
		  err.msg);
	json_decref(p);
	cr_assert(eq(int, box_count_children(), before));
	box_kill_delete(c);
	box_done(&b);
}

Test(exec, only_stdio_fds_reach_the_exec)
{
	struct box b;
	struct husk_err err = {0};
	char out[256];

	box_init(&b, "ex-fds");
	struct husk_container *c = box_run(&b, "ex-fds", "echo ready; sleep 1000");
	box_expect_line(&b, "ready");
	json_t *p = box_exec_proc(&b, "unused");
	/* ls itself is the process: its fd 3 is the directory it reads. */
	json_object_set_new(p, "args", json_pack("[ss]", "ls", "/proc/self/fd"));
	cr_assert(eq(int, box_exec(c, p, out, sizeof(out), &err), 0), "%s", err.msg);
	json_decref(p);
	cr_assert(eq(str, out, "0\n1\n2\n3\n"));
	box_kill_delete(c);
	box_done(&b);
}

#define N_EXECS 50

Test(exec, many_concurrent_execs_are_reaped_with_their_statuses)
{
	struct box b;
	struct husk_err err = {0};
	pid_t pids[N_EXECS];
	int fds[N_EXECS];

	box_init(&b, "ex-many");
	struct husk_container *c = box_run(&b, "ex-many", "echo ready; sleep 1000");
	box_expect_line(&b, "ready");
	for (int i = 0; i < N_EXECS; i++) {
		char script[64];
		(void)snprintf(script, sizeof(script), "read x; echo $x-%d; exit %d", i, i + 1);
		json_t *p = box_exec_proc(&b, script);
		cr_assert(eq(int, box_exec_start(c, p, &pids[i], &fds[i], &err), 0), "%s", err.msg);
		json_decref(p);
	}
	/* All 20 are alive at once (each waits on its stdin, /dev/null here: EOF). */
	for (int i = 0; i < N_EXECS; i++) {
		char out[64];
		char want[64];
		int status = 0;
		box_read_all(fds[i], out, sizeof(out));
		(void)close(fds[i]);
		cr_assert(eq(int, (int)waitpid(pids[i], &status, 0), (int)pids[i]));
		cr_assert(eq(int, box_code(status), i + 1));
		(void)snprintf(want, sizeof(want), "-%d\n", i);
		cr_assert(eq(str, out, want));
	}
	box_kill_delete(c);
	box_done(&b);
}

Test(exec, exec_in_a_stopped_container_is_a_clear_error)
{
	struct box b;
	struct husk_err err = {0};
	char out[256];
	int status = 0;

	box_init(&b, "ex-stopped");
	struct husk_container *c = box_run(&b, "ex-stopped", "exit 0");
	pid_t pid = husk_container_init(c)->pid;
	cr_assert(eq(int, (int)waitpid(pid, &status, 0), (int)pid));
	/* The init is gone but nobody recorded it yet: the state re-read under the lock says
	 * so, and the error is the same as once it is recorded. */
	json_t *p = box_exec_proc(&b, "true");
	cr_assert(box_exec(c, p, out, sizeof(out), &err) < 0);
	cr_assert(eq(int, (int)err.kind, (int)HUSK_ERR_PRECONDITION), "%s", err.msg);
	cr_assert(eq(str, err.msg, "cannot exec in container in 'stopped' state"));
	cr_assert(eq(int, husk_container_set_exited(c, status, 0, &err), 0), "%s", err.msg);
	cr_assert(eq(int, box_exec(c, p, out, sizeof(out), &err), -EIO));
	cr_assert(eq(int, (int)err.kind, (int)HUSK_ERR_PRECONDITION));
	cr_assert(eq(str, err.msg, "cannot exec in container in 'stopped' state"));
	json_decref(p);
	cr_assert(eq(int, husk_container_delete(c, false, &err), 0), "%s", err.msg);
	husk_container_free(c);
	cr_assert(eq(int, box_count_children(), 0));
	box_done(&b);
}

/* Every line of a /proc/PID/cgroup text names the container's cgroup: "/husk/<id>" from the
 * host, "/" from inside (the box's spec has a cgroup namespace rooted there). */
static void expect_all_in(const char *text, const char *id)
{
	char want[128];
	if (id)
		(void)snprintf(want, sizeof(want), ":/husk/%s", id);
	else
		(void)snprintf(want, sizeof(want), ":/");
	int lines = 0;
	for (const char *l = text; *l; lines++) {
		const char *nl = strchr(l, '\n');
		size_t n = nl ? (size_t)(nl - l) : strlen(l);
		cr_assert(n >= strlen(want) &&
				  strncmp(l + n - strlen(want), want, strlen(want)) == 0,
			  "not in the container's cgroup: '%.*s'\n%s", (int)n, l, text);
		l += n + (nl ? 1 : 0);
	}
	cr_assert(gt(int, lines, 0));
}

/*
 * The init and each exec join the container's cgroup in every hierarchy (the unified one by
 * CLONE_INTO_CGROUP, v1 ones by moving themselves), and the exec's stage, which joined before
 * cloning the process, leaves nothing behind in it.
 */
Test(exec, init_and_exec_are_in_every_hierarchy_of_the_container_cgroup)
{
	struct box b;
	struct husk_err err = {0};
	char out[4096];
	char path[512];

	box_init(&b, "ex-cg");
	struct husk_container *c = box_run(&b, "ex-cg", "echo ready; sleep 1000");
	box_expect_line(&b, "ready");
	pid_t init = husk_container_init(c)->pid;
	(void)snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)init);
	FILE *f = fopen(path, "re");
	cr_assert(f != NULL);
	size_t n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = '\0';
	(void)fclose(f);
	expect_all_in(out, "ex-cg");

	json_t *p = box_exec_proc(&b, "cat /proc/self/cgroup");
	cr_assert(eq(int, box_exec(c, p, out, sizeof(out), &err), 0), "%s", err.msg);
	json_decref(p);
	expect_all_in(out, NULL);

	/* Only the init is left in it: neither the stage nor the exec lingers. */
	char dir[256];
	box_cgroup_dir("pids", "ex-cg", dir, sizeof(dir));
	(void)snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	f = fopen(path, "re");
	cr_assert(f != NULL);
	n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = '\0';
	(void)fclose(f);
	char want[32];
	(void)snprintf(want, sizeof(want), "%d\n", (int)init);
	cr_assert(eq(str, out, want));
	box_kill_delete(c);
	box_done(&b);
}
