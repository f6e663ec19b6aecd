/*
 * cgroup v2 device control: a BPF_PROG_TYPE_CGROUP_DEVICE program generated from the OCI
 * rules, loaded and attached with the bpf(2) syscall directly (no libbpf).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/bpf.h>
#include <sys/syscall.h>

#include "cgroup.h"
#include "husk/cleanup.h"
#include "husk/err.h"
#include "husk/spec.h"

struct prog {
	struct bpf_insn *insns;
	size_t n;
	size_t cap;
};

static int emit(struct prog *p, uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		struct bpf_insn *ni = realloc(p->insns, cap * sizeof(*ni));
		if (!ni)
			return -ENOMEM;
		p->insns = ni;
		p->cap = cap;
	}
	struct bpf_insn *i = &p->insns[p->n++];
	memset(i, 0, sizeof(*i));
	i->code = code;
	i->dst_reg = dst & 0xf;
	i->src_reg = src & 0xf;
	i->off = off;
	i->imm = imm;
	return 0;
}

static uint32_t access_mask(const char *access)
{
	uint32_t m = 0;
	for (const char *a = access; *a; a++) {
		if (*a == 'r')
			m |= BPF_DEVCG_ACC_READ;
		else if (*a == 'w')
			m |= BPF_DEVCG_ACC_WRITE;
		else if (*a == 'm')
			m |= BPF_DEVCG_ACC_MKNOD;
	}
	return m;
}

#define ALL_ACCESS (BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD)

static bool matches_all(const struct husk_device_rule *r)
{
	return r->type == 'a' && !r->major.set && !r->minor.set &&
	       access_mask(r->access[0] ? r->access : "rwm") == ALL_ACCESS;
}

/*
 * One rule: a block that falls through to the next block on mismatch and returns the rule's
 * verdict on match. Registers (set up by the prologue): w2 device type, w3 requested access,
 * w4 major, w5 minor.
 */
static int emit_rule(struct prog *p, const struct husk_device_rule *r)
{
	size_t jumps[4];
	size_t nj = 0;
	int e = 0;
	uint32_t acc = access_mask(r->access[0] ? r->access : "rwm");

	if (r->type == 'c' || r->type == 'b') {
		jumps[nj++] = p->n;
		e = emit(p, BPF_JMP | BPF_JNE | BPF_K, 2, 0, 0,
			 r->type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK);
	}
	if (e == 0 && acc != ALL_ACCESS) {
		/* Match only when the request is a subset of the rule's access. */
		e = emit(p, BPF_ALU | BPF_MOV | BPF_X, 1, 3, 0, 0);
		if (e == 0)
			e = emit(p, BPF_ALU | BPF_AND | BPF_K, 1, 0, 0, (int32_t)acc);
		jumps[nj++] = p->n;
		if (e == 0)
			e = emit(p, BPF_JMP | BPF_JNE | BPF_X, 1, 3, 0, 0);
	}
	if (e == 0 && r->major.set) {
		jumps[nj++] = p->n;
		e = emit(p, BPF_JMP | BPF_JNE | BPF_K, 4, 0, 0, (int32_t)r->major.v);
	}
	if (e == 0 && r->minor.set) {
		jumps[nj++] = p->n;
		e = emit(p, BPF_JMP | BPF_JNE | BPF_K, 5, 0, 0, (int32_t)r->minor.v);
	}
	if (e == 0)
		e = emit(p, BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, r->allow ? 1 : 0);
	if (e == 0)
		e = emit(p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	if (e < 0)
		return e;
	/* Each mismatch jumps to the first instruction after this block. */
	for (size_t j = 0; j < nj; j++)
		p->insns[jumps[j]].off = (int16_t)(p->n - jumps[j] - 1);
	return 0;
}

int husk__cgroup_devices_bpf_build(const struct husk_device_rule *rules, size_t n,
				   uint64_t **ret_insns, size_t *ret_n_insns, struct husk_err *err)
{
	struct prog p = {0};
	int e = 0;

	if (n > HUSK_CGROUP_MAX_DEVICE_RULES)
		return husk_err_set(err, HUSK_ERR_INVALID, 0, "devices: more than %d rules",
				    HUSK_CGROUP_MAX_DEVICE_RULES);
	for (size_t i = 0; i < n; i++) {
		const struct husk_device_rule *r = &rules[i];
		if (r->type != 'a' && r->type != 'c' && r->type != 'b')
			return husk_err_set(err, HUSK_ERR_INVALID, 0, "devices[%zu]: bad type '%c'",
					    i, r->type);
		if ((r->major.set && (r->major.v < 0 || r->major.v > INT32_MAX)) ||
		    (r->minor.set && (r->minor.v < 0 || r->minor.v > INT32_MAX)))
			return husk_err_set(err, HUSK_ERR_INVALID, 0,
					    "devices[%zu]: major/minor out of range", i);
	}
	/* struct bpf_cgroup_dev_ctx: access_type = (access << 16) | type, major, minor. */
	static const struct {
		uint8_t code, dst, src;
		int16_t off;
		int32_t imm;
	} prologue[] = {
		{BPF_LDX | BPF_MEM | BPF_W, 2, 1, 0, 0},
		{BPF_ALU | BPF_AND | BPF_K, 2, 0, 0, 0xffff},
		{BPF_LDX | BPF_MEM | BPF_W, 3, 1, 0, 0},
		{BPF_ALU | BPF_RSH | BPF_K, 3, 0, 0, 16},
		{BPF_LDX | BPF_MEM | BPF_W, 4, 1, 4, 0},
		{BPF_LDX | BPF_MEM | BPF_W, 5, 1, 8, 0},
	};
	for (size_t i = 0; e == 0 && i < ARRAY_SIZE(prologue); i++)
		e = emit(&p, prologue[i].code, prologue[i].dst, prologue[i].src, prologue[i].off,
			 prologue[i].imm);
	/* OCI: the last matching rule decides, so test the rules from the last one back. A
	 * rule that matches everything ends the program: the verifier rejects code after it
	 * as unreachable. */
	bool catch_all = false;
	for (size_t i = n; e == 0 && i > 0 && !catch_all; i--) {
		e = emit_rule(&p, &rules[i - 1]);
		catch_all = matches_all(&rules[i - 1]);
	}
	/* No rule matched: deny. */
	if (e == 0 && !catch_all)
		e = emit(&p, BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0);
	if (e == 0 && !catch_all)
		e = emit(&p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	if (e < 0) {
		free(p.insns);
		return husk_err_errno(err, -e, "devices: build program");
	}
	_Static_assert(sizeof(struct bpf_insn) == sizeof(uint64_t), "bpf_insn is 8 bytes");
	*ret_insns = (uint64_t *)(void *)p.insns;
	*ret_n_insns = p.n;
	return 0;
}

static int sys_bpf(int cmd, union bpf_attr *attr)
{
	return (int)syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

/* Programs attached to the cgroup for BPF_CGROUP_DEVICE before ours. */
static int query_attached(int cgfd, uint32_t *ids, uint32_t cap, uint32_t *ret_n)
{
	union bpf_attr attr;

	memset(ids, 0, cap * sizeof(*ids)); /* the kernel fills the first prog_cnt */
	memset(&attr, 0, sizeof(attr));
	attr.query.target_fd = (uint32_t)cgfd;
	attr.query.attach_type = BPF_CGROUP_DEVICE;
	attr.query.prog_ids = (uint64_t)(uintptr_t)ids;
	attr.query.prog_cnt = cap;
	if (sys_bpf(BPF_PROG_QUERY, &attr) < 0)
		return -errno;
	*ret_n = attr.query.prog_cnt < cap ? attr.query.prog_cnt : cap;
	return 0;
}

static void detach_id(int cgfd, uint32_t id)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.prog_id = id;
	int fd = sys_bpf(BPF_PROG_GET_FD_BY_ID, &attr);
	if (fd < 0)
		return;
	memset(&attr, 0, sizeof(attr));
	attr.target_fd = (uint32_t)cgfd;
	attr.attach_bpf_fd = (uint32_t)fd;
	attr.attach_type = BPF_CGROUP_DEVICE;
	(void)sys_bpf(BPF_PROG_DETACH, &attr);
	husk_safe_close(fd);
}

int husk__cgroup_devices_bpf_apply(int cgroup_dirfd, const struct husk_device_rule *rules, size_t n,
				   struct husk_err *err)
{
	_cleanup_free_ uint64_t *insns = NULL;
	size_t n_insns = 0;
	char log[4096];
	uint32_t old[64];
	uint32_t n_old = 0;
	union bpf_attr attr;

	int r = husk__cgroup_devices_bpf_build(rules, n, &insns, &n_insns, err);
	if (r < 0)
		return r;
	r = query_attached(cgroup_dirfd, old, ARRAY_SIZE(old), &n_old);
	if (r < 0)
		return husk_err_errno(err, -r, "devices: query attached programs");

	memset(&attr, 0, sizeof(attr));
	log[0] = '\0';
	attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	attr.insns = (uint64_t)(uintptr_t)insns;
	attr.insn_cnt = (uint32_t)n_insns;
	attr.license = (uint64_t)(uintptr_t) "Apache";
	attr.log_buf = (uint64_t)(uintptr_t)log;
	attr.log_size = sizeof(log);
	attr.log_level = 1;
	_cleanup_close_ int prog = sys_bpf(BPF_PROG_LOAD, &attr);
	if (prog < 0 && errno == ENOSPC) {
		/* The verifier log did not fit; load again without it for the real error. */
		attr.log_buf = 0;
		attr.log_size = 0;
		attr.log_level = 0;
		prog = sys_bpf(BPF_PROG_LOAD, &attr);
	}
	if (prog < 0)
		return husk_err_errno(err, errno, "devices: load BPF program (%.200s)", log);

	memset(&attr, 0, sizeof(attr));
	attr.target_fd = (uint32_t)cgroup_dirfd;
	attr.attach_bpf_fd = (uint32_t)prog;
	attr.attach_type = BPF_CGROUP_DEVICE;
	attr.attach_flags = BPF_F_ALLOW_MULTI;
	if (sys_bpf(BPF_PROG_ATTACH, &attr) < 0)
		return husk_err_errno(err, errno, "devices: attach BPF program");
	/* Detach the previous programs only now, so the cgroup is never unfiltered. */
	for (uint32_t i = 0; i < n_old; i++)
		detach_id(cgroup_dirfd, old[i]);
	return 0;
}
