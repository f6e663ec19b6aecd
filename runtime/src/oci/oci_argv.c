#include "oci/oci_argv.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "husk/cleanup.h"
#include "husk/err.h"

/* Which optional parts a command takes (F_*) and which of them it requires. */
enum {
	F_BUNDLE = 1u << 0,
	F_PID_FILE = 1u << 1,
	F_CONSOLE = 1u << 2,
	F_PROCESS = 1u << 3,
	F_DETACH = 1u << 4,
	F_SIGNAL = 1u << 5,
	F_ALL = 1u << 6,
	F_FORCE = 1u << 7,
	F_STATS = 1u << 8,
	F_RESOURCES = 1u << 9,
	F_JSON = 1u << 10,
	F_NO_PIVOT = 1u << 11,
	F_NO_NEW_KEYRING = 1u << 12,
};

struct cmd_desc {
	const char *name;
	unsigned takes;
	unsigned requires;
};

static const struct cmd_desc cmds[_HUSK_OCI_CMD_MAX] = {
	[HUSK_OCI_CREATE] = {"create",
			     F_BUNDLE | F_PID_FILE | F_CONSOLE | F_NO_PIVOT | F_NO_NEW_KEYRING,
			     F_BUNDLE},
	[HUSK_OCI_START] = {"start", 0, 0},
	[HUSK_OCI_EXEC] = {"exec", F_PROCESS | F_DETACH | F_PID_FILE | F_CONSOLE, F_PROCESS},
	[HUSK_OCI_KILL] = {"kill", F_SIGNAL | F_ALL, F_SIGNAL},
	[HUSK_OCI_PAUSE] = {"pause", 0, 0},
	[HUSK_OCI_RESUME] = {"resume", 0, 0},
	[HUSK_OCI_PS] = {"ps", F_JSON, 0},
	[HUSK_OCI_EVENTS] = {"events", F_STATS, 0},
	[HUSK_OCI_STATE] = {"state", 0, 0},
	[HUSK_OCI_DELETE] = {"delete", F_FORCE, 0},
	[HUSK_OCI_UPDATE] = {"update", F_RESOURCES, F_RESOURCES},
	[HUSK_OCI_WAIT] = {"wait", 0, 0},
};

/* Longest argv: binary, 4 global flags with values, 3 command flags with values, id, sig. */
#define FIXED_ARGS 24

static const char *const field_flags[] = {
	"--bundle",	 "--pid-file", "--console-socket", "--process", "--detach",
	"signal",	 "--all",      "--force",	   "--stats",	"--resources",
	"--format json", "--no-pivot", "--no-new-keyring",
};

const char *husk__oci_cmd_to_string(enum husk_oci_cmd cmd)
{
	if ((unsigned)cmd >= _HUSK_OCI_CMD_MAX)
		return NULL;
	return cmds[cmd].name;
}

static unsigned fields_set(const struct husk_oci_call *c)
{
	return (c->bundle ? F_BUNDLE : 0) | (c->pid_file ? F_PID_FILE : 0) |
	       (c->console_socket ? F_CONSOLE : 0) | (c->process ? F_PROCESS : 0) |
	       (c->detach ? F_DETACH : 0) | (c->signal ? F_SIGNAL : 0) | (c->all ? F_ALL : 0) |
	       (c->force ? F_FORCE : 0) | (c->stats ? F_STATS : 0) |
	       (c->resources ? F_RESOURCES : 0) | (c->json ? F_JSON : 0) |
	       (c->no_pivot ? F_NO_PIVOT : 0) | (c->no_new_keyring ? F_NO_NEW_KEYRING : 0);
}

static const char *field_name(unsigned bit)
{
	return field_flags[__builtin_ctz(bit)];
}

/* A value that follows a flag: non-empty. A positional one: also not flag-like. */
static int check_value(const char *what, const char *v, bool positional, struct husk_err *err)
{
	if (!v || !*v)
		return husk_err_set(err, HUSK_ERR_INVALID, 0, "%s is empty", what);
	if (positional && v[0] == '-')
		return husk_err_set(err, HUSK_ERR_INVALID, 0, "%s '%s' starts with '-'", what, v);
	return 0;
}

static int check_call(const struct husk_oci_global *g, const struct husk_oci_call *c,
		      struct husk_err *err)
{
	if ((unsigned)c->cmd >= _HUSK_OCI_CMD_MAX)
		return husk_err_set(err, HUSK_ERR_INVALID, 0, "unknown oci command %d",
				    (int)c->cmd);
	const struct cmd_desc *d = &cmds[c->cmd];
	unsigned set = fields_set(c);
	unsigned extra = set & ~d->takes;
	unsigned missing = d->requires & ~set;

	if (extra)
		return husk_err_set(err, HUSK_ERR_INVALID, 0, "%s: %s is not a flag of %s", d->name,
				    field_name(extra & -extra), d->name);
	if (missing)
		return husk_err_set(err, HUSK_ERR_INVALID, 0, "%s: %s is required", d->name,
				    field_name(missing & -missing));
	int r = check_value("oci runtime binary", g->binary, false, err);
	r = r ?: check_value("container id", c->id, true, err);
	if (r >= 0 && g->root)
		r = check_value("--root", g->root, false, err);
	if (r >= 0 && g->log)
		r = check_value("--log", g->log, false, err);
	for (const char *const *e = g->extra; r >= 0 && e && *e; e++)
		if (!**e)
			r = husk_err_set(err, HUSK_ERR_INVALID, 0, "empty global flag");
	if (r >= 0 && c->bundle)
		r = check_value("--bundle", c->bundle, false, err);
	if (r >= 0 && c->pid_file)
		r = check_value("--pid-file", c->pid_file, false, err);
	if (r >= 0 && c->console_socket)
		r = check_value("--console-socket", c->console_socket, false, err);
	if (r >= 0 && c->process)
		r = check_value("--process", c->process, false, err);
	if (r >= 0 && c->resources)
		r = check_value("--resources", c->resources, false, err);
	if (r >= 0 && c->signal && (c->signal < 1 || c->signal >= _NSIG))
		r = husk_err_set(err, HUSK_ERR_INVALID, 0, "kill: invalid signal %d", c->signal);
	return r;
}

struct builder {
	char **v;
	size_t n;
	size_t cap;
};

static int add(struct builder *b, const char *s)
{
	if (b->n + 1 >= b->cap) {
		size_t cap = b->cap * 2;
		char **nv = realloc(b->v, cap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		b->v = nv;
		b->cap = cap;
	}
	b->v[b->n] = strdup(s);
	if (!b->v[b->n])
		return -ENOMEM;
	b->n++;
	b->v[b->n] = NULL;
	return 0;
}

static int add2(struct builder *b, const char *flag, const char *value)
{
	if (!value)
		return 0;
	int r = add(b, flag);
	return r ?: add(b, value);
}

static int add_if(struct builder *b, bool on, const char *flag)
{
	return on ? add(b, flag) : 0;
}

static int add_globals(struct builder *b, const struct husk_oci_global *g)
{
	int r = add(b, g->binary);
	r = r ?: add2(b, "--root", g->root);
	r = r ?: add2(b, "--log", g->log);
	r = r ?: (g->log_json ? add2(b, "--log-format", "json") : 0);
	r = r ?: add_if(b, g->systemd_cgroup, "--systemd-cgroup");
	for (const char *const *e = g->extra; r >= 0 && e && *e; e++)
		r = add(b, *e);
	return r;
}

static int add_command(struct builder *b, const struct husk_oci_call *c)
{
	char sig[16];
	int r = add(b, cmds[c->cmd].name);

	r = r ?: add2(b, "--bundle", c->bundle);
	r = r ?: add2(b, "--process", c->process);
	r = r ?: add_if(b, c->detach, "--detach");
	r = r ?: add2(b, "--pid-file", c->pid_file);
	r = r ?: add2(b, "--console-socket", c->console_socket);
	r = r ?: add_if(b, c->no_pivot, "--no-pivot");
	r = r ?: add_if(b, c->no_new_keyring, "--no-new-keyring");
	r = r ?: add_if(b, c->all, "--all");
	r = r ?: add_if(b, c->force, "--force");
	r = r ?: add_if(b, c->stats, "--stats");
	r = r ?: add2(b, "--resources", c->resources);
	r = r ?: (c->json ? add2(b, "--format", "json") : 0);
	r = r ?: add(b, c->id);
	if (r >= 0 && c->signal) {
		(void)snprintf(sig, sizeof(sig), "%d", c->signal);
		r = add(b, sig);
	}
	return r;
}

int husk__oci_argv_build(const struct husk_oci_global *g, const struct husk_oci_call *call,
			 struct husk_oci_argv *ret, struct husk_err *err)
{
	int r = check_call(g, call, err);

	if (r < 0)
		return r;
	struct builder b = {.v = calloc(FIXED_ARGS, sizeof(char *)), .cap = FIXED_ARGS};
	if (!b.v)
		return husk_err_errno(err, ENOMEM, "oci %s argv", cmds[call->cmd].name);
	r = add_globals(&b, g);
	r = r ?: add_command(&b, call);
	if (r < 0) {
		struct husk_oci_argv tmp = {.v = b.v, .n = b.n};
		husk__oci_argv_done(&tmp);
		return husk_err_errno(err, -r, "oci %s argv", cmds[call->cmd].name);
	}
	*ret = (struct husk_oci_argv){.v = b.v, .n = b.n};
	return 0;
}

void husk__oci_argv_done(struct husk_oci_argv *argv)
{
	if (!argv->v)
		return;
	for (size_t i = 0; i < argv->n; i++)
		free(argv->v[i]);
	free(argv->v);
	*argv = (struct husk_oci_argv){0};
}
