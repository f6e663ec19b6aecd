/*
 * The features document against the engine: every hook, mount option, namespace,
 * capability, seccomp action, operator, architecture and flag it lists goes back through
 * the spec parser, the native plan or the seccomp builder, and must be applied there.
 */
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include <sys/capability.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <jansson.h>
#include <seccomp.h>

#include "husk/err.h"
#include "husk/features.h"
#include "husk/spec.h"
#include "native/native.h"
#include "native/plan.h"

static json_t *doc;

/* jansson's json_is_* are macros, which criterion's cr_assert cannot take as they are. */
static bool truthy(bool v)
{
	return v;
}

static void load(void)
{
	struct husk_err err = {0};
	char *text = NULL;
	size_t len = 0;
	json_error_t jerr;

	cr_assert(eq(int, husk_features_json(/* pretty= */ true, &text, &len, &err), 0), "%s",
		  err.msg);
	cr_assert(eq(sz, strlen(text), len));
	cr_assert(eq(chr, text[len - 1], '\n'), "pretty output ends in a newline, as runc's");
	doc = json_loads(text, 0, &jerr);
	cr_assert(doc != NULL, "not JSON: %s", jerr.text);
	free(text);
}

static void unload(void)
{
	json_decref(doc);
	doc = NULL;
}

TestSuite(features, .init = load, .fini = unload);

static json_t *path(const char *a, const char *b, const char *c)
{
	json_t *v = json_object_get(doc, a);
	if (v && b)
		v = json_object_get(v, b);
	if (v && c)
		v = json_object_get(v, c);
	cr_assert(v != NULL, "features has no %s%s%s%s%s", a, b ? "." : "", b ? b : "",
		  c ? "." : "", c ? c : "");
	return v;
}

/* A string array, sorted (runc sorts every list but hooks) and without duplicates. */
static json_t *names(json_t *a, bool sorted)
{
	cr_assert(truthy(json_is_array(a) && json_array_size(a) > 0));
	for (size_t i = 0; i < json_array_size(a); i++) {
		cr_assert(truthy(json_is_string(json_array_get(a, i))));
		if (i > 0 && sorted)
			cr_assert(lt(int,
				     strcmp(json_string_value(json_array_get(a, i - 1)),
					    json_string_value(json_array_get(a, i))),
				     0),
				  "sorted and unique at %zu", i);
	}
	return a;
}

Test(features, shape_as_runtime_spec_features_md)
{
	cr_assert(eq(str, (char *)json_string_value(path("ociVersionMin", NULL, NULL)), "1.0.0"));
	cr_assert(truthy(json_is_string(path("ociVersionMax", NULL, NULL))));
	cr_assert(truthy(json_is_true(path("linux", "seccomp", "enabled"))));
	cr_assert(truthy(json_is_true(path("linux", "cgroup", "v1"))));
	cr_assert(truthy(json_is_true(path("linux", "cgroup", "v2"))));
	/* Applied by the native engine wherever the host runs them (runc says true too). */
	cr_assert(truthy(json_is_true(path("linux", "apparmor", "enabled"))));
	cr_assert(truthy(json_is_true(path("linux", "selinux", "enabled"))));
	/* Parsed but not applied by the native engine: never claimed. */
	cr_assert(truthy(json_is_false(path("linux", "cgroup", "systemd"))));
	cr_assert(truthy(json_is_false(path("linux", "intelRdt", "enabled"))));
	const struct scmp_version *v = seccomp_version();
	char ver[48];
	(void)snprintf(ver, sizeof(ver), "%u.%u.%u", v->major, v->minor, v->micro);
	cr_assert(eq(str,
		     (char *)json_string_value(
			     path("annotations", "io.github.seccomp.libseccomp.version", NULL)),
		     ver));
}

Test(features, compact_form_is_the_same_document)
{
	struct husk_err err = {0};
	char *text = NULL;
	size_t len = 0;

	cr_assert(eq(int, husk_features_json(/* pretty= */ false, &text, &len, &err), 0));
	cr_assert(eq(ptr, strchr(text, '\n'), NULL));
	json_t *compact = json_loads(text, 0, NULL);
	cr_assert(truthy(json_equal(compact, doc)));
	json_decref(compact);
	free(text);
}

Test(features, every_hook_is_parsed_into_its_kind)
{
	json_t *hooks = names(path("hooks", NULL, NULL), /* sorted= */ false);

	cr_assert(eq(sz, json_array_size(hooks), (size_t)_HUSK_HOOK_KIND_MAX));
	for (size_t i = 0; i < json_array_size(hooks); i++) {
		const char *h = json_string_value(json_array_get(hooks, i));
		char js[512];
		struct husk_spec *spec = NULL;
		struct husk_err err = {0};
		(void)snprintf(js, sizeof(js),
			       "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"},"
			       "\"hooks\":{\"%s\":[{\"path\":\"/bin/true\"}]}}",
			       h);
		cr_assert(eq(int, husk_spec_parse(js, strlen(js), &spec, &err), 0), "%s: %s", h,
			  err.msg);
		size_t total = 0;
		for (int k = 0; k < _HUSK_HOOK_KIND_MAX; k++)
			total += spec->hooks.n[k];
		cr_assert(eq(sz, total, (size_t)1), "%s: one hook", h);
		cr_assert(eq(sz, spec->hooks.n[i], (size_t)1), "%s lands in kind %zu", h, i);
		husk_spec_free(spec);
	}
}

/* A tmpfs mount with one option through the gofer plan: its data string, flags, binds. */
static void plan_one(const char *opt, struct husk_gofer_plan *p)
{
	static char *args[] = {"true"};
	char *opts[] = {(char *)opt};
	struct husk_process proc = {.args = args, .n_args = 1, .cwd = "/"};
	static struct husk_id_mapping map = {0, 1000, 10};
	/* idmap and ridmap apply to binds only, with mappings */
	bool idmap = strstr(opt, "idmap") != NULL;
	struct husk_mount m = {.destination = "/x",
			       .type = idmap ? "bind" : "tmpfs",
			       .source = "tmpfs",
			       .options = opts,
			       .n_options = 1,
			       .uid_mappings = idmap ? &map : NULL,
			       .n_uid_mappings = idmap ? 1 : 0,
			       .gid_mappings = idmap ? &map : NULL,
			       .n_gid_mappings = idmap ? 1 : 0};
	struct husk_spec spec = {.process = &proc, .root_path = "/r", .mounts = &m, .n_mounts = 1};
	struct husk_err err = {0};

	cr_assert(eq(int, husk__gofer_plan_build(&spec, "/b", NULL, 0, p, &err), 0), "%s: %s", opt,
		  err.msg);
	cr_assert(eq(sz, p->n_mounts, (size_t)1));
}

Test(features, every_mount_option_is_applied_not_passed_as_data)
{
	json_t *opts = names(path("mountOptions", NULL, NULL), /* sorted= */ true);
	struct husk_gofer_plan p;

	/* The check can fail: an option the plan does not know becomes filesystem data. */
	plan_one("size=1k", &p);
	cr_assert(eq(str, p.mounts[0].data, "size=1k"));
	husk__gofer_plan_done(&p);

	for (size_t i = 0; i < json_array_size(opts); i++) {
		const char *o = json_string_value(json_array_get(opts, i));
		plan_one(o, &p);
		const struct husk_plan_mount *m = &p.mounts[0];
		cr_assert(eq(ptr, m->data, NULL), "'%s' is handed to the filesystem as data", o);
		/* A clearing option ("rw", "suid", "atime") leaves no bit but a cleared one;
		 * "defaults" neither; the rest leave one. */
		bool effect = m->flags || m->propagation || m->bind || m->attr_set || m->attr_clr ||
			      m->idmap || m->tmpcopyup;
		bool clears = m->cleared && !effect;
		cr_assert(effect || clears || strcmp(o, "defaults") == 0,
			  "'%s': flags %#lx propagation %#lx bind %d", o, m->flags, m->propagation,
			  m->bind);
		husk__gofer_plan_done(&p);
	}
}

Test(features, every_namespace_is_created_by_the_init)
{
	static const struct {
		const char *name;
		uint64_t flag;
	} clone_flags[] = {
		{"cgroup", CLONE_NEWCGROUP}, {"ipc", CLONE_NEWIPC}, {"mount", CLONE_NEWNS},
		{"network", CLONE_NEWNET},   {"pid", CLONE_NEWPID}, {"time", CLONE_NEWTIME},
		{"user", CLONE_NEWUSER},     {"uts", CLONE_NEWUTS},
	};
	json_t *ns = names(path("linux", "namespaces", NULL), /* sorted= */ true);

	for (size_t i = 0; i < json_array_size(ns); i++) {
		const char *n = json_string_value(json_array_get(ns, i));
		char js[512];
		struct husk_spec *spec = NULL;
		struct husk_init_plan p;
		struct husk_err err = {0};
		uint64_t want = 0;
		for (size_t k = 0; k < sizeof(clone_flags) / sizeof(clone_flags[0]); k++)
			if (strcmp(clone_flags[k].name, n) == 0)
				want = clone_flags[k].flag;
		cr_assert(ne(u64, want, (uint64_t)0), "'%s' is a namespace the kernel has", n);
		char extra[200] = "";
		if (strcmp(n, "mount") != 0)
			(void)snprintf(extra, sizeof(extra), ",{\"type\":\"%s\"}", n);
		/* A new user namespace is only created with mappings. */
		const char *maps = strcmp(n, "user") != 0
					   ? ""
					   : ",\"uidMappings\":[{\"containerID\":0,\"hostID\":1000,"
					     "\"size\":1}],\"gidMappings\":[{\"containerID\":0,"
					     "\"hostID\":1000,\"size\":1}]";
		(void)snprintf(js, sizeof(js),
			       "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"/rootfs\"},"
			       "\"process\":{\"args\":[\"true\"],\"cwd\":\"/\"},"
			       "\"linux\":{\"namespaces\":[{\"type\":\"mount\"}%s]%s}}",
			       extra, maps);
		cr_assert(eq(int, husk_spec_parse(js, strlen(js), &spec, &err), 0), "%s: %s", n,
			  err.msg);
		cr_assert(eq(int, husk__init_plan_build(spec, &p, &err), 0), "%s: %s", n, err.msg);
		cr_assert(ne(u64, p.clone_flags & want, (uint64_t)0),
			  "'%s' is created (clone flags %#llx)", n,
			  (unsigned long long)p.clone_flags);
		husk__init_plan_done(&p);
		husk_spec_free(spec);
	}
}

Test(features, every_capability_lands_in_the_masks)
{
	json_t *caps = names(path("linux", "capabilities", NULL), /* sorted= */ false);

	cr_assert(eq(sz, json_array_size(caps), (size_t)cap_max_bits()),
		  "every capability of this kernel");
	for (size_t i = 0; i < json_array_size(caps); i++) {
		char *name = (char *)json_string_value(json_array_get(caps, i));
		struct husk_process proc = {.capabilities = {.set = true,
							     .bounding = &name,
							     .n_bounding = 1,
							     .permitted = &name,
							     .n_permitted = 1}};
		struct husk_caps_plan p;
		struct husk_err err = {0};
		cap_value_t v;
		cr_assert(eq(int, husk__caps_plan_build(&proc, &p, &err), 0), "%s: %s", name,
			  err.msg);
		cr_assert(eq(int, cap_from_name(name, &v), 0));
		cr_assert(eq(u64, p.bounding, UINT64_C(1) << v), "%s", name);
		cr_assert(eq(u64, p.permitted, UINT64_C(1) << v), "%s", name);
	}
}

/* A filter with one rule; the seccomp builder must accept it. */
static void seccomp_ok(const char *action, const char *op, const char *arch, const char *flag)
{
	char *sc_names[] = {"getpid"};
	struct husk_seccomp_arg arg = {.index = 0, .value = 1, .value_two = 1, .op = (char *)op};
	struct husk_seccomp_syscall sc = {.names = sc_names,
					  .n_names = 1,
					  .action = (char *)action,
					  .args = op ? &arg : NULL,
					  .n_args = op ? 1 : 0};
	char *archs[] = {(char *)arch};
	char *flags[] = {(char *)flag};
	struct husk_seccomp s = {.default_action = "SCMP_ACT_ALLOW",
				 .architectures = arch ? archs : NULL,
				 .n_architectures = arch ? 1 : 0,
				 .flags = flag ? flags : NULL,
				 .n_flags = flag ? 1 : 0,
				 .syscalls = &sc,
				 .n_syscalls = 1};
	struct husk_err err = {0};
	void *ctx = NULL;

	if (!action)
		sc.action = "SCMP_ACT_ERRNO";
	cr_assert(eq(int, husk__seccomp_build(&s, &ctx, &err), 0), "%s %s %s %s: %s",
		  action ? action : "", op ? op : "", arch ? arch : "", flag ? flag : "", err.msg);
	cr_assert(ctx != NULL);
	husk__seccomp_free(ctx);
}

Test(features, every_seccomp_action_operator_arch_and_flag_builds)
{
	const char *lists[] = {"actions", "operators", "archs", "supportedFlags"};

	for (size_t l = 0; l < 4; l++) {
		json_t *a = path("linux", "seccomp", lists[l]);
		/* With no seccomp(2) (valgrind), no flag is supported; the other lists stay. */
		if (l < 3 || json_array_size(a) > 0)
			(void)names(a, /* sorted= */ true);
		for (size_t i = 0; i < json_array_size(a); i++) {
			const char *v = json_string_value(json_array_get(a, i));
			seccomp_ok(l == 0 ? v : NULL, l == 1 ? v : NULL, l == 2 ? v : NULL,
				   l == 3 ? v : NULL);
		}
	}
	/* supportedFlags: the known flags this libseccomp and kernel take, and only those. */
	json_t *known = names(path("linux", "seccomp", "knownFlags"), /* sorted= */ true);
	json_t *supported = path("linux", "seccomp", "supportedFlags");
	for (size_t i = 0; i < json_array_size(known); i++) {
		const char *f = json_string_value(json_array_get(known, i));
		bool listed = false;
		for (size_t k = 0; k < json_array_size(supported); k++)
			listed |= strcmp(f, json_string_value(json_array_get(supported, k))) == 0;
		cr_assert(eq(int, husk__seccomp_flag_usable(f), listed), "%s", f);
	}
	/* And the builder refuses what is not listed, so the lists are not too short by
	 * accident of a permissive builder. */
	char *sc_names[] = {"getpid"};
	struct husk_seccomp_syscall sc = {
		.names = sc_names, .n_names = 1, .action = "SCMP_ACT_NOTIFY"};
	struct husk_seccomp s = {
		.default_action = "SCMP_ACT_ALLOW", .syscalls = &sc, .n_syscalls = 1};
	struct husk_err err = {0};
	void *ctx = NULL;
	cr_assert(lt(int, husk__seccomp_build(&s, &ctx, &err), 0));
	cr_assert(eq(ptr, ctx, NULL));
}
