/*
 * The cases of the differential spec suite (see test_spec_diff.c for how they run): every
 * field of the OCI runtime spec that runc 1.1 honours, one container per case. Patches
 * write ' for " so that they read as JSON; probes print what the container sees.
 */
#include "spec_diff.h"

/* What most probes print. */
#define STATUS	"grep -E '^(Cap|NoNewPrivs|Seccomp:)' /proc/self/status; "
#define MNT(d)	"grep -E '^[^ ]+ [^ ]+ [^ ]+ [^ ]+ " d " ' /proc/self/mountinfo; "
#define CG(f)	"cat /sys/fs/cgroup/" f "; "
#define RC(cmd) cmd " 2>/dev/null; echo \"" cmd ": $?\"; "

/* What a host without AppArmor or SELinux answers (runc 1.1.5's words). */
#define APPARMOR_ERR                                                                       \
	"unable to apply apparmor profile: apparmor failed to apply profile: write /proc/" \
	"self/attr/exec: invalid argument"
#define SELINUX_ERR	"selinux label is specified in config, but selinux is disabled or not supported"
#define MOUNT_LABEL_ERR "invalid argument"

/* A bind mount of the case's src dir on /mnt with these options. */
#define BIND(opts)                                                                     \
	"{'+mounts': [{'destination': '/mnt', 'type': 'bind', 'source': '@DIR@/src', " \
	"'options': [" opts "]}]}"
#define TMPFS(opts)                                                                                \
	"{'+mounts': [{'destination': '/t', 'type': 'tmpfs', 'source': 'tmpfs', 'options': [" opts \
	"]}]}"

/*
 * A hook of kind that logs "kind <status>" to the host log: the status is cut out of the
 * state on stdin ("status":"created") without quotes, which the patch cannot hold.
 */
#define HOOK_LOG(kind)                                                                        \
	"{'path': '/bin/sh', 'args': ['sh', '-c', 's=$(tr -d [:space:]); s=${s#*status???}; " \
	"echo " kind " ${s%%[!a-z]*} >> @DIR@/host.log']}"
#define HOOKS1(kind) "{'hooks': {'" kind "': [" HOOK_LOG(kind) "]}}"
#define HOOK_SH(kind, script, more)                                                                \
	"{'hooks': {'" kind "': [{'path': '/bin/sh', 'args': ['sh', '-c', '" script "']" more "}]" \
	"}}"

#define RES(json) "{'linux': {'resources': " json "}}"
#define SECCOMP(rules)                                                              \
	"{'linux': {'seccomp': {'defaultAction': 'SCMP_ACT_ALLOW', "                \
	"'architectures': ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'], " \
	"'syscalls': [" rules "]}}}"
#define NS_LIST(list)	 "'linux': {'namespaces': [" list "]}"
#define NS_WITHOUT(list) "{" NS_LIST(list) "}"
#define ALL_NS_BUT_PID                                                                        \
	"{'type': 'network'}, {'type': 'ipc'}, {'type': 'uts'}, {'type': 'mount'}, {'type': " \
	"'cgroup'}"
#define ALL_NS_BUT_NET \
	"{'type': 'pid'}, {'type': 'ipc'}, {'type': 'uts'}, {'type': 'mount'}, {'type': 'cgroup'}"
#define ALL_NS_BUT_IPC                                                                        \
	"{'type': 'pid'}, {'type': 'network'}, {'type': 'uts'}, {'type': 'mount'}, {'type': " \
	"'cgroup'}"
#define ALL_NS_BUT_UTS                                                                        \
	"{'type': 'pid'}, {'type': 'network'}, {'type': 'ipc'}, {'type': 'mount'}, {'type': " \
	"'cgroup'}"
#define ALL_NS_BUT_CG                                                                       \
	"{'type': 'pid'}, {'type': 'network'}, {'type': 'ipc'}, {'type': 'uts'}, {'type': " \
	"'mount'}"
#define USERNS_MAPS                                                              \
	"'uidMappings': [{'containerID': 0, 'hostID': 100000, 'size': 65536}], " \
	"'gidMappings': [{'containerID': 0, 'hostID': 100000, 'size': 65536}]"

#define CAPS3 "'CAP_CHOWN', 'CAP_NET_BIND_SERVICE', 'CAP_KILL'"
#define ALL_CAPS                                                                                 \
	"['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', "  \
	"'CAP_KILL', 'CAP_SETGID', 'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', "         \
	"'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW', "          \
	"'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', " \
	"'CAP_SYS_PTRACE', 'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', "   \
	"'CAP_SYS_RESOURCE', 'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', "   \
	"'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', "            \
	"'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', "                 \
	"'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE']"

const struct sd_case sd_cases[] = {
	/* ---- process ---- */
	{"baseline", NULL, "echo hello; id; pwd; hostname; umask; env | sort; " STATUS},
	{"process.exit-code", NULL, "exit 42"},
	{"process.args.exec-form", "{'process': {'args': ['/bin/echo', 'a b', 'c']}}", NULL},
	{"process.args.missing-abs", "{'process': {'args': ['/bin/no-such-program']}}", NULL, 0,
	 "no such file or directory"},
	{"process.args.missing-path", "{'process': {'args': ['no-such-program']}}", NULL, 0,
	 "executable file not found in $PATH"},
	{"process.args.directory", "{'process': {'args': ['/bin']}}", NULL, 0, "permission denied"},
	{"process.env.custom", "{'process': {'env': ['PATH=/bin', 'FOO=bar baz', 'EMPTY=']}}",
	 "env | sort"},
	{"process.env.duplicate", "{'process': {'env': ['PATH=/bin', 'A=1', 'A=2']}}", "echo A=$A"},
	{"process.env.home-given", "{'process': {'env': ['PATH=/bin', 'HOME=/tmp']}}",
	 "echo HOME=$HOME"},
	{"process.env.home-root", NULL, "echo HOME=$HOME"},
	{"process.env.home-nobody", "{'process': {'user': {'uid': 1000, 'gid': 1000}}}",
	 "echo HOME=$HOME"},
	{"process.env.home-no-passwd-entry", "{'process': {'user': {'uid': 4242, 'gid': 4242}}}",
	 "echo HOME=$HOME"},
	{"process.env.no-path",
	 "{'process': {'env': ['A=1'], 'args': ['/bin/sh', '-c', 'env | "
	 "sort']}}",
	 NULL},
	{"process.cwd.tmp", "{'process': {'cwd': '/tmp'}}", "pwd"},
	{"process.cwd.missing", "{'process': {'cwd': '/does/not/exist'}}", "pwd"},
	{"process.cwd.relative", "{'process': {'cwd': 'tmp'}}", "pwd", 0, "absolute path"},
	{"process.cwd.file", "{'process': {'cwd': '/bin/busybox'}}", "pwd"},
	{"process.cwd.symlink", "{'process': {'cwd': '/bin/sh'}}", "pwd"},
	{"process.user.uid1000", "{'process': {'user': {'uid': 1000, 'gid': 1000}}}",
	 "id; " STATUS},
	{"process.user.gid-only", "{'process': {'user': {'uid': 0, 'gid': 1000}}}", "id"},
	{"process.user.additional-gids",
	 "{'process': {'user': {'uid': 1000, 'gid': 1000, 'additionalGids': [10, 20, 1000]}}}",
	 "id; grep Groups /proc/self/status"},
	{"process.user.no-additional-gids", "{'process': {'user': {'uid': 0, 'gid': 0}}}",
	 "grep Groups /proc/self/status"},
	{"process.user.umask-077", "{'process': {'user': {'uid': 0, 'gid': 0, 'umask': 63}}}",
	 "umask; touch /tmp/x; stat -c %a /tmp/x"},
	{"process.user.umask-000", "{'process': {'user': {'uid': 0, 'gid': 0, 'umask': 0}}}",
	 "umask; mkdir /tmp/d; stat -c %a /tmp/d"},
	{"process.user.umask-default", NULL, "umask; touch /tmp/x; stat -c %a /tmp/x"},
	{"process.user.uid-not-in-passwd", "{'process': {'user': {'uid': 4242, 'gid': 4243}}}",
	 "id; " STATUS},
	{"process.rlimits.nofile",
	 "{'process': {'rlimits': [{'type': 'RLIMIT_NOFILE', 'hard': "
	 "256, 'soft': 128}]}}",
	 "ulimit -n; ulimit -Hn"},
	{"process.rlimits.many",
	 "{'process': {'rlimits': [{'type': 'RLIMIT_NPROC', 'hard': 300, 'soft': 200}, "
	 "{'type': 'RLIMIT_CORE', 'hard': 0, 'soft': 0}, {'type': 'RLIMIT_STACK', 'hard': "
	 "16777216, 'soft': 8388608}, {'type': 'RLIMIT_MEMLOCK', 'hard': 65536, 'soft': 65536}, "
	 "{'type': 'RLIMIT_MSGQUEUE', 'hard': 1000, 'soft': 1000}, {'type': 'RLIMIT_NICE', "
	 "'hard': 10, 'soft': 10}, {'type': 'RLIMIT_RTPRIO', 'hard': 5, 'soft': 5}, {'type': "
	 "'RLIMIT_SIGPENDING', 'hard': 100, 'soft': 100}, {'type': 'RLIMIT_AS', 'hard': "
	 "4294967296, 'soft': 4294967296}, {'type': 'RLIMIT_FSIZE', 'hard': 1048576, 'soft': "
	 "1048576}, {'type': 'RLIMIT_CPU', 'hard': 100, 'soft': 100}, {'type': 'RLIMIT_DATA', "
	 "'hard': 4294967296, 'soft': 4294967296}, {'type': 'RLIMIT_RSS', 'hard': 1000000, "
	 "'soft': 1000000}, {'type': 'RLIMIT_LOCKS', 'hard': 50, 'soft': 50}]}}",
	 "cat /proc/self/limits"},
	{"process.rlimits.none", "{'process': {'rlimits': null}}", "cat /proc/self/limits"},
	{"process.rlimits.unknown",
	 "{'process': {'rlimits': [{'type': 'RLIMIT_BOGUS', 'hard': "
	 "1, 'soft': 1}]}}",
	 "ulimit -n", 0, "RLIMIT_BOGUS"},
	{"process.rlimits.soft-above-hard",
	 "{'process': {'rlimits': [{'type': 'RLIMIT_NOFILE', "
	 "'hard': 100, 'soft': 200}]}}",
	 "ulimit -n"},
	{"process.rlimits.raise-above-host",
	 "{'process': {'rlimits': [{'type': "
	 "'RLIMIT_NOFILE', 'hard': 1048576, 'soft': 1048576}]}}",
	 "ulimit -n; ulimit -Hn"},
	{"process.caps.none", "{'process': {'capabilities': null}}", STATUS},
	{"process.caps.empty-sets",
	 "{'process': {'capabilities': {'bounding': [], 'effective': "
	 "[], 'permitted': [], 'inheritable': [], 'ambient': []}}}",
	 STATUS},
	{"process.caps.bounding-only",
	 "{'process': {'capabilities': {'bounding': [" CAPS3
	 "], 'effective': null, 'permitted': null}}}",
	 STATUS},
	{"process.caps.ambient",
	 "{'process': {'user': {'uid': 1000, 'gid': 1000}, 'capabilities': {'bounding': [" CAPS3
	 "], 'effective': [" CAPS3 "], 'permitted': [" CAPS3 "], 'inheritable': [" CAPS3
	 "], 'ambient': ['CAP_NET_BIND_SERVICE']}}}",
	 STATUS},
	{"process.caps.ambient-not-inheritable",
	 "{'process': {'capabilities': {'bounding': [" CAPS3 "], 'effective': [" CAPS3
	 "], 'permitted': [" CAPS3 "], 'ambient': ['CAP_NET_BIND_SERVICE']}}}",
	 STATUS},
	{"process.caps.inheritable", "{'process': {'capabilities': {'inheritable': [" CAPS3 "]}}}",
	 STATUS},
	{"process.caps.unknown",
	 "{'process': {'capabilities': {'bounding': ['CAP_BOGUS', "
	 "'CAP_KILL'], 'effective': ['CAP_KILL'], 'permitted': "
	 "['CAP_KILL']}}}",
	 STATUS},
	{"process.caps.sys-admin",
	 "{'process': {'capabilities': {'bounding': ['CAP_SYS_ADMIN'], "
	 "'effective': ['CAP_SYS_ADMIN'], 'permitted': "
	 "['CAP_SYS_ADMIN']}}}",
	 STATUS RC("mount -t tmpfs none /tmp")},
	{"process.caps.chown-dropped",
	 "{'process': {'user': {'uid': 0, 'gid': 0}, "
	 "'capabilities': {'bounding': ['CAP_KILL'], 'effective': "
	 "['CAP_KILL'], 'permitted': ['CAP_KILL']}}}",
	 "touch /tmp/x; " RC("chown 1000 /tmp/x")},
	{"process.nnp.false", "{'process': {'noNewPrivileges': false}}", STATUS},
	{"process.nnp.true-nonroot",
	 "{'process': {'noNewPrivileges': true, 'user': {'uid': 1000, 'gid': 1000}}}", STATUS},
	{"process.oom.500", "{'process': {'oomScoreAdj': 500}}", "cat /proc/self/oom_score_adj"},
	{"process.oom.1000", "{'process': {'oomScoreAdj': 1000}}", "cat /proc/self/oom_score_adj"},
	{"process.oom.0", "{'process': {'oomScoreAdj': 0}}", "cat /proc/self/oom_score_adj"},
	{"process.oom.negative", "{'process': {'oomScoreAdj': -500}}",
	 "cat /proc/self/oom_score_adj"},
	{"process.oom.unset", NULL, "cat /proc/self/oom_score_adj"},
	{"process.oom.min", "{'process': {'oomScoreAdj': -1000}}", "cat /proc/self/oom_score_adj"},
	/* AppArmor and SELinux: applied where the host runs them; on a host without, runc
	 * 1.1.5 writes the profile anyway (the kernel refuses it) and refuses the label. */
	{"process.apparmor-profile", "{'process': {'apparmorProfile': 'unconfined'}}",
	 "cat /proc/self/attr/current 2>/dev/null; echo ran", SD_NO_LSM, APPARMOR_ERR},
	{"process.apparmor-profile.cri-default",
	 "{'process': {'apparmorProfile': 'cri-containerd.apparmor.d'}}", "echo ran", SD_NO_LSM,
	 APPARMOR_ERR},
	{"process.apparmor-profile.empty", "{'process': {'apparmorProfile': ''}}", "echo ran"},
	{"process.selinux-label",
	 "{'process': {'selinuxLabel': 'system_u:system_r:svirt_lxc_net_t:s0'}}", "echo ran",
	 SD_NO_LSM, SELINUX_ERR},
	{"process.selinux-label.empty", "{'process': {'selinuxLabel': ''}}", "echo ran"},
	{"process.caps.all",
	 "{'process': {'capabilities': {'bounding': " ALL_CAPS ", 'effective': " ALL_CAPS
	 ", 'permitted': " ALL_CAPS ", 'inheritable': " ALL_CAPS "}}}",
	 STATUS},
	{"process.terminal", "{'process': {'terminal': true}}",
	 "tty >/dev/null && echo tty; [ -t 0 ] && echo stdin-tty; ls -l /proc/self/fd/0 | grep "
	 "-c pts",
	 SD_TTY},
	{"process.terminal.console-size",
	 "{'process': {'terminal': true, 'consoleSize': {'height': 30, 'width': 100}}}",
	 "stty size", SD_TTY},
	{"process.terminal.devconsole", "{'process': {'terminal': true}}",
	 "stat -c '%F %t:%T' /dev/console; " MNT("/dev/console"), SD_TTY},
	{"process.no-terminal.devconsole", NULL, RC("test -e /dev/console")},

	/* ---- root ---- */
	{"root.readonly", "{'root': {'readonly': true}}", RC("touch /x") MNT("/")},
	{"root.readonly-tmpfs-tmp",
	 "{'root': {'readonly': true}, '+mounts': [{'destination': '/tmp', 'type': 'tmpfs', "
	 "'source': 'tmpfs', 'options': ['nosuid']}]}",
	 RC("touch /tmp/x") RC("touch /x")},
	{"root.writable", NULL, RC("touch /x") MNT("/")},
	{"root.path-missing", "{'root': {'path': '@DIR@/no-rootfs'}}", "echo ran"},

	/* ---- hostname, domainname ---- */
	{"hostname.custom", "{'hostname': 'box1'}", "hostname; cat /proc/sys/kernel/hostname"},
	{"hostname.empty", "{'hostname': ''}", "hostname"},
	{"hostname.unset", "{'hostname': null}", "hostname"},
	{"domainname.custom", "{'domainname': 'example.org'}", "cat /proc/sys/kernel/domainname"},
	{"domainname.unset", NULL, "cat /proc/sys/kernel/domainname"},
	{"hostname.without-uts", "{'hostname': 'box1', " NS_LIST(ALL_NS_BUT_UTS) "}", "hostname"},
	{"domainname.without-uts",
	 "{'hostname': null, 'domainname': 'x', 'linux': "
	 "{'namespaces': [" ALL_NS_BUT_UTS "]}}",
	 "hostname"},

	/* ---- mounts ---- */
	{"mounts.baseline-order", NULL, "cat /proc/self/mountinfo"},
	{"mounts.baseline-set", NULL, "sort -k5 /proc/self/mountinfo"},
	{"mounts.bind.dir", BIND("'rbind'"), "cat /mnt/f; " MNT("/mnt")},
	{"mounts.bind.nonrecursive", BIND("'bind'"), "cat /mnt/f; " MNT("/mnt")},
	{"mounts.bind.ro", BIND("'rbind', 'ro'"), RC("touch /mnt/g") MNT("/mnt")},
	{"mounts.bind.rw-explicit", BIND("'rbind', 'rw'"), RC("touch /mnt/g") MNT("/mnt")},
	{"mounts.bind.nosuid-nodev-noexec", BIND("'rbind', 'nosuid', 'nodev', 'noexec'"),
	 MNT("/mnt")},
	{"mounts.bind.suid-dev-exec", BIND("'rbind', 'suid', 'dev', 'exec'"), MNT("/mnt")},
	{"mounts.bind.noatime", BIND("'rbind', 'noatime'"), MNT("/mnt")},
	{"mounts.bind.strictatime", BIND("'rbind', 'strictatime'"), MNT("/mnt")},
	{"mounts.bind.nodiratime", BIND("'rbind', 'nodiratime'"), MNT("/mnt")},
	{"mounts.bind.relatime", BIND("'rbind', 'relatime'"), MNT("/mnt")},
	{"mounts.bind.norelatime", BIND("'rbind', 'norelatime'"), MNT("/mnt")},
	{"mounts.bind.sync-dirsync", BIND("'rbind', 'sync', 'dirsync'"), MNT("/mnt")},
	{"mounts.bind.mand", BIND("'rbind', 'nomand'"), MNT("/mnt")},
	{"mounts.bind.private", BIND("'rbind', 'private'"), MNT("/mnt")},
	{"mounts.bind.rprivate", BIND("'rbind', 'rprivate'"), MNT("/mnt")},
	{"mounts.bind.slave", BIND("'rbind', 'slave'"), MNT("/mnt")},
	{"mounts.bind.rslave", BIND("'rbind', 'rslave'"), MNT("/mnt")},
	{"mounts.bind.shared", BIND("'rbind', 'shared'"), MNT("/mnt")},
	{"mounts.bind.rshared", BIND("'rbind', 'rshared'"), MNT("/mnt")},
	{"mounts.bind.unbindable", BIND("'rbind', 'unbindable'"), MNT("/mnt")},
	{"mounts.bind.runbindable", BIND("'rbind', 'runbindable'"), MNT("/mnt")},
	{"mounts.bind.file",
	 "{'+mounts': [{'destination': '/etc/srcfile', 'type': 'bind', 'source': '@DIR@/srcfile', "
	 "'options': ['bind']}]}",
	 "cat /etc/srcfile; " MNT("/etc/srcfile")},
	{"mounts.bind.file-new-dir",
	 "{'+mounts': [{'destination': '/new/dir/file', 'type': 'bind', 'source': "
	 "'@DIR@/srcfile', 'options': ['bind', 'ro']}]}",
	 "cat /new/dir/file; stat -c '%F %a' /new/dir; " MNT("/new/dir/file")},
	{"mounts.bind.dev-null",
	 "{'+mounts': [{'destination': '/etc/hostname', 'type': 'bind', 'source': '/dev/null', "
	 "'options': ['bind']}]}",
	 "stat -c '%F %t:%T' /etc/hostname"},
	{"mounts.bind.missing-source",
	 "{'+mounts': [{'destination': '/mnt', 'type': 'bind', 'source': '@DIR@/nope', "
	 "'options': ['rbind']}]}",
	 "true", 0, "no such file or directory"},
	{"mounts.bind.no-type",
	 "{'+mounts': [{'destination': '/mnt', 'source': '@DIR@/src', 'options': ['rbind']}]}",
	 "cat /mnt/f; " MNT("/mnt")},
	{"mounts.bind.nested",
	 "{'+mounts': [{'destination': '/a', 'type': 'tmpfs', 'source': 'tmpfs'}, "
	 "{'destination': '/a/b', 'type': 'bind', 'source': '@DIR@/src', 'options': ['bind']}]}",
	 "cat /a/b/f; " MNT("/a") MNT("/a/b")},
	{"mounts.bind.over-etc",
	 "{'+mounts': [{'destination': '/etc', 'type': 'bind', 'source': '@DIR@/src', "
	 "'options': ['rbind', 'ro']}]}",
	 "ls /etc; " MNT("/etc")},
	{"mounts.idmap",
	 "{'+mounts': [{'destination': '/mnt', 'type': 'bind', 'source': '@DIR@/src', "
	 "'options': ['rbind'], 'uidMappings': [{'containerID': 0, 'hostID': 1000, 'size': 1}], "
	 "'gidMappings': [{'containerID': 0, 'hostID': 1000, 'size': 1}]}]}",
	 "stat -c '%u:%g' /mnt/f; " MNT("/mnt")},
	{"mounts.relative-destination",
	 "{'+mounts': [{'destination': 'mnt', 'type': 'bind', 'source': '@DIR@/src', "
	 "'options': ['rbind']}]}",
	 "cat /mnt/f"},
	{"mounts.tmpfs.basic", TMPFS(""), MNT("/t") "stat -c %a /t"},
	{"mounts.tmpfs.size-mode", TMPFS("'size=1m', 'mode=700'"), MNT("/t") "stat -c %a /t"},
	{"mounts.tmpfs.uid-gid", TMPFS("'uid=1000', 'gid=1000'"), MNT("/t") "stat -c %u:%g /t"},
	{"mounts.tmpfs.ro", TMPFS("'ro'"), MNT("/t") RC("touch /t/x")},
	{"mounts.tmpfs.flags", TMPFS("'nosuid', 'nodev', 'noexec', 'noatime'"), MNT("/t")},
	{"mounts.tmpfs.new-dest",
	 "{'+mounts': [{'destination': '/x/y/z', 'type': 'tmpfs', 'source': 'tmpfs'}]}",
	 MNT("/x/y/z") "stat -c %a /x /x/y"},
	{"mounts.tmpfs.over-file",
	 "{'+mounts': [{'destination': '/etc/passwd', 'type': 'tmpfs', 'source': 'tmpfs'}]}",
	 "true"},
	{"mounts.bad-type",
	 "{'+mounts': [{'destination': '/t', 'type': 'nosuchfs', 'source': "
	 "'none'}]}",
	 "true"},
	{"mounts.sysfs.rw",
	 "{'mounts': [{'destination': '/proc', 'type': 'proc', 'source': 'proc'}, "
	 "{'destination': '/sys', 'type': 'sysfs', 'source': 'sysfs', 'options': ['nosuid']}]}",
	 MNT("/sys")},
	{"mounts.cgroup.rw",
	 "{'+mounts': [{'destination': '/sys/fs/cgroup', 'type': 'cgroup', 'source': 'cgroup', "
	 "'options': ['nosuid', 'noexec', 'nodev', 'relatime', 'rw']}]}",
	 "grep -E ' /sys/fs/cgroup(/pids|/memory)? ' /proc/self/mountinfo"},
	{"mounts.proc-only",
	 "{'mounts': [{'destination': '/proc', 'type': 'proc', 'source': 'proc'}]}",
	 "cat /proc/self/mountinfo; ls /dev | sort"},
	{"mounts.mqueue", NULL, MNT("/dev/mqueue")},
	{"mounts.devpts", NULL, MNT("/dev/pts") "stat -c '%F %a' /dev/ptmx"},
	{"mounts.shm", NULL, MNT("/dev/shm")},
	{"mounts.tmpfs.sticky", TMPFS("'mode=1777'"), MNT("/t") "stat -c %a /t"},
	{"mounts.tmpfs.nr-inodes", TMPFS("'nr_inodes=100', 'size=64k'"), MNT("/t")},
	{"mounts.mqueue.extra",
	 "{'+mounts': [{'destination': '/mq', 'type': 'mqueue', 'source': 'mqueue', 'options': "
	 "['nosuid', 'nodev', 'noexec']}]}",
	 MNT("/mq")},
	{"mounts.proc.extra",
	 "{'+mounts': [{'destination': '/proc2', 'type': 'proc', 'source': 'proc', 'options': "
	 "['nosuid', 'nodev', 'noexec']}]}",
	 MNT("/proc2")},
	{"mounts.bind.source-symlink",
	 "{'+mounts': [{'destination': '/mnt', 'type': 'bind', 'source': '@DIR@/rootfs/bin/sh', "
	 "'options': ['bind']}]}",
	 "stat -c %F /mnt; " MNT("/mnt")},

	/* ---- hooks (host-side log: kind and the state's status) ---- */
	{"hooks.prestart", HOOKS1("prestart"), "echo ran", SD_HOST},
	{"hooks.createRuntime", HOOKS1("createRuntime"), "echo ran", SD_HOST},
	{"hooks.createContainer", HOOKS1("createContainer"), "echo ran", SD_HOST},
	{"hooks.startContainer",
	 HOOK_SH("startContainer", "read -r s; echo started > /tmp/sc; hostname >> /tmp/sc", ""),
	 "cat /tmp/sc"},
	{"hooks.poststart", HOOKS1("poststart"), "echo ran", SD_HOST},
	{"hooks.poststop", HOOKS1("poststop"), "echo ran", SD_HOST},
	{"hooks.order",
	 "{'hooks': {'prestart': [" HOOK_LOG("prestart") "], 'createRuntime': [" HOOK_LOG(
		 "createRu"
		 "ntime") "], 'createContainer': [" HOOK_LOG("createContainer") "], 'poststart': "
										"[" HOOK_LOG(
											"posts"
											"tart") "],"
												" '"
												"po"
												"st"
												"st"
												"op"
												"':"
												" "
												"[" HOOK_LOG(
													"poststo"
													"p") "]}"
													     "}",
	 "echo ran", SD_HOST},
	{"hooks.args-env",
	 HOOK_SH("prestart", "echo $0 $1 $FOO >> @DIR@/host.log", ", 'env': ['FOO=bar']"),
	 "echo ran", SD_HOST},
	{"hooks.prestart-fails", HOOK_SH("prestart", "exit 3", ""), "echo ran"},
	{"hooks.createRuntime-fails", HOOK_SH("createRuntime", "exit 3", ""), "echo ran"},
	{"hooks.poststart-fails", HOOK_SH("poststart", "exit 3", ""), "echo ran"},
	{"hooks.poststop-fails", HOOK_SH("poststop", "exit 3", ""), "echo ran"},
	{"hooks.timeout", HOOK_SH("prestart", "sleep 10", ", 'timeout': 1"), "echo ran"},
	{"hooks.missing-binary", "{'hooks': {'prestart': [{'path': '/no/such/hook'}]}}",
	 "echo ran"},

	/* ---- namespaces ---- */
	{"ns.pid-host", NS_WITHOUT(ALL_NS_BUT_PID), "[ $$ -eq 1 ] && echo pid1 || echo not-pid1"},
	/* Not a count of /proc's pids: the reference's container now and then shows one more,
	 * a transient process of its own. */
	{"ns.pid-new", NULL, "echo $$; cat /proc/1/comm"},
	{"ns.net-host", NS_WITHOUT(ALL_NS_BUT_NET),
	 "[ \"$(readlink /proc/self/ns/net)\" = \"$(readlink /proc/1/ns/net)\" ]; echo $?; ls "
	 "/sys/class/net | grep -c lo"},
	{"ns.net-new", NULL, "ls /sys/class/net; cat /proc/net/dev | wc -l"},
	{"ns.ipc-host", NS_WITHOUT(ALL_NS_BUT_IPC), "ls /dev/mqueue | wc -l"},
	{"ns.uts-host", "{'hostname': null, " NS_LIST(ALL_NS_BUT_UTS) "}", "hostname"},
	{"ns.cgroup-host", NS_WITHOUT(ALL_NS_BUT_CG),
	 "grep -E ':(pids|memory):' /proc/self/cgroup"},
	{"ns.cgroup-new", NULL, "grep -E ':(pids|memory):' /proc/self/cgroup"},
	{"ns.net-path",
	 "{'linux': {'namespaces': [{'type': 'pid'}, {'type': 'network', 'path': "
	 "'/proc/@NSPID@/ns/net'}, {'type': 'ipc'}, {'type': 'uts'}, {'type': 'mount'}, "
	 "{'type': 'cgroup'}]}}",
	 "ls /sys/class/net"},
	{"ns.uts-path",
	 "{'hostname': null, 'linux': {'namespaces': [{'type': 'pid'}, {'type': 'network'}, "
	 "{'type': 'ipc'}, {'type': 'uts', 'path': '/proc/@NSPID@/ns/uts'}, {'type': 'mount'}, "
	 "{'type': 'cgroup'}]}}",
	 "hostname"},
	{"ns.ipc-path",
	 "{'linux': {'namespaces': [{'type': 'pid'}, {'type': 'network'}, {'type': 'ipc', "
	 "'path': '/proc/@NSPID@/ns/ipc'}, {'type': 'uts'}, {'type': 'mount'}, {'type': "
	 "'cgroup'}]}}",
	 "[ \"$(readlink /proc/self/ns/ipc)\" = \"$(readlink /proc/1/ns/ipc)\" ]; echo $?"},
	{"ns.path-missing",
	 "{'linux': {'namespaces': [{'type': 'pid'}, {'type': 'network', 'path': "
	 "'/proc/no/ns/net'}, {'type': 'ipc'}, {'type': 'uts'}, {'type': 'mount'}]}}",
	 "true", 0, "no such file or directory"},
	{"ns.path-wrong-type",
	 "{'linux': {'namespaces': [{'type': 'pid'}, {'type': 'network', 'path': "
	 "'/proc/@NSPID@/ns/uts'}, {'type': 'ipc'}, {'type': 'uts'}, {'type': 'mount'}]}}",
	 "true"},
	{"ns.user",
	 "{'linux': {'namespaces': [{'type': 'pid'}, {'type': 'network'}, {'type': 'ipc'}, "
	 "{'type': 'uts'}, {'type': 'mount'}, {'type': 'user'}], " USERNS_MAPS "}}",
	 "id; cat /proc/self/uid_map /proc/self/gid_map"},
	{"ns.user-split-maps",
	 "{'linux': {'namespaces': [{'type': 'pid'}, {'type': 'network'}, {'type': 'ipc'}, "
	 "{'type': 'uts'}, {'type': 'mount'}, {'type': 'user'}], 'uidMappings': "
	 "[{'containerID': 0, 'hostID': 200000, 'size': 1}, {'containerID': 1, 'hostID': "
	 "300001, 'size': 65535}], 'gidMappings': [{'containerID': 0, 'hostID': 200000, "
	 "'size': 65536}]}}",
	 "cat /proc/self/uid_map /proc/self/gid_map"},
	{"ns.user-without-maps",
	 "{'linux': {'namespaces': [{'type': 'pid'}, {'type': 'network'}, {'type': 'ipc'}, "
	 "{'type': 'uts'}, {'type': 'mount'}, {'type': 'user'}]}}",
	 "id"},
	{"ns.maps-without-user", "{'linux': {" USERNS_MAPS "}}", "id"},
	{"ns.unknown-type",
	 "{'linux': {'namespaces': [{'type': 'pid'}, {'type': 'mount'}, {'type': 'bogus'}]}}",
	 "true", 0, "bogus"},
	{"ns.pid-path",
	 "{'linux': {'namespaces': [{'type': 'pid', 'path': '/proc/@NSPID@/ns/pid_for_children'}, "
	 "{'type': 'network'}, {'type': 'ipc'}, {'type': 'uts'}, {'type': 'mount'}]}}",
	 "[ $$ -eq 1 ] && echo pid1 || echo not-pid1"},
	{"ns.cgroup-path",
	 "{'linux': {'namespaces': [{'type': 'pid'}, {'type': 'network'}, {'type': 'ipc'}, "
	 "{'type': 'uts'}, {'type': 'mount'}, {'type': 'cgroup', 'path': "
	 "'/proc/@NSPID@/ns/cgroup'}]}}",
	 "grep -E ':pids:' /proc/self/cgroup"},
	{"ns.time",
	 "{'linux': {'namespaces': [{'type': 'pid'}, {'type': 'mount'}, {'type': "
	 "'time'}]}}",
	 "echo ran"},

	/* ---- sysctl ---- */
	{"sysctl.kernel.shm_rmid_forced", "{'linux': {'sysctl': {'kernel.shm_rmid_forced': '1'}}}",
	 "cat /proc/sys/kernel/shm_rmid_forced"},
	{"sysctl.fs.mqueue.msg_max", "{'linux': {'sysctl': {'fs.mqueue.msg_max': '20'}}}",
	 "cat /proc/sys/fs/mqueue/msg_max"},
	{"sysctl.net.unprivileged_port_start",
	 "{'linux': {'sysctl': {'net.ipv4.ip_unprivileged_port_start': '0'}}}",
	 "cat /proc/sys/net/ipv4/ip_unprivileged_port_start"},
	{"sysctl.net.ip_forward", "{'linux': {'sysctl': {'net.ipv4.ip_forward': '1'}}}",
	 "cat /proc/sys/net/ipv4/ip_forward"},
	{"sysctl.kernel.msgmax", "{'linux': {'sysctl': {'kernel.msgmax': '4096'}}}",
	 "cat /proc/sys/kernel/msgmax"},
	{"sysctl.net-in-host-netns",
	 "{'linux': {'sysctl': {'net.ipv4.ip_forward': '@SYS:net/ipv4/ip_forward@'}, "
	 "'namespaces': [" ALL_NS_BUT_NET "]}}",
	 "true"},
	{"sysctl.ipc-in-host-ipcns",
	 "{'linux': {'sysctl': {'kernel.msgmax': '@SYS:kernel/msgmax@'}, 'namespaces': "
	 "[" ALL_NS_BUT_IPC "]}}",
	 "true"},
	{"sysctl.kernel.domainname", "{'linux': {'sysctl': {'kernel.domainname': 'sys.example'}}}",
	 "cat /proc/sys/kernel/domainname"},
	{"sysctl.not-namespaced", "{'linux': {'sysctl': {'vm.swappiness': '@SYS:vm/swappiness@'}}}",
	 "true"},
	{"sysctl.unknown", "{'linux': {'sysctl': {'kernel.no_such_knob': '1'}}}", "true"},
	{"sysctl.slash-form", "{'linux': {'sysctl': {'net/ipv4/ip_forward': '1'}}}",
	 "cat /proc/sys/net/ipv4/ip_forward"},

	/* ---- resources (cgroup v1 files as the container sees them) ---- */
	{"res.memory.limit", RES("{'memory': {'limit': 67108864}}"),
	 CG("memory/memory.limit_in_bytes")},
	{"res.memory.reservation", RES("{'memory': {'reservation': 33554432}}"),
	 CG("memory/memory.soft_limit_in_bytes")},
	{"res.memory.swap", RES("{'memory': {'limit': 67108864, 'swap': 134217728}}"),
	 "cat /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes 2>&1 | sed 's/.*: //'"},
	{"res.memory.swappiness", RES("{'memory': {'swappiness': 10}}"),
	 CG("memory/memory.swappiness")},
	{"res.memory.disable-oom-killer", RES("{'memory': {'disableOOMKiller': true}}"),
	 "grep oom_kill_disable /sys/fs/cgroup/memory/memory.oom_control"},
	{"res.memory.kernel", RES("{'memory': {'kernel': 67108864}}"), "echo ran"},
	{"res.memory.limit-below-usage", RES("{'memory': {'limit': 4096}}"), "echo ran"},
	{"res.memory.unlimited", RES("{'memory': {'limit': -1}}"),
	 CG("memory/memory.limit_in_bytes")},
	{"res.memory.use-hierarchy", RES("{'memory': {'useHierarchy': true}}"),
	 CG("memory/memory.use_hierarchy")},
	{"res.pids.minus-one", RES("{'pids': {'limit': -1}}"), CG("pids/pids.max")},
	{"res.blkio.throttle-read-bps",
	 RES("{'blockIO': {'throttleReadBpsDevice': [{'major': @BLKMAJ@, 'minor': @BLKMIN@, "
	     "'rate': 1048576}]}}"),
	 CG("blkio/blkio.throttle.read_bps_device")},
	{"res.blkio.throttle-write-bps",
	 RES("{'blockIO': {'throttleWriteBpsDevice': [{'major': @BLKMAJ@, 'minor': @BLKMIN@, "
	     "'rate': 2097152}]}}"),
	 CG("blkio/blkio.throttle.write_bps_device")},
	{"res.blkio.throttle-read-iops",
	 RES("{'blockIO': {'throttleReadIOPSDevice': [{'major': @BLKMAJ@, 'minor': @BLKMIN@, "
	     "'rate': 100}]}}"),
	 CG("blkio/blkio.throttle.read_iops_device")},
	{"res.blkio.throttle-write-iops",
	 RES("{'blockIO': {'throttleWriteIOPSDevice': [{'major': @BLKMAJ@, 'minor': @BLKMIN@, "
	     "'rate': 200}]}}"),
	 CG("blkio/blkio.throttle.write_iops_device")},
	{"res.blkio.weight-device",
	 RES("{'blockIO': {'weightDevice': [{'major': @BLKMAJ@, 'minor': @BLKMIN@, 'weight': "
	     "300}]}}"),
	 "echo ran"},
	{"res.cpu.shares", RES("{'cpu': {'shares': 512}}"), CG("cpu/cpu.shares")},
	{"res.cpu.quota-period", RES("{'cpu': {'quota': 50000, 'period': 200000}}"),
	 CG("cpu/cpu.cfs_quota_us") CG("cpu/cpu.cfs_period_us")},
	{"res.cpu.cpus", RES("{'cpu': {'cpus': '0'}}"), CG("cpuset/cpuset.cpus")},
	{"res.cpu.mems", RES("{'cpu': {'mems': '0'}}"), CG("cpuset/cpuset.mems")},
	{"res.cpu.realtime", RES("{'cpu': {'realtimeRuntime': 1000, 'realtimePeriod': 1000000}}"),
	 "cat /sys/fs/cgroup/cpu/cpu.rt_runtime_us 2>&1 | sed 's/.*: //'"},
	{"res.cpu.bad-cpus", RES("{'cpu': {'cpus': '999'}}"), "echo ran"},
	{"res.pids.limit", RES("{'pids': {'limit': 42}}"), CG("pids/pids.max")},
	{"res.pids.unlimited", RES("{'pids': {'limit': 0}}"), CG("pids/pids.max")},
	{"res.blkio.weight", RES("{'blockIO': {'weight': 500}}"), "echo ran"},
	{"res.hugepages", RES("{'hugepageLimits': [{'pageSize': '2MB', 'limit': 2097152}]}"),
	 "echo ran"},
	{"res.network.classid", RES("{'network': {'classID': 1048577}}"), "echo ran"},
	{"res.unified-on-v1", RES("{'unified': {'pids.max': '10'}}"), "echo ran"},
	{"res.devices.deny-all", RES("{'devices': [{'allow': false, 'access': 'rwm'}]}"),
	 CG("devices/devices.list") RC("echo x > /dev/null")},
	{"res.devices.deny-null",
	 RES("{'devices': [{'allow': false, 'type': 'c', 'major': 1, 'minor': 3, 'access': "
	     "'rwm'}]}"),
	 RC("echo x > /dev/null") RC("head -c1 /dev/zero")},
	{"res.devices.allow-all", RES("{'devices': [{'allow': true, 'access': 'rwm'}]}"),
	 CG("devices/devices.list")},
	{"res.devices.wildcard-major",
	 RES("{'devices': [{'allow': false, 'access': 'rwm'}, {'allow': true, 'type': 'c', "
	     "'major': -1, 'minor': 3, 'access': 'r'}]}"),
	 CG("devices/devices.list")},

	/* ---- cgroupsPath ---- */
	{"cgroupsPath.nested", "{'linux': {'cgroupsPath': '/@NS@/@ID@/sub'}}",
	 "grep -E ':pids:' /proc/self/cgroup"},
	{"cgroupsPath.host-view",
	 "{'linux': {'cgroupsPath': '/@NS@/@ID@', 'namespaces': [" ALL_NS_BUT_CG "]}}",
	 "grep -E ':(pids|memory|freezer|name=systemd):' /proc/self/cgroup"},
	{"cgroupsPath.systemd-form", "{'linux': {'cgroupsPath': 'system.slice:@NS@:@ID@'}}",
	 "echo ran"},

	/* ---- devices ---- */
	{"devices.default", NULL,
	 "for f in $(ls /dev | sort); do stat -c '%n %F %t:%T %a %u:%g' /dev/$f; done"},
	{"devices.extra-char",
	 "{'linux': {'devices': [{'path': '/dev/fuse', 'type': 'c', 'major': 10, 'minor': 229, "
	 "'fileMode': 438, 'uid': 0, 'gid': 0}]}}",
	 "stat -c '%n %F %t:%T %a %u:%g' /dev/fuse"},
	{"devices.owner-mode",
	 "{'linux': {'devices': [{'path': '/dev/mynull', 'type': 'c', 'major': 1, 'minor': 3, "
	 "'fileMode': 384, 'uid': 1000, 'gid': 1000}]}}",
	 "stat -c '%n %F %t:%T %a %u:%g' /dev/mynull"},
	{"devices.nested-path",
	 "{'linux': {'devices': [{'path': '/dev/sub/zero', 'type': 'c', 'major': 1, 'minor': "
	 "5}]}}",
	 "stat -c '%n %F %t:%T %a' /dev/sub/zero; stat -c %a /dev/sub"},
	{"devices.fifo",
	 "{'linux': {'devices': [{'path': '/dev/myfifo', 'type': 'p', 'major': 0, 'minor': "
	 "0}]}}",
	 "stat -c '%n %F' /dev/myfifo"},
	{"devices.block",
	 "{'linux': {'devices': [{'path': '/dev/myloop', 'type': 'b', 'major': 7, 'minor': 0, "
	 "'fileMode': 432}]}}",
	 "stat -c '%n %F %t:%T %a' /dev/myloop"},
	{"devices.redefine-null",
	 "{'linux': {'devices': [{'path': '/dev/null', 'type': 'c', 'major': 1, 'minor': 3, "
	 "'fileMode': 384}]}}",
	 "stat -c '%n %F %t:%T %a' /dev/null"},

	/* ---- rootfsPropagation ---- */
	{"rootfsPropagation.private", "{'linux': {'rootfsPropagation': 'private'}}", MNT("/")},
	{"rootfsPropagation.rprivate", "{'linux': {'rootfsPropagation': 'rprivate'}}", MNT("/")},
	{"rootfsPropagation.slave", "{'linux': {'rootfsPropagation': 'slave'}}", MNT("/")},
	{"rootfsPropagation.rslave", "{'linux': {'rootfsPropagation': 'rslave'}}", MNT("/")},
	{"rootfsPropagation.shared", "{'linux': {'rootfsPropagation': 'shared'}}", MNT("/")},
	{"rootfsPropagation.unbindable", "{'linux': {'rootfsPropagation': 'unbindable'}}",
	 MNT("/")},
	{"rootfsPropagation.bogus", "{'linux': {'rootfsPropagation': 'bogus'}}", "true", 0,
	 "bogus"},

	/* ---- maskedPaths, readonlyPaths ---- */
	{"masked.file", "{'linux': {'maskedPaths': ['/etc/passwd']}}",
	 "wc -c < /etc/passwd; " MNT("/etc/passwd")},
	{"masked.dir", "{'linux': {'maskedPaths': ['/etc']}}", "ls /etc | wc -l; " MNT("/etc")},
	{"masked.missing", "{'linux': {'maskedPaths': ['/no/such/path']}}", "echo ran"},
	{"masked.none", "{'linux': {'maskedPaths': [], 'readonlyPaths': []}}",
	 RC("test -r /proc/kcore") RC("touch /proc/sys/kernel/hostname")},
	{"readonly.dir", "{'linux': {'readonlyPaths': ['/tmp']}}", RC("touch /tmp/x") MNT("/tmp")},
	{"readonly.file", "{'linux': {'readonlyPaths': ['/etc/passwd']}}",
	 RC("sh -c 'echo x >> /etc/passwd'") MNT("/etc/passwd")},
	{"readonly.missing", "{'linux': {'readonlyPaths': ['/no/such/path']}}", "echo ran"},
	{"readonly.proc-sys-default", NULL,
	 RC("sh -c 'echo 1 > /proc/sys/kernel/shm_rmid_forced'")},

	/* ---- seccomp ---- */
	{"seccomp.errno",
	 SECCOMP("{'names': ['mkdir', 'mkdirat'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 1}"),
	 "mkdir /tmp/d; echo $?; " STATUS},
	{"seccomp.errno-default-ret",
	 SECCOMP("{'names': ['mkdir', 'mkdirat'], 'action': 'SCMP_ACT_ERRNO'}"),
	 "mkdir /tmp/d 2>&1; echo $?"},
	{"seccomp.errno-enosys",
	 SECCOMP("{'names': ['mkdir', 'mkdirat'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 38}"),
	 "mkdir /tmp/d 2>&1; echo $?"},
	{"seccomp.kill", SECCOMP("{'names': ['mkdir', 'mkdirat'], 'action': 'SCMP_ACT_KILL'}"),
	 "mkdir /tmp/d; echo $?"},
	{"seccomp.kill-process",
	 SECCOMP("{'names': ['mkdir', 'mkdirat'], 'action': 'SCMP_ACT_KILL_PROCESS'}"),
	 "mkdir /tmp/d; echo $?"},
	{"seccomp.kill-thread",
	 SECCOMP("{'names': ['mkdir', 'mkdirat'], 'action': 'SCMP_ACT_KILL_THREAD'}"),
	 "mkdir /tmp/d; echo $?"},
	{"seccomp.trap", SECCOMP("{'names': ['mkdir', 'mkdirat'], 'action': 'SCMP_ACT_TRAP'}"),
	 "mkdir /tmp/d; echo $?"},
	{"seccomp.trace", SECCOMP("{'names': ['mkdir', 'mkdirat'], 'action': 'SCMP_ACT_TRACE'}"),
	 "mkdir /tmp/d 2>&1; echo $?"},
	{"seccomp.log", SECCOMP("{'names': ['mkdir', 'mkdirat'], 'action': 'SCMP_ACT_LOG'}"),
	 "mkdir /tmp/d; echo $?"},
	{"seccomp.allow-only", SECCOMP("{'names': ['getpid'], 'action': 'SCMP_ACT_ALLOW'}"),
	 "echo ran; " STATUS},
	{"seccomp.args",
	 SECCOMP("{'names': ['fchmodat'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 1, 'args': "
		 "[{'index': 2, 'value': 511, 'op': 'SCMP_CMP_EQ'}]}"),
	 "touch /tmp/f; chmod 777 /tmp/f; echo $?; chmod 755 /tmp/f; echo $?"},
	{"seccomp.args-masked-eq",
	 SECCOMP("{'names': ['fchmodat'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 1, 'args': "
		 "[{'index': 2, 'value': 448, 'valueTwo': 448, 'op': 'SCMP_CMP_MASKED_EQ'}]}"),
	 "touch /tmp/f; chmod 700 /tmp/f; echo $?; chmod 055 /tmp/f; echo $?"},
	{"seccomp.unknown-syscall",
	 SECCOMP("{'names': ['no_such_syscall', 'mkdirat', 'mkdir'], 'action': "
		 "'SCMP_ACT_ERRNO', 'errnoRet': 1}"),
	 "mkdir /tmp/d; echo $?"},
	{"seccomp.bad-action", SECCOMP("{'names': ['mkdir'], 'action': 'SCMP_ACT_BOGUS'}"), "true",
	 0, "SCMP_ACT_BOGUS"},
	{"seccomp.default-log",
	 "{'linux': {'seccomp': {'defaultAction': 'SCMP_ACT_LOG', 'syscalls': [{'names': "
	 "['mkdir', 'mkdirat'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 1}]}}}",
	 "mkdir /tmp/d; echo $?; " STATUS},
	{"seccomp.nnp-false-nonroot",
	 "{'process': {'noNewPrivileges': false, 'user': {'uid': 1000, 'gid': 1000}}, "
	 "'linux': {'seccomp': {'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': "
	 "['mkdir', 'mkdirat'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 1}]}}}",
	 "mkdir /tmp/d; echo $?; " STATUS},
	{"seccomp.notify-without-listener",
	 SECCOMP("{'names': ['mkdir', 'mkdirat'], 'action': 'SCMP_ACT_NOTIFY'}"), "echo ran"},
	{"seccomp.flag-log",
	 "{'linux': {'seccomp': {'defaultAction': 'SCMP_ACT_ALLOW', 'flags': "
	 "['SECCOMP_FILTER_FLAG_LOG'], 'syscalls': [{'names': ['mkdir', 'mkdirat'], 'action': "
	 "'SCMP_ACT_ERRNO', 'errnoRet': 1}]}}}",
	 "mkdir /tmp/d; echo $?"},
	{"seccomp.flag-spec-allow",
	 "{'linux': {'seccomp': {'defaultAction': 'SCMP_ACT_ALLOW', 'flags': "
	 "['SECCOMP_FILTER_FLAG_SPEC_ALLOW'], 'syscalls': [{'names': ['mkdir', 'mkdirat'], "
	 "'action': 'SCMP_ACT_ERRNO', 'errnoRet': 1}]}}}",
	 "mkdir /tmp/d; echo $?; grep Speculation_Store /proc/self/status"},

	/* ---- personality ---- */
	{"personality.linux32", "{'linux': {'personality': {'domain': 'LINUX32'}}}", "uname -m"},
	{"personality.linux", "{'linux': {'personality': {'domain': 'LINUX'}}}", "uname -m"},
	{"personality.bogus", "{'linux': {'personality': {'domain': 'BOGUS'}}}", "uname -m"},

	/* ---- misc linux ---- */
	{"linux.mountLabel-empty", "{'linux': {'mountLabel': ''}}", "echo ran"},
	/* runc adds context="..." to its tmpfs (/dev first) whether or not SELinux runs. */
	{"linux.mountLabel",
	 "{'linux': {'mountLabel': 'system_u:object_r:container_file_t:s0:c1,c2'}}", "echo ran", 0,
	 MOUNT_LABEL_ERR},
	{"linux.intelRdt-absent", "{'linux': {'intelRdt': {'closID': 'x'}}}", "echo ran"},
};

const size_t sd_n_cases = sizeof(sd_cases) / sizeof(sd_cases[0]);

/*
 * Cases where husk still differs from runc 1.1.5, each with the reason. The suite warns
 * when a listed case no longer differs, so that its entry can go.
 */
#define MASK_TMPFS                                                                           \
	"husk masks a directory with a tmpfs mounted with size=0 (mountinfo 'ro,size=0k'); " \
	"runc passes no size ('ro')"

const struct sd_allow sd_allowed[] = {
	{"process.caps.unknown",
	 "husk rejects an unknown capability name when the shim starts; runc 1.1.5 ignores it "
	 "with a warning"},
	{"process.terminal.devconsole",
	 "husk: with process.terminal there is no /dev/console; runc bind-mounts the pty slave "
	 "there"},
	{"domainname.custom", "runc 1.1.5 ignores domainname (runc 1.2 sets it); husk sets it"},
	{"domainname.without-uts",
	 "husk refuses domainname without a uts namespace; runc 1.1.5 ignores the field"},
	{"mounts.baseline-order",
	 "husk mounts /dev and /dev/shm before /proc instead of in the spec's order, and applies "
	 "maskedPaths before readonlyPaths (runc: readonly first)"},
	{"mounts.baseline-set",
	 "husk: the /sys/fs/cgroup tmpfs is read-only (runc: rw, only the hierarchies are ro), "
	 "name=systemd's source is 'cgroup' (runc: 'systemd'), and " MASK_TMPFS},
	{"mounts.cgroup.rw",
	 "husk: the /sys/fs/cgroup tmpfs of the default ro mount is read-only (runc: rw); the "
	 "hierarchies are mounted in a different order"},
	{"mounts.proc-only", "husk applies maskedPaths before readonlyPaths; " MASK_TMPFS},
	{"masked.dir", MASK_TMPFS},
	{"mounts.tmpfs.ro",
	 "husk mounts a read-only tmpfs with a read-only superblock (super options 'ro'); runc "
	 "mounts it rw and then makes the mount read-only (super options 'rw')"},
	{"rootfsPropagation.shared",
	 "husk leaves the container's / shared:N with rootfsPropagation shared; runc's / has no "
	 "peer group - being fixed with mount propagation"},
	{"rootfsPropagation.unbindable",
	 "runc 1.1.5 fails Create (mount flags 0x5000: invalid argument); husk makes / "
	 "unbindable and runs"},
	{"hooks.poststart",
	 "runc 1.1.5 runs poststart hooks during create, before the process starts (the "
	 "hook sees status 'created'; fixed in runc 1.2); husk runs them after start, as the "
	 "OCI spec says (status 'running')"},
	{"hooks.poststart-fails",
	 "runc 1.1.5 runs poststart hooks during create, so a failing one fails Create; husk "
	 "runs them after start and only warns, as the OCI spec says"},
	{"hooks.order", "runc 1.1.5 runs poststart hooks during create (see hooks.poststart)"},
	{"ns.user",
	 "husk: with a user namespace the init cannot make mount points in a rootfs owned by "
	 "host root (mount point '/dev/pts': Permission denied); runc runs"},
	{"ns.user-split-maps", "husk: user namespaces fail Create, as in ns.user"},
	{"res.memory.kernel",
	 "husk refuses memory.kernel where the kernel ignores kmem limits (6.x); runc 1.1.5 "
	 "ignores the field"},
	{"res.network.classid",
	 "husk ignores network.classID without a net_cls hierarchy; runc 1.1.5 fails Create "
	 "(cannot set net_cls limit)"},
	{"res.devices.deny-all",
	 "husk's default device rules allow /dev/console (c 5:1) but not /dev/net/tun (c "
	 "10:200); runc 1.1.5 the other way round"},
	{"mounts.bind.sync-dirsync",
	 "husk refuses sync and dirsync on a bind mount at Create (option does not apply to a "
	 "bind mount); runc 1.1.5 ignores them"},
	{"mounts.idmap",
	 "husk refuses a mount's uidMappings without the idmap option; runc 1.1.5 has no "
	 "idmapped mounts and ignores the field"},
	{"res.devices.wildcard-major",
	 "the wildcard (-1) is written as '*' by both; the lists differ only in the default "
	 "rules, as in res.devices.deny-all (husk allows c 5:1, runc c 10:200)"},
	{"devices.redefine-null",
	 "runc 1.1.5 fails Create when linux.devices redefines /dev/null with mode 0600 "
	 "(reopening /dev/null in the container: operation not permitted); husk creates it "
	 "and runs"},
	{"seccomp.flag-log",
	 "runc 1.1.5 refuses linux.seccomp.flags (not yet supported by runc); husk applies "
	 "SECCOMP_FILTER_FLAG_LOG"},
	{"seccomp.flag-spec-allow",
	 "runc 1.1.5 refuses linux.seccomp.flags (not yet supported by runc); husk applies "
	 "SECCOMP_FILTER_FLAG_SPEC_ALLOW"},
	{"process.terminal.console-size",
	 "husk: `stty size` in the container fails on the terminal ('stty: standard input') "
	 "where runc's prints the spec's consoleSize (30 100); seen in most runs since "
	 "21:40, not yet understood"},
	{"personality.linux32",
	 "runc 1.1.5 ignores linux.personality (runc 1.2 applies it); husk applies it"},
	{"personality.bogus",
	 "husk rejects an unknown personality domain when the shim starts; runc 1.1.5 ignores "
	 "linux.personality"},
};

const size_t sd_n_allowed = sizeof(sd_allowed) / sizeof(sd_allowed[0]);
