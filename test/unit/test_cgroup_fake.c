/*
 * The cgroup layer against a fake cgroupfs in a temp dir: layout detection from mountinfo,
 * create/open, resource writes, pids of nested cgroups, freezer state files, stats, OOM
 * counters. Regular files stand in for the kernel's, so no root is needed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "cgroup.h"
#include "husk/err.h"
#include "husk/spec.h"
#include "testutil.h"

static char *root;

static void setup(void)
{
	root = testutil_tmpdir("cgfake");
}

static void teardown(void)
{
	testutil_rmtree_free(root);
	root = NULL;
}

static void mkdir_p(const char *rel)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (char *s = path + strlen(root) + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		(void)mkdir(path, 0755);
		*s = '/';
	}
	cr_assert(mkdir(path, 0755) == 0 || errno == EEXIST, "mkdir %s", path);
}

static void put(const char *rel, const char *content)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	testutil_write_file(path, content);
}

static char *get(const char *rel)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	char *s = testutil_read_file(path);
	cr_assert(s != NULL, "read %s", path);
	return s;
}

static void expect_file(const char *rel, const char *want)
{
	char *s = get(rel);
	cr_expect(eq(str, s, (char *)want), "%s", rel);
	free(s);
}

/* A hybrid layout like this machine's, plus a co-mounted cpu,cpuacct, a bind of a subtree
 * (ignored) and a second mount of memory (first wins). */
static const char hybrid_mountinfo[] =
	"25 30 0:22 / /sys/fs/cgroup rw,nosuid - tmpfs tmpfs rw,mode=755\n"
	"26 25 0:23 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
	"27 25 0:24 / /sys/fs/cgroup/memory rw shared:5 - cgroup cgroup rw,memory\n"
	"28 25 0:25 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n"
	"29 25 0:26 / /sys/fs/cgroup/freezer rw - cgroup cgroup rw,freezer\n"
	"30 25 0:27 / /sys/fs/cgroup/sys\\040temd rw - cgroup cgroup rw,xattr,name=systemd\n"
	"31 25 0:28 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw,nsdelegate\n"
	"32 25 0:29 /sub /mnt/blkio-sub rw - cgroup cgroup rw,blkio\n"
	"33 25 0:24 / /mnt/memory-again rw - cgroup cgroup rw,memory\n"
	"40 25 8:1 / /data rw - ext4 /dev/sda1 rw\n";

static struct husk_cgroup_host *hybrid_host(void)
{
	static const char *const mnts[] = {"sys/fs/cgroup/cpu,cpuacct", "sys/fs/cgroup/memory",
					   "sys/fs/cgroup/pids",	"sys/fs/cgroup/freezer",
					   "sys/fs/cgroup/sys temd",	"sys/fs/cgroup/unified"};
	for (size_t i = 0; i < sizeof(mnts) / sizeof(mnts[0]); i++)
		mkdir_p(mnts[i]);
	struct husk_cgroup_host *h = NULL;
	struct husk_err err = {0};
	int r = husk__cgroup_host_open(hybrid_mountinfo, strlen(hybrid_mountinfo), root, &h, &err);
	cr_assert(eq(int, r, 0), "%s", err.msg);
	return h;
}

TestSuite(cgroup_fake, .init = setup, .fini = teardown, .timeout = 30);

Test(cgroup_fake, hybrid_detection)
{
	struct husk_cgroup_host *h = hybrid_host();
	cr_expect(eq(int, husk__cgroup_host_mode(h), HUSK_CGROUP_MODE_HYBRID));
	cr_expect(husk__cgroup_host_has(h, HUSK_CG_CPU));
	cr_expect(husk__cgroup_host_has(h, HUSK_CG_CPUACCT));
	cr_expect(husk__cgroup_host_has(h, HUSK_CG_MEMORY));
	cr_expect(husk__cgroup_host_has(h, HUSK_CG_FREEZER));
	cr_expect(husk__cgroup_host_has(h, HUSK_CG_NAME_SYSTEMD));
	cr_expect(not(husk__cgroup_host_has(h, HUSK_CG_BLKIO)),
		  "a subtree bind is not a hierarchy");
	cr_expect(not(husk__cgroup_host_has(h, HUSK_CG_HUGETLB)));
	husk__cgroup_host_free(h);
}

Test(cgroup_fake, mode_detection_v1_v2_none)
{
	struct husk_cgroup_host *h = NULL;
	struct husk_err err = {0};
	mkdir_p("v1/memory");
	mkdir_p("v2");
	put("v2/cgroup.controllers", "cpuset cpu io memory pids\n");

	char mi[512];
	snprintf(mi, sizeof(mi), "1 0 0:1 / /v1/memory rw - cgroup cgroup rw,memory\n");
	cr_assert(eq(int, husk__cgroup_host_open(mi, strlen(mi), root, &h, &err), 0), "%s",
		  err.msg);
	cr_expect(eq(int, husk__cgroup_host_mode(h), HUSK_CGROUP_MODE_V1));
	h = husk__cgroup_host_free(h);

	snprintf(mi, sizeof(mi), "1 0 0:1 / /v2 rw - cgroup2 cgroup2 rw\n");
	cr_assert(eq(int, husk__cgroup_host_open(mi, strlen(mi), root, &h, &err), 0), "%s",
		  err.msg);
	cr_expect(eq(int, husk__cgroup_host_mode(h), HUSK_CGROUP_MODE_V2));
	cr_expect(husk__cgroup_host_has(h, HUSK_CG_BLKIO), "io counts as blkio");
	cr_expect(husk__cgroup_host_has(h, HUSK_CG_FREEZER), "v2 freezes with cgroup.freeze");
	cr_expect(not(husk__cgroup_host_has(h, HUSK_CG_HUGETLB)));
	h = husk__cgroup_host_free(h);

	snprintf(mi, sizeof(mi), "1 0 8:1 / / rw - ext4 /dev/sda1 rw\n");
	cr_expect(eq(int, husk__cgroup_host_open(mi, strlen(mi), root, &h, &err), -EIO));
	cr_expect(eq(int, err.kind, HUSK_ERR_NOT_FOUND));
	cr_expect(h == NULL);
}

Test(cgroup_fake, create_in_every_hierarchy_and_open)
{
	struct husk_cgroup_host *h = hybrid_host();
	struct husk_cgroup *cg = NULL;
	struct husk_err err = {0};
	struct stat st;

	cr_assert(eq(int, husk__cgroup_create(h, "/husk-t/c1", &cg, &err), 0), "%s", err.msg);
	cr_expect(eq(str, (char *)husk__cgroup_path(cg), "/husk-t/c1"));
	const char *dirs[] = {"sys/fs/cgroup/cpu,cpuacct/husk-t/c1",
			      "sys/fs/cgroup/memory/husk-t/c1", "sys/fs/cgroup/pids/husk-t/c1",
			      "sys/fs/cgroup/sys temd/husk-t/c1",
			      "sys/fs/cgroup/unified/husk-t/c1"};
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		char p[4096];
		snprintf(p, sizeof(p), "%s/%s", root, dirs[i]);
		cr_expect(stat(p, &st) == 0 && S_ISDIR(st.st_mode), "missing %s", dirs[i]);
	}
	cr_expect(eq(int, husk__cgroup_clone_fd(cg), -1), "no CLONE_INTO_CGROUP on hybrid");
	cg = husk__cgroup_free(cg);

	cr_assert(eq(int, husk__cgroup_open(h, "/husk-t/c1", &cg, &err), 0), "%s", err.msg);
	cg = husk__cgroup_free(cg);
	cr_expect(eq(int, husk__cgroup_open(h, "/husk-t/nope", &cg, &err), -EIO));
	cr_expect(eq(int, err.kind, HUSK_ERR_NOT_FOUND));
	cr_expect(eq(int, husk__cgroup_open(h, "/a/../b", &cg, &err), -EINVAL));
	cr_expect(eq(int, husk__cgroup_create(h, "relative", &cg, &err), -EINVAL));
	husk__cgroup_host_free(h);
}

Test(cgroup_fake, create_failure_removes_what_it_made)
{
	struct husk_cgroup_host *h = hybrid_host();
	struct husk_cgroup *cg = NULL;
	struct husk_err err = {0};
	struct stat st;
	char p[4096];

	/* A file where the pids hierarchy needs a directory makes creation fail there. */
	mkdir_p("sys/fs/cgroup/pids/x");
	put("sys/fs/cgroup/pids/x/y", "");
	cr_expect(husk__cgroup_create(h, "/x/y", &cg, &err) < 0);
	cr_expect(cg == NULL);
	cr_expect(strstr(err.msg, "pids") != NULL, "%s", err.msg);
	snprintf(p, sizeof(p), "%s/sys/fs/cgroup/memory/x", root);
	cr_expect(stat(p, &st) < 0 && errno == ENOENT, "memory/x left behind");
	snprintf(p, sizeof(p), "%s/sys/fs/cgroup/pids/x/y", root);
	cr_expect(stat(p, &st) == 0, "pre-existing entries must stay");
	husk__cgroup_host_free(h);
}

Test(cgroup_fake, apply_writes_files_and_names_what_is_missing)
{
	struct husk_cgroup_host *h = hybrid_host();
	struct husk_cgroup *cg = NULL;
	struct husk_err err = {0};
	cr_assert(eq(int, husk__cgroup_create(h, "/t/c", &cg, &err), 0), "%s", err.msg);
	put("sys/fs/cgroup/memory/t/c/memory.limit_in_bytes", "");
	put("sys/fs/cgroup/memory/t/c/memory.swappiness", "");
	put("sys/fs/cgroup/cpu,cpuacct/t/c/cpu.shares", "");

	struct husk_resources res = {0};
	res.has_memory = true;
	res.memory.limit = (struct husk_opt_i64){true, 1 << 20};
	res.memory.swappiness = (struct husk_opt_u64){true, 0};
	res.has_cpu = true;
	res.cpu.shares = (struct husk_opt_u64){true, 256};
	cr_assert(eq(int, husk__cgroup_apply(cg, &res, &err), 0), "%s", err.msg);
	expect_file("sys/fs/cgroup/memory/t/c/memory.limit_in_bytes", "1048576");
	expect_file("sys/fs/cgroup/memory/t/c/memory.swappiness", "0");
	expect_file("sys/fs/cgroup/cpu,cpuacct/t/c/cpu.shares", "256");

	memset(&res, 0, sizeof(res));
	res.pids_limit = (struct husk_opt_i64){true, 5};
	cr_expect(eq(int, husk__cgroup_apply(cg, &res, &err), -EINVAL));
	cr_expect(strstr(err.msg, "pids.limit: not supported on this host (no pids.max") != NULL,
		  "%s", err.msg);
	put("sys/fs/cgroup/pids/t/c/pids.max", "");
	cr_assert(eq(int, husk__cgroup_apply(cg, &res, &err), 0), "%s", err.msg);
	expect_file("sys/fs/cgroup/pids/t/c/pids.max", "5");

	memset(&res, 0, sizeof(res));
	res.has_blkio = true;
	res.blkio.weight = (struct husk_opt_u64){true, 100};
	cr_expect(eq(int, husk__cgroup_apply(cg, &res, &err), -EINVAL));
	cr_expect(strstr(err.msg, "blkio controller is not available") != NULL, "%s", err.msg);

	/* A kernel that accepts a kmem limit but keeps the old value: reported, not ignored. */
	put("sys/fs/cgroup/memory/t/c/memory.kmem.limit_in_bytes", "");
	memset(&res, 0, sizeof(res));
	res.has_memory = true;
	res.memory.kernel = (struct husk_opt_i64){true, 1 << 20};
	cr_assert(eq(int, husk__cgroup_apply(cg, &res, &err), 0), "%s", err.msg);
	put("sys/fs/cgroup/memory/t/c/memory.kmem.limit_in_bytes", "9223372036854771712\n");
	cr_expect(eq(int, husk__cgroup_apply(cg, &res, &err), -EINVAL));
	cr_expect(strstr(err.msg, "memory.kernel: not supported by this kernel") != NULL, "%s",
		  err.msg);
	husk__cgroup_free(cg);
	husk__cgroup_host_free(h);
}

Test(cgroup_fake, pids_cover_nested_cgroups)
{
	struct husk_cgroup_host *h = hybrid_host();
	struct husk_cgroup *cg = NULL;
	struct husk_err err = {0};
	cr_assert(eq(int, husk__cgroup_create(h, "/t/c", &cg, &err), 0), "%s", err.msg);
	mkdir_p("sys/fs/cgroup/pids/t/c/sub/deeper");
	put("sys/fs/cgroup/pids/t/c/cgroup.procs", "10\n20\n");
	put("sys/fs/cgroup/pids/t/c/sub/cgroup.procs", "20\n30\n");
	put("sys/fs/cgroup/pids/t/c/sub/deeper/cgroup.procs", "5\n");

	pid_t *pids = NULL;
	size_t n = 0;
	cr_assert(eq(int, husk__cgroup_pids(cg, &pids, &n, &err), 0), "%s", err.msg);
	cr_assert(eq(sz, n, 4));
	cr_expect(eq(int, pids[0], 5));
	cr_expect(eq(int, pids[1], 10));
	cr_expect(eq(int, pids[2], 20));
	cr_expect(eq(int, pids[3], 30));
	free(pids);
	husk__cgroup_free(cg);
	husk__cgroup_host_free(h);
}

Test(cgroup_fake, v1_freezer_states)
{
	struct husk_cgroup_host *h = hybrid_host();
	struct husk_cgroup *cg = NULL;
	struct husk_err err = {0};
	bool frozen = true;
	cr_assert(eq(int, husk__cgroup_create(h, "/t/f", &cg, &err), 0), "%s", err.msg);
	put("sys/fs/cgroup/freezer/t/f/freezer.state", "THAWED\n");
	cr_assert(eq(int, husk__cgroup_is_frozen(cg, &frozen, &err), 0), "%s", err.msg);
	cr_expect(not(frozen));
	cr_assert(eq(int, husk__cgroup_freeze(cg, true, 1000, &err), 0), "%s", err.msg);
	expect_file("sys/fs/cgroup/freezer/t/f/freezer.state", "FROZEN\n");
	cr_assert(eq(int, husk__cgroup_is_frozen(cg, &frozen, &err), 0));
	cr_expect(frozen);
	cr_assert(eq(int, husk__cgroup_freeze(cg, false, 1000, &err), 0), "%s", err.msg);
	expect_file("sys/fs/cgroup/freezer/t/f/freezer.state", "THAWED\n");
	husk__cgroup_free(cg);
	husk__cgroup_host_free(h);
}

Test(cgroup_fake, v1_stats_and_oom_counter)
{
	struct husk_cgroup_host *h = hybrid_host();
	struct husk_cgroup *cg = NULL;
	struct husk_err err = {0};
	cr_assert(eq(int, husk__cgroup_create(h, "/t/s", &cg, &err), 0), "%s", err.msg);
	put("sys/fs/cgroup/cpu,cpuacct/t/s/cpuacct.usage", "123456789\n");
	put("sys/fs/cgroup/cpu,cpuacct/t/s/cpuacct.usage_user", "100000000\n");
	put("sys/fs/cgroup/cpu,cpuacct/t/s/cpuacct.usage_sys", "23456789\n");
	put("sys/fs/cgroup/cpu,cpuacct/t/s/cpuacct.usage_percpu", "100 200 \n");
	put("sys/fs/cgroup/cpu,cpuacct/t/s/cpu.stat",
	    "nr_periods 4\nnr_throttled 1\nthrottled_time 9\n");
	put("sys/fs/cgroup/memory/t/s/memory.stat",
	    "cache 4096\nrss 8192\ntotal_inactive_file 12\n");
	put("sys/fs/cgroup/memory/t/s/memory.usage_in_bytes", "16384\n");
	put("sys/fs/cgroup/memory/t/s/memory.limit_in_bytes", "1048576\n");
	put("sys/fs/cgroup/memory/t/s/memory.max_usage_in_bytes", "20000\n");
	put("sys/fs/cgroup/memory/t/s/memory.failcnt", "2\n");
	put("sys/fs/cgroup/memory/t/s/memory.memsw.usage_in_bytes", "16384\n");
	put("sys/fs/cgroup/memory/t/s/memory.oom_control",
	    "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n");
	put("sys/fs/cgroup/pids/t/s/pids.current", "3\n");
	put("sys/fs/cgroup/pids/t/s/pids.max", "max\n");

	struct husk_cgroup_stats *s = calloc(1, sizeof(*s));
	cr_assert(eq(int, husk__cgroup_stats(cg, s, &err), 0), "%s", err.msg);
	cr_expect(eq(int, s->mode, HUSK_CGROUP_STATS_V1));
	cr_expect(s->pids.present);
	cr_expect(eq(u64, s->pids.current, 3));
	cr_expect(eq(u64, s->pids.limit, UINT64_MAX));
	cr_expect(s->cpu.present);
	cr_expect(eq(u64, s->cpu.usage_total_ns, 123456789));
	cr_expect(eq(u64, s->cpu.usage_user_ns, 100000000));
	cr_expect(eq(u64, s->cpu.usage_kernel_ns, 23456789));
	cr_expect(eq(u32, s->cpu.n_per_cpu, 2));
	cr_expect(eq(u64, s->cpu.nr_throttled, 1));
	cr_expect(s->memory.present);
	cr_expect(eq(u64, s->memory.cache, 4096));
	cr_expect(eq(u64, s->memory.usage.usage, 16384));
	cr_expect(eq(u64, s->memory.usage.limit, 1048576));
	cr_expect(eq(u64, s->memory.usage.max, 20000));
	cr_expect(eq(u64, s->memory.usage.failcnt, 2));
	cr_expect(s->memory.swap.present);
	cr_expect(not(s->memory.kernel.present));
	cr_expect(eq(u64, s->memory.v1.total_inactive_file, 12));
	cr_expect(not(s->blkio.present));
	free(s);

	bool oom = true;
	cr_assert(eq(int, husk__cgroup_oom_check(cg, &oom, &err), 0), "%s", err.msg);
	cr_expect(not(oom));
	put("sys/fs/cgroup/memory/t/s/memory.oom_control",
	    "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
	cr_assert(eq(int, husk__cgroup_oom_check(cg, &oom, &err), 0));
	cr_expect(oom, "counter grew");
	cr_assert(eq(int, husk__cgroup_oom_check(cg, &oom, &err), 0));
	cr_expect(not(oom), "reported once");
	husk__cgroup_free(cg);
	husk__cgroup_host_free(h);
}

static struct husk_cgroup_host *v2_host(void)
{
	mkdir_p("cg2");
	put("cg2/cgroup.controllers", "cpuset cpu io memory hugetlb pids\n");
	put("cg2/cgroup.subtree_control", "");
	char mi[256];
	snprintf(mi, sizeof(mi), "1 0 0:1 / /cg2 rw - cgroup2 cgroup2 rw\n");
	struct husk_cgroup_host *h = NULL;
	struct husk_err err = {0};
	cr_assert(eq(int, husk__cgroup_host_open(mi, strlen(mi), root, &h, &err), 0), "%s",
		  err.msg);
	return h;
}

Test(cgroup_fake, v2_delegation_apply_freeze_stats)
{
	struct husk_cgroup_host *h = v2_host();
	struct husk_cgroup *cg = NULL;
	struct husk_err err = {0};
	cr_assert(eq(int, husk__cgroup_create(h, "/k/c", &cg, &err), 0), "%s", err.msg);
	cr_expect(husk__cgroup_clone_fd(cg) >= 0);
	/* Each controller is delegated with its own write, the last one being "+pids" (a
	 * regular file keeps the bytes of every write over each other). */
	char *sc = get("cg2/cgroup.subtree_control");
	cr_expect(strncmp(sc, "+pids", 5) == 0, "%s", sc);
	free(sc);

	put("cg2/k/c/cgroup.controllers", "cpu memory pids\n");
	put("cg2/k/c/memory.max", "");
	put("cg2/k/c/cpu.weight", "");
	struct husk_resources res = {0};
	res.has_memory = true;
	res.memory.limit = (struct husk_opt_i64){true, 4 << 20};
	res.has_cpu = true;
	res.cpu.shares = (struct husk_opt_u64){true, 1024};
	cr_assert(eq(int, husk__cgroup_apply(cg, &res, &err), 0), "%s", err.msg);
	expect_file("cg2/k/c/memory.max", "4194304");
	expect_file("cg2/k/c/cpu.weight", "39");
	res.has_cpu = false;
	res.has_memory = false;
	res.has_blkio = true;
	res.blkio.weight = (struct husk_opt_u64){true, 100};
	cr_expect(eq(int, husk__cgroup_apply(cg, &res, &err), -EINVAL), "io not delegated here");
	cr_expect(strstr(err.msg, "the io controller") != NULL, "%s", err.msg);

	put("cg2/k/c/cgroup.freeze", "");
	put("cg2/k/c/cgroup.events", "populated 1\nfrozen 1\n");
	cr_assert(eq(int, husk__cgroup_freeze(cg, true, 1000, &err), 0), "%s", err.msg);
	expect_file("cg2/k/c/cgroup.freeze", "1");
	cr_expect(husk__cgroup_freeze(cg, false, 50, &err) < 0, "events still say frozen");
	cr_expect(eq(int, err.errnum, ETIMEDOUT));

	put("cg2/k/c/cpu.stat", "usage_usec 5\nuser_usec 3\nsystem_usec 2\n");
	put("cg2/k/c/memory.stat", "anon 100\nfile 200\ninactive_file 50\n");
	put("cg2/k/c/memory.current", "300\n");
	put("cg2/k/c/memory.max", "max\n");
	put("cg2/k/c/memory.events", "low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n");
	put("cg2/k/c/pids.current", "2\n");
	put("cg2/k/c/pids.max", "10\n");
	put("cg2/k/c/io.stat", "8:0 rbytes=1 wbytes=2 rios=3 wios=4\n");
	put("cg2/k/c/memory.pressure", "some avg10=1.00 avg60=0.00 avg300=0.00 total=10\n");
	put("cg2/k/c/hugetlb.2MB.current", "0\n");
	put("cg2/k/c/hugetlb.2MB.max", "max\n");
	struct husk_cgroup_stats *s = calloc(1, sizeof(*s));
	cr_assert(eq(int, husk__cgroup_stats(cg, s, &err), 0), "%s", err.msg);
	cr_expect(eq(int, s->mode, HUSK_CGROUP_STATS_V2));
	cr_expect(eq(u64, s->cpu.usage_total_ns, 5000));
	cr_expect(eq(u64, s->cpu.usage_user_ns, 3000));
	cr_expect(eq(u64, s->memory.rss, 100));
	cr_expect(eq(u64, s->memory.v2.inactive_file, 50));
	cr_expect(eq(u64, s->memory.usage.usage, 300));
	cr_expect(eq(u64, s->memory.usage.limit, UINT64_MAX));
	cr_expect(eq(u64, s->memory.events_max, 4));
	cr_expect(eq(u64, s->memory.oom_kill, 1));
	cr_expect(s->memory.psi.present);
	cr_expect(not(s->cpu.psi.present));
	cr_expect(eq(u64, s->pids.limit, 10));
	cr_expect(eq(u32, s->io.n_entries, 1));
	cr_expect(eq(u64, s->io.entries[0].wios, 4));
	cr_expect(eq(u32, s->n_hugetlb, 1));
	cr_expect(eq(str, s->hugetlb[0].pagesize, "2MB"));
	cr_expect(eq(u64, s->hugetlb[0].limit, UINT64_MAX));
	free(s);

	bool oom = true;
	cr_assert(eq(int, husk__cgroup_oom_check(cg, &oom, &err), 0), "%s", err.msg);
	cr_expect(oom, "the baseline was 0 when the cgroup was created");
	put("cg2/k/c/memory.events", "low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n");
	cr_assert(eq(int, husk__cgroup_oom_check(cg, &oom, &err), 0));
	cr_expect(not(oom));
	husk__cgroup_free(cg);
	husk__cgroup_host_free(h);
}
