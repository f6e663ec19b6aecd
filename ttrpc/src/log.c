#include "log.h"

#include <stdarg.h>
#include <stdio.h>

#include "ttrpc/ttrpc.h"

static ttrpc_log_fn *log_fn;
static void *log_userdata;

void ttrpc_set_log_fn(ttrpc_log_fn *fn, void *userdata)
{
	log_fn = fn;
	log_userdata = userdata;
}

void ttrpc__log(int level, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (log_fn == NULL)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	log_fn(level, line, log_userdata);
}
