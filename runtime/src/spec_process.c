/* The OCI "process" object: config.json's process and the task API's Exec spec. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <sys/capability.h>
#include <sys/resource.h>

#include "husk/err.h"
#include "spec_internal.h"
#include "spec_json.h"

/* (uid_t)-1 and (gid_t)-1 mean "unchanged" to setresuid()/setresgid(): never a real id. */
#define ID_MAX ((uint64_t)UINT32_MAX - 1)

/* The console size goes to TIOCSWINSZ, whose fields are unsigned short. */
#define CONSOLE_MAX 65535u

#define OOM_SCORE_ADJ_MIN (-1000)
#define OOM_SCORE_ADJ_MAX 1000

static const struct {
	const char *name;
	int resource;
} rlimit_names[] = {
	{"RLIMIT_AS", RLIMIT_AS},
	{"RLIMIT_CORE", RLIMIT_CORE},
	{"RLIMIT_CPU", RLIMIT_CPU},
	{"RLIMIT_DATA", RLIMIT_DATA},
	{"RLIMIT_FSIZE", RLIMIT_FSIZE},
	{"RLIMIT_LOCKS", RLIMIT_LOCKS},
	{"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
	{"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
	{"RLIMIT_NICE", RLIMIT_NICE},
	{"RLIMIT_NOFILE", RLIMIT_NOFILE},
	{"RLIMIT_NPROC", RLIMIT_NPROC},
	{"RLIMIT_RSS", RLIMIT_RSS},
	{"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
	{"RLIMIT_RTTIME", RLIMIT_RTTIME},
	{"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
	{"RLIMIT_STACK", RLIMIT_STACK},
};

static int parse_gids(json_t *obj, const char *path, struct husk_user *u, struct husk_err *err)
{
	json_t *a = NULL;
	int r = husk__json_array(obj, path, "additionalGids", false, &a, err);

	if (r < 0 || !a)
		return r;
	size_t n = json_array_size(a);
	u->additional_gids = husk__json_calloc(n, sizeof(gid_t));
	if (!u->additional_gids)
		return husk__jerr_nomem(err, path, "additionalGids");
	u->n_additional_gids = n;
	for (size_t i = 0; i < n; i++) {
		char where[HUSK__JPATH_MAX];
		uint64_t gid = 0;
		husk__jpath_index(where, path, "additionalGids", i);
		r = husk__json_u64_value(json_array_get(a, i), where, ID_MAX, &gid, err);
		if (r < 0)
			return r;
		u->additional_gids[i] = (gid_t)gid;
	}
	return 0;
}

static int parse_user(json_t *obj, const char *path, struct husk_user *u, struct husk_err *err)
{
	json_t *o = NULL;
	char where[HUSK__JPATH_MAX];
	struct husk_opt_u64 id = {0};
	int r = husk__json_object(obj, path, "user", false, &o, err);

	/* OCI marks user REQUIRED, but Go always writes it: absent means uid 0, gid 0. */
	if (r < 0 || !o)
		return r;
	husk__jpath_key(where, path, "user");
	r = husk__json_u64(HUSK__JFIELD(o, where, "uid", true), ID_MAX, &id, err);
	if (r < 0)
		return r;
	u->uid = (uid_t)id.v;
	r = husk__json_u64(HUSK__JFIELD(o, where, "gid", true), ID_MAX, &id, err);
	if (r < 0)
		return r;
	u->gid = (gid_t)id.v;
	r = husk__json_u64(HUSK__JFIELD(o, where, "umask", false), 0777, &u->umask, err);
	if (r < 0)
		return r;
	return parse_gids(o, where, u, err);
}

static bool capability_known(const char *name)
{
	cap_value_t v;

	/* cap_from_name() also takes "cap_chown" and "12"; the spec's form is "CAP_CHOWN". */
	if (strncmp(name, "CAP_", 4) != 0 || !name[4])
		return false;
	for (const char *p = name + 4; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_'))
			return false;
	return cap_from_name(name, &v) == 0;
}

static int parse_cap_set(json_t *obj, const char *path, const char *key, char ***ret, size_t *ret_n,
			 struct husk_err *err)
{
	int r = husk__json_strv(HUSK__JFIELD(obj, path, key, false), ret, ret_n, err);

	if (r < 0)
		return r;
	for (size_t i = 0; i < *ret_n; i++) {
		if (!capability_known((*ret)[i])) {
			char where[HUSK__JPATH_MAX];
			husk__jpath_index(where, path, key, i);
			return husk__jerr(err, where, NULL, "unknown capability '%s'", (*ret)[i]);
		}
	}
	return 0;
}

static int parse_capabilities(json_t *obj, const char *path, struct husk_capabilities *c,
			      struct husk_err *err)
{
	json_t *o = NULL;
	char where[HUSK__JPATH_MAX];
	int r = husk__json_object(obj, path, "capabilities", false, &o, err);

	if (r < 0 || !o)
		return r;
	c->set = true;
	husk__jpath_key(where, path, "capabilities");
	if ((r = parse_cap_set(o, where, "bounding", &c->bounding, &c->n_bounding, err)) < 0 ||
	    (r = parse_cap_set(o, where, "effective", &c->effective, &c->n_effective, err)) < 0 ||
	    (r = parse_cap_set(o, where, "inheritable", &c->inheritable, &c->n_inheritable, err)) <
		    0 ||
	    (r = parse_cap_set(o, where, "permitted", &c->permitted, &c->n_permitted, err)) < 0)
		return r;
	return parse_cap_set(o, where, "ambient", &c->ambient, &c->n_ambient, err);
}

static int parse_rlimit(json_t *obj, const char *path, void *item, struct husk_err *err)
{
	struct husk_rlimit *rl = item;
	const char *type = NULL;
	struct husk_opt_u64 v = {0};
	size_t i;
	int r = husk__json_cstr(obj, path, "type", true, &type, err);

	if (r < 0)
		return r;
	for (i = 0; i < ARRAY_SIZE(rlimit_names); i++)
		if (strcmp(type, rlimit_names[i].name) == 0)
			break;
	if (i == ARRAY_SIZE(rlimit_names))
		return husk__jerr(err, path, "type", "unknown rlimit '%s'", type);
	rl->resource = rlimit_names[i].resource;
	if ((r = husk__json_u64(HUSK__JFIELD(obj, path, "hard", true), UINT64_MAX, &v, err)) < 0)
		return r;
	rl->hard = v.v;
	if ((r = husk__json_u64(HUSK__JFIELD(obj, path, "soft", true), UINT64_MAX, &v, err)) < 0)
		return r;
	rl->soft = v.v;
	/* setrlimit() would refuse it later with a bare EINVAL. */
	if (rl->soft > rl->hard)
		return husk__jerr(err, path, NULL,
				  "soft limit %" PRIu64 " exceeds hard limit %" PRIu64, rl->soft,
				  rl->hard);
	return 0;
}

static int parse_rlimits(json_t *obj, const char *path, struct husk_process *p,
			 struct husk_err *err)
{
	uint64_t seen = 0;
	int r = HUSK__JSON_OBJECTS(obj, path, "rlimits", p->rlimits, p->n_rlimits, parse_rlimit,
				   err);

	if (r < 0)
		return r;
	/* OCI: "If config.json contains duplicate entries with the same type, the runtime MUST
	 * generate an error." */
	for (size_t i = 0; i < p->n_rlimits; i++) {
		uint64_t bit = UINT64_C(1) << p->rlimits[i].resource;
		if (seen & bit) {
			char where[HUSK__JPATH_MAX];
			husk__jpath_index(where, path, "rlimits", i);
			return husk__jerr(err, where, "type", "duplicate rlimit");
		}
		seen |= bit;
	}
	return 0;
}

static int parse_console(json_t *obj, const char *path, struct husk_process *p,
			 struct husk_err *err)
{
	json_t *o = NULL;
	char where[HUSK__JPATH_MAX];
	int r = husk__json_object(obj, path, "consoleSize", false, &o, err);

	if (r < 0 || !o)
		return r;
	husk__jpath_key(where, path, "consoleSize");
	r = husk__json_u64(HUSK__JFIELD(o, where, "height", true), CONSOLE_MAX, &p->console_height,
			   err);
	if (r < 0)
		return r;
	return husk__json_u64(HUSK__JFIELD(o, where, "width", true), CONSOLE_MAX, &p->console_width,
			      err);
}

static int parse_args_cwd(json_t *obj, const char *path, struct husk_process *p,
			  struct husk_err *err)
{
	int r = husk__json_strv(HUSK__JFIELD(obj, path, "args", true), &p->args, &p->n_args, err);

	if (r < 0)
		return r;
	if (p->n_args == 0)
		return husk__jerr(err, path, "args", "must not be empty");
	if ((r = husk__json_strv(HUSK__JFIELD(obj, path, "env", false), &p->env, &p->n_env, err)) <
	    0)
		return r;
	if ((r = husk__json_string(obj, path, "cwd", true, &p->cwd, err)) < 0)
		return r;
	if (!husk__path_is_absolute(p->cwd))
		return husk__jerr(err, path, "cwd", "'%s' is not an absolute path", p->cwd);
	return 0;
}

int husk__process_from_json(json_t *obj, const char *path, struct husk_process *p,
			    struct husk_err *err)
{
	int r;

	if ((r = husk__json_bool(obj, path, "terminal", &p->terminal, err)) < 0 ||
	    (r = parse_console(obj, path, p, err)) < 0 ||
	    (r = parse_user(obj, path, &p->user, err)) < 0 ||
	    (r = parse_args_cwd(obj, path, p, err)) < 0 ||
	    (r = parse_capabilities(obj, path, &p->capabilities, err)) < 0 ||
	    (r = parse_rlimits(obj, path, p, err)) < 0 ||
	    (r = husk__json_bool(obj, path, "noNewPrivileges", &p->no_new_privileges, err)) < 0 ||
	    (r = husk__json_i64(HUSK__JFIELD(obj, path, "oomScoreAdj", false), OOM_SCORE_ADJ_MIN,
				OOM_SCORE_ADJ_MAX, &p->oom_score_adj, err)) < 0 ||
	    (r = husk__json_string(obj, path, "apparmorProfile", false, &p->apparmor_profile,
				   err)) < 0)
		return r;
	return husk__json_string(obj, path, "selinuxLabel", false, &p->selinux_label, err);
}

void husk__process_done(struct husk_process *p)
{
	struct husk_capabilities *c = &p->capabilities;

	free(p->user.additional_gids);
	husk__strv_free(p->args, p->n_args);
	husk__strv_free(p->env, p->n_env);
	free(p->cwd);
	husk__strv_free(c->bounding, c->n_bounding);
	husk__strv_free(c->effective, c->n_effective);
	husk__strv_free(c->inheritable, c->n_inheritable);
	husk__strv_free(c->permitted, c->n_permitted);
	husk__strv_free(c->ambient, c->n_ambient);
	free(p->rlimits);
	free(p->apparmor_profile);
	free(p->selinux_label);
}

int husk_process_parse(const char *json, size_t len, struct husk_process **ret_process,
		       struct husk_err *err)
{
	_cleanup_json_ json_t *root = NULL;
	int r = husk__json_load(json, len, "process", &root, err);

	if (r < 0)
		return r;
	struct husk_process *p = calloc(1, sizeof(*p));
	if (!p)
		return husk_err_errno(err, ENOMEM, "process");
	r = husk__process_from_json(root, "process", p, err);
	if (r < 0) {
		husk_process_free(p);
		return r;
	}
	*ret_process = p;
	return 0;
}

struct husk_process *husk_process_free(struct husk_process *process)
{
	if (process) {
		husk__process_done(process);
		free(process);
	}
	return NULL;
}
