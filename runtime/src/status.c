#include "husk/status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "husk/err.h"
#include "husk/log.h"

static const char *const status_names[_HUSK_STATUS_MAX] = {
	[HUSK_STATUS_CREATING] = "creating", [HUSK_STATUS_CREATED] = "created",
	[HUSK_STATUS_RUNNING] = "running",   [HUSK_STATUS_PAUSED] = "paused",
	[HUSK_STATUS_STOPPED] = "stopped",
};

#define B(s) HUSK_STATUS_BIT(HUSK_STATUS_##s)

/* transitions[from] is the set of statuses reachable from it in one step (gVisor runsc). */
static const unsigned transitions[_HUSK_STATUS_MAX] = {
	[HUSK_STATUS_CREATING] = B(CREATED) | B(STOPPED),
	[HUSK_STATUS_CREATED] = B(RUNNING) | B(STOPPED),
	[HUSK_STATUS_RUNNING] = B(PAUSED) | B(STOPPED),
	[HUSK_STATUS_PAUSED] = B(RUNNING) | B(STOPPED),
	[HUSK_STATUS_STOPPED] = 0,
};

static bool in_range(enum husk_status s)
{
	return (int)s >= 0 && s < _HUSK_STATUS_MAX;
}

const char *husk_status_to_string(enum husk_status s)
{
	return in_range(s) ? status_names[s] : NULL;
}

enum husk_status husk_status_from_string(const char *s)
{
	if (!s)
		return _HUSK_STATUS_INVALID;
	for (int i = 0; i < _HUSK_STATUS_MAX; i++)
		if (strcmp(status_names[i], s) == 0)
			return (enum husk_status)i;
	return _HUSK_STATUS_INVALID;
}

bool husk_status_can_transition(enum husk_status from, enum husk_status to)
{
	if (!in_range(from) || !in_range(to))
		return false;
	return (transitions[from] & HUSK_STATUS_BIT(to)) != 0;
}

static const char *name_or_invalid(enum husk_status s)
{
	const char *n = husk_status_to_string(s);
	return n ? n : "invalid";
}

int husk_status_transition(enum husk_status *status, enum husk_status to, struct husk_err *err)
{
	if (husk_status_can_transition(*status, to)) {
		*status = to;
		return 0;
	}
	const char *from_name = name_or_invalid(*status);
	const char *to_name = name_or_invalid(to);
	if (getenv("HUSK_STRICT_STATUS")) {
		char what[128];
		(void)snprintf(what, sizeof(what), "status transition from '%s' to '%s'", from_name,
			       to_name);
		husk__assert_fail(what, __FILE__, __LINE__, __func__);
	}
	return husk_err_set(err, HUSK_ERR_INTERNAL, 0,
			    "invalid status transition from '%s' to '%s'", from_name, to_name);
}

int husk_require_status(enum husk_status status, const char *op, unsigned allowed,
			struct husk_err *err)
{
	if (in_range(status) && (allowed & HUSK_STATUS_BIT(status)))
		return 0;
	return husk_err_set(err, HUSK_ERR_PRECONDITION, 0, "cannot %s container in '%s' state", op,
			    name_or_invalid(status));
}
