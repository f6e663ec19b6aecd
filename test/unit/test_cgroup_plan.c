/* Resources → cgroup file writes (v1 and v2), conversions, and the v2 device program. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <linux/bpf.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "cgroup.h"
#include "husk/err.h"
#include "husk/spec.h"

#define ALL_CTRLS 0xffffffffu

static struct husk_cgroup_plan plan_ok(enum husk_cgroup_mode mode, uint32_t mask,
				       const struct husk_resources *res, uint64_t cur)
{
	struct husk_cgroup_plan p;
	struct husk_err err = {0};
	int r = husk__cgroup_plan_build(mode, mask, res, cur, &p, &err);
	cr_assert(eq(int, r, 0), "%s", err.msg);
	return p;
}

static void plan_fails(enum husk_cgroup_mode mode, uint32_t mask, const struct husk_resources *res,
		       const char *needle)
{
	struct husk_cgroup_plan p;
	struct husk_err err = {0};
	memset(&p, 0x5a, sizeof(p));
	int r = husk__cgroup_plan_build(mode, mask, res, UINT64_MAX, &p, &err);
	cr_expect(eq(int, r, -EINVAL), "accepted; wanted '%s'", needle);
	cr_expect(eq(int, err.kind, HUSK_ERR_INVALID));
	cr_expect(strstr(err.msg, needle) != NULL, "message '%s' lacks '%s'", err.msg, needle);
}

/* "file=value" of write i. */
static void expect_write(const struct husk_cgroup_plan *p, size_t i, const char *file,
			 const char *value)
{
	cr_assert(i < p->n_writes, "only %zu writes", p->n_writes);
	cr_expect(eq(str, (char *)p->writes[i].file, (char *)file), "write %zu", i);
	cr_expect(eq(str, p->writes[i].value, (char *)value), "write %zu (%s)", i, file);
}

#define SET(x, val) ((x).set = true, (x).v = (val))

Test(cgroup_plan, v1_memory_grow_writes_swap_first)
{
	struct husk_resources res = {0};
	res.has_memory = true;
	SET(res.memory.limit, 200 << 20);
	SET(res.memory.swap, 400 << 20);
	SET(res.memory.reservation, 100 << 20);
	SET(res.memory.swappiness, 10);
	struct husk_cgroup_plan p = plan_ok(HUSK_CGROUP_MODE_HYBRID, ALL_CTRLS, &res, 100 << 20);
	cr_assert(eq(sz, p.n_writes, 4));
	expect_write(&p, 0, "memory.memsw.limit_in_bytes", "419430400");
	expect_write(&p, 1, "memory.limit_in_bytes", "209715200");
	expect_write(&p, 2, "memory.soft_limit_in_bytes", "104857600");
	expect_write(&p, 3, "memory.swappiness", "10");
	husk__cgroup_plan_done(&p);
}

Test(cgroup_plan, v1_memory_shrink_writes_limit_first)
{
	struct husk_resources res = {0};
	res.has_memory = true;
	SET(res.memory.limit, 10 << 20);
	SET(res.memory.swap, 20 << 20);
	struct husk_cgroup_plan p = plan_ok(HUSK_CGROUP_MODE_V1, ALL_CTRLS, &res, 100 << 20);
	expect_write(&p, 0, "memory.limit_in_bytes", "10485760");
	expect_write(&p, 1, "memory.memsw.limit_in_bytes", "20971520");
	husk__cgroup_plan_done(&p);
}

Test(cgroup_plan, v1_memory_kernel_and_oom)
{
	struct husk_resources res = {0};
	res.has_memory = true;
	SET(res.memory.kernel, 1 << 20);
	SET(res.memory.disable_oom_killer, 1);
	struct husk_cgroup_plan p = plan_ok(HUSK_CGROUP_MODE_V1, ALL_CTRLS, &res, UINT64_MAX);
	expect_write(&p, 0, "memory.kmem.limit_in_bytes", "1048576");
	expect_write(&p, 1, "memory.oom_control", "1");
	husk__cgroup_plan_done(&p);
}

Test(cgroup_plan, v1_memory_invalid)
{
	struct husk_resources res = {0};
	res.has_memory = true;
	SET(res.memory.limit, 100);
	SET(res.memory.swap, 50);
	plan_fails(HUSK_CGROUP_MODE_V1, ALL_CTRLS, &res, "below the memory limit");
	memset(&res, 0, sizeof(res));
	res.has_memory = true;
	SET(res.memory.swappiness, 101);
	plan_fails(HUSK_CGROUP_MODE_V1, ALL_CTRLS, &res, "memory.swappiness");
	memset(&res, 0, sizeof(res));
	res.has_memory = true;
	SET(res.memory.limit, -5);
	plan_fails(HUSK_CGROUP_MODE_V1, ALL_CTRLS, &res, "memory.limit: invalid value");
}

Test(cgroup_plan, missing_controller_is_named)
{
	struct husk_resources res = {0};
	res.has_memory = true;
	SET(res.memory.limit, 1 << 20);
	plan_fails(HUSK_CGROUP_MODE_V1, ALL_CTRLS & ~(1u << HUSK_CG_MEMORY), &res,
		   "the memory controller is not available");
	memset(&res, 0, sizeof(res));
	SET(res.pids_limit, 10);
	plan_fails(HUSK_CGROUP_MODE_V1, 0, &res, "pids.limit: the pids controller");
	struct husk_hugepage_limit h = {.page_size = (char *)"2MB", .limit = 1 << 21};
	memset(&res, 0, sizeof(res));
	res.hugepage_limits = &h;
	res.n_hugepage_limits = 1;
	plan_fails(HUSK_CGROUP_MODE_HYBRID, ALL_CTRLS & ~(1u << HUSK_CG_HUGETLB), &res,
		   "hugepageLimits: the hugetlb controller");
}

Test(cgroup_plan, v1_cpu_pids_blkio_hugetlb)
{
	struct husk_resources res = {0};
	struct husk_throttle_device rbps = {.major = 8, .minor = 0, .rate = 1048576};
	struct husk_weight_device wd = {.major = 8, .minor = 16};
	struct husk_hugepage_limit h = {.page_size = (char *)"2MB", .limit = 4194304};
	SET(wd.weight, 300);
	res.has_cpu = true;
	SET(res.cpu.shares, 512);
	SET(res.cpu.quota, 50000);
	SET(res.cpu.period, 100000);
	res.cpu.cpus = (char *)"0";
	res.cpu.mems = (char *)"0";
	SET(res.pids_limit, 64);
	res.has_blkio = true;
	SET(res.blkio.weight, 500);
	res.blkio.weight_device = &wd;
	res.blkio.n_weight_device = 1;
	res.blkio.throttle_read_bps = &rbps;
	res.blkio.n_throttle_read_bps = 1;
	res.hugepage_limits = &h;
	res.n_hugepage_limits = 1;
	struct husk_cgroup_plan p = plan_ok(HUSK_CGROUP_MODE_V1, ALL_CTRLS, &res, UINT64_MAX);
	size_t i = 0;
	expect_write(&p, i++, "cpu.shares", "512");
	expect_write(&p, i++, "cpu.cfs_period_us", "100000");
	expect_write(&p, i++, "cpu.cfs_quota_us", "50000");
	expect_write(&p, i++, "cpuset.cpus", "0");
	expect_write(&p, i++, "cpuset.mems", "0");
	expect_write(&p, i++, "pids.max", "64");
	expect_write(&p, i++, "blkio.weight", "500");
	expect_write(&p, i++, "blkio.weight_device", "8:16 300");
	expect_write(&p, i++, "blkio.throttle.read_bps_device", "8:0 1048576");
	expect_write(&p, i++, "hugetlb.2MB.limit_in_bytes", "4194304");
	cr_expect(eq(sz, p.n_writes, i));
	husk__cgroup_plan_done(&p);
}

Test(cgroup_plan, v1_pids_unlimited_and_quota_unlimited)
{
	struct husk_resources res = {0};
	SET(res.pids_limit, -1);
	res.has_cpu = true;
	SET(res.cpu.quota, -1);
	struct husk_cgroup_plan p = plan_ok(HUSK_CGROUP_MODE_V1, ALL_CTRLS, &res, UINT64_MAX);
	expect_write(&p, 0, "cpu.cfs_quota_us", "-1");
	expect_write(&p, 1, "pids.max", "max");
	husk__cgroup_plan_done(&p);
}

Test(cgroup_plan, v1_devices_deny_all_then_rules_in_order)
{
	struct husk_device_rule rules[3] = {
		{.allow = false, .type = 'a', .access = "rwm"},
		{.allow = true, .type = 'c', .access = "rwm"},
		{.allow = true, .type = 'b', .access = "r"},
	};
	SET(rules[1].major, 1);
	SET(rules[1].minor, 3);
	SET(rules[2].major, 8);
	struct husk_resources res = {0};
	res.devices = rules;
	res.n_devices = 3;
	struct husk_cgroup_plan p = plan_ok(HUSK_CGROUP_MODE_HYBRID, ALL_CTRLS, &res, UINT64_MAX);
	cr_assert(eq(sz, p.n_writes, 4));
	expect_write(&p, 0, "devices.deny", "a");
	expect_write(&p, 1, "devices.deny", "a");
	expect_write(&p, 2, "devices.allow", "c 1:3 rwm");
	expect_write(&p, 3, "devices.allow", "b 8:* r");
	cr_expect(not(p.devices_bpf));
	husk__cgroup_plan_done(&p);
}

Test(cgroup_plan, unified_needs_v2)
{
	struct husk_kv kv = {.key = (char *)"memory.high", .value = (char *)"100M"};
	struct husk_resources res = {0};
	res.unified = &kv;
	res.n_unified = 1;
	plan_fails(HUSK_CGROUP_MODE_HYBRID, ALL_CTRLS, &res,
		   "unified[memory.high]: needs a cgroup v2");
}

Test(cgroup_plan, v2_memory_cpu_io)
{
	struct husk_resources res = {0};
	struct husk_throttle_device wiops = {.major = 259, .minor = 0, .rate = 500};
	res.has_memory = true;
	SET(res.memory.limit, 100 << 20);
	SET(res.memory.swap, 150 << 20);
	SET(res.memory.reservation, 50 << 20);
	res.has_cpu = true;
	SET(res.cpu.shares, 1024);
	SET(res.cpu.quota, 20000);
	SET(res.cpu.period, 100000);
	res.has_blkio = true;
	SET(res.blkio.weight, 1000);
	res.blkio.throttle_write_iops = &wiops;
	res.blkio.n_throttle_write_iops = 1;
	SET(res.pids_limit, 0);
	struct husk_cgroup_plan p = plan_ok(HUSK_CGROUP_MODE_V2, ALL_CTRLS, &res, UINT64_MAX);
	size_t i = 0;
	expect_write(&p, i++, "memory.max", "104857600");
	expect_write(&p, i++, "memory.swap.max", "52428800");
	expect_write(&p, i++, "memory.low", "52428800");
	expect_write(&p, i++, "cpu.weight", "39");
	expect_write(&p, i++, "cpu.max", "20000 100000");
	expect_write(&p, i++, "pids.max", "max");
	expect_write(&p, i++, "io.weight", "10000");
	expect_write(&p, i++, "io.max", "259:0 wiops=500");
	cr_expect(eq(sz, p.n_writes, i));
	husk__cgroup_plan_done(&p);
}

Test(cgroup_plan, v2_memory_unlimited_means_swap_unlimited)
{
	struct husk_resources res = {0};
	res.has_memory = true;
	SET(res.memory.limit, -1);
	struct husk_cgroup_plan p = plan_ok(HUSK_CGROUP_MODE_V2, ALL_CTRLS, &res, UINT64_MAX);
	cr_assert(eq(sz, p.n_writes, 2));
	expect_write(&p, 0, "memory.max", "max");
	expect_write(&p, 1, "memory.swap.max", "max");
	husk__cgroup_plan_done(&p);

	memset(&res, 0, sizeof(res));
	res.has_cpu = true;
	SET(res.cpu.period, 50000);
	p = plan_ok(HUSK_CGROUP_MODE_V2, ALL_CTRLS, &res, UINT64_MAX);
	expect_write(&p, 0, "cpu.max", "max 50000");
	husk__cgroup_plan_done(&p);
}

Test(cgroup_plan, v2_refuses_v1_only_knobs)
{
	struct husk_resources res = {0};
	res.has_memory = true;
	SET(res.memory.kernel, 1 << 20);
	plan_fails(HUSK_CGROUP_MODE_V2, ALL_CTRLS, &res,
		   "memory.kernel: not supported by cgroup v2");
	memset(&res, 0, sizeof(res));
	res.has_memory = true;
	SET(res.memory.swappiness, 5);
	plan_fails(HUSK_CGROUP_MODE_V2, ALL_CTRLS, &res, "memory.swappiness");
	memset(&res, 0, sizeof(res));
	res.has_memory = true;
	SET(res.memory.swap, 1 << 20);
	plan_fails(HUSK_CGROUP_MODE_V2, ALL_CTRLS, &res, "needs a memory limit");
	memset(&res, 0, sizeof(res));
	res.has_cpu = true;
	SET(res.cpu.realtime_runtime, 1000);
	plan_fails(HUSK_CGROUP_MODE_V2, ALL_CTRLS, &res, "cpu.realtimeRuntime");
	memset(&res, 0, sizeof(res));
	res.has_blkio = true;
	SET(res.blkio.leaf_weight, 100);
	plan_fails(HUSK_CGROUP_MODE_V2, ALL_CTRLS, &res, "blockIO.leafWeight");
}

Test(cgroup_plan, v2_unified_and_devices)
{
	struct husk_kv kv[2] = {{.key = (char *)"memory.high", .value = (char *)"1000000"},
				{.key = (char *)"cgroup.max.depth", .value = (char *)"3"}};
	struct husk_device_rule rule = {.allow = false, .type = 'a', .access = "rwm"};
	struct husk_resources res = {0};
	res.unified = kv;
	res.n_unified = 2;
	res.devices = &rule;
	res.n_devices = 1;
	struct husk_cgroup_plan p = plan_ok(HUSK_CGROUP_MODE_V2, ALL_CTRLS, &res, UINT64_MAX);
	cr_assert(eq(sz, p.n_writes, 2));
	expect_write(&p, 0, "memory.high", "1000000");
	expect_write(&p, 1, "cgroup.max.depth", "3");
	cr_expect(p.devices_bpf);
	cr_expect(eq(sz, p.n_device_rules, 1));
	husk__cgroup_plan_done(&p);

	struct husk_kv bad[] = {{.key = (char *)"../memory.max", .value = (char *)"1"},
				{.key = (char *)"nosuch.file", .value = (char *)"1"},
				{.key = (char *)"nodot", .value = (char *)"1"}};
	const char *why[] = {"not a cgroup file name", "unknown controller", "not a cgroup file"};
	for (size_t i = 0; i < 3; i++) {
		memset(&res, 0, sizeof(res));
		res.unified = &bad[i];
		res.n_unified = 1;
		plan_fails(HUSK_CGROUP_MODE_V2, ALL_CTRLS, &res, why[i]);
	}
	memset(&res, 0, sizeof(res));
	res.unified = kv;
	res.n_unified = 1;
	plan_fails(HUSK_CGROUP_MODE_V2, ALL_CTRLS & ~(1u << HUSK_CG_MEMORY), &res,
		   "unified[memory.high]");
}

Test(cgroup_plan, shares_to_weight)
{
	cr_expect(eq(u64, husk__cgroup_shares_to_weight(0), 0));
	cr_expect(eq(u64, husk__cgroup_shares_to_weight(2), 1));
	cr_expect(eq(u64, husk__cgroup_shares_to_weight(1024), 39));
	cr_expect(eq(u64, husk__cgroup_shares_to_weight(262144), 10000));
	cr_expect(eq(u64, husk__cgroup_shares_to_weight(1), 1), "below range clamps");
	cr_expect(eq(u64, husk__cgroup_shares_to_weight(1000000), 10000), "above range clamps");
	uint64_t prev = 0;
	for (uint64_t s = 2; s <= 262144; s += 997) {
		uint64_t w = husk__cgroup_shares_to_weight(s);
		cr_assert(w >= prev && w >= 1 && w <= 10000, "shares %lu → %lu", s, w);
		prev = w;
	}
	cr_expect(eq(u64, husk__cgroup_blkio_weight_to_io(10), 1));
	cr_expect(eq(u64, husk__cgroup_blkio_weight_to_io(500), 4950));
	cr_expect(eq(u64, husk__cgroup_blkio_weight_to_io(1000), 10000));
	cr_expect(eq(u64, husk__cgroup_blkio_weight_to_io(0), 0));
}

/* ---- device program: run it in a small interpreter of the instructions it uses ---------- */

static int run_prog(const uint64_t *words, size_t n, uint32_t type, uint32_t access, uint32_t major,
		    uint32_t minor)
{
	uint32_t ctx[3] = {(access << 16) | type, major, minor};
	uint64_t reg[11] = {0};
	const struct bpf_insn *insns = (const struct bpf_insn *)(const void *)words;

	for (size_t pc = 0; pc < n; pc++) {
		const struct bpf_insn *i = &insns[pc];
		switch (i->code) {
		case BPF_LDX | BPF_MEM | BPF_W:
			cr_assert(i->src_reg == 1 && i->off >= 0 && i->off <= 8 && i->off % 4 == 0);
			reg[i->dst_reg] = ctx[i->off / 4];
			break;
		case BPF_ALU | BPF_AND | BPF_K:
			reg[i->dst_reg] = (uint32_t)(reg[i->dst_reg] & (uint32_t)i->imm);
			break;
		case BPF_ALU | BPF_RSH | BPF_K:
			reg[i->dst_reg] = (uint32_t)reg[i->dst_reg] >> i->imm;
			break;
		case BPF_ALU | BPF_MOV | BPF_X:
			reg[i->dst_reg] = (uint32_t)reg[i->src_reg];
			break;
		case BPF_ALU64 | BPF_MOV | BPF_K:
			reg[i->dst_reg] = (uint64_t)(int64_t)i->imm;
			break;
		case BPF_JMP | BPF_JNE | BPF_K:
			if (reg[i->dst_reg] != (uint64_t)(int64_t)i->imm)
				pc += (size_t)i->off;
			break;
		case BPF_JMP | BPF_JNE | BPF_X:
			if (reg[i->dst_reg] != reg[i->src_reg])
				pc += (size_t)i->off;
			break;
		case BPF_JMP | BPF_EXIT:
			return (int)reg[0];
		default:
			cr_fatal("unexpected opcode 0x%x at %zu", i->code, pc);
		}
		cr_assert(pc < n, "jump out of the program");
	}
	cr_fatal("fell off the end");
	return -1;
}

#define R   BPF_DEVCG_ACC_READ
#define W   BPF_DEVCG_ACC_WRITE
#define M   BPF_DEVCG_ACC_MKNOD
#define CHR BPF_DEVCG_DEV_CHAR
#define BLK BPF_DEVCG_DEV_BLOCK

Test(cgroup_plan, device_program_last_match_wins)
{
	/* The containerd default: deny all, then a few allowed char devices. */
	struct husk_device_rule rules[4] = {
		{.allow = false, .type = 'a', .access = "rwm"},
		{.allow = true, .type = 'c', .access = "rwm"}, /* 1:3 /dev/null */
		{.allow = true, .type = 'c', .access = "rw"},  /* 136:* ptys */
		{.allow = false, .type = 'c', .access = "w"},  /* 1:3 write denied again */
	};
	SET(rules[1].major, 1);
	SET(rules[1].minor, 3);
	SET(rules[2].major, 136);
	SET(rules[3].major, 1);
	SET(rules[3].minor, 3);
	uint64_t *insns = NULL;
	size_t n = 0;
	struct husk_err err = {0};
	cr_assert(eq(int, husk__cgroup_devices_bpf_build(rules, 4, &insns, &n, &err), 0), "%s",
		  err.msg);

	cr_expect(eq(int, run_prog(insns, n, CHR, R, 1, 3), 1), "read /dev/null");
	cr_expect(eq(int, run_prog(insns, n, CHR, M, 1, 3), 1), "mknod /dev/null");
	cr_expect(eq(int, run_prog(insns, n, CHR, W, 1, 3), 0), "write /dev/null denied by rule 4");
	cr_expect(eq(int, run_prog(insns, n, CHR, R | W, 1, 3), 1),
		  "rw is not a subset of 'w' alone: rule 4 does not match, rule 2 does");
	cr_expect(eq(int, run_prog(insns, n, CHR, R | W, 136, 7), 1), "pty");
	cr_expect(eq(int, run_prog(insns, n, CHR, M, 136, 7), 0), "mknod pty not in 'rw'");
	cr_expect(eq(int, run_prog(insns, n, BLK, R, 1, 3), 0), "block 1:3");
	cr_expect(eq(int, run_prog(insns, n, CHR, R, 1, 5), 0), "/dev/zero");
	free(insns);
}

Test(cgroup_plan, device_program_no_rules_denies_and_allow_all_allows)
{
	uint64_t *insns = NULL;
	size_t n = 0;
	struct husk_err err = {0};
	cr_assert(eq(int, husk__cgroup_devices_bpf_build(NULL, 0, &insns, &n, &err), 0));
	cr_expect(eq(int, run_prog(insns, n, CHR, R, 1, 3), 0));
	free(insns);

	struct husk_device_rule all = {.allow = true, .type = 'a', .access = "rwm"};
	cr_assert(eq(int, husk__cgroup_devices_bpf_build(&all, 1, &insns, &n, &err), 0));
	cr_expect(eq(int, run_prog(insns, n, BLK, R | W | M, 8, 0), 1));
	free(insns);

	struct husk_device_rule bad = {.allow = true, .type = 'x', .access = "r"};
	cr_expect(eq(int, husk__cgroup_devices_bpf_build(&bad, 1, &insns, &n, &err), -EINVAL));
	struct husk_device_rule neg = {.allow = true, .type = 'c', .access = "r"};
	SET(neg.major, -2);
	cr_expect(eq(int, husk__cgroup_devices_bpf_build(&neg, 1, &insns, &n, &err), -EINVAL));
}
