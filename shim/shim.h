/*
 * The task service's state: containers, their processes, pending Waits. Shared by task.c
 * (the 17 methods), task_exit.c (exits, OOM, deferred deletes) and serve.c (the loop).
 * Everything here lives on the one loop thread.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>
#include <uv.h>

#include "exits.h"
#include "husk/container.h"
#include "husk/err.h"
#include "husk/process.h"

struct shim_publisher;
struct shim_stdio;
struct shim_worker;
struct husk_process;

/* Default runtime state root; HUSK_ROOT overrides it (tests, private instances). */
#define SHIM_RUNTIME_ROOT "/run/containerd/husk"

/* Bounds on what a peer can make us hold. */
#define SHIM_MAX_CONTAINERS	    1024
#define SHIM_MAX_EXECS		    1024 /* per container */
#define SHIM_MAX_WAITERS	    64	 /* per process */
#define SHIM_DELETE_DRAIN_MS	    2000 /* runc waits this long for output on Delete */
#define SHIM_LOGGER_TERM_TIMEOUT_MS 12000

/* ---- the RPC side, implemented by serve.c on top of husk::ttrpc ---- */

/* A request being answered; owned by the RPC layer until replied to or cancelled. */
struct shim_call;

typedef void shim_call_cancel_fn(void *userdata);

/* Reply with a message (NULL: google.protobuf.Empty). Ends the call. */
void shim_call_reply(struct shim_call *call, const ProtobufCMessage *resp);

/* Reply with an error mapped by errmap.c, logged once at error level. Ends the call. */
void shim_call_fail(struct shim_call *call, const struct husk_err *err);

/* For a deferred reply: cb runs (and the call ends) if the connection closes first. */
void shim_call_on_cancel(struct shim_call *call, shim_call_cancel_fn *cb, void *userdata);

/* The method name, for logs. */
const char *shim_call_method(const struct shim_call *call);

/* ---- events, implemented by events.c ---- */

/* Queue an event for Events.Forward (ordered, retried; failure to queue is logged). */
void shim_publish(struct shim_publisher *pub, const ProtobufCMessage *event);

/* ---- tasks ---- */

struct shim_waiter {
	struct shim_waiter *next;
	struct shim_process *process;
	struct shim_call *call;
};

/* A Delete waiting for the process's output to drain (bounded by a timer). */
struct shim_pending_delete {
	uv_timer_t timer;
	struct shim_process *process;
	struct shim_call *call; /* NULL once cancelled */
};

struct shim_container;
struct shim_task_method;

/* A call naming a container whose create, delete or init-exit kill is in flight: it runs
 * once that has ended, as the runc shim serialises the calls on one container (not those on the
 * others). */
struct shim_deferred {
	struct shim_deferred *next;
	struct shim_container *ct;
	struct shim_call *call;
	const struct shim_task_method *m;
	ProtobufCMessage *req;
};

struct shim_process {
	struct shim_container *container;
	struct shim_process *next; /* the container's exec list */
	char *exec_id;		   /* NULL for the init */
	struct shim_proc_node node;
	struct husk_child child; /* exec: ours (pidfd owned); init: pid only */
	bool started;
	bool starting; /* an exec whose Start runs in a job (job.h) */
	bool start_failed;
	char *stdin_path;
	char *stdout_path;
	char *stderr_path;
	bool terminal;
	struct husk_process *spec; /* exec: the process spec until started */
	struct shim_stdio *stdio;
	struct shim_logger *logger;
	struct shim_waiter *waiters;
	unsigned n_waiters;
	struct shim_pending_delete *pending_delete;
	int exit_status; /* valid once node.published */
	int64_t exited_ns;
};

/* A binary:// logger: a helper process reaped by our reaper. */
struct shim_logger {
	struct shim_service *svc;
	struct shim_logger *next;
	struct shim_process *owner; /* NULL once its process is gone */
	struct shim_proc_node node;
	struct husk_child child;
	uv_timer_t kill_timer;
	bool timer_active;
	bool exited;
};

struct shim_container {
	struct shim_service *svc;
	struct shim_container *next;
	char *id;
	char *bundle;
	struct husk_runtime *rt;
	struct husk_container *c;
	struct shim_exit_group group;
	struct shim_process init;
	struct shim_process *execs;
	unsigned n_execs;
	uv_poll_t oom_poll;
	bool oom_active;
	unsigned open_handles;
	bool deleted;
	bool orphaned; /* its state was deleted by another process (containerd's `delete`) */
	uv_timer_t gone_timer; /* after the init's exit: watches for that deletion */
	bool gone_active;
	bool creating;	 /* its create runs in a worker; c is NULL until it ends */
	bool deleting;	 /* its delete runs in a worker */
	bool oci_engine; /* an OCI runtime binary runs it: its slow calls go to workers */
	bool busy;	 /* a job on the container runs (job.h): calls naming it wait */
	unsigned n_jobs; /* jobs in flight, an exec's Start included */
	struct shim_deferred *deferred;
};

typedef void shim_shutdown_fn(void *userdata);

struct shim_service {
	uv_loop_t *loop;
	const char *ns;
	struct shim_publisher *pub;
	struct shim_exits exits;
	struct shim_container *containers;
	unsigned n_containers;
	struct shim_logger *loggers;
	struct shim_worker *workers;   /* worker.h */
	shim_shutdown_fn *on_shutdown; /* Shutdown with nothing left: the daemon exits */
	void *userdata;
};

void shim_service_init(struct shim_service *svc, uv_loop_t *loop, const char *ns,
		       struct shim_publisher *pub, shim_shutdown_fn *on_shutdown, void *userdata);

/* Release everything (the daemon is exiting; containers keep running). */
void shim_service_done(struct shim_service *svc);

/* The reaper collected pid. */
void shim_service_reaped(struct shim_service *svc, pid_t pid, int wait_status);

/*
 * Dispatch one request of containerd.task.v2.Task (or v3) by method name: unpack, run,
 * reply (now or later). Unknown methods get Unimplemented "method <name>".
 */
void shim_task_dispatch(struct shim_service *svc, struct shim_call *call, const char *method,
			const uint8_t *payload, size_t len);

/* One method: its name, its request type and its handler (the table is checked against
 * the generated service descriptor by test_task_table.c). */
typedef void shim_task_method_fn(struct shim_service *svc, struct shim_call *call,
				 const ProtobufCMessage *req);

struct shim_task_method {
	const char *name;
	const ProtobufCMessageDescriptor *input;
	shim_task_method_fn *fn;
	bool unimplemented; /* an explicit gap, listed in the README */
};

extern const struct shim_task_method shim_task_methods[];
extern const size_t shim_n_task_methods;

/* ---- shared helpers (task.c, task_exit.c) ---- */

struct shim_container *shim_container_find(struct shim_service *svc, const char *id);
/* Find the container and the process (exec_id "" or NULL: the init). NotFound errors as
 * the runc shim words them. */
int shim_process_find(struct shim_service *svc, const char *id, const char *exec_id,
		      struct shim_container **ret_c, struct shim_process **ret_p,
		      struct husk_err *err);

/* Realtime clock in ns. */
int64_t shim_now_ns(void);

/* Answer every pending Wait of p (its exit is published). */
void shim_process_answer_waiters(struct shim_process *p);

/* Start the Delete of p: now if its output is drained, else when it is (or after 2 s). */
void shim_process_delete(struct shim_service *svc, struct shim_process *p, struct shim_call *call);

/* Watch the container's OOM fd. */
void shim_container_watch_oom(struct shim_container *ct);

/* Hand a logger to the service (registered as a helper, reaped by the reaper); it belongs
 * to owner's stdio. NULL when it could not be tracked (it was killed and reaped). */
struct shim_logger *shim_logger_adopt(struct shim_service *svc, struct shim_process *owner,
				      struct husk_child *child);
/* SIGTERM it now, SIGKILL after 12 s unless it exits. */
void shim_logger_stop(struct shim_logger *l);

/* Free a container whose last process is gone (after its handles close). */
void shim_container_free(struct shim_container *ct);

/* Take a container out of the service (deleted, or its create failed); it is freed once its
 * handles are closed. */
void shim_container_unlink(struct shim_service *svc, struct shim_container *ct);

/* Run the calls that waited for a create to end (the list is the caller's). */
void shim_deferred_run(struct shim_service *svc, struct shim_deferred *list);

/* The exit callbacks task_exit.c gives to shim_exits. */
extern const struct shim_exits_ops shim_exit_ops;
