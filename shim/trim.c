#include "trim.h"

#include <malloc.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/mman.h>

static uintptr_t stack_lo; /* the [stack] mapping's start at start-up; 0: unknown */
static uv_timer_t timer;
static bool timer_open;

static void find_stack(void)
{
	char line[512];
	FILE *f = fopen("/proc/self/maps", "re");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *end = NULL;
		unsigned long lo = strtoul(line, &end, 16);
		if (end != line && *end == '-' && strstr(line, "[stack]")) {
			stack_lo = (uintptr_t)lo;
			break;
		}
	}
	(void)fclose(f);
}

static void trim_cb(uv_timer_t *t)
{
	(void)t;
	shim_trim();
}

void shim_trim_init(uv_loop_t *loop)
{
	find_stack();
	if (timer_open || uv_timer_init(loop, &timer) < 0)
		return;
	uv_unref((uv_handle_t *)&timer);
	timer_open = true;
}

void shim_trim_done(void)
{
	if (!timer_open)
		return;
	timer_open = false;
	uv_close((uv_handle_t *)&timer, NULL);
}

/* Not inlined: its frame is the deepest one in use while it runs. */
static __attribute__((noinline)) void trim_stack(void)
{
	volatile char here = 0;
	char *sp = (char *)&here;
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t at = (uintptr_t)sp;

	if (stack_lo == 0 || at < stack_lo + SHIM_TRIM_STACK_KEEP + page)
		return;
	/* Only the start-up mapping, whose pages are the stack's alone; addresses are made
	 * from our own frame's. */
	uintptr_t hi = (at - SHIM_TRIM_STACK_KEEP) & ~(page - 1);
	char *lo = sp - (at - stack_lo);
	(void)madvise(lo, hi - stack_lo, MADV_DONTNEED);
	(void)here;
}

void shim_trim(void)
{
	(void)malloc_trim(0);
	trim_stack();
}

void shim_trim_soon(void)
{
	if (!timer_open || uv_timer_start(&timer, trim_cb, SHIM_TRIM_DELAY_MS, 0) < 0)
		shim_trim();
}
