/*
 * husk check: what of the host matters to husk's speed, one line each. Reads /proc/mounts
 * and changes nothing (favordynmods in particular is only reported: turning it on cannot be
 * undone until reboot, so it is the operator's call).
 */
#include <mntent.h>
#include <stdio.h>
#include <string.h>

#include <linux/magic.h>
#include <sys/vfs.h>

#include "cli.h"
#include "husk/cleanup.h"

int cli_cmd_check(struct cli *cli, int argc, char **argv)
{
	char v2mnt[4096] = "";
	bool fdm = false;
	int v1 = 0;

	(void)cli;
	if (argc > 1)
		return cli_usage(argv[0], "unexpected argument '%s'", argv[1]);
	FILE *f = setmntent("/proc/mounts", "re");
	if (!f) {
		perror("husk check: /proc/mounts");
		return CLI_EXIT_ERROR;
	}
	for (struct mntent *m; (m = getmntent(f));) {
		if (strcmp(m->mnt_type, "cgroup") == 0) {
			v1++;
		} else if (strcmp(m->mnt_type, "cgroup2") == 0 && !v2mnt[0]) {
			(void)snprintf(v2mnt, sizeof(v2mnt), "%s", m->mnt_dir);
			fdm = hasmntopt(m, "favordynmods") != NULL;
		}
	}
	(void)endmntent(f);

	struct statfs sfs;
	bool pure_v2 = statfs("/sys/fs/cgroup", &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC;
	if (pure_v2)
		(void)printf("cgroup: v2 (unified at %s)\n", v2mnt);
	else if (v2mnt[0])
		(void)printf("cgroup: hybrid (%d v1 hierarchies, unified at %s)\n", v1, v2mnt);
	else
		(void)printf("cgroup: v1 (%d hierarchies)\n", v1);
	if (!v2mnt[0]) {
		(void)printf("favordynmods: n/a (no cgroup2 mount)\n");
		return CLI_EXIT_OK;
	}
	(void)printf("favordynmods: %s on %s\n", fdm ? "on" : "off", v2mnt);
	if (!fdm)
		(void)printf("  without it, every move of a process into a cgroup by pid "
			     "(cgroup.procs, in\n"
			     "  any hierarchy, v1 included) waits for an RCU grace period, about "
			     "10 ms or\n"
			     "  more on a busy host. husk's own creates and execs do not (their "
			     "children join\n"
			     "  by clone3 CLONE_INTO_CGROUP and by moving themselves); runc, "
			     "systemd and other\n"
			     "  tools do. `mount -o remount,favordynmods %s` turns it on, and it "
			     "stays on\n"
			     "  until reboot (it makes fork and exit a little dearer).\n",
			     v2mnt);
	return CLI_EXIT_OK;
}
