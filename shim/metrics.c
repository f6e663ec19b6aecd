#include "metrics.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cgroups/v1/metrics.pb-c.h"
#include "cgroups/v2/metrics.pb-c.h"
#include "husk/cgroup.h"
#include "husk/cleanup.h"
#include "husk/err.h"

/* Every sub-message of one v1 answer; lives for one pack. */
struct v1_msgs {
	Io__Containerd__Cgroups__V1__Metrics m;
	Io__Containerd__Cgroups__V1__PidsStat pids;
	Io__Containerd__Cgroups__V1__CPUStat cpu;
	Io__Containerd__Cgroups__V1__CPUUsage usage;
	Io__Containerd__Cgroups__V1__Throttle throttle;
	Io__Containerd__Cgroups__V1__MemoryStat mem;
	Io__Containerd__Cgroups__V1__MemoryEntry mem_usage, mem_swap, mem_kernel, mem_kernel_tcp;
	Io__Containerd__Cgroups__V1__MemoryOomControl oom;
	Io__Containerd__Cgroups__V1__BlkIOStat blkio;
	Io__Containerd__Cgroups__V1__BlkIOEntry entries[_HUSK_BLKIO_FILE_MAX]
						       [HUSK_CGROUP_STATS_MAX_BLKIO];
	Io__Containerd__Cgroups__V1__BlkIOEntry
		*entry_ptrs[_HUSK_BLKIO_FILE_MAX][HUSK_CGROUP_STATS_MAX_BLKIO];
	Io__Containerd__Cgroups__V1__HugetlbStat hugetlb[HUSK_CGROUP_STATS_MAX_HUGETLB];
	Io__Containerd__Cgroups__V1__HugetlbStat *hugetlb_ptrs[HUSK_CGROUP_STATS_MAX_HUGETLB];
	uint64_t per_cpu[HUSK_CGROUP_STATS_MAX_CPUS];
};

static void v1_entry(Io__Containerd__Cgroups__V1__MemoryEntry *e,
		     const struct husk_cgroup_mem_entry *src)
{
	*e = (Io__Containerd__Cgroups__V1__MemoryEntry)
		IO__CONTAINERD__CGROUPS__V1__MEMORY_ENTRY__INIT;
	e->limit = src->limit;
	e->usage = src->usage;
	e->max = src->max;
	e->failcnt = src->failcnt;
}

static void v1_memory(struct v1_msgs *v, const struct husk_cgroup_memory_stats *s)
{
	Io__Containerd__Cgroups__V1__MemoryStat *m = &v->mem;
	const struct husk_cgroup_v1_memory_stat *k = &s->v1;

	*m = (Io__Containerd__Cgroups__V1__MemoryStat)
		IO__CONTAINERD__CGROUPS__V1__MEMORY_STAT__INIT;
	m->cache = k->cache;
	m->rss = k->rss;
	m->rss_huge = k->rss_huge;
	m->mapped_file = k->mapped_file;
	m->dirty = k->dirty;
	m->writeback = k->writeback;
	m->pg_pg_in = k->pgpgin;
	m->pg_pg_out = k->pgpgout;
	m->pg_fault = k->pgfault;
	m->pg_maj_fault = k->pgmajfault;
	m->inactive_anon = k->inactive_anon;
	m->active_anon = k->active_anon;
	m->inactive_file = k->inactive_file;
	m->active_file = k->active_file;
	m->unevictable = k->unevictable;
	m->hierarchical_memory_limit = k->hierarchical_memory_limit;
	m->hierarchical_swap_limit = k->hierarchical_memsw_limit;
	m->total_cache = k->total_cache;
	m->total_rss = k->total_rss;
	m->total_rss_huge = k->total_rss_huge;
	m->total_mapped_file = k->total_mapped_file;
	m->total_dirty = k->total_dirty;
	m->total_writeback = k->total_writeback;
	m->total_pg_pg_in = k->total_pgpgin;
	m->total_pg_pg_out = k->total_pgpgout;
	m->total_pg_fault = k->total_pgfault;
	m->total_pg_maj_fault = k->total_pgmajfault;
	m->total_inactive_anon = k->total_inactive_anon;
	m->total_active_anon = k->total_active_anon;
	m->total_inactive_file = k->total_inactive_file;
	m->total_active_file = k->total_active_file;
	m->total_unevictable = k->total_unevictable;
	v1_entry(&v->mem_usage, &s->usage);
	v1_entry(&v->mem_swap, &s->swap);
	v1_entry(&v->mem_kernel, &s->kernel);
	v1_entry(&v->mem_kernel_tcp, &s->kernel_tcp);
	m->usage = &v->mem_usage;
	m->swap = &v->mem_swap;
	m->kernel = &v->mem_kernel;
	m->kernel_tcp = &v->mem_kernel_tcp;
	v->oom = (Io__Containerd__Cgroups__V1__MemoryOomControl)
		IO__CONTAINERD__CGROUPS__V1__MEMORY_OOM_CONTROL__INIT;
	v->oom.oom_kill_disable = s->oom_kill_disable;
	v->oom.under_oom = s->under_oom;
	v->oom.oom_kill = s->oom_kill;
	v->m.memory = m;
	v->m.memory_oom_control = &v->oom;
}

static void v1_cpu(struct v1_msgs *v, const struct husk_cgroup_cpu_stats *s)
{
	uint32_t n = s->n_per_cpu < HUSK_CGROUP_STATS_MAX_CPUS ? s->n_per_cpu
							       : HUSK_CGROUP_STATS_MAX_CPUS;

	v->usage =
		(Io__Containerd__Cgroups__V1__CPUUsage)IO__CONTAINERD__CGROUPS__V1__CPUUSAGE__INIT;
	v->usage.total = s->usage_total_ns;
	v->usage.kernel = s->usage_kernel_ns;
	v->usage.user = s->usage_user_ns;
	memcpy(v->per_cpu, s->per_cpu_ns, n * sizeof(v->per_cpu[0]));
	v->usage.n_per_cpu = n;
	v->usage.per_cpu = n ? v->per_cpu : NULL;
	v->throttle =
		(Io__Containerd__Cgroups__V1__Throttle)IO__CONTAINERD__CGROUPS__V1__THROTTLE__INIT;
	v->throttle.periods = s->nr_periods;
	v->throttle.throttled_periods = s->nr_throttled;
	v->throttle.throttled_time = s->throttled_time_ns;
	v->cpu = (Io__Containerd__Cgroups__V1__CPUStat)IO__CONTAINERD__CGROUPS__V1__CPUSTAT__INIT;
	v->cpu.usage = &v->usage;
	v->cpu.throttling = &v->throttle;
	v->m.cpu = &v->cpu;
}

static void v1_blkio(struct v1_msgs *v, const struct husk_cgroup_blkio_stats *s)
{
	size_t *counts[_HUSK_BLKIO_FILE_MAX] = {
		&v->blkio.n_io_service_bytes_recursive, &v->blkio.n_io_serviced_recursive,
		&v->blkio.n_io_queued_recursive,	&v->blkio.n_io_service_time_recursive,
		&v->blkio.n_io_wait_time_recursive,	&v->blkio.n_io_merged_recursive,
		&v->blkio.n_io_time_recursive,		&v->blkio.n_sectors_recursive,
	};
	Io__Containerd__Cgroups__V1__BlkIOEntry ***lists[_HUSK_BLKIO_FILE_MAX] = {
		&v->blkio.io_service_bytes_recursive, &v->blkio.io_serviced_recursive,
		&v->blkio.io_queued_recursive,	      &v->blkio.io_service_time_recursive,
		&v->blkio.io_wait_time_recursive,     &v->blkio.io_merged_recursive,
		&v->blkio.io_time_recursive,	      &v->blkio.sectors_recursive,
	};

	v->blkio = (Io__Containerd__Cgroups__V1__BlkIOStat)
		IO__CONTAINERD__CGROUPS__V1__BLK_IOSTAT__INIT;
	for (size_t f = 0; f < _HUSK_BLKIO_FILE_MAX; f++) {
		uint32_t n = s->n_entries[f] < HUSK_CGROUP_STATS_MAX_BLKIO
				     ? s->n_entries[f]
				     : HUSK_CGROUP_STATS_MAX_BLKIO;
		for (uint32_t i = 0; i < n; i++) {
			Io__Containerd__Cgroups__V1__BlkIOEntry *e = &v->entries[f][i];
			*e = (Io__Containerd__Cgroups__V1__BlkIOEntry)
				IO__CONTAINERD__CGROUPS__V1__BLK_IOENTRY__INIT;
			e->op = (char *)s->entries[f][i].op;
			e->major = s->entries[f][i].major;
			e->minor = s->entries[f][i].minor;
			e->value = s->entries[f][i].value;
			v->entry_ptrs[f][i] = e;
		}
		*counts[f] = n;
		*lists[f] = n ? v->entry_ptrs[f] : NULL;
	}
	v->m.blkio = &v->blkio;
}

static void v1_fill(struct v1_msgs *v, const struct husk_cgroup_stats *st)
{
	v->m = (Io__Containerd__Cgroups__V1__Metrics)IO__CONTAINERD__CGROUPS__V1__METRICS__INIT;
	if (st->pids.present) {
		v->pids = (Io__Containerd__Cgroups__V1__PidsStat)
			IO__CONTAINERD__CGROUPS__V1__PIDS_STAT__INIT;
		v->pids.current = st->pids.current;
		/* runc reports no limit ("max") as 0 on v1. */
		v->pids.limit = st->pids.limit == UINT64_MAX ? 0 : st->pids.limit;
		v->m.pids = &v->pids;
	}
	if (st->cpu.present)
		v1_cpu(v, &st->cpu);
	if (st->memory.present)
		v1_memory(v, &st->memory);
	if (st->blkio.present)
		v1_blkio(v, &st->blkio);
	uint32_t n = st->n_hugetlb < HUSK_CGROUP_STATS_MAX_HUGETLB ? st->n_hugetlb
								   : HUSK_CGROUP_STATS_MAX_HUGETLB;
	for (uint32_t i = 0; i < n; i++) {
		Io__Containerd__Cgroups__V1__HugetlbStat *h = &v->hugetlb[i];
		*h = (Io__Containerd__Cgroups__V1__HugetlbStat)
			IO__CONTAINERD__CGROUPS__V1__HUGETLB_STAT__INIT;
		h->usage = st->hugetlb[i].usage;
		h->max = st->hugetlb[i].max;
		h->failcnt = st->hugetlb[i].failcnt;
		h->pagesize = (char *)st->hugetlb[i].pagesize;
		v->hugetlb_ptrs[i] = h;
	}
	v->m.n_hugetlb = n;
	v->m.hugetlb = n ? v->hugetlb_ptrs : NULL;
}

/* v2: sub-messages of one answer. */
struct v2_msgs {
	Io__Containerd__Cgroups__V2__Metrics m;
	Io__Containerd__Cgroups__V2__PidsStat pids;
	Io__Containerd__Cgroups__V2__CPUStat cpu;
	Io__Containerd__Cgroups__V2__MemoryStat mem;
	Io__Containerd__Cgroups__V2__MemoryEvents events;
	Io__Containerd__Cgroups__V2__IOStat io;
	Io__Containerd__Cgroups__V2__IOEntry io_entries[HUSK_CGROUP_STATS_MAX_IO];
	Io__Containerd__Cgroups__V2__IOEntry *io_ptrs[HUSK_CGROUP_STATS_MAX_IO];
	Io__Containerd__Cgroups__V2__HugeTlbStat hugetlb[HUSK_CGROUP_STATS_MAX_HUGETLB];
	Io__Containerd__Cgroups__V2__HugeTlbStat *hugetlb_ptrs[HUSK_CGROUP_STATS_MAX_HUGETLB];
	Io__Containerd__Cgroups__V2__PSIStats psi_cpu, psi_mem, psi_io;
	Io__Containerd__Cgroups__V2__PSIData psi_data[3][2];
};

static Io__Containerd__Cgroups__V2__PSIStats *v2_psi(Io__Containerd__Cgroups__V2__PSIStats *p,
						     Io__Containerd__Cgroups__V2__PSIData d[2],
						     const struct husk_cgroup_psi *s)
{
	const struct husk_cgroup_psi_data *src[2] = {&s->some, &s->full};

	if (!s->present)
		return NULL;
	for (int i = 0; i < 2; i++) {
		d[i] = (Io__Containerd__Cgroups__V2__PSIData)
			IO__CONTAINERD__CGROUPS__V2__PSIDATA__INIT;
		d[i].avg10 = src[i]->avg10;
		d[i].avg60 = src[i]->avg60;
		d[i].avg300 = src[i]->avg300;
		d[i].total = src[i]->total_ns / 1000;
	}
	*p = (Io__Containerd__Cgroups__V2__PSIStats)IO__CONTAINERD__CGROUPS__V2__PSISTATS__INIT;
	p->some = &d[0];
	p->full = &d[1];
	return p;
}

static void v2_memory(struct v2_msgs *v, const struct husk_cgroup_memory_stats *s)
{
	Io__Containerd__Cgroups__V2__MemoryStat *m = &v->mem;
	const struct husk_cgroup_v2_memory_stat *k = &s->v2;

	*m = (Io__Containerd__Cgroups__V2__MemoryStat)
		IO__CONTAINERD__CGROUPS__V2__MEMORY_STAT__INIT;
	m->anon = k->anon;
	m->file = k->file;
	m->kernel_stack = k->kernel_stack;
	m->slab = k->slab;
	m->sock = k->sock;
	m->shmem = k->shmem;
	m->file_mapped = k->file_mapped;
	m->file_dirty = k->file_dirty;
	m->file_writeback = k->file_writeback;
	m->anon_thp = k->anon_thp;
	m->inactive_anon = k->inactive_anon;
	m->active_anon = k->active_anon;
	m->inactive_file = k->inactive_file;
	m->active_file = k->active_file;
	m->unevictable = k->unevictable;
	m->slab_reclaimable = k->slab_reclaimable;
	m->slab_unreclaimable = k->slab_unreclaimable;
	m->pgfault = k->pgfault;
	m->pgmajfault = k->pgmajfault;
	m->workingset_refault = k->workingset_refault;
	m->workingset_activate = k->workingset_activate;
	m->workingset_nodereclaim = k->workingset_nodereclaim;
	m->pgrefill = k->pgrefill;
	m->pgscan = k->pgscan;
	m->pgsteal = k->pgsteal;
	m->pgactivate = k->pgactivate;
	m->pgdeactivate = k->pgdeactivate;
	m->pglazyfree = k->pglazyfree;
	m->pglazyfreed = k->pglazyfreed;
	m->thp_fault_alloc = k->thp_fault_alloc;
	m->thp_collapse_alloc = k->thp_collapse_alloc;
	m->usage = s->usage.usage;
	m->usage_limit = s->usage.limit;
	m->max_usage = s->usage.max;
	m->swap_usage = s->swap.usage;
	m->swap_limit = s->swap.limit;
	m->swap_max_usage = s->swap.max;
	m->workingset_refault_anon = k->workingset_refault_anon;
	m->workingset_refault_file = k->workingset_refault_file;
	m->workingset_activate_anon = k->workingset_activate_anon;
	m->workingset_activate_file = k->workingset_activate_file;
	m->psi = v2_psi(&v->psi_mem, v->psi_data[1], &s->psi);
	v->m.memory = m;
	v->events = (Io__Containerd__Cgroups__V2__MemoryEvents)
		IO__CONTAINERD__CGROUPS__V2__MEMORY_EVENTS__INIT;
	v->events.low = s->events_low;
	v->events.high = s->events_high;
	v->events.max = s->events_max;
	v->events.oom = s->events_oom;
	v->events.oom_kill = s->oom_kill;
	v->m.memory_events = &v->events;
}

static void v2_cpu(struct v2_msgs *v, const struct husk_cgroup_cpu_stats *s)
{
	Io__Containerd__Cgroups__V2__CPUStat *c = &v->cpu;

	/* The struct keeps ns; the v2 message counts microseconds, as cpu.stat does. */
	*c = (Io__Containerd__Cgroups__V2__CPUStat)IO__CONTAINERD__CGROUPS__V2__CPUSTAT__INIT;
	c->usage_usec = s->usage_total_ns / 1000;
	c->user_usec = s->usage_user_ns / 1000;
	c->system_usec = s->usage_kernel_ns / 1000;
	c->nr_periods = s->nr_periods;
	c->nr_throttled = s->nr_throttled;
	c->throttled_usec = s->throttled_time_ns / 1000;
	c->nr_bursts = s->nr_bursts;
	c->burst_usec = s->burst_ns / 1000;
	c->psi = v2_psi(&v->psi_cpu, v->psi_data[0], &s->psi);
	v->m.cpu = c;
}

static void v2_io(struct v2_msgs *v, const struct husk_cgroup_io_stats *s)
{
	uint32_t n =
		s->n_entries < HUSK_CGROUP_STATS_MAX_IO ? s->n_entries : HUSK_CGROUP_STATS_MAX_IO;

	v->io = (Io__Containerd__Cgroups__V2__IOStat)IO__CONTAINERD__CGROUPS__V2__IOSTAT__INIT;
	for (uint32_t i = 0; i < n; i++) {
		Io__Containerd__Cgroups__V2__IOEntry *e = &v->io_entries[i];
		*e = (Io__Containerd__Cgroups__V2__IOEntry)
			IO__CONTAINERD__CGROUPS__V2__IOENTRY__INIT;
		e->major = s->entries[i].major;
		e->minor = s->entries[i].minor;
		e->rbytes = s->entries[i].rbytes;
		e->wbytes = s->entries[i].wbytes;
		e->rios = s->entries[i].rios;
		e->wios = s->entries[i].wios;
		v->io_ptrs[i] = e;
	}
	v->io.n_usage = n;
	v->io.usage = n ? v->io_ptrs : NULL;
	v->io.psi = v2_psi(&v->psi_io, v->psi_data[2], &s->psi);
	v->m.io = &v->io;
}

static void v2_fill(struct v2_msgs *v, const struct husk_cgroup_stats *st)
{
	v->m = (Io__Containerd__Cgroups__V2__Metrics)IO__CONTAINERD__CGROUPS__V2__METRICS__INIT;
	if (st->pids.present) {
		v->pids = (Io__Containerd__Cgroups__V2__PidsStat)
			IO__CONTAINERD__CGROUPS__V2__PIDS_STAT__INIT;
		v->pids.current = st->pids.current;
		v->pids.limit = st->pids.limit;
		v->m.pids = &v->pids;
	}
	if (st->cpu.present)
		v2_cpu(v, &st->cpu);
	if (st->memory.present)
		v2_memory(v, &st->memory);
	if (st->io.present)
		v2_io(v, &st->io);
	uint32_t n = st->n_hugetlb < HUSK_CGROUP_STATS_MAX_HUGETLB ? st->n_hugetlb
								   : HUSK_CGROUP_STATS_MAX_HUGETLB;
	for (uint32_t i = 0; i < n; i++) {
		Io__Containerd__Cgroups__V2__HugeTlbStat *h = &v->hugetlb[i];
		*h = (Io__Containerd__Cgroups__V2__HugeTlbStat)
			IO__CONTAINERD__CGROUPS__V2__HUGE_TLB_STAT__INIT;
		h->current = st->hugetlb[i].usage;
		h->max = st->hugetlb[i].limit;
		h->pagesize = (char *)st->hugetlb[i].pagesize;
		v->hugetlb_ptrs[i] = h;
	}
	v->m.n_hugetlb = n;
	v->m.hugetlb = n ? v->hugetlb_ptrs : NULL;
}

static int pack(const ProtobufCMessage *msg, uint8_t **ret, size_t *ret_len, struct husk_err *err)
{
	size_t len = protobuf_c_message_get_packed_size(msg);
	uint8_t *buf = NULL;

	if (len > 0) {
		buf = malloc(len);
		if (!buf)
			return husk_err_errno(err, ENOMEM, "pack metrics");
		(void)protobuf_c_message_pack(msg, buf);
	}
	*ret = buf;
	*ret_len = len;
	return 0;
}

int shim_metrics_pack(const struct husk_cgroup_stats *st, const char **ret_type, uint8_t **ret,
		      size_t *ret_len, struct husk_err *err)
{
	int r;

	if (st->mode == HUSK_CGROUP_STATS_V1) {
		struct v1_msgs *v = calloc(1, sizeof(*v));
		if (!v)
			return husk_err_errno(err, ENOMEM, "metrics");
		v1_fill(v, st);
		r = pack(&v->m.base, ret, ret_len, err);
		free(v);
		if (r == 0)
			*ret_type = SHIM_METRICS_V1_TYPE;
		return r;
	}
	if (st->mode == HUSK_CGROUP_STATS_V2) {
		struct v2_msgs *v = calloc(1, sizeof(*v));
		if (!v)
			return husk_err_errno(err, ENOMEM, "metrics");
		v2_fill(v, st);
		r = pack(&v->m.base, ret, ret_len, err);
		free(v);
		if (r == 0)
			*ret_type = SHIM_METRICS_V2_TYPE;
		return r;
	}
	return husk_err_set(err, HUSK_ERR_NOT_FOUND, 0, "cgroup does not exist");
}
