#include "oci/oci_json.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sys/resource.h>

#include "husk/err.h"
#include "husk/spec.h"
#include "spec_json.h"

/* jansson calls that fail only on OOM: every builder returns -ENOMEM then. */
static int put(json_t *o, const char *key, json_t *v)
{
	return json_object_set_new(o, key, v) < 0 ? -ENOMEM : 0;
}

static int push(json_t *a, json_t *v)
{
	return json_array_append_new(a, v) < 0 ? -ENOMEM : 0;
}

static int put_str(json_t *o, const char *key, const char *s)
{
	return s ? put(o, key, json_string(s)) : 0;
}

static int put_strv(json_t *o, const char *key, char *const *v, size_t n)
{
	json_t *a = json_array();
	int r = put(o, key, a);

	for (size_t i = 0; r >= 0 && i < n; i++)
		r = push(a, json_string(v[i]));
	return r;
}

/* Values above INT64_MAX: -ERANGE, turned into a message naming the field by the caller. */
static int put_u64(json_t *o, const char *key, uint64_t v)
{
	return v > INT64_MAX ? -ERANGE : put(o, key, json_integer((json_int_t)v));
}

static int put_opt_u64(json_t *o, const char *key, struct husk_opt_u64 v)
{
	return v.set ? put_u64(o, key, v.v) : 0;
}

static int put_opt_i64(json_t *o, const char *key, struct husk_opt_i64 v)
{
	return v.set ? put(o, key, json_integer(v.v)) : 0;
}

static int put_opt_bool(json_t *o, const char *key, struct husk_opt_u64 v)
{
	return v.set ? put(o, key, json_boolean(v.v != 0)) : 0;
}

/* An object member built in place: *ret is borrowed from o. */
static int child(json_t *o, const char *key, json_t *(*make)(void), json_t **ret)
{
	*ret = make();
	return put(o, key, *ret);
}

static int finish(json_t *root, int r, const char *what, char **ret_json, struct husk_err *err)
{
	if (r == -ERANGE) {
		json_decref(root);
		return husk_err_set(err, HUSK_ERR_INVALID, ERANGE,
				    "%s: a value above %lld cannot be passed to the runtime", what,
				    (long long)INT64_MAX);
	}
	char *s = r < 0 ? NULL : json_dumps(root, JSON_COMPACT);
	json_decref(root);
	if (!s)
		return husk_err_errno(err, ENOMEM, "format %s", what);
	*ret_json = s;
	return 0;
}

/* ---- process ------------------------------------------------------------------------ */

static const char *const rlimit_names[] = {
	[RLIMIT_CPU] = "RLIMIT_CPU",	       [RLIMIT_FSIZE] = "RLIMIT_FSIZE",
	[RLIMIT_DATA] = "RLIMIT_DATA",	       [RLIMIT_STACK] = "RLIMIT_STACK",
	[RLIMIT_CORE] = "RLIMIT_CORE",	       [RLIMIT_RSS] = "RLIMIT_RSS",
	[RLIMIT_NPROC] = "RLIMIT_NPROC",       [RLIMIT_NOFILE] = "RLIMIT_NOFILE",
	[RLIMIT_MEMLOCK] = "RLIMIT_MEMLOCK",   [RLIMIT_AS] = "RLIMIT_AS",
	[RLIMIT_LOCKS] = "RLIMIT_LOCKS",       [RLIMIT_SIGPENDING] = "RLIMIT_SIGPENDING",
	[RLIMIT_MSGQUEUE] = "RLIMIT_MSGQUEUE", [RLIMIT_NICE] = "RLIMIT_NICE",
	[RLIMIT_RTPRIO] = "RLIMIT_RTPRIO",     [RLIMIT_RTTIME] = "RLIMIT_RTTIME",
};

static int user(json_t *p, const struct husk_user *u)
{
	json_t *o = NULL;
	json_t *g = NULL;
	int r = child(p, "user", json_object, &o);

	r = r ?: put(o, "uid", json_integer(u->uid));
	r = r ?: put(o, "gid", json_integer(u->gid));
	r = r ?: put_opt_u64(o, "umask", u->umask);
	if (r >= 0 && u->n_additional_gids)
		r = child(o, "additionalGids", json_array, &g);
	for (size_t i = 0; r >= 0 && i < u->n_additional_gids; i++)
		r = push(g, json_integer(u->additional_gids[i]));
	return r;
}

static int capabilities(json_t *p, const struct husk_capabilities *c)
{
	json_t *o = NULL;

	if (!c->set)
		return 0;
	int r = child(p, "capabilities", json_object, &o);
	r = r ?: put_strv(o, "bounding", c->bounding, c->n_bounding);
	r = r ?: put_strv(o, "effective", c->effective, c->n_effective);
	r = r ?: put_strv(o, "inheritable", c->inheritable, c->n_inheritable);
	r = r ?: put_strv(o, "permitted", c->permitted, c->n_permitted);
	return r ?: put_strv(o, "ambient", c->ambient, c->n_ambient);
}

static int rlimits(json_t *p, const struct husk_process *proc)
{
	json_t *a = NULL;

	if (!proc->n_rlimits)
		return 0;
	int r = child(p, "rlimits", json_array, &a);
	for (size_t i = 0; r >= 0 && i < proc->n_rlimits; i++) {
		const struct husk_rlimit *l = &proc->rlimits[i];
		if (l->resource < 0 || (size_t)l->resource >= ARRAY_SIZE(rlimit_names) ||
		    !rlimit_names[l->resource])
			return -EINVAL;
		json_t *o = json_object();
		r = push(a, o);
		r = r ?: put(o, "type", json_string(rlimit_names[l->resource]));
		r = r ?: put_u64(o, "hard", l->hard);
		r = r ?: put_u64(o, "soft", l->soft);
	}
	return r;
}

static int console_size(json_t *p, const struct husk_process *proc)
{
	json_t *o = NULL;

	if (!proc->console_height.set && !proc->console_width.set)
		return 0;
	int r = child(p, "consoleSize", json_object, &o);
	r = r ?: put_u64(o, "height", proc->console_height.v);
	return r ?: put_u64(o, "width", proc->console_width.v);
}

int husk__oci_process_format(const struct husk_process *p, char **ret_json, struct husk_err *err)
{
	json_t *o = json_object();
	int r = o ? 0 : -ENOMEM;

	r = r ?: put(o, "terminal", json_boolean(p->terminal));
	r = r ?: console_size(o, p);
	r = r ?: user(o, &p->user);
	r = r ?: put_strv(o, "args", p->args, p->n_args);
	r = r ?: (p->n_env ? put_strv(o, "env", p->env, p->n_env) : 0);
	r = r ?: put_str(o, "cwd", p->cwd ? p->cwd : "/");
	r = r ?: capabilities(o, &p->capabilities);
	r = r ?: rlimits(o, p);
	r = r ?: put(o, "noNewPrivileges", json_boolean(p->no_new_privileges));
	r = r ?: put_opt_i64(o, "oomScoreAdj", p->oom_score_adj);
	r = r ?: put_str(o, "apparmorProfile", p->apparmor_profile);
	r = r ?: put_str(o, "selinuxLabel", p->selinux_label);
	if (r == -EINVAL) {
		json_decref(o);
		return husk_err_set(err, HUSK_ERR_INVALID, 0, "process.rlimits: unknown resource");
	}
	return finish(o, r, "process", ret_json, err);
}

/* ---- resources ---------------------------------------------------------------------- */

static int devices(json_t *o, const struct husk_resources *res)
{
	json_t *a = NULL;

	if (!res->n_devices)
		return 0;
	int r = child(o, "devices", json_array, &a);
	for (size_t i = 0; r >= 0 && i < res->n_devices; i++) {
		const struct husk_device_rule *d = &res->devices[i];
		char type[2] = {(char)(d->type ? d->type : 'a'), '\0'};
		json_t *e = json_object();
		r = push(a, e);
		r = r ?: put(e, "allow", json_boolean(d->allow));
		r = r ?: put(e, "type", json_string(type));
		r = r ?: put_opt_i64(e, "major", d->major);
		r = r ?: put_opt_i64(e, "minor", d->minor);
		r = r ?: put(e, "access", json_string(d->access[0] ? d->access : "rwm"));
	}
	return r;
}

static int memory(json_t *o, const struct husk_memory_resources *m)
{
	json_t *e = NULL;
	int r = child(o, "memory", json_object, &e);

	r = r ?: put_opt_i64(e, "limit", m->limit);
	r = r ?: put_opt_i64(e, "reservation", m->reservation);
	r = r ?: put_opt_i64(e, "swap", m->swap);
	r = r ?: put_opt_i64(e, "kernel", m->kernel);
	r = r ?: put_opt_i64(e, "kernelTCP", m->kernel_tcp);
	r = r ?: put_opt_u64(e, "swappiness", m->swappiness);
	r = r ?: put_opt_bool(e, "disableOOMKiller", m->disable_oom_killer);
	r = r ?: put_opt_bool(e, "useHierarchy", m->use_hierarchy);
	return r ?: put_opt_bool(e, "checkBeforeUpdate", m->check_before_update);
}

static int cpu(json_t *o, const struct husk_cpu_resources *c)
{
	json_t *e = NULL;
	int r = child(o, "cpu", json_object, &e);

	r = r ?: put_opt_u64(e, "shares", c->shares);
	r = r ?: put_opt_i64(e, "quota", c->quota);
	r = r ?: put_opt_u64(e, "period", c->period);
	r = r ?: put_opt_i64(e, "realtimeRuntime", c->realtime_runtime);
	r = r ?: put_opt_u64(e, "realtimePeriod", c->realtime_period);
	r = r ?: put_str(e, "cpus", c->cpus);
	r = r ?: put_str(e, "mems", c->mems);
	return r ?: put_opt_i64(e, "idle", c->idle);
}

static int throttle(json_t *o, const char *key, const struct husk_throttle_device *d, size_t n)
{
	json_t *a = NULL;

	if (!n)
		return 0;
	int r = child(o, key, json_array, &a);
	for (size_t i = 0; r >= 0 && i < n; i++) {
		json_t *e = json_object();
		r = push(a, e);
		r = r ?: put(e, "major", json_integer(d[i].major));
		r = r ?: put(e, "minor", json_integer(d[i].minor));
		r = r ?: put_u64(e, "rate", d[i].rate);
	}
	return r;
}

static int blkio(json_t *o, const struct husk_blkio_resources *b)
{
	json_t *e = NULL;
	json_t *a = NULL;
	int r = child(o, "blockIO", json_object, &e);

	r = r ?: put_opt_u64(e, "weight", b->weight);
	r = r ?: put_opt_u64(e, "leafWeight", b->leaf_weight);
	if (r >= 0 && b->n_weight_device)
		r = child(e, "weightDevice", json_array, &a);
	for (size_t i = 0; r >= 0 && i < b->n_weight_device; i++) {
		const struct husk_weight_device *w = &b->weight_device[i];
		json_t *d = json_object();
		r = push(a, d);
		r = r ?: put(d, "major", json_integer(w->major));
		r = r ?: put(d, "minor", json_integer(w->minor));
		r = r ?: put_opt_u64(d, "weight", w->weight);
		r = r ?: put_opt_u64(d, "leafWeight", w->leaf_weight);
	}
	r = r ?: throttle(e, "throttleReadBpsDevice", b->throttle_read_bps, b->n_throttle_read_bps);
	r = r
		    ?: throttle(e, "throttleWriteBpsDevice", b->throttle_write_bps,
				b->n_throttle_write_bps);
	r = r
		    ?: throttle(e, "throttleReadIOPSDevice", b->throttle_read_iops,
				b->n_throttle_read_iops);
	return r
		       ?: throttle(e, "throttleWriteIOPSDevice", b->throttle_write_iops,
				   b->n_throttle_write_iops);
}

static int hugepages_unified(json_t *o, const struct husk_resources *res)
{
	json_t *a = NULL;
	json_t *u = NULL;
	int r = 0;

	if (res->n_hugepage_limits)
		r = child(o, "hugepageLimits", json_array, &a);
	for (size_t i = 0; r >= 0 && i < res->n_hugepage_limits; i++) {
		json_t *e = json_object();
		r = push(a, e);
		r = r ?: put(e, "pageSize", json_string(res->hugepage_limits[i].page_size));
		r = r ?: put_u64(e, "limit", res->hugepage_limits[i].limit);
	}
	if (r >= 0 && res->n_unified)
		r = child(o, "unified", json_object, &u);
	for (size_t i = 0; r >= 0 && i < res->n_unified; i++)
		r = put(u, res->unified[i].key, json_string(res->unified[i].value));
	return r;
}

int husk__oci_resources_format(const struct husk_resources *res, char **ret_json,
			       struct husk_err *err)
{
	json_t *o = json_object();
	json_t *p = NULL;
	int r = o ? 0 : -ENOMEM;

	r = r ?: devices(o, res);
	r = r ?: (res->has_memory ? memory(o, &res->memory) : 0);
	r = r ?: (res->has_cpu ? cpu(o, &res->cpu) : 0);
	if (r >= 0 && res->pids_limit.set) {
		r = child(o, "pids", json_object, &p);
		r = r ?: put(p, "limit", json_integer(res->pids_limit.v));
	}
	r = r ?: (res->has_blkio ? blkio(o, &res->blkio) : 0);
	r = r ?: hugepages_unified(o, res);
	return finish(o, r, "resources", ret_json, err);
}

/* ---- engine data -------------------------------------------------------------------- */

int husk__oci_data_format(const struct husk_oci_data *d, char **ret_json, struct husk_err *err)
{
	json_t *o = json_object();
	int r = o ? 0 : -ENOMEM;

	r = r ?: put_str(o, "binary", d->binary);
	r = r ?: put_str(o, "root", d->root);
	r = r ?: put_str(o, "work", d->work);
	r = r ?: put_str(o, "rootfs", d->rootfs);
	if (d->n_args > 0)
		r = r ?: put_strv(o, "args", d->args, d->n_args);
	r = r ?: put(o, "systemd_cgroup", json_boolean(d->systemd_cgroup));
	return finish(o, r, "engine_data", ret_json, err);
}

int husk__oci_data_parse(const char *json, struct husk_oci_data *ret, struct husk_err *err)
{
	_cleanup_json_ json_t *o = NULL;
	struct husk_oci_data d = {0};
	int r = husk__json_load(json, strlen(json), "engine_data", &o, err);

	r = r ?: husk__json_string(o, "engine_data", "binary", true, &d.binary, err);
	r = r ?: husk__json_string(o, "engine_data", "root", true, &d.root, err);
	r = r ?: husk__json_string(o, "engine_data", "work", true, &d.work, err);
	r = r
		    ?: husk__json_strv(HUSK__JFIELD(o, "engine_data", "args", false), &d.args,
				       &d.n_args, err);
	r = r ?: husk__json_string(o, "engine_data", "rootfs", false, &d.rootfs, err);
	r = r ?: husk__json_bool(o, "engine_data", "systemd_cgroup", &d.systemd_cgroup, err);
	if (r < 0) {
		husk__oci_data_done(&d);
		return r;
	}
	*ret = d;
	return 0;
}

void husk__oci_data_done(struct husk_oci_data *d)
{
	free(d->binary);
	free(d->root);
	free(d->work);
	husk__strv_free(d->args, d->n_args);
	free(d->rootfs);
	*d = (struct husk_oci_data){0};
}
