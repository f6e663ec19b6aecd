/*
 * A private containerd per test, driven by ctr: the fixture of the end-to-end suites.
 *
 * e2e_cd_start() makes a temp dir, starts containerd there through hack/containerd.sh
 * (own root, state, sockets; the husk shim on its PATH; ASan reports of shims in
 * <dir>/asan.*), imports the busybox test image (hack/mkimage.sh, built once per build
 * tree and cached) and copies a busybox rootfs to <dir>/rootfs for --rootfs runs. Every
 * test uses its own namespace, so cgroups (/<ns>/<id>) and runtime state never collide
 * with a parallel test. Tests are written with E2E_TEST(), which checks after the body that
 * the test left nothing behind (e2e_cd_assert_clean); e2e_cd_stop() in the suite's .fini
 * stops containerd and removes everything. (Criterion 2.4 ignores assertion failures in
 * .fini, so the checks must run in the test itself.)
 *
 * The runtime under test is $HUSK_E2E_RUNTIME (default io.containerd.husk.v2); the husk
 * shim binary is $HUSK_SHIM, else $HUSK_BINARY_DIR/shim/containerd-shim-husk-v2.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <sys/types.h>

#include "ctr.h"

#define E2E_DEFAULT_RUNTIME "io.containerd.husk.v2"
#define E2E_IMAGE	    "docker.io/husk-test/busybox:latest"

struct e2e_cd {
	char *dir;	/* the private temp dir */
	char *address;	/* <dir>/containerd.sock (gRPC) */
	char *ns;	/* containerd namespace of this test */
	char *runtime;	/* runtime name passed to ctr run --runtime */
	bool husk;	/* the runtime is husk (enables husk-only checks) */
	char *shim;	/* shim binary name, e.g. containerd-shim-runc-v2 */
	char *image;	/* ref of the imported busybox image */
	char *rootfs;	/* <dir>/rootfs: busybox rootfs for ctr run --rootfs */
	char *fifo_dir; /* <dir>/fifo: ctr --fifo-dir, checked empty at the end */
	char **ids;	/* container ids handed out by e2e_id() */
	size_t n_ids;
	bool checked; /* e2e_cd_assert_clean() ran */
};

/*
 * Define a test whose body is followed by e2e_cd_assert_clean() on the current instance;
 * the suite's .init must have called e2e_cd_start(). Use it like Test():
 *     E2E_TEST(ctr_run, echo) { ... }
 */
#define E2E_TEST(suite, name, ...)                     \
	static void suite##_##name##_body(void);       \
	Test(suite, name, ##__VA_ARGS__)               \
	{                                              \
		suite##_##name##_body();               \
		e2e_cd_assert_clean(e2e_cd_current()); \
	}                                              \
	static void suite##_##name##_body(void)

/* ctr run with the runtime under test and the test's fifo dir; append flags, ref, id, argv. */
#define E2E_RUN(cd) "run", "--runtime", (cd)->runtime, "--fifo-dir", (cd)->fifo_dir
/* ctr task exec with the test's fifo dir; append flags, id, argv. */
#define E2E_EXEC(cd) "task", "exec", "--fifo-dir", (cd)->fifo_dir

/* Start a private containerd for the current test; aborts the test if it cannot. */
struct e2e_cd *e2e_cd_start(void);

/*
 * Stop containerd, kill what is left, remove the temp dir and the namespace's cgroup and
 * state dirs, free cd. No checks: call from .fini, after a passed or a failed test.
 */
void e2e_cd_stop(struct e2e_cd *cd);

/* The instance e2e_cd_start() made for the running test, or NULL. */
struct e2e_cd *e2e_cd_current(void);

/*
 * Run e2e_cd_check_leaks() and fail the test (printing the tail of containerd's log) if
 * anything was left behind. E2E_TEST() calls it after the body.
 */
void e2e_cd_assert_clean(struct e2e_cd *cd);

/*
 * What a test must not leave behind once its containers are deleted. Waits (bounded)
 * for exiting shims first. Each finding is a failed cr_expect naming the leak; returns
 * true when there was none:
 *  - sanitizer reports from shims (<dir>/asan.*, <dir>/ubsan.*);
 *  - shim processes started by this containerd;
 *  - processes in a cgroup under /<ns>/ (container processes);
 *  - cgroup dirs under /<ns>/ in any hierarchy;
 *  - shim sockets /run/containerd/s/<sha256(address/ns/id)> for ids from e2e_id();
 *  - mounts under <dir>;
 *  - fifos under <dir> (ctr's fifo dir, bundles), bundles of this namespace;
 *  - runtime state: /run/containerd/husk/<ns> (husk) or /run/containerd/runc/<ns> (runc);
 *  - tasks or containers still listed by containerd.
 */
bool e2e_cd_check_leaks(struct e2e_cd *cd);

/* Stop containerd (SIGTERM; shims keep running) and start it again on the same dir. */
void e2e_cd_restart(struct e2e_cd *cd);

/* A malloc'ed formatted string (asserted). */
char *e2e_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A container id for this test ("<name>"), recorded for the leak checks. Owned by cd. */
const char *e2e_id(struct e2e_cd *cd, const char *name);

/*
 * Run `ctr --address <address> --namespace <ns> ARGS...` (NULL-terminated) with
 * stdin_data on stdin (NULL: immediate EOF), timeout 60 s scaled by
 * HUSK_TEST_TIMEOUT_MULTIPLIER.
 */
struct e2e_res e2e_ctr(struct e2e_cd *cd, const char *stdin_data, ...) __attribute__((sentinel));

/* The same with an argv vector (NULL-terminated). */
struct e2e_res e2e_ctr_v(struct e2e_cd *cd, const char *stdin_data, char *const args[]);

/* Start ctr ARGS... without waiting; see ctr.h for the e2e_proc_* calls. */
struct e2e_proc *e2e_ctr_spawn(struct e2e_cd *cd, ...) __attribute__((sentinel));

/*
 * Run ctr ARGS... on a real pseudo-terminal: `script -qec "<ctr argv>" /dev/null`, whose
 * exit status is ctr's. script's own stdin stays open until ctr exits, so no EOF reaches
 * the terminal. Output has the terminal's \r\n line ends.
 */
struct e2e_res e2e_ctr_tty(struct e2e_cd *cd, ...) __attribute__((sentinel));

/* Status column of `ctr task ls` for id ("RUNNING", "STOPPED", ...), NULL if not listed. */
char *e2e_task_status(struct e2e_cd *cd, const char *id);

/* Pid column of `ctr task ls` for id, 0 if not listed. */
pid_t e2e_task_pid(struct e2e_cd *cd, const char *id);

/*
 * Wait (polling ctr task ls, bounded by timeout seconds scaled) until id has the given
 * status, or is not listed when status is NULL. True when it happened.
 */
bool e2e_wait_task_status(struct e2e_cd *cd, const char *id, const char *status, double timeout);

/*
 * Pids of the shim processes this containerd started (argv holds -address <address>),
 * at most max of them; returns how many there are. A shim's own forks, which keep its
 * command line, are not counted.
 */
size_t e2e_shim_pids(struct e2e_cd *cd, pid_t *pids, size_t max);

/* Path of the shim socket that the runc naming rule gives id, malloc'ed. */
char *e2e_shim_socket(struct e2e_cd *cd, const char *id);

/* Pids of processes whose cgroup is /<ns>/<id> (or under it), at most max. */
size_t e2e_container_pids(struct e2e_cd *cd, const char *id, pid_t *pids, size_t max);

/* Wait until pid is gone (pidfd, bounded by timeout seconds scaled); true if it is. */
bool e2e_wait_pid_gone(pid_t pid, double timeout);
