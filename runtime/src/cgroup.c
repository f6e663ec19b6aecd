/* Host layout detection, cgroup handles, create/open, resources, entering and pids. */
#include "cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include "cgroup_internal.h"
#include "husk/cleanup.h"
#include "husk/err.h"
#include "husk/spec.h"
#include "mountinfo.h"
#include "syscalls.h"

static const char *const ctrl_names[_HUSK_CG_CTRL_MAX] = {
	[HUSK_CG_CPU] = "cpu",
	[HUSK_CG_CPUACCT] = "cpuacct",
	[HUSK_CG_CPUSET] = "cpuset",
	[HUSK_CG_MEMORY] = "memory",
	[HUSK_CG_DEVICES] = "devices",
	[HUSK_CG_FREEZER] = "freezer",
	[HUSK_CG_BLKIO] = "blkio",
	[HUSK_CG_PIDS] = "pids",
	[HUSK_CG_HUGETLB] = "hugetlb",
	[HUSK_CG_NET_CLS] = "net_cls",
	[HUSK_CG_NET_PRIO] = "net_prio",
	[HUSK_CG_PERF_EVENT] = "perf_event",
	[HUSK_CG_RDMA] = "rdma",
	[HUSK_CG_MISC] = "misc",
	[HUSK_CG_NAME_SYSTEMD] = "name=systemd",
};

const char *husk__cgroup_ctrl_to_string(enum husk_cgroup_ctrl ctrl)
{
	if ((unsigned)ctrl >= _HUSK_CG_CTRL_MAX)
		return NULL;
	return ctrl_names[ctrl];
}

int husk__cgroup_ctrl_from_string(const char *name)
{
	if (strcmp(name, "io") == 0)
		return HUSK_CG_BLKIO;
	for (int i = 0; i < _HUSK_CG_CTRL_MAX; i++)
		if (strcmp(name, ctrl_names[i]) == 0)
			return i;
	return -EINVAL;
}

const char *husk__cgroup_mode_to_string(enum husk_cgroup_mode mode)
{
	switch (mode) {
	case HUSK_CGROUP_MODE_V1:
		return "v1";
	case HUSK_CGROUP_MODE_HYBRID:
		return "hybrid";
	case HUSK_CGROUP_MODE_V2:
		return "v2";
	case HUSK_CGROUP_MODE_NONE:
		break;
	}
	return NULL;
}

/* ---- host ------------------------------------------------------------------------------ */

struct husk_cgroup_host *husk__cgroup_host_free(struct husk_cgroup_host *host)
{
	if (!host)
		return NULL;
	for (size_t i = 0; i < host->n_hier; i++) {
		husk_safe_close(host->hier[i].fd);
		free(host->hier[i].mnt);
	}
	free(host);
	return NULL;
}

enum husk_cgroup_mode husk__cgroup_host_mode(const struct husk_cgroup_host *host)
{
	return host->mode;
}

int husk__cg_hier_v2(const struct husk_cgroup_host *host)
{
	for (size_t i = 0; i < host->n_hier; i++)
		if (host->hier[i].v2)
			return (int)i;
	return -1;
}

int husk__cg_hier_of(const struct husk_cgroup_host *host, enum husk_cgroup_ctrl ctrl)
{
	for (size_t i = 0; i < host->n_hier; i++) {
		const struct husk_cgroup_hier *h = &host->hier[i];
		if (h->v2 != (host->mode == HUSK_CGROUP_MODE_V2))
			continue;
		if (h->ctrls & HUSK_CG_BIT(ctrl))
			return (int)i;
	}
	return -1;
}

bool husk__cgroup_host_has(const struct husk_cgroup_host *host, enum husk_cgroup_ctrl ctrl)
{
	if (host->mode == HUSK_CGROUP_MODE_V2 &&
	    (ctrl == HUSK_CG_FREEZER || ctrl == HUSK_CG_DEVICES))
		return true;
	return husk__cg_hier_of(host, ctrl) >= 0;
}

/* Controllers of a v1 mount from its super options ("rw,cpu,cpuacct"). */
static uint32_t v1_ctrls_of(const char *superopts)
{
	uint32_t mask = 0;

	for (const char *o = superopts; *o;) {
		size_t len = strcspn(o, ",");
		char name[64];
		if (len < sizeof(name)) {
			memcpy(name, o, len);
			name[len] = '\0';
			int c = husk__cgroup_ctrl_from_string(name);
			if (c >= 0)
				mask |= HUSK_CG_BIT(c);
		}
		o += len + (o[len] == ',');
	}
	return mask;
}

static uint32_t v2_ctrls_of(const char *buf)
{
	uint32_t mask = 0;
	char tmp[512];
	char *save = NULL;

	(void)snprintf(tmp, sizeof(tmp), "%s", buf);
	for (char *w = strtok_r(tmp, " \n", &save); w; w = strtok_r(NULL, " \n", &save)) {
		int c = husk__cgroup_ctrl_from_string(w);
		if (c >= 0)
			mask |= HUSK_CG_BIT(c);
	}
	return mask;
}

static int host_add(struct husk_cgroup_host *h, const char *prefix, const char *mnt, bool v2,
		    uint32_t ctrls, struct husk_err *err)
{
	for (size_t i = 0; i < h->n_hier; i++) {
		/* First mount of a hierarchy wins (bind mounts of the same tree repeat it). */
		if (h->hier[i].v2 == v2 && (v2 || h->hier[i].ctrls == ctrls))
			return 0;
		if (!v2 && (h->hier[i].ctrls & ctrls))
			return 0;
	}
	if (h->n_hier == HUSK_CG_MAX_HIER)
		return 0;
	_cleanup_free_ char *full = NULL;
	if (asprintf(&full, "%s%s", prefix, mnt) < 0)
		return husk_err_errno(err, ENOMEM, "cgroup host");
	int fd = open(full, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return husk_err_errno(err, errno, "open cgroup mount '%s'", full);
	struct husk_cgroup_hier *e = &h->hier[h->n_hier++];
	e->fd = fd;
	e->v2 = v2;
	e->ctrls = ctrls;
	e->mnt = TAKE_PTR(full);
	return 0;
}

/* One mountinfo line: a cgroup or cgroup2 mount of a whole hierarchy goes into h. */
static int host_line(struct husk_cgroup_host *h, char *line, const char *prefix,
		     struct husk_err *err)
{
	struct husk_mountinfo_entry m;
	int r = husk__mountinfo_split(line, &m, err);

	if (r < 0)
		return r;
	/* A mount of a subtree (root other than "/") does not show paths from the top. */
	if (strcmp(m.root, "/") != 0)
		return 0;
	if (strcmp(m.fstype, "cgroup2") == 0) {
		bool first = husk__cg_hier_v2(h) < 0;
		r = host_add(h, prefix, m.mount_point, true, 0, err);
		if (r >= 0 && first && husk__cg_hier_v2(h) >= 0)
			h->favordynmods = husk__mountinfo_has_opt(m.super_opts, "favordynmods");
		return r;
	}
	if (strcmp(m.fstype, "cgroup") == 0) {
		uint32_t ctrls = v1_ctrls_of(m.super_opts);
		if (ctrls)
			return host_add(h, prefix, m.mount_point, false, ctrls, err);
	}
	return 0;
}

static void host_set_mode(struct husk_cgroup_host *h)
{
	bool v1_real = false;
	int v2 = husk__cg_hier_v2(h);

	for (size_t i = 0; i < h->n_hier; i++)
		if (!h->hier[i].v2 && (h->hier[i].ctrls & ~HUSK_CG_BIT(HUSK_CG_NAME_SYSTEMD)))
			v1_real = true;
	if (v1_real)
		h->mode = v2 >= 0 ? HUSK_CGROUP_MODE_HYBRID : HUSK_CGROUP_MODE_V1;
	else if (v2 >= 0)
		h->mode = HUSK_CGROUP_MODE_V2;
	else
		h->mode = h->n_hier ? HUSK_CGROUP_MODE_V1 : HUSK_CGROUP_MODE_NONE;

	if (h->mode == HUSK_CGROUP_MODE_V2) {
		char buf[512];
		struct husk_cgroup_hier *u = &h->hier[v2];
		if (husk__cg_read_small(u->fd, "cgroup.controllers", buf, sizeof(buf)) >= 0)
			u->ctrls = v2_ctrls_of(buf);
	}
}

/* Each cgroup mount of mountinfo's text (modified in place) into h. */
static int host_lines(struct husk_cgroup_host *h, char *text, const char *root_prefix,
		      struct husk_err *err)
{
	char *save = NULL;

	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		/* Cheap filter before the full split: only cgroup mounts matter. */
		if (!strstr(line, " - cgroup"))
			continue;
		int r = host_line(h, line, root_prefix, err);
		if (r < 0)
			return r;
	}
	return 0;
}

int husk__cgroup_host_open(const char *mountinfo, size_t len, const char *root_prefix,
			   struct husk_cgroup_host **ret, struct husk_err *err)
{
	struct husk_cgroup_host *h = calloc(1, sizeof(*h));
	char *text = strndup(mountinfo, len);

	if (!h || !text) {
		free(text);
		husk__cgroup_host_free(h);
		return husk_err_errno(err, ENOMEM, "cgroup host");
	}
	int r = host_lines(h, text, root_prefix ? root_prefix : "", err);
	free(text);
	if (r < 0) {
		husk__cgroup_host_free(h);
		return r;
	}
	host_set_mode(h);
	if (h->mode == HUSK_CGROUP_MODE_NONE) {
		husk__cgroup_host_free(h);
		return husk_err_set(err, HUSK_ERR_NOT_FOUND, 0, "no cgroup filesystem is mounted");
	}
	*ret = h;
	return 0;
}

int husk__cgroup_host_get(struct husk_cgroup_host **ret, struct husk_err *err)
{
	/* Detected once: the layout of a running host does not change under a shim. */
	static struct husk_cgroup_host *cached;
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;

	if (cached) {
		*ret = cached;
		return 0;
	}
	int r = husk__cg_read_alloc(AT_FDCWD, "/proc/self/mountinfo", 4u << 20, &buf, &len);
	if (r < 0)
		return husk_err_errno(err, -r, "read /proc/self/mountinfo");
	r = husk__cgroup_host_open(buf, len, "", &cached, err);
	if (r < 0)
		return r;
	*ret = cached;
	return 0;
}

int husk_cgroup_layout(struct husk_cgroup_layout *ret, struct husk_err *err)
{
	struct husk_cgroup_host *h = NULL;
	int r = husk__cgroup_host_get(&h, err);

	if (r < 0)
		return r;
	int v2 = husk__cg_hier_v2(h);
	*ret = (struct husk_cgroup_layout){
		.mode = husk__cgroup_mode_to_string(h->mode),
		.v2_mount = v2 >= 0 ? h->hier[v2].mnt : NULL,
		.favordynmods = v2 >= 0 && h->favordynmods,
	};
	for (size_t i = 0; i < h->n_hier; i++)
		ret->n_v1 += !h->hier[i].v2;
	return 0;
}

/* ---- handles --------------------------------------------------------------------------- */

static struct husk_cgroup *cg_new(struct husk_cgroup_host *host, const char *path,
				  struct husk_err *err)
{
	struct husk_cgroup *cg = calloc(1, sizeof(*cg));

	if (!cg || !(cg->path = strdup(path))) {
		free(cg);
		husk_err_errno(err, ENOMEM, "cgroup handle");
		return NULL;
	}
	cg->host = host;
	cg->oom_fd = -1;
	for (size_t i = 0; i < HUSK_CG_MAX_HIER; i++)
		cg->dir[i] = -1;
	return cg;
}

struct husk_cgroup *husk__cgroup_free(struct husk_cgroup *cg)
{
	if (!cg)
		return NULL;
	for (size_t i = 0; i < HUSK_CG_MAX_HIER; i++)
		husk_safe_close(cg->dir[i]);
	husk_safe_close(cg->oom_fd);
	free(cg->path);
	free(cg);
	return NULL;
}

const char *husk__cgroup_path(const struct husk_cgroup *cg)
{
	return cg->path;
}

enum husk_cgroup_mode husk__cgroup_mode(const struct husk_cgroup *cg)
{
	return cg->host->mode;
}

int husk__cg_dir_of(const struct husk_cgroup *cg, enum husk_cgroup_ctrl ctrl)
{
	int i = husk__cg_hier_of(cg->host, ctrl);
	return i < 0 ? -1 : cg->dir[i];
}

static int check_path(const char *path, struct husk_err *err)
{
	if (!path || path[0] != '/' || path[1] == '\0' || strstr(path, "//") ||
	    strstr(path, "/../") || strstr(path, "/./") || strlen(path) >= PATH_MAX)
		return husk_err_set(err, HUSK_ERR_INVALID, 0, "bad cgroup path '%s'",
				    path ? path : "");
	return 0;
}

/* Baseline of the OOM counter: OOM kills before the handle existed are not reported. */
static void oom_baseline(struct husk_cgroup *cg)
{
	uint64_t v = 0;
	int r = cg->host->mode == HUSK_CGROUP_MODE_V2 ? husk__cg_v2_oom_count(cg, &v, NULL)
						      : husk__cg_v1_oom_count(cg, &v, NULL);
	cg->oom_last = r < 0 ? 0 : v;
}

int husk__cgroup_open(struct husk_cgroup_host *host, const char *path, struct husk_cgroup **ret,
		      struct husk_err *err)
{
	int r = check_path(path, err);
	if (r < 0)
		return r;
	struct husk_cgroup *cg = cg_new(host, path, err);
	if (!cg)
		return -ENOMEM;
	size_t found = 0;
	for (size_t i = 0; i < host->n_hier; i++) {
		cg->dir[i] = openat(host->hier[i].fd, path + 1, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (cg->dir[i] >= 0) {
			found++;
		} else if (errno != ENOENT) {
			r = husk_err_errno(err, errno, "open cgroup '%s' in %s", path,
					   host->hier[i].mnt);
			husk__cgroup_free(cg);
			return r;
		}
	}
	if (found == 0) {
		husk__cgroup_free(cg);
		return husk_err_set(err, HUSK_ERR_NOT_FOUND, 0, "cgroup '%s' does not exist", path);
	}
	oom_baseline(cg);
	*ret = cg;
	return 0;
}

/* v1 cpuset: a new cgroup starts with empty cpus/mems and refuses tasks until they are set;
 * copy the parent's values down (runc does the same). */
static int cpuset_inherit(int parent_fd, int child_fd)
{
	static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		char cur[4096];
		char par[4096];
		int n = husk__cg_read_small(child_fd, files[i], cur, sizeof(cur));
		if (n < 0)
			return n;
		if (n > 0 && cur[0] != '\n')
			continue;
		n = husk__cg_read_small(parent_fd, files[i], par, sizeof(par));
		if (n < 0)
			return n;
		int r = husk__cg_write(child_fd, files[i], par);
		if (r < 0)
			return r;
	}
	return 0;
}

/* mkdir -p path in one hierarchy; *ret_first is the depth of the first component this call
 * created (-1: none), for undo. Returns the leaf dirfd. */
static int mkdir_p(const struct husk_cgroup_hier *h, const char *path, int *ret_first)
{
	_cleanup_close_ int fd = fcntl(h->fd, F_DUPFD_CLOEXEC, 3);
	char comp[NAME_MAX + 1];
	const char *p = path + 1;
	int depth = 0;

	*ret_first = -1;
	if (fd < 0)
		return -errno;
	while (*p) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		if (n == 0 || n > NAME_MAX)
			return -EINVAL;
		memcpy(comp, p, n);
		comp[n] = '\0';
		if (mkdirat(fd, comp, 0755) == 0) {
			if (*ret_first < 0)
				*ret_first = depth;
		} else if (errno != EEXIST) {
			return -errno;
		}
		int nfd = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (nfd < 0)
			return -errno;
		if (*ret_first >= 0 && (h->ctrls & HUSK_CG_BIT(HUSK_CG_CPUSET)) && !h->v2) {
			int r = cpuset_inherit(fd, nfd);
			if (r < 0) {
				husk_safe_close(nfd);
				return r;
			}
		}
		husk_safe_close(fd);
		fd = nfd;
		depth++;
		p += n;
		if (*p == '/')
			p++;
	}
	return TAKE_FD(fd);
}

/* rmdir the components of path deeper than or at depth first, leaf first. */
static void undo_mkdir(const struct husk_cgroup_hier *h, const char *path, int first)
{
	char buf[PATH_MAX];
	(void)snprintf(buf, sizeof(buf), "%s", path + 1);
	int depth = 0;
	for (char *s = buf; *s; s++)
		if (*s == '/')
			depth++;
	while (depth >= first) {
		(void)unlinkat(h->fd, buf, AT_REMOVEDIR);
		char *slash = strrchr(buf, '/');
		if (!slash)
			break;
		*slash = '\0';
		depth--;
	}
}

int husk__cgroup_create(struct husk_cgroup_host *host, const char *path, struct husk_cgroup **ret,
			struct husk_err *err)
{
	int first[HUSK_CG_MAX_HIER];
	int r = check_path(path, err);

	if (r < 0)
		return r;
	struct husk_cgroup *cg = cg_new(host, path, err);
	if (!cg)
		return -ENOMEM;
	memset(first, -1, sizeof(first)); /* every entry -1: nothing created yet */
	for (size_t i = 0; r >= 0 && i < host->n_hier; i++) {
		int fd = mkdir_p(&host->hier[i], path, &first[i]);
		if (fd < 0)
			r = husk_err_errno(err, -fd, "create cgroup '%s' in %s", path,
					   host->hier[i].mnt);
		else
			cg->dir[i] = fd;
	}
	/* Delegation needs the ancestors to exist, and works with children already there. */
	if (r >= 0 && host->mode == HUSK_CGROUP_MODE_V2)
		r = husk__cg_v2_enable_controllers(host, path, err);
	if (r < 0) {
		for (size_t i = 0; i < host->n_hier; i++)
			if (first[i] >= 0)
				undo_mkdir(&host->hier[i], path, first[i]);
		husk__cgroup_free(cg);
		return r;
	}
	oom_baseline(cg);
	*ret = cg;
	return 0;
}

/* ---- resources ---------------------------------------------------------------------------- */

static uint32_t ctrl_mask_of(const struct husk_cgroup *cg)
{
	const struct husk_cgroup_host *h = cg->host;
	uint32_t mask = 0;

	if (h->mode == HUSK_CGROUP_MODE_V2) {
		char buf[512];
		int v2 = husk__cg_hier_v2(h);
		if (v2 >= 0 && cg->dir[v2] >= 0 &&
		    husk__cg_read_small(cg->dir[v2], "cgroup.controllers", buf, sizeof(buf)) >= 0)
			mask = v2_ctrls_of(buf);
		return mask;
	}
	for (size_t i = 0; i < h->n_hier; i++)
		if (!h->hier[i].v2 && cg->dir[i] >= 0)
			mask |= h->hier[i].ctrls;
	return mask;
}

static int write_dir(const struct husk_cgroup *cg, const struct husk_cgroup_write *w)
{
	if (cg->host->mode == HUSK_CGROUP_MODE_V2) {
		int v2 = husk__cg_hier_v2(cg->host);
		return v2 < 0 ? -1 : cg->dir[v2];
	}
	return husk__cg_dir_of(cg, w->ctrl);
}

/* The kernel accepts memory.kmem.*limit_in_bytes since 5.16 but ignores it; read it back so
 * an ignored limit is an error rather than a silent no-op. */
static int check_kmem(int dirfd, const struct husk_cgroup_write *w, struct husk_err *err)
{
	uint64_t want;
	uint64_t got;

	if (strncmp(w->file, "memory.kmem.", 12) != 0)
		return 0;
	if (husk__cgroup_parse_u64(w->value, strlen(w->value), &want) < 0 || want == UINT64_MAX)
		return 0;
	int r = husk__cg_read_u64(dirfd, w->file, &got);
	if (r < 0)
		return husk_err_errno(err, -r, "%s: read back %s", w->resource, w->file);
	/* The kernel rounds down to a page. */
	if (got > want || want - got >= 65536)
		return husk_err_set(err, HUSK_ERR_INVALID, 0,
				    "%s: not supported by this kernel (%s ignores writes)",
				    w->resource, w->file);
	return 0;
}

static int exec_write(struct husk_cgroup *cg, const struct husk_cgroup_write *w,
		      struct husk_err *err)
{
	int dirfd = write_dir(cg, w);
	if (dirfd < 0)
		return husk_err_set(err, HUSK_ERR_INVALID, 0, "%s: no cgroup directory for it",
				    w->resource);
	int r = husk__cg_write(dirfd, w->file, w->value);
	const char *file = w->file;
	if (r == -ENOENT && strcmp(file, "blkio.weight") == 0)
		r = husk__cg_write(dirfd, file = "blkio.bfq.weight", w->value);
	else if (r == -ENOENT && strcmp(file, "io.weight") == 0)
		r = husk__cg_write(dirfd, file = "io.bfq.weight", w->value);
	if (r == -ENOENT)
		return husk_err_set(err, HUSK_ERR_INVALID, 0,
				    "%s: not supported on this host (no %s in cgroup '%s')",
				    w->resource, w->file, cg->path);
	if (r == -EINVAL || r == -ERANGE || r == -EOPNOTSUPP || r == -EBUSY || r == -EACCES ||
	    r == -EPERM)
		return husk_err_set(err, HUSK_ERR_INVALID, -r, "%s: write '%s' to %s", w->resource,
				    w->value, file);
	if (r < 0)
		return husk_err_errno(err, -r, "%s: write '%s' to %s", w->resource, w->value, file);
	return check_kmem(dirfd, w, err);
}

static int check_before_update(struct husk_cgroup *cg, const struct husk_memory_resources *m,
			       struct husk_err *err)
{
	bool v2 = cg->host->mode == HUSK_CGROUP_MODE_V2;
	int dirfd = v2 ? cg->dir[husk__cg_hier_v2(cg->host)] : husk__cg_dir_of(cg, HUSK_CG_MEMORY);
	uint64_t usage;

	if (!m->check_before_update.set || !m->check_before_update.v || !m->limit.set ||
	    m->limit.v < 0 || dirfd < 0)
		return 0;
	int r = husk__cg_read_u64(dirfd, v2 ? "memory.current" : "memory.usage_in_bytes", &usage);
	if (r < 0)
		return husk_err_errno(err, -r, "memory.checkBeforeUpdate: read usage");
	if (usage > (uint64_t)m->limit.v)
		return husk_err_set(err, HUSK_ERR_INVALID, 0,
				    "memory.limit: %" PRId64 " is below the current usage %" PRIu64,
				    m->limit.v, usage);
	return 0;
}

int husk__cgroup_apply(struct husk_cgroup *cg, const struct husk_resources *res,
		       struct husk_err *err)
{
	struct husk_cgroup_plan plan;
	uint64_t cur_limit = UINT64_MAX;
	int memfd = husk__cg_dir_of(cg, HUSK_CG_MEMORY);
	int r;

	if (!res)
		return 0;
	if (cg->host->mode != HUSK_CGROUP_MODE_V2 && memfd >= 0)
		(void)husk__cg_read_u64(memfd, "memory.limit_in_bytes", &cur_limit);
	if (res->has_memory && (r = check_before_update(cg, &res->memory, err)) < 0)
		return r;
	r = husk__cgroup_plan_build(cg->host->mode, ctrl_mask_of(cg), res, cur_limit, &plan, err);
	if (r < 0)
		return r;
	for (size_t i = 0; r >= 0 && i < plan.n_writes; i++)
		r = exec_write(cg, &plan.writes[i], err);
	if (r >= 0 && plan.devices_bpf) {
		int v2 = husk__cg_hier_v2(cg->host);
		r = husk__cgroup_devices_bpf_apply(cg->dir[v2], plan.device_rules,
						   plan.n_device_rules, err);
	}
	husk__cgroup_plan_done(&plan);
	return r < 0 ? r : 0;
}

/* ---- membership ----------------------------------------------------------------------------- */

/* Hierarchies a process must join: all of them (v1 controllers, name=systemd, unified). */
static bool joins(const struct husk_cgroup *cg, size_t i)
{
	return cg->dir[i] >= 0;
}

int husk__cgroup_enter(struct husk_cgroup *cg, pid_t pid, struct husk_err *err)
{
	char buf[32];

	(void)snprintf(buf, sizeof(buf), "%d", (int)pid);
	for (size_t i = 0; i < cg->host->n_hier; i++) {
		if (!joins(cg, i))
			continue;
		int r = husk__cg_write(cg->dir[i], "cgroup.procs", buf);
		if (r < 0)
			return husk_err_errno(err, -r, "move pid %d into cgroup '%s' of %s",
					      (int)pid, cg->path, cg->host->hier[i].mnt);
	}
	return 0;
}

int husk__cgroup_join_open(const struct husk_cgroup *cg, struct husk_cgroup_join *j,
			   struct husk_err *err)
{
	/* No clone3 (a seccomp profile refuses it), so no CLONE_INTO_CGROUP: the child writes
	 * itself into cgroup.procs, which moves its whole process. A clone3 without
	 * CLONE_INTO_CGROUP (Linux 5.3 to 5.6) is older than the 5.12 husk needs. */
	bool into = husk__sys_have(HUSK_SYS_CLONE3);

	*j = (struct husk_cgroup_join){.clone_fd = -1};
	for (size_t i = 0; i < cg->host->n_hier; i++) {
		if (!joins(cg, i))
			continue;
		bool v2 = cg->host->hier[i].v2;
		if (v2 && into) {
			j->clone_fd = cg->dir[i];
			continue;
		}
		const char *file = v2 ? "cgroup.procs" : "tasks";
		int fd = openat(cg->dir[i], file, O_WRONLY | O_CLOEXEC);
		if (fd < 0) {
			int r = husk_err_errno(err, errno, "open %s of cgroup '%s' in %s", file,
					       cg->path, cg->host->hier[i].mnt);
			husk__cgroup_join_done(j);
			return r;
		}
		j->fds[j->n++] = fd;
	}
	return 0;
}

void husk__cgroup_join_done(struct husk_cgroup_join *j)
{
	for (size_t i = 0; i < j->n; i++)
		j->fds[i] = husk_safe_close(j->fds[i]);
	j->n = 0;
	j->clone_fd = -1;
}

int husk__cgroup_clone_fd(const struct husk_cgroup *cg)
{
	if (cg->host->mode != HUSK_CGROUP_MODE_V2)
		return -1;
	int v2 = husk__cg_hier_v2(cg->host);
	return v2 < 0 ? -1 : cg->dir[v2];
}

int husk__cgroup_procs_fds_open(struct husk_cgroup *cg, int **ret_fds, size_t *ret_n,
				struct husk_err *err)
{
	int *fds = calloc(HUSK_CG_MAX_HIER, sizeof(int));
	size_t n = 0;

	if (!fds)
		return husk_err_errno(err, ENOMEM, "cgroup procs fds");
	for (size_t i = 0; i < cg->host->n_hier; i++) {
		if (!joins(cg, i))
			continue;
		int fd = openat(cg->dir[i], "cgroup.procs", O_WRONLY | O_CLOEXEC);
		if (fd < 0) {
			int r = husk_err_errno(err, errno, "open cgroup.procs of '%s' in %s",
					       cg->path, cg->host->hier[i].mnt);
			husk__cgroup_procs_fds_close(fds, n);
			return r;
		}
		fds[n++] = fd;
	}
	*ret_fds = fds;
	*ret_n = n;
	return 0;
}

void husk__cgroup_procs_fds_close(int *fds, size_t n)
{
	if (!fds)
		return;
	for (size_t i = 0; i < n; i++)
		husk_safe_close(fds[i]);
	free(fds);
}

int husk__cgroup_enter_self(const int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		ssize_t w;
		do
			w = write(fds[i], "0", 1);
		while (w < 0 && errno == EINTR);
		if (w < 0)
			return -errno;
	}
	return 0;
}
