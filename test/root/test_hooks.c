/* OCI hooks: where each kind runs, in which order, with which state on stdin; timeouts. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>
#include <sys/wait.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "box.h"
#include "husk/container.h"
#include "husk/err.h"
#include "testutil.h"

TestSuite(hooks, .timeout = 120);

static const char *const kinds[] = {"prestart",	      "createRuntime", "createContainer",
				    "startContainer", "poststart",     "poststop"};
static const char *const statuses[] = {"creating", "creating", "creating",
				       "created",  "running",  "stopped"};

/*
 * A hook that records its mount and pid namespaces, its stdin (the state) and a tick of a
 * shared counter (the order), in dir as seen from where it runs.
 */
static json_t *hook(const char *kind, const char *dir)
{
	char script[1024];
	(void)snprintf(script, sizeof(script),
		       "d=%s; readlink /proc/self/ns/mnt >$d/%s.mnt; "
		       "readlink /proc/self/ns/pid >$d/%s.pid; cat >$d/%s.json; "
		       "n=$(cat $d/order 2>/dev/null); echo \"${n}%s \" >$d/order",
		       dir, kind, kind, kind, kind);
	return json_pack("{s:s,s:[sss],s:i}", "path", "/bin/sh", "args", "sh", "-c", script,
			 "timeout", 10);
}

static char *read_trim(const char *dir, const char *kind, const char *ext)
{
	char path[2048];
	(void)snprintf(path, sizeof(path), "%s/%s%s%s", dir, kind, *ext ? "." : "", ext);
	char *s = testutil_read_file(path);
	cr_assert(s != NULL, "%s did not run (no %s)", kind, path);
	s[strcspn(s, "\n")] = '\0';
	return s;
}

static char *ns_of(pid_t pid, const char *ns)
{
	char path[64];
	char buf[128];
	(void)snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, ns);
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);
	cr_assert(n > 0);
	buf[n] = '\0';
	return strdup(buf);
}

Test(hooks, each_kind_runs_in_its_namespaces_in_order_with_the_state)
{
	struct box b;
	struct husk_err err = {0};
	struct husk_container *c = NULL;
	char host_dir[1200];
	char ctr_dir[1200];

	box_init(&b, "hk");
	(void)snprintf(host_dir, sizeof(host_dir), "%s/out", b.dir);
	cr_assert(eq(int, mkdir(host_dir, 0755), 0));
	/* startContainer runs after pivot_root: it writes into the container's /tmp. */
	(void)snprintf(ctr_dir, sizeof(ctr_dir), "%s/tmp", b.rootfs);
	json_t *hooks = json_object();
	for (size_t i = 0; i < 6; i++) {
		bool inside = strcmp(kinds[i], "startContainer") == 0;
		json_object_set_new(hooks, kinds[i],
				    json_pack("[o]", hook(kinds[i], inside ? "/tmp" : host_dir)));
	}
	json_object_set_new(b.cfg, "hooks", hooks);
	json_object_set_new(b.cfg, "annotations", json_pack("{s:s}", "org.example.k", "v"));
	box_set_args(&b, "echo ready; exec sleep 1000");
	cr_assert(eq(int, box_create(&b, "hk", &c, &err), 0), "%s", err.msg);
	pid_t init = husk_container_init(c)->pid;
	char *init_mnt = ns_of(init, "mnt");
	char *init_pid = ns_of(init, "pid");
	char *own_mnt = ns_of(getpid(), "mnt");
	char *own_pid = ns_of(getpid(), "pid");
	cr_assert(eq(int, husk_container_start(c, &err), 0), "%s", err.msg);
	box_expect_line(&b, "ready");
	box_kill_delete(c);

	for (size_t i = 0; i < 6; i++) {
		bool inside = strcmp(kinds[i], "startContainer") == 0 ||
			      strcmp(kinds[i], "createContainer") == 0;
		const char *dir = strcmp(kinds[i], "startContainer") == 0 ? ctr_dir : host_dir;
		char *mnt = read_trim(dir, kinds[i], "mnt");
		char *pidns = read_trim(dir, kinds[i], "pid");
		cr_assert(eq(str, mnt, inside ? init_mnt : own_mnt), "%s", kinds[i]);
		cr_assert(eq(str, pidns, inside ? init_pid : own_pid), "%s", kinds[i]);
		char path[2048];
		(void)snprintf(path, sizeof(path), "%s/%s.json", dir, kinds[i]);
		json_error_t je;
		json_t *state = json_load_file(path, 0, &je);
		cr_assert(state != NULL, "%s: %s", kinds[i], je.text);
		cr_assert(eq(str, (char *)json_string_value(json_object_get(state, "id")), "hk"));
		cr_assert(eq(str, (char *)json_string_value(json_object_get(state, "status")),
			     (char *)statuses[i]),
			  "%s", kinds[i]);
		cr_assert(
			eq(int, (int)json_integer_value(json_object_get(state, "pid")), (int)init),
			"%s", kinds[i]);
		cr_assert(eq(str, (char *)json_string_value(json_object_get(state, "bundle")),
			     b.bundle));
		cr_assert(eq(str,
			     (char *)json_string_value(json_object_get(
				     json_object_get(state, "annotations"), "org.example.k")),
			     "v"));
		json_decref(state);
		free(mnt);
		free(pidns);
	}
	/* The order of the runtime's side; createContainer between createRuntime and
	 * poststart, startContainer (counted in the container) after createContainer. */
	char *order = read_trim(host_dir, "order", "");
	cr_assert(eq(str, order, "prestart createRuntime createContainer poststart poststop "));
	free(order);
	free(init_mnt);
	free(init_pid);
	free(own_mnt);
	free(own_pid);
	box_done(&b);
}

static void expect_hook_failure(const char *kind, const char *script, int timeout,
				const char *msg_part)
{
	struct box b;
	struct husk_err err = {0};
	struct husk_container *c = NULL;

	box_init(&b, kind);
	json_object_set_new(b.cfg, "hooks",
			    json_pack("{s:[{s:s,s:[sss],s:i}]}", kind, "path", "/bin/sh", "args",
				      "sh", "-c", script, "timeout", timeout));
	box_set_args(&b, "echo started");
	bool at_start = strcmp(kind, "startContainer") == 0;
	int r = box_create(&b, kind, &c, &err);
	if (at_start) {
		cr_assert(eq(int, r, 0), "%s", err.msg);
		pid_t pid = husk_container_init(c)->pid;
		cr_assert(husk_container_start(c, &err) < 0);
		cr_assert(eq(int, (int)husk_container_status(c), (int)HUSK_STATUS_STOPPED));
		int status = 0;
		cr_assert(eq(int, (int)waitpid(pid, &status, 0), (int)pid));
		cr_assert(eq(int, husk_container_delete(c, false, &err), 0), "%s", err.msg);
		husk_container_free(c);
		/* The process never ran. */
		(void)close(b.out[1]);
		b.out[1] = -1;
		char out[64];
		box_read_all(b.out[0], out, sizeof(out));
		cr_assert(eq(str, out, ""));
	} else {
		cr_assert(r < 0);
	}
	cr_assert(strstr(err.msg, kind) != NULL, "%s", err.msg);
	cr_assert(strstr(err.msg, msg_part) != NULL, "%s", err.msg);
	cr_assert(eq(int, box_count_children(), 0));
	cr_assert(box_cgroup_gone(kind));
	cr_assert(box_state_root_empty(&b));
	box_done(&b);
}

Test(hooks, a_failing_create_container_hook_fails_the_create)
{
	expect_hook_failure("createContainer", "exit 4", 10, "exited with status 4");
}

Test(hooks, a_create_container_hook_past_its_timeout_is_killed)
{
	expect_hook_failure("createContainer", "exec sleep 100", 1, "timed out after 1s");
}

Test(hooks, a_failing_start_container_hook_fails_the_start)
{
	expect_hook_failure("startContainer", "exit 6", 10, "exited with status 6");
}

Test(hooks, a_prestart_hook_past_its_timeout_is_killed)
{
	expect_hook_failure("prestart", "exec sleep 100", 1, "timed out after 1s");
}
