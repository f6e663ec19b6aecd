/*
 * A container's processes, `ps` and `kill`, through the runtime as the shim calls it: the
 * engine lists them (the cgroup and its nested ones, or the OCI runtime's `ps`) and signals
 * them (--all freezes the cgroup, signals every process, thaws).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "husk/cleanup.h"

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a;
	pid_t y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

static void print_pids(const pid_t *pids, size_t n, bool json)
{
	if (json) {
		(void)printf("[");
		for (size_t i = 0; i < n; i++)
			(void)printf("%s%d", i ? "," : "", (int)pids[i]);
		(void)printf("]\n");
		return;
	}
	(void)printf("PID\n");
	for (size_t i = 0; i < n; i++)
		(void)printf("%d\n", (int)pids[i]);
}

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
	struct husk_runtime *rt = NULL;
	struct husk_container *ct = NULL;
	if (cli_load(cli, argv[optind], &rt, &ct, &err) < 0)
		return cli_fail("ps", &err);
	pid_t *pids = NULL;
	size_t n = 0;
	int r = husk_container_pids(ct, &pids, &n, &err);
	husk_container_free(ct);
	husk_runtime_free(rt);
	if (r < 0)
		return cli_fail("ps", &err);
	if (n > 1)
		qsort(pids, n, sizeof(*pids), cmp_pid);
	print_pids(pids, n, json);
	free(pids);
	return CLI_EXIT_OK;
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
	struct husk_runtime *rt = NULL;
	struct husk_container *ct = NULL;
	if (cli_load(cli, argv[optind], &rt, &ct, &err) < 0)
		return cli_fail("kill", &err);
	int r = husk_container_kill(ct, sig, all, &err);
	/* The runtime re-read the state under its lock: a stopped container says so. */
	if (r < 0 && err.kind == HUSK_ERR_NOT_FOUND &&
	    husk_container_status(ct) == HUSK_STATUS_STOPPED) {
		err = (struct husk_err){0};
		(void)husk_err_set(&err, HUSK_ERR_PRECONDITION, 0,
				   "container '%s' is not running (status 'stopped')",
				   husk_container_full_id(ct)->container);
	}
	husk_container_free(ct);
	husk_runtime_free(rt);
	return r < 0 ? cli_fail("kill", &err) : CLI_EXIT_OK;
}
