#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <uv.h>

#include "husk/err.h"
#include "shim_stdio.h"
#include "testutil.h"

static uv_loop_t loop;
static char *dir;

static void setup(void)
{
	cr_assert(eq(int, uv_loop_init(&loop), 0));
	dir = testutil_tmpdir("stdio");
	signal(SIGPIPE, SIG_IGN);
}

static void teardown(void)
{
	(void)uv_run(&loop, UV_RUN_NOWAIT);
	cr_assert(eq(int, uv_loop_close(&loop), 0), "handles left open");
	testutil_rmtree_free(dir);
}

TestSuite(shim_stdio, .init = setup, .fini = teardown, .timeout = 60);

static char *path_in(const char *name)
{
	char *p = NULL;

	cr_assert(asprintf(&p, "%s/%s", dir, name) > 0);
	return p;
}

static char *make_fifo(const char *name)
{
	char *p = path_in(name);

	cr_assert(eq(int, mkfifo(p, 0600), 0));
	return p;
}

static bool drained_flag;

static void on_drained(struct shim_stdio *s, void *ud)
{
	(void)s;
	(void)ud;
	drained_flag = true;
}

static size_t max_queued;

/* Run the loop until *flag is set or the deadline passes, tracking queue sizes. */
static void run_until(bool *flag, struct shim_stdio *s, double seconds)
{
	uint64_t deadline = uv_now(&loop) + (uint64_t)(testutil_timeout(seconds) * 1000);

	while (!*flag) {
		cr_assert(lt(u64, uv_now(&loop), deadline), "timed out");
		(void)uv_run(&loop, UV_RUN_NOWAIT);
		if (s) {
			size_t q = shim_stdio_queued(s);
			if (q > max_queued)
				max_queued = q;
		}
		usleep(1000);
		uv_update_time(&loop);
	}
}

/* A slow reader of a fifo in a child: returns its pid; it writes "<bytes> <sum>" to out. */
static pid_t slow_reader(const char *fifo, int out)
{
	pid_t pid = fork();

	cr_assert(ge(int, pid, 0));
	if (pid == 0) {
		/* Keep nothing of the parent's (its fifo writer would hide our EOF). */
		(void)dup2(out, 3);
		(void)close_range(4, ~0U, 0);
		out = 3;
		int fd = open(fifo, O_RDONLY | O_CLOEXEC);
		unsigned long long total = 0, sum = 0;
		unsigned char buf[4096];
		ssize_t n;
		while ((n = read(fd, buf, sizeof(buf))) > 0) {
			for (ssize_t i = 0; i < n; i++)
				sum = sum * 31 + buf[i];
			total += (unsigned long long)n;
			usleep(200);
		}
		dprintf(out, "%llu %llu", total, sum);
		_exit(0);
	}
	return pid;
}

static void expected(size_t len, unsigned long long *total, unsigned long long *sum)
{
	*total = len;
	*sum = 0;
	for (size_t i = 0; i < len; i++)
		*sum = *sum * 31 + (unsigned char)(i * 7 + i / 4096);
}

static pid_t writer(int fd, size_t len)
{
	pid_t pid = fork();

	cr_assert(ge(int, pid, 0));
	if (pid == 0) {
		unsigned char buf[8192];
		(void)dup2(fd, 3);
		(void)close_range(4, ~0U, 0);
		fd = 3;
		size_t off = 0;
		while (off < len) {
			size_t n = len - off < sizeof(buf) ? len - off : sizeof(buf);
			for (size_t i = 0; i < n; i++)
				buf[i] = (unsigned char)((off + i) * 7 + (off + i) / 4096);
			ssize_t w = write(fd, buf, n);
			if (w <= 0)
				_exit(1);
			off += (size_t)w;
		}
		_exit(0);
	}
	return pid;
}

Test(shim_stdio, output_fifo_no_lost_bytes_with_backpressure)
{
	char *out = make_fifo("out");
	struct shim_stdio *s = NULL;
	struct husk_err err = {0};
	struct shim_stdio_config cfg = {.stdin_path = "", .stdout_path = out, .stderr_path = ""};
	int fds[3];
	int res[2];
	const size_t len = 2 * 1024 * 1024;

	/* No reader yet: creating must not block. */
	cr_assert(eq(int, shim_stdio_new(&loop, &cfg, &s, &err), 0), "%s", err.msg);
	shim_stdio_child_fds(s, fds);
	cr_assert(eq(int, fds[0], -1));
	cr_assert(ge(int, fds[1], 0));
	cr_assert(eq(int, fds[2], -1));
	int child_out = fcntl(fds[1], F_DUPFD_CLOEXEC, 3);
	cr_assert(eq(int, shim_stdio_start(s, -1, &err), 0), "%s", err.msg);
	cr_assert_not(shim_stdio_drained(s));

	cr_assert(eq(int, pipe2(res, O_CLOEXEC), 0));
	pid_t w = writer(child_out, len);
	(void)close(child_out);
	pid_t r = slow_reader(out, res[1]);
	(void)close(res[1]);

	drained_flag = false;
	max_queued = 0;
	shim_stdio_on_drained(s, on_drained, NULL);
	run_until(&drained_flag, s, 30);
	cr_assert(le(sz, max_queued, (size_t)SHIM_STDIO_HIGH + SHIM_STDIO_BUF), "queue grew to %zu",
		  max_queued);

	char buf[64] = {0};
	cr_assert(gt(int, (int)read(res[0], buf, sizeof(buf) - 1), 0));
	unsigned long long got_total, got_sum, want_total, want_sum;
	cr_assert(eq(int, sscanf(buf, "%llu %llu", &got_total, &got_sum), 2));
	expected(len, &want_total, &want_sum);
	cr_assert(eq(u64, got_total, want_total));
	cr_assert(eq(u64, got_sum, want_sum));
	int st;
	cr_assert(eq(int, waitpid(w, &st, 0), w));
	cr_assert(eq(int, st, 0));
	cr_assert(eq(int, waitpid(r, &st, 0), r));
	(void)close(res[0]);
	shim_stdio_close(s);
	free(out);
}

Test(shim_stdio, stdin_eof_only_after_close_io)
{
	char *in = make_fifo("in");
	struct shim_stdio *s = NULL;
	struct husk_err err = {0};
	struct shim_stdio_config cfg = {.stdin_path = in, .stdout_path = "", .stderr_path = ""};
	int fds[3];
	char buf[64];

	cr_assert(eq(int, shim_stdio_new(&loop, &cfg, &s, &err), 0), "%s", err.msg);
	shim_stdio_child_fds(s, fds);
	cr_assert(ge(int, fds[0], 0));
	int child_in = fcntl(fds[0], F_DUPFD_CLOEXEC, 3);
	cr_assert(eq(int, shim_stdio_start(s, -1, &err), 0), "%s", err.msg);
	cr_assert(shim_stdio_drained(s), "stdin is not an output");
	(void)fcntl(child_in, F_SETFL, O_NONBLOCK);

	/* The client writes and goes away. */
	int client = open(in, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	cr_assert(ge(int, client, 0));
	cr_assert(eq(int, (int)write(client, "hello", 5), 5));
	(void)close(client);

	ssize_t n = -1;
	uint64_t deadline = uv_now(&loop) + 5000;
	while (n < 0 && uv_now(&loop) < deadline) {
		(void)uv_run(&loop, UV_RUN_NOWAIT);
		n = read(child_in, buf, sizeof(buf));
		usleep(1000);
		uv_update_time(&loop);
	}
	cr_assert(eq(int, (int)n, 5));
	/* No EOF while our own writer keeps the fifo open. */
	for (int i = 0; i < 20; i++) {
		(void)uv_run(&loop, UV_RUN_NOWAIT);
		usleep(1000);
	}
	cr_assert(eq(int, (int)read(child_in, buf, sizeof(buf)), -1));
	cr_assert(eq(int, errno, EAGAIN));

	shim_stdio_close_stdin(s);
	n = -1;
	deadline = uv_now(&loop) + 5000;
	while (n < 0 && uv_now(&loop) < deadline) {
		(void)uv_run(&loop, UV_RUN_NOWAIT);
		n = read(child_in, buf, sizeof(buf));
		usleep(1000);
		uv_update_time(&loop);
	}
	cr_assert(eq(int, (int)n, 0), "EOF after CloseIO");
	(void)close(child_in);
	shim_stdio_close(s);
	free(in);
}

Test(shim_stdio, stderr_and_stdout_are_separate)
{
	char *out = make_fifo("o");
	char *er = make_fifo("e");
	struct shim_stdio *s = NULL;
	struct husk_err err = {0};
	struct shim_stdio_config cfg = {.stdout_path = out, .stderr_path = er};
	int fds[3];
	char buf[16] = {0};

	/* The client's readers first, as containerd opens them. */
	int ro = open(out, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	int re = open(er, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	cr_assert(eq(int, shim_stdio_new(&loop, &cfg, &s, &err), 0), "%s", err.msg);
	shim_stdio_child_fds(s, fds);
	int o = fcntl(fds[1], F_DUPFD_CLOEXEC, 3);
	int e = fcntl(fds[2], F_DUPFD_CLOEXEC, 3);
	cr_assert(eq(int, shim_stdio_start(s, -1, &err), 0));
	cr_assert(eq(int, (int)write(o, "out", 3), 3));
	cr_assert(eq(int, (int)write(e, "err", 3), 3));
	(void)close(o);
	(void)close(e);
	drained_flag = false;
	shim_stdio_on_drained(s, on_drained, NULL);
	run_until(&drained_flag, NULL, 10);
	cr_assert(eq(int, (int)read(ro, buf, sizeof(buf)), 3));
	cr_assert(eq(str, buf, "out"));
	cr_assert(eq(int, (int)read(re, buf, sizeof(buf)), 3));
	cr_assert(eq(str, buf, "err"));
	/* Our writers are closed: the client sees EOF. */
	cr_assert(eq(int, (int)read(ro, buf, sizeof(buf)), 0));
	(void)close(ro);
	(void)close(re);
	shim_stdio_close(s);
	free(out);
	free(er);
}

/*
 * A client that opens its reader only after the process wrote and exited (containerd opens
 * from a goroutine) still gets the output and then EOF: the shim holds the fifo open, and
 * the output is not drained, until the client has read it.
 */
Test(shim_stdio, output_waits_for_a_late_client)
{
	char *out = make_fifo("late");
	struct shim_stdio *s = NULL;
	struct husk_err err = {0};
	struct shim_stdio_config cfg = {.stdout_path = out};
	int fds[3];
	char buf[16] = {0};

	cr_assert(eq(int, shim_stdio_new(&loop, &cfg, &s, &err), 0), "%s", err.msg);
	shim_stdio_child_fds(s, fds);
	int o = fcntl(fds[1], F_DUPFD_CLOEXEC, 3);
	cr_assert(eq(int, shim_stdio_start(s, -1, &err), 0));
	cr_assert(eq(int, (int)write(o, "late", 4), 4));
	(void)close(o);
	drained_flag = false;
	shim_stdio_on_drained(s, on_drained, NULL);
	for (int i = 0; i < 50; i++) {
		(void)uv_run(&loop, UV_RUN_NOWAIT);
		usleep(1000);
	}
	cr_assert(not(drained_flag), "drained before the client read the output");
	int ro = open(out, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	cr_assert(ge(int, ro, 0));
	cr_assert(eq(int, (int)read(ro, buf, sizeof(buf)), 4));
	cr_assert(eq(str, buf, "late"));
	run_until(&drained_flag, NULL, 10);
	cr_assert(eq(int, (int)read(ro, buf, sizeof(buf)), 0), "EOF once read");
	(void)close(ro);
	shim_stdio_close(s);
	free(out);
}

Test(shim_stdio, missing_fifo_is_not_found_and_bad_scheme_invalid)
{
	struct shim_stdio *s = NULL;
	struct husk_err err = {0};
	char *missing = path_in("nope");
	struct shim_stdio_config cfg = {.stdout_path = missing};
	int before = testutil_count_fds();

	cr_assert(lt(int, shim_stdio_new(&loop, &cfg, &s, &err), 0));
	cr_assert(eq(int, err.kind, HUSK_ERR_NOT_FOUND));
	cfg.stdout_path = "tcp://x";
	cr_assert(lt(int, shim_stdio_new(&loop, &cfg, &s, &err), 0));
	cr_assert(eq(int, err.kind, HUSK_ERR_INVALID));
	cr_assert(eq(int, testutil_count_fds(), before), "fd leak on error");
	free(missing);
}

Test(shim_stdio, null_io)
{
	struct shim_stdio *s = NULL;
	struct shim_stdio_config cfg = {0};
	int fds[3];

	cr_assert(eq(int, shim_stdio_new(&loop, &cfg, &s, NULL), 0));
	shim_stdio_child_fds(s, fds);
	cr_assert(eq(int, fds[0], -1));
	cr_assert(eq(int, fds[1], -1));
	cr_assert(eq(int, fds[2], -1));
	cr_assert(eq(int, shim_stdio_start(s, -1, NULL), 0));
	cr_assert(shim_stdio_drained(s));
	shim_stdio_close(s);
}

Test(shim_stdio, file_uri_appends_both_streams)
{
	char *log = path_in("sub/dir/c.log");
	char *uri = NULL;
	struct shim_stdio *s = NULL;
	struct husk_err err = {0};
	int fds[3];

	cr_assert(asprintf(&uri, "file://%s", log) > 0);
	struct shim_stdio_config cfg = {.stdout_path = uri, .stderr_path = uri};
	cr_assert(eq(int, shim_stdio_new(&loop, &cfg, &s, &err), 0), "%s", err.msg);
	shim_stdio_child_fds(s, fds);
	cr_assert(eq(int, (int)write(fds[1], "a", 1), 1));
	cr_assert(eq(int, (int)write(fds[2], "b", 1), 1));
	cr_assert(eq(int, shim_stdio_start(s, -1, NULL), 0));
	char *content = testutil_read_file(log);
	cr_assert(eq(str, content, "ab"));
	free(content);
	cfg.terminal = true;
	cr_assert(lt(int, shim_stdio_new(&loop, &cfg, &s, &err), 0));
	cr_assert(eq(int, err.kind, HUSK_ERR_INVALID));
	shim_stdio_close(s);
	free(uri);
	free(log);
}

Test(shim_stdio, binary_logger_gets_pipes_env_and_args)
{
	char *script = path_in("logger.sh");
	char *out = path_in("out.txt");
	char *env = path_in("env.txt");
	char *uri = NULL;
	char *body = NULL;
	struct shim_stdio *s = NULL;
	struct husk_err err = {0};
	struct husk_child logger;
	int fds[3];

	cr_assert(asprintf(&body,
			   "#!/bin/sh\n/usr/bin/env > %s\n[ \"$1\" = out ] || exit 3\n"
			   "exec 5>&-\n/bin/cat <&3 > \"$2\"\n",
			   env) > 0);
	testutil_write_file(script, body);
	cr_assert(eq(int, chmod(script, 0755), 0));
	cr_assert(asprintf(&uri, "binary://%s?out=%s", script, out) > 0);
	struct shim_stdio_config cfg = {
		.stdout_path = uri, .stderr_path = uri, .container_id = "c1", .ns = "ns1"};
	cr_assert(eq(int, shim_stdio_new(&loop, &cfg, &s, &err), 0), "%s", err.msg);
	cr_assert(shim_stdio_take_logger(s, &logger));
	shim_stdio_child_fds(s, fds);
	cr_assert(eq(int, (int)write(fds[1], "logged", 6), 6));
	cr_assert(eq(int, shim_stdio_start(s, -1, NULL), 0));
	/* The shim holds the write ends until it closes, as runc does. */
	shim_stdio_close(s);
	int st;
	cr_assert(eq(int, waitpid(logger.pid, &st, 0), logger.pid));
	cr_assert(eq(int, st, 0));
	if (logger.pidfd >= 0)
		(void)close(logger.pidfd);
	char *got = testutil_read_file(out);
	cr_assert(eq(str, got, "logged"));
	char *e = testutil_read_file(env);
	/* Only the two variables containerd's binary IO sets (the shell adds PWD itself). */
	cr_assert(ne(ptr, strstr(e, "CONTAINER_ID=c1\n"), NULL), "%s", e);
	cr_assert(ne(ptr, strstr(e, "CONTAINER_NAMESPACE=ns1\n"), NULL), "%s", e);
	cr_assert(eq(ptr, strstr(e, "HUSK_"), NULL), "%s", e);
	cr_assert(eq(ptr, strstr(e, "HOME="), NULL), "%s", e);
	free(got);
	free(e);
	free(body);
	free(uri);
	free(out);
	free(env);
	free(script);
}

Test(shim_stdio, binary_logger_that_fails_to_exec_is_an_error)
{
	struct shim_stdio *s = NULL;
	struct husk_err err = {0};
	char *missing = path_in("no-such-logger");
	char *uri = NULL;

	cr_assert(asprintf(&uri, "binary://%s", missing) > 0);
	struct shim_stdio_config cfg = {.stdout_path = uri, .container_id = "c", .ns = "n"};
	cr_assert(lt(int, shim_stdio_new(&loop, &cfg, &s, &err), 0));
	cr_assert(ne(ptr, strstr(err.msg, "exec"), NULL), "%s", err.msg);
	free(uri);
	free(missing);
}

Test(shim_stdio, terminal_copies_master_and_resizes)
{
	char *out = make_fifo("tout");
	char *in = make_fifo("tin");
	struct shim_stdio *s = NULL;
	struct husk_err err = {0};
	struct shim_stdio_config cfg = {.stdin_path = in, .stdout_path = out, .terminal = true};
	char buf[64] = {0};

	int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	cr_assert(ge(int, master, 0));
	cr_assert(eq(int, grantpt(master), 0));
	cr_assert(eq(int, unlockpt(master), 0));
	int slave = open(ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
	cr_assert(ge(int, slave, 0));
	struct termios;

	int ro = open(out, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	cr_assert(eq(int, shim_stdio_new(&loop, &cfg, &s, &err), 0), "%s", err.msg);
	cr_assert(eq(int, shim_stdio_start(s, master, &err), 0), "%s", err.msg);
	cr_assert(eq(int, shim_stdio_resize(s, 120, 40, &err), 0));
	struct winsize ws;
	cr_assert(eq(int, ioctl(slave, TIOCGWINSZ, &ws), 0));
	cr_assert(eq(int, ws.ws_col, 120));
	cr_assert(eq(int, ws.ws_row, 40));

	cr_assert(eq(int, (int)write(slave, "tty", 3), 3));
	(void)close(slave);
	drained_flag = false;
	shim_stdio_on_drained(s, on_drained, NULL);
	run_until(&drained_flag, NULL, 10);
	cr_assert(eq(int, (int)read(ro, buf, sizeof(buf)), 3));
	cr_assert(eq(str, buf, "tty"));
	(void)close(ro);
	shim_stdio_close(s);
	free(out);
	free(in);
}
