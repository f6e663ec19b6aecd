/*
 * Deep images: containerd hands the shim an overlay whose lowerdir= option is longer than the
 * page mount(2) copies (150 layers of snapshot paths). The container runs, through husk and
 * through the reference, with every layer visible.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "containerd.h"
#include "testutil.h"

#define REF_RUNTIME "io.containerd.runc.v2"
#define LAYERS	    "150"
#define DEEP_IMAGE  "docker.io/husk-test/deep:latest"

static struct e2e_cd *cd;

static void setup(void)
{
	cd = e2e_cd_start();
}

static void teardown(void)
{
	e2e_cd_stop(cd);
	cd = NULL;
}

TestSuite(deep_image, .init = setup, .fini = teardown);

E2E_TEST(deep_image, runs_with_150_layers_as_the_reference)
{
	char tar[4096], rootfs_env[4096];
	char *mk = testutil_source_path("hack/mkimage.sh");

	(void)snprintf(tar, sizeof(tar), "%s/deep.tar", cd->dir);
	(void)snprintf(rootfs_env, sizeof(rootfs_env), "ROOTFS=%s", cd->rootfs);
	char *argv[] = {mk, tar, DEEP_IMAGE, NULL};
	char *env[] = {rootfs_env, "EXTRA_LAYERS=" LAYERS, NULL};
	_cleanup_res_ struct e2e_res img = e2e_run(argv, env, NULL, testutil_timeout(120));
	free(mk);
	cr_assert(eq(int, img.status, 0), "mkimage: %s%s", img.out, img.err);
	_cleanup_res_ struct e2e_res imp = e2e_ctr(cd, NULL, "images", "import", tar, NULL);
	cr_assert(eq(int, imp.status, 0), "import: %s", imp.err);

	const char *runtimes[] = {cd->runtime, REF_RUNTIME};
	for (size_t i = 0; i < 2; i++) {
		const char *id = e2e_id(cd, i == 0 ? "deep" : "deep-ref");
		_cleanup_res_ struct e2e_res r =
			e2e_ctr(cd, NULL, "run", "--runtime", runtimes[i], "--fifo-dir",
				cd->fifo_dir, "--rm", DEEP_IMAGE, id, "sh", "-c",
				"ls /layers | wc -l; cat /layers/1 /layers/" LAYERS "; "
				"awk '$5 == \"/\" { print $9 }' /proc/self/mountinfo",
				NULL);
		cr_assert(eq(int, r.status, 0), "%s: %s", runtimes[i], r.err);
		cr_assert(eq(str, r.out, LAYERS "\n1\n" LAYERS "\noverlay\n"), "%s", runtimes[i]);
	}
}
