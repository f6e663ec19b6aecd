/* The OCI "linux" object: namespaces, id mappings, devices, paths, seccomp, personality. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "husk/err.h"
#include "spec_internal.h"
#include "spec_json.h"

#define ID_MAX	     ((uint64_t)UINT32_MAX - 1)
#define DEVNUM_MAX   ((int64_t)UINT32_MAX) /* makedev() takes unsigned int major and minor */
#define ERRNO_MAX    65535u		   /* SECCOMP_RET_DATA is 16 bits */
#define SYSCALL_ARGS 6

static const char *const ns_names[_HUSK_NS_TYPE_MAX] = {
	[HUSK_NS_PID] = "pid",	     [HUSK_NS_NETWORK] = "network", [HUSK_NS_MOUNT] = "mount",
	[HUSK_NS_IPC] = "ipc",	     [HUSK_NS_UTS] = "uts",	    [HUSK_NS_USER] = "user",
	[HUSK_NS_CGROUP] = "cgroup", [HUSK_NS_TIME] = "time",
};

const char *husk_ns_type_to_string(enum husk_ns_type type)
{
	if ((unsigned)type >= _HUSK_NS_TYPE_MAX)
		return NULL;
	return ns_names[type];
}

static const char *const propagations[] = {
	"shared", "slave", "private", "unbindable", "rshared", "rslave", "rprivate", "runbindable",
};

static const char *const seccomp_actions[] = {
	"SCMP_ACT_KILL",  "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
	"SCMP_ACT_TRAP",  "SCMP_ACT_ERRNO",	   "SCMP_ACT_TRACE",
	"SCMP_ACT_ALLOW", "SCMP_ACT_LOG",	   "SCMP_ACT_NOTIFY",
};

static const char *const seccomp_ops[] = {
	"SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE",	    "SCMP_CMP_EQ",
	"SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ",
};

static const char *const seccomp_archs[] = {
	"SCMP_ARCH_X86",     "SCMP_ARCH_X86_64",   "SCMP_ARCH_X32",	    "SCMP_ARCH_ARM",
	"SCMP_ARCH_AARCH64", "SCMP_ARCH_MIPS",	   "SCMP_ARCH_MIPS64",	    "SCMP_ARCH_MIPS64N32",
	"SCMP_ARCH_MIPSEL",  "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",
	"SCMP_ARCH_PPC64",   "SCMP_ARCH_PPC64LE",  "SCMP_ARCH_S390",	    "SCMP_ARCH_S390X",
	"SCMP_ARCH_PARISC",  "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64",	    "SCMP_ARCH_LOONGARCH64",
	"SCMP_ARCH_M68K",    "SCMP_ARCH_SH",	   "SCMP_ARCH_SHEB",
};

static const char *const seccomp_flags[] = {
	"SECCOMP_FILTER_FLAG_TSYNC",
	"SECCOMP_FILTER_FLAG_LOG",
	"SECCOMP_FILTER_FLAG_SPEC_ALLOW",
	"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
};

static bool in_table(const char *const *table, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(table[i], s) == 0)
			return true;
	return false;
}

#define IN_TABLE(t, s) in_table((t), ARRAY_SIZE(t), (s))

/* The names a string array may hold; what names one in errors. */
struct name_table {
	const char *const *names;
	size_t n;
	const char *what;
};

static const struct name_table arch_names = {seccomp_archs, ARRAY_SIZE(seccomp_archs),
					     "seccomp architecture"};
static const struct name_table flag_names = {seccomp_flags, ARRAY_SIZE(seccomp_flags),
					     "seccomp flag"};

/* Each element of a string array in a table, or an error naming it. */
static int check_strv(char **v, size_t n, const struct name_table *t, const char *path,
		      const char *key, struct husk_err *err)
{
	for (size_t i = 0; i < n; i++) {
		if (!in_table(t->names, t->n, v[i])) {
			char where[HUSK__JPATH_MAX];
			husk__jpath_index(where, path, key, i);
			return husk__jerr(err, where, NULL, "unknown %s '%s'", t->what, v[i]);
		}
	}
	return 0;
}

static int check_absolute(char **v, size_t n, const char *path, const char *key,
			  struct husk_err *err)
{
	for (size_t i = 0; i < n; i++) {
		if (!husk__path_is_absolute(v[i])) {
			char where[HUSK__JPATH_MAX];
			husk__jpath_index(where, path, key, i);
			return husk__jerr(err, where, NULL, "'%s' is not an absolute path", v[i]);
		}
	}
	return 0;
}

/* ---- namespaces, mappings, devices ---- */

static int parse_namespace(json_t *obj, const char *path, void *item, struct husk_err *err)
{
	struct husk_namespace *ns = item;
	const char *type = NULL;
	int r = husk__json_cstr(obj, path, "type", true, &type, err);

	if (r < 0)
		return r;
	size_t t;
	for (t = 0; t < _HUSK_NS_TYPE_MAX; t++)
		if (strcmp(type, ns_names[t]) == 0)
			break;
	if (t == _HUSK_NS_TYPE_MAX)
		return husk__jerr(err, path, "type", "unknown namespace type '%s'", type);
	ns->type = (enum husk_ns_type)t;
	if ((r = husk__json_string(obj, path, "path", false, &ns->path, err)) < 0)
		return r;
	/* OCI: the path "MUST be an absolute path in the runtime mount namespace". */
	if (ns->path && !husk__path_is_absolute(ns->path))
		return husk__jerr(err, path, "path", "'%s' is not an absolute path", ns->path);
	return 0;
}

static int parse_namespaces(json_t *obj, const char *path, struct husk_linux *lx,
			    struct husk_err *err)
{
	unsigned seen = 0;
	int r = HUSK__JSON_OBJECTS(obj, path, "namespaces", lx->namespaces, lx->n_namespaces,
				   parse_namespace, err);

	if (r < 0)
		return r;
	/* OCI: "If a namespace type is specified more than once, the runtime MUST error". */
	for (size_t i = 0; i < lx->n_namespaces; i++) {
		unsigned bit = 1u << lx->namespaces[i].type;
		if (seen & bit) {
			char where[HUSK__JPATH_MAX];
			husk__jpath_index(where, path, "namespaces", i);
			return husk__jerr(err, where, "type", "duplicate namespace type '%s'",
					  ns_names[lx->namespaces[i].type]);
		}
		seen |= bit;
	}
	return 0;
}

int husk__parse_id_mapping(json_t *obj, const char *path, void *item, struct husk_err *err)
{
	struct husk_id_mapping *m = item;
	struct husk_opt_u64 v = {0};
	int r = husk__json_u64(HUSK__JFIELD(obj, path, "containerID", true), UINT32_MAX, &v, err);

	if (r < 0)
		return r;
	m->container_id = (uint32_t)v.v;
	if ((r = husk__json_u64(HUSK__JFIELD(obj, path, "hostID", true), UINT32_MAX, &v, err)) < 0)
		return r;
	m->host_id = (uint32_t)v.v;
	if ((r = husk__json_u64(HUSK__JFIELD(obj, path, "size", true), UINT32_MAX, &v, err)) < 0)
		return r;
	m->size = (uint32_t)v.v;
	return 0;
}

static int parse_device_numbers(json_t *obj, const char *path, struct husk_device *d,
				struct husk_err *err)
{
	struct husk_opt_i64 v = {0};
	/* OCI: major and minor are "REQUIRED unless type is p". */
	bool required = d->type != 'p';
	int r = husk__json_i64(HUSK__JFIELD(obj, path, "major", required), 0, DEVNUM_MAX, &v, err);

	if (r < 0)
		return r;
	d->major = v.v;
	v.v = 0;
	if ((r = husk__json_i64(HUSK__JFIELD(obj, path, "minor", required), 0, DEVNUM_MAX, &v,
				err)) < 0)
		return r;
	d->minor = v.v;
	return 0;
}

static int parse_device(json_t *obj, const char *path, void *item, struct husk_err *err)
{
	struct husk_device *d = item;
	const char *type = NULL;
	int r = husk__json_cstr(obj, path, "type", true, &type, err);

	if (r < 0)
		return r;
	if (strlen(type) != 1 || !strchr("cbup", type[0]))
		return husk__jerr(err, path, "type", "invalid device type '%s'", type);
	d->type = type[0];
	if ((r = husk__json_string(obj, path, "path", true, &d->path, err)) < 0)
		return r;
	if (!husk__path_is_absolute(d->path))
		return husk__jerr(err, path, "path", "'%s' is not an absolute path", d->path);
	if ((r = parse_device_numbers(obj, path, d, err)) < 0 ||
	    (r = husk__json_u64(HUSK__JFIELD(obj, path, "fileMode", false), 07777, &d->file_mode,
				err)) < 0 ||
	    (r = husk__json_u64(HUSK__JFIELD(obj, path, "uid", false), ID_MAX, &d->uid, err)) < 0)
		return r;
	return husk__json_u64(HUSK__JFIELD(obj, path, "gid", false), ID_MAX, &d->gid, err);
}

/* ---- seccomp ---- */

static int parse_seccomp_arg(json_t *obj, const char *path, void *item, struct husk_err *err)
{
	struct husk_seccomp_arg *a = item;
	struct husk_opt_u64 v = {0};
	int r = husk__json_u64(HUSK__JFIELD(obj, path, "index", true), SYSCALL_ARGS - 1, &v, err);

	if (r < 0)
		return r;
	a->index = (unsigned)v.v;
	if ((r = husk__json_u64(HUSK__JFIELD(obj, path, "value", true), UINT64_MAX, &v, err)) < 0)
		return r;
	a->value = v.v;
	v.v = 0;
	if ((r = husk__json_u64(HUSK__JFIELD(obj, path, "valueTwo", false), UINT64_MAX, &v, err)) <
	    0)
		return r;
	a->value_two = v.v;
	if ((r = husk__json_string(obj, path, "op", true, &a->op, err)) < 0)
		return r;
	if (!IN_TABLE(seccomp_ops, a->op))
		return husk__jerr(err, path, "op", "unknown seccomp operator '%s'", a->op);
	return 0;
}

/* The keys of an action and of its errno. */
struct action_keys {
	const char *action;
	const char *errno_ret;
};

static const struct action_keys syscall_action = {"action", "errnoRet"};
static const struct action_keys default_action = {"defaultAction", "defaultErrnoRet"};

/* An action with its errno: OCI lets only ERRNO and TRACE carry one. */
static int parse_action(json_t *obj, const char *path, const struct action_keys *keys,
			char **ret_action, struct husk_opt_u64 *ret_errno, struct husk_err *err)
{
	const char *key = keys->action;
	const char *errno_key = keys->errno_ret;
	int r = husk__json_string(obj, path, key, true, ret_action, err);

	if (r < 0)
		return r;
	if (!IN_TABLE(seccomp_actions, *ret_action))
		return husk__jerr(err, path, key, "unknown seccomp action '%s'", *ret_action);
	if ((r = husk__json_u64(HUSK__JFIELD(obj, path, errno_key, false), ERRNO_MAX, ret_errno,
				err)) < 0)
		return r;
	if (ret_errno->set && strcmp(*ret_action, "SCMP_ACT_ERRNO") != 0 &&
	    strcmp(*ret_action, "SCMP_ACT_TRACE") != 0)
		return husk__jerr(err, path, errno_key, "not allowed with action '%s'",
				  *ret_action);
	return 0;
}

static int parse_syscall(json_t *obj, const char *path, void *item, struct husk_err *err)
{
	struct husk_seccomp_syscall *s = item;
	int r = husk__json_strv(HUSK__JFIELD(obj, path, "names", true), &s->names, &s->n_names,
				err);

	if (r < 0)
		return r;
	if (s->n_names == 0)
		return husk__jerr(err, path, "names", "must not be empty");
	for (size_t i = 0; i < s->n_names; i++) {
		if (!s->names[i][0]) {
			char where[HUSK__JPATH_MAX];
			husk__jpath_index(where, path, "names", i);
			return husk__jerr(err, where, NULL, "empty syscall name");
		}
	}
	if ((r = parse_action(obj, path, &syscall_action, &s->action, &s->errno_ret, err)) < 0)
		return r;
	return HUSK__JSON_OBJECTS(obj, path, "args", s->args, s->n_args, parse_seccomp_arg, err);
}

static int parse_seccomp(json_t *obj, const char *path, struct husk_linux *lx, struct husk_err *err)
{
	json_t *o = NULL;
	char w[HUSK__JPATH_MAX];
	int r = husk__json_object(obj, path, "seccomp", false, &o, err);

	if (r < 0 || !o)
		return r;
	struct husk_seccomp *sc = lx->seccomp = calloc(1, sizeof(*sc));
	if (!sc)
		return husk__jerr_nomem(err, path, "seccomp");
	husk__jpath_key(w, path, "seccomp");
	if ((r = parse_action(o, w, &default_action, &sc->default_action, &sc->default_errno_ret,
			      err)) < 0 ||
	    (r = husk__json_strv(HUSK__JFIELD(o, w, "architectures", false), &sc->architectures,
				 &sc->n_architectures, err)) < 0 ||
	    (r = check_strv(sc->architectures, sc->n_architectures, &arch_names, w, "architectures",
			    err)) < 0 ||
	    (r = husk__json_strv(HUSK__JFIELD(o, w, "flags", false), &sc->flags, &sc->n_flags,
				 err)) < 0 ||
	    (r = check_strv(sc->flags, sc->n_flags, &flag_names, w, "flags", err)) < 0)
		return r;
	return HUSK__JSON_OBJECTS(o, w, "syscalls", sc->syscalls, sc->n_syscalls, parse_syscall,
				  err);
}

static void seccomp_free(struct husk_seccomp *sc)
{
	if (!sc)
		return;
	free(sc->default_action);
	husk__strv_free(sc->architectures, sc->n_architectures);
	husk__strv_free(sc->flags, sc->n_flags);
	for (size_t i = 0; i < sc->n_syscalls; i++) {
		struct husk_seccomp_syscall *s = &sc->syscalls[i];
		husk__strv_free(s->names, s->n_names);
		free(s->action);
		for (size_t j = 0; j < s->n_args; j++)
			free(s->args[j].op);
		free(s->args);
	}
	free(sc->syscalls);
	free(sc);
}

/* ---- the rest ---- */

static int parse_personality(json_t *obj, const char *path, struct husk_linux *lx,
			     struct husk_err *err)
{
	json_t *o = NULL;
	char w[HUSK__JPATH_MAX];
	int r = husk__json_object(obj, path, "personality", false, &o, err);

	if (r < 0 || !o)
		return r;
	struct husk_personality *p = lx->personality = calloc(1, sizeof(*p));
	if (!p)
		return husk__jerr_nomem(err, path, "personality");
	husk__jpath_key(w, path, "personality");
	if ((r = husk__json_string(o, w, "domain", true, &p->domain, err)) < 0)
		return r;
	if (strcmp(p->domain, "LINUX") != 0 && strcmp(p->domain, "LINUX32") != 0)
		return husk__jerr(err, w, "domain", "unknown personality domain '%s'", p->domain);
	return husk__json_strv(HUSK__JFIELD(o, w, "flags", false), &p->flags, &p->n_flags, err);
}

static int parse_propagation(json_t *obj, const char *path, struct husk_linux *lx,
			     struct husk_err *err)
{
	int r = husk__json_string(obj, path, "rootfsPropagation", false, &lx->rootfs_propagation,
				  err);

	if (r < 0 || !lx->rootfs_propagation)
		return r;
	/* Go omits an empty string; keep "" and absent the same. */
	if (!lx->rootfs_propagation[0]) {
		free(TAKE_PTR(lx->rootfs_propagation));
		return 0;
	}
	if (!IN_TABLE(propagations, lx->rootfs_propagation))
		return husk__jerr(err, path, "rootfsPropagation", "unknown propagation '%s'",
				  lx->rootfs_propagation);
	return 0;
}

/* A sysctl key becomes a path under /proc/sys: it must stay there. */
static int check_sysctl(const char *path, struct husk_linux *lx, struct husk_err *err)
{
	for (size_t i = 0; i < lx->n_sysctl; i++) {
		const char *k = lx->sysctl[i].key;
		if (k[0] == '/' || k[0] == '.' || strstr(k, ".."))
			return husk__jerr(err, path, "sysctl", "invalid sysctl name '%s'", k);
	}
	return 0;
}

static int parse_resources(json_t *obj, const char *path, struct husk_linux *lx,
			   struct husk_err *err)
{
	json_t *o = NULL;
	char w[HUSK__JPATH_MAX];
	int r = husk__json_object(obj, path, "resources", false, &o, err);

	if (r < 0 || !o)
		return r;
	lx->resources = calloc(1, sizeof(*lx->resources));
	if (!lx->resources)
		return husk__jerr_nomem(err, path, "resources");
	husk__jpath_key(w, path, "resources");
	return husk__resources_from_json(o, w, lx->resources, err);
}

static int parse_paths(json_t *obj, const char *path, struct husk_linux *lx, struct husk_err *err)
{
	int r;

	/* OCI: masked and read-only paths "MUST be absolute paths in the container". */
	if ((r = husk__json_strv(HUSK__JFIELD(obj, path, "maskedPaths", false), &lx->masked_paths,
				 &lx->n_masked_paths, err)) < 0 ||
	    (r = check_absolute(lx->masked_paths, lx->n_masked_paths, path, "maskedPaths", err)) <
		    0 ||
	    (r = husk__json_strv(HUSK__JFIELD(obj, path, "readonlyPaths", false),
				 &lx->readonly_paths, &lx->n_readonly_paths, err)) < 0)
		return r;
	return check_absolute(lx->readonly_paths, lx->n_readonly_paths, path, "readonlyPaths", err);
}

int husk__linux_from_json(json_t *obj, const char *path, struct husk_linux *lx,
			  struct husk_err *err)
{
	int r;

	if ((r = parse_namespaces(obj, path, lx, err)) < 0 ||
	    (r = HUSK__JSON_OBJECTS(obj, path, "uidMappings", lx->uid_mappings, lx->n_uid_mappings,
				    husk__parse_id_mapping, err)) < 0 ||
	    (r = HUSK__JSON_OBJECTS(obj, path, "gidMappings", lx->gid_mappings, lx->n_gid_mappings,
				    husk__parse_id_mapping, err)) < 0 ||
	    (r = HUSK__JSON_OBJECTS(obj, path, "devices", lx->devices, lx->n_devices, parse_device,
				    err)) < 0 ||
	    (r = husk__json_string(obj, path, "cgroupsPath", false, &lx->cgroups_path, err)) < 0 ||
	    (r = parse_resources(obj, path, lx, err)) < 0 ||
	    (r = husk__json_kv(obj, path, "sysctl", &lx->sysctl, &lx->n_sysctl, err)) < 0 ||
	    (r = check_sysctl(path, lx, err)) < 0 || (r = parse_paths(obj, path, lx, err)) < 0 ||
	    (r = parse_propagation(obj, path, lx, err)) < 0 ||
	    (r = parse_seccomp(obj, path, lx, err)) < 0 ||
	    (r = parse_personality(obj, path, lx, err)) < 0)
		return r;
	return husk__json_string(obj, path, "mountLabel", false, &lx->mount_label, err);
}

void husk__linux_done(struct husk_linux *lx)
{
	for (size_t i = 0; i < lx->n_namespaces; i++)
		free(lx->namespaces[i].path);
	free(lx->namespaces);
	free(lx->uid_mappings);
	free(lx->gid_mappings);
	for (size_t i = 0; i < lx->n_devices; i++)
		free(lx->devices[i].path);
	free(lx->devices);
	free(lx->cgroups_path);
	husk_resources_free(lx->resources);
	husk__kv_free(lx->sysctl, lx->n_sysctl);
	husk__strv_free(lx->masked_paths, lx->n_masked_paths);
	husk__strv_free(lx->readonly_paths, lx->n_readonly_paths);
	free(lx->rootfs_propagation);
	seccomp_free(lx->seccomp);
	if (lx->personality) {
		free(lx->personality->domain);
		husk__strv_free(lx->personality->flags, lx->personality->n_flags);
		free(lx->personality);
	}
	free(lx->mount_label);
}
