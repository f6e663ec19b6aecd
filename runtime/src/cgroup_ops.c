/* Operations over a whole cgroup subtree: pids, freezer, kill-all, stats, OOM, removal. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include "cgroup.h"
#include "cgroup_internal.h"
#include "husk/cleanup.h"
#include "husk/err.h"
#include "syscalls.h"

/* Bound on the cgroups of one container's subtree that the walks visit. */
#define MAX_SUBTREE_DIRS 65536

/* Names of the subdirectories of dirfd (the nested cgroups). *ret is a malloc'ed array of
 * malloc'ed names. */
static void free_names(char **names, size_t n);

static int list_subdirs(int dirfd, char ***ret, size_t *ret_n)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	char **names = NULL;
	size_t n = 0;
	size_t cap = 0;
	int r = 0;

	if (fd < 0)
		return -errno;
	_cleanup_closedir_ DIR *d = fdopendir(fd);
	if (!d) {
		husk_safe_close(fd);
		return -errno;
	}
	for (struct dirent *de = readdir(d); r == 0 && de; de = readdir(d)) {
		if (de->d_type != DT_DIR || strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			char **nn = realloc(names, ncap * sizeof(*nn));
			if (!nn) {
				r = -ENOMEM;
				break;
			}
			names = nn;
			cap = ncap;
		}
		if (!(names[n] = strdup(de->d_name)))
			r = -ENOMEM;
		else
			n++;
	}
	if (r < 0) {
		free_names(names, n);
		return r;
	}
	*ret = names;
	*ret_n = n;
	return 0;
}

static void free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* A growing list of cgroup paths relative to the hierarchy's root. */
struct dir_list {
	char **v;
	size_t n;
	size_t cap;
};

/* The subdirectories of hier_fd's dir; a dir that is gone (removed meanwhile) has none. */
static int read_kids(int hier_fd, const char *dir, char ***ret, size_t *ret_n)
{
	*ret = NULL;
	*ret_n = 0;
	int fd = openat(hier_fd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	int r = list_subdirs(fd, ret, ret_n);
	husk_safe_close(fd);
	return r == -ENOENT ? 0 : r;
}

/* Append "<l->v[parent]>/<kid>" for each kid, within MAX_SUBTREE_DIRS. */
static int append_kids(struct dir_list *l, size_t parent, char **kids, size_t nk)
{
	for (size_t k = 0; k < nk; k++) {
		if (l->n >= MAX_SUBTREE_DIRS)
			return -E2BIG;
		if (l->n == l->cap) {
			char **nl = realloc(l->v, sizeof(*nl) * l->cap * 2);
			if (!nl)
				return -ENOMEM;
			l->v = nl;
			l->cap *= 2;
		}
		if (asprintf(&l->v[l->n], "%s/%s", l->v[parent], kids[k]) < 0)
			return -ENOMEM;
		l->n++;
	}
	return 0;
}

/*
 * Breadth-first list of path and its nested cgroups, as paths relative to hier_fd ("a/b",
 * "a/b/c", ...): parents before children. A missing top is an empty list.
 */
static int subtree(int hier_fd, const char *path, char ***ret, size_t *ret_n)
{
	struct dir_list l = {.cap = 16};
	int r = 0;

	if (!(l.v = malloc(sizeof(*l.v) * l.cap)) || !(l.v[0] = strdup(path + 1))) {
		free(l.v);
		return -ENOMEM;
	}
	l.n = 1;
	for (size_t i = 0; r == 0 && i < l.n; i++) {
		char **kids = NULL;
		size_t nk = 0;
		r = read_kids(hier_fd, l.v[i], &kids, &nk);
		if (r == 0)
			r = append_kids(&l, i, kids, nk);
		free_names(kids, nk);
	}
	if (r < 0) {
		free_names(l.v, l.n);
		return r;
	}
	*ret = l.v;
	*ret_n = l.n;
	return 0;
}

/* The hierarchy whose cgroup.procs lists the container's processes. */
static int procs_hier(const struct husk_cgroup *cg)
{
	static const enum husk_cgroup_ctrl pref[] = {HUSK_CG_PIDS, HUSK_CG_FREEZER, HUSK_CG_MEMORY,
						     HUSK_CG_CPU};
	const struct husk_cgroup_host *h = cg->host;

	if (h->mode == HUSK_CGROUP_MODE_V2)
		return husk__cg_hier_v2(h);
	for (size_t i = 0; i < ARRAY_SIZE(pref); i++) {
		int k = husk__cg_hier_of(h, pref[i]);
		if (k >= 0 && cg->dir[k] >= 0)
			return k;
	}
	for (size_t i = 0; i < h->n_hier; i++)
		if (cg->dir[i] >= 0)
			return (int)i;
	return -1;
}

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a;
	pid_t y = *(const pid_t *)b;
	return (x > y) - (x < y);
}

static int append_pids(const char *buf, pid_t **pids, size_t *n, size_t *cap)
{
	const char *p = buf;

	while (*p) {
		char *end = NULL;
		long v = strtol(p, &end, 10);
		if (end == p) {
			p++;
			continue;
		}
		p = end;
		if (v <= 0 || v > INT_MAX)
			continue;
		if (*n >= HUSK_CGROUP_MAX_PIDS)
			return -E2BIG;
		if (*n == *cap) {
			size_t ncap = *cap ? *cap * 2 : 64;
			pid_t *np = realloc(*pids, ncap * sizeof(*np));
			if (!np)
				return -ENOMEM;
			*pids = np;
			*cap = ncap;
		}
		(*pids)[(*n)++] = (pid_t)v;
	}
	return 0;
}

int husk__cgroup_pids(struct husk_cgroup *cg, pid_t **ret_pids, size_t *ret_n, struct husk_err *err)
{
	int k = procs_hier(cg);
	char **dirs = NULL;
	size_t nd = 0;
	pid_t *pids = NULL;
	size_t n = 0;
	size_t cap = 0;

	if (k < 0)
		return husk_err_set(err, HUSK_ERR_NOT_FOUND, 0, "cgroup '%s' does not exist",
				    cg->path);
	int r = subtree(cg->host->hier[k].fd, cg->path, &dirs, &nd);
	if (r < 0)
		return husk_err_errno(err, -r, "list cgroups under '%s'", cg->path);
	for (size_t i = 0; r == 0 && i < nd; i++) {
		char *buf = NULL;
		char file[PATH_MAX];
		(void)snprintf(file, sizeof(file), "%s/cgroup.procs", dirs[i]);
		r = husk__cg_read_alloc(cg->host->hier[k].fd, file, 64u << 20, &buf, NULL);
		if (r == -ENOENT || r == -ENODEV) {
			/* Removed while we walked. */
			r = 0;
			continue;
		}
		if (r == 0)
			r = append_pids(buf, &pids, &n, &cap);
		free(buf);
	}
	free_names(dirs, nd);
	if (r < 0) {
		free(pids);
		return husk_err_errno(err, -r, "read pids of cgroup '%s'", cg->path);
	}
	if (n > 1)
		qsort(pids, n, sizeof(*pids), cmp_pid);
	size_t u = 0;
	for (size_t i = 0; i < n; i++)
		if (u == 0 || pids[u - 1] != pids[i])
			pids[u++] = pids[i];
	if (u == 0) {
		free(pids);
		pids = NULL;
	}
	*ret_pids = pids;
	*ret_n = u;
	return 0;
}

/* ---- freezer ----------------------------------------------------------------------------------
 */

int husk__cgroup_freeze(struct husk_cgroup *cg, bool frozen, int timeout_ms, struct husk_err *err)
{
	if (cg->host->mode == HUSK_CGROUP_MODE_V2)
		return husk__cg_v2_freeze(cg, frozen, timeout_ms, err);
	if (husk__cg_dir_of(cg, HUSK_CG_FREEZER) < 0)
		return husk_err_set(err, HUSK_ERR_PRECONDITION, 0,
				    "cgroup '%s': no freezer controller on this host", cg->path);
	return husk__cg_v1_freeze(cg, frozen, timeout_ms, err);
}

int husk__cgroup_is_frozen(struct husk_cgroup *cg, bool *ret_frozen, struct husk_err *err)
{
	if (cg->host->mode == HUSK_CGROUP_MODE_V2)
		return husk__cg_v2_is_frozen(cg, ret_frozen, err);
	if (husk__cg_dir_of(cg, HUSK_CG_FREEZER) < 0)
		return husk_err_set(err, HUSK_ERR_PRECONDITION, 0,
				    "cgroup '%s': no freezer controller on this host", cg->path);
	return husk__cg_v1_is_frozen(cg, ret_frozen, err);
}

/* ---- kill all ------------------------------------------------------------------------------ */

/* 0, or -errno of *ret_sys, the syscall that failed. */
static int signal_pid(pid_t pid, int sig, enum husk_sys *ret_sys)
{
	*ret_sys = HUSK_SYS_PIDFD_OPEN;
	int fd = husk__pidfd_open(pid, 0);
	if (fd < 0)
		return -errno;
	*ret_sys = HUSK_SYS_PIDFD_SEND_SIGNAL;
	int r = husk__pidfd_send_signal(fd, sig, 0);
	r = r < 0 ? -errno : 0;
	husk_safe_close(fd);
	return r;
}

static int signal_all(struct husk_cgroup *cg, int sig, struct husk_err *err)
{
	pid_t *pids = NULL;
	size_t n = 0;
	int count = 0;

	int r = husk__cgroup_pids(cg, &pids, &n, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		enum husk_sys sys;
		r = signal_pid(pids[i], sig, &sys);
		if (r == -ESRCH)
			continue;
		if (r < 0) {
			int pid = (int)pids[i];
			free(pids);
			if (r == -ENOSYS)
				return husk__sys_missing(sys, err);
			return husk_err_errno(err, -r, "signal %d to pid %d", sig, pid);
		}
		count++;
	}
	free(pids);
	return count;
}

int husk__cgroup_kill_all(struct husk_cgroup *cg, int sig, int timeout_ms, struct husk_err *err)
{
	bool was_frozen = false;
	int r;

	if (cg->host->mode == HUSK_CGROUP_MODE_V2 && sig == SIGKILL) {
		r = husk__cg_v2_kill(cg, err);
		if (r != -ENOENT)
			return r;
		/* cgroup.kill is 5.14+; older kernels take the freezer path. */
	}
	struct husk_err ferr = {0};
	r = husk__cgroup_is_frozen(cg, &was_frozen, &ferr);
	/* No freezer for this cgroup: signal what is there, as runc does when it cannot
	 * freeze. */
	if (r < 0 && ferr.kind == HUSK_ERR_PRECONDITION)
		return signal_all(cg, sig, err);
	if (r < 0) {
		if (err)
			*err = ferr;
		return r;
	}
	if (!was_frozen && husk__cgroup_freeze(cg, true, timeout_ms, err) < 0)
		return husk_err_prefix(err, "kill all in '%s'", cg->path);
	/* Frozen tasks cannot fork, so the list is complete; pids cannot be reused either,
	 * because a frozen task cannot be reaped away. */
	int count = signal_all(cg, sig, err);
	if (!was_frozen) {
		struct husk_err terr;
		r = husk__cgroup_freeze(cg, false, timeout_ms, &terr);
		if (r < 0 && count >= 0) {
			if (err)
				*err = terr;
			return r;
		}
	}
	return count;
}

/* ---- stats and OOM ----------------------------------------------------------------------- */

int husk__cgroup_stats(struct husk_cgroup *cg, struct husk_cgroup_stats *ret, struct husk_err *err)
{
	memset(ret, 0, sizeof(*ret));
	if (cg->host->mode == HUSK_CGROUP_MODE_V2) {
		ret->mode = HUSK_CGROUP_STATS_V2;
		return husk__cg_v2_stats(cg, ret, err);
	}
	ret->mode = HUSK_CGROUP_STATS_V1;
	return husk__cg_v1_stats(cg, ret, err);
}

int husk__cgroup_oom_fd(struct husk_cgroup *cg, struct husk_err *err)
{
	if (cg->oom_fd >= 0)
		return cg->oom_fd;
	int fd = cg->host->mode == HUSK_CGROUP_MODE_V2 ? husk__cg_v2_oom_open(cg, err)
						       : husk__cg_v1_oom_open(cg, err);
	if (fd < 0)
		return fd;
	cg->oom_fd = fd;
	return fd;
}

static void oom_drain(int fd)
{
	char buf[4096];
	/* Both the eventfd and the inotify fd are non-blocking: read until EAGAIN. */
	for (int i = 0; i < 64; i++) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n <= 0 && !(n < 0 && errno == EINTR))
			break;
	}
}

int husk__cgroup_oom_check(struct husk_cgroup *cg, bool *ret_oom, struct husk_err *err)
{
	uint64_t v = 0;

	if (cg->oom_fd >= 0)
		oom_drain(cg->oom_fd);
	int r = cg->host->mode == HUSK_CGROUP_MODE_V2 ? husk__cg_v2_oom_count(cg, &v, err)
						      : husk__cg_v1_oom_count(cg, &v, err);
	if (r == -ENOENT || r == -ENODEV) {
		*ret_oom = false;
		return 0;
	}
	if (r < 0)
		return r;
	*ret_oom = v > cg->oom_last;
	cg->oom_last = v;
	return 0;
}

/* ---- removal ------------------------------------------------------------------------------ */

static int rmdir_retry(int hier_fd, const char *rel, int64_t deadline)
{
	unsigned step = 0;

	for (;;) {
		if (unlinkat(hier_fd, rel, AT_REMOVEDIR) == 0 || errno == ENOENT)
			return 0;
		if (errno != EBUSY || husk__cg_now_ms() >= deadline)
			return -errno;
		/* Dying tasks leave the cgroup asynchronously; the kernel offers no event for
		 * "empty" on v1, so back off briefly. */
		husk__cg_backoff(&step);
	}
}

static int destroy_in(struct husk_cgroup_host *host, size_t i, const char *path, int64_t deadline,
		      struct husk_err *err)
{
	char **dirs = NULL;
	size_t nd = 0;

	int r = subtree(host->hier[i].fd, path, &dirs, &nd);
	if (r < 0)
		return husk_err_errno(err, -r, "list cgroups under '%s' in %s", path,
				      host->hier[i].mnt);
	for (size_t j = nd; r == 0 && j > 0; j--) {
		r = rmdir_retry(host->hier[i].fd, dirs[j - 1], deadline);
		if (r == -EBUSY)
			r = husk_err_set(err, HUSK_ERR_PRECONDITION, EBUSY,
					 "remove cgroup '/%s' in %s: processes still in it",
					 dirs[j - 1], host->hier[i].mnt);
		else if (r < 0)
			r = husk_err_errno(err, -r, "remove cgroup '/%s' in %s", dirs[j - 1],
					   host->hier[i].mnt);
	}
	free_names(dirs, nd);
	return r;
}

int husk__cgroup_destroy_path(struct husk_cgroup_host *host, const char *path, int timeout_ms,
			      struct husk_err *err)
{
	int64_t deadline = husk__cg_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	int first = 0;

	if (!path || path[0] != '/' || path[1] == '\0' || strstr(path, ".."))
		return husk_err_set(err, HUSK_ERR_INVALID, 0, "bad cgroup path '%s'",
				    path ? path : "");
	/* Keep going over every hierarchy; report the first failure. */
	for (size_t i = 0; i < host->n_hier; i++) {
		struct husk_err e;
		int r = destroy_in(host, i, path, deadline, &e);
		if (r < 0 && first == 0) {
			first = r;
			if (err)
				*err = e;
		}
	}
	return first;
}

int husk__cgroup_destroy(struct husk_cgroup *cg, int timeout_ms, struct husk_err *err)
{
	return husk__cgroup_destroy_path(cg->host, cg->path, timeout_ms, err);
}
