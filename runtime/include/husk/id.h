/* Container and sandbox IDs, and the state-file names built from them. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct husk_err;
struct husk_spec;

/* IDs match ^[\w+-\.]+$ and are at most this long (containerd allows 76; we allow more). */
#define HUSK_ID_MAX 128

/* {sandbox, container}: a container of a pod; for a pod's first container both are equal. */
struct husk_full_id {
	char sandbox[HUSK_ID_MAX + 1];
	char container[HUSK_ID_MAX + 1];
};

/* True when id matches ^[\w+-\.]+$, is 1..HUSK_ID_MAX bytes and is not "." or "..". */
bool husk_id_valid(const char *id);

/* 0, or HUSK_ERR_INVALID "invalid container id '<id>'" (what names the kind: "container",
 * "sandbox"). */
int husk_id_check(const char *id, const char *what, struct husk_err *err);

/* Fill a full id after validating both parts (HUSK_ERR_INVALID on a bad one). */
int husk_full_id_set(struct husk_full_id *ret, const char *sandbox, const char *container,
		     struct husk_err *err);

/*
 * The sandbox (group) ID of a container from its spec's annotations:
 * io.containerd.runc.v2.group if set; else io.kubernetes.cri.sandbox-id when
 * io.kubernetes.cri.container-type is "container"; else the container's own id.
 * Result is validated (HUSK_ERR_INVALID).
 */
int husk_sandbox_id_from_spec(const struct husk_spec *spec, const char *container_id,
			      char ret[HUSK_ID_MAX + 1], struct husk_err *err);

/*
 * Longest file name husk_full_id_filename() builds: NAME_MAX (255) less room for the
 * decoration of an atomic write's temp file.
 */
#define HUSK_FILENAME_MAX 223

/*
 * "<cid>_sandbox:<sid>" + suffix (".state", ".lock") into buf; -ENAMETOOLONG if it does not
 * fit in size or is longer than HUSK_FILENAME_MAX.
 */
int husk_full_id_filename(const struct husk_full_id *id, const char *suffix, char *buf,
			  size_t size);

/*
 * Parse a file name "<cid>_sandbox:<sid><suffix>" back into a full id. Fails with
 * HUSK_ERR_INVALID for any other shape (a '_' or ':' in the wrong place, a bad id, a
 * different suffix).
 */
int husk_full_id_parse_filename(const char *name, const char *suffix, struct husk_full_id *ret,
				struct husk_err *err);
