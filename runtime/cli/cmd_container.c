/* Lifecycle commands over the runtime API: run, exec, pause, resume, stats, update. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sys/wait.h>

#include "cli.h"
#include "husk/cgroup.h"
#include "husk/cleanup.h"
#include "husk/container.h"
#include "husk/spec.h"

/* Reap pid, returning its exit code as a shell reports it (128+signal). */
static int wait_exit(pid_t pid, int *ret_status)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	*ret_status = status;
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

/* Copy between our stdio and a pty master until the master closes. */
static void relay(int master)
{
	struct termios saved;
	bool raw = isatty(0) && tcgetattr(0, &saved) == 0;
	char buf[4096];

	if (raw) {
		struct termios t = saved;
		cfmakeraw(&t);
		(void)tcsetattr(0, TCSANOW, &t);
	}
	struct pollfd p[2] = {{.fd = master, .events = POLLIN}, {.fd = 0, .events = POLLIN}};
	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[0].revents) {
			ssize_t n = read(master, buf, sizeof(buf));
			if (n <= 0 || write(1, buf, (size_t)n) != n)
				break;
		}
		if (p[1].revents) {
			ssize_t n = read(0, buf, sizeof(buf));
			if (n <= 0)
				p[1].fd = -1;
			else if (write(master, buf, (size_t)n) != n)
				break;
		}
	}
	if (raw)
		(void)tcsetattr(0, TCSANOW, &saved);
}

static int run_attached(struct husk_container *c, int *ret_code, struct husk_err *err)
{
	int console = husk_container_take_console(c);
	int status = 0;

	if (console >= 0) {
		relay(console);
		(void)close(console);
	}
	int code = wait_exit(husk_container_init(c)->pid, &status);
	if (code < 0)
		return husk_err_errno(err, -code, "wait for the container");
	*ret_code = code;
	if (husk_container_set_exited(c, status, 0, err) < 0)
		return husk_err_code(err);
	return husk_container_delete(c, /* force= */ true, err);
}

int cli_cmd_run(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"bundle", required_argument, NULL, 'b'},
		{"detach", no_argument, NULL, 'd'},
		{0},
	};
	const char *bundle = ".";
	bool detach = false;
	int ch;
	char abs_bundle[4096];
	struct husk_err err = {0};

	while ((ch = getopt_long(argc, argv, "+b:d", opts, NULL)) != -1) {
		if (ch == 'b')
			bundle = optarg;
		else if (ch == 'd')
			detach = true;
		else
			return cli_usage("run", "bad option");
	}
	if (optind + 1 != argc)
		return cli_usage("run", "expected one container id");
	if (!realpath(bundle, abs_bundle)) {
		(void)fprintf(stderr, "husk run: bundle '%s': %s\n", bundle, strerror(errno));
		return CLI_EXIT_ERROR;
	}
	struct husk_runtime *rt = NULL;
	if (cli_open_runtime(cli, /* create= */ true, &rt, &err) < 0)
		return cli_fail("run", &err);
	struct husk_create_opts co = {.id = argv[optind], .bundle = abs_bundle, .stdio = {0, 1, 2}};
	struct husk_container *c = NULL;
	int code = CLI_EXIT_ERROR;
	if (husk_container_create(rt, &co, &c, &err) < 0) {
		husk_runtime_free(rt);
		return cli_fail("run", &err);
	}
	if (husk_container_start(c, &err) < 0) {
		(void)cli_fail("run", &err);
		(void)husk_container_delete(c, /* force= */ true, NULL);
		/* The init exits after a failed exec: reap it (we are its parent). */
		int status;
		(void)waitpid(husk_container_init(c)->pid, &status, 0);
	} else if (detach) {
		(void)printf("%d\n", (int)husk_container_init(c)->pid);
		code = CLI_EXIT_OK;
	} else if (run_attached(c, &code, &err) < 0) {
		code = cli_fail("run", &err);
	}
	husk_container_free(c);
	husk_runtime_free(rt);
	return code;
}

static int load(const struct cli *cli, const char *cmd, const char *id, struct husk_runtime **rt,
		struct husk_container **c)
{
	struct husk_err err = {0};

	return cli_load(cli, id, rt, c, &err) < 0 ? cli_fail(cmd, &err) : CLI_EXIT_OK;
}

int cli_cmd_exec(struct cli *cli, int argc, char **argv)
{
	struct husk_runtime *rt = NULL;
	struct husk_container *c = NULL;
	struct husk_err err = {0};
	struct husk_child child = HUSK_CHILD_NULL;
	int console = -1;
	int status = 0;

	if (argc < 3)
		return cli_usage("exec", "expected an id and a command");
	int first = strcmp(argv[2], "--") == 0 ? 3 : 2;
	if (first >= argc)
		return cli_usage("exec", "expected a command");
	int r = load(cli, "exec", argv[1], &rt, &c);
	if (r != CLI_EXIT_OK)
		return r;
	static char default_path[] =
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	static char default_term[] = "TERM=xterm";
	static char root_dir[] = "/";
	char *path_env[] = {default_path, default_term};
	struct husk_process p = {
		.args = argv + first,
		.n_args = (size_t)(argc - first),
		.env = path_env,
		.n_env = 2,
		.cwd = root_dir,
	};
	struct husk_spec *spec = NULL;
	struct husk_err e2 = {0};
	/* The container's own process spec is the template: user, capabilities, env. */
	if (husk_spec_load(husk_container_bundle(c), &spec, &e2) >= 0 && spec->process) {
		p.user = spec->process->user;
		p.capabilities = spec->process->capabilities;
		p.env = spec->process->env;
		p.n_env = spec->process->n_env;
		p.cwd = spec->process->cwd;
		p.no_new_privileges = spec->process->no_new_privileges;
	}
	struct husk_exec_opts eo = {.exec_id = "cli", .process = &p, .stdio = {0, 1, 2}};
	r = husk_container_exec(c, &eo, &child, &console, &err);
	if (r < 0) {
		r = cli_fail("exec", &err);
	} else {
		r = wait_exit(child.pid, &status);
		husk_child_release(&child);
		if (r < 0)
			r = CLI_EXIT_ERROR;
	}
	husk_spec_free(spec);
	husk_container_free(c);
	husk_runtime_free(rt);
	return r;
}

static int simple(struct cli *cli, int argc, char **argv,
		  int (*fn)(struct husk_container *, struct husk_err *))
{
	struct husk_runtime *rt = NULL;
	struct husk_container *c = NULL;
	struct husk_err err = {0};

	if (argc != 2)
		return cli_usage(argv[0], "expected one container id");
	int r = load(cli, argv[0], argv[1], &rt, &c);
	if (r != CLI_EXIT_OK)
		return r;
	r = fn(c, &err) < 0 ? cli_fail(argv[0], &err) : CLI_EXIT_OK;
	husk_container_free(c);
	husk_runtime_free(rt);
	return r;
}

int cli_cmd_pause(struct cli *cli, int argc, char **argv)
{
	return simple(cli, argc, argv, husk_container_pause);
}

int cli_cmd_resume(struct cli *cli, int argc, char **argv)
{
	return simple(cli, argc, argv, husk_container_resume);
}

/* "max" (no limit) reads as UINT64_MAX; it prints as 0, as runc's stats do, so that every
 * JSON parser (int64 or double) reads the figures exactly. */
static unsigned long long limit_or_zero(uint64_t v)
{
	return v == UINT64_MAX ? 0 : (unsigned long long)v;
}

static int print_stats(struct husk_container *c, struct husk_err *err)
{
	struct husk_cgroup_stats *s = calloc(1, sizeof(*s));

	if (!s)
		return husk_err_errno(err, ENOMEM, "stats");
	int r = husk_container_stats(c, s, err);
	if (r >= 0)
		(void)printf("{\"mode\":%d,\"pids\":{\"current\":%llu,\"limit\":%llu},"
			     "\"cpu\":{\"usage_ns\":%llu,\"user_ns\":%llu,\"kernel_ns\":%llu},"
			     "\"memory\":{\"usage\":%llu,\"limit\":%llu,\"max\":%llu,"
			     "\"oom_kill\":%llu}}\n",
			     (int)s->mode, (unsigned long long)s->pids.current,
			     limit_or_zero(s->pids.limit),
			     (unsigned long long)s->cpu.usage_total_ns,
			     (unsigned long long)s->cpu.usage_user_ns,
			     (unsigned long long)s->cpu.usage_kernel_ns,
			     (unsigned long long)s->memory.usage.usage,
			     limit_or_zero(s->memory.usage.limit),
			     (unsigned long long)s->memory.usage.max,
			     (unsigned long long)s->memory.oom_kill);
	free(s);
	return r;
}

int cli_cmd_stats(struct cli *cli, int argc, char **argv)
{
	return simple(cli, argc, argv, print_stats);
}

/* update ID --memory BYTES | --pids N | --cpu-shares N | --resources FILE.json */
int cli_cmd_update(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"memory", required_argument, NULL, 'm'},
		{"pids", required_argument, NULL, 'p'},
		{"cpu-shares", required_argument, NULL, 'c'},
		{0},
	};
	struct husk_resources res = {0};
	int ch;

	while ((ch = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		if (ch != 'm' && ch != 'p' && ch != 'c')
			return cli_usage("update", "bad option");
		char *end = NULL;
		errno = 0;
		long long v = strtoll(optarg, &end, 10);
		if (!*optarg || *end || errno == ERANGE)
			return cli_usage("update", "bad number '%s'", optarg);
		if (ch == 'm') {
			res.has_memory = true;
			res.memory.limit = (struct husk_opt_i64){true, v};
		} else if (ch == 'p') {
			res.pids_limit = (struct husk_opt_i64){true, v};
		} else {
			res.has_cpu = true;
			res.cpu.shares = (struct husk_opt_u64){true, (uint64_t)v};
		}
	}
	if (optind + 1 != argc)
		return cli_usage("update", "expected one container id");
	struct husk_runtime *rt = NULL;
	struct husk_container *c = NULL;
	struct husk_err err = {0};
	int r = load(cli, "update", argv[optind], &rt, &c);
	if (r != CLI_EXIT_OK)
		return r;
	r = husk_container_update(c, &res, &err) < 0 ? cli_fail("update", &err) : CLI_EXIT_OK;
	husk_container_free(c);
	husk_runtime_free(rt);
	return r;
}
