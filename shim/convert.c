#include "convert.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "events/task.pb-c.h"
#include "husk/cleanup.h"
#include "husk/err.h"
#include "husk/spec.h"
#include "runc/options/oci.pb-c.h"
#include "runtime/task/v2/shim.pb-c.h"
#include "runtimeoptions/v1/api.pb-c.h"
#include "services/ttrpc/events/v1/events.pb-c.h"
#include "wire.h"

void shim_timestamp_set(Google__Protobuf__Timestamp *ts, bool exited, int64_t ns)
{
	if (!exited) {
		ts->seconds = SHIM_GO_ZERO_TIME_SECONDS;
		ts->nanos = 0;
		return;
	}
	int64_t s = ns / 1000000000;
	int64_t n = ns % 1000000000;
	if (n < 0) {
		s -= 1;
		n += 1000000000;
	}
	ts->seconds = s;
	ts->nanos = (int32_t)n;
}

Containerd__V1__Types__Status shim_status_to_proto(enum husk_status status)
{
	switch (status) {
	case HUSK_STATUS_CREATING:
	case HUSK_STATUS_CREATED:
		return CONTAINERD__V1__TYPES__STATUS__CREATED;
	case HUSK_STATUS_RUNNING:
		return CONTAINERD__V1__TYPES__STATUS__RUNNING;
	case HUSK_STATUS_PAUSED:
		return CONTAINERD__V1__TYPES__STATUS__PAUSED;
	case HUSK_STATUS_STOPPED:
		return CONTAINERD__V1__TYPES__STATUS__STOPPED;
	case _HUSK_STATUS_MAX:
	case _HUSK_STATUS_INVALID:
		break;
	}
	return CONTAINERD__V1__TYPES__STATUS__UNKNOWN;
}

const char *shim_type_url_name(const char *type_url)
{
	const char *slash = strrchr(type_url, '/');

	return slash ? slash + 1 : type_url;
}

static int dup_nonempty(const char *s, char **ret)
{
	if (!s || !*s)
		return 0;
	*ret = strdup(s);
	return *ret ? 0 : -ENOMEM;
}

static int runc_options(const uint8_t *value, size_t len, struct shim_options *o,
			struct husk_err *err)
{
	if (shim_wire_check(&containerd__runc__v1__options__descriptor, value, len, err) < 0)
		return husk_err_prefix(err, "runtime options");
	Containerd__Runc__V1__Options *m = containerd__runc__v1__options__unpack(NULL, len, value);
	int r = 0;

	if (!m)
		return husk_err_set(err, HUSK_ERR_INVALID, 0,
				    "cannot decode containerd.runc.v1.Options");
	o->io_uid = m->io_uid;
	o->io_gid = m->io_gid;
	o->systemd_cgroup = m->systemd_cgroup;
	o->no_pivot_root = m->no_pivot_root;
	o->no_new_keyring = m->no_new_keyring;
	if (dup_nonempty(m->binary_name, &o->binary_name) < 0 ||
	    dup_nonempty(m->root, &o->root) < 0 ||
	    dup_nonempty(m->shim_cgroup, &o->shim_cgroup) < 0)
		r = husk_err_errno(err, ENOMEM, "decode options");
	containerd__runc__v1__options__free_unpacked(m, NULL);
	return r;
}

static int runtime_options(const uint8_t *value, size_t len, struct shim_options *o,
			   struct husk_err *err)
{
	if (shim_wire_check(&runtimeoptions__v1__options__descriptor, value, len, err) < 0)
		return husk_err_prefix(err, "runtime options");
	Runtimeoptions__V1__Options *m = runtimeoptions__v1__options__unpack(NULL, len, value);
	int r = 0;

	if (!m)
		return husk_err_set(err, HUSK_ERR_INVALID, 0,
				    "cannot decode runtimeoptions.v1.Options");
	if (dup_nonempty(m->config_path, &o->config_path) < 0)
		r = husk_err_errno(err, ENOMEM, "decode options");
	o->config_body_len = m->config_body.len;
	runtimeoptions__v1__options__free_unpacked(m, NULL);
	return r;
}

int shim_options_parse(const char *type_url, const uint8_t *value, size_t len,
		       struct shim_options *ret, struct husk_err *err)
{
	struct shim_options o = {0};
	int r = 0;

	memset(ret, 0, sizeof(*ret));
	if (!type_url || !*type_url)
		return 0;
	(void)strncpy(o.type_url, type_url, sizeof(o.type_url) - 1);
	const char *name = shim_type_url_name(type_url);
	if (strcmp(name, "containerd.runc.v1.Options") == 0)
		r = runc_options(value, len, &o, err);
	else if (strcmp(name, "runtimeoptions.v1.Options") == 0)
		r = runtime_options(value, len, &o, err);
	if (r < 0) {
		shim_options_done(&o);
		return r;
	}
	*ret = o;
	return 0;
}

int shim_options_parse_any(const uint8_t *data, size_t len, struct shim_options *ret,
			   struct husk_err *err)
{
	memset(ret, 0, sizeof(*ret));
	if (len == 0)
		return 0;
	Google__Protobuf__Any *any = google__protobuf__any__unpack(NULL, len, data);
	if (!any)
		return husk_err_set(err, HUSK_ERR_INVALID, 0,
				    "runtime options are not a google.protobuf.Any");
	int r = shim_options_parse(any->type_url, any->value.data, any->value.len, ret, err);
	google__protobuf__any__free_unpacked(any, NULL);
	return r;
}

void shim_options_done(struct shim_options *o)
{
	free(o->binary_name);
	free(o->root);
	free(o->shim_cgroup);
	free(o->config_path);
	memset(o, 0, sizeof(*o));
}

static char *nonempty(char *s)
{
	return s && *s ? s : NULL;
}

int shim_mounts_from_proto(Containerd__Types__Mount *const *mounts, size_t n,
			   struct husk_mount **ret, struct husk_err *err)
{
	*ret = NULL;
	if (n == 0)
		return 0;
	struct husk_mount *m = calloc(n, sizeof(*m));
	if (!m)
		return husk_err_errno(err, ENOMEM, "convert rootfs mounts");
	for (size_t i = 0; i < n; i++) {
		if (!nonempty(mounts[i]->type)) {
			free(m);
			return husk_err_set(err, HUSK_ERR_INVALID, 0,
					    "rootfs mount %zu has no type", i);
		}
		m[i].type = mounts[i]->type;
		m[i].source = nonempty(mounts[i]->source);
		m[i].destination = nonempty(mounts[i]->target);
		m[i].options = mounts[i]->options;
		m[i].n_options = mounts[i]->n_options;
	}
	*ret = m;
	return 0;
}

static const struct {
	const ProtobufCMessageDescriptor *desc;
	const char *topic;
} topics[] = {
	{&containerd__events__task_create__descriptor, "/tasks/create"},
	{&containerd__events__task_start__descriptor, "/tasks/start"},
	{&containerd__events__task_exit__descriptor, "/tasks/exit"},
	{&containerd__events__task_delete__descriptor, "/tasks/delete"},
	{&containerd__events__task_exec_added__descriptor, "/tasks/exec-added"},
	{&containerd__events__task_exec_started__descriptor, "/tasks/exec-started"},
	{&containerd__events__task_oom__descriptor, "/tasks/oom"},
	{&containerd__events__task_paused__descriptor, "/tasks/paused"},
	{&containerd__events__task_resumed__descriptor, "/tasks/resumed"},
	{&containerd__events__task_checkpointed__descriptor, "/tasks/checkpointed"},
};

const char *shim_event_topic(const ProtobufCMessageDescriptor *desc)
{
	for (size_t i = 0; i < ARRAY_SIZE(topics); i++)
		if (topics[i].desc == desc)
			return topics[i].topic;
	return "/tasks/?";
}

int shim_pack(const ProtobufCMessage *msg, uint8_t **ret, size_t *ret_len, struct husk_err *err)
{
	size_t len = protobuf_c_message_get_packed_size(msg);

	*ret = NULL;
	*ret_len = 0;
	if (len == 0)
		return 0;
	uint8_t *buf = malloc(len);
	if (!buf)
		return husk_err_errno(err, ENOMEM, "pack %s", msg->descriptor->name);
	if (protobuf_c_message_pack(msg, buf) != len) {
		free(buf);
		return husk_err_set(err, HUSK_ERR_INTERNAL, 0, "pack %s: size mismatch",
				    msg->descriptor->name);
	}
	*ret = buf;
	*ret_len = len;
	return 0;
}

int shim_event_pack(const ProtobufCMessage *event, const char *ns, int64_t now_ns, uint8_t **ret,
		    size_t *ret_len, struct husk_err *err)
{
	_cleanup_free_ uint8_t *value = NULL;
	size_t value_len = 0;
	Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
	Containerd__Services__Events__Ttrpc__V1__Envelope env =
		CONTAINERD__SERVICES__EVENTS__TTRPC__V1__ENVELOPE__INIT;
	Containerd__Services__Events__Ttrpc__V1__ForwardRequest fwd =
		CONTAINERD__SERVICES__EVENTS__TTRPC__V1__FORWARD_REQUEST__INIT;

	int r = shim_pack(event, &value, &value_len, err);
	if (r < 0)
		return r;
	shim_timestamp_set(&ts, true, now_ns);
	/* containerd 1.6 decodes bare type URLs only (protocol.md 3.4). */
	any.type_url = (char *)event->descriptor->name;
	any.value.data = value;
	any.value.len = value_len;
	env.timestamp = &ts;
	env.namespace_ = (char *)ns;
	env.topic = (char *)shim_event_topic(event->descriptor);
	env.event = &any;
	fwd.envelope = &env;
	return shim_pack(&fwd.base, ret, ret_len, err);
}

int shim_delete_response_pack(uint32_t pid, uint32_t exit_status, int64_t exited_ns, uint8_t **ret,
			      size_t *ret_len, struct husk_err *err)
{
	Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	Containerd__Task__V2__DeleteResponse resp = CONTAINERD__TASK__V2__DELETE_RESPONSE__INIT;

	shim_timestamp_set(&ts, true, exited_ns);
	resp.pid = pid;
	resp.exit_status = exit_status;
	resp.exited_at = &ts;
	return shim_pack(&resp.base, ret, ret_len, err);
}
