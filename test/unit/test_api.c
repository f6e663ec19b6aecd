/*
 * Schema checks for husk::api: the generated descriptors must carry exactly the field
 * numbers, names and types written down in shared/docs/protocol.md (sections 3 and 4),
 * the full message names containerd uses as Any type URLs, and the 17 Task methods.
 * The tables below are an independent transcription of the docs, so an edit to a
 * .proto that changes the wire format fails here.
 */
#include <stddef.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "cgroups/v1/metrics.pb-c.h"
#include "cgroups/v2/metrics.pb-c.h"
#include "events/task.pb-c.h"
#include "google/protobuf/any.pb-c.h"
#include "google/protobuf/empty.pb-c.h"
#include "google/protobuf/timestamp.pb-c.h"
#include "runc/options/oci.pb-c.h"
#include "runtime/bootstrap/v1/bootstrap.pb-c.h"
#include "runtime/task/v2/shim.pb-c.h"
#include "runtimeoptions/v1/api.pb-c.h"
#include "services/ttrpc/events/v1/events.pb-c.h"
#include "types/introspection.pb-c.h"
#include "types/metrics.pb-c.h"
#include "types/mount.pb-c.h"
#include "types/task/task.pb-c.h"

struct field_spec {
	unsigned id;
	const char *name;
	ProtobufCType type;
	ProtobufCLabel label;
	const char *type_name; /* full name of the message or enum type, else NULL */
};

struct msg_spec {
	const ProtobufCMessageDescriptor *desc;
	const char *full_name;
	bool partial; /* only the listed fields are checked, not the field count */
	struct field_spec fields[16];
};

#define ONE PROTOBUF_C_LABEL_NONE
#define REP PROTOBUF_C_LABEL_REPEATED
#define STR(i, n)                                       \
	{                                               \
		i, n, PROTOBUF_C_TYPE_STRING, ONE, NULL \
	}
#define BYTES(i, n)                                    \
	{                                              \
		i, n, PROTOBUF_C_TYPE_BYTES, ONE, NULL \
	}
#define RSTR(i, n)                                      \
	{                                               \
		i, n, PROTOBUF_C_TYPE_STRING, REP, NULL \
	}
#define U32(i, n)                                       \
	{                                               \
		i, n, PROTOBUF_C_TYPE_UINT32, ONE, NULL \
	}
#define U64(i, n)                                       \
	{                                               \
		i, n, PROTOBUF_C_TYPE_UINT64, ONE, NULL \
	}
#define RU64(i, n)                                      \
	{                                               \
		i, n, PROTOBUF_C_TYPE_UINT64, REP, NULL \
	}
#define I32(i, n)                                      \
	{                                              \
		i, n, PROTOBUF_C_TYPE_INT32, ONE, NULL \
	}
#define I64(i, n)                                      \
	{                                              \
		i, n, PROTOBUF_C_TYPE_INT64, ONE, NULL \
	}
#define DBL(i, n)                                       \
	{                                               \
		i, n, PROTOBUF_C_TYPE_DOUBLE, ONE, NULL \
	}
#define BOOL(i, n)                                    \
	{                                             \
		i, n, PROTOBUF_C_TYPE_BOOL, ONE, NULL \
	}
#define ENUM(i, n, t)                              \
	{                                          \
		i, n, PROTOBUF_C_TYPE_ENUM, ONE, t \
	}
#define MSG(i, n, t)                                  \
	{                                             \
		i, n, PROTOBUF_C_TYPE_MESSAGE, ONE, t \
	}
#define RMSG(i, n, t)                                 \
	{                                             \
		i, n, PROTOBUF_C_TYPE_MESSAGE, REP, t \
	}

#define ANY   "google.protobuf.Any"
#define TS    "google.protobuf.Timestamp"
#define MOUNT "containerd.types.Mount"
#define T2    "containerd.task.v2."
#define EV    "containerd.events."
#define CG1   "io.containerd.cgroups.v1."
#define CG2   "io.containerd.cgroups.v2."

static const struct msg_spec specs[] = {
	/* well-known types, protocol.md 3.3 */
	{&google__protobuf__any__descriptor, ANY, false, {STR(1, "type_url"), BYTES(2, "value")}},
	{&google__protobuf__empty__descriptor, "google.protobuf.Empty", false, {{0}}},
	{&google__protobuf__timestamp__descriptor, TS, false, {I64(1, "seconds"), I32(2, "nanos")}},

	/* referenced types, protocol.md 3.3 */
	{&containerd__types__mount__descriptor,
	 MOUNT,
	 false,
	 {STR(1, "type"), STR(2, "source"), STR(3, "target"), RSTR(4, "options")}},
	{&containerd__v1__types__process_info__descriptor,
	 "containerd.v1.types.ProcessInfo",
	 false,
	 {U32(1, "pid"), MSG(2, "info", ANY)}},
	{&containerd__v1__types__process__descriptor,
	 "containerd.v1.types.Process",
	 false,
	 {STR(1, "container_id"), STR(2, "id"), U32(3, "pid"),
	  ENUM(4, "status", "containerd.v1.types.Status"), STR(5, "stdin"), STR(6, "stdout"),
	  STR(7, "stderr"), BOOL(8, "terminal"), U32(9, "exit_status"), MSG(10, "exited_at", TS)}},
	{&containerd__types__metric__descriptor,
	 "containerd.types.Metric",
	 false,
	 {MSG(1, "timestamp", TS), STR(2, "id"), MSG(3, "data", ANY)}},

	/* task API, protocol.md 3.2 */
	{&containerd__task__v2__create_task_request__descriptor,
	 T2 "CreateTaskRequest",
	 false,
	 {STR(1, "id"), STR(2, "bundle"), RMSG(3, "rootfs", MOUNT), BOOL(4, "terminal"),
	  STR(5, "stdin"), STR(6, "stdout"), STR(7, "stderr"), STR(8, "checkpoint"),
	  STR(9, "parent_checkpoint"), MSG(10, "options", ANY)}},
	{&containerd__task__v2__create_task_response__descriptor,
	 T2 "CreateTaskResponse",
	 false,
	 {U32(1, "pid")}},
	{&containerd__task__v2__start_request__descriptor,
	 T2 "StartRequest",
	 false,
	 {STR(1, "id"), STR(2, "exec_id")}},
	{&containerd__task__v2__start_response__descriptor,
	 T2 "StartResponse",
	 false,
	 {U32(1, "pid")}},
	{&containerd__task__v2__delete_request__descriptor,
	 T2 "DeleteRequest",
	 false,
	 {STR(1, "id"), STR(2, "exec_id")}},
	{&containerd__task__v2__delete_response__descriptor,
	 T2 "DeleteResponse",
	 false,
	 {U32(1, "pid"), U32(2, "exit_status"), MSG(3, "exited_at", TS)}},
	{&containerd__task__v2__exec_process_request__descriptor,
	 T2 "ExecProcessRequest",
	 false,
	 {STR(1, "id"), STR(2, "exec_id"), BOOL(3, "terminal"), STR(4, "stdin"), STR(5, "stdout"),
	  STR(6, "stderr"), MSG(7, "spec", ANY)}},
	{&containerd__task__v2__exec_process_response__descriptor,
	 T2 "ExecProcessResponse",
	 false,
	 {{0}}},
	{&containerd__task__v2__resize_pty_request__descriptor,
	 T2 "ResizePtyRequest",
	 false,
	 {STR(1, "id"), STR(2, "exec_id"), U32(3, "width"), U32(4, "height")}},
	{&containerd__task__v2__state_request__descriptor,
	 T2 "StateRequest",
	 false,
	 {STR(1, "id"), STR(2, "exec_id")}},
	{&containerd__task__v2__state_response__descriptor,
	 T2 "StateResponse",
	 false,
	 {STR(1, "id"), STR(2, "bundle"), U32(3, "pid"),
	  ENUM(4, "status", "containerd.v1.types.Status"), STR(5, "stdin"), STR(6, "stdout"),
	  STR(7, "stderr"), BOOL(8, "terminal"), U32(9, "exit_status"), MSG(10, "exited_at", TS),
	  STR(11, "exec_id")}},
	{&containerd__task__v2__kill_request__descriptor,
	 T2 "KillRequest",
	 false,
	 {STR(1, "id"), STR(2, "exec_id"), U32(3, "signal"), BOOL(4, "all")}},
	{&containerd__task__v2__close_iorequest__descriptor,
	 T2 "CloseIORequest",
	 false,
	 {STR(1, "id"), STR(2, "exec_id"), BOOL(3, "stdin")}},
	{&containerd__task__v2__pids_request__descriptor, T2 "PidsRequest", false, {STR(1, "id")}},
	{&containerd__task__v2__pids_response__descriptor,
	 T2 "PidsResponse",
	 false,
	 {RMSG(1, "processes", "containerd.v1.types.ProcessInfo")}},
	{&containerd__task__v2__checkpoint_task_request__descriptor,
	 T2 "CheckpointTaskRequest",
	 false,
	 {STR(1, "id"), STR(2, "path"), MSG(3, "options", ANY)}},
	{&containerd__task__v2__update_task_request__descriptor,
	 T2 "UpdateTaskRequest",
	 false,
	 {STR(1, "id"), MSG(2, "resources", ANY),
	  RMSG(3, "annotations", T2 "UpdateTaskRequest.AnnotationsEntry")}},
	{&containerd__task__v2__update_task_request__annotations_entry__descriptor,
	 T2 "UpdateTaskRequest.AnnotationsEntry",
	 false,
	 {STR(1, "key"), STR(2, "value")}},
	{&containerd__task__v2__wait_request__descriptor,
	 T2 "WaitRequest",
	 false,
	 {STR(1, "id"), STR(2, "exec_id")}},
	{&containerd__task__v2__wait_response__descriptor,
	 T2 "WaitResponse",
	 false,
	 {U32(1, "exit_status"), MSG(2, "exited_at", TS)}},
	{&containerd__task__v2__stats_request__descriptor,
	 T2 "StatsRequest",
	 false,
	 {STR(1, "id")}},
	{&containerd__task__v2__stats_response__descriptor,
	 T2 "StatsResponse",
	 false,
	 {MSG(1, "stats", ANY)}},
	{&containerd__task__v2__connect_request__descriptor,
	 T2 "ConnectRequest",
	 false,
	 {STR(1, "id")}},
	{&containerd__task__v2__connect_response__descriptor,
	 T2 "ConnectResponse",
	 false,
	 {U32(1, "shim_pid"), U32(2, "task_pid"), STR(3, "version")}},
	{&containerd__task__v2__shutdown_request__descriptor,
	 T2 "ShutdownRequest",
	 false,
	 {STR(1, "id"), BOOL(2, "now")}},
	{&containerd__task__v2__pause_request__descriptor,
	 T2 "PauseRequest",
	 false,
	 {STR(1, "id")}},
	{&containerd__task__v2__resume_request__descriptor,
	 T2 "ResumeRequest",
	 false,
	 {STR(1, "id")}},

	/* events, protocol.md 4.1 and 4.3 */
	{&containerd__services__events__ttrpc__v1__forward_request__descriptor,
	 "containerd.services.events.ttrpc.v1.ForwardRequest",
	 false,
	 {MSG(1, "envelope", "containerd.services.events.ttrpc.v1.Envelope")}},
	{&containerd__services__events__ttrpc__v1__envelope__descriptor,
	 "containerd.services.events.ttrpc.v1.Envelope",
	 false,
	 {MSG(1, "timestamp", TS), STR(2, "namespace"), STR(3, "topic"), MSG(4, "event", ANY)}},
	{&containerd__events__task_create__descriptor,
	 EV "TaskCreate",
	 false,
	 {STR(1, "container_id"), STR(2, "bundle"), RMSG(3, "rootfs", MOUNT),
	  MSG(4, "io", EV "TaskIO"), STR(5, "checkpoint"), U32(6, "pid")}},
	{&containerd__events__task_start__descriptor,
	 EV "TaskStart",
	 false,
	 {STR(1, "container_id"), U32(2, "pid")}},
	{&containerd__events__task_delete__descriptor,
	 EV "TaskDelete",
	 false,
	 {STR(1, "container_id"), U32(2, "pid"), U32(3, "exit_status"), MSG(4, "exited_at", TS),
	  STR(5, "id")}},
	{&containerd__events__task_io__descriptor,
	 EV "TaskIO",
	 false,
	 {STR(1, "stdin"), STR(2, "stdout"), STR(3, "stderr"), BOOL(4, "terminal")}},
	{&containerd__events__task_exit__descriptor,
	 EV "TaskExit",
	 false,
	 {STR(1, "container_id"), STR(2, "id"), U32(3, "pid"), U32(4, "exit_status"),
	  MSG(5, "exited_at", TS)}},
	{&containerd__events__task_oom__descriptor, EV "TaskOOM", false, {STR(1, "container_id")}},
	{&containerd__events__task_exec_added__descriptor,
	 EV "TaskExecAdded",
	 false,
	 {STR(1, "container_id"), STR(2, "exec_id")}},
	{&containerd__events__task_exec_started__descriptor,
	 EV "TaskExecStarted",
	 false,
	 {STR(1, "container_id"), STR(2, "exec_id"), U32(3, "pid")}},
	{&containerd__events__task_paused__descriptor,
	 EV "TaskPaused",
	 false,
	 {STR(1, "container_id")}},
	{&containerd__events__task_resumed__descriptor,
	 EV "TaskResumed",
	 false,
	 {STR(1, "container_id")}},
	{&containerd__events__task_checkpointed__descriptor,
	 EV "TaskCheckpointed",
	 false,
	 {STR(1, "container_id"), STR(2, "checkpoint")}},

	/* options, protocol.md 3.5 */
	{&containerd__runc__v1__options__descriptor,
	 "containerd.runc.v1.Options",
	 false,
	 {BOOL(1, "no_pivot_root"), BOOL(2, "no_new_keyring"), STR(3, "shim_cgroup"),
	  U32(4, "io_uid"), U32(5, "io_gid"), STR(6, "binary_name"), STR(7, "root"),
	  STR(8, "criu_path"), BOOL(9, "systemd_cgroup"), STR(10, "criu_image_path"),
	  STR(11, "criu_work_path"), STR(12, "task_api_address"), U32(13, "task_api_version")}},
	{&containerd__runc__v1__checkpoint_options__descriptor,
	 "containerd.runc.v1.CheckpointOptions",
	 false,
	 {BOOL(1, "exit"), BOOL(2, "open_tcp"), BOOL(3, "external_unix_sockets"),
	  BOOL(4, "terminal"), BOOL(5, "file_locks"), RSTR(6, "empty_namespaces"),
	  STR(7, "cgroups_mode"), STR(8, "image_path"), STR(9, "work_path")}},
	{&containerd__runc__v1__process_details__descriptor,
	 "containerd.runc.v1.ProcessDetails",
	 false,
	 {STR(1, "exec_id")}},
	{&runtimeoptions__v1__options__descriptor,
	 "runtimeoptions.v1.Options",
	 false,
	 {STR(1, "type_url"), STR(2, "config_path"), BYTES(3, "config_body")}},

	/* RuntimeInfo, protocol.md 3.7 */
	{&containerd__types__runtime_info__descriptor,
	 "containerd.types.RuntimeInfo",
	 false,
	 {STR(1, "name"), MSG(2, "version", "containerd.types.RuntimeVersion"),
	  MSG(3, "options", ANY), MSG(4, "features", ANY),
	  RMSG(5, "annotations", "containerd.types.RuntimeInfo.AnnotationsEntry")}},
	{&containerd__types__runtime_version__descriptor,
	 "containerd.types.RuntimeVersion",
	 false,
	 {STR(1, "version"), STR(2, "revision")}},
	{&containerd__types__runtime_request__descriptor,
	 "containerd.types.RuntimeRequest",
	 false,
	 {STR(1, "runtime_path"), MSG(2, "options", ANY)}},

	/* start's stdin and answer in containerd 2.3+, protocol.md 2.11 (enums as int32) */
	{&containerd__runtime__bootstrap__v1__bootstrap_params__descriptor,
	 "containerd.runtime.bootstrap.v1.BootstrapParams",
	 false,
	 {STR(1, "instance_id"), STR(2, "namespace"), I32(3, "log_level"),
	  STR(4, "containerd_version"), STR(5, "containerd_ttrpc_address"),
	  STR(6, "containerd_grpc_address"), STR(7, "containerd_binary"),
	  RMSG(8, "extensions", "containerd.runtime.bootstrap.v1.Extension"),
	  STR(9, "socket_dir")}},
	{&containerd__runtime__bootstrap__v1__extension__descriptor,
	 "containerd.runtime.bootstrap.v1.Extension",
	 false,
	 {MSG(1, "value", ANY)}},
	{&containerd__runtime__bootstrap__v1__bootstrap_result__descriptor,
	 "containerd.runtime.bootstrap.v1.BootstrapResult",
	 false,
	 {I32(1, "version"),
	  STR(2, "address"),
	  STR(3, "protocol"),
	  {4, "capabilities", PROTOBUF_C_TYPE_INT32, REP, NULL},
	  RMSG(5, "metadata", "containerd.runtime.bootstrap.v1.BootstrapResult.MetadataEntry")}},

	/* cgroup metrics, protocol.md 3.6 */
	{&io__containerd__cgroups__v1__metrics__descriptor,
	 CG1 "Metrics",
	 false,
	 {RMSG(1, "hugetlb", CG1 "HugetlbStat"), MSG(2, "pids", CG1 "PidsStat"),
	  MSG(3, "cpu", CG1 "CPUStat"), MSG(4, "memory", CG1 "MemoryStat"),
	  MSG(5, "blkio", CG1 "BlkIOStat"), MSG(6, "rdma", CG1 "RdmaStat"),
	  RMSG(7, "network", CG1 "NetworkStat"), MSG(8, "cgroup_stats", CG1 "CgroupStats"),
	  MSG(9, "memory_oom_control", CG1 "MemoryOomControl")}},
	{&io__containerd__cgroups__v1__pids_stat__descriptor,
	 CG1 "PidsStat",
	 false,
	 {U64(1, "current"), U64(2, "limit")}},
	{&io__containerd__cgroups__v1__cpustat__descriptor,
	 CG1 "CPUStat",
	 false,
	 {MSG(1, "usage", CG1 "CPUUsage"), MSG(2, "throttling", CG1 "Throttle")}},
	{&io__containerd__cgroups__v1__cpuusage__descriptor,
	 CG1 "CPUUsage",
	 false,
	 {U64(1, "total"), U64(2, "kernel"), U64(3, "user"), RU64(4, "per_cpu")}},
	{&io__containerd__cgroups__v1__memory_stat__descriptor,
	 CG1 "MemoryStat",
	 true,
	 {U64(1, "cache"), U64(2, "rss"), U64(16, "hierarchical_memory_limit"),
	  U64(19, "total_rss"), U64(26, "total_pg_fault"), U64(27, "total_pg_maj_fault"),
	  U64(30, "total_inactive_file"), U64(32, "total_unevictable"),
	  MSG(33, "usage", CG1 "MemoryEntry"), MSG(34, "swap", CG1 "MemoryEntry"),
	  MSG(35, "kernel", CG1 "MemoryEntry"), MSG(36, "kernel_tcp", CG1 "MemoryEntry")}},
	{&io__containerd__cgroups__v1__memory_entry__descriptor,
	 CG1 "MemoryEntry",
	 false,
	 {U64(1, "limit"), U64(2, "usage"), U64(3, "max"), U64(4, "failcnt")}},
	{&io__containerd__cgroups__v1__blk_ioentry__descriptor,
	 CG1 "BlkIOEntry",
	 false,
	 {STR(1, "op"), STR(2, "device"), U64(3, "major"), U64(4, "minor"), U64(5, "value")}},
	{&io__containerd__cgroups__v2__metrics__descriptor,
	 CG2 "Metrics",
	 false,
	 {MSG(1, "pids", CG2 "PidsStat"), MSG(2, "cpu", CG2 "CPUStat"),
	  MSG(4, "memory", CG2 "MemoryStat"), MSG(5, "rdma", CG2 "RdmaStat"),
	  MSG(6, "io", CG2 "IOStat"), RMSG(7, "hugetlb", CG2 "HugeTlbStat"),
	  MSG(8, "memory_events", CG2 "MemoryEvents"), RMSG(9, "network", CG2 "NetworkStat")}},
	{&io__containerd__cgroups__v2__cpustat__descriptor,
	 CG2 "CPUStat",
	 false,
	 {U64(1, "usage_usec"), U64(2, "user_usec"), U64(3, "system_usec"), U64(4, "nr_periods"),
	  U64(5, "nr_throttled"), U64(6, "throttled_usec"), MSG(7, "psi", CG2 "PSIStats"),
	  U64(8, "nr_bursts"), U64(9, "burst_usec")}},
	{&io__containerd__cgroups__v2__memory_stat__descriptor,
	 CG2 "MemoryStat",
	 true,
	 {U64(1, "anon"), U64(13, "inactive_file"), U64(18, "pgfault"), U64(19, "pgmajfault"),
	  U64(32, "usage"), U64(33, "usage_limit"), U64(34, "swap_usage"), U64(35, "swap_limit"),
	  MSG(38, "psi", CG2 "PSIStats"), U64(42, "workingset_activate_file")}},
	{&io__containerd__cgroups__v2__memory_events__descriptor,
	 CG2 "MemoryEvents",
	 false,
	 {U64(1, "low"), U64(2, "high"), U64(3, "max"), U64(4, "oom"), U64(5, "oom_kill")}},
	{&io__containerd__cgroups__v2__ioentry__descriptor,
	 CG2 "IOEntry",
	 false,
	 {U64(1, "major"), U64(2, "minor"), U64(3, "rbytes"), U64(4, "wbytes"), U64(5, "rios"),
	  U64(6, "wios")}},
	{&io__containerd__cgroups__v2__psidata__descriptor,
	 CG2 "PSIData",
	 false,
	 {DBL(1, "avg10"), DBL(2, "avg60"), DBL(3, "avg300"), U64(4, "total")}},
};

static size_t spec_count(const struct msg_spec *s)
{
	size_t n = 0;
	while (n < sizeof(s->fields) / sizeof(s->fields[0]) && s->fields[n].name)
		n++;
	return n;
}

static const char *type_name_of(const ProtobufCFieldDescriptor *f)
{
	if (f->type == PROTOBUF_C_TYPE_MESSAGE)
		return ((const ProtobufCMessageDescriptor *)f->descriptor)->name;
	if (f->type == PROTOBUF_C_TYPE_ENUM)
		return ((const ProtobufCEnumDescriptor *)f->descriptor)->name;
	return NULL;
}

Test(api_schema, field_numbers_names_and_types_match_the_docs)
{
	for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		const struct msg_spec *s = &specs[i];
		const ProtobufCMessageDescriptor *d = s->desc;
		size_t n = spec_count(s);

		cr_assert(eq(u32, d->magic, PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC));
		cr_assert(eq(str, (char *)d->name, (char *)s->full_name));
		if (!s->partial)
			cr_assert(eq(sz, (size_t)d->n_fields, n), "%s: field count", s->full_name);
		for (size_t j = 0; j < n; j++) {
			const struct field_spec *want = &s->fields[j];
			const ProtobufCFieldDescriptor *f =
				protobuf_c_message_descriptor_get_field(d, want->id);
			cr_assert(not(eq(ptr, (void *)f, NULL)), "%s: no field %u", s->full_name,
				  want->id);
			cr_assert(eq(str, (char *)f->name, (char *)want->name), "%s field %u",
				  s->full_name, want->id);
			cr_assert(eq(int, f->type, want->type), "%s.%s type", s->full_name,
				  want->name);
			cr_assert(eq(int, f->label, want->label), "%s.%s label", s->full_name,
				  want->name);
			const char *tn = type_name_of(f);
			if (want->type_name)
				cr_assert(eq(str, (char *)tn, (char *)want->type_name), "%s.%s",
					  s->full_name, want->name);
			cr_assert(eq(int, f->flags &PROTOBUF_C_FIELD_FLAG_ONEOF, 0));
		}
	}
}

struct method_spec {
	const char *name;
	const ProtobufCMessageDescriptor *in;
	const ProtobufCMessageDescriptor *out;
};

#define EMPTY (&google__protobuf__empty__descriptor)

static const struct method_spec task_methods[] = {
	{"State", &containerd__task__v2__state_request__descriptor,
	 &containerd__task__v2__state_response__descriptor},
	{"Create", &containerd__task__v2__create_task_request__descriptor,
	 &containerd__task__v2__create_task_response__descriptor},
	{"Start", &containerd__task__v2__start_request__descriptor,
	 &containerd__task__v2__start_response__descriptor},
	{"Delete", &containerd__task__v2__delete_request__descriptor,
	 &containerd__task__v2__delete_response__descriptor},
	{"Pids", &containerd__task__v2__pids_request__descriptor,
	 &containerd__task__v2__pids_response__descriptor},
	{"Pause", &containerd__task__v2__pause_request__descriptor, EMPTY},
	{"Resume", &containerd__task__v2__resume_request__descriptor, EMPTY},
	{"Checkpoint", &containerd__task__v2__checkpoint_task_request__descriptor, EMPTY},
	{"Kill", &containerd__task__v2__kill_request__descriptor, EMPTY},
	{"Exec", &containerd__task__v2__exec_process_request__descriptor, EMPTY},
	{"ResizePty", &containerd__task__v2__resize_pty_request__descriptor, EMPTY},
	{"CloseIO", &containerd__task__v2__close_iorequest__descriptor, EMPTY},
	{"Update", &containerd__task__v2__update_task_request__descriptor, EMPTY},
	{"Wait", &containerd__task__v2__wait_request__descriptor,
	 &containerd__task__v2__wait_response__descriptor},
	{"Stats", &containerd__task__v2__stats_request__descriptor,
	 &containerd__task__v2__stats_response__descriptor},
	{"Connect", &containerd__task__v2__connect_request__descriptor,
	 &containerd__task__v2__connect_response__descriptor},
	{"Shutdown", &containerd__task__v2__shutdown_request__descriptor, EMPTY},
};

Test(api_schema, task_service_has_exactly_the_17_methods)
{
	const ProtobufCServiceDescriptor *s = &containerd__task__v2__task__descriptor;
	const size_t n = sizeof(task_methods) / sizeof(task_methods[0]);

	cr_assert(eq(u32, s->magic, PROTOBUF_C__SERVICE_DESCRIPTOR_MAGIC));
	cr_assert(eq(str, (char *)s->name, "containerd.task.v2.Task"));
	cr_assert(eq(str, (char *)s->short_name, "Task"));
	cr_assert(eq(str, (char *)s->package, "containerd.task.v2"));
	cr_assert(eq(sz, n, 17));
	cr_assert(eq(u32, s->n_methods, 17));
	for (size_t i = 0; i < n; i++) {
		/* Declared in containerd's order. */
		const ProtobufCMethodDescriptor *m = &s->methods[i];
		cr_assert(eq(str, (char *)m->name, (char *)task_methods[i].name));
		cr_assert(eq(ptr, (void *)m->input, (void *)task_methods[i].in), "%s input",
			  m->name);
		cr_assert(eq(ptr, (void *)m->output, (void *)task_methods[i].out), "%s output",
			  m->name);
		/* And found by name, which is how a dispatcher looks them up. */
		const ProtobufCMethodDescriptor *byname =
			protobuf_c_service_descriptor_get_method_by_name(s, task_methods[i].name);
		cr_assert(eq(ptr, (void *)byname, (void *)m));
	}
	cr_assert(eq(ptr, (void *)protobuf_c_service_descriptor_get_method_by_name(s, "Bogus"),
		     NULL));
}

Test(api_schema, events_service_has_forward)
{
	const ProtobufCServiceDescriptor *s =
		&containerd__services__events__ttrpc__v1__events__descriptor;

	cr_assert(eq(str, (char *)s->name, "containerd.services.events.ttrpc.v1.Events"));
	cr_assert(eq(u32, s->n_methods, 1));
	cr_assert(eq(str, (char *)s->methods[0].name, "Forward"));
	cr_assert(
		eq(ptr, (void *)s->methods[0].input,
		   (void *)&containerd__services__events__ttrpc__v1__forward_request__descriptor));
	cr_assert(eq(ptr, (void *)s->methods[0].output, (void *)EMPTY));
}

Test(api_schema, status_enum_values)
{
	const ProtobufCEnumDescriptor *e = &containerd__v1__types__status__descriptor;
	static const char *const names[] = {"UNKNOWN", "CREATED", "RUNNING",
					    "STOPPED", "PAUSED",  "PAUSING"};

	cr_assert(eq(str, (char *)e->name, "containerd.v1.types.Status"));
	cr_assert(eq(u32, e->n_values, 6));
	for (int v = 0; v < 6; v++) {
		const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(e, v);
		cr_assert(not(eq(ptr, (void *)ev, NULL)));
		cr_assert(eq(str, (char *)ev->name, (char *)names[v]));
	}
	cr_assert(eq(int, CONTAINERD__V1__TYPES__STATUS__UNKNOWN, 0));
	cr_assert(eq(int, CONTAINERD__V1__TYPES__STATUS__CREATED, 1));
	cr_assert(eq(int, CONTAINERD__V1__TYPES__STATUS__RUNNING, 2));
	cr_assert(eq(int, CONTAINERD__V1__TYPES__STATUS__STOPPED, 3));
	cr_assert(eq(int, CONTAINERD__V1__TYPES__STATUS__PAUSED, 4));
	cr_assert(eq(int, CONTAINERD__V1__TYPES__STATUS__PAUSING, 5));
}

/*
 * containerd's type URLs are bare full message names (protocol.md 3.4), so a
 * descriptor's name is the type_url to put in an Any.
 */
Test(api_schema, descriptor_names_are_the_documented_type_urls)
{
	static const struct {
		const ProtobufCMessageDescriptor *d;
		const char *url;
	} urls[] = {
		{&containerd__events__task_create__descriptor, "containerd.events.TaskCreate"},
		{&containerd__events__task_start__descriptor, "containerd.events.TaskStart"},
		{&containerd__events__task_delete__descriptor, "containerd.events.TaskDelete"},
		{&containerd__events__task_exit__descriptor, "containerd.events.TaskExit"},
		{&containerd__events__task_oom__descriptor, "containerd.events.TaskOOM"},
		{&containerd__events__task_exec_added__descriptor,
		 "containerd.events.TaskExecAdded"},
		{&containerd__events__task_exec_started__descriptor,
		 "containerd.events.TaskExecStarted"},
		{&containerd__events__task_paused__descriptor, "containerd.events.TaskPaused"},
		{&containerd__events__task_resumed__descriptor, "containerd.events.TaskResumed"},
		{&containerd__events__task_checkpointed__descriptor,
		 "containerd.events.TaskCheckpointed"},
		{&containerd__runc__v1__options__descriptor, "containerd.runc.v1.Options"},
		{&containerd__runc__v1__checkpoint_options__descriptor,
		 "containerd.runc.v1.CheckpointOptions"},
		{&containerd__runc__v1__process_details__descriptor,
		 "containerd.runc.v1.ProcessDetails"},
		{&runtimeoptions__v1__options__descriptor, "runtimeoptions.v1.Options"},
		{&io__containerd__cgroups__v1__metrics__descriptor,
		 "io.containerd.cgroups.v1.Metrics"},
		{&io__containerd__cgroups__v2__metrics__descriptor,
		 "io.containerd.cgroups.v2.Metrics"},
	};

	for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++)
		cr_assert(eq(str, (char *)urls[i].d->name, (char *)urls[i].url));
}
