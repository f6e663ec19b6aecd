/* Pure parsers of cgroup file contents into struct husk_cgroup_stats parts. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup.h"
#include "husk/cleanup.h"
#include "husk/err.h"

/* A line iterator over a buffer that need not be NUL-terminated. */
struct lines {
	const char *p;
	const char *end;
};

static bool next_line(struct lines *it, const char **ret, size_t *ret_len)
{
	while (it->p < it->end) {
		const char *nl = memchr(it->p, '\n', (size_t)(it->end - it->p));
		const char *le = nl ? nl : it->end;
		const char *s = it->p;
		it->p = nl ? nl + 1 : it->end;
		if (le > s) {
			*ret = s;
			*ret_len = (size_t)(le - s);
			return true;
		}
	}
	return false;
}

/* Split off the next space-separated word of [*p, end). */
static bool next_word(const char **p, const char *end, const char **ret, size_t *ret_len)
{
	while (*p < end && (**p == ' ' || **p == '\t'))
		(*p)++;
	if (*p >= end)
		return false;
	const char *s = *p;
	while (*p < end && **p != ' ' && **p != '\t')
		(*p)++;
	*ret = s;
	*ret_len = (size_t)(*p - s);
	return true;
}

static int parse_u64_n(const char *s, size_t n, uint64_t *ret)
{
	uint64_t v = 0;

	if (n == 0)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*ret = v;
	return 0;
}

int husk__cgroup_parse_u64(const char *buf, size_t len, uint64_t *ret)
{
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
		len--;
	if (len == 3 && memcmp(buf, "max", 3) == 0) {
		*ret = UINT64_MAX;
		return 0;
	}
	/* v1 files say -1 for "unlimited" in a few places (cpu.cfs_quota_us). */
	if (len == 2 && memcmp(buf, "-1", 2) == 0) {
		*ret = UINT64_MAX;
		return 0;
	}
	return parse_u64_n(buf, len, ret);
}

static bool word_is(const char *w, size_t n, const char *s)
{
	return strlen(s) == n && memcmp(w, s, n) == 0;
}

int husk__cgroup_parse_keyed(const char *buf, size_t len, const char *key, uint64_t *ret)
{
	struct lines it = {buf, buf + len};
	const char *line;
	size_t n;

	while (next_line(&it, &line, &n)) {
		const char *p = line;
		const char *end = line + n;
		const char *k;
		const char *v;
		size_t kn;
		size_t vn;
		if (!next_word(&p, end, &k, &kn) || !word_is(k, kn, key))
			continue;
		if (!next_word(&p, end, &v, &vn))
			return -EINVAL;
		return husk__cgroup_parse_u64(v, vn, ret);
	}
	return -ENOENT;
}

struct keyed_field {
	const char *key;
	size_t off; /* offset of a uint64_t in the target struct */
};

/* Walk "key value" lines, storing values of known keys into base + off. */
/* A keyed file's fields; what names the file in errors. */
struct keyed_table {
	const struct keyed_field *fields;
	size_t n;
	const char *what;
};
#define KEYED(fields, what) (&(const struct keyed_table){(fields), ARRAY_SIZE(fields), (what)})

static int parse_keyed_table(const char *buf, size_t len, const struct keyed_table *t, void *base,
			     struct husk_err *err)
{
	const struct keyed_field *tab = t->fields;
	size_t n_tab = t->n;
	const char *what = t->what;
	struct lines it = {buf, buf + len};
	const char *line;
	size_t n;

	while (next_line(&it, &line, &n)) {
		const char *p = line;
		const char *end = line + n;
		const char *k;
		const char *v;
		size_t kn;
		size_t vn;
		if (!next_word(&p, end, &k, &kn))
			continue;
		for (size_t i = 0; i < n_tab; i++) {
			if (!word_is(k, kn, tab[i].key))
				continue;
			uint64_t val;
			if (!next_word(&p, end, &v, &vn) || husk__cgroup_parse_u64(v, vn, &val) < 0)
				return husk_err_set(err, HUSK_ERR_INVALID, 0,
						    "%s: bad value for '%s'", what, tab[i].key);
			memcpy((char *)base + tab[i].off, &val, sizeof(val));
			break;
		}
	}
	return 0;
}

#define V1F(k)                                                     \
	{                                                          \
#k, offsetof(struct husk_cgroup_v1_memory_stat, k) \
	}
static const struct keyed_field v1_mem_fields[] = {
	V1F(cache),
	V1F(rss),
	V1F(rss_huge),
	V1F(mapped_file),
	V1F(dirty),
	V1F(writeback),
	V1F(pgpgin),
	V1F(pgpgout),
	V1F(pgfault),
	V1F(pgmajfault),
	V1F(inactive_anon),
	V1F(active_anon),
	V1F(inactive_file),
	V1F(active_file),
	V1F(unevictable),
	V1F(hierarchical_memory_limit),
	V1F(hierarchical_memsw_limit),
	V1F(total_cache),
	V1F(total_rss),
	V1F(total_rss_huge),
	V1F(total_mapped_file),
	V1F(total_dirty),
	V1F(total_writeback),
	V1F(total_pgpgin),
	V1F(total_pgpgout),
	V1F(total_pgfault),
	V1F(total_pgmajfault),
	V1F(total_inactive_anon),
	V1F(total_active_anon),
	V1F(total_inactive_file),
	V1F(total_active_file),
	V1F(total_unevictable),
};

#define V2F(k)                                                     \
	{                                                          \
#k, offsetof(struct husk_cgroup_v2_memory_stat, k) \
	}
static const struct keyed_field v2_mem_fields[] = {
	V2F(anon),
	V2F(file),
	V2F(kernel_stack),
	V2F(slab),
	V2F(sock),
	V2F(shmem),
	V2F(file_mapped),
	V2F(file_dirty),
	V2F(file_writeback),
	V2F(anon_thp),
	V2F(inactive_anon),
	V2F(active_anon),
	V2F(inactive_file),
	V2F(active_file),
	V2F(unevictable),
	V2F(slab_reclaimable),
	V2F(slab_unreclaimable),
	V2F(pgfault),
	V2F(pgmajfault),
	V2F(workingset_refault),
	V2F(workingset_activate),
	V2F(workingset_nodereclaim),
	V2F(pgrefill),
	V2F(pgscan),
	V2F(pgsteal),
	V2F(pgactivate),
	V2F(pgdeactivate),
	V2F(pglazyfree),
	V2F(pglazyfreed),
	V2F(thp_fault_alloc),
	V2F(thp_collapse_alloc),
	V2F(workingset_refault_anon),
	V2F(workingset_refault_file),
	V2F(workingset_activate_anon),
	V2F(workingset_activate_file),
};

int husk__cgroup_parse_v1_memory_stat(const char *buf, size_t len,
				      struct husk_cgroup_memory_stats *ret, struct husk_err *err)
{
	int r = parse_keyed_table(buf, len, KEYED(v1_mem_fields, "memory.stat"), &ret->v1, err);
	if (r < 0)
		return r;
	ret->cache = ret->v1.cache;
	ret->rss = ret->v1.rss;
	return 0;
}

int husk__cgroup_parse_v2_memory_stat(const char *buf, size_t len,
				      struct husk_cgroup_memory_stats *ret, struct husk_err *err)
{
	int r = parse_keyed_table(buf, len, KEYED(v2_mem_fields, "memory.stat"), &ret->v2, err);
	if (r < 0)
		return r;
	ret->cache = ret->v2.file;
	ret->rss = ret->v2.anon;
	return 0;
}

#define MEMF(k)                                                  \
	{                                                        \
#k, offsetof(struct husk_cgroup_memory_stats, k) \
	}
static const struct keyed_field oom_control_fields[] = {
	MEMF(oom_kill_disable),
	MEMF(under_oom),
	MEMF(oom_kill),
};

int husk__cgroup_parse_oom_control(const char *buf, size_t len,
				   struct husk_cgroup_memory_stats *ret, struct husk_err *err)
{
	return parse_keyed_table(buf, len, KEYED(oom_control_fields, "memory.oom_control"), ret,
				 err);
}

int husk__cgroup_parse_memory_events(const char *buf, size_t len,
				     struct husk_cgroup_memory_stats *ret, struct husk_err *err)
{
	static const struct keyed_field fields[] = {
		{"low", offsetof(struct husk_cgroup_memory_stats, events_low)},
		{"high", offsetof(struct husk_cgroup_memory_stats, events_high)},
		{"max", offsetof(struct husk_cgroup_memory_stats, events_max)},
		{"oom", offsetof(struct husk_cgroup_memory_stats, events_oom)},
		{"oom_kill", offsetof(struct husk_cgroup_memory_stats, oom_kill)},
	};
	return parse_keyed_table(buf, len, KEYED(fields, "memory.events"), ret, err);
}

int husk__cgroup_parse_percpu(const char *buf, size_t len, struct husk_cgroup_cpu_stats *ret,
			      uint32_t *truncated, struct husk_err *err)
{
	const char *p = buf;
	const char *end = buf + len;
	const char *w;
	size_t wn;

	ret->n_per_cpu = 0;
	while (next_word(&p, end, &w, &wn)) {
		uint64_t v;
		while (wn > 0 && w[wn - 1] == '\n')
			wn--;
		if (wn == 0)
			continue;
		if (parse_u64_n(w, wn, &v) < 0)
			return husk_err_set(err, HUSK_ERR_INVALID, 0,
					    "cpuacct.usage_percpu: bad value '%.*s'", (int)wn, w);
		if (ret->n_per_cpu >= HUSK_CGROUP_STATS_MAX_CPUS) {
			(*truncated)++;
			continue;
		}
		ret->per_cpu_ns[ret->n_per_cpu++] = v;
	}
	return 0;
}

int husk__cgroup_parse_cpuacct_stat(const char *buf, size_t len, long ticks_per_sec,
				    struct husk_cgroup_cpu_stats *ret, struct husk_err *err)
{
	uint64_t user = 0;
	uint64_t sys = 0;

	if (ticks_per_sec <= 0)
		return husk_err_set(err, HUSK_ERR_INVALID, 0, "cpuacct.stat: bad clock tick rate");
	int r1 = husk__cgroup_parse_keyed(buf, len, "user", &user);
	int r2 = husk__cgroup_parse_keyed(buf, len, "system", &sys);
	if ((r1 < 0 && r1 != -ENOENT) || (r2 < 0 && r2 != -ENOENT))
		return husk_err_set(err, HUSK_ERR_INVALID, 0, "cpuacct.stat: bad value");
	uint64_t ns_per_tick = 1000000000ull / (uint64_t)ticks_per_sec;
	ret->usage_user_ns = user * ns_per_tick;
	ret->usage_kernel_ns = sys * ns_per_tick;
	return 0;
}

#define CPUF(k) offsetof(struct husk_cgroup_cpu_stats, k)

int husk__cgroup_parse_cpu_stat(const char *buf, size_t len, bool v2,
				struct husk_cgroup_cpu_stats *ret, struct husk_err *err)
{
	static const struct keyed_field v1_fields[] = {
		{"nr_periods", CPUF(nr_periods)},
		{"nr_throttled", CPUF(nr_throttled)},
		{"throttled_time", CPUF(throttled_time_ns)},
		{"nr_bursts", CPUF(nr_bursts)},
		{"burst_time", CPUF(burst_ns)},
	};
	/* v2 times are in microseconds; parsed into the _ns fields, then scaled. */
	static const struct keyed_field v2_fields[] = {
		{"usage_usec", CPUF(usage_total_ns)},	{"user_usec", CPUF(usage_user_ns)},
		{"system_usec", CPUF(usage_kernel_ns)}, {"nr_periods", CPUF(nr_periods)},
		{"nr_throttled", CPUF(nr_throttled)},	{"throttled_usec", CPUF(throttled_time_ns)},
		{"nr_bursts", CPUF(nr_bursts)},		{"burst_usec", CPUF(burst_ns)},
	};
	if (!v2)
		return parse_keyed_table(buf, len, KEYED(v1_fields, "cpu.stat"), ret, err);

	int r = parse_keyed_table(buf, len, KEYED(v2_fields, "cpu.stat"), ret, err);
	if (r < 0)
		return r;
	ret->usage_total_ns *= 1000;
	ret->usage_user_ns *= 1000;
	ret->usage_kernel_ns *= 1000;
	ret->throttled_time_ns *= 1000;
	ret->burst_ns *= 1000;
	return 0;
}

static int parse_majmin(const char *w, size_t n, uint64_t *ret_major, uint64_t *ret_minor)
{
	const char *colon = memchr(w, ':', n);
	if (!colon)
		return -EINVAL;
	if (parse_u64_n(w, (size_t)(colon - w), ret_major) < 0)
		return -EINVAL;
	return parse_u64_n(colon + 1, (size_t)(w + n - colon - 1), ret_minor);
}

/* One blkio line into e: "MAJ:MIN Op value", "Total value", or "MAJ:MIN value" (blkio.sectors,
 * blkio.time: no op). */
static int parse_blkio_line(const char *line, size_t n, struct husk_cgroup_blkio_entry *e,
			    struct husk_err *err)
{
	const char *p = line;
	const char *end = line + n;
	const char *w[3];
	size_t wn[3];
	int nw = 0;
	const char *extra;
	size_t extra_n;

	while (nw < 3 && next_word(&p, end, &w[nw], &wn[nw]))
		nw++;
	if (next_word(&p, end, &extra, &extra_n) || nw < 2)
		return husk_err_set(err, HUSK_ERR_INVALID, 0, "blkio: bad line '%.*s'", (int)n,
				    line);
	memset(e, 0, sizeof(*e));
	const char *op = "";
	size_t opn = 0;
	if (nw == 2 && word_is(w[0], wn[0], "Total")) {
		op = w[0];
		opn = wn[0];
	} else {
		if (parse_majmin(w[0], wn[0], &e->major, &e->minor) < 0)
			return husk_err_set(err, HUSK_ERR_INVALID, 0, "blkio: bad device '%.*s'",
					    (int)wn[0], w[0]);
		if (nw == 3) {
			op = w[1];
			opn = wn[1];
		}
	}
	if (opn >= sizeof(e->op) || parse_u64_n(w[nw - 1], wn[nw - 1], &e->value) < 0)
		return husk_err_set(err, HUSK_ERR_INVALID, 0, "blkio: bad line '%.*s'", (int)n,
				    line);
	memcpy(e->op, op, opn);
	return 0;
}

int husk__cgroup_parse_blkio(const char *buf, size_t len, const struct husk_cgroup_blkio_out *out,
			     struct husk_err *err)
{
	struct lines it = {buf, buf + len};
	const char *line;
	size_t n;

	*out->n = 0;
	while (next_line(&it, &line, &n)) {
		struct husk_cgroup_blkio_entry e;
		int r = parse_blkio_line(line, n, &e, err);
		if (r < 0)
			return r;
		if (*out->n >= out->max) {
			(*out->truncated)++;
			continue;
		}
		out->entries[(*out->n)++] = e;
	}
	return 0;
}

int husk__cgroup_parse_io_stat(const char *buf, size_t len, struct husk_cgroup_io_stats *ret,
			       uint32_t *truncated, struct husk_err *err)
{
	static const struct keyed_field fields[] = {
		{"rbytes", offsetof(struct husk_cgroup_io_entry, rbytes)},
		{"wbytes", offsetof(struct husk_cgroup_io_entry, wbytes)},
		{"rios", offsetof(struct husk_cgroup_io_entry, rios)},
		{"wios", offsetof(struct husk_cgroup_io_entry, wios)},
	};
	struct lines it = {buf, buf + len};
	const char *line;
	size_t n;

	ret->n_entries = 0;
	while (next_line(&it, &line, &n)) {
		const char *p = line;
		const char *end = line + n;
		const char *w;
		size_t wn;
		struct husk_cgroup_io_entry e;
		memset(&e, 0, sizeof(e));
		if (!next_word(&p, end, &w, &wn))
			continue;
		if (parse_majmin(w, wn, &e.major, &e.minor) < 0)
			return husk_err_set(err, HUSK_ERR_INVALID, 0, "io.stat: bad device '%.*s'",
					    (int)wn, w);
		while (next_word(&p, end, &w, &wn)) {
			const char *eq = memchr(w, '=', wn);
			if (!eq)
				return husk_err_set(err, HUSK_ERR_INVALID, 0,
						    "io.stat: bad field '%.*s'", (int)wn, w);
			size_t kn = (size_t)(eq - w);
			for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
				uint64_t v;
				if (!word_is(w, kn, fields[i].key))
					continue;
				if (parse_u64_n(eq + 1, wn - kn - 1, &v) < 0)
					return husk_err_set(err, HUSK_ERR_INVALID, 0,
							    "io.stat: bad value for '%s'",
							    fields[i].key);
				memcpy((char *)&e + fields[i].off, &v, sizeof(v));
			}
		}
		if (ret->n_entries >= HUSK_CGROUP_STATS_MAX_IO) {
			(*truncated)++;
			continue;
		}
		ret->entries[ret->n_entries++] = e;
	}
	return 0;
}

static int parse_double_n(const char *s, size_t n, double *ret)
{
	char tmp[64];
	char *endp = NULL;

	if (n == 0 || n >= sizeof(tmp))
		return -EINVAL;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	errno = 0;
	double v = strtod(tmp, &endp);
	if (errno != 0 || endp != tmp + n)
		return -EINVAL;
	*ret = v;
	return 0;
}

static int parse_psi_line(const char *p, const char *end, struct husk_cgroup_psi_data *d)
{
	const char *w;
	size_t wn;

	while (next_word(&p, end, &w, &wn)) {
		const char *eq = memchr(w, '=', wn);
		if (!eq)
			return -EINVAL;
		size_t kn = (size_t)(eq - w);
		const char *v = eq + 1;
		size_t vn = wn - kn - 1;
		int r = 0;
		if (word_is(w, kn, "avg10"))
			r = parse_double_n(v, vn, &d->avg10);
		else if (word_is(w, kn, "avg60"))
			r = parse_double_n(v, vn, &d->avg60);
		else if (word_is(w, kn, "avg300"))
			r = parse_double_n(v, vn, &d->avg300);
		else if (word_is(w, kn, "total")) {
			uint64_t t = 0;
			r = parse_u64_n(v, vn, &t);
			d->total_ns = t * 1000;
		}
		if (r < 0)
			return r;
	}
	return 0;
}

int husk__cgroup_parse_psi(const char *buf, size_t len, struct husk_cgroup_psi *ret,
			   struct husk_err *err)
{
	struct lines it = {buf, buf + len};
	const char *line;
	size_t n;

	memset(ret, 0, sizeof(*ret));
	while (next_line(&it, &line, &n)) {
		const char *p = line;
		const char *end = line + n;
		const char *w;
		size_t wn;
		struct husk_cgroup_psi_data *d;
		if (!next_word(&p, end, &w, &wn))
			continue;
		if (word_is(w, wn, "some"))
			d = &ret->some;
		else if (word_is(w, wn, "full"))
			d = &ret->full;
		else
			continue;
		if (parse_psi_line(p, end, d) < 0)
			return husk_err_set(err, HUSK_ERR_INVALID, 0, "pressure: bad line '%.*s'",
					    (int)n, line);
		ret->present = true;
	}
	return 0;
}
