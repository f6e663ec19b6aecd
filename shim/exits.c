#include "exits.h"

#include <string.h>

#include <sys/wait.h>

#include "husk/err.h"

void shim_exits_init(struct shim_exits *x, const struct shim_exits_ops *ops, void *userdata)
{
	memset(x, 0, sizeof(*x));
	x->ops = ops;
	x->userdata = userdata;
}

int shim_exit_status(int wait_status)
{
	if (WIFSIGNALED(wait_status))
		return 128 + WTERMSIG(wait_status);
	if (WIFEXITED(wait_status))
		return WEXITSTATUS(wait_status);
	return 255;
}

static unsigned bucket(pid_t pid)
{
	return (unsigned)pid % SHIM_EXITS_BUCKETS;
}

struct shim_proc_node *shim_exits_find(const struct shim_exits *x, pid_t pid)
{
	for (struct shim_proc_node *n = x->buckets[bucket(pid)]; n; n = n->next)
		if (n->pid == pid)
			return n;
	return NULL;
}

bool shim_exits_init_gone(const struct shim_exit_group *group)
{
	return group->init_reaped;
}

static void publish(struct shim_exits *x, struct shim_proc_node *n)
{
	if (n->published)
		return;
	n->published = true;
	x->ops->publish(x->userdata, n);
}

/* The init's exit goes out once no exec of its group is still running. */
static void flush_init(struct shim_exits *x, struct shim_exit_group *g)
{
	if (g->init && g->init_reaped && g->running_execs == 0 && !g->killing && g->holds == 0)
		publish(x, g->init);
}

void shim_exits_killed(struct shim_exits *x, struct shim_exit_group *group)
{
	group->killing = false;
	flush_init(x, group);
}

void shim_exits_hold(struct shim_exit_group *group)
{
	group->holds++;
}

void shim_exits_release(struct shim_exits *x, struct shim_exit_group *group)
{
	if (group->holds > 0)
		group->holds--;
	flush_init(x, group);
}

static void exited(struct shim_exits *x, struct shim_proc_node *n, int wait_status, int64_t ns)
{
	struct shim_exit_group *g = n->group;

	if (n->reaped)
		return;
	n->reaped = true;
	n->wait_status = wait_status;
	n->exited_ns = ns;
	switch (n->kind) {
	case SHIM_PROC_HELPER:
	case SHIM_PROC_WORKER:
		x->ops->helper_exited(x->userdata, n);
		return;
	case SHIM_PROC_EXEC:
		publish(x, n);
		husk_assert(g->running_execs > 0);
		g->running_execs--;
		flush_init(x, g);
		return;
	case SHIM_PROC_INIT:
		g->init_reaped = true;
		/* runc kills the rest of the container first; with them the execs exit. */
		x->ops->init_exited(x->userdata, g);
		flush_init(x, g);
		return;
	}
}

static void stash_take(struct shim_exits *x, pid_t pid, struct shim_stashed_exit *ret, bool *found)
{
	*found = false;
	for (unsigned i = 0; i < SHIM_EXITS_STASH; i++) {
		if (x->stash[i].pid != pid || pid == 0)
			continue;
		*ret = x->stash[i];
		x->stash[i].pid = 0;
		x->n_stash--;
		*found = true;
		return;
	}
}

void shim_exits_register(struct shim_exits *x, struct shim_proc_node *node)
{
	struct shim_stashed_exit st;
	bool found;

	husk_assert(!node->registered && node->pid > 0);
	husk_assert(node->kind == SHIM_PROC_HELPER || node->kind == SHIM_PROC_WORKER ||
		    node->group);
	unsigned b = bucket(node->pid);
	node->next = x->buckets[b];
	x->buckets[b] = node;
	node->registered = true;
	x->n_registered++;
	if (node->kind == SHIM_PROC_EXEC)
		node->group->running_execs++;
	if (node->kind == SHIM_PROC_INIT)
		node->group->init = node;

	stash_take(x, node->pid, &st, &found);
	if (!found)
		return;
	/* Alive: the stashed exit was an older process that had this pid. */
	if (x->ops->alive(x->userdata, node->pid, node->start_time))
		return;
	x->unknown--;
	exited(x, node, st.wait_status, st.exited_ns);
}

void shim_exits_unregister(struct shim_exits *x, struct shim_proc_node *node)
{
	if (!node->registered)
		return;
	struct shim_proc_node **p = &x->buckets[bucket(node->pid)];
	while (*p && *p != node)
		p = &(*p)->next;
	if (*p)
		*p = node->next;
	node->next = NULL;
	node->registered = false;
	x->n_registered--;
	if (node->kind == SHIM_PROC_EXEC && !node->reaped) {
		node->group->running_execs--;
		flush_init(x, node->group);
	}
	if (node->kind == SHIM_PROC_INIT && node->group->init == node)
		node->group->init = NULL;
}

void shim_exits_reaped(struct shim_exits *x, pid_t pid, int wait_status, int64_t exited_ns)
{
	struct shim_proc_node *n = shim_exits_find(x, pid);

	if (n) {
		exited(x, n, wait_status, exited_ns);
		return;
	}
	/* Not ours yet (or never): keep it in case a registration for it is in flight. */
	struct shim_stashed_exit *slot = &x->stash[x->stash_next];
	if (slot->pid == 0)
		x->n_stash++;
	slot->pid = pid;
	slot->wait_status = wait_status;
	slot->exited_ns = exited_ns;
	x->stash_next = (x->stash_next + 1) % SHIM_EXITS_STASH;
	x->unknown++;
}
