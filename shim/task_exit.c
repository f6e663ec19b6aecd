/*
 * The shim's side of process exits: what happens when the reaper reports one (in the
 * order exits.c decides), OOM notifications, loggers, and Delete, which may wait for a
 * process's output to drain before it answers.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "convert.h"
#include "events/task.pb-c.h"
#include "husk/cleanup.h"
#include "husk/spec.h"
#include "log.h"
#include "reaper.h"
#include "runtime/task/v2/shim.pb-c.h"
#include "shim.h"
#include "shim_stdio.h"
#include "trim.h"
#include "worker.h"

static struct shim_process *process_of(struct shim_proc_node *n)
{
	return (struct shim_process *)(void *)((char *)n - offsetof(struct shim_process, node));
}

static struct shim_container *container_of_group(struct shim_exit_group *g)
{
	return (struct shim_container *)(void *)((char *)g -
						 offsetof(struct shim_container, group));
}

static void publish_oom(struct shim_container *ct)
{
	Containerd__Events__TaskOOM ev = CONTAINERD__EVENTS__TASK_OOM__INIT;

	ev.container_id = ct->id;
	shim_publish(ct->svc->pub, &ev.base);
	shim_log_info("oom in task %s", ct->id);
}

static void oom_check(struct shim_container *ct)
{
	bool oom = false;
	struct husk_err err = {0};

	if (ct->deleted || !ct->c)
		return;
	if (husk_container_oom_check(ct->c, &oom, &err) < 0) {
		shim_log_warn("oom check of %s: %s, ignoring", ct->id, err.msg);
		return;
	}
	if (oom)
		publish_oom(ct);
}

/* As runc: what is left of the container goes with its init (a shared or host pid namespace
 * keeps it alive otherwise). Already gone is fine. */
static int kill_rest(struct husk_container *c, struct husk_err *err)
{
	int r = husk_container_kill(c, SIGKILL, /* all= */ true, err);

	return r < 0 && err->kind == HUSK_ERR_NOT_FOUND ? 0 : r;
}

static int kill_rest_work(void *arg, int report)
{
	struct husk_err err = {0};
	int r = kill_rest(arg, &err);
	const struct shim_worker_report rep = {.r = r, .err = &err};

	return shim_worker_report(report, &rep) < 0 ? 1 : 0;
}

struct kill_job {
	struct shim_service *svc;
	struct shim_container *ct;
};

static void kill_rest_done(void *userdata, struct shim_worker_result *res)
{
	struct kill_job *j = userdata;
	struct shim_container *ct = j->ct;

	if (!res->abandoned) {
		if (!res->reported)
			shim_log_warn("kill the rest of %s: the kill process ended without a "
				      "result (wait status %#x), ignoring",
				      ct->id, (unsigned)res->wait_status);
		else if (res->r < 0)
			shim_log_warn("kill the rest of %s: %s, ignoring", ct->id, res->err.msg);
		struct shim_deferred *later = TAKE_PTR(ct->deferred);
		/* The init's exit goes out now (once its execs' have). */
		shim_exits_killed(&j->svc->exits, &ct->group);
		shim_deferred_run(j->svc, later);
	}
	free(j);
}

/*
 * The kill (freeze, signal, thaw, or an OCI binary's `kill --all`) runs in a worker; the
 * init's exit is held back until it has ended, and calls naming the container wait for it.
 */
static void on_init_exited(void *userdata, struct shim_exit_group *g)
{
	struct shim_service *svc = userdata;
	struct shim_container *ct = container_of_group(g);
	struct husk_err err = {0};
	struct kill_job *j = calloc(1, sizeof(*j));

	if (j) {
		j->svc = svc;
		j->ct = ct;
		const struct shim_worker_spec spec = {.name = "husk:[kill]",
						      .fn = kill_rest_work,
						      .arg = ct->c,
						      .done = kill_rest_done,
						      .userdata = j};
		if (shim_worker_start(svc, &spec, &err) >= 0) {
			g->killing = true;
			return;
		}
		free(j);
	}
	/* No worker: here, then. */
	if (kill_rest(ct->c, &err) < 0)
		shim_log_warn("kill the rest of %s: %s, ignoring", ct->id, err.msg);
}

/* How often an exited container's state file is checked for deletion by another process. */
#define SHIM_GONE_CHECK_MS 1000

static void publish_exit(struct shim_service *svc, struct shim_process *p)
{
	Containerd__Events__TaskExit ev = CONTAINERD__EVENTS__TASK_EXIT__INIT;
	Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;

	shim_timestamp_set(&ts, true, p->exited_ns);
	ev.container_id = p->container->id;
	/* CRI tells the init's exit by id == container id. */
	ev.id = p->exec_id ? p->exec_id : p->container->id;
	ev.pid = (uint32_t)p->node.pid;
	ev.exit_status = (uint32_t)p->exit_status;
	ev.exited_at = &ts;
	shim_publish(svc->pub, &ev.base);
}

/*
 * containerd took the shim for dead (it could not reach it) and ran `delete`, which killed
 * the container and removed its state: nobody will ever call Delete or Shutdown here. Once
 * every container of the shim is in that state, the shim has nothing left to serve and
 * exits, as after Shutdown.
 */
static void exit_if_orphaned(struct shim_service *svc)
{
	for (struct shim_container *c = svc->containers; c; c = c->next)
		if (!c->deleted && !c->orphaned)
			return;
	shim_log_info("every task's state was deleted by another process, exiting");
	if (svc->on_shutdown)
		svc->on_shutdown(svc->userdata);
}

static void container_handle_closed(uv_handle_t *h);

static void stop_watch_gone(struct shim_container *ct)
{
	if (!ct->gone_active)
		return;
	ct->gone_active = false;
	(void)uv_timer_stop(&ct->gone_timer);
	uv_close((uv_handle_t *)&ct->gone_timer, container_handle_closed);
}

static void gone_cb(uv_timer_t *t)
{
	struct shim_container *ct = t->data;

	if (ct->deleted || husk_container_state_exists(ct->c))
		return;
	shim_log_info("state of task %s was deleted by another process", ct->id);
	ct->orphaned = true;
	stop_watch_gone(ct);
	exit_if_orphaned(ct->svc);
}

/* The exited container's state file is checked every second until it is deleted through
 * us, or by containerd's `delete` action when containerd could not reach us. */
static void watch_gone(struct shim_container *ct)
{
	if (ct->gone_active || uv_timer_init(ct->svc->loop, &ct->gone_timer) < 0)
		return;
	ct->gone_timer.data = ct;
	ct->gone_active = true;
	ct->open_handles++;
	(void)uv_timer_start(&ct->gone_timer, gone_cb, SHIM_GONE_CHECK_MS, SHIM_GONE_CHECK_MS);
}

static void on_publish(void *userdata, struct shim_proc_node *n)
{
	struct shim_service *svc = userdata;
	struct shim_process *p = process_of(n);
	struct shim_container *ct = p->container;
	struct husk_err err = {0};

	p->exit_status = shim_exit_status(n->wait_status);
	p->exited_ns = n->exited_ns;
	if (!p->exec_id) {
		/* An OOM kill is reported before the exit it caused. */
		oom_check(ct);
		if (husk_container_set_exited(ct->c, n->wait_status, n->exited_ns, &err) < 0) {
			if (err.kind == HUSK_ERR_NOT_FOUND)
				ct->orphaned = true;
			else
				shim_log_warn("record exit of %s: %s, continuing", ct->id, err.msg);
		}
		shim_log_info("task %s exited with status %d", ct->id, p->exit_status);
	} else {
		husk_child_release(&p->child);
	}
	publish_exit(svc, p);
	shim_process_answer_waiters(p);
	if (ct->orphaned)
		exit_if_orphaned(svc);
	else if (!p->exec_id)
		watch_gone(ct);
}

static void logger_free(struct shim_logger *l);

static void on_helper_exited(void *userdata, struct shim_proc_node *n)
{
	struct shim_service *svc = userdata;

	if (n->kind == SHIM_PROC_WORKER) {
		shim_worker_exited(svc, n);
		return;
	}
	struct shim_logger *l =
		(struct shim_logger *)(void *)((char *)n - offsetof(struct shim_logger, node));

	l->exited = true;
	logger_free(l);
}

static bool is_alive(void *userdata, pid_t pid, uint64_t start_time)
{
	(void)userdata;
	return husk_proc_alive(pid, start_time);
}

const struct shim_exits_ops shim_exit_ops = {
	.init_exited = on_init_exited,
	.publish = on_publish,
	.helper_exited = on_helper_exited,
	.alive = is_alive,
};

void shim_service_reaped(struct shim_service *svc, pid_t pid, int wait_status)
{
	shim_exits_reaped(&svc->exits, pid, wait_status, shim_now_ns());
}

/* ---- OOM ---- */

static void container_handle_closed(uv_handle_t *h)
{
	struct shim_container *ct = h->data;

	ct->open_handles--;
	if (ct->deleted && ct->open_handles == 0)
		shim_container_free(ct);
}

static void oom_cb(uv_poll_t *h, int status, int events)
{
	struct shim_container *ct = h->data;

	(void)events;
	if (status < 0) {
		(void)uv_poll_stop(h);
		return;
	}
	oom_check(ct);
}

void shim_container_watch_oom(struct shim_container *ct)
{
	int fd = husk_container_oom_fd(ct->c);

	if (fd < 0)
		return;
	if (uv_poll_init(ct->svc->loop, &ct->oom_poll, fd) < 0)
		return;
	ct->oom_poll.data = ct;
	ct->oom_active = true;
	ct->open_handles++;
	if (uv_poll_start(&ct->oom_poll, UV_READABLE, oom_cb) < 0)
		shim_log_warn("watch oom of %s failed, continuing", ct->id);
}

/* ---- loggers ---- */

static void logger_timer_closed(uv_handle_t *h)
{
	struct shim_logger *l = h->data;

	free(l);
}

static void logger_free(struct shim_logger *l)
{
	struct shim_service *svc = l->svc;

	if (l->owner)
		l->owner->logger = NULL;
	for (struct shim_logger **pp = &svc->loggers; *pp; pp = &(*pp)->next) {
		if (*pp == l) {
			*pp = l->next;
			break;
		}
	}
	shim_exits_unregister(&svc->exits, &l->node);
	husk_child_release(&l->child);
	uv_close((uv_handle_t *)&l->kill_timer, logger_timer_closed);
}

static void logger_kill_cb(uv_timer_t *t)
{
	struct shim_logger *l = t->data;

	(void)husk_child_signal(&l->child, SIGKILL);
}

struct shim_logger *shim_logger_adopt(struct shim_service *svc, struct shim_process *owner,
				      struct husk_child *child)
{
	struct shim_logger *l = calloc(1, sizeof(*l));

	if (!l) {
		/* Cannot track it: stop it now rather than leak an unreaped process. */
		shim_child_kill_and_reap(child);
		return NULL;
	}
	l->svc = svc;
	l->owner = owner;
	l->child = *child;
	*child = HUSK_CHILD_NULL;
	(void)uv_timer_init(svc->loop, &l->kill_timer);
	l->kill_timer.data = l;
	l->node.kind = SHIM_PROC_HELPER;
	l->node.pid = l->child.pid;
	l->next = svc->loggers;
	svc->loggers = l;
	shim_exits_register(&svc->exits, &l->node);
	return l;
}

void shim_logger_stop(struct shim_logger *l)
{
	if (l->exited || l->timer_active)
		return;
	(void)husk_child_signal(&l->child, SIGTERM);
	l->timer_active = true;
	(void)uv_timer_start(&l->kill_timer, logger_kill_cb, SHIM_LOGGER_TERM_TIMEOUT_MS, 0);
}

/* ---- Delete ---- */

/* Forget a process: no table entry, no logger link, no Wait left unanswered. */
static void process_free(struct shim_service *svc, struct shim_process *p)
{
	shim_exits_unregister(&svc->exits, &p->node);
	if (p->logger) {
		shim_logger_stop(p->logger);
		p->logger->owner = NULL;
		p->logger = NULL;
	}
	if (p->waiters) {
		if (!p->node.published && !p->start_failed) {
			p->exit_status = 255;
			p->exited_ns = shim_now_ns();
		}
		shim_process_answer_waiters(p);
	}
	shim_stdio_close(p->stdio);
	p->stdio = NULL;
	husk_child_release(&p->child);
	husk_process_free(p->spec);
	free(p->exec_id);
	free(p->stdin_path);
	free(p->stdout_path);
	free(p->stderr_path);
}

void shim_container_free(struct shim_container *ct)
{
	if (!ct)
		return;
	/* Calls still waiting on its create: their connections are gone (the shim is exiting,
	 * ttrpc cancelled them first), only the requests are left. */
	while (ct->deferred) {
		struct shim_deferred *d = ct->deferred;
		ct->deferred = d->next;
		shim_call_on_cancel(d->call, NULL, NULL);
		protobuf_c_message_free_unpacked(d->req, NULL);
		free(d);
	}
	while (ct->execs) {
		struct shim_process *p = ct->execs;
		ct->execs = p->next;
		process_free(ct->svc, p);
		free(p);
	}
	process_free(ct->svc, &ct->init);
	husk_container_free(ct->c);
	husk_runtime_free(ct->rt);
	free(ct->id);
	free(ct->bundle);
	free(ct);
}

static void reply_delete(struct shim_call *call, const struct shim_process *p, uint32_t status,
			 bool exited, int64_t ns)
{
	Containerd__Task__V2__DeleteResponse resp = CONTAINERD__TASK__V2__DELETE_RESPONSE__INIT;
	Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;

	resp.pid = (uint32_t)p->node.pid;
	resp.exit_status = status;
	shim_timestamp_set(&ts, exited, ns);
	resp.exited_at = &ts;
	if (call)
		shim_call_reply(call, &resp.base);
	/* A process's buffers and state are freed by now: give their pages back (glibc keeps
	 * freed heap pages dirty otherwise, and the stack keeps what the request touched), so an
	 * idle pod's shim returns to its idle size after any number of execs and containers.
	 * After the reply: off the caller's path. */
	shim_trim_soon();
}

static void delete_exec(struct shim_service *svc, struct shim_process *p, struct shim_call *call)
{
	struct shim_container *ct = p->container;

	reply_delete(call, p, (uint32_t)p->exit_status, p->node.published || p->start_failed,
		     p->exited_ns);
	for (struct shim_process **pp = &ct->execs; *pp; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	}
	ct->n_execs--;
	/* Pending Waits of a never-started exec end with the delete (255). */
	process_free(svc, p);
	free(p);
}

void shim_container_unlink(struct shim_service *svc, struct shim_container *ct)
{
	for (struct shim_container **pp = &svc->containers; *pp; pp = &(*pp)->next) {
		if (*pp == ct) {
			*pp = ct->next;
			break;
		}
	}
	svc->n_containers--;
	ct->deleted = true;
	if (ct->oom_active) {
		ct->oom_active = false;
		ct->oom_poll.data = ct;
		uv_close((uv_handle_t *)&ct->oom_poll, container_handle_closed);
	}
	stop_watch_gone(ct);
	if (ct->open_handles == 0)
		shim_container_free(ct);
}

/* The rest of an init's Delete once the runtime has removed the container. */
static void delete_init_finish(struct shim_service *svc, struct shim_process *p,
			       struct shim_call *call)
{
	struct shim_container *ct = p->container;
	int status = 0;
	int64_t ns = 0;

	if (!p->node.published) {
		/* Killed before it ran: report it like runc does, 137 unless recorded. */
		if (!husk_container_exit(ct->c, &status, &ns)) {
			status = 128 + SIGKILL;
			ns = shim_now_ns();
		}
		p->exit_status = status;
		p->exited_ns = ns;
		p->node.published = true;
		publish_exit(svc, p);
		shim_process_answer_waiters(p);
	}

	Containerd__Events__TaskDelete ev = CONTAINERD__EVENTS__TASK_DELETE__INIT;
	Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	shim_timestamp_set(&ts, true, p->exited_ns);
	ev.container_id = ct->id;
	ev.pid = (uint32_t)p->node.pid;
	ev.exit_status = (uint32_t)p->exit_status;
	ev.exited_at = &ts;
	shim_publish(svc->pub, &ev.base);
	shim_log_info("deleted task %s", ct->id);
	reply_delete(call, p, (uint32_t)p->exit_status, true, p->exited_ns);
	shim_container_unlink(svc, ct);
}

/*
 * The runtime's delete (thaw, kill everything, wait for it, remove the cgroup, poststop
 * hooks, state files: up to minutes) runs in a worker on the shim's handle; calls naming
 * the container wait for its end.
 */
struct delete_job {
	struct shim_service *svc;
	struct shim_process *p;
	struct shim_call *call; /* NULL: none or cancelled */
	bool was_registered;
};

static int delete_work(void *arg, int report)
{
	struct husk_container *c = arg;
	struct husk_err err = {0};
	int r = husk_container_delete(c, /* force= */ true, &err);
	const struct shim_worker_report rep = {.r = r, .err = &err};

	return shim_worker_report(report, &rep) < 0 ? 1 : 0;
}

static void delete_done(void *userdata, struct shim_worker_result *res)
{
	struct delete_job *j = userdata;
	struct shim_process *p = j->p;
	struct shim_container *ct = p->container;
	struct husk_err err = {0};

	if (res->abandoned) {
		free(j);
		return;
	}
	struct shim_deferred *later = TAKE_PTR(ct->deferred);
	ct->deleting = false;
	if (j->call)
		shim_call_on_cancel(j->call, NULL, NULL);
	if (!res->reported || res->r < 0) {
		if (res->reported)
			err = res->err;
		else
			(void)husk_err_set(&err, HUSK_ERR_INTERNAL, 0,
					   "delete %s: the delete process ended without a result "
					   "(wait status %#x)",
					   ct->id, (unsigned)res->wait_status);
		/* Nothing changed for the shim: its exit is watched again. */
		if (j->was_registered && !p->node.registered)
			shim_exits_register(&j->svc->exits, &p->node);
		if (j->call)
			shim_call_fail(j->call, &err);
	} else {
		delete_init_finish(j->svc, p, j->call);
	}
	shim_deferred_run(j->svc, later);
	free(j);
}

static void delete_cancel(void *userdata)
{
	struct delete_job *j = userdata;

	/* containerd went away: the delete goes on, without a reply. */
	j->call = NULL;
}

static void delete_init(struct shim_service *svc, struct shim_process *p, struct shim_call *call)
{
	struct shim_container *ct = p->container;
	struct husk_err err = {0};
	struct delete_job *j = calloc(1, sizeof(*j));

	if (!j) {
		(void)husk_err_errno(&err, ENOMEM, "delete");
		if (call)
			shim_call_fail(call, &err);
		return;
	}
	j->svc = svc;
	j->p = p;
	j->was_registered = p->node.registered;
	/* The init the delete kills is not reported as an exit of its own: the delete says
	 * how it ended (as before the reaper could see it). */
	shim_exits_unregister(&svc->exits, &p->node);
	const struct shim_worker_spec spec = {.name = "husk:[delete]",
					      .fn = delete_work,
					      .arg = ct->c,
					      .done = delete_done,
					      .userdata = j};
	if (shim_worker_start(svc, &spec, &err) < 0) {
		if (j->was_registered)
			shim_exits_register(&svc->exits, &p->node);
		free(j);
		if (call)
			shim_call_fail(call, &err);
		return;
	}
	ct->deleting = true;
	j->call = call;
	if (call)
		shim_call_on_cancel(call, delete_cancel, j);
}

static void delete_now(struct shim_process *p, struct shim_call *call)
{
	struct shim_service *svc = p->container->svc;

	if (p->exec_id)
		delete_exec(svc, p, call);
	else
		delete_init(svc, p, call);
}

static void pending_closed(uv_handle_t *h)
{
	free(h->data);
}

static void pending_finish(struct shim_pending_delete *pd)
{
	struct shim_process *p = pd->process;
	struct shim_call *call = pd->call;

	p->pending_delete = NULL;
	(void)uv_timer_stop(&pd->timer);
	pd->timer.data = pd;
	uv_close((uv_handle_t *)&pd->timer, pending_closed);
	if (p->stdio)
		shim_stdio_on_drained(p->stdio, NULL, NULL);
	delete_now(p, call);
}

static void pending_drained(struct shim_stdio *s, void *userdata)
{
	(void)s;
	pending_finish(userdata);
}

static void pending_timeout(uv_timer_t *t)
{
	struct shim_pending_delete *pd = t->data;

	shim_log_warn("output of %s not drained after %d ms, deleting anyway",
		      pd->process->exec_id ? pd->process->exec_id : pd->process->container->id,
		      SHIM_DELETE_DRAIN_MS);
	pending_finish(pd);
}

static void pending_cancel(void *userdata)
{
	struct shim_pending_delete *pd = userdata;

	/* containerd went away: finish the delete anyway, without a reply. */
	pd->call = NULL;
}

void shim_process_delete(struct shim_service *svc, struct shim_process *p, struct shim_call *call)
{
	if (!p->stdio || shim_stdio_drained(p->stdio)) {
		delete_now(p, call);
		return;
	}
	/* runc waits up to 2 s for the process's output to be copied before deleting. */
	struct shim_pending_delete *pd = calloc(1, sizeof(*pd));
	if (!pd) {
		delete_now(p, call);
		return;
	}
	pd->process = p;
	pd->call = call;
	p->pending_delete = pd;
	(void)uv_timer_init(svc->loop, &pd->timer);
	pd->timer.data = pd;
	(void)uv_timer_start(&pd->timer, pending_timeout, SHIM_DELETE_DRAIN_MS, 0);
	shim_call_on_cancel(call, pending_cancel, pd);
	shim_stdio_on_drained(p->stdio, pending_drained, pd);
}

void shim_service_done(struct shim_service *svc)
{
	/* Workers finish alone; containers keep running, their handles close and the structs
	 * go with them. */
	shim_workers_abandon(svc);
	while (svc->containers)
		shim_container_unlink(svc, svc->containers);
	while (svc->loggers)
		logger_free(svc->loggers);
}
