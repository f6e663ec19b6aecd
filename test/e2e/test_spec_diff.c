/*
 * The differential spec suite: every case of spec_diff_cases.c runs one container through
 * husk and one through containerd-shim-runc-v2 (runc 1.1), on one private containerd, and
 * what the containers observe must be the same: the probe's output (normalised: mount ids,
 * device numbers, peer group numbers, the case's paths and ids), the exit status, and
 * whether and where ctr failed (create or start) with the case's error text (compared
 * without case: runc's Go errors are lower case). A difference
 * fails the suite unless sd_allowed names the case and says why.
 *
 * A case's config is test/helpers/config.json with root.path "@DIR@/rootfs", cgroupsPath
 * "/@NS@/@ID@" and args ["sh", "-c", probe], then the case's patch merged in: an object
 * merges member by member, null deletes a member, "+key": [...] appends to the array key,
 * anything else replaces; a patch writes ' for " (JSON strings in C). Runs go through `ctr run --rm
 * --config`, several at a time (forked workers: each run is a ctr process), husk's and runc's of a
 * case side by side.
 */
#include <errno.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <criterion/new/assert.h>
#include <jansson.h>

#include "containerd.h"
#include "spec_diff.h"
#include "testutil.h"

#define WORKERS	 6
#define REF	 "io.containerd.runc.v2"
#define HUSK	 "io.containerd.husk.v2"
#define MAX_RUNS 1024

struct run {
	const struct sd_case *c;
	bool husk;
	char id[32];
	char dir[512];
	char nspid[16];
	char blk_major[16];
	char blk_minor[16];
};

static struct e2e_cd *cd;
static struct e2e_proc *nsholder;

static void suite_init(void)
{
	cd = e2e_cd_start();
}

static void suite_fini(void)
{
	if (nsholder) {
		(void)kill(-e2e_proc_pid(nsholder), SIGKILL);
		struct e2e_res r = e2e_proc_finish(nsholder, 5);
		e2e_res_done(&r);
	}
	e2e_cd_stop(cd);
}

TestSuite(spec_diff, .init = suite_init, .fini = suite_fini, .timeout = 600);

/* s with every occurrence of from replaced by to (malloc'ed; s is freed). */
static char *replace_all(char *s, const char *from, const char *to)
{
	size_t fl = strlen(from), tl = strlen(to), n = 0;

	if (!fl)
		return s;
	for (const char *p = strstr(s, from); p; p = strstr(p + fl, from))
		n++;
	if (!n)
		return s;
	char *out = malloc(strlen(s) + n * tl + 1);
	cr_assert(out != NULL);
	char *o = out;
	const char *p = s;
	for (const char *q = strstr(p, from); q; q = strstr(p, from)) {
		memcpy(o, p, (size_t)(q - p));
		o += q - p;
		memcpy(o, to, tl);
		o += tl;
		p = q + fl;
	}
	strcpy(o, p);
	free(s);
	return out;
}

/*
 * @SYS:path@ is the host's current value of /proc/sys/<path>: cases where a runtime might
 * write a sysctl into the host's namespaces (runc refuses) write the value already there.
 */
static char *expand_sys(char *s)
{
	for (char *at = strstr(s, "@SYS:"); at; at = strstr(s, "@SYS:")) {
		char *end = strchr(at + 5, '@');
		cr_assert(end != NULL, "unterminated @SYS: in %s", s);
		char *tpl = e2e_asprintf("%.*s", (int)(end + 1 - at), at);
		char *path = e2e_asprintf("/proc/sys/%.*s", (int)(end - at - 5), at + 5);
		char *v = testutil_read_file(path);
		cr_assert(v != NULL, "%s: %s", path, strerror(errno));
		v[strcspn(v, "\n")] = '\0';
		s = replace_all(s, tpl, v);
		free(v);
		free(path);
		free(tpl);
	}
	return s;
}

static char *expand(const char *tpl, const struct run *r)
{
	char *s = expand_sys(strdup(tpl));
	s = replace_all(s, "@DIR@", r->dir);
	s = replace_all(s, "@ID@", r->id);
	s = replace_all(s, "@NS@", cd->ns);
	s = replace_all(s, "@BLKMAJ@", r->blk_major);
	s = replace_all(s, "@BLKMIN@", r->blk_minor);
	return replace_all(s, "@NSPID@", r->nspid);
}

static void merge(json_t *dst, json_t *patch);

static void merge_member(json_t *dst, const char *key, json_t *v)
{
	if (key[0] == '+') {
		json_t *arr = json_object_get(dst, key + 1);
		if (!json_is_array(arr)) {
			arr = json_array();
			json_object_set_new(dst, key + 1, arr);
		}
		cr_assert(json_array_extend(arr, v) == 0, "'%s' appends an array", key);
	} else if (json_is_null(v)) {
		(void)json_object_del(dst, key);
	} else if (json_is_object(v) && json_is_object(json_object_get(dst, key))) {
		merge(json_object_get(dst, key), v);
	} else {
		json_object_set(dst, key, v);
	}
}

static void merge(json_t *dst, json_t *patch)
{
	const char *key;
	json_t *v;

	json_object_foreach (patch, key, v)
		merge_member(dst, key, v);
}

static void sh(const char *cmd)
{
	cr_assert(eq(int, system(cmd), 0), "%s", cmd);
}

/* The case dir: rootfs copy, bind sources, config.json. */
static void prepare(struct run *r, const json_t *base)
{
	json_error_t je;

	cr_assert(eq(int, mkdir(r->dir, 0755), 0), "%s: %s", r->dir, strerror(errno));
	char *cmd =
		e2e_asprintf("cp -a '%s' '%s/rootfs' && mkdir '%s/src' && echo bound >'%s/src/f' "
			     "&& echo file >'%s/srcfile'",
			     cd->rootfs, r->dir, r->dir, r->dir, r->dir);
	sh(cmd);
	free(cmd);

	json_t *cfg = json_deep_copy(base);
	char *root = e2e_asprintf("%s/rootfs", r->dir);
	char *cg = e2e_asprintf("/%s/%s", cd->ns, r->id);
	json_object_set_new(json_object_get(cfg, "root"), "path", json_string(root));
	json_object_set_new(json_object_get(cfg, "linux"), "cgroupsPath", json_string(cg));
	char *probe = expand(r->c->probe ? r->c->probe : "true", r);
	json_object_set_new(json_object_get(cfg, "process"), "args",
			    json_pack("[sss]", "sh", "-c", probe));
	if (r->c->patch) {
		char *text = expand(r->c->patch, r);
		for (char *q = strchr(text, '\''); q; q = strchr(q, '\''))
			*q = '"';
		json_t *patch = json_loads(text, 0, &je);
		cr_assert(0 != json_is_object(patch), "case %s: bad patch (%s): %s", r->c->name,
			  je.text, text);
		merge(cfg, patch);
		json_decref(patch);
		free(text);
	}
	char *path = e2e_asprintf("%s/config.json", r->dir);
	cr_assert(eq(int, json_dump_file(cfg, path, JSON_INDENT(1)), 0));
	free(path);
	free(probe);
	free(cg);
	free(root);
	json_decref(cfg);
}

static void save(const char *dir, const char *name, const char *data, size_t len)
{
	char path[600];
	(void)snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "we");
	if (f) {
		(void)fwrite(data, 1, len, f);
		(void)fclose(f);
	}
}

static void execute(const struct run *r)
{
	char cfg[600];
	char status[16];
	const char *rt = r->husk ? HUSK : REF;

	(void)snprintf(cfg, sizeof(cfg), "%s/config.json", r->dir);
	struct e2e_res res;
	if (r->c->flags & SD_TTY)
		res = e2e_ctr_tty(cd, "run", "--rm", "-t", "--runtime", rt, "--fifo-dir",
				  cd->fifo_dir, "--config", cfg, r->id, NULL);
	else
		res = e2e_ctr(cd, NULL, "run", "--rm", "--runtime", rt, "--fifo-dir", cd->fifo_dir,
			      "--config", cfg, r->id, NULL);
	int n = snprintf(status, sizeof(status), "%d", res.status);
	save(r->dir, "status", status, (size_t)n);
	save(r->dir, "out", res.out, res.out_len);
	save(r->dir, "err", res.err, strlen(res.err));
	e2e_res_done(&res);
}

/* Forked workers run the runs pick[0..n) (each a ctr process); the parent only waits. */
static void execute_all(const struct run *runs, const size_t *pick, size_t n)
{
	pid_t pids[WORKERS];

	(void)fflush(NULL);
	for (int w = 0; w < WORKERS; w++) {
		pids[w] = fork();
		cr_assert(pids[w] >= 0);
		if (pids[w] == 0) {
			for (size_t i = (size_t)w; i < n; i += WORKERS)
				execute(&runs[pick[i]]);
			_exit(0);
		}
	}
	for (int w = 0; w < WORKERS; w++) {
		int ws = 0;
		cr_assert(eq(int, (int)waitpid(pids[w], &ws, 0), (int)pids[w]));
		cr_assert(0 != WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "worker %d: status %d", w,
			  ws);
	}
}

static char *read_in(const char *dir, const char *name)
{
	char path[600];
	(void)snprintf(path, sizeof(path), "%s/%s", dir, name);
	char *s = testutil_read_file(path);
	return s ? s : strdup("");
}

/* Replace every match of re in s by to (malloc'ed; s is freed). */
static char *regsub(char *s, const char *re, const char *to)
{
	regex_t rx;
	regmatch_t m;
	char *out = strdup("");
	const char *p = s;

	cr_assert(eq(int, regcomp(&rx, re, REG_EXTENDED | REG_NEWLINE), 0), "%s", re);
	while (*p && regexec(&rx, p, 1, &m, p == s ? 0 : REG_NOTBOL) == 0) {
		char *next = e2e_asprintf("%s%.*s%s", out, (int)m.rm_so, p, to);
		free(out);
		out = next;
		cr_assert(m.rm_eo > m.rm_so, "%s matches the empty string", re);
		p += m.rm_eo;
	}
	char *res = e2e_asprintf("%s%s", out, p);
	free(out);
	regfree(&rx);
	free(s);
	return res;
}

/* What legitimately differs between two runs. */
static char *normalise(char *s, const struct run *r)
{
	s = replace_all(s, "\r\n", "\n");
	s = replace_all(s, r->dir, "@DIR@");
	s = replace_all(s, r->id, "@ID@");
	s = replace_all(s, cd->ns, "@NS@");
	/* mountinfo: mount id, parent id, major:minor; peer groups. */
	s = regsub(s, "^[0-9]+ [0-9]+ [0-9]+:[0-9]+ ", "M P D:D ");
	s = regsub(s, "shared:[0-9]+", "shared:N");
	s = regsub(s, "master:[0-9]+", "master:N");
	s = regsub(s, "propagate_from:[0-9]+", "propagate_from:N");
	return s;
}

struct outcome {
	int status;
	const char *phase; /* "ran", "create", "start" */
	char *out;
	char *err;
};

static struct outcome outcome_of(const struct run *r)
{
	struct outcome o = {0};
	char *st = read_in(r->dir, "status");

	o.status = atoi(st);
	free(st);
	o.out = normalise(read_in(r->dir, "out"), r);
	o.err = normalise(read_in(r->dir, "err"), r);
	/* containerd's NewTask: the shim's start action, then its Create. */
	if (strstr(o.err, "failed to create shim task") || strstr(o.err, "failed to start shim"))
		o.phase = "create";
	else if (strstr(o.err, "ctr: "))
		o.phase = "start";
	else
		o.phase = "ran";
	if (r->c->flags & SD_HOST) {
		char *h = normalise(read_in(r->dir, "host.log"), r);
		char *out = e2e_asprintf("%s--- host ---\n%s", o.out, h);
		free(h);
		free(o.out);
		o.out = out;
	}
	return o;
}

static const struct sd_allow *allowed(const char *name)
{
	for (size_t i = 0; i < sd_n_allowed; i++)
		if (strcmp(sd_allowed[i].name, name) == 0)
			return &sd_allowed[i];
	return NULL;
}

/* Whether the host runs AppArmor or SELinux (then an SD_NO_LSM case's err does not hold). */
static bool host_has_lsm(void)
{
	struct stat st;
	char *aa = testutil_read_file("/sys/module/apparmor/parameters/enabled");
	bool on = aa && aa[0] == 'Y';

	free(aa);
	return on || stat("/sys/fs/selinux/enforce", &st) == 0;
}

/* Why husk's and runc's outcomes differ, or NULL when they do not. */
static char *difference(const struct sd_case *c, const struct outcome *h, const struct outcome *ref)
{
	const char *err = (c->flags & SD_NO_LSM) && host_has_lsm() ? NULL : c->err;

	if (err && (strcmp(ref->phase, "ran") == 0 || !strcasestr(ref->err, err)))
		return e2e_asprintf("the case is wrong: runc did not fail with '%s' (%s, %d): %s",
				    err, ref->phase, ref->status, ref->err);
	if (strcmp(h->phase, ref->phase) != 0 || h->status != ref->status)
		return e2e_asprintf("husk %s with %d, runc %s with %d", h->phase, h->status,
				    ref->phase, ref->status);
	if (err && !strcasestr(h->err, err))
		return e2e_asprintf("husk's error lacks '%s'", err);
	if (strcmp(h->out, ref->out) != 0)
		return strdup("the container saw different things");
	return NULL;
}

static bool cgroup_left(const struct run *r)
{
	char path[512];
	struct stat st;

	(void)snprintf(path, sizeof(path), "/sys/fs/cgroup/pids/%s/%s", cd->ns, r->id);
	return stat(path, &st) == 0;
}

/*
 * runc removes only the leaf of a nested cgroupsPath (/ns/id/sub) and leaves the parents it
 * made. husk must do the same; then both are removed here, so that the leak check judges
 * the rest.
 */
static void check_cgroup_parents(const struct run *runs, size_t n)
{
	for (size_t i = 0; i < n; i += 2) {
		bool h = cgroup_left(&runs[i]), ref = cgroup_left(&runs[i + 1]);
		cr_expect(h == ref, "spec-diff: case %s: /%s/%s left in the cgroup tree by %s only",
			  runs[i].c->name, cd->ns, h ? runs[i].id : runs[i + 1].id,
			  h ? "husk" : "runc");
		for (size_t k = i; (h || ref) && k < i + 2; k++) {
			char *cmd =
				e2e_asprintf("rmdir /sys/fs/cgroup/*/'%s'/'%s' 2>/dev/null; true",
					     cd->ns, runs[k].id);
			sh(cmd);
			free(cmd);
		}
	}
}

enum report { QUIET, FAIL, INFO };

/* Why the case of runs[i] (husk) and runs[i + 1] (runc) differ, or NULL; a difference is
 * a failure (FAIL) or an info line (INFO: an allowed one) with both runs' output. */
static char *judge_case(const struct run *runs, size_t i, enum report report)
{
#define DIFF_FMT                                       \
	"spec-diff: case %s differs: %s\n"             \
	"--- husk (%s, %d) stdout:\n%s--- stderr:\n%s" \
	"--- runc (%s, %d) stdout:\n%s--- stderr:\n%s"
	const struct sd_case *c = runs[i].c;
	struct outcome h = outcome_of(&runs[i]);
	struct outcome ref = outcome_of(&runs[i + 1]);
	char *why = difference(c, &h, &ref);

	if (why && report == FAIL)
		cr_fail(DIFF_FMT, c->name, why, h.phase, h.status, h.out, h.err, ref.phase,
			ref.status, ref.out, ref.err);
	else if (why && report == INFO)
		cr_log_info(DIFF_FMT, c->name, why, h.phase, h.status, h.out, h.err, ref.phase,
			    ref.status, ref.out, ref.err);
	free(h.out);
	free(h.err);
	free(ref.out);
	free(ref.err);
	return why;
}

/*
 * Judge every case; a case that differs and is not allowed runs again (both runtimes, in
 * fresh dirs) before it counts, so that one lost line of output fails nothing.
 */
static size_t judge(struct run *runs, size_t n, const json_t *base)
{
	size_t *again = calloc(n, sizeof(*again));
	size_t n_again = 0, failures = 0;

	cr_assert(again != NULL);
	for (size_t i = 0; i < n; i += 2) {
		const struct sd_allow *a = allowed(runs[i].c->name);
		char *why = judge_case(runs, i, a ? INFO : QUIET);
		if (why && a)
			cr_log_info("spec-diff: %s differs (allowed: %s): %s", runs[i].c->name,
				    a->reason, why);
		else if (a)
			cr_log_info("spec-diff: %s no longer differs: remove it from the "
				    "allow-list (%s)",
				    runs[i].c->name, a->reason);
		if (why && !a) {
			again[n_again++] = i;
			again[n_again++] = i + 1;
		}
		free(why);
	}
	for (size_t k = 0; k < n_again; k++) {
		char *cmd = e2e_asprintf("rm -rf '%s'", runs[again[k]].dir);
		sh(cmd);
		free(cmd);
		prepare(&runs[again[k]], base);
	}
	execute_all(runs, again, n_again);
	for (size_t k = 0; k < n_again; k += 2) {
		char *why = judge_case(runs, again[k], FAIL);
		failures += why != NULL;
		free(why);
	}
	free(again);
	return failures;
}

static void check_table(void)
{
	cr_assert(sd_n_cases >= 120 || getenv("HUSK_SPEC_DIFF_ONLY"), "only %zu cases", sd_n_cases);
	for (size_t i = 0; i < sd_n_cases; i++)
		for (size_t j = i + 1; j < sd_n_cases; j++)
			cr_assert(strcmp(sd_cases[i].name, sd_cases[j].name) != 0, "case %s twice",
				  sd_cases[i].name);
	for (size_t a = 0; a < sd_n_allowed; a++) {
		bool found = false;
		for (size_t i = 0; i < sd_n_cases && !found; i++)
			found = strcmp(sd_cases[i].name, sd_allowed[a].name) == 0;
		cr_assert(found, "allow-list names no case: %s", sd_allowed[a].name);
		cr_assert(sd_allowed[a].reason && *sd_allowed[a].reason);
	}
}

/* HUSK_SPEC_DIFF_ONLY=a,b,... runs only the cases whose name contains one of them. */
static bool selected(const struct sd_case *c)
{
	const char *only = getenv("HUSK_SPEC_DIFF_ONLY");

	if (!only || !*only)
		return true;
	for (const char *p = only; *p;) {
		size_t n = strcspn(p, ",");
		for (const char *q = c->name; n && *q; q++)
			if (strncmp(q, p, n) == 0)
				return true;
		p += n + (p[n] == ',');
	}
	return false;
}

/*
 * A host process (unshare) holding its own net, uts, ipc and cgroup namespaces, and a pid
 * namespace for its children (its sleeping child is that namespace's init), joined by path.
 */
static pid_t start_nsholder(void)
{
	char *argv[] = {"unshare",
			"--net",
			"--uts",
			"--ipc",
			"sh",
			"-c",
			"hostname nsholder && echo ready && exec sleep 100000",
			NULL};
	nsholder = e2e_proc_spawn(argv, NULL);
	cr_assert(e2e_proc_wait_out(nsholder, "ready\n", 0, testutil_timeout(10)), "unshare: %s",
		  e2e_proc_err(nsholder));
	return e2e_proc_pid(nsholder);
}

E2E_TEST(spec_diff, husk_observes_what_runc_observes)
{
	json_error_t je;
	char *fixture = testutil_source_path("test/helpers/config.json");
	json_t *base = json_load_file(fixture, 0, &je);
	struct run *runs = calloc(MAX_RUNS, sizeof(*runs));
	size_t n = 0;

	free(fixture);
	cr_assert(base != NULL, "%s", je.text);
	cr_assert(runs != NULL);
	check_table();
	char *cases = e2e_asprintf("%s/cases", cd->dir);
	cr_assert(eq(int, mkdir(cases, 0755), 0));
	pid_t holder = start_nsholder();
	struct stat blk;
	cr_assert(eq(int, stat(cases, &blk), 0));
	for (size_t i = 0; i < sd_n_cases; i++) {
		if (!selected(&sd_cases[i]))
			continue;
		for (int h = 1; h >= 0; h--) {
			struct run *r = &runs[n++];
			cr_assert(n <= MAX_RUNS);
			r->c = &sd_cases[i];
			r->husk = h;
			(void)snprintf(r->id, sizeof(r->id), "c%03zu-%s", i, h ? "h" : "r");
			(void)snprintf(r->dir, sizeof(r->dir), "%s/%s", cases, r->id);
			(void)snprintf(r->nspid, sizeof(r->nspid), "%d", (int)holder);
			(void)snprintf(r->blk_major, sizeof(r->blk_major), "%u", major(blk.st_dev));
			(void)snprintf(r->blk_minor, sizeof(r->blk_minor), "%u", minor(blk.st_dev));
			(void)e2e_id(cd, r->id);
			prepare(r, base);
		}
	}
	size_t *all = calloc(n, sizeof(*all));
	cr_assert(all != NULL);
	for (size_t i = 0; i < n; i++)
		all[i] = i;
	execute_all(runs, all, n);
	free(all);
	size_t failures = judge(runs, n, base);
	check_cgroup_parents(runs, n);
	cr_log_info("spec-diff: %zu cases, %zu differ beyond the allow-list", n / 2, failures);
	free(runs);
	free(cases);
	json_decref(base);
}
