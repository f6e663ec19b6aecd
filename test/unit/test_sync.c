/* The parent ↔ child sync protocol, both ends over one socketpair in one process. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <sys/socket.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "husk/cleanup.h"
#include "husk/err.h"
#include "husk/log.h"
#include "native/sync.h"

static int sv[2] = {-1, -1};

static void setup(void)
{
	cr_assert(eq(int, husk__sync_pair(sv), 0));
}

static void teardown(void)
{
	sv[0] = husk_safe_close(sv[0]);
	sv[1] = husk_safe_close(sv[1]);
	husk_set_log_hook(NULL, NULL);
}

TestSuite(sync, .init = setup, .fini = teardown, .timeout = 20);

Test(sync, pair_is_cloexec_seqpacket)
{
	int type = 0;
	socklen_t len = sizeof(type);

	cr_assert(fcntl(sv[0], F_GETFD) & FD_CLOEXEC);
	cr_assert(fcntl(sv[1], F_GETFD) & FD_CLOEXEC);
	cr_assert(eq(int, getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &type, &len), 0));
	cr_assert(eq(int, type, SOCK_SEQPACKET));
}

Test(sync, message_round_trip)
{
	struct husk_sync_msg m;
	int fd = 7;

	cr_assert(eq(int, husk__sync_send(sv[0], HUSK_SYNC_PID, 4242, -1, "hello"), 0));
	cr_assert(eq(int, husk__sync_recv(sv[1], 1000, &m, &fd), 1));
	cr_assert(eq(u32, m.type, HUSK_SYNC_PID));
	cr_assert(eq(i32, m.value, 4242));
	cr_assert(eq(str, m.text, "hello"));
	cr_assert(eq(int, fd, -1));
}

Test(sync, fd_passing_is_cloexec_and_works)
{
	int p[2];
	int fd = -1;
	char c = 0;
	struct husk_sync_msg m;

	cr_assert(eq(int, pipe2(p, O_CLOEXEC), 0));
	cr_assert(eq(int, husk__sync_send(sv[0], HUSK_SYNC_TREE_FD, 0, p[1], NULL), 0));
	close(p[1]);
	cr_assert(eq(int, husk__sync_recv(sv[1], 1000, &m, &fd), 1));
	cr_assert(eq(u32, m.type, HUSK_SYNC_TREE_FD));
	cr_assert(eq(str, m.text, ""));
	cr_assert(fd > 2);
	cr_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	cr_assert(eq(long, (long)write(fd, "x", 1), 1L));
	cr_assert(eq(long, (long)read(p[0], &c, 1), 1L));
	cr_assert(eq(chr, c, 'x'));
	close(fd);
	close(p[0]);
}

Test(sync, expect_returns_message_and_fd)
{
	int fd = -1;
	struct husk_sync_msg m;
	struct husk_err err = {0};

	cr_assert(eq(int, husk__sync_send(sv[0], HUSK_SYNC_GOFER_READY, 0, sv[0], NULL), 0));
	cr_assert(eq(int,
		     husk__sync_expect(
			     sv[1], &(struct husk_sync_wait){HUSK_SYNC_GOFER_READY, 1000, "gofer"},
			     &m, &fd, &err),
		     0));
	cr_assert(fd > 2);
	close(fd);
}

Test(sync, child_error_becomes_husk_err)
{
	struct husk_err err = {0};

	cr_assert(eq(int, husk__sync_error(sv[0], ENOENT, "mount '%s'", "/x"), -ENOENT));
	cr_assert(
		eq(int,
		   husk__sync_expect(sv[1], &(struct husk_sync_wait){HUSK_SYNC_READY, 1000, "init"},
				     NULL, NULL, &err),
		   -ENOENT));
	cr_assert(eq(int, err.errnum, ENOENT));
	cr_assert(eq(int, err.kind, HUSK_ERR_INTERNAL));
	cr_assert(eq(str, err.msg, "init: mount '/x': No such file or directory"));
}

static char logged[256];
static void hook(enum husk_log_level level, const char *msg, void *userdata)
{
	(void)userdata;
	snprintf(logged, sizeof(logged), "%d %s", (int)level, msg);
}

Test(sync, log_lines_pass_through_to_hook)
{
	struct husk_sync_msg m;
	struct husk_err err = {0};

	husk_set_log_hook(hook, NULL);
	cr_assert(eq(int, husk__sync_log(sv[0], HUSK_LOG_WARN, "step %d failed", 3), 0));
	cr_assert(eq(int, husk__sync_send(sv[0], HUSK_SYNC_START, 0, -1, NULL), 0));
	cr_assert(eq(int,
		     husk__sync_expect(sv[1],
				       &(struct husk_sync_wait){HUSK_SYNC_START, 1000, "gofer"}, &m,
				       NULL, &err),
		     0));
	cr_assert(eq(str, logged, "1 gofer: step 3 failed"));
}

Test(sync, eof_before_message_is_an_error)
{
	struct husk_err err = {0};

	sv[0] = husk_safe_close(sv[0]);
	cr_assert(husk__sync_expect(sv[1], &(struct husk_sync_wait){HUSK_SYNC_READY, 1000, "init"},
				    NULL, NULL, &err) < 0);
	cr_assert(eq(str, err.msg, "init: exited without reporting"));
}

Test(sync, eof_is_success_when_waiting_for_exec)
{
	struct husk_err err = {0};

	cr_assert(eq(int, husk__sync_log(sv[0], HUSK_LOG_DEBUG, "exec"), 0));
	sv[0] = husk_safe_close(sv[0]);
	cr_assert(
		eq(int,
		   husk__sync_expect(sv[1], &(struct husk_sync_wait){HUSK_SYNC_NONE, 1000, "exec"},
				     NULL, NULL, &err),
		   0));
}

Test(sync, unexpected_type_is_protocol_error)
{
	struct husk_err err = {0};

	cr_assert(eq(int, husk__sync_send(sv[0], HUSK_SYNC_START, 0, -1, NULL), 0));
	cr_assert(
		eq(int,
		   husk__sync_expect(sv[1], &(struct husk_sync_wait){HUSK_SYNC_READY, 1000, "init"},
				     NULL, NULL, &err),
		   -EPROTO));
	cr_assert(strstr(err.msg, "got 'start' while waiting for 'ready'") != NULL, "%s", err.msg);
}

Test(sync, timeout_is_reported)
{
	struct husk_err err = {0};

	cr_assert(eq(int,
		     husk__sync_expect(sv[1], &(struct husk_sync_wait){HUSK_SYNC_READY, 50, "init"},
				       NULL, NULL, &err),
		     -ETIMEDOUT));
	cr_assert(strstr(err.msg, "no 'ready' message") != NULL, "%s", err.msg);
}

Test(sync, short_or_unknown_packets_are_rejected)
{
	struct husk_sync_msg m;
	uint32_t bad_type[2] = {999, 0};

	cr_assert(eq(long, (long)send(sv[0], "ab", 2, 0), 2L));
	cr_assert(eq(int, husk__sync_recv(sv[1], 1000, &m, NULL), -EBADMSG));
	cr_assert(
		eq(long, (long)send(sv[0], bad_type, sizeof(bad_type), 0), (long)sizeof(bad_type)));
	cr_assert(eq(int, husk__sync_recv(sv[1], 1000, &m, NULL), -EBADMSG));
}

Test(sync, long_text_is_truncated_and_terminated)
{
	char big[2 * HUSK_SYNC_TEXT_MAX];
	struct husk_sync_msg m;

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cr_assert(eq(int, husk__sync_send(sv[0], HUSK_SYNC_LOG, 0, -1, big), 0));
	cr_assert(eq(int, husk__sync_recv(sv[1], 1000, &m, NULL), 1));
	cr_assert(eq(sz, strlen(m.text), (size_t)HUSK_SYNC_TEXT_MAX - 1));
}

Test(sync, type_names)
{
	cr_assert(eq(str, (char *)husk__sync_type_to_string(HUSK_SYNC_TREE_FD), "tree-fd"));
	cr_assert(eq(str, (char *)husk__sync_type_to_string(_HUSK_SYNC_TYPE_MAX), "unknown"));
}
