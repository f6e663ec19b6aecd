#include "hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/wait.h>

#include <jansson.h>

#include "husk/cleanup.h"
#include "husk/err.h"
#include "husk/process.h"
#include "spawn_internal.h"

static const char *const kind_names[_HUSK_HOOK_KIND_MAX] = {
	[HUSK_HOOK_PRESTART] = "prestart",
	[HUSK_HOOK_CREATE_RUNTIME] = "createRuntime",
	[HUSK_HOOK_CREATE_CONTAINER] = "createContainer",
	[HUSK_HOOK_START_CONTAINER] = "startContainer",
	[HUSK_HOOK_POSTSTART] = "poststart",
	[HUSK_HOOK_POSTSTOP] = "poststop",
};

static char *state_json(const struct husk_hook_state *s)
{
	json_t *o = json_object();
	json_t *ann = json_object();

	if (!o || !ann) {
		json_decref(o);
		json_decref(ann);
		return NULL;
	}
	(void)json_object_set_new(o, "ociVersion",
				  json_string(s->oci_version ? s->oci_version : "1.0.2"));
	(void)json_object_set_new(o, "id", json_string(s->id));
	(void)json_object_set_new(o, "status", json_string(s->status));
	if (s->pid > 0)
		(void)json_object_set_new(o, "pid", json_integer(s->pid));
	(void)json_object_set_new(o, "bundle", json_string(s->bundle));
	for (size_t i = 0; s->spec && i < s->spec->n_annotations; i++)
		(void)json_object_set_new(ann, s->spec->annotations[i].key,
					  json_string(s->spec->annotations[i].value));
	(void)json_object_set_new(o, "annotations", ann);
	char *text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return text;
}

/* A hook's argv and envp (NULL-terminated; argv is [path] when the spec gives none). */
struct hook_arg {
	const char *const *argv;
	const char *const *envp;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int left_ms(int64_t deadline)
{
	int64_t left = deadline - now_ms();
	return left <= 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
}

/*
 * Write the state to the hook's stdin without blocking, until all of it is written, the
 * hook closes its stdin or exits (neither is an error: runc ignores both), or the deadline
 * passes (-ETIMEDOUT). SIGPIPE is blocked meanwhile and one it raised is consumed, so
 * neither the shim, the CLI nor a container's init can die of it.
 */
static int feed_state(int fd, int pidfd, const char *input, size_t len, int64_t deadline)
{
	sigset_t pipe_set;
	sigset_t old;
	sigset_t pending;
	size_t off = 0;
	int r = 0;

	(void)sigemptyset(&pipe_set);
	(void)sigaddset(&pipe_set, SIGPIPE);
	(void)sigpending(&pending);
	bool was_pending = sigismember(&pending, SIGPIPE) == 1;
	(void)pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		r = -errno;
	while (r == 0 && off < len) {
		ssize_t n = write(fd, input + off, len - off);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EPIPE)
			break;
		if (n < 0 && errno != EAGAIN) {
			r = -errno;
			break;
		}
		struct pollfd p[2] = {{.fd = fd, .events = POLLOUT},
				      {.fd = pidfd, .events = POLLIN}};
		int left = left_ms(deadline);
		if (left == 0) {
			r = -ETIMEDOUT;
			break;
		}
		if (poll(p, 2, left) < 0 && errno != EINTR)
			r = -errno;
		else if (p[1].revents & POLLIN)
			break; /* it exited without reading everything */
	}
	if (!was_pending) {
		const struct timespec zero = {0, 0};
		while (sigtimedwait(&pipe_set, NULL, &zero) == SIGPIPE)
			;
	}
	(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
	return r;
}

static int wait_bounded(struct husk_child *ch, int64_t deadline, int *ret_status)
{
	struct pollfd p = {.fd = ch->pidfd, .events = POLLIN};
	int r;

	do
		r = poll(&p, 1, left_ms(deadline));
	while (r < 0 && errno == EINTR);
	if (r == 0) {
		(void)husk_child_kill_and_reap(ch);
		return -ETIMEDOUT;
	}
	int status = husk__wait_pid(ch->pid);
	husk_child_release(ch);
	if (status < 0)
		return status;
	*ret_status = status;
	return 0;
}

static int hook_timeout(const struct husk_hook *h)
{
	return h->timeout.set && h->timeout.v > 0 && h->timeout.v < INT_MAX / 1000
		       ? (int)h->timeout.v
		       : HUSK_HOOK_DEFAULT_TIMEOUT;
}

int husk__hooks_timeout_ms(const struct husk_spec *spec, enum husk_hook_kind kind)
{
	long long ms = 0;

	if (!spec || (unsigned)kind >= _HUSK_HOOK_KIND_MAX)
		return 0;
	for (size_t i = 0; i < spec->hooks.n[kind]; i++)
		ms += (long long)hook_timeout(&spec->hooks.list[kind][i]) * 1000;
	return ms > INT_MAX / 2 ? INT_MAX / 2 : (int)ms;
}

/* What a hook that ran to its end reports: its signal or exit status. */
static int hook_result(int status, struct husk_err *err)
{
	if (WIFSIGNALED(status))
		return husk_err_set(err, HUSK_ERR_INTERNAL, 0, "killed by signal %d",
				    WTERMSIG(status));
	if (WEXITSTATUS(status) != 0)
		return husk_err_set(err, HUSK_ERR_INTERNAL, 0, "exited with status %d",
				    WEXITSTATUS(status));
	return 0;
}

/* Run the hook with the state on its stdin and wait for it, within its timeout. */
static int spawn_and_wait(const struct husk_hook *h, struct hook_arg *a, const char *input,
			  struct husk_err *err)
{
	int in[2];

	if (pipe2(in, O_CLOEXEC) < 0)
		return -errno;
	_cleanup_close_ int in_r = in[0];
	_cleanup_close_ int in_w = in[1];
	struct husk_spawn_fd fds[] = {{in_r, 0, false}, {-1, 1, false}, {-1, 2, false}};
	struct husk_spawn_opts o = {.name = "husk:[hook]", .fds = fds, .n_fds = ARRAY_SIZE(fds)};
	/* An exec failure (no such file) is this call's error, its errno kept. */
	struct husk_spawn_exec x = {
		.path = h->path, .argv = (char *const *)a->argv, .envp = (char *const *)a->envp};
	struct husk_child ch = HUSK_CHILD_NULL;
	int r = husk_spawn_exec(&o, &x, &ch, err);

	if (r < 0)
		return r;
	husk_closep(&in_r);
	/* As runc: the timeout runs from the start, the state's write included. */
	int timeout = hook_timeout(h);
	int64_t deadline = now_ms() + (int64_t)timeout * 1000;
	r = feed_state(in_w, ch.pidfd, input, strlen(input), deadline);
	husk_closep(&in_w);
	int status = 0;
	if (r == 0 || r == -ETIMEDOUT)
		r = wait_bounded(&ch, r == 0 ? deadline : 0, &status);
	else
		(void)husk_child_kill_and_reap(&ch);
	if (r == -ETIMEDOUT)
		return husk_err_set(err, HUSK_ERR_INTERNAL, ETIMEDOUT, "timed out after %ds",
				    timeout);
	if (r < 0)
		return husk_err_errno(err, -r, "wait");
	return hook_result(status, err);
}

static int run_one(const struct husk_hook *h, const char *input, struct husk_err *err)
{
	const char *argv0[] = {h->path, NULL};
	const char *env0[] = {NULL};
	const char **argv = calloc(h->n_args + 1, sizeof(*argv));
	const char **envp = calloc(h->n_env + 1, sizeof(*envp));
	int r = -ENOMEM;

	if (argv && envp) {
		for (size_t i = 0; i < h->n_args; i++)
			argv[i] = h->args[i];
		for (size_t i = 0; i < h->n_env; i++)
			envp[i] = h->env[i];
		struct hook_arg a = {h->n_args ? argv : argv0, h->n_env ? envp : env0};
		r = spawn_and_wait(h, &a, input, err);
	}
	free(argv);
	free(envp);
	return r;
}

int husk__hooks_run(const struct husk_spec *spec, enum husk_hook_kind kind,
		    const struct husk_hook_state *state, struct husk_err *err)
{
	if (!spec || (unsigned)kind >= _HUSK_HOOK_KIND_MAX || spec->hooks.n[kind] == 0)
		return 0;
	_cleanup_free_ char *input = state_json(state);
	if (!input)
		return husk_err_errno(err, ENOMEM, "%s hooks: state", kind_names[kind]);
	for (size_t i = 0; i < spec->hooks.n[kind]; i++) {
		const struct husk_hook *h = &spec->hooks.list[kind][i];
		int r = run_one(h, input, err);
		if (r < 0)
			return husk_err_prefix(err, "%s hook[%zu] '%s'", kind_names[kind], i,
					       h->path);
	}
	return 0;
}
