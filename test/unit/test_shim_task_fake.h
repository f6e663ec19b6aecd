/*
 * A fake husk::runtime for the task layer's unit suite: real child processes (so the shim's
 * reaper, pidfds and stdio see real exits and real pipes), no namespaces, no cgroups, no
 * root. Linked before husk::runtime, its definitions win.
 *
 * What a process does is a small program string instead of an OCI spec:
 *   "exit:N"         exit with status N
 *   "echo:TEXT"      write TEXT to stdout, then exit 0
 *   "sleep"          wait until killed
 *   "hold"           fork a grandchild that keeps stdout open until killed, then exit 0
 * The init's program is fake_init_program when the container is created; an exec's is the
 * payload of its spec Any (given to husk_process_parse).
 */
#pragma once

#include <stdbool.h>

#include <sys/types.h>

extern const char *fake_init_program;

/* Pid of the grandchild the last "hold" program left behind (waits up to 5 s; 0: none). */
pid_t fake_wait_hold_pid(void);

/* Make the container's OOM fd readable, as a kernel OOM kill would. */
void fake_trigger_oom(const char *id);

/* Number of containers the fake runtime still has (not deleted). */
int fake_live_containers(void);

/* SIGKILL every process the fake started and reap what is left (suite teardown). */
void fake_cleanup(void);
