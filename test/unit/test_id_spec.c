/* husk_sandbox_id_from_spec(): which annotation names a container's sandbox. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "husk/err.h"
#include "husk/id.h"
#include "husk/spec.h"

static struct husk_spec *spec_with(const char *annotations)
{
	char doc[2048];
	(void)snprintf(doc, sizeof(doc),
		       "{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},\"annotations\":{%s}}",
		       annotations);
	struct husk_spec *s = NULL;
	struct husk_err err = {0};
	cr_assert(eq(int, husk_spec_parse(doc, strlen(doc), &s, &err), 0), "%s", err.msg);
	return s;
}

static void expect(const char *annotations, const char *cid, const char *want)
{
	struct husk_spec *s = spec_with(annotations);
	char sid[HUSK_ID_MAX + 1] = "";
	struct husk_err err = {0};
	cr_assert(eq(int, husk_sandbox_id_from_spec(s, cid, sid, &err), 0), "%s", err.msg);
	cr_assert(eq(str, sid, (char *)want), "%s", annotations);
	husk_spec_free(s);
}

Test(id_spec, sources_in_order)
{
	expect("", "ctr", "ctr");
	expect("\"io.kubernetes.cri.container-type\":\"sandbox\","
	       "\"io.kubernetes.cri.sandbox-id\":\"pod\"",
	       "pod", "pod");
	expect("\"io.kubernetes.cri.container-type\":\"container\","
	       "\"io.kubernetes.cri.sandbox-id\":\"pod\"",
	       "ctr", "pod");
	expect("\"io.containerd.runc.v2.group\":\"grp\"", "ctr", "grp");
	expect("\"io.containerd.runc.v2.group\":\"grp\","
	       "\"io.kubernetes.cri.container-type\":\"container\","
	       "\"io.kubernetes.cri.sandbox-id\":\"pod\"",
	       "ctr", "grp");
}

Test(id_spec, invalid_sources_fail)
{
	const char *bad[] = {
		"\"io.containerd.runc.v2.group\":\"a/b\"",
		("\"io.kubernetes.cri.container-type\":\"container\","
		 "\"io.kubernetes.cri.sandbox-id\":\"p:d\""),
		"\"io.kubernetes.cri.container-type\":\"container\"",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct husk_spec *s = spec_with(bad[i]);
		char sid[HUSK_ID_MAX + 1] = "untouched";
		struct husk_err err = {0};
		cr_assert(eq(int, husk_sandbox_id_from_spec(s, "ctr", sid, &err), -EINVAL), "%s",
			  bad[i]);
		cr_assert(eq(int, err.kind, HUSK_ERR_INVALID));
		cr_assert(eq(str, sid, "untouched"));
		husk_spec_free(s);
	}
	struct husk_spec *s = spec_with("");
	char sid[HUSK_ID_MAX + 1];
	cr_assert(eq(int, husk_sandbox_id_from_spec(s, "bad id", sid, NULL), -EINVAL));
	husk_spec_free(s);
}
