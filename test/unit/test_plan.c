/* Plans from hand-built specs: pure, no root. */
#include <errno.h>
#include <sched.h>
#include <string.h>

#include <linux/capability.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "husk/err.h"
#include "husk/spec.h"
#include "native/plan.h"

static char *args[] = {"sh", "-c", "true"};
static char *env[] = {"HOME=/root", "PATH=/bin:/sbin"};
static char *opt_proc[] = {"nosuid", "noexec", "nodev"};
static char *opt_tmpfs[] = {"nosuid", "strictatime", "mode=755", "size=65536k"};
static char *opt_bind[] = {"rbind", "ro", "rprivate"};
static char *caps[] = {"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"};

struct fixture {
	struct husk_spec spec;
	struct husk_process proc;
	struct husk_linux lx;
	struct husk_mount mounts[4];
	struct husk_namespace ns[4];
};

static void fixture_init(struct fixture *f)
{
	memset(f, 0, sizeof(*f));
	f->proc.args = args;
	f->proc.n_args = 3;
	f->proc.env = env;
	f->proc.n_env = 2;
	f->proc.cwd = "/";
	f->proc.capabilities.set = true;
	f->proc.capabilities.bounding = caps;
	f->proc.capabilities.n_bounding = 3;
	f->proc.capabilities.effective = caps;
	f->proc.capabilities.n_effective = 1;
	f->mounts[0] = (struct husk_mount){.destination = "/proc",
					   .type = "proc",
					   .source = "proc",
					   .options = opt_proc,
					   .n_options = 3};
	f->mounts[1] = (struct husk_mount){.destination = "/dev",
					   .type = "tmpfs",
					   .source = "tmpfs",
					   .options = opt_tmpfs,
					   .n_options = 4};
	f->mounts[2] = (struct husk_mount){.destination = "/data",
					   .type = NULL,
					   .source = "vol",
					   .options = opt_bind,
					   .n_options = 3};
	f->mounts[3] = (struct husk_mount){.destination = "/dev/pts",
					   .type = "devpts",
					   .source = "devpts",
					   .options = NULL,
					   .n_options = 0};
	f->ns[0] = (struct husk_namespace){HUSK_NS_PID, NULL};
	f->ns[1] = (struct husk_namespace){HUSK_NS_MOUNT, NULL};
	f->ns[2] = (struct husk_namespace){HUSK_NS_UTS, NULL};
	f->ns[3] = (struct husk_namespace){HUSK_NS_NETWORK, "/run/netns/x"};
	f->lx.namespaces = f->ns;
	f->lx.n_namespaces = 4;
	f->spec.process = &f->proc;
	f->spec.linux_ = &f->lx;
	f->spec.root_path = "/bundle/rootfs";
	f->spec.mounts = f->mounts;
	f->spec.n_mounts = 4;
	f->spec.hostname = "box";
}

Test(plan, gofer_takes_binds_and_tmpfs_in_order)
{
	struct fixture f;
	struct husk_gofer_plan p;
	struct husk_err err = {0};

	fixture_init(&f);
	cr_assert(eq(int, husk__gofer_plan_build(&f.spec, "/bundle", NULL, 0, &p, &err), 0), "%s",
		  err.msg);
	cr_assert(eq(str, (char *)p.root, "/bundle/rootfs"));
	cr_assert(eq(sz, p.n_rootfs, (size_t)0));
	cr_assert(eq(sz, p.n_mounts, (size_t)2));
	cr_assert(eq(str, (char *)p.mounts[0].destination, "/dev"));
	cr_assert(eq(str, (char *)p.mounts[0].fstype, "tmpfs"));
	cr_assert(eq(str, p.mounts[0].data, "mode=755,size=65536k"));
	cr_assert(eq(u64, p.mounts[0].flags, (uint64_t)(MS_NOSUID | MS_STRICTATIME)));
	cr_assert(eq(str, (char *)p.mounts[1].destination, "/data"));
	cr_assert(p.mounts[1].bind && p.mounts[1].recursive);
	cr_assert(eq(ptr, (void *)p.mounts[1].fstype, NULL));
	cr_assert(eq(str, (char *)p.mounts[1].source, "/bundle/vol"));
	cr_assert(eq(u64, p.mounts[1].flags, (uint64_t)MS_RDONLY));
	cr_assert(eq(u64, p.mounts[1].propagation, (uint64_t)MS_PRIVATE));
	cr_assert(p.mounts[1].propagation_rec);
	husk__gofer_plan_done(&p);
}

Test(plan, gofer_rootfs_mounts_go_on_root)
{
	struct fixture f;
	struct husk_gofer_plan p;
	struct husk_err err = {0};
	char *ov[] = {"lowerdir=/l", "upperdir=/u", "workdir=/w", "index=off"};
	struct husk_mount rootfs = {.destination = NULL,
				    .type = "overlay",
				    .source = "overlay",
				    .options = ov,
				    .n_options = 4};

	fixture_init(&f);
	cr_assert(eq(int, husk__gofer_plan_build(&f.spec, "/bundle", &rootfs, 1, &p, &err), 0));
	cr_assert(eq(sz, p.n_rootfs, (size_t)1));
	cr_assert(eq(str, (char *)p.rootfs[0].destination, "/bundle/rootfs"));
	cr_assert(eq(str, p.rootfs[0].data, "lowerdir=/l,upperdir=/u,workdir=/w,index=off"));
	cr_assert(eq(u64, p.rootfs[0].flags, (uint64_t)0));
	husk__gofer_plan_done(&p);
}

Test(plan, default_devices_and_spec_override)
{
	struct fixture f;
	struct husk_gofer_plan p;
	struct husk_err err = {0};
	struct husk_device dev[2] = {
		{.type = 'c',
		 .path = "/dev/null",
		 .major = 1,
		 .minor = 3,
		 .file_mode = {true, 0600}},
		{.type = 'b', .path = "/dev/sda", .major = 8, .minor = 0},
	};

	fixture_init(&f);
	f.lx.devices = dev;
	f.lx.n_devices = 2;
	cr_assert(eq(int, husk__gofer_plan_build(&f.spec, "/bundle", NULL, 0, &p, &err), 0));
	cr_assert(eq(sz, p.n_devices, (size_t)7));
	cr_assert(eq(str, (char *)p.devices[0].path, "/dev/zero"));
	cr_assert(eq(str, (char *)p.devices[4].path, "/dev/tty"));
	cr_assert(eq(u32, p.devices[4].mode, (uint32_t)(S_IFCHR | 0666)));
	cr_assert(eq(str, (char *)p.devices[5].path, "/dev/null"));
	cr_assert(eq(u32, p.devices[5].mode, (uint32_t)(S_IFCHR | 0600)));
	cr_assert(eq(u32, p.devices[6].mode, (uint32_t)(S_IFBLK | 0666)));
	cr_assert(eq(u64, (uint64_t)p.devices[6].rdev, (uint64_t)makedev(8, 0)));
	husk__gofer_plan_done(&p);
}

Test(plan, bad_device_path_names_index)
{
	struct fixture f;
	struct husk_gofer_plan p;
	struct husk_err err = {0};
	struct husk_device dev = {.type = 'c', .path = "/etc/x", .major = 1, .minor = 3};

	fixture_init(&f);
	f.lx.devices = &dev;
	f.lx.n_devices = 1;
	cr_assert(husk__gofer_plan_build(&f.spec, "/bundle", NULL, 0, &p, &err) < 0);
	cr_assert(eq(int, err.kind, HUSK_ERR_INVALID));
	cr_assert(eq(str, err.msg, "linux.devices[0]: path must be under /dev"));
}

Test(plan, mount_without_type_is_invalid)
{
	struct fixture f;
	struct husk_gofer_plan p;
	struct husk_err err = {0};

	fixture_init(&f);
	f.mounts[2].options = NULL;
	f.mounts[2].n_options = 0;
	cr_assert(husk__gofer_plan_build(&f.spec, "/bundle", NULL, 0, &p, &err) < 0);
	cr_assert(eq(str, err.msg, "mounts[2]: no type and not a bind mount"));
}

Test(plan, init_takes_namespace_bound_mounts)
{
	struct fixture f;
	struct husk_init_plan p;
	struct husk_err err = {0};

	fixture_init(&f);
	cr_assert(eq(int, husk__init_plan_build(&f.spec, &p, &err), 0), "%s", err.msg);
	cr_assert(eq(sz, p.n_mounts, (size_t)2));
	cr_assert(eq(str, (char *)p.mounts[0].fstype, "proc"));
	cr_assert(eq(u64, p.mounts[0].flags, (uint64_t)(MS_NOSUID | MS_NOEXEC | MS_NODEV)));
	cr_assert(eq(str, (char *)p.mounts[1].fstype, "devpts"));
	cr_assert(eq(u64, p.clone_flags, (uint64_t)(CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS)));
	cr_assert(eq(sz, p.n_joins, (size_t)1));
	cr_assert(eq(int, p.joins[0].clone_flag, CLONE_NEWNET));
	cr_assert(eq(str, (char *)p.hostname, "box"));
	/* unset: "/" stays the slave the init made it (runc) */
	cr_assert(eq(u64, p.root_propagation, (uint64_t)0));
	husk__init_plan_done(&p);
}

Test(plan, user_namespace_is_joined_first)
{
	struct fixture f;
	struct husk_init_plan p;
	struct husk_err err = {0};

	fixture_init(&f);
	f.ns[0] = (struct husk_namespace){HUSK_NS_USER, "/proc/1/ns/user"};
	cr_assert(eq(int, husk__init_plan_build(&f.spec, &p, &err), 0), "%s", err.msg);
	cr_assert(eq(sz, p.n_joins, (size_t)2));
	cr_assert(eq(int, p.joins[0].clone_flag, CLONE_NEWUSER));
	cr_assert(eq(int, p.joins[1].clone_flag, CLONE_NEWNET));
	husk__init_plan_done(&p);
}

Test(plan, new_user_namespace_needs_mappings)
{
	struct fixture f;
	struct husk_init_plan p;
	struct husk_err err = {0};

	fixture_init(&f);
	f.ns[0] = (struct husk_namespace){HUSK_NS_USER, NULL};
	cr_assert(husk__init_plan_build(&f.spec, &p, &err) < 0);
	cr_assert(eq(int, err.kind, HUSK_ERR_INVALID));
	cr_assert(strstr(err.msg, "uidMappings") != NULL, "%s", err.msg);
}

Test(plan, hostname_needs_uts_namespace)
{
	struct fixture f;
	struct husk_init_plan p;
	struct husk_err err = {0};

	fixture_init(&f);
	f.ns[2] = (struct husk_namespace){HUSK_NS_IPC, NULL};
	cr_assert(husk__init_plan_build(&f.spec, &p, &err) < 0);
	cr_assert(eq(str, err.msg, "hostname: setting it requires a uts namespace"));
}

Test(plan, mount_namespace_required_and_duplicates_refused)
{
	struct fixture f;
	struct husk_init_plan p;
	struct husk_err err = {0};

	fixture_init(&f);
	f.ns[1] = (struct husk_namespace){HUSK_NS_PID, NULL};
	cr_assert(husk__init_plan_build(&f.spec, &p, &err) < 0);
	cr_assert(eq(str, err.msg, "linux.namespaces[1]: duplicate namespace type"));
	f.ns[1] = (struct husk_namespace){HUSK_NS_IPC, NULL};
	cr_assert(husk__init_plan_build(&f.spec, &p, &err) < 0);
	cr_assert(eq(str, err.msg, "linux.namespaces: a mount namespace is required"));
}

Test(plan, process_fields)
{
	struct fixture f;
	struct husk_proc_plan p;
	struct husk_err err = {0};
	gid_t groups[] = {10, 20};

	fixture_init(&f);
	f.proc.user.uid = 1000;
	f.proc.user.gid = 1001;
	f.proc.user.additional_gids = groups;
	f.proc.user.n_additional_gids = 2;
	f.proc.user.umask = (struct husk_opt_u64){true, 027};
	f.proc.oom_score_adj = (struct husk_opt_i64){true, 500};
	f.proc.no_new_privileges = true;
	cr_assert(eq(int, husk__proc_plan_build(&f.proc, &p, &err), 0), "%s", err.msg);
	cr_assert(eq(str, (char *)p.argv[0], "sh"));
	cr_assert(eq(str, (char *)p.argv[2], "true"));
	cr_assert(eq(ptr, (void *)p.argv[3], NULL));
	cr_assert(eq(ptr, (void *)p.envp[2], NULL));
	cr_assert(eq(str, (char *)p.path, "/bin:/sbin"));
	cr_assert(eq(u32, p.uid, 1000u));
	cr_assert(eq(sz, p.n_groups, (size_t)2));
	cr_assert(p.set_umask);
	cr_assert(eq(u32, p.umask, 027u));
	cr_assert(eq(int, p.oom_score_adj, 500));
	cr_assert(p.no_new_privs);
	cr_assert(eq(u64, p.caps.bounding,
		     (uint64_t)((1ULL << CAP_CHOWN) | (1ULL << CAP_KILL) |
				(1ULL << CAP_NET_BIND_SERVICE))));
	cr_assert(eq(u64, p.caps.effective, (uint64_t)(1ULL << CAP_CHOWN)));
	cr_assert(eq(u64, p.caps.ambient, (uint64_t)0));
	husk__proc_plan_done(&p);
}

Test(plan, no_path_without_env)
{
	struct fixture f;
	struct husk_proc_plan p;
	struct husk_err err = {0};

	fixture_init(&f);
	f.proc.n_env = 1;
	cr_assert(eq(int, husk__proc_plan_build(&f.proc, &p, &err), 0));
	/* runc searches no default PATH: a bare argv[0] is then not found. */
	cr_assert(eq(ptr, (void *)p.path, NULL));
	husk__proc_plan_done(&p);
}

Test(plan, home_from_passwd_only_without_home)
{
	struct fixture f;
	struct husk_proc_plan p;
	struct husk_err err = {0};
	char *empty_home[] = {"PATH=/bin", "HOME=/first", "HOME="};
	char *no_home[] = {"PATH=/bin"};

	fixture_init(&f);
	cr_assert(eq(int, husk__proc_plan_build(&f.proc, &p, &err), 0));
	cr_assert(not(p.home_from_passwd), "HOME=/root is in the env");
	husk__proc_plan_done(&p);

	f.proc.env = no_home;
	f.proc.n_env = 1;
	cr_assert(eq(int, husk__proc_plan_build(&f.proc, &p, &err), 0));
	cr_assert(p.home_from_passwd);
	husk__proc_plan_done(&p);

	/* The last HOME counts, and an empty one is none (runc's os.Setenv of each). */
	f.proc.env = empty_home;
	f.proc.n_env = 3;
	cr_assert(eq(int, husk__proc_plan_build(&f.proc, &p, &err), 0));
	cr_assert(p.home_from_passwd);
	husk__proc_plan_done(&p);
}

Test(plan, unknown_capability_is_named)
{
	struct fixture f;
	struct husk_proc_plan p;
	struct husk_err err = {0};
	char *bad[] = {"CAP_CHOWN", "CAP_FLY"};

	fixture_init(&f);
	f.proc.capabilities.permitted = bad;
	f.proc.capabilities.n_permitted = 2;
	cr_assert(husk__proc_plan_build(&f.proc, &p, &err) < 0);
	cr_assert(eq(str, err.msg,
		     "process.capabilities.permitted[1]: unknown capability 'CAP_FLY'"));
}

Test(plan, absent_capabilities_mean_none)
{
	struct fixture f;
	struct husk_proc_plan p;
	struct husk_err err = {0};

	fixture_init(&f);
	f.proc.capabilities = (struct husk_capabilities){0};
	cr_assert(eq(int, husk__proc_plan_build(&f.proc, &p, &err), 0));
	cr_assert(p.caps.set);
	cr_assert(eq(u64, p.caps.bounding | p.caps.effective | p.caps.permitted, (uint64_t)0));
	husk__proc_plan_done(&p);
}

Test(plan, oom_score_adj_range_and_relative_cwd)
{
	struct fixture f;
	struct husk_proc_plan p;
	struct husk_err err = {0};

	fixture_init(&f);
	f.proc.oom_score_adj = (struct husk_opt_i64){true, -1001};
	cr_assert(husk__proc_plan_build(&f.proc, &p, &err) < 0);
	cr_assert(eq(str, err.msg, "process.oomScoreAdj: -1001 out of range [-1000, 1000]"));
	f.proc.oom_score_adj.set = false;
	f.proc.cwd = "tmp";
	cr_assert(husk__proc_plan_build(&f.proc, &p, &err) < 0);
	cr_assert(eq(str, err.msg, "process.cwd: must be absolute"));
}

Test(plan, rootfs_propagation)
{
	struct fixture f;
	struct husk_init_plan p;
	struct husk_err err = {0};

	fixture_init(&f);
	f.lx.rootfs_propagation = "rslave";
	cr_assert(eq(int, husk__init_plan_build(&f.spec, &p, &err), 0));
	cr_assert(eq(u64, p.root_propagation, (uint64_t)(MS_REC | MS_SLAVE)));
	husk__init_plan_done(&p);
	f.lx.rootfs_propagation = "sideways";
	cr_assert(husk__init_plan_build(&f.spec, &p, &err) < 0);
	cr_assert(eq(str, err.msg, "linux.rootfsPropagation: unknown value 'sideways'"));
}

Test(plan, missing_process_is_invalid)
{
	struct fixture f;
	struct husk_init_plan p;
	struct husk_err err = {0};

	fixture_init(&f);
	f.spec.process = NULL;
	cr_assert(husk__init_plan_build(&f.spec, &p, &err) < 0);
	cr_assert(eq(int, err.kind, HUSK_ERR_INVALID));
	cr_assert(eq(str, err.msg, "process: required to create"));
}

Test(plan, mount_types_in_init)
{
	cr_assert(husk__mount_type_in_init("proc"));
	cr_assert(husk__mount_type_in_init("cgroup"));
	cr_assert(husk__mount_type_in_init("tmpfs") == false);
	cr_assert(husk__mount_type_in_init(NULL) == false);
}

/* f's /data bind (mounts[2]) with other options, through the gofer plan. */
static int plan_data(struct fixture *f, char **opts, size_t n, struct husk_gofer_plan *p,
		     struct husk_err *err)
{
	f->mounts[2].options = opts;
	f->mounts[2].n_options = n;
	return husk__gofer_plan_build(&f->spec, "/bundle", NULL, 0, p, err);
}

Test(plan, bind_options_split_into_top_flags_recursive_attributes_and_propagation)
{
	struct fixture f;
	struct husk_gofer_plan p;
	struct husk_err err = {0};
	char *o[] = {"rbind", "ro", "rnosuid", "rnoatime", "rw", "rslave"};

	fixture_init(&f);
	cr_assert(eq(int, plan_data(&f, o, 6, &p, &err), 0), "%s", err.msg);
	const struct husk_plan_mount *m = &p.mounts[1];
	/* "rw" after "ro": the top mount is read-write and says so (cleared) */
	cr_assert(eq(u64, m->flags, (uint64_t)0));
	cr_assert(eq(u64, m->cleared, (uint64_t)MS_RDONLY));
	cr_assert(eq(u64, m->attr_set, (uint64_t)(MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOATIME)));
	cr_assert(eq(u64, m->attr_clr, (uint64_t)MOUNT_ATTR__ATIME));
	cr_assert(eq(u64, m->propagation, (uint64_t)MS_SLAVE));
	cr_assert(m->propagation_rec && m->bind && m->recursive);
	cr_assert(eq(ptr, m->data, NULL));
	/* no rootfsPropagation: the gofer sees the host as runc's container does */
	cr_assert(eq(u64, p.ns_propagation, (uint64_t)(MS_REC | MS_SLAVE)));
	husk__gofer_plan_done(&p);
}

Test(plan, idmap_takes_the_mounts_mappings_else_the_containers)
{
	struct fixture f;
	struct husk_gofer_plan p;
	struct husk_err err = {0};
	struct husk_id_mapping own = {0, 1000, 10}, ctr = {0, 100000, 65536};
	char *o[] = {"rbind", "ridmap"};

	fixture_init(&f);
	f.lx.uid_mappings = f.lx.gid_mappings = &ctr;
	f.lx.n_uid_mappings = f.lx.n_gid_mappings = 1;
	cr_assert(eq(int, plan_data(&f, o, 2, &p, &err), 0), "%s", err.msg);
	cr_assert(p.mounts[1].idmap && p.mounts[1].idmap_rec);
	cr_assert(eq(ptr, (void *)p.mounts[1].uid_mappings, &ctr));
	husk__gofer_plan_done(&p);
	f.mounts[2].uid_mappings = f.mounts[2].gid_mappings = &own;
	f.mounts[2].n_uid_mappings = f.mounts[2].n_gid_mappings = 1;
	cr_assert(eq(int, plan_data(&f, o, 2, &p, &err), 0), "%s", err.msg);
	cr_assert(eq(ptr, (void *)p.mounts[1].uid_mappings, &own));
	cr_assert(eq(ptr, (void *)p.mounts[1].gid_mappings, &own));
	husk__gofer_plan_done(&p);
}

Test(plan, options_a_bind_cannot_honour_are_refused_by_name)
{
	static const struct {
		char *opts[3];
		size_t n;
		const char *msg;
	} cases[] = {
		{{"rbind", "mode=755", "size=1k"},
		 3,
		 "mounts[2]: option 'mode=755' does not apply to a bind mount (the kernel ignores "
		 "filesystem options there)"},
		{{"bind", "lazytime"},
		 2,
		 "mounts[2]: option 'lazytime' does not apply to a bind mount"},
		{{"rbind", "idmap"},
		 2,
		 "mounts[2]: option 'idmap' needs uidMappings and gidMappings (the mount's or "
		 "linux')"},
		{{"rbind", "tmpcopyup"}, 2, "mounts[2]: option 'tmpcopyup' needs a tmpfs mount"},
		{{"rbind", "remount"},
		 2,
		 "mounts[2]: option 'remount' cannot apply to a new mount"},
		{{"rbind", ""}, 2, "mounts[2]: options[1]: empty option"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fixture f;
		struct husk_gofer_plan p;
		struct husk_err err = {0};
		fixture_init(&f);
		cr_assert(eq(int, plan_data(&f, (char **)cases[i].opts, cases[i].n, &p, &err),
			     -EINVAL));
		cr_assert(eq(int, err.kind, HUSK_ERR_INVALID));
		cr_assert(eq(str, err.msg, (char *)cases[i].msg));
	}
}

Test(plan, idmap_needs_a_bind_and_mappings_need_idmap)
{
	struct fixture f;
	struct husk_gofer_plan p;
	struct husk_err err = {0};
	struct husk_id_mapping own = {0, 1000, 10};
	char *idmap[] = {"idmap"};
	char *none[] = {"rbind"};

	fixture_init(&f);
	f.mounts[1].options = idmap;
	f.mounts[1].n_options = 1;
	cr_assert(eq(int, husk__gofer_plan_build(&f.spec, "/b", NULL, 0, &p, &err), -EINVAL));
	cr_assert(eq(str, err.msg, "mounts[1]: option 'idmap' needs a bind mount"));
	fixture_init(&f);
	f.mounts[2].uid_mappings = f.mounts[2].gid_mappings = &own;
	f.mounts[2].n_uid_mappings = f.mounts[2].n_gid_mappings = 1;
	cr_assert(eq(int, plan_data(&f, none, 1, &p, &err), -EINVAL));
	cr_assert(eq(str, err.msg, "mounts[2].uidMappings: needs the 'idmap' or 'ridmap' option"));
}

static int sysctl_plan(struct fixture *f, const char *key, struct husk_err *err)
{
	struct husk_kv kv = {.key = (char *)key, .value = (char *)"1"};
	struct husk_init_plan p;

	f->lx.sysctl = &kv;
	f->lx.n_sysctl = 1;
	int r = husk__init_plan_build(&f->spec, &p, err);
	if (r >= 0)
		husk__init_plan_done(&p);
	f->lx.sysctl = NULL;
	f->lx.n_sysctl = 0;
	return r;
}

/* Only what the container's own namespaces isolate, as runc's validator says, so a sysctl
 * never reaches the host's /proc/sys. */
Test(plan, sysctls_only_in_the_containers_own_namespaces)
{
	struct fixture f;
	struct husk_err err = {0};

	fixture_init(&f);
	/* ns: pid, mount, uts, net joined by a path that is not ours; no ipc. */
	cr_assert(eq(int, sysctl_plan(&f, "net.ipv4.ip_forward", &err), 0), "%s", err.msg);
	cr_assert(eq(int, sysctl_plan(&f, "net/ipv4/ip_forward", &err), 0), "%s", err.msg);
	cr_assert(eq(int, sysctl_plan(&f, "kernel.domainname", &err), 0), "%s", err.msg);
	cr_assert(lt(int, sysctl_plan(&f, "kernel.shm_rmid_forced", &err), 0));
	cr_assert(
		eq(str, err.msg,
		   "sysctl \"kernel.shm_rmid_forced\" is not allowed in the hosts ipc namespace"));
	cr_assert(lt(int, sysctl_plan(&f, "fs.mqueue.msg_max", &err), 0));
	cr_assert(lt(int, sysctl_plan(&f, "vm.swappiness", &err), 0));
	cr_assert(
		eq(str, err.msg, "sysctl \"vm.swappiness\" is not in a separate kernel namespace"));
	cr_assert(lt(int, sysctl_plan(&f, "kernel.hostname", &err), 0));
	cr_assert(eq(int, (int)err.kind, (int)HUSK_ERR_INVALID));

	/* The network namespace this process runs in is the host's. */
	f.ns[3] = (struct husk_namespace){HUSK_NS_NETWORK, "/proc/self/ns/net"};
	cr_assert(lt(int, sysctl_plan(&f, "net.ipv4.ip_forward", &err), 0));
	cr_assert(eq(str, err.msg,
		     "sysctl \"net.ipv4.ip_forward\" not allowed in host network namespace"));
	/* A new ipc and no uts namespace. */
	f.ns[2] = (struct husk_namespace){HUSK_NS_IPC, NULL};
	f.spec.hostname = NULL;
	cr_assert(eq(int, sysctl_plan(&f, "kernel.msgmax", &err), 0), "%s", err.msg);
	cr_assert(lt(int, sysctl_plan(&f, "kernel.domainname", &err), 0));
	cr_assert(eq(str, err.msg,
		     "sysctl \"kernel.domainname\" is not in a separate kernel namespace"));
}

/* linux.mountLabel as runc 1.1.5 formats it: context="..." after the data of the mounts
 * that take it (tmpfs, devpts, ...), not on proc, sysfs, mqueue, cgroup or a bind. */
Test(plan, mount_label_goes_into_the_data_of_new_filesystems)
{
	struct fixture f;
	struct husk_gofer_plan gp;
	struct husk_init_plan ip;
	struct husk_err err = {0};
	const char *label = "system_u:object_r:container_file_t:s0:c1,c2";

	fixture_init(&f);
	f.lx.mount_label = (char *)label;
	cr_assert(eq(int, husk__gofer_plan_build(&f.spec, "/bundle", NULL, 0, &gp, &err), 0), "%s",
		  err.msg);
	cr_assert(
		eq(str, gp.mounts[0].data,
		   "mode=755,size=65536k,context=\"system_u:object_r:container_file_t:s0:c1,c2\""));
	cr_assert(eq(ptr, gp.mounts[1].data, NULL), "a bind has no data of its own");
	husk__gofer_plan_done(&gp);

	cr_assert(eq(int, husk__init_plan_build(&f.spec, &ip, &err), 0), "%s", err.msg);
	cr_assert(eq(sz, ip.n_mounts, (size_t)2));
	cr_assert(eq(str, (char *)ip.mounts[0].fstype, "proc"));
	cr_assert(eq(ptr, ip.mounts[0].data, NULL), "proc takes no label");
	cr_assert(eq(str, (char *)ip.mounts[1].fstype, "devpts"));
	cr_assert(eq(str, ip.mounts[1].data,
		     "context=\"system_u:object_r:container_file_t:s0:c1,c2\""));
	cr_assert(eq(str, ip.cgroup_tmpfs_data,
		     "mode=755,context=\"system_u:object_r:container_file_t:s0:c1,c2\""));
	cr_assert(eq(str, ip.masked_dir_data,
		     "context=\"system_u:object_r:container_file_t:s0:c1,c2\""));
	husk__init_plan_done(&ip);

	f.lx.mount_label = (char *)"";
	cr_assert(eq(int, husk__init_plan_build(&f.spec, &ip, &err), 0), "%s", err.msg);
	cr_assert(eq(ptr, ip.mounts[1].data, NULL), "an empty label is none");
	cr_assert(eq(str, ip.cgroup_tmpfs_data, "mode=755"));
	cr_assert(eq(ptr, ip.masked_dir_data, NULL));
	husk__init_plan_done(&ip);
}

Test(plan, process_labels_are_carried_and_the_host_is_not_asked)
{
	struct fixture f;
	struct husk_proc_plan pp;
	struct husk_err err = {0};

	fixture_init(&f);
	f.proc.apparmor_profile = (char *)"cri-containerd.apparmor.d";
	f.proc.selinux_label = (char *)"system_u:system_r:container_t:s0:c1,c2";
	cr_assert(eq(int, husk__proc_plan_build(&f.proc, &pp, &err), 0), "%s", err.msg);
	cr_assert(eq(str, (char *)pp.apparmor_profile, "cri-containerd.apparmor.d"));
	cr_assert(eq(str, (char *)pp.selinux_label, "system_u:system_r:container_t:s0:c1,c2"));
	/* The engine fills in what the host runs. */
	cr_assert(not(pp.lsm.apparmor));
	cr_assert(not(pp.lsm.selinux));
	husk__proc_plan_done(&pp);
}
