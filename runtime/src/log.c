#include "husk/log.h"

#include <stdio.h>

static husk_log_fn *log_hook;
static void *log_userdata;

void husk_set_log_hook(husk_log_fn *fn, void *userdata)
{
	log_hook = fn;
	log_userdata = userdata;
}

void husk_log(enum husk_log_level level, const char *fmt, ...)
{
	if (!log_hook)
		return;

	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	log_hook(level, line, log_userdata);
}

const char *husk_log_level_to_string(enum husk_log_level level)
{
	switch (level) {
	case HUSK_LOG_ERROR:
		return "error";
	case HUSK_LOG_WARN:
		return "warning";
	case HUSK_LOG_INFO:
		return "info";
	case HUSK_LOG_DEBUG:
		return "debug";
	}
	return "unknown";
}
