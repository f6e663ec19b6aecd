/* Nothing of the caller leaks into a container: fds, signal dispositions, signal mask. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/socket.h>
#include <sys/wait.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "box.h"
#include "husk/container.h"
#include "husk/err.h"
#include "testutil.h"

TestSuite(fd_hygiene, .timeout = 120);

/* "0 1 2" for the fds of pid. */
static void fds_of(pid_t pid, char *buf, size_t size)
{
	char path[64];
	int fds[64];
	size_t n = 0;

	(void)snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	DIR *d = opendir(path);
	cr_assert(d != NULL, "%s: %s", path, strerror(errno));
	struct dirent *de;
	while ((de = readdir(d)) && n < 64)
		if (de->d_name[0] != '.')
			fds[n++] = atoi(de->d_name);
	(void)closedir(d);
	/* Sorted: readdir order of /proc/<pid>/fd is ascending, but do not rely on it. */
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			if (fds[j] < fds[i]) {
				int t = fds[i];
				fds[i] = fds[j];
				fds[j] = t;
			}
	size_t len = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < n && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, i ? " %d" : "%d", fds[i]);
}

static void sig_line(pid_t pid, const char *key, char *buf, size_t size)
{
	char path[64];
	(void)snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	char *s = testutil_read_file(path);
	cr_assert(s != NULL);
	char *p = strstr(s, key);
	cr_assert(p != NULL, "%s", key);
	size_t n = strcspn(p, "\n");
	cr_assert(n < size);
	memcpy(buf, p, n);
	buf[n] = '\0';
	free(s);
}

/* Open fds of every kind the shim has, half of them inheritable; ignore and block signals. */
static void pollute(int *fds, int n)
{
	for (int i = 0; i < n; i += 4) {
		int cloexec = (i / 4) % 2 ? O_CLOEXEC : 0;
		int p[2];
		fds[i] = open("/dev/null", O_RDONLY | cloexec);
		cr_assert(eq(int, pipe2(p, cloexec), 0));
		fds[i + 1] = p[0];
		fds[i + 2] = p[1];
		fds[i + 3] = socket(AF_UNIX, SOCK_STREAM | (cloexec ? SOCK_CLOEXEC : 0), 0);
		cr_assert(fds[i] >= 0 && fds[i + 3] >= 0);
	}
	(void)signal(SIGPIPE, SIG_IGN);
	(void)signal(SIGHUP, SIG_IGN);
	(void)signal(SIGUSR1, SIG_IGN);
	(void)signal(SIGTTOU, SIG_IGN);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGRTMIN + 2);
	cr_assert(eq(int, sigprocmask(SIG_BLOCK, &set, NULL), 0));
}

#define N_EXTRA 40

static void check_clean(pid_t pid, const char *who)
{
	char buf[256];

	fds_of(pid, buf, sizeof(buf));
	cr_assert(eq(str, buf, "0 1 2"), "%s fds: %s", who, buf);
	sig_line(pid, "SigIgn:", buf, sizeof(buf));
	cr_assert(eq(str, buf, "SigIgn:\t0000000000000000"), "%s", who);
	sig_line(pid, "SigBlk:", buf, sizeof(buf));
	cr_assert(eq(str, buf, "SigBlk:\t0000000000000000"), "%s", who);
}

Test(fd_hygiene, pid1_and_execs_hold_only_stdio_and_default_signals)
{
	struct box b;
	struct husk_err err = {0};
	int extra[N_EXTRA];

	box_init(&b, "fdh");
	pollute(extra, N_EXTRA);
	/* sleep, exec'ed by sh: it installs no handler itself. */
	struct husk_container *c = box_run(&b, "fdh", "exec sleep 1000");
	pid_t init = husk_container_init(c)->pid;
	/* Start returns after the execve (the sync socket's EOF): what is there now stays. */
	check_clean(init, "init");

	json_t *p = box_exec_proc(&b, "unused");
	json_object_set_new(p, "args", json_pack("[ss]", "sleep", "1000"));
	pid_t pid = 0;
	int out = -1;
	cr_assert(eq(int, box_exec_start(c, p, &pid, &out, &err), 0), "%s", err.msg);
	json_decref(p);
	check_clean(pid, "exec");

	/* A terminal exec too: its fds 0-2 are the pty, nothing else. */
	p = box_exec_proc(&b, "unused");
	json_object_set_new(p, "args", json_pack("[ss]", "sleep", "1001"));
	json_object_set_new(p, "terminal", json_true());
	pid_t tpid = 0;
	int tout = -1;
	cr_assert(eq(int, box_exec_start(c, p, &tpid, &tout, &err), 0), "%s", err.msg);
	json_decref(p);
	check_clean(tpid, "terminal exec");

	(void)close(out);
	(void)close(tout);
	(void)kill(pid, SIGKILL);
	(void)kill(tpid, SIGKILL);
	(void)waitpid(pid, NULL, 0);
	(void)waitpid(tpid, NULL, 0);
	box_kill_delete(c);
	for (int i = 0; i < N_EXTRA; i++)
		(void)close(extra[i]);
	box_done(&b);
}
