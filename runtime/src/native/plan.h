/*
 * Plans (STYLE §8.1): everything the native engine's children do, computed from the spec
 * in the parent by pure functions, so the child-side code is a flat list of syscalls and the
 * computation is unit-tested without root. A plan borrows strings from the spec it was made
 * from (the spec must outlive it) and owns only the arrays it builds.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/types.h>

#include "native/lsm.h"

struct husk_err;
struct husk_mount;
struct husk_process;
struct husk_rlimit;
struct husk_spec;
struct husk_kv;
struct husk_id_mapping;
struct husk_seccomp;

/* Who performs a spec mount: the gofer (namespace-independent) or the init (needs the
 * container's pid/net/ipc/cgroup namespace or its devpts instance). */
enum husk_mount_where {
	HUSK_MOUNT_IN_GOFER = 0,
	HUSK_MOUNT_IN_INIT,
};

struct husk_plan_mount {
	const char *source;	   /* bind: absolute host path; else the fs source ("proc") */
	const char *destination;   /* absolute, inside the container; resolved in the rootfs */
	const char *fstype;	   /* NULL for a bind; "cgroup" is expanded by the init */
	unsigned long flags;	   /* MS_* without MS_BIND/MS_REC and propagation */
	unsigned long cleared;	   /* MS_* an option turned off ("rw", "suid"): a bind clears
				    * them on its top mount instead of inheriting the source's */
	unsigned long propagation; /* one of MS_SHARED/SLAVE/PRIVATE/UNBINDABLE, 0 if none */
	bool propagation_rec;
	uint64_t attr_set; /* recursive attributes ("rro", "rnosuid", ...): MOUNT_ATTR_* set */
	uint64_t attr_clr; /* and cleared by mount_setattr(AT_RECURSIVE) after the mount */
	char *data;	   /* fs options (owned), NULL if none; never set for a bind */
	bool bind;
	bool recursive;	    /* rbind */
	bool idmap;	    /* "idmap"/"ridmap": an idmapped bind, with the mappings below */
	bool idmap_rec;	    /* "ridmap": every mount of an rbind, not only its top */
	bool tmpcopyup;	    /* tmpfs filled with what the image has at the destination */
	char *source_owned; /* storage behind source when it was resolved against the bundle */
	enum husk_mount_where where;
	bool ordinary_dir; /* proc, sysfs and /dev: the destination itself must be a directory,
			    * never a link (runc's rule), created when missing */
	/* idmap: the mount's own mappings, else the container's (borrowed from the spec) */
	const struct husk_id_mapping *uid_mappings;
	size_t n_uid_mappings;
	const struct husk_id_mapping *gid_mappings;
	size_t n_gid_mappings;
};

struct husk_plan_device {
	const char *path; /* absolute, under /dev */
	mode_t mode;	  /* S_IFCHR/S_IFBLK/S_IFIFO | permissions */
	dev_t rdev;
	uid_t uid;
	gid_t gid;
};

struct husk_gofer_plan {
	const char *root; /* root.path, absolute: the mount point of the rootfs */
	bool root_readonly;
	/* MS_* for "/" of the gofer's namespace before the binds are cloned: what the
	 * container's view of the host is (rootfsPropagation, else MS_REC | MS_SLAVE, as runc) */
	unsigned long ns_propagation;
	struct husk_plan_mount *rootfs; /* containerd's rootfs mounts, mounted on root */
	size_t n_rootfs;
	struct husk_plan_mount *mounts; /* spec mounts done by the gofer (where == GOFER) */
	size_t n_mounts;
	struct husk_plan_device *devices; /* default devices, then the spec's */
	size_t n_devices;
};

/* Capabilities as bit masks of CAP_* values (all fit below 64). */
struct husk_caps_plan {
	bool set; /* false: leave as is (the spec had no capabilities object: none at all) */
	uint64_t bounding;
	uint64_t effective;
	uint64_t inheritable;
	uint64_t permitted;
	uint64_t ambient;
};

/* The process part, shared by the init and by exec. */
struct husk_proc_plan {
	const char *const *argv; /* NULL-terminated (owned array, borrowed strings) */
	const char *const *envp; /* NULL-terminated (owned array, borrowed strings) */
	const char *cwd;
	const char *path;      /* the env's (last) PATH; NULL without one: a bare argv[0] is
				* then not found, as in runc */
	bool home_from_passwd; /* envp has no HOME (or an empty one): the child adds the
				* user's from the container's /etc/passwd, "/" without one */
	uid_t uid;
	gid_t gid;
	const gid_t *groups;
	size_t n_groups;
	bool set_umask;
	mode_t umask;
	const struct husk_rlimit *rlimits;
	size_t n_rlimits;
	bool no_new_privs;
	bool set_oom_score_adj;
	int oom_score_adj;
	struct husk_caps_plan caps;
	bool terminal;
	unsigned short console_rows;
	unsigned short console_cols;
	const char *apparmor_profile; /* for the execve; NULL or "": none */
	const char *selinux_label;    /* for the execve and the session keyring; NULL or "" */
	struct husk_lsm lsm;	      /* the host's modules: set by the engine, not the plan */
};

/* A namespace to join by path, in join order (user first). */
struct husk_plan_join {
	int clone_flag; /* CLONE_NEW* */
	const char *path;
};

struct husk_init_plan {
	uint64_t clone_flags; /* CLONE_NEW* of the namespaces created */
	struct husk_plan_join joins[8];
	size_t n_joins;
	bool new_userns; /* uid/gid maps are written by the parent */
	const struct husk_id_mapping *uid_mappings;
	size_t n_uid_mappings;
	const struct husk_id_mapping *gid_mappings;
	size_t n_gid_mappings;
	const char *root;		/* where the tree is attached, then pivot_root */
	bool root_readonly;		/* "/" made read-only after every mount */
	struct husk_plan_mount *mounts; /* spec mounts done by the init (where == INIT) */
	size_t n_mounts;
	/* The gofer's mounts with "unbindable"/"runbindable": a clone of the tree would drop
	 * them, so the init sets that propagation once the tree is attached. */
	struct husk_plan_mount *unbindable;
	size_t n_unbindable;
	unsigned long root_propagation; /* for "/" after pivot_root (MS_REC included); 0:
					 * unset, "/" stays the slave the init made it */
	const char *const *masked_paths;
	size_t n_masked_paths;
	/* Data of the tmpfs mounts the init makes itself, with linux.mountLabel (owned):
	 * v1's /sys/fs/cgroup ("mode=755,context=...") and a masked directory's (NULL: none) */
	char *cgroup_tmpfs_data;
	char *masked_dir_data;
	const char *mount_label; /* linux.mountLabel: mqueue's mount point gets it where SELinux
				  * runs (runc); NULL or "": none */
	const char *const *readonly_paths;
	size_t n_readonly_paths;
	const char *hostname; /* NULL: leave */
	const char *domainname;
	const struct husk_kv *sysctl;
	size_t n_sysctl;
	bool set_personality;
	unsigned long personality;
	struct husk_proc_plan proc;
};

/*
 * The gofer's plan: rootfs mounts (containerd's, or none: bind root.path), the spec mounts
 * in spec order that do not need the container's namespaces (binds, tmpfs, other
 * filesystems), the default devices (/dev/null, zero, full, random, urandom, tty) and the
 * spec's. Relative bind sources are resolved against bundle. HUSK_ERR_INVALID names the
 * offending mount ("mounts[3]: ...").
 */
int husk__gofer_plan_build(const struct husk_spec *spec, const char *bundle,
			   const struct husk_mount *rootfs, size_t n_rootfs,
			   struct husk_gofer_plan *ret, struct husk_err *err);
void husk__gofer_plan_done(struct husk_gofer_plan *plan);

/*
 * The init's plan: namespaces to create and to join (user first), the namespace-bound
 * mounts (proc, sysfs, mqueue, devpts, cgroup), root propagation, masked and read-only
 * paths, hostname (requires a uts namespace), sysctl, personality and the process.
 * HUSK_ERR_INVALID for a spec without process, or with values we cannot apply.
 */
int husk__init_plan_build(const struct husk_spec *spec, struct husk_init_plan *ret,
			  struct husk_err *err);
void husk__init_plan_done(struct husk_init_plan *plan);

/* The process part alone (exec): args, env, cwd, user, caps, rlimits, terminal. */
int husk__proc_plan_build(const struct husk_process *process, struct husk_proc_plan *ret,
			  struct husk_err *err);
void husk__proc_plan_done(struct husk_proc_plan *plan);

/* Capability names → masks. An unknown name is HUSK_ERR_INVALID naming it. */
int husk__caps_plan_build(const struct husk_process *process, struct husk_caps_plan *ret,
			  struct husk_err *err);

/*
 * The mount options a plan applies itself (husk__mount_opt_name(): MS_* flags, recursive
 * attributes, propagation, bind and rbind, idmap and ridmap, tmpcopyup): the i-th name, NULL
 * past the end. Any other option is filesystem data, refused on a bind. The features
 * document lists exactly these.
 */
const char *husk__plan_mount_option(size_t i);

/* True when type is mounted by the init (needs the container's namespaces). */
bool husk__mount_type_in_init(const char *type);
