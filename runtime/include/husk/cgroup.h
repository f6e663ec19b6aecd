/*
 * Cgroup statistics of a container, as read from its cgroup files.
 *
 * The shim turns this struct into containerd's io.containerd.cgroups.v1.Metrics (mode
 * HUSK_CGROUP_STATS_V1: cgroup v1 and hybrid hosts) or io.containerd.cgroups.v2.Metrics
 * (mode HUSK_CGROUP_STATS_V2). The fields follow api/proto/cgroups/{v1,v2}/metrics.proto;
 * each group says which message fields it feeds. Groups not filled for a mode stay zero.
 *
 * Units are normalized so the shim need not know the file formats: every time is in
 * nanoseconds (v2 files count microseconds: the reader multiplies by 1000, the shim divides
 * for the v2 message), every size in bytes. A limit of "max" (no limit) is UINT64_MAX.
 *
 * Arrays are fixed-size with a count; entries beyond the bound are dropped and counted in
 * `truncated`. The struct is large (tens of KiB): keep it on the heap or in a static.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define HUSK_CGROUP_STATS_MAX_CPUS    512 /* cpuacct.usage_percpu entries */
#define HUSK_CGROUP_STATS_MAX_BLKIO   64  /* entries per v1 blkio file */
#define HUSK_CGROUP_STATS_MAX_IO      64  /* v2 io.stat devices */
#define HUSK_CGROUP_STATS_MAX_HUGETLB 8	  /* page sizes */

enum husk_cgroup_stats_mode {
	HUSK_CGROUP_STATS_NONE = 0,
	HUSK_CGROUP_STATS_V1 = 1, /* v1 or hybrid host: cgroups.v1.Metrics */
	HUSK_CGROUP_STATS_V2 = 2, /* unified host: cgroups.v2.Metrics */
};

/* One PSI line ("some" or "full") of a *.pressure file. v2 PSIData. */
struct husk_cgroup_psi_data {
	double avg10;
	double avg60;
	double avg300;
	uint64_t total_ns; /* the file's total= (usec) × 1000 */
};

/* A *.pressure file. v2 PSIStats; present is false when the file does not exist. */
struct husk_cgroup_psi {
	bool present;
	struct husk_cgroup_psi_data some;
	struct husk_cgroup_psi_data full; /* absent for cpu.pressure on older kernels: zero */
};

/* pids.current / pids.max. v1 and v2 PidsStat. */
struct husk_cgroup_pids_stats {
	bool present;
	uint64_t current;
	uint64_t limit; /* "max" → UINT64_MAX (the shim writes 0 for v1, as runc does) */
};

/*
 * v1 CPUStat{usage, throttling}; v2 CPUStat (usage_usec, user_usec, system_usec, nr_periods,
 * nr_throttled, throttled_usec, nr_bursts, burst_usec, psi).
 * v1 sources: cpuacct.usage, cpuacct.stat (user/system ticks → ns), cpuacct.usage_percpu,
 * cpu.stat. v2 source: cpu.stat, cpu.pressure.
 */
struct husk_cgroup_cpu_stats {
	bool present;
	uint64_t usage_total_ns;
	uint64_t usage_user_ns;
	uint64_t usage_kernel_ns;
	uint64_t per_cpu_ns[HUSK_CGROUP_STATS_MAX_CPUS]; /* v1 only */
	uint32_t n_per_cpu;
	uint64_t nr_periods;
	uint64_t nr_throttled;
	uint64_t throttled_time_ns;
	uint64_t nr_bursts; /* v2 only */
	uint64_t burst_ns;  /* v2 only */
	struct husk_cgroup_psi psi;
};

/* v1 MemoryEntry: <prefix>.limit_in_bytes, .usage_in_bytes, .max_usage_in_bytes, .failcnt. */
struct husk_cgroup_mem_entry {
	bool present;
	uint64_t limit;
	uint64_t usage;
	uint64_t max;
	uint64_t failcnt;
};

/* v1 memory.stat: MemoryStat fields 1..32, the keys of the same name. */
struct husk_cgroup_v1_memory_stat {
	uint64_t cache;
	uint64_t rss;
	uint64_t rss_huge;
	uint64_t mapped_file;
	uint64_t dirty;
	uint64_t writeback;
	uint64_t pgpgin;
	uint64_t pgpgout;
	uint64_t pgfault;
	uint64_t pgmajfault;
	uint64_t inactive_anon;
	uint64_t active_anon;
	uint64_t inactive_file;
	uint64_t active_file;
	uint64_t unevictable;
	uint64_t hierarchical_memory_limit;
	uint64_t hierarchical_memsw_limit;
	uint64_t total_cache;
	uint64_t total_rss;
	uint64_t total_rss_huge;
	uint64_t total_mapped_file;
	uint64_t total_dirty;
	uint64_t total_writeback;
	uint64_t total_pgpgin;
	uint64_t total_pgpgout;
	uint64_t total_pgfault;
	uint64_t total_pgmajfault;
	uint64_t total_inactive_anon;
	uint64_t total_active_anon;
	uint64_t total_inactive_file;
	uint64_t total_active_file;
	uint64_t total_unevictable;
};

/* v2 memory.stat: MemoryStat fields 1..31 and 39..42, the keys of the same name. */
struct husk_cgroup_v2_memory_stat {
	uint64_t anon;
	uint64_t file;
	uint64_t kernel_stack;
	uint64_t slab;
	uint64_t sock;
	uint64_t shmem;
	uint64_t file_mapped;
	uint64_t file_dirty;
	uint64_t file_writeback;
	uint64_t anon_thp;
	uint64_t inactive_anon;
	uint64_t active_anon;
	uint64_t inactive_file;
	uint64_t active_file;
	uint64_t unevictable;
	uint64_t slab_reclaimable;
	uint64_t slab_unreclaimable;
	uint64_t pgfault;
	uint64_t pgmajfault;
	uint64_t workingset_refault; /* older kernels; newer ones split _anon/_file */
	uint64_t workingset_activate;
	uint64_t workingset_nodereclaim;
	uint64_t pgrefill;
	uint64_t pgscan;
	uint64_t pgsteal;
	uint64_t pgactivate;
	uint64_t pgdeactivate;
	uint64_t pglazyfree;
	uint64_t pglazyfreed;
	uint64_t thp_fault_alloc;
	uint64_t thp_collapse_alloc;
	uint64_t workingset_refault_anon;
	uint64_t workingset_refault_file;
	uint64_t workingset_activate_anon;
	uint64_t workingset_activate_file;
};

/*
 * Memory. v1: MemoryStat with usage (memory.*), swap (memory.memsw.*), kernel
 * (memory.kmem.*), kernel_tcp (memory.kmem.tcp.*) and MemoryOomControl. v2: MemoryStat with
 * usage = usage.usage (memory.current), usage_limit = usage.limit (memory.max), max_usage =
 * usage.max (memory.peak), swap_usage/swap_limit/swap_max_usage = swap.usage/limit/max
 * (memory.swap.current/max/peak), MemoryEvents (memory.events) and psi (memory.pressure).
 * In both modes the v1 names cache and rss are filled too (v2: file and anon), for callers
 * that want one summary whatever the mode.
 */
struct husk_cgroup_memory_stats {
	bool present;
	struct husk_cgroup_mem_entry usage;
	struct husk_cgroup_mem_entry swap;
	struct husk_cgroup_mem_entry kernel;	 /* v1 only */
	struct husk_cgroup_mem_entry kernel_tcp; /* v1 only */
	uint64_t cache;
	uint64_t rss;
	struct husk_cgroup_v1_memory_stat v1;
	struct husk_cgroup_v2_memory_stat v2;
	/* v1 memory.oom_control */
	uint64_t oom_kill_disable;
	uint64_t under_oom;
	/* v1 memory.oom_control oom_kill; v2 memory.events oom_kill */
	uint64_t oom_kill;
	/* v2 memory.events */
	uint64_t events_low;
	uint64_t events_high;
	uint64_t events_max;
	uint64_t events_oom;
	struct husk_cgroup_psi psi;
};

/* v1 BlkIOEntry ("8:0 Read 4096" → op "Read"; "Total" lines have no device: major = minor = 0,
 * op "Total"). The device name is left to the shim (runc leaves it empty too). */
struct husk_cgroup_blkio_entry {
	char op[16];
	uint64_t major;
	uint64_t minor;
	uint64_t value;
};

enum husk_cgroup_blkio_file {
	HUSK_BLKIO_IO_SERVICE_BYTES = 0, /* blkio.io_service_bytes_recursive (or throttle.) */
	HUSK_BLKIO_IO_SERVICED,		 /* blkio.io_serviced_recursive (or throttle.) */
	HUSK_BLKIO_IO_QUEUED,		 /* blkio.io_queued_recursive (CFQ/BFQ only) */
	HUSK_BLKIO_IO_SERVICE_TIME,	 /* blkio.io_service_time_recursive */
	HUSK_BLKIO_IO_WAIT_TIME,	 /* blkio.io_wait_time_recursive */
	HUSK_BLKIO_IO_MERGED,		 /* blkio.io_merged_recursive */
	HUSK_BLKIO_IO_TIME,		 /* blkio.time_recursive */
	HUSK_BLKIO_SECTORS,		 /* blkio.sectors_recursive */
	_HUSK_BLKIO_FILE_MAX,
};

/* v1 BlkIOStat: one list per file, in the message's field order (1..8). */
struct husk_cgroup_blkio_stats {
	bool present;
	struct husk_cgroup_blkio_entry entries[_HUSK_BLKIO_FILE_MAX][HUSK_CGROUP_STATS_MAX_BLKIO];
	uint32_t n_entries[_HUSK_BLKIO_FILE_MAX];
};

/* v2 IOEntry: one io.stat line. */
struct husk_cgroup_io_entry {
	uint64_t major;
	uint64_t minor;
	uint64_t rbytes;
	uint64_t wbytes;
	uint64_t rios;
	uint64_t wios;
};

/* v2 IOStat{usage, psi}. */
struct husk_cgroup_io_stats {
	bool present;
	struct husk_cgroup_io_entry entries[HUSK_CGROUP_STATS_MAX_IO];
	uint32_t n_entries;
	struct husk_cgroup_psi psi;
};

/* v1 HugetlbStat (usage, max = max_usage_in_bytes, failcnt) and v2 HugeTlbStat (current =
 * usage, max = the limit hugetlb.<size>.max). limit is filled in both modes. */
struct husk_cgroup_hugetlb_entry {
	char pagesize[16]; /* "2MB", "1GB", as in the file names */
	uint64_t usage;
	uint64_t max;
	uint64_t limit;
	uint64_t failcnt;
};

struct husk_cgroup_stats {
	enum husk_cgroup_stats_mode mode;
	struct husk_cgroup_pids_stats pids;
	struct husk_cgroup_cpu_stats cpu;
	struct husk_cgroup_memory_stats memory;
	struct husk_cgroup_blkio_stats blkio; /* v1 */
	struct husk_cgroup_io_stats io;	      /* v2 */
	struct husk_cgroup_hugetlb_entry hugetlb[HUSK_CGROUP_STATS_MAX_HUGETLB];
	uint32_t n_hugetlb;
	uint32_t truncated; /* entries dropped because an array was full */
};

struct husk_err;

/* The host's cgroup layout as the runtime detects it (once, from /proc/self/mountinfo). */
struct husk_cgroup_layout {
	const char *mode;     /* "v1", "hybrid" or "v2" */
	unsigned n_v1;	      /* v1 hierarchies mounted (named ones such as name=systemd too) */
	const char *v2_mount; /* the cgroup2 mount point; NULL when none (borrowed, static) */
	bool favordynmods;    /* the cgroup2 mount has favordynmods */
};

/* HUSK_ERR_NOT_FOUND when no cgroup filesystem is mounted. */
int husk_cgroup_layout(struct husk_cgroup_layout *ret, struct husk_err *err);
