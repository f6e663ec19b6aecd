/*
 * One shim serves a whole pod, so nothing one container does may stall the others: while
 * container B of a pod waits in a createRuntime hook, container A's State, Pids and Stats
 * answer at once and its output keeps flowing, and a second create in the pod completes.
 * The same while B's Delete waits in a poststop hook, B's Start in a poststart or a
 * startContainer hook, and while one of B's calls (create, start, exec, kill, pause, resume,
 * update, the kill after its init's exit, a Stats or a Pids) waits in its OCI runtime.
 * Driven over ttrpc directly, as containerd drives a shim, for husk and for the reference
 * (containerd-shim-runc-v2) the same way; the latencies of both are printed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ttrpc/ttrpc.h>
#include <unistd.h>

#include <sys/stat.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <uv.h>

#include "runc/options/oci.pb-c.h"
#include "runtime/task/v2/shim.pb-c.h"
#include "testutil.h"
#include "ttsync.h"

#define TASK	 "containerd.task.v2.Task"
#define NS	 "loop"
#define REF_SHIM "/usr/bin/containerd-shim-runc-v2"

/* How long A is measured while B waits in its hook. */
#define WINDOW_S 2.0
/* The same while one of B's calls waits in its OCI runtime (six of them in a row). */
#define OP_WINDOW_S (WINDOW_S / 2)

static struct {
	char *dir;
	char *events_path;
	struct ttsync s;
	bool s_up;
	pid_t shim_pid;
	bool shim_is_ref; /* the runc shim: it may reset the connection as it answers Shutdown */
	char *address;
	int log_fd;
} t;

static const char *husk_shim(void)
{
	static char path[4096];
	const char *env = getenv("HUSK_SHIM");

	if (env && *env)
		return env;
	(void)snprintf(path, sizeof(path), "%s/shim/containerd-shim-husk-v2",
		       getenv("HUSK_BINARY_DIR"));
	return path;
}

static char *path_of(const char *name)
{
	char *p = NULL;

	cr_assert(asprintf(&p, "%s/%s", t.dir, name) > 0);
	return p;
}

static void setup(void)
{
	char cmd[4200];

	memset(&t, 0, sizeof(t));
	t.log_fd = -1;
	t.dir = testutil_tmpdir("loop");
	t.events_path = path_of("events.sock");
	(void)snprintf(cmd, sizeof(cmd), "%s/hack/mkrootfs.sh %s/rootfs >/dev/null",
		       getenv("HUSK_SOURCE_DIR"), t.dir);
	cr_assert(eq(int, system(cmd), 0), "mkrootfs");
	cr_assert(eq(int, ttsync_init(&t.s, t.events_path), 0));
	t.s_up = true;
}

/* SIGKILL every process of dir/cgroup.procs; whether it held any. */
static bool kill_procs(const char *dir)
{
	char path[4200];
	bool any = false;

	(void)snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	FILE *f = fopen(path, "re");
	if (!f)
		return false;
	int pid;
	while (fscanf(f, "%d", &pid) == 1) {
		(void)kill(pid, SIGKILL);
		any = true;
	}
	(void)fclose(f);
	return any;
}

/*
 * A case that failed half-way leaves its containers (the shim is killed, not them): kill
 * what runs in this process's cgroups (<h|r><pid>-* at the top of every hierarchy and under
 * /husk) and remove them.
 * After a passing case there is nothing to find.
 */
static void remove_leftover_containers(void)
{
	char tags[2][32];
	DIR *roots = opendir("/sys/fs/cgroup");

	if (!roots)
		return;
	(void)snprintf(tags[0], sizeof(tags[0]), "h%d-", (int)getpid());
	(void)snprintf(tags[1], sizeof(tags[1]), "r%d-", (int)getpid());
	for (struct dirent *h; (h = readdir(roots));) {
		if (h->d_name[0] == '.')
			continue;
		/* The OCI engine's cases name their cgroups; the native ones get /husk/<id>. */
		for (int under = 0; under < 2; under++) {
			char root[512];
			(void)snprintf(root, sizeof(root), "/sys/fs/cgroup/%s%s", h->d_name,
				       under ? "/husk" : "");
			DIR *d = opendir(root);
			if (!d)
				continue;
			for (struct dirent *c; (c = readdir(d));) {
				if (strncmp(c->d_name, tags[0], strlen(tags[0])) != 0 &&
				    strncmp(c->d_name, tags[1], strlen(tags[1])) != 0)
					continue;
				char dir[1024];
				(void)snprintf(dir, sizeof(dir), "%s/%s", root, c->d_name);
				/* Bounded: a killed process leaves its cgroup within ms. */
				for (int i = 0; i < 500 && kill_procs(dir); i++)
					(void)usleep(10000);
				(void)rmdir(dir);
			}
			(void)closedir(d);
		}
	}
	(void)closedir(roots);
}

static void teardown(void)
{
	if (t.shim_pid > 0 && kill(t.shim_pid, 0) == 0)
		(void)kill(t.shim_pid, SIGKILL);
	remove_leftover_containers();
	if (t.s_up)
		ttsync_done(&t.s);
	if (t.log_fd >= 0)
		(void)close(t.log_fd);
	testutil_rmtree_free(t.dir);
	free(t.events_path);
	free(t.address);
}

TestSuite(loop, .init = setup, .fini = teardown, .timeout = 240);

/* A bundle dir/<name> whose config.json runs args_json on the shared rootfs, with hooks_json
 * ("" or `"hooks":{...},`) and mounts_json ("" or `,{...}`: mounts after /proc). */
static char *bundle_ex(const char *name, const char *args_json, const char *hooks_json,
		       const char *mounts_json)
{
	char *b = path_of(name);
	char path[4200];

	cr_assert(mkdir(b, 0700) == 0 || errno == EEXIST);
	(void)snprintf(path, sizeof(path), "%s/config.json", b);
	FILE *f = fopen(path, "we");
	cr_assert(f != NULL);
	fprintf(f,
		"{\"ociVersion\":\"1.0.2\",%s\"process\":{\"args\":%s,\"cwd\":\"/\","
		"\"env\":[\"PATH=/bin\"],\"user\":{\"uid\":0,\"gid\":0}},"
		"\"root\":{\"path\":\"%s/rootfs\"},\"hostname\":\"loop\","
		"\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"}%s],"
		"\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"ipc\"},"
		"{\"type\":\"uts\"},{\"type\":\"mount\"}]}}",
		hooks_json, args_json, t.dir, mounts_json);
	cr_assert(eq(int, fclose(f), 0));
	return b;
}

static char *bundle(const char *name, const char *args_json, const char *hooks_json)
{
	return bundle_ex(name, args_json, hooks_json, "");
}

/* A runs this: a line every 10 ms. */
#define PRINTER "[\"sh\",\"-c\",\"while :; do echo tick; usleep 10000; done\"]"

/* `"hooks":{"<kind>":[...]},` with one hook, sh, that touches started and waits until go
 * exists (the paths as the hook sees them). */
static void waiting_hook(char *buf, size_t size, const char *kind, const char *started,
			 const char *go)
{
	int n = snprintf(buf, size,
			 "\"hooks\":{\"%s\":[{\"path\":\"/bin/sh\",\"args\":[\"sh\",\"-c\","
			 "\"touch %s; while [ ! -e %s ]; do sleep 0.02; done\"],"
			 "\"env\":[\"PATH=/usr/bin:/bin\"],\"timeout\":60}]},",
			 kind, started, go);

	cr_assert(n > 0 && (size_t)n < size);
}

static struct ttsync_reply call(const char *method, const ProtobufCMessage *req)
{
	struct ttsync_reply r;
	int e = ttsync_call(&t.s, TASK, method, req, testutil_timeout(60), &r);

	cr_assert(eq(int, e, 0), "%s: %s", method, strerror(-e));
	return r;
}

static void expect_ok(const char *what, struct ttsync_reply *r)
{
	cr_assert(eq(u32, r->code, 0), "%s: %s", what, r->message);
	ttsync_reply_done(r);
}

/* `start` shim in bundle b for id, connect; the shim's pid is noted. */
static void start_shim(const char *shim, const char *b, const char *id)
{
	Containerd__Task__V2__ConnectRequest req = CONTAINERD__TASK__V2__CONNECT_REQUEST__INIT;
	char buf[4096], addr[2200], ev[2200], root[2200], fifo[2200];

	t.shim_is_ref = strcmp(shim, REF_SHIM) == 0;
	char *env[] = {ev, root, NULL};
	size_t n = 0;

	/* The runc shim's daemon writes its log to the bundle's fifo, which containerd reads. */
	(void)snprintf(fifo, sizeof(fifo), "%.2000s/log", b);
	cr_assert(mkfifo(fifo, 0600) == 0 || errno == EEXIST);
	t.log_fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	cr_assert(t.log_fd >= 0);
	(void)snprintf(addr, sizeof(addr), "%.2000s/containerd.sock", t.dir);
	(void)snprintf(ev, sizeof(ev), "TTRPC_ADDRESS=%.2000s", t.events_path);
	(void)snprintf(root, sizeof(root), "HUSK_ROOT=%.2000s/state", t.dir);
	int r = ttsync_shim_action_in(shim, b, NS, addr, id, "start", env, NULL, 0, buf,
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

/* Drain the shim's log fifo (the runc shim blocks on a full one). */
static void drain_log(void)
{
	char buf[4096];

	ssize_t n;
	while (t.log_fd >= 0 && (n = read(t.log_fd, buf, sizeof(buf))) > 0)
		if (getenv("LOOP_DEBUG"))
			fprintf(stderr, "%.*s", (int)n, buf);
}

static void create_async(const char *id, const char *b, const char *out, struct ttsync_reply *ret)
{
	Containerd__Task__V2__CreateTaskRequest cr =
		CONTAINERD__TASK__V2__CREATE_TASK_REQUEST__INIT;

	cr.id = (char *)id;
	cr.bundle = (char *)b;
	/* A log URI names both streams, as containerd sends it (the runc shim needs both). */
	cr.stdout = (char *)(out ? out : "");
	cr.stderr = (char *)(out ? out : "");
	cr_assert(eq(int,
		     ttsync_call_async(&t.s, TASK, "Create", &cr.base, testutil_timeout(90), ret),
		     0));
}

static void simple(const char *method, const char *id)
{
	/* Start, Delete and Kill requests share their first field (id); Kill's signal is set
	 * by kill_task. */
	Containerd__Task__V2__StartRequest req = CONTAINERD__TASK__V2__START_REQUEST__INIT;
	req.id = (char *)id;
	struct ttsync_reply r = call(method, &req.base);
	expect_ok(method, &r);
}

static void kill_task(const char *id)
{
	Containerd__Task__V2__KillRequest kr = CONTAINERD__TASK__V2__KILL_REQUEST__INIT;

	kr.id = (char *)id;
	kr.signal = SIGKILL;
	kr.all = true;
	struct ttsync_reply r = call("Kill", &kr.base);
	expect_ok("Kill", &r);
}

static void wait_task(const char *id)
{
	Containerd__Task__V2__WaitRequest wr = CONTAINERD__TASK__V2__WAIT_REQUEST__INIT;

	wr.id = (char *)id;
	struct ttsync_reply r = call("Wait", &wr.base);
	expect_ok("Wait", &r);
}

static off_t file_size(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? sb.st_size : 0;
}

static size_t count_threads(pid_t pid)
{
	char path[64];
	size_t n = 0;

	(void)snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	DIR *d = opendir(path);
	cr_assert(d != NULL, "%s: %s", path, strerror(errno));
	for (struct dirent *e = readdir(d); e; e = readdir(d))
		if (e->d_name[0] != '.')
			n++;
	(void)closedir(d);
	return n;
}

/* Shutdown, and wait (bounded) for the shim to exit. */
static void shutdown_shim(const char *id)
{
	Containerd__Task__V2__ShutdownRequest shr = CONTAINERD__TASK__V2__SHUTDOWN_REQUEST__INIT;

	shr.id = (char *)id;
	struct ttsync_reply r;
	int e = ttsync_call(&t.s, TASK, "Shutdown", &shr.base, testutil_timeout(60), &r);
	/* The runc shim exits as it answers: its reply may be lost to a reset, which containerd
	 * ignores too. husk's must arrive. */
	cr_assert(e == 0 || (t.shim_is_ref && e == -ECONNRESET), "Shutdown: %s", strerror(-e));
	if (e == 0)
		ttsync_reply_done(&r);
	double end = ttsync_now() + testutil_timeout(10);
	while (kill(t.shim_pid, 0) == 0 && ttsync_now() < end) {
		(void)uv_run(&t.s.loop, UV_RUN_NOWAIT);
		drain_log();
		(void)usleep(10000);
	}
	t.shim_pid = 0;
	(void)close(t.log_fd);
	t.log_fd = -1;
}

#define MAX_SAMPLES 16384

enum { M_STATE, M_PIDS, M_STATS, N_METHODS };

static const char *const method_names[N_METHODS] = {"State", "Pids", "Stats"};

struct figures {
	double lat[N_METHODS][MAX_SAMPLES]; /* seconds */
	size_t n[N_METHODS];
	off_t out_during;  /* bytes of A's output that arrived during the window */
	bool overlap;	   /* C's create ended while B's was still waiting */
	double c_create_s; /* how long C's create took */
	size_t threads;	   /* the shim's threads after serving the pod */
};

static int dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a;
	double y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The p-th percentile (nearest rank) of v[0..n), sorted in place. */
static double percentile(double *v, size_t n, double p)
{
	if (n == 0)
		return 0;
	qsort(v, n, sizeof(v[0]), dbl_cmp);
	size_t rank = (size_t)(p / 100.0 * (double)n + 0.999999);
	if (rank < 1)
		rank = 1;
	return v[rank > n ? n - 1 : rank - 1];
}

/* One timed call on A; if the window ends while it waits, the hook is released (go). */
static void timed(struct figures *fg, int m, const ProtobufCMessage *req, double window_end,
		  const char *go)
{
	struct ttsync_reply r;
	double t0 = ttsync_now();

	cr_assert(eq(int,
		     ttsync_call_async(&t.s, TASK, method_names[m], req, testutil_timeout(90), &r),
		     0));
	if (!ttsync_run_until(&t.s, &r.done, window_end - ttsync_now())) {
		/* Blocked past the window: let B's create finish, and see when we are answered. */
		testutil_write_file(go, "go");
		cr_assert(ttsync_run_until(&t.s, &r.done, testutil_timeout(60)),
			  "%s answered at all", method_names[m]);
	}
	double lat = ttsync_now() - t0;
	cr_assert(eq(int, r.error, 0));
	cr_assert(eq(u32, r.code, 0), "%s: %s", method_names[m], r.message);
	ttsync_reply_done(&r);
	if (fg->n[m] < MAX_SAMPLES)
		fg->lat[m][fg->n[m]++] = lat;
}

/* Run the loop until path exists, *done turns true or seconds pass; whether path exists. */
static bool await_file(const char *path, const bool *done, double seconds)
{
	double end = ttsync_now() + seconds;

	while (access(path, F_OK) != 0 && !*done && ttsync_now() < end) {
		(void)uv_run(&t.s.loop, UV_RUN_NOWAIT);
		drain_log();
		(void)usleep(5000);
	}
	return access(path, F_OK) == 0;
}

/* For seconds (less if go appears), ask A (id) State, Pids and Stats (the first n_methods
 * of them) over and over; note how much A printed to out meanwhile. */
static void ask_a(struct figures *fg, const char *id, const char *out, const char *go,
		  double seconds, int n_methods)
{
	Containerd__Task__V2__StateRequest sr = CONTAINERD__TASK__V2__STATE_REQUEST__INIT;
	Containerd__Task__V2__PidsRequest pr = CONTAINERD__TASK__V2__PIDS_REQUEST__INIT;
	Containerd__Task__V2__StatsRequest str = CONTAINERD__TASK__V2__STATS_REQUEST__INIT;
	const ProtobufCMessage *reqs[N_METHODS] = {&sr.base, &pr.base, &str.base};

	sr.id = pr.id = str.id = (char *)id;
	off_t size0 = file_size(out);
	double window_end = ttsync_now() + seconds;
	while (ttsync_now() < window_end && access(go, F_OK) != 0) {
		for (int m = 0; m < n_methods; m++)
			timed(fg, m, reqs[m], window_end, go);
		drain_log();
	}
	fg->out_during = file_size(out) - size0;
}

/* Create A (id, bundle b) with its output to out_uri, and start it. */
static void run_printer(const char *id, const char *b, const char *out_uri)
{
	struct ttsync_reply r;

	create_async(id, b, out_uri, &r);
	cr_assert(ttsync_run_until(&t.s, &r.done, testutil_timeout(60)), "A created");
	expect_ok("Create A", &r);
	simple("Start", id);
}

/* Print the figures; p99 per method into p99 (0 without samples). */
static void report(const char *who, const char *during, struct figures *fg, double p99[N_METHODS])
{
	for (int m = 0; m < N_METHODS; m++) {
		p99[m] = 0;
		if (fg->n[m] == 0)
			continue;
		double p50 = percentile(fg->lat[m], fg->n[m], 50);
		p99[m] = percentile(fg->lat[m], fg->n[m], 99);
		double max = fg->lat[m][fg->n[m] - 1];
		fprintf(stderr,
			"[loop] %s: A's %-5s %s: n=%zu p50=%.3f ms p99=%.3f ms max=%.3f ms\n", who,
			method_names[m], during, fg->n[m], p50 * 1e3, p99[m] * 1e3, max * 1e3);
	}
	fprintf(stderr,
		"[loop] %s: A's output meanwhile: %lld bytes; shim threads after serving: %zu\n",
		who, (long long)fg->out_during, fg->threads);
}

/* What husk must show while B waits: each of A's first n_methods methods answered often and
 * at once, and A's output flowing. */
static void expect_served(const char *during, const struct figures *fg, const double p99[N_METHODS],
			  int n_methods)
{
	/* 5 ms is the goal on an idle host; the bound leaves room for a loaded one and the
	 * sanitizers, and still fails a loop that waits for B (the whole window). */
	double bound = testutil_timeout(0.1);

	for (int m = 0; m < n_methods; m++) {
		cr_expect(ge(sz, fg->n[m], 10), "%s: %s answered %zu times in the window", during,
			  method_names[m], fg->n[m]);
		cr_expect(lt(dbl, p99[m], bound), "%s: %s p99 %.3f ms", during, method_names[m],
			  p99[m] * 1e3);
	}
	/* 10 ms a line: about 100 lines a second; a stalled loop copies none. */
	cr_expect(ge(i64, (int64_t)fg->out_during, 20 * 5), "%s: A's output kept flowing", during);
}

/* One case's pod, named after its tag and a letter c: A (<tag>-<c>a) prints a line every
 * 10 ms to out; B (<tag>-<c>b) has a call that waits: it touches started and waits for go. */
struct pod {
	char tag[16], c[4];
	char ida[32], idb[32];
	char *started, *go;
	char *out, *out_uri;
	char *ba; /* A's bundle */
};

static void pod_init(struct pod *p, const char *tag, const char *c)
{
	char name[64];

	memset(p, 0, sizeof(*p));
	(void)snprintf(p->tag, sizeof(p->tag), "%s", tag);
	(void)snprintf(p->c, sizeof(p->c), "%s", c);
	(void)snprintf(p->ida, sizeof(p->ida), "%s-%sa", tag, c);
	(void)snprintf(p->idb, sizeof(p->idb), "%s-%sb", tag, c);
	(void)snprintf(name, sizeof(name), "%s-%sstarted", tag, c);
	p->started = path_of(name);
	(void)snprintf(name, sizeof(name), "%s-%sgo", tag, c);
	p->go = path_of(name);
	(void)snprintf(name, sizeof(name), "%s-%sa.out", tag, c);
	p->out = path_of(name);
	cr_assert(asprintf(&p->out_uri, "file://%s", p->out) > 0);
	(void)snprintf(name, sizeof(name), "%s-bundle-%sa", tag, c);
	p->ba = bundle(name, PRINTER, "");
}

/* A bundle for the pod's B (or another of its containers, by letter). */
static char *pod_bundle(const struct pod *p, const char *letter, const char *args_json,
			const char *hooks_json, const char *mounts_json)
{
	char name[64];

	(void)snprintf(name, sizeof(name), "%s-bundle-%s%s", p->tag, p->c, letter);
	return bundle_ex(name, args_json, hooks_json, mounts_json);
}

/* Start shim for the pod and run A. */
static void pod_start(const struct pod *p, const char *shim)
{
	start_shim(shim, p->ba, p->ida);
	run_printer(p->ida, p->ba, p->out_uri);
}

/* Kill and delete A, note the shim's threads and shut it down. */
static void pod_end(struct pod *p, struct figures *fg)
{
	kill_task(p->ida);
	wait_task(p->ida);
	simple("Delete", p->ida);
	fg->threads = count_threads(t.shim_pid);
	shutdown_shim(p->ida);
	free(p->started);
	free(p->go);
	free(p->out);
	free(p->out_uri);
	free(p->ba);
}

/* A case as one shim serves it (arg: the case's variant); A's figures into fg. */
typedef void serve_fn(const char *shim, const char *tag, int arg, struct figures *fg);

static struct figures husk_fg, ref_fg;

/* This run's tag for husk's (h) or the runc shim's (r) containers: unique per run, as the
 * runc shim's runtime root is shared by every run. */
static void run_tag(char *tag, size_t size, char who)
{
	(void)snprintf(tag, size, "%c%d", who, (int)getpid());
}

static bool have_ref(void)
{
	if (access(REF_SHIM, X_OK) == 0)
		return true;
	fprintf(stderr, "[loop] %s is not installed: no reference figures\n", REF_SHIM);
	return false;
}

/* Serve the case through husk, then through the runc shim where it is installed; print
 * both shims' figures; husk's p99s into hp99. */
static void both_shims(serve_fn *serve, int arg, const char *during, double hp99[N_METHODS])
{
	double rp99[N_METHODS];
	char tag[16];

	memset(&husk_fg, 0, sizeof(husk_fg));
	memset(&ref_fg, 0, sizeof(ref_fg));
	run_tag(tag, sizeof(tag), 'h');
	serve(husk_shim(), tag, arg, &husk_fg);
	report("husk", during, &husk_fg, hp99);
	if (!have_ref())
		return;
	run_tag(tag, sizeof(tag), 'r');
	serve(REF_SHIM, tag, arg, &ref_fg);
	report("runc shim", during, &ref_fg, rp99);
}

/* Create id in bundle b under the OCI engine: runc Options{BinaryName: bin}, as containerd
 * sends them. */
static void create_oci(const char *id, const char *b, const char *out_uri, const char *bin)
{
	Containerd__Task__V2__CreateTaskRequest cr =
		CONTAINERD__TASK__V2__CREATE_TASK_REQUEST__INIT;
	Containerd__Runc__V1__Options ro = CONTAINERD__RUNC__V1__OPTIONS__INIT;
	Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
	uint8_t opts[512];

	ro.binary_name = (char *)bin;
	cr_assert(le(sz, protobuf_c_message_get_packed_size(&ro.base), sizeof(opts)));
	any.type_url = (char *)"containerd.runc.v1.Options";
	any.value.len = protobuf_c_message_pack(&ro.base, opts);
	any.value.data = opts;
	cr.id = (char *)id;
	cr.bundle = (char *)b;
	cr.stdout = (char *)(out_uri ? out_uri : "");
	cr.stderr = (char *)(out_uri ? out_uri : "");
	cr.options = &any;
	struct ttsync_reply r = call("Create", &cr.base);
	expect_ok("Create", &r);
}

static void wait_async(const char *id, const char *exec_id, struct ttsync_reply *ret)
{
	Containerd__Task__V2__WaitRequest wr = CONTAINERD__TASK__V2__WAIT_REQUEST__INIT;

	wr.id = (char *)id;
	wr.exec_id = (char *)(exec_id ? exec_id : "");
	cr_assert(eq(int,
		     ttsync_call_async(&t.s, TASK, "Wait", &wr.base, testutil_timeout(90), ret),
		     0));
}

/* The exit status a Wait sent earlier answers. */
static uint32_t exit_status(struct ttsync_reply *w, const char *what)
{
	cr_assert(ttsync_run_until(&t.s, &w->done, testutil_timeout(60)), "%s answered", what);
	cr_assert(eq(int, w->error, 0));
	cr_assert(eq(u32, w->code, 0), "%s: %s", what, w->message);
	Containerd__Task__V2__WaitResponse *resp =
		containerd__task__v2__wait_response__unpack(NULL, w->len, w->payload);
	cr_assert(resp != NULL);
	uint32_t st = resp->exit_status;
	containerd__task__v2__wait_response__free_unpacked(resp, NULL);
	ttsync_reply_done(w);
	return st;
}

/* What State says of id (its status, and its pid into *pid). */
static Containerd__V1__Types__Status task_status(const char *id, uint32_t *pid)
{
	Containerd__Task__V2__StateRequest sr = CONTAINERD__TASK__V2__STATE_REQUEST__INIT;

	sr.id = (char *)id;
	struct ttsync_reply r = call("State", &sr.base);
	cr_assert(eq(u32, r.code, 0), "State %s: %s", id, r.message);
	Containerd__Task__V2__StateResponse *resp =
		containerd__task__v2__state_response__unpack(NULL, r.len, r.payload);
	cr_assert(resp != NULL);
	Containerd__V1__Types__Status st = resp->status;
	*pid = resp->pid;
	containerd__task__v2__state_response__free_unpacked(resp, NULL);
	ttsync_reply_done(&r);
	return st;
}

/* ---- a slow create ---- */

/*
 * The pod, served by shim: A prints a line every 10 ms; B's create waits in a createRuntime
 * hook until the test writes the go file; meanwhile A is asked State, Pids, Stats for
 * WINDOW_S seconds and C (no hook) is created. Then everything is removed.
 */
static void serve_pod(const char *shim, const char *tag, int arg, struct figures *fg)
{
	Containerd__Task__V2__StateRequest sr = CONTAINERD__TASK__V2__STATE_REQUEST__INIT;
	Containerd__Task__V2__PidsRequest pr = CONTAINERD__TASK__V2__PIDS_REQUEST__INIT;
	Containerd__Task__V2__StatsRequest str = CONTAINERD__TASK__V2__STATS_REQUEST__INIT;
	char idc[32], hooks[4096];
	struct ttsync_reply rb, rc;
	struct pod p;

	(void)arg;
	pod_init(&p, tag, "");
	(void)snprintf(idc, sizeof(idc), "%s-c", tag);
	waiting_hook(hooks, sizeof(hooks), "createRuntime", p.started, p.go);
	char *bb = pod_bundle(&p, "b", "[\"sleep\",\"1000\"]", hooks, "");
	char *bc = pod_bundle(&p, "c", "[\"sleep\",\"1000\"]", "", "");
	pod_start(&p, shim);

	/* B's create, until its hook runs. */
	create_async(p.idb, bb, NULL, &rb);
	bool hook_ran = await_file(p.started, &rb.done, testutil_timeout(60));
	cr_assert(eq(int, rb.done, false), "B's create waits for its hook: %s", rb.message);
	cr_assert(hook_ran, "B's createRuntime hook runs");

	/* The window: C's create, and A asked over and over. */
	sr.id = pr.id = str.id = p.ida;
	off_t size0 = file_size(p.out);
	double t0 = ttsync_now();
	double window_end = t0 + WINDOW_S;
	create_async(idc, bc, NULL, &rc);
	while (ttsync_now() < window_end && access(p.go, F_OK) != 0) {
		timed(fg, M_STATE, &sr.base, window_end, p.go);
		timed(fg, M_PIDS, &pr.base, window_end, p.go);
		timed(fg, M_STATS, &str.base, window_end, p.go);
		if (rc.done && fg->c_create_s == 0)
			fg->c_create_s = ttsync_now() - t0;
		drain_log();
	}
	fg->out_during = file_size(p.out) - size0;
	fg->overlap = rc.done && !rb.done;

	testutil_write_file(p.go, "go");
	cr_assert(ttsync_run_until(&t.s, &rb.done, testutil_timeout(60)), "B created");
	expect_ok("Create B", &rb);
	cr_assert(ttsync_run_until(&t.s, &rc.done, testutil_timeout(60)), "C created");
	if (fg->c_create_s == 0)
		fg->c_create_s = ttsync_now() - t0;
	expect_ok("Create C", &rc);

	simple("Delete", p.idb);
	simple("Delete", idc);
	pod_end(&p, fg);
	free(bb);
	free(bc);
}

Test(loop, a_slow_create_stalls_no_other_container)
{
	double hp99[N_METHODS];

	both_shims(serve_pod, 0, "while B waits in its hook", hp99);
	fprintf(stderr, "[loop] husk: C's create %s B's (%.3f s)\n",
		husk_fg.overlap ? "overlapped" : "waited for", husk_fg.c_create_s);
	if (ref_fg.c_create_s > 0)
		fprintf(stderr, "[loop] runc shim: C's create %s B's (%.3f s)\n",
			ref_fg.overlap ? "overlapped" : "waited for", ref_fg.c_create_s);
	expect_served("B's create in its hook", &husk_fg, hp99, N_METHODS);
	cr_expect(husk_fg.overlap, "C's create completed while B's waited in its hook");
	cr_expect(eq(sz, husk_fg.threads, 1), "the shim has one thread");
}

/* ---- an OCI runtime's slow call ---- */

/* runc behind a wrapper whose command cmd (`events`: the OCI engine's Stats) waits for the
 * go file. */
static char *slow_runc(const char *cmd, const char *started, const char *go)
{
	char name[64];

	(void)snprintf(name, sizeof(name), "slow-runc-%s", cmd);
	char *path = path_of(name);
	char body[4096];

	(void)snprintf(body, sizeof(body),
		       "#!/bin/sh\n"
		       "for a in \"$@\"; do\n"
		       "  if [ \"$a\" = %s ]; then\n"
		       "    touch %s\n"
		       "    while [ ! -e %s ]; do sleep 0.02; done\n"
		       "  fi\n"
		       "done\n"
		       "exec runc \"$@\"\n",
		       cmd, started, go);
	testutil_write_file(path, body);
	cr_assert(eq(int, chmod(path, 0755), 0));
	return path;
}

/*
 * A runs under the OCI engine (runc through the wrapper); one call (Stats: `runc events`,
 * Pids: `runc ps`) waits in the runtime binary while State is asked over and over and A
 * prints: the loop must go on meanwhile.
 */
static void serve_oci(const char *shim, const char *tag, int slow, struct figures *fg)
{
	const char *cmd = slow == M_STATS ? "events" : "ps";
	Containerd__Task__V2__PidsRequest pr = CONTAINERD__TASK__V2__PIDS_REQUEST__INIT;
	Containerd__Task__V2__StatsRequest str = CONTAINERD__TASK__V2__STATS_REQUEST__INIT;
	struct ttsync_reply rs;
	struct pod p;

	pod_init(&p, tag, "o");
	char *bin = slow_runc(cmd, p.started, p.go);
	start_shim(shim, p.ba, p.ida);
	create_oci(p.ida, p.ba, p.out_uri, bin);
	simple("Start", p.ida);

	str.id = pr.id = p.ida;
	cr_assert(eq(int,
		     ttsync_call_async(&t.s, TASK, method_names[slow],
				       slow == M_STATS ? &str.base : &pr.base, testutil_timeout(90),
				       &rs),
		     0));
	/* The reference shim reads the cgroup itself: its Stats never runs the binary. */
	bool runs = await_file(p.started, &rs.done, testutil_timeout(5));
	if (getenv("LOOP_DEBUG"))
		fprintf(stderr, "[loop] %s: the slow %s %s\n", tag, cmd,
			runs ? "runs" : "never ran");
	ask_a(fg, p.ida, p.out, p.go, WINDOW_S, 1);
	testutil_write_file(p.go, "go");
	cr_assert(ttsync_run_until(&t.s, &rs.done, testutil_timeout(60)), "%s answered",
		  method_names[slow]);
	cr_assert(eq(u32, rs.code, 0), "%s: %s", method_names[slow], rs.message);
	if (slow == M_STATS) {
		Containerd__Task__V2__StatsResponse *resp =
			containerd__task__v2__stats_response__unpack(NULL, rs.len, rs.payload);
		cr_assert(resp != NULL && resp->stats != NULL && resp->stats->value.len > 0,
			  "Stats carries metrics");
		containerd__task__v2__stats_response__free_unpacked(resp, NULL);
	} else {
		Containerd__Task__V2__PidsResponse *resp =
			containerd__task__v2__pids_response__unpack(NULL, rs.len, rs.payload);
		cr_assert(resp != NULL && resp->n_processes >= 1, "Pids lists A's processes");
		containerd__task__v2__pids_response__free_unpacked(resp, NULL);
	}
	ttsync_reply_done(&rs);
	pod_end(&p, fg);
	free(bin);
}

Test(loop, an_oci_runtimes_slow_stats_stalls_nothing)
{
	double hp99[N_METHODS];

	both_shims(serve_oci, M_STATS, "while a Stats of A is in flight (husk: `runc events`)",
		   hp99);
	expect_served("a Stats in `runc events`", &husk_fg, hp99, 1);
	cr_expect(eq(sz, husk_fg.threads, 1), "the shim has one thread");
}

Test(loop, an_oci_runtimes_slow_ps_stalls_nothing)
{
	double hp99[N_METHODS];

	both_shims(serve_oci, M_PIDS, "while a Pids of A waits in `runc ps`", hp99);
	expect_served("a Pids in `runc ps`", &husk_fg, hp99, 1);
	cr_expect(eq(sz, husk_fg.threads, 1), "the shim has one thread");
}

/* ---- a slow delete ---- */

/*
 * B's Delete waits in its poststop hook (after its processes were killed and its cgroup
 * removed) while A is asked State, Pids and Stats over and over and prints.
 */
static void serve_delete(const char *shim, const char *tag, int arg, struct figures *fg)
{
	Containerd__Task__V2__DeleteRequest dr = CONTAINERD__TASK__V2__DELETE_REQUEST__INIT;
	char hooks[4096];
	struct ttsync_reply rb, rd;
	struct pod p;

	(void)arg;
	pod_init(&p, tag, "d");
	waiting_hook(hooks, sizeof(hooks), "poststop", p.started, p.go);
	char *bb = pod_bundle(&p, "b", "[\"sleep\",\"1000\"]", hooks, "");
	pod_start(&p, shim);
	create_async(p.idb, bb, NULL, &rb);
	cr_assert(ttsync_run_until(&t.s, &rb.done, testutil_timeout(60)), "B created");
	expect_ok("Create B", &rb);

	dr.id = p.idb;
	cr_assert(eq(int,
		     ttsync_call_async(&t.s, TASK, "Delete", &dr.base, testutil_timeout(90), &rd),
		     0));
	bool hook_ran = await_file(p.started, &rd.done, testutil_timeout(60));
	cr_assert(eq(int, rd.done, false), "B's delete waits for its hook: %s", rd.message);
	cr_assert(hook_ran, "B's poststop hook runs");

	ask_a(fg, p.ida, p.out, p.go, WINDOW_S, N_METHODS);
	testutil_write_file(p.go, "go");
	cr_assert(ttsync_run_until(&t.s, &rd.done, testutil_timeout(60)), "B deleted");
	expect_ok("Delete B", &rd);
	pod_end(&p, fg);
	free(bb);
}

Test(loop, a_slow_delete_stalls_no_other_container)
{
	double hp99[N_METHODS];

	both_shims(serve_delete, 0, "while B's Delete waits in its poststop hook", hp99);
	expect_served("B's Delete in its poststop hook", &husk_fg, hp99, N_METHODS);
	cr_expect(eq(sz, husk_fg.threads, 1), "the shim has one thread");
}

/* ---- the kill of what is left when an init exits ---- */

/*
 * B runs under the OCI engine (runc behind a wrapper whose `kill` waits) and exits at once:
 * the shim kills what is left of it (`runc kill --all`) while A, in the same shim, is asked
 * State, Pids and Stats over and over and prints.
 */
static void serve_init_exit(const char *shim, const char *tag, int arg, struct figures *fg)
{
	struct ttsync_reply rw;
	struct pod p;
	static const bool never;

	(void)arg;
	pod_init(&p, tag, "k");
	char *bin = slow_runc("kill", p.started, p.go);
	char *bb = pod_bundle(&p, "b", "[\"true\"]", "", "");
	pod_start(&p, shim);
	create_oci(p.idb, bb, NULL, bin);
	wait_async(p.idb, NULL, &rw);
	simple("Start", p.idb);
	/* The reference shim may never kill through the binary here: bounded. */
	(void)await_file(p.started, &never, testutil_timeout(5));
	ask_a(fg, p.ida, p.out, p.go, WINDOW_S, N_METHODS);
	testutil_write_file(p.go, "go");
	cr_assert(eq(u32, exit_status(&rw, "B's exit"), 0));

	simple("Delete", p.idb);
	pod_end(&p, fg);
	free(bb);
	free(bin);
}

Test(loop, the_kill_after_an_init_exit_stalls_no_other_container)
{
	double hp99[N_METHODS];

	both_shims(serve_init_exit, 0, "while B's exit waits in `runc kill --all`", hp99);
	expect_served("B's exit in `runc kill --all`", &husk_fg, hp99, N_METHODS);
	cr_expect(eq(sz, husk_fg.threads, 1), "the shim has one thread");
}

/* ---- a slow start ---- */

enum start_hook { POSTSTART, START_CONTAINER };

/*
 * B's Start waits in a hook until the test writes the go file, while A is asked State, Pids
 * and Stats over and over and prints. A poststart hook runs on the host, from the shim. A
 * startContainer hook runs inside B, in its mount namespace after pivot_root, from B's init
 * (`runc start` returns when the init execs B's process, after the hook): its program is the
 * rootfs' sh, and it meets the test in a directory bind-mounted into B at /sync.
 */
static void serve_start(const char *shim, const char *tag, int hook, struct figures *fg)
{
	const char *kind = hook == POSTSTART ? "poststart" : "startContainer";
	Containerd__Task__V2__StartRequest sr = CONTAINERD__TASK__V2__START_REQUEST__INIT;
	char hooks[4096], mounts[4200];
	struct ttsync_reply rb, rs, rw;
	struct pod p;

	pod_init(&p, tag, hook == POSTSTART ? "p" : "s");
	mounts[0] = '\0';
	if (hook == POSTSTART) {
		waiting_hook(hooks, sizeof(hooks), kind, p.started, p.go);
	} else {
		/* B sees the started and go files in /sync. */
		char *sync = NULL;
		cr_assert(asprintf(&sync, "%s/%s-sync", t.dir, tag) > 0);
		cr_assert(eq(int, mkdir(sync, 0700), 0));
		free(p.started);
		free(p.go);
		cr_assert(asprintf(&p.started, "%s/started", sync) > 0);
		cr_assert(asprintf(&p.go, "%s/go", sync) > 0);
		waiting_hook(hooks, sizeof(hooks), kind, "/sync/started", "/sync/go");
		(void)snprintf(mounts, sizeof(mounts),
			       ",{\"destination\":\"/sync\",\"type\":\"bind\",\"source\":\"%s\","
			       "\"options\":[\"rbind\",\"rw\"]}",
			       sync);
		free(sync);
	}
	char *bb = pod_bundle(&p, "b", "[\"sleep\",\"1000\"]", hooks, mounts);
	pod_start(&p, shim);
	create_async(p.idb, bb, NULL, &rb);
	/* runc 1.1.5 runs poststart hooks in `runc create` (before the process starts), husk in
	 * Start; either call waits for the hook. */
	bool in_create = await_file(p.started, &rb.done, testutil_timeout(60));
	bool hook_ran = in_create;
	struct ttsync_reply *slow = &rb;
	if (!in_create) {
		expect_ok("Create B", &rb);
		wait_async(p.idb, NULL, &rw);
		sr.id = p.idb;
		cr_assert(eq(
			int,
			ttsync_call_async(&t.s, TASK, "Start", &sr.base, testutil_timeout(90), &rs),
			0));
		slow = &rs;
		hook_ran = await_file(p.started, &rs.done, testutil_timeout(60));
	}
	const char *call_name = in_create ? "Create" : "Start";
	cr_assert(eq(int, slow->done, false), "B's %s waits for its %s hook: %s", call_name, kind,
		  slow->message);
	cr_assert(hook_ran, "B's %s hook runs", kind);
	fprintf(stderr, "[loop] %s: B's %s waits in its %s hook\n", tag, call_name, kind);

	ask_a(fg, p.ida, p.out, p.go, WINDOW_S, N_METHODS);
	testutil_write_file(p.go, "go");
	cr_assert(ttsync_run_until(&t.s, &slow->done, testutil_timeout(60)), "B's %s", call_name);
	if (in_create) {
		expect_ok("Create B", &rb);
		wait_async(p.idb, NULL, &rw);
		simple("Start", p.idb);
	} else {
		expect_ok("Start B", &rs);
	}
	uint32_t pid = 0;
	cr_assert(eq(int, (int)task_status(p.idb, &pid), CONTAINERD__V1__TYPES__STATUS__RUNNING),
		  "B runs");
	cr_assert(gt(u32, pid, 0));

	kill_task(p.idb);
	cr_assert(eq(u32, exit_status(&rw, "B's Wait"), 137));
	simple("Delete", p.idb);
	pod_end(&p, fg);
	free(bb);
}

Test(loop, a_start_in_a_poststart_hook_stalls_no_other_container)
{
	double hp99[N_METHODS];

	both_shims(serve_start, POSTSTART, "while B's poststart hook waits", hp99);
	expect_served("B's Start in its poststart hook", &husk_fg, hp99, N_METHODS);
	cr_expect(eq(sz, husk_fg.threads, 1), "the shim has one thread");
}

Test(loop, a_start_in_a_start_container_hook_stalls_no_other_container)
{
	double hp99[N_METHODS];

	both_shims(serve_start, START_CONTAINER, "while B's startContainer hook waits", hp99);
	expect_served("B's Start in its startContainer hook", &husk_fg, hp99, N_METHODS);
	cr_expect(eq(sz, husk_fg.threads, 1), "the shim has one thread");
}

/* ---- an OCI runtime's slow calls on B ---- */

/* In this order: B is started, runs an exec, is paused, resumed, updated and killed. */
enum b_op { OP_START, OP_EXEC, OP_PAUSE, OP_RESUME, OP_UPDATE, OP_KILL, N_OPS };

static const char *const op_cmds[N_OPS] = {"start", "exec", "pause", "resume", "update", "kill"};

/* B's pids limit after the Update. */
#define B_PIDS_LIMIT "123"

/*
 * runc behind a wrapper that slows B's calls one command at a time: while the file dir/arm
 * holds a command, a call of it that names B (idb among its arguments) touches
 * dir/started-<command> and waits until dir/go-<command> exists. A's calls, and every other
 * command, go straight to runc.
 */
static char *armed_runc(const char *dir, const char *idb)
{
	char body[8192];
	char *path = NULL;

	cr_assert(asprintf(&path, "%s/runc", dir) > 0);
	(void)snprintf(body, sizeof(body),
		       "#!/bin/sh\n"
		       "arm=\n"
		       "[ -e %s/arm ] && read -r arm < %s/arm\n"
		       "if [ -n \"$arm\" ]; then\n"
		       "  cmd=; id=\n"
		       "  for a in \"$@\"; do\n"
		       "    [ \"$a\" = \"$arm\" ] && cmd=1\n"
		       "    [ \"$a\" = %s ] && id=1\n"
		       "  done\n"
		       "  if [ -n \"$cmd\" ] && [ -n \"$id\" ]; then\n"
		       "    touch %s/started-$arm\n"
		       "    while [ ! -e %s/go-$arm ]; do sleep 0.02; done\n"
		       "  fi\n"
		       "fi\n"
		       "exec runc \"$@\"\n",
		       dir, dir, idb, dir, dir);
	testutil_write_file(path, body);
	cr_assert(eq(int, chmod(path, 0755), 0));
	return path;
}

/* The pids limit of the cgroup of pid (v1's pids hierarchy, or the unified one). */
static char *pids_max(uint32_t pid)
{
	char path[4200], line[4096], *v = NULL;

	(void)snprintf(path, sizeof(path), "/proc/%u/cgroup", pid);
	FILE *f = fopen(path, "re");
	cr_assert(f != NULL, "%s: %s", path, strerror(errno));
	path[0] = '\0';
	while (fgets(line, sizeof(line), f)) {
		char *ctrl = strchr(line, ':');
		char *cg = ctrl ? strchr(ctrl + 1, ':') : NULL;
		if (!cg)
			continue;
		*cg++ = '\0';
		cg[strcspn(cg, "\n")] = '\0';
		if (strcmp(ctrl + 1, "pids") == 0)
			(void)snprintf(path, sizeof(path), "/sys/fs/cgroup/pids%s/pids.max", cg);
		else if (ctrl[1] == '\0' && path[0] == '\0')
			(void)snprintf(path, sizeof(path), "/sys/fs/cgroup%s/pids.max", cg);
	}
	(void)fclose(f);
	v = testutil_read_file(path);
	cr_assert(v != NULL, "%s: %s", path, strerror(errno));
	v[strcspn(v, "\n")] = '\0';
	return v;
}

/* Wait (bounded) until path holds want: a process's output may land after its exit. */
static bool file_holds(const char *path, const char *want)
{
	double end = ttsync_now() + testutil_timeout(10);

	for (;;) {
		char *got = testutil_read_file(path);
		bool same = got && strcmp(got, want) == 0;
		free(got);
		if (same || ttsync_now() >= end)
			return same;
		(void)uv_run(&t.s.loop, UV_RUN_NOWAIT);
		(void)usleep(10000);
	}
}

/* Send B's op (after the Exec and a Wait of the exec, for OP_EXEC): its reply into r. */
static void send_op(int op, const char *idb, const char *exec_out_uri, struct ttsync_reply *r,
		    struct ttsync_reply *rwe)
{
	Containerd__Task__V2__StartRequest sr = CONTAINERD__TASK__V2__START_REQUEST__INIT;
	Containerd__Task__V2__ExecProcessRequest er =
		CONTAINERD__TASK__V2__EXEC_PROCESS_REQUEST__INIT;
	Containerd__Task__V2__PauseRequest pr = CONTAINERD__TASK__V2__PAUSE_REQUEST__INIT;
	Containerd__Task__V2__ResumeRequest rr = CONTAINERD__TASK__V2__RESUME_REQUEST__INIT;
	Containerd__Task__V2__UpdateTaskRequest ur =
		CONTAINERD__TASK__V2__UPDATE_TASK_REQUEST__INIT;
	Containerd__Task__V2__KillRequest kr = CONTAINERD__TASK__V2__KILL_REQUEST__INIT;
	Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
	static const char exec_spec[] =
		"{\"args\":[\"sh\",\"-c\",\"echo exec-out; exit 7\"],\"cwd\":\"/\","
		"\"env\":[\"PATH=/bin\"],\"user\":{\"uid\":0,\"gid\":0}}";
	static const char resources[] = "{\"pids\":{\"limit\":" B_PIDS_LIMIT "}}";
	const ProtobufCMessage *req = NULL;
	const char *method = NULL;

	sr.id = er.id = pr.id = rr.id = ur.id = kr.id = (char *)idb;
	switch (op) {
	case OP_START:
		method = "Start";
		req = &sr.base;
		break;
	case OP_EXEC: {
		any.type_url = (char *)"types.containerd.io/opencontainers/runtime-spec/1/Process";
		any.value.data = (uint8_t *)exec_spec;
		any.value.len = strlen(exec_spec);
		er.exec_id = (char *)"e1";
		er.spec = &any;
		er.stdout = er.stderr = (char *)exec_out_uri;
		struct ttsync_reply x = call("Exec", &er.base);
		expect_ok("Exec", &x);
		/* containerd sends Wait(exec) before Start(exec). */
		wait_async(idb, "e1", rwe);
		sr.exec_id = (char *)"e1";
		method = "Start";
		req = &sr.base;
		break;
	}
	case OP_PAUSE:
		method = "Pause";
		req = &pr.base;
		break;
	case OP_RESUME:
		method = "Resume";
		req = &rr.base;
		break;
	case OP_UPDATE:
		any.type_url =
			(char *)"types.containerd.io/opencontainers/runtime-spec/1/LinuxResources";
		any.value.data = (uint8_t *)resources;
		any.value.len = strlen(resources);
		ur.resources = &any;
		method = "Update";
		req = &ur.base;
		break;
	default:
		kr.signal = SIGKILL;
		method = "Kill";
		req = &kr.base;
		break;
	}
	cr_assert(eq(int, ttsync_call_async(&t.s, TASK, method, req, testutil_timeout(90), r), 0));
}

/*
 * A (native) prints and B (the OCI engine, runc behind armed_runc) runs in one pod. For each
 * op in turn, B's call waits in runc until the test lets it go, while A is asked State, Pids
 * and Stats over and over; then the call must have done its work. A call naming B while B's
 * call waits may wait too (the runc shim serialises them); only A's are measured.
 */
static void serve_ops(const char *shim, const char *tag, struct figures fg[N_OPS])
{
	char dir[2100], arm[2200], started[2200], go[2200], name[64];
	struct ttsync_reply rw;
	struct pod p;

	pod_init(&p, tag, "x");
	(void)snprintf(dir, sizeof(dir), "%.2000s/%s-ops", t.dir, tag);
	cr_assert(eq(int, mkdir(dir, 0700), 0));
	(void)snprintf(arm, sizeof(arm), "%.2000s/arm", dir);
	(void)snprintf(name, sizeof(name), "%s-e1.out", tag);
	char *exec_out = path_of(name);
	char *exec_out_uri = NULL;
	cr_assert(asprintf(&exec_out_uri, "file://%s", exec_out) > 0);
	char *bin = armed_runc(dir, p.idb);
	char *bb = pod_bundle(&p, "b", "[\"sleep\",\"1000\"]", "", "");
	pod_start(&p, shim);
	create_oci(p.idb, bb, NULL, bin);
	wait_async(p.idb, NULL, &rw);

	for (int op = 0; op < N_OPS; op++) {
		const char *cmd = op_cmds[op];
		struct ttsync_reply r, rwe;
		char during[64];
		uint32_t pid = 0;

		(void)snprintf(started, sizeof(started), "%.2000s/started-%s", dir, cmd);
		(void)snprintf(go, sizeof(go), "%.2000s/go-%s", dir, cmd);
		testutil_write_file(arm, cmd);
		send_op(op, p.idb, exec_out_uri, &r, &rwe);
		bool slowed = await_file(started, &r.done, testutil_timeout(60));
		cr_assert(eq(int, r.done, false), "B's %s waits in `runc %s`: %s", cmd, cmd,
			  r.message);
		cr_assert(slowed, "B's %s reaches `runc %s`", cmd, cmd);
		ask_a(&fg[op], p.ida, p.out, go, OP_WINDOW_S, N_METHODS);
		testutil_write_file(go, "go");
		cr_assert(ttsync_run_until(&t.s, &r.done, testutil_timeout(60)), "B's %s", cmd);
		(void)snprintf(during, sizeof(during), "B's %s", cmd);
		expect_ok(during, &r);

		switch (op) {
		case OP_START:
		case OP_RESUME:
			cr_assert(eq(int, (int)task_status(p.idb, &pid),
				     CONTAINERD__V1__TYPES__STATUS__RUNNING),
				  "B runs after its %s", cmd);
			break;
		case OP_PAUSE:
			cr_assert(eq(int, (int)task_status(p.idb, &pid),
				     CONTAINERD__V1__TYPES__STATUS__PAUSED),
				  "B is paused");
			break;
		case OP_EXEC: {
			cr_assert(eq(u32, exit_status(&rwe, "the exec's Wait"), 7));
			cr_assert(file_holds(exec_out, "exec-out\n"), "the exec's output");
			Containerd__Task__V2__DeleteRequest dr =
				CONTAINERD__TASK__V2__DELETE_REQUEST__INIT;
			dr.id = p.idb;
			dr.exec_id = (char *)"e1";
			struct ttsync_reply d = call("Delete", &dr.base);
			expect_ok("Delete e1", &d);
			break;
		}
		case OP_UPDATE: {
			(void)task_status(p.idb, &pid);
			char *limit = pids_max(pid);
			cr_assert(eq(str, limit, B_PIDS_LIMIT), "B's pids limit after Update");
			free(limit);
			break;
		}
		default:
			cr_assert(eq(u32, exit_status(&rw, "B's Wait"), 137), "B was killed");
			break;
		}
	}
	/* Disarmed: what is left goes straight to runc. */
	cr_assert(eq(int, unlink(arm), 0));
	simple("Delete", p.idb);
	pod_end(&p, &fg[0]);
	for (int op = 1; op < N_OPS; op++)
		fg[op].threads = fg[0].threads;
	free(bb);
	free(bin);
	free(exec_out);
	free(exec_out_uri);
}

Test(loop, an_oci_runtimes_slow_calls_on_one_container_stall_no_other)
{
	static struct figures husk[N_OPS], ref[N_OPS];
	double hp99[N_OPS][N_METHODS], rp99[N_METHODS];
	char tag[16], during[N_OPS][64];

	memset(husk, 0, sizeof(husk));
	memset(ref, 0, sizeof(ref));
	for (int op = 0; op < N_OPS; op++)
		(void)snprintf(during[op], sizeof(during[op]), "while B's %s waits in `runc %s`",
			       op_cmds[op], op_cmds[op]);
	run_tag(tag, sizeof(tag), 'h');
	serve_ops(husk_shim(), tag, husk);
	for (int op = 0; op < N_OPS; op++)
		report("husk", during[op], &husk[op], hp99[op]);
	if (have_ref()) {
		run_tag(tag, sizeof(tag), 'r');
		serve_ops(REF_SHIM, tag, ref);
		for (int op = 0; op < N_OPS; op++)
			report("runc shim", during[op], &ref[op], rp99);
	}
	for (int op = 0; op < N_OPS; op++)
		expect_served(during[op], &husk[op], hp99[op], N_METHODS);
	cr_expect(eq(sz, husk[0].threads, 1), "the shim has one thread");
}
