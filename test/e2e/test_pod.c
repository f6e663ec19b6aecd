/*
 * A pod-sized group through a private containerd: 70 containers grouped into one shim by
 * the io.containerd.runc.v2.group annotation. containerd 1.6 holds one ttrpc connection
 * per task, so the group needs 70 connections to the one shim at the same time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "containerd.h"
#include "testutil.h"

static struct e2e_cd *cd;

static void setup(void)
{
	cd = e2e_cd_start();
}

static void teardown(void)
{
	e2e_cd_stop(cd);
	cd = NULL;
}

TestSuite(pod, .init = setup, .fini = teardown);

#define N_CONTAINERS 70
/* ctr runs in flight at once: containerd and the shim see concurrent creates. */
#define IN_FLIGHT 8

static void run_all(const char *group, const char *const *ids)
{
	struct e2e_proc *p[IN_FLIGHT] = {0};
	char ann[256];

	(void)snprintf(ann, sizeof(ann), "io.containerd.runc.v2.group=%s", group);
	for (size_t i = 0; i < N_CONTAINERS + IN_FLIGHT; i++) {
		size_t slot = i % IN_FLIGHT;
		if (p[slot]) {
			struct e2e_res r = e2e_proc_finish(p[slot], testutil_timeout(60));
			cr_assert(eq(int, r.status, 0), "ctr run %s: %s", ids[i - IN_FLIGHT],
				  r.err);
			e2e_res_done(&r);
			p[slot] = NULL;
		}
		if (i < N_CONTAINERS)
			p[slot] = e2e_ctr_spawn(cd, E2E_RUN(cd), "-d", "--null-io", "--annotation",
						ann, cd->image, ids[i], "sleep", "1000", NULL);
	}
}

E2E_TEST(pod, seventy_containers_in_one_group)
{
	const char *ids[N_CONTAINERS];
	char name[32];

	for (size_t i = 0; i < N_CONTAINERS; i++) {
		(void)snprintf(name, sizeof(name), "g%02zu", i);
		ids[i] = e2e_id(cd, name);
	}
	run_all(ids[0], ids);
	for (size_t i = 0; i < N_CONTAINERS; i++)
		cr_assert(e2e_wait_task_status(cd, ids[i], "RUNNING", 30), "%s is not running",
			  ids[i]);
	pid_t shims[4];
	cr_expect(eq(sz, e2e_shim_pids(cd, shims, 4), 1), "one shim serves the group");

	/* Every task answers through its own connection. */
	for (size_t i = 0; i < N_CONTAINERS; i++) {
		struct e2e_res k = e2e_ctr(cd, NULL, "task", "kill", "-s", "KILL", ids[i], NULL);
		cr_assert(eq(int, k.status, 0), "kill %s: %s", ids[i], k.err);
		e2e_res_done(&k);
	}
	for (size_t i = 0; i < N_CONTAINERS; i++) {
		cr_assert(e2e_wait_task_status(cd, ids[i], "STOPPED", 30), "%s", ids[i]);
		struct e2e_res rm = e2e_ctr(cd, NULL, "task", "rm", ids[i], NULL);
		cr_assert(eq(int, rm.status, 0), "task rm %s: %s", ids[i], rm.err);
		e2e_res_done(&rm);
		struct e2e_res crm = e2e_ctr(cd, NULL, "containers", "rm", ids[i], NULL);
		cr_assert(eq(int, crm.status, 0), "c rm %s: %s", ids[i], crm.err);
		e2e_res_done(&crm);
	}
}
