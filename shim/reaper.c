#include "reaper.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

#include <sys/wait.h>

#include "husk/process.h"
#include "log.h"

void shim_reaper_reap(struct shim_reaper *r)
{
	for (;;) {
		int status = 0;
		pid_t pid = waitpid(-1, &status, WNOHANG);
		if (pid < 0 && errno == EINTR)
			continue;
		if (pid <= 0)
			return;
		r->reaped++;
		r->cb(r->userdata, pid, status);
	}
}

static void sigchld_cb(uv_signal_t *h, int signum)
{
	(void)signum;
	shim_reaper_reap(h->data);
}

int shim_reaper_start(struct shim_reaper *r, uv_loop_t *loop, shim_reaped_fn *cb, void *userdata)
{
	int rc = uv_signal_init(loop, &r->sig);

	if (rc < 0)
		return rc;
	r->sig.data = r;
	r->cb = cb;
	r->userdata = userdata;
	r->reaped = 0;
	rc = uv_signal_start(&r->sig, sigchld_cb, SIGCHLD);
	if (rc < 0)
		return rc;
	shim_reaper_reap(r);
	return 0;
}

void shim_reaper_stop(struct shim_reaper *r)
{
	if (!uv_is_closing((uv_handle_t *)&r->sig))
		uv_close((uv_handle_t *)&r->sig, NULL);
}

void shim_child_kill_and_reap(struct husk_child *c)
{
	int r = husk_child_kill_and_reap(c);

	if (r < 0)
		shim_log_warn("child did not exit after SIGKILL: %s, leaving it to the reaper",
			      strerror(-r));
	*c = HUSK_CHILD_NULL;
}
