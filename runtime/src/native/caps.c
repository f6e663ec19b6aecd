/*
 * Child side of the process spec, shared by the init and exec: capabilities through libcap,
 * then the flat setup list (rlimits, oom_score_adj, umask, cwd, user) and the final exec.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "husk/cleanup.h"
#include "husk/err.h"
#include "husk/log.h"
#include "husk/spec.h"
#include "native/lsm.h"
#include "native/native.h"
#include "native/sync.h"
#include "syscalls.h"

static bool has(uint64_t mask, cap_value_t v)
{
	return v < 64 && (mask & (UINT64_C(1) << v));
}

int husk__caps_drop_bounding(const struct husk_caps_plan *caps)
{
	cap_value_t last = (cap_value_t)cap_max_bits();

	if (!caps->set)
		return 0;
	for (cap_value_t v = 0; v < last; v++) {
		if (has(caps->bounding, v))
			continue;
		if (cap_drop_bound(v) < 0 && errno != EINVAL)
			return -errno;
	}
	return 0;
}

static int set_flag(cap_t c, cap_flag_t flag, uint64_t mask)
{
	cap_value_t last = (cap_value_t)cap_max_bits();

	for (cap_value_t v = 0; v < last; v++) {
		if (!has(mask, v))
			continue;
		if (cap_set_flag(c, flag, 1, &v, CAP_SET) < 0)
			return -errno;
	}
	return 0;
}

int husk__caps_apply(int sock, const struct husk_caps_plan *caps)
{
	int r;

	if (!caps->set)
		return 0;
	cap_t c = cap_init();
	if (!c)
		return -errno;
	if ((r = set_flag(c, CAP_EFFECTIVE, caps->effective)) < 0 ||
	    (r = set_flag(c, CAP_PERMITTED, caps->permitted)) < 0 ||
	    (r = set_flag(c, CAP_INHERITABLE, caps->inheritable)) < 0) {
		(void)cap_free(c);
		return r;
	}
	r = cap_set_proc(c) < 0 ? -errno : 0;
	(void)cap_free(c);
	if (r < 0)
		return r;
	if (cap_reset_ambient() < 0 && errno != EINVAL)
		return -errno;
	/* The kernel raises an ambient capability only when it is permitted and inheritable
	 * (runc's default spec has no inheritable set): as runc, skip the others. */
	cap_value_t last = (cap_value_t)cap_max_bits();
	for (cap_value_t v = 0; v < last; v++) {
		if (!has(caps->ambient, v) || cap_set_ambient(v, CAP_SET) == 0)
			continue;
		if (errno != EPERM)
			return -errno;
		char *name = cap_to_name(v);
		(void)husk__sync_log(sock, HUSK_LOG_WARN,
				     "cannot raise ambient capability %s (not inheritable and "
				     "permitted), ignoring",
				     name ? name : "?");
		(void)cap_free(name);
	}
	return 0;
}

static int set_oom_score_adj(int sock, int value)
{
	char buf[16];
	int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return husk__sync_error(sock, errno, "oom_score_adj: open");
	int n = snprintf(buf, sizeof(buf), "%d", value);
	ssize_t w = write(fd, buf, (size_t)n);
	int saved = errno;
	(void)close(fd);
	if (w == n)
		return 0;
	if (value < 0 && (saved == EACCES || saved == EPERM))
		return husk__sync_error(sock, saved,
					"oom_score_adj %d: lowering it needs CAP_SYS_RESOURCE, "
					"which this runtime lacks",
					value);
	return husk__sync_error(sock, saved, "oom_score_adj %d", value);
}

/*
 * "HOME=<dir>" for the process when its env has none (child side: set by husk__proc_setup,
 * added by husk__proc_exec). Each child is its own process, so a static is its own too.
 */
static char home_env[PATH_MAX + sizeof("HOME=")];

/* The home of uid in the container's /etc/passwd, "/" without an entry: runc's default user. */
static void find_home(uid_t uid)
{
	const char *home = "/";
	FILE *f = fopen("/etc/passwd", "re");
	struct passwd *pw = NULL;

	while (f && (pw = fgetpwent(f)))
		if (pw->pw_uid == uid) {
			home = pw->pw_dir;
			break;
		}
	(void)snprintf(home_env, sizeof(home_env), "HOME=%s", home);
	if (f)
		(void)fclose(f);
}

static int set_user(int sock, const struct husk_proc_plan *p)
{
	/* Keep the permitted set across the uid change; capabilities are set right after. */
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return husk__sync_error(sock, errno, "keep capabilities");
	if (setgroups(p->n_groups, p->groups) < 0 && !(errno == EPERM && p->n_groups == 0))
		return husk__sync_error(sock, errno, "setgroups");
	if (setresgid(p->gid, p->gid, p->gid) < 0)
		return husk__sync_error(sock, errno, "setgid %u", (unsigned)p->gid);
	if (setresuid(p->uid, p->uid, p->uid) < 0)
		return husk__sync_error(sock, errno, "setuid %u", (unsigned)p->uid);
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return husk__sync_error(sock, errno, "keep capabilities");
	return 0;
}

int husk__proc_labels(int sock, const struct husk_proc_plan *p, bool init)
{
	struct husk_err e = {0};

	if (!(p->apparmor_profile && *p->apparmor_profile) && !p->lsm.selinux &&
	    !(p->selinux_label && *p->selinux_label))
		return 0;
	_cleanup_close_ int proc = husk__lsm_proc_open("/proc", &e);
	if (proc < 0)
		return husk__sync_fail(sock, e.errnum, "%s", e.msg);
	/* runc's init says which step failed; its exec does not. */
	if (husk__lsm_apparmor_exec(proc, p->apparmor_profile, &e) < 0)
		return husk__sync_fail(sock, e.errnum, "%s%s",
				       init ? "unable to apply apparmor profile: " : "", e.msg);
	if (husk__lsm_selinux_exec(proc, &p->lsm, p->selinux_label, &e) < 0)
		return husk__sync_fail(sock, e.errnum, "%s%s",
				       init ? "can't set process label: " : "", e.msg);
	return 0;
}

int husk__proc_setup(int sock, const struct husk_proc_plan *p, void *seccomp)
{
	int r;

	for (size_t i = 0; i < p->n_rlimits; i++) {
		struct rlimit rl = {.rlim_cur = p->rlimits[i].soft, .rlim_max = p->rlimits[i].hard};
		if (setrlimit(p->rlimits[i].resource, &rl) < 0)
			return husk__sync_error(sock, errno, "setrlimit %d",
						p->rlimits[i].resource);
	}
	if (p->set_oom_score_adj && set_oom_score_adj(sock, p->oom_score_adj) < 0)
		return -EPERM;
	if (p->set_umask)
		umask(p->umask);
	else
		umask(022);
	if (chdir(p->cwd) < 0)
		return husk__sync_error(sock, errno, "chdir '%s'", p->cwd);
	/* Before the user changes: as root, /etc/passwd is readable whatever its mode. */
	if (p->home_from_passwd)
		find_home(p->uid);
	/* Without no_new_privs the kernel wants CAP_SYS_ADMIN to load a filter: now. */
	if (seccomp && !p->no_new_privs && (r = husk__seccomp_load(seccomp)) < 0)
		return husk__sync_error(sock, r, "seccomp");
	if ((r = husk__caps_drop_bounding(&p->caps)) < 0)
		return husk__sync_error(sock, r, "drop bounding capabilities");
	if (set_user(sock, p) < 0)
		return -EPERM;
	if ((r = husk__caps_apply(sock, &p->caps)) < 0)
		return husk__sync_error(sock, r, "set capabilities");
	return 0;
}

/* Go's findExecutable: a regular (non-directory) file with an x bit; -EACCES otherwise. */
static int find_executable(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return -errno;
	return !S_ISDIR(st.st_mode) && (st.st_mode & 0111) ? 0 : -EACCES;
}

/* An errno's text as Go prints it: glibc's, starting lowercase. */
static void go_strerror(int errnum, char *buf, size_t size)
{
	const char *desc = strerrordesc_np(errnum);

	(void)snprintf(buf, size, "%s", desc ? desc : "unknown error");
	buf[0] = (char)tolower((unsigned char)buf[0]);
}

/* argv[0] with a slash: that file, as Go's exec.LookPath takes it. */
static int lookup_file(int sock, const char *name, char *buf, size_t size)
{
	char why[128];

	if (snprintf(buf, size, "%s", name) >= (int)size)
		return husk__sync_error(sock, ENAMETOOLONG, "exec '%s'", name);
	int r = find_executable(buf);
	if (r == -EACCES)
		return husk__sync_fail(sock, EACCES, "exec: \"%s\": permission denied", name);
	if (r < 0) {
		go_strerror(-r, why, sizeof(why));
		return husk__sync_fail(sock, -r, "exec: \"%s\": stat %s: %s", name, name, why);
	}
	return 0;
}

/* A bare argv[0]: the first executable in PATH (none without a PATH), never a relative one. */
static int lookup_in_path(int sock, const char *name, const char *path, char *buf, size_t size)
{
	bool found = false;

	for (const char *s = path; s && *s && !found;) {
		const char *colon = strchr(s, ':');
		size_t len = colon ? (size_t)(colon - s) : strlen(s);
		/* An empty element is ".", as in a shell. */
		if (snprintf(buf, size, "%.*s/%s", (int)len, len ? s : ".", name) < (int)size)
			found = find_executable(buf) == 0;
		s = colon ? colon + 1 : NULL;
	}
	if (!found)
		return husk__sync_fail(sock, ENOENT,
				       "exec: \"%s\": executable file not found in $PATH", name);
	if (buf[0] != '/')
		return husk__sync_fail(sock, ENOENT,
				       "exec: \"%s\": cannot run executable found relative to "
				       "current directory",
				       name);
	return 0;
}

int husk__proc_lookup(int sock, const struct husk_proc_plan *p, char *buf, size_t size)
{
	const char *name = p->argv[0];
	int r = strchr(name, '/') ? lookup_file(sock, name, buf, size)
				  : lookup_in_path(sock, name, p->path, buf, size);

	if (r < 0)
		return r;
	/* The x bit may be there on a noexec mount, or not for this user. */
	if (faccessat(AT_FDCWD, buf, X_OK, AT_EACCESS) < 0) {
		char why[128];
		int saved = errno;
		go_strerror(saved, why, sizeof(why));
		return husk__sync_fail(sock, saved, "exec %s: %s", buf, why);
	}
	return 0;
}

int husk__proc_exec(int sock, const struct husk_proc_plan *p, const char *path, void *seccomp)
{
	int r;

	if (p->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return husk__sync_error(sock, errno, "no_new_privs");
	/* Only 0, 1 and 2 reach the process. */
	if (husk_close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		return husk__sync_error(sock, errno, "close_range");
	if (seccomp && p->no_new_privs && (r = husk__seccomp_load(seccomp)) < 0)
		return husk__sync_error(sock, r, "seccomp");
	const char *const *envp = p->envp;
	const char **with_home = NULL;
	if (home_env[0]) {
		size_t n = 0;
		while (p->envp[n])
			n++;
		/* Gone with the exec; a single-threaded child may allocate. */
		with_home = calloc(n + 2, sizeof(*with_home));
		if (!with_home)
			return husk__sync_error(sock, ENOMEM, "environment");
		/* Empty HOME entries (the only kind there is then) give way to ours. */
		size_t k = 0;
		for (size_t i = 0; i < n; i++)
			if (strncmp(p->envp[i], "HOME=", 5) != 0)
				with_home[k++] = p->envp[i];
		with_home[k] = home_env;
		envp = with_home;
	}
	execve(path, (char *const *)p->argv, (char *const *)envp);
	int saved = errno;
	free(with_home);
	return husk__sync_error(sock, saved, "exec '%s'", p->argv[0]);
}
