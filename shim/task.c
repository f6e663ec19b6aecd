/*
 * containerd.task.v2.Task: lookup, dispatch and the lifecycle methods (Create, Start,
 * Delete, State, Wait, Connect, Shutdown). The other methods are in task_ops.c, exits and
 * deferred work in task_exit.c. Semantics and error kinds follow containerd-shim-runc-v2
 * (protocol.md section 5).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "convert.h"
#include "events/task.pb-c.h"
#include "husk/cleanup.h"
#include "husk/engine_config.h"
#include "husk/id.h"
#include "husk/spec.h"
#include "job.h"
#include "log.h"
#include "runtime/task/v2/shim.pb-c.h"
#include "shim.h"
#include "shim_stdio.h"
#include "wire.h"
#include "worker.h"

int64_t shim_now_ns(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void shim_service_init(struct shim_service *svc, uv_loop_t *loop, const char *ns,
		       struct shim_publisher *pub, shim_shutdown_fn *on_shutdown, void *userdata)
{
	memset(svc, 0, sizeof(*svc));
	svc->loop = loop;
	svc->ns = ns;
	svc->pub = pub;
	svc->on_shutdown = on_shutdown;
	svc->userdata = userdata;
	shim_exits_init(&svc->exits, &shim_exit_ops, svc);
}

struct shim_container *shim_container_find(struct shim_service *svc, const char *id)
{
	for (struct shim_container *ct = svc->containers; ct; ct = ct->next)
		if (!ct->deleted && strcmp(ct->id, id) == 0)
			return ct;
	return NULL;
}

int shim_process_find(struct shim_service *svc, const char *id, const char *exec_id,
		      struct shim_container **ret_c, struct shim_process **ret_p,
		      struct husk_err *err)
{
	struct shim_container *ct = shim_container_find(svc, id ? id : "");

	if (!ct)
		return husk_err_set(err, HUSK_ERR_NOT_FOUND, 0, "container not created");
	if (ret_c)
		*ret_c = ct;
	if (!exec_id || !*exec_id) {
		if (ret_p)
			*ret_p = &ct->init;
		return 0;
	}
	for (struct shim_process *p = ct->execs; p; p = p->next) {
		if (strcmp(p->exec_id, exec_id) == 0) {
			if (ret_p)
				*ret_p = p;
			return 0;
		}
	}
	return husk_err_set(err, HUSK_ERR_NOT_FOUND, 0, "process does not exist %s", exec_id);
}

/* ---- State ---- */

static Containerd__V1__Types__Status process_status(const struct shim_process *p)
{
	const struct shim_container *ct = p->container;
	enum husk_status cs = husk_container_status(ct->c);

	/* runc reports an exec as paused while its container is, even an exited one. */
	if (p->exec_id && cs == HUSK_STATUS_PAUSED)
		return CONTAINERD__V1__TYPES__STATUS__PAUSED;
	if (p->node.reaped || p->start_failed)
		return CONTAINERD__V1__TYPES__STATUS__STOPPED;
	if (p->exec_id)
		return p->started ? CONTAINERD__V1__TYPES__STATUS__RUNNING
				  : CONTAINERD__V1__TYPES__STATUS__CREATED;
	return shim_status_to_proto(cs);
}

static void task_state(struct shim_service *svc, struct shim_call *call,
		       const ProtobufCMessage *msg)
{
	const Containerd__Task__V2__StateRequest *req = (const void *)msg;
	Containerd__Task__V2__StateResponse resp = CONTAINERD__TASK__V2__STATE_RESPONSE__INIT;
	Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	struct shim_container *ct;
	struct shim_process *p;
	struct husk_err err = {0};

	if (shim_process_find(svc, req->id, req->exec_id, &ct, &p, &err) < 0) {
		shim_call_fail(call, &err);
		return;
	}
	resp.id = p->exec_id ? p->exec_id : ct->id;
	resp.bundle = ct->bundle;
	resp.pid = (uint32_t)p->node.pid;
	resp.status = process_status(p);
	resp.stdin = p->stdin_path;
	resp.stdout = p->stdout_path;
	resp.stderr = p->stderr_path;
	resp.terminal = p->terminal;
	resp.exit_status = p->node.published ? (uint32_t)p->exit_status : 0;
	shim_timestamp_set(&ts, p->node.published, p->exited_ns);
	resp.exited_at = &ts;
	shim_call_reply(call, &resp.base);
}

/* ---- Wait ---- */

static void waiter_cancel(void *userdata)
{
	struct shim_waiter *w = userdata;
	struct shim_process *p = w->process;

	for (struct shim_waiter **pp = &p->waiters; *pp; pp = &(*pp)->next) {
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	}
	p->n_waiters--;
	free(w);
}

static void reply_wait(struct shim_call *call, const struct shim_process *p)
{
	Containerd__Task__V2__WaitResponse resp = CONTAINERD__TASK__V2__WAIT_RESPONSE__INIT;
	Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;

	resp.exit_status = (uint32_t)p->exit_status;
	shim_timestamp_set(&ts, true, p->exited_ns);
	resp.exited_at = &ts;
	shim_call_reply(call, &resp.base);
}

void shim_process_answer_waiters(struct shim_process *p)
{
	while (p->waiters) {
		struct shim_waiter *w = p->waiters;
		p->waiters = w->next;
		p->n_waiters--;
		reply_wait(w->call, p);
		free(w);
	}
}

static void task_wait(struct shim_service *svc, struct shim_call *call, const ProtobufCMessage *msg)
{
	const Containerd__Task__V2__WaitRequest *req = (const void *)msg;
	struct shim_process *p;
	struct husk_err err = {0};

	if (shim_process_find(svc, req->id, req->exec_id, NULL, &p, &err) < 0) {
		shim_call_fail(call, &err);
		return;
	}
	if (p->node.published || p->start_failed) {
		reply_wait(call, p);
		return;
	}
	if (p->n_waiters >= SHIM_MAX_WAITERS) {
		(void)husk_err_set(&err, HUSK_ERR_PRECONDITION, 0, "too many waiters on %s",
				   p->exec_id ? p->exec_id : req->id);
		shim_call_fail(call, &err);
		return;
	}
	struct shim_waiter *w = calloc(1, sizeof(*w));
	if (!w) {
		(void)husk_err_errno(&err, ENOMEM, "wait");
		shim_call_fail(call, &err);
		return;
	}
	w->process = p;
	w->call = call;
	w->next = p->waiters;
	p->waiters = w;
	p->n_waiters++;
	shim_call_on_cancel(call, waiter_cancel, w);
}

/* ---- Connect, Shutdown ---- */

static void task_connect(struct shim_service *svc, struct shim_call *call,
			 const ProtobufCMessage *msg)
{
	const Containerd__Task__V2__ConnectRequest *req = (const void *)msg;
	Containerd__Task__V2__ConnectResponse resp = CONTAINERD__TASK__V2__CONNECT_RESPONSE__INIT;
	struct shim_container *ct = shim_container_find(svc, req->id ? req->id : "");

	resp.shim_pid = (uint32_t)getpid();
	resp.task_pid = ct ? (uint32_t)ct->init.node.pid : 0;
	shim_call_reply(call, &resp.base);
}

static void task_shutdown(struct shim_service *svc, struct shim_call *call,
			  const ProtobufCMessage *msg)
{
	(void)msg;
	/* One shim serves a whole pod: Shutdown only ends it once no container is left. */
	shim_call_reply(call, NULL);
	if (svc->n_containers == 0 && svc->on_shutdown)
		svc->on_shutdown(svc->userdata);
}

/* ---- Create ---- */

static int dup_str(const char *s, char **ret)
{
	*ret = strdup(s ? s : "");
	return *ret ? 0 : -ENOMEM;
}

static void engine_config_donep(struct husk_engine_config *c)
{
	husk_engine_config_done(c);
}

/*
 * The engine: runc options' BinaryName (a client's CreateTaskRequest options) or the husk
 * config file named by runtimeoptions' ConfigPath (a CRI runtime of husk's type: containerd
 * 1.6/1.7 send no BinaryName for it). An unreadable or invalid config fails the create.
 */
static int runtime_open(struct shim_service *svc, const struct shim_options *o,
			struct husk_runtime **ret, bool *ret_oci, struct husk_err *err)
{
	_cleanup_(engine_config_donep) struct husk_engine_config ec = {0};
	const char *base = getenv("HUSK_ROOT");
	char root[4096];
	char oci_root[4096];

	if (!base || !*base)
		base = SHIM_RUNTIME_ROOT;
	if (snprintf(root, sizeof(root), "%s/%s", base, svc->ns) >= (int)sizeof(root))
		return husk_err_set(err, HUSK_ERR_INVALID, ENAMETOOLONG, "runtime root");
	/* containerd 1.7 sends a runtime's options table as TOML when ConfigPath is empty. */
	if (!o->config_path && o->config_body_len > 0)
		return husk_err_set(
			err, HUSK_ERR_INVALID, 0,
			"runtime options other than ConfigPath are not supported: name a "
			"husk config file with ConfigPath");
	if (o->config_path) {
		int r = husk_engine_config_load(o->config_path, &ec, err);
		if (r < 0)
			return r;
	}
	const char *binary = o->binary_name ? o->binary_name : ec.binary;
	const char *oroot = o->root ? o->root : ec.root;
	if (ret_oci)
		*ret_oci = binary != NULL;
	struct husk_runtime_config cfg = {
		.root = root,
		.systemd_cgroup = o->systemd_cgroup || ec.systemd_cgroup,
		.no_new_keyring = o->no_new_keyring || ec.no_new_keyring,
		.no_pivot_root = o->no_pivot_root || ec.no_pivot_root,
		.engine = binary ? "oci" : "native",
		.oci_binary = binary,
		.oci_args = (const char *const *)ec.runtime_args,
	};
	/* The OCI runtime's root gets the namespace, as runc's Root does in the runc shim. */
	if (binary && oroot) {
		if (snprintf(oci_root, sizeof(oci_root), "%s/%s", oroot, svc->ns) >=
		    (int)sizeof(oci_root))
			return husk_err_set(err, HUSK_ERR_INVALID, ENAMETOOLONG, "runtime root");
		cfg.oci_root = oci_root;
	}
	return husk_runtime_open(&cfg, ret, err);
}

static struct shim_container *container_new(struct shim_service *svc,
					    const Containerd__Task__V2__CreateTaskRequest *req)
{
	struct shim_container *ct = calloc(1, sizeof(*ct));

	if (!ct)
		return NULL;
	ct->svc = svc;
	ct->init.container = ct;
	ct->init.child = HUSK_CHILD_NULL;
	ct->init.node.kind = SHIM_PROC_INIT;
	ct->init.node.group = &ct->group;
	ct->init.terminal = req->terminal;
	if (dup_str(req->id, &ct->id) < 0 || dup_str(req->bundle, &ct->bundle) < 0 ||
	    dup_str(req->stdin, &ct->init.stdin_path) < 0 ||
	    dup_str(req->stdout, &ct->init.stdout_path) < 0 ||
	    dup_str(req->stderr, &ct->init.stderr_path) < 0) {
		shim_container_free(ct);
		return NULL;
	}
	return ct;
}

static int create_check(struct shim_service *svc,
			const Containerd__Task__V2__CreateTaskRequest *req, struct husk_err *err)
{
	int r = husk_id_check(req->id, "container", err);

	if (r < 0)
		return r;
	if (shim_container_find(svc, req->id))
		return husk_err_set(err, HUSK_ERR_EXISTS, 0, "id %s", req->id);
	if (svc->n_containers >= SHIM_MAX_CONTAINERS)
		return husk_err_set(err, HUSK_ERR_PRECONDITION, 0, "too many containers");
	if (!req->bundle || req->bundle[0] != '/')
		return husk_err_set(err, HUSK_ERR_INVALID, 0, "bundle must be an absolute path");
	if (req->checkpoint && *req->checkpoint)
		return husk_err_set(err, HUSK_ERR_UNIMPLEMENTED, 0,
				    "restoring from a checkpoint is not supported");
	return 0;
}

static int stdio_open(struct shim_service *svc, struct shim_process *p, const char *cid,
		      const struct shim_options *o, struct husk_err *err)
{
	struct shim_stdio_config cfg = {
		.stdin_path = p->stdin_path,
		.stdout_path = p->stdout_path,
		.stderr_path = p->stderr_path,
		.terminal = p->terminal,
		.io_uid = o ? o->io_uid : 0,
		.io_gid = o ? o->io_gid : 0,
		.container_id = cid,
		.ns = svc->ns,
	};
	struct husk_child logger;
	int r = shim_stdio_new(svc->loop, &cfg, &p->stdio, err);

	if (r < 0)
		return r;
	if (shim_stdio_take_logger(p->stdio, &logger))
		p->logger = shim_logger_adopt(svc, p, &logger);
	return 0;
}

/*
 * A create in flight: the container is in the service (creating) while a worker runs the
 * runtime's create (gofer, init hand-off, hooks: up to minutes); calls naming it wait.
 */
struct create_job {
	struct shim_service *svc;
	struct shim_container *ct;
	struct shim_call *call;			      /* NULL once cancelled */
	Containerd__Task__V2__CreateTaskRequest *req; /* a copy, for the event */
	struct shim_options o;
	struct husk_mount *mounts;
	struct husk_create_opts opts;
};

static void create_job_free(struct create_job *j)
{
	if (!j)
		return;
	if (j->req)
		containerd__task__v2__create_task_request__free_unpacked(j->req, NULL);
	shim_options_done(&j->o);
	free(j->mounts);
	free(j);
}

static void publish_create(struct shim_service *svc, const struct shim_container *ct,
			   const Containerd__Task__V2__CreateTaskRequest *req)
{
	Containerd__Events__TaskCreate ev = CONTAINERD__EVENTS__TASK_CREATE__INIT;
	Containerd__Events__TaskIO io = CONTAINERD__EVENTS__TASK_IO__INIT;

	io.stdin = ct->init.stdin_path;
	io.stdout = ct->init.stdout_path;
	io.stderr = ct->init.stderr_path;
	io.terminal = ct->init.terminal;
	ev.container_id = ct->id;
	ev.bundle = ct->bundle;
	ev.n_rootfs = req->n_rootfs;
	ev.rootfs = req->rootfs;
	ev.io = &io;
	ev.checkpoint = req->checkpoint;
	ev.pid = (uint32_t)ct->init.node.pid;
	shim_publish(svc->pub, &ev.base);
}

/* Worker side: the runtime's create, then the created container's fds to the shim. */
static int create_work(void *arg, int report)
{
	struct create_job *j = arg;
	struct husk_runtime *rt = NULL;
	struct husk_container *c = NULL;
	struct husk_err err = {0};
	int fds[HUSK_CONTAINER_HANDOFF_FDS];
	int r = runtime_open(j->svc, &j->o, &rt, NULL, &err);

	for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
		fds[i] = -1;
	if (r >= 0)
		r = husk_container_create(rt, &j->opts, &c, &err);
	if (r >= 0)
		husk_container_handoff(c, fds);
	/* The init stays: the shim adopts it (and, once we exit, reaps it). */
	const struct shim_worker_report rep = {
		.r = r, .err = &err, .fds = fds, .n_fds = ARRAY_SIZE(fds)};
	r = shim_worker_report(report, &rep);
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
		fds[i] = husk_safe_close(fds[i]);
	husk_container_free(c);
	husk_runtime_free(rt);
	return r < 0 ? 1 : 0;
}

/* Worker side: remove what a failed create left (the gofer and init killed, poststop hooks,
 * the cgroup, the state files): from the handle when the shim adopted one, else from the state
 * file. */
static int cleanup_work(void *arg, int report)
{
	struct shim_container *ct = arg;
	struct husk_container *c = ct->c;
	struct husk_err err = {0};
	int r = c ? 0 : husk_container_load(ct->rt, ct->id, &c, &err);

	if (r >= 0)
		r = husk_container_delete(c, /* force= */ true, &err);
	if (r < 0 && err.kind == HUSK_ERR_NOT_FOUND)
		r = 0;
	const struct shim_worker_report rep = {.r = r, .err = &err};
	return shim_worker_report(report, &rep) < 0 ? 1 : 0;
}

static void cleanup_done(void *userdata, struct shim_worker_result *res)
{
	char *id = userdata;

	if (!res->abandoned && res->reported && res->r < 0)
		shim_log_warn("remove what the failed create of %s left: %s", id, res->err.msg);
	else if (!res->abandoned && !res->reported)
		shim_log_warn("remove what the failed create of %s left: the cleanup process ended "
			      "without a result (wait status %#x)",
			      id, (unsigned)res->wait_status);
	free(id);
}

/* A create that failed after its worker ran may have left a container half made: it is removed
 * in a worker of its own (poststop hooks, cgroup removal), here only if none can be forked. */
static void create_cleanup(struct shim_container *ct)
{
	struct husk_err err = {0};
	char *id = strdup(ct->id);

	if (id) {
		const struct shim_worker_spec spec = {.name = "husk:[cleanup]",
						      .fn = cleanup_work,
						      .arg = ct,
						      .done = cleanup_done,
						      .userdata = id};
		if (shim_worker_start(ct->svc, &spec, &err) >= 0)
			return;
		free(id);
	}
	struct husk_container *c = ct->c;
	if (!c && husk_container_load(ct->rt, ct->id, &c, NULL) < 0)
		return;
	(void)husk_container_delete(c, /* force= */ true, NULL);
	if (c != ct->c)
		husk_container_free(c);
}

/* The worker reported: take the container over from it. */
static int create_adopt(struct shim_container *ct, struct shim_worker_result *res,
			struct husk_err *err)
{
	int fds[HUSK_CONTAINER_HANDOFF_FDS];

	if (!res->reported) {
		create_cleanup(ct);
		return husk_err_set(err, HUSK_ERR_INTERNAL, 0,
				    "create %s: the create process ended without a result "
				    "(wait status %#x)",
				    ct->id, (unsigned)res->wait_status);
	}
	if (res->r < 0) {
		*err = res->err;
		return res->r;
	}
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
		fds[i] = TAKE_FD(res->fds[i]);
	int r = husk_container_adopt(ct->rt, ct->id, fds, &ct->c, err);
	if (r < 0) {
		create_cleanup(ct);
		return r;
	}
	/* Killed before we could adopt it (it was reaped with the worker): nothing to start. */
	if (husk_container_init(ct->c)->pid <= 0) {
		create_cleanup(ct);
		return husk_err_set(err, HUSK_ERR_INTERNAL, 0, "create %s: the init exited",
				    ct->id);
	}
	int master = ct->init.terminal ? husk_container_take_console(ct->c) : -1;
	r = shim_stdio_start(ct->init.stdio, master, err);
	if (r < 0)
		create_cleanup(ct);
	return r;
}

static void create_registered(struct create_job *j)
{
	Containerd__Task__V2__CreateTaskResponse resp =
		CONTAINERD__TASK__V2__CREATE_TASK_RESPONSE__INIT;
	struct shim_service *svc = j->svc;
	struct shim_container *ct = j->ct;
	const struct husk_child *init = husk_container_init(ct->c);

	ct->init.node.pid = init->pid;
	ct->init.node.start_time = init->start_time;
	ct->init.child.pid = init->pid;
	shim_exits_register(&svc->exits, &ct->init.node);
	shim_container_watch_oom(ct);
	shim_log_info("created task %s pid %d", ct->id, (int)init->pid);
	publish_create(svc, ct, j->req);
	if (j->call) {
		resp.pid = (uint32_t)init->pid;
		shim_call_reply(j->call, &resp.base);
	}
}

static void create_done(void *userdata, struct shim_worker_result *res)
{
	struct create_job *j = userdata;
	struct shim_service *svc = j->svc;
	struct shim_container *ct = j->ct;
	struct husk_err err = {0};

	if (res->abandoned) {
		/* The shim is exiting; the worker finishes alone and ttrpc ended the call. */
		ct->creating = false;
		create_job_free(j);
		return;
	}
	struct shim_deferred *later = TAKE_PTR(ct->deferred);
	int r = create_adopt(ct, res, &err);
	ct->creating = false;
	if (j->call)
		shim_call_on_cancel(j->call, NULL, NULL);
	if (r < 0) {
		if (j->call)
			shim_call_fail(j->call, &err);
		shim_container_unlink(svc, ct);
	} else {
		create_registered(j);
	}
	create_job_free(j);
	shim_deferred_run(svc, later);
}

static void create_cancel(void *userdata)
{
	struct create_job *j = userdata;

	/* containerd went away: the create goes on, without a reply. */
	j->call = NULL;
}

/* The request outlives its call (the event is published when the create ends). */
static Containerd__Task__V2__CreateTaskRequest *
request_copy(const Containerd__Task__V2__CreateTaskRequest *req)
{
	size_t len = protobuf_c_message_get_packed_size(&req->base);
	uint8_t *buf = malloc(len ? len : 1);

	if (!buf)
		return NULL;
	(void)protobuf_c_message_pack(&req->base, buf);
	Containerd__Task__V2__CreateTaskRequest *copy =
		containerd__task__v2__create_task_request__unpack(NULL, len, buf);
	free(buf);
	return copy;
}

/* Everything the worker needs, made on the loop: options, runtime, stdio, the request's
 * copy. */
static int create_prepare(struct create_job *j, const Containerd__Task__V2__CreateTaskRequest *req,
			  struct husk_err *err)
{
	struct shim_container *ct = j->ct;
	int r = req->options ? shim_options_parse(req->options->type_url, req->options->value.data,
						  req->options->value.len, &j->o, err)
			     : shim_options_parse(NULL, NULL, 0, &j->o, err);

	if (r < 0)
		return r;
	r = shim_mounts_from_proto(req->rootfs, req->n_rootfs, &j->mounts, err);
	if (r < 0)
		return r;
	r = runtime_open(j->svc, &j->o, &ct->rt, &ct->oci_engine, err);
	if (r < 0)
		return r;
	r = stdio_open(j->svc, &ct->init, ct->id, &j->o, err);
	if (r < 0)
		return r;
	j->req = request_copy(req);
	if (!j->req)
		return husk_err_errno(err, ENOMEM, "create");
	j->opts = (struct husk_create_opts){.id = ct->id,
					    .bundle = ct->bundle,
					    .rootfs = j->mounts,
					    .n_rootfs = req->n_rootfs,
					    .io_uid = j->o.io_uid,
					    .io_gid = j->o.io_gid};
	shim_stdio_child_fds(ct->init.stdio, j->opts.stdio);
	return 0;
}

static int create(struct shim_service *svc, const Containerd__Task__V2__CreateTaskRequest *req,
		  struct shim_call *call, struct husk_err *err)
{
	int r = create_check(svc, req, err);

	if (r < 0)
		return r;
	struct create_job *j = calloc(1, sizeof(*j));
	if (!j)
		return husk_err_errno(err, ENOMEM, "create");
	j->svc = svc;
	j->ct = container_new(svc, req);
	if (!j->ct) {
		free(j);
		return husk_err_errno(err, ENOMEM, "create");
	}
	r = create_prepare(j, req, err);
	if (r >= 0) {
		husk_debug("create %s in '%s'", j->ct->id, j->ct->bundle);
		const struct shim_worker_spec spec = {.name = "husk:[create]",
						      .fn = create_work,
						      .arg = j,
						      .keep = j->opts.stdio,
						      .n_keep = ARRAY_SIZE(j->opts.stdio),
						      .done = create_done,
						      .userdata = j};
		r = shim_worker_start(svc, &spec, err);
	}
	if (r < 0) {
		shim_container_free(j->ct);
		create_job_free(j);
		return r;
	}
	/* In the service from now on: the id is taken, calls on it wait for the end. */
	j->ct->creating = true;
	j->ct->next = svc->containers;
	svc->containers = j->ct;
	svc->n_containers++;
	j->call = call;
	shim_call_on_cancel(call, create_cancel, j);
	return 0;
}

static void task_create(struct shim_service *svc, struct shim_call *call,
			const ProtobufCMessage *msg)
{
	struct husk_err err = {0};

	if (create(svc, (const void *)msg, call, &err) < 0)
		shim_call_fail(call, &err);
}

/* ---- Start ---- */

/* An OCI runtime's pod container may be watched through a waiter from its start on (the OCI
 * engine's runsc containers): its exit is that process's. */
static void init_moved(struct shim_service *svc, struct shim_container *ct)
{
	const struct husk_child *init = husk_container_init(ct->c);

	if (init->pid == ct->init.node.pid)
		return;
	shim_exits_unregister(&svc->exits, &ct->init.node);
	ct->init.node.pid = init->pid;
	ct->init.node.start_time = init->start_time;
	ct->init.child.pid = init->pid;
	shim_exits_register(&svc->exits, &ct->init.node);
}

static void publish_exec_started(struct shim_service *svc, struct shim_process *p)
{
	Containerd__Events__TaskExecStarted ev = CONTAINERD__EVENTS__TASK_EXEC_STARTED__INIT;

	ev.container_id = p->container->id;
	ev.exec_id = p->exec_id;
	ev.pid = (uint32_t)p->node.pid;
	shim_publish(svc->pub, &ev.base);
}

static int exec_check(struct shim_container *ct, const struct shim_process *p, struct husk_err *err)
{
	if (p->started || p->start_failed)
		return husk_err_set(err, HUSK_ERR_PRECONDITION, 0, "cannot start a %s process",
				    p->node.reaped ? "stopped" : "running");
	/* The husk CLI may have paused or resumed the container since we last looked. */
	(void)husk_container_refresh(ct->c, NULL);
	/* containerd-shim-runc-v2 >= 1.6.36 refuses execs once the init has exited. */
	if (shim_exits_init_gone(&ct->group) || husk_container_status(ct->c) == HUSK_STATUS_STOPPED)
		return husk_err_set(err, HUSK_ERR_PRECONDITION, 0,
				    "container %s init process is not running", ct->id);
	if (husk_container_status(ct->c) == HUSK_STATUS_PAUSED)
		return husk_err_set(err, HUSK_ERR_PRECONDITION, 0, "cannot exec in a paused state");
	return 0;
}

static void exec_start_failed(struct shim_process *p)
{
	/* A failed start ends the exec: pending Waits (issued before Start) get 255. */
	p->start_failed = true;
	p->exit_status = 255;
	p->exited_ns = shim_now_ns();
	shim_stdio_close(p->stdio);
	p->stdio = NULL;
	shim_process_answer_waiters(p);
}

/* Worker side: the exec's hand-off; its pid and start time go back in the payload, its pidfd
 * and console as fds. The process stays (the shim adopts it, and reaps it once we exit). */
static int exec_work(struct shim_job *j, struct shim_worker_report *rep, struct husk_err *err)
{
	struct shim_process *p = j->p;
	struct husk_exec_opts opts = {.exec_id = p->exec_id, .process = p->spec};
	struct husk_child child = HUSK_CHILD_NULL;
	int console = -1;

	for (size_t i = 0; i < 3; i++)
		opts.stdio[i] = j->keep[i];
	int r = husk_container_exec(j->ct->c, &opts, &child, &console, err);
	if (r < 0)
		return r;
	j->payload[0] = (uint64_t)child.pid;
	j->payload[1] = child.start_time;
	j->fds[0] = child.pidfd;
	j->fds[1] = console;
	rep->payload = j->payload;
	rep->len = 2 * sizeof(j->payload[0]);
	return 0;
}

static void exec_started(struct shim_job *j, struct shim_worker_result *res)
{
	struct shim_service *svc = j->svc;
	struct shim_process *p = j->p;
	struct husk_err err = {0};
	uint64_t v[2];
	Containerd__Task__V2__StartResponse resp = CONTAINERD__TASK__V2__START_RESPONSE__INIT;

	memcpy(v, res->payload, sizeof(v));
	p->child = (struct husk_child){(pid_t)v[0], TAKE_FD(res->fds[0]), v[1]};
	int console = TAKE_FD(res->fds[1]);
	p->started = true;
	p->node.pid = p->child.pid;
	p->node.start_time = p->child.start_time;
	p->spec = husk_process_free(p->spec);
	/* The start event first: registering applies an exit the reaper already saw. */
	publish_exec_started(svc, p);
	shim_exits_register(&svc->exits, &p->node);
	int r = shim_stdio_start(p->stdio, console, &err);
	if (!j->call)
		return;
	if (r < 0) {
		shim_call_fail(j->call, &err);
		return;
	}
	resp.pid = (uint32_t)p->node.pid;
	shim_call_reply(j->call, &resp.base);
}

static void exec_finish(struct shim_job *j, int r, const struct husk_err *err,
			struct shim_worker_result *res)
{
	struct shim_process *p = j->p;

	if (!res) {
		/* The shim is exiting: the exec (if it started) goes on without us. */
		return;
	}
	if (r >= 0 && res->len != 2 * sizeof(uint64_t)) {
		struct husk_err e = {0};
		(void)husk_err_set(&e, HUSK_ERR_INTERNAL, 0, "exec %s: short result", p->exec_id);
		/* Whatever it started goes: nothing would ever reap or report it. */
		if (res->fds[0] >= 0)
			(void)husk_pidfd_signal(res->fds[0], SIGKILL, NULL);
		exec_start_failed(p);
		if (j->call)
			shim_call_fail(j->call, &e);
		return;
	}
	if (r < 0) {
		/* Its stdio is open: ending the exec closes it, so the client's copy ends. */
		exec_start_failed(p);
		if (j->call)
			shim_call_fail(j->call, err);
		return;
	}
	exec_started(j, res);
}

static int start_exec(struct shim_service *svc, struct shim_call *call, struct shim_container *ct,
		      struct shim_process *p, struct husk_err *err)
{
	int r = exec_check(ct, p, err);

	if (r < 0)
		return r;
	/* What every exec needs is built once, here, and shared by the workers' copies. */
	r = husk_container_exec_prepare(ct->c, err);
	if (r < 0)
		return r;
	r = stdio_open(svc, p, ct->id, NULL, err);
	if (r < 0)
		return r;
	struct shim_job *j = shim_job_new(ct, p, call, "exec", exec_work, exec_finish);
	if (!j)
		return husk_err_errno(err, ENOMEM, "exec %s", p->exec_id);
	shim_stdio_child_fds(p->stdio, j->keep);
	j->n_keep = 3;
	husk_debug("exec %s in %s", p->exec_id, ct->id);
	return shim_job_start(j, err);
}

/* Worker side: release the init (startContainer hooks run in it), poststart hooks. */
static int start_work(struct shim_job *j, struct shim_worker_report *rep, struct husk_err *err)
{
	(void)rep;
	return husk_container_start(j->ct->c, err);
}

static void start_finish(struct shim_job *j, int r, const struct husk_err *err,
			 struct shim_worker_result *res)
{
	struct shim_service *svc = j->svc;
	struct shim_container *ct = j->ct;
	Containerd__Task__V2__StartResponse resp = CONTAINERD__TASK__V2__START_RESPONSE__INIT;

	if (!res)
		return;
	if (r < 0) {
		if (j->call)
			shim_call_fail(j->call, err);
		return;
	}
	init_moved(svc, ct);
	ct->init.started = true;
	Containerd__Events__TaskStart ev = CONTAINERD__EVENTS__TASK_START__INIT;
	ev.container_id = ct->id;
	ev.pid = (uint32_t)ct->init.node.pid;
	shim_publish(svc->pub, &ev.base);
	shim_log_info("started task %s", ct->id);
	if (j->call) {
		resp.pid = (uint32_t)ct->init.node.pid;
		shim_call_reply(j->call, &resp.base);
	}
}

static void task_start(struct shim_service *svc, struct shim_call *call,
		       const ProtobufCMessage *msg)
{
	const Containerd__Task__V2__StartRequest *req = (const void *)msg;
	struct shim_container *ct;
	struct shim_process *p;
	struct husk_err err = {0};

	if (shim_process_find(svc, req->id, req->exec_id, &ct, &p, &err) < 0) {
		shim_call_fail(call, &err);
		return;
	}
	if (p->exec_id) {
		if (start_exec(svc, call, ct, p, &err) < 0) {
			if (!p->started && !p->start_failed && err.kind != HUSK_ERR_PRECONDITION)
				exec_start_failed(p);
			shim_call_fail(call, &err);
		}
		return;
	}
	/* What the runtime would refuse at once is refused here, without a worker. */
	(void)husk_container_refresh(ct->c, NULL);
	if (husk_require_status(husk_container_status(ct->c), "start",
				HUSK_STATUS_BIT(HUSK_STATUS_CREATED), &err) < 0) {
		shim_call_fail(call, &err);
		return;
	}
	/* The hooks (startContainer in the init, poststart here) and an OCI runtime's `start`
	 * take as long as they take: a job. */
	struct shim_job *j = shim_job_new(ct, NULL, call, "start", start_work, start_finish);
	if (!j) {
		(void)husk_err_errno(&err, ENOMEM, "start %s", ct->id);
		shim_call_fail(call, &err);
		return;
	}
	j->reload = true;
	if (shim_job_start(j, &err) < 0)
		shim_call_fail(call, &err);
}

/* ---- Delete ---- */

static int delete_check(const struct shim_container *ct, const struct shim_process *p,
			struct husk_err *err)
{
	if (p->exec_id) {
		if (p->started && !p->node.reaped)
			return husk_err_set(err, HUSK_ERR_PRECONDITION, 0,
					    "cannot delete a running process");
		return 0;
	}
	switch (husk_container_status(ct->c)) {
	case HUSK_STATUS_RUNNING:
		if (p->node.reaped)
			break;
		return husk_err_set(err, HUSK_ERR_PRECONDITION, 0,
				    "cannot delete a running process");
	case HUSK_STATUS_PAUSED:
		return husk_err_set(err, HUSK_ERR_PRECONDITION, 0,
				    "cannot delete a paused process");
	default:
		break;
	}
	/* The init's exit is held back while execs run; the task is not deletable yet. */
	if (p->node.reaped && !p->node.published)
		return husk_err_set(err, HUSK_ERR_PRECONDITION, 0,
				    "cannot delete a running process");
	return 0;
}

static void task_delete(struct shim_service *svc, struct shim_call *call,
			const ProtobufCMessage *msg)
{
	const Containerd__Task__V2__DeleteRequest *req = (const void *)msg;
	struct shim_container *ct;
	struct shim_process *p;
	struct husk_err err = {0};

	if (shim_process_find(svc, req->id, req->exec_id, &ct, &p, &err) < 0 ||
	    delete_check(ct, p, &err) < 0) {
		shim_call_fail(call, &err);
		return;
	}
	if (p->pending_delete) {
		(void)husk_err_set(&err, HUSK_ERR_PRECONDITION, 0, "delete already in progress");
		shim_call_fail(call, &err);
		return;
	}
	shim_process_delete(svc, p, call);
}

/* ---- the method table ---- */

void shim_task_kill(struct shim_service *svc, struct shim_call *call, const ProtobufCMessage *m);
void shim_task_pids(struct shim_service *svc, struct shim_call *call, const ProtobufCMessage *m);
void shim_task_pause(struct shim_service *svc, struct shim_call *call, const ProtobufCMessage *m);
void shim_task_resume(struct shim_service *svc, struct shim_call *call, const ProtobufCMessage *m);
void shim_task_checkpoint(struct shim_service *svc, struct shim_call *call,
			  const ProtobufCMessage *m);
void shim_task_exec(struct shim_service *svc, struct shim_call *call, const ProtobufCMessage *m);
void shim_task_resize_pty(struct shim_service *svc, struct shim_call *call,
			  const ProtobufCMessage *m);
void shim_task_close_io(struct shim_service *svc, struct shim_call *call,
			const ProtobufCMessage *m);
void shim_task_update(struct shim_service *svc, struct shim_call *call, const ProtobufCMessage *m);
void shim_task_stats(struct shim_service *svc, struct shim_call *call, const ProtobufCMessage *m);

#define METHOD(n, type, f)                                               \
	{                                                                \
		n, &containerd__task__v2__##type##__descriptor, f, false \
	}

const struct shim_task_method shim_task_methods[] = {
	METHOD("State", state_request, task_state),
	METHOD("Create", create_task_request, task_create),
	METHOD("Start", start_request, task_start),
	METHOD("Delete", delete_request, task_delete),
	METHOD("Pids", pids_request, shim_task_pids),
	METHOD("Pause", pause_request, shim_task_pause),
	METHOD("Resume", resume_request, shim_task_resume),
	{"Checkpoint", &containerd__task__v2__checkpoint_task_request__descriptor,
	 shim_task_checkpoint, true},
	METHOD("Kill", kill_request, shim_task_kill),
	METHOD("Exec", exec_process_request, shim_task_exec),
	METHOD("ResizePty", resize_pty_request, shim_task_resize_pty),
	METHOD("CloseIO", close_iorequest, shim_task_close_io),
	METHOD("Update", update_task_request, shim_task_update),
	METHOD("Wait", wait_request, task_wait),
	METHOD("Stats", stats_request, shim_task_stats),
	METHOD("Connect", connect_request, task_connect),
	METHOD("Shutdown", shutdown_request, task_shutdown),
};
const size_t shim_n_task_methods = ARRAY_SIZE(shim_task_methods);

/* A string field of a request ("id": every task request has one; "exec_id"), or NULL. */
static const char *request_string(const ProtobufCMessage *req, const char *name)
{
	const ProtobufCFieldDescriptor *f =
		protobuf_c_message_descriptor_get_field_by_name(req->descriptor, name);

	if (!f || f->type != PROTOBUF_C_TYPE_STRING || f->label == PROTOBUF_C_LABEL_REPEATED)
		return NULL;
	return *(char *const *)(const void *)((const char *)req + f->offset);
}

/* Whether a call on ct must wait: its create, delete, init-exit kill or a job on it is in
 * flight, or the exec it names is being started. */
static bool must_wait(struct shim_container *ct, const ProtobufCMessage *req)
{
	if (ct->creating || ct->deleting || ct->group.killing || ct->busy)
		return true;
	const char *exec_id = request_string(req, "exec_id");
	if (!exec_id || !*exec_id)
		return false;
	for (const struct shim_process *p = ct->execs; p; p = p->next)
		if (p->starting && strcmp(p->exec_id, exec_id) == 0)
			return true;
	return false;
}

static void deferred_cancel(void *userdata)
{
	struct shim_deferred *d = userdata;

	for (struct shim_deferred **pp = &d->ct->deferred; *pp; pp = &(*pp)->next) {
		if (*pp == d) {
			*pp = d->next;
			break;
		}
	}
	protobuf_c_message_free_unpacked(d->req, NULL);
	free(d);
}

/* A call that must wait (must_wait) runs once what it waits for has ended (it owns req
 * then). */
static bool defer(struct shim_service *svc, struct shim_call *call,
		  const struct shim_task_method *m, ProtobufCMessage *req)
{
	const char *id = request_string(req, "id");
	struct shim_container *ct = id ? shim_container_find(svc, id) : NULL;
	struct husk_err err = {0};

	if (!ct || !must_wait(ct, req))
		return false;
	struct shim_deferred *d = calloc(1, sizeof(*d));
	if (!d) {
		(void)husk_err_errno(&err, ENOMEM, "%s", m->name);
		shim_call_fail(call, &err);
		protobuf_c_message_free_unpacked(req, NULL);
		return true;
	}
	d->ct = ct;
	d->call = call;
	d->m = m;
	d->req = req;
	struct shim_deferred **pp = &ct->deferred;
	while (*pp)
		pp = &(*pp)->next;
	*pp = d;
	shim_call_on_cancel(call, deferred_cancel, d);
	return true;
}

void shim_deferred_run(struct shim_service *svc, struct shim_deferred *list)
{
	while (list) {
		struct shim_deferred *d = list;
		list = d->next;
		shim_call_on_cancel(d->call, NULL, NULL);
		/* A later create of the same id may be in flight already: it waits once more. */
		if (!defer(svc, d->call, d->m, d->req)) {
			d->m->fn(svc, d->call, d->req);
			protobuf_c_message_free_unpacked(d->req, NULL);
		}
		free(d);
	}
}

void shim_task_dispatch(struct shim_service *svc, struct shim_call *call, const char *method,
			const uint8_t *payload, size_t len)
{
	struct husk_err err = {0};

	for (size_t i = 0; i < shim_n_task_methods; i++) {
		const struct shim_task_method *m = &shim_task_methods[i];
		if (strcmp(m->name, method) != 0)
			continue;
		if (shim_wire_check(m->input, payload, len, &err) < 0) {
			(void)husk_err_prefix(&err, "%s", method);
			shim_call_fail(call, &err);
			return;
		}
		ProtobufCMessage *req = protobuf_c_message_unpack(m->input, NULL, len, payload);
		if (!req) {
			(void)husk_err_set(&err, HUSK_ERR_INVALID, 0, "cannot decode %s request",
					   method);
			shim_call_fail(call, &err);
			return;
		}
		if (defer(svc, call, m, req))
			return;
		m->fn(svc, call, req);
		/* Handlers copy what they keep: no request outlives its call. */
		protobuf_c_message_free_unpacked(req, NULL);
		return;
	}
	(void)husk_err_set(&err, HUSK_ERR_UNIMPLEMENTED, 0, "method %s", method);
	shim_call_fail(call, &err);
}
