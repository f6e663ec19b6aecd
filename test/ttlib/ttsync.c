#include "ttsync.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/mman.h>
#include <sys/wait.h>

#include "services/ttrpc/events/v1/events.pb-c.h"

double ttsync_now(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void record(struct ttsync *s, const Containerd__Services__Events__Ttrpc__V1__Envelope *env)
{
	struct ttsync_event *e;

	s->n_ev_total++;
	(void)snprintf(s->ns_seen, sizeof(s->ns_seen), "%s", env->namespace_);
	if (!env->timestamp || env->timestamp->seconds <= 0 ||
	    (env->event && strchr(env->event->type_url, '/')))
		s->bad_event = true;
	if (s->n_ev >= TTSYNC_MAX_EVENTS)
		return;
	e = &s->ev[s->n_ev++];
	memset(e, 0, sizeof(*e));
	(void)snprintf(e->topic, sizeof(e->topic), "%s", env->topic);
	if (!env->event)
		return;
	(void)snprintf(e->type_url, sizeof(e->type_url), "%s", env->event->type_url);
	e->len =
		env->event->value.len < sizeof(e->value) ? env->event->value.len : sizeof(e->value);
	if (e->len)
		memcpy(e->value, env->event->value.data, e->len);
}

static void forward(struct ttrpc_call *call, const struct ttrpc_request *req, void *userdata)
{
	struct ttsync *s = userdata;
	Containerd__Services__Events__Ttrpc__V1__ForwardRequest *fr =
		containerd__services__events__ttrpc__v1__forward_request__unpack(
			NULL, req->payload_len, req->payload);

	if (!fr || !fr->envelope) {
		s->bad_event = true;
		(void)ttrpc_call_fail(call, TTRPC_INVALID_ARGUMENT, "bad forward request");
	} else {
		record(s, fr->envelope);
		(void)ttrpc_call_reply(call, NULL, 0);
	}
	if (fr)
		containerd__services__events__ttrpc__v1__forward_request__free_unpacked(fr, NULL);
}

int ttsync_init(struct ttsync *s, const char *events_path)
{
	int r;

	memset(s, 0, sizeof(*s));
	if ((r = uv_loop_init(&s->loop)) < 0)
		return r;
	if (!events_path)
		return 0;
	if ((r = ttrpc_server_new(&s->loop, NULL, &s->events)) < 0)
		return r;
	if ((r = ttrpc_server_register(s->events, "containerd.services.events.ttrpc.v1.Events",
				       "Forward", forward, s)) < 0)
		return r;
	return ttrpc_server_listen(s->events, events_path);
}

static void client_closed(void *userdata)
{
	*(bool *)userdata = true;
}

static void close_client(struct ttsync *s)
{
	bool done = false;

	if (!s->client)
		return;
	ttrpc_client_close(s->client, client_closed, &done);
	s->client = NULL;
	(void)ttsync_run_until(s, &done, 5);
}

int ttsync_connect(struct ttsync *s, const char *path)
{
	close_client(s);
	return ttrpc_client_new(&s->loop, path, &s->client);
}

static void server_closed(struct ttrpc_server *server, void *userdata)
{
	(void)server;
	*(bool *)userdata = true;
}

void ttsync_done(struct ttsync *s)
{
	bool done = false;

	close_client(s);
	if (s->events) {
		ttrpc_server_close(s->events, 0, server_closed, &done);
		s->events = NULL;
		(void)ttsync_run_until(s, &done, 5);
	}
	(void)uv_run(&s->loop, UV_RUN_NOWAIT);
	(void)uv_loop_close(&s->loop);
}

bool ttsync_run_until(struct ttsync *s, const bool *flag, double timeout_s)
{
	double end = ttsync_now() + timeout_s;

	while (!*flag && ttsync_now() < end)
		(void)uv_run(&s->loop, UV_RUN_ONCE);
	return *flag;
}

bool ttsync_wait_events(struct ttsync *s, size_t n, double timeout_s)
{
	double end = ttsync_now() + timeout_s;

	while (s->n_ev < n && ttsync_now() < end)
		(void)uv_run(&s->loop, UV_RUN_ONCE);
	return s->n_ev >= n;
}

static void on_reply(void *userdata, int error, const struct ttrpc_status *status,
		     const uint8_t *payload, size_t len)
{
	struct ttsync_reply *r = userdata;

	r->done = true;
	r->error = error;
	if (error < 0)
		return;
	r->code = status->code;
	(void)snprintf(r->message, sizeof(r->message), "%s",
		       status->message ? status->message : "");
	if (len > 0) {
		r->payload = malloc(len);
		if (!r->payload) {
			r->error = -ENOMEM;
			return;
		}
		memcpy(r->payload, payload, len);
	}
	r->len = len;
}

int ttsync_call(struct ttsync *s, const char *service, const char *method,
		const ProtobufCMessage *req, double timeout_s, struct ttsync_reply *ret)
{
	int r = ttsync_call_async(s, service, method, req, timeout_s, ret);

	if (r < 0)
		return r;
	if (!ttsync_run_until(s, &ret->done, timeout_s + 30))
		abort();
	return ret->error;
}

int ttsync_call_async(struct ttsync *s, const char *service, const char *method,
		      const ProtobufCMessage *req, double timeout_s, struct ttsync_reply *ret)
{
	uint8_t stack[4096];
	uint8_t *buf = stack;
	size_t len = req ? protobuf_c_message_get_packed_size(req) : 0;
	int r;

	memset(ret, 0, sizeof(*ret));
	if (len > sizeof(stack) && !(buf = malloc(len)))
		return -ENOMEM;
	if (req)
		(void)protobuf_c_message_pack(req, buf);
	/* The client's own timeout ends the call: ret is never written after we return. */
	struct ttrpc_client_request cr = {
		.service = service,
		.method = method,
		.payload = buf,
		.len = len,
		.timeout_ms = (uint64_t)(timeout_s * 1000) + 1,
	};
	r = ttrpc_client_call(s->client, &cr, on_reply, ret);
	if (buf != stack)
		free(buf);
	return r;
}

int ttsync_call_raw(struct ttsync *s, const char *service, const char *method,
		    const uint8_t *payload, size_t len, double timeout_s, struct ttsync_reply *ret)
{
	memset(ret, 0, sizeof(*ret));
	struct ttrpc_client_request cr = {
		.service = service,
		.method = method,
		.payload = payload,
		.len = len,
		.timeout_ms = (uint64_t)(timeout_s * 1000) + 1,
	};
	int r = ttrpc_client_call(s->client, &cr, on_reply, ret);
	if (r < 0)
		return r;
	if (!ttsync_run_until(s, &ret->done, timeout_s + 30))
		abort();
	return ret->error;
}

void ttsync_reply_done(struct ttsync_reply *r)
{
	free(r->payload);
	r->payload = NULL;
	r->len = 0;
}

int ttsync_shim_action(const char *shim, const char *bundle, const char *ns, const char *address,
		       const char *id, const char *action, char *const *env, char *out, size_t size,
		       size_t *ret_len)
{
	return ttsync_shim_action_in(shim, bundle, ns, address, id, action, env, NULL, 0, out, size,
				     ret_len);
}

/* stdin for the action: in[0..in_len) in a memfd, or /dev/null. */
static int stdin_open(const void *in, size_t in_len)
{
	if (!in)
		return open("/dev/null", O_RDONLY | O_CLOEXEC);
	int fd = memfd_create("shim-stdin", MFD_CLOEXEC);
	if (fd < 0)
		return -1;
	if (write(fd, in, in_len) != (ssize_t)in_len || lseek(fd, 0, SEEK_SET) != 0) {
		(void)close(fd);
		return -1;
	}
	return fd;
}

int ttsync_shim_action_in(const char *shim, const char *bundle, const char *ns, const char *address,
			  const char *id, const char *action, char *const *env, const void *in,
			  size_t in_len, char *out, size_t size, size_t *ret_len)
{
	int p[2];
	int status = 0;
	size_t len = 0;
	int infd = stdin_open(in, in_len);

	if (infd < 0)
		return -errno;
	if (pipe2(p, O_CLOEXEC) < 0) {
		int e = errno;
		(void)close(infd);
		return -e;
	}
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		(void)close(p[0]);
		(void)close(p[1]);
		(void)close(infd);
		return -e;
	}
	if (pid == 0) {
		if (chdir(bundle) < 0 || dup2(infd, 0) < 0 || dup2(p[1], 1) < 0)
			_exit(126);
		for (char *const *e = env; e && *e; e++)
			(void)putenv(*e);
		execl(shim, shim, "-namespace", ns, "-address", address, "-publish-binary",
		      "/usr/bin/containerd", "-id", id, "-bundle", bundle, action, (char *)NULL);
		_exit(127);
	}
	(void)close(p[1]);
	(void)close(infd);
	for (;;) {
		ssize_t n = read(p[0], out + len, size - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || len + (size_t)n >= size - 1) {
			if (n > 0)
				len += (size_t)n;
			break;
		}
		len += (size_t)n;
	}
	(void)close(p[0]);
	out[len] = '\0';
	if (ret_len)
		*ret_len = len;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
