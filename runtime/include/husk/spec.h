/*
 * The OCI runtime spec (config.json) as plain C structs.
 *
 * Every string is NUL-terminated and owned by the enclosing struct; every array is a pointer
 * plus a count. Optional scalars use the husk_opt_* wrappers so that "absent" and "zero" stay
 * different (OCI gives them different meanings, e.g. memory.swap). Everything is freed by the
 * matching *_free() function; nothing points into the JSON text it was parsed from.
 *
 * Parsing rules (runtime/src/spec*.c):
 * - JSON null is the same as an absent field (Go's encoding/json decodes it so).
 * - Every char ** string array is also NULL-terminated (n + 1 slots), so args and env can go
 *   to execve() as they are; an absent array is NULL with a count of 0.
 * - Integers up to UINT64_MAX are exact (Go writes RLIM_INFINITY as 18446744073709551615).
 * - Mount options are split into mount(2)/mount_setattr(2) terms by husk__mount_opts_parse()
 *   in runtime/src/mount_opts.h (library-internal, used by the native engine's plan).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/types.h>

struct husk_err;

/* Upper bound on a config.json (and on a process/resources JSON from the task API). */
#define HUSK_SPEC_MAX_SIZE (4u << 20)

struct husk_opt_i64 {
	bool set;
	int64_t v;
};

struct husk_opt_u64 {
	bool set;
	uint64_t v;
};

struct husk_kv {
	char *key;
	char *value;
};

/* process.user */
struct husk_user {
	uid_t uid;
	gid_t gid;
	struct husk_opt_u64 umask; /* absent: keep the runtime default (0022) */
	gid_t *additional_gids;
	size_t n_additional_gids;
};

/* process.capabilities: names as in the spec ("CAP_SYS_ADMIN"), validated by the parser. */
struct husk_capabilities {
	bool set; /* absent object: no capabilities at all */
	char **bounding;
	size_t n_bounding;
	char **effective;
	size_t n_effective;
	char **inheritable;
	size_t n_inheritable;
	char **permitted;
	size_t n_permitted;
	char **ambient;
	size_t n_ambient;
};

/* process.rlimits[] */
struct husk_rlimit {
	int resource; /* RLIMIT_* resolved from the "RLIMIT_NOFILE" style name */
	uint64_t hard;
	uint64_t soft;
};

/* process */
struct husk_process {
	bool terminal;
	struct husk_opt_u64 console_height;
	struct husk_opt_u64 console_width;
	struct husk_user user;
	char **args; /* at least one element */
	size_t n_args;
	char **env;
	size_t n_env;
	char *cwd; /* absolute */
	struct husk_capabilities capabilities;
	struct husk_rlimit *rlimits;
	size_t n_rlimits;
	bool no_new_privileges;
	struct husk_opt_i64 oom_score_adj;
	char *apparmor_profile; /* AppArmor profile of the process, "" or NULL: none */
	char *selinux_label;	/* SELinux label of the process (and its keyring) */
};

/* linux.uidMappings[] / gidMappings[] */
struct husk_id_mapping {
	uint32_t container_id;
	uint32_t host_id;
	uint32_t size;
};

/* mounts[] */
struct husk_mount {
	char *destination; /* absolute path inside the container */
	char *type;	   /* may be NULL (bind mounts) */
	char *source;	   /* may be NULL */
	char **options;
	size_t n_options;
	/* OCI 1.1: the idmapping of an "idmap"/"ridmap" bind (containerID → hostID) */
	struct husk_id_mapping *uid_mappings;
	size_t n_uid_mappings;
	struct husk_id_mapping *gid_mappings;
	size_t n_gid_mappings;
};

/* hooks.<kind>[] */
struct husk_hook {
	char *path;
	char **args;
	size_t n_args;
	char **env;
	size_t n_env;
	struct husk_opt_i64 timeout; /* seconds */
};

enum husk_hook_kind {
	HUSK_HOOK_PRESTART = 0,
	HUSK_HOOK_CREATE_RUNTIME,
	HUSK_HOOK_CREATE_CONTAINER,
	HUSK_HOOK_START_CONTAINER,
	HUSK_HOOK_POSTSTART,
	HUSK_HOOK_POSTSTOP,
	_HUSK_HOOK_KIND_MAX,
};

struct husk_hooks {
	struct husk_hook *list[_HUSK_HOOK_KIND_MAX];
	size_t n[_HUSK_HOOK_KIND_MAX];
};

enum husk_ns_type {
	HUSK_NS_PID = 0,
	HUSK_NS_NETWORK,
	HUSK_NS_MOUNT,
	HUSK_NS_IPC,
	HUSK_NS_UTS,
	HUSK_NS_USER,
	HUSK_NS_CGROUP,
	HUSK_NS_TIME,
	_HUSK_NS_TYPE_MAX,
};

/* linux.namespaces[] */
struct husk_namespace {
	enum husk_ns_type type;
	char *path; /* NULL: create a new one; else join (setns) */
};

/* linux.devices[] */
struct husk_device {
	char type; /* 'c', 'b', 'u' or 'p' */
	char *path;
	int64_t major;
	int64_t minor;
	struct husk_opt_u64 file_mode;
	struct husk_opt_u64 uid;
	struct husk_opt_u64 gid;
};

/* linux.resources.devices[] (cgroup device rules) */
struct husk_device_rule {
	bool allow;
	char type;		   /* 'a', 'c' or 'b'; 'a' when absent */
	struct husk_opt_i64 major; /* absent: wildcard */
	struct husk_opt_i64 minor; /* absent: wildcard */
	char access[4];		   /* subset of "rwm"; "rwm" when absent */
};

struct husk_memory_resources {
	struct husk_opt_i64 limit;
	struct husk_opt_i64 reservation;
	struct husk_opt_i64 swap; /* memory+swap, as in OCI */
	struct husk_opt_i64 kernel;
	struct husk_opt_i64 kernel_tcp;
	struct husk_opt_u64 swappiness;
	struct husk_opt_u64 disable_oom_killer; /* bool stored as 0/1 */
	struct husk_opt_u64 use_hierarchy;	/* bool stored as 0/1 */
	struct husk_opt_u64 check_before_update;
};

struct husk_cpu_resources {
	struct husk_opt_u64 shares;
	struct husk_opt_i64 quota;
	struct husk_opt_u64 period;
	struct husk_opt_i64 realtime_runtime;
	struct husk_opt_u64 realtime_period;
	char *cpus; /* NULL when absent */
	char *mems; /* NULL when absent */
	struct husk_opt_i64 idle;
};

struct husk_weight_device {
	int64_t major;
	int64_t minor;
	struct husk_opt_u64 weight;
	struct husk_opt_u64 leaf_weight;
};

struct husk_throttle_device {
	int64_t major;
	int64_t minor;
	uint64_t rate;
};

struct husk_blkio_resources {
	struct husk_opt_u64 weight;
	struct husk_opt_u64 leaf_weight;
	struct husk_weight_device *weight_device;
	size_t n_weight_device;
	struct husk_throttle_device *throttle_read_bps;
	size_t n_throttle_read_bps;
	struct husk_throttle_device *throttle_write_bps;
	size_t n_throttle_write_bps;
	struct husk_throttle_device *throttle_read_iops;
	size_t n_throttle_read_iops;
	struct husk_throttle_device *throttle_write_iops;
	size_t n_throttle_write_iops;
};

struct husk_hugepage_limit {
	char *page_size; /* "2MB", "1GB" */
	uint64_t limit;
};

/* linux.resources; also the payload of the task API's Update (LinuxResources JSON). */
struct husk_resources {
	struct husk_device_rule *devices;
	size_t n_devices;
	bool has_memory;
	struct husk_memory_resources memory;
	bool has_cpu;
	struct husk_cpu_resources cpu;
	struct husk_opt_i64 pids_limit;
	bool has_blkio;
	struct husk_blkio_resources blkio;
	struct husk_hugepage_limit *hugepage_limits;
	size_t n_hugepage_limits;
	struct husk_kv *unified; /* cgroup v2 file → value */
	size_t n_unified;
};

/* linux.seccomp.syscalls[].args[] */
struct husk_seccomp_arg {
	unsigned index;
	uint64_t value;
	uint64_t value_two;
	char *op; /* "SCMP_CMP_EQ", ... validated by the parser */
};

struct husk_seccomp_syscall {
	char **names;
	size_t n_names;
	char *action; /* "SCMP_ACT_ERRNO", ... validated by the parser */
	struct husk_opt_u64 errno_ret;
	struct husk_seccomp_arg *args;
	size_t n_args;
};

struct husk_seccomp {
	char *default_action;
	struct husk_opt_u64 default_errno_ret;
	char **architectures; /* "SCMP_ARCH_X86_64", ... */
	size_t n_architectures;
	char **flags;
	size_t n_flags;
	struct husk_seccomp_syscall *syscalls;
	size_t n_syscalls;
};

struct husk_personality {
	char *domain; /* "LINUX" or "LINUX32" */
	char **flags;
	size_t n_flags;
};

/* linux */
struct husk_linux {
	struct husk_namespace *namespaces;
	size_t n_namespaces;
	struct husk_id_mapping *uid_mappings;
	size_t n_uid_mappings;
	struct husk_id_mapping *gid_mappings;
	size_t n_gid_mappings;
	struct husk_device *devices;
	size_t n_devices;
	char *cgroups_path;		  /* NULL when absent */
	struct husk_resources *resources; /* NULL when absent */
	struct husk_kv *sysctl;
	size_t n_sysctl;
	char **masked_paths;
	size_t n_masked_paths;
	char **readonly_paths;
	size_t n_readonly_paths;
	char *rootfs_propagation;	      /* NULL, "private", "rprivate", "slave", ... */
	struct husk_seccomp *seccomp;	      /* NULL when absent */
	struct husk_personality *personality; /* NULL when absent */
	char *mount_label;		      /* SELinux context= of the container's mounts */
};

struct husk_spec {
	char *oci_version;
	struct husk_process *process; /* NULL when absent (allowed by OCI until start) */
	char *root_path;	      /* absolute after husk_spec_load (resolved against bundle) */
	bool root_readonly;
	char *hostname;
	char *domainname;
	struct husk_mount *mounts;
	size_t n_mounts;
	struct husk_hooks hooks;
	struct husk_kv *annotations;
	size_t n_annotations;
	struct husk_linux *linux_; /* NULL when absent */
};

/*
 * Parse a config.json document of len bytes (not necessarily NUL-terminated).
 * Unknown fields are ignored. A wrong type, a missing required field, an out-of-range value
 * or invalid JSON fails with HUSK_ERR_INVALID and a message naming the JSON path, e.g.
 * "process.args[2]: expected string". On success *ret_spec is the caller's (free with
 * husk_spec_free()); on failure it is untouched.
 */
int husk_spec_parse(const char *json, size_t len, struct husk_spec **ret_spec,
		    struct husk_err *err);

/*
 * Read and parse <bundle>/config.json; root.path is made absolute against bundle (itself
 * made absolute against the cwd when relative). Errors: HUSK_ERR_INVALID (bad content, path
 * named, prefixed with the file: "'/b/config.json': process.args: expected array"),
 * HUSK_ERR_NOT_FOUND (no config.json), HUSK_ERR_INTERNAL (I/O).
 */
int husk_spec_load(const char *bundle, struct husk_spec **ret_spec, struct husk_err *err);

/* Free a spec (NULL allowed); returns NULL. */
struct husk_spec *husk_spec_free(struct husk_spec *spec);

/*
 * Parse a standalone OCI "process" object (the task API's Exec spec). Same error rules; paths
 * start with "process" ("process.args[1]: expected string").
 */
int husk_process_parse(const char *json, size_t len, struct husk_process **ret_process,
		       struct husk_err *err);
struct husk_process *husk_process_free(struct husk_process *process);

/*
 * Parse a standalone OCI "linux.resources" object (the task API's Update payload). Same error
 * rules; paths start with "resources" ("resources.memory.limit: expected integer").
 */
int husk_resources_parse(const char *json, size_t len, struct husk_resources **ret_resources,
			 struct husk_err *err);
struct husk_resources *husk_resources_free(struct husk_resources *resources);

/* Annotation value by key, or NULL. */
const char *husk_spec_annotation(const struct husk_spec *spec, const char *key);

/* The namespace entry of a type, or NULL when the spec does not list it. */
const struct husk_namespace *husk_spec_namespace(const struct husk_spec *spec,
						 enum husk_ns_type type);

/* "pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time"; NULL if out of range. */
const char *husk_ns_type_to_string(enum husk_ns_type type);

/* The hook's key under "hooks" ("prestart", "createRuntime", ...); NULL if out of range. */
const char *husk_hook_kind_to_string(enum husk_hook_kind kind);
