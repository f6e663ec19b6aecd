/*
 * Exit bookkeeping (pure logic, no I/O): the pid table, the order in which exits are
 * published, and exits of pids that are not registered yet.
 *
 * Order, as containerd-shim-runc-v2 >= 1.6.36 does it (protocol.md 5.7):
 *  - an exec's exit is published when it is reaped;
 *  - the init's exit is held back until every running exec of its container has exited
 *    and been published; when the init is reaped its container's other processes are
 *    killed (init_exited), which is what makes those execs exit.
 * The task layer publishes /tasks/start and /tasks/exec-started before it returns to the
 * loop, and the reaper only runs on the loop, so a start event always precedes the exit.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <sys/types.h>

enum shim_proc_kind {
	SHIM_PROC_INIT = 0,
	SHIM_PROC_EXEC,
	SHIM_PROC_HELPER, /* a process of the shim's own (a logging binary) */
	SHIM_PROC_WORKER, /* a worker running the runtime core off the loop (worker.h) */
};

/* Per container: embedded in the task layer's container. */
struct shim_exit_group {
	struct shim_proc_node *init;
	unsigned running_execs; /* registered, not yet reaped */
	bool init_reaped;	/* the init's exit was seen (published or held back) */
	bool killing;	/* init_exited's kill of the rest runs (off the loop): the exit waits */
	unsigned holds; /* jobs on the container in flight (job.h): the exit waits */
};

/* Per process: embedded in the task layer's process. */
struct shim_proc_node {
	struct shim_proc_node *next; /* pid table chain */
	enum shim_proc_kind kind;
	struct shim_exit_group *group; /* NULL for helpers and workers */
	pid_t pid;
	uint64_t start_time; /* to tell a stashed exit of an older process with that pid */
	bool registered;
	bool reaped;	/* exit seen */
	bool published; /* publish() was called */
	int wait_status;
	int64_t exited_ns;
};

struct shim_exits_ops {
	/* The init was reaped: kill what is left of its container. */
	void (*init_exited)(void *userdata, struct shim_exit_group *group);
	/* An init or exec exit is final, in order: record it, publish it, answer Waits. */
	void (*publish)(void *userdata, struct shim_proc_node *node);
	/* A helper or a worker exited. */
	void (*helper_exited)(void *userdata, struct shim_proc_node *node);
	/* Whether pid still exists with this start time (not reaped, not recycled). */
	bool (*alive)(void *userdata, pid_t pid, uint64_t start_time);
};

#define SHIM_EXITS_BUCKETS 64
#define SHIM_EXITS_STASH   32

struct shim_stashed_exit {
	pid_t pid;
	int wait_status;
	int64_t exited_ns;
};

struct shim_exits {
	const struct shim_exits_ops *ops;
	void *userdata;
	struct shim_proc_node *buckets[SHIM_EXITS_BUCKETS];
	unsigned n_registered;
	/* Exits of pids nobody registered: a ring, the oldest overwritten. */
	struct shim_stashed_exit stash[SHIM_EXITS_STASH];
	unsigned n_stash;
	unsigned stash_next;
	uint64_t unknown; /* exits stashed and not (yet) claimed by a registration */
};

void shim_exits_init(struct shim_exits *x, const struct shim_exits_ops *ops, void *userdata);

/* Exit status as containerd wants it: the code, or 128 + signal. */
int shim_exit_status(int wait_status);

/*
 * Register a process whose pid (and start time) is set. An exec counts as running in its
 * group. If an exit for this pid was already reaped and stashed, and the process is gone
 * (ops->alive false), that exit is applied now; a stashed exit while the registered process
 * is still alive belonged to an older process with the same pid and is discarded.
 */
void shim_exits_register(struct shim_exits *x, struct shim_proc_node *node);

/*
 * Forget a process (its table entry). An unreaped exec stops counting as running, which
 * may release a held-back init exit.
 */
void shim_exits_unregister(struct shim_exits *x, struct shim_proc_node *node);

/* The registered node of pid, or NULL. */
struct shim_proc_node *shim_exits_find(const struct shim_exits *x, pid_t pid);

/* The reaper collected pid with wait_status at exited_ns. */
void shim_exits_reaped(struct shim_exits *x, pid_t pid, int wait_status, int64_t exited_ns);

/* The kill init_exited started (group->killing) has ended: the init's exit may go out. */
void shim_exits_killed(struct shim_exits *x, struct shim_exit_group *group);

/* A job on the group's container starts: its init's exit waits until it has ended. */
void shim_exits_hold(struct shim_exit_group *group);

/* That job has ended: the init's exit may go out (once its execs' have). */
void shim_exits_release(struct shim_exits *x, struct shim_exit_group *group);

/* Whether the init of group has exited (new execs must then be refused). */
bool shim_exits_init_gone(const struct shim_exit_group *group);
