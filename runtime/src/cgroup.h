/*
 * Container cgroups, a runtime-wide service used by both engines and the core: host layout
 * detection (v1, v2, hybrid), cgroup paths (cgroupfs and systemd forms), creation,
 * resources, entering, pids, freezer, kill-all, stats, OOM notification and removal.
 *
 * Every cgroup path here is "cgroupfs form relative to a hierarchy's root": it starts with
 * '/', has no "." or ".." components and no empty components, and names the same directory
 * in every hierarchy (v1 controllers, name=systemd, and the unified tree on hybrid hosts).
 * That string is what the state file records.
 *
 * File access goes through dirfds (openat), so the parsers and writers can be pointed at a
 * fake cgroupfs tree; the pure parsers take buffers.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/types.h>

#include "husk/cgroup.h"

/* Mounted hierarchies a host may have (v1 controllers, named ones, the unified tree). */
#define HUSK_CG_MAX_HIER 20

struct husk_err;
struct husk_resources;
struct husk_device_rule;

enum husk_cgroup_mode {
	HUSK_CGROUP_MODE_NONE = 0,
	HUSK_CGROUP_MODE_V1,	 /* v1 controllers only */
	HUSK_CGROUP_MODE_HYBRID, /* v1 controllers plus a cgroup2 tree (usually controller-less) */
	HUSK_CGROUP_MODE_V2,	 /* unified: one cgroup2 tree holds every controller */
};

/* "v1", "hybrid", "v2"; NULL when out of range. */
const char *husk__cgroup_mode_to_string(enum husk_cgroup_mode mode);

/* Controllers husk knows, v1 and v2 names mapped to one set (v1 blkio = v2 io). */
enum husk_cgroup_ctrl {
	HUSK_CG_CPU = 0,
	HUSK_CG_CPUACCT, /* v1 only; v2 accounts in cpu.stat */
	HUSK_CG_CPUSET,
	HUSK_CG_MEMORY,
	HUSK_CG_DEVICES, /* v1 only; v2 uses a BPF program */
	HUSK_CG_FREEZER, /* v1 only; v2 has cgroup.freeze */
	HUSK_CG_BLKIO,	 /* v1 blkio, v2 io */
	HUSK_CG_PIDS,
	HUSK_CG_HUGETLB,
	HUSK_CG_NET_CLS,
	HUSK_CG_NET_PRIO,
	HUSK_CG_PERF_EVENT,
	HUSK_CG_RDMA,
	HUSK_CG_MISC,
	HUSK_CG_NAME_SYSTEMD, /* the v1 "name=systemd" named hierarchy */
	_HUSK_CG_CTRL_MAX,
};

/* v1 name of a controller ("cpu", "blkio", "name=systemd", ...); NULL out of range. */
const char *husk__cgroup_ctrl_to_string(enum husk_cgroup_ctrl ctrl);
/* v1 or v2 name → controller ("io" → HUSK_CG_BLKIO); -EINVAL when unknown. */
int husk__cgroup_ctrl_from_string(const char *name);

/* ---- host layout -------------------------------------------------------------------- */

/* The detected layout: mode, the mounted hierarchies and a dirfd on each mount point. */
struct husk_cgroup_host;

/*
 * Detect the layout from mountinfo text (the contents of /proc/self/mountinfo): every
 * "cgroup" mount with its controllers (a hierarchy co-mounting cpu,cpuacct serves both) and
 * the "cgroup2" mount. root_prefix ("" for the real host) is prepended to each mount point
 * before it is opened, so tests can point the host at a fake tree. When several mounts of
 * one hierarchy exist, the first one wins. On a v2 host the controllers are those listed in
 * the root's cgroup.controllers.
 * Errors: HUSK_ERR_NOT_FOUND (no cgroup mount at all), HUSK_ERR_INVALID (unparsable text),
 * HUSK_ERR_INTERNAL (a mount point cannot be opened).
 * *ret is the caller's (husk__cgroup_host_free()).
 */
int husk__cgroup_host_open(const char *mountinfo, size_t len, const char *root_prefix,
			   struct husk_cgroup_host **ret, struct husk_err *err);

/*
 * The real host, detected once per process from /proc/self/mountinfo and kept for the
 * process's lifetime (borrowed: never free it). Later calls return the same object.
 */
int husk__cgroup_host_get(struct husk_cgroup_host **ret, struct husk_err *err);

struct husk_cgroup_host *husk__cgroup_host_free(struct husk_cgroup_host *host);

enum husk_cgroup_mode husk__cgroup_host_mode(const struct husk_cgroup_host *host);

/* True when the controller can be used: a v1 hierarchy for it, or on v2 listed in the root's
 * cgroup.controllers. Freezer is true on v2 (cgroup.freeze), devices on v2 (BPF). */
bool husk__cgroup_host_has(const struct husk_cgroup_host *host, enum husk_cgroup_ctrl ctrl);

/* ---- paths ------------------------------------------------------------------------------ */

/*
 * Turn linux.cgroupsPath into a cgroup path (see the top of this file).
 * - systemd = false: cgroupfs form. "/a/b" is absolute; "a/b" is relative to own_cgroup (the
 *   caller's cgroup, see husk__cgroup_own_path()). Components "." and ".." and empty ones
 *   are refused.
 * - systemd = true: "slice:prefix:name" as runc reads it: "system.slice:docker:abc" →
 *   "/system.slice/docker-abc.scope"; a slice "a-b.slice" nests as "/a.slice/a-b.slice";
 *   an empty slice is "system.slice"; a name ending in ".slice" is itself a slice (the prefix
 *   is then ignored) and is nested under the given slice.
 * - cgroups_path = NULL: "/husk/<container_id>" (cgroupfs) or the systemd form
 *   "system.slice:husk:<container_id>", i.e. "/system.slice/husk-<container_id>.scope".
 * A malformed path is HUSK_ERR_INVALID naming the form that was expected.
 * *ret_path is malloc'ed and the caller's.
 */
int husk__cgroup_path_resolve(const char *cgroups_path, bool systemd, const char *container_id,
			      const char *own_cgroup, char **ret_path, struct husk_err *err);

/*
 * The caller's own cgroup from /proc/self/cgroup text: the unified ("0::") entry on v2 and
 * hybrid hosts, else the name=systemd entry, else the first controller line.
 * *ret_path is malloc'ed. HUSK_ERR_INVALID when the text has no usable line.
 */
int husk__cgroup_own_path_parse(const char *proc_cgroup, size_t len, enum husk_cgroup_mode mode,
				char **ret_path, struct husk_err *err);

/* husk__cgroup_own_path_parse() on /proc/self/cgroup. */
int husk__cgroup_own_path(enum husk_cgroup_mode mode, char **ret_path, struct husk_err *err);

/* ---- a container's cgroup ------------------------------------------------------------- */

struct husk_cgroup;

/*
 * Create the cgroup (mkdir -p) in every hierarchy of the host (v1 and hybrid: every v1
 * hierarchy and the unified tree; v2: the unified tree, enabling the controllers in
 * cgroup.subtree_control of each ancestor). An existing directory is reused. On failure
 * whatever this call created is removed again. host is borrowed and must outlive the cgroup.
 * *ret is the caller's (husk__cgroup_free()).
 */
int husk__cgroup_create(struct husk_cgroup_host *host, const char *path, struct husk_cgroup **ret,
			struct husk_err *err);

/*
 * Open an existing cgroup (after a shim restart, or for delete). Hierarchies in which the
 * directory is missing are skipped; missing everywhere is HUSK_ERR_NOT_FOUND.
 */
int husk__cgroup_open(struct husk_cgroup_host *host, const char *path, struct husk_cgroup **ret,
		      struct husk_err *err);

/* Close the handle (the cgroup stays). NULL allowed; returns NULL. */
struct husk_cgroup *husk__cgroup_free(struct husk_cgroup *cg);

const char *husk__cgroup_path(const struct husk_cgroup *cg);
enum husk_cgroup_mode husk__cgroup_mode(const struct husk_cgroup *cg);

/*
 * Apply resources (from the spec at create, or from Update). Nothing is written until the
 * whole request has been checked: a resource the host cannot apply (controller absent, a
 * v1-only knob on v2, a unified key on v1) fails with HUSK_ERR_INVALID naming it, e.g.
 * "memory.kernel: not supported by cgroup v2". A write refused by the kernel is
 * HUSK_ERR_INVALID (EINVAL, ERANGE, EOPNOTSUPP) or HUSK_ERR_INTERNAL, naming file and value.
 * Order is the kernel's: memory limit before memory+swap when growing, and after when
 * shrinking; cpuset.cpus/mems before anything runs.
 */
int husk__cgroup_apply(struct husk_cgroup *cg, const struct husk_resources *res,
		       struct husk_err *err);

/* Move pid into the cgroup in every hierarchy (cgroup.procs). */
int husk__cgroup_enter(struct husk_cgroup *cg, pid_t pid, struct husk_err *err);

/*
 * On v2: a dirfd (O_PATH|O_DIRECTORY|O_CLOEXEC) of the cgroup for clone3's CLONE_INTO_CGROUP,
 * owned by cg (borrowed; valid until husk__cgroup_free()). On v1 and hybrid: -1, because
 * CLONE_INTO_CGROUP would only place the child in the unified tree; use the procs fds.
 */
int husk__cgroup_clone_fd(const struct husk_cgroup *cg);

/*
 * For a child that must enter the cgroup itself between fork and exec: open cgroup.procs of
 * every hierarchy O_WRONLY|O_CLOEXEC. *ret_fds (malloc'ed array of *ret_n fds) is the
 * caller's; close each and free the array (husk__cgroup_procs_fds_close()).
 */
int husk__cgroup_procs_fds_open(struct husk_cgroup *cg, int **ret_fds, size_t *ret_n,
				struct husk_err *err);
void husk__cgroup_procs_fds_close(int *fds, size_t n);

/* Async-signal-safe (child side): write "0" (the writer itself) to each fd. Returns 0 or
 * -errno of the first failure. */
int husk__cgroup_enter_self(const int *fds, size_t n);

/*
 * How a new child joins cg without the parent moving it by pid. Moving a process by pid
 * (cgroup.procs) takes the kernel's global cgroup_threadgroup_rwsem for writing, which waits
 * for an RCU grace period (about 12 ms on an idle host, more under load) unless cgroup2 is
 * mounted with favordynmods. Two ways avoid it: clone3's CLONE_INTO_CGROUP (the unified
 * tree, on v2 and hybrid hosts) and a thread moving itself ("0" to a v1 hierarchy's `tasks`),
 * which the kernel does under cgroup_mutex alone; a child that is single-threaded (all of
 * ours) moves its whole process that way. Without clone3 (a seccomp profile refuses it) there
 * is no CLONE_INTO_CGROUP: the child writes itself into the unified cgroup's cgroup.procs.
 */
struct husk_cgroup_join {
	int clone_fd;		   /* the unified cgroup for CLONE_INTO_CGROUP (borrowed), or -1 */
	int fds[HUSK_CG_MAX_HIER]; /* `tasks` of every v1 hierarchy cg is in, and the unified
				      cgroup.procs without CLONE_INTO_CGROUP (owned) */
	size_t n;
};

/* Open what the child needs (O_CLOEXEC; donate the fds): 0, or a HUSK_ERR_INTERNAL error
 * naming the file. j is left with nothing open on failure. */
int husk__cgroup_join_open(const struct husk_cgroup *cg, struct husk_cgroup_join *j,
			   struct husk_err *err);
void husk__cgroup_join_done(struct husk_cgroup_join *j);

/*
 * Every pid in the cgroup and its descendants, read from cgroup.procs (the unified tree on
 * v2; on v1/hybrid one v1 hierarchy: pids, freezer, memory, else any). Iterative, bounded by
 * HUSK_CGROUP_MAX_PIDS. Deduplicated, in no particular order. *ret_pids is malloc'ed (NULL
 * when *ret_n is 0) and the caller's.
 */
#define HUSK_CGROUP_MAX_PIDS (1u << 20)
int husk__cgroup_pids(struct husk_cgroup *cg, pid_t **ret_pids, size_t *ret_n,
		      struct husk_err *err);

/*
 * Freeze (frozen = true) or thaw the cgroup and its descendants, waiting until the kernel
 * reports the state (v1 freezer.state FROZEN/THAWED; v2 cgroup.events "frozen 1"/"frozen 0"),
 * at most timeout_ms. On a freeze timeout the cgroup is thawed again and the error is
 * HUSK_ERR_INTERNAL (ETIMEDOUT). No freezer on the host: HUSK_ERR_PRECONDITION.
 */
int husk__cgroup_freeze(struct husk_cgroup *cg, bool frozen, int timeout_ms, struct husk_err *err);

/* Current freezer state: true when frozen. */
int husk__cgroup_is_frozen(struct husk_cgroup *cg, bool *ret_frozen, struct husk_err *err);

/*
 * Signal every process of the cgroup (descendants included) so that none escapes by forking:
 * v2 with SIGKILL writes cgroup.kill; otherwise freeze, signal each pid through a pidfd,
 * thaw (thawing only if it was not frozen before the call). Processes that exit meanwhile
 * are skipped. A cgroup with no freezer (no freezer hierarchy holds it) is signalled
 * unfrozen, as runc does when it cannot freeze. Returns the number of processes signalled.
 */
int husk__cgroup_kill_all(struct husk_cgroup *cg, int sig, int timeout_ms, struct husk_err *err);

/* Read the statistics (mode V1 on v1/hybrid, V2 on v2). Missing controllers leave their
 * group absent; a missing cgroup is HUSK_ERR_NOT_FOUND. */
int husk__cgroup_stats(struct husk_cgroup *cg, struct husk_cgroup_stats *ret, struct husk_err *err);

/*
 * OOM notification. The first call creates the fd (v1: an eventfd registered through
 * cgroup.event_control on memory.oom_control; v2: inotify IN_MODIFY on memory.events). The
 * fd is non-blocking, owned by cg (borrowed by the caller, valid until husk__cgroup_free());
 * poll it for POLLIN. The oom_kill baseline is the counter when the handle was created or
 * opened, so kills before that are never reported. No memory controller:
 * HUSK_ERR_PRECONDITION.
 */
int husk__cgroup_oom_fd(struct husk_cgroup *cg, struct husk_err *err);

/*
 * Drain the OOM fd (if any) and read oom_kill (v1 memory.oom_control, v2 memory.events).
 * *ret_oom is true when it grew since the previous check (or since the baseline). Safe to
 * call whether or not the fd is readable. A cgroup that is gone reports false.
 */
int husk__cgroup_oom_check(struct husk_cgroup *cg, bool *ret_oom, struct husk_err *err);

/*
 * Remove the cgroup and every nested cgroup in each hierarchy, bottom-up, retrying EBUSY
 * while dying processes leave, at most timeout_ms. Idempotent on what is gone. The handle
 * is still to be freed. Live processes in it: HUSK_ERR_PRECONDITION (EBUSY) after the wait.
 */
int husk__cgroup_destroy(struct husk_cgroup *cg, int timeout_ms, struct husk_err *err);

/* Same, by path, for cleanup with no handle (a state file's cgroup_path). */
int husk__cgroup_destroy_path(struct husk_cgroup_host *host, const char *path, int timeout_ms,
			      struct husk_err *err);

/* ---- pure helpers (unit-tested) ------------------------------------------------------ */

/* v1 cpu.shares [2, 262144] → v2 cpu.weight [1, 10000], the formula runc and crun use;
 * 0 means unset and maps to 0. */
uint64_t husk__cgroup_shares_to_weight(uint64_t shares);
/* v1 blkio.weight [10, 1000] → v2 io.weight [1, 10000]; 0 maps to 0. */
uint64_t husk__cgroup_blkio_weight_to_io(uint64_t weight);

/* One write of a resource plan. */
struct husk_cgroup_write {
	enum husk_cgroup_ctrl ctrl; /* hierarchy (v1) or owning controller (v2) */
	const char *resource;	    /* OCI name for messages: "memory.limit", "cpu.cpus" */
	char file[64];		    /* "memory.limit_in_bytes", "cpu.max" */
	char *value;		    /* malloc'ed */
};

struct husk_cgroup_plan {
	struct husk_cgroup_write *writes;
	size_t n_writes;
	/* v2 device rules: a BPF program replaces the previous one (rules borrowed from res) */
	bool devices_bpf;
	const struct husk_device_rule *device_rules;
	size_t n_device_rules;
};

/*
 * Compute the writes for res on a host of this mode with these controllers (bit i set =
 * controller i usable). v1 memory ordering against the current limit needs cur_mem_limit
 * (v1 memory.limit_in_bytes now; UINT64_MAX when unknown). Errors as husk__cgroup_apply().
 * ret is filled on success; release it with husk__cgroup_plan_done().
 */
int husk__cgroup_plan_build(enum husk_cgroup_mode mode, uint32_t ctrl_mask,
			    const struct husk_resources *res, uint64_t cur_mem_limit,
			    struct husk_cgroup_plan *ret, struct husk_err *err);
void husk__cgroup_plan_done(struct husk_cgroup_plan *plan);

/* Pure parsers of cgroup file contents (buf need not be NUL-terminated). Unknown keys are
 * ignored; a malformed number is HUSK_ERR_INVALID naming the key. */
int husk__cgroup_parse_v1_memory_stat(const char *buf, size_t len,
				      struct husk_cgroup_memory_stats *ret, struct husk_err *err);
int husk__cgroup_parse_v2_memory_stat(const char *buf, size_t len,
				      struct husk_cgroup_memory_stats *ret, struct husk_err *err);
/* v1 memory.oom_control: oom_kill_disable, under_oom, oom_kill. */
int husk__cgroup_parse_oom_control(const char *buf, size_t len,
				   struct husk_cgroup_memory_stats *ret, struct husk_err *err);
/* v2 memory.events: low, high, max, oom, oom_kill. */
int husk__cgroup_parse_memory_events(const char *buf, size_t len,
				     struct husk_cgroup_memory_stats *ret, struct husk_err *err);
/* v1 cpuacct.usage_percpu (space-separated ns). */
int husk__cgroup_parse_percpu(const char *buf, size_t len, struct husk_cgroup_cpu_stats *ret,
			      uint32_t *truncated, struct husk_err *err);
/* v1 cpuacct.stat: "user <ticks>", "system <ticks>" → ns with the given clock ticks/s. */
int husk__cgroup_parse_cpuacct_stat(const char *buf, size_t len, long ticks_per_sec,
				    struct husk_cgroup_cpu_stats *ret, struct husk_err *err);
/* cpu.stat: v1 (nr_periods, nr_throttled, throttled_time ns) or v2 (usage_usec, user_usec,
 * system_usec, nr_periods, nr_throttled, throttled_usec, nr_bursts, burst_usec: usec → ns). */
int husk__cgroup_parse_cpu_stat(const char *buf, size_t len, bool v2,
				struct husk_cgroup_cpu_stats *ret, struct husk_err *err);
/* v1 blkio.*_recursive: "MAJ:MIN Op value" lines and "Total value". */
/* Where parsed blkio entries go: up to max in entries, counted in *n; *truncated counts the
 * entries that did not fit. */
struct husk_cgroup_blkio_out {
	struct husk_cgroup_blkio_entry *entries;
	uint32_t max;
	uint32_t *n;
	uint32_t *truncated;
};
int husk__cgroup_parse_blkio(const char *buf, size_t len, const struct husk_cgroup_blkio_out *out,
			     struct husk_err *err);
/* v2 io.stat: "MAJ:MIN rbytes=.. wbytes=.. rios=.. wios=.. ..." lines. */
int husk__cgroup_parse_io_stat(const char *buf, size_t len, struct husk_cgroup_io_stats *ret,
			       uint32_t *truncated, struct husk_err *err);
/* *.pressure: "some avg10=.. avg60=.. avg300=.. total=.." and "full ..." lines. */
int husk__cgroup_parse_psi(const char *buf, size_t len, struct husk_cgroup_psi *ret,
			   struct husk_err *err);
/* A single number, or "max" → UINT64_MAX (pids.max, memory.max, hugetlb.*.max). */
int husk__cgroup_parse_u64(const char *buf, size_t len, uint64_t *ret);
/* A "<key> <value>" line's value for key in a flat keyed file; -ENOENT when absent. */
int husk__cgroup_parse_keyed(const char *buf, size_t len, const char *key, uint64_t *ret);

/* ---- v2 device program (cgroup_devices_bpf.c) ------------------------------------------- */

/* Maximum number of rules a device program accepts. */
#define HUSK_CGROUP_MAX_DEVICE_RULES 512

/*
 * Build the BPF_PROG_TYPE_CGROUP_DEVICE instructions for rules (OCI semantics: the last
 * matching rule wins; no match denies). *ret_insns (struct bpf_insn array, as uint64_t
 * words) is malloc'ed and the caller's. Pure.
 */
int husk__cgroup_devices_bpf_build(const struct husk_device_rule *rules, size_t n,
				   uint64_t **ret_insns, size_t *ret_n_insns, struct husk_err *err);

/* Load the program and attach it to the cgroup dirfd with BPF_F_ALLOW_MULTI, replacing a
 * program this function attached before (found through BPF_PROG_QUERY). */
int husk__cgroup_devices_bpf_apply(int cgroup_dirfd, const struct husk_device_rule *rules, size_t n,
				   struct husk_err *err);
