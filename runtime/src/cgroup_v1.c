/* cgroup v1 (and hybrid): freezer, statistics, OOM eventfd. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/eventfd.h>

#include "cgroup_internal.h"
#include "husk/cleanup.h"
#include "husk/err.h"

/* ---- freezer ------------------------------------------------------------------------------- */

static int read_state(int fd, char *buf, size_t cap)
{
	int n = husk__cg_read_small(fd, "freezer.state", buf, cap);
	if (n < 0)
		return n;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}

int husk__cg_v1_is_frozen(struct husk_cgroup *cg, bool *ret, struct husk_err *err)
{
	char state[32];
	int fd = husk__cg_dir_of(cg, HUSK_CG_FREEZER);
	int r = read_state(fd, state, sizeof(state));

	if (r < 0)
		return husk_err_errno(err, -r, "read freezer.state of '%s'", cg->path);
	*ret = strcmp(state, "FROZEN") == 0;
	return 0;
}

int husk__cg_v1_freeze(struct husk_cgroup *cg, bool frozen, int timeout_ms, struct husk_err *err)
{
	const char *want = frozen ? "FROZEN" : "THAWED";
	int fd = husk__cg_dir_of(cg, HUSK_CG_FREEZER);
	int64_t deadline = husk__cg_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	unsigned step = 0;
	char state[32];

	for (unsigned i = 0;; i++) {
		/* Re-request FROZEN now and then: a task that forks or enters while the cgroup
		 * is FREEZING can leave it stuck there (runc does the same). */
		if (i % 8 == 0) {
			int w = husk__cg_write(fd, "freezer.state", want);
			if (w < 0)
				return husk_err_errno(err, -w, "write %s to freezer.state of '%s'",
						      want, cg->path);
		}
		int r = read_state(fd, state, sizeof(state));
		if (r < 0)
			return husk_err_errno(err, -r, "read freezer.state of '%s'", cg->path);
		if (strcmp(state, want) == 0)
			return 0;
		if (husk__cg_now_ms() >= deadline)
			break;
		/* v1 has no notification for state changes: poll with a short backoff. */
		husk__cg_backoff(&step);
	}
	if (frozen)
		(void)husk__cg_write(fd, "freezer.state", "THAWED");
	return husk_err_errno(err, ETIMEDOUT,
			      "cgroup '%s' did not reach %s within %d ms (state %s)", cg->path,
			      want, timeout_ms, state);
}

/* ---- stats --------------------------------------------------------------------------------- */

/* Read an optional file: 1 when read, 0 when absent, <0 on error. */
static int read_opt(int dirfd, const char *file, char **ret, size_t *ret_len)
{
	if (dirfd < 0)
		return 0;
	int r = husk__cg_read_alloc(dirfd, file, 1u << 20, ret, ret_len);
	if (r == -ENOENT || r == -EOPNOTSUPP)
		return 0;
	return r < 0 ? r : 1;
}

static int read_opt_u64(int dirfd, const char *file, uint64_t *ret)
{
	if (dirfd < 0)
		return 0;
	int r = husk__cg_read_u64(dirfd, file, ret);
	if (r == -ENOENT || r == -EOPNOTSUPP)
		return 0;
	return r < 0 ? r : 1;
}

static int stat_err(struct husk_cgroup *cg, int r, const char *file, struct husk_err *err)
{
	if (r == -ENOENT || r == -ENODEV)
		return husk_err_set(err, HUSK_ERR_NOT_FOUND, 0, "cgroup '%s' is gone", cg->path);
	return husk_err_errno(err, -r, "read %s of cgroup '%s'", file, cg->path);
}

static int v1_pids(struct husk_cgroup *cg, struct husk_cgroup_stats *s, struct husk_err *err)
{
	int fd = husk__cg_dir_of(cg, HUSK_CG_PIDS);
	int r = read_opt_u64(fd, "pids.current", &s->pids.current);

	if (r < 0)
		return stat_err(cg, r, "pids.current", err);
	s->pids.present = r > 0;
	if (r > 0 && (r = read_opt_u64(fd, "pids.max", &s->pids.limit)) < 0)
		return stat_err(cg, r, "pids.max", err);
	return 0;
}

static int v1_cpu(struct husk_cgroup *cg, struct husk_cgroup_stats *s, struct husk_err *err)
{
	struct husk_cgroup_cpu_stats *c = &s->cpu;
	int fd = husk__cg_dir_of(cg, HUSK_CG_CPUACCT);
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	int r = read_opt_u64(fd, "cpuacct.usage", &c->usage_total_ns);

	if (r < 0)
		return stat_err(cg, r, "cpuacct.usage", err);
	c->present = r > 0;
	if (r > 0) {
		/* usage_user/usage_sys (ns) are exact; cpuacct.stat counts clock ticks. */
		int ru = read_opt_u64(fd, "cpuacct.usage_user", &c->usage_user_ns);
		int rs = read_opt_u64(fd, "cpuacct.usage_sys", &c->usage_kernel_ns);
		if (ru <= 0 || rs <= 0) {
			r = read_opt(fd, "cpuacct.stat", &buf, &len);
			if (r > 0)
				r = husk__cgroup_parse_cpuacct_stat(buf, len, sysconf(_SC_CLK_TCK),
								    c, err);
			if (r < 0)
				return r;
			free(TAKE_PTR(buf));
		}
		r = read_opt(fd, "cpuacct.usage_percpu", &buf, &len);
		if (r > 0)
			r = husk__cgroup_parse_percpu(buf, len, c, &s->truncated, err);
		if (r < 0)
			return r;
		free(TAKE_PTR(buf));
	}
	r = read_opt(husk__cg_dir_of(cg, HUSK_CG_CPU), "cpu.stat", &buf, &len);
	if (r > 0) {
		c->present = true;
		r = husk__cgroup_parse_cpu_stat(buf, len, /* v2= */ false, c, err);
	}
	return r < 0 ? r : 0;
}

static int mem_entry(int fd, const char *prefix, struct husk_cgroup_mem_entry *e)
{
	static const char *const sfx[] = {"limit_in_bytes", "usage_in_bytes", "max_usage_in_bytes",
					  "failcnt"};
	uint64_t *dst[] = {&e->limit, &e->usage, &e->max, &e->failcnt};
	char file[64];

	for (size_t i = 0; i < ARRAY_SIZE(sfx); i++) {
		(void)snprintf(file, sizeof(file), "%s.%s", prefix, sfx[i]);
		int r = read_opt_u64(fd, file, dst[i]);
		if (r < 0)
			return r;
		if (r > 0)
			e->present = true;
	}
	return 0;
}

static int v1_memory(struct husk_cgroup *cg, struct husk_cgroup_stats *s, struct husk_err *err)
{
	struct husk_cgroup_memory_stats *m = &s->memory;
	int fd = husk__cg_dir_of(cg, HUSK_CG_MEMORY);
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;

	int r = read_opt(fd, "memory.stat", &buf, &len);
	if (r < 0)
		return stat_err(cg, r, "memory.stat", err);
	if (r == 0)
		return 0;
	m->present = true;
	if ((r = husk__cgroup_parse_v1_memory_stat(buf, len, m, err)) < 0)
		return r;
	free(TAKE_PTR(buf));
	if ((r = mem_entry(fd, "memory", &m->usage)) < 0 ||
	    (r = mem_entry(fd, "memory.memsw", &m->swap)) < 0 ||
	    (r = mem_entry(fd, "memory.kmem", &m->kernel)) < 0 ||
	    (r = mem_entry(fd, "memory.kmem.tcp", &m->kernel_tcp)) < 0)
		return stat_err(cg, r, "memory.*", err);
	r = read_opt(fd, "memory.oom_control", &buf, &len);
	if (r > 0)
		r = husk__cgroup_parse_oom_control(buf, len, m, err);
	return r < 0 ? r : 0;
}

/* Per BlkIOStat field: the CFQ file, the BFQ file, the throttle file (first with data). */
static const char *const blkio_files[_HUSK_BLKIO_FILE_MAX][3] = {
	[HUSK_BLKIO_IO_SERVICE_BYTES] = {"blkio.io_service_bytes_recursive",
					 "blkio.bfq.io_service_bytes_recursive",
					 "blkio.throttle.io_service_bytes_recursive"},
	[HUSK_BLKIO_IO_SERVICED] = {"blkio.io_serviced_recursive",
				    "blkio.bfq.io_serviced_recursive",
				    "blkio.throttle.io_serviced_recursive"},
	[HUSK_BLKIO_IO_QUEUED] = {"blkio.io_queued_recursive", "blkio.bfq.io_queued_recursive",
				  NULL},
	[HUSK_BLKIO_IO_SERVICE_TIME] = {"blkio.io_service_time_recursive",
					"blkio.bfq.io_service_time_recursive", NULL},
	[HUSK_BLKIO_IO_WAIT_TIME] = {"blkio.io_wait_time_recursive",
				     "blkio.bfq.io_wait_time_recursive", NULL},
	[HUSK_BLKIO_IO_MERGED] = {"blkio.io_merged_recursive", "blkio.bfq.io_merged_recursive",
				  NULL},
	[HUSK_BLKIO_IO_TIME] = {"blkio.time_recursive", "blkio.bfq.time_recursive", NULL},
	[HUSK_BLKIO_SECTORS] = {"blkio.sectors_recursive", "blkio.bfq.sectors_recursive", NULL},
};

static int v1_blkio(struct husk_cgroup *cg, struct husk_cgroup_stats *s, struct husk_err *err)
{
	struct husk_cgroup_blkio_stats *b = &s->blkio;
	int fd = husk__cg_dir_of(cg, HUSK_CG_BLKIO);

	if (fd < 0)
		return 0;
	b->present = true;
	for (size_t f = 0; f < _HUSK_BLKIO_FILE_MAX; f++) {
		for (size_t k = 0; k < 3 && blkio_files[f][k]; k++) {
			_cleanup_free_ char *buf = NULL;
			size_t len = 0;
			int r = read_opt(fd, blkio_files[f][k], &buf, &len);
			if (r < 0)
				return stat_err(cg, r, blkio_files[f][k], err);
			if (r == 0)
				continue;
			struct husk_cgroup_blkio_out out = {b->entries[f],
							    HUSK_CGROUP_STATS_MAX_BLKIO,
							    &b->n_entries[f], &s->truncated};
			r = husk__cgroup_parse_blkio(buf, len, &out, err);
			if (r < 0)
				return r;
			/* "Total 0" alone means this scheduler saw nothing: try the next. */
			if (b->n_entries[f] > 1)
				break;
		}
	}
	return 0;
}

static int v1_hugetlb(struct husk_cgroup *cg, struct husk_cgroup_stats *s, struct husk_err *err)
{
	int fd = husk__cg_dir_of(cg, HUSK_CG_HUGETLB);

	if (fd < 0)
		return 0;
	int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return stat_err(cg, -errno, "hugetlb", err);
	_cleanup_closedir_ DIR *d = fdopendir(dfd);
	if (!d) {
		husk_safe_close(dfd);
		return stat_err(cg, -errno, "hugetlb", err);
	}
	for (struct dirent *de = readdir(d); de; de = readdir(d)) {
		char size[16];
		/* hugetlb.<size>.usage_in_bytes names each page size once. */
		if (sscanf(de->d_name, "hugetlb.%15[^.].usage_in_bytes", size) != 1 ||
		    strstr(de->d_name, ".rsvd."))
			continue;
		if (s->n_hugetlb >= HUSK_CGROUP_STATS_MAX_HUGETLB) {
			s->truncated++;
			continue;
		}
		struct husk_cgroup_hugetlb_entry *h = &s->hugetlb[s->n_hugetlb++];
		char file[96];
		(void)snprintf(h->pagesize, sizeof(h->pagesize), "%s", size);
		(void)snprintf(file, sizeof(file), "hugetlb.%s.usage_in_bytes", size);
		(void)read_opt_u64(fd, file, &h->usage);
		(void)snprintf(file, sizeof(file), "hugetlb.%s.max_usage_in_bytes", size);
		(void)read_opt_u64(fd, file, &h->max);
		(void)snprintf(file, sizeof(file), "hugetlb.%s.limit_in_bytes", size);
		(void)read_opt_u64(fd, file, &h->limit);
		(void)snprintf(file, sizeof(file), "hugetlb.%s.failcnt", size);
		(void)read_opt_u64(fd, file, &h->failcnt);
	}
	return 0;
}

int husk__cg_v1_stats(struct husk_cgroup *cg, struct husk_cgroup_stats *ret, struct husk_err *err)
{
	int r;

	if ((r = v1_pids(cg, ret, err)) < 0 || (r = v1_cpu(cg, ret, err)) < 0 ||
	    (r = v1_memory(cg, ret, err)) < 0 || (r = v1_blkio(cg, ret, err)) < 0 ||
	    (r = v1_hugetlb(cg, ret, err)) < 0)
		return r;
	return 0;
}

/* ---- OOM ----------------------------------------------------------------------------------- */

int husk__cg_v1_oom_open(struct husk_cgroup *cg, struct husk_err *err)
{
	int memfd = husk__cg_dir_of(cg, HUSK_CG_MEMORY);
	char buf[64];

	if (memfd < 0)
		return husk_err_set(err, HUSK_ERR_PRECONDITION, 0,
				    "cgroup '%s': no memory controller for OOM events", cg->path);
	_cleanup_close_ int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (efd < 0)
		return husk_err_errno(err, errno, "eventfd");
	_cleanup_close_ int ctl = openat(memfd, "memory.oom_control", O_RDONLY | O_CLOEXEC);
	if (ctl < 0)
		return husk_err_errno(err, errno, "open memory.oom_control of '%s'", cg->path);
	/* The registration holds its own references: ctl may be closed afterwards. */
	(void)snprintf(buf, sizeof(buf), "%d %d", efd, ctl);
	int r = husk__cg_write(memfd, "cgroup.event_control", buf);
	if (r < 0)
		return husk_err_errno(err, -r, "register OOM eventfd on '%s'", cg->path);
	return TAKE_FD(efd);
}

int husk__cg_v1_oom_count(struct husk_cgroup *cg, uint64_t *ret, struct husk_err *err)
{
	int memfd = husk__cg_dir_of(cg, HUSK_CG_MEMORY);
	char buf[256];

	if (memfd < 0)
		return husk_err_set(err, HUSK_ERR_PRECONDITION, 0,
				    "cgroup '%s': no memory controller", cg->path);
	int n = husk__cg_read_small(memfd, "memory.oom_control", buf, sizeof(buf));
	if (n < 0)
		return husk_err_errno(err, -n, "read memory.oom_control of '%s'", cg->path);
	int r = husk__cgroup_parse_keyed(buf, (size_t)n, "oom_kill", ret);
	if (r < 0)
		return husk_err_set(err, HUSK_ERR_INTERNAL, 0,
				    "memory.oom_control of '%s' has no oom_kill counter", cg->path);
	return 0;
}
