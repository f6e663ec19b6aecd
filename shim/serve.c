/*
 * The daemon: one libuv loop serving containerd.task.v2.Task (and v3, wire-identical) on
 * the listener `start` handed over as fd 3, a SIGCHLD reaper as child subreaper, and the
 * events publisher. It exits after Shutdown once no container is left, or on SIGTERM/SIGINT,
 * and removes its socket on every exit path (protocol.md 2.6).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ttrpc/ttrpc.h>
#include <unistd.h>

#include <sys/prctl.h>

#include "errmap.h"
#include "events.h"
#include "husk/cleanup.h"
#include "husk/err.h"
#include "log.h"
#include "reaper.h"
#include "shim.h"
#include "shim_main.h"
#include "trim.h"

#define TASK_SERVICE_V2 "containerd.task.v2.Task"
#define TASK_SERVICE_V3 "containerd.task.v3.Task"
/* Replies already queued (Shutdown's own) get this long to reach containerd. */
#define SERVE_LINGER_MS 1000
/* The Go shim waits up to 5 s for its publisher on the way out. */
#define SERVE_DRAIN_MS 5000

struct shim_call {
	struct ttrpc_call *tc;
	shim_call_cancel_fn *cancel;
	void *cancel_ud;
	char method[32];
};

struct daemon {
	uv_loop_t loop;
	struct ttrpc_server *server;
	struct shim_publisher *pub;
	struct shim_service svc;
	struct shim_reaper reaper;
	uv_signal_t sigterm;
	uv_signal_t sigint;
	const char *socket_path; /* removed on exit */
	bool stopping;
};

/* ---- shim_call on top of ttrpc_call ---- */

static void call_free(struct shim_call *call)
{
	free(call);
}

void shim_call_reply(struct shim_call *call, const ProtobufCMessage *resp)
{
	uint8_t stack[1024];
	size_t len = resp ? protobuf_c_message_get_packed_size(resp) : 0;
	uint8_t *buf = len ? stack : NULL;

	if (len > sizeof(stack)) {
		buf = malloc(len);
		if (!buf) {
			(void)ttrpc_call_fail(call->tc, TTRPC_INTERNAL, "out of memory");
			call_free(call);
			return;
		}
	}
	if (buf)
		(void)protobuf_c_message_pack(resp, buf);
	int r = ttrpc_call_reply(call->tc, buf, len);
	if (r < 0)
		shim_log_warn("reply to %s: %s, dropping it", call->method, strerror(-r));
	if (buf != stack)
		free(buf);
	call_free(call);
}

void shim_call_fail(struct shim_call *call, const struct husk_err *err)
{
	char msg[sizeof(err->msg) + 64];
	uint32_t code = shim_errmap_format(err, msg, sizeof(msg));

	/* The request boundary: the one place a failed request is logged. containerd kills
	 * every task it stops or deletes, exited or not, and takes NotFound as done: that
	 * answer is routine, as quiet as the runc shim keeps it. */
	if (err->kind == HUSK_ERR_NOT_FOUND && strcmp(call->method, "Kill") == 0)
		shim_log_debug("%s: %s", call->method, msg);
	else
		shim_log_error("%s failed: %s", call->method, msg);
	(void)ttrpc_call_fail(call->tc, code, msg);
	call_free(call);
}

static void call_cancelled(struct ttrpc_call *tc, void *userdata)
{
	struct shim_call *call = userdata;

	(void)tc;
	if (call->cancel)
		call->cancel(call->cancel_ud);
	call_free(call);
}

void shim_call_on_cancel(struct shim_call *call, shim_call_cancel_fn *cb, void *userdata)
{
	call->cancel = cb;
	call->cancel_ud = userdata;
	/* Even without a callback the wrapper must go when ttrpc drops the call. */
	ttrpc_call_on_cancel(call->tc, call_cancelled, call);
}

const char *shim_call_method(const struct shim_call *call)
{
	return call->method;
}

static void task_handler(struct ttrpc_call *tc, const struct ttrpc_request *req, void *userdata)
{
	struct daemon *d = userdata;
	struct shim_call *call = NULL;
	bool known = false;

	shim_trim_soon();

	for (size_t i = 0; i < shim_n_task_methods && !known; i++)
		known = strcmp(shim_task_methods[i].name, req->method) == 0;
	if (!known) {
		/* Worded as Go's ttrpc server words it; containerd adds the class itself. */
		char msg[160];
		(void)snprintf(msg, sizeof(msg), "method %s", req->method);
		(void)ttrpc_call_fail(tc, TTRPC_UNIMPLEMENTED, msg);
		return;
	}
	call = calloc(1, sizeof(*call));
	if (!call) {
		(void)ttrpc_call_fail(tc, TTRPC_INTERNAL, "out of memory");
		return;
	}
	call->tc = tc;
	(void)snprintf(call->method, sizeof(call->method), "%s", req->method);
	if (shim_log_enabled(HUSK_LOG_DEBUG))
		shim_log_debug("request %s (stream %u, %zu bytes)", req->method, req->stream_id,
			       req->payload_len);
	shim_task_dispatch(&d->svc, call, req->method, req->payload, req->payload_len);
}

/* ---- lifecycle ---- */

static void remove_socket(struct daemon *d)
{
	if (d->socket_path && unlink(d->socket_path) < 0 && errno != ENOENT)
		shim_log_warn("remove socket '%s': %m, continuing", d->socket_path);
	d->socket_path = NULL;
}

static void server_closed(struct ttrpc_server *server, void *userdata)
{
	struct daemon *d = userdata;

	(void)server;
	d->server = NULL;
	/* Containers left running (SIGTERM) keep running; only our handles on them close. */
	shim_service_done(&d->svc);
	shim_trim_done();
	shim_reaper_stop(&d->reaper);
	uv_close((uv_handle_t *)&d->sigterm, NULL);
	uv_close((uv_handle_t *)&d->sigint, NULL);
	shim_publisher_free(d->pub);
	d->pub = NULL;
}

static void drained(void *userdata, bool all)
{
	struct daemon *d = userdata;

	if (!all)
		shim_log_warn("events still queued after %d ms, exiting anyway", SERVE_DRAIN_MS);
	ttrpc_server_close(d->server, SERVE_LINGER_MS, server_closed, d);
}

static void stop(struct daemon *d, const char *why)
{
	if (d->stopping)
		return;
	d->stopping = true;
	shim_log_info("shim exiting: %s", why);
	/* No new connection may reach a shim that is going away. */
	remove_socket(d);
	shim_publisher_drain(d->pub, SERVE_DRAIN_MS, drained, d);
}

static void on_shutdown(void *userdata)
{
	stop(userdata, "shutdown");
}

static void on_signal(uv_signal_t *h, int signum)
{
	stop(h->data, signum == SIGTERM ? "SIGTERM" : "SIGINT");
}

static void reaped(void *userdata, pid_t pid, int status)
{
	struct daemon *d = userdata;

	shim_service_reaped(&d->svc, pid, status);
}

static const char *events_address(const struct shim_flags *f, char *buf, size_t size)
{
	const char *a = getenv("TTRPC_ADDRESS");

	if (a && *a)
		return a;
	/* containerd's default: its gRPC address + ".ttrpc". */
	if (f->address && *f->address && snprintf(buf, size, "%s.ttrpc", f->address) < (int)size)
		return buf;
	return NULL;
}

static void log_to_fifo(const struct shim_flags *f)
{
	/* containerd opened the bundle's log fifo for reading before it ran `start`. */
	int fd = open("log", O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);

	if (fd >= 0) {
		if (fd != STDERR_FILENO) {
			(void)dup2(fd, STDERR_FILENO);
			(void)close(fd);
		}
	}
	shim_log_init(STDERR_FILENO, f->debug, f->namespace_, f->id);
}

static int setup(struct daemon *d, const struct shim_flags *f, struct husk_err *err)
{
	char buf[4096];
	const char *evaddr = events_address(f, buf, sizeof(buf));
	int r;

	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		return husk_err_errno(err, errno, "become child subreaper");
	if ((r = uv_loop_init(&d->loop)) < 0)
		return husk_err_set(err, HUSK_ERR_INTERNAL, -r, "loop: %s", uv_strerror(r));
	if (!evaddr)
		return husk_err_set(err, HUSK_ERR_INVALID, 0, "no TTRPC_ADDRESS and no -address");
	if ((r = shim_publisher_new(&d->loop, evaddr, f->namespace_, &d->pub)) < 0)
		return husk_err_errno(err, -r, "events publisher");
	shim_service_init(&d->svc, &d->loop, f->namespace_, d->pub, on_shutdown, d);
	if ((r = shim_reaper_start(&d->reaper, &d->loop, reaped, d)) < 0)
		return husk_err_set(err, HUSK_ERR_INTERNAL, -r, "reaper: %s", uv_strerror(r));
	(void)uv_signal_init(&d->loop, &d->sigterm);
	(void)uv_signal_init(&d->loop, &d->sigint);
	d->sigterm.data = d;
	d->sigint.data = d;
	(void)uv_signal_start(&d->sigterm, on_signal, SIGTERM);
	(void)uv_signal_start(&d->sigint, on_signal, SIGINT);

	/* containerd's shims serve only their own user (ttrpc.UnixSocketRequireSameUser). */
	const struct ttrpc_server_options opts = {.require_same_user = true};
	if ((r = ttrpc_server_new(&d->loop, &opts, &d->server)) < 0)
		return husk_err_errno(err, -r, "ttrpc server");
	if ((r = ttrpc_server_register(d->server, TASK_SERVICE_V2, NULL, task_handler, d)) < 0 ||
	    (r = ttrpc_server_register(d->server, TASK_SERVICE_V3, NULL, task_handler, d)) < 0)
		return husk_err_errno(err, -r, "register the task service");
	if (f->socket && *f->socket)
		r = ttrpc_server_listen(d->server, f->socket);
	else
		r = ttrpc_server_adopt(d->server, 3);
	if (r < 0)
		return husk_err_errno(err, -r, "serve on %s", f->socket ? f->socket : "fd 3");
	return 0;
}

/* The operator's GLIBC_TUNABLES again (start set ours for this process only). */
static void restore_tunables(void)
{
	const char *saved = getenv(SHIM_TUNABLES_SAVED);

	if (!saved)
		return;
	if (*saved)
		(void)setenv("GLIBC_TUNABLES", saved, 1);
	else
		(void)unsetenv("GLIBC_TUNABLES");
	(void)unsetenv(SHIM_TUNABLES_SAVED);
}

int shim_serve_main(const struct shim_flags *f)
{
	struct daemon d = {0};
	struct husk_err err = {0};

	/* A reader of a fifo or of the log going away must be EPIPE, never death. */
	(void)signal(SIGPIPE, SIG_IGN);
	restore_tunables();
	log_to_fifo(f);
	d.socket_path = getenv("HUSK_SHIM_SOCKET");
	if (!d.socket_path || !*d.socket_path)
		d.socket_path = f->socket && *f->socket ? f->socket : NULL;
	if (setup(&d, f, &err) < 0) {
		shim_log_error("shim start failed: %s", err.msg);
		remove_socket(&d);
		return 1;
	}
	shim_log_info("shim serving (pid %d)", (int)getpid());
	shim_trim_init(&d.loop);
	shim_trim();
	(void)uv_run(&d.loop, UV_RUN_DEFAULT);
	remove_socket(&d);
	if (uv_loop_close(&d.loop) < 0)
		shim_log_warn("handles still open at exit, exiting anyway");
	return 0;
}
