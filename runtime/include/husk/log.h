/* Library logging: silent unless the program installs a hook. */
#pragma once

#include <stdarg.h>

enum husk_log_level {
	HUSK_LOG_ERROR = 0,
	HUSK_LOG_WARN,
	HUSK_LOG_INFO,
	HUSK_LOG_DEBUG,
};

/* A hook receives one formatted line (no trailing newline). It must not call back into husk. */
typedef void husk_log_fn(enum husk_log_level level, const char *msg, void *userdata);

/* Install (or, with NULL, remove) the process-wide log hook. Not thread-safe; call at start. */
void husk_set_log_hook(husk_log_fn *fn, void *userdata);

/* Emit a line through the hook, if one is installed. */
void husk_log(enum husk_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define husk_debug(...) husk_log(HUSK_LOG_DEBUG, __VA_ARGS__)
#define husk_warn(...)	husk_log(HUSK_LOG_WARN, __VA_ARGS__)
#define husk_info(...)	husk_log(HUSK_LOG_INFO, __VA_ARGS__)

/* "error", "warning", "info", "debug" (logrus level names). */
const char *husk_log_level_to_string(enum husk_log_level level);
