/* Session keyrings: every container gets its own instead of the runtime's. */
#include "native/keyring.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include <linux/keyctl.h>
#include <sys/syscall.h>

#include "husk/cleanup.h"
#include "husk/err.h"
#include "native/lsm.h"
#include "native/sync.h"

/* runc's permission bits: search for the key's user, or for others in a user namespace. */
#define PERM_USER_SEARCH  0x80000u
#define PERM_OTHER_SEARCH 0x8u

/* The perm field of KEYCTL_DESCRIBE's "type;uid;gid;perm;description". */
static int current_perm(long id, unsigned long *ret)
{
	char buf[256];
	long n = syscall(SYS_keyctl, KEYCTL_DESCRIBE, id, buf, sizeof(buf) - 1);
	char *p = buf;

	if (n < 0)
		return -errno;
	buf[(size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1] = '\0';
	for (int fields = 0; fields < 3; fields++) {
		while (*p && *p != ';')
			p++;
		if (!*p)
			return -EINVAL;
		p++;
	}
	char *end = NULL;
	*ret = strtoul(p, &end, 16);
	return end != p && *end == ';' ? 0 : -EINVAL;
}

int husk__keyring_join(int sock, const char *name, bool searchable, bool userns)
{
	long id = syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name);
	unsigned long perm = 0;

	if (id < 0) {
		/* No keyrings in this kernel: nothing to share either (runc goes on too). */
		if (errno == ENOSYS)
			return 0;
		return husk__sync_error(sock, errno, "join session keyring '%s'", name);
	}
	if (!searchable)
		return 0;
	int r = current_perm(id, &perm);
	if (r < 0)
		return husk__sync_error(sock, -r, "read the permissions of keyring '%s'", name);
	perm |= userns ? PERM_OTHER_SEARCH : PERM_USER_SEARCH;
	if (syscall(SYS_keyctl, KEYCTL_SETPERM, id, perm) < 0)
		return husk__sync_error(sock, errno, "set the permissions of keyring '%s'", name);
	return 0;
}

int husk__keyring_join_labelled(int sock, const char *name, bool searchable, bool userns,
				const struct husk_lsm *lsm, const char *label)
{
	struct husk_err e = {0};
	_cleanup_close_ int proc = -1;

	if (lsm->selinux || (label && *label)) {
		proc = husk__lsm_proc_open("/proc", &e);
		if (proc < 0)
			return husk__sync_fail(sock, e.errnum, "%s", e.msg);
	}
	if (husk__lsm_set_keycreate(proc, lsm, label, &e) < 0)
		return husk__sync_fail(sock, e.errnum, "%s", e.msg);
	int r = husk__keyring_join(sock, name, searchable, userns);
	/* runc defers this reset and ignores its error; the exec resets it anyway. */
	(void)husk__lsm_set_keycreate(proc, lsm, "", NULL);
	return r;
}
