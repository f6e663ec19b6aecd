/* The gofer: containerd's rootfs mounts, bind mounts resolved inside the rootfs, read-only
 * root, and that nothing of it outlives create. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>
#include <sys/wait.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "box.h"
#include "husk/container.h"
#include "husk/err.h"
#include "husk/spec.h"
#include "testutil.h"

TestSuite(gofer, .timeout = 120);

static bool exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

Test(gofer, an_overlay_rootfs_is_mounted_by_the_gofer_only)
{
	struct box b;
	struct husk_err err = {0};
	char lower[1200], upper[1200], work[1200], opt[3][1300], path[2600];

	box_init(&b, "gofer-overlay");
	(void)snprintf(lower, sizeof(lower), "%s/lower", b.dir);
	(void)snprintf(upper, sizeof(upper), "%s/upper", b.dir);
	(void)snprintf(work, sizeof(work), "%s/work", b.dir);
	cr_assert(eq(int, rename(b.rootfs, lower), 0));
	cr_assert(eq(int, mkdir(b.rootfs, 0755), 0));
	cr_assert(eq(int, mkdir(upper, 0755), 0));
	cr_assert(eq(int, mkdir(work, 0755), 0));
	(void)snprintf(opt[0], sizeof(opt[0]), "lowerdir=%s", lower);
	(void)snprintf(opt[1], sizeof(opt[1]), "upperdir=%s", upper);
	(void)snprintf(opt[2], sizeof(opt[2]), "workdir=%s", work);
	char *opts[] = {opt[0], opt[1], opt[2]};
	struct husk_mount m = {.destination = "",
			       .type = "overlay",
			       .source = "overlay",
			       .options = opts,
			       .n_options = 3};

	char *before = testutil_read_file("/proc/self/mountinfo");
	box_set_args(&b, "echo from-container >/tmp/written; cat /etc/hostname");
	box_write_cfg(&b);
	struct husk_create_opts o = {.id = "gofer-overlay",
				     .bundle = b.bundle,
				     .rootfs = &m,
				     .n_rootfs = 1,
				     .stdio = {-1, b.out[1], b.out[1]}};
	struct husk_container *c = NULL;
	cr_assert(eq(int, husk_container_create(b.rt, &o, &c, &err), 0), "%s", err.msg);
	char *during = testutil_read_file("/proc/self/mountinfo");
	cr_assert(eq(str, before, during));
	cr_assert(eq(int, husk_container_start(c, &err), 0), "%s", err.msg);
	box_expect_line(&b, "husk");
	cr_assert(eq(int, box_finish(c), 0));
	char *after = testutil_read_file("/proc/self/mountinfo");
	cr_assert(eq(str, before, after));
	/* The write went to the upper layer; the lower one and the mount point are untouched. */
	(void)snprintf(path, sizeof(path), "%s/tmp/written", upper);
	char *w = testutil_read_file(path);
	cr_assert(w != NULL);
	cr_assert(eq(str, w, "from-container\n"));
	(void)snprintf(path, sizeof(path), "%s/tmp/written", lower);
	cr_assert(exists(path) == false, "%s", path);
	(void)snprintf(path, sizeof(path), "%s/etc", b.rootfs);
	cr_assert(exists(path) == false, "%s", path);
	free(w);
	free(before);
	free(during);
	free(after);
	box_done(&b);
}

static void add_bind(struct box *b, const char *src, const char *dst, const char *opt)
{
	json_array_append_new(json_object_get(b->cfg, "mounts"),
			      json_pack("{s:s,s:s,s:s,s:[s]}", "destination", dst, "type", "bind",
					"source", src, "options", opt));
}

Test(gofer, planted_symlinks_cannot_move_a_bind_mount_out_of_the_rootfs)
{
	struct box b;
	char vol[1200], outside[1200], path[2600], link[2600], name[64];
	char out[256];

	box_init(&b, "gofer-links");
	(void)snprintf(vol, sizeof(vol), "%s/vol", b.dir);
	(void)snprintf(outside, sizeof(outside), "%s/outside", b.dir);
	cr_assert(eq(int, mkdir(vol, 0755), 0));
	cr_assert(eq(int, mkdir(outside, 0755), 0));
	(void)snprintf(path, sizeof(path), "%s/marker", vol);
	testutil_write_file(path, "marker\n");
	/* Absolute: at the host's view of a real directory next to the bundle. */
	(void)snprintf(link, sizeof(link), "%s/etc/abs", b.rootfs);
	cr_assert(eq(int, symlink(outside, link), 0));
	/* Relative: enough ../ to climb out of rootfs/etc to the host's /. */
	(void)snprintf(link, sizeof(link), "%s/etc/rel", b.rootfs);
	cr_assert(eq(int, symlink("../../../../../../../../../../../..", link), 0));
	/* Nested: a link to a link, ending in ../ again. */
	(void)snprintf(link, sizeof(link), "%s/tmp/hop", b.rootfs);
	cr_assert(eq(int, symlink("/etc/rel/..", link), 0));
	(void)snprintf(name, sizeof(name), "husk-gofer-escape-%d", (int)getpid());
	char dst_rel[128], dst_hop[128];
	(void)snprintf(dst_rel, sizeof(dst_rel), "/etc/rel/%s", name);
	(void)snprintf(dst_hop, sizeof(dst_hop), "/tmp/hop/%s-hop", name);
	add_bind(&b, vol, "/etc/abs/m1", "rbind");
	add_bind(&b, vol, dst_rel, "rbind");
	add_bind(&b, vol, dst_hop, "rbind");
	char script[512];
	(void)snprintf(script, sizeof(script), "cat /etc/abs/m1/marker /%s/marker /%s-hop/marker",
		       name, name);
	struct husk_container *c = box_run(&b, "gofer-links", script);
	cr_assert(eq(int, box_finish(c), 0));
	close(b.out[1]);
	b.out[1] = -1;
	box_read_all(b.out[0], out, sizeof(out));
	cr_assert(eq(str, out, "marker\nmarker\nmarker\n"));
	/* The mount points were created inside the rootfs, nothing on the host side. */
	(void)snprintf(path, sizeof(path), "%s/m1", outside);
	cr_assert(exists(path) == false, "%s", path);
	(void)snprintf(path, sizeof(path), "/%s", name);
	cr_assert(exists(path) == false, "%s", path);
	(void)snprintf(path, sizeof(path), "/%s-hop", name);
	cr_assert(exists(path) == false, "%s", path);
	(void)snprintf(path, sizeof(path), "%s/%s/m1", b.rootfs, outside);
	cr_assert(exists(path), "%s", path);
	(void)snprintf(path, sizeof(path), "%s/%s", b.rootfs, name);
	cr_assert(exists(path), "%s", path);
	box_done(&b);
}

Test(gofer, a_read_only_root_is_read_only_inside)
{
	struct box b;
	char out[512];

	box_init(&b, "gofer-ro");
	json_object_set_new(json_object_get(b.cfg, "root"), "readonly", json_true());
	struct husk_container *c = box_run(&b, "gofer-ro",
					   "touch /etc/x 2>&1; echo rc=$?; touch /tmp/y 2>&1; "
					   "echo rc=$?; touch /dev/shm/z && echo shm-rw");
	cr_assert(eq(int, box_finish(c), 0));
	close(b.out[1]);
	b.out[1] = -1;
	box_read_all(b.out[0], out, sizeof(out));
	cr_assert(eq(str, out,
		     "touch: /etc/x: Read-only file system\nrc=1\n"
		     "touch: /tmp/y: Read-only file system\nrc=1\nshm-rw\n"));
	char path[2600];
	(void)snprintf(path, sizeof(path), "%s/etc/x", b.rootfs);
	cr_assert(exists(path) == false, "%s", path);
	box_done(&b);
}

Test(gofer, after_create_the_gofer_is_gone)
{
	struct box b;
	struct husk_err err = {0};
	struct husk_container *c = NULL;

	box_init(&b, "gofer-gone");
	box_set_args(&b, "true");
	cr_assert(eq(int, box_create(&b, "gofer-gone", &c, &err), 0), "%s", err.msg);
	/* One child: the init, waiting for start. No gofer, no stage, no zombie. */
	cr_assert(eq(int, box_count_children(), 1));
	char *comm = testutil_comm(husk_container_init(c)->pid);
	cr_assert(comm != NULL);
	cr_assert(eq(str, comm, "husk:[init]"));
	free(comm);
	json_t *st = box_state_json(&b, "gofer-gone");
	cr_assert(st != NULL);
	cr_assert(eq(int, (int)json_integer_value(json_object_get(st, "gofer_pid")), 0));
	json_decref(st);
	cr_assert(eq(int, husk_container_start(c, &err), 0), "%s", err.msg);
	cr_assert(eq(int, box_finish(c), 0));
	cr_assert(eq(int, box_count_children(), 0));
	box_done(&b);
}
