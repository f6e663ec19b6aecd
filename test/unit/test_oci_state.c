/*
 * The oci engine's codecs: `state`, `ps --format json`, `events --stats` and JSON log lines
 * as runc 1.1.5 and runsc 20221219 print them on this project's machines (captured in
 * test/unit/data/oci/), /proc/<pid>/cgroup lines, and the JSON the engine writes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <jansson.h>

#include "husk/cgroup.h"
#include "husk/err.h"
#include "husk/spec.h"
#include "oci/oci_json.h"
#include "oci/oci_state.h"
#include "testutil.h"

static char *fixture(const char *name)
{
	char rel[256];
	(void)snprintf(rel, sizeof(rel), "test/unit/data/oci/%s", name);
	char *path = testutil_source_path(rel);
	char *text = testutil_read_file(path);
	cr_assert(text != NULL, "read %s", path);
	free(path);
	return text;
}

/* ---- state ---- */

static void state_of(const char *name, struct husk_oci_state *s)
{
	char *text = fixture(name);
	struct husk_err err = {0};
	cr_assert(eq(int, husk__oci_state_parse(text, strlen(text), s, &err), 0), "%s", err.msg);
	free(text);
}

Test(oci_state, runc_running_paused_stopped)
{
	struct husk_oci_state s;

	state_of("runc-state-running.json", &s);
	cr_assert(eq(str, s.id, "c1"));
	cr_assert(eq(int, (int)s.pid, 8504));
	cr_assert(eq(str, s.status, "running"));
	cr_assert(eq(str, s.bundle, "/tmp/ocix/b"));
	husk__oci_state_done(&s);
	cr_assert(s.id == NULL);

	state_of("runc-state-paused.json", &s);
	cr_assert(eq(str, s.status, "paused"));
	husk__oci_state_done(&s);

	state_of("runc-state-stopped.json", &s);
	cr_assert(eq(str, s.status, "stopped"));
	cr_assert(eq(int, (int)s.pid, 0));
	husk__oci_state_done(&s);
}

Test(oci_state, runsc_running_and_stopped_pid_minus_one)
{
	struct husk_oci_state s;
	struct husk_err err = {0};

	state_of("runsc-state-running.json", &s);
	cr_assert(eq(str, s.id, "r1"));
	cr_assert(eq(int, (int)s.pid, 11730));
	cr_assert(eq(str, s.status, "running"));
	husk__oci_state_done(&s);

	const char *stopped = "{\"id\":\"r1\",\"status\":\"stopped\",\"pid\":-1}";
	cr_assert(eq(int, husk__oci_state_parse(stopped, strlen(stopped), &s, &err), 0));
	cr_assert(eq(int, (int)s.pid, 0));
	cr_assert(s.bundle == NULL);
	husk__oci_state_done(&s);
}

Test(oci_state, state_errors_name_the_field)
{
	struct husk_oci_state s = {0};
	struct husk_err err = {0};
	const char *no_status = "{\"id\":\"c\",\"pid\":1}";
	const char *bad_pid = "{\"id\":\"c\",\"pid\":\"1\",\"status\":\"running\"}";

	cr_assert(lt(int, husk__oci_state_parse(no_status, strlen(no_status), &s, &err), 0));
	cr_assert(eq(int, (int)err.kind, (int)HUSK_ERR_INVALID));
	cr_assert(strstr(err.msg, "status") != NULL, "%s", err.msg);
	cr_assert(s.id == NULL);
	cr_assert(lt(int, husk__oci_state_parse(bad_pid, strlen(bad_pid), &s, &err), 0));
	cr_assert(strstr(err.msg, "pid") != NULL, "%s", err.msg);
	cr_assert(lt(int, husk__oci_state_parse("nope", 4, &s, &err), 0));
	cr_assert(eq(int, (int)err.kind, (int)HUSK_ERR_INVALID));
}

/* ---- ps ---- */

static void ps_of(const char *text, size_t want_n, const pid_t *want)
{
	pid_t *pids = NULL;
	size_t n = 99;
	struct husk_err err = {0};

	cr_assert(eq(int, husk__oci_ps_parse(text, strlen(text), &pids, &n, &err), 0), "%s",
		  err.msg);
	cr_assert(eq(sz, n, want_n));
	for (size_t i = 0; i < n; i++)
		cr_assert(eq(int, (int)pids[i], (int)want[i]));
	free(pids);
}

Test(oci_state, ps_runc_runsc_null_and_objects)
{
	char *runc = fixture("runc-ps.json");
	char *runsc = fixture("runsc-ps.json");

	ps_of(runc, 1, (pid_t[]){8504});
	ps_of(runsc, 1, (pid_t[]){1});
	ps_of("null", 0, NULL);
	ps_of("[]", 0, NULL);
	ps_of("[12, 34]", 2, (pid_t[]){12, 34});
	ps_of("[{\"UID\":0,\"PID\":1,\"PPID\":0},{\"PID\":7}]", 2, (pid_t[]){1, 7});
	free(runc);
	free(runsc);
}

Test(oci_state, ps_errors)
{
	pid_t *pids = NULL;
	size_t n = 0;
	struct husk_err err = {0};

	cr_assert(lt(int, husk__oci_ps_parse("{}", 2, &pids, &n, &err), 0));
	cr_assert(eq(str, err.msg, "ps: expected array"));
	cr_assert(lt(int, husk__oci_ps_parse("[\"x\"]", 5, &pids, &n, &err), 0));
	cr_assert(eq(int, (int)err.kind, (int)HUSK_ERR_INVALID));
	cr_assert(strstr(err.msg, "ps[0]") != NULL, "%s", err.msg);
	cr_assert(lt(int, husk__oci_ps_parse("[{\"pid\":1}]", 11, &pids, &n, &err), 0));
	cr_assert(strstr(err.msg, "PID") != NULL, "%s", err.msg);
	cr_assert(lt(int, husk__oci_ps_parse("[-1]", 4, &pids, &n, &err), 0));
	cr_assert(lt(int, husk__oci_ps_parse("[1,", 3, &pids, &n, &err), 0));
	cr_assert(pids == NULL);
}

/* ---- events --stats ---- */

static struct husk_cgroup_stats *stats_of(const char *text, enum husk_cgroup_stats_mode mode)
{
	struct husk_cgroup_stats *s = malloc(sizeof(*s));
	struct husk_err err = {0};

	cr_assert(s != NULL);
	memset(s, 0xa5, sizeof(*s)); /* zeroed by the parser */
	cr_assert(eq(int, husk__oci_events_stats_parse(text, strlen(text), mode, s, &err), 0), "%s",
		  err.msg);
	return s;
}

Test(oci_state, runc_events_stats_v1)
{
	char *text = fixture("runc-events-stats.json");
	struct husk_cgroup_stats *s = stats_of(text, HUSK_CGROUP_STATS_V1);

	cr_assert(eq(int, (int)s->mode, (int)HUSK_CGROUP_STATS_V1));
	cr_assert(s->cpu.present);
	cr_assert(eq(u64, s->cpu.usage_total_ns, 54322576));
	cr_assert(eq(u64, s->cpu.usage_kernel_ns, 20000000));
	cr_assert(eq(u64, s->cpu.usage_user_ns, 20000000));
	cr_assert(eq(u32, s->cpu.n_per_cpu, 2));
	cr_assert(eq(u64, s->cpu.per_cpu_ns[1], 54322576));
	cr_assert(eq(u64, s->cpu.nr_periods, 0));
	cr_assert(s->memory.present);
	cr_assert(s->memory.usage.present);
	cr_assert(eq(u64, s->memory.usage.limit, 67108864));
	cr_assert(eq(u64, s->memory.usage.usage, 462848));
	cr_assert(eq(u64, s->memory.usage.max, 2211840));
	cr_assert(eq(u64, s->memory.swap.limit, 9223372036854771712ull));
	cr_assert(eq(u64, s->memory.kernel.usage, 249856));
	cr_assert(s->memory.kernel_tcp.present);
	cr_assert(eq(u64, s->memory.rss, 49152));
	cr_assert(eq(u64, s->memory.cache, 0));
	cr_assert(eq(u64, s->memory.v1.pgfault, 664));
	cr_assert(eq(u64, s->memory.v1.total_inactive_anon, 45056));
	cr_assert(eq(u64, s->memory.v1.hierarchical_memory_limit, 67108864));
	cr_assert(s->pids.present);
	cr_assert(eq(u64, s->pids.current, 1));
	cr_assert(eq(u64, s->pids.limit, 100));
	cr_assert(s->blkio.present);
	cr_assert(eq(u32, s->blkio.n_entries[0], 0));
	cr_assert(eq(u32, s->n_hugetlb, 0));
	cr_assert(not(s->io.present));
	cr_assert(eq(u32, s->truncated, 0));
	free(s);
	free(text);
}

Test(oci_state, runc_events_stats_raw_as_v2_memory_stat)
{
	char *text = fixture("runc-events-stats.json");
	struct husk_cgroup_stats *s = stats_of(text, HUSK_CGROUP_STATS_V2);

	cr_assert(eq(u64, s->memory.v2.active_anon, 4096));
	cr_assert(eq(u64, s->memory.v2.pgfault, 664));
	cr_assert(eq(u64, s->memory.v2.workingset_refault_anon, 0));
	cr_assert(s->io.present);
	cr_assert(not(s->blkio.present));
	free(s);
	free(text);
}

Test(oci_state, runsc_events_stats)
{
	char *text = fixture("runsc-events-stats.json");
	struct husk_cgroup_stats *s = stats_of(text, HUSK_CGROUP_STATS_V1);

	cr_assert(eq(u64, s->cpu.usage_total_ns, 353478290));
	cr_assert(eq(u32, s->cpu.n_per_cpu, 0));
	cr_assert(eq(u64, s->memory.usage.usage, 2027520));
	cr_assert(eq(u64, s->memory.usage.limit, 0));
	cr_assert(eq(u64, s->memory.rss, 0));
	cr_assert(eq(u64, s->pids.current, 1));
	cr_assert(not(s->blkio.present));
	free(s);
	free(text);
}

static const char blkio_json[] =
	"{\"type\":\"stats\",\"id\":\"c\",\"data\":{"
	"\"memory\":{\"usage\":{\"limit\":18446744073709551615,\"usage\":1}},"
	"\"blkio\":{\"ioServiceBytesRecursive\":["
	"{\"major\":8,\"minor\":0,\"op\":\"Read\",\"value\":4096},"
	"{\"major\":8,\"minor\":0,\"op\":\"Write\",\"value\":8192},"
	"{\"major\":0,\"minor\":0,\"op\":\"Total\",\"value\":12288}],"
	"\"ioServicedRecursive\":[{\"major\":8,\"minor\":0,\"op\":\"Read\",\"value\":3}],"
	"\"sectorsRecursive\":[{\"major\":8,\"minor\":16,\"op\":\"\",\"value\":5}]},"
	"\"hugetlb\":{\"2MB\":{\"usage\":4,\"max\":2097152,\"failcnt\":1}}}}";

Test(oci_state, events_blkio_hugetlb_and_u64_max_v1)
{
	struct husk_cgroup_stats *s = stats_of(blkio_json, HUSK_CGROUP_STATS_V1);

	cr_assert(eq(u64, s->memory.usage.limit, UINT64_MAX));
	cr_assert(eq(u32, s->blkio.n_entries[HUSK_BLKIO_IO_SERVICE_BYTES], 3));
	const struct husk_cgroup_blkio_entry *e = &s->blkio.entries[HUSK_BLKIO_IO_SERVICE_BYTES][1];
	cr_assert(eq(str, (char *)e->op, "Write"));
	cr_assert(eq(u64, e->major, 8));
	cr_assert(eq(u64, e->value, 8192));
	cr_assert(eq(u32, s->blkio.n_entries[HUSK_BLKIO_IO_SERVICED], 1));
	cr_assert(eq(u32, s->blkio.n_entries[HUSK_BLKIO_SECTORS], 1));
	cr_assert(eq(u64, s->blkio.entries[HUSK_BLKIO_SECTORS][0].minor, 16));
	cr_assert(eq(u32, s->n_hugetlb, 1));
	cr_assert(eq(str, s->hugetlb[0].pagesize, "2MB"));
	cr_assert(eq(u64, s->hugetlb[0].usage, 4));
	cr_assert(eq(u64, s->hugetlb[0].max, 2097152));
	cr_assert(eq(u64, s->hugetlb[0].failcnt, 1));
	cr_assert(not(s->cpu.present));
	cr_assert(not(s->pids.present));
	free(s);
}

Test(oci_state, events_blkio_folded_into_io_v2)
{
	struct husk_cgroup_stats *s = stats_of(blkio_json, HUSK_CGROUP_STATS_V2);

	cr_assert(s->io.present);
	cr_assert(eq(u32, s->io.n_entries, 1));
	cr_assert(eq(u64, s->io.entries[0].major, 8));
	cr_assert(eq(u64, s->io.entries[0].rbytes, 4096));
	cr_assert(eq(u64, s->io.entries[0].wbytes, 8192));
	cr_assert(eq(u64, s->io.entries[0].rios, 3));
	cr_assert(eq(u64, s->io.entries[0].wios, 0));
	free(s);
}

Test(oci_state, events_errors)
{
	struct husk_cgroup_stats *s = malloc(sizeof(*s));
	struct husk_err err = {0};
	const char *oom = "{\"type\":\"oom\",\"id\":\"c\"}";
	const char *no_data = "{\"type\":\"stats\"}";
	const char *bad = "{\"type\":\"stats\",\"data\":{\"pids\":{\"current\":\"1\"}}}";

	cr_assert(lt(int, husk__oci_events_stats_parse(oom, strlen(oom), 1, s, &err), 0));
	cr_assert(eq(str, err.msg, "type: expected \"stats\", got 'oom'"));
	cr_assert(lt(int, husk__oci_events_stats_parse(no_data, strlen(no_data), 1, s, &err), 0));
	cr_assert(strstr(err.msg, "data") != NULL, "%s", err.msg);
	cr_assert(lt(int, husk__oci_events_stats_parse(bad, strlen(bad), 1, s, &err), 0));
	cr_assert(strstr(err.msg, "data.pids.current") != NULL, "%s", err.msg);
	cr_assert(eq(int, (int)err.kind, (int)HUSK_ERR_INVALID));
	free(s);
}

/* ---- log ---- */

Test(oci_state, last_error_of_runc_and_runsc_logs)
{
	char *runc = fixture("runc-log.json");
	char *runsc = fixture("runsc-log.json");
	char msg[128];

	cr_assert(eq(int, husk__oci_log_last_error(runc, strlen(runc), msg, sizeof(msg)), 1));
	cr_assert(eq(str, msg, "container does not exist"));
	cr_assert(eq(int, husk__oci_log_last_error(runsc, strlen(runsc), msg, sizeof(msg)), 1));
	cr_assert(eq(str, msg, "connecting to control server at PID 11730: connection refused"));
	free(runc);
	free(runsc);
}

Test(oci_state, last_error_skips_other_levels_and_text)
{
	const char *log = "{\"level\":\"error\",\"msg\":\"first\"}\n"
			  "not json at all\n"
			  "{\"level\":\"warning\",\"msg\":\"a warning\"}\n"
			  "{\"level\":\"fatal\",\"msg\":\"the last one\"}\n"
			  "{\"level\":\"info\",\"msg\":\"info\"}";
	char msg[8];

	cr_assert(eq(int, husk__oci_log_last_error(log, strlen(log), msg, sizeof(msg)), 1));
	cr_assert(eq(str, msg, "the las"));
	cr_assert(eq(int, husk__oci_log_last_error("", 0, msg, sizeof(msg)), 0));
	const char *info = "{\"level\":\"info\",\"msg\":\"x\"}\n";
	cr_assert(eq(int, husk__oci_log_last_error(info, strlen(info), msg, sizeof(msg)), 0));
}

/* ---- /proc/<pid>/cgroup ---- */

static const char runc_cgroup[] = "9:name=systemd:/husk-ocix/c1\n8:pids:/husk-ocix/c1\n"
				  "4:memory:/husk-ocix/c1\n2:cpuacct:/husk-ocix/c1\n"
				  "1:cpu:/husk-ocix/c1\n0::/husk-ocix/c1\n";
static const char runsc_cgroup[] = "9:name=systemd:/husk-ocix/r1\n8:pids:/husk-ocix/r1\n"
				   "3:cpuset:/husk-ocix/r1\n4:memory:/husk-ocix/r1\n0::/\n";

static void cgroup_of(const char *text, bool v2, const char *want)
{
	char *path = NULL;
	struct husk_err err = {0};

	cr_assert(eq(int, husk__oci_cgroup_from_proc(text, strlen(text), v2, &path, &err), 0), "%s",
		  err.msg);
	cr_assert(eq(str, path, (char *)want));
	free(path);
}

Test(oci_state, cgroup_from_proc)
{
	cgroup_of(runc_cgroup, false, "/husk-ocix/c1");
	cgroup_of(runc_cgroup, true, "/husk-ocix/c1");
	cgroup_of(runsc_cgroup, false, "/husk-ocix/r1");
	cgroup_of("0::/kubepods/pod1/c\n", true, "/kubepods/pod1/c");
	cgroup_of("5:cpu,cpuacct:/a\n6:blkio:/b\n", false, "/a");
	cgroup_of("5:cpu,cpuacct:/a\n6:pids:/p\n", false, "/p");
	cgroup_of("7:memory,pids:/m", false, "/m");
}

Test(oci_state, cgroup_from_proc_errors)
{
	char *path = NULL;
	struct husk_err err = {0};

	cr_assert(lt(int, husk__oci_cgroup_from_proc("0::/x\n", 6, false, &path, &err), 0));
	cr_assert(eq(str, err.msg, "no v1 cgroup line in /proc cgroup"));
	cr_assert(lt(int, husk__oci_cgroup_from_proc("4:memory:/x\n", 12, true, &path, &err), 0));
	cr_assert(lt(int,
		     husk__oci_cgroup_from_proc("garbage\n4:memory:x\n", 19, false, &path, &err),
		     0));
	cr_assert(path == NULL);
}

/* ---- JSON the engine writes ---- */

static json_t *loads(const char *s)
{
	json_error_t je;
	json_t *j = json_loads(s, 0, &je);
	cr_assert(j != NULL, "%s: %s", s, je.text);
	return j;
}

static void same_json(const char *got, const char *want)
{
	json_t *g = loads(got);
	json_t *w = loads(want);
	cr_assert(json_equal(g, w), "got %s\nwant %s", got, want);
	json_decref(g);
	json_decref(w);
}

Test(oci_json, process_round_trip)
{
	const char *in =
		"{\"terminal\":true,\"consoleSize\":{\"height\":24,\"width\":80},"
		"\"user\":{\"uid\":1000,\"gid\":1000,\"umask\":18,\"additionalGids\":[5,6]},"
		"\"args\":[\"sh\",\"-c\",\"echo "
		"hi\"],\"env\":[\"PATH=/bin\",\"A=b\"],\"cwd\":\"/tmp\","
		"\"capabilities\":{\"bounding\":[\"CAP_KILL\"],\"effective\":[\"CAP_KILL\"],"
		"\"inheritable\":[],\"permitted\":[\"CAP_KILL\"],\"ambient\":[]},"
		"\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":1024,\"soft\":512},"
		"{\"type\":\"RLIMIT_CORE\",\"hard\":0,\"soft\":0}],"
		"\"noNewPrivileges\":true,\"oomScoreAdj\":-5,\"apparmorProfile\":\"p\"}";
	struct husk_process *p = NULL;
	struct husk_err err = {0};
	char *out = NULL;

	cr_assert(eq(int, husk_process_parse(in, strlen(in), &p, &err), 0), "%s", err.msg);
	cr_assert(eq(int, husk__oci_process_format(p, &out, &err), 0), "%s", err.msg);
	same_json(out, in);
	free(out);
	husk_process_free(p);
}

Test(oci_json, process_minimal)
{
	const char *in = "{\"args\":[\"true\"],\"cwd\":\"/\",\"user\":{\"uid\":0,\"gid\":0}}";
	struct husk_process *p = NULL;
	struct husk_err err = {0};
	char *out = NULL;

	cr_assert(eq(int, husk_process_parse(in, strlen(in), &p, &err), 0), "%s", err.msg);
	cr_assert(eq(int, husk__oci_process_format(p, &out, &err), 0), "%s", err.msg);
	same_json(out, "{\"terminal\":false,\"user\":{\"uid\":0,\"gid\":0},\"args\":[\"true\"],"
		       "\"cwd\":\"/\",\"noNewPrivileges\":false}");
	free(out);
	husk_process_free(p);
}

Test(oci_json, process_rlimit_above_int64_is_refused)
{
	const char *in = "{\"args\":[\"true\"],\"cwd\":\"/\",\"user\":{\"uid\":0,\"gid\":0},"
			 "\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":18446744073709551615,"
			 "\"soft\":1}]}";
	struct husk_process *p = NULL;
	struct husk_err err = {0};
	char *out = NULL;

	cr_assert(eq(int, husk_process_parse(in, strlen(in), &p, &err), 0), "%s", err.msg);
	cr_assert(lt(int, husk__oci_process_format(p, &out, &err), 0));
	cr_assert(eq(int, (int)err.kind, (int)HUSK_ERR_INVALID));
	cr_assert(strstr(err.msg, "process") != NULL, "%s", err.msg);
	cr_assert(out == NULL);
	husk_process_free(p);
}

Test(oci_json, resources_round_trip)
{
	const char *in =
		"{\"devices\":[{\"allow\":false,\"type\":\"a\",\"access\":\"rwm\"},"
		"{\"allow\":true,\"type\":\"c\",\"major\":1,\"minor\":3,\"access\":\"rw\"}],"
		"\"memory\":{\"limit\":67108864,\"reservation\":1024,\"swap\":134217728,"
		"\"swappiness\":10,\"disableOOMKiller\":true},"
		"\"cpu\":{\"shares\":512,\"quota\":50000,\"period\":100000,\"cpus\":\"0\","
		"\"mems\":\"0\"},\"pids\":{\"limit\":64},"
		"\"blockIO\":{\"weight\":100,\"weightDevice\":[{\"major\":8,\"minor\":0,"
		"\"weight\":200}],\"throttleReadBpsDevice\":[{\"major\":8,\"minor\":0,"
		"\"rate\":1048576}]},"
		"\"hugepageLimits\":[{\"pageSize\":\"2MB\",\"limit\":2097152}],"
		"\"unified\":{\"memory.high\":\"max\"}}";
	struct husk_resources *res = NULL;
	struct husk_err err = {0};
	char *out = NULL;

	cr_assert(eq(int, husk_resources_parse(in, strlen(in), &res, &err), 0), "%s", err.msg);
	cr_assert(eq(int, husk__oci_resources_format(res, &out, &err), 0), "%s", err.msg);
	same_json(out, in);
	free(out);
	husk_resources_free(res);
}

Test(oci_json, resources_empty)
{
	struct husk_resources *res = NULL;
	struct husk_err err = {0};
	char *out = NULL;

	cr_assert(eq(int, husk_resources_parse("{}", 2, &res, &err), 0), "%s", err.msg);
	cr_assert(eq(int, husk__oci_resources_format(res, &out, &err), 0), "%s", err.msg);
	cr_assert(eq(str, out, "{}"));
	free(out);
	husk_resources_free(res);
}

Test(oci_json, engine_data_round_trip_and_errors)
{
	char *args[] = {"--platform=ptrace", "--network=none", NULL};
	struct husk_oci_data d = {.binary = "/usr/sbin/runc",
				  .root = "/run/husk/oci-runc",
				  .work = "/run/husk/oci-work/c1",
				  .args = args,
				  .n_args = 2,
				  .rootfs = "/b/rootfs",
				  .systemd_cgroup = true};
	struct husk_oci_data back = {0};
	struct husk_err err = {0};
	char *out = NULL;

	cr_assert(eq(int, husk__oci_data_format(&d, &out, &err), 0), "%s", err.msg);
	cr_assert(eq(int, husk__oci_data_parse(out, &back, &err), 0), "%s", err.msg);
	cr_assert(eq(str, back.binary, d.binary));
	cr_assert(eq(str, back.root, d.root));
	cr_assert(eq(str, back.work, d.work));
	cr_assert(back.systemd_cgroup);
	/* The runtime's global flags are kept, so delete and the husk CLI pass them too. */
	cr_assert(eq(sz, back.n_args, 2));
	cr_assert(eq(str, back.args[0], "--platform=ptrace"));
	cr_assert(eq(str, back.args[1], "--network=none"));
	cr_assert(back.args[2] == NULL);
	cr_assert(eq(str, back.rootfs, "/b/rootfs"), "the rootfs to unmount at delete");
	husk__oci_data_done(&back);
	free(out);

	cr_assert(lt(int, husk__oci_data_parse("{\"binary\":\"/r\",\"work\":\"/w\"}", &back, &err),
		     0));
	cr_assert(eq(str, err.msg, "engine_data.root: missing required field"), "%s", err.msg);
	cr_assert(back.binary == NULL);
	cr_assert(lt(int, husk__oci_data_parse("[]", &back, &err), 0));
	cr_assert(eq(int, (int)err.kind, (int)HUSK_ERR_INVALID));
}

Test(oci_state, helper_pid_from_runsc_state)
{
	const char *runsc = "{\"id\":\"r2\",\"goferPid\":29704,\"status\":\"created\"}";
	pid_t pid = 0;

	cr_assert(eq(int, husk__oci_helper_pid_parse(runsc, strlen(runsc), &pid), 1));
	cr_assert(eq(int, (int)pid, 29704));
	pid = 7;
	cr_assert(eq(int, husk__oci_helper_pid_parse("{\"id\":\"c\"}", 10, &pid), 0));
	cr_assert(eq(int, husk__oci_helper_pid_parse("{\"goferPid\":0}", 14, &pid), 0));
	cr_assert(eq(int, husk__oci_helper_pid_parse("{\"goferPid\":\"1\"}", 16, &pid), 0));
	cr_assert(eq(int, husk__oci_helper_pid_parse("not json", 8, &pid), 0));
	cr_assert(eq(int, (int)pid, 7));
}
