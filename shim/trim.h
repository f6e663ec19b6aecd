#ifndef HUSK_SHIM_TRIM_H
#define HUSK_SHIM_TRIM_H

#include <uv.h>

/*
 * An idle pod's shim keeps what it touched while busy: freed heap pages (glibc keeps them)
 * and the stack pages a deep request used. Giving both back after a Delete (and once before
 * serving) returns an idle shim to its idle size.
 */

/* Note the stack's start-up mapping (from /proc/self/maps) and make the loop's trim timer
 * (it does not keep the loop alive). */
void shim_trim_init(uv_loop_t *loop);

/* Close the timer (the daemon is exiting). */
void shim_trim_done(void);

/*
 * malloc_trim, and MADV_DONTNEED on the stack's start-up mapping below the caller's frame
 * (with a margin): pages the kernel gives back zeroed when touched again.
 */
void shim_trim(void);

/*
 * shim_trim once the loop has had no call for SHIM_TRIM_DELAY_MS (each call restarts the
 * wait: a burst is trimmed once), from a timer, where the stack is shallowest (it runs from
 * uv_run itself, outside the poll and the request's frames). Without shim_trim_init, now.
 */
void shim_trim_soon(void);
#define SHIM_TRIM_DELAY_MS 50

/* Bytes below the caller's frame that shim_trim leaves alone. */
#define SHIM_TRIM_STACK_KEEP ((unsigned long)8192)

#endif
