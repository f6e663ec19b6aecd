#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/wait.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "husk/err.h"
#include "husk/status.h"

#define C HUSK_STATUS_CREATING
#define D HUSK_STATUS_CREATED
#define R HUSK_STATUS_RUNNING
#define P HUSK_STATUS_PAUSED
#define S HUSK_STATUS_STOPPED

/* The whole machine, written out: expected[from][to]. */
static const bool expected[_HUSK_STATUS_MAX][_HUSK_STATUS_MAX] = {
	/*          C      D      R      P      S */
	[C] = {false, true, false, false, true},   [D] = {false, false, true, false, true},
	[R] = {false, false, false, true, true},   [P] = {false, false, true, false, true},
	[S] = {false, false, false, false, false},
};

Test(status, names_round_trip)
{
	const char *names[] = {"creating", "created", "running", "paused", "stopped"};
	for (int s = 0; s < _HUSK_STATUS_MAX; s++) {
		cr_assert(eq(str, (char *)husk_status_to_string(s), (char *)names[s]));
		cr_assert(eq(int, husk_status_from_string(names[s]), s));
	}
	cr_assert(husk_status_to_string(_HUSK_STATUS_MAX) == NULL);
	cr_assert(husk_status_to_string(_HUSK_STATUS_INVALID) == NULL);
	cr_assert(eq(int, husk_status_from_string("Running"), _HUSK_STATUS_INVALID));
	cr_assert(eq(int, husk_status_from_string(""), _HUSK_STATUS_INVALID));
	cr_assert(eq(int, husk_status_from_string(NULL), _HUSK_STATUS_INVALID));
}

Test(status, transition_table_is_exhaustive)
{
	for (int from = 0; from < _HUSK_STATUS_MAX; from++) {
		for (int to = 0; to < _HUSK_STATUS_MAX; to++) {
			cr_assert(eq(int, husk_status_can_transition(from, to), expected[from][to]),
				  "%s -> %s", husk_status_to_string(from),
				  husk_status_to_string(to));

			enum husk_status st = from;
			struct husk_err err = {0};
			int r = husk_status_transition(&st, to, &err);
			if (expected[from][to]) {
				cr_assert(eq(int, r, 0));
				cr_assert(eq(int, st, to));
				continue;
			}
			cr_assert(lt(int, r, 0));
			cr_assert(eq(int, st, from), "status unchanged on failure");
			cr_assert(eq(int, err.kind, HUSK_ERR_INTERNAL));
			char want[128];
			(void)snprintf(want, sizeof(want),
				       "invalid status transition from '%s' to '%s'",
				       husk_status_to_string(from), husk_status_to_string(to));
			cr_assert(eq(str, err.msg, want));
		}
	}
}

Test(status, out_of_range_is_invalid)
{
	cr_assert(husk_status_can_transition(_HUSK_STATUS_INVALID, S) == false);
	cr_assert(husk_status_can_transition(C, _HUSK_STATUS_MAX) == false);
	enum husk_status st = (enum husk_status)42;
	struct husk_err err = {0};
	cr_assert(lt(int, husk_status_transition(&st, S, &err), 0));
	cr_assert(eq(str, err.msg, "invalid status transition from 'invalid' to 'stopped'"));
}

Test(status, strict_mode_aborts)
{
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		/* The child: an invalid transition must not return. */
		(void)setenv("HUSK_STRICT_STATUS", "1", 1);
		(void)freopen("/dev/null", "w", stderr);
		enum husk_status st = S;
		(void)husk_status_transition(&st, R, NULL);
		_exit(0);
	}
	int ws = 0;
	cr_assert(eq(int, waitpid(pid, &ws, 0), pid));
	cr_assert(0 != WIFSIGNALED(ws), "child exited with %d instead of aborting", ws);
	cr_assert(eq(int, WTERMSIG(ws), SIGABRT));
}

Test(status, strict_mode_allows_valid_transitions)
{
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		(void)setenv("HUSK_STRICT_STATUS", "1", 1);
		enum husk_status st = C;
		int r = husk_status_transition(&st, D, NULL);
		r |= husk_status_transition(&st, R, NULL);
		r |= husk_status_transition(&st, P, NULL);
		r |= husk_status_transition(&st, R, NULL);
		r |= husk_status_transition(&st, S, NULL);
		_exit(r == 0 && st == S ? 0 : 1);
	}
	int ws = 0;
	cr_assert(eq(int, waitpid(pid, &ws, 0), pid));
	cr_assert(0 != WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "wait status %d", ws);
}

Test(status, require_status)
{
	struct husk_err err = {0};
	unsigned allowed = HUSK_STATUS_BIT(D) | HUSK_STATUS_BIT(R);
	cr_assert(eq(int, husk_require_status(D, "start", allowed, &err), 0));
	cr_assert(eq(int, husk_require_status(R, "start", allowed, &err), 0));
	cr_assert(lt(int, husk_require_status(S, "start", allowed, &err), 0));
	cr_assert(eq(int, err.kind, HUSK_ERR_PRECONDITION));
	cr_assert(eq(str, err.msg, "cannot start container in 'stopped' state"));
	cr_assert(lt(int, husk_require_status(_HUSK_STATUS_INVALID, "kill", ~0u, &err), 0));
}
