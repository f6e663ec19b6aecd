/*
 * State-file codec: any input either fails to parse with an error message, or parses to a
 * state that formats and parses back to the same state (format ∘ parse is a fixed point).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "husk/err.h"
#include "husk/state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static int same(const struct husk_state *a, const struct husk_state *b)
{
	return strcmp(a->id.sandbox, b->id.sandbox) == 0 &&
	       strcmp(a->id.container, b->id.container) == 0 && str_eq(a->bundle, b->bundle) &&
	       a->status == b->status && a->created_ns == b->created_ns && a->owner == b->owner &&
	       str_eq(a->engine, b->engine) && str_eq(a->cgroup_path, b->cgroup_path) &&
	       a->init_pid == b->init_pid && a->init_start_time == b->init_start_time &&
	       a->gofer_pid == b->gofer_pid && a->gofer_start_time == b->gofer_start_time &&
	       a->exited == b->exited && a->exit_status == b->exit_status &&
	       a->exited_ns == b->exited_ns && str_eq(a->engine_data, b->engine_data);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct husk_state s = {0};
	struct husk_err err = {0};
	if (husk_state_parse((const char *)data, size, &s, &err) < 0) {
		if (err.msg[0] == '\0' || err.kind != HUSK_ERR_INVALID)
			abort(); /* every parse failure is an explained invalid argument */
		return 0;
	}
	char *json = NULL;
	if (husk_state_format(&s, &json, &err) < 0)
		abort(); /* whatever parses must format */
	struct husk_state back = {0};
	if (husk_state_parse(json, strlen(json), &back, &err) < 0 || !same(&s, &back))
		abort();
	struct husk_state copy = {0};
	if (husk_state_copy(&s, &copy) < 0 || !same(&s, &copy))
		abort();
	free(json);
	husk_state_done(&s);
	husk_state_done(&back);
	husk_state_done(&copy);
	return 0;
}
