/*
 * Pure conversions between containerd's protobuf messages and the shim's and runtime's
 * plain structs: timestamps, statuses, runtime options, rootfs mounts, and the serialized
 * event envelopes and DeleteResponse. No I/O; unit-tested in test_convert.c.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "google/protobuf/any.pb-c.h"
#include "google/protobuf/timestamp.pb-c.h"
#include "husk/status.h"
#include "types/mount.pb-c.h"
#include "types/task/task.pb-c.h"

struct husk_err;
struct husk_mount;

/* Go's zero time (0001-01-01T00:00:00Z): what runc reports as exited_at while running. */
#define SHIM_GO_ZERO_TIME_SECONDS (-62135596800LL)

/* exited_at: ns since the epoch when exited, else Go's zero time (protocol.md 3.4). */
void shim_timestamp_set(Google__Protobuf__Timestamp *ts, bool exited, int64_t ns);

/* A runtime status as containerd's task status. */
Containerd__V1__Types__Status shim_status_to_proto(enum husk_status status);

/* Runtime options, from the `start` stdin Any or CreateTaskRequest.options. */
struct shim_options {
	/* containerd.runc.v1.Options */
	char *binary_name; /* OCI runtime for the oci engine; NULL: the native engine */
	char *root;	   /* the OCI runtime's root (namespace appended by the caller) */
	char *shim_cgroup; /* cgroup the shim daemon moves into at start */
	uint32_t io_uid;
	uint32_t io_gid;
	bool systemd_cgroup;
	bool no_pivot_root;
	bool no_new_keyring;
	/* runtimeoptions.v1.Options */
	char *config_path;
	size_t config_body_len; /* containerd 1.7's TOML options table (not read: an error) */
	/* the type URL seen ("" when there were no options) */
	char type_url[128];
};

/*
 * Decode options given as an Any's type_url and value. containerd.runc.v1.Options and
 * runtimeoptions.v1.Options are understood (with or without a type.googleapis.com/ style
 * prefix); any other type is accepted and ignored (protocol.md pitfall 21). A value that
 * does not decode as its type is HUSK_ERR_INVALID. ret is zeroed first; free with
 * shim_options_done().
 */
int shim_options_parse(const char *type_url, const uint8_t *value, size_t len,
		       struct shim_options *ret, struct husk_err *err);

/* The same from a serialized google.protobuf.Any (start's stdin); len 0 is no options. */
int shim_options_parse_any(const uint8_t *data, size_t len, struct shim_options *ret,
			   struct husk_err *err);

void shim_options_done(struct shim_options *o);

/*
 * containerd's rootfs mounts as runtime mounts. The array is malloc'ed (*ret, n mounts);
 * its strings are borrowed from the request, valid while the request is. NULL for none.
 */
int shim_mounts_from_proto(Containerd__Types__Mount *const *mounts, size_t n,
			   struct husk_mount **ret, struct husk_err *err);

/* The topic of an event message type ("/tasks/exit" for containerd.events.TaskExit). */
const char *shim_event_topic(const ProtobufCMessageDescriptor *desc);

/*
 * Serialize a ForwardRequest{Envelope{timestamp = now_ns, namespace, topic, event = Any{
 * type_url = the message's full name, no prefix, value}}} for Events.Forward. The topic
 * comes from shim_event_topic(). *ret is malloc'ed.
 */
int shim_event_pack(const ProtobufCMessage *event, const char *ns, int64_t now_ns, uint8_t **ret,
		    size_t *ret_len, struct husk_err *err);

/* Serialize a containerd.task.v2.DeleteResponse (the delete action's stdout). */
int shim_delete_response_pack(uint32_t pid, uint32_t exit_status, int64_t exited_ns, uint8_t **ret,
			      size_t *ret_len, struct husk_err *err);

/*
 * Pack msg into a malloc'ed buffer (*ret may be NULL for an empty message with len 0).
 */
int shim_pack(const ProtobufCMessage *msg, uint8_t **ret, size_t *ret_len, struct husk_err *err);

/* The part of a type URL after its last '/' ("a.b/c.D" → "c.D"). */
const char *shim_type_url_name(const char *type_url);
