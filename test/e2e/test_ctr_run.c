/*
 * ctr run in the foreground through a private containerd: stdout and stderr, exit codes,
 * stdin, a real terminal, --rootfs and image rootfs, SIGKILL. Every test ends with the
 * fixture's leak checks (processes, sockets, mounts, cgroups, state, sanitizer reports).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "containerd.h"
#include "testutil.h"

static struct e2e_cd *cd;

static void setup(void)
{
	cd = e2e_cd_start();
}

static void teardown(void)
{
	e2e_cd_stop(cd);
	cd = NULL;
}

TestSuite(ctr_run, .init = setup, .fini = teardown);

E2E_TEST(ctr_run, image_stdout)
{
	const char *id = e2e_id(cd, "echo");
	_cleanup_res_ struct e2e_res r = e2e_ctr(cd, NULL, E2E_RUN(cd), "--rm", cd->image, id,
						 "echo", "hello from husk", NULL);

	cr_assert(eq(int, r.status, 0), "ctr run: %s", r.err);
	cr_assert(eq(str, r.out, "hello from husk\n"));
}

E2E_TEST(ctr_run, rootfs_stdout)
{
	const char *id = e2e_id(cd, "rootfs");
	/* ctr's default spec has no PATH without an image: use absolute paths. */
	_cleanup_res_ struct e2e_res r =
		e2e_ctr(cd, NULL, E2E_RUN(cd), "--rm", "--rootfs", cd->rootfs, id, "/bin/sh", "-c",
			"echo from-rootfs; id -u; cat /etc/hostname", NULL);

	cr_assert(eq(int, r.status, 0), "ctr run --rootfs: %s", r.err);
	cr_assert(eq(str, r.out, "from-rootfs\n0\nhusk\n"));
}

E2E_TEST(ctr_run, exit_code)
{
	const char *id = e2e_id(cd, "exit3");
	_cleanup_res_ struct e2e_res r =
		e2e_ctr(cd, NULL, E2E_RUN(cd), "--rm", cd->image, id, "sh", "-c", "exit 3", NULL);

	cr_assert(eq(int, r.status, 3), "ctr run: %s", r.err);
	cr_assert(eq(str, r.out, ""));
}

E2E_TEST(ctr_run, stdout_and_stderr_apart)
{
	const char *id = e2e_id(cd, "streams");
	_cleanup_res_ struct e2e_res r =
		e2e_ctr(cd, NULL, E2E_RUN(cd), "--rm", cd->image, id, "sh", "-c",
			"echo to-out; echo to-err >&2; echo more-out", NULL);

	cr_assert(eq(int, r.status, 0), "ctr run: %s", r.err);
	cr_assert(eq(str, r.out, "to-out\nmore-out\n"));
	cr_assert(strstr(r.err, "to-err\n") != NULL, "stderr: %s", r.err);
	cr_assert(strstr(r.out, "to-err") == NULL);
}

E2E_TEST(ctr_run, spec_env_cwd)
{
	const char *id = e2e_id(cd, "spec");
	_cleanup_res_ struct e2e_res r = e2e_ctr(
		cd, NULL, E2E_RUN(cd), "--rm", "--env", "HUSK_E2E=yes", "--cwd", "/tmp", cd->image,
		id, "sh", "-c", "echo $HUSK_E2E; pwd; id -u; id -g; echo $$", NULL);

	cr_assert(eq(int, r.status, 0), "ctr run: %s", r.err);
	/* The process is pid 1 of its own pid namespace. */
	cr_assert(eq(str, r.out, "yes\n/tmp\n0\n0\n1\n"));
}

/*
 * ctr calls CloseIO only once the task exists (its stdin closer is set after Create), so
 * an EOF that reaches ctr earlier is lost. Wait for the echo of the first bytes, which
 * proves the task runs, before closing stdin.
 */
static void stdin_roundtrip(const char *id, const char *data, size_t len)
{
	struct e2e_proc *p = e2e_ctr_spawn(cd, E2E_RUN(cd), "--rm", cd->image, id, "cat", NULL);

	e2e_proc_write(p, "first\n", 6);
	cr_assert(e2e_proc_wait_out(p, "first\n", 0, testutil_timeout(30)),
		  "no echo of stdin; stdout %s stderr %s", e2e_proc_out(p), e2e_proc_err(p));
	e2e_proc_write(p, data, len);
	e2e_proc_close_stdin(p);
	_cleanup_res_ struct e2e_res r = e2e_proc_finish(p, testutil_timeout(60));

	cr_assert(eq(int, r.status, 0), "ctr run cat: %s", r.err);
	cr_assert(eq(sz, r.out_len, len + 6));
	cr_assert(memcmp(r.out + 6, data, len) == 0, "stdin came back changed");
}

E2E_TEST(ctr_run, stdin_closed_ends_cat)
{
	const char *data = "second line\nthird\n";
	stdin_roundtrip(e2e_id(cd, "cat"), data, strlen(data));
}

E2E_TEST(ctr_run, stdin_large_no_loss)
{
	/* Several times any pipe or fifo buffer: back-pressure, no lost or reordered bytes. */
	size_t len = 4u << 20;
	char *data = malloc(len);
	cr_assert(data != NULL);
	unsigned x = 2463534242u;
	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		data[i] = (char)(x & 0xff);
	}
	stdin_roundtrip(e2e_id(cd, "bigcat"), data, len);
	free(data);
}

E2E_TEST(ctr_run, tty)
{
	const char *id = e2e_id(cd, "tty");
	_cleanup_res_ struct e2e_res r =
		e2e_ctr_tty(cd, E2E_RUN(cd), "-t", "--rm", cd->image, id, "sh", "-c",
			    "tty; [ -t 0 ] && [ -t 1 ] && echo on-a-tty; exit 4", NULL);

	cr_assert(eq(int, r.status, 4), "ctr run -t: %s%s", r.out, r.err);
	cr_assert(strstr(r.out, "/dev/pts/") != NULL, "output: %s", r.out);
	cr_assert(strstr(r.out, "on-a-tty\r") != NULL, "output: %s", r.out);
}

E2E_TEST(ctr_run, sigkill_reports_137)
{
	const char *id = e2e_id(cd, "killed");
	struct e2e_proc *p =
		e2e_ctr_spawn(cd, E2E_RUN(cd), "--rm", cd->image, id, "sleep", "1000", NULL);

	cr_assert(e2e_wait_task_status(cd, id, "RUNNING", 30), "task never ran: %s",
		  e2e_proc_err(p));
	_cleanup_res_ struct e2e_res k = e2e_ctr(cd, NULL, "task", "kill", "-s", "KILL", id, NULL);
	cr_assert(eq(int, k.status, 0), "ctr task kill: %s", k.err);

	_cleanup_res_ struct e2e_res r = e2e_proc_finish(p, testutil_timeout(30));
	cr_assert(eq(int, r.status, 137), "ctr run: %s", r.err);
	cr_assert(e2e_wait_task_status(cd, id, NULL, 10));
}

E2E_TEST(ctr_run, log_uri_file)
{
	const char *id = e2e_id(cd, "logfile");
	char uri[2200], path[2048];

	(void)snprintf(path, sizeof(path), "%.1900s/%.100s.log", cd->dir, id);
	(void)snprintf(uri, sizeof(uri), "file://%s", path);
	_cleanup_res_ struct e2e_res r =
		e2e_ctr(cd, NULL, E2E_RUN(cd), "--rm", "--log-uri", uri, cd->image, id, "sh", "-c",
			"echo to-file; echo err-to-file >&2", NULL);

	cr_assert(eq(int, r.status, 0), "ctr run --log-uri file: %s", r.err);
	char *log = testutil_read_file(path);
	cr_assert(log != NULL, "the file:// log exists");
	cr_assert(strstr(log, "to-file\n") != NULL && strstr(log, "err-to-file\n") != NULL,
		  "both streams in the file: '%s'", log);
	free(log);
}

E2E_TEST(ctr_run, log_uri_binary)
{
	const char *id = e2e_id(cd, "logbin");
	char uri[2200], script[2048], out[2100], err[2100];

	/* containerd's binary logger protocol: stdout on fd 3, stderr on fd 4, ready on fd 5. */
	(void)snprintf(script, sizeof(script), "%.1900s/logger.sh", cd->dir);
	(void)snprintf(out, sizeof(out), "%.1900s/%.100s.out", cd->dir, id);
	(void)snprintf(err, sizeof(err), "%.1900s/%.100s.err", cd->dir, id);
	char *body = NULL;
	cr_assert(asprintf(&body, "#!/bin/sh\nexec 5>&-\ncat <&3 >'%s' &\ncat <&4 >'%s' &\nwait\n",
			   out, err) > 0);
	testutil_write_file(script, body);
	free(body);
	cr_assert(eq(int, chmod(script, 0755), 0));
	(void)snprintf(uri, sizeof(uri), "binary://%s", script);
	_cleanup_res_ struct e2e_res r =
		e2e_ctr(cd, NULL, E2E_RUN(cd), "--rm", "--log-uri", uri, cd->image, id, "sh", "-c",
			"echo to-binary; echo err-to-binary >&2", NULL);

	cr_assert(eq(int, r.status, 0), "ctr run --log-uri binary: %s", r.err);
	/* The logger has exited (ctr run --rm deleted the task, which waits for it). */
	char *o = testutil_read_file(out);
	char *e = testutil_read_file(err);
	cr_assert(o != NULL && e != NULL, "the logger wrote both files");
	cr_assert(eq(str, o, "to-binary\n"));
	cr_assert(eq(str, e, "err-to-binary\n"));
	free(o);
	free(e);
}
