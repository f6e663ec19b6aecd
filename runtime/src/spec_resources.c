/* The OCI "linux.resources" object: config.json's and the task API's Update payload. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "husk/err.h"
#include "spec_internal.h"
#include "spec_json.h"

/* blkio weights are uint16 in the spec. */
#define WEIGHT_MAX 65535u

static int parse_access(json_t *obj, const char *path, struct husk_device_rule *d,
			struct husk_err *err)
{
	const char *access = NULL;
	int r = husk__json_cstr(obj, path, "access", false, &access, err);

	if (r < 0)
		return r;
	/* Go omits an empty access ("omitempty"), so "" means the same as absent: "rwm". */
	if (!access || !access[0]) {
		memcpy(d->access, "rwm", 4);
		return 0;
	}
	size_t n = 0;
	for (const char *p = access; *p; p++) {
		if (!strchr("rwm", *p) || memchr(d->access, *p, n))
			return husk__jerr(err, path, "access", "invalid device access '%s'",
					  access);
		d->access[n++] = *p;
	}
	d->access[n] = '\0';
	return 0;
}

static int parse_device_rule(json_t *obj, const char *path, void *item, struct husk_err *err)
{
	struct husk_device_rule *d = item;
	const char *type = NULL;
	int r;

	if (!husk__json_field(obj, "allow"))
		return husk__jerr(err, path, "allow", "missing required field");
	if ((r = husk__json_bool(obj, path, "allow", &d->allow, err)) < 0 ||
	    (r = husk__json_cstr(obj, path, "type", false, &type, err)) < 0)
		return r;
	d->type = 'a';
	if (type && type[0]) {
		if (strlen(type) != 1 || !strchr("acb", type[0]))
			return husk__jerr(err, path, "type", "invalid device type '%s'", type);
		d->type = type[0];
	}
	/* -1 is the wildcard some writers use instead of leaving the number out. */
	if ((r = husk__json_i64(HUSK__JFIELD(obj, path, "major", false), -1, INT64_MAX, &d->major,
				err)) < 0 ||
	    (r = husk__json_i64(HUSK__JFIELD(obj, path, "minor", false), -1, INT64_MAX, &d->minor,
				err)) < 0)
		return r;
	/* One form for it from here on: absent. */
	if (d->major.set && d->major.v < 0)
		d->major.set = false;
	if (d->minor.set && d->minor.v < 0)
		d->minor.set = false;
	return parse_access(obj, path, d, err);
}

static int parse_swappiness(json_t *obj, const char *path, struct husk_memory_resources *m,
			    struct husk_err *err)
{
	int r = husk__json_u64(HUSK__JFIELD(obj, path, "swappiness", false), UINT64_MAX,
			       &m->swappiness, err);

	if (r < 0 || !m->swappiness.set)
		return r;
	/* docker wrote an unset swappiness as uint64(-1); runc treats it as unset too. */
	if (m->swappiness.v == UINT64_MAX) {
		m->swappiness.set = false;
		m->swappiness.v = 0;
		return 0;
	}
	if (m->swappiness.v > 100)
		return husk__jerr(err, path, "swappiness", "%" PRIu64 " is out of range 0..100",
				  m->swappiness.v);
	return 0;
}

static int parse_memory(json_t *obj, const char *path, struct husk_resources *res,
			struct husk_err *err)
{
	struct husk_memory_resources *m = &res->memory;
	json_t *o = NULL;
	char w[HUSK__JPATH_MAX];
	int r = husk__json_object(obj, path, "memory", false, &o, err);

	if (r < 0 || !o)
		return r;
	res->has_memory = true;
	husk__jpath_key(w, path, "memory");
	/* -1 is "unlimited" for all of these; nothing below it means anything. */
	if ((r = husk__json_i64(HUSK__JFIELD(o, w, "limit", false), -1, INT64_MAX, &m->limit,
				err)) < 0 ||
	    (r = husk__json_i64(HUSK__JFIELD(o, w, "reservation", false), -1, INT64_MAX,
				&m->reservation, err)) < 0 ||
	    (r = husk__json_i64(HUSK__JFIELD(o, w, "swap", false), -1, INT64_MAX, &m->swap, err)) <
		    0 ||
	    (r = husk__json_i64(HUSK__JFIELD(o, w, "kernel", false), -1, INT64_MAX, &m->kernel,
				err)) < 0 ||
	    (r = husk__json_i64(HUSK__JFIELD(o, w, "kernelTCP", false), -1, INT64_MAX,
				&m->kernel_tcp, err)) < 0 ||
	    (r = parse_swappiness(o, w, m, err)) < 0 ||
	    (r = husk__json_opt_bool(o, w, "disableOOMKiller", &m->disable_oom_killer, err)) < 0 ||
	    (r = husk__json_opt_bool(o, w, "useHierarchy", &m->use_hierarchy, err)) < 0)
		return r;
	return husk__json_opt_bool(o, w, "checkBeforeUpdate", &m->check_before_update, err);
}

static int parse_cpu(json_t *obj, const char *path, struct husk_resources *res,
		     struct husk_err *err)
{
	struct husk_cpu_resources *c = &res->cpu;
	json_t *o = NULL;
	char w[HUSK__JPATH_MAX];
	int r = husk__json_object(obj, path, "cpu", false, &o, err);

	if (r < 0 || !o)
		return r;
	res->has_cpu = true;
	husk__jpath_key(w, path, "cpu");
	if ((r = husk__json_u64(HUSK__JFIELD(o, w, "shares", false), UINT64_MAX, &c->shares, err)) <
		    0 ||
	    (r = husk__json_i64(HUSK__JFIELD(o, w, "quota", false), -1, INT64_MAX, &c->quota,
				err)) < 0 ||
	    (r = husk__json_u64(HUSK__JFIELD(o, w, "period", false), UINT64_MAX, &c->period, err)) <
		    0 ||
	    (r = husk__json_i64(HUSK__JFIELD(o, w, "realtimeRuntime", false), -1, INT64_MAX,
				&c->realtime_runtime, err)) < 0 ||
	    (r = husk__json_u64(HUSK__JFIELD(o, w, "realtimePeriod", false), UINT64_MAX,
				&c->realtime_period, err)) < 0 ||
	    (r = husk__json_string(o, w, "cpus", false, &c->cpus, err)) < 0 ||
	    (r = husk__json_string(o, w, "mems", false, &c->mems, err)) < 0)
		return r;
	/* cgroup v2 cpu.idle takes 0 or 1. */
	return husk__json_i64(HUSK__JFIELD(o, w, "idle", false), 0, 1, &c->idle, err);
}

static int parse_weight_device(json_t *obj, const char *path, void *item, struct husk_err *err)
{
	struct husk_weight_device *d = item;
	struct husk_opt_i64 v = {0};
	int r = husk__json_i64(HUSK__JFIELD(obj, path, "major", true), 0, INT64_MAX, &v, err);

	if (r < 0)
		return r;
	d->major = v.v;
	if ((r = husk__json_i64(HUSK__JFIELD(obj, path, "minor", true), 0, INT64_MAX, &v, err)) < 0)
		return r;
	d->minor = v.v;
	if ((r = husk__json_u64(HUSK__JFIELD(obj, path, "weight", false), WEIGHT_MAX, &d->weight,
				err)) < 0)
		return r;
	return husk__json_u64(HUSK__JFIELD(obj, path, "leafWeight", false), WEIGHT_MAX,
			      &d->leaf_weight, err);
}

static int parse_throttle_device(json_t *obj, const char *path, void *item, struct husk_err *err)
{
	struct husk_throttle_device *d = item;
	struct husk_opt_i64 v = {0};
	struct husk_opt_u64 rate = {0};
	int r = husk__json_i64(HUSK__JFIELD(obj, path, "major", true), 0, INT64_MAX, &v, err);

	if (r < 0)
		return r;
	d->major = v.v;
	if ((r = husk__json_i64(HUSK__JFIELD(obj, path, "minor", true), 0, INT64_MAX, &v, err)) < 0)
		return r;
	d->minor = v.v;
	if ((r = husk__json_u64(HUSK__JFIELD(obj, path, "rate", true), UINT64_MAX, &rate, err)) < 0)
		return r;
	d->rate = rate.v;
	return 0;
}

/* blockIO.<key>: a list of throttled devices. */
static int throttles(json_t *o, const char *w, const char *key, struct husk_throttle_device **list,
		     size_t *n, struct husk_err *err)
{
	return HUSK__JSON_OBJECTS(o, w, key, *list, *n, parse_throttle_device, err);
}

static int parse_blkio(json_t *obj, const char *path, struct husk_resources *res,
		       struct husk_err *err)
{
	struct husk_blkio_resources *b = &res->blkio;
	json_t *o = NULL;
	char w[HUSK__JPATH_MAX];
	int r = husk__json_object(obj, path, "blockIO", false, &o, err);

	if (r < 0 || !o)
		return r;
	res->has_blkio = true;
	husk__jpath_key(w, path, "blockIO");
	if ((r = husk__json_u64(HUSK__JFIELD(o, w, "weight", false), WEIGHT_MAX, &b->weight, err)) <
		    0 ||
	    (r = husk__json_u64(HUSK__JFIELD(o, w, "leafWeight", false), WEIGHT_MAX,
				&b->leaf_weight, err)) < 0 ||
	    (r = HUSK__JSON_OBJECTS(o, w, "weightDevice", b->weight_device, b->n_weight_device,
				    parse_weight_device, err)) < 0 ||
	    (r = throttles(o, w, "throttleReadBpsDevice", &b->throttle_read_bps,
			   &b->n_throttle_read_bps, err)) < 0 ||
	    (r = throttles(o, w, "throttleWriteBpsDevice", &b->throttle_write_bps,
			   &b->n_throttle_write_bps, err)) < 0 ||
	    (r = throttles(o, w, "throttleReadIOPSDevice", &b->throttle_read_iops,
			   &b->n_throttle_read_iops, err)) < 0)
		return r;
	return throttles(o, w, "throttleWriteIOPSDevice", &b->throttle_write_iops,
			 &b->n_throttle_write_iops, err);
}

/* "2MB", "1GB", "64KB": it becomes part of a cgroup file name (hugetlb.2MB.limit_in_bytes). */
static bool page_size_valid(const char *s)
{
	size_t digits = strspn(s, "0123456789");

	return digits > 0 && s[digits] && strchr("KMGT", s[digits]) && s[digits + 1] == 'B' &&
	       !s[digits + 2];
}

static int parse_hugepage(json_t *obj, const char *path, void *item, struct husk_err *err)
{
	struct husk_hugepage_limit *h = item;
	struct husk_opt_u64 limit = {0};
	int r = husk__json_string(obj, path, "pageSize", true, &h->page_size, err);

	if (r < 0)
		return r;
	if (!page_size_valid(h->page_size))
		return husk__jerr(err, path, "pageSize", "invalid page size '%s'", h->page_size);
	if ((r = husk__json_u64(HUSK__JFIELD(obj, path, "limit", true), UINT64_MAX, &limit, err)) <
	    0)
		return r;
	h->limit = limit.v;
	return 0;
}

/* A unified key names a file in the container's cgroup directory, nothing outside it. */
static int check_unified(const char *path, struct husk_resources *res, struct husk_err *err)
{
	for (size_t i = 0; i < res->n_unified; i++) {
		const char *k = res->unified[i].key;
		if (strchr(k, '/') || strcmp(k, ".") == 0 || strcmp(k, "..") == 0)
			return husk__jerr(err, path, "unified", "invalid cgroup file name '%s'", k);
	}
	return 0;
}

int husk__resources_from_json(json_t *obj, const char *path, struct husk_resources *res,
			      struct husk_err *err)
{
	json_t *pids = NULL;
	char w[HUSK__JPATH_MAX];
	int r;

	if ((r = HUSK__JSON_OBJECTS(obj, path, "devices", res->devices, res->n_devices,
				    parse_device_rule, err)) < 0 ||
	    (r = parse_memory(obj, path, res, err)) < 0 ||
	    (r = parse_cpu(obj, path, res, err)) < 0 ||
	    (r = husk__json_object(obj, path, "pids", false, &pids, err)) < 0)
		return r;
	if (pids) {
		husk__jpath_key(w, path, "pids");
		r = husk__json_i64(HUSK__JFIELD(pids, w, "limit", true), -1, INT64_MAX,
				   &res->pids_limit, err);
		if (r < 0)
			return r;
	}
	if ((r = parse_blkio(obj, path, res, err)) < 0 ||
	    (r = HUSK__JSON_OBJECTS(obj, path, "hugepageLimits", res->hugepage_limits,
				    res->n_hugepage_limits, parse_hugepage, err)) < 0 ||
	    (r = husk__json_kv(obj, path, "unified", &res->unified, &res->n_unified, err)) < 0)
		return r;
	return check_unified(path, res, err);
}

void husk__resources_done(struct husk_resources *res)
{
	struct husk_blkio_resources *b = &res->blkio;

	free(res->devices);
	free(res->cpu.cpus);
	free(res->cpu.mems);
	free(b->weight_device);
	free(b->throttle_read_bps);
	free(b->throttle_write_bps);
	free(b->throttle_read_iops);
	free(b->throttle_write_iops);
	for (size_t i = 0; i < res->n_hugepage_limits; i++)
		free(res->hugepage_limits[i].page_size);
	free(res->hugepage_limits);
	husk__kv_free(res->unified, res->n_unified);
}

int husk_resources_parse(const char *json, size_t len, struct husk_resources **ret_resources,
			 struct husk_err *err)
{
	_cleanup_json_ json_t *root = NULL;
	int r = husk__json_load(json, len, "resources", &root, err);

	if (r < 0)
		return r;
	struct husk_resources *res = calloc(1, sizeof(*res));
	if (!res)
		return husk_err_errno(err, ENOMEM, "resources");
	r = husk__resources_from_json(root, "resources", res, err);
	if (r < 0) {
		husk_resources_free(res);
		return r;
	}
	*ret_resources = res;
	return 0;
}

struct husk_resources *husk_resources_free(struct husk_resources *resources)
{
	if (resources) {
		husk__resources_done(resources);
		free(resources);
	}
	return NULL;
}
