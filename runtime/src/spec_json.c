#include "spec_json.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "husk/err.h"

/* ---- paths and messages ---- */

struct pbuf {
	char *s;
	size_t len;
	bool cut;
};

static void pbuf_put(struct pbuf *b, const char *s, size_t n)
{
	if (b->len + n >= HUSK__JPATH_MAX) {
		n = HUSK__JPATH_MAX - 1 - b->len;
		b->cut = true;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void pbuf_finish(struct pbuf *b)
{
	if (b->cut && b->len >= 3)
		memcpy(b->s + b->len - 3, "...", 3);
}

static void pbuf_key(struct pbuf *b, const char *parent, const char *key)
{
	b->s[0] = '\0';
	b->len = 0;
	b->cut = false;
	if (parent && parent[0])
		pbuf_put(b, parent, strlen(parent));
	if (key) {
		if (b->len > 0)
			pbuf_put(b, ".", 1);
		pbuf_put(b, key, strlen(key));
	}
}

void husk__jpath_key(char out[HUSK__JPATH_MAX], const char *parent, const char *key)
{
	struct pbuf b = {.s = out};

	out[0] = '\0';
	pbuf_key(&b, parent, key);
	pbuf_finish(&b);
}

void husk__jpath_index(char out[HUSK__JPATH_MAX], const char *parent, const char *key, size_t i)
{
	struct pbuf b = {.s = out};
	char num[32];

	out[0] = '\0';
	pbuf_key(&b, parent, key);
	int n = snprintf(num, sizeof(num), "[%zu]", i);
	if (n > 0 && (size_t)n < sizeof(num))
		pbuf_put(&b, num, (size_t)n);
	pbuf_finish(&b);
}

int husk__jerr(struct husk_err *err, const char *path, const char *key, const char *fmt, ...)
{
	char where[HUSK__JPATH_MAX];
	char msg[HUSK_ERR_MSG_MAX];
	va_list ap;

	husk__jpath_key(where, path, key);
	va_start(ap, fmt);
	int n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		msg[0] = '\0';
	if (!where[0])
		return husk_err_set(err, HUSK_ERR_INVALID, 0, "%s", msg);
	return husk_err_set(err, HUSK_ERR_INVALID, 0, "%s: %s", where, msg);
}

int husk__jerr_nomem(struct husk_err *err, const char *path, const char *key)
{
	char where[HUSK__JPATH_MAX];

	husk__jpath_key(where, path, key);
	return husk_err_errno(err, ENOMEM, "%s", where[0] ? where : "spec");
}

/* ---- loading ---- */

/*
 * jansson stores integers as json_int_t (int64) and refuses larger ones ("too big integer"),
 * but Go writes uint64 fields as they are: RLIM_INFINITY is 18446744073709551615, and so is
 * the -1 swappiness docker used to write. When (and only when) jansson reports a numeric
 * overflow, each integer literal in (INT64_MAX, UINT64_MAX] is rewritten as a string
 * "\u0000<digits>" and the copy is parsed with JSON_ALLOW_NUL. Such a marker cannot come
 * from the document itself: the rewrite refuses any "\u0000" escape, as jansson does without
 * JSON_ALLOW_NUL. Larger or negative literals are left alone for jansson to report.
 */
#define BIG_MARKER_EXTRA 8 /* "\u0000 + closing quote */

static bool is_big_u64(const char *s, size_t n)
{
	static const char i64_max[] = "9223372036854775807";
	static const char u64_max[] = "18446744073709551615";

	if (n < 19 || n > 20 || s[0] == '0')
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	if (n == 19)
		return memcmp(s, i64_max, 19) > 0;
	return memcmp(s, u64_max, 20) <= 0;
}

static bool is_number_char(char c)
{
	return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

/* Copy n bytes to out + o unless out is NULL (counting only). */
static void put(char *out, size_t o, const char *src, size_t n)
{
	if (out)
		memcpy(out + o, src, n);
}

/*
 * The end of the string literal opening at buf[i] (past its closing quote, or len). SIZE_MAX
 * when it holds a "\u0000" escape, whose offset goes to *ret_nul_at.
 */
static size_t string_end(const char *buf, size_t len, size_t i, size_t *ret_nul_at)
{
	size_t j = i + 1;

	while (j < len && buf[j] != '"') {
		if (buf[j] == '\\' && j + 1 < len) {
			if (len - j >= 6 && memcmp(buf + j, "\\u0000", 6) == 0) {
				*ret_nul_at = j;
				return SIZE_MAX;
			}
			j++;
		}
		j++;
	}
	return j < len ? j + 1 : len;
}

/* The number literal num[0..n) at out + o, behind the marker when big; bytes it takes. */
static size_t put_number(char *out, size_t o, const char *num, size_t n, bool big)
{
	static const char marker[7] = {'"', '\\', 'u', '0', '0', '0', '0'};

	if (!big) {
		put(out, o, num, n);
		return n;
	}
	put(out, o, marker, sizeof(marker));
	put(out, o + sizeof(marker), num, n);
	put(out, o + sizeof(marker) + n, "\"", 1);
	return n + BIG_MARKER_EXTRA;
}

/* Scan buf; with out NULL only count. Returns the number of big literals, or -1 on "\u0000". */
static long rewrite_big(const char *buf, size_t len, char *out, size_t *ret_nul_at)
{
	long n_big = 0;
	size_t o = 0;

	for (size_t i = 0; i < len;) {
		char c = buf[i];
		size_t j = i + 1;
		if (c == '"') {
			j = string_end(buf, len, i, ret_nul_at);
			if (j == SIZE_MAX)
				return -1;
			put(out, o, buf + i, j - i);
			o += j - i;
		} else if (c == '-' || (c >= '0' && c <= '9')) {
			while (j < len && is_number_char(buf[j]))
				j++;
			bool big = is_big_u64(buf + i, j - i);
			o += put_number(out, o, buf + i, j - i, big);
			n_big += big;
		} else {
			put(out, o, &c, 1);
			o++;
		}
		i = j;
	}
	return n_big;
}

static void line_col(const char *buf, size_t at, int *ret_line, int *ret_col)
{
	int line = 1;
	int col = 1;

	for (size_t i = 0; i < at; i++) {
		if (buf[i] == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	*ret_line = line;
	*ret_col = col;
}

static int json_error(const json_error_t *je, struct husk_err *err)
{
	/* jansson leaves the text empty when an allocation failed with no error_set() (its
	 * lexer buffer, json_object_set() inside the parser): that is OOM too. */
	if (json_error_code(je) == json_error_out_of_memory || !je->text[0])
		return husk_err_errno(err, ENOMEM, "parse JSON");
	return husk_err_set(err, HUSK_ERR_INVALID, 0, "invalid JSON at line %d, column %d: %s",
			    je->line, je->column, je->text);
}

static int load_big(const char *buf, size_t len, json_t **ret, struct husk_err *err)
{
	size_t nul_at = 0;
	long n_big = rewrite_big(buf, len, NULL, &nul_at);

	if (n_big < 0) {
		int line;
		int col;
		line_col(buf, nul_at, &line, &col);
		return husk_err_set(err, HUSK_ERR_INVALID, 0,
				    "invalid JSON at line %d, column %d: \\u0000 is not allowed",
				    line, col);
	}

	size_t size = len + (size_t)n_big * BIG_MARKER_EXTRA;
	char *copy = malloc(size ? size : 1);
	if (!copy)
		return husk_err_errno(err, ENOMEM, "parse JSON");
	(void)rewrite_big(buf, len, copy, &nul_at);

	json_error_t je;
	json_t *root = json_loadb(copy, size, JSON_ALLOW_NUL, &je);
	free(copy);
	if (!root)
		return json_error(&je, err);
	*ret = root;
	return 0;
}

int husk__json_load(const char *buf, size_t len, const char *what, json_t **ret,
		    struct husk_err *err)
{
	if (len > HUSK_SPEC_MAX_SIZE)
		return husk_err_set(err, HUSK_ERR_INVALID, 0,
				    "%s: %zu bytes exceed the limit of %u bytes", what, len,
				    HUSK_SPEC_MAX_SIZE);
	if (!buf && len > 0)
		return husk_err_set(err, HUSK_ERR_INVALID, 0, "%s: no data", what);

	json_error_t je;
	_cleanup_json_ json_t *root = json_loadb(buf ? buf : "", len, 0, &je);
	if (!root) {
		if (json_error_code(&je) != json_error_numeric_overflow)
			return json_error(&je, err);
		int r = load_big(buf, len, &root, err);
		if (r < 0)
			return r;
	}
	if (!json_is_object(root))
		return husk_err_set(err, HUSK_ERR_INVALID, 0, "%s: expected object", what);
	*ret = TAKE_PTR(root);
	return 0;
}

/* ---- field getters ---- */

json_t *husk__json_field(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	return json_is_null(v) ? NULL : v;
}

static int fetch(const struct husk__jfield *f, json_t **ret, struct husk_err *err)
{
	json_t *v = husk__json_field(f->obj, f->key);

	if (!v && f->required)
		return husk__jerr(err, f->path, f->key, "missing required field");
	*ret = v;
	return 0;
}

static int typed(const struct husk__jfield *f, json_type type, const char *want, json_t **ret,
		 struct husk_err *err)
{
	json_t *v = NULL;
	int r = fetch(f, &v, err);

	if (r < 0)
		return r;
	if (v && json_typeof(v) != type)
		return husk__jerr(err, f->path, f->key, "expected %s", want);
	*ret = v;
	return 0;
}

int husk__json_object(json_t *obj, const char *path, const char *key, bool required, json_t **ret,
		      struct husk_err *err)
{
	return typed(HUSK__JFIELD(obj, path, key, required), JSON_OBJECT, "object", ret, err);
}

int husk__json_array(json_t *obj, const char *path, const char *key, bool required, json_t **ret,
		     struct husk_err *err)
{
	return typed(HUSK__JFIELD(obj, path, key, required), JSON_ARRAY, "array", ret, err);
}

/* A real string: a JSON string with no NUL inside (which rules out big-integer markers). */
static const char *string_of(json_t *v)
{
	if (!json_is_string(v))
		return NULL;
	const char *s = json_string_value(v);
	return strlen(s) == json_string_length(v) ? s : NULL;
}

int husk__json_string_value(json_t *v, const char *path, char **ret, struct husk_err *err)
{
	const char *s = string_of(v);

	if (!s)
		return husk__jerr(err, path, NULL, "expected string");
	*ret = strdup(s);
	if (!*ret)
		return husk__jerr_nomem(err, path, NULL);
	return 0;
}

int husk__json_string(json_t *obj, const char *path, const char *key, bool required, char **ret,
		      struct husk_err *err)
{
	json_t *v = NULL;
	int r = fetch(HUSK__JFIELD(obj, path, key, required), &v, err);

	if (r < 0 || !v)
		return r;
	const char *s = string_of(v);
	if (!s)
		return husk__jerr(err, path, key, "expected string");
	*ret = strdup(s);
	if (!*ret)
		return husk__jerr_nomem(err, path, key);
	return 0;
}

int husk__json_cstr(json_t *obj, const char *path, const char *key, bool required, const char **ret,
		    struct husk_err *err)
{
	json_t *v = NULL;
	int r = fetch(HUSK__JFIELD(obj, path, key, required), &v, err);

	if (r < 0 || !v)
		return r;
	const char *s = string_of(v);
	if (!s)
		return husk__jerr(err, path, key, "expected string");
	*ret = s;
	return 0;
}

int husk__json_bool(json_t *obj, const char *path, const char *key, bool *ret, struct husk_err *err)
{
	json_t *v = husk__json_field(obj, key);

	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return husk__jerr(err, path, key, "expected boolean");
	*ret = json_is_true(v);
	return 0;
}

int husk__json_opt_bool(json_t *obj, const char *path, const char *key, struct husk_opt_u64 *ret,
			struct husk_err *err)
{
	bool b = false;
	json_t *v = husk__json_field(obj, key);
	int r = husk__json_bool(obj, path, key, &b, err);

	if (r < 0 || !v)
		return r;
	ret->set = true;
	ret->v = b;
	return 0;
}

enum num_kind {
	NUM_NONE,
	NUM_INT, /* fits int64: *i */
	NUM_BIG, /* in (INT64_MAX, UINT64_MAX]: *u */
};

static enum num_kind number_of(json_t *v, int64_t *i, uint64_t *u)
{
	if (json_is_integer(v)) {
		*i = json_integer_value(v);
		return NUM_INT;
	}
	if (json_is_string(v) && json_string_length(v) > 1 && json_string_value(v)[0] == '\0') {
		const char *s = json_string_value(v) + 1;
		uint64_t x = 0;
		for (; *s; s++)
			x = x * 10 + (uint64_t)(*s - '0');
		*u = x;
		return NUM_BIG;
	}
	return NUM_NONE;
}

int husk__json_u64_value(json_t *v, const char *path, uint64_t max, uint64_t *ret,
			 struct husk_err *err)
{
	int64_t i = 0;
	uint64_t u = 0;

	switch (number_of(v, &i, &u)) {
	case NUM_NONE:
		return husk__jerr(err, path, NULL, "expected integer");
	case NUM_INT:
		if (i < 0)
			return husk__jerr(err, path, NULL,
					  "%" PRId64 " is out of range 0..%" PRIu64, i, max);
		u = (uint64_t)i;
		break;
	case NUM_BIG:
		break;
	}
	if (u > max)
		return husk__jerr(err, path, NULL, "%" PRIu64 " is out of range 0..%" PRIu64, u,
				  max);
	*ret = u;
	return 0;
}

int husk__json_u64(const struct husk__jfield *f, uint64_t max, struct husk_opt_u64 *ret,
		   struct husk_err *err)
{
	json_t *v = NULL;
	int r = fetch(f, &v, err);

	if (r < 0 || !v)
		return r;
	char where[HUSK__JPATH_MAX];
	husk__jpath_key(where, f->path, f->key);
	r = husk__json_u64_value(v, where, max, &ret->v, err);
	if (r < 0)
		return r;
	ret->set = true;
	return 0;
}

int husk__json_i64(const struct husk__jfield *f, int64_t min, int64_t max, struct husk_opt_i64 *ret,
		   struct husk_err *err)
{
	json_t *v = NULL;
	int64_t i = 0;
	uint64_t u = 0;
	int r = fetch(f, &v, err);

	if (r < 0 || !v)
		return r;
	switch (number_of(v, &i, &u)) {
	case NUM_NONE:
		return husk__jerr(err, f->path, f->key, "expected integer");
	case NUM_BIG:
		return husk__jerr(err, f->path, f->key,
				  "%" PRIu64 " is out of range %" PRId64 "..%" PRId64, u, min, max);
	case NUM_INT:
		break;
	}
	if (i < min || i > max)
		return husk__jerr(err, f->path, f->key,
				  "%" PRId64 " is out of range %" PRId64 "..%" PRId64, i, min, max);
	ret->set = true;
	ret->v = i;
	return 0;
}

/* ---- collections ---- */

void *husk__json_calloc(size_t n, size_t size)
{
	return calloc(n ? n : 1, size);
}

int husk__json_strv(const struct husk__jfield *f, char ***ret, size_t *ret_n, struct husk_err *err)
{
	const char *path = f->path;
	const char *key = f->key;
	json_t *a = NULL;
	int r = typed(f, JSON_ARRAY, "array", &a, err);

	if (r < 0 || !a)
		return r;
	size_t n = json_array_size(a);
	char **v = calloc(n + 1, sizeof(*v));
	if (!v)
		return husk__jerr_nomem(err, path, key);
	*ret = v;
	*ret_n = 0;
	for (size_t i = 0; i < n; i++) {
		char where[HUSK__JPATH_MAX];
		json_t *e = json_array_get(a, i);
		if (!string_of(e)) {
			husk__jpath_index(where, path, key, i);
			return husk__jerr(err, where, NULL, "expected string");
		}
		v[i] = strdup(json_string_value(e));
		if (!v[i]) {
			husk__jpath_index(where, path, key, i);
			return husk__jerr_nomem(err, where, NULL);
		}
		*ret_n = i + 1;
	}
	return 0;
}

int husk__json_kv(json_t *obj, const char *path, const char *key, struct husk_kv **ret,
		  size_t *ret_n, struct husk_err *err)
{
	json_t *o = NULL;
	int r = husk__json_object(obj, path, key, false, &o, err);

	if (r < 0 || !o)
		return r;
	struct husk_kv *kv = husk__json_calloc(json_object_size(o), sizeof(*kv));
	if (!kv)
		return husk__jerr_nomem(err, path, key);
	*ret = kv;
	*ret_n = 0;

	char where[HUSK__JPATH_MAX];
	husk__jpath_key(where, path, key);
	const char *k;
	json_t *v;
	size_t i = 0;
	json_object_foreach (o, k, v) {
		if (!k[0])
			return husk__jerr(err, where, NULL, "empty key");
		if (!string_of(v))
			return husk__jerr(err, where, k, "expected string");
		*ret_n = i + 1;
		kv[i].key = strdup(k);
		kv[i].value = strdup(json_string_value(v));
		if (!kv[i].key || !kv[i].value)
			return husk__jerr_nomem(err, where, k);
		i++;
	}
	return 0;
}

void husk__strv_free(char **v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int husk__strv_dup(const char *const *v, char ***ret, size_t *ret_n)
{
	size_t n = 0;

	*ret = NULL;
	*ret_n = 0;
	if (!v)
		return 0;
	while (v[n])
		n++;
	char **c = calloc(n + 1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		c[i] = strdup(v[i]);
		if (!c[i]) {
			husk__strv_free(c, i);
			return -ENOMEM;
		}
	}
	*ret = c;
	*ret_n = n;
	return 0;
}

void husk__kv_free(struct husk_kv *kv, size_t n)
{
	if (!kv)
		return;
	for (size_t i = 0; i < n; i++) {
		free(kv[i].key);
		free(kv[i].value);
	}
	free(kv);
}

int husk__json_each(json_t *a, const char *path, const char *key, const struct husk__jitems *items,
		    struct husk_err *err)
{
	size_t n = json_array_size(a);

	for (size_t i = 0; i < n; i++) {
		char where[HUSK__JPATH_MAX];
		json_t *e = json_array_get(a, i);
		husk__jpath_index(where, path, key, i);
		if (!json_is_object(e))
			return husk__jerr(err, where, NULL, "expected object");
		int r = items->fn(e, where, (char *)items->base + i * items->size, err);
		if (r < 0)
			return r;
	}
	return 0;
}
