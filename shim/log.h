/*
 * The shim's logger: logfmt lines in logrus's text format, written with one write(2) each
 * to a non-blocking fd (the bundle's log fifo in serve mode). A line that would block is
 * dropped and counted, never retried: a single-threaded shim must not stall on its log.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "husk/log.h"

/* A line never exceeds PIPE_BUF, so a fifo write is atomic: all of it or EAGAIN. */
#define SHIM_LOG_LINE_MAX 4096

/*
 * Log to fd (not owned; usually 2). debug enables debug lines. ns and id become the
 * namespace= and id= fields (copied; NULL or "" omits them). Installs the runtime's log
 * hook so library debug/warn lines arrive here too. Call again to change settings.
 */
void shim_log_init(int fd, bool debug, const char *ns, const char *id);

/* Format and write one line at level (dropped below the configured level). */
void shim_log(enum husk_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define shim_log_error(...) shim_log(HUSK_LOG_ERROR, __VA_ARGS__)
#define shim_log_warn(...)  shim_log(HUSK_LOG_WARN, __VA_ARGS__)
#define shim_log_info(...)  shim_log(HUSK_LOG_INFO, __VA_ARGS__)
#define shim_log_debug(...) shim_log(HUSK_LOG_DEBUG, __VA_ARGS__)

/* True when lines of this level are written (to skip expensive formatting). */
bool shim_log_enabled(enum husk_log_level level);

/* Lines dropped so far because the fd would have blocked (or failed). */
uint64_t shim_log_dropped(void);

/*
 * Pure: format one logrus text line (with the trailing newline) into buf. time is
 * CLOCK_REALTIME ns, printed as RFC 3339 with nanoseconds in UTC. Fields: time, level,
 * msg, then id, namespace, runtime in key order, as logrus sorts them. Values are quoted
 * (Go %q) when they contain anything but [A-Za-z0-9-._/@^+]. The line is truncated to fit
 * size, keeping the newline. Returns its length.
 */
struct shim_log_entry {
	int64_t time_ns;
	enum husk_log_level level;
	const char *msg;
	const char *ns; /* NULL or "": no namespace field */
	const char *id; /* NULL or "": no id field */
};
size_t shim_log_format(char *buf, size_t size, const struct shim_log_entry *e);
