/*
 * The task method table against the generated service descriptor: every method of
 * containerd.task.v2.Task has a handler with the right request type, and every method
 * answered with Unimplemented is listed in the README's gaps section.
 */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "runtime/task/v2/shim.pb-c.h"
#include "shim.h"
#include "testutil.h"

/* The RPC and event layers are not under test here. */
void shim_call_reply(struct shim_call *call, const ProtobufCMessage *resp)
{
	(void)call;
	(void)resp;
}

void shim_call_fail(struct shim_call *call, const struct husk_err *err)
{
	(void)call;
	(void)err;
}

void shim_call_on_cancel(struct shim_call *call, shim_call_cancel_fn *cb, void *userdata)
{
	(void)call;
	(void)cb;
	(void)userdata;
}

const char *shim_call_method(const struct shim_call *call)
{
	(void)call;
	return "";
}

void shim_publish(struct shim_publisher *pub, const ProtobufCMessage *event)
{
	(void)pub;
	(void)event;
}

static const struct shim_task_method *find(const char *name)
{
	for (size_t i = 0; i < shim_n_task_methods; i++)
		if (strcmp(shim_task_methods[i].name, name) == 0)
			return &shim_task_methods[i];
	return NULL;
}

Test(task_table, every_method_has_a_handler_of_the_right_type)
{
	const ProtobufCServiceDescriptor *d = &containerd__task__v2__task__descriptor;

	cr_assert(eq(u32, d->n_methods, 17));
	cr_assert(eq(sz, shim_n_task_methods, d->n_methods), "extra or missing entries");
	for (unsigned i = 0; i < d->n_methods; i++) {
		const ProtobufCMethodDescriptor *m = &d->methods[i];
		const struct shim_task_method *e = find(m->name);
		cr_assert_not_null(e, "no handler for %s", m->name);
		cr_assert(eq(ptr, (void *)e->input, (void *)m->input), "%s: request type", m->name);
		cr_assert_not_null(e->fn, "%s: handler", m->name);
	}
}

static char *gaps_section(void)
{
	char *path = testutil_source_path("README.md");
	char *readme = testutil_read_file(path);

	free(path);
	cr_assert_not_null(readme, "README.md not readable");
	char *start = strstr(readme, "## Task API gaps");
	cr_assert_not_null(start, "README has no '## Task API gaps' section");
	char *end = strstr(start + 3, "\n## ");
	if (end)
		*end = '\0';
	char *section = strdup(start);
	free(readme);
	return section;
}

Test(task_table, unimplemented_methods_are_listed_as_gaps)
{
	char *gaps = gaps_section();
	char needle[64];

	for (size_t i = 0; i < shim_n_task_methods; i++) {
		const struct shim_task_method *e = &shim_task_methods[i];
		(void)snprintf(needle, sizeof(needle), "- %s", e->name);
		if (e->unimplemented)
			cr_assert_not_null(strstr(gaps, needle),
					   "%s is unimplemented but not in "
					   "the README's gaps",
					   e->name);
	}
	free(gaps);
}
