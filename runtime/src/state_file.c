/*
 * State files: the JSON codec (pure, on buffers) and the file operations around it
 * (create, load, save, destroy). Integer widths are the file format here, so the whole
 * file is built with -Wconversion -Wsign-conversion (STYLE section 1).
 */
#include "state_file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include <jansson.h>

#include "fs.h"
#include "husk/cleanup.h"
#include "husk/err.h"
#include "husk/log.h"
#include "husk/process.h"

#pragma GCC diagnostic error "-Wconversion"
#pragma GCC diagnostic error "-Wsign-conversion"

#define STATE_VERSION 1

/* jansson's json_auto_t releases with json_decref() at scope exit. */

/* ---- boot id ---- */

/* A boot id as the kernel prints it: 36 characters of lowercase hex digits and dashes. */
static bool boot_id_valid(const char *s)
{
	size_t n = strlen(s);
	if (n != HUSK_BOOT_ID_LEN)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!strchr("0123456789abcdef-", s[i]))
			return false;
	return true;
}

int husk_boot_id(char ret[HUSK_BOOT_ID_LEN + 1])
{
	static char cached[HUSK_BOOT_ID_LEN + 1];
	static int cached_r = 1;

	if (cached_r > 0) {
		_cleanup_free_ char *buf = NULL;
		size_t len = 0;
		cached_r = husk__read_file_at(AT_FDCWD, "/proc/sys/kernel/random/boot_id", 64, &buf,
					      &len);
		if (cached_r == 0) {
			while (len > 0 && buf[len - 1] == '\n')
				buf[--len] = '\0';
			if (boot_id_valid(buf))
				memcpy(cached, buf, HUSK_BOOT_ID_LEN + 1);
			else
				cached_r = -EINVAL;
		}
	}
	if (cached_r < 0)
		return cached_r;
	memcpy(ret, cached, HUSK_BOOT_ID_LEN + 1);
	return 0;
}

/* ---- codec: format ---- */

static int put(json_t *obj, const char *key, json_t *value)
{
	/* json_object_set_new() takes value even on failure; NULL is an allocation failure. */
	if (!value || json_object_set_new(obj, key, value) < 0)
		return -ENOMEM;
	return 0;
}

static json_t *string_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *u64_value(uint64_t v)
{
	/* jansson integers are long long; the codec refuses larger values on both sides. */
	return v > (uint64_t)LLONG_MAX ? NULL : json_integer((json_int_t)v);
}

static int format_fields(const struct husk_state *s, json_t *o)
{
	int r = 0;
	r = r ?: put(o, "version", json_integer(STATE_VERSION));
	r = r ?: put(o, "container_id", json_string(s->id.container));
	r = r ?: put(o, "sandbox_id", json_string(s->id.sandbox));
	r = r ?: put(o, "bundle", json_string(s->bundle));
	r = r ?: put(o, "status", json_string(husk_status_to_string(s->status)));
	r = r ?: put(o, "created_ns", json_integer(s->created_ns));
	r = r ?: put(o, "owner", json_integer((json_int_t)s->owner));
	r = r ?: put(o, "engine", json_string(s->engine));
	r = r ?: put(o, "cgroup_path", string_or_null(s->cgroup_path));
	r = r ?: put(o, "init_pid", json_integer(s->init_pid));
	r = r ?: put(o, "init_start_time", u64_value(s->init_start_time));
	r = r ?: put(o, "gofer_pid", json_integer(s->gofer_pid));
	r = r ?: put(o, "gofer_start_time", u64_value(s->gofer_start_time));
	r = r ?: put(o, "exited", json_boolean(s->exited));
	r = r ?: put(o, "exit_status", json_integer(s->exit_status));
	r = r ?: put(o, "exited_ns", json_integer(s->exited_ns));
	r = r ?: put(o, "engine_data", string_or_null(s->engine_data));
	if (s->boot_id[0])
		r = r ?: put(o, "boot_id", json_string(s->boot_id));
	return r;
}

int husk_state_format(const struct husk_state *state, char **ret_json, struct husk_err *err)
{
	if (!husk_id_valid(state->id.container) || !husk_id_valid(state->id.sandbox))
		return husk_err_set(err, HUSK_ERR_INVALID, 0, "format state: invalid id");
	if (!husk_status_to_string(state->status))
		return husk_err_set(err, HUSK_ERR_INVALID, 0, "format state: invalid status %d",
				    (int)state->status);
	if (!state->bundle || !state->engine)
		return husk_err_set(err, HUSK_ERR_INVALID, 0,
				    "format state: bundle and engine are required");
	if (state->boot_id[0] && !boot_id_valid(state->boot_id))
		return husk_err_set(err, HUSK_ERR_INVALID, 0, "format state: invalid boot id");
	if (state->init_start_time > (uint64_t)LLONG_MAX ||
	    state->gofer_start_time > (uint64_t)LLONG_MAX)
		return husk_err_set(err, HUSK_ERR_INVALID, 0, "format state: start time too large");

	json_auto_t *o = json_object();
	if (!o || format_fields(state, o) < 0)
		return husk_err_set(err, HUSK_ERR_INTERNAL, ENOMEM, "format state");
	char *text = json_dumps(o, JSON_INDENT(2));
	if (!text)
		return husk_err_set(err, HUSK_ERR_INTERNAL, ENOMEM, "format state");
	*ret_json = text;
	return 0;
}

/* ---- codec: parse ---- */

static json_t *get(json_t *o, const char *name, bool required, struct husk_err *err, int *r)
{
	json_t *v = json_object_get(o, name);
	if (!v && required)
		*r = husk_err_set(err, HUSK_ERR_INVALID, 0, "state field '%s': missing", name);
	return v;
}

/* An integer field's name, whether it must be present, and its inclusive range. */
struct int_field {
	const char *name;
	bool required;
	json_int_t min;
	json_int_t max;
};

static int get_int(json_t *o, const struct int_field *f, json_int_t *ret, struct husk_err *err)
{
	const char *name = f->name;
	json_int_t min = f->min;
	json_int_t max = f->max;
	int r = 0;
	json_t *v = get(o, name, f->required, err, &r);
	if (r < 0 || !v)
		return r;
	if (!json_is_integer(v))
		return husk_err_set(err, HUSK_ERR_INVALID, 0, "state field '%s': expected integer",
				    name);
	json_int_t i = json_integer_value(v);
	if (i < min || i > max)
		return husk_err_set(err, HUSK_ERR_INVALID, 0,
				    "state field '%s': %lld out of range %lld..%lld", name,
				    (long long)i, (long long)min, (long long)max);
	*ret = i;
	return 0;
}

/* A string field; NULL (or absent, when optional) gives *ret = NULL. Copies the string. */
static int get_str(json_t *o, const char *name, bool required, bool nullable, char **ret,
		   struct husk_err *err)
{
	int r = 0;
	json_t *v = get(o, name, required, err, &r);
	if (r < 0 || !v)
		return r;
	if (nullable && json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return husk_err_set(err, HUSK_ERR_INVALID, 0, "state field '%s': expected string",
				    name);
	size_t len = json_string_length(v);
	const char *s = json_string_value(v);
	if (strlen(s) != len)
		return husk_err_set(err, HUSK_ERR_INVALID, 0, "state field '%s': holds a NUL",
				    name);
	char *copy = strdup(s);
	if (!copy)
		return husk_err_set(err, HUSK_ERR_INTERNAL, ENOMEM, "state field '%s'", name);
	*ret = copy;
	return 0;
}

static int get_id(json_t *o, const char *name, char ret[HUSK_ID_MAX + 1], struct husk_err *err)
{
	char *s = NULL;
	int r = get_str(o, name, true, false, &s, err);
	if (r < 0)
		return r;
	if (husk_id_valid(s))
		memcpy(ret, s, strlen(s) + 1);
	else
		r = husk_err_set(err, HUSK_ERR_INVALID, 0, "state field '%s': invalid id '%s'",
				 name, s);
	free(s);
	return r;
}

static int parse_strings(json_t *o, struct husk_state *s, struct husk_err *err)
{
	int r = get_id(o, "container_id", s->id.container, err);
	r = r ?: get_id(o, "sandbox_id", s->id.sandbox, err);
	r = r ?: get_str(o, "bundle", true, false, &s->bundle, err);
	if (r == 0 && s->bundle[0] != '/')
		r = husk_err_set(err, HUSK_ERR_INVALID, 0, "state field 'bundle': not absolute");
	r = r ?: get_str(o, "engine", true, false, &s->engine, err);
	if (r == 0 && s->engine[0] == '\0')
		r = husk_err_set(err, HUSK_ERR_INVALID, 0, "state field 'engine': empty");
	r = r ?: get_str(o, "cgroup_path", false, true, &s->cgroup_path, err);
	r = r ?: get_str(o, "engine_data", false, true, &s->engine_data, err);

	/* Absent in files written before boot ids were recorded: never judged stale. */
	_cleanup_free_ char *boot = NULL;
	r = r ?: get_str(o, "boot_id", false, false, &boot, err);
	if (r == 0 && boot) {
		if (!boot_id_valid(boot))
			r = husk_err_set(err, HUSK_ERR_INVALID, 0,
					 "state field 'boot_id': not a boot id: '%s'", boot);
		else
			memcpy(s->boot_id, boot, HUSK_BOOT_ID_LEN + 1);
	}

	_cleanup_free_ char *status = NULL;
	r = r ?: get_str(o, "status", true, false, &status, err);
	if (r == 0) {
		s->status = husk_status_from_string(status);
		if ((unsigned)s->status >= _HUSK_STATUS_MAX)
			r = husk_err_set(err, HUSK_ERR_INVALID, 0,
					 "state field 'status': unknown status '%s'", status);
	}
	return r;
}

static int parse_numbers(json_t *o, struct husk_state *s, struct husk_err *err)
{
	json_int_t v = 0;
	json_int_t pid_max = INT32_MAX;
	json_int_t ll_max = LLONG_MAX;
	/* (uid_t)-1 means "no owner" to chown(2): never a recorded owner. */
	json_int_t uid_max = (json_int_t)UINT32_MAX - 1;
	int r = get_int(o, &(struct int_field){"version", true, STATE_VERSION, STATE_VERSION}, &v,
			err);
	if (r < 0)
		return r;

	r = get_int(o, &(struct int_field){"created_ns", true, 0, ll_max}, &v, err);
	s->created_ns = v;
	r = r ?: get_int(o, &(struct int_field){"owner", true, 0, uid_max}, &v, err);
	s->owner = (uid_t)v;
	r = r ?: get_int(o, &(struct int_field){"init_pid", true, 0, pid_max}, &v, err);
	s->init_pid = (pid_t)v;
	r = r ?: get_int(o, &(struct int_field){"init_start_time", true, 0, ll_max}, &v, err);
	s->init_start_time = (uint64_t)v;
	v = 0;
	r = r ?: get_int(o, &(struct int_field){"gofer_pid", false, 0, pid_max}, &v, err);
	s->gofer_pid = (pid_t)v;
	v = 0;
	r = r ?: get_int(o, &(struct int_field){"gofer_start_time", false, 0, ll_max}, &v, err);
	s->gofer_start_time = (uint64_t)v;
	v = 0;
	r = r ?: get_int(o, &(struct int_field){"exit_status", false, 0, 255}, &v, err);
	s->exit_status = (int)v;
	v = 0;
	r = r ?: get_int(o, &(struct int_field){"exited_ns", false, 0, ll_max}, &v, err);
	s->exited_ns = v;
	if (r < 0)
		return r;

	json_t *ex = json_object_get(o, "exited");
	if (ex && !json_is_boolean(ex))
		return husk_err_set(err, HUSK_ERR_INVALID, 0,
				    "state field 'exited': expected boolean");
	s->exited = json_is_true(ex);
	return 0;
}

int husk_state_parse(const char *json, size_t len, struct husk_state *ret, struct husk_err *err)
{
	if (len > HUSK_STATE_MAX_SIZE)
		return husk_err_set(err, HUSK_ERR_INVALID, 0, "state larger than %u bytes",
				    HUSK_STATE_MAX_SIZE);

	json_error_t jerr;
	json_auto_t *o = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!o)
		return husk_err_set(err, HUSK_ERR_INVALID, 0, "state: invalid json at line %d: %s",
				    jerr.line, jerr.text);
	if (!json_is_object(o))
		return husk_err_set(err, HUSK_ERR_INVALID, 0, "state: expected an object");

	struct husk_state s = {0};
	int r = parse_numbers(o, &s, err);
	r = r ?: parse_strings(o, &s, err);
	if (r < 0) {
		husk_state_done(&s);
		return r;
	}
	*ret = s;
	return 0;
}

/* ---- state values ---- */

void husk_state_done(struct husk_state *state)
{
	if (!state)
		return;
	free(state->bundle);
	free(state->engine);
	free(state->cgroup_path);
	free(state->engine_data);
	*state = (struct husk_state){0};
}

static int dup_opt(const char *src, char **dst)
{
	*dst = NULL;
	if (!src)
		return 0;
	*dst = strdup(src);
	return *dst ? 0 : -ENOMEM;
}

int husk_state_copy(const struct husk_state *src, struct husk_state *dst)
{
	struct husk_state c = *src;
	c.bundle = c.engine = c.cgroup_path = c.engine_data = NULL;
	int r = dup_opt(src->bundle, &c.bundle);
	r = r ?: dup_opt(src->engine, &c.engine);
	r = r ?: dup_opt(src->cgroup_path, &c.cgroup_path);
	r = r ?: dup_opt(src->engine_data, &c.engine_data);
	if (r < 0) {
		husk_state_done(&c);
		return r;
	}
	*dst = c;
	return 0;
}

/* ---- root ---- */

int husk_state_root_open(const char *path, struct husk_state_root **ret, struct husk_err *err)
{
	int r = husk__mkdir_p_at(AT_FDCWD, path, 0711);
	if (r < 0)
		return husk_err_errno(err, -r, "create state root '%s'", path);

	struct husk_state_root *root = calloc(1, sizeof(*root));
	if (!root)
		return husk_err_errno(err, ENOMEM, "open state root '%s'", path);
	root->dirfd = husk__open_dir_at(AT_FDCWD, path);
	if (root->dirfd < 0) {
		r = husk_err_errno(err, -root->dirfd, "open state root '%s'", path);
		free(root);
		return r;
	}
	root->path = strdup(path);
	if (!root->path) {
		husk_state_root_free(root);
		return husk_err_errno(err, ENOMEM, "open state root '%s'", path);
	}
	*ret = root;
	return 0;
}

struct husk_state_root *husk_state_root_free(struct husk_state_root *root)
{
	if (!root)
		return NULL;
	root->dirfd = husk_safe_close(root->dirfd);
	free(root->path);
	free(root);
	return NULL;
}

const char *husk_state_root_path(const struct husk_state_root *root)
{
	return root->path;
}

/* ---- load ---- */

/*
 * A file of an earlier boot: its pids and start times name processes of that boot (a pid
 * and start time can match an unrelated process of this one), so they are dropped.
 */
static bool mark_stale(struct husk_state *s, const char *name)
{
	char now[HUSK_BOOT_ID_LEN + 1];
	if (!s->boot_id[0] || husk_boot_id(now) < 0 || strcmp(now, s->boot_id) == 0)
		return false;
	husk_warn("state file '%s' is from an earlier boot (boot id %s), reporting it as stale "
		  "and stopped, continuing",
		  name, s->boot_id);
	s->stale = true;
	s->status = HUSK_STATUS_STOPPED;
	s->init_pid = s->gofer_pid = 0;
	s->init_start_time = s->gofer_start_time = 0;
	return true;
}

/* Created/Running/Paused with the init gone (or its pid recycled) is really Stopped. */
static void correct_status(struct husk_state *s, bool quiet)
{
	unsigned live = HUSK_STATUS_BIT(HUSK_STATUS_CREATED) |
			HUSK_STATUS_BIT(HUSK_STATUS_RUNNING) | HUSK_STATUS_BIT(HUSK_STATUS_PAUSED);
	if (!(live & HUSK_STATUS_BIT(s->status)))
		return;
	if (s->init_pid > 0 && husk_proc_alive(s->init_pid, s->init_start_time))
		return;
	if (!quiet)
		husk_warn("container '%s': init pid %d (start time %llu) is gone, reporting '%s' "
			  "as stopped, continuing",
			  s->id.container, (int)s->init_pid, (unsigned long long)s->init_start_time,
			  husk_status_to_string(s->status));
	s->status = HUSK_STATUS_STOPPED;
}

static int file_read(struct husk_state_root *root, const char *name, const struct husk_full_id *id,
		     bool quiet, struct husk_state *ret, struct husk_err *err)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	int r = husk__read_file_at(root->dirfd, name, HUSK_STATE_MAX_SIZE, &buf, &len);
	if (r == -ENOENT)
		return husk_err_set(err, HUSK_ERR_NOT_FOUND, ENOENT,
				    "container '%s' not found in sandbox '%s'", id->container,
				    id->sandbox);
	if (r == -EFBIG)
		return husk_err_set(err, HUSK_ERR_INVALID, 0,
				    "state file '%s': larger than %u bytes", name,
				    HUSK_STATE_MAX_SIZE);
	if (r < 0)
		return husk_err_errno(err, -r, "read state file '%s'", name);

	struct husk_state s = {0};
	r = husk_state_parse(buf, len, &s, err);
	if (r < 0)
		return husk_err_prefix(err, "state file '%s'", name);
	/* The name is the key: a file whose content names another container is corrupt. */
	if (strcmp(s.id.container, id->container) != 0 || strcmp(s.id.sandbox, id->sandbox) != 0) {
		husk_state_done(&s);
		return husk_err_set(err, HUSK_ERR_INVALID, 0,
				    "state file '%s': holds the state of another container", name);
	}
	if (!mark_stale(&s, name))
		correct_status(&s, quiet);
	*ret = s;
	return 0;
}

int husk__state_file_read(struct husk_state_root *root, const char *name,
			  const struct husk_full_id *id, struct husk_state *ret,
			  struct husk_err *err)
{
	return file_read(root, name, id, /* quiet= */ false, ret, err);
}

static int names_for(const struct husk_full_id *id, char state[NAME_MAX + 1],
		     char lock[NAME_MAX + 1], struct husk_err *err)
{
	if (husk_full_id_filename(id, HUSK__STATE_SUFFIX, state, NAME_MAX + 1) < 0 ||
	    husk_full_id_filename(id, HUSK__LOCK_SUFFIX, lock, NAME_MAX + 1) < 0)
		return husk_err_set(err, HUSK_ERR_INVALID, ENAMETOOLONG,
				    "container '%s' in sandbox '%s': ids too long for a file name",
				    id->container, id->sandbox);
	return 0;
}

static struct husk_state_handle *handle_new(struct husk_state_root *root)
{
	struct husk_state_handle *h = calloc(1, sizeof(*h));
	if (h) {
		h->root = root;
		h->lock_fd = -1;
	}
	return h;
}

int husk_state_load(struct husk_state_root *root, const struct husk_full_id *id, bool lock,
		    struct husk_state_handle **ret, struct husk_err *err)
{
	char sname[NAME_MAX + 1];
	char lname[NAME_MAX + 1];
	int r = husk_full_id_set(&(struct husk_full_id){0}, id->sandbox, id->container, err);
	r = r ?: names_for(id, sname, lname, err);
	if (r < 0)
		return r;

	struct husk_state_handle *h = handle_new(root);
	if (!h)
		return husk_err_errno(err, ENOMEM, "load container '%s'", id->container);
	h->state.id = *id;
	r = lock ? husk_state_lock(h, err) : 0;
	r = r ?: husk__state_file_read(root, sname, id, &h->state, err);
	if (r < 0) {
		if (h->lock_fd >= 0 && r == -ENOENT)
			(void)unlinkat(root->dirfd, lname, 0);
		husk_state_handle_free(h);
		return r;
	}
	*ret = h;
	return 0;
}

struct husk_state *husk_state_handle_state(struct husk_state_handle *h)
{
	return &h->state;
}

int husk_state_lock(struct husk_state_handle *h, struct husk_err *err)
{
	if (h->lock_fd >= 0)
		return 0;
	char sname[NAME_MAX + 1];
	char lname[NAME_MAX + 1];
	int r = names_for(&h->state.id, sname, lname, err);
	if (r < 0)
		return r;
	r = husk__lock_take(h->root->dirfd, lname, HUSK__LOCK_CREATE, &h->lock_fd, NULL);
	if (r == -ETIMEDOUT)
		return husk_err_set(
			err, HUSK_ERR_INTERNAL, ETIMEDOUT,
			"container '%s' is busy: another process held its lock for %d ms",
			h->state.id.container, husk__lock_timeout_ms);
	if (r < 0)
		return husk_err_errno(err, -r, "lock '%s'", lname);
	return 0;
}

int husk_state_reload(struct husk_state_handle *h, struct husk_err *err)
{
	char sname[NAME_MAX + 1];
	char lname[NAME_MAX + 1];
	struct husk_state fresh = {0};
	int r = names_for(&h->state.id, sname, lname, err);

	/* A holder of the container already knows (or is told by its reaper) that the init
	 * is gone: correct the status, without the warning a loader gets. */
	r = r ?: file_read(h->root, sname, &h->state.id, /* quiet= */ true, &fresh, err);
	if (r == -ENOENT) {
		/* A lock file that taking the lock re-created must not outlive the container. */
		if (h->lock_fd >= 0)
			(void)unlinkat(h->root->dirfd, lname, 0);
		return husk_err_set(err, HUSK_ERR_NOT_FOUND, ENOENT, "container '%s' was deleted",
				    h->state.id.container);
	}
	if (r < 0)
		return r;
	husk_state_done(&h->state);
	h->state = fresh;
	return 0;
}

/* ---- create, save, destroy ---- */

static int write_state(struct husk_state_handle *h, const char *sname, struct husk_err *err)
{
	_cleanup_free_ char *json = NULL;
	int r = husk_state_format(&h->state, &json, err);
	if (r < 0)
		return r;
	r = husk__write_file_atomic_at(h->root->dirfd, sname, json, strlen(json), 0600, err);
	if (r < 0)
		return husk_err_prefix(err, "save state of container '%s'", h->state.id.container);
	return 0;
}

/*
 * With the lock of id held: 0 when no state file of id is there (a stale one, from an
 * earlier boot, is removed), HUSK_ERR_EXISTS when a current one is.
 */
static int existing_file_gone(struct husk_state_root *root, const char *sname,
			      const struct husk_full_id *id, struct husk_err *err)
{
	struct stat st;
	if (fstatat(root->dirfd, sname, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return 0;
		return husk_err_errno(err, errno, "stat '%s'", sname);
	}
	struct husk_state old = {0};
	bool stale = husk__state_file_read(root, sname, id, &old, NULL) == 0 && old.stale;
	husk_state_done(&old);
	if (!stale)
		/* Someone else's container: leave its files (the lock file included) alone. */
		return husk_err_set(err, HUSK_ERR_EXISTS, 0,
				    "container '%s' already exists in sandbox '%s'", id->container,
				    id->sandbox);
	husk_warn("removing state file '%s' of an earlier boot, continuing", sname);
	if (unlinkat(root->dirfd, sname, 0) < 0 && errno != ENOENT)
		return husk_err_errno(err, errno, "remove stale '%s'", sname);
	return 0;
}

int husk_state_create(struct husk_state_root *root, const struct husk_state *state,
		      struct husk_state_handle **ret, struct husk_err *err)
{
	char sname[NAME_MAX + 1];
	char lname[NAME_MAX + 1];
	const struct husk_full_id *id = &state->id;
	int r = husk_full_id_set(&(struct husk_full_id){0}, id->sandbox, id->container, err);
	r = r ?: names_for(id, sname, lname, err);
	if (r < 0)
		return r;

	struct husk_state_handle *h = handle_new(root);
	if (!h || husk_state_copy(state, &h->state) < 0) {
		husk_state_handle_free(h);
		return husk_err_errno(err, ENOMEM, "create container '%s'", id->container);
	}
	if (!h->state.boot_id[0])
		(void)husk_boot_id(h->state.boot_id);
	h->state.stale = false;
	bool created = false;
	/* A held lock is a create or an operation of that id in progress: the id is taken, and
	 * a second create must not queue behind the first. */
	r = husk__lock_take(root->dirfd, lname, HUSK__LOCK_CREATE | HUSK__LOCK_NONBLOCK,
			    &h->lock_fd, &created);
	if (r == -EWOULDBLOCK) {
		husk_state_handle_free(h);
		return husk_err_set(err, HUSK_ERR_EXISTS, 0, "container '%s' already exists",
				    id->container);
	}
	if (r < 0) {
		husk_state_handle_free(h);
		return husk_err_errno(err, -r, "lock '%s'", lname);
	}
	r = existing_file_gone(root, sname, id, err);
	if (r < 0) {
		husk_state_handle_free(h);
		return r;
	}
	/* Temp files of a writer that crashed before rename: nobody else writes them now. */
	(void)husk__remove_stale_temps_at(root->dirfd, sname);
	r = write_state(h, sname, err);
	if (r < 0) {
		/* The lock file is ours to remove only if we created it; we hold it, so a waiter
		 * re-checks the path and starts over. */
		if (created)
			(void)unlinkat(root->dirfd, lname, 0);
		husk_state_handle_free(h);
		return r;
	}
	*ret = h;
	return 0;
}

void husk_state_unlock(struct husk_state_handle *h)
{
	h->lock_fd = husk_safe_close(h->lock_fd);
}

bool husk_state_exists(const struct husk_state_handle *h)
{
	char sname[NAME_MAX + 1];
	char lname[NAME_MAX + 1];
	struct stat st;

	if (names_for(&h->state.id, sname, lname, NULL) < 0)
		return false;
	return fstatat(h->root->dirfd, sname, &st, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT;
}

int husk_state_save(struct husk_state_handle *h, struct husk_err *err)
{
	char sname[NAME_MAX + 1];
	char lname[NAME_MAX + 1];
	int r = names_for(&h->state.id, sname, lname, err);
	if (r < 0)
		return r;
	if (h->lock_fd >= 0)
		return write_state(h, sname, err);
	/* Locked for this write only (gVisor's SaveLocked, with the lock taken here). */
	r = husk_state_lock(h, err);
	if (r < 0)
		return r;
	struct stat st;
	if (fstatat(h->root->dirfd, sname, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		r = errno;
		/* The lock file we just re-created must not outlive the removed container. */
		if (r == ENOENT)
			(void)unlinkat(h->root->dirfd, lname, 0);
		husk_state_unlock(h);
		if (r == ENOENT)
			return husk_err_set(err, HUSK_ERR_NOT_FOUND, 0,
					    "container '%s' was deleted", h->state.id.container);
		return husk_err_errno(err, r, "stat '%s'", sname);
	}
	r = write_state(h, sname, err);
	husk_state_unlock(h);
	return r;
}

int husk_state_destroy(struct husk_state_handle *h, struct husk_err *err)
{
	char sname[NAME_MAX + 1];
	char lname[NAME_MAX + 1];
	int r = names_for(&h->state.id, sname, lname, err);
	if (r < 0)
		return r;
	if (h->lock_fd < 0 && (r = husk_state_lock(h, err)) < 0)
		return r;
	if (unlinkat(h->root->dirfd, sname, 0) < 0 && errno != ENOENT)
		return husk_err_errno(err, errno, "remove '%s'", sname);
	(void)husk__remove_stale_temps_at(h->root->dirfd, sname);
	/* Last, and while we hold it: a waiter then sees its lock file is gone and retries. */
	if (unlinkat(h->root->dirfd, lname, 0) < 0 && errno != ENOENT)
		return husk_err_errno(err, errno, "remove '%s'", lname);
	return 0;
}

int husk_state_lock_probe(struct husk_state_root *root, const struct husk_full_id *id)
{
	char sname[NAME_MAX + 1];
	char lname[NAME_MAX + 1];
	if (names_for(id, sname, lname, NULL) < 0)
		return -ENAMETOOLONG;
	return husk__lock_probe(root->dirfd, lname);
}

int husk_state_remove_files(struct husk_state_root *root, const struct husk_full_id *id,
			    struct husk_err *err)
{
	char sname[NAME_MAX + 1];
	char lname[NAME_MAX + 1];
	int r = husk_full_id_set(&(struct husk_full_id){0}, id->sandbox, id->container, err);
	r = r ?: names_for(id, sname, lname, err);
	if (r < 0)
		return r;
	struct husk_state_handle *h = handle_new(root);
	if (!h)
		return husk_err_errno(err, ENOMEM, "remove container '%s'", id->container);
	h->state.id = *id;
	r = husk_state_lock(h, err);
	r = r ?: husk_state_destroy(h, err);
	husk_state_handle_free(h);
	return r;
}

struct husk_state_handle *husk_state_handle_free(struct husk_state_handle *h)
{
	if (!h)
		return NULL;
	h->lock_fd = husk_safe_close(h->lock_fd);
	husk_state_done(&h->state);
	free(h);
	return NULL;
}
