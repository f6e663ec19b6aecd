/* Every field of the model once (full.json), the standalone parsers, loading, limits. */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/resource.h>
#include <sys/stat.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "husk/spec.h"
#include "test_spec_util.h"
#include "testutil.h"

TestSuite(spec_full, .timeout = 30);

static struct husk_spec *full(void)
{
	size_t len = 0;
	char *json = spec_fixture("full.json", &len);
	struct husk_err err = {0};
	struct husk_spec *spec = NULL;
	cr_assert(eq(int, husk_spec_parse(json, len, &spec, &err), 0), "%s", err.msg);
	free(json);
	return spec;
}

Test(spec_full, top_level_root_hostname)
{
	struct husk_spec *s = full();
	cr_assert(eq(str, s->oci_version, "1.1.0"));
	cr_assert(eq(str, s->root_path, "/var/lib/husk/rootfs"));
	cr_assert(s->root_readonly);
	cr_assert(eq(str, s->hostname, "slartibartfast"));
	cr_assert(eq(str, s->domainname, "magrathea.example"));
	cr_assert(eq(sz, s->n_annotations, 3));
	cr_assert(eq(str, s->annotations[0].key, "com.example.key1"));
	cr_assert(eq(str, (char *)husk_spec_annotation(s, "com.example.key2"), ""));
	cr_assert(eq(str, s->annotations[2].value, "value3"));
	husk_spec_free(s);
}

Test(spec_full, process)
{
	struct husk_spec *s = full();
	struct husk_process *p = s->process;
	cr_assert(p->terminal);
	cr_assert(p->console_height.set && p->console_width.set);
	cr_assert(eq(u64, p->console_height.v, 24));
	cr_assert(eq(u64, p->console_width.v, 80));
	cr_assert(eq(u32, p->user.uid, 1000));
	cr_assert(eq(u32, p->user.gid, 1001));
	cr_assert(p->user.umask.set);
	cr_assert(eq(u64, p->user.umask.v, 022));
	cr_assert(eq(sz, p->user.n_additional_gids, 3));
	cr_assert(eq(u32, p->user.additional_gids[1], 6));
	cr_assert(eq(u32, p->user.additional_gids[2], 4294967294u));
	cr_assert(eq(sz, p->n_args, 3));
	cr_assert(eq(str, p->args[2], "echo hi"));
	cr_assert(eq(str, p->env[1], "TERM=xterm"));
	cr_assert(eq(str, p->cwd, "/home/user"));
	struct husk_capabilities *c = &p->capabilities;
	cr_assert(eq(sz, c->n_bounding, 3));
	cr_assert(eq(str, c->bounding[2], "CAP_CHECKPOINT_RESTORE"));
	cr_assert(eq(sz, c->n_effective, 1));
	cr_assert(eq(str, c->inheritable[0], "CAP_NET_BIND_SERVICE"));
	cr_assert(eq(sz, c->n_permitted, 2));
	cr_assert(eq(str, c->ambient[0], "CAP_NET_BIND_SERVICE"));
	cr_assert(eq(sz, p->n_rlimits, 3));
	cr_assert(eq(int, p->rlimits[0].resource, RLIMIT_NOFILE));
	cr_assert(eq(u64, p->rlimits[0].hard, 4096));
	cr_assert(eq(u64, p->rlimits[0].soft, 1024));
	/* Go writes RLIM_INFINITY as the uint64 it is; jansson alone would refuse it */
	cr_assert(eq(int, p->rlimits[1].resource, RLIMIT_CORE));
	cr_assert(eq(u64, p->rlimits[1].hard, UINT64_MAX));
	cr_assert(eq(u64, p->rlimits[1].soft, UINT64_MAX));
	cr_assert(eq(u64, p->rlimits[2].hard, UINT64_C(9223372036854775808)));
	cr_assert(p->no_new_privileges);
	cr_assert(eq(i64, p->oom_score_adj.v, -17));
	cr_assert(eq(str, p->apparmor_profile, "acme_secure_profile"));
	cr_assert(eq(str, p->selinux_label, "system_u:system_r:svirt_lxc_net_t:s0:c124,c675"));
	husk_spec_free(s);
}

Test(spec_full, mounts_and_hooks)
{
	struct husk_spec *s = full();
	cr_assert(eq(sz, s->n_mounts, 3));
	/* a relative destination is relative to "/" (OCI, deprecated) */
	cr_assert(eq(str, s->mounts[1].destination, "/data"));
	cr_assert(eq(str, s->mounts[1].options[1], "rw"));
	cr_assert(eq(str, s->mounts[2].destination, "/tmp"));
	cr_assert(s->mounts[2].type == NULL);
	cr_assert(s->mounts[2].source == NULL);
	cr_assert(eq(sz, s->mounts[2].n_options, 0));

	struct husk_hooks *h = &s->hooks;
	cr_assert(eq(sz, h->n[HUSK_HOOK_PRESTART], 2));
	struct husk_hook *pre = &h->list[HUSK_HOOK_PRESTART][0];
	cr_assert(eq(str, pre->path, "/usr/bin/fix-mounts"));
	cr_assert(eq(sz, pre->n_args, 3));
	cr_assert(eq(str, pre->args[2], "arg2"));
	cr_assert(eq(str, pre->env[0], "key1=value1"));
	cr_assert(not(pre->timeout.set));
	cr_assert(eq(sz, h->list[HUSK_HOOK_PRESTART][1].n_args, 0));
	cr_assert(eq(sz, h->n[HUSK_HOOK_CREATE_RUNTIME], 1));
	cr_assert(eq(i64, h->list[HUSK_HOOK_CREATE_RUNTIME][0].timeout.v, 5));
	cr_assert(
		eq(str, h->list[HUSK_HOOK_CREATE_CONTAINER][0].path, "/usr/bin/create-container"));
	cr_assert(eq(str, h->list[HUSK_HOOK_START_CONTAINER][0].args[0], "a"));
	cr_assert(eq(i64, h->list[HUSK_HOOK_POSTSTART][0].timeout.v, 10));
	cr_assert(eq(str, h->list[HUSK_HOOK_POSTSTOP][0].args[1], "-f"));
	husk_spec_free(s);
}

Test(spec_full, linux_namespaces_mappings_devices)
{
	struct husk_spec *s = full();
	struct husk_linux *lx = s->linux_;
	cr_assert(eq(sz, lx->n_namespaces, 8));
	for (int t = 0; t < _HUSK_NS_TYPE_MAX; t++)
		cr_assert(husk_spec_namespace(s, t) != NULL, "%s", husk_ns_type_to_string(t));
	cr_assert(eq(str, husk_spec_namespace(s, HUSK_NS_NETWORK)->path, "/var/run/netns/n1"));
	cr_assert(eq(int, lx->namespaces[7].type, HUSK_NS_TIME));
	cr_assert(eq(sz, lx->n_uid_mappings, 1));
	cr_assert(eq(u32, lx->uid_mappings[0].host_id, 100000));
	cr_assert(eq(u32, lx->uid_mappings[0].size, 65536));
	cr_assert(eq(sz, lx->n_gid_mappings, 2));
	cr_assert(eq(u32, lx->gid_mappings[1].container_id, 65536));
	cr_assert(eq(u32, lx->gid_mappings[1].host_id, UINT32_MAX));
	cr_assert(eq(sz, lx->n_devices, 4));
	cr_assert(eq(u64, lx->devices[0].file_mode.v, 0666));
	cr_assert(eq(u64, lx->devices[0].gid.v, 0));
	cr_assert(lx->devices[0].gid.set);
	cr_assert(eq(chr, lx->devices[1].type, 'b'));
	cr_assert(not(lx->devices[1].uid.set));
	cr_assert(eq(chr, lx->devices[2].type, 'u'));
	cr_assert(eq(i64, lx->devices[2].major, UINT32_MAX));
	cr_assert(eq(chr, lx->devices[3].type, 'p'));
	cr_assert(eq(i64, lx->devices[3].major, 0));
	cr_assert(eq(str, lx->cgroups_path, "/myRuntime/myContainer"));
	cr_assert(eq(sz, lx->n_sysctl, 2));
	cr_assert(eq(str, lx->sysctl[1].key, "net.core.somaxconn"));
	cr_assert(eq(str, lx->masked_paths[1], "/proc/keys"));
	cr_assert(eq(str, lx->readonly_paths[0], "/proc/sys"));
	cr_assert(eq(str, lx->rootfs_propagation, "slave"));
	cr_assert(eq(str, lx->personality->domain, "LINUX32"));
	cr_assert(eq(str, lx->personality->flags[0], "SOME_FLAG"));
	cr_assert(eq(str, lx->mount_label, "system_u:object_r:svirt_sandbox_file_t:s0:c715,c811"));
	husk_spec_free(s);
}

Test(spec_full, linux_resources)
{
	struct husk_spec *s = full();
	struct husk_resources *r = s->linux_->resources;
	cr_assert(eq(sz, r->n_devices, 4));
	cr_assert(eq(str, r->devices[1].access, "rw"));
	cr_assert(eq(i64, r->devices[2].minor.v, -1));
	cr_assert(eq(str, r->devices[3].access, "rwm"));
	struct husk_memory_resources *m = &r->memory;
	cr_assert(eq(i64, m->limit.v, 536870912));
	cr_assert(m->reservation.set);
	cr_assert(eq(i64, m->reservation.v, 0));
	cr_assert(eq(i64, m->swap.v, -1));
	cr_assert(eq(i64, m->kernel.v, -1));
	cr_assert(m->kernel_tcp.set);
	cr_assert(m->swappiness.set);
	cr_assert(eq(u64, m->swappiness.v, 0));
	cr_assert(m->disable_oom_killer.set);
	cr_assert(eq(u64, m->disable_oom_killer.v, 0));
	cr_assert(eq(u64, m->use_hierarchy.v, 1));
	cr_assert(eq(u64, m->check_before_update.v, 1));
	struct husk_cpu_resources *c = &r->cpu;
	cr_assert(eq(u64, c->shares.v, 1024));
	cr_assert(eq(i64, c->quota.v, 1000000));
	cr_assert(eq(u64, c->period.v, 500000));
	cr_assert(eq(i64, c->realtime_runtime.v, 950000));
	cr_assert(eq(u64, c->realtime_period.v, 1000000));
	cr_assert(eq(str, c->cpus, "2-3"));
	cr_assert(eq(str, c->mems, "0-7"));
	cr_assert(eq(i64, c->idle.v, 1));
	cr_assert(eq(i64, r->pids_limit.v, 32771));
	struct husk_blkio_resources *b = &r->blkio;
	cr_assert(r->has_blkio);
	cr_assert(eq(u64, b->weight.v, 10));
	cr_assert(eq(u64, b->leaf_weight.v, 10));
	cr_assert(eq(sz, b->n_weight_device, 2));
	cr_assert(eq(u64, b->weight_device[0].leaf_weight.v, 300));
	cr_assert(not(b->weight_device[1].leaf_weight.set));
	cr_assert(eq(i64, b->weight_device[1].minor, 16));
	cr_assert(eq(u64, b->throttle_read_bps[0].rate, 600));
	cr_assert(eq(u64, b->throttle_write_bps[0].rate, UINT64_MAX));
	cr_assert(eq(i64, b->throttle_read_iops[0].minor, 2));
	cr_assert(eq(u64, b->throttle_write_iops[0].rate, 300));
	cr_assert(eq(sz, r->n_hugepage_limits, 2));
	cr_assert(eq(u64, r->hugepage_limits[0].limit, UINT64_C(9223372036854772000)));
	cr_assert(eq(str, r->hugepage_limits[1].page_size, "64KB"));
	cr_assert(eq(str, r->unified[0].key, "io.max"));
	cr_assert(eq(str, r->unified[0].value, "8:0 rbps=1048576"));
	husk_spec_free(s);
}

Test(spec_full, linux_seccomp)
{
	struct husk_spec *s = full();
	struct husk_seccomp *sc = s->linux_->seccomp;
	cr_assert(eq(str, sc->default_action, "SCMP_ACT_ERRNO"));
	cr_assert(eq(u64, sc->default_errno_ret.v, 38));
	cr_assert(eq(sz, sc->n_architectures, 2));
	cr_assert(eq(str, sc->flags[1], "SECCOMP_FILTER_FLAG_SPEC_ALLOW"));
	cr_assert(eq(sz, sc->n_syscalls, 3));
	cr_assert(eq(str, sc->syscalls[0].names[1], "chmod"));
	cr_assert(eq(u64, sc->syscalls[0].errno_ret.v, 1));
	cr_assert(eq(str, sc->syscalls[1].action, "SCMP_ACT_TRACE"));
	cr_assert(not(sc->syscalls[2].errno_ret.set));
	struct husk_seccomp_arg *a = sc->syscalls[2].args;
	cr_assert(eq(sz, sc->syscalls[2].n_args, 2));
	cr_assert(eq(u32, a[0].index, 0));
	cr_assert(eq(u64, a[0].value_two, 0));
	cr_assert(eq(u32, a[1].index, 5));
	cr_assert(eq(u64, a[1].value, 255));
	cr_assert(eq(u64, a[1].value_two, UINT64_MAX));
	cr_assert(eq(str, a[1].op, "SCMP_CMP_MASKED_EQ"));
	husk_spec_free(s);
}

/* ---- the standalone parsers (task API Exec and Update) ---- */

Test(spec_full, process_parse_for_exec)
{
	static const char doc[] = "{\"args\":[\"sh\",\"-c\",\"id\"],\"cwd\":\"/work\","
				  "\"env\":[\"A=1\"],\"terminal\":true,"
				  "\"user\":{\"uid\":7,\"gid\":8},\"apparmorProfile\":\"\"}";
	struct husk_err err = {0};
	struct husk_process *p = NULL;
	cr_assert(eq(int, husk_process_parse(doc, strlen(doc), &p, &err), 0), "%s", err.msg);
	cr_assert(eq(str, p->args[2], "id"));
	cr_assert(eq(str, p->cwd, "/work"));
	cr_assert(p->terminal);
	cr_assert(eq(u32, p->user.uid, 7));
	cr_assert(eq(str, p->apparmor_profile, ""));
	husk_process_free(p);

	static const char bad[] = "{\"args\":[\"sh\", 3],\"cwd\":\"/\"}";
	p = NULL;
	cr_assert(eq(int, husk_process_parse(bad, strlen(bad), &p, &err), -EINVAL));
	cr_assert(eq(int, err.kind, HUSK_ERR_INVALID));
	cr_assert(eq(str, err.msg, "process.args[1]: expected string"));
	cr_assert(p == NULL);
	cr_assert(eq(int, husk_process_parse("[]", 2, &p, &err), -EINVAL));
	cr_assert(eq(str, err.msg, "process: expected object"));
}

Test(spec_full, resources_parse_for_update)
{
	static const char doc[] = "{\"memory\":{\"limit\":268435456,\"swap\":0},"
				  "\"cpu\":{\"quota\":-1,\"period\":100000,\"cpus\":\"0\"},"
				  "\"pids\":{\"limit\":-1},\"unified\":{\"cpu.weight\":\"50\"}}";
	struct husk_err err = {0};
	struct husk_resources *r = NULL;
	cr_assert(eq(int, husk_resources_parse(doc, strlen(doc), &r, &err), 0), "%s", err.msg);
	cr_assert(eq(i64, r->memory.limit.v, 268435456));
	/* absent and zero are different: swap 0 is set, reservation is not */
	cr_assert(r->memory.swap.set);
	cr_assert(eq(i64, r->memory.swap.v, 0));
	cr_assert(not(r->memory.reservation.set));
	cr_assert(eq(i64, r->cpu.quota.v, -1));
	cr_assert(not(r->cpu.shares.set));
	cr_assert(eq(str, r->cpu.cpus, "0"));
	cr_assert(r->cpu.mems == NULL);
	cr_assert(r->pids_limit.set);
	cr_assert(eq(i64, r->pids_limit.v, -1));
	cr_assert(not(r->has_blkio));
	cr_assert(eq(str, r->unified[0].value, "50"));
	husk_resources_free(r);

	static const char bad[] = "{\"memory\":{\"limit\":\"1G\"}}";
	r = NULL;
	cr_assert(eq(int, husk_resources_parse(bad, strlen(bad), &r, &err), -EINVAL));
	cr_assert(eq(str, err.msg, "resources.memory.limit: expected integer"));
	cr_assert(r == NULL);
}

/* docker wrote an unset swappiness as uint64(-1). */
Test(spec_full, swappiness_minus_one_is_unset)
{
	static const char doc[] = "{\"memory\":{\"swappiness\":18446744073709551615}}";
	struct husk_err err = {0};
	struct husk_resources *r = NULL;
	cr_assert(eq(int, husk_resources_parse(doc, strlen(doc), &r, &err), 0), "%s", err.msg);
	cr_assert(r->has_memory);
	cr_assert(not(r->memory.swappiness.set));
	husk_resources_free(r);
}

/* ---- size limit ---- */

static char *padded(size_t total)
{
	static const char doc[] = "{\"ociVersion\":\"1\",\"root\":{\"path\":\"r\"}}";
	char *buf = malloc(total);
	cr_assert(buf != NULL);
	memcpy(buf, doc, sizeof(doc) - 1);
	memset(buf + sizeof(doc) - 1, ' ', total - (sizeof(doc) - 1));
	return buf;
}

Test(spec_full, size_limit)
{
	struct husk_err err = {0};
	struct husk_spec *s = NULL;
	char *buf = padded(HUSK_SPEC_MAX_SIZE + 1);

	cr_assert(eq(int, husk_spec_parse(buf, HUSK_SPEC_MAX_SIZE, &s, &err), 0), "%s", err.msg);
	husk_spec_free(s);
	s = NULL;
	cr_assert(eq(int, husk_spec_parse(buf, HUSK_SPEC_MAX_SIZE + 1, &s, &err), -EINVAL));
	cr_assert(eq(int, err.kind, HUSK_ERR_INVALID));
	cr_assert(eq(str, err.msg, "spec: 4194305 bytes exceed the limit of 4194304 bytes"));
	cr_assert(s == NULL);

	struct husk_process *p = NULL;
	cr_assert(eq(int, husk_process_parse(buf, HUSK_SPEC_MAX_SIZE + 1, &p, &err), -EINVAL));
	cr_assert(eq(str, err.msg, "process: 4194305 bytes exceed the limit of 4194304 bytes"));
	struct husk_resources *r = NULL;
	cr_assert(eq(int, husk_resources_parse(buf, HUSK_SPEC_MAX_SIZE + 1, &r, &err), -EINVAL));
	cr_assert(eq(str, err.msg, "resources: 4194305 bytes exceed the limit of 4194304 bytes"));
	free(buf);
}

/* ---- husk_spec_load ---- */

static char *bundle_with(const char *config)
{
	char *dir = testutil_tmpdir("spec");
	char path[PATH_MAX];
	cr_assert(snprintf(path, sizeof(path), "%s/config.json", dir) < (int)sizeof(path));
	if (config)
		testutil_write_file(path, config);
	return dir;
}

Test(spec_full, load_resolves_root_against_bundle)
{
	char *dir = bundle_with("{\"ociVersion\":\"1\",\"root\":{\"path\":\"rootfs\"}}");
	char want[PATH_MAX];
	struct husk_err err = {0};
	struct husk_spec *s = NULL;

	cr_assert(eq(int, husk_spec_load(dir, &s, &err), 0), "%s", err.msg);
	cr_assert(snprintf(want, sizeof(want), "%s/rootfs", dir) < (int)sizeof(want));
	cr_assert(eq(str, s->root_path, want));
	husk_spec_free(s);

	/* a trailing slash on the bundle does not double up */
	char slash[PATH_MAX];
	cr_assert(snprintf(slash, sizeof(slash), "%s/", dir) < (int)sizeof(slash));
	s = NULL;
	cr_assert(eq(int, husk_spec_load(slash, &s, &err), 0), "%s", err.msg);
	cr_assert(eq(str, s->root_path, want));
	husk_spec_free(s);
	testutil_rmtree_free(dir);
}

Test(spec_full, load_relative_bundle_gives_absolute_root)
{
	char *dir = bundle_with("{\"ociVersion\":\"1\",\"root\":{\"path\":\"r/fs\"}}");
	char *slash = strrchr(dir, '/');
	char want[PATH_MAX];
	struct husk_err err = {0};
	struct husk_spec *s = NULL;

	*slash = '\0';
	cr_assert(eq(int, chdir(dir), 0));
	*slash = '/';
	cr_assert(eq(int, husk_spec_load(slash + 1, &s, &err), 0), "%s", err.msg);
	cr_assert(snprintf(want, sizeof(want), "%s/r/fs", dir) < (int)sizeof(want));
	cr_assert(eq(str, s->root_path, want));
	husk_spec_free(s);
	testutil_rmtree_free(dir);
}

Test(spec_full, load_keeps_absolute_root)
{
	char *dir = bundle_with("{\"ociVersion\":\"1\",\"root\":{\"path\":\"/srv/rootfs\"}}");
	struct husk_err err = {0};
	struct husk_spec *s = NULL;

	cr_assert(eq(int, husk_spec_load(dir, &s, &err), 0), "%s", err.msg);
	cr_assert(eq(str, s->root_path, "/srv/rootfs"));
	husk_spec_free(s);
	testutil_rmtree_free(dir);
}

Test(spec_full, load_missing_config_is_not_found)
{
	char *dir = bundle_with(NULL);
	char want[PATH_MAX + 64];
	struct husk_err err = {0};
	struct husk_spec *s = NULL;

	cr_assert(eq(int, husk_spec_load(dir, &s, &err), -ENOENT));
	cr_assert(eq(int, err.kind, HUSK_ERR_NOT_FOUND));
	snprintf(want, sizeof(want), "open '%s/config.json': No such file or directory", dir);
	cr_assert(eq(str, err.msg, want));
	cr_assert(s == NULL);
	testutil_rmtree_free(dir);
}

Test(spec_full, load_bad_content_names_file_and_path)
{
	char *dir = bundle_with("{\"ociVersion\":\"1\",\"root\":{}}");
	char want[PATH_MAX + 64];
	struct husk_err err = {0};
	struct husk_spec *s = NULL;

	cr_assert(eq(int, husk_spec_load(dir, &s, &err), -EINVAL));
	cr_assert(eq(int, err.kind, HUSK_ERR_INVALID));
	snprintf(want, sizeof(want), "'%s/config.json': root.path: missing required field", dir);
	cr_assert(eq(str, err.msg, want));
	testutil_rmtree_free(dir);
}

Test(spec_full, load_refuses_directory_and_oversized_file)
{
	char *dir = bundle_with(NULL);
	char path[PATH_MAX], want[PATH_MAX + 64];
	struct husk_err err = {0};
	struct husk_spec *s = NULL;

	snprintf(path, sizeof(path), "%s/config.json", dir);
	cr_assert(eq(int, mkdir(path, 0700), 0));
	cr_assert(eq(int, husk_spec_load(dir, &s, &err), -EINVAL));
	snprintf(want, sizeof(want), "'%s' is not a regular file", path);
	cr_assert(eq(str, err.msg, want));
	cr_assert(eq(int, rmdir(path), 0));

	char *big = padded(HUSK_SPEC_MAX_SIZE + 2);
	big[HUSK_SPEC_MAX_SIZE + 1] = '\0';
	testutil_write_file(path, big);
	free(big);
	cr_assert(eq(int, husk_spec_load(dir, &s, &err), -EINVAL));
	snprintf(want, sizeof(want), "'%s': 4194305 bytes exceed the limit of 4194304 bytes", path);
	cr_assert(eq(str, err.msg, want));
	cr_assert(s == NULL);
	testutil_rmtree_free(dir);
}
