/* The library's log hook (ttrpc_set_log_fn); silent unless the owner installs one. */
#pragma once

#define TTRPC__LOG_ERR	   3
#define TTRPC__LOG_WARNING 4
#define TTRPC__LOG_INFO	   6
#define TTRPC__LOG_DEBUG   7

/* Format into a fixed buffer (truncating) and pass the line to the hook, if any. */
void ttrpc__log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
