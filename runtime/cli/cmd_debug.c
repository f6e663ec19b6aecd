/* `debug [ID]`: everything known about the root, or one container, for a human. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "husk/cleanup.h"
#include "husk/process.h"

static const char *proc_verdict(pid_t pid, uint64_t start_time, char *buf, size_t size)
{
	uint64_t now = 0;
	if (husk_proc_start_time(pid, &now, NULL) < 0)
		return "gone";
	if (start_time != 0 && now != start_time) {
		(void)snprintf(buf, size, "recycled (now start time %llu)",
			       (unsigned long long)now);
		return buf;
	}
	return "alive";
}

static const char *lock_verdict(struct husk_state_root *root, const struct husk_full_id *id)
{
	int r = husk_state_lock_probe(root, id);
	if (r == 1)
		return "held by a writer";
	if (r == 0)
		return "free";
	if (r == -ENOENT)
		return "missing";
	return strerror(-r);
}

/* The pids as the runtime lists them for the shim, unless a writer holds the lock (debug
 * never waits behind a transition). */
static void debug_pids(struct husk_runtime *rt, struct husk_state_root *root,
		       const struct husk_state *s)
{
	struct husk_container *c = NULL;
	struct husk_err err = {0};
	pid_t *pids = NULL;
	size_t n = 0;

	if (s->stale) {
		(void)printf("  pids:        none (earlier boot)\n");
		return;
	}
	if (husk_state_lock_probe(root, &s->id) == 1) {
		(void)printf("  pids:        not read (a writer holds the lock)\n");
		return;
	}
	if (husk_container_load(rt, s->id.container, &c, &err) < 0 ||
	    husk_container_pids(c, &pids, &n, &err) < 0) {
		(void)printf("  pids:        error: %s\n", err.msg);
		husk_container_free(c);
		return;
	}
	husk_container_free(c);
	(void)printf("  pids:        ");
	for (size_t i = 0; i < n; i++)
		(void)printf("%s%d", i ? " " : "", (int)pids[i]);
	(void)printf("%s\n", n ? "" : "none");
	free(pids);
}

static void debug_state(struct husk_runtime *rt, struct husk_state_root *root,
			const struct husk_state *s)
{
	char t[64];
	char buf[96];
	(void)printf("container %s\n", s->id.container);
	(void)printf("  sandbox:     %s\n", s->id.sandbox);
	(void)printf("  file:        %s/%s_sandbox:%s.state\n", husk_state_root_path(root),
		     s->id.container, s->id.sandbox);
	(void)printf("  lock:        %s\n", lock_verdict(root, &s->id));
	(void)printf("  status:      %s\n", husk_status_to_string(s->status));
	(void)printf("  bundle:      %s\n", s->bundle);
	(void)printf("  engine:      %s\n", s->engine);
	cli_format_time(s->created_ns, t, sizeof(t));
	(void)printf("  created:     %s\n", t);
	(void)printf("  owner:       %u\n", (unsigned)s->owner);
	if (s->stale)
		(void)printf("  boot:        %s, an earlier boot: stale, its processes and cgroup "
			     "are gone\n",
			     s->boot_id);
	else
		(void)printf("  boot:        %s\n", s->boot_id[0] ? s->boot_id : "not recorded");
	if (s->init_pid > 0)
		(void)printf("  init:        pid %d, start time %llu: %s\n", (int)s->init_pid,
			     (unsigned long long)s->init_start_time,
			     proc_verdict(s->init_pid, s->init_start_time, buf, sizeof(buf)));
	else
		(void)printf("  init:        none\n");
	if (s->gofer_pid > 0)
		(void)printf("  gofer:       pid %d, start time %llu: %s\n", (int)s->gofer_pid,
			     (unsigned long long)s->gofer_start_time,
			     proc_verdict(s->gofer_pid, s->gofer_start_time, buf, sizeof(buf)));
	else
		(void)printf("  gofer:       none\n");
	if (s->exited) {
		cli_format_time(s->exited_ns, t, sizeof(t));
		(void)printf("  exit:        status %d at %s\n", s->exit_status, t);
	} else {
		(void)printf("  exit:        not recorded\n");
	}
	(void)printf("  cgroup:      %s\n", s->cgroup_path ? s->cgroup_path : "none");
	debug_pids(rt, root, s);
	(void)printf("  engine data: %s\n", s->engine_data ? s->engine_data : "none");
}

/* Lock files without a state file, and temp files of interrupted saves. */
static void debug_leftovers(const char *path, const char *only)
{
	_cleanup_closedir_ DIR *d = opendir(path);
	if (!d)
		return;
	struct dirent *de;
	size_t olen = only ? strlen(only) : 0;
	while ((de = readdir(d))) {
		const char *n = de->d_name;
		if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
			continue;
		if (only && strncmp(n + (n[0] == '.'), only, olen) != 0)
			continue;
		size_t len = strlen(n);
		if (n[0] == '.' && strstr(n, ".tmp-")) {
			(void)printf("leftover %s: temp file of an interrupted save\n", n);
		} else if (len > 5 && strcmp(n + len - 5, ".lock") == 0) {
			/* <path>/<name less ".lock">.state */
			char state[512];
			size_t plen = strlen(path);
			size_t base = len - 5;
			if (plen + 1 + base + sizeof(".state") > sizeof(state))
				continue;
			memcpy(state, path, plen);
			state[plen] = '/';
			memcpy(state + plen + 1, n, base);
			memcpy(state + plen + 1 + base, ".state", sizeof(".state"));
			if (access(state, F_OK) < 0)
				(void)printf("leftover %s: lock file without a state file\n", n);
		}
	}
}

int cli_cmd_debug(struct cli *cli, int argc, char **argv)
{
	if (argc > 2)
		return cli_usage("debug", "too many arguments");
	const char *id = argc == 2 ? argv[1] : NULL;
	if (id && !husk_id_valid(id))
		return cli_usage("debug", "invalid container id '%s'", id);

	struct husk_err err = {0};
	struct husk_state_root *root = NULL;
	(void)printf("root: %s\n", cli->root_path);
	if (cli_open_root(cli, &root, &err) < 0) {
		(void)printf("root error: %s\n", err.msg);
		return err.kind == HUSK_ERR_NOT_FOUND && !id ? CLI_EXIT_OK
							     : cli_fail("debug", &err);
	}
	struct husk_state_list l = {0};
	struct husk_runtime *rt = NULL;
	int r = husk_state_list(root, NULL, &l, &err);
	if (r >= 0)
		r = cli_open_runtime(cli, /* create= */ false, &rt, &err);
	if (r < 0) {
		husk_state_list_done(&l);
		husk_state_root_free(root);
		return cli_fail("debug", &err);
	}
	int shown = 0;
	for (size_t i = 0; i < l.n_states; i++) {
		if (id && strncmp(l.states[i].id.container, id, strlen(id)) != 0)
			continue;
		debug_state(rt, root, &l.states[i]);
		shown++;
	}
	size_t failed = 0;
	for (size_t i = 0; i < l.n_problems; i++) {
		if (id && strncmp(l.problems[i].file, id, strlen(id)) != 0)
			continue;
		(void)printf("failed to load %s: %s\n", l.problems[i].file, l.problems[i].error);
		failed++;
	}
	debug_leftovers(husk_state_root_path(root), id);
	(void)printf("summary: %d container(s), %zu file(s) failed to load\n", shown, failed);
	husk_state_list_done(&l);
	husk_runtime_free(rt);
	husk_state_root_free(root);
	if (id && shown == 0 && failed == 0) {
		err = (struct husk_err){0};
		(void)husk_err_set(&err, HUSK_ERR_NOT_FOUND, 0, "container '%s' not found", id);
		return cli_fail("debug", &err);
	}
	return CLI_EXIT_OK;
}
