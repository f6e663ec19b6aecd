/*
 * The shim binary driven directly, as containerd drives it: `start` in a bundle, ttrpc
 * calls on the printed address, events received by our own Events server, `delete` after
 * the daemon is gone. What ctr cannot show: event order, error kinds, Wait on an exited
 * process, Shutdown and socket removal.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <ttrpc/ttrpc.h>
#include <unistd.h>

#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <uv.h>

#include "events/task.pb-c.h"
#include "runtime/task/v2/shim.pb-c.h"
#include "services/ttrpc/events/v1/events.pb-c.h"
#include "testutil.h"

#define TASK "containerd.task.v2.Task"
#define NS   "proto"

#define MAX_EVENTS 32

struct event {
	char topic[64];
	char id[80];	 /* TaskExit.id / container_id of the others */
	uint32_t status; /* TaskExit.exit_status */
};

static struct {
	char *dir;
	char *bundle;
	char *state;
	char *events_path;
	char *address; /* unix:///run/containerd/s/... */
	uv_loop_t loop;
	struct ttrpc_server *events;
	struct ttrpc_client *client;
	struct event ev[MAX_EVENTS];
	size_t n_ev;
	pid_t shim_pid;
} t;

static const char *shim_binary(void)
{
	static char path[4096];
	const char *env = getenv("HUSK_SHIM");

	if (env && *env)
		return env;
	(void)snprintf(path, sizeof(path), "%s/shim/containerd-shim-husk-v2",
		       getenv("HUSK_BINARY_DIR"));
	return path;
}

/* ---- the events server ---- */

static void record(const char *topic, const Google__Protobuf__Any *any)
{
	struct event *e;

	if (t.n_ev >= MAX_EVENTS)
		return;
	e = &t.ev[t.n_ev++];
	memset(e, 0, sizeof(*e));
	(void)snprintf(e->topic, sizeof(e->topic), "%s", topic);
	if (!any)
		return;
	if (strcmp(topic, "/tasks/exit") == 0) {
		Containerd__Events__TaskExit *x = containerd__events__task_exit__unpack(
			NULL, any->value.len, any->value.data);
		if (x) {
			(void)snprintf(e->id, sizeof(e->id), "%s", x->id);
			e->status = x->exit_status;
			containerd__events__task_exit__free_unpacked(x, NULL);
		}
	}
}

static void forward(struct ttrpc_call *call, const struct ttrpc_request *req, void *userdata)
{
	(void)userdata;
	Containerd__Services__Events__Ttrpc__V1__ForwardRequest *fr =
		containerd__services__events__ttrpc__v1__forward_request__unpack(
			NULL, req->payload_len, req->payload);
	if (!fr || !fr->envelope) {
		(void)ttrpc_call_fail(call, TTRPC_INVALID_ARGUMENT, "bad forward");
		if (fr)
			containerd__services__events__ttrpc__v1__forward_request__free_unpacked(
				fr, NULL);
		return;
	}
	/* containerd's checks: a namespace, a /topic and a non-zero timestamp. */
	cr_expect(eq(str, fr->envelope->namespace_, NS));
	cr_expect(fr->envelope->timestamp && fr->envelope->timestamp->seconds > 0);
	cr_expect(fr->envelope->event && strchr(fr->envelope->event->type_url, '/') == NULL,
		  "type URL without prefix");
	record(fr->envelope->topic, fr->envelope->event);
	containerd__services__events__ttrpc__v1__forward_request__free_unpacked(fr, NULL);
	(void)ttrpc_call_reply(call, NULL, 0);
}

/* ---- synchronous calls on the test's loop ---- */

struct reply {
	bool done;
	int error;
	uint32_t code;
	char message[512];
	uint8_t *payload;
	size_t len;
};

static void on_reply(void *userdata, int error, const struct ttrpc_status *status,
		     const uint8_t *payload, size_t len)
{
	struct reply *r = userdata;

	r->done = true;
	r->error = error;
	if (error < 0)
		return;
	r->code = status->code;
	(void)snprintf(r->message, sizeof(r->message), "%s",
		       status->message ? status->message : "");
	if (len > 0) {
		r->payload = malloc(len);
		cr_assert(r->payload != NULL);
		memcpy(r->payload, payload, len);
	}
	r->len = len;
}

static double now_s(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Run the loop until *flag or the deadline (seconds, scaled). */
static bool run_until(const bool *flag, double seconds)
{
	double end = now_s() + testutil_timeout(seconds);

	while (!*flag && now_s() < end)
		(void)uv_run(&t.loop, UV_RUN_ONCE);
	return *flag;
}

static struct reply call_ex(const char *service, const char *method, const ProtobufCMessage *req,
			    double seconds)
{
	struct reply r = {0};
	uint8_t buf[8192];
	size_t len = req ? protobuf_c_message_pack(req, buf) : 0;

	cr_assert(
		eq(int,
		   ttrpc_client_call(t.client, service, method, buf, len, NULL, 0, 0, on_reply, &r),
		   0));
	cr_assert(run_until(&r.done, seconds), "%s %s: no reply", service, method);
	cr_assert(eq(int, r.error, 0), "%s: %s", method, strerror(-r.error));
	return r;
}

static struct reply call(const char *method, const ProtobufCMessage *req)
{
	return call_ex(TASK, method, req, 30);
}

static void reply_done(struct reply *r)
{
	free(r->payload);
	r->payload = NULL;
}

/* ---- fixtures ---- */

static void write_spec(const char *args_json)
{
	char path[4096];
	FILE *f;

	(void)snprintf(path, sizeof(path), "%s/config.json", t.bundle);
	f = fopen(path, "we");
	cr_assert(f != NULL);
	fprintf(f,
		"{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":%s,\"cwd\":\"/\","
		"\"env\":[\"PATH=/bin\"],\"user\":{\"uid\":0,\"gid\":0}},"
		"\"root\":{\"path\":\"rootfs\"},\"hostname\":\"proto\","
		"\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"}],"
		"\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"ipc\"},"
		"{\"type\":\"uts\"},{\"type\":\"mount\"}]}}",
		args_json);
	cr_assert(eq(int, fclose(f), 0));
}

static void setup(void)
{
	char path[4096];

	memset(&t, 0, sizeof(t));
	t.dir = testutil_tmpdir("proto");
	cr_assert(asprintf(&t.bundle, "%s/bundle", t.dir) > 0);
	cr_assert(asprintf(&t.state, "%s/state", t.dir) > 0);
	cr_assert(asprintf(&t.events_path, "%s/events.sock", t.dir) > 0);
	cr_assert(eq(int, mkdir(t.bundle, 0700), 0));
	(void)snprintf(path, sizeof(path), "%s/hack/mkrootfs.sh %s/rootfs >/dev/null",
		       getenv("HUSK_SOURCE_DIR"), t.bundle);
	cr_assert(eq(int, system(path), 0), "mkrootfs");
	cr_assert(eq(int, uv_loop_init(&t.loop), 0));
	cr_assert(eq(int, ttrpc_server_new(&t.loop, NULL, &t.events), 0));
	cr_assert(eq(int,
		     ttrpc_server_register(t.events, "containerd.services.events.ttrpc.v1.Events",
					   "Forward", forward, NULL),
		     0));
	cr_assert(eq(int, ttrpc_server_listen(t.events, t.events_path), 0));
}

static void closed(struct ttrpc_server *s, void *userdata)
{
	(void)s;
	*(bool *)userdata = true;
}

static void client_closed(void *userdata)
{
	*(bool *)userdata = true;
}

static bool pid_gone(pid_t pid, double seconds)
{
	double end = now_s() + testutil_timeout(seconds);

	while (now_s() < end) {
		if (kill(pid, 0) < 0 && errno == ESRCH)
			return true;
		(void)uv_run(&t.loop, UV_RUN_NOWAIT);
		(void)usleep(10000);
	}
	return false;
}

static void teardown(void)
{
	bool done = false;

	if (t.client) {
		ttrpc_client_close(t.client, client_closed, &done);
		(void)run_until(&done, 5);
		done = false;
	}
	if (t.shim_pid > 0 && kill(t.shim_pid, 0) == 0) {
		(void)kill(t.shim_pid, SIGKILL);
		(void)pid_gone(t.shim_pid, 5);
	}
	if (t.events) {
		ttrpc_server_close(t.events, 0, closed, &done);
		(void)run_until(&done, 5);
	}
	(void)uv_loop_close(&t.loop);
	testutil_rmtree_free(t.dir);
	free(t.bundle);
	free(t.state);
	free(t.events_path);
	free(t.address);
}

TestSuite(proto, .init = setup, .fini = teardown, .timeout = 120);

/* Run the shim with an action in the bundle; stdout into *out (malloc'ed, NUL added) and its
 * length into *out_len. Exit status. */
static size_t out_len;

static int shim_action(const char *id, const char *action, char **out)
{
	int p[2];
	pid_t pid;
	int status = 0;
	char buf[4096];
	size_t len = 0;

	cr_assert(eq(int, pipe2(p, O_CLOEXEC), 0));
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		char addr[4096];
		(void)snprintf(addr, sizeof(addr), "%s/containerd.sock", t.dir);
		if (chdir(t.bundle) < 0)
			_exit(126);
		(void)dup2(null, 0);
		(void)dup2(p[1], 1);
		(void)setenv("TTRPC_ADDRESS", t.events_path, 1);
		(void)setenv("HUSK_ROOT", t.state, 1);
		execl(shim_binary(), "containerd-shim-husk-v2", "-namespace", NS, "-address", addr,
		      "-id", id, "-bundle", t.bundle, action, (char *)NULL);
		_exit(127);
	}
	(void)close(p[1]);
	for (;;) {
		ssize_t n = read(p[0], buf + len, sizeof(buf) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	(void)close(p[0]);
	buf[len] = '\0';
	out_len = len;
	cr_assert(eq(int, waitpid(pid, &status, 0), pid));
	if (out) {
		*out = malloc(len + 1);
		cr_assert(*out != NULL);
		memcpy(*out, buf, len + 1);
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* `start` the shim for id and connect to it. */
static void start_shim(const char *id)
{
	Containerd__Task__V2__ConnectRequest req = CONTAINERD__TASK__V2__CONNECT_REQUEST__INIT;

	cr_assert(eq(int, shim_action(id, "start", &t.address), 0), "start: %s", t.address);
	cr_assert(strncmp(t.address, "unix:///run/containerd/s/", 26) == 0, "address '%s'",
		  t.address);
	cr_assert(eq(int, ttrpc_client_new(&t.loop, t.address + 7, &t.client), 0));
	req.id = (char *)id;
	struct reply r = call("Connect", &req.base);
	cr_assert(eq(u32, r.code, 0), "Connect: %s", r.message);
	Containerd__Task__V2__ConnectResponse *resp =
		containerd__task__v2__connect_response__unpack(NULL, r.len, r.payload);
	cr_assert(resp != NULL);
	t.shim_pid = (pid_t)resp->shim_pid;
	cr_assert(t.shim_pid > 0);
	containerd__task__v2__connect_response__free_unpacked(resp, NULL);
	reply_done(&r);
}

static void shutdown_shim(void)
{
	Containerd__Task__V2__ShutdownRequest req = CONTAINERD__TASK__V2__SHUTDOWN_REQUEST__INIT;
	struct reply r = call("Shutdown", &req.base);

	cr_assert(eq(u32, r.code, 0), "Shutdown: %s", r.message);
	reply_done(&r);
	cr_assert(pid_gone(t.shim_pid, 10), "the shim exits after Shutdown with no task");
	cr_assert(access(t.address + 7, F_OK) < 0 && errno == ENOENT,
		  "the socket is removed on exit");
}

static bool wait_events(size_t n, double seconds)
{
	double end = now_s() + testutil_timeout(seconds);

	while (t.n_ev < n && now_s() < end)
		(void)uv_run(&t.loop, UV_RUN_ONCE);
	return t.n_ev >= n;
}

Test(proto, version_and_info)
{
	char cmd[4200];

	(void)snprintf(cmd, sizeof(cmd), "%s -v | grep -q io.containerd.husk.v2", shim_binary());
	cr_assert(eq(int, system(cmd), 0), "-v names the runtime");
	(void)snprintf(cmd, sizeof(cmd), "%s -info </dev/null | grep -q io.containerd.husk.v2",
		       shim_binary());
	cr_assert(eq(int, system(cmd), 0), "-info prints a RuntimeInfo with the name");
}

Test(proto, errors_and_shutdown)
{
	write_spec("[\"true\"]");
	start_shim("p1");

	Containerd__Task__V2__StateRequest st = CONTAINERD__TASK__V2__STATE_REQUEST__INIT;
	st.id = (char *)"nope";
	struct reply r = call("State", &st.base);
	cr_assert(eq(u32, r.code, TTRPC_NOT_FOUND), "unknown task: %s", r.message);
	reply_done(&r);

	r = call("Frobnicate", NULL);
	cr_assert(eq(u32, r.code, TTRPC_UNIMPLEMENTED));
	cr_assert(eq(str, r.message, "method Frobnicate"));
	reply_done(&r);

	r = call_ex("x.Y", "Z", NULL, 10);
	cr_assert(eq(u32, r.code, TTRPC_UNIMPLEMENTED));
	cr_assert(eq(str, r.message, "service x.Y"));
	reply_done(&r);

	/* containerd 2.x speaks v3: the same service. */
	Containerd__Task__V2__ConnectRequest cr = CONTAINERD__TASK__V2__CONNECT_REQUEST__INIT;
	cr.id = (char *)"p1";
	r = call_ex("containerd.task.v3.Task", "Connect", &cr.base, 10);
	cr_assert(eq(u32, r.code, 0), "v3 Connect: %s", r.message);
	reply_done(&r);

	shutdown_shim();
}

Test(proto, second_start_reuses_the_shim)
{
	char *again = NULL;

	write_spec("[\"true\"]");
	start_shim("p2");
	cr_assert(eq(int, shim_action("p2", "start", &again), 0));
	cr_assert(eq(str, again, t.address), "a live shim for the sandbox is reused");
	free(again);
	shutdown_shim();
}

Test(proto, delete_without_shim_is_idempotent)
{
	char *out = NULL;

	write_spec("[\"true\"]");
	cr_assert(eq(int, shim_action("p3", "delete", &out), 0));
	Containerd__Task__V2__DeleteResponse *d =
		containerd__task__v2__delete_response__unpack(NULL, out_len, (uint8_t *)out);
	cr_assert(d != NULL, "delete prints a DeleteResponse");
	cr_assert(eq(u32, d->exit_status, 137), "no state: runc's default 128+SIGKILL");
	cr_assert(d->exited_at && d->exited_at->seconds > 0);
	containerd__task__v2__delete_response__free_unpacked(d, NULL);
	free(out);
}

static void create_start(const char *id, uint32_t *ret_pid)
{
	Containerd__Task__V2__CreateTaskRequest cr =
		CONTAINERD__TASK__V2__CREATE_TASK_REQUEST__INIT;
	Containerd__Task__V2__StartRequest sr = CONTAINERD__TASK__V2__START_REQUEST__INIT;

	cr.id = (char *)id;
	cr.bundle = t.bundle;
	struct reply r = call("Create", &cr.base);
	cr_assert(eq(u32, r.code, 0), "Create: %s", r.message);
	reply_done(&r);

	r = call("Create", &cr.base);
	cr_assert(eq(u32, r.code, TTRPC_ALREADY_EXISTS), "duplicate Create: %s", r.message);
	reply_done(&r);

	sr.id = (char *)id;
	r = call("Start", &sr.base);
	cr_assert(eq(u32, r.code, 0), "Start: %s", r.message);
	Containerd__Task__V2__StartResponse *resp =
		containerd__task__v2__start_response__unpack(NULL, r.len, r.payload);
	cr_assert(resp != NULL && resp->pid > 0);
	*ret_pid = resp->pid;
	containerd__task__v2__start_response__free_unpacked(resp, NULL);
	reply_done(&r);
}

Test(proto, lifecycle_events_and_wait)
{
	uint32_t pid = 0;

	write_spec("[\"sh\",\"-c\",\"exit 3\"]");
	start_shim("p4");
	create_start("p4", &pid);

	Containerd__Task__V2__WaitRequest wr = CONTAINERD__TASK__V2__WAIT_REQUEST__INIT;
	wr.id = (char *)"p4";
	struct reply r = call("Wait", &wr.base);
	cr_assert(eq(u32, r.code, 0), "Wait: %s", r.message);
	Containerd__Task__V2__WaitResponse *w =
		containerd__task__v2__wait_response__unpack(NULL, r.len, r.payload);
	cr_assert(w != NULL);
	cr_assert(eq(u32, w->exit_status, 3));
	cr_assert(w->exited_at && w->exited_at->seconds > 0);
	containerd__task__v2__wait_response__free_unpacked(w, NULL);
	reply_done(&r);

	/* Wait on a process that has exited answers at once. */
	r = call_ex(TASK, "Wait", &wr.base, 2);
	cr_assert(eq(u32, r.code, 0));
	reply_done(&r);

	Containerd__Task__V2__KillRequest kr = CONTAINERD__TASK__V2__KILL_REQUEST__INIT;
	kr.id = (char *)"p4";
	kr.signal = SIGTERM;
	r = call("Kill", &kr.base);
	cr_assert(eq(u32, r.code, TTRPC_NOT_FOUND), "Kill of an exited process: %s", r.message);
	reply_done(&r);

	Containerd__Task__V2__DeleteRequest dr = CONTAINERD__TASK__V2__DELETE_REQUEST__INIT;
	dr.id = (char *)"p4";
	r = call("Delete", &dr.base);
	cr_assert(eq(u32, r.code, 0), "Delete: %s", r.message);
	Containerd__Task__V2__DeleteResponse *d =
		containerd__task__v2__delete_response__unpack(NULL, r.len, r.payload);
	cr_assert(d != NULL);
	cr_assert(eq(u32, d->exit_status, 3));
	cr_assert(eq(u32, d->pid, pid));
	containerd__task__v2__delete_response__free_unpacked(d, NULL);
	reply_done(&r);

	r = call("Wait", &wr.base);
	cr_assert(eq(u32, r.code, TTRPC_NOT_FOUND), "Wait after Delete: %s", r.message);
	reply_done(&r);

	cr_assert(wait_events(4, 10), "%zu events", t.n_ev);
	cr_assert(eq(str, t.ev[0].topic, "/tasks/create"));
	cr_assert(eq(str, t.ev[1].topic, "/tasks/start"));
	cr_assert(eq(str, t.ev[2].topic, "/tasks/exit"));
	cr_assert(eq(str, t.ev[2].id, "p4"), "TaskExit.id is the container id for the init");
	cr_assert(eq(u32, t.ev[2].status, 3));
	cr_assert(eq(str, t.ev[3].topic, "/tasks/delete"));
	shutdown_shim();
}

Test(proto, sigkill_reports_137_and_delete_after_shim_death)
{
	uint32_t pid = 0;
	char *out = NULL;

	write_spec("[\"sleep\",\"1000\"]");
	start_shim("p5");
	create_start("p5", &pid);

	/* The shim dies; containerd then runs `delete`, which must clean up alone. */
	cr_assert(eq(int, kill(t.shim_pid, SIGKILL), 0));
	cr_assert(pid_gone(t.shim_pid, 10));
	cr_assert(eq(int, shim_action("p5", "delete", &out), 0));
	Containerd__Task__V2__DeleteResponse *d =
		containerd__task__v2__delete_response__unpack(NULL, out_len, (uint8_t *)out);
	cr_assert(d != NULL);
	cr_assert(eq(u32, d->pid, pid));
	containerd__task__v2__delete_response__free_unpacked(d, NULL);
	free(out);
	cr_assert(pid_gone((pid_t)pid, 10), "delete killed the container's init");
	cr_assert(access(t.address + 7, F_OK) < 0, "the dead shim's socket is removed");
}
