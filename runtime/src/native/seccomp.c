/* The OCI seccomp profile as a libseccomp filter, built in the parent, loaded by the child. */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include <seccomp.h>

#include "husk/cleanup.h"
#include "husk/err.h"
#include "husk/spec.h"
#include "native/native.h"

static int action_parse(const char *name, bool has_errno, uint64_t errno_ret, uint32_t *ret)
{
	uint32_t e = has_errno ? (uint32_t)errno_ret : EPERM;

	if (!name)
		return -EINVAL;
	if (strcmp(name, "SCMP_ACT_ALLOW") == 0)
		*ret = SCMP_ACT_ALLOW;
	else if (strcmp(name, "SCMP_ACT_ERRNO") == 0)
		*ret = SCMP_ACT_ERRNO(e);
	else if (strcmp(name, "SCMP_ACT_KILL") == 0 || strcmp(name, "SCMP_ACT_KILL_THREAD") == 0)
		*ret = SCMP_ACT_KILL_THREAD;
	else if (strcmp(name, "SCMP_ACT_KILL_PROCESS") == 0)
		*ret = SCMP_ACT_KILL_PROCESS;
	else if (strcmp(name, "SCMP_ACT_TRAP") == 0)
		*ret = SCMP_ACT_TRAP;
	else if (strcmp(name, "SCMP_ACT_TRACE") == 0)
		*ret = SCMP_ACT_TRACE(e);
	else if (strcmp(name, "SCMP_ACT_LOG") == 0)
		*ret = SCMP_ACT_LOG;
	else
		return -EINVAL;
	return 0;
}

static int op_parse(const char *name, enum scmp_compare *ret)
{
	static const struct {
		const char *name;
		enum scmp_compare op;
	} ops[] = {
		{"SCMP_CMP_NE", SCMP_CMP_NE},
		{"SCMP_CMP_LT", SCMP_CMP_LT},
		{"SCMP_CMP_LE", SCMP_CMP_LE},
		{"SCMP_CMP_EQ", SCMP_CMP_EQ},
		{"SCMP_CMP_GE", SCMP_CMP_GE},
		{"SCMP_CMP_GT", SCMP_CMP_GT},
		{"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
	};

	for (size_t i = 0; name && i < ARRAY_SIZE(ops); i++)
		if (strcmp(ops[i].name, name) == 0) {
			*ret = ops[i].op;
			return 0;
		}
	return -EINVAL;
}

static int arch_add(scmp_filter_ctx ctx, const char *name, size_t idx, struct husk_err *err)
{
	char lower[32];
	size_t i = 0;

	if (!name || strncmp(name, "SCMP_ARCH_", 10) != 0 || strlen(name + 10) >= sizeof(lower))
		return husk_err_set(err, HUSK_ERR_INVALID, 0,
				    "linux.seccomp.architectures[%zu]: unknown '%s'", idx,
				    name ? name : "");
	for (const char *s = name + 10; *s; s++)
		lower[i++] = (char)tolower((unsigned char)*s);
	lower[i] = '\0';
	uint32_t arch = seccomp_arch_resolve_name(lower);
	if (!arch)
		return husk_err_set(err, HUSK_ERR_INVALID, 0,
				    "linux.seccomp.architectures[%zu]: unknown '%s'", idx, name);
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
		const char *f = s->flags[i];
		int r = 0;
		if (strcmp(f, "SECCOMP_FILTER_FLAG_LOG") == 0)
			r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_LOG, 1);
		else if (strcmp(f, "SECCOMP_FILTER_FLAG_SPEC_ALLOW") == 0)
			r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_SSB, 1);
		else if (strcmp(f, "SECCOMP_FILTER_FLAG_TSYNC") == 0)
			r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
		else
			return husk_err_set(err, HUSK_ERR_INVALID, 0,
					    "linux.seccomp.flags[%zu]: unknown '%s'", i, f);
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
