#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "convert.h"
#include "events/task.pb-c.h"
#include "husk/err.h"
#include "husk/spec.h"
#include "runc/options/oci.pb-c.h"
#include "runtime/task/v2/shim.pb-c.h"
#include "services/ttrpc/events/v1/events.pb-c.h"

static size_t unhex(const char *hex, uint8_t *out)
{
	size_t n = 0;

	for (; hex[0] && hex[1]; hex += 2) {
		unsigned v;
		cr_assert(eq(int, sscanf(hex, "%2x", &v), 1));
		out[n++] = (uint8_t)v;
	}
	return n;
}

static void assert_bytes(const uint8_t *got, size_t n, const char *hex)
{
	uint8_t want[256];
	size_t wn = unhex(hex, want);

	cr_assert(eq(sz, n, wn));
	cr_assert(eq(int, memcmp(got, want, n), 0));
}

Test(convert, go_zero_time_is_explicit)
{
	Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	uint8_t buf[32];

	shim_timestamp_set(&ts, false, 123);
	cr_assert(eq(i64, ts.seconds, -62135596800LL));
	cr_assert(eq(i32, ts.nanos, 0));
	/* A 10-byte varint on the wire, as the runc shim sends it. */
	size_t n = google__protobuf__timestamp__pack(&ts, buf);
	assert_bytes(buf, n, "088092b8c398feffffff01");
}

Test(convert, timestamp_from_ns)
{
	Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;

	shim_timestamp_set(&ts, true, 1795354172LL * 1000000000 + 529238939);
	cr_assert(eq(i64, ts.seconds, 1795354172));
	cr_assert(eq(i32, ts.nanos, 529238939));
	shim_timestamp_set(&ts, true, -1);
	cr_assert(eq(i64, ts.seconds, -1));
	cr_assert(eq(i32, ts.nanos, 999999999));
}

/* The WaitResponse containerd 1.6.20 accepted from the probe shim (protocol.md 1.5). */
Test(convert, wait_response_golden)
{
	Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	Containerd__Task__V2__WaitResponse w = CONTAINERD__TASK__V2__WAIT_RESPONSE__INIT;
	uint8_t buf[64];

	shim_timestamp_set(&ts, true, 1795354172LL * 1000000000 + 529238939);
	w.exited_at = &ts;
	size_t n = containerd__task__v2__wait_response__pack(&w, buf);
	assert_bytes(buf, n, "120c08bcdc8bd806109b97aefc01");
}

/* The runc shim's delete stdout observed with containerd 1.6.20 (protocol.md 2.7). */
Test(convert, delete_response_golden)
{
	uint8_t *buf = NULL;
	size_t n = 0;

	cr_assert(eq(int,
		     shim_delete_response_pack(3837, 137, 1795353688LL * 1000000000 + 35305818,
					       &buf, &n, NULL),
		     0));
	assert_bytes(buf, n, "08fd1d1089011a0b08d8d88bd80610daf2ea10");
	free(buf);
}

Test(convert, statuses)
{
	cr_assert(eq(int, shim_status_to_proto(HUSK_STATUS_CREATING),
		     CONTAINERD__V1__TYPES__STATUS__CREATED));
	cr_assert(eq(int, shim_status_to_proto(HUSK_STATUS_CREATED),
		     CONTAINERD__V1__TYPES__STATUS__CREATED));
	cr_assert(eq(int, shim_status_to_proto(HUSK_STATUS_RUNNING),
		     CONTAINERD__V1__TYPES__STATUS__RUNNING));
	cr_assert(eq(int, shim_status_to_proto(HUSK_STATUS_PAUSED),
		     CONTAINERD__V1__TYPES__STATUS__PAUSED));
	cr_assert(eq(int, shim_status_to_proto(HUSK_STATUS_STOPPED),
		     CONTAINERD__V1__TYPES__STATUS__STOPPED));
	cr_assert(eq(int, shim_status_to_proto(_HUSK_STATUS_INVALID),
		     CONTAINERD__V1__TYPES__STATUS__UNKNOWN));
}

/* start's stdin under `ctr --runtime-config-path /etc/probe.toml` (protocol.md 2.3). */
Test(convert, runtimeoptions_from_start_stdin_golden)
{
	uint8_t buf[128];
	size_t n = unhex("0a1972756e74696d656f7074696f6e732e76312e4f7074696f6e731211120f2f65"
			 "74632f70726f62652e746f6d6c",
			 buf);
	struct shim_options o;
	struct husk_err err = {0};

	cr_assert(eq(sz, n, 46));
	cr_assert(eq(int, shim_options_parse_any(buf, n, &o, &err), 0), "%s", err.msg);
	cr_assert(eq(str, o.config_path, "/etc/probe.toml"));
	cr_assert(eq(str, o.type_url, "runtimeoptions.v1.Options"));
	cr_assert_null(o.binary_name);
	shim_options_done(&o);
}

Test(convert, runc_options)
{
	Containerd__Runc__V1__Options m = CONTAINERD__RUNC__V1__OPTIONS__INIT;
	uint8_t buf[256];
	struct shim_options o;

	m.binary_name = "runsc";
	m.root = "/run/r";
	m.shim_cgroup = "/shim";
	m.io_uid = 1000;
	m.io_gid = 1001;
	m.systemd_cgroup = 1;
	size_t n = containerd__runc__v1__options__pack(&m, buf);
	cr_assert(eq(int, shim_options_parse("containerd.runc.v1.Options", buf, n, &o, NULL), 0));
	cr_assert(eq(str, o.binary_name, "runsc"));
	cr_assert(eq(str, o.root, "/run/r"));
	cr_assert(eq(str, o.shim_cgroup, "/shim"));
	cr_assert(eq(u32, o.io_uid, 1000));
	cr_assert(eq(u32, o.io_gid, 1001));
	cr_assert(o.systemd_cgroup);
	shim_options_done(&o);

	/* A prefixed type URL is understood too; empty strings stay NULL. */
	m.binary_name = "";
	n = containerd__runc__v1__options__pack(&m, buf);
	cr_assert(eq(int,
		     shim_options_parse("type.googleapis.com/containerd.runc.v1.Options", buf, n,
					&o, NULL),
		     0));
	cr_assert_null(o.binary_name);
	cr_assert(eq(str, o.root, "/run/r"));
	shim_options_done(&o);
}

Test(convert, no_or_unknown_options_are_fine)
{
	struct shim_options o;
	uint8_t junk[] = {0xff, 0xff, 0xff};

	cr_assert(eq(int, shim_options_parse_any(NULL, 0, &o, NULL), 0));
	cr_assert(eq(str, o.type_url, ""));
	cr_assert(eq(int, shim_options_parse("io.example.v1.Whatever", junk, 3, &o, NULL), 0));
	cr_assert_null(o.root);
	shim_options_done(&o);
	cr_assert(eq(int, shim_options_parse("", junk, 3, &o, NULL), 0));
}

Test(convert, undecodable_options_are_invalid)
{
	struct shim_options o;
	struct husk_err err = {0};
	uint8_t junk[] = {0x0a, 0xff, 0x01};

	cr_assert(lt(int, shim_options_parse("containerd.runc.v1.Options", junk, 3, &o, &err), 0));
	cr_assert(eq(int, err.kind, HUSK_ERR_INVALID));
	cr_assert(lt(int, shim_options_parse_any(junk, 3, &o, &err), 0));
	cr_assert(eq(int, err.kind, HUSK_ERR_INVALID));
	cr_assert_null(o.root);
}

Test(convert, rootfs_mounts)
{
	Containerd__Types__Mount m0 = CONTAINERD__TYPES__MOUNT__INIT;
	Containerd__Types__Mount m1 = CONTAINERD__TYPES__MOUNT__INIT;
	char *opts[] = {"index=off", "lowerdir=/l", "upperdir=/u", "workdir=/w"};
	Containerd__Types__Mount *list[] = {&m0, &m1};
	struct husk_mount *out = NULL;
	struct husk_err err = {0};

	m0.type = "overlay";
	m0.source = "overlay";
	m0.options = opts;
	m0.n_options = 4;
	m1.type = "bind";
	m1.source = "/src";
	m1.target = "sub";
	cr_assert(eq(int, shim_mounts_from_proto(list, 2, &out, &err), 0), "%s", err.msg);
	cr_assert(eq(str, out[0].type, "overlay"));
	cr_assert(eq(str, out[0].source, "overlay"));
	cr_assert_null(out[0].destination);
	cr_assert(eq(sz, out[0].n_options, 4));
	cr_assert(eq(str, out[0].options[3], "workdir=/w"));
	cr_assert(eq(str, out[1].destination, "sub"));
	free(out);

	cr_assert(eq(int, shim_mounts_from_proto(NULL, 0, &out, NULL), 0));
	cr_assert_null(out);
	m1.type = "";
	cr_assert(lt(int, shim_mounts_from_proto(list, 2, &out, &err), 0));
	cr_assert(eq(int, err.kind, HUSK_ERR_INVALID));
}

Test(convert, event_envelope)
{
	Containerd__Events__TaskExit ev = CONTAINERD__EVENTS__TASK_EXIT__INIT;
	Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	uint8_t *buf = NULL;
	size_t n = 0;

	ev.container_id = "c1";
	ev.id = "e1";
	ev.pid = 42;
	ev.exit_status = 137;
	shim_timestamp_set(&ts, true, 5000000001LL);
	ev.exited_at = &ts;
	cr_assert(eq(int, shim_event_pack(&ev.base, "ns1", 1700000000123456789LL, &buf, &n, NULL),
		     0));
	Containerd__Services__Events__Ttrpc__V1__ForwardRequest *fwd =
		containerd__services__events__ttrpc__v1__forward_request__unpack(NULL, n, buf);
	cr_assert_not_null(fwd);
	cr_assert_not_null(fwd->envelope);
	cr_assert(eq(str, fwd->envelope->namespace_, "ns1"));
	cr_assert(eq(str, fwd->envelope->topic, "/tasks/exit"));
	cr_assert(eq(i64, fwd->envelope->timestamp->seconds, 1700000000));
	cr_assert(eq(i32, fwd->envelope->timestamp->nanos, 123456789));
	cr_assert(eq(str, fwd->envelope->event->type_url, "containerd.events.TaskExit"));
	Containerd__Events__TaskExit *back = containerd__events__task_exit__unpack(
		NULL, fwd->envelope->event->value.len, fwd->envelope->event->value.data);
	cr_assert_not_null(back);
	cr_assert(eq(str, back->id, "e1"));
	cr_assert(eq(u32, back->exit_status, 137));
	cr_assert(eq(i64, back->exited_at->seconds, 5));
	containerd__events__task_exit__free_unpacked(back, NULL);
	containerd__services__events__ttrpc__v1__forward_request__free_unpacked(fwd, NULL);
	free(buf);
}

Test(convert, topics)
{
	cr_assert(eq(str, (char *)shim_event_topic(&containerd__events__task_create__descriptor),
		     "/tasks/create"));
	cr_assert(eq(str,
		     (char *)shim_event_topic(&containerd__events__task_exec_started__descriptor),
		     "/tasks/exec-started"));
	cr_assert(eq(str, (char *)shim_event_topic(&containerd__events__task_oom__descriptor),
		     "/tasks/oom"));
	cr_assert(eq(str, (char *)shim_event_topic(&containerd__events__task_io__descriptor),
		     "/tasks/?"));
}

Test(convert, type_url_names)
{
	cr_assert(eq(str, (char *)shim_type_url_name("a/b/c.D"), "c.D"));
	cr_assert(eq(str, (char *)shim_type_url_name("c.D"), "c.D"));
}
