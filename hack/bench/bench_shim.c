/*
 * bench-shim: drive one shim binary directly over ttrpc, as containerd does, with no
 * containerd or ctr in the loop, and print latency percentiles:
 *   lifecycle  Create + Start + Wait + Delete of a /bin/true container
 *   exec       Exec + Start + Wait + Delete of /bin/true in a running container
 *   exec_idle  one such exec after IDLE_S seconds of idleness (a liveness probe), repeated
 *   start      the `start` action: once for a new sandbox (start_new_ms: it spawns the
 *              daemon), 20 times for the running sandbox (start_reuse: the address is reused)
 * and the shim's Private_Dirty (smaps_rollup) idle, after the lifecycles and after the execs.
 * BENCH_SCALE (see run_scale()) adds the pod's growth to many containers.
 * The spec is containerd's default (`ctr oci spec`: pid, ipc, uts, mount and network
 * namespaces, its mounts, masked and read-only paths, deny-all devices, 14 capabilities,
 * an rlimit, no_new_privs) with a cgroupsPath per container, as `ctr run` makes it; execs
 * get its process with other args, as `ctr task exec` sends it.
 *
 * usage: bench-shim SHIM BUNDLE WORKDIR [LIFECYCLES [EXECS [IDLE_S [IDLE_EXECS]]]]
 * BUNDLE holds rootfs/ (its config.json is written here). Output: "key value" lines.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>
#include <sys/wait.h>

#include "runtime/task/v2/shim.pb-c.h"
#include "ttsync.h"

#define TASK "containerd.task.v2.Task"
/* containerd namespace and cgroup parent: "bench-<our pid>", so runs never share state. */
static char ns[32];

static struct ttsync s;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)fprintf(stderr, "bench-shim: ");
	(void)vfprintf(stderr, fmt, ap);
	(void)fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

/* containerd's default process (`ctr oci spec`), args given. */
#define DEFAULT_CAPS                                                                       \
	"[\"CAP_CHOWN\",\"CAP_DAC_OVERRIDE\",\"CAP_FSETID\",\"CAP_FOWNER\",\"CAP_MKNOD\"," \
	"\"CAP_NET_RAW\",\"CAP_SETGID\",\"CAP_SETUID\",\"CAP_SETFCAP\",\"CAP_SETPCAP\","   \
	"\"CAP_NET_BIND_SERVICE\",\"CAP_SYS_CHROOT\",\"CAP_KILL\",\"CAP_AUDIT_WRITE\"]"
#define DEFAULT_PROCESS                                                                      \
	"{\"args\":%s,\"cwd\":\"/\",\"env\":[\"PATH=/bin\"],\"user\":{\"uid\":0,\"gid\":0}," \
	"\"capabilities\":{\"bounding\":" DEFAULT_CAPS ",\"effective\":" DEFAULT_CAPS        \
	",\"permitted\":" DEFAULT_CAPS "},"                                                  \
	"\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":1024,\"soft\":1024}],"            \
	"\"noNewPrivileges\":true}"

static void write_spec(const char *bundle, const char *args, const char *id)
{
	char path[4096];
	FILE *f;

	(void)snprintf(path, sizeof(path), "%s/config.json", bundle);
	f = fopen(path, "we");
	if (!f)
		die("write %s", path);
	(void)fprintf(f, "{\"ociVersion\":\"1.0.2-dev\",\"process\":" DEFAULT_PROCESS ",", args);
	(void)fprintf(
		f,
		"\"root\":{\"path\":\"rootfs\"},\"mounts\":["
		"{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\","
		"\"options\":[\"nosuid\",\"noexec\",\"nodev\"]},"
		"{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\","
		"\"options\":[\"nosuid\",\"strictatime\",\"mode=755\",\"size=65536k\"]},"
		"{\"destination\":\"/dev/pts\",\"type\":\"devpts\",\"source\":\"devpts\","
		"\"options\":[\"nosuid\",\"noexec\",\"newinstance\",\"ptmxmode=0666\",\"mode="
		"0620\","
		"\"gid=5\"]},"
		"{\"destination\":\"/dev/shm\",\"type\":\"tmpfs\",\"source\":\"shm\","
		"\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"mode=1777\",\"size=65536k\"]},"
		"{\"destination\":\"/dev/mqueue\",\"type\":\"mqueue\",\"source\":\"mqueue\","
		"\"options\":[\"nosuid\",\"noexec\",\"nodev\"]},"
		"{\"destination\":\"/sys\",\"type\":\"sysfs\",\"source\":\"sysfs\","
		"\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"ro\"]},"
		"{\"destination\":\"/run\",\"type\":\"tmpfs\",\"source\":\"tmpfs\","
		"\"options\":[\"nosuid\",\"strictatime\",\"mode=755\",\"size=65536k\"]}],"
		"\"linux\":{\"resources\":{\"devices\":[{\"allow\":false,\"access\":\"rwm\"}]},"
		"\"cgroupsPath\":\"/%s/%s\","
		"\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"ipc\"},{\"type\":\"uts\"},"
		"{\"type\":\"mount\"},{\"type\":\"network\"}],"
		"\"maskedPaths\":[\"/proc/acpi\",\"/proc/asound\",\"/proc/kcore\",\"/proc/keys\","
		"\"/proc/latency_stats\",\"/proc/timer_list\",\"/proc/timer_stats\","
		"\"/proc/sched_debug\",\"/sys/firmware\",\"/proc/scsi\"],"
		"\"readonlyPaths\":[\"/proc/bus\",\"/proc/fs\",\"/proc/irq\",\"/proc/sys\","
		"\"/proc/sysrq-trigger\"]}}",
		ns, id);
	if (fclose(f) != 0)
		die("write %s", path);
}

static uv_pipe_t log_pipe;
static char log_buf[16384];

static void log_alloc(uv_handle_t *h, size_t size, uv_buf_t *buf)
{
	(void)h;
	(void)size;
	*buf = uv_buf_init(log_buf, sizeof(log_buf));
}

static void log_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
	(void)buf;
	if (n < 0)
		(void)uv_read_stop(st);
	else if (n > 0 && getenv("BENCH_SHIM_LOG"))
		(void)fwrite(log_buf, 1, (size_t)n, stderr);
}

/* The bundle's log fifo, read (and dropped) as containerd reads it: the Go shims need it. */
static void open_log(const char *bundle)
{
	char path[4096];

	(void)snprintf(path, sizeof(path), "%s/log", bundle);
	(void)unlink(path);
	if (mkfifo(path, 0700) < 0)
		die("mkfifo %s", path);
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 || uv_pipe_init(&s.loop, &log_pipe, 0) < 0 || uv_pipe_open(&log_pipe, fd) < 0 ||
	    uv_read_start((uv_stream_t *)&log_pipe, log_alloc, log_read) < 0)
		die("open %s", path);
}

/* `SHIM ... start` in the bundle; the address it prints, malloc'ed. */
static char *start_shim(const char *shim, const char *bundle, const char *workdir, const char *id)
{
	char buf[512];
	char addr[4096];

	(void)snprintf(addr, sizeof(addr), "%s/containerd.sock", workdir);
	int r = ttsync_shim_action(shim, bundle, ns, addr, id, "start", NULL, buf, sizeof(buf),
				   NULL);
	if (r != 0 || strncmp(buf, "unix://", 7) != 0)
		die("start failed (%d): '%s'", r, buf);
	return strdup(buf + 7);
}

static void must(const char *method, const ProtobufCMessage *req, struct ttsync_reply *r)
{
	int e = ttsync_call(&s, TASK, method, req, 30, r);

	if (e < 0)
		die("%s: %s", method, strerror(-e));
	if (r->code != 0)
		die("%s: %s", method, r->message);
}

/*
 * Per-call durations of the cycle being measured: where a lifecycle's or an exec's time
 * goes (the floor has no calls: only the sum compares with it). Off while phase_at is NULL.
 */
static const char *const phase_names[] = {"Create", "Exec", "Start", "Wait", "Delete"};
#define N_PHASES (sizeof(phase_names) / sizeof(phase_names[0]))
static double *phase_ms[N_PHASES];
static size_t phase_at = SIZE_MAX;

static void phase_record(const char *method, double ms)
{
	if (phase_at == SIZE_MAX)
		return;
	for (size_t i = 0; i < N_PHASES; i++)
		if (strcmp(method, phase_names[i]) == 0 && phase_ms[i])
			phase_ms[i][phase_at] = ms;
}

static void simple(const char *method, const ProtobufCMessage *req)
{
	struct ttsync_reply r;
	double t0 = ttsync_now();

	must(method, req, &r);
	phase_record(method, (ttsync_now() - t0) * 1000);
	ttsync_reply_done(&r);
}

static void create_start(const char *id, const char *bundle)
{
	Containerd__Task__V2__CreateTaskRequest cr =
		CONTAINERD__TASK__V2__CREATE_TASK_REQUEST__INIT;
	Containerd__Task__V2__StartRequest sr = CONTAINERD__TASK__V2__START_REQUEST__INIT;

	cr.id = (char *)id;
	cr.bundle = (char *)bundle;
	simple("Create", &cr.base);
	sr.id = (char *)id;
	simple("Start", &sr.base);
}

static void wait_delete(const char *id, const char *exec_id)
{
	Containerd__Task__V2__WaitRequest wr = CONTAINERD__TASK__V2__WAIT_REQUEST__INIT;
	Containerd__Task__V2__DeleteRequest dr = CONTAINERD__TASK__V2__DELETE_REQUEST__INIT;

	wr.id = (char *)id;
	wr.exec_id = (char *)(exec_id ? exec_id : "");
	simple("Wait", &wr.base);
	dr.id = (char *)id;
	dr.exec_id = (char *)(exec_id ? exec_id : "");
	simple("Delete", &dr.base);
}

static void exec_cycle(const char *id, const char *exec_id)
{
	static char spec[4096];
	static int len;
	Containerd__Task__V2__ExecProcessRequest er =
		CONTAINERD__TASK__V2__EXEC_PROCESS_REQUEST__INIT;
	Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
	Containerd__Task__V2__StartRequest sr = CONTAINERD__TASK__V2__START_REQUEST__INIT;

	if (!len)
		len = snprintf(spec, sizeof(spec), DEFAULT_PROCESS, "[\"/bin/true\"]");
	any.type_url = (char *)"types.containerd.io/opencontainers/runtime-spec/1/Process";
	any.value.data = (uint8_t *)spec;
	any.value.len = (size_t)len;
	er.id = (char *)id;
	er.exec_id = (char *)exec_id;
	er.spec = &any;
	simple("Exec", &er.base);
	sr.id = (char *)id;
	sr.exec_id = (char *)exec_id;
	simple("Start", &sr.base);
	wait_delete(id, exec_id);
}

/* BENCH_SHIM_STRACE=FILE: trace the shim daemon (strace -f -tt -T) from here on. */
static void attach_strace(pid_t pid)
{
	const char *out = getenv("BENCH_SHIM_STRACE");
	char p[32];

	if (!out || !*out)
		return;
	(void)snprintf(p, sizeof(p), "%d", (int)pid);
	if (fork() == 0) {
		execlp("strace", "strace", "-f", "-tt", "-T", "-o", out, "-p", p, (char *)NULL);
		_exit(127);
	}
	(void)sleep(1); /* strace needs a moment to attach */
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a;
	double y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void report(const char *what, double *ms, size_t n)
{
	if (n == 0)
		return;
	qsort(ms, n, sizeof(ms[0]), cmp_double);
	printf("%s_p50_ms %.3f\n%s_p90_ms %.3f\n%s_p99_ms %.3f\n", what, ms[n / 2], what,
	       ms[n * 9 / 10], what, ms[n * 99 / 100]);
}

/* Start recording the calls of n cycles (the methods named in `methods`, space-separated). */
static void phases_begin(const char *methods, size_t n)
{
	for (size_t i = 0; i < N_PHASES; i++) {
		free(phase_ms[i]);
		phase_ms[i] = strstr(methods, phase_names[i]) ? calloc(n, sizeof(double)) : NULL;
	}
}

/* Report each recorded call's median as <what>_<method>_p50_ms and stop recording. */
static void phases_end(const char *what, size_t n)
{
	phase_at = SIZE_MAX;
	for (size_t i = 0; i < N_PHASES; i++) {
		if (!phase_ms[i] || n == 0)
			continue;
		qsort(phase_ms[i], n, sizeof(double), cmp_double);
		printf("%s_%s_p50_ms %.3f\n", what, phase_names[i], phase_ms[i][n / 2]);
		free(phase_ms[i]);
		phase_ms[i] = NULL;
	}
}

/* A field of /proc/PID/smaps_rollup in kB ("Private_Dirty:", "Pss:"), -1 if unknown. */
static long smaps_kb(pid_t pid, const char *key)
{
	char path[64];
	char line[256];
	long kb = -1;
	FILE *f;
	size_t klen = strlen(key);

	(void)snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *end = NULL;
		if (strncmp(line, key, klen) != 0)
			continue;
		long v = strtol(line + klen, &end, 10);
		if (end != line + klen && v >= 0)
			kb = v;
		break;
	}
	(void)fclose(f);
	return kb;
}

/* Idle memory: read after a second with no request, so the shim has settled (the events of
 * the last request sent and acknowledged). */
static long private_dirty_kb(pid_t pid);

/* Private_Dirty of an idle shim: read one second after the last call. */
static long settled_private_dirty_kb(pid_t pid)
{
	(void)usleep(1000 * 1000);
	return private_dirty_kb(pid);
}

static long private_dirty_kb(pid_t pid)
{
	(void)sleep(1);
	return smaps_kb(pid, "Private_Dirty:");
}

static pid_t shim_pid(const char *id)
{
	Containerd__Task__V2__ConnectRequest req = CONTAINERD__TASK__V2__CONNECT_REQUEST__INIT;
	struct ttsync_reply r;
	pid_t pid;

	req.id = (char *)id;
	must("Connect", &req.base, &r);
	Containerd__Task__V2__ConnectResponse *resp =
		containerd__task__v2__connect_response__unpack(NULL, r.len, r.payload);
	if (!resp)
		die("Connect: bad response");
	pid = (pid_t)resp->shim_pid;
	containerd__task__v2__connect_response__free_unpacked(resp, NULL);
	ttsync_reply_done(&r);
	return pid;
}

struct args {
	const char *bundle;
	const char *workdir;
	size_t lifecycles;
	size_t execs;
	unsigned idle_s;
	size_t idle_execs;
};

/* Lifecycles of /bin/true containers beside "main", timed. */
static void run_lifecycles(const struct args *a, double *ms)
{
	char id[64];

	phases_begin("Create Start Wait Delete", a->lifecycles);
	for (size_t i = 0; i < a->lifecycles; i++) {
		(void)snprintf(id, sizeof(id), "life%zu", i);
		write_spec(a->bundle, "[\"/bin/true\"]", id);
		phase_at = i;
		double t0 = ttsync_now();
		create_start(id, a->bundle);
		wait_delete(id, NULL);
		ms[i] = (ttsync_now() - t0) * 1000;
	}
	phases_end("lifecycle", a->lifecycles);
	report("lifecycle", ms, a->lifecycles);
}

/* n execs of /bin/true in "main" (ids prefix0...), each after idle_s seconds of nothing. */
static void run_execs(const char *what, const char *prefix, double *ms, size_t n, unsigned idle_s)
{
	char eid[64];

	phases_begin("Exec Start Wait Delete", n);
	for (size_t i = 0; i < n; i++) {
		(void)snprintf(eid, sizeof(eid), "%s%zu", prefix, i);
		if (idle_s)
			(void)sleep(idle_s);
		phase_at = i;
		double t0 = ttsync_now();
		exec_cycle("main", eid);
		ms[i] = (ttsync_now() - t0) * 1000;
	}
	phases_end(what, n);
	report(what, ms, n);
}

static void kill_delete(const char *id)
{
	Containerd__Task__V2__KillRequest kr = CONTAINERD__TASK__V2__KILL_REQUEST__INIT;
	kr.id = (char *)id;
	kr.signal = SIGKILL;
	simple("Kill", &kr.base);
	wait_delete(id, NULL);
}

/*
 * BENCH_SCALE="1,16,64,256": grow the pod to each count of sleeping containers in this one
 * shim; at each, the shim's Pss and Private_Dirty and the median of 10 lifecycles
 * (scale_<n>_pss_kb, scale_<n>_private_dirty_kb, scale_<n>_lifecycle_ms). All removed after.
 */
static void run_scale(const struct args *a, pid_t spid, double *ms)
{
	const char *spec = getenv("BENCH_SCALE");
	char id[64];
	size_t have = 0;

	if (!spec || !*spec)
		return;
	for (const char *p = spec; *p;) {
		char *end = NULL;
		size_t want = strtoul(p, &end, 10);
		if (end == p)
			die("BENCH_SCALE: bad list '%s'", spec);
		p = *end == ',' ? end + 1 : end;
		for (; have < want; have++) {
			(void)snprintf(id, sizeof(id), "pod%zu", have);
			write_spec(a->bundle, "[\"sleep\",\"100000\"]", id);
			create_start(id, a->bundle);
		}
		for (size_t i = 0; i < 10; i++) {
			(void)snprintf(id, sizeof(id), "scale%zu_%zu", want, i);
			write_spec(a->bundle, "[\"/bin/true\"]", id);
			double t0 = ttsync_now();
			create_start(id, a->bundle);
			wait_delete(id, NULL);
			ms[i] = (ttsync_now() - t0) * 1000;
		}
		qsort(ms, 10, sizeof(ms[0]), cmp_double);
		(void)printf("scale_%zu_pss_kb %ld\nscale_%zu_private_dirty_kb %ld\n"
			     "scale_%zu_lifecycle_ms %.3f\n",
			     want, smaps_kb(spid, "Pss:"), want, private_dirty_kb(spid), want,
			     ms[5]);
		(void)fflush(stdout);
	}
	for (size_t i = 0; i < have; i++) {
		(void)snprintf(id, sizeof(id), "pod%zu", i);
		kill_delete(id);
	}
}

/* What the run's namespace left once its containers are gone: the cgroup parent in every
 * hierarchy (a shim removes only its containers' own cgroups, as runc does) and the
 * runtimes' empty state directories. */
static void remove_namespace_leftovers(void)
{
	char line[1024];
	char dev[256];
	char mnt[256];
	char type[64];
	char path[600];
	FILE *f = fopen("/proc/self/mounts", "re");

	if (f) {
		while (fgets(line, sizeof(line), f)) {
			if (sscanf(line, "%255s %255s %63s", dev, mnt, type) != 3)
				continue;
			if (strcmp(type, "cgroup") != 0 && strcmp(type, "cgroup2") != 0)
				continue;
			(void)snprintf(path, sizeof(path), "%s/%s", mnt, ns);
			(void)rmdir(path);
		}
		(void)fclose(f);
	}
	(void)snprintf(path, sizeof(path), "/run/containerd/husk/%s", ns);
	(void)rmdir(path);
	(void)snprintf(path, sizeof(path), "/run/containerd/runc/%s", ns);
	(void)rmdir(path);
}

/* Kill and delete "main", then shut the shim down. */
static void stop_main(void)
{
	Containerd__Task__V2__KillRequest kr = CONTAINERD__TASK__V2__KILL_REQUEST__INIT;
	kr.id = (char *)"main";
	kr.signal = SIGKILL;
	simple("Kill", &kr.base);
	wait_delete("main", NULL);
	Containerd__Task__V2__ShutdownRequest sh = CONTAINERD__TASK__V2__SHUTDOWN_REQUEST__INIT;
	sh.id = (char *)"main";
	struct ttsync_reply r;
	/* The shim exits as it answers: a closed connection is as good as an answer here. */
	(void)ttsync_call(&s, TASK, "Shutdown", &sh.base, 5, &r);
	ttsync_reply_done(&r);
}

int main(int argc, char **argv)
{
	char events[4096];

	if (argc < 4) {
		(void)fprintf(stderr,
			      "usage: %s SHIM BUNDLE WORKDIR [LIFECYCLES [EXECS [IDLE_S "
			      "[IDLE_EXECS]]]]\n",
			      argv[0]);
		return 2;
	}
	struct args a = {
		.bundle = argv[2],
		.workdir = argv[3],
		.lifecycles = argc > 4 ? strtoul(argv[4], NULL, 10) : 100,
		.execs = argc > 5 ? strtoul(argv[5], NULL, 10) : 1000,
		.idle_s = argc > 6 ? (unsigned)strtoul(argv[6], NULL, 10) : 10,
		.idle_execs = argc > 7 ? strtoul(argv[7], NULL, 10) : 3,
	};
	/* Absolute: the shim runs with the bundle as its cwd. */
	char *shim = realpath(argv[1], NULL);
	if (!shim)
		die("%s: %s", argv[1], strerror(errno));
	size_t n = a.lifecycles > a.execs ? a.lifecycles : a.execs;
	n = n > 20 ? n : 20;
	double *ms = calloc(n > a.idle_execs ? n : a.idle_execs, sizeof(double));
	if (!ms)
		return 1;
	(void)snprintf(ns, sizeof(ns), "bench-%d", (int)getpid());
	(void)snprintf(events, sizeof(events), "%s/events.sock", a.workdir);
	(void)setenv("TTRPC_ADDRESS", events, 1);
	(void)unlink(events);
	if (ttsync_init(&s, events) < 0)
		die("events server on %s", events);

	/* One shim, as for a pod: the first container is long-running, exec target. */
	write_spec(a.bundle, "[\"sleep\",\"100000\"]", "main");
	open_log(a.bundle);
	double t0 = ttsync_now();
	char *path = start_shim(shim, a.bundle, a.workdir, "main");
	(void)printf("start_new_ms %.3f\n", (ttsync_now() - t0) * 1000);
	if (ttsync_connect(&s, path) < 0)
		die("connect %s", path);
	pid_t spid = shim_pid("main");
	attach_strace(spid);
	create_start("main", a.bundle);
	long idle_kb = settled_private_dirty_kb(spid);
	/* `start` for a pod's next container: the sandbox's shim answers, its address is reused. */
	for (size_t i = 0; i < 20; i++) {
		double t1 = ttsync_now();
		free(start_shim(shim, a.bundle, a.workdir, "main"));
		ms[i] = (ttsync_now() - t1) * 1000;
	}
	report("start_reuse", ms, 20);
	run_lifecycles(&a, ms);
	long lifecycles_kb = settled_private_dirty_kb(spid);
	run_execs("exec", "exec", ms, a.execs, 0);
	long after_kb = settled_private_dirty_kb(spid);
	run_execs("exec_idle", "idle", ms, a.idle_execs, a.idle_s);
	run_scale(&a, spid, ms);
	printf("private_dirty_idle_kb %ld\nprivate_dirty_after_lifecycles_kb %ld\n"
	       "private_dirty_after_execs_kb %ld\n",
	       idle_kb, lifecycles_kb, after_kb);
	stop_main();
	remove_namespace_leftovers();
	uv_close((uv_handle_t *)&log_pipe, NULL);
	ttsync_done(&s);
	free(path);
	free(shim);
	free(ms);
	return 0;
}
