/*
 * jansson helpers shared by the spec parsers (spec.c, spec_process.c, spec_linux.c,
 * spec_resources.c).
 *
 * Every getter names the JSON path in its error message: "<path>.<key>: expected string".
 * A path is a plain string such as "process.user" or "linux.namespaces[1]" ("" at the top
 * level); array paths are built with husk__jpath_index() only when the parser descends.
 *
 * Absent fields and JSON null are treated alike (as Go's encoding/json does when it decodes
 * the specs containerd writes): a getter leaves its output untouched and returns 0, unless
 * the field is required. Strings are copied; nothing keeps a pointer into the json_t tree.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "husk/cleanup.h"
#include "husk/spec.h"

struct husk_err;

/* Longest JSON path kept in a message; longer paths are cut (the message says so with "…"). */
#define HUSK__JPATH_MAX 256

static inline void husk__json_decrefp(json_t **j)
{
	if (*j)
		json_decref(*j);
	*j = NULL;
}
#define _cleanup_json_ _cleanup_(husk__json_decrefp)

/*
 * Parse len bytes of JSON (not NUL-terminated) into an object. what names the document in
 * the top-level messages ("spec", "process", "resources"). Fails with HUSK_ERR_INVALID when
 * len exceeds HUSK_SPEC_MAX_SIZE, the text is not JSON ("invalid JSON at line L, column C:
 * ...") or the top-level value is not an object; with HUSK_ERR_INTERNAL/ENOMEM on OOM.
 * Integers above INT64_MAX (up to UINT64_MAX, e.g. RLIM_INFINITY written by Go) are kept
 * exactly: the u64 getters accept them, every other getter rejects them as the wrong type.
 */
int husk__json_load(const char *buf, size_t len, const char *what, json_t **ret,
		    struct husk_err *err);

/* "<parent>.<key>" (or "<key>" at the top level) into out. */
void husk__jpath_key(char out[HUSK__JPATH_MAX], const char *parent, const char *key);

/* "<parent>.<key>[i]"; key NULL gives "<parent>[i]". */
void husk__jpath_index(char out[HUSK__JPATH_MAX], const char *parent, const char *key, size_t i);

/*
 * HUSK_ERR_INVALID with "<path>.<key>: <message>" (key may be NULL: "<path>: <message>").
 * Returns -EINVAL.
 */
int husk__jerr(struct husk_err *err, const char *path, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* HUSK_ERR_INTERNAL/ENOMEM naming the path being built. Returns -ENOMEM. */
int husk__jerr_nomem(struct husk_err *err, const char *path, const char *key);

/*
 * Where a getter looks: obj[key], named "<path>.<key>" in messages; a required field that is
 * absent is an error. HUSK__JFIELD() makes one in place for a call.
 */
struct husk__jfield {
	json_t *obj;
	const char *path;
	const char *key;
	bool required;
};
#define HUSK__JFIELD(obj, path, key, required) \
	(&(const struct husk__jfield){(obj), (path), (key), (required)})

/* The member key of obj, or NULL when it is absent or JSON null. */
json_t *husk__json_field(json_t *obj, const char *key);

/* Sub-object / array: *ret is NULL when absent (or an error when required). */
int husk__json_object(json_t *obj, const char *path, const char *key, bool required, json_t **ret,
		      struct husk_err *err);
int husk__json_array(json_t *obj, const char *path, const char *key, bool required, json_t **ret,
		     struct husk_err *err);

/* A copied string into *ret (which must be NULL on entry). */
int husk__json_string(json_t *obj, const char *path, const char *key, bool required, char **ret,
		      struct husk_err *err);

/*
 * A borrowed string (valid while the json_t lives) for values that are matched against a
 * table rather than kept: namespace types, rlimit names, seccomp actions.
 */
int husk__json_cstr(json_t *obj, const char *path, const char *key, bool required, const char **ret,
		    struct husk_err *err);

/* Like husk__json_string() on a value already fetched (an array element); path names it. */
int husk__json_string_value(json_t *v, const char *path, char **ret, struct husk_err *err);

/* A boolean; *ret is untouched when absent. */
int husk__json_bool(json_t *obj, const char *path, const char *key, bool *ret,
		    struct husk_err *err);

/* A boolean stored as 0/1 in an optional. */
int husk__json_opt_bool(json_t *obj, const char *path, const char *key, struct husk_opt_u64 *ret,
			struct husk_err *err);

/* An integer in [0, max]; ret->set tells whether it was present. */
int husk__json_u64(const struct husk__jfield *f, uint64_t max, struct husk_opt_u64 *ret,
		   struct husk_err *err);

/* An integer value in [0, max] (an array element); path names it. */
int husk__json_u64_value(json_t *v, const char *path, uint64_t max, uint64_t *ret,
			 struct husk_err *err);

/* An integer in [min, max]. */
int husk__json_i64(const struct husk__jfield *f, int64_t min, int64_t max, struct husk_opt_i64 *ret,
		   struct husk_err *err);

/*
 * An array of strings. The result is also NULL-terminated (n + 1 slots), so args and env
 * can go to execve() as they are. Built in place: after a failure *ret and *ret_n describe
 * what was copied so far, and husk__strv_free() releases it. Absent: *ret stays NULL.
 */
int husk__json_strv(const struct husk__jfield *f, char ***ret, size_t *ret_n, struct husk_err *err);

/* An object of string values (annotations, sysctl, unified); built in place like strv. */
int husk__json_kv(json_t *obj, const char *path, const char *key, struct husk_kv **ret,
		  size_t *ret_n, struct husk_err *err);

/*
 * calloc(n, size) for an array the caller stores at once, so that a later failure frees it
 * with the struct. n == 0 still returns a valid (1-element) allocation. NULL on OOM.
 */
void *husk__json_calloc(size_t n, size_t size);

typedef int husk__json_elem_fn(json_t *elem, const char *path, void *item, struct husk_err *err);

/* The items an array of objects is parsed into. */
struct husk__jitems {
	void *base;		/* item 0 */
	size_t size;		/* bytes from one item to the next */
	husk__json_elem_fn *fn; /* parses one element into its item */
};

/*
 * Parse each element of the array a (found at "<path>.<key>") as an object with
 * items->fn(elem, "<path>.<key>[i]", item i, err).
 */
int husk__json_each(json_t *a, const char *path, const char *key, const struct husk__jitems *items,
		    struct husk_err *err);

/*
 * The array of objects obj[key] into arr/n (a pointer and a count lvalue): the zeroed array
 * is stored before the first element is parsed, so after a failure the caller's destructor
 * frees the elements built so far. Absent or null: arr and n are untouched. Evaluates to 0
 * or a negative errno.
 */
#define HUSK__JSON_OBJECTS(obj, path, key, arr, n, fn, err)                              \
	({                                                                               \
		json_t *_a = NULL;                                                       \
		int _r = husk__json_array((obj), (path), (key), false, &_a, (err));      \
		if (_r >= 0 && _a) {                                                     \
			(arr) = husk__json_calloc(json_array_size(_a), sizeof(*(arr)));  \
			if (!(arr)) {                                                    \
				_r = husk__jerr_nomem((err), (path), (key));             \
			} else {                                                         \
				(n) = json_array_size(_a);                               \
				struct husk__jitems _it = {(arr), sizeof(*(arr)), (fn)}; \
				_r = husk__json_each(_a, (path), (key), &_it, (err));    \
			}                                                                \
		}                                                                        \
		_r;                                                                      \
	})

void husk__strv_free(char **v, size_t n);

/*
 * Copy the NULL-terminated v into *ret (NULL-terminated, *ret_n strings). v NULL: *ret is
 * NULL and *ret_n 0. -ENOMEM leaves *ret NULL.
 */
int husk__strv_dup(const char *const *v, char ***ret, size_t *ret_n);
void husk__kv_free(struct husk_kv *kv, size_t n);

/* Whether path is absolute (starts with '/'). */
static inline bool husk__path_is_absolute(const char *path)
{
	return path && path[0] == '/';
}
