/*
 * A call whose work runs in a worker (worker.h): Start, an exec's Start, Kill with all (or
 * through an OCI runtime binary), Pause, Resume, Update. The loop goes on meanwhile; calls
 * naming the busy container (an exec's Start: that exec) wait until the job ends, as the runc
 * shim serialises the calls on one container, and the container's init exit is held back until
 * then, so a job's event always precedes it.
 *
 * The worker runs on its own copy of the container's handle. Once its report is in, the shim's
 * handle is reloaded from the state file (husk_container_reload) where the work changes the
 * status, and the job's finish runs on the loop: it answers the call (if it is still there) and
 * publishes events.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "husk/err.h"
#include "worker.h"

struct shim_service;
struct shim_container;
struct shim_process;
struct shim_call;
struct shim_job;

/* Worker side: the work on j->ct->c; returns 0 or -errno with err set; may fill the
 * report's payload and fds (rep->r and rep->err are set by the caller). */
typedef int shim_job_work_fn(struct shim_job *j, struct shim_worker_report *rep,
			     struct husk_err *err);

/* Loop side: the work's outcome (r < 0: err says why, including a worker that died without
 * a report). res is NULL when the shim is exiting (release only). */
typedef void shim_job_finish_fn(struct shim_job *j, int r, const struct husk_err *err,
				struct shim_worker_result *res);

struct shim_job {
	struct shim_service *svc;
	struct shim_container *ct;
	struct shim_process *p; /* an exec's Start: that exec; else NULL */
	struct shim_call *call; /* NULL once cancelled */
	const char *what;	/* "start", "kill", … for errors */
	shim_job_work_fn *work;
	shim_job_finish_fn *finish;
	/* The work changes the container's status (Start, Pause, Resume): the shim's handle is
	 * reloaded from the state file before finish. Exec, Kill and Update change none. */
	bool reload;
	/* the work's arguments */
	int sig;		    /* Kill */
	bool all;		    /* Kill */
	bool frozen;		    /* Pause (true), Resume */
	struct husk_resources *res; /* Update: owned by the job */
	int keep[3];		    /* an exec's stdio: kept open in the worker */
	size_t n_keep;
	/* scratch for the work's report */
	uint64_t payload[4];
	int fds[SHIM_WORKER_MAX_FDS];
};

/* A new job on ct for call (p: an exec's Start). NULL: out of memory. */
struct shim_job *shim_job_new(struct shim_container *ct, struct shim_process *p,
			      struct shim_call *call, const char *what, shim_job_work_fn *work,
			      shim_job_finish_fn *finish);

/* Fork its worker; on failure the job is freed and err says why (the call is the caller's). */
int shim_job_start(struct shim_job *j, struct husk_err *err);
