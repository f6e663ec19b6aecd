/* A container's processes, from its cgroup (v1 hierarchies first, then cgroup2). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "husk/cleanup.h"
#include "husk/log.h"
#include "husk/process.h"

/* Mount points of cgroup hierarchies: want_v2 false → "cgroup" (v1), true → "cgroup2". */
struct mounts {
	char **paths;
	size_t n;
};

static void mounts_done(struct mounts *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->paths[i]);
	free(m->paths);
	*m = (struct mounts){0};
}

/* Field 5 of a mountinfo line is the mount point; after " - " comes the fs type. */
static int parse_mountinfo_line(char *line, char **mnt, char **fstype)
{
	char *save = NULL;
	char *f = strtok_r(line, " ", &save);
	for (int i = 1; f && i < 5; i++)
		f = strtok_r(NULL, " ", &save);
	if (!f)
		return -EINVAL;
	*mnt = f;
	while ((f = strtok_r(NULL, " ", &save)) && strcmp(f, "-") != 0)
		;
	*fstype = f ? strtok_r(NULL, " ", &save) : NULL;
	return *fstype ? 0 : -EINVAL;
}

static int cgroup_mounts(bool want_v2, struct mounts *ret)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return -errno;
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	struct mounts m = {0};
	while (getline(&line, &cap, f) > 0) {
		char *mnt = NULL;
		char *type = NULL;
		line[strcspn(line, "\n")] = '\0';
		if (parse_mountinfo_line(line, &mnt, &type) < 0)
			continue;
		if (strcmp(type, want_v2 ? "cgroup2" : "cgroup") != 0)
			continue;
		char **n = realloc(m.paths, (m.n + 1) * sizeof(*m.paths));
		if (!n || !(n[m.n] = strdup(mnt))) {
			m.paths = n ? n : m.paths;
			mounts_done(&m);
			return -ENOMEM;
		}
		m.paths = n;
		m.n++;
	}
	*ret = m;
	return 0;
}

static int read_procs(const char *file, struct cli_procs *ret)
{
	_cleanup_fclose_ FILE *f = fopen(file, "re");
	if (!f)
		return -errno;
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	struct cli_procs p = {0};
	while (getline(&line, &cap, f) > 0) {
		char *end = NULL;
		long v = strtol(line, &end, 10);
		if (v <= 0 || v > INT_MAX || (*end != '\n' && *end != '\0'))
			continue;
		pid_t *n = realloc(p.pids, (p.n + 1) * sizeof(*p.pids));
		if (!n) {
			cli_procs_done(&p);
			return -ENOMEM;
		}
		p.pids = n;
		p.pids[p.n++] = (pid_t)v;
	}
	p.source = strdup(file);
	if (!p.source) {
		cli_procs_done(&p);
		return -ENOMEM;
	}
	*ret = p;
	return 0;
}

/* A cgroup path from a state file stays below the hierarchy's root. */
static bool rel_ok(const char *rel)
{
	return *rel && !strstr(rel, "..");
}

/* Read cgroup.procs of cgroup_path on the first hierarchy of the kind that has it. */
static int procs_from(bool v2, const char *cgroup_path, struct cli_procs *ret)
{
	if (!rel_ok(cgroup_path + strspn(cgroup_path, "/")))
		return -ENOENT;
	struct mounts m = {0};
	int r = cgroup_mounts(v2, &m);
	if (r < 0)
		return r;
	r = -ENOENT;
	for (size_t i = 0; i < m.n && r == -ENOENT; i++) {
		char file[PATH_MAX];
		int n = snprintf(file, sizeof(file), "%s/%s/cgroup.procs", m.paths[i],
				 cgroup_path + strspn(cgroup_path, "/"));
		if (n < 0 || (size_t)n >= sizeof(file))
			continue;
		r = read_procs(file, ret);
	}
	mounts_done(&m);
	return r;
}

int cli_container_procs(const struct husk_state *s, struct cli_procs *ret, struct husk_err *err)
{
	struct cli_procs p = {0};
	if (s->cgroup_path && *s->cgroup_path) {
		int r = procs_from(false, s->cgroup_path, &p);
		if (r == -ENOENT)
			r = procs_from(true, s->cgroup_path, &p);
		if (r == 0) {
			*ret = p;
			return 0;
		}
		if (r != -ENOENT)
			return husk_err_errno(err, -r, "read pids of cgroup '%s'", s->cgroup_path);
	}
	/* No cgroup (or it is gone): the init alone, if it still lives. */
	if (s->init_pid > 0 && husk_proc_alive(s->init_pid, s->init_start_time)) {
		p.pids = malloc(sizeof(*p.pids));
		if (!p.pids)
			return husk_err_errno(err, ENOMEM, "list pids");
		p.pids[0] = s->init_pid;
		p.n = 1;
	}
	*ret = p;
	return 0;
}

void cli_procs_done(struct cli_procs *p)
{
	free(p->pids);
	free(p->source);
	*p = (struct cli_procs){0};
}

bool cli_pid_in_cgroup(pid_t pid, const char *cgroup_path)
{
	char file[64];
	(void)snprintf(file, sizeof(file), "/proc/%d/cgroup", (int)pid);
	_cleanup_fclose_ FILE *f = fopen(file, "re");
	if (!f)
		return false;
	const char *want = cgroup_path + strspn(cgroup_path, "/");
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	while (getline(&line, &cap, f) > 0) {
		/* "<id>:<controllers>:/<path>" */
		line[strcspn(line, "\n")] = '\0';
		char *colon = strchr(line, ':');
		colon = colon ? strchr(colon + 1, ':') : NULL;
		if (colon && strcmp(colon + 1 + strspn(colon + 1, "/"), want) == 0)
			return true;
	}
	return false;
}

void cli_remove_cgroups(const char *cgroup_path)
{
	const char *rel = cgroup_path + strspn(cgroup_path, "/");
	if (!rel_ok(rel))
		return; /* never the root of a hierarchy, never outside it */
	for (int v2 = 0; v2 <= 1; v2++) {
		struct mounts m = {0};
		if (cgroup_mounts(v2, &m) < 0)
			continue;
		for (size_t i = 0; i < m.n; i++) {
			char dir[PATH_MAX];
			int n = snprintf(dir, sizeof(dir), "%s/%s", m.paths[i], rel);
			if (n < 0 || (size_t)n >= sizeof(dir))
				continue;
			if (rmdir(dir) < 0 && errno != ENOENT)
				husk_warn("remove cgroup '%s': %s, continuing", dir,
					  strerror(errno));
		}
		mounts_done(&m);
	}
}
