#include "test_shim_task_fake.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "husk/container.h"
#include "husk/err.h"
#include "husk/id.h"
#include "husk/process.h"
#include "husk/spec.h"

const char *fake_init_program = "sleep";

struct husk_runtime {
	int unused;
};

#define FAKE_MAX_PIDS 64
#define FAKE_MAX_RECS 128

/*
 * The shim runs create, start, exec, kill, pause, resume, update and delete in worker
 * processes, on copies of the handle: what those change (status, pids, deleted) lives in
 * memory shared with them (mapped before any worker is forked), one record per created
 * container, so the shim's handle sees it.
 */
struct fake_rec {
	char id[HUSK_ID_MAX + 1];
	bool deleted;
	enum husk_status status;
	pid_t pids[FAKE_MAX_PIDS];
	size_t n_pids;
};

struct fake_shared {
	unsigned n;
	struct fake_rec recs[FAKE_MAX_RECS];
};
static struct fake_shared *shared;

struct husk_container {
	struct husk_container *next;
	struct husk_full_id id;
	char *bundle;
	struct fake_rec *r;
	struct husk_child init;
	int start_fd;
	int oom_fd;
	bool exited;
	int exit_status;
	int64_t exited_ns;
};

static struct husk_container *all;

/* The live record of id (the newest: an id deleted may be created again), or NULL. */
static struct fake_rec *rec_find(const char *id)
{
	for (unsigned i = shared ? shared->n : 0; i-- > 0;)
		if (!shared->recs[i].deleted && strcmp(shared->recs[i].id, id) == 0)
			return &shared->recs[i];
	return NULL;
}

int fake_live_containers(void)
{
	int n = 0;

	for (unsigned i = 0; shared && i < shared->n; i++)
		n += !shared->recs[i].deleted;
	return n;
}

void fake_trigger_oom(const char *id)
{
	uint64_t one = 1;

	for (struct husk_container *c = all; c; c = c->next)
		if (!c->r->deleted && strcmp(c->id.container, id) == 0)
			(void)!write(c->oom_fd, &one, sizeof(one));
}

static int report_pipe[2] = {-1, -1};
static pid_t holders[FAKE_MAX_PIDS];
static size_t n_holders;

/* In the child: run the program (never returns). report gets a "hold" grandchild's pid. */
static _Noreturn void run_program(const char *prog, int report)
{
	if (strncmp(prog, "exit:", 5) == 0)
		_exit(atoi(prog + 5));
	if (strncmp(prog, "echo:", 5) == 0) {
		(void)!write(1, prog + 5, strlen(prog + 5));
		_exit(0);
	}
	if (strcmp(prog, "hold") == 0) {
		pid_t gc = fork();
		if (gc == 0)
			for (;;)
				pause();
		(void)!write(report, &gc, sizeof(gc));
		_exit(0);
	}
	for (;;)
		pause();
}

/* fork a child with stdio[] as 0..2 (-1: /dev/null); it waits for a byte on gate if >= 0. */
static pid_t spawn(const int stdio[3], int gate, const char *prog)
{
	pid_t pid = fork();
	char ch;

	if (pid != 0)
		return pid;
	/* Lift everything above the targets first, then place: 0..2 stdio, 3 gate, 4 report. */
	int g = gate >= 0 ? fcntl(gate, F_DUPFD, 100) : -1;
	int rep = fcntl(report_pipe[1], F_DUPFD, 100);
	int in[3];
	for (int i = 0; i < 3; i++)
		in[i] = stdio[i] >= 0 ? fcntl(stdio[i], F_DUPFD, 100) : open("/dev/null", O_RDWR);
	for (int i = 0; i < 3; i++)
		(void)dup2(in[i], i);
	if (g >= 0)
		(void)dup2(g, 3);
	(void)dup2(rep, 4);
	/* close(), not close_range(): valgrind guards its own fds only against the former. */
	for (int fd = 5; fd < 256; fd++)
		(void)close(fd);
	if (g >= 0 && read(3, &ch, 1) != 1)
		_exit(99);
	if (g >= 0)
		(void)close(3);
	rep = 4;
	run_program(prog, rep);
}

pid_t fake_wait_hold_pid(void)
{
	pid_t gc = 0;
	struct timespec ts = {0, 1000000};

	for (int i = 0; i < 5000; i++) {
		if (read(report_pipe[0], &gc, sizeof(gc)) == (ssize_t)sizeof(gc)) {
			/* Outside the container's kill set (like a process that left its cgroup),
			 * but ours to kill at cleanup. */
			if (n_holders < FAKE_MAX_PIDS)
				holders[n_holders++] = gc;
			return gc;
		}
		nanosleep(&ts, NULL);
	}
	return 0;
}

int husk_runtime_open(const struct husk_runtime_config *cfg, struct husk_runtime **ret,
		      struct husk_err *err)
{
	(void)cfg;
	if (!shared) {
		void *m = mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED)
			return husk_err_errno(err, errno, "mmap");
		shared = m;
	}
	*ret = calloc(1, sizeof(**ret));
	if (report_pipe[0] < 0 && pipe2(report_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		return husk_err_errno(err, errno, "pipe");
	return *ret ? 0 : -ENOMEM;
}

struct husk_runtime *husk_runtime_free(struct husk_runtime *rt)
{
	free(rt);
	return NULL;
}

int husk_container_create(struct husk_runtime *rt, const struct husk_create_opts *opts,
			  struct husk_container **ret, struct husk_err *err)
{
	int gate[2];

	(void)rt;
	if (rec_find(opts->id))
		return husk_err_set(err, HUSK_ERR_EXISTS, 0, "id %s", opts->id);
	if (shared->n >= FAKE_MAX_RECS)
		return husk_err_set(err, HUSK_ERR_INTERNAL, 0, "fake: too many containers");
	struct husk_container *c = calloc(1, sizeof(*c));
	if (!c || pipe2(gate, O_CLOEXEC) < 0)
		return husk_err_errno(err, ENOMEM, "fake create");
	(void)husk_full_id_set(&c->id, opts->id, opts->id, NULL);
	c->r = &shared->recs[shared->n];
	(void)snprintf(c->r->id, sizeof(c->r->id), "%s", opts->id);
	c->r->status = HUSK_STATUS_CREATED;
	c->r->n_pids = 0;
	shared->n++;
	c->bundle = strdup(opts->bundle);
	c->oom_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	c->init.pid = spawn(opts->stdio, gate[0], fake_init_program);
	c->init.pidfd = -1;
	c->r->pids[c->r->n_pids++] = c->init.pid;
	(void)close(gate[0]);
	c->start_fd = gate[1];
	c->next = all;
	all = c;
	*ret = c;
	return 0;
}

/* The shim creates in a worker process: the init (the worker's child, ours once the worker
 * has exited: we are a subreaper) comes back as its start gate, its OOM fd and a pipe that
 * holds its pid (pidfds are not there under valgrind). */
void husk_container_handoff(struct husk_container *c, int ret_fds[HUSK_CONTAINER_HANDOFF_FDS])
{
	int p[2];

	ret_fds[0] = c->start_fd;
	c->start_fd = -1;
	ret_fds[1] = c->oom_fd;
	c->oom_fd = -1;
	ret_fds[2] = -1;
	if (pipe2(p, O_CLOEXEC) < 0)
		return;
	if (write(p[1], &c->init.pid, sizeof(c->init.pid)) == (ssize_t)sizeof(c->init.pid))
		ret_fds[2] = p[0];
	else
		(void)close(p[0]);
	(void)close(p[1]);
}

static pid_t pid_from_pipe(int fd)
{
	pid_t pid = 0;

	if (read(fd, &pid, sizeof(pid)) != (ssize_t)sizeof(pid))
		return 0;
	return pid;
}

int husk_container_adopt(struct husk_runtime *rt, const char *id,
			 int fds[HUSK_CONTAINER_HANDOFF_FDS], struct husk_container **ret,
			 struct husk_err *err)
{
	struct husk_container *c = calloc(1, sizeof(*c));
	pid_t pid = fds[2] >= 0 ? pid_from_pipe(fds[2]) : 0;
	struct fake_rec *rec = rec_find(id);

	(void)rt;
	if (fds[2] >= 0)
		(void)close(fds[2]);
	if (!c || pid <= 0 || !rec) {
		free(c);
		(void)close(fds[0]);
		(void)close(fds[1]);
		return husk_err_set(err, HUSK_ERR_NOT_FOUND, 0, "container %s", id);
	}
	(void)husk_full_id_set(&c->id, id, id, NULL);
	c->bundle = strdup("");
	c->r = rec;
	c->start_fd = fds[0];
	c->oom_fd = fds[1];
	c->init.pid = pid;
	c->init.pidfd = -1;
	c->next = all;
	all = c;
	*ret = c;
	return 0;
}

int husk_container_load(struct husk_runtime *rt, const char *id, struct husk_container **ret,
			struct husk_err *err)
{
	(void)rt;
	(void)id;
	(void)ret;
	return husk_err_set(err, HUSK_ERR_NOT_FOUND, 0, "container %s", id);
}

struct husk_container *husk_container_free(struct husk_container *c)
{
	(void)c; /* kept in `all` for the whole test */
	return NULL;
}

const struct husk_full_id *husk_container_full_id(const struct husk_container *c)
{
	return &c->id;
}

const char *husk_container_bundle(const struct husk_container *c)
{
	return c->bundle;
}

enum husk_status husk_container_status(const struct husk_container *c)
{
	return c->r->status;
}

bool husk_container_state_exists(const struct husk_container *c)
{
	(void)c;
	return true;
}

const struct husk_child *husk_container_init(const struct husk_container *c)
{
	return &c->init;
}

int husk_container_refresh(struct husk_container *c, struct husk_err *err)
{
	/* The fake's state is its shared record: nothing to re-read. */
	(void)c;
	(void)err;
	return 0;
}

bool husk_container_locked_elsewhere(const struct husk_container *c)
{
	(void)c;
	return false;
}

int husk_container_reload(struct husk_container *c, struct husk_err *err)
{
	(void)err;
	/* Started by a worker: our copy of the start gate is of no use any more. */
	if (c->r->status != HUSK_STATUS_CREATED && c->start_fd >= 0) {
		(void)close(c->start_fd);
		c->start_fd = -1;
	}
	return 0;
}

int husk_container_exec_prepare(struct husk_container *c, struct husk_err *err)
{
	(void)c;
	(void)err;
	return 0;
}

int husk_container_take_console(struct husk_container *c)
{
	(void)c;
	return -1;
}

int husk_container_start(struct husk_container *c, struct husk_err *err)
{
	int r = husk_require_status(c->r->status, "start", HUSK_STATUS_BIT(HUSK_STATUS_CREATED),
				    err);

	if (r < 0)
		return r;
	(void)!write(c->start_fd, "x", 1);
	(void)close(c->start_fd);
	c->start_fd = -1;
	c->r->status = HUSK_STATUS_RUNNING;
	return 0;
}

int husk_container_kill(struct husk_container *c, int sig, bool all_, struct husk_err *err)
{
	if (c->r->status == HUSK_STATUS_STOPPED)
		return husk_err_set(err, HUSK_ERR_NOT_FOUND, 0, "process already finished");
	if (!all_) {
		(void)kill(c->init.pid, sig);
		return 0;
	}
	for (size_t i = 0; i < c->r->n_pids; i++)
		(void)kill(c->r->pids[i], sig);
	return 0;
}

int husk_container_pause(struct husk_container *c, struct husk_err *err)
{
	int r = husk_require_status(c->r->status, "pause", HUSK_STATUS_BIT(HUSK_STATUS_RUNNING),
				    err);

	if (r == 0)
		c->r->status = HUSK_STATUS_PAUSED;
	return r;
}

int husk_container_resume(struct husk_container *c, struct husk_err *err)
{
	int r = husk_require_status(c->r->status, "resume", HUSK_STATUS_BIT(HUSK_STATUS_PAUSED),
				    err);

	if (r == 0)
		c->r->status = HUSK_STATUS_RUNNING;
	return r;
}

int husk_container_update(struct husk_container *c, const struct husk_resources *res,
			  struct husk_err *err)
{
	(void)c;
	(void)res;
	(void)err;
	return 0;
}

int husk_container_pids(struct husk_container *c, pid_t **ret_pids, size_t *ret_n,
			struct husk_err *err)
{
	pid_t *p = calloc(c->r->n_pids ? c->r->n_pids : 1, sizeof(*p));

	if (!p)
		return husk_err_errno(err, ENOMEM, "pids");
	memcpy(p, c->r->pids, c->r->n_pids * sizeof(*p));
	*ret_pids = p;
	*ret_n = c->r->n_pids;
	return 0;
}

int husk_container_stats(struct husk_container *c, struct husk_cgroup_stats *ret,
			 struct husk_err *err)
{
	(void)c;
	(void)ret;
	return husk_err_set(err, HUSK_ERR_NOT_FOUND, 0, "cgroup does not exist");
}

int husk_container_exec(struct husk_container *c, const struct husk_exec_opts *opts,
			struct husk_child *ret_child, int *ret_console, struct husk_err *err)
{
	const char *prog = opts->process->args[0];

	if (strcmp(prog, "fail") == 0)
		return husk_err_set(err, HUSK_ERR_INTERNAL, ENOENT, "exec 'fail'");
	if (c->r->n_pids >= FAKE_MAX_PIDS)
		return husk_err_set(err, HUSK_ERR_INTERNAL, 0, "too many");
	pid_t pid = spawn(opts->stdio, -1, prog);
	c->r->pids[c->r->n_pids++] = pid;
	*ret_child = (struct husk_child){.pid = pid, .pidfd = -1, .start_time = 0};
	*ret_console = -1;
	return 0;
}

int husk_container_oom_fd(const struct husk_container *c)
{
	return c->oom_fd;
}

int husk_container_oom_check(struct husk_container *c, bool *ret_oom, struct husk_err *err)
{
	uint64_t n = 0;

	(void)err;
	*ret_oom = read(c->oom_fd, &n, sizeof(n)) == (ssize_t)sizeof(n) && n > 0;
	return 0;
}

int husk_container_set_exited(struct husk_container *c, int wait_status, int64_t exited_ns,
			      struct husk_err *err)
{
	(void)err;
	c->exited = true;
	c->exit_status =
		WIFSIGNALED(wait_status) ? 128 + WTERMSIG(wait_status) : WEXITSTATUS(wait_status);
	c->exited_ns = exited_ns;
	c->r->status = HUSK_STATUS_STOPPED;
	return 0;
}

bool husk_container_exit(const struct husk_container *c, int *ret_status, int64_t *ret_ns)
{
	if (!c->exited)
		return false;
	*ret_status = c->exit_status;
	*ret_ns = c->exited_ns;
	return true;
}

int husk_container_delete(struct husk_container *c, bool force, struct husk_err *err)
{
	if (!force && c->r->status == HUSK_STATUS_RUNNING)
		return husk_err_set(err, HUSK_ERR_PRECONDITION, 0, "running");
	for (size_t i = 0; i < c->r->n_pids; i++)
		(void)kill(c->r->pids[i], SIGKILL);
	if (c->start_fd >= 0)
		(void)close(c->start_fd);
	c->start_fd = -1;
	if (c->oom_fd >= 0)
		(void)close(c->oom_fd);
	c->oom_fd = -1;
	c->r->status = HUSK_STATUS_STOPPED;
	c->r->deleted = true;
	return 0;
}

int husk_process_parse(const char *json, size_t len, struct husk_process **ret,
		       struct husk_err *err)
{
	struct husk_process *p = calloc(1, sizeof(*p));

	if (!p || !(p->args = calloc(1, sizeof(char *))) || !(p->args[0] = strndup(json, len)))
		return husk_err_errno(err, ENOMEM, "parse");
	if (len == 0 || strncmp(json, "{bad", 4) == 0) {
		husk_process_free(p);
		return husk_err_set(err, HUSK_ERR_INVALID, 0, "process.args: expected array");
	}
	p->n_args = 1;
	*ret = p;
	return 0;
}

struct husk_process *husk_process_free(struct husk_process *p)
{
	if (p) {
		if (p->args)
			free(p->args[0]);
		free(p->args);
		free(p);
	}
	return NULL;
}

int husk_resources_parse(const char *json, size_t len, struct husk_resources **ret,
			 struct husk_err *err)
{
	(void)json;
	(void)len;
	*ret = calloc(1, sizeof(**ret));
	return *ret ? 0 : husk_err_errno(err, ENOMEM, "parse");
}

struct husk_resources *husk_resources_free(struct husk_resources *r)
{
	free(r);
	return NULL;
}

bool husk_proc_alive(pid_t pid, uint64_t start_time)
{
	(void)start_time;
	return kill(pid, 0) == 0;
}

bool husk_id_valid(const char *id)
{
	if (!id || !*id || strlen(id) > HUSK_ID_MAX)
		return false;
	for (const char *p = id; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '+' || *p == '-' || *p == '.'))
			return false;
	return true;
}

int husk_id_check(const char *id, const char *what, struct husk_err *err)
{
	if (!husk_id_valid(id))
		return husk_err_set(err, HUSK_ERR_INVALID, 0, "invalid %s id '%s'", what,
				    id ? id : "");
	return 0;
}

int husk_full_id_set(struct husk_full_id *ret, const char *sandbox, const char *container,
		     struct husk_err *err)
{
	(void)err;
	(void)snprintf(ret->sandbox, sizeof(ret->sandbox), "%s", sandbox);
	(void)snprintf(ret->container, sizeof(ret->container), "%s", container);
	return 0;
}

int husk_require_status(enum husk_status status, const char *op, unsigned allowed,
			struct husk_err *err)
{
	static const char *const names[] = {"creating", "created", "running", "paused", "stopped"};

	if (allowed & HUSK_STATUS_BIT(status))
		return 0;
	return husk_err_set(err, HUSK_ERR_PRECONDITION, 0, "cannot %s container in '%s' state", op,
			    names[status]);
}

void fake_cleanup(void)
{
	for (unsigned k = 0; shared && k < shared->n; k++) {
		struct fake_rec *r = &shared->recs[k];
		for (size_t i = 0; i < r->n_pids; i++)
			(void)kill(r->pids[i], SIGKILL);
		r->n_pids = 0;
		r->deleted = true;
	}
	if (shared)
		shared->n = 0;
	for (size_t i = 0; i < n_holders; i++)
		(void)kill(holders[i], SIGKILL);
	n_holders = 0;
	/* Collect whatever the test's reaper did not (nothing may outlive the test). */
	while (waitpid(-1, NULL, WNOHANG) > 0 || (errno == EINTR))
		;
}
