/*
 * start's stdin and answer across containerd versions (shim/bootstrap.c): 1.6's nothing,
 * 1.7's options Any, 2.3's BootstrapParams with its options as an extension, and the
 * answer each gets (the plain address, or the JSON of version 3).
 */
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "bootstrap.h"
#include "husk/err.h"
#include "runc/options/oci.pb-c.h"
#include "runtime/bootstrap/v1/bootstrap.pb-c.h"

#define ADDR "unix:///run/containerd/s/0123abcd"

typedef Containerd__Runtime__Bootstrap__V1__BootstrapParams BootstrapParams;
typedef Containerd__Runtime__Bootstrap__V1__Extension Extension;

static size_t pack_any(const char *type_url, const ProtobufCMessage *m, uint8_t *out)
{
	Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
	uint8_t value[512];

	any.type_url = (char *)type_url;
	any.value.len = protobuf_c_message_pack(m, value);
	any.value.data = value;
	return google__protobuf__any__pack(&any, out);
}

static struct shim_bootstrap parse_ok(const uint8_t *in, size_t len, const char *max,
				      struct shim_options *o)
{
	struct shim_bootstrap b;
	struct husk_err err = {0};

	struct shim_bootstrap_input i = {in, len, "c1", "k8s.io", max};

	cr_assert(eq(int, shim_bootstrap_parse(&i, &b, o, &err), 0), "%s", err.msg);
	return b;
}

static void answer_is(const struct shim_bootstrap *b, const char *want)
{
	char buf[256];
	struct husk_err err = {0};
	int n = shim_bootstrap_answer(b, ADDR, buf, sizeof(buf), &err);

	cr_assert(eq(int, n, (int)strlen(want)), "%s", err.msg);
	cr_assert(eq(str, buf, (char *)want));
}

Test(bootstrap, containerd_1_6_nothing_on_stdin_gets_the_address)
{
	struct shim_options o;
	struct shim_bootstrap b = parse_ok(NULL, 0, NULL, &o);

	cr_assert(not(b.params));
	answer_is(&b, ADDR);
	shim_bootstrap_done(&b);
	shim_options_done(&o);
}

Test(bootstrap, containerd_1_7_options_any_gets_the_address)
{
	Containerd__Runc__V1__Options ro = CONTAINERD__RUNC__V1__OPTIONS__INIT;
	uint8_t in[1024];
	struct shim_options o;

	ro.shim_cgroup = "/shims";
	size_t len = pack_any("containerd.runc.v1.Options", &ro.base, in);
	struct shim_bootstrap b = parse_ok(in, len, "2", &o);
	cr_assert(not(b.params), "an options Any is not a BootstrapParams");
	cr_assert(eq(str, o.shim_cgroup, "/shims"));
	answer_is(&b, ADDR);
	shim_bootstrap_done(&b);
	shim_options_done(&o);
}

static size_t pack_params(const char *id, const char *ns, int32_t level, const char *dir,
			  bool with_options, uint8_t *out)
{
	BootstrapParams p = CONTAINERD__RUNTIME__BOOTSTRAP__V1__BOOTSTRAP_PARAMS__INIT;
	Extension ext = CONTAINERD__RUNTIME__BOOTSTRAP__V1__EXTENSION__INIT;
	Extension *exts[] = {&ext};
	Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
	Containerd__Runc__V1__Options ro = CONTAINERD__RUNC__V1__OPTIONS__INIT;
	uint8_t value[256];

	p.instance_id = (char *)id;
	p.namespace_ = (char *)ns;
	p.log_level = level;
	p.containerd_version = "v2.3.4";
	p.containerd_ttrpc_address = "/run/containerd/containerd.sock.ttrpc";
	p.containerd_grpc_address = "/run/containerd/containerd.sock";
	p.socket_dir = (char *)dir;
	if (with_options) {
		ro.binary_name = "runsc";
		ro.shim_cgroup = "/pods";
		any.type_url = "type.googleapis.com/containerd.runc.v1.Options";
		any.value.len = containerd__runc__v1__options__pack(&ro, value);
		any.value.data = value;
		ext.value = &any;
		p.extensions = exts;
		p.n_extensions = 1;
	}
	return containerd__runtime__bootstrap__v1__bootstrap_params__pack(&p, out);
}

Test(bootstrap, containerd_2_3_params_get_version_3)
{
	uint8_t in[1024];
	struct shim_options o;
	size_t len = pack_params("c1", "k8s.io", -4, "/run/x/s", true, in);
	struct shim_bootstrap b = parse_ok(in, len, "2", &o);

	cr_assert(b.params);
	cr_assert(b.debug, "log level DEBUG turns debug lines on");
	cr_assert(eq(int, b.version, 3));
	cr_assert(eq(str, b.socket_dir, "/run/x/s"));
	cr_assert(eq(str, o.binary_name, "runsc"), "options come from the extension");
	cr_assert(eq(str, o.shim_cgroup, "/pods"));
	answer_is(&b, "{\"version\":3,\"address\":\"" ADDR "\",\"protocol\":\"ttrpc\"}");
	shim_bootstrap_done(&b);
	shim_options_done(&o);
}

Test(bootstrap, params_for_another_task_are_not_taken)
{
	uint8_t in[1024];
	struct shim_options o;
	const char *ids[][2] = {{"other", "k8s.io"}, {"c1", "default"}};

	/* Read as 1.x's Any (an unknown type, ignored as such): no version 3, no options. */
	for (size_t i = 0; i < 2; i++) {
		size_t len = pack_params(ids[i][0], ids[i][1], -8, "/run/x", true, in);
		struct shim_bootstrap b = parse_ok(in, len, "2", &o);
		cr_assert(not(b.params));
		cr_assert(not(b.debug));
		cr_assert(eq(ptr, b.socket_dir, NULL));
		cr_assert(eq(ptr, o.binary_name, NULL));
		answer_is(&b, ADDR);
		shim_bootstrap_done(&b);
		shim_options_done(&o);
	}
}

Test(bootstrap, info_level_and_no_socket_dir)
{
	uint8_t in[1024];
	struct shim_options o;
	size_t len = pack_params("c1", "k8s.io", 0, NULL, false, in);
	struct shim_bootstrap b = parse_ok(in, len, NULL, &o);

	cr_assert(b.params);
	cr_assert(not(b.debug));
	cr_assert(eq(ptr, b.socket_dir, NULL));
	cr_assert(eq(ptr, o.binary_name, NULL));
	shim_bootstrap_done(&b);
	shim_options_done(&o);
}

Test(bootstrap, relative_socket_dir_is_invalid)
{
	uint8_t in[1024];
	struct shim_options o;
	struct shim_bootstrap b;
	struct husk_err err = {0};
	size_t len = pack_params("c1", "k8s.io", 0, "run/s", false, in);
	struct shim_bootstrap_input i = {in, len, "c1", "k8s.io", NULL};

	cr_assert(lt(int, shim_bootstrap_parse(&i, &b, &o, &err), 0));
	cr_assert(eq(int, err.kind, HUSK_ERR_INVALID));
	cr_assert(ne(ptr, strstr(err.msg, "socket_dir"), NULL), "%s", err.msg);
}

Test(bootstrap, max_shim_version_3_alone_gets_json)
{
	struct shim_options o;
	struct shim_bootstrap b = parse_ok(NULL, 0, "3", &o);

	cr_assert(eq(int, b.version, 3));
	answer_is(&b, "{\"version\":3,\"address\":\"" ADDR "\",\"protocol\":\"ttrpc\"}");
	shim_bootstrap_done(&b);
	b = parse_ok(NULL, 0, "x3", &o);
	cr_assert(eq(int, b.version, 2), "a garbled MAX_SHIM_VERSION is ignored");
	shim_bootstrap_done(&b);
}
