/*
 * husk check: what of the host matters to husk's speed, one line each. Reports the cgroup
 * layout the runtime detects (through its mountinfo parser) and changes nothing
 * (favordynmods in particular is only reported: turning it on cannot be undone until
 * reboot, so it is the operator's call).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "husk/cgroup.h"

int cli_cmd_check(struct cli *cli, int argc, char **argv)
{
	struct husk_cgroup_layout l;
	struct husk_err err = {0};

	(void)cli;
	if (argc > 1)
		return cli_usage(argv[0], "unexpected argument '%s'", argv[1]);
	if (husk_cgroup_layout(&l, &err) < 0)
		return cli_fail("check", &err);
	const char *v2mnt = l.v2_mount;
	bool fdm = l.favordynmods;
	if (strcmp(l.mode, "v2") == 0)
		(void)printf("cgroup: v2 (unified at %s)\n", v2mnt);
	else if (v2mnt)
		(void)printf("cgroup: hybrid (%u v1 hierarchies, unified at %s)\n", l.n_v1, v2mnt);
	else
		(void)printf("cgroup: v1 (%u hierarchies)\n", l.n_v1);
	if (!v2mnt) {
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
