/*
 * Child processes with captured stdio, for the end-to-end suites: ctr, script, the hack/
 * scripts. libc and criterion only. Every function aborts the current test on a failure
 * of its own (spawn, pipe, poll), never on the child's exit status, which it reports.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <sys/types.h>

/* What a finished child did. */
struct e2e_res {
	int status;	/* exit code; 128+N when killed by signal N; -1 when it timed out */
	bool timed_out; /* the deadline passed and the child's process group was SIGKILLed */
	char *out;	/* everything it wrote to stdout, NUL-terminated (never NULL) */
	size_t out_len; /* bytes in out, which may itself contain NULs */
	char *err;	/* everything it wrote to stderr, NUL-terminated (never NULL) */
};

/* Free the buffers of a result; safe on a zeroed or already freed result. */
void e2e_res_done(struct e2e_res *r);

#define _cleanup_res_ __attribute__((cleanup(e2e_res_done)))

/* A running child. Owned by the caller until e2e_proc_finish(). */
struct e2e_proc;

/*
 * Start argv (argv[0] looked up in PATH) in its own process group with stdin, stdout and
 * stderr on pipes, the environment of this process plus env_add ("K=V" entries, NULL-
 * terminated; NULL for none), default signal dispositions and an empty signal mask.
 * stdin stays open until e2e_proc_close_stdin() or e2e_proc_finish().
 */
struct e2e_proc *e2e_proc_spawn(char *const argv[], char *const env_add[]);

/* The child's pid (its process group id too). */
pid_t e2e_proc_pid(const struct e2e_proc *p);

/* Queue bytes for the child's stdin; they are written while waiting (no blocking write). */
void e2e_proc_write(struct e2e_proc *p, const void *data, size_t len);

/* Close stdin once the queued bytes are written (or the child stopped reading). */
void e2e_proc_close_stdin(struct e2e_proc *p);

/*
 * Copy stdio until stdout contains needle or holds at least min_len bytes (pass NULL or
 * 0 to skip either condition), the child exits, or timeout seconds (not scaled) pass.
 * True when the condition holds.
 */
bool e2e_proc_wait_out(struct e2e_proc *p, const char *needle, size_t min_len, double timeout);

/* stdout and stderr read so far (NUL-terminated, valid until the next call on p). */
const char *e2e_proc_out(const struct e2e_proc *p);
const char *e2e_proc_err(const struct e2e_proc *p);

/*
 * Close stdin after the queued bytes, wait for the child to exit (SIGKILL to its process
 * group after timeout seconds, not scaled), free p and return what it did.
 */
struct e2e_res e2e_proc_finish(struct e2e_proc *p, double timeout);

/*
 * Run argv to completion: stdin_data (NULL for none) is written and stdin closed, so the
 * child sees EOF as with </dev/null. Same result rules as e2e_proc_finish().
 */
struct e2e_res e2e_run(char *const argv[], char *const env_add[], const char *stdin_data,
		       double timeout);

/*
 * Quote s for a POSIX shell (single quotes) and append it with a leading space to *buf,
 * a malloc'ed string (NULL to start). Used to pass argv through `script -c`.
 */
void e2e_shell_append(char **buf, const char *s);
