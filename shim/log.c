#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define RUNTIME_NAME "io.containerd.husk.v2"

static struct {
	int fd;
	bool debug;
	char ns[80];
	char id[132];
	uint64_t dropped;
	uint64_t dropped_reported;
} logger = {.fd = 2};

struct out {
	char *buf;
	size_t size; /* usable bytes, excluding room kept for the newline and NUL */
	size_t len;
};

static void put_char(struct out *o, char c)
{
	if (o->len < o->size)
		o->buf[o->len++] = c;
}

static void put_str(struct out *o, const char *s)
{
	while (*s)
		put_char(o, *s++);
}

static bool needs_quoting(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++) {
		char c = *s;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '.' || c == '_' || c == '/' || c == '@' || c == '^' ||
		      c == '+'))
			return true;
	}
	return false;
}

/* Go's %q for the ASCII range; bytes >= 0x80 (UTF-8) pass through. */
static void put_quoted(struct out *o, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	put_char(o, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		switch (c) {
		case '"':
			put_str(o, "\\\"");
			break;
		case '\\':
			put_str(o, "\\\\");
			break;
		case '\n':
			put_str(o, "\\n");
			break;
		case '\t':
			put_str(o, "\\t");
			break;
		case '\r':
			put_str(o, "\\r");
			break;
		default:
			if (c < 0x20 || c == 0x7f) {
				put_str(o, "\\x");
				put_char(o, hex[c >> 4]);
				put_char(o, hex[c & 0xf]);
			} else {
				put_char(o, (char)c);
			}
		}
	}
	put_char(o, '"');
}

static void put_field(struct out *o, const char *key, const char *value)
{
	if (o->len > 0)
		put_char(o, ' ');
	put_str(o, key);
	put_char(o, '=');
	if (needs_quoting(value))
		put_quoted(o, value);
	else
		put_str(o, value);
}

size_t shim_log_format(char *buf, size_t size, const struct shim_log_entry *e)
{
	struct out o = {.buf = buf, .size = size >= 2 ? size - 2 : 0};
	char ts[64];
	struct tm tm;
	time_t secs = (time_t)(e->time_ns / 1000000000);
	long nsec = (long)(e->time_ns % 1000000000);
	const char *lvl = husk_log_level_to_string(e->level);

	if (size == 0)
		return 0;
	buf[0] = '\0';
	if (nsec < 0) {
		secs -= 1;
		nsec += 1000000000;
	}
	(void)gmtime_r(&secs, &tm);
	size_t n = strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	(void)snprintf(ts + n, sizeof(ts) - n, ".%09ldZ", nsec);

	put_field(&o, "time", ts);
	put_field(&o, "level", lvl ? lvl : "info");
	put_field(&o, "msg", e->msg);
	if (e->id && *e->id)
		put_field(&o, "id", e->id);
	if (e->ns && *e->ns)
		put_field(&o, "namespace", e->ns);
	put_field(&o, "runtime", RUNTIME_NAME);
	if (size >= 2)
		o.buf[o.len++] = '\n';
	o.buf[o.len] = '\0';
	return o.len;
}

static void copy_field(char *dst, size_t size, const char *src)
{
	(void)snprintf(dst, size, "%s", src ? src : "");
}

static void hook(enum husk_log_level level, const char *msg, void *userdata)
{
	(void)userdata;
	shim_log(level, "%s", msg);
}

void shim_log_init(int fd, bool debug, const char *ns, const char *id)
{
	logger.fd = fd;
	logger.debug = debug;
	copy_field(logger.ns, sizeof(logger.ns), ns);
	copy_field(logger.id, sizeof(logger.id), id);
	husk_set_log_hook(hook, NULL);
}

bool shim_log_enabled(enum husk_log_level level)
{
	return logger.fd >= 0 && (level != HUSK_LOG_DEBUG || logger.debug);
}

uint64_t shim_log_dropped(void)
{
	return logger.dropped;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static bool write_line(const char *line, size_t len)
{
	ssize_t n = write(logger.fd, line, len);

	if (n == (ssize_t)len)
		return true;
	/* EAGAIN (containerd not reading), EPIPE (no reader) or a short write: drop, count. */
	logger.dropped++;
	return false;
}

void shim_log(enum husk_log_level level, const char *fmt, ...)
{
	char msg[SHIM_LOG_LINE_MAX];
	char line[SHIM_LOG_LINE_MAX];
	int saved = errno;
	va_list ap;

	if (!shim_log_enabled(level))
		return;
	int64_t now = now_ns();
	if (logger.dropped > logger.dropped_reported) {
		(void)snprintf(msg, sizeof(msg), "log writer dropped %llu lines, continuing",
			       (unsigned long long)(logger.dropped - logger.dropped_reported));
		struct shim_log_entry e = {now, HUSK_LOG_WARN, msg, logger.ns, logger.id};
		size_t n = shim_log_format(line, sizeof(line), &e);
		uint64_t before = logger.dropped;
		if (write_line(line, n))
			logger.dropped_reported = before;
	}
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	struct shim_log_entry e = {now, level, msg, logger.ns, logger.id};
	size_t n = shim_log_format(line, sizeof(line), &e);
	(void)write_line(line, n);
	errno = saved;
}
