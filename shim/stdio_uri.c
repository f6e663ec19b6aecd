#include "stdio_uri.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "husk/cleanup.h"
#include "husk/err.h"

/* A bound on query pairs: a logger's argv is small, a peer must not make it huge. */
#define MAX_QUERY_PAIRS 64

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decode s[0..len) into out (len + 1 bytes); in a query '+' is a space (Go url rules). */
static int unescape_into(const char *s, size_t len, bool query, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		if (s[i] != '%') {
			out[o++] = s[i];
			if (query && s[i] == '+')
				out[o - 1] = ' ';
			continue;
		}
		if (i + 2 >= len)
			return -EINVAL;
		int hi = hexval(s[i + 1]);
		int lo = hexval(s[i + 2]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		if (hi == 0 && lo == 0)
			return -EINVAL; /* %00 would cut the string */
		out[o++] = (char)(hi << 4 | lo);
		i += 2;
	}
	out[o] = '\0';
	return 0;
}

/* unescape_into() a new string. */
static int unescape(const char *s, size_t len, bool query, char **ret)
{
	char *out = malloc(len + 1);

	if (!out)
		return -ENOMEM;
	int r = unescape_into(s, len, query, out);
	if (r < 0) {
		free(out);
		return r;
	}
	*ret = out;
	return 0;
}

/* RFC 3986 scheme: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) followed by ':'. */
static size_t scheme_len(const char *s)
{
	size_t i = 0;

	if (!isalpha((unsigned char)s[0]))
		return 0;
	while (isalnum((unsigned char)s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.')
		i++;
	return s[i] == ':' ? i : 0;
}

static int add_arg(struct shim_stdio_uri *u, char *arg)
{
	char **a = realloc(u->args, (u->n_args + 1) * sizeof(*a));

	if (!a) {
		free(arg);
		return -ENOMEM;
	}
	u->args = a;
	u->args[u->n_args++] = arg;
	return 0;
}

/* One key[=value] of n bytes at q → args key, value (a missing value is ""). */
static int add_pair(struct shim_stdio_uri *u, const char *q, size_t n, struct husk_err *err)
{
	const char *eq = memchr(q, '=', n);
	size_t kn = eq ? (size_t)(eq - q) : n;
	char *k = NULL;
	char *v = NULL;

	if (unescape(q, kn, true, &k) < 0)
		return husk_err_set(err, HUSK_ERR_INVALID, 0, "invalid escape in stdio uri query");
	if (add_arg(u, k) < 0)
		return husk_err_errno(err, ENOMEM, "parse stdio uri");
	if (unescape(eq ? eq + 1 : q + n, eq ? n - kn - 1 : 0, true, &v) < 0)
		return husk_err_set(err, HUSK_ERR_INVALID, 0, "invalid escape in stdio uri query");
	if (add_arg(u, v) < 0)
		return husk_err_errno(err, ENOMEM, "parse stdio uri");
	return 0;
}

/* key=value&key2=value2 → args key, value, key2, value2 (a missing value is ""). */
static int parse_query(struct shim_stdio_uri *u, const char *q, struct husk_err *err)
{
	size_t pairs = 0;

	while (*q) {
		size_t n = strcspn(q, "&;");
		if (n > 0) {
			if (++pairs > MAX_QUERY_PAIRS)
				return husk_err_set(err, HUSK_ERR_INVALID, 0,
						    "too many query parameters in stdio uri");
			int r = add_pair(u, q, n, err);
			if (r < 0)
				return r;
		}
		q += n;
		if (*q)
			q++;
	}
	return 0;
}

/* scheme://[host]/path[?query][#fragment]: the path must be absolute. */
static int parse_hier(struct shim_stdio_uri *u, const char *rest, bool with_query,
		      struct husk_err *err)
{
	const char *p = rest;

	if (strncmp(p, "//", 2) == 0) {
		p += 2;
		p += strcspn(p, "/?#"); /* host: ignored, as containerd ignores it */
	}
	size_t plen = strcspn(p, "?#");
	if (plen == 0 || p[0] != '/')
		return husk_err_set(err, HUSK_ERR_INVALID, 0, "stdio uri needs an absolute path");
	if (unescape(p, plen, false, &u->path) < 0)
		return husk_err_set(err, HUSK_ERR_INVALID, 0, "invalid escape in stdio uri path");
	if (p[plen] == '?' && with_query) {
		const char *q = p + plen + 1;
		char *query = strndup(q, strcspn(q, "#"));
		if (!query)
			return husk_err_errno(err, ENOMEM, "parse stdio uri");
		int r = parse_query(u, query, err);
		free(query);
		return r;
	}
	return 0;
}

int shim_stdio_uri_parse(const char *s, struct shim_stdio_uri *ret, struct husk_err *err)
{
	struct shim_stdio_uri u = {0};
	int r = 0;

	memset(ret, 0, sizeof(*ret));
	if (!s || !*s)
		return 0;
	size_t sl = scheme_len(s);
	if (sl == 0) {
		u.kind = SHIM_STDIO_FIFO;
		u.path = strdup(s);
		if (!u.path)
			return husk_err_errno(err, ENOMEM, "parse stdio uri");
		*ret = u;
		return 0;
	}
	if (sl == 4 && strncasecmp(s, "fifo", 4) == 0) {
		u.kind = SHIM_STDIO_FIFO;
		r = parse_hier(&u, s + sl + 1, false, err);
	} else if (sl == 6 && strncasecmp(s, "binary", 6) == 0) {
		u.kind = SHIM_STDIO_BINARY;
		r = parse_hier(&u, s + sl + 1, true, err);
	} else if (sl == 4 && strncasecmp(s, "file", 4) == 0) {
		u.kind = SHIM_STDIO_FILE;
		r = parse_hier(&u, s + sl + 1, false, err);
	} else {
		return husk_err_set(err, HUSK_ERR_INVALID, 0, "unknown STDIO scheme %.*s", (int)sl,
				    s);
	}
	if (r < 0) {
		shim_stdio_uri_done(&u);
		return r;
	}
	*ret = u;
	return 0;
}

void shim_stdio_uri_done(struct shim_stdio_uri *u)
{
	free(u->path);
	for (size_t i = 0; i < u->n_args; i++)
		free(u->args[i]);
	free(u->args);
	memset(u, 0, sizeof(*u));
}
