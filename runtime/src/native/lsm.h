/*
 * Linux security modules, as runc 1.1.5 uses them: whether the host runs AppArmor or
 * SELinux, and the labels a container's processes get through their procfs attributes
 * (libcontainer/apparmor and go-selinux). The native engine calls these in the parent
 * (detection, refusal of a label the host cannot apply, mount data) and in the init and
 * every exec process (the attribute writes), so tests drive exactly the engine's code:
 * every path is relative to a /sys or /proc root the caller gives, which a unit test
 * points at a temp dir.
 */
#pragma once

#include <stdbool.h>

struct husk_err;

/* What the host enforces. Plain data: the parent detects it, children get a copy. */
struct husk_lsm {
	bool apparmor; /* <sys>/kernel/security/apparmor exists and
			* <sys>/module/apparmor/parameters/enabled starts with 'Y' */
	bool selinux;  /* <sys>/fs/selinux is a selinuxfs mounted read-write and our label
			* (<proc>/thread-self/attr/current) is not "kernel" */
};

/*
 * Detect the modules under sys (the host's "/sys") and proc ("/proc") with runc's and
 * go-selinux's rules. Anything unreadable counts as "not enabled".
 */
void husk__lsm_detect(const char *sys, const char *proc, struct husk_lsm *ret);

/*
 * Parent side, for the init's and every exec's process: a SELinux label on a host without
 * SELinux is HUSK_ERR_INVALID with runc's words ("selinux label is specified in config,
 * but selinux is disabled or not supported"), as runc's validateProcessSpec refuses it at
 * create and at exec. An AppArmor profile is never refused here: runc writes it whether or
 * not AppArmor is enabled, and the kernel's answer is the error.
 */
int husk__lsm_check_process(const struct husk_lsm *lsm, const char *selinux_label,
			    struct husk_err *err);

/*
 * The directory fd (O_PATH, the caller's) of the procfs at path: refused (EXDEV) when it
 * is not a procfs, so that nothing mounted over it takes the attribute writes (runc's
 * EnsureProcHandle). Child side.
 */
int husk__lsm_proc_open(const char *path, struct husk_err *err);

/*
 * The label of the keyrings we create next (go-selinux SetKeyLabel): <proc>/self/attr/
 * keycreate. Nothing is written for an empty label without SELinux; a kernel without the
 * file is fine, and so is EACCES when the label is empty. Child side, single-threaded.
 */
int husk__lsm_set_keycreate(int proc, const struct husk_lsm *lsm, const char *label,
			    struct husk_err *err);

/*
 * AppArmor's profile for our next execve (runc's ApplyProfile): "exec <profile>" to
 * <proc>/self/attr/apparmor/exec, or to <proc>/self/attr/exec without that file. Written
 * whenever profile is not empty, whether or not AppArmor is enabled (runc 1.1.5 does not
 * ask: a host without it fails with the kernel's EINVAL). Errors carry runc's words:
 * "apparmor failed to apply profile: write /proc/self/attr/exec: Invalid argument". The
 * file must be on the procfs proc is (EXDEV). Child side, single-threaded.
 */
int husk__lsm_apparmor_exec(int proc, const char *profile, struct husk_err *err);

/*
 * SELinux's label for our next execve (go-selinux SetExecLabel): label to <proc>/thread-self/
 * attr/exec; an empty one is written (a reset) only where SELinux is enabled. The file must
 * be on the procfs proc is (EXDEV). Child side, single-threaded.
 */
int husk__lsm_selinux_exec(int proc, const struct husk_lsm *lsm, const char *label,
			   struct husk_err *err);

/*
 * Where SELinux is enabled, label the file fd (O_PATH is fine) with label as its
 * security.selinux (go-selinux's label.SetFileLabel: runc labels mqueue's mount point so);
 * nothing otherwise, or for an empty label. Child side.
 */
int husk__lsm_file_label(int fd, const struct husk_lsm *lsm, const char *label,
			 struct husk_err *err);

/*
 * Filesystem data with SELinux's mount label: data followed by context="label" (comma-
 * separated; go-selinux's FormatMountLabel, quoted because a label's categories hold
 * commas). Returns a malloc'ed copy of data (NULL data: none) when label is NULL or empty,
 * NULL in *ret when both are empty; -ENOMEM. Pure.
 */
int husk__lsm_mount_data(const char *data, const char *label, char **ret);
