/*
 * husk: the admin CLI over a state root. Global flags, then a command from the table
 * below; each command group lives in its own file.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "husk/log.h"

#define DEFAULT_STATE_DIR "/run/containerd/husk"

/* One line per command. Lifecycle commands (run, exec, pause, ...) add theirs here. */
static const struct cli_command commands[] = {
	{"list", "[--format table|json] [--sandbox SID]", "list containers", cli_cmd_list},
	{"state", "ID", "print a container's state as json (ID may be a unique prefix)",
	 cli_cmd_state},
	{"ps", "[--format table|json] ID", "list the pids of a container", cli_cmd_ps},
	{"kill", "ID [SIGNAL] [--all]", "signal a container's init (or all its processes)",
	 cli_cmd_kill},
	{"delete", "[--force] ID", "remove a stopped container (--force: kill it first)",
	 cli_cmd_delete},
	{"debug", "[ID]", "print everything known about the root or one container", cli_cmd_debug},
	{"run", "[--detach] [--bundle DIR] ID", "create and start a container", cli_cmd_run},
	{"exec", "ID [--] CMD [ARG...]", "run a process in a running container", cli_cmd_exec},
	{"pause", "ID", "freeze a running container", cli_cmd_pause},
	{"resume", "ID", "thaw a paused container", cli_cmd_resume},
	{"stats", "ID", "print cgroup statistics as json (limit 0: none)", cli_cmd_stats},
	{"update", "ID [--memory B] [--pids N] [--cpu-shares N]", "change resources",
	 cli_cmd_update},
	{"features", "", "print the OCI runtime features document (json)", cli_cmd_features},
	{"check", "", "report host settings that matter to husk's speed (cgroups, favordynmods)",
	 cli_cmd_check},
};

const struct cli_command *cli_find_command(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

void cli_print_usage(FILE *f, const struct cli_command *c)
{
	(void)fprintf(f, "usage: husk [--root DIR] %s %s\n", c->name, c->args);
}

int cli_usage(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	(void)fprintf(stderr, "husk %s: ", cmd);
	va_start(ap, fmt);
	(void)vfprintf(stderr, fmt, ap);
	va_end(ap);
	(void)fputc('\n', stderr);
	const struct cli_command *c = cli_find_command(cmd);
	if (c)
		cli_print_usage(stderr, c);
	return CLI_EXIT_USAGE;
}

int cli_fail(const char *cmd, const struct husk_err *err)
{
	(void)fprintf(stderr, "husk %s: %s\n", cmd, err->msg);
	return CLI_EXIT_ERROR;
}

static void help(FILE *f)
{
	(void)fprintf(f,
		      "usage: husk [--root DIR | --namespace NS] [--debug] COMMAND [ARGS]\n\n"
		      "  --root DIR       state root (default " DEFAULT_STATE_DIR "/<namespace>)\n"
		      "  --namespace NS   containerd namespace (default \"default\")\n"
		      "  --debug          print library debug lines on stderr\n\n"
		      "commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		(void)fprintf(f, "  %-7s %-40s %s\n", commands[i].name, commands[i].args,
			      commands[i].summary);
	(void)fprintf(f, "\nexit status: 0 success, 1 failure, 2 usage error\n");
}

static void log_to_stderr(enum husk_log_level level, const char *msg, void *userdata)
{
	const struct cli *cli = userdata;
	if (level == HUSK_LOG_DEBUG && !cli->debug)
		return;
	(void)fprintf(stderr, "husk: %s: %s\n", husk_log_level_to_string(level), msg);
}

/* A namespace names one directory under the default state root. */
static bool namespace_ok(const char *ns)
{
	return ns && *ns && !strchr(ns, '/') && strcmp(ns, "..") != 0 && strcmp(ns, ".") != 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"root", required_argument, NULL, 'r'},
		{"namespace", required_argument, NULL, 'n'},
		{"debug", no_argument, NULL, 'd'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct cli cli = {0};
	const char *ns = "default";
	char root[4096];
	int c;

	/* '+': stop at the command name; its own options are parsed by the command. */
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			cli.root_path = optarg;
			break;
		case 'n':
			ns = optarg;
			break;
		case 'd':
			cli.debug = true;
			break;
		case 'h':
			help(stdout);
			return CLI_EXIT_OK;
		default:
			help(stderr);
			return CLI_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		help(stderr);
		return CLI_EXIT_USAGE;
	}
	if (strcmp(argv[optind], "help") == 0) {
		help(stdout);
		return CLI_EXIT_OK;
	}
	const struct cli_command *cmd = cli_find_command(argv[optind]);
	if (!cmd) {
		(void)fprintf(stderr, "husk: unknown command '%s'\n", argv[optind]);
		help(stderr);
		return CLI_EXIT_USAGE;
	}
	if (!cli.root_path) {
		if (!namespace_ok(ns)) {
			(void)fprintf(stderr, "husk: invalid namespace '%s'\n", ns);
			return CLI_EXIT_USAGE;
		}
		(void)snprintf(root, sizeof(root), DEFAULT_STATE_DIR "/%s", ns);
		cli.root_path = root;
	}
	husk_set_log_hook(log_to_stderr, &cli);

	int cargc = argc - optind;
	char **cargv = argv + optind;
	optind = 0; /* a full getopt reset for the command's own parsing */
	int r = cmd->run(&cli, cargc, cargv);
	if (fflush(stdout) != 0 && r == CLI_EXIT_OK) {
		perror("husk: write output");
		r = CLI_EXIT_ERROR;
	}
	return r;
}
