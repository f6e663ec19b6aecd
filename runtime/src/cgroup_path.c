/* linux.cgroupsPath → cgroup path: cgroupfs and systemd forms, and the caller's own cgroup. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup.h"
#include "husk/cleanup.h"
#include "husk/err.h"

#define CGROUPFS_FORM "cgroupfs path '/a/b' or 'a/b'"
#define SYSTEMD_FORM  "systemd path 'slice:prefix:name'"

/* A growable path string with a fixed bound (PATH_MAX). */
struct pathbuf {
	char s[PATH_MAX];
	size_t len;
};

static int pb_add(struct pathbuf *pb, const char *part, size_t n)
{
	if (pb->len + n + 1 > sizeof(pb->s))
		return -ENAMETOOLONG;
	memcpy(pb->s + pb->len, part, n);
	pb->len += n;
	pb->s[pb->len] = '\0';
	return 0;
}

static int pb_add_str(struct pathbuf *pb, const char *part)
{
	return pb_add(pb, part, strlen(part));
}

/* Check and append the components of a cgroupfs path (no leading '/' expected). */
static int append_components(struct pathbuf *pb, const char *rel, const char *orig,
			     struct husk_err *err)
{
	const char *p = rel;

	while (*p) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);

		if (n == 0)
			return husk_err_set(
				err, HUSK_ERR_INVALID, 0,
				"cgroupsPath '%s': empty component, expected " CGROUPFS_FORM, orig);
		if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return husk_err_set(
				err, HUSK_ERR_INVALID, 0,
				"cgroupsPath '%s': '.' and '..' are not allowed, expected "
				"" CGROUPFS_FORM,
				orig);
		if (n > NAME_MAX)
			return husk_err_set(err, HUSK_ERR_INVALID, 0,
					    "cgroupsPath '%s': component longer than %d bytes",
					    orig, NAME_MAX);
		if (pb_add(pb, "/", 1) < 0 || pb_add(pb, p, n) < 0)
			return husk_err_set(err, HUSK_ERR_INVALID, 0,
					    "cgroupsPath '%s': longer than %d bytes", orig,
					    PATH_MAX);
		p += n;
		if (*p == '/')
			p++;
		if (*p == '\0' && slash)
			return husk_err_set(
				err, HUSK_ERR_INVALID, 0,
				"cgroupsPath '%s': trailing '/', expected " CGROUPFS_FORM, orig);
	}
	return 0;
}

static int resolve_cgroupfs(const char *path, const char *own, struct pathbuf *pb,
			    struct husk_err *err)
{
	if (path[0] == '\0')
		return husk_err_set(err, HUSK_ERR_INVALID, 0,
				    "cgroupsPath is empty, expected " CGROUPFS_FORM);
	if (path[0] == '/') {
		if (path[1] == '\0')
			return husk_err_set(
				err, HUSK_ERR_INVALID, 0,
				"cgroupsPath '/': the root cgroup cannot hold a container, "
				"expected " CGROUPFS_FORM);
		return append_components(pb, path + 1, path, err);
	}
	if (!own || own[0] != '/')
		return husk_err_set(
			err, HUSK_ERR_INVALID, 0,
			"cgroupsPath '%s': relative, but the caller's cgroup is unknown", path);
	/* The own cgroup comes from the kernel; it still has to pass the same checks. */
	if (own[1] != '\0') {
		int r = append_components(pb, own + 1, own, err);
		if (r < 0)
			return r;
	}
	return append_components(pb, path, path, err);
}

/* Expand a systemd slice name the way systemd (and runc's ExpandSlice) do:
 * "a-b-c.slice" → "/a.slice/a-b.slice/a-b-c.slice"; "-.slice" is the root. */
static int expand_slice(const char *slice, size_t n, const char *orig, struct pathbuf *pb,
			struct husk_err *err)
{
	static const char suffix[] = ".slice";
	const size_t slen = sizeof(suffix) - 1;

	if (n <= slen || memcmp(slice + n - slen, suffix, slen) != 0 || memchr(slice, '/', n))
		return husk_err_set(
			err, HUSK_ERR_INVALID, 0,
			"cgroupsPath '%s': slice '%.*s' is not a valid slice name "
			"(expected a '-'-separated name ending in .slice), expected " SYSTEMD_FORM,
			orig, (int)n, slice);
	size_t name_len = n - slen;
	if (name_len == 1 && slice[0] == '-')
		return 0;

	size_t start = 0;
	for (size_t i = 0; i <= name_len; i++) {
		if (i < name_len && slice[i] != '-')
			continue;
		if (i == start)
			return husk_err_set(
				err, HUSK_ERR_INVALID, 0,
				"cgroupsPath '%s': slice '%.*s' has an empty component, "
				"expected " SYSTEMD_FORM,
				orig, (int)n, slice);
		/* Each level is the prefix up to this component, plus ".slice". */
		if (pb_add(pb, "/", 1) < 0 || pb_add(pb, slice, i) < 0 ||
		    pb_add_str(pb, suffix) < 0)
			return husk_err_set(err, HUSK_ERR_INVALID, 0,
					    "cgroupsPath '%s': longer than %d bytes", orig,
					    PATH_MAX);
		start = i + 1;
	}
	return 0;
}

static bool ends_with(const char *s, size_t n, const char *suffix)
{
	size_t sl = strlen(suffix);
	return n >= sl && memcmp(s + n - sl, suffix, sl) == 0;
}

static int resolve_systemd(const char *path, struct pathbuf *pb, struct husk_err *err)
{
	const char *c1 = strchr(path, ':');
	const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;

	if (!c1 || !c2 || strchr(c2 + 1, ':'))
		return husk_err_set(err, HUSK_ERR_INVALID, 0,
				    "cgroupsPath '%s': expected " SYSTEMD_FORM, path);

	const char *slice = path;
	size_t slice_len = (size_t)(c1 - path);
	const char *prefix = c1 + 1;
	size_t prefix_len = (size_t)(c2 - prefix);
	const char *name = c2 + 1;
	size_t name_len = strlen(name);

	if (name_len == 0)
		return husk_err_set(err, HUSK_ERR_INVALID, 0,
				    "cgroupsPath '%s': empty unit name, expected " SYSTEMD_FORM,
				    path);
	if (memchr(prefix, '/', prefix_len) || strchr(name, '/'))
		return husk_err_set(
			err, HUSK_ERR_INVALID, 0,
			"cgroupsPath '%s': '/' in prefix or name, expected " SYSTEMD_FORM, path);
	if (slice_len == 0) {
		slice = "system.slice";
		slice_len = strlen(slice);
	}
	int r = expand_slice(slice, slice_len, path, pb, err);
	if (r < 0)
		return r;

	if (ends_with(name, name_len, ".slice")) {
		/* A slice as the unit: systemd nests it by its own name, not under the prefix. */
		if (name_len > NAME_MAX || pb_add(pb, "/", 1) < 0 || pb_add(pb, name, name_len) < 0)
			return husk_err_set(err, HUSK_ERR_INVALID, 0,
					    "cgroupsPath '%s': unit name too long", path);
		return 0;
	}
	if (prefix_len + 1 + name_len + strlen(".scope") > NAME_MAX)
		return husk_err_set(err, HUSK_ERR_INVALID, 0,
				    "cgroupsPath '%s': unit name longer than %d bytes", path,
				    NAME_MAX);
	if (pb_add(pb, "/", 1) < 0)
		return husk_err_set(err, HUSK_ERR_INVALID, 0, "cgroupsPath '%s': too long", path);
	if (prefix_len > 0 && (pb_add(pb, prefix, prefix_len) < 0 || pb_add(pb, "-", 1) < 0))
		return husk_err_set(err, HUSK_ERR_INVALID, 0, "cgroupsPath '%s': too long", path);
	if (pb_add(pb, name, name_len) < 0 || pb_add_str(pb, ".scope") < 0)
		return husk_err_set(err, HUSK_ERR_INVALID, 0, "cgroupsPath '%s': too long", path);
	return 0;
}

int husk__cgroup_path_resolve(const char *cgroups_path, bool systemd, const char *container_id,
			      const char *own_cgroup, char **ret_path, struct husk_err *err)
{
	struct pathbuf pb = {.len = 0};
	char dflt[PATH_MAX];
	int r;

	pb.s[0] = '\0';
	if (!cgroups_path) {
		if (!container_id || !container_id[0] || strchr(container_id, '/') ||
		    strchr(container_id, ':'))
			return husk_err_set(
				err, HUSK_ERR_INVALID, 0,
				"no cgroupsPath and no usable container id for a default");
		int n = snprintf(dflt, sizeof(dflt), systemd ? "system.slice:husk:%s" : "/husk/%s",
				 container_id);
		if (n < 0 || (size_t)n >= sizeof(dflt))
			return husk_err_set(err, HUSK_ERR_INVALID, 0, "container id too long");
		cgroups_path = dflt;
	}

	r = systemd ? resolve_systemd(cgroups_path, &pb, err)
		    : resolve_cgroupfs(cgroups_path, own_cgroup, &pb, err);
	if (r < 0)
		return r;
	if (pb.len == 0)
		return husk_err_set(err, HUSK_ERR_INVALID, 0,
				    "cgroupsPath '%s': names the root cgroup", cgroups_path);

	char *out = strdup(pb.s);
	if (!out)
		return husk_err_errno(err, ENOMEM, "cgroup path");
	*ret_path = out;
	return 0;
}

int husk__cgroup_own_path_parse(const char *proc_cgroup, size_t len, enum husk_cgroup_mode mode,
				char **ret_path, struct husk_err *err)
{
	const char *best = NULL;
	size_t best_len = 0;
	int best_rank = 0; /* 3: unified, 2: name=systemd, 1: first line */
	const char *p = proc_cgroup;
	const char *end = proc_cgroup + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		const char *c1 = memchr(p, ':', (size_t)(le - p));
		const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(le - c1 - 1)) : NULL;

		if (c2 && c2 + 1 < le && c2[1] == '/') {
			int rank = 1;
			size_t ctrl_len = (size_t)(c2 - c1 - 1);
			if (c1 - p == 1 && p[0] == '0' && ctrl_len == 0 &&
			    mode != HUSK_CGROUP_MODE_V1)
				rank = 3;
			else if (ctrl_len == 12 && memcmp(c1 + 1, "name=systemd", 12) == 0)
				rank = 2;
			if (rank > best_rank) {
				best_rank = rank;
				best = c2 + 1;
				best_len = (size_t)(le - best);
			}
		}
		p = le + 1;
	}
	if (!best)
		return husk_err_set(err, HUSK_ERR_INVALID, 0,
				    "/proc/self/cgroup has no usable cgroup line");
	char *out = strndup(best, best_len);
	if (!out)
		return husk_err_errno(err, ENOMEM, "own cgroup");
	*ret_path = out;
	return 0;
}

int husk__cgroup_own_path(enum husk_cgroup_mode mode, char **ret_path, struct husk_err *err)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/cgroup", "re");
	char buf[8192];

	if (!f)
		return husk_err_errno(err, errno, "open /proc/self/cgroup");
	size_t n = fread(buf, 1, sizeof(buf), f);
	if (ferror(f))
		return husk_err_errno(err, EIO, "read /proc/self/cgroup");
	return husk__cgroup_own_path_parse(buf, n, mode, ret_path, err);
}
