#include "state_test.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>
#include <sys/wait.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "husk/err.h"
#include "husk/process.h"

void state_test_fill(struct husk_state *s, const char *sandbox, const char *container,
		     enum husk_status status)
{
	*s = (struct husk_state){0};
	cr_assert(eq(int, husk_full_id_set(&s->id, sandbox, container, NULL), 0));
	s->bundle = strdup("/run/bundles/x");
	s->engine = strdup("native");
	s->status = status;
	s->created_ns = 1700000000000000000LL;
	s->owner = 0;
	cr_assert(s->bundle && s->engine);
}

static bool str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

void state_test_assert_equal(const struct husk_state *a, const struct husk_state *b)
{
	cr_assert(eq(str, (char *)a->id.sandbox, (char *)b->id.sandbox));
	cr_assert(eq(str, (char *)a->id.container, (char *)b->id.container));
	cr_assert(str_eq(a->bundle, b->bundle));
	cr_assert(eq(int, a->status, b->status));
	cr_assert(eq(i64, a->created_ns, b->created_ns));
	cr_assert(eq(u32, a->owner, b->owner));
	cr_assert(str_eq(a->engine, b->engine));
	cr_assert(str_eq(a->cgroup_path, b->cgroup_path));
	cr_assert(eq(int, a->init_pid, b->init_pid));
	cr_assert(eq(u64, a->init_start_time, b->init_start_time));
	cr_assert(eq(int, a->gofer_pid, b->gofer_pid));
	cr_assert(eq(u64, a->gofer_start_time, b->gofer_start_time));
	cr_assert(eq(int, a->exited, b->exited));
	cr_assert(eq(int, a->exit_status, b->exit_status));
	cr_assert(eq(i64, a->exited_ns, b->exited_ns));
	cr_assert(str_eq(a->engine_data, b->engine_data));
	cr_assert(eq(str, (char *)a->boot_id, (char *)b->boot_id));
}

char *state_test_path(const char *dir, const char *name)
{
	static char ring[8][4096];
	static unsigned next;
	char *p = ring[next++ % 8];
	(void)snprintf(p, 4096, "%s/%s", dir, name);
	return p;
}

bool state_test_exists(const char *dir, const char *name)
{
	struct stat st;
	return lstat(state_test_path(dir, name), &st) == 0;
}

int state_test_count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	cr_assert(d != NULL);
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

void state_test_put(struct husk_state_root *root, const char *sandbox, const char *container,
		    enum husk_status status, pid_t init_pid)
{
	struct husk_state s;
	state_test_fill(&s, sandbox, container, status);
	s.init_pid = init_pid;
	s.init_start_time = 1;
	if (init_pid > 0)
		(void)husk_proc_start_time(init_pid, &s.init_start_time, NULL);
	struct husk_state_handle *h = NULL;
	struct husk_err err = {0};
	cr_assert(eq(int, husk_state_create(root, &s, &h, &err), 0), "%s", err.msg);
	husk_state_handle_free(h);
	husk_state_done(&s);
}

pid_t state_test_dead_pid(void)
{
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0)
		_exit(0);
	cr_assert(eq(int, waitpid(pid, NULL, 0), pid));
	return pid;
}
