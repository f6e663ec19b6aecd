/* Every way a spec can be refused, with the exact message (the JSON path comes first). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "husk/spec.h"
#include "test_spec_util.h"

TestSuite(spec_errors, .timeout = 30);

/* Later duplicates of a key win in jansson (as in Go), so a fragment overrides a default. */
#define SPEC(frag)    "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"}," frag "}"
#define PROC(frag)    SPEC("\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\"," frag "}")
#define LINUX(frag)   SPEC("\"linux\":{" frag "}")
#define RES(frag)     LINUX("\"resources\":{" frag "}")
#define SECCOMP(frag) LINUX("\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\"," frag "}")

struct error_case {
	const char *json;
	const char *msg;
};

static void run_cases(const struct error_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct husk_err err = spec_parse_fail(cases[i].json);
		cr_expect(eq(int, err.kind, HUSK_ERR_INVALID), "%s", cases[i].json);
		cr_expect(eq(str, err.msg, (char *)cases[i].msg), "%s", cases[i].json);
	}
}

#define RUN(cases) run_cases((cases), sizeof(cases) / sizeof((cases)[0]))

Test(spec_errors, invalid_json_reports_line_and_column)
{
	static const struct error_case cases[] = {
		{"", "invalid JSON at line 1, column 0: '[' or '{' expected near end of file"},
		{"{\"ociVersion\": \"1\",\n \"root\": {\"path\": \"r\"},\n \"hostname\": }",
		 "invalid JSON at line 3, column 14: unexpected token near '}'"},
		{"{\"a\": tru}", "invalid JSON at line 1, column 9: invalid token near 'tru'"},
		{"{\"a\": \"x\\u0000y\"}",
		 "invalid JSON at line 1, column 16: \\u0000 is not allowed without JSON_ALLOW_NUL "
		 "near '\"x\\u0000y\"'"},
		/* the big-integer path keeps jansson's own rules */
		{"{\"a\": 18446744073709551615, \"b\": \"x\\u0000y\"}",
		 "invalid JSON at line 1, column 36: \\u0000 is not allowed"},
		{"{\"a\": 18446744073709551616}",
		 "invalid JSON at line 1, column 26: too big integer near '18446744073709551616'"},
		{"{\"a\": -9223372036854775809}",
		 "invalid JSON at line 1, column 26: too big negative integer near "
		 "'-9223372036854775809'"},
		{"[1, 2]", "spec: expected object"},
	};
	RUN(cases);
}

Test(spec_errors, top_level)
{
	static const struct error_case cases[] = {
		{"{}", "ociVersion: missing required field"},
		{"{\"ociVersion\": 1}", "ociVersion: expected string"},
		{"{\"ociVersion\": \"1\"}", "root: missing required field"},
		{"{\"ociVersion\": \"1\", \"root\": null}", "root: missing required field"},
		{"{\"ociVersion\": \"1\", \"root\": \"rootfs\"}", "root: expected object"},
		{"{\"ociVersion\": \"1\", \"root\": {}}", "root.path: missing required field"},
		{"{\"ociVersion\": \"1\", \"root\": {\"path\": \"\"}}",
		 "root.path: must not be empty"},
		{"{\"ociVersion\": \"1\", \"root\": {\"path\": \"r\", \"readonly\": \"yes\"}}",
		 "root.readonly: expected boolean"},
		{SPEC("\"hostname\": 5"), "hostname: expected string"},
		{SPEC("\"hostname\": 18446744073709551615"), "hostname: expected string"},
		{SPEC("\"domainname\": []"), "domainname: expected string"},
		{SPEC("\"process\": []"), "process: expected object"},
		{SPEC("\"linux\": true"), "linux: expected object"},
		{SPEC("\"annotations\": []"), "annotations: expected object"},
		{SPEC("\"annotations\": {\"a\": \"b\", \"c\": 1}"),
		 "annotations.c: expected string"},
		{SPEC("\"annotations\": {\"\": \"b\"}"), "annotations: empty key"},
	};
	RUN(cases);
}

Test(spec_errors, mounts)
{
	static const struct error_case cases[] = {
		{SPEC("\"mounts\": {}"), "mounts: expected array"},
		{SPEC("\"mounts\": [{\"destination\": \"/a\"}, 7]"), "mounts[1]: expected object"},
		{SPEC("\"mounts\": [{\"type\": \"tmpfs\"}]"),
		 "mounts[0].destination: missing required field"},
		{SPEC("\"mounts\": [{\"destination\": \"\"}]"),
		 "mounts[0].destination: must not be empty"},
		{SPEC("\"mounts\": [{\"destination\": \"/a\", \"type\": 1}]"),
		 "mounts[0].type: expected string"},
		{SPEC("\"mounts\": [{\"destination\": \"/a\", \"source\": false}]"),
		 "mounts[0].source: expected string"},
		{SPEC("\"mounts\": [{\"destination\": \"/a\", \"options\": \"ro\"}]"),
		 "mounts[0].options: expected array"},
		{SPEC("\"mounts\": [{\"destination\": \"/a\", \"options\": [\"ro\", null]}]"),
		 "mounts[0].options[1]: expected string"},
		{SPEC("\"mounts\": [{\"destination\": \"/a\", \"options\": [\"ro\", \"\"]}]"),
		 "mounts[0].options[1]: empty option"},
		{SPEC("\"mounts\": [{\"destination\": \"/a\", \"options\": [\"ro,nosuid\"]}]"),
		 "mounts[0].options[0]: contains ','"},
	};
	RUN(cases);
}

Test(spec_errors, hooks)
{
	static const struct error_case cases[] = {
		{SPEC("\"hooks\": []"), "hooks: expected object"},
		{SPEC("\"hooks\": {\"prestart\": {}}"), "hooks.prestart: expected array"},
		{SPEC("\"hooks\": {\"poststop\": [{}]}"),
		 "hooks.poststop[0].path: missing required field"},
		{SPEC("\"hooks\": {\"createRuntime\": [{\"path\": \"bin/hook\"}]}"),
		 "hooks.createRuntime[0].path: 'bin/hook' is not an absolute path"},
		{SPEC("\"hooks\": {\"poststart\": [{\"path\": \"/h\", \"args\": [1]}]}"),
		 "hooks.poststart[0].args[0]: expected string"},
		{SPEC("\"hooks\": {\"startContainer\": [{\"path\": \"/h\", \"env\": \"A=1\"}]}"),
		 "hooks.startContainer[0].env: expected array"},
		{SPEC("\"hooks\": {\"createContainer\": [{\"path\": \"/h\", \"timeout\": 0}]}"),
		 "hooks.createContainer[0].timeout: 0 is out of range 1..2147483647"},
		{SPEC("\"hooks\": {\"prestart\": [{\"path\": \"/h\"}, {\"path\": \"/h\", "
		      "\"timeout\": 1.5}]}"),
		 "hooks.prestart[1].timeout: expected integer"},
	};
	RUN(cases);
}

Test(spec_errors, process_basics)
{
	static const struct error_case cases[] = {
		{SPEC("\"process\": {\"cwd\": \"/\"}"), "process.args: missing required field"},
		{PROC("\"args\": []"), "process.args: must not be empty"},
		{PROC("\"args\": [\"sh\", \"-c\", 3]"), "process.args[2]: expected string"},
		{PROC("\"args\": \"sh\""), "process.args: expected array"},
		{SPEC("\"process\": {\"args\": [\"sh\"]}"), "process.cwd: missing required field"},
		{PROC("\"cwd\": \"work\""), "process.cwd: 'work' is not an absolute path"},
		{PROC("\"cwd\": \"\""), "process.cwd: '' is not an absolute path"},
		{PROC("\"env\": [\"A=1\", {}]"), "process.env[1]: expected string"},
		{PROC("\"terminal\": 1"), "process.terminal: expected boolean"},
		{PROC("\"noNewPrivileges\": \"true\""),
		 "process.noNewPrivileges: expected boolean"},
		{PROC("\"oomScoreAdj\": 1001"),
		 "process.oomScoreAdj: 1001 is out of range -1000..1000"},
		{PROC("\"oomScoreAdj\": -1001"),
		 "process.oomScoreAdj: -1001 is out of range -1000..1000"},
		{PROC("\"oomScoreAdj\": 18446744073709551615"),
		 "process.oomScoreAdj: 18446744073709551615 is out of range -1000..1000"},
		{PROC("\"apparmorProfile\": 1"), "process.apparmorProfile: expected string"},
		{PROC("\"selinuxLabel\": []"), "process.selinuxLabel: expected string"},
		{PROC("\"consoleSize\": {\"height\": 24}"),
		 "process.consoleSize.width: missing required field"},
		{PROC("\"consoleSize\": {\"height\": 65536, \"width\": 1}"),
		 "process.consoleSize.height: 65536 is out of range 0..65535"},
	};
	RUN(cases);
}

Test(spec_errors, process_user)
{
	static const struct error_case cases[] = {
		{PROC("\"user\": 0"), "process.user: expected object"},
		{PROC("\"user\": {\"gid\": 0}"), "process.user.uid: missing required field"},
		{PROC("\"user\": {\"uid\": 0}"), "process.user.gid: missing required field"},
		{PROC("\"user\": {\"uid\": -1, \"gid\": 0}"),
		 "process.user.uid: -1 is out of range 0..4294967294"},
		{PROC("\"user\": {\"uid\": 4294967295, \"gid\": 0}"),
		 "process.user.uid: 4294967295 is out of range 0..4294967294"},
		{PROC("\"user\": {\"uid\": \"0\", \"gid\": 0}"),
		 "process.user.uid: expected integer"},
		{PROC("\"user\": {\"uid\": 0, \"gid\": 1e3}"),
		 "process.user.gid: expected integer"},
		{PROC("\"user\": {\"uid\": 0, \"gid\": 0, \"umask\": 512}"),
		 "process.user.umask: 512 is out of range 0..511"},
		{PROC("\"user\": {\"uid\": 0, \"gid\": 0, \"additionalGids\": 5}"),
		 "process.user.additionalGids: expected array"},
		{PROC("\"user\": {\"uid\": 0, \"gid\": 0, \"additionalGids\": [5, -6]}"),
		 "process.user.additionalGids[1]: -6 is out of range 0..4294967294"},
		{PROC("\"user\": {\"uid\": 0, \"gid\": 0, \"additionalGids\": [true]}"),
		 "process.user.additionalGids[0]: expected integer"},
	};
	RUN(cases);
}

Test(spec_errors, process_capabilities_and_rlimits)
{
	static const struct error_case cases[] = {
		{PROC("\"capabilities\": [\"CAP_KILL\"]"), "process.capabilities: expected object"},
		{PROC("\"capabilities\": {\"bounding\": [\"CAP_KILL\", \"CAP_FOO\"]}"),
		 "process.capabilities.bounding[1]: unknown capability 'CAP_FOO'"},
		{PROC("\"capabilities\": {\"effective\": [\"cap_kill\"]}"),
		 "process.capabilities.effective[0]: unknown capability 'cap_kill'"},
		{PROC("\"capabilities\": {\"inheritable\": [\"KILL\"]}"),
		 "process.capabilities.inheritable[0]: unknown capability 'KILL'"},
		{PROC("\"capabilities\": {\"permitted\": [\"CAP_\"]}"),
		 "process.capabilities.permitted[0]: unknown capability 'CAP_'"},
		{PROC("\"capabilities\": {\"ambient\": [\"CAP_12\"]}"),
		 "process.capabilities.ambient[0]: unknown capability 'CAP_12'"},
		{PROC("\"capabilities\": {\"ambient\": [1]}"),
		 "process.capabilities.ambient[0]: expected string"},
		{PROC("\"rlimits\": {}"), "process.rlimits: expected array"},
		{PROC("\"rlimits\": [{\"hard\": 1, \"soft\": 1}]"),
		 "process.rlimits[0].type: missing required field"},
		{PROC("\"rlimits\": [{\"type\": \"RLIMIT_FOO\", \"hard\": 1, \"soft\": 1}]"),
		 "process.rlimits[0].type: unknown rlimit 'RLIMIT_FOO'"},
		{PROC("\"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"soft\": 1}]"),
		 "process.rlimits[0].hard: missing required field"},
		{PROC("\"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"hard\": 1}]"),
		 "process.rlimits[0].soft: missing required field"},
		{PROC("\"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"hard\": -1, \"soft\": 1}]"),
		 "process.rlimits[0].hard: -1 is out of range 0..18446744073709551615"},
		{PROC("\"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"hard\": 1, \"soft\": 2}]"),
		 "process.rlimits[0]: soft limit 2 exceeds hard limit 1"},
		{PROC("\"rlimits\": [{\"type\": \"RLIMIT_CORE\", \"hard\": 1, \"soft\": 1},"
		      "{\"type\": \"RLIMIT_NOFILE\", \"hard\": 1, \"soft\": 1},"
		      "{\"type\": \"RLIMIT_CORE\", \"hard\": 2, \"soft\": 2}]"),
		 "process.rlimits[2].type: duplicate rlimit"},
	};
	RUN(cases);
}

Test(spec_errors, linux_namespaces_mappings_devices)
{
	static const struct error_case cases[] = {
		{LINUX("\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"foo\"}]"),
		 "linux.namespaces[1].type: unknown namespace type 'foo'"},
		{LINUX("\"namespaces\": [{}]"), "linux.namespaces[0].type: missing required field"},
		{LINUX("\"namespaces\": [{\"type\": \"net\"}]"),
		 "linux.namespaces[0].type: unknown namespace type 'net'"},
		{LINUX("\"namespaces\": [{\"type\": \"network\", \"path\": \"proc/1/ns/net\"}]"),
		 "linux.namespaces[0].path: 'proc/1/ns/net' is not an absolute path"},
		{LINUX("\"namespaces\": [{\"type\": \"uts\"}, {\"type\": \"ipc\"}, {\"type\": "
		       "\"uts\"}]"),
		 "linux.namespaces[2].type: duplicate namespace type 'uts'"},
		{LINUX("\"namespaces\": [\"pid\"]"), "linux.namespaces[0]: expected object"},
		{LINUX("\"uidMappings\": [{\"hostID\": 1, \"size\": 1}]"),
		 "linux.uidMappings[0].containerID: missing required field"},
		{LINUX("\"gidMappings\": [{\"containerID\": 0, \"hostID\": 4294967296, \"size\": "
		       "1}]"),
		 "linux.gidMappings[0].hostID: 4294967296 is out of range 0..4294967295"},
		{LINUX("\"gidMappings\": [{\"containerID\": 0, \"hostID\": 0}]"),
		 "linux.gidMappings[0].size: missing required field"},
		{LINUX("\"devices\": [{\"path\": \"/dev/x\", \"type\": \"x\", \"major\": 1, "
		       "\"minor\": 1}]"),
		 "linux.devices[0].type: invalid device type 'x'"},
		{LINUX("\"devices\": [{\"path\": \"/dev/x\", \"type\": \"cc\", \"major\": 1, "
		       "\"minor\": 1}]"),
		 "linux.devices[0].type: invalid device type 'cc'"},
		{LINUX("\"devices\": [{\"path\": \"/dev/x\", \"major\": 1, \"minor\": 1}]"),
		 "linux.devices[0].type: missing required field"},
		{LINUX("\"devices\": [{\"type\": \"c\", \"major\": 1, \"minor\": 1}]"),
		 "linux.devices[0].path: missing required field"},
		{LINUX("\"devices\": [{\"path\": \"dev/x\", \"type\": \"c\", \"major\": 1, "
		       "\"minor\": 1}]"),
		 "linux.devices[0].path: 'dev/x' is not an absolute path"},
		{LINUX("\"devices\": [{\"path\": \"/dev/x\", \"type\": \"b\", \"minor\": 1}]"),
		 "linux.devices[0].major: missing required field"},
		{LINUX("\"devices\": [{\"path\": \"/dev/x\", \"type\": \"u\", \"major\": 1}]"),
		 "linux.devices[0].minor: missing required field"},
		{LINUX("\"devices\": [{\"path\": \"/dev/x\", \"type\": \"c\", \"major\": -1, "
		       "\"minor\": 1}]"),
		 "linux.devices[0].major: -1 is out of range 0..4294967295"},
		{LINUX("\"devices\": [{\"path\": \"/p\", \"type\": \"p\", \"fileMode\": 4096}]"),
		 "linux.devices[0].fileMode: 4096 is out of range 0..4095"},
		{LINUX("\"devices\": [{\"path\": \"/p\", \"type\": \"p\", \"uid\": -2}]"),
		 "linux.devices[0].uid: -2 is out of range 0..4294967294"},
	};
	RUN(cases);
}

Test(spec_errors, linux_paths_sysctl_propagation_personality)
{
	static const struct error_case cases[] = {
		{LINUX("\"cgroupsPath\": 1"), "linux.cgroupsPath: expected string"},
		{LINUX("\"sysctl\": {\"net.ipv4.ip_forward\": 1}"),
		 "linux.sysctl.net.ipv4.ip_forward: expected string"},
		{LINUX("\"sysctl\": {\"net/../../etc\": \"1\"}"),
		 "linux.sysctl: invalid sysctl name 'net/../../etc'"},
		{LINUX("\"sysctl\": {\"/etc/passwd\": \"1\"}"),
		 "linux.sysctl: invalid sysctl name '/etc/passwd'"},
		{LINUX("\"maskedPaths\": [\"/proc/kcore\", \"proc/keys\"]"),
		 "linux.maskedPaths[1]: 'proc/keys' is not an absolute path"},
		{LINUX("\"readonlyPaths\": [\"\"]"),
		 "linux.readonlyPaths[0]: '' is not an absolute path"},
		{LINUX("\"readonlyPaths\": \"/proc\""), "linux.readonlyPaths: expected array"},
		{LINUX("\"rootfsPropagation\": \"rprivat\""),
		 "linux.rootfsPropagation: unknown propagation 'rprivat'"},
		{LINUX("\"rootfsPropagation\": 1"), "linux.rootfsPropagation: expected string"},
		{LINUX("\"personality\": {}"), "linux.personality.domain: missing required field"},
		{LINUX("\"personality\": {\"domain\": \"LINUX64\"}"),
		 "linux.personality.domain: unknown personality domain 'LINUX64'"},
		{LINUX("\"personality\": {\"domain\": \"LINUX\", \"flags\": [1]}"),
		 "linux.personality.flags[0]: expected string"},
		{LINUX("\"mountLabel\": 1"), "linux.mountLabel: expected string"},
		{LINUX("\"resources\": []"), "linux.resources: expected object"},
	};
	RUN(cases);
}

Test(spec_errors, linux_seccomp)
{
	static const struct error_case cases[] = {
		{LINUX("\"seccomp\": {}"), "linux.seccomp.defaultAction: missing required field"},
		{LINUX("\"seccomp\": {\"defaultAction\": \"SCMP_ACT_DENY\"}"),
		 "linux.seccomp.defaultAction: unknown seccomp action 'SCMP_ACT_DENY'"},
		{LINUX("\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"defaultErrnoRet\": "
		       "1}"),
		 "linux.seccomp.defaultErrnoRet: not allowed with action 'SCMP_ACT_ALLOW'"},
		{LINUX("\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": "
		       "65536}"),
		 "linux.seccomp.defaultErrnoRet: 65536 is out of range 0..65535"},
		{SECCOMP("\"architectures\": [\"SCMP_ARCH_X86_64\", \"SCMP_ARCH_Z80\"]"),
		 "linux.seccomp.architectures[1]: unknown seccomp architecture 'SCMP_ARCH_Z80'"},
		{SECCOMP("\"flags\": [\"SECCOMP_FILTER_FLAG_BOGUS\"]"),
		 "linux.seccomp.flags[0]: unknown seccomp flag 'SECCOMP_FILTER_FLAG_BOGUS'"},
		{SECCOMP("\"syscalls\": {}"), "linux.seccomp.syscalls: expected array"},
		{SECCOMP("\"syscalls\": [{\"action\": \"SCMP_ACT_ALLOW\"}]"),
		 "linux.seccomp.syscalls[0].names: missing required field"},
		{SECCOMP("\"syscalls\": [{\"names\": [], \"action\": \"SCMP_ACT_ALLOW\"}]"),
		 "linux.seccomp.syscalls[0].names: must not be empty"},
		{SECCOMP("\"syscalls\": [{\"names\": [\"read\", \"\"], \"action\": "
			 "\"SCMP_ACT_ALLOW\"}]"),
		 "linux.seccomp.syscalls[0].names[1]: empty syscall name"},
		{SECCOMP("\"syscalls\": [{\"names\": [\"read\"]}]"),
		 "linux.seccomp.syscalls[0].action: missing required field"},
		{SECCOMP("\"syscalls\": [{\"names\": [\"read\"], \"action\": \"ALLOW\"}]"),
		 "linux.seccomp.syscalls[0].action: unknown seccomp action 'ALLOW'"},
		{SECCOMP("\"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_KILL\", "
			 "\"errnoRet\": 1}]"),
		 "linux.seccomp.syscalls[0].errnoRet: not allowed with action 'SCMP_ACT_KILL'"},
		{SECCOMP("\"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\", "
			 "\"args\": [{\"value\": 1, \"op\": \"SCMP_CMP_EQ\"}]}]"),
		 "linux.seccomp.syscalls[0].args[0].index: missing required field"},
		{SECCOMP("\"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\", "
			 "\"args\": [{\"index\": 6, \"value\": 1, \"op\": \"SCMP_CMP_EQ\"}]}]"),
		 "linux.seccomp.syscalls[0].args[0].index: 6 is out of range 0..5"},
		{SECCOMP("\"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\", "
			 "\"args\": [{\"index\": 0, \"op\": \"SCMP_CMP_EQ\"}]}]"),
		 "linux.seccomp.syscalls[0].args[0].value: missing required field"},
		{SECCOMP("\"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\", "
			 "\"args\": [{\"index\": 0, \"value\": 1}]}]"),
		 "linux.seccomp.syscalls[0].args[0].op: missing required field"},
		{SECCOMP("\"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\", "
			 "\"args\": [{\"index\": 0, \"value\": 1, \"op\": \"SCMP_CMP_XOR\"}]}]"),
		 "linux.seccomp.syscalls[0].args[0].op: unknown seccomp operator 'SCMP_CMP_XOR'"},
	};
	RUN(cases);
}

Test(spec_errors, linux_resources)
{
	static const struct error_case cases[] = {
		{RES("\"devices\": [{\"access\": \"rwm\"}]"),
		 "linux.resources.devices[0].allow: missing required field"},
		{RES("\"devices\": [{\"allow\": 1}]"),
		 "linux.resources.devices[0].allow: expected boolean"},
		{RES("\"devices\": [{\"allow\": true, \"type\": \"u\"}]"),
		 "linux.resources.devices[0].type: invalid device type 'u'"},
		{RES("\"devices\": [{\"allow\": true, \"access\": \"rwx\"}]"),
		 "linux.resources.devices[0].access: invalid device access 'rwx'"},
		{RES("\"devices\": [{\"allow\": true, \"access\": \"rr\"}]"),
		 "linux.resources.devices[0].access: invalid device access 'rr'"},
		{RES("\"devices\": [{\"allow\": true, \"major\": -2}]"),
		 "linux.resources.devices[0].major: -2 is out of range -1..9223372036854775807"},
		{RES("\"memory\": {\"limit\": -2}"),
		 "linux.resources.memory.limit: -2 is out of range -1..9223372036854775807"},
		{RES("\"memory\": {\"swap\": 9223372036854775808}"),
		 "linux.resources.memory.swap: 9223372036854775808 is out of range "
		 "-1..9223372036854775807"},
		{RES("\"memory\": {\"swappiness\": 101}"),
		 "linux.resources.memory.swappiness: 101 is out of range 0..100"},
		{RES("\"memory\": {\"disableOOMKiller\": 0}"),
		 "linux.resources.memory.disableOOMKiller: expected boolean"},
		{RES("\"memory\": {\"kernelTCP\": \"1\"}"),
		 "linux.resources.memory.kernelTCP: expected integer"},
		{RES("\"cpu\": {\"shares\": -1}"),
		 "linux.resources.cpu.shares: -1 is out of range 0..18446744073709551615"},
		{RES("\"cpu\": {\"quota\": 1.0}"), "linux.resources.cpu.quota: expected integer"},
		{RES("\"cpu\": {\"cpus\": 3}"), "linux.resources.cpu.cpus: expected string"},
		{RES("\"cpu\": {\"idle\": 2}"), "linux.resources.cpu.idle: 2 is out of range 0..1"},
		{RES("\"pids\": {}"), "linux.resources.pids.limit: missing required field"},
		{RES("\"pids\": 5"), "linux.resources.pids: expected object"},
		{RES("\"blockIO\": {\"weight\": 65536}"),
		 "linux.resources.blockIO.weight: 65536 is out of range 0..65535"},
		{RES("\"blockIO\": {\"weightDevice\": [{\"minor\": 0}]}"),
		 "linux.resources.blockIO.weightDevice[0].major: missing required field"},
		{RES("\"blockIO\": {\"throttleReadBpsDevice\": [{\"major\": 8, \"minor\": 0}]}"),
		 "linux.resources.blockIO.throttleReadBpsDevice[0].rate: missing required field"},
		{RES("\"blockIO\": {\"throttleWriteIOPSDevice\": [{\"major\": 8, \"minor\": -1, "
		     "\"rate\": 1}]}"),
		 "linux.resources.blockIO.throttleWriteIOPSDevice[0].minor: -1 is out of range "
		 "0..9223372036854775807"},
		{RES("\"hugepageLimits\": [{\"limit\": 1}]"),
		 "linux.resources.hugepageLimits[0].pageSize: missing required field"},
		{RES("\"hugepageLimits\": [{\"pageSize\": \"../2MB\", \"limit\": 1}]"),
		 "linux.resources.hugepageLimits[0].pageSize: invalid page size '../2MB'"},
		{RES("\"hugepageLimits\": [{\"pageSize\": \"2MB\"}]"),
		 "linux.resources.hugepageLimits[0].limit: missing required field"},
		{RES("\"unified\": {\"memory.max\": 1}"),
		 "linux.resources.unified.memory.max: expected string"},
		{RES("\"unified\": {\"../../cgroup.procs\": \"1\"}"),
		 "linux.resources.unified: invalid cgroup file name '../../cgroup.procs'"},
		{RES("\"unified\": {\"..\": \"1\"}"),
		 "linux.resources.unified: invalid cgroup file name '..'"},
	};
	RUN(cases);
}

/* A path longer than the message buffer is cut, never overflowed. */
Test(spec_errors, long_keys_are_cut)
{
	char json[2048];
	char key[1200];
	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	snprintf(json, sizeof(json), SPEC("\"annotations\": {\"%s\": 1}"), key);
	struct husk_err err = spec_parse_fail(json);
	cr_assert(eq(int, err.kind, HUSK_ERR_INVALID));
	cr_assert(strstr(err.msg, "annotations.kkkk") == err.msg);
	cr_assert(strstr(err.msg, "...: expected string") != NULL, "%s", err.msg);
	cr_assert(strlen(err.msg) < sizeof(err.msg));
}
