/* Parsers of cgroup files, fed with contents captured from real v1 and v2 cgroups. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "cgroup.h"
#include "husk/err.h"

/* memory.stat of a v1 cgroup on this project's machine (kernel 6.18), trimmed. */
static const char v1_memory_stat[] = "cache 12025856\n"
				     "rss 7294976\n"
				     "rss_huge 2097152\n"
				     "shmem 0\n"
				     "mapped_file 1234\n"
				     "dirty 8192\n"
				     "writeback 0\n"
				     "workingset_refault_anon 0\n"
				     "swap 0\n"
				     "pgpgin 77\n"
				     "pgpgout 66\n"
				     "pgfault 1000\n"
				     "pgmajfault 3\n"
				     "inactive_anon 4096\n"
				     "active_anon 7290880\n"
				     "inactive_file 11000000\n"
				     "active_file 1025856\n"
				     "unevictable 0\n"
				     "hierarchical_memory_limit 9223372036854771712\n"
				     "hierarchical_memsw_limit 9223372036854771712\n"
				     "total_cache 12025856\n"
				     "total_rss 7294976\n"
				     "total_pgfault 2000\n"
				     "total_pgmajfault 5\n"
				     "total_inactive_file 11000000\n"
				     "total_unevictable 0\n";

Test(cgroup_parse, v1_memory_stat)
{
	struct husk_cgroup_memory_stats m;
	struct husk_err err = {0};
	memset(&m, 0, sizeof(m));
	cr_assert(eq(
		int,
		husk__cgroup_parse_v1_memory_stat(v1_memory_stat, strlen(v1_memory_stat), &m, &err),
		0));
	cr_expect(eq(u64, m.v1.cache, 12025856));
	cr_expect(eq(u64, m.v1.rss, 7294976));
	cr_expect(eq(u64, m.v1.rss_huge, 2097152));
	cr_expect(eq(u64, m.v1.mapped_file, 1234));
	cr_expect(eq(u64, m.v1.dirty, 8192));
	cr_expect(eq(u64, m.v1.pgpgin, 77));
	cr_expect(eq(u64, m.v1.pgpgout, 66));
	cr_expect(eq(u64, m.v1.pgfault, 1000));
	cr_expect(eq(u64, m.v1.pgmajfault, 3));
	cr_expect(eq(u64, m.v1.active_anon, 7290880));
	cr_expect(eq(u64, m.v1.inactive_file, 11000000));
	cr_expect(eq(u64, m.v1.hierarchical_memory_limit, 9223372036854771712ull));
	cr_expect(eq(u64, m.v1.hierarchical_memsw_limit, 9223372036854771712ull));
	cr_expect(eq(u64, m.v1.total_rss, 7294976));
	cr_expect(eq(u64, m.v1.total_pgfault, 2000));
	cr_expect(eq(u64, m.v1.total_pgmajfault, 5));
	cr_expect(eq(u64, m.v1.total_inactive_file, 11000000));
	cr_expect(eq(u64, m.cache, 12025856));
	cr_expect(eq(u64, m.rss, 7294976));
}

Test(cgroup_parse, malformed_value_names_the_key)
{
	struct husk_cgroup_memory_stats m;
	struct husk_err err = {0};
	memset(&m, 0, sizeof(m));
	const char bad[] = "cache 12\nrss 7x\n";
	cr_assert(eq(int, husk__cgroup_parse_v1_memory_stat(bad, strlen(bad), &m, &err), -EINVAL));
	cr_expect(eq(int, err.kind, HUSK_ERR_INVALID));
	cr_expect(strstr(err.msg, "'rss'") != NULL, "%s", err.msg);
	const char missing[] = "cache\n";
	cr_expect(eq(int, husk__cgroup_parse_v1_memory_stat(missing, strlen(missing), &m, &err),
		     -EINVAL));
	/* Not NUL-terminated: the length bounds the parse. */
	const char cut[] = "cache 1234";
	memset(&m, 0, sizeof(m));
	cr_assert(eq(int, husk__cgroup_parse_v1_memory_stat(cut, 8, &m, &err), 0));
	cr_expect(eq(u64, m.v1.cache, 12));
}

/* memory.stat of a v2 cgroup (kernel 6.x layout). */
static const char v2_memory_stat[] = "anon 1048576\n"
				     "file 2097152\n"
				     "kernel 409600\n"
				     "kernel_stack 65536\n"
				     "pagetables 40960\n"
				     "sock 0\n"
				     "shmem 4096\n"
				     "file_mapped 8192\n"
				     "file_dirty 12288\n"
				     "file_writeback 0\n"
				     "anon_thp 0\n"
				     "inactive_anon 1000\n"
				     "active_anon 2000\n"
				     "inactive_file 3000\n"
				     "active_file 4000\n"
				     "unevictable 0\n"
				     "slab_reclaimable 5000\n"
				     "slab_unreclaimable 6000\n"
				     "slab 11000\n"
				     "workingset_refault_anon 7\n"
				     "workingset_refault_file 8\n"
				     "workingset_activate_anon 9\n"
				     "workingset_activate_file 10\n"
				     "workingset_nodereclaim 11\n"
				     "pgfault 12345\n"
				     "pgmajfault 12\n"
				     "pgrefill 13\n"
				     "pgscan 14\n"
				     "pgsteal 15\n"
				     "pgactivate 16\n"
				     "pgdeactivate 17\n"
				     "pglazyfree 18\n"
				     "pglazyfreed 19\n"
				     "thp_fault_alloc 20\n"
				     "thp_collapse_alloc 21\n";

Test(cgroup_parse, v2_memory_stat)
{
	struct husk_cgroup_memory_stats m;
	struct husk_err err = {0};
	memset(&m, 0, sizeof(m));
	cr_assert(eq(
		int,
		husk__cgroup_parse_v2_memory_stat(v2_memory_stat, strlen(v2_memory_stat), &m, &err),
		0));
	cr_expect(eq(u64, m.v2.anon, 1048576));
	cr_expect(eq(u64, m.v2.file, 2097152));
	cr_expect(eq(u64, m.v2.kernel_stack, 65536));
	cr_expect(eq(u64, m.v2.slab, 11000));
	cr_expect(eq(u64, m.v2.shmem, 4096));
	cr_expect(eq(u64, m.v2.file_mapped, 8192));
	cr_expect(eq(u64, m.v2.file_dirty, 12288));
	cr_expect(eq(u64, m.v2.inactive_file, 3000));
	cr_expect(eq(u64, m.v2.slab_unreclaimable, 6000));
	cr_expect(eq(u64, m.v2.workingset_refault_anon, 7));
	cr_expect(eq(u64, m.v2.workingset_activate_file, 10));
	cr_expect(eq(u64, m.v2.workingset_nodereclaim, 11));
	cr_expect(eq(u64, m.v2.pgfault, 12345));
	cr_expect(eq(u64, m.v2.pgmajfault, 12));
	cr_expect(eq(u64, m.v2.pglazyfreed, 19));
	cr_expect(eq(u64, m.v2.thp_collapse_alloc, 21));
	cr_expect(eq(u64, m.rss, 1048576));
	cr_expect(eq(u64, m.cache, 2097152));
}

Test(cgroup_parse, oom_control_and_memory_events)
{
	struct husk_cgroup_memory_stats m;
	struct husk_err err = {0};
	memset(&m, 0, sizeof(m));
	const char oc[] = "oom_kill_disable 0\nunder_oom 1\noom_kill 3\n";
	cr_assert(eq(int, husk__cgroup_parse_oom_control(oc, strlen(oc), &m, &err), 0));
	cr_expect(eq(u64, m.under_oom, 1));
	cr_expect(eq(u64, m.oom_kill, 3));
	const char ev[] = "low 1\nhigh 2\nmax 3\noom 4\noom_kill 5\noom_group_kill 0\n";
	cr_assert(eq(int, husk__cgroup_parse_memory_events(ev, strlen(ev), &m, &err), 0));
	cr_expect(eq(u64, m.events_low, 1));
	cr_expect(eq(u64, m.events_high, 2));
	cr_expect(eq(u64, m.events_max, 3));
	cr_expect(eq(u64, m.events_oom, 4));
	cr_expect(eq(u64, m.oom_kill, 5), "oom_group_kill must not be taken for oom_kill");
}

Test(cgroup_parse, cpuacct_percpu_and_stat)
{
	struct husk_cgroup_cpu_stats c;
	struct husk_err err = {0};
	uint32_t trunc = 0;
	memset(&c, 0, sizeof(c));
	const char pc[] = "489873661016 540948386907 \n";
	cr_assert(eq(int, husk__cgroup_parse_percpu(pc, strlen(pc), &c, &trunc, &err), 0));
	cr_expect(eq(u32, c.n_per_cpu, 2));
	cr_expect(eq(u64, c.per_cpu_ns[0], 489873661016ull));
	cr_expect(eq(u64, c.per_cpu_ns[1], 540948386907ull));
	cr_expect(eq(u32, trunc, 0));
	const char st[] = "user 62655\nsystem 40428\n";
	cr_assert(eq(int, husk__cgroup_parse_cpuacct_stat(st, strlen(st), 100, &c, &err), 0));
	cr_expect(eq(u64, c.usage_user_ns, 626550000000ull));
	cr_expect(eq(u64, c.usage_kernel_ns, 404280000000ull));
	cr_expect(eq(int, husk__cgroup_parse_cpuacct_stat(st, strlen(st), 0, &c, &err), -EINVAL));
}

Test(cgroup_parse, percpu_truncates_and_counts)
{
	struct husk_cgroup_cpu_stats *c = calloc(1, sizeof(*c));
	struct husk_err err = {0};
	uint32_t trunc = 0;
	size_t cap = (HUSK_CGROUP_STATS_MAX_CPUS + 3) * 2 + 1;
	char *buf = calloc(1, cap);
	for (size_t i = 0; i < HUSK_CGROUP_STATS_MAX_CPUS + 3; i++)
		strcat(buf, "1 ");
	cr_assert(eq(int, husk__cgroup_parse_percpu(buf, strlen(buf), c, &trunc, &err), 0));
	cr_expect(eq(u32, c->n_per_cpu, HUSK_CGROUP_STATS_MAX_CPUS));
	cr_expect(eq(u32, trunc, 3));
	free(buf);
	free(c);
}

Test(cgroup_parse, cpu_stat_v1_and_v2)
{
	struct husk_cgroup_cpu_stats c;
	struct husk_err err = {0};
	memset(&c, 0, sizeof(c));
	const char v1[] = "nr_periods 10\nnr_throttled 2\nthrottled_time 3000\nnr_bursts 0\n"
			  "burst_time 0\n";
	cr_assert(eq(int, husk__cgroup_parse_cpu_stat(v1, strlen(v1), false, &c, &err), 0));
	cr_expect(eq(u64, c.nr_periods, 10));
	cr_expect(eq(u64, c.nr_throttled, 2));
	cr_expect(eq(u64, c.throttled_time_ns, 3000));

	memset(&c, 0, sizeof(c));
	/* v2 cpu.stat of the unified root on this machine, plus throttling lines. */
	const char v2[] = "usage_usec 1027328000\nuser_usec 624420000\nsystem_usec 402908000\n"
			  "nice_usec 0\nnr_periods 5\nnr_throttled 1\nthrottled_usec 7\n"
			  "nr_bursts 2\nburst_usec 3\n";
	cr_assert(eq(int, husk__cgroup_parse_cpu_stat(v2, strlen(v2), true, &c, &err), 0));
	cr_expect(eq(u64, c.usage_total_ns, 1027328000000ull));
	cr_expect(eq(u64, c.usage_user_ns, 624420000000ull));
	cr_expect(eq(u64, c.usage_kernel_ns, 402908000000ull));
	cr_expect(eq(u64, c.nr_periods, 5));
	cr_expect(eq(u64, c.nr_throttled, 1));
	cr_expect(eq(u64, c.throttled_time_ns, 7000));
	cr_expect(eq(u64, c.nr_bursts, 2));
	cr_expect(eq(u64, c.burst_ns, 3000));
}

Test(cgroup_parse, blkio_recursive)
{
	struct husk_cgroup_blkio_entry e[4];
	struct husk_err err = {0};
	uint32_t n = 0;
	uint32_t trunc = 0;
	struct husk_cgroup_blkio_out out = {e, 4, &n, &trunc};
	const char buf[] = "8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 12288\n8:16 Read 1\n"
			   "8:16 Write 2\nTotal 12291\n";
	cr_assert(eq(int, husk__cgroup_parse_blkio(buf, strlen(buf), &out, &err), 0));
	cr_expect(eq(u32, n, 4));
	cr_expect(eq(u32, trunc, 2));
	cr_expect(eq(str, e[0].op, "Read"));
	cr_expect(eq(u64, e[0].major, 8));
	cr_expect(eq(u64, e[0].minor, 0));
	cr_expect(eq(u64, e[0].value, 4096));
	cr_expect(eq(u64, e[3].minor, 16));

	/* This machine's blkio.throttle.io_service_bytes_recursive of an idle cgroup. */
	const char idle[] = "Total 0\n";
	cr_assert(eq(int, husk__cgroup_parse_blkio(idle, strlen(idle), &out, &err), 0));
	cr_expect(eq(u32, n, 1));
	cr_expect(eq(str, e[0].op, "Total"));

	const char sectors[] = "8:0 96\n";
	cr_assert(eq(int, husk__cgroup_parse_blkio(sectors, strlen(sectors), &out, &err), 0));
	cr_expect(eq(u64, e[0].value, 96));
	cr_expect(eq(str, e[0].op, ""));

	const char bad[] = "8:x Read 1\n";
	cr_expect(eq(int, husk__cgroup_parse_blkio(bad, strlen(bad), &out, &err), -EINVAL));
	const char bad2[] = "8:0 Read 1 2 3\n";
	cr_expect(eq(int, husk__cgroup_parse_blkio(bad2, strlen(bad2), &out, &err), -EINVAL));
}

Test(cgroup_parse, io_stat)
{
	struct husk_cgroup_io_stats *io = calloc(1, sizeof(*io));
	struct husk_err err = {0};
	uint32_t trunc = 0;
	const char buf[] =
		"8:16 rbytes=1459200 wbytes=314773504 rios=192 wios=353 dbytes=0 dios=0\n"
		"8:0 rbytes=90430464 wbytes=299008000 rios=8950 wios=1252 dbytes=50331648 "
		"dios=3021\n";
	cr_assert(eq(int, husk__cgroup_parse_io_stat(buf, strlen(buf), io, &trunc, &err), 0));
	cr_expect(eq(u32, io->n_entries, 2));
	cr_expect(eq(u64, io->entries[0].major, 8));
	cr_expect(eq(u64, io->entries[0].minor, 16));
	cr_expect(eq(u64, io->entries[0].rbytes, 1459200));
	cr_expect(eq(u64, io->entries[0].wbytes, 314773504));
	cr_expect(eq(u64, io->entries[0].rios, 192));
	cr_expect(eq(u64, io->entries[0].wios, 353));
	cr_expect(eq(u64, io->entries[1].rios, 8950));
	const char bad[] = "8:0 rbytes\n";
	cr_expect(eq(int, husk__cgroup_parse_io_stat(bad, strlen(bad), io, &trunc, &err), -EINVAL));
	free(io);
}

Test(cgroup_parse, psi)
{
	struct husk_cgroup_psi psi;
	struct husk_err err = {0};
	/* cpu.pressure and io.pressure of this machine's unified root. */
	const char cpu[] = "some avg10=26.02 avg60=20.40 avg300=21.16 total=176465972\n"
			   "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n";
	cr_assert(eq(int, husk__cgroup_parse_psi(cpu, strlen(cpu), &psi, &err), 0));
	cr_expect(psi.present);
	cr_expect(psi.some.avg10 > 26.01 && psi.some.avg10 < 26.03);
	cr_expect(psi.some.avg300 > 21.15 && psi.some.avg300 < 21.17);
	cr_expect(eq(u64, psi.some.total_ns, 176465972000ull));
	cr_expect(eq(u64, psi.full.total_ns, 0));
	const char io[] = "some avg10=0.02 avg60=0.08 avg300=0.15 total=6937935\n"
			  "full avg10=0.02 avg60=0.05 avg300=0.09 total=5693035\n";
	cr_assert(eq(int, husk__cgroup_parse_psi(io, strlen(io), &psi, &err), 0));
	cr_expect(psi.full.avg60 > 0.04 && psi.full.avg60 < 0.06);
	cr_expect(eq(u64, psi.full.total_ns, 5693035000ull));
	const char bad[] = "some avg10=x total=1\n";
	cr_expect(eq(int, husk__cgroup_parse_psi(bad, strlen(bad), &psi, &err), -EINVAL));
}

Test(cgroup_parse, u64_and_keyed)
{
	uint64_t v = 0;
	cr_expect(eq(int, husk__cgroup_parse_u64("max\n", 4, &v), 0));
	cr_expect(eq(u64, v, UINT64_MAX));
	cr_expect(eq(int, husk__cgroup_parse_u64("-1\n", 3, &v), 0));
	cr_expect(eq(u64, v, UINT64_MAX));
	cr_expect(eq(int, husk__cgroup_parse_u64("9223372036854771712\n", 20, &v), 0));
	cr_expect(eq(u64, v, 9223372036854771712ull));
	cr_expect(eq(int, husk__cgroup_parse_u64("18446744073709551616", 20, &v), -ERANGE));
	cr_expect(eq(int, husk__cgroup_parse_u64("", 0, &v), -EINVAL));
	cr_expect(eq(int, husk__cgroup_parse_u64("12a", 3, &v), -EINVAL));
	const char ev[] = "populated 1\nfrozen 0\n";
	cr_expect(eq(int, husk__cgroup_parse_keyed(ev, strlen(ev), "frozen", &v), 0));
	cr_expect(eq(u64, v, 0));
	cr_expect(eq(int, husk__cgroup_parse_keyed(ev, strlen(ev), "froze", &v), -ENOENT));
}
