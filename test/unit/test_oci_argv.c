/* The oci engine's argv builder: every command, every flag, and the refusals. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "husk/err.h"
#include "oci/oci_argv.h"

#define JOIN_MAX 2048

static const struct husk_oci_global plain = {.binary = "/usr/sbin/runc"};
static const struct husk_oci_global full = {.binary = "/usr/sbin/runc",
					    .root = "/run/husk/runc",
					    .log = "/run/husk/w/log.json",
					    .log_json = true,
					    .systemd_cgroup = true};

/* The argv joined with single spaces, checked to be NULL-terminated at n. */
static void build(const struct husk_oci_global *g, const struct husk_oci_call *c, char *out)
{
	struct husk_oci_argv a = {0};
	struct husk_err err = {0};

	cr_assert(eq(int, husk__oci_argv_build(g, c, &a, &err), 0), "%s", err.msg);
	cr_assert(a.v[a.n] == NULL);
	out[0] = '\0';
	for (size_t i = 0; i < a.n; i++) {
		cr_assert(a.v[i] != NULL);
		if (i)
			strncat(out, " ", JOIN_MAX - strlen(out) - 1);
		strncat(out, a.v[i], JOIN_MAX - strlen(out) - 1);
	}
	husk__oci_argv_done(&a);
	cr_assert(a.v == NULL);
}

static void expect(const struct husk_oci_global *g, const struct husk_oci_call *c, const char *want)
{
	char got[JOIN_MAX];
	build(g, c, got);
	cr_assert(eq(str, got, (char *)want));
}

static void refuse(const struct husk_oci_global *g, const struct husk_oci_call *c, const char *msg)
{
	struct husk_oci_argv a = {0};
	struct husk_err err = {0};

	cr_assert(lt(int, husk__oci_argv_build(g, c, &a, &err), 0));
	cr_assert(eq(int, (int)err.kind, (int)HUSK_ERR_INVALID));
	cr_assert(eq(str, err.msg, (char *)msg));
	cr_assert(a.v == NULL);
}

Test(oci_argv, create_plain)
{
	expect(&plain, &(struct husk_oci_call){.cmd = HUSK_OCI_CREATE, .id = "c1", .bundle = "/b"},
	       "/usr/sbin/runc create --bundle /b c1");
}

Test(oci_argv, create_with_globals_pid_file_and_console)
{
	expect(&full,
	       &(struct husk_oci_call){.cmd = HUSK_OCI_CREATE,
				       .id = "c1",
				       .bundle = "/b",
				       .pid_file = "/w/init.pid",
				       .console_socket = "/tmp/x/console.sock"},
	       "/usr/sbin/runc --root /run/husk/runc --log /run/husk/w/log.json --log-format json "
	       "--systemd-cgroup create --bundle /b --pid-file /w/init.pid --console-socket "
	       "/tmp/x/console.sock c1");
}

Test(oci_argv, extra_global_flags_come_before_the_command)
{
	const char *const extra[] = {"--network=none", "--platform=ptrace", NULL};
	struct husk_oci_global g = {.binary = "runsc", .root = "/r", .extra = extra};

	expect(&g, &(struct husk_oci_call){.cmd = HUSK_OCI_START, .id = "c1"},
	       "runsc --root /r --network=none --platform=ptrace start c1");
}

Test(oci_argv, start_pause_resume_state)
{
	expect(&plain, &(struct husk_oci_call){.cmd = HUSK_OCI_START, .id = "c1"},
	       "/usr/sbin/runc start c1");
	expect(&plain, &(struct husk_oci_call){.cmd = HUSK_OCI_PAUSE, .id = "c1"},
	       "/usr/sbin/runc pause c1");
	expect(&plain, &(struct husk_oci_call){.cmd = HUSK_OCI_RESUME, .id = "c1"},
	       "/usr/sbin/runc resume c1");
	expect(&plain, &(struct husk_oci_call){.cmd = HUSK_OCI_STATE, .id = "c1"},
	       "/usr/sbin/runc state c1");
}

Test(oci_argv, exec_detached_with_pid_file)
{
	expect(&full,
	       &(struct husk_oci_call){.cmd = HUSK_OCI_EXEC,
				       .id = "c1",
				       .process = "/w/exec-e1.json",
				       .detach = true,
				       .pid_file = "/w/exec-e1.pid"},
	       "/usr/sbin/runc --root /run/husk/runc --log /run/husk/w/log.json --log-format json "
	       "--systemd-cgroup exec --process /w/exec-e1.json --detach --pid-file "
	       "/w/exec-e1.pid c1");
}

Test(oci_argv, exec_with_terminal)
{
	expect(&plain,
	       &(struct husk_oci_call){.cmd = HUSK_OCI_EXEC,
				       .id = "c1",
				       .process = "/p.json",
				       .detach = true,
				       .pid_file = "/p.pid",
				       .console_socket = "/s"},
	       "/usr/sbin/runc exec --process /p.json --detach --pid-file /p.pid "
	       "--console-socket /s c1");
}

Test(oci_argv, kill_one_and_all)
{
	expect(&plain, &(struct husk_oci_call){.cmd = HUSK_OCI_KILL, .id = "c1", .signal = SIGTERM},
	       "/usr/sbin/runc kill c1 15");
	expect(&plain,
	       &(struct husk_oci_call){
		       .cmd = HUSK_OCI_KILL, .id = "c1", .signal = SIGKILL, .all = true},
	       "/usr/sbin/runc kill --all c1 9");
}

Test(oci_argv, ps_events_delete_update)
{
	expect(&plain, &(struct husk_oci_call){.cmd = HUSK_OCI_PS, .id = "c1", .json = true},
	       "/usr/sbin/runc ps --format json c1");
	expect(&plain, &(struct husk_oci_call){.cmd = HUSK_OCI_EVENTS, .id = "c1", .stats = true},
	       "/usr/sbin/runc events --stats c1");
	expect(&plain, &(struct husk_oci_call){.cmd = HUSK_OCI_DELETE, .id = "c1", .force = true},
	       "/usr/sbin/runc delete --force c1");
	expect(&plain, &(struct husk_oci_call){.cmd = HUSK_OCI_DELETE, .id = "c1"},
	       "/usr/sbin/runc delete c1");
	expect(&plain,
	       &(struct husk_oci_call){.cmd = HUSK_OCI_UPDATE, .id = "c1", .resources = "-"},
	       "/usr/sbin/runc update --resources - c1");
}

Test(oci_argv, command_names)
{
	cr_assert(eq(str, (char *)husk__oci_cmd_to_string(HUSK_OCI_EVENTS), "events"));
	cr_assert(eq(str, (char *)husk__oci_cmd_to_string(HUSK_OCI_UPDATE), "update"));
	cr_assert(eq(str, (char *)husk__oci_cmd_to_string(HUSK_OCI_WAIT), "wait"));
	cr_assert(husk__oci_cmd_to_string(_HUSK_OCI_CMD_MAX) == NULL);
}

Test(oci_argv, missing_required_parts)
{
	refuse(&plain, &(struct husk_oci_call){.cmd = HUSK_OCI_CREATE, .id = "c1"},
	       "create: --bundle is required");
	refuse(&plain, &(struct husk_oci_call){.cmd = HUSK_OCI_EXEC, .id = "c1", .detach = true},
	       "exec: --process is required");
	refuse(&plain, &(struct husk_oci_call){.cmd = HUSK_OCI_KILL, .id = "c1"},
	       "kill: signal is required");
	refuse(&plain, &(struct husk_oci_call){.cmd = HUSK_OCI_UPDATE, .id = "c1"},
	       "update: --resources is required");
	refuse(&plain, &(struct husk_oci_call){.cmd = HUSK_OCI_START}, "container id is empty");
	refuse(&plain, &(struct husk_oci_call){.cmd = HUSK_OCI_START, .id = ""},
	       "container id is empty");
	refuse(&(struct husk_oci_global){0},
	       &(struct husk_oci_call){.cmd = HUSK_OCI_START, .id = "c"},
	       "oci runtime binary is empty");
}

Test(oci_argv, flags_a_command_does_not_take)
{
	refuse(&plain, &(struct husk_oci_call){.cmd = HUSK_OCI_START, .id = "c1", .force = true},
	       "start: --force is not a flag of start");
	refuse(&plain,
	       &(struct husk_oci_call){
		       .cmd = HUSK_OCI_EXEC, .id = "c1", .process = "/p", .bundle = "/b"},
	       "exec: --bundle is not a flag of exec");
	refuse(&plain,
	       &(struct husk_oci_call){.cmd = HUSK_OCI_DELETE, .id = "c1", .signal = SIGKILL},
	       "delete: signal is not a flag of delete");
	refuse(&plain,
	       &(struct husk_oci_call){
		       .cmd = HUSK_OCI_CREATE, .id = "c1", .bundle = "/b", .detach = true},
	       "create: --detach is not a flag of create");
}

Test(oci_argv, values_that_would_change_the_command_line)
{
	refuse(&plain, &(struct husk_oci_call){.cmd = HUSK_OCI_START, .id = "--all"},
	       "container id '--all' starts with '-'");
	refuse(&plain, &(struct husk_oci_call){.cmd = HUSK_OCI_CREATE, .id = "c", .bundle = ""},
	       "--bundle is empty");
	refuse(&(struct husk_oci_global){.binary = "runc", .root = ""},
	       &(struct husk_oci_call){.cmd = HUSK_OCI_START, .id = "c"}, "--root is empty");
	const char *const extra[] = {"", NULL};
	refuse(&(struct husk_oci_global){.binary = "runc", .extra = extra},
	       &(struct husk_oci_call){.cmd = HUSK_OCI_START, .id = "c"}, "empty global flag");
	refuse(&plain, &(struct husk_oci_call){.cmd = HUSK_OCI_KILL, .id = "c", .signal = -1},
	       "kill: invalid signal -1");
	refuse(&plain, &(struct husk_oci_call){.cmd = _HUSK_OCI_CMD_MAX, .id = "c"},
	       "unknown oci command 12");
}

/* runc Options NoPivotRoot and NoNewKeyring reach the binary's create, and no other call. */
Test(oci_argv, create_without_pivot_root_or_a_new_keyring)
{
	expect(&plain,
	       &(struct husk_oci_call){.cmd = HUSK_OCI_CREATE,
				       .id = "c1",
				       .bundle = "/b",
				       .no_pivot = true,
				       .no_new_keyring = true},
	       "/usr/sbin/runc create --bundle /b --no-pivot --no-new-keyring c1");
	refuse(&plain,
	       &(struct husk_oci_call){
		       .cmd = HUSK_OCI_EXEC, .id = "c1", .process = "/p", .no_new_keyring = true},
	       "exec: --no-new-keyring is not a flag of exec");
}
