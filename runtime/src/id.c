#include "husk/id.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "husk/err.h"

/* The separator between the two ids of a file name; ':' never occurs in an id. */
#define SANDBOX_SEP "_sandbox:"

static bool id_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '+' || c == '-' || c == '.';
}

/* Validate the n bytes at id (not necessarily NUL-terminated). */
static bool id_valid_n(const char *id, size_t n)
{
	if (n == 0 || n > HUSK_ID_MAX)
		return false;
	/* The regex admits "." and "..", which would name a directory when an id is used as a
	 * path component (bundles, cgroups); no container runtime accepts them. */
	if ((n == 1 && id[0] == '.') || (n == 2 && id[0] == '.' && id[1] == '.'))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!id_char(id[i]))
			return false;
	return true;
}

bool husk_id_valid(const char *id)
{
	if (!id)
		return false;
	return id_valid_n(id, strnlen(id, HUSK_ID_MAX + 1));
}

int husk_id_check(const char *id, const char *what, struct husk_err *err)
{
	if (husk_id_valid(id))
		return 0;
	if (!id)
		return husk_err_set(err, HUSK_ERR_INVALID, 0, "invalid %s id: none given", what);
	size_t len = strnlen(id, HUSK_ID_MAX + 1);
	if (len > HUSK_ID_MAX)
		return husk_err_set(err, HUSK_ERR_INVALID, 0,
				    "invalid %s id '%.*s...': longer than %d bytes", what,
				    HUSK_ID_MAX, id, HUSK_ID_MAX);
	return husk_err_set(err, HUSK_ERR_INVALID, 0, "invalid %s id '%s'", what, id);
}

int husk_full_id_set(struct husk_full_id *ret, const char *sandbox, const char *container,
		     struct husk_err *err)
{
	int r = husk_id_check(container, "container", err);
	if (r < 0)
		return r;
	r = husk_id_check(sandbox, "sandbox", err);
	if (r < 0)
		return r;
	struct husk_full_id id = {0};
	memcpy(id.sandbox, sandbox, strlen(sandbox) + 1);
	memcpy(id.container, container, strlen(container) + 1);
	*ret = id;
	return 0;
}

int husk_full_id_filename(const struct husk_full_id *id, const char *suffix, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s" SANDBOX_SEP "%s%s", id->container, id->sandbox,
			 suffix ? suffix : "");
	if (n < 0)
		return -EINVAL;
	/* Leave room for the temp-file decoration of atomic writes within NAME_MAX. */
	if ((size_t)n >= size || n > HUSK_FILENAME_MAX)
		return -ENAMETOOLONG;
	return 0;
}

int husk_full_id_parse_filename(const char *name, const char *suffix, struct husk_full_id *ret,
				struct husk_err *err)
{
	size_t len = strlen(name);
	size_t slen = suffix ? strlen(suffix) : 0;

	if (len < slen || strcmp(name + len - slen, suffix ? suffix : "") != 0)
		return husk_err_set(err, HUSK_ERR_INVALID, 0,
				    "invalid state file name '%s': does not end in '%s'", name,
				    suffix ? suffix : "");
	size_t body = len - slen;
	const char *colon = memchr(name, ':', body);
	const size_t plen = sizeof(SANDBOX_SEP) - 2; /* "_sandbox" without the colon */
	if (!colon || memchr(colon + 1, ':', body - (size_t)(colon + 1 - name)) ||
	    (size_t)(colon - name) < plen || memcmp(colon - plen, SANDBOX_SEP, plen) != 0)
		return husk_err_set(err, HUSK_ERR_INVALID, 0,
				    "invalid state file name '%s': expected "
				    "'<container>" SANDBOX_SEP "<sandbox>%s'",
				    name, suffix ? suffix : "");

	size_t clen = (size_t)(colon - name) - plen;
	size_t sblen = body - (size_t)(colon + 1 - name);
	if (!id_valid_n(name, clen))
		return husk_err_set(err, HUSK_ERR_INVALID, 0,
				    "invalid state file name '%s': bad container id", name);
	if (!id_valid_n(colon + 1, sblen))
		return husk_err_set(err, HUSK_ERR_INVALID, 0,
				    "invalid state file name '%s': bad sandbox id", name);

	struct husk_full_id id = {0};
	memcpy(id.container, name, clen);
	memcpy(id.sandbox, colon + 1, sblen);
	*ret = id;
	return 0;
}
