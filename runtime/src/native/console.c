/* Child side: the container's terminal, a pty of the container's own devpts instance. */
#include <errno.h>
#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <sys/ioctl.h>

#include "husk/cleanup.h"
#include "native/native.h"
#include "native/sync.h"

int husk__console_setup(int sock, const struct husk_proc_plan *plan, uid_t uid, gid_t gid)
{
	int unlock = 0;
	_cleanup_close_ int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (master < 0)
		return husk__sync_error(sock, errno, "open /dev/ptmx");
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
		return husk__sync_error(sock, errno, "unlock pty");
	/* TIOCGPTPEER opens the peer through the master, never through a path. */
	_cleanup_close_ int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		return husk__sync_error(sock, errno, "open pty peer");
	if (fchown(slave, uid, gid) < 0)
		return husk__sync_error(sock, errno, "chown pty");
	if (plan->console_rows || plan->console_cols) {
		struct winsize ws = {.ws_row = plan->console_rows, .ws_col = plan->console_cols};
		if (ioctl(slave, TIOCSWINSZ, &ws) < 0)
			return husk__sync_error(sock, errno, "set window size");
	}
	if (setsid() < 0)
		return husk__sync_error(sock, errno, "setsid");
	if (ioctl(slave, TIOCSCTTY, 0) < 0)
		return husk__sync_error(sock, errno, "set controlling terminal");
	for (int fd = 0; fd < 3; fd++)
		if (dup2(slave, fd) < 0)
			return husk__sync_error(sock, errno, "dup pty to %d", fd);
	if (husk__sync_send(sock, HUSK_SYNC_CONSOLE_FD, 0, master, NULL) < 0)
		return husk__sync_error(sock, errno, "send pty master");
	return 0;
}
