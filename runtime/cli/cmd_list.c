/* Read-only views of the root: `list` and `state`. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "husk/cleanup.h"

static void list_json(const struct husk_state_list *l)
{
	(void)printf("[");
	for (size_t i = 0; i < l->n_states; i++) {
		const struct husk_state *s = &l->states[i];
		char created[64];
		cli_format_time(s->created_ns, created, sizeof(created));
		(void)printf("%s\n  {\"id\": ", i ? "," : "");
		cli_json_string(stdout, s->id.container);
		(void)printf(", \"sandbox\": ");
		cli_json_string(stdout, s->id.sandbox);
		(void)printf(", \"pid\": %d, \"status\": \"%s\", \"bundle\": ", (int)s->init_pid,
			     husk_status_to_string(s->status));
		cli_json_string(stdout, s->bundle);
		(void)printf(", \"created\": \"%s\", \"owner\": %u, \"engine\": ", created,
			     (unsigned)s->owner);
		cli_json_string(stdout, s->engine);
		(void)printf(", \"stale\": %s}", s->stale ? "true" : "false");
	}
	(void)printf("%s]\n", l->n_states ? "\n" : "");
}

static void list_table(const struct husk_state_list *l)
{
	int wid = 2;
	int wsb = 7;
	for (size_t i = 0; i < l->n_states; i++) {
		int a = (int)strlen(l->states[i].id.container);
		int b = (int)strlen(l->states[i].id.sandbox);
		wid = a > wid ? a : wid;
		wsb = b > wsb ? b : wsb;
	}
	(void)printf("%-*s  %-*s  %-8s  %-8s  %-30s  %s\n", wid, "ID", wsb, "SANDBOX", "PID",
		     "STATUS", "CREATED", "BUNDLE");
	for (size_t i = 0; i < l->n_states; i++) {
		const struct husk_state *s = &l->states[i];
		char created[64];
		cli_format_time(s->created_ns, created, sizeof(created));
		(void)printf("%-*s  %-*s  %-8d  %-8s  %-30s  %s\n", wid, s->id.container, wsb,
			     s->id.sandbox, (int)s->init_pid,
			     s->stale ? "stale" : husk_status_to_string(s->status), created,
			     s->bundle);
	}
}

int cli_cmd_list(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"format", required_argument, NULL, 'f'},
		{"sandbox", required_argument, NULL, 's'},
		{0},
	};
	bool json = false;
	const char *sandbox = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "f:s:", opts, NULL)) != -1) {
		if (c == 'f' && (strcmp(optarg, "json") == 0 || strcmp(optarg, "table") == 0))
			json = strcmp(optarg, "json") == 0;
		else if (c == 's')
			sandbox = optarg;
		else
			return cli_usage("list", "bad option");
	}
	if (optind != argc)
		return cli_usage("list", "unexpected argument '%s'", argv[optind]);

	struct husk_err err = {0};
	struct husk_state_root *root = NULL;
	struct husk_state_list l = {0};
	int r = cli_open_root(cli, &root, &err);
	/* A root nobody created yet holds no containers. */
	if (r < 0 && err.kind != HUSK_ERR_NOT_FOUND)
		return cli_fail("list", &err);
	if (r == 0) {
		r = husk_state_list(root, sandbox, &l, &err);
		husk_state_root_free(root);
		if (r < 0)
			return cli_fail("list", &err);
	}
	if (json)
		list_json(&l);
	else
		list_table(&l);
	husk_state_list_done(&l);
	return CLI_EXIT_OK;
}

int cli_cmd_state(struct cli *cli, int argc, char **argv)
{
	if (argc != 2)
		return cli_usage("state", argc < 2 ? "missing container id" : "too many arguments");
	struct husk_err err = {0};
	struct husk_state_root *root = NULL;
	struct husk_state_handle *h = NULL;
	if (cli_find(cli, argv[1], /* lock= */ false, &root, &h, &err) < 0)
		return cli_fail("state", &err);
	_cleanup_free_ char *json = NULL;
	int r = husk_state_format(husk_state_handle_state(h), &json, &err);
	husk_state_handle_free(h);
	husk_state_root_free(root);
	if (r < 0)
		return cli_fail("state", &err);
	(void)printf("%s\n", json);
	return CLI_EXIT_OK;
}
