/*
 * The shim binary driven directly, as containerd drives it: `start` in a bundle, ttrpc
 * calls on the printed address, events received by our own Events server, `delete` after
 * the daemon is gone. What ctr cannot show: event order, error kinds, Wait on an exited
 * process, Shutdown and socket removal.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <ttrpc/ttrpc.h>
#include <unistd.h>

#include <linux/magic.h>
#include <linux/securebits.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/vfs.h>
#include <sys/wait.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <jansson.h>
#include <uv.h>

#include "events/task.pb-c.h"
#include "runc/options/oci.pb-c.h"
#include "runtime/bootstrap/v1/bootstrap.pb-c.h"
#include "runtime/task/v2/shim.pb-c.h"
#include "runtimeoptions/v1/api.pb-c.h"
#include "testutil.h"
#include "ttsync.h"

#define TASK "containerd.task.v2.Task"
#define NS   "proto"

static struct {
	char *dir;
	char *bundle;
	char *state;
	char *events_path;
	char *address; /* unix:///run/containerd/s/... */
	struct ttsync s;
	bool s_up;
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

static struct ttsync_reply call_ex(const char *service, const char *method,
				   const ProtobufCMessage *req, double seconds)
{
	struct ttsync_reply r;
	int e = ttsync_call(&t.s, service, method, req, testutil_timeout(seconds), &r);

	cr_assert(eq(int, e, 0), "%s %s: %s", service, method, strerror(-e));
	return r;
}

static struct ttsync_reply call(const char *method, const ProtobufCMessage *req)
{
	return call_ex(TASK, method, req, 30);
}

static bool pid_gone(pid_t pid, double seconds)
{
	double end = ttsync_now() + testutil_timeout(seconds);

	while (ttsync_now() < end) {
		if (kill(pid, 0) < 0 && errno == ESRCH)
			return true;
		(void)uv_run(&t.s.loop, UV_RUN_NOWAIT);
		(void)usleep(10000);
	}
	return false;
}

/* The topic and TaskExit fields of event i. */
static const char *ev_topic(size_t i)
{
	return t.s.ev[i].topic;
}

static Containerd__Events__TaskExit *ev_exit(size_t i)
{
	Containerd__Events__TaskExit *x =
		containerd__events__task_exit__unpack(NULL, t.s.ev[i].len, t.s.ev[i].value);
	cr_assert(x != NULL, "event %zu is a TaskExit", i);
	return x;
}

/* ---- fixtures ---- */

/* config.json with args, the top-level members given (`"hooks":{...},` or "") and, inside
 * "linux", the extra members given (or ""). */
static void write_spec_full(const char *args_json, const char *top_extra, const char *linux_extra)
{
	char path[4096];
	FILE *f;

	(void)snprintf(path, sizeof(path), "%s/config.json", t.bundle);
	f = fopen(path, "we");
	cr_assert(f != NULL);
	fprintf(f,
		"{\"ociVersion\":\"1.0.2\",%s\"process\":{\"args\":%s,\"cwd\":\"/\","
		"\"env\":[\"PATH=/bin\"],\"user\":{\"uid\":0,\"gid\":0}},"
		"\"root\":{\"path\":\"rootfs\"},\"hostname\":\"proto\","
		"\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"}],"
		"\"linux\":{%s\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"ipc\"},"
		"{\"type\":\"uts\"},{\"type\":\"mount\"}]}}",
		top_extra, args_json, linux_extra);
	cr_assert(eq(int, fclose(f), 0));
}

static void write_spec_ex(const char *args_json, const char *linux_extra)
{
	write_spec_full(args_json, "", linux_extra);
}

static void write_spec(const char *args_json)
{
	write_spec_ex(args_json, "");
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
	cr_assert(eq(int, ttsync_init(&t.s, t.events_path), 0));
	t.s_up = true;
}

static void teardown(void)
{
	if (t.shim_pid > 0 && kill(t.shim_pid, 0) == 0) {
		/* A failed test: the shim gets no chance to remove its socket itself. */
		(void)kill(t.shim_pid, SIGKILL);
		(void)pid_gone(t.shim_pid, 5);
		if (t.address)
			(void)unlink(t.address + 7);
	}
	if (t.s_up)
		ttsync_done(&t.s);
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

static int shim_action_in(const char *bundle, const char *id, const char *action, char **out)
{
	char buf[4096], addr[2200], ev[2200], root[2200];
	char *env[] = {ev, root, NULL};
	size_t len = 0;

	(void)snprintf(addr, sizeof(addr), "%.2000s/containerd.sock", t.dir);
	(void)snprintf(ev, sizeof(ev), "TTRPC_ADDRESS=%.2000s", t.events_path);
	(void)snprintf(root, sizeof(root), "HUSK_ROOT=%.2000s", t.state);
	int r = ttsync_shim_action(shim_binary(), bundle, NS, addr, id, action, env, buf,
				   sizeof(buf), &len);
	cr_assert(ge(int, r, 0), "run the shim: %s", strerror(-r));
	out_len = len;
	if (out) {
		*out = malloc(len + 1);
		cr_assert(out[0] != NULL);
		memcpy(*out, buf, len + 1);
	}
	return r;
}

static int shim_action(const char *id, const char *action, char **out)
{
	return shim_action_in(t.bundle, id, action, out);
}

/* `start` the shim for id and connect to it. */
static void start_shim(const char *id)
{
	Containerd__Task__V2__ConnectRequest req = CONTAINERD__TASK__V2__CONNECT_REQUEST__INIT;

	cr_assert(eq(int, shim_action(id, "start", &t.address), 0), "start: %s", t.address);
	cr_assert(strncmp(t.address, "unix:///run/containerd/s/", 25) == 0, "address '%s'",
		  t.address);
	cr_assert(eq(int, ttsync_connect(&t.s, t.address + 7), 0));
	req.id = (char *)id;
	struct ttsync_reply r = call("Connect", &req.base);
	cr_assert(eq(u32, r.code, 0), "Connect: %s", r.message);
	Containerd__Task__V2__ConnectResponse *resp =
		containerd__task__v2__connect_response__unpack(NULL, r.len, r.payload);
	cr_assert(resp != NULL);
	t.shim_pid = (pid_t)resp->shim_pid;
	cr_assert(t.shim_pid > 0);
	containerd__task__v2__connect_response__free_unpacked(resp, NULL);
	ttsync_reply_done(&r);
}

static void shutdown_shim(void)
{
	Containerd__Task__V2__ShutdownRequest req = CONTAINERD__TASK__V2__SHUTDOWN_REQUEST__INIT;
	struct ttsync_reply r = call("Shutdown", &req.base);

	cr_assert(eq(u32, r.code, 0), "Shutdown: %s", r.message);
	ttsync_reply_done(&r);
	cr_assert(pid_gone(t.shim_pid, 10), "the shim exits after Shutdown with no task");
	cr_assert(access(t.address + 7, F_OK) < 0 && errno == ENOENT,
		  "the socket is removed on exit");
}

/* /proc/PID/environ (the environment the process was started with), NULs and ':'s as
 * '\n'. */
static char *environ_of(pid_t pid)
{
	char path[64];

	(void)snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	cr_assert(fd >= 0, "%s: %s", path, strerror(errno));
	char *env = calloc(1, 65536);
	cr_assert(env != NULL);
	size_t len = 0;
	ssize_t n;
	while (len < 65535 && (n = read(fd, env + len, 65535 - len)) > 0)
		len += (size_t)n;
	(void)close(fd);
	/* glibc's parser of GLIBC_TUNABLES splits its value in place, at the ':'s. */
	for (size_t i = 0; i < len; i++)
		if (env[i] == '\0' || env[i] == ':')
			env[i] = '\n';
	return env;
}

/*
 * The daemon runs with glibc's per-thread malloc cache off (it pins freed heap pages of a
 * single-threaded process), added to the operator's GLIBC_TUNABLES, whose own value it keeps
 * to give back; an operator who set tcache_count keeps it.
 */
Test(proto, daemon_runs_without_the_malloc_thread_cache)
{
	static const struct {
		const char *given; /* GLIBC_TUNABLES=... for start, NULL: unset */
		const char *want;  /* in the daemon's environment at its start */
		const char *saved;
	} cases[] = {
		{NULL, "\nGLIBC_TUNABLES=glibc.malloc.tcache_count=0\n",
		 "\nHUSK_SHIM_GLIBC_TUNABLES=\n"},
		{"glibc.malloc.check=0",
		 "\nGLIBC_TUNABLES=glibc.malloc.check=0\nglibc.malloc.tcache_count=0\n",
		 "\nHUSK_SHIM_GLIBC_TUNABLES=glibc.malloc.check=0\n"},
		{"glibc.malloc.tcache_count=3", "\nGLIBC_TUNABLES=glibc.malloc.tcache_count=3\n",
		 NULL},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char buf[4096], addr[2200], ev[2200], root[2200], tun[128], id[32];
		char *env[] = {ev, root, cases[i].given ? tun : NULL, NULL};
		size_t n = 0;

		(void)snprintf(addr, sizeof(addr), "%.2000s/containerd.sock", t.dir);
		(void)snprintf(ev, sizeof(ev), "TTRPC_ADDRESS=%.2000s", t.events_path);
		(void)snprintf(root, sizeof(root), "HUSK_ROOT=%.2000s", t.state);
		(void)snprintf(tun, sizeof(tun), "GLIBC_TUNABLES=%s",
			       cases[i].given ? cases[i].given : "");
		(void)snprintf(id, sizeof(id), "tun%zu", i);
		write_spec("[\"true\"]");
		int r = ttsync_shim_action_in(shim_binary(), t.bundle, NS, addr, id, "start", env,
					      NULL, 0, buf, sizeof(buf), &n);
		cr_assert(eq(int, r, 0), "start: %s", buf);
		free(t.address);
		t.address = strdup(buf);
		cr_assert(eq(int, ttsync_connect(&t.s, t.address + 7), 0));
		Containerd__Task__V2__ConnectRequest req =
			CONTAINERD__TASK__V2__CONNECT_REQUEST__INIT;
		req.id = id;
		struct ttsync_reply c = call("Connect", &req.base);
		cr_assert(eq(u32, c.code, 0), "Connect: %s", c.message);
		Containerd__Task__V2__ConnectResponse *resp =
			containerd__task__v2__connect_response__unpack(NULL, c.len, c.payload);
		cr_assert(resp != NULL);
		t.shim_pid = (pid_t)resp->shim_pid;
		containerd__task__v2__connect_response__free_unpacked(resp, NULL);
		ttsync_reply_done(&c);

		char *denv = environ_of(t.shim_pid);
		char *all = NULL;
		cr_assert(asprintf(&all, "\n%s", denv) > 0);
		cr_assert(strstr(all, cases[i].want) != NULL, "case %zu: not '%s' in:%s", i,
			  cases[i].want, all);
		if (cases[i].saved)
			cr_assert(strstr(all, cases[i].saved) != NULL, "case %zu: not '%s' in:%s",
				  i, cases[i].saved, all);
		else
			cr_assert(strstr(all, "HUSK_SHIM_GLIBC_TUNABLES") == NULL, "case %zu: %s",
				  i, all);
		free(all);
		free(denv);
		shutdown_shim();
		t.shim_pid = 0;
	}
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
	struct ttsync_reply r = call("State", &st.base);
	cr_assert(eq(u32, r.code, TTRPC_NOT_FOUND), "unknown task: %s", r.message);
	ttsync_reply_done(&r);

	r = call("Frobnicate", NULL);
	cr_assert(eq(u32, r.code, TTRPC_UNIMPLEMENTED));
	cr_assert(eq(str, r.message, "method Frobnicate"));
	ttsync_reply_done(&r);

	r = call_ex("x.Y", "Z", NULL, 10);
	cr_assert(eq(u32, r.code, TTRPC_UNIMPLEMENTED));
	cr_assert(eq(str, r.message, "service x.Y"));
	ttsync_reply_done(&r);

	/* containerd 2.x speaks v3: the same service. */
	Containerd__Task__V2__ConnectRequest cr = CONTAINERD__TASK__V2__CONNECT_REQUEST__INIT;
	cr.id = (char *)"p1";
	r = call_ex("containerd.task.v3.Task", "Connect", &cr.base, 10);
	cr_assert(eq(u32, r.code, 0), "v3 Connect: %s", r.message);
	ttsync_reply_done(&r);

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
	struct ttsync_reply r = call("Create", &cr.base);
	cr_assert(eq(u32, r.code, 0), "Create: %s", r.message);
	ttsync_reply_done(&r);

	r = call("Create", &cr.base);
	cr_assert(eq(u32, r.code, TTRPC_ALREADY_EXISTS), "duplicate Create: %s", r.message);
	ttsync_reply_done(&r);

	sr.id = (char *)id;
	r = call("Start", &sr.base);
	cr_assert(eq(u32, r.code, 0), "Start: %s", r.message);
	Containerd__Task__V2__StartResponse *resp =
		containerd__task__v2__start_response__unpack(NULL, r.len, r.payload);
	cr_assert(resp != NULL && resp->pid > 0);
	*ret_pid = resp->pid;
	containerd__task__v2__start_response__free_unpacked(resp, NULL);
	ttsync_reply_done(&r);
}

Test(proto, lifecycle_events_and_wait)
{
	uint32_t pid = 0;

	write_spec("[\"sh\",\"-c\",\"exit 3\"]");
	start_shim("p4");
	create_start("p4", &pid);

	Containerd__Task__V2__WaitRequest wr = CONTAINERD__TASK__V2__WAIT_REQUEST__INIT;
	wr.id = (char *)"p4";
	struct ttsync_reply r = call("Wait", &wr.base);
	cr_assert(eq(u32, r.code, 0), "Wait: %s", r.message);
	Containerd__Task__V2__WaitResponse *w =
		containerd__task__v2__wait_response__unpack(NULL, r.len, r.payload);
	cr_assert(w != NULL);
	cr_assert(eq(u32, w->exit_status, 3));
	cr_assert(w->exited_at && w->exited_at->seconds > 0);
	containerd__task__v2__wait_response__free_unpacked(w, NULL);
	ttsync_reply_done(&r);

	/* Wait on a process that has exited answers at once. */
	r = call_ex(TASK, "Wait", &wr.base, 2);
	cr_assert(eq(u32, r.code, 0));
	ttsync_reply_done(&r);

	Containerd__Task__V2__KillRequest kr = CONTAINERD__TASK__V2__KILL_REQUEST__INIT;
	kr.id = (char *)"p4";
	kr.signal = SIGTERM;
	r = call("Kill", &kr.base);
	cr_assert(eq(u32, r.code, TTRPC_NOT_FOUND), "Kill of an exited process: %s", r.message);
	ttsync_reply_done(&r);

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
	ttsync_reply_done(&r);

	r = call("Wait", &wr.base);
	cr_assert(eq(u32, r.code, TTRPC_NOT_FOUND), "Wait after Delete: %s", r.message);
	ttsync_reply_done(&r);

	cr_assert(ttsync_wait_events(&t.s, 4, testutil_timeout(10)), "%zu events", t.s.n_ev);
	cr_assert(eq(int, t.s.bad_event, 0), "every envelope is one containerd accepts");
	cr_assert(eq(str, t.s.ns_seen, NS));
	cr_assert(eq(str, (char *)ev_topic(0), "/tasks/create"));
	cr_assert(eq(str, (char *)ev_topic(1), "/tasks/start"));
	cr_assert(eq(str, (char *)ev_topic(2), "/tasks/exit"));
	cr_assert(eq(str, t.s.ev[2].type_url, "containerd.events.TaskExit"));
	Containerd__Events__TaskExit *x = ev_exit(2);
	cr_assert(eq(str, x->id, "p4"), "TaskExit.id is the container id for the init");
	cr_assert(eq(u32, x->exit_status, 3));
	cr_assert(eq(u32, x->pid, pid));
	containerd__events__task_exit__free_unpacked(x, NULL);
	cr_assert(eq(str, (char *)ev_topic(3), "/tasks/delete"));
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

/* The topics received from event from on, in order, as one string ("/tasks/create
 * /tasks/start ..."). */
static char *topics_since(size_t from)
{
	static char buf[4096];
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = from; i < t.s.n_ev && len < sizeof(buf) - 80; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s", i > from ? " " : "",
					ev_topic(i));
	return buf;
}

/* The topics received so far. */
static char *topics(void)
{
	return topics_since(0);
}

static size_t find_event(const char *topic, size_t from)
{
	for (size_t i = from; i < t.s.n_ev; i++)
		if (strcmp(ev_topic(i), topic) == 0)
			return i;
	return (size_t)-1;
}

static void exec_start(const char *id, const char *exec_id, const char *args_json,
		       struct ttsync_reply *wait)
{
	char spec[512];
	Containerd__Task__V2__ExecProcessRequest er =
		CONTAINERD__TASK__V2__EXEC_PROCESS_REQUEST__INIT;
	Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
	Containerd__Task__V2__WaitRequest wr = CONTAINERD__TASK__V2__WAIT_REQUEST__INIT;
	Containerd__Task__V2__StartRequest sr = CONTAINERD__TASK__V2__START_REQUEST__INIT;
	int n = snprintf(spec, sizeof(spec),
			 "{\"args\":%s,\"cwd\":\"/\",\"env\":[\"PATH=/bin\"],"
			 "\"user\":{\"uid\":0,\"gid\":0}}",
			 args_json);

	any.type_url = (char *)"types.containerd.io/opencontainers/runtime-spec/1/Process";
	any.value.data = (uint8_t *)spec;
	any.value.len = (size_t)n;
	er.id = (char *)id;
	er.exec_id = (char *)exec_id;
	er.spec = &any;
	struct ttsync_reply r = call("Exec", &er.base);
	cr_assert(eq(u32, r.code, 0), "Exec: %s", r.message);
	ttsync_reply_done(&r);
	/* containerd sends Wait(exec) before Start(exec) (protocol.md pitfall 1). */
	wr.id = (char *)id;
	wr.exec_id = (char *)exec_id;
	cr_assert(eq(int,
		     ttsync_call_async(&t.s, TASK, "Wait", &wr.base, testutil_timeout(60), wait),
		     0));
	sr.id = (char *)id;
	sr.exec_id = (char *)exec_id;
	r = call("Start", &sr.base);
	cr_assert(eq(u32, r.code, 0), "Start exec: %s", r.message);
	ttsync_reply_done(&r);
}

static uint32_t wait_status(struct ttsync_reply *w)
{
	cr_assert(ttsync_run_until(&t.s, &w->done, testutil_timeout(60)), "Wait answered");
	cr_assert(eq(int, w->error, 0));
	cr_assert(eq(u32, w->code, 0), "Wait: %s", w->message);
	Containerd__Task__V2__WaitResponse *resp =
		containerd__task__v2__wait_response__unpack(NULL, w->len, w->payload);
	cr_assert(resp != NULL);
	uint32_t st = resp->exit_status;
	containerd__task__v2__wait_response__free_unpacked(resp, NULL);
	ttsync_reply_done(w);
	return st;
}

/* The exit status of id's init, from a Wait sent now. */
static uint32_t wait_exit(const char *id)
{
	Containerd__Task__V2__WaitRequest wr = CONTAINERD__TASK__V2__WAIT_REQUEST__INIT;
	struct ttsync_reply w;

	wr.id = (char *)id;
	cr_assert(eq(int, ttsync_call_async(&t.s, TASK, "Wait", &wr.base, testutil_timeout(60), &w),
		     0));
	return wait_status(&w);
}

static void kill_task(const char *id, const char *exec_id, int sig, uint32_t want_code)
{
	Containerd__Task__V2__KillRequest kr = CONTAINERD__TASK__V2__KILL_REQUEST__INIT;

	kr.id = (char *)id;
	kr.exec_id = (char *)(exec_id ? exec_id : "");
	kr.signal = (uint32_t)sig;
	struct ttsync_reply r = call("Kill", &kr.base);
	cr_assert(eq(u32, r.code, want_code), "Kill: %s", r.message);
	ttsync_reply_done(&r);
}

static void delete_task(const char *id, const char *exec_id)
{
	Containerd__Task__V2__DeleteRequest dr = CONTAINERD__TASK__V2__DELETE_REQUEST__INIT;

	dr.id = (char *)id;
	dr.exec_id = (char *)(exec_id ? exec_id : "");
	struct ttsync_reply r = call("Delete", &dr.base);
	cr_assert(eq(u32, r.code, 0), "Delete: %s", r.message);
	ttsync_reply_done(&r);
}

Test(proto, exec_pause_events_and_exec_exits_first)
{
	uint32_t pid = 0;
	struct ttsync_reply w1, w2, winit;
	Containerd__Task__V2__PauseRequest pr = CONTAINERD__TASK__V2__PAUSE_REQUEST__INIT;
	Containerd__Task__V2__ResumeRequest rr = CONTAINERD__TASK__V2__RESUME_REQUEST__INIT;
	Containerd__Task__V2__WaitRequest wr = CONTAINERD__TASK__V2__WAIT_REQUEST__INIT;

	write_spec("[\"sleep\",\"1000\"]");
	start_shim("p6");
	create_start("p6", &pid);

	exec_start("p6", "e1", "[\"sh\",\"-c\",\"exit 5\"]", &w1);
	cr_assert(eq(u32, wait_status(&w1), 5), "the exec's own exit status");

	pr.id = (char *)"p6";
	struct ttsync_reply r = call("Pause", &pr.base);
	cr_assert(eq(u32, r.code, 0), "Pause: %s", r.message);
	ttsync_reply_done(&r);
	rr.id = (char *)"p6";
	r = call("Resume", &rr.base);
	cr_assert(eq(u32, r.code, 0), "Resume: %s", r.message);
	ttsync_reply_done(&r);

	/* A long exec, then the init dies: the exec's exit is published first. */
	exec_start("p6", "e2", "[\"sleep\",\"1000\"]", &w2);
	wr.id = (char *)"p6";
	cr_assert(eq(int,
		     ttsync_call_async(&t.s, TASK, "Wait", &wr.base, testutil_timeout(60), &winit),
		     0));
	kill_task("p6", NULL, SIGKILL, 0);
	cr_assert(eq(u32, wait_status(&winit), 137));
	cr_assert(eq(u32, wait_status(&w2), 137), "the exec dies with its container");

	delete_task("p6", "e1");
	delete_task("p6", "e2");
	delete_task("p6", NULL);
	cr_assert(ttsync_wait_events(&t.s, 12, testutil_timeout(10)), "events: %s", topics());
	cr_assert(eq(str, topics(),
		     "/tasks/create /tasks/start /tasks/exec-added /tasks/exec-started "
		     "/tasks/exit /tasks/paused /tasks/resumed /tasks/exec-added "
		     "/tasks/exec-started /tasks/exit /tasks/exit /tasks/delete"));
	Containerd__Events__TaskExit *x = ev_exit(4);
	cr_assert(eq(str, x->id, "e1"), "TaskExit.id is the exec id for an exec");
	cr_assert(eq(str, x->container_id, "p6"));
	cr_assert(eq(u32, x->exit_status, 5));
	containerd__events__task_exit__free_unpacked(x, NULL);
	x = ev_exit(9);
	cr_assert(eq(str, x->id, "e2"), "exec exits are published before the init's");
	containerd__events__task_exit__free_unpacked(x, NULL);
	x = ev_exit(10);
	cr_assert(eq(str, x->id, "p6"));
	cr_assert(eq(u32, x->pid, pid));
	containerd__events__task_exit__free_unpacked(x, NULL);
	shutdown_shim();
}

/* A request whose field 1 (id) holds len bytes of id, then field 2 (bundle or exec_id). */
static struct ttsync_reply call_with_raw_id2(const char *method, const char *id, size_t len,
					     const char *field2, size_t l2)
{
	uint8_t buf[4096];
	size_t n = 0;
	struct ttsync_reply r;

	cr_assert(len < 100 && l2 < 2000);
	buf[n++] = 0x0a;
	buf[n++] = (uint8_t)len;
	memcpy(buf + n, id, len);
	n += len;
	if (l2 > 0) {
		buf[n++] = 0x12;
		buf[n++] = (uint8_t)(0x80 | (l2 & 0x7f));
		buf[n++] = (uint8_t)(l2 >> 7);
		memcpy(buf + n, field2, l2);
		n += l2;
	}
	int e = ttsync_call_raw(&t.s, TASK, method, buf, n, testutil_timeout(30), &r);
	cr_assert(eq(int, e, 0), "%s: %s", method, strerror(-e));
	return r;
}

static struct ttsync_reply call_with_raw_id(const char *method, const char *id, size_t len,
					    const char *field2)
{
	return call_with_raw_id2(method, id, len, field2, strlen(field2));
}

Test(proto, ids_with_nul_are_invalid_argument)
{
	uint32_t pid = 0;
	struct ttsync_reply w;
	Containerd__Task__V2__WaitRequest wr = CONTAINERD__TASK__V2__WAIT_REQUEST__INIT;
	Containerd__Task__V2__StateRequest sr = CONTAINERD__TASK__V2__STATE_REQUEST__INIT;

	write_spec("[\"sleep\",\"1000\"]");
	start_shim("c1");
	create_start("c1", &pid);

	struct ttsync_reply r = call_with_raw_id("State", "c1\0junk", 7, "");
	cr_assert(eq(u32, r.code, TTRPC_INVALID_ARGUMENT), "State{c1\\0junk}: %s", r.message);
	cr_assert(strstr(r.message, "StateRequest.id: string holds a NUL byte") != NULL, "%s",
		  r.message);
	ttsync_reply_done(&r);
	r = call_with_raw_id2("State", "c1", 2, "e\0", 2);
	cr_assert(eq(u32, r.code, TTRPC_INVALID_ARGUMENT), "State{exec_id e\\0}: %s", r.message);
	ttsync_reply_done(&r);
	r = call_with_raw_id("Kill", "c1\0", 3, "");
	cr_assert(eq(u32, r.code, TTRPC_INVALID_ARGUMENT), "Kill{c1\\0}: %s", r.message);
	ttsync_reply_done(&r);

	r = call_with_raw_id("Create", "a\0b", 3, t.bundle);
	cr_assert(eq(u32, r.code, TTRPC_INVALID_ARGUMENT), "Create{a\\0b}: %s", r.message);
	ttsync_reply_done(&r);
	r = call_with_raw_id("Create", "a b", 3, t.bundle);
	cr_assert(eq(u32, r.code, TTRPC_INVALID_ARGUMENT), "Create{a b}: %s", r.message);
	cr_assert(strstr(r.message, "identifier \"a b\" must match") != NULL, "%s", r.message);
	ttsync_reply_done(&r);
	sr.id = (char *)"a";
	r = call("State", &sr.base);
	cr_assert(eq(u32, r.code, TTRPC_NOT_FOUND), "no container 'a' was created: %s", r.message);
	ttsync_reply_done(&r);
	cr_assert(ttsync_wait_events(&t.s, 2, testutil_timeout(10)));
	cr_assert(eq(str, topics(), "/tasks/create /tasks/start"), "nothing else happened");

	wr.id = (char *)"c1";
	cr_assert(eq(int, ttsync_call_async(&t.s, TASK, "Wait", &wr.base, testutil_timeout(60), &w),
		     0));
	kill_task("c1", NULL, SIGKILL, 0);
	cr_assert(eq(u32, wait_status(&w), 137), "c1 ran until killed");
	delete_task("c1", NULL);
	shutdown_shim();
}

/* In a child running as uid/gid 65534: connect to the shim and ask for State. Exit status 0
 * when the connection is refused (closed without an answer), 1 when it is answered. */
static int state_as_nobody(const char *id)
{
	pid_t pid = fork();

	cr_assert(ge(int, pid, 0));
	if (pid == 0) {
		struct ttsync s;
		struct ttsync_reply r;
		Containerd__Task__V2__StateRequest sr = CONTAINERD__TASK__V2__STATE_REQUEST__INIT;

		/* Keep the capabilities across setuid, so that the 0700 directories and the 0600
		 * socket do not stop us first: the server's own check has to. */
		if (prctl(PR_SET_SECUREBITS, SECBIT_NO_SETUID_FIXUP) < 0 ||
		    setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0)
			_exit(3);
		/* The server closes on us: a write then is EPIPE, not death. */
		(void)signal(SIGPIPE, SIG_IGN);
		if (ttsync_init(&s, NULL) < 0 || ttsync_connect(&s, t.address + 7) < 0)
			_exit(4);
		sr.id = (char *)id;
		int e = ttsync_call(&s, TASK, "State", &sr.base, 10, &r);
		_exit(e < 0 ? 0 : 1);
	}
	int status = 0;
	cr_assert(eq(int, waitpid(pid, &status, 0), pid));
	bool exited = WIFEXITED(status);
	cr_assert(exited, "status %d", status);
	return WEXITSTATUS(status);
}

Test(proto, other_users_are_refused)
{
	uint32_t pid = 0;
	Containerd__Task__V2__StateRequest sr = CONTAINERD__TASK__V2__STATE_REQUEST__INIT;

	write_spec("[\"sleep\",\"1000\"]");
	start_shim("u1");
	create_start("u1", &pid);
	cr_assert(eq(int, state_as_nobody("u1"), 0), "uid 65534 got an answer");

	sr.id = (char *)"u1";
	struct ttsync_reply r = call("State", &sr.base);
	cr_assert(eq(u32, r.code, 0), "root is still served: %s", r.message);
	ttsync_reply_done(&r);
	kill_task("u1", NULL, SIGKILL, 0);
	cr_assert(eq(u32, wait_exit("u1"), 137));
	delete_task("u1", NULL);
	shutdown_shim();
}

static long rss_kib(pid_t pid)
{
	char path[64], line[256];
	long kib = -1;

	(void)snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "re");
	cr_assert(f != NULL);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	(void)fclose(f);
	return kib;
}

struct many_states {
	size_t done;
	size_t ok;
};

static void many_state_cb(void *userdata, int error, const struct ttrpc_status *status,
			  const uint8_t *payload, size_t len)
{
	struct many_states *m = userdata;

	(void)payload;
	(void)len;
	m->done++;
	m->ok += error == 0 && status->code == 0;
}

/* State of id on n connections open at the same time; how many were answered. */
static size_t state_on_many_connections(const char *id, size_t n)
{
	struct ttrpc_client **c = calloc(n, sizeof(*c));
	struct many_states m = {0};
	Containerd__Task__V2__StateRequest sr = CONTAINERD__TASK__V2__STATE_REQUEST__INIT;
	uint8_t buf[128];

	sr.id = (char *)id;
	size_t len = protobuf_c_message_pack(&sr.base, buf);
	for (size_t i = 0; i < n; i++) {
		cr_assert(eq(int, ttrpc_client_new(&t.s.loop, t.address + 7, &c[i]), 0));
		cr_assert(eq(int,
			     ttrpc_client_call(
				     c[i],
				     &(struct ttrpc_client_request){
					     .service = TASK,
					     .method = "State",
					     .payload = buf,
					     .len = len,
					     .timeout_ms = (uint64_t)testutil_timeout(30) * 1000},
				     many_state_cb, &m),
			     0));
	}
	double end = ttsync_now() + testutil_timeout(60);
	while (m.done < n && ttsync_now() < end)
		(void)uv_run(&t.s.loop, UV_RUN_ONCE);
	for (size_t i = 0; i < n; i++)
		ttrpc_client_close(c[i], NULL, NULL);
	(void)uv_run(&t.s.loop, UV_RUN_NOWAIT);
	free(c);
	return m.ok;
}

static void expect_running(const char *id)
{
	Containerd__Task__V2__StateRequest sr = CONTAINERD__TASK__V2__STATE_REQUEST__INIT;

	sr.id = (char *)id;
	struct ttsync_reply r = call("State", &sr.base);
	cr_assert(eq(u32, r.code, 0), "State: %s", r.message);
	Containerd__Task__V2__StateResponse *st =
		containerd__task__v2__state_response__unpack(NULL, r.len, r.payload);
	cr_assert(st != NULL);
	cr_assert(eq(int, st->status, CONTAINERD__V1__TYPES__STATUS__RUNNING));
	containerd__task__v2__state_response__free_unpacked(st, NULL);
	ttsync_reply_done(&r);
}

/* containerd 1.6 holds one connection per task: 100 at once are all served (the old fixed
 * cap was 64). Then 10,000 connections that never talk and 1,000 that stall mid-frame: the
 * shim's memory stays bounded, and a client that talks (a restarted containerd) is still
 * served, the container running. */
Test(proto, many_connections_and_a_flood)
{
	enum { FLOOD = 10000, SLOWLORIS = 1000 };
	uint32_t pid = 0;
	struct ttsync_reply w;
	Containerd__Task__V2__WaitRequest wr = CONTAINERD__TASK__V2__WAIT_REQUEST__INIT;

	write_spec("[\"sleep\",\"1000\"]");
	start_shim("m1");
	create_start("m1", &pid);
	cr_assert(eq(sz, state_on_many_connections("m1", 100), 100), "all 100 answered");

	long before = rss_kib(t.shim_pid);
	int *fd = calloc(FLOOD, sizeof(*fd));
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	(void)snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", t.address + 7);
	for (int i = 0; i < FLOOD; i++) {
		fd[i] = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		cr_assert(ge(int, fd[i], 0), "socket %d: %s", i, strerror(errno));
		/* A blocking connect waits while the backlog is full: the shim's own pace. */
		cr_assert(eq(int, connect(fd[i], (struct sockaddr *)&addr, sizeof(addr)), 0),
			  "connect %d: %s", i, strerror(errno));
	}
	/* Slowloris: frames announced at the 4 MiB limit, a few bytes sent, then nothing. */
	int *slow = calloc(SLOWLORIS, sizeof(*slow));
	static const uint8_t half[] = {0x00, 0x40, 0x00, 0x00, 0, 0, 0, 1, 1, 0, 0x0a, 0x20};
	for (int i = 0; i < SLOWLORIS; i++) {
		slow[i] = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		cr_assert(ge(int, slow[i], 0));
		cr_assert(eq(int, connect(slow[i], (struct sockaddr *)&addr, sizeof(addr)), 0));
		cr_assert(eq(sz, (size_t)send(slow[i], half, sizeof(half), MSG_NOSIGNAL),
			     sizeof(half)));
	}
	/* A restarted containerd connects while the flood holds its sockets open. While the
	 * shim is still accepting the flood, the listen backlog may be full: the kernel then
	 * refuses a connect with EAGAIN, and a client tries again. */
	double end = ttsync_now() + testutil_timeout(30);
	int e = -EAGAIN;
	struct ttsync_reply r;
	Containerd__Task__V2__StateRequest sr = CONTAINERD__TASK__V2__STATE_REQUEST__INIT;
	sr.id = (char *)"m1";
	while (e == -EAGAIN && ttsync_now() < end) {
		cr_assert(eq(int, ttsync_connect(&t.s, t.address + 7), 0));
		e = ttsync_call(&t.s, TASK, "State", &sr.base, testutil_timeout(30), &r);
		if (e == 0)
			ttsync_reply_done(&r);
	}
	cr_assert(eq(int, e, 0), "State after the flood: %s", strerror(-e));
	expect_running("m1");
	long after = rss_kib(t.shim_pid);
	cr_log_info("shim VmRSS %ld KiB before, %ld KiB with %d idle and %d slowloris "
		    "connections",
		    before, after, FLOOD, SLOWLORIS);
	cr_expect(lt(long, after - before, 64 * 1024), "RSS grew by %ld KiB", after - before);
	for (int i = 0; i < FLOOD; i++)
		(void)close(fd[i]);
	free(fd);
	for (int i = 0; i < SLOWLORIS; i++)
		(void)close(slow[i]);
	free(slow);
	cr_assert(eq(sz, state_on_many_connections("m1", 100), 100), "served after the flood");

	wr.id = (char *)"m1";
	cr_assert(eq(int, ttsync_call_async(&t.s, TASK, "Wait", &wr.base, testutil_timeout(60), &w),
		     0));
	kill_task("m1", NULL, SIGKILL, 0);
	cr_assert(eq(u32, wait_status(&w), 137), "the container ran until killed");
	delete_task("m1", NULL);
	shutdown_shim();
}

/* containerd could not reach the shim (say, locked out after a restart), took it for dead
 * and ran `delete`: the container is killed and its state removed. The shim, left with no
 * task, exits instead of living on serving nothing. */
Test(proto, shim_exits_when_its_last_task_is_deleted_from_outside)
{
	uint32_t pid = 0;
	char *out = NULL;

	write_spec("[\"sleep\",\"1000\"]");
	start_shim("g1");
	create_start("g1", &pid);
	cr_assert(eq(int, shim_action("g1", "delete", &out), 0), "delete: %s", out);
	free(out);
	cr_assert(pid_gone((pid_t)pid, 10), "the container was killed");
	cr_assert(pid_gone(t.shim_pid, 15), "the shim exited");
	cr_assert(access(t.address + 7, F_OK) < 0 && errno == ENOENT, "its socket is removed");
}

Test(proto, oom_is_published_before_the_exit)
{
	uint32_t pid = 0;
	struct ttsync_reply w;
	Containerd__Task__V2__WaitRequest wr = CONTAINERD__TASK__V2__WAIT_REQUEST__INIT;
	char cg[128];

	/* A shell doubling a string until the 16 MiB limit kills it. */
	(void)snprintf(cg, sizeof(cg),
		       "\"cgroupsPath\":\"/husk-proto-oom-%d\",\"resources\":{\"memory\":"
		       "{\"limit\":16777216,\"swap\":16777216}},",
		       (int)getpid());
	write_spec_ex("[\"sh\",\"-c\",\"x=0123456789; while :; do x=$x$x; done\"]", cg);
	start_shim("p7");
	create_start("p7", &pid);
	wr.id = (char *)"p7";
	cr_assert(eq(int, ttsync_call_async(&t.s, TASK, "Wait", &wr.base, testutil_timeout(60), &w),
		     0));
	cr_assert(eq(u32, wait_status(&w), 137), "an OOM kill is a SIGKILL");
	delete_task("p7", NULL);
	cr_assert(ttsync_wait_events(&t.s, 5, testutil_timeout(10)), "events: %s", topics());
	size_t oom = find_event("/tasks/oom", 0);
	size_t exit_ = find_event("/tasks/exit", 0);
	cr_assert(oom != (size_t)-1, "an OOM event: %s", topics());
	cr_assert(lt(sz, oom, exit_), "/tasks/oom before /tasks/exit: %s", topics());
	shutdown_shim();
}

Test(proto, pod_containers_share_one_shim)
{
	uint32_t pid = 0;
	char b2[2048], cmd[8192], path[2100], *addr2 = NULL, *out = NULL;
	FILE *f;

	write_spec("[\"sleep\",\"1000\"]");
	start_shim("pod8");
	create_start("pod8", &pid);

	/* A CRI container of the pod: grouped by its sandbox id, joining the pod's namespaces. */
	(void)snprintf(b2, sizeof(b2), "%.2000s/bundle2", t.dir);
	(void)snprintf(cmd, sizeof(cmd), "mkdir %s && cp -a %.2000s/rootfs %s/rootfs", b2, t.bundle,
		       b2);
	cr_assert(eq(int, system(cmd), 0));
	(void)snprintf(path, sizeof(path), "%s/config.json", b2);
	f = fopen(path, "we");
	cr_assert(f != NULL);
	fprintf(f,
		"{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":[\"sleep\",\"1000\"],"
		"\"cwd\":\"/\",\"env\":[\"PATH=/bin\"],\"user\":{\"uid\":0,\"gid\":0}},"
		"\"root\":{\"path\":\"rootfs\"},\"annotations\":{"
		"\"io.kubernetes.cri.container-type\":\"container\","
		"\"io.kubernetes.cri.sandbox-id\":\"pod8\"},"
		"\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"}],"
		"\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"mount\"},"
		"{\"type\":\"ipc\",\"path\":\"/proc/%u/ns/ipc\"},"
		"{\"type\":\"uts\",\"path\":\"/proc/%u/ns/uts\"}]}}",
		pid, pid);
	cr_assert(eq(int, fclose(f), 0));
	cr_assert(eq(int, shim_action_in(b2, "c8", "start", &addr2), 0), "start: %s", addr2);
	cr_assert(eq(str, addr2, t.address), "one shim per pod");
	free(addr2);

	Containerd__Task__V2__CreateTaskRequest cr =
		CONTAINERD__TASK__V2__CREATE_TASK_REQUEST__INIT;
	cr.id = (char *)"c8";
	cr.bundle = b2;
	struct ttsync_reply r = call("Create", &cr.base);
	cr_assert(eq(u32, r.code, 0), "Create c8: %s", r.message);
	ttsync_reply_done(&r);

	/* The pod keeps its shim while a container is left: Shutdown is ignored. */
	Containerd__Task__V2__ShutdownRequest sh = CONTAINERD__TASK__V2__SHUTDOWN_REQUEST__INIT;
	r = call("Shutdown", &sh.base);
	cr_assert(eq(u32, r.code, 0));
	ttsync_reply_done(&r);
	Containerd__Task__V2__ConnectRequest cn = CONTAINERD__TASK__V2__CONNECT_REQUEST__INIT;
	cn.id = (char *)"pod8";
	r = call("Connect", &cn.base);
	cr_assert(eq(u32, r.code, 0), "the shim still serves after Shutdown: %s", r.message);
	ttsync_reply_done(&r);

	/* containerd's `delete` of one container never touches the other. */
	cr_assert(eq(int, shim_action_in(b2, "c8", "delete", &out), 0));
	free(out);
	cr_assert(eq(int, kill((pid_t)pid, 0), 0), "the pod's first container still runs");

	kill_task("pod8", NULL, SIGKILL, 0);
	cr_assert(eq(u32, wait_exit("pod8"), 137));
	delete_task("pod8", NULL);
	Containerd__Task__V2__DeleteRequest dr = CONTAINERD__TASK__V2__DELETE_REQUEST__INIT;
	dr.id = (char *)"c8";
	r = call("Delete", &dr.base);
	/* Already removed by the delete action: runc's shim answers NotFound or succeeds. */
	cr_assert(r.code == 0 || r.code == TTRPC_NOT_FOUND, "Delete c8: %s", r.message);
	ttsync_reply_done(&r);
	shutdown_shim();
}

Test(proto, oci_engine_with_runc_binary_name)
{
	Containerd__Runc__V1__Options ro = CONTAINERD__RUNC__V1__OPTIONS__INIT;
	Containerd__Task__V2__CreateTaskRequest cr =
		CONTAINERD__TASK__V2__CREATE_TASK_REQUEST__INIT;
	Containerd__Task__V2__StartRequest sr = CONTAINERD__TASK__V2__START_REQUEST__INIT;
	Containerd__Task__V2__WaitRequest wr = CONTAINERD__TASK__V2__WAIT_REQUEST__INIT;
	Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
	uint8_t opts[256];
	struct ttsync_reply w;

	/* runc Options.BinaryName selects the OCI engine, as the runc shim runs that binary. */
	ro.binary_name = (char *)"runc";
	any.type_url = (char *)"containerd.runc.v1.Options";
	any.value.len = protobuf_c_message_pack(&ro.base, opts);
	any.value.data = opts;
	write_spec("[\"sh\",\"-c\",\"echo via-runc; exit 4\"]");
	start_shim("p9");
	cr.id = (char *)"p9";
	cr.bundle = t.bundle;
	cr.options = &any;
	struct ttsync_reply r = call("Create", &cr.base);
	cr_assert(eq(u32, r.code, 0), "Create with runc: %s", r.message);
	ttsync_reply_done(&r);
	wr.id = (char *)"p9";
	cr_assert(eq(int, ttsync_call_async(&t.s, TASK, "Wait", &wr.base, testutil_timeout(60), &w),
		     0));
	sr.id = (char *)"p9";
	r = call("Start", &sr.base);
	cr_assert(eq(u32, r.code, 0), "Start: %s", r.message);
	ttsync_reply_done(&r);
	cr_assert(eq(u32, wait_status(&w), 4), "runc's container's exit status");
	delete_task("p9", NULL);
	cr_assert(ttsync_wait_events(&t.s, 4, testutil_timeout(10)), "events: %s", topics());
	cr_assert(eq(str, topics(), "/tasks/create /tasks/start /tasks/exit /tasks/delete"));
	shutdown_shim();
}

static bool host_has_keyring(const char *name)
{
	char *keys = testutil_read_file("/proc/keys");
	char needle[128];

	cr_assert(keys != NULL);
	(void)snprintf(needle, sizeof(needle), " %s: ", name);
	bool found = strstr(keys, needle) != NULL;
	free(keys);
	return found;
}

/* runc Options NoNewKeyring and NoPivotRoot: the container keeps the shim's session
 * keyring (no "_ses.<id>") and runs with its root moved onto / instead of pivot_root; the
 * OCI engine passes both to the binary (--no-new-keyring, --no-pivot). */
static void keyring_and_pivot_case(const char *id, const char *binary)
{
	Containerd__Runc__V1__Options ro = CONTAINERD__RUNC__V1__OPTIONS__INIT;
	Containerd__Task__V2__CreateTaskRequest cr =
		CONTAINERD__TASK__V2__CREATE_TASK_REQUEST__INIT;
	Containerd__Task__V2__StartRequest sr = CONTAINERD__TASK__V2__START_REQUEST__INIT;
	Containerd__Task__V2__WaitRequest wr = CONTAINERD__TASK__V2__WAIT_REQUEST__INIT;
	Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
	uint8_t opts[256];
	char name[128];
	struct ttsync_reply w;

	ro.no_new_keyring = true;
	ro.no_pivot_root = true;
	ro.binary_name = (char *)binary;
	any.type_url = (char *)"containerd.runc.v1.Options";
	any.value.len = protobuf_c_message_pack(&ro.base, opts);
	any.value.data = opts;
	write_spec("[\"sh\",\"-c\",\"sleep 1000\"]");
	start_shim(id);
	cr.id = (char *)id;
	cr.bundle = t.bundle;
	cr.options = &any;
	struct ttsync_reply r = call("Create", &cr.base);
	cr_assert(eq(u32, r.code, 0), "Create: %s", r.message);
	ttsync_reply_done(&r);
	sr.id = (char *)id;
	r = call("Start", &sr.base);
	cr_assert(eq(u32, r.code, 0), "Start with no pivot_root: %s", r.message);
	ttsync_reply_done(&r);
	(void)snprintf(name, sizeof(name), "_ses.%s", id);
	cr_assert(not(host_has_keyring(name)), "%s: a keyring of its own despite NoNewKeyring",
		  binary ? binary : "native");
	wr.id = (char *)id;
	cr_assert(eq(int, ttsync_call_async(&t.s, TASK, "Wait", &wr.base, testutil_timeout(60), &w),
		     0));
	kill_task(id, NULL, SIGKILL, 0);
	cr_assert(eq(u32, wait_status(&w), 137));
	delete_task(id, NULL);
	shutdown_shim();
}

Test(proto, no_new_keyring_and_no_pivot_root_are_honoured)
{
	keyring_and_pivot_case("p11", NULL);
}

Test(proto, no_new_keyring_and_no_pivot_root_reach_the_oci_binary)
{
	keyring_and_pivot_case("p12", "runc");
}

/* A runtimeoptions.v1.Options Any, as containerd 1.6/1.7 send for a CRI runtime of husk's
 * type, into any (value in buf). */
static void runtime_options_any(Google__Protobuf__Any *any, uint8_t *buf, const char *config_path)
{
	Runtimeoptions__V1__Options ro = RUNTIMEOPTIONS__V1__OPTIONS__INIT;

	ro.type_url = (char *)"io.containerd.husk.v1.config";
	ro.config_path = (char *)config_path;
	any->type_url = (char *)"runtimeoptions.v1.Options";
	any->value.len = protobuf_c_message_pack(&ro.base, buf);
	any->value.data = buf;
}

static char *write_config(const char *json)
{
	char *path = NULL;

	cr_assert(asprintf(&path, "%s/husk-config.json", t.dir) > 0);
	FILE *f = fopen(path, "we");
	cr_assert(f != NULL);
	cr_assert(fputs(json, f) >= 0);
	cr_assert(eq(int, fclose(f), 0));
	return path;
}

static bool runsc_installed(void)
{
	return access("/usr/bin/runsc", X_OK) == 0 || access("/usr/sbin/runsc", X_OK) == 0;
}

Test(proto, oci_engine_from_a_config_path_runs_runsc_with_its_flags)
{
	Containerd__Task__V2__CreateTaskRequest cr =
		CONTAINERD__TASK__V2__CREATE_TASK_REQUEST__INIT;
	Containerd__Task__V2__StartRequest sr = CONTAINERD__TASK__V2__START_REQUEST__INIT;
	Containerd__Task__V2__WaitRequest wr = CONTAINERD__TASK__V2__WAIT_REQUEST__INIT;
	Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
	uint8_t opts[512];
	char out[2200];
	struct ttsync_reply w;

	if (!runsc_installed())
		cr_skip_test("runsc is not installed (apt-get install runsc)");
	/* ConfigPath names the engine: runsc, with global flags it must receive (no network
	 * namespace here, so --network=none; ptrace works on any kernel). */
	char *cfg = write_config("{\"engine\":\"oci\",\"binary\":\"runsc\","
				 "\"runtime_args\":[\"--network=none\",\"--platform=ptrace\"]}");
	runtime_options_any(&any, opts, cfg);
	free(cfg);
	(void)snprintf(out, sizeof(out), "file://%.2000s/stdout", t.dir);
	write_spec("[\"dmesg\"]");
	start_shim("p10");
	cr.id = (char *)"p10";
	cr.bundle = t.bundle;
	cr.options = &any;
	cr.stdout = out;
	struct ttsync_reply r = call_ex(TASK, "Create", &cr.base, 120);
	cr_assert(eq(u32, r.code, 0), "Create with runsc: %s", r.message);
	ttsync_reply_done(&r);
	wr.id = (char *)"p10";
	cr_assert(eq(int, ttsync_call_async(&t.s, TASK, "Wait", &wr.base, testutil_timeout(60), &w),
		     0));
	sr.id = (char *)"p10";
	r = call("Start", &sr.base);
	cr_assert(eq(u32, r.code, 0), "Start: %s", r.message);
	ttsync_reply_done(&r);
	cr_assert(eq(u32, wait_status(&w), 0), "dmesg's exit status");
	delete_task("p10", NULL);
	/* The kernel's log here is gVisor's: the container ran inside the sandbox. */
	char *log = testutil_read_file(out + 7);
	cr_assert(log != NULL);
	cr_assert(strstr(log, "Starting gVisor") != NULL, "dmesg printed: %s", log);
	free(log);
	shutdown_shim();
}

Test(proto, a_config_the_shim_cannot_honour_fails_create_and_leaves_nothing)
{
	static const struct {
		const char *json; /* NULL: the file does not exist */
		const char *msg;
	} cases[] = {
		{"{\"engine\":\"oci\",\"binary\":\"runsc\",\"platform\":\"kvm\"}",
		 "unknown key 'platform'"},
		{"{\"engine\":\"oci\"}", "engine 'oci' needs \"binary\""},
		{"{\"binary\":\"runsc\"}", "binary: only the 'oci' engine takes it"},
		{"{\"engine\":\"oci\",\"binary\":\"husk-no-such-runtime\"}",
		 "husk-no-such-runtime"},
		{NULL, "read config file"},
	};
	Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
	uint8_t opts[512];
	char missing[2200];

	write_spec("[\"true\"]");
	start_shim("p11");
	(void)snprintf(missing, sizeof(missing), "%.2000s/no-such-config.json", t.dir);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		Containerd__Task__V2__CreateTaskRequest cr =
			CONTAINERD__TASK__V2__CREATE_TASK_REQUEST__INIT;
		char *cfg = cases[i].json ? write_config(cases[i].json) : NULL;
		runtime_options_any(&any, opts, cfg ? cfg : missing);
		free(cfg);
		cr.id = (char *)"p11";
		cr.bundle = t.bundle;
		cr.options = &any;
		struct ttsync_reply r = call("Create", &cr.base);
		cr_assert(ne(u32, r.code, 0), "%s was accepted", cases[i].json);
		cr_expect(strstr(r.message, cases[i].msg) != NULL, "'%s': %s", cases[i].msg,
			  r.message);
		ttsync_reply_done(&r);
		/* Nothing was created: no state file in the runtime's root. */
		char cmd[2400];
		(void)snprintf(cmd, sizeof(cmd),
			       "test -z \"$(find %.2000s -name '*.state' 2>/dev/null)\"", t.state);
		cr_expect(eq(int, system(cmd), 0), "state left after '%s'", cases[i].msg);
	}

	/* containerd 1.7's options table as TOML (no ConfigPath) is refused, not ignored. */
	Runtimeoptions__V1__Options ro = RUNTIMEOPTIONS__V1__OPTIONS__INIT;
	Containerd__Task__V2__CreateTaskRequest cr =
		CONTAINERD__TASK__V2__CREATE_TASK_REQUEST__INIT;
	ro.config_body.data = (uint8_t *)"BinaryName = \"runsc\"\n";
	ro.config_body.len = strlen((char *)ro.config_body.data);
	any.type_url = (char *)"runtimeoptions.v1.Options";
	any.value.len = protobuf_c_message_pack(&ro.base, opts);
	any.value.data = opts;
	cr.id = (char *)"p11";
	cr.bundle = t.bundle;
	cr.options = &any;
	struct ttsync_reply r = call("Create", &cr.base);
	cr_assert(eq(u32, r.code, TTRPC_INVALID_ARGUMENT), "%s", r.message);
	cr_expect(strstr(r.message, "ConfigPath") != NULL, "%s", r.message);
	ttsync_reply_done(&r);
	shutdown_shim();
}

/* `start` as containerd 2.x runs it: its environment, and stdin bytes in[0..len). */
static char *start_2x(const char *id, const void *in, size_t len)
{
	char buf[4096], addr[2200], ev[2200], root[2200], grpc[2200];
	char *env[] = {ev, root, grpc, (char *)"NAMESPACE=" NS, (char *)"MAX_SHIM_VERSION=2", NULL};
	size_t n = 0;

	(void)snprintf(addr, sizeof(addr), "%.2000s/containerd.sock", t.dir);
	(void)snprintf(ev, sizeof(ev), "TTRPC_ADDRESS=%.2000s", t.events_path);
	(void)snprintf(root, sizeof(root), "HUSK_ROOT=%.2000s", t.state);
	(void)snprintf(grpc, sizeof(grpc), "GRPC_ADDRESS=%.2000s", addr);
	int r = ttsync_shim_action_in(shim_binary(), t.bundle, NS, addr, id, "start", env, in, len,
				      buf, sizeof(buf), &n);
	cr_assert(eq(int, r, 0), "start: %s", buf);
	return strdup(buf);
}

static struct ttsync_reply call_v3(const char *method, const ProtobufCMessage *req)
{
	return call_ex("containerd.task.v3.Task", method, req, 30);
}

Test(proto, containerd_2_3_bootstrap_gets_task_v3)
{
	Containerd__Runtime__Bootstrap__V1__BootstrapParams bp =
		CONTAINERD__RUNTIME__BOOTSTRAP__V1__BOOTSTRAP_PARAMS__INIT;
	Containerd__Task__V2__StateRequest st = CONTAINERD__TASK__V2__STATE_REQUEST__INIT;
	Containerd__Task__V2__CreateTaskRequest cr =
		CONTAINERD__TASK__V2__CREATE_TASK_REQUEST__INIT;
	Containerd__Task__V2__StartRequest sr = CONTAINERD__TASK__V2__START_REQUEST__INIT;
	Containerd__Task__V2__WaitRequest wr = CONTAINERD__TASK__V2__WAIT_REQUEST__INIT;
	Containerd__Task__V2__ConnectRequest cn = CONTAINERD__TASK__V2__CONNECT_REQUEST__INIT;
	uint8_t in[1024];
	struct ttsync_reply w;

	write_spec("[\"sh\",\"-c\",\"exit 5\"]");
	bp.instance_id = (char *)"p10";
	bp.namespace_ = (char *)NS;
	bp.containerd_version = (char *)"v2.3.4";
	bp.containerd_ttrpc_address = t.events_path;
	size_t len = containerd__runtime__bootstrap__v1__bootstrap_params__pack(&bp, in);
	char *out = start_2x("p10", in, len);

	/* The answer containerd 2.x takes as version 3: task API v3 from here on. */
	json_error_t jerr;
	json_t *j = json_loads(out, 0, &jerr);
	cr_assert(j != NULL, "start printed JSON: '%s' (%s)", out, jerr.text);
	cr_assert(eq(int, (int)json_integer_value(json_object_get(j, "version")), 3), "%s", out);
	cr_assert(eq(str, (char *)json_string_value(json_object_get(j, "protocol")), "ttrpc"));
	const char *a = json_string_value(json_object_get(j, "address"));
	cr_assert(a != NULL && strncmp(a, "unix:///run/containerd/s/", 25) == 0, "%s", out);
	t.address = strdup(a);
	json_decref(j);
	free(out);
	cr_assert(eq(int, ttsync_connect(&t.s, t.address + 7), 0));

	cn.id = (char *)"p10";
	struct ttsync_reply r = call_v3("Connect", &cn.base);
	cr_assert(eq(u32, r.code, 0), "v3 Connect: %s", r.message);
	Containerd__Task__V2__ConnectResponse *cresp =
		containerd__task__v2__connect_response__unpack(NULL, r.len, r.payload);
	cr_assert(cresp != NULL);
	t.shim_pid = (pid_t)cresp->shim_pid;
	containerd__task__v2__connect_response__free_unpacked(cresp, NULL);
	ttsync_reply_done(&r);

	st.id = (char *)"p10";
	r = call_v3("State", &st.base);
	cr_assert(eq(u32, r.code, TTRPC_NOT_FOUND), "v3 State before Create: %s", r.message);
	ttsync_reply_done(&r);
	cr.id = (char *)"p10";
	cr.bundle = t.bundle;
	r = call_v3("Create", &cr.base);
	cr_assert(eq(u32, r.code, 0), "v3 Create: %s", r.message);
	ttsync_reply_done(&r);
	r = call_v3("State", &st.base);
	cr_assert(eq(u32, r.code, 0), "v3 State: %s", r.message);
	Containerd__Task__V2__StateResponse *sresp =
		containerd__task__v2__state_response__unpack(NULL, r.len, r.payload);
	cr_assert(sresp != NULL);
	cr_assert(eq(int, (int)sresp->status, (int)CONTAINERD__V1__TYPES__STATUS__CREATED));
	cr_assert(gt(u32, sresp->pid, 0));
	containerd__task__v2__state_response__free_unpacked(sresp, NULL);
	ttsync_reply_done(&r);

	/* containerd 1.7 (MAX_SHIM_VERSION=2, an options Any) starting the same group's task
	 * keeps the plain address: it refuses a version 3 answer. */
	Containerd__Runc__V1__Options ro = CONTAINERD__RUNC__V1__OPTIONS__INIT;
	Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
	uint8_t value[128];
	any.type_url = (char *)"containerd.runc.v1.Options";
	any.value.len = protobuf_c_message_pack(&ro.base, value);
	any.value.data = value;
	len = google__protobuf__any__pack(&any, in);
	out = start_2x("p10", in, len);
	cr_assert(eq(str, out, t.address), "1.7 gets the plain address of the same shim");
	free(out);

	wr.id = (char *)"p10";
	cr_assert(eq(int,
		     ttsync_call_async(&t.s, "containerd.task.v3.Task", "Wait", &wr.base,
				       testutil_timeout(60), &w),
		     0));
	sr.id = (char *)"p10";
	r = call_v3("Start", &sr.base);
	cr_assert(eq(u32, r.code, 0), "v3 Start: %s", r.message);
	ttsync_reply_done(&r);
	cr_assert(eq(u32, wait_status(&w), 5), "v3 Wait");
	delete_task("p10", NULL);
	shutdown_shim();
}

/* ---- runc Options.ShimCgroup, against the reference shim ---- */

#define REF_SHIM "/usr/bin/containerd-shim-runc-v2"

/* The cgroup mounts a shim can join: /sys/fs/cgroup itself on a unified host, else each
 * hierarchy under it (links such as cpu -> cpu,cpuacct skipped), into roots. */
static size_t cgroup_roots(char roots[][128], size_t max)
{
	struct statfs sfs;
	size_t n = 0;

	cr_assert(eq(int, statfs("/sys/fs/cgroup", &sfs), 0));
	if (sfs.f_type == CGROUP2_SUPER_MAGIC) {
		(void)snprintf(roots[n++], 128, "/sys/fs/cgroup");
		return n;
	}
	DIR *d = opendir("/sys/fs/cgroup");
	cr_assert(d != NULL);
	for (struct dirent *e = readdir(d); e && n < max; e = readdir(d)) {
		if (e->d_type != DT_DIR || e->d_name[0] == '.')
			continue;
		(void)snprintf(roots[n], 128, "/sys/fs/cgroup/%.100s", e->d_name);
		if (statfs(roots[n], &sfs) == 0 &&
		    (sfs.f_type == CGROUP_SUPER_MAGIC || sfs.f_type == CGROUP2_SUPER_MAGIC))
			n++;
	}
	(void)closedir(d);
	return n;
}

/* Copy a cpuset file from the hierarchy's root, so that tasks can join the new cgroup. */
static void cpuset_inherit(const char *root, const char *dir, const char *file)
{
	char path[512];

	(void)snprintf(path, sizeof(path), "%s/%s", root, file);
	char *v = testutil_read_file(path);
	if (!v)
		return;
	(void)snprintf(path, sizeof(path), "%s/%s", dir, file);
	testutil_write_file(path, v);
	free(v);
}

/*
 * `start` shim with runc Options{ShimCgroup: cg} on stdin (an Any, as containerd 1.6 writes
 * it), connect, and return the daemon's /proc/<pid>/cgroup; then shut it down.
 */
/* `start` shim for id with in[0..len) on its stdin, connect, and note its pid and address. */
static void start_shim_bin(const char *shim, const char *id, const void *in, size_t len)
{
	Containerd__Task__V2__ConnectRequest req = CONTAINERD__TASK__V2__CONNECT_REQUEST__INIT;
	char buf[4096], addr[2200], ev[2200], root[2200];
	char *env[] = {ev, root, NULL};
	size_t n = 0;

	(void)snprintf(addr, sizeof(addr), "%.2000s/containerd.sock", t.dir);
	(void)snprintf(ev, sizeof(ev), "TTRPC_ADDRESS=%.2000s", t.events_path);
	(void)snprintf(root, sizeof(root), "HUSK_ROOT=%.2000s", t.state);
	int r = ttsync_shim_action_in(shim, t.bundle, NS, addr, id, "start", env, in, len, buf,
				      sizeof(buf), &n);
	cr_assert(eq(int, r, 0), "%s start: %s", shim, buf);
	free(t.address);
	t.address = strdup(buf);
	cr_assert(strncmp(t.address, "unix://", 7) == 0, "%s: address '%s'", shim, t.address);
	cr_assert(eq(int, ttsync_connect(&t.s, t.address + 7), 0));
	req.id = (char *)id;
	struct ttsync_reply c = call("Connect", &req.base);
	cr_assert(eq(u32, c.code, 0), "%s Connect: %s", shim, c.message);
	Containerd__Task__V2__ConnectResponse *resp =
		containerd__task__v2__connect_response__unpack(NULL, c.len, c.payload);
	cr_assert(resp != NULL);
	t.shim_pid = (pid_t)resp->shim_pid;
	containerd__task__v2__connect_response__free_unpacked(resp, NULL);
	ttsync_reply_done(&c);
}

/* The runc shim's daemon opens the bundle's log fifo, which containerd makes and reads. */
static int make_log_fifo(void)
{
	char fifo[2200];

	(void)snprintf(fifo, sizeof(fifo), "%.2000s/log", t.bundle);
	cr_assert(mkfifo(fifo, 0600) == 0 || errno == EEXIST);
	int fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	cr_assert(fd >= 0);
	return fd;
}

/*
 * `start` shim with runc Options{ShimCgroup: cg} on stdin (an Any, as containerd 1.6 writes
 * it), connect, and return the daemon's /proc/<pid>/cgroup; then shut it down.
 */
static char *shim_cgroup_of(const char *shim, const char *id, const char *cg)
{
	Containerd__Runc__V1__Options ro = CONTAINERD__RUNC__V1__OPTIONS__INIT;
	Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
	uint8_t opts[256], in[512];
	char path[64];

	ro.shim_cgroup = (char *)cg;
	any.type_url = (char *)"containerd.runc.v1.Options";
	any.value.len = protobuf_c_message_pack(&ro.base, opts);
	any.value.data = opts;
	size_t len = protobuf_c_message_pack(&any.base, in);
	start_shim_bin(shim, id, in, len);
	(void)snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)t.shim_pid);
	char *cgroups = testutil_read_file(path);
	cr_assert(cgroups != NULL);
	shutdown_shim();
	t.shim_pid = 0;
	return cgroups;
}

/* ps, top, pgrep and killall know a shim daemon by its binary's name (its first 15 bytes,
 * "containerd-shim"), as they know the runc shim's. */
Test(proto, the_daemon_is_named_after_its_binary_as_the_runc_shim)
{
	const char *shims[] = {shim_binary(), REF_SHIM};
	const char *ids[] = {"p20", "p21"};

	if (access(REF_SHIM, X_OK) != 0)
		cr_skip_test("%s is not installed: nothing to compare with", REF_SHIM);
	write_spec("[\"true\"]");
	int log_fd = make_log_fifo();
	for (size_t i = 0; i < 2; i++) {
		char want[16];
		const char *base = strrchr(shims[i], '/');
		(void)snprintf(want, sizeof(want), "%s", base ? base + 1 : shims[i]);
		start_shim_bin(shims[i], ids[i], NULL, 0);
		/* What ps, top, pgrep and killall show. */
		char *comm = testutil_comm(t.shim_pid);
		shutdown_shim();
		t.shim_pid = 0;
		cr_assert(comm != NULL, "%s's daemon is gone", shims[i]);
		cr_expect(eq(str, comm, want), "%s's daemon", shims[i]);
		free(comm);
	}
	(void)close(log_fd);
}

/* The shim joins ShimCgroup in every v1 hierarchy (and only those on a hybrid host). */
Test(proto, shim_cgroup_joined_as_the_runc_shim_does)
{
	char roots[32][128], cg[64], dir[256];
	size_t n = cgroup_roots(roots, 32);

	if (access(REF_SHIM, X_OK) != 0)
		cr_skip_test("%s is not installed: nothing to compare with", REF_SHIM);
	(void)snprintf(cg, sizeof(cg), "husk-shimcg-%d", (int)getpid());
	for (size_t i = 0; i < n; i++) {
		(void)snprintf(dir, sizeof(dir), "%s/%s", roots[i], cg);
		cr_assert(mkdir(dir, 0755) == 0 || errno == EEXIST, "mkdir %s: %s", dir,
			  strerror(errno));
		if (strstr(roots[i], "cpuset")) {
			cpuset_inherit(roots[i], dir, "cpuset.cpus");
			cpuset_inherit(roots[i], dir, "cpuset.mems");
		}
	}
	write_spec("[\"true\"]");
	int log_fd = make_log_fifo();
	char *husk = shim_cgroup_of(shim_binary(), "p12", cg);
	char *ref = shim_cgroup_of(REF_SHIM, "p13", cg);
	(void)close(log_fd);
	for (size_t i = 0; i < n; i++) {
		(void)snprintf(dir, sizeof(dir), "%s/%s", roots[i], cg);
		cr_expect(eq(int, rmdir(dir), 0), "rmdir %s: %s", dir, strerror(errno));
	}

	cr_assert(eq(str, husk, ref), "/proc/<shim>/cgroup: husk's, then the runc shim's");
	/* Every v1 hierarchy ("N:controllers:path", controllers not empty) says /<cg>. */
	char want[80];
	(void)snprintf(want, sizeof(want), ":/%s", cg);
	size_t v1 = 0;
	for (char *save = NULL, *line = strtok_r(husk, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *ctrls = strchr(line, ':');
		if (!ctrls || ctrls[1] == ':')
			continue;
		v1++;
		char *path = strchr(ctrls + 1, ':');
		cr_assert(path != NULL && strcmp(path, want) == 0, "husk: %s", line);
	}
	cr_log_info("%zu v1 hierarchies", v1);
	free(husk);
	free(ref);
}

/* ---- exec with a terminal: every byte, against the reference shim ---- */

static size_t first_difference(const char *a, size_t a_len, const char *b, size_t b_len)
{
	size_t i = 0;

	while (i < a_len && i < b_len && a[i] == b[i])
		i++;
	return i;
}

/* Read fd (non-blocking) into *buf until EOF, serving the loop meanwhile; bytes read. */
static size_t read_to_eof(int fd, char **buf, size_t *cap, double timeout)
{
	double end = ttsync_now() + timeout;
	size_t len = 0;

	for (;;) {
		if (len == *cap) {
			*cap = *cap ? *cap * 2 : 1 << 20;
			char *more = realloc(*buf, *cap);
			cr_assert(more != NULL);
			*buf = more;
		}
		ssize_t n = read(fd, *buf + len, *cap - len);
		if (n > 0) {
			len += (size_t)n;
			continue;
		}
		if (n == 0)
			return len;
		int e = errno;
		cr_assert(e == EAGAIN || e == EINTR, "read the output: %s", strerror(e));
		cr_assert(ttsync_now() < end, "no EOF on the output after %zu bytes", len);
		struct pollfd p = {.fd = fd, .events = POLLIN};
		(void)poll(&p, 1, 10);
		(void)uv_run(&t.s.loop, UV_RUN_NOWAIT);
	}
}

/*
 * containerd's way with `ctr task exec -t`: a stdin and a stdout fifo, the client holding the
 * stdin writer and the stdout reader, Wait, Start, read to EOF, Delete; `rounds` times with
 * `cat` of about 1 MB of numbered lines (\r\n on the terminal). Every round must arrive
 * byte-exact.
 */
static void tty_exec_rounds(const char *shim, const char *id, unsigned rounds)
{
	const unsigned n = 125000;
	size_t want_len = 0, cap = 0;
	char *want = malloc((size_t)n * 8);
	char *got = NULL;

	cr_assert(want != NULL);
	/* cat of a file writes big chunks: the round's time is the shims', not the tty's. */
	char data[2200];
	(void)snprintf(data, sizeof(data), "%.2000s/rootfs/tty-data", t.bundle);
	FILE *f = fopen(data, "we");
	cr_assert(f != NULL);
	for (unsigned i = 1; i <= n; i++) {
		want_len += (size_t)sprintf(want + want_len, "%u\r\n", i);
		fprintf(f, "%u\n", i);
	}
	cr_assert(eq(int, fclose(f), 0));
	start_shim_bin(shim, id, NULL, 0);
	Containerd__Task__V2__CreateTaskRequest cr =
		CONTAINERD__TASK__V2__CREATE_TASK_REQUEST__INIT;
	Containerd__Task__V2__StartRequest ir = CONTAINERD__TASK__V2__START_REQUEST__INIT;
	cr.id = (char *)id;
	cr.bundle = t.bundle;
	struct ttsync_reply cr_r = call("Create", &cr.base);
	cr_assert(eq(u32, cr_r.code, 0), "%s Create: %s", shim, cr_r.message);
	ttsync_reply_done(&cr_r);
	ir.id = (char *)id;
	cr_r = call("Start", &ir.base);
	cr_assert(eq(u32, cr_r.code, 0), "%s Start: %s", shim, cr_r.message);
	ttsync_reply_done(&cr_r);
	for (unsigned round = 0; round < rounds; round++) {
		char in[2200], out[2200], exec_id[32], spec[512];
		(void)snprintf(in, sizeof(in), "%.2000s/tty-%u-in", t.dir, round);
		(void)snprintf(out, sizeof(out), "%.2000s/tty-%u-out", t.dir, round);
		(void)snprintf(exec_id, sizeof(exec_id), "tty%u", round);
		cr_assert(eq(int, mkfifo(in, 0600), 0));
		cr_assert(eq(int, mkfifo(out, 0600), 0));
		int out_fd = open(out, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		int in_fd = open(in, O_RDWR | O_NONBLOCK | O_CLOEXEC);
		cr_assert(out_fd >= 0 && in_fd >= 0);

		Containerd__Task__V2__ExecProcessRequest er =
			CONTAINERD__TASK__V2__EXEC_PROCESS_REQUEST__INIT;
		Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
		Containerd__Task__V2__WaitRequest wr = CONTAINERD__TASK__V2__WAIT_REQUEST__INIT;
		Containerd__Task__V2__StartRequest sr = CONTAINERD__TASK__V2__START_REQUEST__INIT;
		struct ttsync_reply w;
		int len = snprintf(spec, sizeof(spec),
				   "{\"args\":[\"cat\",\"/tty-data\"],\"cwd\":\"/\","
				   "\"env\":[\"PATH=/bin\"],\"terminal\":true,"
				   "\"user\":{\"uid\":0,\"gid\":0}}");
		any.type_url = (char *)"types.containerd.io/opencontainers/runtime-spec/1/Process";
		any.value.data = (uint8_t *)spec;
		any.value.len = (size_t)len;
		er.id = (char *)id;
		er.exec_id = exec_id;
		er.terminal = true;
		er.stdin = in;
		er.stdout = out;
		er.spec = &any;
		struct ttsync_reply r = call("Exec", &er.base);
		cr_assert(eq(u32, r.code, 0), "%s Exec: %s", shim, r.message);
		ttsync_reply_done(&r);
		wr.id = (char *)id;
		wr.exec_id = exec_id;
		cr_assert(eq(
			int,
			ttsync_call_async(&t.s, TASK, "Wait", &wr.base, testutil_timeout(60), &w),
			0));
		sr.id = (char *)id;
		sr.exec_id = exec_id;
		r = call("Start", &sr.base);
		cr_assert(eq(u32, r.code, 0), "%s Start: %s", shim, r.message);
		ttsync_reply_done(&r);

		size_t got_len = read_to_eof(out_fd, &got, &cap, testutil_timeout(60));
		cr_assert(eq(u32, wait_status(&w), 0), "%s round %u", shim, round);
		delete_task(id, exec_id);
		(void)close(out_fd);
		(void)close(in_fd);
		(void)unlink(in);
		(void)unlink(out);
		cr_assert(got_len == want_len && memcmp(got, want, want_len) == 0,
			  "%s round %u: %zu of %zu bytes arrived, first difference at %zu", shim,
			  round, got_len, want_len, first_difference(got, got_len, want, want_len));
	}
	Containerd__Task__V2__WaitRequest wr = CONTAINERD__TASK__V2__WAIT_REQUEST__INIT;
	struct ttsync_reply w;
	wr.id = (char *)id;
	cr_assert(eq(int, ttsync_call_async(&t.s, TASK, "Wait", &wr.base, testutil_timeout(60), &w),
		     0));
	kill_task(id, NULL, SIGKILL, 0);
	cr_assert(eq(u32, wait_status(&w), 137));
	delete_task(id, NULL);
	shutdown_shim();
	t.shim_pid = 0;
	free(got);
	free(want);
}

/* rmdir /husk-tty-<pid> (the shims remove their own cgroup under it) in every hierarchy. */
static void tty_cgroups_remove(void)
{
	char roots[32][128], dir[256];
	size_t n = cgroup_roots(roots, 32);

	for (size_t i = 0; i < n; i++) {
		(void)snprintf(dir, sizeof(dir), "%s/husk-tty-%d", roots[i], (int)getpid());
		(void)rmdir(dir);
	}
}

static unsigned env_rounds(const char *name, unsigned dflt)
{
	const char *env = getenv(name);

	return env && *env ? (unsigned)strtoul(env, NULL, 10) : dflt;
}

/*
 * 200 rounds through husk; the same case through the runc shim 25 times (enough to show the
 * test itself is right; HUSK_TTY_EXEC_ROUNDS and HUSK_TTY_EXEC_REF_ROUNDS change them).
 */
Test(proto, tty_exec_output_arrives_whole, .timeout = 600)
{
	unsigned rounds = env_rounds("HUSK_TTY_EXEC_ROUNDS", 200);
	unsigned ref_rounds = env_rounds("HUSK_TTY_EXEC_REF_ROUNDS", 25);
	char husk_id[32], ref_id[32];

	if (access(REF_SHIM, X_OK) != 0)
		cr_skip_test("%s is not installed: nothing to compare with", REF_SHIM);
	(void)snprintf(husk_id, sizeof(husk_id), "tty-husk-%d", (int)getpid());
	(void)snprintf(ref_id, sizeof(ref_id), "tty-runc-%d", (int)getpid());
	/* containerd's default /dev and /dev/pts, for the terminals. */
	char path[4096];
	(void)snprintf(path, sizeof(path), "%s/config.json", t.bundle);
	FILE *f = fopen(path, "we");
	cr_assert(f != NULL);
	fprintf(f,
		"{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":[\"sleep\",\"1000\"],"
		"\"cwd\":\"/\",\"env\":[\"PATH=/bin\"],\"user\":{\"uid\":0,\"gid\":0}},"
		"\"root\":{\"path\":\"rootfs\"},\"hostname\":\"proto\",\"mounts\":["
		"{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
		"{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\","
		"\"options\":[\"nosuid\",\"strictatime\",\"mode=755\",\"size=65536k\"]},"
		"{\"destination\":\"/dev/pts\",\"type\":\"devpts\",\"source\":\"devpts\","
		"\"options\":[\"nosuid\",\"noexec\",\"newinstance\",\"ptmxmode=0666\","
		"\"mode=0620\",\"gid=5\"]}],"
		"\"linux\":{\"cgroupsPath\":\"/husk-tty-%d/c\",\"namespaces\":[{\"type\":\"pid\"},"
		"{\"type\":\"ipc\"},{\"type\":\"uts\"},{\"type\":\"mount\"}]}}",
		(int)getpid());
	cr_assert(eq(int, fclose(f), 0));
	int log_fd = make_log_fifo();
	double t0 = ttsync_now();
	tty_exec_rounds(REF_SHIM, ref_id, ref_rounds);
	double t1 = ttsync_now();
	tty_exec_rounds(shim_binary(), husk_id, rounds);
	double t2 = ttsync_now();
	(void)close(log_fd);
	tty_cgroups_remove();
	cr_log_info("exec -t with 1 MB of output: runc shim %u rounds in %.1f s, husk %u in %.1f s",
		    ref_rounds, t1 - t0, rounds, t2 - t1);
}

/*
 * containerd's client opens its end of an output fifo from a goroutine, so on a busy host the
 * shim can get there first, and a short exec can be over before the client has opened it.
 * Exec and Start, then (when the shim answered Start at once) the exit, and only then the
 * client's reader: the output must still arrive, and then EOF. The runc shim answers Start only
 * once the reader is there (its writer's open waits for it, the process is not started
 * before); husk starts the process at once and keeps the fifo open until the late client has
 * read what it holds.
 */
static void late_reader_exec(const char *shim, const char *id)
{
	char out[2200], errp[2200], spec[256], *got = NULL;
	size_t cap = 0;
	const char *exec_id = "late";
	Containerd__Task__V2__ExecProcessRequest er =
		CONTAINERD__TASK__V2__EXEC_PROCESS_REQUEST__INIT;
	Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
	Containerd__Task__V2__WaitRequest wr = CONTAINERD__TASK__V2__WAIT_REQUEST__INIT;
	Containerd__Task__V2__StartRequest sr = CONTAINERD__TASK__V2__START_REQUEST__INIT;
	struct ttsync_reply x, w;

	start_shim_bin(shim, id, NULL, 0);
	Containerd__Task__V2__CreateTaskRequest cr =
		CONTAINERD__TASK__V2__CREATE_TASK_REQUEST__INIT;
	cr.id = (char *)id;
	cr.bundle = t.bundle;
	struct ttsync_reply c = call("Create", &cr.base);
	cr_assert(eq(u32, c.code, 0), "%s Create: %s", shim, c.message);
	ttsync_reply_done(&c);
	sr.id = (char *)id;
	c = call("Start", &sr.base);
	cr_assert(eq(u32, c.code, 0), "%s Start: %s", shim, c.message);
	ttsync_reply_done(&c);
	(void)snprintf(out, sizeof(out), "%.2000s/%s-out", t.dir, id);
	(void)snprintf(errp, sizeof(errp), "%.2000s/%s-err", t.dir, id);
	cr_assert(eq(int, mkfifo(out, 0600), 0));
	cr_assert(eq(int, mkfifo(errp, 0600), 0));
	int len = snprintf(spec, sizeof(spec),
			   "{\"args\":[\"echo\",\"late\"],\"cwd\":\"/\",\"env\":[\"PATH=/bin\"],"
			   "\"user\":{\"uid\":0,\"gid\":0}}");
	any.type_url = (char *)"types.containerd.io/opencontainers/runtime-spec/1/Process";
	any.value.data = (uint8_t *)spec;
	any.value.len = (size_t)len;
	er.id = (char *)id;
	er.exec_id = (char *)exec_id;
	er.stdout = out;
	er.stderr = errp;
	er.spec = &any;
	wr.id = sr.id = (char *)id;
	wr.exec_id = sr.exec_id = (char *)exec_id;
	struct ttsync_reply r = call("Exec", &er.base);
	cr_assert(eq(u32, r.code, 0), "%s Exec: %s", shim, r.message);
	ttsync_reply_done(&r);
	cr_assert(eq(int, ttsync_call_async(&t.s, TASK, "Wait", &wr.base, testutil_timeout(60), &w),
		     0));
	cr_assert(eq(int,
		     ttsync_call_async(&t.s, TASK, "Start", &sr.base, testutil_timeout(60), &x),
		     0));
	bool answered = ttsync_run_until(&t.s, &x.done, 1.0);
	if (answered)
		cr_assert(eq(u32, wait_status(&w), 0), "%s: the exec exits", shim);
	int out_fd = open(out, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	int err_fd = open(errp, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	cr_assert(out_fd >= 0 && err_fd >= 0);
	cr_assert(ttsync_run_until(&t.s, &x.done, testutil_timeout(60)), "%s Start", shim);
	cr_assert(eq(u32, x.code, 0), "%s Start: %s", shim, x.message);
	ttsync_reply_done(&x);
	size_t got_len = read_to_eof(out_fd, &got, &cap, testutil_timeout(30));
	if (!answered)
		cr_assert(eq(u32, wait_status(&w), 0), "%s: the exec exits", shim);
	cr_assert(got_len == 5 && memcmp(got, "late\n", 5) == 0,
		  "%s: the output written before the client opened its fifo: '%.*s'", shim,
		  (int)got_len, got ? got : "");
	cr_log_info("%s answered Start %s the client's reader opened", shim,
		    answered ? "before" : "after");
	delete_task(id, exec_id);
	(void)close(out_fd);
	(void)close(err_fd);
	struct ttsync_reply winit;
	wr.exec_id = (char *)"";
	cr_assert(eq(int,
		     ttsync_call_async(&t.s, TASK, "Wait", &wr.base, testutil_timeout(60), &winit),
		     0));
	kill_task(id, NULL, SIGKILL, 0);
	cr_assert(eq(u32, wait_status(&winit), 137));
	delete_task(id, NULL);
	shutdown_shim();
	t.shim_pid = 0;
	free(got);
}

Test(proto, exec_output_reaches_a_late_client)
{
	char husk_id[32], ref_id[32], extra[128];

	if (access(REF_SHIM, X_OK) != 0)
		cr_skip_test("%s is not installed: nothing to compare with", REF_SHIM);
	(void)snprintf(husk_id, sizeof(husk_id), "late-husk-%d", (int)getpid());
	(void)snprintf(ref_id, sizeof(ref_id), "late-runc-%d", (int)getpid());
	(void)snprintf(extra, sizeof(extra), "\"cgroupsPath\":\"/husk-tty-%d/late\",",
		       (int)getpid());
	write_spec_ex("[\"sleep\",\"1000\"]", extra);
	int log_fd = make_log_fifo();
	late_reader_exec(REF_SHIM, ref_id);
	late_reader_exec(shim_binary(), husk_id);
	(void)close(log_fd);
	tty_cgroups_remove();
}

/* Whether a process runs with "-id <id>" in its command line (a shim daemon for id). */
static bool shim_daemon_for(const char *id)
{
	DIR *d = opendir("/proc");
	bool found = false;

	cr_assert(d != NULL);
	for (struct dirent *e = readdir(d); e && !found; e = readdir(d)) {
		char path[300], buf[4096];
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		(void)snprintf(path, sizeof(path), "/proc/%.200s/cmdline", e->d_name);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		ssize_t n = read(fd, buf, sizeof(buf) - 1);
		(void)close(fd);
		for (ssize_t i = 0; i + 4 < n && !found; i++)
			found = memcmp(buf + i, "\0-id\0", 5) == 0 && i + 5 < n &&
				strncmp(buf + i + 5, id, (size_t)(n - i - 5)) == 0;
	}
	(void)closedir(d);
	return found;
}

/* A ShimCgroup that exists in no hierarchy fails the start, and no daemon stays behind. */
Test(proto, shim_cgroup_missing_fails_start_as_the_runc_shim)
{
	const char *shims[] = {shim_binary(), REF_SHIM};
	const char *ids[] = {"p16", "p17"};
	Containerd__Runc__V1__Options ro = CONTAINERD__RUNC__V1__OPTIONS__INIT;
	Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
	uint8_t opts[256], in[512];
	char cg[64], buf[4096], addr[2200], ev[2200], root[2200];
	char *env[] = {ev, root, NULL};

	if (access(REF_SHIM, X_OK) != 0)
		cr_skip_test("%s is not installed: nothing to compare with", REF_SHIM);
	(void)snprintf(cg, sizeof(cg), "husk-no-such-cgroup-%d", (int)getpid());
	ro.shim_cgroup = cg;
	any.type_url = (char *)"containerd.runc.v1.Options";
	any.value.len = protobuf_c_message_pack(&ro.base, opts);
	any.value.data = opts;
	size_t len = protobuf_c_message_pack(&any.base, in);
	(void)snprintf(addr, sizeof(addr), "%.2000s/containerd.sock", t.dir);
	(void)snprintf(ev, sizeof(ev), "TTRPC_ADDRESS=%.2000s", t.events_path);
	(void)snprintf(root, sizeof(root), "HUSK_ROOT=%.2000s", t.state);
	write_spec("[\"true\"]");
	int log_fd = make_log_fifo();
	for (size_t i = 0; i < 2; i++) {
		size_t n = 0;
		int r = ttsync_shim_action_in(shims[i], t.bundle, NS, addr, ids[i], "start", env,
					      in, len, buf, sizeof(buf), &n);
		cr_assert(r > 0, "%s start with a missing ShimCgroup: %d '%s'", shims[i], r, buf);
		/* The runc shim kills its daemon without waiting: give the kill a moment. */
		double end = ttsync_now() + testutil_timeout(5);
		while (shim_daemon_for(ids[i]) && ttsync_now() < end) {
			(void)uv_run(&t.s.loop, UV_RUN_NOWAIT);
			(void)usleep(10000);
		}
		cr_assert(not(shim_daemon_for(ids[i])), "%s left its daemon running", shims[i]);
	}
	(void)close(log_fd);
}

/* ---- AppArmor and SELinux labels of an exec, against the reference shim ---- */

struct exec_outcome {
	uint32_t exec_code;  /* Exec's */
	uint32_t start_code; /* the exec's Start's */
	uint32_t status;     /* its exit status when it ran */
	char *message;	     /* the failed call's, or NULL */
};

/* Exec a process with the extra members given, Wait (when it is to run) and Start it. */
static struct exec_outcome exec_with(const char *id, const char *exec_id, const char *extra,
				     bool runs)
{
	char spec[512];
	struct exec_outcome o = {0};
	Containerd__Task__V2__ExecProcessRequest er =
		CONTAINERD__TASK__V2__EXEC_PROCESS_REQUEST__INIT;
	Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
	Containerd__Task__V2__WaitRequest wr = CONTAINERD__TASK__V2__WAIT_REQUEST__INIT;
	Containerd__Task__V2__StartRequest sr = CONTAINERD__TASK__V2__START_REQUEST__INIT;
	struct ttsync_reply w;
	int n = snprintf(spec, sizeof(spec),
			 "{\"args\":[\"true\"],\"cwd\":\"/\",\"env\":[\"PATH=/bin\"],"
			 "\"user\":{\"uid\":0,\"gid\":0},%s}",
			 extra);

	any.type_url = (char *)"types.containerd.io/opencontainers/runtime-spec/1/Process";
	any.value.data = (uint8_t *)spec;
	any.value.len = (size_t)n;
	er.id = (char *)id;
	er.exec_id = (char *)exec_id;
	er.spec = &any;
	struct ttsync_reply r = call("Exec", &er.base);
	o.exec_code = r.code;
	if (r.code) {
		o.message = strdup(r.message);
		ttsync_reply_done(&r);
		return o;
	}
	ttsync_reply_done(&r);
	wr.id = (char *)id;
	wr.exec_id = (char *)exec_id;
	if (runs)
		cr_assert(eq(
			int,
			ttsync_call_async(&t.s, TASK, "Wait", &wr.base, testutil_timeout(60), &w),
			0));
	sr.id = (char *)id;
	sr.exec_id = (char *)exec_id;
	r = call("Start", &sr.base);
	o.start_code = r.code;
	if (r.code)
		o.message = strdup(r.message);
	ttsync_reply_done(&r);
	if (runs && !o.start_code)
		o.status = wait_status(&w);
	else if (runs)
		ttsync_reply_done(&w);
	/* As containerd after a failed start: the exec is deleted. */
	Containerd__Task__V2__DeleteRequest dr = CONTAINERD__TASK__V2__DELETE_REQUEST__INIT;
	dr.id = (char *)id;
	dr.exec_id = (char *)exec_id;
	r = call("Delete", &dr.base);
	ttsync_reply_done(&r);
	return o;
}

enum { LSM_APPARMOR, LSM_SELINUX, LSM_EMPTY, LSM_N };

/* A running container under shim (created with options, or none), then an exec with each
 * kind of label. */
static void lsm_exec_cases(const char *shim, const char *id, Google__Protobuf__Any *options,
			   struct exec_outcome *out)
{
	Containerd__Task__V2__CreateTaskRequest cr =
		CONTAINERD__TASK__V2__CREATE_TASK_REQUEST__INIT;
	Containerd__Task__V2__StartRequest ir = CONTAINERD__TASK__V2__START_REQUEST__INIT;
	Containerd__Task__V2__WaitRequest wr = CONTAINERD__TASK__V2__WAIT_REQUEST__INIT;
	struct ttsync_reply w;

	start_shim_bin(shim, id, NULL, 0);
	cr.id = (char *)id;
	cr.bundle = t.bundle;
	cr.options = options;
	struct ttsync_reply r = call("Create", &cr.base);
	cr_assert(eq(u32, r.code, 0), "%s Create: %s", shim, r.message);
	ttsync_reply_done(&r);
	ir.id = (char *)id;
	r = call("Start", &ir.base);
	cr_assert(eq(u32, r.code, 0), "%s Start: %s", shim, r.message);
	ttsync_reply_done(&r);
	out[LSM_APPARMOR] = exec_with(id, "aa", "\"apparmorProfile\":\"unconfined\"", false);
	out[LSM_SELINUX] = exec_with(
		id, "se", "\"selinuxLabel\":\"system_u:system_r:container_t:s0:c1,c2\"", false);
	out[LSM_EMPTY] =
		exec_with(id, "none", "\"apparmorProfile\":\"\",\"selinuxLabel\":\"\"", true);
	wr.id = (char *)id;
	cr_assert(eq(int, ttsync_call_async(&t.s, TASK, "Wait", &wr.base, testutil_timeout(60), &w),
		     0));
	kill_task(id, NULL, SIGKILL, 0);
	cr_assert(eq(u32, wait_status(&w), 137));
	delete_task(id, NULL);
	shutdown_shim();
	t.shim_pid = 0;
}

/*
 * runc 1.1.5 writes an exec's AppArmor profile whether or not AppArmor runs and refuses a
 * SELinux label where SELinux does not: on a host with neither, both fail the exec's Start
 * with the same code and words; empty labels are no labels. Elsewhere only the codes are
 * compared (the labels then apply, or fail on the host's policy, alike). husk's OCI engine
 * (BinaryName runc) hands the labels to runc unchanged, with the same outcome.
 */
Test(proto, exec_lsm_labels_as_the_runc_shim)
{
	static const char *const words[LSM_N] = {
		[LSM_APPARMOR] = "apparmor failed to apply profile: write /proc/self/attr/exec: "
				 "invalid argument",
		[LSM_SELINUX] = "selinux label is specified in config, but selinux is disabled or "
				"not supported",
	};
	struct exec_outcome ref[LSM_N], mine[LSM_N], oci[LSM_N];
	char ref_id[32], husk_id[32], oci_id[32], roots[32][128], dir[256];
	Containerd__Runc__V1__Options ro = CONTAINERD__RUNC__V1__OPTIONS__INIT;
	Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
	uint8_t opts[256];
	struct stat st;
	char *aa = testutil_read_file("/sys/module/apparmor/parameters/enabled");
	bool lsm = (aa && aa[0] == 'Y') || stat("/sys/fs/selinux/enforce", &st) == 0;

	free(aa);
	if (access(REF_SHIM, X_OK) != 0)
		cr_skip_test("%s is not installed: nothing to compare with", REF_SHIM);
	(void)snprintf(ref_id, sizeof(ref_id), "lsm-runc-%d", (int)getpid());
	(void)snprintf(husk_id, sizeof(husk_id), "lsm-husk-%d", (int)getpid());
	(void)snprintf(oci_id, sizeof(oci_id), "lsm-oci-%d", (int)getpid());
	ro.binary_name = (char *)"runc";
	any.type_url = (char *)"containerd.runc.v1.Options";
	any.value.len = protobuf_c_message_pack(&ro.base, opts);
	any.value.data = opts;
	char cg[64];
	(void)snprintf(cg, sizeof(cg), "\"cgroupsPath\":\"/husk-lsm-%d/c\",", (int)getpid());
	write_spec_ex("[\"sleep\",\"1000\"]", cg);
	int log_fd = make_log_fifo();
	lsm_exec_cases(REF_SHIM, ref_id, NULL, ref);
	lsm_exec_cases(shim_binary(), husk_id, NULL, mine);
	lsm_exec_cases(shim_binary(), oci_id, &any, oci);
	(void)close(log_fd);
	size_t n = cgroup_roots(roots, 32);
	for (size_t i = 0; i < n; i++) {
		(void)snprintf(dir, sizeof(dir), "%s/husk-lsm-%d", roots[i], (int)getpid());
		(void)rmdir(dir);
	}
	for (size_t i = 0; i < LSM_N; i++) {
		cr_log_info("case %zu: runc shim %u/%u '%s', husk %u/%u '%s', husk with runc %u/%u "
			    "'%s'",
			    i, ref[i].exec_code, ref[i].start_code,
			    ref[i].message ? ref[i].message : "", mine[i].exec_code,
			    mine[i].start_code, mine[i].message ? mine[i].message : "",
			    oci[i].exec_code, oci[i].start_code,
			    oci[i].message ? oci[i].message : "");
		cr_expect(eq(u32, oci[i].exec_code, ref[i].exec_code), "case %zu: OCI Exec's code",
			  i);
		cr_expect(eq(u32, oci[i].start_code, ref[i].start_code),
			  "case %zu: OCI Start's code", i);
		cr_expect(eq(u32, oci[i].status, ref[i].status), "case %zu: OCI exit status", i);
		cr_expect(eq(u32, mine[i].exec_code, ref[i].exec_code), "case %zu: Exec's code", i);
		cr_expect(eq(u32, mine[i].start_code, ref[i].start_code), "case %zu: Start's code",
			  i);
		cr_expect(eq(u32, mine[i].status, ref[i].status), "case %zu: exit status", i);
		if (!lsm && words[i]) {
			cr_expect(ref[i].message && strcasestr(ref[i].message, words[i]),
				  "case %zu: the runc shim's words", i);
			cr_expect(mine[i].message && strcasestr(mine[i].message, words[i]),
				  "case %zu: husk's words: %s", i, mine[i].message);
			cr_expect(oci[i].message && strcasestr(oci[i].message, words[i]),
				  "case %zu: husk's OCI engine's words: %s", i, oci[i].message);
		}
		free(ref[i].message);
		free(mine[i].message);
		free(oci[i].message);
	}
	cr_assert(ref[LSM_EMPTY].start_code == 0, "empty labels run");
}

/* ---- a start is published before an exit ---- */

#define START_ROUNDS 4

/*
 * Processes that exit at once, through shim in one pod: the inits of START_ROUNDS containers
 * under each engine (runc Options.BinaryName selects husk's OCI engine; the runc shim runs
 * runc either way), then START_ROUNDS * 2 execs in a running container. Each is published
 * started before it is published exited, whenever its exit is reaped.
 */
static void start_then_exit_rounds(const char *shim, const char *prefix)
{
	Containerd__Runc__V1__Options ro = CONTAINERD__RUNC__V1__OPTIONS__INIT;
	Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
	Containerd__Task__V2__CreateTaskRequest cr =
		CONTAINERD__TASK__V2__CREATE_TASK_REQUEST__INIT;
	Containerd__Task__V2__StartRequest sr = CONTAINERD__TASK__V2__START_REQUEST__INIT;
	uint8_t opts[256];
	char host[64], id[64], exec_id[32];
	struct ttsync_reply w;

	ro.binary_name = (char *)"runc";
	any.type_url = (char *)"containerd.runc.v1.Options";
	any.value.len = protobuf_c_message_pack(&ro.base, opts);
	any.value.data = opts;
	(void)snprintf(host, sizeof(host), "%s-host", prefix);
	write_spec("[\"true\"]");
	start_shim_bin(shim, host, NULL, 0);
	cr.bundle = t.bundle;
	for (size_t i = 0; i < 2 * START_ROUNDS; i++) {
		const char *engine = i % 2 ? "runc" : "native";
		size_t mark = t.s.n_ev;
		(void)snprintf(id, sizeof(id), "%s-%zu", prefix, i);
		cr.id = sr.id = id;
		cr.options = i % 2 ? &any : NULL;
		struct ttsync_reply r = call("Create", &cr.base);
		cr_assert(eq(u32, r.code, 0), "%s Create %s: %s", shim, id, r.message);
		ttsync_reply_done(&r);
		Containerd__Task__V2__WaitRequest wr = CONTAINERD__TASK__V2__WAIT_REQUEST__INIT;
		wr.id = id;
		cr_assert(eq(
			int,
			ttsync_call_async(&t.s, TASK, "Wait", &wr.base, testutil_timeout(60), &w),
			0));
		r = call("Start", &sr.base);
		cr_assert(eq(u32, r.code, 0), "%s Start %s: %s", shim, id, r.message);
		ttsync_reply_done(&r);
		cr_assert(eq(u32, wait_status(&w), 0));
		delete_task(id, NULL);
		cr_assert(ttsync_wait_events(&t.s, mark + 4, testutil_timeout(10)),
			  "%s, %s engine: events %s", shim, engine, topics_since(mark));
		cr_assert(eq(str, topics_since(mark),
			     "/tasks/create /tasks/start /tasks/exit /tasks/delete"),
			  "%s, %s engine, round %zu", shim, engine, i / 2);
	}

	write_spec("[\"sleep\",\"1000\"]");
	cr.id = sr.id = host;
	cr.options = NULL;
	size_t mark = t.s.n_ev;
	struct ttsync_reply r = call("Create", &cr.base);
	cr_assert(eq(u32, r.code, 0), "%s Create %s: %s", shim, host, r.message);
	ttsync_reply_done(&r);
	r = call("Start", &sr.base);
	cr_assert(eq(u32, r.code, 0), "%s Start %s: %s", shim, host, r.message);
	ttsync_reply_done(&r);
	cr_assert(ttsync_wait_events(&t.s, mark + 2, testutil_timeout(10)), "%s: events %s", shim,
		  topics_since(mark));
	for (size_t i = 0; i < 2 * START_ROUNDS; i++) {
		mark = t.s.n_ev;
		(void)snprintf(exec_id, sizeof(exec_id), "e%zu", i);
		exec_start(host, exec_id, "[\"true\"]", &w);
		cr_assert(eq(u32, wait_status(&w), 0));
		delete_task(host, exec_id);
		cr_assert(ttsync_wait_events(&t.s, mark + 3, testutil_timeout(10)),
			  "%s, exec: events %s", shim, topics_since(mark));
		cr_assert(eq(str, topics_since(mark),
			     "/tasks/exec-added /tasks/exec-started /tasks/exit"),
			  "%s, exec %zu", shim, i);
	}
	Containerd__Task__V2__WaitRequest wr = CONTAINERD__TASK__V2__WAIT_REQUEST__INIT;
	wr.id = host;
	cr_assert(eq(int, ttsync_call_async(&t.s, TASK, "Wait", &wr.base, testutil_timeout(60), &w),
		     0));
	kill_task(host, NULL, SIGKILL, 0);
	cr_assert(eq(u32, wait_status(&w), 137));
	delete_task(host, NULL);
	if (strcmp(shim, REF_SHIM) != 0) {
		shutdown_shim();
	} else {
		/* The runc shim exits as it answers Shutdown: the reply may be lost to a reset,
		 * which containerd ignores too. */
		Containerd__Task__V2__ShutdownRequest sq =
			CONTAINERD__TASK__V2__SHUTDOWN_REQUEST__INIT;
		int e = ttsync_call(&t.s, TASK, "Shutdown", &sq.base, testutil_timeout(30), &r);
		cr_assert(e == 0 || e == -ECONNRESET, "Shutdown: %s", strerror(-e));
		if (e == 0)
			ttsync_reply_done(&r);
		cr_assert(pid_gone(t.shim_pid, 10), "the runc shim exits after Shutdown");
	}
	t.shim_pid = 0;
}

Test(proto, a_process_that_exits_at_once_is_published_started_first)
{
	char husk_prefix[32], ref_prefix[32];

	if (access(REF_SHIM, X_OK) != 0)
		cr_skip_test("%s is not installed: nothing to compare with", REF_SHIM);
	(void)snprintf(husk_prefix, sizeof(husk_prefix), "order-husk-%d", (int)getpid());
	(void)snprintf(ref_prefix, sizeof(ref_prefix), "order-runc-%d", (int)getpid());
	int log_fd = make_log_fifo();
	start_then_exit_rounds(REF_SHIM, ref_prefix);
	start_then_exit_rounds(shim_binary(), husk_prefix);
	(void)close(log_fd);
}

/* ---- a Kill while another process holds the container's lock ---- */

/* Connect (naming no container) over and over, for seconds or until the file exists
 * (file non-NULL): the slowest answer, in seconds; *ret_n gets the count. */
static double connects_until(const char *file, double seconds, unsigned *ret_n)
{
	Containerd__Task__V2__ConnectRequest cn = CONTAINERD__TASK__V2__CONNECT_REQUEST__INIT;
	double worst = 0;

	cn.id = (char *)"";
	*ret_n = 0;
	for (double end = ttsync_now() + seconds;
	     ttsync_now() < end && !(file && access(file, F_OK) == 0); (*ret_n)++) {
		double t0 = ttsync_now();
		struct ttsync_reply r = call("Connect", &cn.base);
		double dt = ttsync_now() - t0;
		cr_assert(eq(u32, r.code, 0), "Connect: %s", r.message);
		ttsync_reply_done(&r);
		worst = dt > worst ? dt : worst;
	}
	return worst;
}

/* The lock file of id under the state root (HUSK_ROOT/<ns>/…<id>….lock), or NULL. */
static char *lock_file_of(const char *id)
{
	char dir[2200];
	char *path = NULL;

	(void)snprintf(dir, sizeof(dir), "%.2000s/%s", t.state, NS);
	DIR *d = opendir(dir);
	if (!d)
		return NULL;
	for (struct dirent *e; !path && (e = readdir(d));) {
		size_t n = strlen(e->d_name);
		if (n > 5 && strcmp(e->d_name + n - 5, ".lock") == 0 && strstr(e->d_name, id))
			cr_assert(asprintf(&path, "%s/%s", dir, e->d_name) > 0);
	}
	(void)closedir(d);
	return path;
}

/*
 * The husk CLI holds a container's lock while it works (`husk kill --all` freezes for up to
 * 10 s). A Kill the shim gets meanwhile waits for the lock off the loop: the shim answers other
 * calls, and the Kill succeeds once the lock is free.
 */
Test(proto, a_kill_waits_for_a_held_lock_off_the_loop)
{
	uint32_t pid = 0;
	int ready[2], release[2];
	char ch = 0;

	write_spec("[\"sleep\",\"1000\"]");
	start_shim("lk1");
	create_start("lk1", &pid);
	char *lock = lock_file_of("lk1");
	cr_assert(lock != NULL, "lk1 has a lock file under %s", t.state);
	cr_assert(eq(int, pipe2(ready, O_CLOEXEC), 0));
	cr_assert(eq(int, pipe2(release, O_CLOEXEC), 0));
	pid_t holder = fork();
	cr_assert(ge(int, holder, 0));
	if (holder == 0) {
		/* Never outlives the test, whichever way it ends. */
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		alarm(60);
		int fd = open(lock, O_RDWR | O_CLOEXEC);
		if (fd < 0 || flock(fd, LOCK_EX) < 0 || write(ready[1], "x", 1) != 1)
			_exit(1);
		(void)!read(release[0], &ch, 1);
		_exit(0);
	}
	(void)close(ready[1]);
	(void)close(release[0]);
	cr_assert(eq(int, (int)read(ready[0], &ch, 1), 1), "the lock is held");

	Containerd__Task__V2__KillRequest kr = CONTAINERD__TASK__V2__KILL_REQUEST__INIT;
	struct ttsync_reply k;
	kr.id = (char *)"lk1";
	kr.signal = SIGKILL;
	cr_assert(eq(int, ttsync_call_async(&t.s, TASK, "Kill", &kr.base, testutil_timeout(60), &k),
		     0));
	/* Meanwhile the loop answers (calls naming lk1 wait for its Kill, as the runc shim's do).
	 */
	unsigned n = 0;
	double worst = connects_until(NULL, 1.0, &n);
	fprintf(stderr, "[lock] %u Connect calls while the lock was held, slowest %.3f ms\n", n,
		worst * 1e3);
	cr_assert(lt(dbl, worst, testutil_timeout(0.1)), "slowest Connect %.3f ms", worst * 1e3);
	cr_assert_not(k.done, "the Kill waits for the lock");
	cr_assert(eq(int, kill((pid_t)pid, 0), 0),
		  "the container still runs while the lock is held");

	cr_assert(eq(int, (int)write(release[1], "x", 1), 1));
	cr_assert(eq(int, waitpid(holder, NULL, 0), holder));
	cr_assert(ttsync_run_until(&t.s, &k.done, testutil_timeout(30)), "Kill answered");
	cr_assert(eq(u32, k.code, 0), "Kill: %s", k.message);
	ttsync_reply_done(&k);
	cr_assert(eq(u32, wait_exit("lk1"), 137));
	delete_task("lk1", NULL);
	(void)close(ready[0]);
	(void)close(release[1]);
	free(lock);
	shutdown_shim();
}

/* ---- a create worker that dies ---- */

/* The pid of the shim's child whose comm is comm, or 0. */
static pid_t shim_child_named(const char *comm)
{
	char path[128];
	DIR *d = opendir("/proc");
	pid_t found = 0;

	cr_assert(d != NULL);
	for (struct dirent *e; !found && (e = readdir(d));) {
		pid_t pid = (pid_t)atoi(e->d_name);
		if (pid <= 0)
			continue;
		(void)snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
		FILE *f = fopen(path, "re");
		if (!f)
			continue;
		int ppid = 0;
		char name[32] = "";
		if (fscanf(f, "%*d (%31[^)]) %*c %d", name, &ppid) == 2 && ppid == t.shim_pid &&
		    strcmp(name, comm) == 0)
			found = pid;
		(void)fclose(f);
	}
	(void)closedir(d);
	return found;
}

/*
 * The process that runs a create dies in the middle (here: SIGKILL while a createRuntime hook
 * waits). The shim fails the Create and removes what it left — the init, the cgroup, the state
 * files — running the container's poststop hook; that hook takes its time in a process of its
 * own, while the shim goes on answering.
 */
Test(proto, a_create_whose_worker_dies_is_cleaned_up_off_the_loop)
{
	char hooks[8192], started[2100], go[2100], done[2100];

	(void)snprintf(started, sizeof(started), "%.2000s/hook-started", t.dir);
	(void)snprintf(go, sizeof(go), "%.2000s/hook-go", t.dir);
	(void)snprintf(done, sizeof(done), "%.2000s/poststop-done", t.dir);
	(void)snprintf(
		hooks, sizeof(hooks),
		"\"hooks\":{\"createRuntime\":[{\"path\":\"/bin/sh\",\"args\":[\"sh\",\"-c\","
		"\"touch %s; i=0; while [ ! -e %s ] && [ $i -lt 600 ]; do sleep 0.1; "
		"i=$((i+1)); done\"]}],"
		"\"poststop\":[{\"path\":\"/bin/sh\",\"args\":[\"sh\",\"-c\","
		"\"sleep 1.5; touch %s\"]}]},",
		started, go, done);
	write_spec_full("[\"sleep\",\"1000\"]", hooks, "");
	start_shim("cw1");

	Containerd__Task__V2__CreateTaskRequest cr =
		CONTAINERD__TASK__V2__CREATE_TASK_REQUEST__INIT;
	struct ttsync_reply c;
	cr.id = (char *)"cw1";
	cr.bundle = t.bundle;
	cr_assert(eq(int,
		     ttsync_call_async(&t.s, TASK, "Create", &cr.base, testutil_timeout(60), &c),
		     0));
	double end = ttsync_now() + testutil_timeout(20);
	while (access(started, F_OK) != 0 && ttsync_now() < end)
		(void)ttsync_run_until(&t.s, &c.done, 0.02);
	cr_assert(eq(int, access(started, F_OK), 0), "the createRuntime hook runs");
	pid_t worker = shim_child_named("husk:[create]");
	cr_assert(gt(int, worker, 0), "the create runs in a husk:[create] child of the shim");
	char *lock = lock_file_of("cw1");
	cr_assert(lock != NULL, "the create made cw1's state");
	cr_assert(eq(int, kill(worker, SIGKILL), 0));
	cr_assert(ttsync_run_until(&t.s, &c.done, testutil_timeout(30)), "Create answered");
	cr_assert(ne(u32, c.code, 0), "Create fails once its worker died");
	fprintf(stderr, "[cleanup] Create: %s\n", c.message);
	ttsync_reply_done(&c);

	/* The poststop hook takes 1.5 s: the shim answers meanwhile. */
	unsigned n = 0;
	double worst = connects_until(done, testutil_timeout(30), &n);
	fprintf(stderr, "[cleanup] %u Connect calls during the cleanup, slowest %.3f ms\n", n,
		worst * 1e3);
	cr_assert(eq(int, access(done, F_OK), 0), "the poststop hook ran");
	cr_assert(ge(u32, n, 5), "the shim answered during the poststop hook");
	cr_assert(lt(dbl, worst, testutil_timeout(0.1)), "slowest Connect %.3f ms", worst * 1e3);
	/* Nothing left: the state and lock files go last. */
	end = ttsync_now() + testutil_timeout(10);
	char *left = NULL;
	while ((left = lock_file_of("cw1")) && ttsync_now() < end) {
		free(left);
		(void)usleep(20000);
	}
	cr_assert_null(left, "cw1's state files are removed");
	testutil_write_file(go, "go");
	free(lock);
	shutdown_shim();
}
