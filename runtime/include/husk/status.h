/* The container status machine (gVisor runsc/container). */
#pragma once

#include <stdbool.h>

struct husk_err;

/*
 * Creating → Created → Running ⇄ Paused; Creating/Created/Running/Paused → Stopped.
 */
enum husk_status {
	HUSK_STATUS_CREATING = 0,
	HUSK_STATUS_CREATED,
	HUSK_STATUS_RUNNING,
	HUSK_STATUS_PAUSED,
	HUSK_STATUS_STOPPED,
	_HUSK_STATUS_MAX,
	_HUSK_STATUS_INVALID = -22, /* -EINVAL */
};

/* "creating", "created", "running", "paused", "stopped"; NULL when out of range. */
const char *husk_status_to_string(enum husk_status s);

/* The status named by s, or _HUSK_STATUS_INVALID. */
enum husk_status husk_status_from_string(const char *s);

/* True when from → to is an allowed transition (a status to itself is not a transition). */
bool husk_status_can_transition(enum husk_status from, enum husk_status to);

/*
 * Perform a transition on *status. An invalid one is a programming error: it fails with
 * HUSK_ERR_INTERNAL naming both states ("invalid status transition from 'stopped' to
 * 'running'"), and aborts when HUSK_STRICT_STATUS is set in the environment (tests).
 */
int husk_status_transition(enum husk_status *status, enum husk_status to, struct husk_err *err);

/*
 * For users: 0 when status is one of the allowed ones, else HUSK_ERR_PRECONDITION
 * "cannot <op> container in '<status>' state" (gVisor requireStatus).
 * allowed is a bit mask of (1u << HUSK_STATUS_*).
 */
int husk_require_status(enum husk_status status, const char *op, unsigned allowed,
			struct husk_err *err);

#define HUSK_STATUS_BIT(s) (1u << (s))
