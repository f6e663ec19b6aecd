#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "log.h"

/* 2023-11-14T22:13:20.000000005Z */
#define T0 (1700000000LL * 1000000000LL + 5)

Test(shim_log, logrus_text_format)
{
	char buf[512];

	struct shim_log_entry e = {T0, HUSK_LOG_INFO, "starting shim", "default", "c1"};

	size_t n = shim_log_format(buf, sizeof(buf), &e);
	cr_assert(eq(str, buf,
		     "time=\"2023-11-14T22:13:20.000000005Z\" level=info msg=\"starting shim\" "
		     "id=c1 namespace=default runtime=io.containerd.husk.v2\n"));
	cr_assert(eq(sz, n, strlen(buf)));
}

Test(shim_log, bare_values_are_not_quoted_and_warn_is_warning)
{
	char buf[512];

	struct shim_log_entry e = {T0, HUSK_LOG_WARN, "ok", NULL, ""};

	(void)shim_log_format(buf, sizeof(buf), &e);
	cr_assert(eq(str, buf,
		     "time=\"2023-11-14T22:13:20.000000005Z\" level=warning msg=ok "
		     "runtime=io.containerd.husk.v2\n"));
}

Test(shim_log, quoting_escapes_like_go)
{
	char buf[512];

	struct shim_log_entry e = {T0, HUSK_LOG_ERROR, "a \"b\"\\\n\t\x01", "n", "i"};

	(void)shim_log_format(buf, sizeof(buf), &e);
	cr_assert(not(eq(ptr, strstr(buf, "msg=\"a \\\"b\\\"\\\\\\n\\t\\x01\""), NULL)), "%s", buf);
	cr_assert(not(eq(ptr, strstr(buf, "level=error"), NULL)));
}

Test(shim_log, long_message_is_truncated_with_newline)
{
	char buf[SHIM_LOG_LINE_MAX];
	char msg[3 * SHIM_LOG_LINE_MAX];

	memset(msg, 'x', sizeof(msg) - 1);
	msg[sizeof(msg) - 1] = '\0';
	struct shim_log_entry e = {T0, HUSK_LOG_INFO, msg, "n", "i"};
	size_t n = shim_log_format(buf, sizeof(buf), &e);
	cr_assert(le(sz, n, SHIM_LOG_LINE_MAX - 1));
	cr_assert(eq(chr, buf[n - 1], '\n'));
	cr_assert(eq(sz, strlen(buf), n));
}

Test(shim_log, full_pipe_drops_and_counts_without_blocking)
{
	int p[2];

	cr_assert(eq(int, pipe2(p, O_CLOEXEC | O_NONBLOCK), 0));
	cr_assert(ge(int, fcntl(p[1], F_SETPIPE_SZ, 4096), 0));
	shim_log_init(p[1], false, "ns", "id");
	uint64_t before = shim_log_dropped();
	for (int i = 0; i < 200; i++)
		shim_log_info("line %d with some padding to fill the pipe quickly", i);
	cr_assert(gt(u64, shim_log_dropped(), before));

	/* Drain, then the next line is preceded by a report of the drops. */
	char buf[65536];
	while (read(p[0], buf, sizeof(buf)) > 0)
		;
	shim_log_info("after");
	ssize_t n = read(p[0], buf, sizeof(buf) - 1);
	cr_assert(gt(sz, (size_t)n, 0));
	buf[n] = '\0';
	cr_assert(not(eq(ptr, strstr(buf, "log writer dropped"), NULL)), "%s", buf);
	cr_assert(not(eq(ptr, strstr(buf, "msg=after"), NULL)), "%s", buf);
	(void)close(p[0]);
	(void)close(p[1]);
}

Test(shim_log, every_line_is_whole)
{
	int p[2];
	char buf[65536];

	cr_assert(eq(int, pipe2(p, O_CLOEXEC | O_NONBLOCK), 0));
	cr_assert(ge(int, fcntl(p[1], F_SETPIPE_SZ, 4096), 0));
	shim_log_init(p[1], false, "ns", "id");
	for (int i = 0; i < 100; i++)
		shim_log_info("%d", i);
	ssize_t n = read(p[0], buf, sizeof(buf) - 1);
	cr_assert(gt(sz, (size_t)n, 0));
	cr_assert(eq(chr, buf[n - 1], '\n'), "a line was cut");
	(void)close(p[0]);
	(void)close(p[1]);
}

Test(shim_log, debug_only_when_enabled)
{
	int p[2];
	char buf[4096];

	cr_assert(eq(int, pipe2(p, O_CLOEXEC | O_NONBLOCK), 0));
	shim_log_init(p[1], false, "ns", "id");
	shim_log_debug("hidden");
	cr_assert(eq(int, (int)read(p[0], buf, sizeof(buf)), -1));
	cr_assert(eq(int, errno, EAGAIN));
	shim_log_init(p[1], true, "ns", "id");
	shim_log_debug("shown");
	cr_assert(gt(int, (int)read(p[0], buf, sizeof(buf)), 0));
	/* The runtime's hook lands in the same writer. */
	husk_warn("from the runtime");
	ssize_t n = read(p[0], buf, sizeof(buf) - 1);
	cr_assert(gt(sz, (size_t)n, 0));
	buf[n] = '\0';
	cr_assert(not(eq(ptr, strstr(buf, "msg=\"from the runtime\""), NULL)), "%s", buf);
	(void)close(p[0]);
	(void)close(p[1]);
}
