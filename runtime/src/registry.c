/*
 * The container registry: every state file of a root (or of one sandbox), and lookup by
 * container id or unique prefix. Only directory entries are read to choose files; a file
 * is opened only when its name says it is one we want. Nothing here takes a lock, so a
 * writer holding one never blocks a listing.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs.h"
#include "husk/cleanup.h"
#include "husk/err.h"
#include "husk/log.h"
#include "state_file.h"

static DIR *open_root_dir(struct husk_state_root *root)
{
	int fd = husk__open_dir_at(root->dirfd, ".");
	if (fd < 0) {
		errno = -fd;
		return NULL;
	}
	DIR *d = fdopendir(fd);
	if (!d)
		(void)husk_safe_close(fd);
	return d;
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s);
	size_t m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Names we consider: "<something>.state", not a dotfile (temp files start with '.'). */
static bool state_candidate(const char *name)
{
	return name[0] != '.' && has_suffix(name, HUSK__STATE_SUFFIX);
}

static int add_problem(struct husk_state_list *l, const char *file, const char *why)
{
	husk_warn("skipping state file '%s': %s, continuing", file, why);
	struct husk_state_problem *n =
		realloc(l->problems, (l->n_problems + 1) * sizeof(*l->problems));
	if (!n)
		return -ENOMEM;
	l->problems = n;
	struct husk_state_problem *p = &l->problems[l->n_problems];
	p->file = strdup(file);
	p->error = strdup(why);
	if (!p->file || !p->error) {
		free(p->file);
		free(p->error);
		return -ENOMEM;
	}
	l->n_problems++;
	return 0;
}

static int add_state(struct husk_state_list *l, struct husk_state *s)
{
	struct husk_state *n = realloc(l->states, (l->n_states + 1) * sizeof(*l->states));
	if (!n)
		return -ENOMEM;
	l->states = n;
	l->states[l->n_states++] = *s;
	*s = (struct husk_state){0};
	return 0;
}

static int list_one(struct husk_state_root *root, const char *name, struct husk_state_list *l)
{
	struct husk_err e = {0};
	struct husk_full_id id;
	if (husk_full_id_parse_filename(name, HUSK__STATE_SUFFIX, &id, &e) < 0)
		return add_problem(l, name, e.msg);

	struct husk_state s = {0};
	int r = husk__state_file_read(root, name, &id, &s, &e);
	/* Removed between readdir and open: a container that is gone, not a problem. */
	if (r < 0 && e.kind == HUSK_ERR_NOT_FOUND)
		return 0;
	if (r < 0)
		return add_problem(l, name, e.msg);
	r = add_state(l, &s);
	husk_state_done(&s);
	return r;
}

static int cmp_states(const void *a, const void *b)
{
	const struct husk_state *x = a;
	const struct husk_state *y = b;
	int c = strcmp(x->id.container, y->id.container);
	return c ? c : strcmp(x->id.sandbox, y->id.sandbox);
}

static int cmp_problems(const void *a, const void *b)
{
	const struct husk_state_problem *x = a;
	const struct husk_state_problem *y = b;
	return strcmp(x->file, y->file);
}

int husk_state_list(struct husk_state_root *root, const char *sandbox, struct husk_state_list *ret,
		    struct husk_err *err)
{
	char suffix[NAME_MAX + 1] = "";
	if (sandbox) {
		int r = husk_id_check(sandbox, "sandbox", err);
		if (r < 0)
			return r;
		/* The glob *_sandbox:<sid>.state, matched on names alone. */
		(void)snprintf(suffix, sizeof(suffix), "_sandbox:%s" HUSK__STATE_SUFFIX, sandbox);
	}

	_cleanup_closedir_ DIR *d = open_root_dir(root);
	if (!d)
		return husk_err_errno(err, errno, "open state root '%s'", root->path);

	struct husk_state_list l = {0};
	struct dirent *de;
	int r = 0;
	while (r == 0 && (errno = 0, de = readdir(d))) {
		if (!state_candidate(de->d_name))
			continue;
		if (sandbox && !has_suffix(de->d_name, suffix))
			continue;
		r = list_one(root, de->d_name, &l);
	}
	if (r == 0 && errno != 0)
		r = -errno;
	if (r < 0) {
		husk_state_list_done(&l);
		return husk_err_errno(err, -r, "list state root '%s'", root->path);
	}
	if (l.n_states > 1)
		qsort(l.states, l.n_states, sizeof(*l.states), cmp_states);
	if (l.n_problems > 1)
		qsort(l.problems, l.n_problems, sizeof(*l.problems), cmp_problems);
	*ret = l;
	return 0;
}

void husk_state_list_done(struct husk_state_list *list)
{
	if (!list)
		return;
	for (size_t i = 0; i < list->n_states; i++)
		husk_state_done(&list->states[i]);
	free(list->states);
	for (size_t i = 0; i < list->n_problems; i++) {
		free(list->problems[i].file);
		free(list->problems[i].error);
	}
	free(list->problems);
	*list = (struct husk_state_list){0};
}

/* The first two matches of one kind and how many there were. */
struct matches {
	struct husk_full_id first[2];
	size_t n;
};

static void match_add(struct matches *m, const struct husk_full_id *id)
{
	if (m->n < 2)
		m->first[m->n] = *id;
	m->n++;
}

static int scan_matches(struct husk_state_root *root, const char *p, struct matches *exact,
			struct matches *prefix, struct husk_err *err)
{
	_cleanup_closedir_ DIR *d = open_root_dir(root);
	if (!d)
		return husk_err_errno(err, errno, "open state root '%s'", root->path);
	size_t plen = strlen(p);
	struct dirent *de;
	while ((errno = 0, de = readdir(d))) {
		struct husk_full_id id;
		/* Badly named files cannot be what the user means; listing reports them. */
		if (!state_candidate(de->d_name) ||
		    husk_full_id_parse_filename(de->d_name, HUSK__STATE_SUFFIX, &id, NULL) < 0)
			continue;
		if (strcmp(id.container, p) == 0)
			match_add(exact, &id);
		else if (strncmp(id.container, p, plen) == 0)
			match_add(prefix, &id);
	}
	if (errno != 0)
		return husk_err_errno(err, errno, "list state root '%s'", root->path);
	return 0;
}

static int ambiguous(const char *p, const struct matches *m, struct husk_err *err)
{
	const struct husk_full_id *a = &m->first[0];
	const struct husk_full_id *b = &m->first[1];
	if (strcmp(a->container, b->container) == 0)
		return husk_err_set(err, HUSK_ERR_INVALID, 0,
				    "ambiguous container id '%s': in sandboxes '%s' and '%s'", p,
				    a->sandbox, b->sandbox);
	return husk_err_set(err, HUSK_ERR_INVALID, 0,
			    "ambiguous container id prefix '%s': matches '%s' and '%s'%s", p,
			    a->container, b->container, m->n > 2 ? " and more" : "");
}

int husk_state_find(struct husk_state_root *root, const char *id_or_prefix, bool lock,
		    struct husk_state_handle **ret, struct husk_err *err)
{
	int r = husk_id_check(id_or_prefix, "container", err);
	if (r < 0)
		return r;

	struct matches exact = {0};
	struct matches prefix = {0};
	r = scan_matches(root, id_or_prefix, &exact, &prefix, err);
	if (r < 0)
		return r;

	/* An exact match wins over longer ids that merely start with it. */
	const struct matches *m = exact.n > 0 ? &exact : &prefix;
	if (m->n == 0)
		return husk_err_set(err, HUSK_ERR_NOT_FOUND, 0, "container '%s' not found",
				    id_or_prefix);
	if (m->n > 1)
		return ambiguous(id_or_prefix, m, err);
	return husk_state_load(root, &m->first[0], lock, ret, err);
}
