/* config.json → struct husk_spec: the top level, root, mounts, hooks, annotations, loading. */
#include "husk/spec.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include "husk/cleanup.h"
#include "husk/err.h"
#include "husk/log.h"
#include "mount_opts.h"
#include "spec_internal.h"
#include "spec_json.h"

/* OCI: a hook's timeout "MUST be greater than zero"; seconds, kept well away from overflow. */
#define HOOK_TIMEOUT_MAX INT32_MAX

static const char *const hook_names[_HUSK_HOOK_KIND_MAX] = {
	[HUSK_HOOK_PRESTART] = "prestart",
	[HUSK_HOOK_CREATE_RUNTIME] = "createRuntime",
	[HUSK_HOOK_CREATE_CONTAINER] = "createContainer",
	[HUSK_HOOK_START_CONTAINER] = "startContainer",
	[HUSK_HOOK_POSTSTART] = "poststart",
	[HUSK_HOOK_POSTSTOP] = "poststop",
};

const char *husk_hook_kind_to_string(enum husk_hook_kind kind)
{
	if ((unsigned)kind >= _HUSK_HOOK_KIND_MAX)
		return NULL;
	return hook_names[kind];
}

static int parse_root(json_t *obj, struct husk_spec *spec, struct husk_err *err)
{
	json_t *o = NULL;
	/* OCI: root is REQUIRED on every platform but Windows Hyper-V; root.path is REQUIRED. */
	int r = husk__json_object(obj, "", "root", true, &o, err);

	if (r < 0)
		return r;
	if ((r = husk__json_string(o, "root", "path", true, &spec->root_path, err)) < 0)
		return r;
	if (!spec->root_path[0])
		return husk__jerr(err, "root", "path", "must not be empty");
	return husk__json_bool(o, "root", "readonly", &spec->root_readonly, err);
}

/*
 * OCI: a relative destination is deprecated and "MUST be interpreted as relative to '/'";
 * store it absolute so that nothing downstream has to remember that.
 */
static int absolute_destination(struct husk_mount *m, const char *path, struct husk_err *err)
{
	if (m->destination[0] == '/')
		return 0;
	size_t n = strlen(m->destination);
	char *abs = malloc(n + 2);
	if (!abs)
		return husk__jerr_nomem(err, path, "destination");
	abs[0] = '/';
	memcpy(abs + 1, m->destination, n + 1);
	free(m->destination);
	m->destination = abs;
	return 0;
}

static int check_options(const struct husk_mount *m, const char *path, struct husk_err *err)
{
	for (size_t i = 0; i < m->n_options; i++) {
		const char *why = husk__mount_opt_invalid(m->options[i]);
		if (why) {
			char where[HUSK__JPATH_MAX];
			husk__jpath_index(where, path, "options", i);
			return husk__jerr(err, where, NULL, "%s", why);
		}
	}
	return 0;
}

static int parse_mount(json_t *obj, const char *path, void *item, struct husk_err *err)
{
	struct husk_mount *m = item;
	int r = husk__json_string(obj, path, "destination", true, &m->destination, err);

	if (r < 0)
		return r;
	if (!m->destination[0])
		return husk__jerr(err, path, "destination", "must not be empty");
	if ((r = absolute_destination(m, path, err)) < 0)
		return r;
	if ((r = husk__json_string(obj, path, "type", false, &m->type, err)) < 0 ||
	    (r = husk__json_string(obj, path, "source", false, &m->source, err)) < 0)
		return r;
	if ((r = husk__json_strv(HUSK__JFIELD(obj, path, "options", false), &m->options,
				 &m->n_options, err)) < 0 ||
	    (r = HUSK__JSON_OBJECTS(obj, path, "uidMappings", m->uid_mappings, m->n_uid_mappings,
				    husk__parse_id_mapping, err)) < 0 ||
	    (r = HUSK__JSON_OBJECTS(obj, path, "gidMappings", m->gid_mappings, m->n_gid_mappings,
				    husk__parse_id_mapping, err)) < 0)
		return r;
	return check_options(m, path, err);
}

static int parse_hook(json_t *obj, const char *path, void *item, struct husk_err *err)
{
	struct husk_hook *h = item;
	int r = husk__json_string(obj, path, "path", true, &h->path, err);

	if (r < 0)
		return r;
	/* OCI: the hook's path "MUST be absolute" (it is run with no PATH lookup). */
	if (!husk__path_is_absolute(h->path))
		return husk__jerr(err, path, "path", "'%s' is not an absolute path", h->path);
	if ((r = husk__json_strv(HUSK__JFIELD(obj, path, "args", false), &h->args, &h->n_args,
				 err)) < 0 ||
	    (r = husk__json_strv(HUSK__JFIELD(obj, path, "env", false), &h->env, &h->n_env, err)) <
		    0)
		return r;
	return husk__json_i64(HUSK__JFIELD(obj, path, "timeout", false), 1, HOOK_TIMEOUT_MAX,
			      &h->timeout, err);
}

/* hooks.<kind>: the hooks of one kind. */
static int parse_hook_kind(json_t *hooks, size_t k, struct husk_spec *spec, struct husk_err *err)
{
	return HUSK__JSON_OBJECTS(hooks, "hooks", hook_names[k], spec->hooks.list[k],
				  spec->hooks.n[k], parse_hook, err);
}

static int parse_hooks(json_t *obj, struct husk_spec *spec, struct husk_err *err)
{
	json_t *o = NULL;
	int r = husk__json_object(obj, "", "hooks", false, &o, err);

	if (r < 0 || !o)
		return r;
	for (size_t k = 0; k < _HUSK_HOOK_KIND_MAX; k++)
		if ((r = parse_hook_kind(o, k, spec, err)) < 0)
			return r;
	return 0;
}

static int parse_process(json_t *obj, struct husk_spec *spec, struct husk_err *err)
{
	json_t *o = NULL;
	int r = husk__json_object(obj, "", "process", false, &o, err);

	if (r < 0 || !o)
		return r;
	spec->process = calloc(1, sizeof(*spec->process));
	if (!spec->process)
		return husk__jerr_nomem(err, "", "process");
	return husk__process_from_json(o, "process", spec->process, err);
}

static int parse_linux(json_t *obj, struct husk_spec *spec, struct husk_err *err)
{
	json_t *o = NULL;
	int r = husk__json_object(obj, "", "linux", false, &o, err);

	if (r < 0 || !o)
		return r;
	spec->linux_ = calloc(1, sizeof(*spec->linux_));
	if (!spec->linux_)
		return husk__jerr_nomem(err, "", "linux");
	return husk__linux_from_json(o, "linux", spec->linux_, err);
}

static int spec_from_json(json_t *root, struct husk_spec *spec, struct husk_err *err)
{
	int r;

	if ((r = husk__json_string(root, "", "ociVersion", true, &spec->oci_version, err)) < 0 ||
	    (r = parse_process(root, spec, err)) < 0 || (r = parse_root(root, spec, err)) < 0 ||
	    (r = husk__json_string(root, "", "hostname", false, &spec->hostname, err)) < 0 ||
	    (r = husk__json_string(root, "", "domainname", false, &spec->domainname, err)) < 0 ||
	    (r = HUSK__JSON_OBJECTS(root, "", "mounts", spec->mounts, spec->n_mounts, parse_mount,
				    err)) < 0 ||
	    (r = parse_hooks(root, spec, err)) < 0 ||
	    (r = husk__json_kv(root, "", "annotations", &spec->annotations, &spec->n_annotations,
			       err)) < 0)
		return r;
	return parse_linux(root, spec, err);
}

int husk_spec_parse(const char *json, size_t len, struct husk_spec **ret_spec, struct husk_err *err)
{
	_cleanup_json_ json_t *root = NULL;
	int r = husk__json_load(json, len, "spec", &root, err);

	if (r < 0)
		return r;
	struct husk_spec *spec = calloc(1, sizeof(*spec));
	if (!spec)
		return husk_err_errno(err, ENOMEM, "spec");
	r = spec_from_json(root, spec, err);
	if (r < 0) {
		husk_spec_free(spec);
		return r;
	}
	*ret_spec = spec;
	return 0;
}

/* ---- loading ---- */

static int read_limited(int fd, const char *path, char **ret, size_t *ret_len, struct husk_err *err)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return husk_err_errno(err, errno, "stat '%s'", path);
	if (!S_ISREG(st.st_mode))
		return husk_err_set(err, HUSK_ERR_INVALID, 0, "'%s' is not a regular file", path);
	if (st.st_size > (off_t)HUSK_SPEC_MAX_SIZE)
		return husk_err_set(err, HUSK_ERR_INVALID, 0,
				    "'%s': %lld bytes exceed the limit of %u bytes", path,
				    (long long)st.st_size, HUSK_SPEC_MAX_SIZE);

	/* One byte more than the limit, so that a file that grew meanwhile is still caught. */
	size_t cap = (size_t)st.st_size + 1;
	size_t len = 0;
	_cleanup_free_ char *buf = malloc(cap);
	if (!buf)
		return husk_err_errno(err, ENOMEM, "read '%s'", path);
	for (;;) {
		if (len == cap) {
			if (cap > HUSK_SPEC_MAX_SIZE)
				break;
			size_t ncap =
				cap * 2 > HUSK_SPEC_MAX_SIZE + 1 ? HUSK_SPEC_MAX_SIZE + 1 : cap * 2;
			char *nbuf = realloc(buf, ncap);
			if (!nbuf)
				return husk_err_errno(err, ENOMEM, "read '%s'", path);
			buf = nbuf;
			cap = ncap;
		}
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return husk_err_errno(err, errno, "read '%s'", path);
		if (n == 0)
			break;
		len += (size_t)n;
	}
	*ret = TAKE_PTR(buf);
	*ret_len = len;
	return 0;
}

/* bundle (made absolute against the cwd) + "/" + rel. */
static int join_bundle(const char *bundle, const char *rel, char **ret, struct husk_err *err)
{
	char cwd[PATH_MAX] = "";

	if (bundle[0] != '/' && !getcwd(cwd, sizeof(cwd)))
		return husk_err_errno(err, errno, "getcwd");
	size_t nb = strlen(bundle);
	while (nb > 1 && bundle[nb - 1] == '/')
		nb--;
	size_t nc = strlen(cwd);
	const char *cwd_sep = nc && cwd[nc - 1] != '/' ? "/" : "";
	/* The byte before rel: the bundle's last, else the cwd part's (which ends in '/'). */
	bool slash_before_rel = nb ? bundle[nb - 1] == '/' : nc > 0;
	const char *rel_sep = slash_before_rel ? "" : "/";
	if (nb > INT_MAX ||
	    asprintf(ret, "%s%s%.*s%s%s", cwd, cwd_sep, (int)nb, bundle, rel_sep, rel) < 0)
		return husk_err_errno(err, ENOMEM, "root.path");
	return 0;
}

int husk_spec_load(const char *bundle, struct husk_spec **ret_spec, struct husk_err *err)
{
	char path[PATH_MAX];
	int n = snprintf(path, sizeof(path), "%s/config.json", bundle);

	if (n < 0 || (size_t)n >= sizeof(path))
		return husk_err_set(err, HUSK_ERR_INVALID, 0, "bundle path too long");
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 && errno == ENOENT)
		return husk_err_set(err, HUSK_ERR_NOT_FOUND, ENOENT, "open '%s'", path);
	if (fd < 0)
		return husk_err_errno(err, errno, "open '%s'", path);

	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	int r = read_limited(fd, path, &buf, &len, err);
	if (r < 0)
		return r;
	struct husk_spec *spec = NULL;
	r = husk_spec_parse(buf, len, &spec, err);
	if (r < 0) {
		(void)husk_err_prefix(err, "'%s'", path);
		return r;
	}
	husk_assert(spec && spec->root_path);
	if (spec->root_path[0] != '/') {
		char *abs = NULL;
		r = join_bundle(bundle, spec->root_path, &abs, err);
		if (r < 0) {
			husk_spec_free(spec);
			return r;
		}
		free(spec->root_path);
		spec->root_path = abs;
	}
	*ret_spec = spec;
	return 0;
}

/* ---- freeing and lookups ---- */

static void mounts_free(struct husk_mount *m, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(m[i].destination);
		free(m[i].type);
		free(m[i].source);
		husk__strv_free(m[i].options, m[i].n_options);
		free(m[i].uid_mappings);
		free(m[i].gid_mappings);
	}
	free(m);
}

static void hooks_free(struct husk_hooks *hooks)
{
	for (size_t k = 0; k < _HUSK_HOOK_KIND_MAX; k++) {
		for (size_t i = 0; i < hooks->n[k]; i++) {
			struct husk_hook *h = &hooks->list[k][i];
			free(h->path);
			husk__strv_free(h->args, h->n_args);
			husk__strv_free(h->env, h->n_env);
		}
		free(hooks->list[k]);
	}
}

struct husk_spec *husk_spec_free(struct husk_spec *spec)
{
	if (!spec)
		return NULL;
	free(spec->oci_version);
	husk_process_free(spec->process);
	free(spec->root_path);
	free(spec->hostname);
	free(spec->domainname);
	mounts_free(spec->mounts, spec->n_mounts);
	hooks_free(&spec->hooks);
	husk__kv_free(spec->annotations, spec->n_annotations);
	if (spec->linux_) {
		husk__linux_done(spec->linux_);
		free(spec->linux_);
	}
	free(spec);
	return NULL;
}

const char *husk_spec_annotation(const struct husk_spec *spec, const char *key)
{
	if (!spec || !key)
		return NULL;
	for (size_t i = 0; i < spec->n_annotations; i++)
		if (strcmp(spec->annotations[i].key, key) == 0)
			return spec->annotations[i].value;
	return NULL;
}

const struct husk_namespace *husk_spec_namespace(const struct husk_spec *spec,
						 enum husk_ns_type type)
{
	if (!spec || !spec->linux_)
		return NULL;
	for (size_t i = 0; i < spec->linux_->n_namespaces; i++)
		if (spec->linux_->namespaces[i].type == type)
			return &spec->linux_->namespaces[i];
	return NULL;
}
