#include "job.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "husk/cleanup.h"
#include "husk/container.h"
#include "husk/spec.h"
#include "log.h"
#include "shim.h"

struct shim_job *shim_job_new(struct shim_container *ct, struct shim_process *p,
			      struct shim_call *call, const char *what, shim_job_work_fn *work,
			      shim_job_finish_fn *finish)
{
	struct shim_job *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->svc = ct->svc;
	j->ct = ct;
	j->p = p;
	j->call = call;
	j->what = what;
	j->work = work;
	j->finish = finish;
	for (size_t i = 0; i < SHIM_WORKER_MAX_FDS; i++)
		j->fds[i] = -1;
	return j;
}

static void job_free(struct shim_job *j)
{
	husk_resources_free(j->res);
	free(j);
}

/* Worker side. */
static int job_work(void *arg, int report)
{
	struct shim_job *j = arg;
	struct husk_err err = {0};
	struct shim_worker_report rep = {.err = &err, .fds = j->fds, .n_fds = SHIM_WORKER_MAX_FDS};

	rep.r = j->work(j, &rep, &err);
	if (rep.r < 0) {
		rep.payload = NULL;
		rep.len = 0;
	}
	return shim_worker_report(report, &rep) < 0 ? 1 : 0;
}

static void job_cancel(void *userdata)
{
	struct shim_job *j = userdata;

	/* containerd went away: the work goes on, without a reply. */
	j->call = NULL;
}

static void job_done(void *userdata, struct shim_worker_result *res)
{
	struct shim_job *j = userdata;
	struct shim_container *ct = j->ct;
	struct shim_service *svc = j->svc;
	struct husk_err err = {0};
	int r;

	ct->n_jobs--;
	if (j->p)
		j->p->starting = false;
	else
		ct->busy = false;
	if (j->call)
		shim_call_on_cancel(j->call, NULL, NULL);
	if (res->abandoned) {
		/* The shim is exiting; ttrpc ended the call. */
		j->call = NULL;
		j->finish(j, -ECANCELED, &err, NULL);
		job_free(j);
		return;
	}
	if (!res->reported) {
		r = husk_err_set(&err, HUSK_ERR_INTERNAL, 0,
				 "%s %s: the %s process ended without a result (wait status %#x)",
				 j->what, ct->id, j->what, (unsigned)res->wait_status);
	} else {
		r = res->r;
		err = res->err;
	}
	/* What the worker did to the container is in its state file now. */
	struct husk_err rerr = {0};
	if (j->reload && ct->c && husk_container_reload(ct->c, &rerr) < 0 &&
	    rerr.kind != HUSK_ERR_NOT_FOUND)
		shim_log_warn("reload %s after %s: %s, continuing", ct->id, j->what, rerr.msg);
	struct shim_deferred *later = TAKE_PTR(ct->deferred);
	j->finish(j, r, &err, res);
	/* The init's exit was held back while the job ran. */
	shim_exits_release(&svc->exits, &ct->group);
	job_free(j);
	shim_deferred_run(svc, later);
}

int shim_job_start(struct shim_job *j, struct husk_err *err)
{
	struct shim_container *ct = j->ct;
	char name[16];

	(void)snprintf(name, sizeof(name), "husk:[%s]", j->what);
	const struct shim_worker_spec spec = {.name = name,
					      .fn = job_work,
					      .arg = j,
					      .keep = j->keep,
					      .n_keep = j->n_keep,
					      .done = job_done,
					      .userdata = j};
	int r = shim_worker_start(j->svc, &spec, err);
	if (r < 0) {
		job_free(j);
		return r;
	}
	ct->n_jobs++;
	if (j->p)
		j->p->starting = true;
	else
		ct->busy = true;
	shim_exits_hold(&ct->group);
	if (j->call)
		shim_call_on_cancel(j->call, job_cancel, j);
	return 0;
}
