#include "oci/oci_state.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cgroup.h"
#include "husk/cleanup.h"
#include "husk/err.h"
#include "spec_json.h"

/* ---- state -------------------------------------------------------------------------- */

int husk__oci_state_parse(const char *json, size_t len, struct husk_oci_state *ret,
			  struct husk_err *err)
{
	_cleanup_json_ json_t *root = NULL;
	struct husk_oci_state s = {0};
	struct husk_opt_i64 pid = {0};
	int r = husk__json_load(json, len, "state", &root, err);

	r = r ?: husk__json_string(root, "", "id", true, &s.id, err);
	r = r ?: husk__json_i64(HUSK__JFIELD(root, "", "pid", true), -1, INT32_MAX, &pid, err);
	r = r ?: husk__json_string(root, "", "status", true, &s.status, err);
	r = r ?: husk__json_string(root, "", "bundle", false, &s.bundle, err);
	if (r < 0) {
		husk__oci_state_done(&s);
		return r;
	}
	s.pid = pid.v > 0 ? (pid_t)pid.v : 0;
	*ret = s;
	return 0;
}

void husk__oci_state_done(struct husk_oci_state *state)
{
	free(state->id);
	free(state->status);
	free(state->bundle);
	*state = (struct husk_oci_state){0};
}

/* ---- ps ----------------------------------------------------------------------------- */

static int ps_pid(json_t *v, size_t i, pid_t *ret, struct husk_err *err)
{
	char path[HUSK__JPATH_MAX];
	uint64_t pid = 0;

	husk__jpath_index(path, "ps", NULL, i);
	if (json_is_object(v)) {
		json_t *p = json_object_get(v, "PID");
		if (!p)
			return husk__jerr(err, path, NULL, "expected a \"PID\" member");
		v = p;
	}
	int r = husk__json_u64_value(v, path, INT32_MAX, &pid, err);
	if (r < 0)
		return r;
	*ret = (pid_t)pid;
	return 0;
}

int husk__oci_ps_parse(const char *json, size_t len, pid_t **ret_pids, size_t *ret_n,
		       struct husk_err *err)
{
	json_error_t je;
	_cleanup_json_ json_t *root = json_loadb(json, len, JSON_DECODE_ANY, &je);

	if (!root)
		return husk_err_set(err, HUSK_ERR_INVALID, 0, "ps: invalid JSON at line %d: %s",
				    je.line, je.text);
	if (json_is_null(root)) {
		*ret_pids = NULL;
		*ret_n = 0;
		return 0;
	}
	if (!json_is_array(root))
		return husk_err_set(err, HUSK_ERR_INVALID, 0, "ps: expected array");
	size_t n = json_array_size(root);
	pid_t *pids = n ? calloc(n, sizeof(*pids)) : NULL;
	if (n && !pids)
		return husk_err_errno(err, ENOMEM, "ps");
	for (size_t i = 0; i < n; i++) {
		int r = ps_pid(json_array_get(root, i), i, &pids[i], err);
		if (r < 0) {
			free(pids);
			return r;
		}
	}
	*ret_pids = pids;
	*ret_n = n;
	return 0;
}

/* ---- events --stats ----------------------------------------------------------------- */

static int u64_at(json_t *obj, const char *path, const char *key, uint64_t *ret,
		  struct husk_err *err)
{
	struct husk_opt_u64 v = {0};
	int r = husk__json_u64(HUSK__JFIELD(obj, path, key, false), UINT64_MAX, &v, err);

	if (r >= 0 && v.set)
		*ret = v.v;
	return r;
}

static int mem_entry(json_t *mem, const char *key, struct husk_cgroup_mem_entry *ret,
		     struct husk_err *err)
{
	char path[HUSK__JPATH_MAX];
	json_t *e = NULL;
	int r = husk__json_object(mem, "data.memory", key, false, &e, err);

	if (r < 0 || !e)
		return r;
	husk__jpath_key(path, "data.memory", key);
	ret->present = true;
	r = u64_at(e, path, "limit", &ret->limit, err);
	r = r ?: u64_at(e, path, "usage", &ret->usage, err);
	r = r ?: u64_at(e, path, "max", &ret->max, err);
	return r ?: u64_at(e, path, "failcnt", &ret->failcnt, err);
}

/* memory.raw is memory.stat as a map: back to "key value" lines for the cgroup parsers. */
static int mem_raw(json_t *mem, enum husk_cgroup_stats_mode mode,
		   struct husk_cgroup_memory_stats *ret, struct husk_err *err)
{
	json_t *raw = NULL;
	const char *key;
	json_t *v;
	int r = husk__json_object(mem, "data.memory", "raw", false, &raw, err);

	if (r < 0 || !raw)
		return r;
	size_t size = 1;
	json_object_foreach (raw, key, v)
		size += strlen(key) + 24;
	char *text = malloc(size);
	if (!text)
		return husk_err_errno(err, ENOMEM, "data.memory.raw");
	size_t n = 0;
	json_object_foreach (raw, key, v) {
		char path[HUSK__JPATH_MAX];
		uint64_t x = 0;
		husk__jpath_key(path, "data.memory.raw", key);
		r = husk__json_u64_value(v, path, UINT64_MAX, &x, err);
		if (r < 0)
			break;
		n += (size_t)snprintf(text + n, size - n, "%s %llu\n", key, (unsigned long long)x);
	}
	if (r >= 0 && mode == HUSK_CGROUP_STATS_V2)
		r = husk__cgroup_parse_v2_memory_stat(text, n, ret, err);
	else if (r >= 0)
		r = husk__cgroup_parse_v1_memory_stat(text, n, ret, err);
	free(text);
	return r;
}

static int memory(json_t *data, enum husk_cgroup_stats_mode mode,
		  struct husk_cgroup_memory_stats *ret, struct husk_err *err)
{
	json_t *mem = NULL;
	int r = husk__json_object(data, "data", "memory", false, &mem, err);

	if (r < 0 || !mem)
		return r;
	ret->present = true;
	r = mem_raw(mem, mode, ret, err);
	r = r ?: u64_at(mem, "data.memory", "cache", &ret->cache, err);
	r = r ?: mem_entry(mem, "usage", &ret->usage, err);
	r = r ?: mem_entry(mem, "swap", &ret->swap, err);
	r = r ?: mem_entry(mem, "kernel", &ret->kernel, err);
	return r ?: mem_entry(mem, "kernelTCP", &ret->kernel_tcp, err);
}

static int percpu(json_t *usage, struct husk_cgroup_cpu_stats *ret, uint32_t *truncated,
		  struct husk_err *err)
{
	json_t *a = NULL;
	int r = husk__json_array(usage, "data.cpu.usage", "percpu", false, &a, err);

	for (size_t i = 0; r >= 0 && a && i < json_array_size(a); i++) {
		char path[HUSK__JPATH_MAX];
		uint64_t x = 0;
		husk__jpath_index(path, "data.cpu.usage", "percpu", i);
		r = husk__json_u64_value(json_array_get(a, i), path, UINT64_MAX, &x, err);
		if (r < 0)
			break;
		if (ret->n_per_cpu < HUSK_CGROUP_STATS_MAX_CPUS)
			ret->per_cpu_ns[ret->n_per_cpu++] = x;
		else
			(*truncated)++;
	}
	return r;
}

static int cpu(json_t *data, struct husk_cgroup_stats *ret, struct husk_err *err)
{
	struct husk_cgroup_cpu_stats *c = &ret->cpu;
	json_t *cpu = NULL;
	json_t *usage = NULL;
	json_t *thr = NULL;
	int r = husk__json_object(data, "data", "cpu", false, &cpu, err);

	if (r < 0 || !cpu)
		return r;
	c->present = true;
	r = husk__json_object(cpu, "data.cpu", "usage", false, &usage, err);
	r = r ?: husk__json_object(cpu, "data.cpu", "throttling", false, &thr, err);
	if (r >= 0 && usage) {
		r = u64_at(usage, "data.cpu.usage", "total", &c->usage_total_ns, err);
		r = r ?: u64_at(usage, "data.cpu.usage", "kernel", &c->usage_kernel_ns, err);
		r = r ?: u64_at(usage, "data.cpu.usage", "user", &c->usage_user_ns, err);
		r = r ?: percpu(usage, c, &ret->truncated, err);
	}
	if (r >= 0 && thr) {
		r = u64_at(thr, "data.cpu.throttling", "periods", &c->nr_periods, err);
		r = r
			    ?: u64_at(thr, "data.cpu.throttling", "throttled_periods",
				      &c->nr_throttled, err);
		r = r
			    ?: u64_at(thr, "data.cpu.throttling", "throttled_time",
				      &c->throttled_time_ns, err);
	}
	return r;
}

static int pids(json_t *data, struct husk_cgroup_pids_stats *ret, struct husk_err *err)
{
	json_t *p = NULL;
	int r = husk__json_object(data, "data", "pids", false, &p, err);

	if (r < 0 || !p)
		return r;
	ret->present = true;
	r = u64_at(p, "data.pids", "current", &ret->current, err);
	return r ?: u64_at(p, "data.pids", "limit", &ret->limit, err);
}

struct blkio_entry {
	uint64_t major, minor, value;
	const char *op;
};

static int blkio_entry(json_t *e, const char *path, struct blkio_entry *ret, struct husk_err *err)
{
	if (!json_is_object(e))
		return husk__jerr(err, path, NULL, "expected object");
	int r = u64_at(e, path, "major", &ret->major, err);
	r = r ?: u64_at(e, path, "minor", &ret->minor, err);
	r = r ?: u64_at(e, path, "value", &ret->value, err);
	return r ?: husk__json_cstr(e, path, "op", false, &ret->op, err);
}

/* One v2 io entry per device: Read/Write of service bytes and serviced (ios). */
static void io_fold(struct husk_cgroup_io_stats *io, uint32_t *truncated, bool ios,
		    const struct blkio_entry *e)
{
	struct husk_cgroup_io_entry *x = NULL;
	bool read = e->op && strcmp(e->op, "Read") == 0;
	bool write = e->op && strcmp(e->op, "Write") == 0;

	if (!read && !write)
		return;
	for (uint32_t i = 0; i < io->n_entries && !x; i++)
		if (io->entries[i].major == e->major && io->entries[i].minor == e->minor)
			x = &io->entries[i];
	if (!x) {
		if (io->n_entries == HUSK_CGROUP_STATS_MAX_IO) {
			(*truncated)++;
			return;
		}
		x = &io->entries[io->n_entries++];
		x->major = e->major;
		x->minor = e->minor;
	}
	if (ios)
		*(read ? &x->rios : &x->wios) = e->value;
	else
		*(read ? &x->rbytes : &x->wbytes) = e->value;
}

static const char *const blkio_keys[_HUSK_BLKIO_FILE_MAX] = {
	[HUSK_BLKIO_IO_SERVICE_BYTES] = "ioServiceBytesRecursive",
	[HUSK_BLKIO_IO_SERVICED] = "ioServicedRecursive",
	[HUSK_BLKIO_IO_QUEUED] = "ioQueueRecursive",
	[HUSK_BLKIO_IO_SERVICE_TIME] = "ioServiceTimeRecursive",
	[HUSK_BLKIO_IO_WAIT_TIME] = "ioWaitTimeRecursive",
	[HUSK_BLKIO_IO_MERGED] = "ioMergedRecursive",
	[HUSK_BLKIO_IO_TIME] = "ioTimeRecursive",
	[HUSK_BLKIO_SECTORS] = "sectorsRecursive",
};

static void blkio_store(struct husk_cgroup_stats *ret, enum husk_cgroup_stats_mode mode, int f,
			const struct blkio_entry *e)
{
	if (mode == HUSK_CGROUP_STATS_V2) {
		if (f == HUSK_BLKIO_IO_SERVICE_BYTES || f == HUSK_BLKIO_IO_SERVICED)
			io_fold(&ret->io, &ret->truncated, f == HUSK_BLKIO_IO_SERVICED, e);
		return;
	}
	if (ret->blkio.n_entries[f] == HUSK_CGROUP_STATS_MAX_BLKIO) {
		ret->truncated++;
		return;
	}
	struct husk_cgroup_blkio_entry *b = &ret->blkio.entries[f][ret->blkio.n_entries[f]++];
	b->major = e->major;
	b->minor = e->minor;
	b->value = e->value;
	(void)snprintf(b->op, sizeof(b->op), "%s", e->op ? e->op : "");
}

static int blkio(json_t *data, enum husk_cgroup_stats_mode mode, struct husk_cgroup_stats *ret,
		 struct husk_err *err)
{
	json_t *b = NULL;
	int r = husk__json_object(data, "data", "blkio", false, &b, err);

	if (r < 0 || !b)
		return r;
	if (mode == HUSK_CGROUP_STATS_V2)
		ret->io.present = true;
	else
		ret->blkio.present = true;
	for (int f = 0; f < _HUSK_BLKIO_FILE_MAX; f++) {
		json_t *a = NULL;
		r = husk__json_array(b, "data.blkio", blkio_keys[f], false, &a, err);
		for (size_t i = 0; r >= 0 && a && i < json_array_size(a); i++) {
			char path[HUSK__JPATH_MAX];
			struct blkio_entry e = {0};
			husk__jpath_index(path, "data.blkio", blkio_keys[f], i);
			r = blkio_entry(json_array_get(a, i), path, &e, err);
			if (r >= 0)
				blkio_store(ret, mode, f, &e);
		}
		if (r < 0)
			return r;
	}
	return 0;
}

static int hugetlb(json_t *data, struct husk_cgroup_stats *ret, struct husk_err *err)
{
	json_t *h = NULL;
	const char *size;
	json_t *v;
	int r = husk__json_object(data, "data", "hugetlb", false, &h, err);

	if (r < 0 || !h)
		return r;
	json_object_foreach (h, size, v) {
		char path[HUSK__JPATH_MAX];
		husk__jpath_key(path, "data.hugetlb", size);
		if (!json_is_object(v))
			return husk__jerr(err, path, NULL, "expected object");
		if (ret->n_hugetlb == HUSK_CGROUP_STATS_MAX_HUGETLB) {
			ret->truncated++;
			continue;
		}
		struct husk_cgroup_hugetlb_entry *e = &ret->hugetlb[ret->n_hugetlb++];
		(void)snprintf(e->pagesize, sizeof(e->pagesize), "%s", size);
		r = u64_at(v, path, "usage", &e->usage, err);
		r = r ?: u64_at(v, path, "max", &e->max, err);
		r = r ?: u64_at(v, path, "failcnt", &e->failcnt, err);
		if (r < 0)
			return r;
	}
	return 0;
}

int husk__oci_events_stats_parse(const char *json, size_t len, enum husk_cgroup_stats_mode mode,
				 struct husk_cgroup_stats *ret, struct husk_err *err)
{
	_cleanup_json_ json_t *root = NULL;
	const char *type = NULL;
	json_t *data = NULL;
	int r = husk__json_load(json, len, "events", &root, err);

	r = r ?: husk__json_cstr(root, "", "type", true, &type, err);
	if (r < 0 || !type)
		return r < 0 ? r : husk_err_set(err, HUSK_ERR_INVALID, 0, "type: missing");
	if (strcmp(type, "stats") != 0)
		return husk_err_set(err, HUSK_ERR_INVALID, 0, "type: expected \"stats\", got '%s'",
				    type);
	r = husk__json_object(root, "", "data", true, &data, err);
	if (r < 0)
		return r;
	memset(ret, 0, sizeof(*ret));
	ret->mode = mode;
	r = cpu(data, ret, err);
	r = r ?: memory(data, mode, &ret->memory, err);
	r = r ?: pids(data, &ret->pids, err);
	r = r ?: blkio(data, mode, ret, err);
	return r ?: hugetlb(data, ret, err);
}

/* ---- log ---------------------------------------------------------------------------- */

static bool error_line(const char *line, size_t n, char *out, size_t size)
{
	json_error_t je;
	_cleanup_json_ json_t *o = json_loadb(line, n, 0, &je);

	if (!o || !json_is_object(o))
		return false;
	const char *level = json_string_value(json_object_get(o, "level"));
	const char *msg = json_string_value(json_object_get(o, "msg"));
	if (!level || !msg || (strcmp(level, "error") != 0 && strcmp(level, "fatal") != 0))
		return false;
	(void)snprintf(out, size, "%s", msg);
	return true;
}

int husk__oci_log_last_error(const char *buf, size_t len, char *out, size_t size)
{
	int found = 0;

	for (size_t i = 0; i < len;) {
		const char *nl = memchr(buf + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - (buf + i)) : len - i;
		if (n && error_line(buf + i, n, out, size))
			found = 1;
		i += n + 1;
	}
	return found;
}

/* ---- /proc/<pid>/cgroup ------------------------------------------------------------- */

/* Whether the comma-separated list [s, s+n) holds name. */
static bool list_has(const char *s, size_t n, const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; i < n;) {
		const char *c = memchr(s + i, ',', n - i);
		size_t m = c ? (size_t)(c - (s + i)) : n - i;
		if (m == len && memcmp(s + i, name, len) == 0)
			return true;
		i += m + 1;
	}
	return false;
}

struct cg_line {
	const char *ctrls;
	size_t n_ctrls;
	const char *path;
	size_t n_path;
};

/* "hier:ctrls:path" → parts; false when malformed. */
static bool split_line(const char *line, size_t n, struct cg_line *ret)
{
	const char *c1 = memchr(line, ':', n);
	if (!c1)
		return false;
	const char *c2 = memchr(c1 + 1, ':', n - (size_t)(c1 + 1 - line));
	if (!c2 || c2 + 1 >= line + n || c2[1] != '/')
		return false;
	ret->ctrls = c1 + 1;
	ret->n_ctrls = (size_t)(c2 - ret->ctrls);
	ret->path = c2 + 1;
	ret->n_path = n - (size_t)(ret->path - line);
	return true;
}

/* Preference of a line: 0 none, higher is better. */
static int rank(const struct cg_line *l, bool v2)
{
	if (v2)
		return l->n_ctrls == 0 ? 3 : 0;
	if (l->n_ctrls == 0)
		return 0;
	if (list_has(l->ctrls, l->n_ctrls, "memory"))
		return 3;
	if (list_has(l->ctrls, l->n_ctrls, "pids"))
		return 2;
	return 1;
}

int husk__oci_cgroup_from_proc(const char *text, size_t len, bool v2, char **ret_path,
			       struct husk_err *err)
{
	struct cg_line best = {0};
	int best_rank = 0;

	for (size_t i = 0; i < len;) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - (text + i)) : len - i;
		struct cg_line l;
		if (n && split_line(text + i, n, &l)) {
			int k = rank(&l, v2);
			if (k > best_rank) {
				best = l;
				best_rank = k;
			}
		}
		i += n + 1;
	}
	if (!best_rank)
		return husk_err_set(err, HUSK_ERR_INVALID, 0, "no %s cgroup line in /proc cgroup",
				    v2 ? "unified" : "v1");
	char *p = strndup(best.path, best.n_path);
	if (!p)
		return husk_err_errno(err, ENOMEM, "cgroup path");
	*ret_path = p;
	return 0;
}

/* ---- a runtime's helper pid --------------------------------------------------------- */

int husk__oci_helper_pid_parse(const char *json, size_t len, pid_t *ret)
{
	json_error_t je;
	_cleanup_json_ json_t *root = json_loadb(json, len, 0, &je);
	json_t *v = root ? json_object_get(root, "goferPid") : NULL;

	if (!json_is_integer(v) || json_integer_value(v) <= 0 || json_integer_value(v) > INT32_MAX)
		return 0;
	*ret = (pid_t)json_integer_value(v);
	return 1;
}
