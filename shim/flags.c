#include "flags.h"

#include <stddef.h>
#include <string.h>

#include "husk/cleanup.h"
#include "husk/err.h"

enum flag_kind {
	FLAG_STRING,
	FLAG_BOOL,
};

struct flag_def {
	const char *name;
	enum flag_kind kind;
	size_t offset;
};

#define STR_FLAG(n, field)                                         \
	{                                                          \
		n, FLAG_STRING, offsetof(struct shim_flags, field) \
	}
#define BOOL_FLAG(n, field)                                      \
	{                                                        \
		n, FLAG_BOOL, offsetof(struct shim_flags, field) \
	}

static const struct flag_def flag_defs[] = {
	STR_FLAG("namespace", namespace_),
	STR_FLAG("address", address),
	STR_FLAG("publish-binary", publish_binary),
	STR_FLAG("id", id),
	STR_FLAG("bundle", bundle),
	STR_FLAG("socket", socket),
	STR_FLAG("debug-socket", debug_socket),
	BOOL_FLAG("debug", debug),
	BOOL_FLAG("v", version),
	BOOL_FLAG("info", info),
};

static const struct flag_def *flag_find(const char *name, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(flag_defs); i++)
		if (strlen(flag_defs[i].name) == len && strncmp(flag_defs[i].name, name, len) == 0)
			return &flag_defs[i];
	return NULL;
}

/* Go's strconv.ParseBool. */
static int parse_bool(const char *s, bool *ret)
{
	static const char *const yes[] = {"1", "t", "T", "true", "TRUE", "True"};
	static const char *const no[] = {"0", "f", "F", "false", "FALSE", "False"};

	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		if (strcmp(s, yes[i]) == 0) {
			*ret = true;
			return 0;
		}
		if (strcmp(s, no[i]) == 0) {
			*ret = false;
			return 0;
		}
	}
	return -EINVAL;
}

/* One flag at argv[*i]; advances *i past a separate value. */
static int parse_one(int argc, char *const *argv, int *i, struct shim_flags *f,
		     struct husk_err *err)
{
	const char *arg = argv[*i];
	const char *name = arg + 1;

	if (*name == '-')
		name++;
	if (*name == '\0' || *name == '-' || *name == '=')
		return husk_err_set(err, HUSK_ERR_INVALID, 0, "bad flag syntax: %s", arg);

	const char *eq = strchr(name, '=');
	size_t len = eq ? (size_t)(eq - name) : strlen(name);
	const struct flag_def *def = flag_find(name, len);
	if (!def)
		return husk_err_set(err, HUSK_ERR_INVALID, 0,
				    "flag provided but not defined: -%.*s", (int)len, name);

	void *field = (char *)f + def->offset;
	if (def->kind == FLAG_BOOL) {
		bool v = true;
		if (eq && parse_bool(eq + 1, &v) < 0)
			return husk_err_set(err, HUSK_ERR_INVALID, 0,
					    "invalid boolean value \"%s\" for -%s", eq + 1,
					    def->name);
		*(bool *)field = v;
		return 0;
	}
	if (eq) {
		*(const char **)field = eq + 1;
		return 0;
	}
	if (*i + 1 >= argc)
		return husk_err_set(err, HUSK_ERR_INVALID, 0, "flag needs an argument: -%s",
				    def->name);
	*i += 1;
	*(const char **)field = argv[*i];
	return 0;
}

int shim_flags_parse(int argc, char *const *argv, struct shim_flags *ret, struct husk_err *err)
{
	struct shim_flags f = {0};
	int i = 1;

	for (; i < argc; i++) {
		const char *arg = argv[i];
		if (arg[0] != '-' || arg[1] == '\0')
			break;
		if (strcmp(arg, "--") == 0) {
			i++;
			break;
		}
		int r = parse_one(argc, argv, &i, &f, err);
		if (r < 0)
			return r;
	}
	if (i < argc)
		f.action = argv[i];
	*ret = f;
	return 0;
}
