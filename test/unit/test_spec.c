/* husk_spec_parse on real and realistic config.json files, field by field. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sys/resource.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "husk/log.h"
#include "husk/spec.h"
#include "test_spec_util.h"

TestSuite(spec, .timeout = 30);

static struct husk_spec *parse_fixture(const char *name)
{
	size_t len = 0;
	char *json = spec_fixture(name, &len);
	struct husk_err err = {0};
	struct husk_spec *spec = NULL;
	int r = husk_spec_parse(json, len, &spec, &err);
	cr_assert(eq(int, r, 0), "%s: %s", name, err.msg);
	free(json);
	return spec;
}

static void assert_strv(char **v, size_t n, const char *const *want, size_t n_want)
{
	cr_assert(eq(sz, n, n_want));
	for (size_t i = 0; i < n; i++)
		cr_assert(eq(str, v[i], (char *)want[i]), "element %zu", i);
	/* strv arrays are also NULL-terminated (execve-ready) */
	cr_assert(v[n] == NULL);
}

#define ASSERT_STRV(v, n, ...)                                         \
	do {                                                           \
		static const char *const _w[] = {__VA_ARGS__};         \
		assert_strv((v), (n), _w, sizeof(_w) / sizeof(_w[0])); \
	} while (0)

static const char *const default_caps[] = {
	"CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",	   "CAP_FOWNER",
	"CAP_MKNOD",   "CAP_NET_RAW",	   "CAP_SETGID",	   "CAP_SETUID",
	"CAP_SETFCAP", "CAP_SETPCAP",	   "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
	"CAP_KILL",    "CAP_AUDIT_WRITE",
};

/* The config.json `ctr run busybox sleep 30` (containerd 1.6.20, Debian 12) wrote. */
Test(spec, ctr_run_busybox)
{
	struct husk_spec *s = parse_fixture("ctr-run-busybox.json");

	cr_assert(eq(str, s->oci_version, "1.0.2-dev"));
	struct husk_process *p = s->process;
	cr_assert(p != NULL);
	cr_assert(not(p->terminal));
	cr_assert(not(p->console_height.set));
	ASSERT_STRV(p->args, p->n_args, "sleep", "30");
	ASSERT_STRV(p->env, p->n_env,
		    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	cr_assert(eq(str, p->cwd, "/"));
	cr_assert(eq(u32, p->user.uid, 0));
	cr_assert(eq(u32, p->user.gid, 0));
	cr_assert(not(p->user.umask.set));
	cr_assert(eq(sz, p->user.n_additional_gids, 1));
	cr_assert(eq(u32, p->user.additional_gids[0], 0));
	cr_assert(p->capabilities.set);
	assert_strv(p->capabilities.bounding, p->capabilities.n_bounding, default_caps, 14);
	assert_strv(p->capabilities.effective, p->capabilities.n_effective, default_caps, 14);
	assert_strv(p->capabilities.permitted, p->capabilities.n_permitted, default_caps, 14);
	cr_assert(p->capabilities.inheritable == NULL);
	cr_assert(eq(sz, p->capabilities.n_ambient, 0));
	cr_assert(eq(sz, p->n_rlimits, 1));
	cr_assert(eq(int, p->rlimits[0].resource, RLIMIT_NOFILE));
	cr_assert(eq(u64, p->rlimits[0].hard, 1024));
	cr_assert(eq(u64, p->rlimits[0].soft, 1024));
	cr_assert(p->no_new_privileges);
	cr_assert(not(p->oom_score_adj.set));

	cr_assert(eq(str, s->root_path, "rootfs"));
	cr_assert(not(s->root_readonly));
	cr_assert(s->hostname == NULL);
	cr_assert(eq(sz, s->n_mounts, 7));
	cr_assert(eq(str, s->mounts[0].destination, "/proc"));
	cr_assert(eq(str, s->mounts[0].type, "proc"));
	cr_assert(eq(str, s->mounts[0].source, "proc"));
	ASSERT_STRV(s->mounts[0].options, s->mounts[0].n_options, "nosuid", "noexec", "nodev");
	cr_assert(eq(str, s->mounts[2].destination, "/dev/pts"));
	ASSERT_STRV(s->mounts[2].options, s->mounts[2].n_options, "nosuid", "noexec", "newinstance",
		    "ptmxmode=0666", "mode=0620", "gid=5");
	cr_assert(eq(str, s->mounts[6].destination, "/run"));
	cr_assert(eq(sz, s->n_annotations, 0));
	for (size_t k = 0; k < _HUSK_HOOK_KIND_MAX; k++)
		cr_assert(eq(sz, s->hooks.n[k], 0));

	struct husk_linux *lx = s->linux_;
	cr_assert(lx != NULL);
	cr_assert(eq(str, lx->cgroups_path, "/spec/specfix"));
	cr_assert(eq(sz, lx->n_namespaces, 5));
	static const enum husk_ns_type want_ns[] = {HUSK_NS_PID, HUSK_NS_IPC, HUSK_NS_UTS,
						    HUSK_NS_MOUNT, HUSK_NS_NETWORK};
	for (size_t i = 0; i < 5; i++) {
		cr_assert(eq(int, lx->namespaces[i].type, want_ns[i]));
		cr_assert(lx->namespaces[i].path == NULL);
	}
	cr_assert(husk_spec_namespace(s, HUSK_NS_USER) == NULL);
	cr_assert(husk_spec_namespace(s, HUSK_NS_NETWORK) == &lx->namespaces[4]);
	cr_assert(lx->resources != NULL);
	cr_assert(eq(sz, lx->resources->n_devices, 10));
	cr_assert(not(lx->resources->devices[0].allow));
	cr_assert(eq(chr, lx->resources->devices[0].type, 'a'));
	cr_assert(not(lx->resources->devices[0].major.set));
	cr_assert(eq(str, lx->resources->devices[0].access, "rwm"));
	cr_assert(lx->resources->devices[1].allow);
	cr_assert(eq(chr, lx->resources->devices[1].type, 'c'));
	cr_assert(eq(i64, lx->resources->devices[1].major.v, 1));
	cr_assert(eq(i64, lx->resources->devices[1].minor.v, 3));
	cr_assert(not(lx->resources->has_memory));
	cr_assert(lx->resources->has_cpu);
	cr_assert(eq(u64, lx->resources->cpu.shares.v, 1024));
	cr_assert(not(lx->resources->cpu.quota.set));
	cr_assert(not(lx->resources->pids_limit.set));
	cr_assert(eq(sz, lx->n_masked_paths, 10));
	cr_assert(eq(str, lx->masked_paths[0], "/proc/acpi"));
	cr_assert(eq(sz, lx->n_readonly_paths, 5));
	cr_assert(eq(str, lx->readonly_paths[4], "/proc/sysrq-trigger"));
	cr_assert(lx->seccomp == NULL);
	cr_assert(lx->rootfs_propagation == NULL);
	cr_assert(lx->personality == NULL);
	cr_assert(eq(sz, lx->n_uid_mappings, 0));
	husk_spec_free(s);
}

/* ctr run --seccomp --tty --read-only --memory-limit --cpu-quota --mount --device ... */
Test(spec, ctr_run_with_options)
{
	struct husk_spec *s = parse_fixture("ctr-run-seccomp.json");
	struct husk_process *p = s->process;

	cr_assert(p->terminal);
	cr_assert(eq(str, p->cwd, "/tmp"));
	ASSERT_STRV(p->env, p->n_env,
		    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "FOO=bar",
		    "TERM=xterm");
	cr_assert(eq(sz, p->capabilities.n_bounding, 15));
	cr_assert(eq(str, p->capabilities.bounding[14], "CAP_SYS_ADMIN"));
	cr_assert(s->root_readonly);
	struct husk_mount *m = &s->mounts[s->n_mounts - 1];
	cr_assert(eq(str, m->destination, "/data"));
	cr_assert(eq(str, m->type, "bind"));
	cr_assert(eq(str, m->source, "/tmp"));
	ASSERT_STRV(m->options, m->n_options, "rbind", "ro");
	cr_assert(eq(str, (char *)husk_spec_annotation(s, "io.example/x"), "y"));
	cr_assert(husk_spec_annotation(s, "io.example/nope") == NULL);

	struct husk_linux *lx = s->linux_;
	cr_assert(eq(sz, lx->n_devices, 1));
	cr_assert(eq(str, lx->devices[0].path, "/dev/fuse"));
	cr_assert(eq(chr, lx->devices[0].type, 'c'));
	cr_assert(eq(i64, lx->devices[0].major, 10));
	cr_assert(eq(i64, lx->devices[0].minor, 229));
	cr_assert(lx->devices[0].file_mode.set);
	cr_assert(eq(u64, lx->devices[0].file_mode.v, 0600));
	cr_assert(eq(u64, lx->devices[0].uid.v, 0));
	struct husk_resources *res = lx->resources;
	cr_assert(res->has_memory);
	cr_assert(res->memory.limit.set);
	cr_assert(eq(i64, res->memory.limit.v, 67108864));
	cr_assert(not(res->memory.swap.set));
	cr_assert(not(res->memory.swappiness.set));
	cr_assert(res->has_cpu);
	cr_assert(eq(u64, res->cpu.shares.v, 1024));
	cr_assert(eq(i64, res->cpu.quota.v, 50000));
	cr_assert(eq(u64, res->cpu.period.v, 100000));
	cr_assert(not(res->cpu.realtime_runtime.set));
	cr_assert(res->cpu.cpus == NULL);
	/* {"allow": true, "type": "c", "major": 136, "access": "rwm"}: minor is a wildcard */
	struct husk_device_rule *pts = &res->devices[8];
	cr_assert(pts->allow);
	cr_assert(eq(i64, pts->major.v, 136));
	cr_assert(not(pts->minor.set));
	cr_assert(eq(str, lx->rootfs_propagation, "rslave"));
	struct husk_seccomp *sc = lx->seccomp;
	cr_assert(sc != NULL);
	cr_assert(eq(str, sc->default_action, "SCMP_ACT_ERRNO"));
	cr_assert(not(sc->default_errno_ret.set));
	ASSERT_STRV(sc->architectures, sc->n_architectures, "SCMP_ARCH_X86_64", "SCMP_ARCH_X86",
		    "SCMP_ARCH_X32");
	cr_assert(eq(sz, sc->n_syscalls, 10));
	cr_assert(eq(str, sc->syscalls[0].names[0], "accept"));
	cr_assert(eq(str, sc->syscalls[0].action, "SCMP_ACT_ALLOW"));
	husk_spec_free(s);
}

struct log_capture {
	int lines;
	enum husk_log_level level;
	char last[1024];
};

static void capture(enum husk_log_level level, const char *msg, void *userdata)
{
	struct log_capture *c = userdata;
	c->lines++;
	c->level = level;
	strncpy(c->last, msg, sizeof(c->last) - 1);
}

Test(spec, cri_sandbox)
{
	struct log_capture log = {0};
	husk_set_log_hook(capture, &log);
	struct husk_spec *s = parse_fixture("cri-sandbox.json");
	husk_set_log_hook(NULL, NULL);

	cr_assert(eq(int, log.lines, 0), "unexpected log line: %s", log.last);
	cr_assert(eq(str, (char *)husk_spec_annotation(s, "io.kubernetes.cri.container-type"),
		     "sandbox"));
	cr_assert(eq(str, (char *)husk_spec_annotation(s, "io.kubernetes.cri.sandbox-id"),
		     "5e2b1c0d4f3a"));
	cr_assert(eq(sz, s->n_annotations, 10));
	cr_assert(eq(str, s->hostname, "nginx-7c5ddbdf54-x2kqv"));
	cr_assert(eq(u32, s->process->user.uid, 65535));
	cr_assert(eq(sz, s->process->user.n_additional_gids, 0));
	cr_assert(s->process->oom_score_adj.set);
	cr_assert(eq(i64, s->process->oom_score_adj.v, -998));
	const struct husk_namespace *net = husk_spec_namespace(s, HUSK_NS_NETWORK);
	cr_assert(net != NULL);
	cr_assert(eq(str, net->path, "/var/run/netns/cni-1c6b2a8e-3f4d-5e6f-7a8b-9c0d1e2f3a4b"));
	cr_assert(husk_spec_namespace(s, HUSK_NS_PID)->path == NULL);
	struct husk_linux *lx = s->linux_;
	cr_assert(eq(sz, lx->n_sysctl, 2));
	cr_assert(eq(str, lx->sysctl[0].key, "net.ipv4.ip_unprivileged_port_start"));
	cr_assert(eq(str, lx->sysctl[0].value, "0"));
	cr_assert(eq(str, lx->sysctl[1].value, "0 2147483647"));
	struct husk_seccomp *sc = lx->seccomp;
	cr_assert(sc->default_errno_ret.set);
	cr_assert(eq(u64, sc->default_errno_ret.v, 1));
	cr_assert(eq(sz, sc->n_syscalls, 4));
	cr_assert(eq(sz, sc->syscalls[2].n_args, 1));
	cr_assert(eq(u64, sc->syscalls[2].args[0].value, 4294967295u));
	cr_assert(eq(str, sc->syscalls[2].args[0].op, "SCMP_CMP_EQ"));
	cr_assert(eq(u64, sc->syscalls[3].args[0].value, 2114060288));
	cr_assert(eq(str, sc->syscalls[3].args[0].op, "SCMP_CMP_MASKED_EQ"));
	cr_assert(eq(str, s->mounts[5].source,
		     "/run/containerd/io.containerd.grpc.v1.cri/sandboxes/5e2b1c0d4f3a/shm"));
	husk_spec_free(s);
}

Test(spec, cri_container_parses_its_lsm_fields_without_a_warning)
{
	struct log_capture log = {0};
	husk_set_log_hook(capture, &log);
	struct husk_spec *s = parse_fixture("cri-container.json");
	husk_set_log_hook(NULL, NULL);

	/* The native engine applies them (native/lsm.c); the OCI engine passes them on. */
	cr_assert(eq(int, log.lines, 0));
	cr_assert(eq(str, s->process->apparmor_profile, "cri-containerd.apparmor.d"));
	cr_assert(eq(str, s->linux_->mount_label, "system_u:object_r:container_file_t:s0:c1,c2"));
	cr_assert(eq(str, (char *)husk_spec_annotation(s, "io.kubernetes.cri.container-type"),
		     "container"));
	ASSERT_STRV(s->process->args, s->process->n_args, "/docker-entrypoint.sh", "nginx", "-g",
		    "daemon off;");
	cr_assert(eq(sz, s->process->user.n_additional_gids, 2));
	cr_assert(eq(u32, s->process->user.additional_gids[0], 101));
	cr_assert(eq(str, husk_spec_namespace(s, HUSK_NS_IPC)->path, "/proc/4242/ns/ipc"));
	cr_assert(husk_spec_namespace(s, HUSK_NS_MOUNT)->path == NULL);
	struct husk_resources *res = s->linux_->resources;
	cr_assert(eq(i64, res->memory.swap.v, 134217728));
	cr_assert(eq(sz, res->n_hugepage_limits, 2));
	cr_assert(eq(str, res->hugepage_limits[1].page_size, "1GB"));
	cr_assert(eq(u64, res->hugepage_limits[1].limit, 0));
	cr_assert(eq(sz, res->n_unified, 2));
	cr_assert(eq(str, res->unified[0].key, "memory.oom.group"));
	cr_assert(eq(str, res->unified[1].value, "max"));
	husk_spec_free(s);
}

Test(spec, ns_type_names)
{
	static const char *const names[] = {"pid", "network", "mount",	"ipc",
					    "uts", "user",    "cgroup", "time"};
	for (int t = 0; t < _HUSK_NS_TYPE_MAX; t++)
		cr_assert(eq(str, (char *)husk_ns_type_to_string(t), (char *)names[t]));
	cr_assert(husk_ns_type_to_string(_HUSK_NS_TYPE_MAX) == NULL);
	cr_assert(husk_ns_type_to_string((enum husk_ns_type) - 1) == NULL);
}

Test(spec, destructors_take_null)
{
	cr_assert(husk_spec_free(NULL) == NULL);
	cr_assert(husk_process_free(NULL) == NULL);
	cr_assert(husk_resources_free(NULL) == NULL);
	cr_assert(husk_spec_annotation(NULL, "a") == NULL);
	cr_assert(husk_spec_namespace(NULL, HUSK_NS_PID) == NULL);
}

Test(spec, minimal_spec_leaves_everything_absent)
{
	struct husk_spec *s = spec_parse_ok("{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"}}");

	cr_assert(s->process == NULL);
	cr_assert(s->linux_ == NULL);
	cr_assert(s->mounts == NULL);
	cr_assert(eq(sz, s->n_mounts, 0));
	cr_assert(s->annotations == NULL);
	cr_assert(husk_spec_namespace(s, HUSK_NS_PID) == NULL);
	husk_spec_free(s);
}

/* Go's encoding/json decodes null as the zero value; so do we. */
Test(spec, null_means_absent)
{
	struct husk_spec *s = spec_parse_ok(
		"{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\",\"readonly\":null},"
		"\"hostname\":null,\"mounts\":null,\"annotations\":null,\"hooks\":null,"
		"\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\",\"env\":null,\"capabilities\":null,"
		"\"oomScoreAdj\":null,\"user\":{\"uid\":0,\"gid\":0,\"umask\":null}},"
		"\"linux\":{\"resources\":{\"memory\":{\"limit\":null}},\"seccomp\":null}}");

	cr_assert(s->hostname == NULL);
	cr_assert(not(s->process->capabilities.set));
	cr_assert(not(s->process->oom_score_adj.set));
	cr_assert(not(s->process->user.umask.set));
	cr_assert(s->linux_->resources->has_memory);
	cr_assert(not(s->linux_->resources->memory.limit.set));
	cr_assert(s->linux_->seccomp == NULL);
	husk_spec_free(s);
}

/* The buffer is len bytes, not a C string: what follows must not be read. */
Test(spec, buffer_is_not_nul_terminated)
{
	static const char doc[] = "{\"ociVersion\":\"1\",\"root\":{\"path\":\"r\"}}garbage";
	struct husk_err err = {0};
	struct husk_spec *s = NULL;

	cr_assert(eq(int, husk_spec_parse(doc, strlen(doc) - 7, &s, &err), 0), "%s", err.msg);
	husk_spec_free(s);
	s = NULL;
	cr_assert(eq(int, husk_spec_parse(doc, strlen(doc), &s, &err), -EINVAL));
	cr_assert(eq(str, err.msg,
		     "invalid JSON at line 1, column 45: end of file expected near 'garbage'"));
}

Test(spec, mount_id_mappings)
{
	static const char js[] =
		"{\"ociVersion\":\"1.1.0\",\"root\":{\"path\":\"r\"},\"mounts\":[{\"destination\":"
		"\"/m\",\"source\":\"/s\",\"options\":[\"rbind\",\"idmap\"],\"uidMappings\":[{"
		"\"containerID\":0,\"hostID\":1000,\"size\":5}],\"gidMappings\":[{\"containerID\":"
		"1,\"hostID\":2000,\"size\":6},{\"containerID\":10,\"hostID\":3000,\"size\":1}]}]}";
	static const char bad[] =
		"{\"ociVersion\":\"1.1.0\",\"root\":{\"path\":\"r\"},\"mounts\":[{\"destination\":"
		"\"/m\",\"uidMappings\":[{\"containerID\":0,\"hostID\":1000}]}]}";
	struct husk_spec *spec = NULL;
	struct husk_err err = {0};

	cr_assert(eq(int, husk_spec_parse(js, strlen(js), &spec, &err), 0), "%s", err.msg);
	const struct husk_mount *m = &spec->mounts[0];
	cr_assert(eq(sz, m->n_uid_mappings, (size_t)1));
	cr_assert(eq(u32, m->uid_mappings[0].host_id, 1000));
	cr_assert(eq(u32, m->uid_mappings[0].size, 5));
	cr_assert(eq(sz, m->n_gid_mappings, (size_t)2));
	cr_assert(eq(u32, m->gid_mappings[1].container_id, 10));
	husk_spec_free(spec);
	spec = NULL;
	cr_assert(eq(int, husk_spec_parse(bad, strlen(bad), &spec, &err), -EINVAL));
	cr_assert(strstr(err.msg, "mounts[0].uidMappings[0]") != NULL, "%s", err.msg);
	cr_assert(eq(ptr, spec, NULL));
}

/* A device rule's -1 is the wildcard, as absent: runc writes '*' for both. */
Test(spec, device_rule_minus_one_is_a_wildcard)
{
	const char *j = "{\"devices\": [{\"allow\": true, \"type\": \"c\", \"major\": -1, "
			"\"minor\": 3, \"access\": \"r\"}, {\"allow\": true, \"type\": \"b\", "
			"\"major\": 8, \"minor\": -1}]}";
	struct husk_resources *r = NULL;
	struct husk_err err = {0};

	cr_assert(eq(int, husk_resources_parse(j, strlen(j), &r, &err), 0), "%s", err.msg);
	cr_assert(eq(sz, r->n_devices, 2));
	cr_assert(not(r->devices[0].major.set));
	cr_assert(eq(i64, r->devices[0].minor.v, 3));
	cr_assert(eq(i64, r->devices[1].major.v, 8));
	cr_assert(not(r->devices[1].minor.set));
	husk_resources_free(r);
}
