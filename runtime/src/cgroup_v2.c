/* cgroup v2 (unified): controller delegation, freezer, cgroup.kill, statistics, OOM. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/inotify.h>

#include "cgroup_internal.h"
#include "husk/cleanup.h"
#include "husk/err.h"

static int v2_dir(const struct husk_cgroup *cg)
{
	int i = husk__cg_hier_v2(cg->host);
	return i < 0 ? -1 : cg->dir[i];
}

/* ---- delegation ------------------------------------------------------------------------------ */

/* Enable in dirfd's cgroup.subtree_control every controller it has. Best effort per
 * controller: one the parent cannot delegate is simply missing below, and applying a
 * resource of it then fails naming the resource. */
static void enable_all(int dirfd)
{
	char buf[512];
	char *save = NULL;

	if (husk__cg_read_small(dirfd, "cgroup.controllers", buf, sizeof(buf)) < 0)
		return;
	for (char *w = strtok_r(buf, " \n", &save); w; w = strtok_r(NULL, " \n", &save)) {
		char cmd[64];
		(void)snprintf(cmd, sizeof(cmd), "+%s", w);
		(void)husk__cg_write(dirfd, "cgroup.subtree_control", cmd);
	}
}

int husk__cg_v2_enable_controllers(struct husk_cgroup_host *host, const char *path,
				   struct husk_err *err)
{
	int i = husk__cg_hier_v2(host);
	char rel[PATH_MAX];

	if (i < 0)
		return husk_err_set(err, HUSK_ERR_INTERNAL, 0, "no cgroup2 hierarchy");
	(void)snprintf(rel, sizeof(rel), "%s", path + 1);
	enable_all(host->hier[i].fd);
	/* Every ancestor of the leaf, top-down: a controller reaches a level only when its
	 * parent delegates it. */
	for (char *s = rel; (s = strchr(s, '/')) != NULL; s++) {
		*s = '\0';
		int fd = openat(host->hier[i].fd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		*s = '/';
		if (fd < 0)
			return husk_err_errno(err, errno, "open cgroup '/%.*s'", (int)(s - rel),
					      rel);
		enable_all(fd);
		husk_safe_close(fd);
	}
	return 0;
}

/* ---- freezer ---------------------------------------------------------------------------- */

/* "frozen 0|1" from cgroup.events through an fd kept open for poll(). */
static int read_frozen(int fd, bool *ret)
{
	char buf[256];
	uint64_t v = 0;

	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n < 0)
		return -errno;
	int r = husk__cgroup_parse_keyed(buf, (size_t)n, "frozen", &v);
	if (r < 0)
		return r;
	*ret = v != 0;
	return 0;
}

int husk__cg_v2_is_frozen(struct husk_cgroup *cg, bool *ret, struct husk_err *err)
{
	_cleanup_close_ int fd = openat(v2_dir(cg), "cgroup.events", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return husk_err_errno(err, errno, "open cgroup.events of '%s'", cg->path);
	int r = read_frozen(fd, ret);
	if (r < 0)
		return husk_err_errno(err, -r, "read cgroup.events of '%s'", cg->path);
	return 0;
}

int husk__cg_v2_freeze(struct husk_cgroup *cg, bool frozen, int timeout_ms, struct husk_err *err)
{
	int64_t deadline = husk__cg_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	_cleanup_close_ int fd = openat(v2_dir(cg), "cgroup.events", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return husk_err_errno(err, errno, "open cgroup.events of '%s'", cg->path);
	int r = husk__cg_write(v2_dir(cg), "cgroup.freeze", frozen ? "1" : "0");
	if (r == -ENOENT)
		return husk_err_set(err, HUSK_ERR_PRECONDITION, 0,
				    "cgroup '%s': the kernel has no cgroup.freeze (5.2+)",
				    cg->path);
	if (r < 0)
		return husk_err_errno(err, -r, "write cgroup.freeze of '%s'", cg->path);
	for (;;) {
		bool now = !frozen;
		r = read_frozen(fd, &now);
		if (r < 0)
			return husk_err_errno(err, -r, "read cgroup.events of '%s'", cg->path);
		if (now == frozen)
			return 0;
		int64_t left = deadline - husk__cg_now_ms();
		if (left <= 0)
			break;
		/* cgroup.events signals every change with POLLPRI (kernfs notify). */
		struct pollfd p = {.fd = fd, .events = POLLPRI};
		if (poll(&p, 1, (int)left) < 0 && errno != EINTR)
			return husk_err_errno(err, errno, "poll cgroup.events of '%s'", cg->path);
	}
	if (frozen)
		(void)husk__cg_write(v2_dir(cg), "cgroup.freeze", "0");
	return husk_err_errno(err, ETIMEDOUT, "cgroup '%s' did not %s within %d ms", cg->path,
			      frozen ? "freeze" : "thaw", timeout_ms);
}

int husk__cg_v2_kill(struct husk_cgroup *cg, struct husk_err *err)
{
	pid_t *pids = NULL;
	size_t n = 0;

	int r = husk__cgroup_pids(cg, &pids, &n, err);
	if (r < 0)
		return r;
	free(pids);
	r = husk__cg_write(v2_dir(cg), "cgroup.kill", "1");
	if (r == -ENOENT)
		return r;
	if (r < 0)
		return husk_err_errno(err, -r, "write cgroup.kill of '%s'", cg->path);
	return (int)n;
}

/* ---- stats ----------------------------------------------------------------------------------- */

static int read_opt(int dirfd, const char *file, char **ret, size_t *ret_len)
{
	int r = husk__cg_read_alloc(dirfd, file, 1u << 20, ret, ret_len);
	if (r == -ENOENT || r == -EOPNOTSUPP)
		return 0;
	return r < 0 ? r : 1;
}

static int read_opt_u64(int dirfd, const char *file, uint64_t *ret)
{
	int r = husk__cg_read_u64(dirfd, file, ret);
	if (r == -ENOENT || r == -EOPNOTSUPP)
		return 0;
	return r < 0 ? r : 1;
}

static int read_psi(int fd, const char *file, struct husk_cgroup_psi *psi, struct husk_err *err)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	int r = read_opt(fd, file, &buf, &len);
	if (r > 0)
		r = husk__cgroup_parse_psi(buf, len, psi, err);
	return r < 0 ? r : 0;
}

static int stat_err(struct husk_cgroup *cg, int r, const char *file, struct husk_err *err)
{
	if (r == -ENOENT || r == -ENODEV)
		return husk_err_set(err, HUSK_ERR_NOT_FOUND, 0, "cgroup '%s' is gone", cg->path);
	return husk_err_errno(err, -r, "read %s of cgroup '%s'", file, cg->path);
}

static int v2_cpu(struct husk_cgroup *cg, int fd, struct husk_cgroup_stats *s, struct husk_err *err)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	/* cpu.stat exists without the cpu controller (usage only). Its absence means the
	 * cgroup is gone. */
	int r = husk__cg_read_alloc(fd, "cpu.stat", 1u << 20, &buf, &len);
	if (r < 0)
		return stat_err(cg, r, "cpu.stat", err);
	s->cpu.present = true;
	if ((r = husk__cgroup_parse_cpu_stat(buf, len, /* v2= */ true, &s->cpu, err)) < 0)
		return r;
	return read_psi(fd, "cpu.pressure", &s->cpu.psi, err);
}

static int v2_memory(struct husk_cgroup *cg, int fd, struct husk_cgroup_stats *s,
		     struct husk_err *err)
{
	struct husk_cgroup_memory_stats *m = &s->memory;
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	int r = read_opt(fd, "memory.stat", &buf, &len);

	if (r <= 0)
		return r < 0 ? stat_err(cg, r, "memory.stat", err) : 0;
	m->present = true;
	if ((r = husk__cgroup_parse_v2_memory_stat(buf, len, m, err)) < 0)
		return r;
	free(TAKE_PTR(buf));
	m->usage.present = true;
	if ((r = read_opt_u64(fd, "memory.current", &m->usage.usage)) < 0 ||
	    (r = read_opt_u64(fd, "memory.max", &m->usage.limit)) < 0 ||
	    (r = read_opt_u64(fd, "memory.peak", &m->usage.max)) < 0)
		return stat_err(cg, r, "memory.*", err);
	r = read_opt_u64(fd, "memory.swap.current", &m->swap.usage);
	if (r > 0) {
		m->swap.present = true;
		if ((r = read_opt_u64(fd, "memory.swap.max", &m->swap.limit)) >= 0)
			r = read_opt_u64(fd, "memory.swap.peak", &m->swap.max);
	}
	if (r < 0)
		return stat_err(cg, r, "memory.swap.*", err);
	r = read_opt(fd, "memory.events", &buf, &len);
	if (r > 0)
		r = husk__cgroup_parse_memory_events(buf, len, m, err);
	if (r < 0)
		return r;
	m->usage.failcnt = m->events_max;
	return read_psi(fd, "memory.pressure", &m->psi, err);
}

static int v2_io(struct husk_cgroup *cg, int fd, struct husk_cgroup_stats *s, struct husk_err *err)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	int r = read_opt(fd, "io.stat", &buf, &len);

	if (r < 0)
		return stat_err(cg, r, "io.stat", err);
	if (r > 0) {
		s->io.present = true;
		if ((r = husk__cgroup_parse_io_stat(buf, len, &s->io, &s->truncated, err)) < 0)
			return r;
	}
	return read_psi(fd, "io.pressure", &s->io.psi, err);
}

static int v2_hugetlb(struct husk_cgroup *cg, int fd, struct husk_cgroup_stats *s,
		      struct husk_err *err)
{
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
		char tail[16];
		if (sscanf(de->d_name, "hugetlb.%15[^.].%15s", size, tail) != 2 ||
		    strcmp(tail, "current") != 0)
			continue;
		if (s->n_hugetlb >= HUSK_CGROUP_STATS_MAX_HUGETLB) {
			s->truncated++;
			continue;
		}
		struct husk_cgroup_hugetlb_entry *h = &s->hugetlb[s->n_hugetlb++];
		char file[96];
		(void)snprintf(h->pagesize, sizeof(h->pagesize), "%s", size);
		(void)snprintf(file, sizeof(file), "hugetlb.%s.current", size);
		(void)read_opt_u64(fd, file, &h->usage);
		(void)snprintf(file, sizeof(file), "hugetlb.%s.max", size);
		(void)read_opt_u64(fd, file, &h->limit);
		h->max = h->limit;
		(void)snprintf(file, sizeof(file), "hugetlb.%s.events", size);
		_cleanup_free_ char *ev = NULL;
		size_t evlen = 0;
		if (read_opt(fd, file, &ev, &evlen) > 0)
			(void)husk__cgroup_parse_keyed(ev, evlen, "max", &h->failcnt);
	}
	return 0;
}

int husk__cg_v2_stats(struct husk_cgroup *cg, struct husk_cgroup_stats *ret, struct husk_err *err)
{
	int fd = v2_dir(cg);
	int r;

	if (fd < 0)
		return husk_err_set(err, HUSK_ERR_NOT_FOUND, 0, "cgroup '%s' is gone", cg->path);
	r = read_opt_u64(fd, "pids.current", &ret->pids.current);
	if (r < 0)
		return stat_err(cg, r, "pids.current", err);
	if (r > 0) {
		ret->pids.present = true;
		(void)read_opt_u64(fd, "pids.max", &ret->pids.limit);
	}
	if ((r = v2_cpu(cg, fd, ret, err)) < 0 || (r = v2_memory(cg, fd, ret, err)) < 0 ||
	    (r = v2_io(cg, fd, ret, err)) < 0 || (r = v2_hugetlb(cg, fd, ret, err)) < 0)
		return r;
	return 0;
}

/* ---- OOM --------------------------------------------------------------------------------------
 */

int husk__cg_v2_oom_open(struct husk_cgroup *cg, struct husk_err *err)
{
	int fd = v2_dir(cg);
	char path[64];

	if (fd < 0 || faccessat(fd, "memory.events", F_OK, 0) < 0)
		return husk_err_set(err, HUSK_ERR_PRECONDITION, 0,
				    "cgroup '%s': no memory controller for OOM events", cg->path);
	_cleanup_close_ int in = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (in < 0)
		return husk_err_errno(err, errno, "inotify_init1");
	/* inotify wants a path; reach the file through our dirfd. */
	(void)snprintf(path, sizeof(path), "/proc/self/fd/%d/memory.events", fd);
	if (inotify_add_watch(in, path, IN_MODIFY) < 0)
		return husk_err_errno(err, errno, "watch memory.events of '%s'", cg->path);
	return TAKE_FD(in);
}

int husk__cg_v2_oom_count(struct husk_cgroup *cg, uint64_t *ret, struct husk_err *err)
{
	char buf[512];
	int fd = v2_dir(cg);

	if (fd < 0)
		return husk_err_set(err, HUSK_ERR_NOT_FOUND, 0, "cgroup '%s' is gone", cg->path);
	int n = husk__cg_read_small(fd, "memory.events", buf, sizeof(buf));
	if (n < 0)
		return husk_err_errno(err, -n, "read memory.events of '%s'", cg->path);
	if (husk__cgroup_parse_keyed(buf, (size_t)n, "oom_kill", ret) < 0)
		return husk_err_set(err, HUSK_ERR_INTERNAL, 0,
				    "memory.events of '%s' has no oom_kill counter", cg->path);
	return 0;
}
