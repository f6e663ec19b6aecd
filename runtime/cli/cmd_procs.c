/* A container's processes: `ps` and `kill`. Signals always go through pidfds. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "husk/cleanup.h"
#include "husk/process.h"

int cli_cmd_ps(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"format", required_argument, NULL, 'f'}, {0}};
	bool json = false;
	int c;
	while ((c = getopt_long(argc, argv, "f:", opts, NULL)) != -1) {
		if (c == 'f' && (strcmp(optarg, "json") == 0 || strcmp(optarg, "table") == 0))
			json = strcmp(optarg, "json") == 0;
		else
			return cli_usage("ps", "bad option");
	}
	if (argc - optind != 1)
		return cli_usage("ps",
				 optind >= argc ? "missing container id" : "too many arguments");

	struct husk_err err = {0};
	struct husk_state_root *root = NULL;
	struct husk_state_handle *h = NULL;
	if (cli_find(cli, argv[optind], false, &root, &h, &err) < 0)
		return cli_fail("ps", &err);
	struct cli_procs p = {0};
	int r = cli_container_procs(husk_state_handle_state(h), &p, &err);
	husk_state_handle_free(h);
	husk_state_root_free(root);
	if (r < 0)
		return cli_fail("ps", &err);
	if (json) {
		(void)printf("[");
		for (size_t i = 0; i < p.n; i++)
			(void)printf("%s%d", i ? "," : "", (int)p.pids[i]);
		(void)printf("]\n");
	} else {
		(void)printf("PID\n");
		for (size_t i = 0; i < p.n; i++)
			(void)printf("%d\n", (int)p.pids[i]);
	}
	cli_procs_done(&p);
	return CLI_EXIT_OK;
}

/* The init, through a pidfd checked against its recorded start time. */
static int kill_init(const struct husk_state *s, int sig, struct husk_err *err)
{
	if (s->init_pid <= 0)
		return husk_err_set(err, HUSK_ERR_PRECONDITION, 0,
				    "container '%s' has no init process", s->id.container);
	_cleanup_close_ int fd = husk_pidfd_open_checked(s->init_pid, s->init_start_time, err);
	if (fd < 0 && err->kind == HUSK_ERR_NOT_FOUND)
		return husk_err_set(err, HUSK_ERR_NOT_FOUND, 0, "process already finished");
	if (fd < 0)
		return fd;
	return husk_pidfd_signal(fd, sig, err);
}

/*
 * Every process of the cgroup. A pid read from cgroup.procs may exit and be recycled
 * before we open it, so once the pidfd pins a process we check it is still in the cgroup.
 */
static int kill_all(const struct husk_state *s, int sig, int *ret_signalled, struct husk_err *err)
{
	struct cli_procs p = {0};
	int r = cli_container_procs(s, &p, err);
	if (r < 0)
		return r;
	int signalled = 0;
	for (size_t i = 0; i < p.n && r == 0; i++) {
		bool is_init = p.pids[i] == s->init_pid;
		uint64_t st = is_init ? s->init_start_time : 0;
		struct husk_err e = {0};
		_cleanup_close_ int fd = husk_pidfd_open_checked(p.pids[i], st, &e);
		if (fd < 0) {
			if (e.kind != HUSK_ERR_NOT_FOUND)
				r = husk_err_set(err, e.kind, e.errnum, "%s", e.msg);
			continue;
		}
		if (p.source && !cli_pid_in_cgroup(p.pids[i], s->cgroup_path))
			continue;
		if (husk_pidfd_signal(fd, sig, &e) == 0)
			signalled++;
		else if (e.kind != HUSK_ERR_NOT_FOUND)
			r = husk_err_set(err, e.kind, e.errnum, "%s", e.msg);
	}
	cli_procs_done(&p);
	*ret_signalled = signalled;
	return r;
}

int cli_cmd_kill(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"all", no_argument, NULL, 'a'}, {0}};
	bool all = false;
	int c;
	while ((c = getopt_long(argc, argv, "a", opts, NULL)) != -1) {
		if (c != 'a')
			return cli_usage("kill", "bad option");
		all = true;
	}
	int nargs = argc - optind;
	if (nargs < 1 || nargs > 2)
		return cli_usage("kill", nargs < 1 ? "missing container id" : "too many arguments");
	int sig = SIGTERM;
	if (nargs == 2 && cli_parse_signal(argv[optind + 1], &sig) < 0)
		return cli_usage("kill", "unknown signal '%s'", argv[optind + 1]);

	struct husk_err err = {0};
	struct husk_state_root *root = NULL;
	struct husk_state_handle *h = NULL;
	if (cli_find(cli, argv[optind], false, &root, &h, &err) < 0)
		return cli_fail("kill", &err);
	const struct husk_state *s = husk_state_handle_state(h);
	int r = 0;
	if (!cli_container_live(s)) {
		r = husk_err_set(&err, HUSK_ERR_PRECONDITION, 0,
				 "container '%s' is not running (status '%s')", s->id.container,
				 husk_status_to_string(s->status));
	} else if (all) {
		int n = 0;
		r = kill_all(s, sig, &n, &err);
		if (r == 0 && n == 0)
			r = husk_err_set(&err, HUSK_ERR_NOT_FOUND, 0, "process already finished");
	} else {
		r = kill_init(s, sig, &err);
	}
	husk_state_handle_free(h);
	husk_state_root_free(root);
	return r < 0 ? cli_fail("kill", &err) : CLI_EXIT_OK;
}
