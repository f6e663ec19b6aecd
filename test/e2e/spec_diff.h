/*
 * The differential spec suite's data: cases (a patch of the base config.json and a busybox
 * probe script) and the allow-list of cases where husk may still differ from runc, each
 * with its reason. The harness is test_spec_diff.c.
 */
#pragma once

#include <stddef.h>

enum {
	SD_TTY = 1 << 0,    /* process.terminal: run through `ctr run -t` on a real pty */
	SD_HOST = 1 << 1,   /* append the host-side file <case dir>/host.log (hooks write it) */
	SD_NO_LSM = 1 << 2, /* err holds only where the host runs neither AppArmor nor SELinux;
			     * elsewhere the two outcomes are compared without it */
};

/*
 * One case. Strings may hold templates, replaced per runtime before use:
 *   @DIR@    the case's host dir (rootfs/, src/ with file "f", srcfile, host.log)
 *   @ID@     the container id          @NS@     the containerd namespace
 *   @NSPID@  a host process in its own net, uts, ipc and cgroup namespaces, whose
 *            children get a pid namespace of their own (all joined by path)
 *   @BLKMAJ@, @BLKMIN@  the block device holding the case dir (blkio throttles)
 *   @SYS:p@  the host's value of /proc/sys/p (for sysctls that must not reach the host)
 */
struct sd_case {
	const char *name;  /* unique, [a-z0-9.-] */
	const char *patch; /* JSON object, ' for ", merged into the base config */
	const char *probe; /* sh -c script run as process.args unless the patch sets args */
	unsigned flags;	   /* SD_* */
	const char *err;   /* when set: both runs fail and ctr's stderr contains this text */
};

/* A case whose difference is known, and why. */
struct sd_allow {
	const char *name;
	const char *reason;
};

extern const struct sd_case sd_cases[];
extern const size_t sd_n_cases;
extern const struct sd_allow sd_allowed[];
extern const size_t sd_n_allowed;
