/*
 * Pure: struct husk_resources → the list of cgroup file writes (a plan) for a v1 or v2 host.
 * Everything a host cannot do is refused here, before any file is touched.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup.h"
#include "cgroup_internal.h"
#include "husk/cleanup.h"
#include "husk/err.h"
#include "husk/spec.h"

uint64_t husk__cgroup_shares_to_weight(uint64_t shares)
{
	/* runc/crun: map [2, 262144] linearly onto [1, 10000]. */
	if (shares == 0)
		return 0;
	if (shares < 2)
		shares = 2;
	if (shares > 262144)
		shares = 262144;
	return 1 + ((shares - 2) * 9999) / 262142;
}

uint64_t husk__cgroup_blkio_weight_to_io(uint64_t weight)
{
	/* runc: map [10, 1000] linearly onto [1, 10000]. */
	if (weight == 0)
		return 0;
	if (weight < 10)
		weight = 10;
	if (weight > 1000)
		weight = 1000;
	return 1 + ((weight - 10) * 9999) / 990;
}

void husk__cgroup_plan_done(struct husk_cgroup_plan *plan)
{
	if (!plan)
		return;
	for (size_t i = 0; i < plan->n_writes; i++)
		free(plan->writes[i].value);
	free(plan->writes);
	memset(plan, 0, sizeof(*plan));
}

struct builder {
	struct husk_cgroup_plan *plan;
	size_t cap;
	uint32_t mask;
	bool v2;
	struct husk_err *err;
};

static int add(struct builder *b, enum husk_cgroup_ctrl ctrl, const char *resource,
	       const char *file, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int add(struct builder *b, enum husk_cgroup_ctrl ctrl, const char *resource,
	       const char *file, const char *fmt, ...)
{
	struct husk_cgroup_plan *p = b->plan;
	va_list ap;

	if (strlen(file) >= sizeof(p->writes[0].file))
		return husk_err_set(b->err, HUSK_ERR_INVALID, 0, "%s: file name '%s' too long",
				    resource, file);
	if (p->n_writes == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 16;
		struct husk_cgroup_write *w = realloc(p->writes, cap * sizeof(*w));
		if (!w)
			return husk_err_errno(b->err, ENOMEM, "cgroup plan");
		p->writes = w;
		b->cap = cap;
	}
	char *value = NULL;
	va_start(ap, fmt);
	int n = vasprintf(&value, fmt, ap);
	va_end(ap);
	if (n < 0)
		return husk_err_errno(b->err, ENOMEM, "cgroup plan");

	struct husk_cgroup_write *w = &p->writes[p->n_writes++];
	w->ctrl = ctrl;
	w->resource = resource;
	(void)snprintf(w->file, sizeof(w->file), "%s", file);
	w->value = value;
	return 0;
}

static int need(struct builder *b, enum husk_cgroup_ctrl ctrl, const char *resource)
{
	if (b->mask & HUSK_CG_BIT(ctrl))
		return 0;
	return husk_err_set(b->err, HUSK_ERR_INVALID, 0,
			    "%s: the %s controller is not available on this host", resource,
			    b->v2 && ctrl == HUSK_CG_BLKIO ? "io"
							   : husk__cgroup_ctrl_to_string(ctrl));
}

static int v2_unsupported(struct builder *b, const char *resource)
{
	return husk_err_set(b->err, HUSK_ERR_INVALID, 0, "%s: not supported by cgroup v2",
			    resource);
}

static int check_memory_v1(struct builder *b, const struct husk_memory_resources *m)
{
	if (m->limit.set && m->limit.v < -1)
		return husk_err_set(b->err, HUSK_ERR_INVALID, 0,
				    "memory.limit: invalid value %" PRId64, m->limit.v);
	if (m->swap.set && m->swap.v < -1)
		return husk_err_set(b->err, HUSK_ERR_INVALID, 0,
				    "memory.swap: invalid value %" PRId64, m->swap.v);
	if (m->swappiness.set && m->swappiness.v > 100)
		return husk_err_set(b->err, HUSK_ERR_INVALID, 0,
				    "memory.swappiness: %" PRIu64 " is out of range [0, 100]",
				    m->swappiness.v);
	if (m->limit.set && m->swap.set && m->swap.v != -1 && m->limit.v != -1 &&
	    m->swap.v < m->limit.v)
		return husk_err_set(b->err, HUSK_ERR_INVALID, 0,
				    "memory.swap: memory+swap limit %" PRId64
				    " is below the memory limit %" PRId64,
				    m->swap.v, m->limit.v);
	return 0;
}

/* memory.limit and memory.swap (v1), in an order the kernel accepts. */
static int memory_limits_v1(struct builder *b, const struct husk_memory_resources *m,
			    uint64_t cur_limit)
{
	int r = 0;

	/* The kernel keeps memsw.limit >= limit at every step: raise swap first when the
	 * new memory+swap exceeds the current limit, else lower the limit first (runc). */
	bool swap_first =
		m->swap.set && m->limit.set && (m->swap.v == -1 || cur_limit < (uint64_t)m->swap.v);
	if (swap_first)
		r = add(b, HUSK_CG_MEMORY, "memory.swap", "memory.memsw.limit_in_bytes", "%" PRId64,
			m->swap.v);
	if (r == 0 && m->limit.set)
		r = add(b, HUSK_CG_MEMORY, "memory.limit", "memory.limit_in_bytes", "%" PRId64,
			m->limit.v);
	if (r == 0 && m->swap.set && !swap_first)
		r = add(b, HUSK_CG_MEMORY, "memory.swap", "memory.memsw.limit_in_bytes", "%" PRId64,
			m->swap.v);
	return r;
}

/* The v1 memory settings besides the limits. */
static int memory_knobs_v1(struct builder *b, const struct husk_memory_resources *m)
{
	int r = 0;

	if (m->reservation.set)
		r = add(b, HUSK_CG_MEMORY, "memory.reservation", "memory.soft_limit_in_bytes",
			"%" PRId64, m->reservation.v);
	if (r == 0 && m->kernel.set)
		r = add(b, HUSK_CG_MEMORY, "memory.kernel", "memory.kmem.limit_in_bytes",
			"%" PRId64, m->kernel.v);
	if (r == 0 && m->kernel_tcp.set)
		r = add(b, HUSK_CG_MEMORY, "memory.kernelTCP", "memory.kmem.tcp.limit_in_bytes",
			"%" PRId64, m->kernel_tcp.v);
	if (r == 0 && m->swappiness.set)
		r = add(b, HUSK_CG_MEMORY, "memory.swappiness", "memory.swappiness", "%" PRIu64,
			m->swappiness.v);
	if (r == 0 && m->disable_oom_killer.set)
		r = add(b, HUSK_CG_MEMORY, "memory.disableOOMKiller", "memory.oom_control", "%d",
			m->disable_oom_killer.v ? 1 : 0);
	if (r == 0 && m->use_hierarchy.set)
		r = add(b, HUSK_CG_MEMORY, "memory.useHierarchy", "memory.use_hierarchy", "%d",
			m->use_hierarchy.v ? 1 : 0);
	return r;
}

static int plan_memory_v1(struct builder *b, const struct husk_memory_resources *m,
			  uint64_t cur_limit)
{
	int r = check_memory_v1(b, m);

	if (r == 0)
		r = memory_limits_v1(b, m, cur_limit);
	if (r == 0)
		r = memory_knobs_v1(b, m);
	return r;
}

static int check_memory_v2(struct builder *b, const struct husk_memory_resources *m)
{
	if (m->kernel.set)
		return v2_unsupported(b, "memory.kernel");
	if (m->kernel_tcp.set)
		return v2_unsupported(b, "memory.kernelTCP");
	if (m->swappiness.set)
		return v2_unsupported(b, "memory.swappiness");
	if (m->disable_oom_killer.set && m->disable_oom_killer.v)
		return v2_unsupported(b, "memory.disableOOMKiller");
	if (m->use_hierarchy.set && !m->use_hierarchy.v)
		return v2_unsupported(b, "memory.useHierarchy=false");
	if (m->limit.set && m->limit.v < -1)
		return husk_err_set(b->err, HUSK_ERR_INVALID, 0,
				    "memory.limit: invalid value %" PRId64, m->limit.v);
	return 0;
}

/* OCI's swap is memory+swap; v2 memory.swap.max is swap alone (runc's conversion). */
static int swap_v2(struct builder *b, const struct husk_memory_resources *m)
{
	if (m->swap.set && m->swap.v != 0) {
		int64_t lim = m->limit.set ? m->limit.v : 0;
		if (m->swap.v == -1)
			return add(b, HUSK_CG_MEMORY, "memory.swap", "memory.swap.max", "max");
		if (m->swap.v < -1)
			return husk_err_set(b->err, HUSK_ERR_INVALID, 0,
					    "memory.swap: invalid value %" PRId64, m->swap.v);
		if (lim <= 0)
			return husk_err_set(b->err, HUSK_ERR_INVALID, 0,
					    "memory.swap: a swap limit needs a memory limit");
		if (m->swap.v < lim)
			return husk_err_set(b->err, HUSK_ERR_INVALID, 0,
					    "memory.swap: memory+swap limit %" PRId64
					    " is below the memory limit %" PRId64,
					    m->swap.v, lim);
		return add(b, HUSK_CG_MEMORY, "memory.swap", "memory.swap.max", "%" PRId64,
			   m->swap.v - lim);
	}
	/* Unlimited memory with swap unset means both unlimited (runc). */
	if (m->limit.set && m->limit.v == -1 && !m->swap.set)
		return add(b, HUSK_CG_MEMORY, "memory.swap", "memory.swap.max", "max");
	return 0;
}

static int plan_memory_v2(struct builder *b, const struct husk_memory_resources *m)
{
	int r = check_memory_v2(b, m);

	if (r == 0 && m->limit.set) {
		if (m->limit.v == -1)
			r = add(b, HUSK_CG_MEMORY, "memory.limit", "memory.max", "max");
		else
			r = add(b, HUSK_CG_MEMORY, "memory.limit", "memory.max", "%" PRId64,
				m->limit.v);
	}
	if (r == 0)
		r = swap_v2(b, m);
	if (r == 0 && m->reservation.set)
		r = add(b, HUSK_CG_MEMORY, "memory.reservation", "memory.low", "%" PRId64,
			m->reservation.v);
	return r;
}

/* v2 cpu.max from quota and period. */
static int cpu_max_v2(struct builder *b, const struct husk_cpu_resources *c)
{
	char quota[32] = "max";

	if (c->quota.set && c->quota.v > 0)
		(void)snprintf(quota, sizeof(quota), "%" PRId64, c->quota.v);
	if (c->period.set && c->period.v > 0)
		return add(b, HUSK_CG_CPU, "cpu.quota", "cpu.max", "%s %" PRIu64, quota,
			   c->period.v);
	return add(b, HUSK_CG_CPU, "cpu.quota", "cpu.max", "%s", quota);
}

/* v1 CFS and realtime bandwidth. */
static int cpu_bandwidth_v1(struct builder *b, const struct husk_cpu_resources *c)
{
	int r = 0;

	if (c->period.set)
		r = add(b, HUSK_CG_CPU, "cpu.period", "cpu.cfs_period_us", "%" PRIu64, c->period.v);
	if (r == 0 && c->quota.set)
		r = add(b, HUSK_CG_CPU, "cpu.quota", "cpu.cfs_quota_us", "%" PRId64,
			c->quota.v > 0 ? c->quota.v : -1);
	if (r == 0 && c->realtime_period.set)
		r = add(b, HUSK_CG_CPU, "cpu.realtimePeriod", "cpu.rt_period_us", "%" PRIu64,
			c->realtime_period.v);
	if (r == 0 && c->realtime_runtime.set)
		r = add(b, HUSK_CG_CPU, "cpu.realtimeRuntime", "cpu.rt_runtime_us", "%" PRId64,
			c->realtime_runtime.v);
	return r;
}

static int cpu_shares(struct builder *b, const struct husk_cpu_resources *c)
{
	if (!c->shares.set)
		return 0;
	if (b->v2)
		return add(b, HUSK_CG_CPU, "cpu.shares", "cpu.weight", "%" PRIu64,
			   husk__cgroup_shares_to_weight(c->shares.v));
	return add(b, HUSK_CG_CPU, "cpu.shares", "cpu.shares", "%" PRIu64, c->shares.v);
}

static int plan_cpu(struct builder *b, const struct husk_cpu_resources *c)
{
	int r = 0;
	bool any_cpu = c->shares.set || c->quota.set || c->period.set || c->idle.set ||
		       c->realtime_runtime.set || c->realtime_period.set;

	if (any_cpu && (r = need(b, HUSK_CG_CPU, "cpu")) < 0)
		return r;
	if ((c->cpus || c->mems) && (r = need(b, HUSK_CG_CPUSET, "cpu.cpus")) < 0)
		return r;
	if (b->v2 && (c->realtime_runtime.set || c->realtime_period.set))
		return v2_unsupported(b, "cpu.realtimeRuntime");

	r = cpu_shares(b, c);
	if (r == 0 && b->v2 && (c->quota.set || c->period.set))
		r = cpu_max_v2(b, c);
	else if (r == 0 && !b->v2)
		r = cpu_bandwidth_v1(b, c);
	if (r == 0 && c->idle.set)
		r = add(b, HUSK_CG_CPU, "cpu.idle", "cpu.idle", "%" PRId64, c->idle.v);
	if (r == 0 && c->cpus)
		r = add(b, HUSK_CG_CPUSET, "cpu.cpus", "cpuset.cpus", "%s", c->cpus);
	if (r == 0 && c->mems)
		r = add(b, HUSK_CG_CPUSET, "cpu.mems", "cpuset.mems", "%s", c->mems);
	return r;
}

static int plan_throttle(struct builder *b, const struct husk_throttle_device *d, size_t n,
			 const char *resource, const char *v1_file, const char *v2_key)
{
	for (size_t i = 0; i < n; i++) {
		int r;
		if (b->v2)
			r = add(b, HUSK_CG_BLKIO, resource, "io.max",
				"%" PRId64 ":%" PRId64 " %s=%" PRIu64, d[i].major, d[i].minor,
				v2_key, d[i].rate);
		else
			r = add(b, HUSK_CG_BLKIO, resource, v1_file,
				"%" PRId64 ":%" PRId64 " %" PRIu64, d[i].major, d[i].minor,
				d[i].rate);
		if (r < 0)
			return r;
	}
	return 0;
}

static int blkio_weight_devices(struct builder *b, const struct husk_blkio_resources *io)
{
	int r = 0;

	for (size_t i = 0; r == 0 && i < io->n_weight_device; i++) {
		const struct husk_weight_device *d = &io->weight_device[i];
		if (b->v2 && d->leaf_weight.set)
			return v2_unsupported(b, "blockIO.weightDevice.leafWeight");
		if (d->weight.set)
			r = add(b, HUSK_CG_BLKIO, "blockIO.weightDevice",
				b->v2 ? "io.weight" : "blkio.weight_device",
				"%" PRId64 ":%" PRId64 " %" PRIu64, d->major, d->minor,
				b->v2 ? husk__cgroup_blkio_weight_to_io(d->weight.v) : d->weight.v);
		if (r == 0 && d->leaf_weight.set)
			r = add(b, HUSK_CG_BLKIO, "blockIO.weightDevice.leafWeight",
				"blkio.leaf_weight_device", "%" PRId64 ":%" PRId64 " %" PRIu64,
				d->major, d->minor, d->leaf_weight.v);
	}
	return r;
}

static int blkio_throttles(struct builder *b, const struct husk_blkio_resources *io)
{
	int r = plan_throttle(b, io->throttle_read_bps, io->n_throttle_read_bps,
			      "blockIO.throttleReadBpsDevice", "blkio.throttle.read_bps_device",
			      "rbps");

	if (r == 0)
		r = plan_throttle(b, io->throttle_write_bps, io->n_throttle_write_bps,
				  "blockIO.throttleWriteBpsDevice",
				  "blkio.throttle.write_bps_device", "wbps");
	if (r == 0)
		r = plan_throttle(b, io->throttle_read_iops, io->n_throttle_read_iops,
				  "blockIO.throttleReadIOPSDevice",
				  "blkio.throttle.read_iops_device", "riops");
	if (r == 0)
		r = plan_throttle(b, io->throttle_write_iops, io->n_throttle_write_iops,
				  "blockIO.throttleWriteIOPSDevice",
				  "blkio.throttle.write_iops_device", "wiops");
	return r;
}

static int plan_blkio(struct builder *b, const struct husk_blkio_resources *io)
{
	int r = need(b, HUSK_CG_BLKIO, "blockIO");

	if (r < 0)
		return r;
	if (b->v2 && io->leaf_weight.set)
		return v2_unsupported(b, "blockIO.leafWeight");
	if (io->weight.set) {
		if (b->v2)
			r = add(b, HUSK_CG_BLKIO, "blockIO.weight", "io.weight", "%" PRIu64,
				husk__cgroup_blkio_weight_to_io(io->weight.v));
		else
			r = add(b, HUSK_CG_BLKIO, "blockIO.weight", "blkio.weight", "%" PRIu64,
				io->weight.v);
	}
	if (r == 0 && io->leaf_weight.set)
		r = add(b, HUSK_CG_BLKIO, "blockIO.leafWeight", "blkio.leaf_weight", "%" PRIu64,
			io->leaf_weight.v);
	if (r == 0)
		r = blkio_weight_devices(b, io);
	if (r == 0)
		r = blkio_throttles(b, io);
	return r;
}

static bool valid_page_size(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 15)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= 'a' && s[i] <= 'z')))
			return false;
	return true;
}

static int plan_hugepages(struct builder *b, const struct husk_resources *res)
{
	if (res->n_hugepage_limits == 0)
		return 0;
	int r = need(b, HUSK_CG_HUGETLB, "hugepageLimits");
	for (size_t i = 0; r == 0 && i < res->n_hugepage_limits; i++) {
		const struct husk_hugepage_limit *h = &res->hugepage_limits[i];
		char file[64];
		if (!h->page_size || !valid_page_size(h->page_size))
			return husk_err_set(b->err, HUSK_ERR_INVALID, 0,
					    "hugepageLimits[%zu]: bad page size '%s'", i,
					    h->page_size ? h->page_size : "");
		(void)snprintf(file, sizeof(file),
			       b->v2 ? "hugetlb.%s.max" : "hugetlb.%s.limit_in_bytes",
			       h->page_size);
		r = add(b, HUSK_CG_HUGETLB, "hugepageLimits", file, "%" PRIu64, h->limit);
	}
	return r;
}

static int plan_devices_v1(struct builder *b, const struct husk_resources *res)
{
	int r = need(b, HUSK_CG_DEVICES, "devices");

	/* Deny everything, then replay the rules in order: the last matching rule wins in
	 * the OCI model, and the v1 list is evaluated the same way after a full deny. */
	if (r == 0)
		r = add(b, HUSK_CG_DEVICES, "devices", "devices.deny", "a");
	for (size_t i = 0; r == 0 && i < res->n_devices; i++) {
		const struct husk_device_rule *d = &res->devices[i];
		const char *file = d->allow ? "devices.allow" : "devices.deny";
		char maj[24] = "*";
		char min[24] = "*";
		if (d->type != 'a' && d->type != 'c' && d->type != 'b')
			return husk_err_set(b->err, HUSK_ERR_INVALID, 0,
					    "devices[%zu]: bad type '%c'", i, d->type);
		if (d->type == 'a' && !d->major.set && !d->minor.set) {
			r = add(b, HUSK_CG_DEVICES, "devices", file, "a");
			continue;
		}
		if (d->major.set)
			(void)snprintf(maj, sizeof(maj), "%" PRId64, d->major.v);
		if (d->minor.set)
			(void)snprintf(min, sizeof(min), "%" PRId64, d->minor.v);
		r = add(b, HUSK_CG_DEVICES, "devices", file, "%c %s:%s %s", d->type, maj, min,
			d->access[0] ? d->access : "rwm");
	}
	return r;
}

/* The controller named by a unified key's prefix; _HUSK_CG_CTRL_MAX for "cgroup.*". */
static int unified_ctrl(struct builder *b, const char *key, const char *dot,
			enum husk_cgroup_ctrl *ret)
{
	char ctrl_name[32];
	size_t cn = (size_t)(dot - key);

	if (cn >= sizeof(ctrl_name))
		return husk_err_set(b->err, HUSK_ERR_INVALID, 0, "unified[%s]: unknown controller",
				    key);
	memcpy(ctrl_name, key, cn);
	ctrl_name[cn] = '\0';
	*ret = _HUSK_CG_CTRL_MAX;
	if (strcmp(ctrl_name, "cgroup") == 0)
		return 0;
	int c = husk__cgroup_ctrl_from_string(ctrl_name);
	if (c < 0)
		return husk_err_set(b->err, HUSK_ERR_INVALID, 0,
				    "unified[%s]: unknown controller '%s'", key, ctrl_name);
	*ret = (enum husk_cgroup_ctrl)c;
	if (need(b, *ret, "unified") < 0)
		return husk_err_prefix(b->err, "unified[%s]", key);
	return 0;
}

static int plan_unified_one(struct builder *b, const struct husk_kv *kv)
{
	const char *key = kv->key;
	const char *value = kv->value ? kv->value : "";
	const char *dot = key ? strchr(key, '.') : NULL;
	enum husk_cgroup_ctrl ctrl = _HUSK_CG_CTRL_MAX;

	if (!b->v2)
		return husk_err_set(b->err, HUSK_ERR_INVALID, 0,
				    "unified[%s]: needs a cgroup v2 host", key ? key : "");
	if (!dot || dot == key || strchr(key, '/') || strlen(key) >= 64)
		return husk_err_set(b->err, HUSK_ERR_INVALID, 0,
				    "unified[%s]: not a cgroup file name (expected "
				    "'<controller>.<file>')",
				    key ? key : "");
	int r = unified_ctrl(b, key, dot, &ctrl);
	if (r < 0)
		return r;
	return add(b, ctrl, "unified", key, "%s", value);
}

static int plan_unified(struct builder *b, const struct husk_resources *res)
{
	for (size_t i = 0; i < res->n_unified; i++) {
		int r = plan_unified_one(b, &res->unified[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

static int plan_memory(struct builder *b, const struct husk_memory_resources *m,
		       uint64_t cur_mem_limit)
{
	int r = 0;
	bool any = m->limit.set || m->reservation.set || m->swap.set || m->kernel.set ||
		   m->kernel_tcp.set || m->swappiness.set || m->disable_oom_killer.set ||
		   m->use_hierarchy.set || m->check_before_update.set;

	if (any)
		r = need(b, HUSK_CG_MEMORY, "memory");
	if (r == 0)
		r = b->v2 ? plan_memory_v2(b, m) : plan_memory_v1(b, m, cur_mem_limit);
	return r;
}

static int plan_pids(struct builder *b, const struct husk_resources *res)
{
	int r = need(b, HUSK_CG_PIDS, "pids.limit");

	if (r == 0 && res->pids_limit.v > 0)
		r = add(b, HUSK_CG_PIDS, "pids.limit", "pids.max", "%" PRId64, res->pids_limit.v);
	else if (r == 0)
		r = add(b, HUSK_CG_PIDS, "pids.limit", "pids.max", "max");
	return r;
}

static int plan_devices(struct builder *b, const struct husk_resources *res)
{
	if (!b->v2)
		return plan_devices_v1(b, res);
	b->plan->devices_bpf = true;
	b->plan->device_rules = res->devices;
	b->plan->n_device_rules = res->n_devices;
	return 0;
}

int husk__cgroup_plan_build(enum husk_cgroup_mode mode, uint32_t ctrl_mask,
			    const struct husk_resources *res, uint64_t cur_mem_limit,
			    struct husk_cgroup_plan *ret, struct husk_err *err)
{
	struct husk_cgroup_plan plan = {0};
	struct builder b = {
		.plan = &plan, .mask = ctrl_mask, .v2 = mode == HUSK_CGROUP_MODE_V2, .err = err};
	int r = 0;

	if (mode == HUSK_CGROUP_MODE_NONE)
		return husk_err_set(err, HUSK_ERR_PRECONDITION, 0, "no cgroup hierarchy");
	if (res->has_memory)
		r = plan_memory(&b, &res->memory, cur_mem_limit);
	if (r == 0 && res->has_cpu)
		r = plan_cpu(&b, &res->cpu);
	if (r == 0 && res->pids_limit.set)
		r = plan_pids(&b, res);
	if (r == 0 && res->has_blkio)
		r = plan_blkio(&b, &res->blkio);
	if (r == 0)
		r = plan_hugepages(&b, res);
	if (r == 0 && res->n_devices > 0)
		r = plan_devices(&b, res);
	if (r == 0)
		r = plan_unified(&b, res);
	if (r < 0) {
		husk__cgroup_plan_done(&plan);
		return r;
	}
	*ret = plan;
	return 0;
}
