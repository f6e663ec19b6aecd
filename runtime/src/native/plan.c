#include "native/plan.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "husk/cleanup.h"
#include "husk/err.h"
#include "husk/spec.h"
#include "mount_opts.h"
#include "native/lsm.h"
#include "native/sysctl_check.h"
#include "syscalls.h"

/* ---- mount options ------------------------------------------------------------------ */

/* Superblock flags that a bind cannot change (mount_setattr has no attribute for them). */
static const char *const bind_sb_options[] = {"sync", "dirsync", "mand", "lazytime", "iversion"};

static bool in_list(const char *const *list, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i], s) == 0)
			return true;
	return false;
}

const char *husk__plan_mount_option(size_t i)
{
	return husk__mount_opt_name(i);
}

static int refuse_option(const char *what, size_t idx, const char *opt, int len, const char *why,
			 struct husk_err *err)
{
	return husk_err_set(err, HUSK_ERR_INVALID, 0, "%s[%zu]: option '%.*s' %s", what, idx, len,
			    opt, why);
}

/* What the kernel would silently ignore or cannot do is refused, naming the option. */
static int options_check(const struct husk_mount *src, const struct husk_plan_mount *m,
			 const char *what, size_t idx, struct husk_err *err)
{
	for (size_t i = 0; i < src->n_options; i++) {
		const char *o = src->options[i];
		if (strcmp(o, "remount") == 0)
			return refuse_option(what, idx, o, (int)strlen(o),
					     "cannot apply to a new mount", err);
		if (m->bind && in_list(bind_sb_options, ARRAY_SIZE(bind_sb_options), o))
			return refuse_option(what, idx, o, (int)strlen(o),
					     "does not apply to a bind mount", err);
		if ((strcmp(o, "idmap") == 0 || strcmp(o, "ridmap") == 0) && !m->bind)
			return refuse_option(what, idx, o, (int)strlen(o), "needs a bind mount",
					     err);
		if (strcmp(o, "tmpcopyup") == 0 && (m->bind || strcmp(m->fstype, "tmpfs") != 0))
			return refuse_option(what, idx, o, (int)strlen(o), "needs a tmpfs mount",
					     err);
	}
	if (m->bind && m->data) {
		const char *comma = strchr(m->data, ',');
		int len = comma ? (int)(comma - m->data) : (int)strlen(m->data);
		return refuse_option(
			what, idx, m->data, len,
			"does not apply to a bind mount (the kernel ignores filesystem "
			"options there)",
			err);
	}
	if ((src->n_uid_mappings || src->n_gid_mappings) && !m->idmap)
		return husk_err_set(err, HUSK_ERR_INVALID, 0,
				    "%s[%zu].uidMappings: needs the 'idmap' or 'ridmap' option",
				    what, idx);
	return 0;
}

/* idmap: the mount's mappings, else the container's; both kinds are needed. */
static int idmap_build(const struct husk_mount *src, const struct husk_linux *lx,
		       struct husk_plan_mount *m, const char *what, size_t idx,
		       struct husk_err *err)
{
	if (src->n_uid_mappings || src->n_gid_mappings) {
		m->uid_mappings = src->uid_mappings;
		m->n_uid_mappings = src->n_uid_mappings;
		m->gid_mappings = src->gid_mappings;
		m->n_gid_mappings = src->n_gid_mappings;
	} else if (lx) {
		m->uid_mappings = lx->uid_mappings;
		m->n_uid_mappings = lx->n_uid_mappings;
		m->gid_mappings = lx->gid_mappings;
		m->n_gid_mappings = lx->n_gid_mappings;
	}
	if (!m->n_uid_mappings || !m->n_gid_mappings)
		return husk_err_set(err, HUSK_ERR_INVALID, 0,
				    "%s[%zu]: option '%s' needs uidMappings and gidMappings (the "
				    "mount's or linux')",
				    what, idx, m->idmap_rec ? "ridmap" : "idmap");
	return 0;
}

static void plan_mount_done(struct husk_plan_mount *m)
{
	free(m->data);
	free(m->source_owned);
	*m = (struct husk_plan_mount){0};
}

static void plan_mounts_free(struct husk_plan_mount *m, size_t n)
{
	for (size_t i = 0; i < n; i++)
		plan_mount_done(&m[i]);
	free(m);
}

bool husk__mount_type_in_init(const char *type)
{
	static const char *const types[] = {"proc",   "sysfs",	"mqueue",
					    "devpts", "cgroup", "cgroup2"};

	if (!type)
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(types); i++)
		if (strcmp(types[i], type) == 0)
			return true;
	return false;
}

/* proc and sysfs anywhere, and whatever goes on /dev: never mounted through a link. */
static bool needs_ordinary_dir(const char *fstype, const char *dest)
{
	size_t len = dest ? strlen(dest) : 0;

	while (len > 1 && dest[len - 1] == '/')
		len--;
	if (len == 4 && strncmp(dest, "/dev", 4) == 0)
		return true;
	return fstype && (strcmp(fstype, "proc") == 0 || strcmp(fstype, "sysfs") == 0);
}

/*
 * linux.mountLabel as runc 1.1.5 applies it: in the data of a new filesystem, but not of
 * proc, sysfs, mqueue (runc labels its mount point instead), cgroup (v1's tmpfs takes it
 * in the init) or cgroup2; a bind has no data of its own. -errno.
 */
static int mount_label_add(struct husk_plan_mount *m, const char *label)
{
	static const char *const unlabelled[] = {"proc", "sysfs", "mqueue", "cgroup", "cgroup2"};
	char *data = NULL;

	if (!label || !*label || m->bind || in_list(unlabelled, ARRAY_SIZE(unlabelled), m->fstype))
		return 0;
	int r = husk__lsm_mount_data(m->data, label, &data);
	if (r < 0)
		return r;
	free(m->data);
	m->data = data;
	return 0;
}

/* Where a list of mounts comes from and what its relative bind sources are relative to. */
struct mount_list {
	const char *what;	     /* "mounts" or "rootfs" (containerd's), for errors */
	const struct husk_linux *lx; /* the container's id mappings for an idmapped bind, or NULL */
	const char *bundle;	     /* relative bind sources are under it; NULL: left relative */
};

/* One mount, entry idx of the list l, into a plan entry. */
static int mount_build(const struct husk_mount *src, const struct mount_list *l, size_t idx,
		       struct husk_plan_mount *m, struct husk_err *err)
{
	const struct husk_linux *lx = l->lx;
	const char *bundle = l->bundle;
	const char *what = l->what;
	struct husk_mount_opts o;
	int r = husk__mount_opts_parse(src->options, src->n_options, &o, err);

	*m = (struct husk_plan_mount){0};
	if (r < 0)
		return husk_err_prefix(err, "%s[%zu]", what, idx), r;
	*m = (struct husk_plan_mount){
		.fstype = src->type,
		.source = src->source,
		.destination = src->destination,
		.flags = o.flags,
		.cleared = o.cleared,
		.propagation = o.propagation,
		.propagation_rec = o.propagation_rec,
		.attr_set = o.attr_set,
		.attr_clr = o.attr_clr,
		.data = TAKE_PTR(o.data),
		.bind = o.bind,
		.recursive = o.recursive,
		.idmap = o.idmap,
		.idmap_rec = o.idmap_rec,
		.tmpcopyup = o.tmpcopyup,
	};
	if (m->fstype && strcmp(m->fstype, "bind") == 0)
		m->bind = true;
	if (m->bind)
		m->fstype = NULL;
	else if (!m->fstype || !*m->fstype) {
		plan_mount_done(m);
		return husk_err_set(err, HUSK_ERR_INVALID, 0,
				    "%s[%zu]: no type and not a bind mount", what, idx);
	}
	if ((r = options_check(src, m, what, idx, err)) < 0 ||
	    (m->idmap && (r = idmap_build(src, lx, m, what, idx, err)) < 0)) {
		plan_mount_done(m);
		return r;
	}
	if ((r = mount_label_add(m, lx ? lx->mount_label : NULL)) < 0) {
		plan_mount_done(m);
		return husk_err_errno(err, -r, "%s[%zu]", what, idx);
	}
	m->where = husk__mount_type_in_init(m->fstype) ? HUSK_MOUNT_IN_INIT : HUSK_MOUNT_IN_GOFER;
	m->ordinary_dir = needs_ordinary_dir(m->fstype, m->destination);
	if (m->bind && (!m->source || !*m->source)) {
		plan_mount_done(m);
		return husk_err_set(err, HUSK_ERR_INVALID, 0, "%s[%zu]: bind mount without source",
				    what, idx);
	}
	if (m->bind && m->source[0] != '/' && bundle) {
		if (asprintf(&m->source_owned, "%s/%s", bundle, m->source) < 0) {
			m->source_owned = NULL;
			plan_mount_done(m);
			return husk_err_errno(err, ENOMEM, "%s[%zu]", what, idx);
		}
		m->source = m->source_owned;
	}
	return 0;
}

/* ---- devices ------------------------------------------------------------------------ */

static const struct {
	const char *path;
	unsigned major, minor;
} default_devices[] = {
	{"/dev/null", 1, 3},   {"/dev/zero", 1, 5},    {"/dev/full", 1, 7},
	{"/dev/random", 1, 8}, {"/dev/urandom", 1, 9}, {"/dev/tty", 5, 0},
};

static int device_build(const struct husk_device *d, size_t idx, struct husk_plan_device *ret,
			struct husk_err *err)
{
	mode_t type;

	switch (d->type) {
	case 'c':
	case 'u':
		type = S_IFCHR;
		break;
	case 'b':
		type = S_IFBLK;
		break;
	case 'p':
		type = S_IFIFO;
		break;
	default:
		return husk_err_set(err, HUSK_ERR_INVALID, 0,
				    "linux.devices[%zu]: unknown type '%c'", idx, d->type);
	}
	if (!d->path || strncmp(d->path, "/dev/", 5) != 0)
		return husk_err_set(err, HUSK_ERR_INVALID, 0,
				    "linux.devices[%zu]: path must be under /dev", idx);
	if (d->major < 0 || d->minor < 0 || d->major > 0xfff || d->minor > 0xfffff)
		return husk_err_set(err, HUSK_ERR_INVALID, 0,
				    "linux.devices[%zu]: major/minor out of range", idx);
	*ret = (struct husk_plan_device){
		.path = d->path,
		.mode = type | (mode_t)(d->file_mode.set ? (d->file_mode.v & 07777) : 0666),
		.rdev = makedev((unsigned)d->major, (unsigned)d->minor),
		.uid = d->uid.set ? (uid_t)d->uid.v : 0,
		.gid = d->gid.set ? (gid_t)d->gid.v : 0,
	};
	return 0;
}

static int devices_build(const struct husk_linux *lx, struct husk_gofer_plan *p,
			 struct husk_err *err)
{
	size_t n_spec = lx ? lx->n_devices : 0;
	size_t n = 0;

	p->devices = calloc(ARRAY_SIZE(default_devices) + n_spec, sizeof(*p->devices));
	if (!p->devices)
		return husk_err_errno(err, ENOMEM, "devices");
	for (size_t i = 0; i < ARRAY_SIZE(default_devices); i++) {
		bool overridden = false;
		for (size_t j = 0; j < n_spec; j++)
			if (lx->devices[j].path &&
			    strcmp(lx->devices[j].path, default_devices[i].path) == 0)
				overridden = true;
		if (overridden)
			continue;
		p->devices[n++] = (struct husk_plan_device){
			.path = default_devices[i].path,
			.mode = S_IFCHR | 0666,
			.rdev = makedev(default_devices[i].major, default_devices[i].minor),
		};
	}
	for (size_t j = 0; j < n_spec; j++) {
		int r = device_build(&lx->devices[j], j, &p->devices[n], err);
		if (r < 0)
			return r;
		n++;
	}
	p->n_devices = n;
	return 0;
}

/* linux.rootfsPropagation as MS_* (MS_REC included), 0 when unset. */
static int propagation_parse(const char *s, unsigned long *ret, struct husk_err *err)
{
	struct husk_mount_opts o;
	char *opt[] = {(char *)s};

	*ret = 0;
	if (!s || !*s)
		return 0;
	if (husk__mount_opts_parse(opt, 1, &o, NULL) < 0 || !o.propagation || o.data) {
		husk__mount_opts_done(&o);
		return husk_err_set(err, HUSK_ERR_INVALID, 0,
				    "linux.rootfsPropagation: unknown value '%s'", s);
	}
	*ret = o.propagation | (o.propagation_rec ? MS_REC : 0);
	return 0;
}

/* ---- gofer -------------------------------------------------------------------------- */

/* containerd's rootfs mounts, all onto the root, all by the gofer. */
static int gofer_rootfs_build(const struct husk_mount *rootfs, size_t n_rootfs, const char *bundle,
			      struct husk_gofer_plan *p, struct husk_err *err)
{
	const struct mount_list l = {.what = "rootfs", .bundle = bundle};

	if (!n_rootfs)
		return 0;
	p->rootfs = calloc(n_rootfs, sizeof(*p->rootfs));
	if (!p->rootfs)
		return husk_err_errno(err, ENOMEM, "gofer plan");
	for (size_t i = 0; i < n_rootfs; i++) {
		int r = mount_build(&rootfs[i], &l, i, &p->rootfs[i], err);
		if (r < 0)
			return r;
		p->rootfs[i].destination = p->root;
		p->rootfs[i].where = HUSK_MOUNT_IN_GOFER;
		p->rootfs[i].ordinary_dir = false;
		p->n_rootfs = i + 1;
	}
	return 0;
}

/* The spec's mounts that the gofer makes (the rest are the init's). */
static int gofer_mounts_build(const struct husk_spec *spec, const char *bundle,
			      struct husk_gofer_plan *p, struct husk_err *err)
{
	const struct mount_list l = {.what = "mounts", .lx = spec->linux_, .bundle = bundle};

	if (!spec->n_mounts)
		return 0;
	p->mounts = calloc(spec->n_mounts, sizeof(*p->mounts));
	if (!p->mounts)
		return husk_err_errno(err, ENOMEM, "gofer plan");
	for (size_t i = 0; i < spec->n_mounts; i++) {
		struct husk_plan_mount m;
		if (!spec->mounts[i].destination || spec->mounts[i].destination[0] != '/')
			return husk_err_set(err, HUSK_ERR_INVALID, 0,
					    "mounts[%zu].destination: must be absolute", i);
		int r = mount_build(&spec->mounts[i], &l, i, &m, err);
		if (r < 0)
			return r;
		if (m.where == HUSK_MOUNT_IN_GOFER)
			p->mounts[p->n_mounts++] = m;
		else
			plan_mount_done(&m);
	}
	return 0;
}

int husk__gofer_plan_build(const struct husk_spec *spec, const char *bundle,
			   const struct husk_mount *rootfs, size_t n_rootfs,
			   struct husk_gofer_plan *ret, struct husk_err *err)
{
	struct husk_gofer_plan p = {.root = spec->root_path, .root_readonly = spec->root_readonly};
	int r;

	if (!p.root || p.root[0] != '/')
		return husk_err_set(err, HUSK_ERR_INVALID, 0, "root.path: must be absolute");
	r = propagation_parse(spec->linux_ ? spec->linux_->rootfs_propagation : NULL,
			      &p.ns_propagation, err);
	if (r < 0)
		return r;
	if (!p.ns_propagation)
		p.ns_propagation = MS_REC | MS_SLAVE;
	r = gofer_rootfs_build(rootfs, n_rootfs, bundle, &p, err);
	r = r ?: gofer_mounts_build(spec, bundle, &p, err);
	r = r ?: devices_build(spec->linux_, &p, err);
	if (r < 0) {
		husk__gofer_plan_done(&p);
		return r;
	}
	*ret = p;
	return 0;
}

void husk__gofer_plan_done(struct husk_gofer_plan *plan)
{
	plan_mounts_free(plan->rootfs, plan->n_rootfs);
	plan_mounts_free(plan->mounts, plan->n_mounts);
	free(plan->devices);
	*plan = (struct husk_gofer_plan){0};
}

/* ---- capabilities ------------------------------------------------------------------- */

static int caps_mask(char *const *names, size_t n, const char *set, uint64_t *ret,
		     struct husk_err *err)
{
	uint64_t mask = 0;

	for (size_t i = 0; i < n; i++) {
		cap_value_t v;
		if (cap_from_name(names[i], &v) < 0 || v < 0 || v >= 64)
			return husk_err_set(err, HUSK_ERR_INVALID, 0,
					    "process.capabilities.%s[%zu]: unknown capability '%s'",
					    set, i, names[i]);
		mask |= UINT64_C(1) << v;
	}
	*ret = mask;
	return 0;
}

int husk__caps_plan_build(const struct husk_process *process, struct husk_caps_plan *ret,
			  struct husk_err *err)
{
	const struct husk_capabilities *c = &process->capabilities;
	struct husk_caps_plan p = {.set = true};
	int r;

	/* OCI: an absent capabilities object means the process gets none. */
	if (!c->set) {
		*ret = p;
		return 0;
	}
	if ((r = caps_mask(c->bounding, c->n_bounding, "bounding", &p.bounding, err)) < 0 ||
	    (r = caps_mask(c->effective, c->n_effective, "effective", &p.effective, err)) < 0 ||
	    (r = caps_mask(c->inheritable, c->n_inheritable, "inheritable", &p.inheritable, err)) <
		    0 ||
	    (r = caps_mask(c->permitted, c->n_permitted, "permitted", &p.permitted, err)) < 0 ||
	    (r = caps_mask(c->ambient, c->n_ambient, "ambient", &p.ambient, err)) < 0)
		return r;
	*ret = p;
	return 0;
}

/* ---- process ------------------------------------------------------------------------ */

static const char *const *strv_dup(char *const *v, size_t n)
{
	const char **a = calloc(n + 1, sizeof(*a));

	if (!a)
		return NULL;
	for (size_t i = 0; i < n; i++)
		a[i] = v[i];
	return a;
}

int husk__proc_plan_build(const struct husk_process *process, struct husk_proc_plan *ret,
			  struct husk_err *err)
{
	struct husk_proc_plan p = {0};
	int r;

	if (!process->n_args || !process->args[0] || !*process->args[0])
		return husk_err_set(err, HUSK_ERR_INVALID, 0, "process.args: must not be empty");
	if (!process->cwd || process->cwd[0] != '/')
		return husk_err_set(err, HUSK_ERR_INVALID, 0, "process.cwd: must be absolute");
	r = husk__caps_plan_build(process, &p.caps, err);
	if (r < 0)
		return r;
	p.argv = strv_dup(process->args, process->n_args);
	p.envp = strv_dup(process->env, process->n_env);
	if (!p.argv || !p.envp) {
		husk__proc_plan_done(&p);
		return husk_err_errno(err, ENOMEM, "process plan");
	}
	p.cwd = process->cwd;
	p.path = NULL;
	for (size_t i = 0; i < process->n_env; i++)
		if (strncmp(process->env[i], "PATH=", 5) == 0)
			p.path = process->env[i] + 5;
	/* As runc, which sets the entries one by one: the last HOME wins, and an empty one
	 * counts as none. */
	p.home_from_passwd = true;
	for (size_t i = 0; i < process->n_env; i++)
		if (strncmp(process->env[i], "HOME=", 5) == 0)
			p.home_from_passwd = process->env[i][5] == '\0';
	p.uid = process->user.uid;
	p.gid = process->user.gid;
	p.groups = process->user.additional_gids;
	p.n_groups = process->user.n_additional_gids;
	p.set_umask = process->user.umask.set;
	p.umask = (mode_t)(process->user.umask.v & 0777);
	p.rlimits = process->rlimits;
	p.n_rlimits = process->n_rlimits;
	p.no_new_privs = process->no_new_privileges;
	p.set_oom_score_adj = process->oom_score_adj.set;
	p.oom_score_adj = (int)process->oom_score_adj.v;
	if (p.set_oom_score_adj &&
	    (process->oom_score_adj.v < -1000 || process->oom_score_adj.v > 1000)) {
		husk__proc_plan_done(&p);
		return husk_err_set(err, HUSK_ERR_INVALID, 0,
				    "process.oomScoreAdj: %lld out of range [-1000, 1000]",
				    (long long)process->oom_score_adj.v);
	}
	p.terminal = process->terminal;
	p.console_rows =
		process->console_height.set ? (unsigned short)process->console_height.v : 0;
	p.console_cols = process->console_width.set ? (unsigned short)process->console_width.v : 0;
	p.apparmor_profile = process->apparmor_profile;
	p.selinux_label = process->selinux_label;
	*ret = p;
	return 0;
}

void husk__proc_plan_done(struct husk_proc_plan *plan)
{
	free((void *)plan->argv);
	free((void *)plan->envp);
	*plan = (struct husk_proc_plan){0};
}

/* ---- init --------------------------------------------------------------------------- */

static const int ns_flags[_HUSK_NS_TYPE_MAX] = {
	[HUSK_NS_PID] = CLONE_NEWPID,	    [HUSK_NS_NETWORK] = CLONE_NEWNET,
	[HUSK_NS_MOUNT] = CLONE_NEWNS,	    [HUSK_NS_IPC] = CLONE_NEWIPC,
	[HUSK_NS_UTS] = CLONE_NEWUTS,	    [HUSK_NS_USER] = CLONE_NEWUSER,
	[HUSK_NS_CGROUP] = CLONE_NEWCGROUP, [HUSK_NS_TIME] = CLONE_NEWTIME,
};

static int namespaces_build(const struct husk_linux *lx, struct husk_init_plan *p,
			    struct husk_err *err)
{
	unsigned seen = 0;

	for (size_t i = 0; lx && i < lx->n_namespaces; i++) {
		const struct husk_namespace *ns = &lx->namespaces[i];
		if ((unsigned)ns->type >= _HUSK_NS_TYPE_MAX)
			return husk_err_set(err, HUSK_ERR_INVALID, 0,
					    "linux.namespaces[%zu]: unknown type", i);
		if (seen & (1u << ns->type))
			return husk_err_set(err, HUSK_ERR_INVALID, 0,
					    "linux.namespaces[%zu]: duplicate namespace type", i);
		seen |= 1u << ns->type;
		if (!ns->path || !*ns->path) {
			p->clone_flags |= (uint64_t)ns_flags[ns->type];
			continue;
		}
		if (ns->path[0] != '/')
			return husk_err_set(err, HUSK_ERR_INVALID, 0,
					    "linux.namespaces[%zu].path: must be absolute", i);
		/* A user namespace is joined first: it decides what the other joins may do. */
		if (ns->type == HUSK_NS_USER) {
			memmove(&p->joins[1], &p->joins[0], p->n_joins * sizeof(p->joins[0]));
			p->joins[0] = (struct husk_plan_join){CLONE_NEWUSER, ns->path};
		} else {
			p->joins[p->n_joins] =
				(struct husk_plan_join){ns_flags[ns->type], ns->path};
		}
		p->n_joins++;
	}
	if (!(seen & (1u << HUSK_NS_MOUNT)))
		return husk_err_set(err, HUSK_ERR_INVALID, 0,
				    "linux.namespaces: a mount namespace is required");
	p->new_userns = p->clone_flags & CLONE_NEWUSER;
	return 0;
}

static int init_mounts_build(const struct husk_spec *spec, struct husk_init_plan *p,
			     struct husk_err *err)
{
	const struct mount_list l = {.what = "mounts", .lx = spec->linux_};

	if (!spec->n_mounts)
		return 0;
	p->mounts = calloc(spec->n_mounts, sizeof(*p->mounts));
	p->unbindable = calloc(spec->n_mounts, sizeof(*p->unbindable));
	if (!p->mounts || !p->unbindable)
		return husk_err_errno(err, ENOMEM, "init plan");
	for (size_t i = 0; i < spec->n_mounts; i++) {
		struct husk_plan_mount m;
		if (!spec->mounts[i].destination || spec->mounts[i].destination[0] != '/')
			return husk_err_set(err, HUSK_ERR_INVALID, 0,
					    "mounts[%zu].destination: must be absolute", i);
		int r = mount_build(&spec->mounts[i], &l, i, &m, err);
		if (r < 0)
			return r;
		if (m.where == HUSK_MOUNT_IN_INIT)
			p->mounts[p->n_mounts++] = m;
		else if (m.propagation == MS_UNBINDABLE)
			p->unbindable[p->n_unbindable++] = m;
		else
			plan_mount_done(&m);
	}
	return 0;
}

static int init_linux_build(const struct husk_linux *lx, struct husk_init_plan *p,
			    struct husk_err *err)
{
	int r = propagation_parse(lx->rootfs_propagation, &p->root_propagation, err);

	if (r < 0)
		return r;
	p->uid_mappings = lx->uid_mappings;
	p->n_uid_mappings = lx->n_uid_mappings;
	p->gid_mappings = lx->gid_mappings;
	p->n_gid_mappings = lx->n_gid_mappings;
	if (p->new_userns && (!lx->n_uid_mappings || !lx->n_gid_mappings))
		return husk_err_set(err, HUSK_ERR_INVALID, 0,
				    "linux.uidMappings: a new user namespace needs uid and gid "
				    "mappings");
	p->masked_paths = (const char *const *)lx->masked_paths;
	p->n_masked_paths = lx->n_masked_paths;
	p->readonly_paths = (const char *const *)lx->readonly_paths;
	p->n_readonly_paths = lx->n_readonly_paths;
	r = husk__sysctl_check(lx, err);
	if (r < 0)
		return r;
	p->sysctl = lx->sysctl;
	p->n_sysctl = lx->n_sysctl;
	if (lx->personality) {
		const char *d = lx->personality->domain;
		p->set_personality = true;
		if (d && strcmp(d, "LINUX") == 0)
			p->personality = PER_LINUX;
		else if (d && strcmp(d, "LINUX32") == 0)
			p->personality = PER_LINUX32;
		else
			return husk_err_set(err, HUSK_ERR_INVALID, 0,
					    "linux.personality.domain: unknown value '%s'",
					    d ? d : "");
	}
	return 0;
}

static bool has_uts(const struct husk_init_plan *p)
{
	if (p->clone_flags & CLONE_NEWUTS)
		return true;
	for (size_t i = 0; i < p->n_joins; i++)
		if (p->joins[i].clone_flag == CLONE_NEWUTS)
			return true;
	return false;
}

int husk__init_plan_build(const struct husk_spec *spec, struct husk_init_plan *ret,
			  struct husk_err *err)
{
	struct husk_init_plan p = {.root = spec->root_path, .root_readonly = spec->root_readonly};
	int r;

	if (!spec->process)
		return husk_err_set(err, HUSK_ERR_INVALID, 0, "process: required to create");
	if (!spec->linux_)
		return husk_err_set(err, HUSK_ERR_INVALID, 0, "linux: required by this runtime");
	if (!p.root || p.root[0] != '/')
		return husk_err_set(err, HUSK_ERR_INVALID, 0, "root.path: must be absolute");
	r = namespaces_build(spec->linux_, &p, err);
	if (r < 0)
		return r;
	r = init_linux_build(spec->linux_, &p, err);
	if (r < 0)
		return r;
	p.hostname = spec->hostname && *spec->hostname ? spec->hostname : NULL;
	p.domainname = spec->domainname && *spec->domainname ? spec->domainname : NULL;
	if ((p.hostname || p.domainname) && !has_uts(&p))
		return husk_err_set(err, HUSK_ERR_INVALID, 0,
				    "hostname: setting it requires a uts namespace");
	r = init_mounts_build(spec, &p, err);
	if (r < 0)
		goto fail;
	p.mount_label = spec->linux_->mount_label;
	/* runc's own tmpfs mounts carry the mount label too. */
	if (husk__lsm_mount_data("mode=755", spec->linux_->mount_label, &p.cgroup_tmpfs_data) < 0 ||
	    husk__lsm_mount_data(NULL, spec->linux_->mount_label, &p.masked_dir_data) < 0) {
		r = husk_err_errno(err, ENOMEM, "init plan");
		goto fail;
	}
	r = husk__proc_plan_build(spec->process, &p.proc, err);
	if (r < 0)
		goto fail;
	*ret = p;
	return 0;
fail:
	husk__init_plan_done(&p);
	return r;
}

void husk__init_plan_done(struct husk_init_plan *plan)
{
	plan_mounts_free(plan->mounts, plan->n_mounts);
	plan_mounts_free(plan->unbindable, plan->n_unbindable);
	free(plan->cgroup_tmpfs_data);
	free(plan->masked_dir_data);
	husk__proc_plan_done(&plan->proc);
	*plan = (struct husk_init_plan){0};
}
