/*
 * The task service against a fake runtime (test_shim_task_fake.c) with real processes, the
 * real reaper and real stdio: event order, error kinds and messages, deferred Waits and
 * Deletes, Shutdown with tasks left. No root needed.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <uv.h>

#include "convert.h"
#include "errmap.h"
#include "events/task.pb-c.h"
#include "log.h"
#include "reaper.h"
#include "runtime/task/v2/shim.pb-c.h"
#include "shim.h"
#include "test_shim_task_fake.h"
#include "testutil.h"

/* ---- a recording RPC layer ---- */

struct shim_call {
	const char *method;
	bool done;
	bool failed;
	uint32_t code;
	char msg[600];
	uint8_t *resp;
	size_t resp_len;
	shim_call_cancel_fn *cancel;
	void *cancel_ud;
};

void shim_call_reply(struct shim_call *call, const ProtobufCMessage *resp)
{
	cr_assert_not(call->done, "%s answered twice", call->method);
	call->done = true;
	if (resp)
		cr_assert(eq(int, shim_pack(resp, &call->resp, &call->resp_len, NULL), 0));
}

void shim_call_fail(struct shim_call *call, const struct husk_err *err)
{
	cr_assert_not(call->done, "%s answered twice", call->method);
	call->done = true;
	call->failed = true;
	call->code = shim_errmap_format(err, call->msg, sizeof(call->msg));
}

void shim_call_on_cancel(struct shim_call *call, shim_call_cancel_fn *cb, void *userdata)
{
	call->cancel = cb;
	call->cancel_ud = userdata;
}

const char *shim_call_method(const struct shim_call *call)
{
	return call->method;
}

/* ---- a recording publisher ---- */

#define MAX_EVENTS 64
static char topics[MAX_EVENTS][32];
static uint8_t *event_data[MAX_EVENTS];
static size_t event_len[MAX_EVENTS];
static int n_events;

void shim_publish(struct shim_publisher *pub, const ProtobufCMessage *event)
{
	(void)pub;
	cr_assert(lt(int, n_events, MAX_EVENTS));
	(void)snprintf(topics[n_events], sizeof(topics[0]), "%s",
		       shim_event_topic(event->descriptor));
	cr_assert(eq(int, shim_pack(event, &event_data[n_events], &event_len[n_events], NULL), 0));
	n_events++;
}

/* "/tasks/create /tasks/start ..." */
static const char *event_order(void)
{
	static char buf[1024];

	buf[0] = '\0';
	for (int i = 0; i < n_events; i++) {
		if (i)
			(void)strcat(buf, " ");
		(void)strcat(buf, topics[i] + strlen("/tasks/"));
	}
	return buf;
}

/* ---- fixture ---- */

static uv_loop_t loop;
static struct shim_service svc;
static struct shim_reaper reaper;
static char *dir;
static int shutdowns;

static void on_shutdown(void *ud)
{
	(void)ud;
	shutdowns++;
}

static void on_reaped(void *ud, pid_t pid, int status)
{
	shim_service_reaped(ud, pid, status);
}

static void setup(void)
{
	signal(SIGPIPE, SIG_IGN);
	/* As the shim: creates run in workers, whose children come back to us. */
	cr_assert(eq(int, prctl(PR_SET_CHILD_SUBREAPER, 1), 0));
	shim_log_init(-1, false, NULL, NULL);
	cr_assert(eq(int, uv_loop_init(&loop), 0));
	shim_service_init(&svc, &loop, "ns1", NULL, on_shutdown, NULL);
	cr_assert(eq(int, shim_reaper_start(&reaper, &loop, on_reaped, &svc), 0));
	dir = testutil_tmpdir("task");
	n_events = 0;
	shutdowns = 0;
	fake_init_program = "sleep";
}

static void teardown(void)
{
	fake_cleanup();
	shim_service_done(&svc);
	shim_reaper_stop(&reaper);
	testutil_rmtree_free(dir);
}

TestSuite(shim_task, .init = setup, .fini = teardown, .timeout = 60);

static struct shim_call *call(const char *method, const ProtobufCMessage *req)
{
	struct shim_call *c = calloc(1, sizeof(*c));
	uint8_t *buf = NULL;
	size_t len = 0;

	c->method = method;
	cr_assert(eq(int, shim_pack(req, &buf, &len, NULL), 0));
	shim_task_dispatch(&svc, c, method, buf, len);
	free(buf);
	return c;
}

static void call_free(struct shim_call *c)
{
	free(c->resp);
	free(c);
}

static void expect_ok(struct shim_call *c)
{
	cr_assert(c->done, "%s not answered", c->method);
	cr_assert_not(c->failed, "%s failed: %u %s", c->method, c->code, c->msg);
}

static void expect_error(struct shim_call *c, uint32_t code, const char *msg)
{
	cr_assert(c->done, "%s not answered", c->method);
	cr_assert(c->failed, "%s succeeded", c->method);
	cr_assert(eq(u32, c->code, code), "%s: %s", c->method, c->msg);
	if (msg)
		cr_assert(eq(str, c->msg, (char *)msg));
}

/* Run the loop until the call is answered (or the event count reaches n). */
static void run_until(bool (*pred)(void *), void *arg)
{
	uint64_t deadline = uv_now(&loop) + (uint64_t)(testutil_timeout(10) * 1000);
	uv_timer_t tick;

	cr_assert(eq(int, uv_timer_init(&loop, &tick), 0));
	while (!pred(arg)) {
		cr_assert(lt(u64, uv_now(&loop), deadline), "timed out");
		(void)uv_timer_start(&tick, (uv_timer_cb)(void (*)(void))uv_stop, 5, 0);
		(void)uv_run(&loop, UV_RUN_ONCE);
	}
	uv_close((uv_handle_t *)&tick, NULL);
	(void)uv_run(&loop, UV_RUN_NOWAIT);
}

static bool call_done(void *arg)
{
	return ((struct shim_call *)arg)->done;
}

static bool events_at_least(void *arg)
{
	return n_events >= *(int *)arg;
}

static void run_until_events(int n)
{
	run_until(events_at_least, &n);
}

static char *bundle(const char *id)
{
	char *b = NULL;

	cr_assert(asprintf(&b, "%s/%s", dir, id) > 0);
	cr_assert(eq(int, mkdir(b, 0700), 0));
	return b;
}

static char *fifo(const char *name)
{
	char *p = NULL;

	cr_assert(asprintf(&p, "%s/%s", dir, name) > 0);
	cr_assert(eq(int, mkfifo(p, 0600), 0));
	return p;
}

static uint32_t create(const char *id, const char *out)
{
	Containerd__Task__V2__CreateTaskRequest req =
		CONTAINERD__TASK__V2__CREATE_TASK_REQUEST__INIT;
	Containerd__Task__V2__CreateTaskResponse *resp;
	char *b = bundle(id);

	req.id = (char *)id;
	req.bundle = b;
	req.stdout = (char *)(out ? out : "");
	struct shim_call *c = call("Create", &req.base);
	run_until(call_done, c);
	expect_ok(c);
	resp = containerd__task__v2__create_task_response__unpack(NULL, c->resp_len, c->resp);
	cr_assert_not_null(resp);
	uint32_t pid = resp->pid;
	cr_assert(gt(u32, pid, 0));
	containerd__task__v2__create_task_response__free_unpacked(resp, NULL);
	call_free(c);
	free(b);
	return pid;
}

static void simple(const char *method, const ProtobufCMessage *req)
{
	struct shim_call *c = call(method, req);

	/* Start, Kill with all, Pause, Resume and Update answer once their worker has ended. */
	run_until(call_done, c);
	expect_ok(c);
	call_free(c);
}

static void start(const char *id, const char *exec_id)
{
	Containerd__Task__V2__StartRequest req = CONTAINERD__TASK__V2__START_REQUEST__INIT;

	req.id = (char *)id;
	req.exec_id = (char *)(exec_id ? exec_id : "");
	simple("Start", &req.base);
}

static struct shim_call *wait_call(const char *id, const char *exec_id)
{
	Containerd__Task__V2__WaitRequest req = CONTAINERD__TASK__V2__WAIT_REQUEST__INIT;

	req.id = (char *)id;
	req.exec_id = (char *)(exec_id ? exec_id : "");
	return call("Wait", &req.base);
}

static struct shim_call *delete_call(const char *id, const char *exec_id)
{
	Containerd__Task__V2__DeleteRequest req = CONTAINERD__TASK__V2__DELETE_REQUEST__INIT;

	req.id = (char *)id;
	req.exec_id = (char *)(exec_id ? exec_id : "");
	return call("Delete", &req.base);
}

static void kill_task(const char *id, const char *exec_id, int sig)
{
	Containerd__Task__V2__KillRequest req = CONTAINERD__TASK__V2__KILL_REQUEST__INIT;

	req.id = (char *)id;
	req.exec_id = (char *)(exec_id ? exec_id : "");
	req.signal = (uint32_t)sig;
	simple("Kill", &req.base);
}

static void exec_add(const char *id, const char *exec_id, const char *program)
{
	Containerd__Task__V2__ExecProcessRequest req =
		CONTAINERD__TASK__V2__EXEC_PROCESS_REQUEST__INIT;
	Google__Protobuf__Any spec = GOOGLE__PROTOBUF__ANY__INIT;

	spec.type_url = "types.containerd.io/opencontainers/runtime-spec/1/Process";
	spec.value.data = (uint8_t *)program;
	spec.value.len = strlen(program);
	req.id = (char *)id;
	req.exec_id = (char *)exec_id;
	req.spec = &spec;
	simple("Exec", &req.base);
}

static Containerd__Events__TaskExit *exit_event(int i)
{
	cr_assert(eq(str, topics[i], "/tasks/exit"));
	Containerd__Events__TaskExit *ev =
		containerd__events__task_exit__unpack(NULL, event_len[i], event_data[i]);
	cr_assert_not_null(ev);
	return ev;
}

/* ---- tests ---- */

Test(shim_task, lifecycle_events_in_order_and_wait_delete_values)
{
	fake_init_program = "exit:3";
	uint32_t pid = create("c1", NULL);
	struct shim_call *w = wait_call("c1", NULL);
	cr_assert_not(w->done, "Wait on a created task answers at exit");
	start("c1", NULL);
	run_until(call_done, w);
	expect_ok(w);
	Containerd__Task__V2__WaitResponse *wr =
		containerd__task__v2__wait_response__unpack(NULL, w->resp_len, w->resp);
	cr_assert(eq(u32, wr->exit_status, 3));
	cr_assert(gt(i64, wr->exited_at->seconds, 1600000000));
	containerd__task__v2__wait_response__free_unpacked(wr, NULL);
	call_free(w);

	/* Wait on an exited process answers at once. */
	w = wait_call("c1", NULL);
	expect_ok(w);
	call_free(w);

	struct shim_call *d = delete_call("c1", NULL);
	run_until(call_done, d);
	expect_ok(d);
	Containerd__Task__V2__DeleteResponse *dr =
		containerd__task__v2__delete_response__unpack(NULL, d->resp_len, d->resp);
	cr_assert(eq(u32, dr->pid, pid));
	cr_assert(eq(u32, dr->exit_status, 3));
	containerd__task__v2__delete_response__free_unpacked(dr, NULL);
	call_free(d);
	cr_assert(eq(str, (char *)event_order(), "create start exit delete"));
	Containerd__Events__TaskExit *ev = exit_event(2);
	cr_assert(eq(str, ev->container_id, "c1"));
	cr_assert(eq(str, ev->id, "c1"), "the init's exit carries the container id as id");
	cr_assert(eq(u32, ev->pid, pid));
	cr_assert(eq(u32, ev->exit_status, 3));
	containerd__events__task_exit__free_unpacked(ev, NULL);
}

Test(shim_task, signal_death_is_128_plus_signal)
{
	create("c1", NULL);
	start("c1", NULL);
	kill_task("c1", NULL, SIGKILL);
	run_until_events(3);
	Containerd__Events__TaskExit *ev = exit_event(2);
	cr_assert(eq(u32, ev->exit_status, 137));
	containerd__events__task_exit__free_unpacked(ev, NULL);
}

Test(shim_task, exec_events_and_exits_before_the_init)
{
	create("c1", NULL);
	start("c1", NULL);
	exec_add("c1", "e1", "sleep");
	/* containerd issues Wait(exec) before Start(exec). */
	struct shim_call *w = wait_call("c1", "e1");
	cr_assert_not(w->done);
	start("c1", "e1");
	cr_assert(eq(str, (char *)event_order(), "create start exec-added exec-started"));
	/* The init dies; the exec is killed with the rest; its exit goes out first. */
	kill_task("c1", NULL, SIGKILL);
	run_until_events(6);
	cr_assert(eq(str, (char *)event_order(), "create start exec-added exec-started exit exit"));
	Containerd__Events__TaskExit *e1 = exit_event(4);
	Containerd__Events__TaskExit *e2 = exit_event(5);
	cr_assert(eq(str, e1->id, "e1"));
	cr_assert(eq(str, e2->id, "c1"));
	containerd__events__task_exit__free_unpacked(e1, NULL);
	containerd__events__task_exit__free_unpacked(e2, NULL);
	run_until(call_done, w);
	expect_ok(w);
	call_free(w);

	/* Delete of the exec: its values, no event. */
	struct shim_call *d = delete_call("c1", "e1");
	run_until(call_done, d);
	expect_ok(d);
	call_free(d);
	cr_assert(eq(int, n_events, 6));
}

Test(shim_task, exec_exit_code_and_state)
{
	create("c1", NULL);
	start("c1", NULL);
	exec_add("c1", "e1", "exit:5");
	start("c1", "e1");
	run_until_events(5);
	Containerd__Events__TaskExit *ev = exit_event(4);
	cr_assert(eq(u32, ev->exit_status, 5));
	containerd__events__task_exit__free_unpacked(ev, NULL);

	Containerd__Task__V2__StateRequest req = CONTAINERD__TASK__V2__STATE_REQUEST__INIT;
	req.id = "c1";
	req.exec_id = "e1";
	struct shim_call *c = call("State", &req.base);
	expect_ok(c);
	Containerd__Task__V2__StateResponse *st =
		containerd__task__v2__state_response__unpack(NULL, c->resp_len, c->resp);
	cr_assert(eq(str, st->id, "e1"));
	cr_assert(eq(int, st->status, CONTAINERD__V1__TYPES__STATUS__STOPPED));
	cr_assert(eq(u32, st->exit_status, 5));
	containerd__task__v2__state_response__free_unpacked(st, NULL);
	call_free(c);

	req.exec_id = "";
	c = call("State", &req.base);
	st = containerd__task__v2__state_response__unpack(NULL, c->resp_len, c->resp);
	cr_assert(eq(int, st->status, CONTAINERD__V1__TYPES__STATUS__RUNNING));
	/* Not exited: Go's zero time, as runc reports it. */
	cr_assert(eq(i64, st->exited_at->seconds, SHIM_GO_ZERO_TIME_SECONDS));
	containerd__task__v2__state_response__free_unpacked(st, NULL);
	call_free(c);
}

Test(shim_task, error_kinds_and_messages)
{
	Containerd__Task__V2__StateRequest sreq = CONTAINERD__TASK__V2__STATE_REQUEST__INIT;
	sreq.id = "nope";
	struct shim_call *c = call("State", &sreq.base);
	expect_error(c, SHIM_CODE_NOT_FOUND, "container not created: not found");
	call_free(c);

	create("c1", NULL);
	sreq.id = "c1";
	sreq.exec_id = "x";
	c = call("State", &sreq.base);
	expect_error(c, SHIM_CODE_NOT_FOUND, "process does not exist x: not found");
	call_free(c);

	start("c1", NULL);
	Containerd__Task__V2__StartRequest st = CONTAINERD__TASK__V2__START_REQUEST__INIT;
	st.id = "c1";
	c = call("Start", &st.base);
	expect_error(c, SHIM_CODE_FAILED_PRECONDITION, NULL);
	call_free(c);

	exec_add("c1", "e1", "sleep");
	Containerd__Task__V2__ExecProcessRequest ex =
		CONTAINERD__TASK__V2__EXEC_PROCESS_REQUEST__INIT;
	Google__Protobuf__Any spec = GOOGLE__PROTOBUF__ANY__INIT;
	spec.value.data = (uint8_t *)"sleep";
	spec.value.len = 5;
	ex.id = "c1";
	ex.exec_id = "e1";
	ex.spec = &spec;
	c = call("Exec", &ex.base);
	expect_error(c, SHIM_CODE_ALREADY_EXISTS, "id e1: already exists");
	call_free(c);

	spec.value.data = (uint8_t *)"{bad";
	spec.value.len = 4;
	ex.exec_id = "e2";
	c = call("Exec", &ex.base);
	expect_error(c, SHIM_CODE_INVALID_ARGUMENT, NULL);
	call_free(c);

	Containerd__Task__V2__KillRequest k = CONTAINERD__TASK__V2__KILL_REQUEST__INIT;
	k.id = "c1";
	k.exec_id = "e1";
	k.signal = SIGTERM;
	c = call("Kill", &k.base);
	expect_error(c, SHIM_CODE_FAILED_PRECONDITION, "process not created: failed precondition");
	call_free(c);

	struct shim_call *d = delete_call("c1", NULL);
	expect_error(d, SHIM_CODE_FAILED_PRECONDITION, NULL);
	call_free(d);

	Containerd__Task__V2__CheckpointTaskRequest cp =
		CONTAINERD__TASK__V2__CHECKPOINT_TASK_REQUEST__INIT;
	cp.id = "c1";
	c = call("Checkpoint", &cp.base);
	expect_error(c, SHIM_CODE_UNIMPLEMENTED, NULL);
	call_free(c);

	Containerd__Task__V2__StatsRequest sr = CONTAINERD__TASK__V2__STATS_REQUEST__INIT;
	sr.id = "c1";
	c = call("Stats", &sr.base);
	expect_error(c, SHIM_CODE_NOT_FOUND, NULL);
	call_free(c);

	c = calloc(1, sizeof(*c));
	c->method = "Bogus";
	shim_task_dispatch(&svc, c, "Bogus", NULL, 0);
	expect_error(c, SHIM_CODE_UNIMPLEMENTED, "method Bogus: not implemented");
	call_free(c);

	c = calloc(1, sizeof(*c));
	c->method = "State";
	shim_task_dispatch(&svc, c, "State", (const uint8_t *)"\x0a\xff\x01", 3);
	expect_error(c, SHIM_CODE_INVALID_ARGUMENT, NULL);
	call_free(c);
}

Test(shim_task, kill_and_exec_after_the_init_exited)
{
	fake_init_program = "exit:0";
	create("c1", NULL);
	start("c1", NULL);
	run_until_events(3);

	Containerd__Task__V2__KillRequest k = CONTAINERD__TASK__V2__KILL_REQUEST__INIT;
	k.id = "c1";
	k.signal = SIGTERM;
	struct shim_call *c = call("Kill", &k.base);
	expect_error(c, SHIM_CODE_NOT_FOUND, "process already finished: not found");
	call_free(c);
	/* With all, as runc kill --all of a stopped container: nothing to signal, fine. */
	k.all = true;
	c = call("Kill", &k.base);
	expect_ok(c);
	call_free(c);

	Containerd__Task__V2__ExecProcessRequest ex =
		CONTAINERD__TASK__V2__EXEC_PROCESS_REQUEST__INIT;
	Google__Protobuf__Any spec = GOOGLE__PROTOBUF__ANY__INIT;
	spec.value.data = (uint8_t *)"sleep";
	spec.value.len = 5;
	ex.id = "c1";
	ex.exec_id = "late";
	ex.spec = &spec;
	c = call("Exec", &ex.base);
	expect_error(c, SHIM_CODE_FAILED_PRECONDITION, NULL);
	call_free(c);
}

Test(shim_task, exec_start_refused_once_init_is_gone_even_if_added_before)
{
	create("c1", NULL);
	start("c1", NULL);
	exec_add("c1", "e1", "sleep");
	struct shim_call *w = wait_call("c1", "e1");
	kill_task("c1", NULL, SIGKILL);
	run_until_events(4);
	Containerd__Task__V2__StartRequest st = CONTAINERD__TASK__V2__START_REQUEST__INIT;
	st.id = "c1";
	st.exec_id = "e1";
	struct shim_call *c = call("Start", &st.base);
	expect_error(c, SHIM_CODE_FAILED_PRECONDITION,
		     "container c1 init process is not running: failed precondition");
	call_free(c);
	/* Deleting the never-started exec ends its Wait. */
	struct shim_call *d = delete_call("c1", "e1");
	expect_ok(d);
	call_free(d);
	expect_ok(w);
	call_free(w);
}

Test(shim_task, failed_exec_start_unblocks_wait)
{
	create("c1", NULL);
	start("c1", NULL);
	exec_add("c1", "e1", "fail");
	struct shim_call *w = wait_call("c1", "e1");
	Containerd__Task__V2__StartRequest st = CONTAINERD__TASK__V2__START_REQUEST__INIT;
	st.id = "c1";
	st.exec_id = "e1";
	struct shim_call *c = call("Start", &st.base);
	run_until(call_done, c);
	cr_assert(c->failed);
	call_free(c);
	run_until(call_done, w);
	expect_ok(w);
	Containerd__Task__V2__WaitResponse *wr =
		containerd__task__v2__wait_response__unpack(NULL, w->resp_len, w->resp);
	cr_assert(eq(u32, wr->exit_status, 255));
	containerd__task__v2__wait_response__free_unpacked(wr, NULL);
	call_free(w);
}

Test(shim_task, shutdown_waits_for_the_last_task)
{
	Containerd__Task__V2__ShutdownRequest sd = CONTAINERD__TASK__V2__SHUTDOWN_REQUEST__INIT;

	fake_init_program = "exit:0";
	create("a", NULL);
	create("b", NULL);
	sd.id = "a";
	simple("Shutdown", &sd.base);
	cr_assert(eq(int, shutdowns, 0), "tasks remain: Shutdown is ignored");
	start("a", NULL);
	start("b", NULL);
	run_until_events(6);
	struct shim_call *d = delete_call("a", NULL);
	run_until(call_done, d);
	expect_ok(d);
	call_free(d);
	simple("Shutdown", &sd.base);
	cr_assert(eq(int, shutdowns, 0), "b is still there");
	d = delete_call("b", NULL);
	run_until(call_done, d);
	expect_ok(d);
	call_free(d);
	sd.id = "b";
	simple("Shutdown", &sd.base);
	cr_assert(eq(int, shutdowns, 1));
	cr_assert(eq(int, fake_live_containers(), 0));
}

Test(shim_task, delete_waits_for_output_to_drain)
{
	char *out = fifo("out");
	int reader;

	fake_init_program = "hold";
	create("c1", out);
	reader = open(out, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	start("c1", NULL);
	pid_t gc = fake_wait_hold_pid();
	cr_assert(gt(int, gc, 0));
	run_until_events(3); /* the init exited; its grandchild still holds stdout */
	struct shim_call *d = delete_call("c1", NULL);
	for (int i = 0; i < 20; i++)
		(void)uv_run(&loop, UV_RUN_NOWAIT);
	cr_assert_not(d->done, "Delete answers only once the output is drained (%s)", d->msg);
	cr_assert(eq(int, kill(gc, SIGKILL), 0));
	run_until(call_done, d);
	expect_ok(d);
	cr_assert(eq(str, (char *)event_order(), "create start exit delete"));
	call_free(d);
	(void)close(reader);
	free(out);
}

Test(shim_task, output_reaches_the_fifo_before_delete_answers)
{
	char *out = fifo("out");
	char buf[32] = {0};

	fake_init_program = "echo:hello";
	create("c1", out);
	int reader = open(out, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	start("c1", NULL);
	run_until_events(3);
	struct shim_call *d = delete_call("c1", NULL);
	run_until(call_done, d);
	expect_ok(d);
	call_free(d);
	cr_assert(eq(int, (int)read(reader, buf, sizeof(buf)), 5));
	cr_assert(eq(str, buf, "hello"));
	cr_assert(eq(int, (int)read(reader, buf, sizeof(buf)), 0), "EOF after the copy ended");
	(void)close(reader);
	free(out);
}

Test(shim_task, oom_is_published_before_the_exit_it_caused)
{
	create("c1", NULL);
	start("c1", NULL);
	fake_trigger_oom("c1");
	kill_task("c1", NULL, SIGKILL);
	run_until_events(4);
	cr_assert(eq(str, (char *)event_order(), "create start oom exit"));
}

Test(shim_task, oom_fd_alone_publishes_oom)
{
	create("c1", NULL);
	start("c1", NULL);
	fake_trigger_oom("c1");
	run_until_events(3);
	cr_assert(eq(str, (char *)event_order(), "create start oom"));
}

Test(shim_task, cancelled_wait_is_never_answered)
{
	create("c1", NULL);
	start("c1", NULL);
	struct shim_call *w = wait_call("c1", NULL);
	cr_assert_not_null(w->cancel);
	w->cancel(w->cancel_ud);
	kill_task("c1", NULL, SIGKILL);
	run_until_events(3);
	cr_assert_not(w->done);
	call_free(w);
}

Test(shim_task, connect_and_pids_tag_execs)
{
	uint32_t pid = create("c1", NULL);
	start("c1", NULL);
	exec_add("c1", "e1", "sleep");
	start("c1", "e1");

	Containerd__Task__V2__ConnectRequest cr = CONTAINERD__TASK__V2__CONNECT_REQUEST__INIT;
	cr.id = "c1";
	struct shim_call *c = call("Connect", &cr.base);
	expect_ok(c);
	Containerd__Task__V2__ConnectResponse *conn =
		containerd__task__v2__connect_response__unpack(NULL, c->resp_len, c->resp);
	cr_assert(eq(u32, conn->shim_pid, (uint32_t)getpid()));
	cr_assert(eq(u32, conn->task_pid, pid));
	containerd__task__v2__connect_response__free_unpacked(conn, NULL);
	call_free(c);

	Containerd__Task__V2__PidsRequest pr = CONTAINERD__TASK__V2__PIDS_REQUEST__INIT;
	pr.id = "c1";
	c = call("Pids", &pr.base);
	expect_ok(c);
	Containerd__Task__V2__PidsResponse *pids =
		containerd__task__v2__pids_response__unpack(NULL, c->resp_len, c->resp);
	cr_assert(eq(sz, pids->n_processes, 2));
	int tagged = 0;
	for (size_t i = 0; i < pids->n_processes; i++) {
		if (!pids->processes[i]->info)
			continue;
		cr_assert(eq(str, pids->processes[i]->info->type_url,
			     "containerd.runc.v1.ProcessDetails"));
		tagged++;
	}
	cr_assert(eq(int, tagged, 1));
	containerd__task__v2__pids_response__free_unpacked(pids, NULL);
	call_free(c);
}

Test(shim_task, pause_resume_events_and_exec_state_while_paused)
{
	create("c1", NULL);
	start("c1", NULL);
	Containerd__Task__V2__PauseRequest pr = CONTAINERD__TASK__V2__PAUSE_REQUEST__INIT;
	pr.id = "c1";
	simple("Pause", &pr.base);
	struct shim_call *c = call("Pause", &pr.base);
	expect_error(c, SHIM_CODE_FAILED_PRECONDITION, NULL);
	call_free(c);
	Containerd__Task__V2__ResumeRequest rr = CONTAINERD__TASK__V2__RESUME_REQUEST__INIT;
	rr.id = "c1";
	simple("Resume", &rr.base);
	cr_assert(eq(str, (char *)event_order(), "create start paused resumed"));
}
