/* The husk config file a runtime handler's ConfigPath names (husk/engine_config.h). */
#include "husk/engine_config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "fs.h"
#include "husk/cleanup.h"
#include "husk/err.h"
#include "spec_json.h"

static const char *const known_keys[] = {
	"engine",	  "binary",	   "root",	     "runtime_args",
	"systemd_cgroup", "no_pivot_root", "no_new_keyring",
};

/* Global flags the oci engine passes itself: a second value would contradict it. */
static const struct {
	const char *flag;
	const char *instead;
} owned_flags[] = {
	{"--root", "use \"root\""},
	{"--log", "husk keeps the runtime's log in its work dir"},
	{"--log-format", "husk reads the runtime's log as json"},
	{"--systemd-cgroup", "use \"systemd_cgroup\""},
};

static int check_keys(json_t *o, struct husk_err *err)
{
	const char *key;
	json_t *v;

	json_object_foreach (o, key, v) {
		bool known = false;
		for (size_t i = 0; i < ARRAY_SIZE(known_keys); i++)
			known = known || strcmp(key, known_keys[i]) == 0;
		if (!known)
			return husk_err_set(err, HUSK_ERR_INVALID, 0, "unknown key '%s'", key);
	}
	return 0;
}

/* "--flag" or "--flag=value" names flag. */
static bool names_flag(const char *arg, const char *flag)
{
	size_t n = strlen(flag);
	return strncmp(arg, flag, n) == 0 && (arg[n] == '\0' || arg[n] == '=');
}

static int check_arg(const char *arg, size_t i, struct husk_err *err)
{
	if (arg[0] != '-')
		return husk_err_set(err, HUSK_ERR_INVALID, 0,
				    "runtime_args[%zu]: '%s' is not a flag (global flags only, as "
				    "--flag=value)",
				    i, arg);
	for (size_t k = 0; k < ARRAY_SIZE(owned_flags); k++)
		if (names_flag(arg, owned_flags[k].flag))
			return husk_err_set(err, HUSK_ERR_INVALID, 0,
					    "runtime_args[%zu]: '%s' is set by husk, %s", i,
					    owned_flags[k].flag, owned_flags[k].instead);
	return 0;
}

static int check_engine(const struct husk_engine_config *c, struct husk_err *err)
{
	if (strcmp(c->engine, "oci") == 0) {
		if (!c->binary)
			return husk_err_set(err, HUSK_ERR_INVALID, 0,
					    "engine 'oci' needs \"binary\" (e.g. \"runsc\")");
		if (c->root && c->root[0] != '/')
			return husk_err_set(err, HUSK_ERR_INVALID, 0,
					    "root: '%s' is not an absolute path", c->root);
		for (size_t i = 0; i < c->n_runtime_args; i++) {
			int r = check_arg(c->runtime_args[i], i, err);
			if (r < 0)
				return r;
		}
		return 0;
	}
	if (strcmp(c->engine, "native") != 0)
		return husk_err_set(err, HUSK_ERR_INVALID, 0,
				    "engine: '%s' is not 'native' or 'oci'", c->engine);
	const char *oci_only = c->binary ? "binary" : c->root ? "root" : NULL;
	if (!oci_only && c->runtime_args)
		oci_only = "runtime_args";
	if (oci_only)
		return husk_err_set(err, HUSK_ERR_INVALID, 0,
				    "%s: only the 'oci' engine takes it (engine is 'native')",
				    oci_only);
	return 0;
}

static int parse(json_t *o, struct husk_engine_config *c, struct husk_err *err)
{
	int r = check_keys(o, err);

	r = r ?: husk__json_string(o, "", "engine", false, &c->engine, err);
	r = r ?: husk__json_string(o, "", "binary", false, &c->binary, err);
	r = r ?: husk__json_string(o, "", "root", false, &c->root, err);
	r = r
		    ?: husk__json_strv(HUSK__JFIELD(o, "", "runtime_args", false), &c->runtime_args,
				       &c->n_runtime_args, err);
	r = r ?: husk__json_bool(o, "", "systemd_cgroup", &c->systemd_cgroup, err);
	r = r ?: husk__json_bool(o, "", "no_pivot_root", &c->no_pivot_root, err);
	r = r ?: husk__json_bool(o, "", "no_new_keyring", &c->no_new_keyring, err);
	if (r < 0)
		return r;
	if (c->binary && !*c->binary)
		return husk_err_set(err, HUSK_ERR_INVALID, 0, "binary: empty");
	if (c->root && !*c->root)
		return husk_err_set(err, HUSK_ERR_INVALID, 0, "root: empty");
	if (!c->engine) {
		c->engine = strdup("native");
		if (!c->engine)
			return husk_err_errno(err, ENOMEM, "engine config");
	}
	return check_engine(c, err);
}

int husk_engine_config_parse(const char *buf, size_t len, const char *what,
			     struct husk_engine_config *ret, struct husk_err *err)
{
	_cleanup_json_ json_t *o = NULL;
	struct husk_engine_config c = {0};
	int r = husk__json_load(buf, len, "config", &o, err);

	memset(ret, 0, sizeof(*ret));
	r = r ?: parse(o, &c, err);
	if (r < 0) {
		husk_engine_config_done(&c);
		(void)husk_err_prefix(err, "'%s'", what);
		return r;
	}
	*ret = c;
	return 0;
}

int husk_engine_config_load(const char *path, struct husk_engine_config *ret, struct husk_err *err)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;

	memset(ret, 0, sizeof(*ret));
	if (!path || path[0] != '/')
		return husk_err_set(err, HUSK_ERR_INVALID, 0,
				    "config path '%s' is not an absolute path", path ? path : "");
	int r = husk__read_file_at(AT_FDCWD, path, HUSK_ENGINE_CONFIG_MAX, &buf, &len);
	if (r == -EFBIG)
		return husk_err_set(err, HUSK_ERR_INVALID, EFBIG,
				    "config file '%s' is larger than %zu bytes", path,
				    HUSK_ENGINE_CONFIG_MAX);
	if (r < 0)
		return husk_err_set(err, HUSK_ERR_INVALID, -r, "read config file '%s'", path);
	return husk_engine_config_parse(buf, len, path, ret, err);
}

void husk_engine_config_done(struct husk_engine_config *c)
{
	free(c->engine);
	free(c->binary);
	free(c->root);
	husk__strv_free(c->runtime_args, c->n_runtime_args);
	memset(c, 0, sizeof(*c));
}
