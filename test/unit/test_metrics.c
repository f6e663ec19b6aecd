/* Cgroup statistics → containerd's v1/v2 Metrics: every group lands in its field. */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "cgroups/v1/metrics.pb-c.h"
#include "cgroups/v2/metrics.pb-c.h"
#include "husk/cgroup.h"
#include "husk/err.h"
#include "metrics.h"

static struct husk_cgroup_stats *st;

static void setup(void)
{
	st = calloc(1, sizeof(*st));
	cr_assert(st != NULL);
}

static void teardown(void)
{
	free(st);
}

TestSuite(metrics, .init = setup, .fini = teardown, .timeout = 30);

Test(metrics, no_cgroup_is_not_found)
{
	struct husk_err err = {0};
	const char *type = NULL;
	uint8_t *data = NULL;
	size_t len = 0;

	cr_assert(lt(int, shim_metrics_pack(st, &type, &data, &len, &err), 0));
	cr_assert(eq(int, err.kind, HUSK_ERR_NOT_FOUND));
	cr_assert(eq(ptr, data, NULL));
}

Test(metrics, v1_fields)
{
	struct husk_err err = {0};
	const char *type = NULL;
	uint8_t *data = NULL;
	size_t len = 0;

	st->mode = HUSK_CGROUP_STATS_V1;
	st->pids =
		(struct husk_cgroup_pids_stats){.present = true, .current = 3, .limit = UINT64_MAX};
	st->cpu.present = true;
	st->cpu.usage_total_ns = 123456789;
	st->cpu.usage_kernel_ns = 1000;
	st->cpu.usage_user_ns = 2000;
	st->cpu.n_per_cpu = 2;
	st->cpu.per_cpu_ns[0] = 100;
	st->cpu.per_cpu_ns[1] = 200;
	st->cpu.nr_throttled = 7;
	st->memory.present = true;
	st->memory.usage = (struct husk_cgroup_mem_entry){
		.present = true, .limit = 1 << 20, .usage = 4096, .max = 8192, .failcnt = 1};
	st->memory.v1.cache = 11;
	st->memory.v1.total_inactive_file = 12;
	st->memory.v1.total_pgmajfault = 13;
	st->memory.oom_kill = 2;
	st->blkio.present = true;
	st->blkio.n_entries[HUSK_BLKIO_IO_SERVICE_BYTES] = 1;
	st->blkio.entries[HUSK_BLKIO_IO_SERVICE_BYTES][0] = (struct husk_cgroup_blkio_entry){
		.op = "Read", .major = 8, .minor = 0, .value = 4096};
	st->n_hugetlb = 1;
	st->hugetlb[0] = (struct husk_cgroup_hugetlb_entry){
		.pagesize = "2MB", .usage = 5, .max = 6, .limit = 7, .failcnt = 8};

	cr_assert(eq(int, shim_metrics_pack(st, &type, &data, &len, &err), 0), "%s", err.msg);
	cr_assert(eq(str, (char *)type, "io.containerd.cgroups.v1.Metrics"));
	Io__Containerd__Cgroups__V1__Metrics *m =
		io__containerd__cgroups__v1__metrics__unpack(NULL, len, data);
	cr_assert(m != NULL);
	cr_assert(eq(u64, m->pids->current, 3));
	cr_assert(eq(u64, m->pids->limit, 0), "no limit is 0 on v1, as runc reports it");
	cr_assert(eq(u64, m->cpu->usage->total, 123456789));
	cr_assert(eq(u64, m->cpu->usage->kernel, 1000));
	cr_assert(eq(u64, m->cpu->usage->user, 2000));
	cr_assert(eq(sz, m->cpu->usage->n_per_cpu, 2));
	cr_assert(eq(u64, m->cpu->usage->per_cpu[1], 200));
	cr_assert(eq(u64, m->cpu->throttling->throttled_periods, 7));
	cr_assert(eq(u64, m->memory->usage->limit, 1 << 20));
	cr_assert(eq(u64, m->memory->usage->usage, 4096));
	cr_assert(eq(u64, m->memory->usage->max, 8192));
	cr_assert(eq(u64, m->memory->usage->failcnt, 1));
	cr_assert(eq(u64, m->memory->cache, 11));
	cr_assert(eq(u64, m->memory->total_inactive_file, 12));
	cr_assert(eq(u64, m->memory->total_pg_maj_fault, 13));
	cr_assert(eq(u64, m->memory_oom_control->oom_kill, 2));
	cr_assert(eq(sz, m->blkio->n_io_service_bytes_recursive, 1));
	cr_assert(eq(str, m->blkio->io_service_bytes_recursive[0]->op, "Read"));
	cr_assert(eq(u64, m->blkio->io_service_bytes_recursive[0]->major, 8));
	cr_assert(eq(u64, m->blkio->io_service_bytes_recursive[0]->value, 4096));
	cr_assert(eq(sz, m->blkio->n_sectors_recursive, 0));
	cr_assert(eq(sz, m->n_hugetlb, 1));
	cr_assert(eq(str, m->hugetlb[0]->pagesize, "2MB"));
	cr_assert(eq(u64, m->hugetlb[0]->failcnt, 8));
	io__containerd__cgroups__v1__metrics__free_unpacked(m, NULL);
	free(data);
}

Test(metrics, v2_fields_in_microseconds)
{
	struct husk_err err = {0};
	const char *type = NULL;
	uint8_t *data = NULL;
	size_t len = 0;

	st->mode = HUSK_CGROUP_STATS_V2;
	st->pids =
		(struct husk_cgroup_pids_stats){.present = true, .current = 1, .limit = UINT64_MAX};
	st->cpu.present = true;
	st->cpu.usage_total_ns = 5000000;
	st->cpu.usage_user_ns = 3000000;
	st->cpu.usage_kernel_ns = 2000000;
	st->cpu.throttled_time_ns = 9000;
	st->cpu.psi.present = true;
	st->cpu.psi.some.avg10 = 1.5;
	st->cpu.psi.some.total_ns = 42000;
	st->memory.present = true;
	st->memory.usage.usage = 4096;
	st->memory.usage.limit = UINT64_MAX;
	st->memory.v2.anon = 100;
	st->memory.v2.inactive_file = 200;
	st->memory.oom_kill = 4;
	st->io.present = true;
	st->io.n_entries = 1;
	st->io.entries[0] = (struct husk_cgroup_io_entry){.major = 253, .rbytes = 10, .wios = 2};

	cr_assert(eq(int, shim_metrics_pack(st, &type, &data, &len, &err), 0), "%s", err.msg);
	cr_assert(eq(str, (char *)type, "io.containerd.cgroups.v2.Metrics"));
	Io__Containerd__Cgroups__V2__Metrics *m =
		io__containerd__cgroups__v2__metrics__unpack(NULL, len, data);
	cr_assert(m != NULL);
	cr_assert(eq(u64, m->pids->limit, UINT64_MAX));
	cr_assert(eq(u64, m->cpu->usage_usec, 5000));
	cr_assert(eq(u64, m->cpu->user_usec, 3000));
	cr_assert(eq(u64, m->cpu->system_usec, 2000));
	cr_assert(eq(u64, m->cpu->throttled_usec, 9));
	cr_assert(m->cpu->psi && m->cpu->psi->some);
	cr_assert(eq(dbl, m->cpu->psi->some->avg10, 1.5));
	cr_assert(eq(u64, m->cpu->psi->some->total, 42));
	cr_assert(eq(u64, m->memory->usage, 4096));
	cr_assert(eq(u64, m->memory->usage_limit, UINT64_MAX));
	cr_assert(eq(u64, m->memory->anon, 100));
	cr_assert(eq(u64, m->memory->inactive_file, 200));
	cr_assert(eq(ptr, m->memory->psi, NULL), "no memory.pressure: no psi");
	cr_assert(eq(u64, m->memory_events->oom_kill, 4));
	cr_assert(eq(sz, m->io->n_usage, 1));
	cr_assert(eq(u64, m->io->usage[0]->major, 253));
	cr_assert(eq(u64, m->io->usage[0]->rbytes, 10));
	cr_assert(eq(u64, m->io->usage[0]->wios, 2));
	io__containerd__cgroups__v2__metrics__free_unpacked(m, NULL);
	free(data);
}
