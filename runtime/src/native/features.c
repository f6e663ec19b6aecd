/*
 * The features document of the native engine. Every list comes from the table the engine
 * itself uses (spec hooks, plan mount options and namespaces, libcap, the seccomp builder),
 * so the document cannot claim what the engine does not apply; test/unit/test_features.c
 * feeds each listed item back through the parser, the plan or the seccomp builder.
 */
#include "husk/features.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sys/capability.h>

#include <jansson.h>
#include <seccomp.h>

#include "husk/cleanup.h"
#include "husk/err.h"
#include "husk/spec.h"
#include "native/native.h"
#include "spec_json.h"

/* The runtime-spec versions whose config.json the parser reads (1.0.0 up to 1.1.0). */
#define OCI_VERSION_MIN "1.0.0"
#define OCI_VERSION_MAX "1.1.0"

typedef const char *name_fn(size_t i);

static int strcmp_p(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A sorted array of the names fn yields that keep() accepts (NULL keep: all). */
static json_t *sorted_names(name_fn *fn, bool (*keep)(const char *))
{
	size_t n = 0;
	size_t k = 0;

	while (fn(n))
		n++;
	_cleanup_free_ const char **v = calloc(n ? n : 1, sizeof(*v));
	if (!v)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (!keep || keep(fn(i)))
			v[k++] = fn(i);
	qsort(v, k, sizeof(*v), strcmp_p);
	json_t *a = json_array();
	for (size_t i = 0; a && i < k; i++) {
		if (json_array_append_new(a, json_string(v[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/* Hooks in the OCI lifecycle order, as the spec parser names them. */
static json_t *hooks(void)
{
	json_t *a = json_array();

	for (int k = 0; a && k < _HUSK_HOOK_KIND_MAX; k++) {
		if (json_array_append_new(a, json_string(husk_hook_kind_to_string(k))) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static const char *ns_name(size_t i)
{
	return i < _HUSK_NS_TYPE_MAX ? husk_ns_type_to_string((enum husk_ns_type)i) : NULL;
}

/*
 * The kernel's capabilities that libcap can name, in number order as runc lists them. The
 * plan keeps capabilities in 64-bit masks, so nothing past 63 is offered.
 */
/*
 * Capability v's upper-case name ("CAP_CHOWN") into name: 1, or 0 when libcap knows it only
 * by number ("41"); -ENOMEM.
 */
static int cap_name(int v, char *name, size_t size)
{
	char *lower = cap_to_name((cap_value_t)v);

	if (!lower)
		return -ENOMEM;
	bool named = strncmp(lower, "cap_", 4) == 0 && strlen(lower) < size;
	for (size_t i = 0; named && lower[i]; i++)
		name[i] = (char)toupper((unsigned char)lower[i]);
	if (named)
		name[strlen(lower)] = '\0';
	(void)cap_free(lower);
	return named;
}

static json_t *capabilities(void)
{
	int last = cap_max_bits();
	json_t *a = json_array();

	for (int v = 0; a && v < last && v < 64; v++) {
		char name[64];
		int r = cap_name(v, name, sizeof(name));
		/* An unnamed number is a capability this libcap predates: not offered. */
		if (r < 0 || (r > 0 && json_array_append_new(a, json_string(name)) < 0)) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static json_t *seccomp(void)
{
	return json_pack("{s:b, s:o?, s:o?, s:o?, s:o?, s:o?}", "enabled", 1, "actions",
			 sorted_names(husk__seccomp_action_name, husk__seccomp_action_usable),
			 "operators", sorted_names(husk__seccomp_operator_name, NULL), "archs",
			 sorted_names(husk__seccomp_arch_name, husk__seccomp_arch_usable),
			 "knownFlags", sorted_names(husk__seccomp_flag_name, NULL),
			 "supportedFlags",
			 sorted_names(husk__seccomp_flag_name, husk__seccomp_flag_usable));
}

/*
 * linux: cgroup v1 and v2 (and hybrid) through cgroupfs. The systemd driver (transient
 * units over D-Bus) is not implemented: a systemd-form cgroupsPath is only mapped to the
 * path systemd would use. AppArmor and SELinux are applied (native/lsm.c; "enabled" means
 * supported by the runtime, as runc's document says, not enabled on this host); Intel RDT is
 * parsed but not applied.
 */
static json_t *linux_features(void)
{
	return json_pack("{s:o?, s:o?, s:{s:b, s:b, s:b, s:b, s:b}, s:o?, s:{s:b}, s:{s:b}, "
			 "s:{s:b}, s:{s:{s:b}}}",
			 "namespaces", sorted_names(ns_name, NULL), "capabilities", capabilities(),
			 "cgroup", "v1", 1, "v2", 1, "systemd", 0, "systemdUser", 0, "rdma", 0,
			 "seccomp", seccomp(), "apparmor", "enabled", 1, "selinux", "enabled", 1,
			 "intelRdt", "enabled", 0, "mountExtensions", "idmap", "enabled", 0);
}

static json_t *annotations(void)
{
	const struct scmp_version *v = seccomp_version();
	char ver[48];

	if (!v)
		return json_object();
	(void)snprintf(ver, sizeof(ver), "%u.%u.%u", v->major, v->minor, v->micro);
	return json_pack("{s:s}", "io.github.seccomp.libseccomp.version", ver);
}

int husk_features_json(bool pretty, char **ret, size_t *ret_len, struct husk_err *err)
{
	_cleanup_json_ json_t *doc =
		json_pack("{s:s, s:s, s:o?, s:o?, s:o?, s:o?}", "ociVersionMin", OCI_VERSION_MIN,
			  "ociVersionMax", OCI_VERSION_MAX, "hooks", hooks(), "mountOptions",
			  sorted_names(husk__plan_mount_option, NULL), "linux", linux_features(),
			  "annotations", annotations());

	/* "o?" turns a failed sub-builder into null: any null is an allocation failure. */
	if (!doc || json_is_null(json_object_get(doc, "hooks")) ||
	    json_is_null(json_object_get(doc, "mountOptions")) ||
	    json_is_null(json_object_get(doc, "linux")) ||
	    json_is_null(json_object_get(doc, "annotations")))
		return husk_err_errno(err, ENOMEM, "features document");
	json_t *lx = json_object_get(doc, "linux");
	json_t *sc = json_object_get(lx, "seccomp");
	const char *const need[] = {"actions", "operators", "archs", "knownFlags",
				    "supportedFlags"};
	if (json_is_null(json_object_get(lx, "namespaces")) ||
	    json_is_null(json_object_get(lx, "capabilities")) || json_is_null(sc))
		return husk_err_errno(err, ENOMEM, "features document");
	for (size_t i = 0; i < ARRAY_SIZE(need); i++)
		if (json_is_null(json_object_get(sc, need[i])))
			return husk_err_errno(err, ENOMEM, "features document");

	size_t flags = JSON_PRESERVE_ORDER | (pretty ? JSON_INDENT(4) : JSON_COMPACT);
	char *s = json_dumps(doc, flags);
	if (!s)
		return husk_err_errno(err, ENOMEM, "features document");
	size_t len = strlen(s);
	if (pretty) {
		char *n = realloc(s, len + 2);
		if (!n) {
			free(s);
			return husk_err_errno(err, ENOMEM, "features document");
		}
		s = n;
		s[len++] = '\n';
		s[len] = '\0';
	}
	*ret = s;
	if (ret_len)
		*ret_len = len;
	return 0;
}
