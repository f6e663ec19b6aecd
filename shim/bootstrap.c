#include "bootstrap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "husk/cleanup.h"
#include "husk/err.h"
#include "runtime/bootstrap/v1/bootstrap.pb-c.h"

/* containerd's LogLevel: DEBUG -4, TRACE -8 (more verbose is more negative). */
#define LOG_LEVEL_DEBUG (-4)

typedef Containerd__Runtime__Bootstrap__V1__BootstrapParams BootstrapParams;

static bool is_options_type(const char *type_url)
{
	const char *name = shim_type_url_name(type_url);

	return strcmp(name, "containerd.runc.v1.Options") == 0 ||
	       strcmp(name, "runtimeoptions.v1.Options") == 0;
}

/* The first extension carrying runtime options, as containerd 2.3 passes them. */
static int options_from_extensions(const BootstrapParams *p, struct shim_options *opts,
				   struct husk_err *err)
{
	for (size_t i = 0; i < p->n_extensions; i++) {
		const Google__Protobuf__Any *v = p->extensions[i]->value;
		if (!v || !v->type_url || !is_options_type(v->type_url))
			continue;
		int r = shim_options_parse(v->type_url, v->value.data, v->value.len, opts, err);
		if (r < 0)
			return husk_err_prefix(err, "bootstrap extensions[%zu]", i);
		return 0;
	}
	return 0;
}

static int from_params(const BootstrapParams *p, struct shim_bootstrap *b,
		       struct shim_options *opts, struct husk_err *err)
{
	b->params = true;
	b->debug = p->log_level <= LOG_LEVEL_DEBUG;
	if (p->socket_dir && *p->socket_dir) {
		if (p->socket_dir[0] != '/')
			return husk_err_set(err, HUSK_ERR_INVALID, 0,
					    "bootstrap socket_dir '%s' is not absolute",
					    p->socket_dir);
		b->socket_dir = strdup(p->socket_dir);
		if (!b->socket_dir)
			return husk_err_errno(err, ENOMEM, "bootstrap socket_dir");
	}
	return options_from_extensions(p, opts, err);
}

static int max_version_parse(const char *s)
{
	char *end = NULL;

	if (!s || !*s)
		return 0;
	errno = 0;
	long v = strtol(s, &end, 10);
	return errno == 0 && *end == '\0' && v > 0 && v < 1000 ? (int)v : 0;
}

int shim_bootstrap_parse(const struct shim_bootstrap_input *i, struct shim_bootstrap *ret,
			 struct shim_options *opts, struct husk_err *err)
{
	const uint8_t *in = i->in;
	size_t len = i->len;
	const char *id = i->id;
	const char *ns = i->ns;
	struct shim_bootstrap b = {.version = 2};
	int r;

	*ret = b;
	*opts = (struct shim_options){0};
	/*
	 * A 1.x options Any also decodes as a BootstrapParams (its type_url lands in
	 * instance_id): only one naming this very task and namespace is taken as one.
	 */
	BootstrapParams *p =
		len ? containerd__runtime__bootstrap__v1__bootstrap_params__unpack(NULL, len, in)
		    : NULL;
	if (p && p->instance_id && p->namespace_ && strcmp(p->instance_id, id) == 0 &&
	    strcmp(p->namespace_, ns) == 0) {
		r = from_params(p, &b, opts, err);
		containerd__runtime__bootstrap__v1__bootstrap_params__free_unpacked(p, NULL);
		if (r < 0) {
			shim_options_done(opts);
			shim_bootstrap_done(&b);
			return r;
		}
	} else {
		if (p)
			containerd__runtime__bootstrap__v1__bootstrap_params__free_unpacked(p,
											    NULL);
		r = shim_options_parse_any(in, len, opts, err);
		if (r < 0)
			return r;
	}
	if (b.params || max_version_parse(i->max_version) >= 3)
		b.version = 3;
	*ret = b;
	return 0;
}

int shim_bootstrap_answer(const struct shim_bootstrap *b, const char *address, char *buf,
			  size_t size, struct husk_err *err)
{
	int n;

	if (b->version < 3) {
		n = snprintf(buf, size, "%s", address);
	} else {
		/* Addresses are paths we derived; refuse rather than escape anything odd. */
		for (const char *c = address; *c; c++)
			if (*c == '"' || *c == '\\' || (unsigned char)*c < 0x20)
				return husk_err_set(err, HUSK_ERR_INVALID, 0,
						    "address '%s' needs JSON escaping", address);
		n = snprintf(buf, size, "{\"version\":3,\"address\":\"%s\",\"protocol\":\"ttrpc\"}",
			     address);
	}
	if (n < 0 || (size_t)n >= size)
		return husk_err_set(err, HUSK_ERR_INVALID, 0, "start answer too long");
	return n;
}

void shim_bootstrap_done(struct shim_bootstrap *b)
{
	if (!b)
		return;
	free(b->socket_dir);
	*b = (struct shim_bootstrap){0};
}
