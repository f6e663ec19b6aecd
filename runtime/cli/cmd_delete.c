/* `delete`: remove a container's state with no shim alive; --force kills it first. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "husk/cleanup.h"
#include "husk/log.h"
#include "husk/process.h"

/* How long --force waits for SIGKILLed processes to be gone. */
#define KILL_WAIT_MS 10000

/* At most this many processes are killed (and waited for) per container. */
#define MAX_VICTIMS 256

struct victims {
	int fds[MAX_VICTIMS];
	size_t n;
};

static void victims_done(struct victims *v)
{
	for (size_t i = 0; i < v->n; i++)
		v->fds[i] = husk_safe_close(v->fds[i]);
	v->n = 0;
}

static void add_victim(struct victims *v, pid_t pid, uint64_t start_time, const char *cgroup)
{
	if (pid <= 0 || v->n == ARRAY_SIZE(v->fds))
		return;
	struct husk_err e = {0};
	int fd = husk_pidfd_open_checked(pid, start_time, &e);
	if (fd < 0) {
		if (e.kind != HUSK_ERR_NOT_FOUND)
			husk_warn("pid %d: %s, continuing", (int)pid, e.msg);
		return;
	}
	/* A cgroup pid without a start time: make sure the pinned process is still ours. */
	if (cgroup && !cli_pid_in_cgroup(pid, cgroup)) {
		(void)husk_safe_close(fd);
		return;
	}
	v->fds[v->n++] = fd;
}

/* Wait up to KILL_WAIT_MS for the processes behind pidfds to exit; returns how many did not. */
static size_t wait_for_exits(const int *fds, size_t n)
{
	/* A pidfd turns readable when its process has exited (it need not be our child). */
	struct pollfd pfds[MAX_VICTIMS];
	for (size_t i = 0; i < n; i++)
		pfds[i] = (struct pollfd){.fd = fds[i], .events = POLLIN};
	struct timespec start;
	(void)clock_gettime(CLOCK_MONOTONIC, &start);
	for (size_t done = 0; done < n;) {
		struct timespec now;
		(void)clock_gettime(CLOCK_MONOTONIC, &now);
		long elapsed = (now.tv_sec - start.tv_sec) * 1000 +
			       (now.tv_nsec - start.tv_nsec) / 1000000;
		if (elapsed >= KILL_WAIT_MS)
			break;
		int r = poll(pfds, n, (int)(KILL_WAIT_MS - elapsed));
		if (r < 0 && errno != EINTR)
			break;
		done = 0;
		for (size_t i = 0; i < n; i++) {
			if (pfds[i].revents)
				pfds[i].fd = -1; /* poll ignores negative fds from now on */
			done += pfds[i].fd < 0;
		}
	}
	size_t left = 0;
	for (size_t i = 0; i < n; i++)
		left += pfds[i].fd >= 0;
	return left;
}

static int kill_everything(const struct husk_state *s, struct husk_err *err)
{
	struct victims v = {0};
	add_victim(&v, s->init_pid, s->init_start_time, NULL);
	add_victim(&v, s->gofer_pid, s->gofer_start_time, NULL);
	struct cli_procs p = {0};
	if (cli_container_procs(s, &p, err) < 0) {
		victims_done(&v);
		return husk_err_code(err);
	}
	for (size_t i = 0; i < p.n; i++)
		if (p.pids[i] != s->init_pid)
			add_victim(&v, p.pids[i], 0, p.source ? s->cgroup_path : NULL);
	cli_procs_done(&p);

	for (size_t i = 0; i < v.n; i++)
		(void)husk_pidfd_signal(v.fds[i], SIGKILL, NULL);
	size_t left = wait_for_exits(v.fds, v.n);
	victims_done(&v);
	if (left)
		return husk_err_set(err, HUSK_ERR_INTERNAL, 0,
				    "%zu process(es) of container '%s' still alive after SIGKILL",
				    left, s->id.container);
	return 0;
}

/* --force on a file too corrupt to load: remove it by name, if the id names exactly one. */
static int remove_corrupt(struct husk_state_root *root, const char *id, struct husk_err *err)
{
	struct husk_state_list l = {0};
	if (husk_state_list(root, NULL, &l, err) < 0)
		return husk_err_code(err);
	struct husk_full_id fid;
	int found = 0;
	for (size_t i = 0; i < l.n_problems; i++) {
		struct husk_full_id x;
		if (husk_full_id_parse_filename(l.problems[i].file, ".state", &x, NULL) == 0 &&
		    strcmp(x.container, id) == 0) {
			fid = x;
			found++;
		}
	}
	husk_state_list_done(&l);
	if (found != 1)
		return -ENOENT;
	husk_warn("removing unreadable state of container '%s' (sandbox '%s') without killing "
		  "its processes, continuing",
		  fid.container, fid.sandbox);
	return husk_state_remove_files(root, &fid, err);
}

static int delete_one(struct husk_state_root *root, const char *id, bool force,
		      struct husk_err *err)
{
	struct husk_state_handle *h = NULL;
	/* A writer: wait for the lock, so that no save races the removal. */
	int r = husk_state_find(root, id, /* lock= */ true, &h, err);
	if (r < 0 && force && err->kind == HUSK_ERR_INVALID && remove_corrupt(root, id, err) == 0)
		return 0;
	if (r < 0)
		return r;
	const struct husk_state *s = husk_state_handle_state(h);
	if (strcmp(s->id.container, id) != 0) {
		r = husk_err_set(err, HUSK_ERR_INVALID, 0,
				 "delete needs the full container id ('%s' is a prefix of '%s')",
				 id, s->id.container);
	} else if (cli_container_live(s) && !force) {
		r = husk_err_set(err, HUSK_ERR_PRECONDITION, 0,
				 "container '%s' is %s: stop it first or use --force",
				 s->id.container, husk_status_to_string(s->status));
	} else {
		/* A file of an earlier boot: its processes and cgroups died with that boot, and
		 * its pids and cgroup path may name someone else's now. */
		r = force && !s->stale ? kill_everything(s, err) : 0;
		if (r == 0 && s->cgroup_path && !s->stale)
			cli_remove_cgroups(s->cgroup_path);
		r = r ?: husk_state_destroy(h, err);
	}
	husk_state_handle_free(h);
	return r;
}

int cli_cmd_delete(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"force", no_argument, NULL, 'f'}, {0}};
	bool force = false;
	int c;
	while ((c = getopt_long(argc, argv, "f", opts, NULL)) != -1) {
		if (c != 'f')
			return cli_usage("delete", "bad option");
		force = true;
	}
	if (argc - optind != 1)
		return cli_usage("delete",
				 optind >= argc ? "missing container id" : "too many arguments");
	const char *id = argv[optind];

	struct husk_err err = {0};
	struct husk_state_root *root = NULL;
	int r = cli_open_root(cli, &root, &err);
	if (r == 0)
		r = delete_one(root, id, force, &err);
	husk_state_root_free(root);
	/* Deleting what is already gone succeeds: delete is idempotent. */
	if (r < 0 && err.kind == HUSK_ERR_NOT_FOUND && husk_id_valid(id)) {
		(void)fprintf(stderr, "husk delete: container '%s' not found, nothing to delete\n",
			      id);
		return CLI_EXIT_OK;
	}
	return r < 0 ? cli_fail("delete", &err) : CLI_EXIT_OK;
}
