/*
 * Work that can take long (a create with its gofer, init hand-off and hooks, an OCI binary's
 * call, a cgroup freeze-kill-wait) runs in a worker: a short-lived process forked from the
 * shim that runs the synchronous runtime core and exits, so the loop never waits on it.
 *
 * The worker is the shim's child and is reaped by the shim's one reaper. Before it exits it
 * sends one report (a result, an error, a payload and some fds) over a SOCK_SEQPACKET pair;
 * the shim acts on it as soon as it comes (or, without one, once the exit is reaped). The
 * worker is a child subreaper: what it started and left running (a container's init, an
 * exec, an OCI runtime's detached processes) stays its child until it exits and then becomes
 * the shim's, so the shim's reaper sees those exits, before or after their registration. No
 * thread is ever made: the shim stays single-threaded.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "husk/err.h"

struct shim_service;
struct shim_proc_node;

#define SHIM_WORKER_MAX_FDS	4
#define SHIM_WORKER_MAX_PAYLOAD ((size_t)128 * 1024)

struct shim_worker_result {
	bool abandoned; /* the shim is exiting: release what the work holds, answer nothing */
	bool reported;	/* false: the worker died without a report (see wait_status) */
	int wait_status;
	int r; /* the work's result: 0 or -errno; err says why */
	struct husk_err err;
	const void *payload; /* valid during the callback */
	size_t len;
	/* The fds sent, each in the slot the worker gave it (-1: none). The callback takes one
	 * by setting its slot to -1; the rest are closed after it. */
	int fds[SHIM_WORKER_MAX_FDS];
};

/* Child side: the work. It sends its report with shim_worker_report(); the return value is
 * the worker's exit code. */
typedef int shim_worker_fn(void *arg, int report_fd);

/* Shim side, on the loop: the worker reported, or exited without a report (or the shim is
 * exiting). */
typedef void shim_worker_done_fn(void *userdata, struct shim_worker_result *res);

struct shim_worker_spec {
	const char *name; /* the child's comm, e.g. "husk:[create]" */
	shim_worker_fn *fn;
	void *arg;
	/* fds the work needs besides 0, 1, 2 and the report socket (the init's stdio); every
	 * other fd the loop watches is closed in the child */
	const int *keep;
	size_t n_keep;
	shim_worker_done_fn *done;
	void *userdata;
};

/* Fork a worker running spec->fn(spec->arg); spec->done runs exactly once afterwards
 * (unless this fails). */
int shim_worker_start(struct shim_service *svc, const struct shim_worker_spec *spec,
		      struct husk_err *err);

/* What a worker reports. */
struct shim_worker_report {
	int r;
	const struct husk_err *err; /* NULL: none */
	const void *payload;	    /* up to SHIM_WORKER_MAX_PAYLOAD bytes */
	size_t len;
	const int *fds; /* up to SHIM_WORKER_MAX_FDS, in slots; -1: none */
	size_t n_fds;
};

/* Child side: send the one report over fd. 0 or -errno. */
int shim_worker_report(int fd, const struct shim_worker_report *rep);

/* The reaper reaped a worker (a node of kind SHIM_PROC_WORKER). */
void shim_worker_exited(struct shim_service *svc, struct shim_proc_node *node);

/* The shim is exiting: every worker's done runs with res->abandoned (the workers finish
 * alone). */
void shim_workers_abandon(struct shim_service *svc);
