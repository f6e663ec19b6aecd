#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <sys/wait.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "exits.h"

/* Records the order of callbacks as a string: "X<pid> " publish, "K " kill-rest, "H<pid> ". */
struct rec {
	char log[512];
	bool alive[100000];
	struct shim_exits *x;
	struct shim_proc_node *unregister_on_kill;
	bool kill_later; /* init_exited starts a kill that ends later (a worker's) */
};

static void addf(struct rec *r, const char *tag, pid_t pid)
{
	char b[32];

	(void)snprintf(b, sizeof(b), pid ? "%s%d " : "%s ", tag, (int)pid);
	(void)strcat(r->log, b);
}

static void on_init_exited(void *ud, struct shim_exit_group *g)
{
	struct rec *r = ud;

	addf(ud, "K", 0);
	if (r->kill_later)
		g->killing = true;
}

static void on_publish(void *ud, struct shim_proc_node *n)
{
	addf(ud, "X", n->pid);
}

static void on_helper(void *ud, struct shim_proc_node *n)
{
	addf(ud, "H", n->pid);
}

static bool is_alive(void *ud, pid_t pid, uint64_t st)
{
	struct rec *r = ud;

	(void)st;
	return r->alive[pid];
}

static const struct shim_exits_ops ops = {
	.init_exited = on_init_exited,
	.publish = on_publish,
	.helper_exited = on_helper,
	.alive = is_alive,
};

static struct rec rec;
static struct shim_exits x;

static void setup(void)
{
	memset(&rec, 0, sizeof(rec));
	shim_exits_init(&x, &ops, &rec);
}

static void node(struct shim_proc_node *n, enum shim_proc_kind kind, struct shim_exit_group *g,
		 pid_t pid)
{
	memset(n, 0, sizeof(*n));
	n->kind = kind;
	n->group = g;
	n->pid = pid;
}

#define EXIT(code) ((code) << 8)

TestSuite(shim_exits, .init = setup);

Test(shim_exits, status_codes)
{
	cr_assert(eq(int, shim_exit_status(EXIT(3)), 3));
	cr_assert(eq(int, shim_exit_status(SIGKILL), 137));
	cr_assert(eq(int, shim_exit_status(SIGTERM), 143));
}

Test(shim_exits, lone_init_exit_kills_rest_then_publishes)
{
	struct shim_exit_group g = {0};
	struct shim_proc_node init;

	node(&init, SHIM_PROC_INIT, &g, 100);
	shim_exits_register(&x, &init);
	cr_assert(eq(ptr, shim_exits_find(&x, 100), &init));
	shim_exits_reaped(&x, 100, EXIT(0), 5);
	cr_assert(eq(str, rec.log, "K X100 "));
	cr_assert(init.reaped && init.published);
	cr_assert(eq(i64, init.exited_ns, 5));
	cr_assert(shim_exits_init_gone(&g));
}

Test(shim_exits, init_exit_waits_for_running_execs)
{
	struct shim_exit_group g = {0};
	struct shim_proc_node init, e1, e2;

	node(&init, SHIM_PROC_INIT, &g, 100);
	node(&e1, SHIM_PROC_EXEC, &g, 101);
	node(&e2, SHIM_PROC_EXEC, &g, 102);
	shim_exits_register(&x, &init);
	shim_exits_register(&x, &e1);
	shim_exits_register(&x, &e2);
	cr_assert(eq(u32, g.running_execs, 2));

	/* The init is reaped first (waitpid order is arbitrary): held back. */
	shim_exits_reaped(&x, 100, SIGKILL, 1);
	cr_assert(eq(str, rec.log, "K "));
	cr_assert_not(init.published);
	shim_exits_reaped(&x, 102, SIGKILL, 2);
	cr_assert(eq(str, rec.log, "K X102 "));
	shim_exits_reaped(&x, 101, EXIT(1), 3);
	cr_assert(eq(str, rec.log, "K X102 X101 X100 "));
}

Test(shim_exits, exec_exit_before_init_is_published_at_once)
{
	struct shim_exit_group g = {0};
	struct shim_proc_node init, e1;

	node(&init, SHIM_PROC_INIT, &g, 100);
	node(&e1, SHIM_PROC_EXEC, &g, 101);
	shim_exits_register(&x, &init);
	shim_exits_register(&x, &e1);
	shim_exits_reaped(&x, 101, EXIT(0), 1);
	cr_assert(eq(str, rec.log, "X101 "));
	shim_exits_reaped(&x, 100, EXIT(0), 2);
	cr_assert(eq(str, rec.log, "X101 K X100 "));
}

Test(shim_exits, unregistering_a_running_exec_releases_the_init)
{
	struct shim_exit_group g = {0};
	struct shim_proc_node init, e1;

	node(&init, SHIM_PROC_INIT, &g, 100);
	node(&e1, SHIM_PROC_EXEC, &g, 101);
	shim_exits_register(&x, &init);
	shim_exits_register(&x, &e1);
	shim_exits_reaped(&x, 100, EXIT(0), 1);
	cr_assert(eq(str, rec.log, "K "));
	shim_exits_unregister(&x, &e1);
	cr_assert(eq(str, rec.log, "K X100 "));
	cr_assert_null(shim_exits_find(&x, 101));
}

Test(shim_exits, groups_are_independent)
{
	struct shim_exit_group g1 = {0}, g2 = {0};
	struct shim_proc_node i1, i2, e2;

	node(&i1, SHIM_PROC_INIT, &g1, 10);
	node(&i2, SHIM_PROC_INIT, &g2, 20);
	node(&e2, SHIM_PROC_EXEC, &g2, 21);
	shim_exits_register(&x, &i1);
	shim_exits_register(&x, &i2);
	shim_exits_register(&x, &e2);
	shim_exits_reaped(&x, 20, EXIT(0), 1);
	shim_exits_reaped(&x, 10, EXIT(0), 2);
	cr_assert(eq(str, rec.log, "K K X10 "), "a running exec of another pod holds nothing");
	shim_exits_reaped(&x, 21, EXIT(0), 3);
	cr_assert(eq(str, rec.log, "K K X10 X21 X20 "));
}

Test(shim_exits, exit_reaped_before_registration_is_applied)
{
	struct shim_exit_group g = {0};
	struct shim_proc_node e1;

	shim_exits_reaped(&x, 300, EXIT(7), 11);
	cr_assert(eq(u32, x.n_stash, 1));
	cr_assert(eq(u64, x.unknown, 1));
	node(&e1, SHIM_PROC_EXEC, &g, 300);
	rec.alive[300] = false;
	shim_exits_register(&x, &e1);
	cr_assert(eq(str, rec.log, "X300 "));
	cr_assert(eq(int, e1.wait_status, EXIT(7)));
	cr_assert(eq(i64, e1.exited_ns, 11));
	cr_assert(eq(u32, g.running_execs, 0));
	cr_assert(eq(u64, x.unknown, 0));
	cr_assert(eq(u32, x.n_stash, 0));
}

Test(shim_exits, stashed_exit_of_a_recycled_pid_is_discarded)
{
	struct shim_exit_group g = {0};
	struct shim_proc_node e1;

	shim_exits_reaped(&x, 300, EXIT(7), 11);
	node(&e1, SHIM_PROC_EXEC, &g, 300);
	rec.alive[300] = true; /* the new process with this pid is running */
	shim_exits_register(&x, &e1);
	cr_assert(eq(str, rec.log, ""));
	cr_assert_not(e1.reaped);
	cr_assert(eq(u32, g.running_execs, 1));
	shim_exits_reaped(&x, 300, EXIT(0), 12);
	cr_assert(eq(str, rec.log, "X300 "));
	cr_assert(eq(int, e1.wait_status, EXIT(0)));
}

Test(shim_exits, stash_is_a_bounded_ring)
{
	for (int i = 1; i <= 3 * SHIM_EXITS_STASH; i++)
		shim_exits_reaped(&x, 1000 + i, 0, i);
	cr_assert(eq(u32, x.n_stash, SHIM_EXITS_STASH));
	/* The oldest were overwritten, the newest are there. */
	struct shim_exit_group g = {0};
	struct shim_proc_node old, recent;
	node(&old, SHIM_PROC_EXEC, &g, 1001);
	node(&recent, SHIM_PROC_EXEC, &g, 1000 + 3 * SHIM_EXITS_STASH);
	shim_exits_register(&x, &old);
	shim_exits_register(&x, &recent);
	cr_assert_not(old.reaped);
	cr_assert(recent.reaped);
}

Test(shim_exits, helpers_bypass_ordering)
{
	struct shim_proc_node h;

	node(&h, SHIM_PROC_HELPER, NULL, 55);
	shim_exits_register(&x, &h);
	shim_exits_reaped(&x, 55, EXIT(0), 1);
	cr_assert(eq(str, rec.log, "H55 "));
}

Test(shim_exits, double_reap_is_ignored)
{
	struct shim_exit_group g = {0};
	struct shim_proc_node init;

	node(&init, SHIM_PROC_INIT, &g, 100);
	shim_exits_register(&x, &init);
	shim_exits_reaped(&x, 100, EXIT(0), 1);
	shim_exits_reaped(&x, 100, EXIT(1), 2);
	cr_assert(eq(str, rec.log, "K X100 "));
	cr_assert(eq(int, init.wait_status, EXIT(0)));
}

Test(shim_exits, many_pids_share_buckets)
{
	struct shim_exit_group g = {0};
	struct shim_proc_node n[200];

	for (int i = 0; i < 200; i++) {
		node(&n[i], SHIM_PROC_EXEC, &g, 5000 + i * SHIM_EXITS_BUCKETS);
		shim_exits_register(&x, &n[i]);
	}
	for (int i = 0; i < 200; i += 2)
		shim_exits_unregister(&x, &n[i]);
	for (int i = 0; i < 200; i++)
		cr_assert(eq(ptr, shim_exits_find(&x, n[i].pid), i % 2 ? &n[i] : NULL));
	cr_assert(eq(u32, x.n_registered, 100));
}

Test(shim_exits, init_exit_waits_for_the_kill_of_the_rest)
{
	struct shim_exit_group g = {0};
	struct shim_proc_node init, e1;

	rec.kill_later = true;
	node(&init, SHIM_PROC_INIT, &g, 100);
	node(&e1, SHIM_PROC_EXEC, &g, 101);
	shim_exits_register(&x, &init);
	shim_exits_register(&x, &e1);
	shim_exits_reaped(&x, 100, EXIT(0), 5);
	cr_assert(eq(str, rec.log, "K "), "the init's exit waits while the kill runs");
	cr_assert(shim_exits_init_gone(&g));
	shim_exits_reaped(&x, 101, SIGKILL, 6);
	cr_assert(eq(str, rec.log, "K X101 "), "the exec's exit goes out, the init's waits");
	shim_exits_killed(&x, &g);
	cr_assert(eq(str, rec.log, "K X101 X100 "));
	cr_assert(init.published);
}
