#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "husk/err.h"
#include "husk/log.h"
#include "husk/process.h"
#include "husk/state.h"
#include "state_test.h"
#include "testutil.h"

Test(state_codec, round_trip_all_fields)
{
	struct husk_state s = {0};
	state_test_fill(&s, "pod", "ctr", HUSK_STATUS_PAUSED);
	s.cgroup_path = strdup("/kubepods/pod/ctr");
	s.engine_data = strdup("{\"binary\":\"runsc\"}");
	s.gofer_pid = 77;
	s.gofer_start_time = 1234;
	s.exited = true;
	s.exit_status = 137;
	s.exited_ns = 1700000000123456789LL;
	s.owner = 4294967294u;
	s.init_start_time = (uint64_t)LLONG_MAX;
	memcpy(s.boot_id, "0123abcd-4567-89ef-0123-456789abcdef", HUSK_BOOT_ID_LEN + 1);

	char *json = NULL;
	struct husk_err err = {0};
	cr_assert(eq(int, husk_state_format(&s, &json, &err), 0), "%s", err.msg);
	struct husk_state back = {0};
	cr_assert(eq(int, husk_state_parse(json, strlen(json), &back, &err), 0), "%s", err.msg);
	state_test_assert_equal(&s, &back);

	free(json);
	husk_state_done(&s);
	husk_state_done(&back);
}

Test(state_codec, optional_fields_default)
{
	const char *j =
		"{\"version\":1,\"container_id\":\"c\",\"sandbox_id\":\"s\","
		"\"bundle\":\"/b\",\"status\":\"created\",\"created_ns\":5,\"owner\":0,"
		"\"engine\":\"native\",\"init_pid\":9,\"init_start_time\":10,\"future\":[1]}";
	struct husk_state s = {0};
	struct husk_err err = {0};
	cr_assert(eq(int, husk_state_parse(j, strlen(j), &s, &err), 0), "%s", err.msg);
	cr_assert(s.cgroup_path == NULL);
	cr_assert(s.engine_data == NULL);
	cr_assert(eq(int, s.gofer_pid, 0));
	cr_assert(s.exited == false);
	cr_assert(eq(int, s.status, HUSK_STATUS_CREATED));
	/* Files written before boot ids were recorded still load, and are not stale. */
	cr_assert(eq(str, s.boot_id, ""));
	cr_assert(s.stale == false);
	husk_state_done(&s);
}

struct bad_case {
	const char *replace; /* a field's "key":value, in the base document */
	const char *with;
	const char *msg;
};

static const char base[] =
	"{\"version\":1,\"container_id\":\"c\",\"sandbox_id\":\"s\",\"bundle\":\"/b\","
	"\"status\":\"running\",\"created_ns\":5,\"owner\":0,\"engine\":\"native\","
	"\"cgroup_path\":null,\"init_pid\":9,\"init_start_time\":10,\"gofer_pid\":0,"
	"\"exited\":false,\"exit_status\":0,\"exited_ns\":0}";

Test(state_codec, errors_name_the_field)
{
	static const struct bad_case cases[] = {
		{"\"version\":1", "\"version\":2", "state field 'version': 2 out of range 1..1"},
		{"\"version\":1,", "", "state field 'version': missing"},
		{"\"container_id\":\"c\"", "\"container_id\":\"a:b\"",
		 "state field 'container_id': invalid id 'a:b'"},
		{"\"sandbox_id\":\"s\"", "\"sandbox_id\":3",
		 "state field 'sandbox_id': expected string"},
		{"\"bundle\":\"/b\"", "\"bundle\":\"rel\"", "state field 'bundle': not absolute"},
		{"\"status\":\"running\"", "\"status\":\"zombie\"",
		 "state field 'status': unknown status 'zombie'"},
		{"\"created_ns\":5", "\"created_ns\":-1",
		 "state field 'created_ns': -1 out of range 0..9223372036854775807"},
		{"\"owner\":0", "\"owner\":\"root\"", "state field 'owner': expected integer"},
		{"\"engine\":\"native\"", "\"engine\":\"\"", "state field 'engine': empty"},
		{"\"cgroup_path\":null", "\"cgroup_path\":[]",
		 "state field 'cgroup_path': expected string"},
		{"\"init_pid\":9", "\"init_pid\":2147483648",
		 "state field 'init_pid': 2147483648 out of range 0..2147483647"},
		{"\"init_pid\":9", "\"init_pid\":1.5", "state field 'init_pid': expected integer"},
		{"\"exited\":false", "\"exited\":0", "state field 'exited': expected boolean"},
		{"\"exit_status\":0", "\"exit_status\":256",
		 "state field 'exit_status': 256 out of range 0..255"},
		{"\"bundle\":\"/b\"", "\"bundle\":\"/b\\u0000x\"", NULL},
		{"\"owner\":0", "\"owner\":0,\"owner\":1", NULL},
		{"\"exited_ns\":0", "\"exited_ns\":0,\"boot_id\":\"../../etc\"",
		 "state field 'boot_id': not a boot id: '../../etc'"},
		{"\"exited_ns\":0", "\"exited_ns\":0,\"boot_id\":7",
		 "state field 'boot_id': expected string"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char doc[2048];
		const char *at = strstr(base, cases[i].replace);
		cr_assert(at != NULL, "%s", cases[i].replace);
		(void)snprintf(doc, sizeof(doc), "%.*s%s%s", (int)(at - base), base, cases[i].with,
			       at + strlen(cases[i].replace));
		struct husk_state s;
		memset(&s, 0x5a, sizeof(s));
		struct husk_state before = s;
		struct husk_err err = {0};
		cr_assert(eq(int, husk_state_parse(doc, strlen(doc), &s, &err), -EINVAL), "%s",
			  doc);
		cr_assert(eq(int, err.kind, HUSK_ERR_INVALID));
		if (cases[i].msg)
			cr_assert(eq(str, err.msg, (char *)cases[i].msg));
		cr_assert(memcmp(&s, &before, sizeof(s)) == 0, "untouched on failure");
	}
}

Test(state_codec, rejects_non_objects_and_garbage)
{
	const char *docs[] = {"", "[]", "null", "{", "{\"version\":1", "\xff\xfe", "1"};
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		struct husk_state s = {0};
		struct husk_err err = {0};
		cr_assert(eq(int, husk_state_parse(docs[i], strlen(docs[i]), &s, &err), -EINVAL),
			  "'%s'", docs[i]);
		cr_assert(eq(int, err.kind, HUSK_ERR_INVALID));
		cr_assert(strncmp(err.msg, "state", 5) == 0, "%s", err.msg);
	}
}

Test(state_codec, size_is_bounded)
{
	size_t len = HUSK_STATE_MAX_SIZE + 1;
	char *big = malloc(len);
	cr_assert(big != NULL);
	memset(big, ' ', len);
	struct husk_state s = {0};
	struct husk_err err = {0};
	cr_assert(eq(int, husk_state_parse(big, len, &s, &err), -EINVAL));
	cr_assert(strstr(err.msg, "larger than") != NULL, "%s", err.msg);
	free(big);
}

Test(state_codec, format_refuses_incomplete_state)
{
	struct husk_state s = {0};
	char *json = NULL;
	struct husk_err err = {0};
	cr_assert(eq(int, husk_state_format(&s, &json, &err), -EINVAL));
	state_test_fill(&s, "p", "c", HUSK_STATUS_CREATING);
	s.status = (enum husk_status)9;
	cr_assert(eq(int, husk_state_format(&s, &json, &err), -EINVAL));
	cr_assert(json == NULL);
	husk_state_done(&s);
}

/* ---- files ---- */

struct fixture {
	char *dir;
	struct husk_state_root *root;
};

static struct fixture fx;

static void setup(void)
{
	fx.dir = testutil_tmpdir("state");
	struct husk_err err = {0};
	cr_assert(eq(int, husk_state_root_open(fx.dir, &fx.root, &err), 0), "%s", err.msg);
}

static void teardown(void)
{
	fx.root = husk_state_root_free(fx.root);
	testutil_rmtree_free(fx.dir);
}

TestSuite(state_file, .init = setup, .fini = teardown, .timeout = 60);

/* In a forked child: free the fixture without removing the directory. */
static void teardown_child(void)
{
	fx.root = husk_state_root_free(fx.root);
	free(fx.dir);
}

Test(state_file, root_open_creates_dirs)
{
	char *sub = NULL;
	cr_assert(asprintf(&sub, "%s/a/b/c", fx.dir) > 0);
	struct husk_state_root *r = NULL;
	cr_assert(eq(int, husk_state_root_open(sub, &r, NULL), 0));
	cr_assert(eq(str, (char *)husk_state_root_path(r), sub));
	struct stat st;
	cr_assert(eq(int, stat(sub, &st), 0));
	cr_assert(eq(int, st.st_mode & 0777, 0711));
	husk_state_root_free(r);
	free(sub);

	testutil_write_file(state_test_path(fx.dir, "file"), "x");
	cr_assert(lt(int, husk_state_root_open(state_test_path(fx.dir, "file/sub"), &r, NULL), 0));
}

Test(state_file, create_load_save_destroy)
{
	struct husk_state s = {0};
	state_test_fill(&s, "pod", "ctr", HUSK_STATUS_CREATING);
	struct husk_state_handle *h = NULL;
	struct husk_err err = {0};
	cr_assert(eq(int, husk_state_create(fx.root, &s, &h, &err), 0), "%s", err.msg);
	cr_assert(state_test_exists(fx.dir, "ctr_sandbox:pod.state"));
	cr_assert(state_test_exists(fx.dir, "ctr_sandbox:pod.lock"));

	/* An unlocked reader sees what was written, while the creator holds the lock. */
	struct husk_state_handle *r = NULL;
	cr_assert(eq(int, husk_state_load(fx.root, &s.id, false, &r, &err), 0), "%s", err.msg);
	state_test_assert_equal(husk_state_handle_state(h), husk_state_handle_state(r));
	r = husk_state_handle_free(r);

	/* Running with our own pid and start time: alive, stays running. */
	struct husk_state *hs = husk_state_handle_state(h);
	hs->init_pid = getpid();
	cr_assert(eq(int, husk_proc_start_time(getpid(), &hs->init_start_time, &err), 0));
	cr_assert(eq(int, husk_status_transition(&hs->status, HUSK_STATUS_CREATED, &err), 0));
	cr_assert(eq(int, husk_status_transition(&hs->status, HUSK_STATUS_RUNNING, &err), 0));
	cr_assert(eq(int, husk_state_save(h, &err), 0), "%s", err.msg);
	cr_assert(eq(int, husk_state_load(fx.root, &s.id, false, &r, &err), 0), "%s", err.msg);
	cr_assert(eq(int, husk_state_handle_state(r)->status, HUSK_STATUS_RUNNING));
	r = husk_state_handle_free(r);

	cr_assert(eq(int, husk_state_destroy(h, &err), 0), "%s", err.msg);
	cr_assert(state_test_exists(fx.dir, "ctr_sandbox:pod.state") == false);
	cr_assert(state_test_exists(fx.dir, "ctr_sandbox:pod.lock") == false);
	cr_assert(eq(int, husk_state_destroy(h, &err), 0), "destroy is idempotent");
	husk_state_handle_free(h);

	cr_assert(eq(int, husk_state_load(fx.root, &s.id, false, &r, &err), -ENOENT));
	cr_assert(eq(int, err.kind, HUSK_ERR_NOT_FOUND));
	cr_assert(eq(int, husk_state_load(fx.root, &s.id, true, &r, &err), -ENOENT));
	cr_assert(state_test_exists(fx.dir, "ctr_sandbox:pod.lock") == false,
		  "a failed locked load leaves no lock file behind");
	husk_state_done(&s);
	cr_assert(eq(int, state_test_count_entries(fx.dir), 0));
}

Test(state_file, create_existing_fails_and_keeps_files)
{
	struct husk_state s = {0};
	state_test_fill(&s, "pod", "ctr", HUSK_STATUS_CREATING);
	struct husk_state_handle *h = NULL;
	cr_assert(eq(int, husk_state_create(fx.root, &s, &h, NULL), 0));
	h = husk_state_handle_free(h);
	char *before = testutil_read_file(state_test_path(fx.dir, "ctr_sandbox:pod.state"));

	struct husk_state other = {0};
	state_test_fill(&other, "pod", "ctr", HUSK_STATUS_CREATING);
	free(other.bundle);
	other.bundle = strdup("/other");
	struct husk_err err = {0};
	cr_assert(eq(int, husk_state_create(fx.root, &other, &h, &err), -EIO));
	cr_assert(eq(int, err.kind, HUSK_ERR_EXISTS));
	cr_assert(eq(str, err.msg, "container 'ctr' already exists in sandbox 'pod'"));
	char *after = testutil_read_file(state_test_path(fx.dir, "ctr_sandbox:pod.state"));
	cr_assert(eq(str, after, before));
	cr_assert(state_test_exists(fx.dir, "ctr_sandbox:pod.lock"));
	free(before);
	free(after);
	husk_state_done(&s);
	husk_state_done(&other);
}

Test(state_file, invalid_ids_are_refused)
{
	struct husk_state s = {0};
	state_test_fill(&s, "pod", "ctr", HUSK_STATUS_CREATING);
	memcpy(s.id.container, "a:b", 4);
	struct husk_state_handle *h = NULL;
	struct husk_err err = {0};
	cr_assert(eq(int, husk_state_create(fx.root, &s, &h, &err), -EINVAL));
	cr_assert(eq(str, err.msg, "invalid container id 'a:b'"));
	cr_assert(eq(int, husk_state_load(fx.root, &s.id, false, &h, &err), -EINVAL));
	cr_assert(eq(int, state_test_count_entries(fx.dir), 0));
	husk_state_done(&s);
}

/* Long-lived handles (a shim's) and the lock. */
TestSuite(state_lock, .init = setup, .fini = teardown, .timeout = 60);

Test(state_lock, unlocked_handle_locks_only_to_write)
{
	struct husk_state s = {0};
	state_test_fill(&s, "pod", "ctr", HUSK_STATUS_CREATING);
	struct husk_state_handle *h = NULL, *other = NULL;
	struct husk_err err = {0};
	cr_assert(eq(int, husk_state_create(fx.root, &s, &h, NULL), 0));
	cr_assert(eq(int, husk_state_lock_probe(fx.root, &s.id), 1), "create holds the lock");

	/* Unlocked, the handle blocks nobody, and a save takes the lock for itself. */
	husk_state_unlock(h);
	cr_assert(eq(int, husk_state_lock_probe(fx.root, &s.id), 0));
	husk_state_handle_state(h)->exit_status = 42;
	cr_assert(eq(int, husk_state_save(h, &err), 0), "%s", err.msg);
	cr_assert(eq(int, husk_state_lock_probe(fx.root, &s.id), 0), "released after the save");
	cr_assert(eq(int, husk_state_load(fx.root, &s.id, true, &other, NULL), 0));
	cr_assert(eq(int, husk_state_handle_state(other)->exit_status, 42), "the save was written");
	husk_state_handle_free(other);
	husk_state_handle_free(h);
	husk_state_done(&s);
}

Test(state_lock, save_after_another_delete_writes_nothing)
{
	struct husk_state s = {0};
	state_test_fill(&s, "pod", "ctr", HUSK_STATUS_CREATING);
	struct husk_state_handle *h = NULL, *other = NULL;
	struct husk_err err = {0};
	cr_assert(eq(int, husk_state_create(fx.root, &s, &h, NULL), 0));
	husk_state_unlock(h);

	/* Another process's delete removes the files: a later save must not bring them back. */
	cr_assert(eq(int, husk_state_load(fx.root, &s.id, true, &other, NULL), 0));
	cr_assert(eq(int, husk_state_destroy(other, NULL), 0));
	husk_state_handle_free(other);
	int r = husk_state_save(h, &err);
	cr_assert(eq(int, r < 0, 1));
	cr_assert(eq(int, err.kind, HUSK_ERR_NOT_FOUND), "%s", err.msg);
	cr_assert(eq(int, state_test_count_entries(fx.dir), 0), "nothing written or left locked");
	husk_state_handle_free(h);
	husk_state_done(&s);
}

static int warns;
static char last_warn[1024];

static void count_warn(enum husk_log_level level, const char *msg, void *userdata)
{
	(void)userdata;
	if (level == HUSK_LOG_WARN) {
		warns++;
		(void)snprintf(last_warn, sizeof(last_warn), "%s", msg);
	}
}

static void check_corrected(pid_t pid, uint64_t start_time, enum husk_status status,
			    enum husk_status want)
{
	struct husk_state s = {0};
	state_test_fill(&s, "pod", "ctr", status);
	s.init_pid = pid;
	s.init_start_time = start_time;
	struct husk_state_handle *h = NULL;
	cr_assert(eq(int, husk_state_create(fx.root, &s, &h, NULL), 0));
	struct husk_state_handle *r = NULL;
	warns = 0;
	husk_set_log_hook(count_warn, NULL);
	cr_assert(eq(int, husk_state_load(fx.root, &s.id, false, &r, NULL), 0));
	husk_set_log_hook(NULL, NULL);
	cr_assert(eq(int, husk_state_handle_state(r)->status, want), "%s pid %d",
		  husk_status_to_string(status), (int)pid);
	cr_assert(eq(int, warns, want != status ? 1 : 0));
	if (want != status)
		cr_assert(strstr(last_warn, "is gone") != NULL, "%s", last_warn);
	husk_state_handle_free(r);
	cr_assert(eq(int, husk_state_destroy(h, NULL), 0));
	husk_state_handle_free(h);
	husk_state_done(&s);
}

Test(state_file, load_corrects_status_of_gone_init)
{
	uint64_t me = 0;
	cr_assert(eq(int, husk_proc_start_time(getpid(), &me, NULL), 0));

	pid_t dead = fork();
	cr_assert(dead >= 0);
	if (dead == 0)
		_exit(0);
	cr_assert(eq(int, waitpid(dead, NULL, 0), dead));

	enum husk_status live[] = {HUSK_STATUS_CREATED, HUSK_STATUS_RUNNING, HUSK_STATUS_PAUSED};
	for (size_t i = 0; i < 3; i++) {
		check_corrected(getpid(), me, live[i], live[i]);
		check_corrected(getpid(), 0, live[i], live[i]);
		/* pid reuse: the pid lives, but it is another process. */
		check_corrected(getpid(), me + 1, live[i], HUSK_STATUS_STOPPED);
		check_corrected(dead, 0, live[i], HUSK_STATUS_STOPPED);
		check_corrected(0, 0, live[i], HUSK_STATUS_STOPPED);
	}
	/* Creating has no init yet, Stopped is final: neither is touched. */
	check_corrected(dead, 1, HUSK_STATUS_CREATING, HUSK_STATUS_CREATING);
	check_corrected(dead, 1, HUSK_STATUS_STOPPED, HUSK_STATUS_STOPPED);
}

Test(state_file, content_naming_another_container_is_corrupt)
{
	struct husk_state s = {0};
	state_test_fill(&s, "pod", "ctr", HUSK_STATUS_CREATING);
	struct husk_state_handle *h = NULL;
	cr_assert(eq(int, husk_state_create(fx.root, &s, &h, NULL), 0));
	h = husk_state_handle_free(h);
	cr_assert(eq(int,
		     rename(state_test_path(fx.dir, "ctr_sandbox:pod.state"),
			    state_test_path(fx.dir, "x_sandbox:pod.state")),
		     0));
	struct husk_full_id id;
	cr_assert(eq(int, husk_full_id_set(&id, "pod", "x", NULL), 0));
	struct husk_err err = {0};
	cr_assert(eq(int, husk_state_load(fx.root, &id, false, &h, &err), -EINVAL));
	cr_assert(eq(str, err.msg,
		     "state file 'x_sandbox:pod.state': holds the state of another container"));
	husk_state_done(&s);
}

Test(state_file, oversized_file_is_corrupt)
{
	char *p = state_test_path(fx.dir, "c_sandbox:s.state");
	int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	cr_assert(fd >= 0);
	cr_assert(eq(int, ftruncate(fd, HUSK_STATE_MAX_SIZE + 1), 0));
	close(fd);
	struct husk_full_id id;
	cr_assert(eq(int, husk_full_id_set(&id, "s", "c", NULL), 0));
	struct husk_state_handle *h = NULL;
	struct husk_err err = {0};
	cr_assert(eq(int, husk_state_load(fx.root, &id, false, &h, &err), -EINVAL));
	cr_assert(strstr(err.msg, "larger than") != NULL, "%s", err.msg);
}

Test(state_file, readers_do_not_block_behind_a_lock)
{
	struct husk_state s = {0};
	state_test_fill(&s, "pod", "ctr", HUSK_STATUS_CREATING);
	struct husk_state_handle *h = NULL;
	cr_assert(eq(int, husk_state_create(fx.root, &s, &h, NULL), 0));

	/* Another process holds the lock as a writer would; the child reader must finish
	 * its load and list while the lock stays held (the parent only releases it after the
	 * child has exited, so a blocking reader would hang and hit the suite timeout). */
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		struct husk_state_root *root = NULL;
		struct husk_state_handle *r1 = NULL, *r2 = NULL;
		struct husk_state_list l = {0};
		int ok = husk_state_root_open(fx.dir, &root, NULL) == 0 &&
			 husk_state_load(root, &s.id, false, &r1, NULL) == 0 &&
			 husk_state_find(root, "ct", false, &r2, NULL) == 0 &&
			 husk_state_list(root, NULL, &l, NULL) == 0 && l.n_states == 1;
		/* Freed, so that valgrind's leak check in the child stays quiet. */
		husk_state_list_done(&l);
		husk_state_handle_free(r1);
		husk_state_handle_free(r2);
		husk_state_root_free(root);
		husk_state_handle_free(h);
		husk_state_done(&s);
		teardown_child();
		_exit(ok ? 0 : 1);
	}
	int ws = 0;
	cr_assert(eq(int, waitpid(pid, &ws, 0), pid));
	cr_assert(0 != WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "wait status %d", ws);

	/* A locker, in contrast, does wait: a try-lock from another open file fails. */
	int fd = open(state_test_path(fx.dir, "ctr_sandbox:pod.lock"), O_RDWR | O_CLOEXEC);
	cr_assert(fd >= 0);
	cr_assert(eq(int, flock(fd, LOCK_EX | LOCK_NB), -1));
	cr_assert(eq(int, errno, EWOULDBLOCK));
	husk_state_handle_free(h);
	cr_assert(eq(int, flock(fd, LOCK_EX | LOCK_NB), 0), "released by handle_free");
	close(fd);
	husk_state_done(&s);
}

/* Two processes create the same id at the same moment: exactly one wins. */
Test(state_file, create_race_has_one_winner)
{
	for (int round = 0; round < 20; round++) {
		char cid[32];
		(void)snprintf(cid, sizeof(cid), "race%d", round);
		int go[2];
		cr_assert(eq(int, pipe2(go, O_CLOEXEC), 0));
		pid_t kids[2];
		for (int k = 0; k < 2; k++) {
			kids[k] = fork();
			cr_assert(kids[k] >= 0);
			if (kids[k] != 0)
				continue;
			close(go[1]);
			char b;
			(void)read(go[0], &b, 1); /* both start when the pipe closes */
			struct husk_state_root *root = NULL;
			struct husk_state s = {0};
			state_test_fill(&s, "pod", cid, HUSK_STATUS_CREATING);
			free(s.bundle);
			s.bundle = strdup(k == 0 ? "/winner0" : "/winner1");
			struct husk_state_handle *h = NULL;
			struct husk_err err = {0};
			if (husk_state_root_open(fx.dir, &root, NULL) < 0)
				_exit(3);
			int r = husk_state_create(root, &s, &h, &err);
			int code = r == 0 ? 0 : err.kind == HUSK_ERR_EXISTS ? 1 : 2;
			husk_state_handle_free(h);
			husk_state_root_free(root);
			husk_state_done(&s);
			teardown_child();
			_exit(code);
		}
		close(go[0]);
		close(go[1]);
		int wins = 0, losses = 0;
		for (int k = 0; k < 2; k++) {
			int ws = 0;
			cr_assert(eq(int, waitpid(kids[k], &ws, 0), kids[k]));
			cr_assert(0 != WIFEXITED(ws));
			if (WEXITSTATUS(ws) == 0)
				wins++;
			else if (WEXITSTATUS(ws) == 1)
				losses++;
		}
		cr_assert(eq(int, wins, 1));
		cr_assert(eq(int, losses, 1));

		struct husk_full_id id;
		cr_assert(eq(int, husk_full_id_set(&id, "pod", cid, NULL), 0));
		struct husk_state_handle *h = NULL;
		struct husk_err err = {0};
		cr_assert(eq(int, husk_state_load(fx.root, &id, true, &h, &err), 0), "%s", err.msg);
		const char *b = husk_state_handle_state(h)->bundle;
		cr_assert(strcmp(b, "/winner0") == 0 || strcmp(b, "/winner1") == 0, "%s", b);
		husk_state_handle_free(h);
	}
}

/*
 * A child saves in a tight loop and is SIGKILLed at a random moment; afterwards the file
 * always parses and holds one of the values written. Repeated many times.
 */
Test(state_file, sigkill_during_save_never_leaves_a_torn_file, .timeout = 120)
{
	struct husk_state s = {0};
	state_test_fill(&s, "pod", "ctr", HUSK_STATUS_CREATING);
	struct husk_state_handle *h = NULL;
	cr_assert(eq(int, husk_state_create(fx.root, &s, &h, NULL), 0));
	h = husk_state_handle_free(h);

	srand((unsigned)getpid());
	int rounds = getenv("HUSK_VALGRIND") ? 20 : 200;
	for (int round = 0; round < rounds; round++) {
		int ready[2];
		cr_assert(eq(int, pipe2(ready, O_CLOEXEC), 0));
		pid_t pid = fork();
		cr_assert(pid >= 0);
		if (pid == 0) {
			close(ready[0]);
			struct husk_state_root *root = NULL;
			struct husk_state_handle *w = NULL;
			if (husk_state_root_open(fx.dir, &root, NULL) < 0 ||
			    husk_state_load(root, &s.id, true, &w, NULL) < 0)
				_exit(2);
			(void)write(ready[1], "r", 1);
			struct husk_state *ws = husk_state_handle_state(w);
			for (uint64_t n = 1;; n++) {
				/* A size that varies, so that a torn write would show. */
				free(ws->engine_data);
				ws->engine_data = malloc(n % 3000 + 2);
				memset(ws->engine_data, 'a' + (int)(n % 26), n % 3000 + 1);
				ws->engine_data[n % 3000 + 1] = '\0';
				ws->gofer_start_time = n;
				if (husk_state_save(w, NULL) < 0)
					_exit(3);
			}
		}
		close(ready[1]);
		char b;
		cr_assert(eq(int, (int)read(ready[0], &b, 1), 1), "writer failed to start");
		close(ready[0]);
		struct timespec ts = {0, (long)(rand() % 3000) * 1000};
		nanosleep(&ts, NULL);
		cr_assert(eq(int, kill(pid, SIGKILL), 0));
		int ws = 0;
		cr_assert(eq(int, waitpid(pid, &ws, 0), pid));
		cr_assert(0 != WIFSIGNALED(ws), "writer ended by itself: %d", ws);

		struct husk_state_handle *r = NULL;
		struct husk_err err = {0};
		cr_assert(eq(int, husk_state_load(fx.root, &s.id, false, &r, &err), 0),
			  "round %d: %s", round, err.msg);
		const struct husk_state *got = husk_state_handle_state(r);
		if (got->engine_data) {
			size_t len = strlen(got->engine_data);
			cr_assert(eq(sz, len, got->gofer_start_time % 3000 + 1));
		}
		husk_state_handle_free(r);
	}
	/* Stale temp files may remain after SIGKILL; the lock holder's destroy removes them. */
	cr_assert(eq(int, husk_state_load(fx.root, &s.id, true, &h, NULL), 0));
	cr_assert(eq(int, husk_state_destroy(h, NULL), 0));
	husk_state_handle_free(h);
	cr_assert(eq(int, state_test_count_entries(fx.dir), 0));
	husk_state_done(&s);
}

/* ---- boot ids ---- */

#define EARLIER_BOOT "00000000-1111-2222-3333-444444444444"

/* A state file as an earlier boot left it: a live-looking init (this very process). */
static void put_earlier_boot_file(const char *container, const char *boot_id)
{
	uint64_t me = 0;
	cr_assert(eq(int, husk_proc_start_time(getpid(), &me, NULL), 0));
	char doc[1024], name[256];
	(void)snprintf(doc, sizeof(doc),
		       "{\"version\":1,\"container_id\":\"%s\",\"sandbox_id\":\"pod\","
		       "\"bundle\":\"/b\",\"status\":\"running\",\"created_ns\":5,\"owner\":0,"
		       "\"engine\":\"native\",\"cgroup_path\":\"/husk/%s\",\"init_pid\":%d,"
		       "\"init_start_time\":%llu,\"gofer_pid\":%d,\"gofer_start_time\":%llu,"
		       "\"boot_id\":\"%s\"}",
		       container, container, (int)getpid(), (unsigned long long)me, (int)getpid(),
		       (unsigned long long)me, boot_id);
	(void)snprintf(name, sizeof(name), "%s_sandbox:pod.state", container);
	testutil_write_file(state_test_path(fx.dir, name), doc);
}

Test(state_file, create_records_this_boot)
{
	char now[HUSK_BOOT_ID_LEN + 1];
	cr_assert(eq(int, husk_boot_id(now), 0));
	char *proc = testutil_read_file("/proc/sys/kernel/random/boot_id");
	cr_assert(proc != NULL);
	cr_assert(eq(int, strncmp(proc, now, HUSK_BOOT_ID_LEN), 0), "%s vs %s", proc, now);
	free(proc);

	struct husk_state s = {0};
	state_test_fill(&s, "pod", "ctr", HUSK_STATUS_CREATING);
	struct husk_state_handle *h = NULL;
	cr_assert(eq(int, husk_state_create(fx.root, &s, &h, NULL), 0));
	char *text = testutil_read_file(state_test_path(fx.dir, "ctr_sandbox:pod.state"));
	char want[64];
	(void)snprintf(want, sizeof(want), "\"boot_id\": \"%s\"", now);
	cr_assert(strstr(text, want) != NULL, "%s", text);
	free(text);

	struct husk_state_handle *r = NULL;
	cr_assert(eq(int, husk_state_load(fx.root, &s.id, false, &r, NULL), 0));
	cr_assert(husk_state_handle_state(r)->stale == false);
	cr_assert(eq(str, husk_state_handle_state(r)->boot_id, now));
	husk_state_handle_free(r);
	husk_state_handle_free(h);
	husk_state_done(&s);
}

Test(state_file, file_of_an_earlier_boot_is_stale)
{
	put_earlier_boot_file("old", EARLIER_BOOT);
	struct husk_full_id id;
	cr_assert(eq(int, husk_full_id_set(&id, "pod", "old", NULL), 0));
	struct husk_state_handle *r = NULL;
	struct husk_err err = {0};
	warns = 0;
	husk_set_log_hook(count_warn, NULL);
	cr_assert(eq(int, husk_state_load(fx.root, &id, false, &r, &err), 0), "%s", err.msg);
	husk_set_log_hook(NULL, NULL);
	const struct husk_state *s = husk_state_handle_state(r);
	/* The pid is alive with the same start time, and still it is not that process. */
	cr_assert(s->stale);
	cr_assert(eq(int, s->status, HUSK_STATUS_STOPPED));
	cr_assert(eq(int, s->init_pid, 0));
	cr_assert(eq(u64, s->init_start_time, 0));
	cr_assert(eq(int, s->gofer_pid, 0));
	cr_assert(eq(str, (char *)s->boot_id, EARLIER_BOOT));
	cr_assert(eq(int, warns, 1));
	cr_assert(strstr(last_warn, "from an earlier boot") != NULL, "%s", last_warn);
	husk_state_handle_free(r);

	/* Listed as stale, not skipped. */
	struct husk_state_list l = {0};
	cr_assert(eq(int, husk_state_list(fx.root, NULL, &l, NULL), 0));
	cr_assert(eq(sz, l.n_states, 1));
	cr_assert(l.states[0].stale);
	cr_assert(eq(sz, l.n_problems, 0));
	husk_state_list_done(&l);
}

Test(state_file, file_of_this_boot_is_not_stale)
{
	char now[HUSK_BOOT_ID_LEN + 1];
	cr_assert(eq(int, husk_boot_id(now), 0));
	put_earlier_boot_file("cur", now);
	struct husk_full_id id;
	cr_assert(eq(int, husk_full_id_set(&id, "pod", "cur", NULL), 0));
	struct husk_state_handle *r = NULL;
	cr_assert(eq(int, husk_state_load(fx.root, &id, false, &r, NULL), 0));
	cr_assert(husk_state_handle_state(r)->stale == false);
	cr_assert(eq(int, husk_state_handle_state(r)->status, HUSK_STATUS_RUNNING));
	cr_assert(eq(int, husk_state_handle_state(r)->init_pid, getpid()));
	husk_state_handle_free(r);
}

/* An id whose file an earlier boot left behind (a disk-backed /run) can be created again. */
Test(state_file, create_replaces_a_file_of_an_earlier_boot)
{
	put_earlier_boot_file("old", EARLIER_BOOT);
	char now[HUSK_BOOT_ID_LEN + 1];
	cr_assert(eq(int, husk_boot_id(now), 0));
	put_earlier_boot_file("cur", now);

	struct husk_state s = {0};
	state_test_fill(&s, "pod", "old", HUSK_STATUS_CREATING);
	struct husk_state_handle *h = NULL;
	struct husk_err err = {0};
	cr_assert(eq(int, husk_state_create(fx.root, &s, &h, &err), 0), "%s", err.msg);
	struct husk_state_handle *r = NULL;
	cr_assert(eq(int, husk_state_load(fx.root, &s.id, false, &r, NULL), 0));
	cr_assert(eq(int, husk_state_handle_state(r)->status, HUSK_STATUS_CREATING));
	cr_assert(eq(str, husk_state_handle_state(r)->boot_id, now));
	husk_state_handle_free(r);
	husk_state_handle_free(h);
	husk_state_done(&s);

	/* A file of this boot is a live container: its id stays taken. */
	state_test_fill(&s, "pod", "cur", HUSK_STATUS_CREATING);
	err = (struct husk_err){0};
	cr_assert(lt(int, husk_state_create(fx.root, &s, &h, &err), 0));
	cr_assert(eq(int, err.kind, HUSK_ERR_EXISTS), "%s", err.msg);
	husk_state_done(&s);
}
