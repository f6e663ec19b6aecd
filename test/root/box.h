/*
 * A busybox bundle with its own state root, for the native engine's root suites: every
 * test gets a fresh temp dir (bundle/rootfs copied from a per-run template built once by
 * hack/mkrootfs.sh, bundle/config.json from test/helpers/config.json, state/).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <sys/types.h>

#include <jansson.h>

struct husk_container;
struct husk_err;
struct husk_runtime;

struct box {
	char *dir; /* temp dir: bundle/ and state/ */
	char bundle[1024];
	char rootfs[1100];
	char state[1024];
	json_t *cfg; /* config.json, written by box_create() */
	struct husk_runtime *rt;
	int out[2]; /* the init's stdout+stderr: read end, write end */
};

void box_init(struct box *b, const char *tag);
void box_done(struct box *b);

/* process.args = ["sh", "-c", script] */
void box_set_args(struct box *b, const char *script);
void box_write_cfg(struct box *b);

/* Write config.json and create id with the init's stdout/stderr on b->out[1]. */
int box_create(struct box *b, const char *id, struct husk_container **c, struct husk_err *err);

/* Create and start (asserted) a container running script. */
struct husk_container *box_run(struct box *b, const char *id, const char *script);

/* Read the init's output up to and including the next newline; asserts it equals line. */
void box_expect_line(struct box *b, const char *line);

/* Wait for the init, record its exit, delete and free; returns the exit status. */
int box_finish(struct husk_container *c);

/* Force-delete and free a running container (SIGKILL all), reaping the init. */
void box_kill_delete(struct husk_container *c);

/* A copy of the spec's process with args ["sh", "-c", script] (caller decrefs). */
json_t *box_exec_proc(struct box *b, const char *script);

/*
 * Exec proc (a process JSON object, borrowed) in c with stdout+stderr captured, wait for
 * it and return its exit status (128+sig for a signal) with the output in out; or the
 * negative result of husk_container_exec() with err filled.
 */
int box_exec(struct husk_container *c, json_t *proc, char *out, size_t size, struct husk_err *err);

/*
 * Exec proc without waiting: *ret_pid is ours to reap, *ret_out the read end of its output
 * (the pty master for a terminal: the process lives as long as it stays open).
 */
int box_exec_start(struct husk_container *c, json_t *proc, pid_t *ret_pid, int *ret_out,
		   struct husk_err *err);

/* Read an fd to EOF into out (NUL-terminated). */
void box_read_all(int fd, char *out, size_t size);

/* Exit status as husk reports it: 128+sig for a signal death. */
int box_code(int wait_status);

/* Processes whose parent is this process (from /proc), zombies included. */
int box_count_children(void);
bool box_state_gone(const struct box *b, const char *id);
/* The default cgroup /husk/<id> is gone from every hierarchy under /sys/fs/cgroup. */
bool box_cgroup_gone(const char *id);
/* The cgroup dir of id in hierarchy ctrl ("freezer", "unified", ...). */
void box_cgroup_dir(const char *ctrl, const char *id, char *buf, size_t size);

/* pid of a process in the container whose /proc/<pid>/cmdline starts with prefix (NUL
 * separated args written with spaces), looked up in the container's cgroup; 0 if none. */
pid_t box_find_pid(const char *id, const char *cmdline_prefix);
/* box_find_pid() until the process shows up (it may not have exec'ed yet); asserted, bounded. */
pid_t box_wait_find_pid(const char *id, const char *cmdline_prefix);

/* The parsed state file of id (caller decrefs); NULL when it cannot be read. */
json_t *box_state_json(const struct box *b, const char *id);
/* No file at all in the state root. */
bool box_state_root_empty(const struct box *b);
/* Wait (bounded, asserted) until the pidfd says its process exited. */
void box_wait_pidfd(int pidfd, double seconds);
