/*
 * husk_sandbox_id_from_spec() lives alone in this file: it is the only id function that
 * needs the spec model (husk_spec_annotation() from spec.c), so programs that use ids
 * without specs do not pull spec.o in.
 */
#include <string.h>

#include "husk/err.h"
#include "husk/id.h"
#include "husk/spec.h"

/* containerd's grouping label, honoured by containerd-shim-runc-v2 for shim sharing. */
#define ANNOTATION_GROUP "io.containerd.runc.v2.group"
/* CRI: which pod a container belongs to, and whether it is the sandbox itself. */
#define ANNOTATION_CRI_SANDBOX_ID     "io.kubernetes.cri.sandbox-id"
#define ANNOTATION_CRI_CONTAINER_TYPE "io.kubernetes.cri.container-type"

int husk_sandbox_id_from_spec(const struct husk_spec *spec, const char *container_id,
			      char ret[HUSK_ID_MAX + 1], struct husk_err *err)
{
	const char *sid = NULL;
	const char *what = "sandbox";

	const char *group = husk_spec_annotation(spec, ANNOTATION_GROUP);
	const char *type = husk_spec_annotation(spec, ANNOTATION_CRI_CONTAINER_TYPE);
	if (group) {
		sid = group;
		what = "sandbox (" ANNOTATION_GROUP ")";
	} else if (type && strcmp(type, "container") == 0) {
		sid = husk_spec_annotation(spec, ANNOTATION_CRI_SANDBOX_ID);
		what = "sandbox (" ANNOTATION_CRI_SANDBOX_ID ")";
		if (!sid)
			return husk_err_set(err, HUSK_ERR_INVALID, 0,
					    "annotation '" ANNOTATION_CRI_SANDBOX_ID
					    "' missing for a cri container");
	} else {
		sid = container_id;
	}

	int r = husk_id_check(sid, what, err);
	if (r < 0)
		return r;
	memcpy(ret, sid, strlen(sid) + 1);
	return 0;
}
