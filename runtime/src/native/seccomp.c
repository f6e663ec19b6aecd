/* The OCI seccomp profile as a libseccomp filter, built in the parent, loaded by the child. */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include <seccomp.h>

#include "husk/cleanup.h"
#include "husk/err.h"
#include "husk/spec.h"
#include "native/native.h"

/* The OCI actions; an errno-taking action carries the spec's errnoRet (EPERM by default). */
static const struct {
	const char *name;
	uint32_t action;
	bool takes_errno;
} actions[] = {
	{"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW, false},
	{"SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0), true},
	/* runc's "SCMP_ACT_KILL" is libseccomp's thread kill. */
	{"SCMP_ACT_KILL", SCMP_ACT_KILL_THREAD, false},
	{"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS, false},
	{"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD, false},
	{"SCMP_ACT_LOG", SCMP_ACT_LOG, false},
	{"SCMP_ACT_TRACE", SCMP_ACT_TRACE(0), true},
	{"SCMP_ACT_TRAP", SCMP_ACT_TRAP, false},
};

static const struct {
	const char *name;
	enum scmp_compare op;
} operators[] = {
	{"SCMP_CMP_EQ", SCMP_CMP_EQ}, {"SCMP_CMP_GE", SCMP_CMP_GE},
	{"SCMP_CMP_GT", SCMP_CMP_GT}, {"SCMP_CMP_LE", SCMP_CMP_LE},
	{"SCMP_CMP_LT", SCMP_CMP_LT}, {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
	{"SCMP_CMP_NE", SCMP_CMP_NE},
};

static const struct {
	const char *name;
	enum scmp_filter_attr attr;
} filter_flags[] = {
	{"SECCOMP_FILTER_FLAG_LOG", SCMP_FLTATR_CTL_LOG},
	{"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SCMP_FLTATR_CTL_SSB},
	{"SECCOMP_FILTER_FLAG_TSYNC", SCMP_FLTATR_CTL_TSYNC},
};

/* The runtime-spec's architecture names; husk__seccomp_arch_usable() picks the usable ones. */
static const char *const arch_names[] = {
	"SCMP_ARCH_AARCH64",   "SCMP_ARCH_ARM",	     "SCMP_ARCH_MIPS",	   "SCMP_ARCH_MIPS64",
	"SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL",   "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32",
	"SCMP_ARCH_PARISC",    "SCMP_ARCH_PARISC64", "SCMP_ARCH_PPC",	   "SCMP_ARCH_PPC64",
	"SCMP_ARCH_PPC64LE",   "SCMP_ARCH_RISCV64",  "SCMP_ARCH_S390",	   "SCMP_ARCH_S390X",
	"SCMP_ARCH_X32",       "SCMP_ARCH_X86",	     "SCMP_ARCH_X86_64",
};

const char *husk__seccomp_action_name(size_t i)
{
	return i < ARRAY_SIZE(actions) ? actions[i].name : NULL;
}

const char *husk__seccomp_operator_name(size_t i)
{
	return i < ARRAY_SIZE(operators) ? operators[i].name : NULL;
}

const char *husk__seccomp_flag_name(size_t i)
{
	return i < ARRAY_SIZE(filter_flags) ? filter_flags[i].name : NULL;
}

const char *husk__seccomp_arch_name(size_t i)
{
	return i < ARRAY_SIZE(arch_names) ? arch_names[i] : NULL;
}

static int action_parse(const char *name, bool has_errno, uint64_t errno_ret, uint32_t *ret)
{
	uint32_t e = has_errno ? (uint32_t)errno_ret : EPERM;

	for (size_t i = 0; name && i < ARRAY_SIZE(actions); i++) {
		if (strcmp(actions[i].name, name) != 0)
			continue;
		*ret = actions[i].takes_errno ? actions[i].action | (e & 0x0000ffffU)
					      : actions[i].action;
		return 0;
	}
	return -EINVAL;
}

static int op_parse(const char *name, enum scmp_compare *ret)
{
	for (size_t i = 0; name && i < ARRAY_SIZE(operators); i++)
		if (strcmp(operators[i].name, name) == 0) {
			*ret = operators[i].op;
			return 0;
		}
	return -EINVAL;
}

/* "SCMP_ARCH_X86_64" → libseccomp's token for "x86_64"; 0 when it knows no such arch. */
uint32_t husk__seccomp_arch_resolve(const char *name)
{
	char lower[32];
	size_t i = 0;

	if (!name || strncmp(name, "SCMP_ARCH_", 10) != 0 || strlen(name + 10) >= sizeof(lower))
		return 0;
	for (const char *s = name + 10; *s; s++)
		lower[i++] = (char)tolower((unsigned char)*s);
	lower[i] = '\0';
	return seccomp_arch_resolve_name(lower);
}

bool husk__seccomp_arch_usable(const char *name)
{
	uint32_t arch = husk__seccomp_arch_resolve(name);

	if (!arch)
		return false;
	/* A filter is native-endian: libseccomp refuses other-endian arches (EDOM). */
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx)
		return false;
	int r = seccomp_arch_add(ctx, arch);
	seccomp_release(ctx);
	return r == 0 || r == -EEXIST;
}

static int arch_add(scmp_filter_ctx ctx, const char *name, size_t idx, struct husk_err *err)
{
	uint32_t arch = husk__seccomp_arch_resolve(name);

	if (!arch)
		return husk_err_set(err, HUSK_ERR_INVALID, 0,
				    "linux.seccomp.architectures[%zu]: unknown '%s'", idx,
				    name ? name : "");
	int r = seccomp_arch_add(ctx, arch);
	if (r < 0 && r != -EEXIST)
		return husk_err_errno(err, -r, "linux.seccomp.architectures[%zu]", idx);
	return 0;
}

static int rule_add(scmp_filter_ctx ctx, uint32_t def, const struct husk_seccomp_syscall *sc,
		    size_t idx, struct husk_err *err)
{
	struct scmp_arg_cmp cmps[6];
	uint32_t action;

	if (action_parse(sc->action, sc->errno_ret.set, sc->errno_ret.v, &action) < 0)
		return husk_err_set(err, HUSK_ERR_INVALID, 0,
				    "linux.seccomp.syscalls[%zu].action: unknown '%s'", idx,
				    sc->action ? sc->action : "");
	if (sc->n_args > ARRAY_SIZE(cmps))
		return husk_err_set(err, HUSK_ERR_INVALID, 0,
				    "linux.seccomp.syscalls[%zu].args: at most 6", idx);
	for (size_t i = 0; i < sc->n_args; i++) {
		enum scmp_compare op;
		if (op_parse(sc->args[i].op, &op) < 0 || sc->args[i].index > 5)
			return husk_err_set(
				err, HUSK_ERR_INVALID, 0,
				"linux.seccomp.syscalls[%zu].args[%zu]: bad op or index", idx, i);
		cmps[i] = (struct scmp_arg_cmp){.arg = sc->args[i].index,
						.op = op,
						.datum_a = sc->args[i].value,
						.datum_b = sc->args[i].value_two};
	}
	if (action == def)
		return 0;
	for (size_t j = 0; j < sc->n_names; j++) {
		int nr = seccomp_syscall_resolve_name(sc->names[j]);
		/* Names this kernel or libseccomp does not know are skipped, as runc does. */
		if (nr == __NR_SCMP_ERROR)
			continue;
		int r = seccomp_rule_add_array(ctx, action, nr, (unsigned)sc->n_args, cmps);
		if (r < 0)
			return husk_err_errno(err, -r, "linux.seccomp.syscalls[%zu]: rule for '%s'",
					      idx, sc->names[j]);
	}
	return 0;
}

static int flags_apply(scmp_filter_ctx ctx, const struct husk_seccomp *s, struct husk_err *err)
{
	for (size_t i = 0; i < s->n_flags; i++) {
		size_t k = 0;
		while (k < ARRAY_SIZE(filter_flags) &&
		       strcmp(filter_flags[k].name, s->flags[i]) != 0)
			k++;
		if (k == ARRAY_SIZE(filter_flags))
			return husk_err_set(err, HUSK_ERR_INVALID, 0,
					    "linux.seccomp.flags[%zu]: unknown '%s'", i,
					    s->flags[i]);
		int r = seccomp_attr_set(ctx, filter_flags[k].attr, 1);
		if (r < 0)
			return husk_err_errno(err, -r, "linux.seccomp.flags[%zu]", i);
	}
	return 0;
}

int husk__seccomp_build(const struct husk_seccomp *s, void **ret, struct husk_err *err)
{
	uint32_t def;
	int r;

	*ret = NULL;
	if (!s)
		return 0;
	if (action_parse(s->default_action, s->default_errno_ret.set, s->default_errno_ret.v,
			 &def) < 0)
		return husk_err_set(err, HUSK_ERR_INVALID, 0,
				    "linux.seccomp.defaultAction: unknown '%s'",
				    s->default_action ? s->default_action : "");
	scmp_filter_ctx ctx = seccomp_init(def);
	if (!ctx)
		return husk_err_errno(err, ENOMEM, "seccomp_init");
	/* no_new_privs is the process spec's to decide, not libseccomp's. */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (r < 0) {
		r = husk_err_errno(err, -r, "seccomp attributes");
		goto fail;
	}
	if ((r = flags_apply(ctx, s, err)) < 0)
		goto fail;
	for (size_t i = 0; i < s->n_architectures; i++)
		if ((r = arch_add(ctx, s->architectures[i], i, err)) < 0)
			goto fail;
	for (size_t i = 0; i < s->n_syscalls; i++)
		if ((r = rule_add(ctx, def, &s->syscalls[i], i, err)) < 0)
			goto fail;
	*ret = ctx;
	return 0;
fail:
	seccomp_release(ctx);
	return r;
}

/* Whether a one-rule filter with this action or this flag builds here (libseccomp and the
 * kernel both decide: KILL_PROCESS and LOG need API level 3, SPEC_ALLOW level 4). */
static bool builds(const char *action, const char *flag)
{
	char *names[] = {(char *)"getpid"};
	char *flags[] = {(char *)flag};
	struct husk_seccomp_syscall sc = {.names = names,
					  .n_names = 1,
					  .action = (char *)(action ? action : "SCMP_ACT_ERRNO")};
	struct husk_seccomp s = {.default_action = (char *)"SCMP_ACT_ALLOW",
				 .flags = flag ? flags : NULL,
				 .n_flags = flag ? 1 : 0,
				 .syscalls = &sc,
				 .n_syscalls = 1};
	void *ctx = NULL;

	if (husk__seccomp_build(&s, &ctx, NULL) < 0)
		return false;
	husk__seccomp_free(ctx);
	return true;
}

bool husk__seccomp_action_usable(const char *name)
{
	return builds(name, NULL);
}

bool husk__seccomp_flag_usable(const char *name)
{
	return builds(NULL, name);
}

void husk__seccomp_free(void *ctx)
{
	if (ctx)
		seccomp_release(ctx);
}

int husk__seccomp_load(void *ctx)
{
	int r = seccomp_load(ctx);
	return r < 0 ? r : 0;
}
