/*
 * husk-enosys SYSCALL[,SYSCALL...] PROGRAM [ARG...]: run PROGRAM under a seccomp filter
 * that fails the named syscalls with ENOSYS, as a kernel that predates them does (and
 * Docker's default profile does for clone3). Every child inherits the filter. Run as root:
 * without no_new_privs, loading a filter needs CAP_SYS_ADMIN, and no_new_privs is left
 * off so that PROGRAM behaves as it would without the filter in every other respect.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <seccomp.h>

static int deny(scmp_filter_ctx ctx, char *names)
{
	char *save = NULL;

	for (char *name = strtok_r(names, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
		int nr = seccomp_syscall_resolve_name(name);
		if (nr == __NR_SCMP_ERROR) {
			(void)fprintf(stderr, "husk-enosys: unknown syscall '%s'\n", name);
			return -1;
		}
		int r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nr, 0);
		if (r < 0) {
			(void)fprintf(stderr, "husk-enosys: rule for '%s': %s\n", name,
				      strerror(-r));
			return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		(void)fprintf(stderr, "usage: husk-enosys SYSCALL[,SYSCALL...] PROGRAM [ARG...]\n");
		return 2;
	}
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx) {
		(void)fprintf(stderr, "husk-enosys: seccomp_init failed\n");
		return 1;
	}
	int r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (r == 0 && deny(ctx, argv[1]) < 0)
		r = -EINVAL;
	if (r == 0)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	if (r < 0) {
		(void)fprintf(stderr, "husk-enosys: load the filter: %s\n", strerror(-r));
		return 1;
	}
	execvp(argv[2], argv + 2);
	(void)fprintf(stderr, "husk-enosys: exec '%s': %s\n", argv[2], strerror(errno));
	return 127;
}
