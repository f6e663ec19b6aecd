/*
 * The runtime's cgroup statistics as containerd's metrics: io.containerd.cgroups.v1.Metrics
 * on v1 and hybrid hosts, io.containerd.cgroups.v2.Metrics on unified ones — the type URLs
 * without a prefix, as containerd 1.6 decodes them (protocol.md 3.6, pitfall 14). Pure.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct husk_cgroup_stats;
struct husk_err;

#define SHIM_METRICS_V1_TYPE "io.containerd.cgroups.v1.Metrics"
#define SHIM_METRICS_V2_TYPE "io.containerd.cgroups.v2.Metrics"

/*
 * Serialize st as the Metrics message of its mode. *ret_type is a static string; *ret is
 * malloc'ed (NULL with len 0 for an empty message). HUSK_ERR_NOT_FOUND when st has no
 * mode (no cgroup): containerd skips such a container quietly.
 */
int shim_metrics_pack(const struct husk_cgroup_stats *st, const char **ret_type, uint8_t **ret,
		      size_t *ret_len, struct husk_err *err);
