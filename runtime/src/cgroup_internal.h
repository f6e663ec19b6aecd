/*
 * Private to the cgroup_*.c files: the host and cgroup structs, and the small dirfd I/O
 * helpers they share. (runtime/src/fs.h has general helpers; these stay separate because
 * cgroupfs files want exactly one write() per value: the kernel parses each write as one
 * command, so a value must never be split over short writes.)
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cgroup.h"

/* One mounted hierarchy. */
struct husk_cgroup_hier {
	int fd;		/* O_DIRECTORY of the mount point */
	bool v2;	/* the cgroup2 tree */
	uint32_t ctrls; /* bit per enum husk_cgroup_ctrl served by this hierarchy */
	char *mnt;	/* mount point (with the root prefix), for messages */
};

struct husk_cgroup_host {
	enum husk_cgroup_mode mode;
	struct husk_cgroup_hier hier[HUSK_CG_MAX_HIER];
	size_t n_hier;
	bool favordynmods; /* the cgroup2 mount's super options have it */
};

struct husk_cgroup {
	struct husk_cgroup_host *host; /* borrowed */
	char *path;		       /* "/a/b" */
	int dir[HUSK_CG_MAX_HIER];     /* O_DIRECTORY of path in host->hier[i]; -1 when missing */
	int oom_fd;		       /* eventfd (v1) or inotify (v2); -1 until asked for */
	uint64_t oom_last;	       /* oom_kill at the last check */
};

#define HUSK_CG_BIT(c) (1u << (unsigned)(c))

/* Index of the hierarchy serving ctrl (v2: the unified tree when it lists ctrl), or -1. */
int husk__cg_hier_of(const struct husk_cgroup_host *host, enum husk_cgroup_ctrl ctrl);
/* Index of the unified tree, or -1. */
int husk__cg_hier_v2(const struct husk_cgroup_host *host);
/* The cgroup's dirfd for ctrl, or -1 (controller absent or directory missing). */
int husk__cg_dir_of(const struct husk_cgroup *cg, enum husk_cgroup_ctrl ctrl);

/* Read dirfd/file into a malloc'ed NUL-terminated buffer (at most max bytes). -errno. */
int husk__cg_read_alloc(int dirfd, const char *file, size_t max, char **ret, size_t *ret_len);
/* Read a small file into buf (cap bytes, NUL-terminated, trailing newline kept). -errno. */
int husk__cg_read_small(int dirfd, const char *file, char *buf, size_t cap);
/* One number (or "max") from dirfd/file. -errno; -EINVAL when malformed. */
int husk__cg_read_u64(int dirfd, const char *file, uint64_t *ret);
/* Write value with a single write() (open O_WRONLY). -errno. */
int husk__cg_write(int dirfd, const char *file, const char *value);

/* Milliseconds of CLOCK_MONOTONIC. */
int64_t husk__cg_now_ms(void);
/* Sleep for a bounded backoff step (used only where the kernel offers no notification). */
void husk__cg_backoff(unsigned *step);

/* v1 / v2 parts, called by cgroup.c with the mode already checked. */
int husk__cg_v1_freeze(struct husk_cgroup *cg, bool frozen, int timeout_ms, struct husk_err *err);
int husk__cg_v1_is_frozen(struct husk_cgroup *cg, bool *ret, struct husk_err *err);
int husk__cg_v1_stats(struct husk_cgroup *cg, struct husk_cgroup_stats *ret, struct husk_err *err);
int husk__cg_v1_oom_open(struct husk_cgroup *cg, struct husk_err *err);
int husk__cg_v1_oom_count(struct husk_cgroup *cg, uint64_t *ret, struct husk_err *err);

int husk__cg_v2_freeze(struct husk_cgroup *cg, bool frozen, int timeout_ms, struct husk_err *err);
int husk__cg_v2_is_frozen(struct husk_cgroup *cg, bool *ret, struct husk_err *err);
int husk__cg_v2_stats(struct husk_cgroup *cg, struct husk_cgroup_stats *ret, struct husk_err *err);
int husk__cg_v2_oom_open(struct husk_cgroup *cg, struct husk_err *err);
int husk__cg_v2_oom_count(struct husk_cgroup *cg, uint64_t *ret, struct husk_err *err);
int husk__cg_v2_kill(struct husk_cgroup *cg, struct husk_err *err);
int husk__cg_v2_enable_controllers(struct husk_cgroup_host *host, const char *path,
				   struct husk_err *err);
