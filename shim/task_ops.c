/*
 * containerd.task.v2.Task: Kill, Exec, Pids, Pause, Resume, Update, Stats, ResizePty,
 * CloseIO, Checkpoint (unimplemented: a documented gap).
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "convert.h"
#include "events/task.pb-c.h"
#include "husk/cgroup.h"
#include "husk/cleanup.h"
#include "husk/id.h"
#include "husk/spec.h"
#include "job.h"
#include "log.h"
#include "metrics.h"
#include "runc/options/oci.pb-c.h"
#include "runtime/task/v2/shim.pb-c.h"
#include "shim.h"
#include "shim_stdio.h"
#include "worker.h"

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

static void reply_or_fail(struct shim_call *call, int r, const struct husk_err *err)
{
	if (r < 0)
		shim_call_fail(call, err);
	else
		shim_call_reply(call, NULL);
}

/* ---- Kill ---- */

/* Worker side: a Kill that freezes the cgroup (all) or runs an OCI runtime's `kill`. */
static int kill_work(struct shim_job *j, struct shim_worker_report *rep, struct husk_err *err)
{
	(void)rep;
	return husk_container_kill(j->ct->c, j->sig, j->all, err);
}

static void job_reply(struct shim_job *j, int r, const struct husk_err *err,
		      struct shim_worker_result *res)
{
	if (!res || !j->call)
		return;
	reply_or_fail(j->call, r, err);
}

/* A job for call on ct, or NULL with err set (the call is then the caller's). */
static struct shim_job *job_for(struct shim_container *ct, struct shim_call *call, const char *what,
				shim_job_work_fn *work, shim_job_finish_fn *finish,
				struct husk_err *err)
{
	struct shim_job *j = shim_job_new(ct, NULL, call, what, work, finish);

	if (!j)
		(void)husk_err_errno(err, ENOMEM, "%s %s", what, ct->id);
	return j;
}

/* A Kill that freezes the cgroup, runs an OCI runtime binary or would wait for the lock a job
 * or the husk CLI holds. */
static bool kill_needs_job(const struct shim_container *ct, const struct shim_process *p, bool all)
{
	return !p->exec_id && !p->node.reaped &&
	       (all || ct->oci_engine || ct->n_jobs > 0 || husk_container_locked_elsewhere(ct->c));
}

static int kill_process(struct shim_container *ct, struct shim_process *p, int sig, bool all,
			struct husk_err *err)
{
	/* runc kill --all of a stopped container signals what is left in its cgroup (nothing)
	 * and succeeds; without all, or for an exec, the process is gone: NotFound. */
	if (p->node.reaped && all && !p->exec_id)
		return 0;
	if (p->node.reaped || p->start_failed)
		return husk_err_set(err, HUSK_ERR_NOT_FOUND, 0, "process already finished");
	if (!p->exec_id)
		return husk_container_kill(ct->c, sig, all, err);
	if (!p->started)
		return husk_err_set(err, HUSK_ERR_PRECONDITION, 0, "process not created");
	/* `all` is ignored for execs, as runc does. */
	int r = husk_child_signal(&p->child, sig);
	if (r == -ESRCH)
		return husk_err_set(err, HUSK_ERR_NOT_FOUND, 0, "process already finished");
	if (r < 0)
		return husk_err_errno(err, -r, "signal exec %s", p->exec_id);
	return 0;
}

void shim_task_kill(struct shim_service *svc, struct shim_call *call, const ProtobufCMessage *m)
{
	const Containerd__Task__V2__KillRequest *req = (const void *)m;
	struct shim_container *ct;
	struct shim_process *p;
	struct husk_err err = {0};
	int r = shim_process_find(svc, req->id, req->exec_id, &ct, &p, &err);

	if (r == 0 && (req->signal > 64))
		r = husk_err_set(&err, HUSK_ERR_INVALID, 0, "invalid signal %u", req->signal);
	if (r == 0 && kill_needs_job(ct, p, req->all)) {
		struct shim_job *j = job_for(ct, call, "kill", kill_work, job_reply, &err);
		if (!j) {
			shim_call_fail(call, &err);
			return;
		}
		j->sig = (int)req->signal;
		j->all = req->all;
		if (shim_job_start(j, &err) < 0)
			shim_call_fail(call, &err);
		return;
	}
	if (r == 0)
		r = kill_process(ct, p, (int)req->signal, req->all, &err);
	reply_or_fail(call, r, &err);
}

/* ---- Exec ---- */

static int exec_add(struct shim_container *ct, const Containerd__Task__V2__ExecProcessRequest *req,
		    struct shim_process **ret, struct husk_err *err)
{
	struct husk_process *spec = NULL;
	int r = husk_id_check(req->exec_id, "exec", err);

	if (r < 0)
		return r;
	if (shim_process_find(ct->svc, ct->id, req->exec_id, NULL, NULL, NULL) == 0)
		return husk_err_set(err, HUSK_ERR_EXISTS, 0, "id %s", req->exec_id);
	/* The husk CLI may have paused or resumed the container since we last looked. */
	(void)husk_container_refresh(ct->c, NULL);
	if (shim_exits_init_gone(&ct->group) || husk_container_status(ct->c) == HUSK_STATUS_STOPPED)
		return husk_err_set(err, HUSK_ERR_PRECONDITION, 0,
				    "cannot exec in a stopped state");
	if (husk_container_status(ct->c) == HUSK_STATUS_PAUSED)
		return husk_err_set(err, HUSK_ERR_PRECONDITION, 0, "cannot exec in a paused state");
	if (ct->n_execs >= SHIM_MAX_EXECS)
		return husk_err_set(err, HUSK_ERR_PRECONDITION, 0, "too many exec processes");
	if (!req->spec)
		return husk_err_set(err, HUSK_ERR_INVALID, 0, "exec %s has no process spec",
				    req->exec_id);
	r = husk_process_parse((const char *)req->spec->value.data, req->spec->value.len, &spec,
			       err);
	if (r < 0)
		return husk_err_prefix(err, "exec %s", req->exec_id);
	/* The request's terminal flag wins over the spec's, as in the runc shim. */
	spec->terminal = req->terminal;

	struct shim_process *p = calloc(1, sizeof(*p));
	if (!p || !(p->exec_id = strdup(req->exec_id)) ||
	    !(p->stdin_path = strdup(req->stdin ? req->stdin : "")) ||
	    !(p->stdout_path = strdup(req->stdout ? req->stdout : "")) ||
	    !(p->stderr_path = strdup(req->stderr ? req->stderr : ""))) {
		if (p) {
			free(p->exec_id);
			free(p->stdin_path);
			free(p->stdout_path);
			free(p);
		}
		husk_process_free(spec);
		return husk_err_errno(err, ENOMEM, "exec");
	}
	p->container = ct;
	p->spec = spec;
	p->terminal = req->terminal;
	p->child = HUSK_CHILD_NULL;
	p->node.kind = SHIM_PROC_EXEC;
	p->node.group = &ct->group;
	p->next = ct->execs;
	ct->execs = p;
	ct->n_execs++;
	*ret = p;
	return 0;
}

void shim_task_exec(struct shim_service *svc, struct shim_call *call, const ProtobufCMessage *m)
{
	const Containerd__Task__V2__ExecProcessRequest *req = (const void *)m;
	struct shim_container *ct = NULL;
	struct shim_process *p = NULL;
	struct husk_err err = {0};

	if (shim_process_find(svc, req->id, NULL, &ct, NULL, &err) < 0 ||
	    exec_add(ct, req, &p, &err) < 0 || !p) {
		shim_call_fail(call, &err);
		return;
	}
	Containerd__Events__TaskExecAdded ev = CONTAINERD__EVENTS__TASK_EXEC_ADDED__INIT;
	ev.container_id = ct->id;
	ev.exec_id = p->exec_id;
	shim_publish(svc->pub, &ev.base);
	shim_call_reply(call, NULL);
}

/* ---- Pids ---- */

static const char *exec_of_pid(const struct shim_container *ct, pid_t pid)
{
	for (const struct shim_process *p = ct->execs; p; p = p->next)
		if (p->started && !p->node.reaped && p->node.pid == pid)
			return p->exec_id;
	return NULL;
}

static int pids_reply(struct shim_call *call, const struct shim_container *ct, const pid_t *pids,
		      size_t n, struct husk_err *err)
{
	Containerd__Task__V2__PidsResponse resp = CONTAINERD__TASK__V2__PIDS_RESPONSE__INIT;
	Containerd__V1__Types__ProcessInfo *infos = calloc(n ? n : 1, sizeof(*infos));
	Containerd__V1__Types__ProcessInfo **list =
		calloc(n ? n : 1, sizeof(Containerd__V1__Types__ProcessInfo *));
	Google__Protobuf__Any *anys = calloc(n ? n : 1, sizeof(*anys));
	uint8_t *details = calloc(n ? n : 1, 2 + HUSK_ID_MAX + 2);
	int r = 0;

	if (infos && list && anys && details) {
		for (size_t i = 0; i < n; i++) {
			containerd__v1__types__process_info__init(&infos[i]);
			infos[i].pid = (uint32_t)pids[i];
			list[i] = &infos[i];
			const char *exec_id = exec_of_pid(ct, pids[i]);
			if (!exec_id)
				continue;
			/* runc tags exec pids with containerd.runc.v1.ProcessDetails{exec_id}. */
			Containerd__Runc__V1__ProcessDetails d =
				CONTAINERD__RUNC__V1__PROCESS_DETAILS__INIT;
			uint8_t *buf = details + i * (2 + HUSK_ID_MAX + 2);
			d.exec_id = (char *)exec_id;
			google__protobuf__any__init(&anys[i]);
			anys[i].type_url = (char *)"containerd.runc.v1.ProcessDetails";
			anys[i].value.data = buf;
			anys[i].value.len = containerd__runc__v1__process_details__pack(&d, buf);
			infos[i].info = &anys[i];
		}
		resp.n_processes = n;
		resp.processes = list;
		shim_call_reply(call, &resp.base);
	} else {
		r = husk_err_errno(err, ENOMEM, "pids");
	}
	free(infos);
	free(list);
	free(anys);
	free(details);
	return r;
}

/* An OCI runtime's pids (`ps --format json`) come from a worker, as its stats do. */
struct pids_job {
	struct shim_service *svc;
	struct shim_call *call;	  /* NULL once cancelled */
	struct husk_container *c; /* the worker's copy of the handle */
	char *id;
};

static int pids_work(void *arg, int report)
{
	struct pids_job *j = arg;
	struct husk_err err = {0};
	pid_t *pids = NULL;
	size_t n = 0;
	int r = husk_container_pids(j->c, &pids, &n, &err);

	if (r >= 0 && n * sizeof(pid_t) > SHIM_WORKER_MAX_PAYLOAD)
		r = husk_err_set(&err, HUSK_ERR_INTERNAL, 0, "pids: %zu processes, too many", n);
	const struct shim_worker_report rep = {
		.r = r, .err = &err, .payload = pids, .len = r < 0 ? 0 : n * sizeof(pid_t)};
	r = shim_worker_report(report, &rep);
	free(pids);
	return r < 0 ? 1 : 0;
}

static int pids_answer(struct pids_job *j, const struct shim_worker_result *res,
		       struct husk_err *err)
{
	/* Exec pids are tagged from the container as it is now (it may be gone). */
	struct shim_container *ct = shim_container_find(j->svc, j->id);

	if (!res->reported)
		return husk_err_set(err, HUSK_ERR_INTERNAL, 0,
				    "pids: the pids process ended without a result (wait status "
				    "%#x)",
				    (unsigned)res->wait_status);
	if (res->r < 0) {
		*err = res->err;
		return res->r;
	}
	if (!ct)
		return husk_err_set(err, HUSK_ERR_NOT_FOUND, 0, "container not created");
	size_t n = res->len / sizeof(pid_t);
	pid_t *pids = calloc(n ? n : 1, sizeof(pid_t));
	if (!pids)
		return husk_err_errno(err, ENOMEM, "pids");
	memcpy(pids, res->payload, n * sizeof(pid_t));
	int r = pids_reply(j->call, ct, pids, n, err);
	free(pids);
	return r;
}

static void pids_done(void *userdata, struct shim_worker_result *res)
{
	struct pids_job *j = userdata;
	struct husk_err err = {0};

	if (j->call && !res->abandoned) {
		shim_call_on_cancel(j->call, NULL, NULL);
		if (pids_answer(j, res, &err) < 0)
			shim_call_fail(j->call, &err);
	}
	free(j->id);
	free(j);
}

static void pids_cancel(void *userdata)
{
	struct pids_job *j = userdata;

	j->call = NULL;
}

static int pids_in_worker(struct shim_service *svc, struct shim_call *call,
			  struct shim_container *ct, struct husk_err *err)
{
	struct pids_job *j = calloc(1, sizeof(*j));

	if (!j || !(j->id = strdup(ct->id))) {
		free(j);
		return husk_err_errno(err, ENOMEM, "pids");
	}
	j->svc = svc;
	j->c = ct->c;
	const struct shim_worker_spec spec = {
		.name = "husk:[pids]", .fn = pids_work, .arg = j, .done = pids_done, .userdata = j};
	int r = shim_worker_start(svc, &spec, err);
	if (r < 0) {
		free(j->id);
		free(j);
		return r;
	}
	j->call = call;
	shim_call_on_cancel(call, pids_cancel, j);
	return 0;
}

void shim_task_pids(struct shim_service *svc, struct shim_call *call, const ProtobufCMessage *m)
{
	const Containerd__Task__V2__PidsRequest *req = (const void *)m;
	struct shim_container *ct;
	_cleanup_free_ pid_t *pids = NULL;
	size_t n = 0;
	struct husk_err err = {0};

	if (shim_process_find(svc, req->id, NULL, &ct, NULL, &err) < 0) {
		shim_call_fail(call, &err);
		return;
	}
	if (ct->oci_engine) {
		if (pids_in_worker(svc, call, ct, &err) < 0)
			shim_call_fail(call, &err);
		return;
	}
	if (husk_container_pids(ct->c, &pids, &n, &err) < 0 ||
	    pids_reply(call, ct, pids, n, &err) < 0)
		shim_call_fail(call, &err);
}

/* ---- Pause, Resume ---- */

/* Worker side: the freeze waits until the cgroup is frozen (or thawed). */
static int freeze_work(struct shim_job *j, struct shim_worker_report *rep, struct husk_err *err)
{
	(void)rep;
	return j->frozen ? husk_container_pause(j->ct->c, err)
			 : husk_container_resume(j->ct->c, err);
}

static void freeze_finish(struct shim_job *j, int r, const struct husk_err *err,
			  struct shim_worker_result *res)
{
	if (!res)
		return;
	if (r >= 0) {
		if (j->frozen) {
			Containerd__Events__TaskPaused ev = CONTAINERD__EVENTS__TASK_PAUSED__INIT;
			ev.container_id = j->ct->id;
			shim_publish(j->svc->pub, &ev.base);
		} else {
			Containerd__Events__TaskResumed ev = CONTAINERD__EVENTS__TASK_RESUMED__INIT;
			ev.container_id = j->ct->id;
			shim_publish(j->svc->pub, &ev.base);
		}
	}
	if (j->call)
		reply_or_fail(j->call, r, err);
}

/* What the runtime would refuse at once is refused here, without a worker. */
static int freeze_check(struct shim_container *ct, bool frozen, struct husk_err *err)
{
	(void)husk_container_refresh(ct->c, NULL);
	return husk_require_status(
		husk_container_status(ct->c), frozen ? "pause" : "resume",
		HUSK_STATUS_BIT(frozen ? HUSK_STATUS_RUNNING : HUSK_STATUS_PAUSED), err);
}

static void freeze_call(struct shim_service *svc, struct shim_call *call, const char *id,
			bool frozen)
{
	struct shim_container *ct;
	struct shim_job *j = NULL;
	struct husk_err err = {0};

	if (shim_process_find(svc, id, NULL, &ct, NULL, &err) < 0 ||
	    freeze_check(ct, frozen, &err) < 0 ||
	    !(j = job_for(ct, call, frozen ? "pause" : "resume", freeze_work, freeze_finish,
			  &err))) {
		shim_call_fail(call, &err);
		return;
	}
	j->frozen = frozen;
	j->reload = true;
	if (shim_job_start(j, &err) < 0)
		shim_call_fail(call, &err);
}

void shim_task_pause(struct shim_service *svc, struct shim_call *call, const ProtobufCMessage *m)
{
	freeze_call(svc, call, ((const Containerd__Task__V2__PauseRequest *)(const void *)m)->id,
		    true);
}

void shim_task_resume(struct shim_service *svc, struct shim_call *call, const ProtobufCMessage *m)
{
	freeze_call(svc, call, ((const Containerd__Task__V2__ResumeRequest *)(const void *)m)->id,
		    false);
}

/* ---- Checkpoint (a gap: README lists it) ---- */

void shim_task_checkpoint(struct shim_service *svc, struct shim_call *call,
			  const ProtobufCMessage *m)
{
	const Containerd__Task__V2__CheckpointTaskRequest *req = (const void *)m;
	struct husk_err err = {0};

	if (shim_process_find(svc, req->id, NULL, NULL, NULL, &err) == 0)
		(void)husk_err_set(&err, HUSK_ERR_UNIMPLEMENTED, 0, "checkpoint");
	shim_call_fail(call, &err);
}

/* ---- ResizePty, CloseIO ---- */

void shim_task_resize_pty(struct shim_service *svc, struct shim_call *call,
			  const ProtobufCMessage *m)
{
	const Containerd__Task__V2__ResizePtyRequest *req = (const void *)m;
	struct shim_process *p;
	struct husk_err err = {0};
	int r = shim_process_find(svc, req->id, req->exec_id, NULL, &p, &err);

	/* Without a console (or once it is gone) this is a no-op, as in runc. */
	if (r == 0 && p->stdio)
		r = shim_stdio_resize(p->stdio, req->width, req->height, &err);
	reply_or_fail(call, r, &err);
}

void shim_task_close_io(struct shim_service *svc, struct shim_call *call, const ProtobufCMessage *m)
{
	const Containerd__Task__V2__CloseIORequest *req = (const void *)m;
	struct shim_process *p;
	struct husk_err err = {0};
	int r = shim_process_find(svc, req->id, req->exec_id, NULL, &p, &err);

	if (r == 0 && req->stdin && p->stdio)
		shim_stdio_close_stdin(p->stdio);
	reply_or_fail(call, r, &err);
}

/* ---- Update ---- */

/* Worker side: cgroup writes (lowering a memory limit reclaims first) or `update`. */
static int update_work(struct shim_job *j, struct shim_worker_report *rep, struct husk_err *err)
{
	(void)rep;
	return husk_container_update(j->ct->c, j->res, err);
}

void shim_task_update(struct shim_service *svc, struct shim_call *call, const ProtobufCMessage *m)
{
	const Containerd__Task__V2__UpdateTaskRequest *req = (const void *)m;
	struct shim_container *ct;
	struct husk_resources *res = NULL;
	struct shim_job *j = NULL;
	struct husk_err err = {0};
	int r = shim_process_find(svc, req->id, NULL, &ct, NULL, &err);

	if (r == 0 && (ct->init.node.reaped || husk_container_status(ct->c) == HUSK_STATUS_STOPPED))
		r = husk_err_set(&err, HUSK_ERR_PRECONDITION, 0,
				 "cannot update a stopped container");
	/* The JSON of OCI LinuxResources; the type URL is not checked, as in runc. */
	if (r == 0 && !req->resources)
		r = husk_err_set(&err, HUSK_ERR_INVALID, 0, "update without resources");
	else if (r == 0)
		r = husk_resources_parse((const char *)req->resources->value.data,
					 req->resources->value.len, &res, &err);
	if (r == 0)
		j = job_for(ct, call, "update", update_work, job_reply, &err);
	if (!j) {
		husk_resources_free(res);
		shim_call_fail(call, &err);
		return;
	}
	j->res = res;
	if (shim_job_start(j, &err) < 0)
		shim_call_fail(call, &err);
}

/* ---- Stats ---- */

static void stats_reply(struct shim_call *call, const struct husk_cgroup_stats *st)
{
	Containerd__Task__V2__StatsResponse resp = CONTAINERD__TASK__V2__STATS_RESPONSE__INIT;
	Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
	struct husk_err err = {0};
	_cleanup_free_ uint8_t *data = NULL;
	const char *type = NULL;
	size_t len = 0;

	if (shim_metrics_pack(st, &type, &data, &len, &err) < 0) {
		shim_call_fail(call, &err);
		return;
	}
	any.type_url = (char *)type;
	any.value.data = data;
	any.value.len = len;
	resp.stats = &any;
	shim_call_reply(call, &resp.base);
}

/* An OCI runtime's stats (`events --stats`, tens of ms and more) come from a worker. */
struct stats_job {
	struct shim_call *call;	  /* NULL once cancelled */
	struct husk_container *c; /* the worker's copy of the handle */
};

static int stats_work(void *arg, int report)
{
	struct stats_job *j = arg;
	struct husk_err err = {0};
	struct husk_cgroup_stats *st = calloc(1, sizeof(*st));
	int r = st ? husk_container_stats(j->c, st, &err) : husk_err_errno(&err, ENOMEM, "stats");

	const struct shim_worker_report rep = {
		.r = r, .err = &err, .payload = r < 0 ? NULL : st, .len = r < 0 ? 0 : sizeof(*st)};
	r = shim_worker_report(report, &rep);
	free(st);
	return r < 0 ? 1 : 0;
}

/* The worker's answer (its payload is a struct husk_cgroup_stats, unaligned). */
static void stats_answer(struct shim_call *call, const struct shim_worker_result *res)
{
	struct husk_err err = {0};

	if (!res->reported) {
		(void)husk_err_set(&err, HUSK_ERR_INTERNAL, 0,
				   "stats: the stats process ended without a result "
				   "(wait status %#x)",
				   (unsigned)res->wait_status);
		shim_call_fail(call, &err);
		return;
	}
	if (res->r < 0) {
		shim_call_fail(call, &res->err);
		return;
	}
	if (res->len != sizeof(struct husk_cgroup_stats)) {
		(void)husk_err_set(&err, HUSK_ERR_INTERNAL, 0, "stats: short result");
		shim_call_fail(call, &err);
		return;
	}
	struct husk_cgroup_stats *st = malloc(sizeof(*st));
	if (!st) {
		(void)husk_err_errno(&err, ENOMEM, "stats");
		shim_call_fail(call, &err);
		return;
	}
	memcpy(st, res->payload, sizeof(*st));
	stats_reply(call, st);
	free(st);
}

static void stats_done(void *userdata, struct shim_worker_result *res)
{
	struct stats_job *j = userdata;

	if (j->call && !res->abandoned) {
		shim_call_on_cancel(j->call, NULL, NULL);
		stats_answer(j->call, res);
	}
	free(j);
}

static void stats_cancel(void *userdata)
{
	struct stats_job *j = userdata;

	j->call = NULL;
}

static int stats_in_worker(struct shim_service *svc, struct shim_call *call,
			   struct shim_container *ct, struct husk_err *err)
{
	struct stats_job *j = calloc(1, sizeof(*j));

	if (!j)
		return husk_err_errno(err, ENOMEM, "stats");
	j->c = ct->c;
	const struct shim_worker_spec spec = {.name = "husk:[stats]",
					      .fn = stats_work,
					      .arg = j,
					      .done = stats_done,
					      .userdata = j};
	int r = shim_worker_start(svc, &spec, err);
	if (r < 0) {
		free(j);
		return r;
	}
	j->call = call;
	shim_call_on_cancel(call, stats_cancel, j);
	return 0;
}

void shim_task_stats(struct shim_service *svc, struct shim_call *call, const ProtobufCMessage *m)
{
	const Containerd__Task__V2__StatsRequest *req = (const void *)m;
	struct shim_container *ct = NULL;
	struct husk_err err = {0};
	_cleanup_free_ struct husk_cgroup_stats *st = NULL;

	if (shim_process_find(svc, req->id, NULL, &ct, NULL, &err) < 0) {
		shim_call_fail(call, &err);
		return;
	}
	if (ct->oci_engine) {
		if (stats_in_worker(svc, call, ct, &err) < 0)
			shim_call_fail(call, &err);
		return;
	}
	/* NotFound, never a made-up type: containerd skips NotFound quietly (protocol.md 3.6). */
	st = calloc(1, sizeof(*st));
	if (!st) {
		(void)husk_err_errno(&err, ENOMEM, "stats");
		shim_call_fail(call, &err);
		return;
	}
	if (husk_container_stats(ct->c, st, &err) < 0) {
		shim_call_fail(call, &err);
		return;
	}
	stats_reply(call, st);
}
