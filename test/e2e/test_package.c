/*
 * The Debian package as an operator meets it: cpack builds the .deb from this build tree,
 * dpkg installs it into a fresh root, the package's containerd snippet goes into a private
 * containerd's config (CRI plugin on), containerd restarts, and containers run with the
 * shim binary that came out of the package (its process's executable is checked).
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <criterion/new/assert.h>

#include "containerd.h"
#include "testutil.h"

static struct e2e_cd *cd;
static char *tmp;

static void teardown(void)
{
	/* runsc's --root from the package's config, with the namespace appended. */
	if (cd) {
		char *runsc_ns = NULL;
		if (asprintf(&runsc_ns, "/run/containerd/runsc/%s", cd->ns) > 0)
			(void)rmdir(runsc_ns);
		free(runsc_ns);
	}
	e2e_cd_stop(cd);
	cd = NULL;
	testutil_rmtree_free(tmp);
	tmp = NULL;
}

TestSuite(package, .fini = teardown);

/* bash -c script; fails the test unless it exits 0. Returns its stdout (caller frees). */
static char *sh(const char *what, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *sh(const char *what, const char *fmt, ...)
{
	char *script = NULL;
	va_list ap;

	va_start(ap, fmt);
	cr_assert(vasprintf(&script, fmt, ap) > 0);
	va_end(ap);
	char *argv[] = {"bash", "-c", script, NULL};
	struct e2e_res r = e2e_run(argv, NULL, NULL, testutil_timeout(120));
	cr_assert(eq(int, r.status, 0), "%s: %s\n%s", what, r.err, r.out);
	char *out = r.out;
	r.out = NULL;
	e2e_res_done(&r);
	free(script);
	return out;
}

/* The .deb cpack builds from this build tree, in tmp/out. */
static char *build_deb(void)
{
	char *deb = sh("cpack",
		       "set -e; cd '%s'; cpack -G DEB -B '%s/out' --config '%s/CPackConfig.cmake' "
		       ">'%s/cpack.log' 2>&1 || { cat '%s/cpack.log' >&2; exit 1; }; "
		       "ls '%s'/out/husk_*.deb",
		       tmp, tmp, getenv("HUSK_BINARY_DIR"), tmp, tmp, tmp);
	char *nl = strchr(deb, '\n');
	if (nl)
		*nl = '\0';
	cr_assert(eq(int, access(deb, R_OK), 0), "no package at '%s'", deb);
	return deb;
}

/*
 * Depends names the Debian package of each shared library the binaries need, and no other
 * library (those linked from their archives, HUSK_STATIC_DEPS, need none at run time); this
 * Debian satisfies every one.
 */
static void check_depends(const char *deb)
{
	static const char *const libs[][2] = {{"libc.so.6", "libc6"},
					      {"libuv.so.1", "libuv1"},
					      {"libjansson.so.4", "libjansson4"},
					      {"libprotobuf-c.so.1", "libprotobuf-c1"},
					      {"libseccomp.so.2", "libseccomp2"},
					      {"libcap.so.2", "libcap2"}};
	char *dep = sh("dpkg-deb -f", "dpkg-deb -f '%s' Depends", deb);
	char *shim = testutil_binary_path("shim/containerd-shim-husk-v2");
	char *cli = testutil_binary_path("runtime/cli/husk");
	char *needed = sh("objdump -p",
			  "objdump -p '%s' '%s' | awk '$1 == \"NEEDED\" { print \"<\" $2 \">\" }'",
			  shim, cli);
	free(shim);
	free(cli);

	cr_assert(ne(ptr, strstr(needed, "<libc.so.6>"), NULL), "no libc? %s", needed);
	for (size_t i = 0; i < sizeof(libs) / sizeof(libs[0]); i++) {
		char so[64], pkg[64];
		(void)snprintf(so, sizeof(so), "<%s>", libs[i][0]);
		(void)snprintf(pkg, sizeof(pkg), "%s (", libs[i][1]);
		bool need = strstr(needed, so) != NULL;
		bool named = strstr(dep, pkg) != NULL;
		cr_assert(eq(int, named, need), "%s %s needed, %s in Depends: %s", libs[i][0],
			  need ? "is" : "is not", libs[i][1], dep);
	}
	free(needed);
	/* "name (>= version)" each: installed here, at that version or later. */
	free(sh("dependencies installed",
		"dpkg-deb -f '%s' Depends | tr ',' '\\n' | while read -r name op ver; do "
		"op=${op#(}; ver=${ver%%)}; "
		"have=$(dpkg-query -W -f '${Version}' \"$name\") || exit 1; "
		"[ -z \"$ver\" ] || dpkg --compare-versions \"$have\" ge \"$ver\" || "
		"{ echo \"$name $have < $ver\" >&2; exit 1; }; done",
		deb));
	char *conf = sh("conffiles", "dpkg-deb -I '%s' conffiles", deb);
	cr_assert(eq(str, conf, "/etc/husk/runsc.json\n"), "the handler's config is a conffile");
	free(conf);
}

/* dpkg --root: a root with an empty dpkg database and nothing else. */
static char *install_into_fresh_root(const char *deb)
{
	char *root = NULL;

	cr_assert(asprintf(&root, "%s/root", tmp) > 0);
	/* The libraries are the host's (checked above), not in this root: --force-depends. */
	free(sh("dpkg -i",
		"set -e; r='%s'; mkdir -p \"$r/var/lib/dpkg/info\" \"$r/var/lib/dpkg/updates\"; "
		": >\"$r/var/lib/dpkg/status\"; : >\"$r/var/lib/dpkg/available\"; "
		"dpkg --root=\"$r\" --log=/dev/null --force-depends -i '%s' >/dev/null 2>&1; "
		"dpkg --root=\"$r\" -s husk | grep -qx 'Status: install ok installed'",
		root, deb));
	static const char *const files[] = {"usr/bin/containerd-shim-husk-v2", "usr/bin/husk",
					    "usr/share/husk/containerd/containerd-1.x.toml",
					    "usr/share/husk/containerd/containerd-2.x.toml",
					    "etc/husk/runsc.json"};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char path[PATH_MAX];
		(void)snprintf(path, sizeof(path), "%s/%s", root, files[i]);
		cr_assert(eq(int, access(path, R_OK), 0), "the package installs /%s", files[i]);
	}
	char *v = sh("shim -v", "'%s/usr/bin/containerd-shim-husk-v2' -v", root);
	cr_assert(ne(ptr, strstr(v, "io.containerd.husk.v2"), NULL), "%s", v);
	free(v);
	char *f = sh("husk features", "'%s/usr/bin/husk' features", root);
	cr_assert(ne(ptr, strstr(f, "\"ociVersionMin\""), NULL), "%s", f);
	free(f);
	return root;
}

/*
 * Both snippets parse as TOML and declare the same handlers under their version's CRI
 * plugin (containerd 2.x's cannot be loaded by this containerd 1.6, so it is read here).
 */
static void check_snippets(const char *root)
{
	free(sh("snippets",
		"python3 - '%s' <<'EOF'\n"
		"import sys, tomllib\n"
		"d = sys.argv[1] + '/usr/share/husk/containerd/'\n"
		"for f, plugin in (('containerd-1.x.toml', 'io.containerd.grpc.v1.cri'),\n"
		"                  ('containerd-2.x.toml', 'io.containerd.cri.v1.runtime')):\n"
		"    with open(d + f, 'rb') as fp:\n"
		"        rt = tomllib.load(fp)['plugins'][plugin]['containerd']['runtimes']\n"
		"    assert sorted(rt) == ['husk', 'husk-runsc', 'runc'], (f, sorted(rt))\n"
		"    assert rt['husk'] == {'runtime_type': 'io.containerd.husk.v2'}, f\n"
		"    assert rt['runc'] == {'runtime_type': 'io.containerd.runc.v2'}, f\n"
		"    r = rt['husk-runsc']\n"
		"    assert r['runtime_type'] == 'io.containerd.husk.v2', f\n"
		"    assert r['options']['ConfigPath'] == '/etc/husk/runsc.json', f\n"
		"EOF",
		root));
}

/*
 * The CRI plugin on (its stream server on a free port, the CRI suite's image as the pause
 * image), the package's snippet appended with its ConfigPath moved into the fresh root.
 */
static void configure(const char *root)
{
	char cfg[PATH_MAX];

	(void)snprintf(cfg, sizeof(cfg), "%s/config.toml", cd->dir);
	free(sh("config",
		"set -e; sed -i '/\"io.containerd.grpc.v1.cri\",/d' '%s'; "
		"sed 's|\"/etc/husk/runsc.json\"|\"%s/etc/husk/runsc.json\"|' "
		"'%s/usr/share/husk/containerd/containerd-1.x.toml' >>'%s'; "
		"printf '\\n[plugins.\"io.containerd.grpc.v1.cri\"]\\n"
		"  sandbox_image = \"docker.io/library/husk-cri-busybox:latest\"\\n"
		"  stream_server_address = \"127.0.0.1\"\\n  stream_server_port = \"0\"\\n"
		"  disable_apparmor = true\\n  restrict_oom_score_adj = true\\n"
		"  netns_mounts_under_state_dir = true\\n' >>'%s'",
		cfg, root, root, cfg, cfg));
	e2e_cd_restart(cd);
	_cleanup_res_ struct e2e_res r = e2e_ctr(cd, NULL, "plugins", "ls", NULL);
	cr_assert(eq(int, r.status, 0), "ctr plugins ls: %s", r.err);
	char *line = strstr(r.out, "io.containerd.grpc.v1 ");
	while (line && strncmp(strchr(line, ' ') + strspn(strchr(line, ' '), " "), "cri ", 4))
		line = strstr(line + 1, "io.containerd.grpc.v1 ");
	cr_assert(line != NULL, "no cri plugin: %s", r.out);
	char *eol = strchr(line, '\n');
	if (eol)
		*eol = '\0';
	cr_assert(ne(ptr, strstr(line, " ok"), NULL), "the CRI plugin takes the snippet: %s", line);
	/* What containerd read: both handlers, husk's runtime type, husk-runsc's ConfigPath. */
	char *dump = sh("config dump", "containerd --config '%s' config dump", cfg);
	cr_assert(ne(ptr, strstr(dump, "containerd.runtimes.husk]"), NULL));
	cr_assert(ne(ptr, strstr(dump, "containerd.runtimes.husk-runsc.options]"), NULL));
	char want[PATH_MAX + 32];
	(void)snprintf(want, sizeof(want), "ConfigPath = \"%s/etc/husk/runsc.json\"", root);
	cr_assert(ne(ptr, strstr(dump, want), NULL), "%s", want);
	cr_assert(ne(ptr, strstr(dump, "runtime_type = \"io.containerd.husk.v2\""), NULL));
	free(dump);
}

/* A detached container's shim is the packaged binary. */
static void check_shim_is_packaged(const char *shim)
{
	const char *id = e2e_id(cd, "pkg-sleep");
	char exe[PATH_MAX], want[PATH_MAX], proc[64];
	pid_t pids[8];

	_cleanup_res_ struct e2e_res r =
		e2e_ctr(cd, NULL, E2E_RUN(cd), "-d", cd->image, id, "sleep", "300", NULL);
	cr_assert(eq(int, r.status, 0), "ctr run -d: %s", r.err);
	cr_assert(e2e_wait_task_status(cd, id, "RUNNING", 30));
	size_t n = e2e_shim_pids(cd, pids, 8);
	cr_assert(eq(sz, n, (size_t)1), "one shim");
	(void)snprintf(proc, sizeof(proc), "/proc/%d/exe", (int)pids[0]);
	ssize_t len = readlink(proc, exe, sizeof(exe) - 1);
	cr_assert(gt(sz, (size_t)(len > 0 ? len : 0), (size_t)0));
	exe[len] = '\0';
	cr_assert(realpath(shim, want) != NULL);
	cr_assert(eq(str, exe, want), "containerd runs the package's shim");
	_cleanup_res_ struct e2e_res k = e2e_ctr(cd, NULL, "task", "kill", "-s", "KILL", id, NULL);
	cr_assert(eq(int, k.status, 0), "%s", k.err);
	cr_assert(e2e_wait_task_status(cd, id, "STOPPED", 30));
	_cleanup_res_ struct e2e_res d = e2e_ctr(cd, NULL, "task", "rm", id, NULL);
	cr_assert(eq(int, d.status, 0), "%s", d.err);
	_cleanup_res_ struct e2e_res c = e2e_ctr(cd, NULL, "container", "rm", id, NULL);
	cr_assert(eq(int, c.status, 0), "%s", c.err);
}

/*
 * The husk-runsc handler's config file from the package, as it is, through husk's OCI
 * engine, as CRI passes it (runtimeoptions ConfigPath; ctr's --runtime-config-path sends
 * the same): the container runs inside gVisor, in its own network namespace.
 */
static void check_runsc_handler(const char *root)
{
	char cfg[PATH_MAX];

	(void)snprintf(cfg, sizeof(cfg), "%s/etc/husk/runsc.json", root);
	const char *id = e2e_id(cd, "pkg-runsc");
	_cleanup_res_ struct e2e_res r =
		e2e_ctr(cd, NULL, E2E_RUN(cd), "--rm", "--runtime-config-path", cfg, cd->image, id,
			"sh", "-c", "dmesg; ip link", NULL);
	cr_assert(eq(int, r.status, 0), "ctr run through husk-runsc's config: %s", r.err);
	cr_assert(ne(ptr, strstr(r.out, "Starting gVisor"), NULL),
		  "the container ran inside gVisor: %s", r.out);
	/* --network=host is the pod's namespace with the kernel's stack: lo, not the host's. */
	cr_assert(ne(ptr, strstr(r.out, "lo:"), NULL), "%s", r.out);
	cr_assert(eq(ptr, strstr(r.out, "eth0:"), NULL), "the host's interfaces: %s", r.out);
}

/* CRI pods through the snippet's handlers, with the project's CRI client (test/cri/). */
static void check_cri_pods(bool runsc)
{
	char *argv[] = {"/usr/bin/python3", "-c", "import grpc, grpc_tools", NULL};
	struct e2e_res probe = e2e_run(argv, NULL, NULL, testutil_timeout(60));
	bool have = probe.status == 0;

	e2e_res_done(&probe);
	if (!have) {
		cr_log_info("python3-grpcio or python3-grpc-tools missing: no CRI pod is run");
		return;
	}
	char *out = sh("cri pods", "/usr/bin/python3 '%s/test/cri/package_pod.py' '%s' husk %s",
		       getenv("HUSK_SOURCE_DIR"), cd->dir, runsc ? "husk-runsc" : "");
	cr_assert(ne(ptr, strstr(out, "husk: pod"), NULL), "%s", out);
	if (runsc)
		cr_assert(ne(ptr, strstr(out, "husk-runsc: pod"), NULL), "%s", out);
	free(out);
}

E2E_TEST(package, deb_installs_into_a_fresh_root_and_runs_containers, .timeout = 600)
{
	char shim[PATH_MAX];

	if (access("/usr/bin/dpkg-shlibdeps", X_OK) != 0)
		cr_skip_test("dpkg-shlibdeps is missing (apt-get install dpkg-dev)");
	tmp = testutil_tmpdir("package");
	char *deb = build_deb();
	check_depends(deb);
	char *root = install_into_fresh_root(deb);
	(void)snprintf(shim, sizeof(shim), "%s/usr/bin/containerd-shim-husk-v2", root);
	check_snippets(root);
	cr_assert(eq(int, setenv("HUSK_SHIM", shim, 1), 0));
	cd = e2e_cd_start();
	configure(root);

	const char *id = e2e_id(cd, "pkg-echo");
	_cleanup_res_ struct e2e_res r = e2e_ctr(cd, NULL, E2E_RUN(cd), "--rm", cd->image, id,
						 "echo", "hello from the package", NULL);
	cr_assert(eq(int, r.status, 0), "ctr run: %s", r.err);
	cr_assert(eq(str, r.out, "hello from the package\n"));
	check_shim_is_packaged(shim);
	bool runsc = access("/usr/bin/runsc", X_OK) == 0 || access("/usr/sbin/runsc", X_OK) == 0;
	if (runsc)
		check_runsc_handler(root);
	else
		cr_log_info("runsc is not installed: the husk-runsc handler is not run");
	check_cri_pods(runsc);
	free(root);
	free(deb);
}
