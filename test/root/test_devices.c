/* Device access: a spec that denies every device still gets runc's default devices. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "box.h"
#include "husk/container.h"
#include "husk/err.h"
#include "testutil.h"

TestSuite(devices, .timeout = 120);

Test(devices, deny_all_keeps_the_default_devices)
{
	struct box b;
	struct husk_err err = {0};
	struct husk_container *c = NULL;
	char out[1024];

	box_init(&b, "dev-deny");
	json_t *lx = json_object_get(b.cfg, "linux");
	/* containerd's default: deny everything, nothing else. */
	json_object_set_new(lx, "resources",
			    json_pack("{s:[{s:b,s:s}]}", "devices", "allow", 0, "access", "rwm"));
	/* A node that exists in the container but is not a default: still denied. */
	json_object_set_new(lx, "devices",
			    json_pack("[{s:s,s:s,s:i,s:i,s:i}]", "path", "/dev/kmsg", "type", "c",
				      "major", 1, "minor", 11, "fileMode", 0644));
	box_set_args(&b, "echo x >/dev/null && echo null-ok; head -c 3 /dev/zero | wc -c; "
			 "head -c 1 /dev/urandom >/dev/null && echo urandom-ok; "
			 "head -c 1 /dev/random >/dev/null && echo random-ok; "
			 "echo x 2>&1 >/dev/full | grep -o 'No space left on device'; "
			 "head -c 1 /dev/kmsg 2>&1 | grep -o 'Operation not permitted'");
	cr_assert(eq(int, box_create(&b, "dev-deny", &c, &err), 0), "%s", err.msg);
	char list[512];
	char path[600];
	box_cgroup_dir("devices", "dev-deny", list, sizeof(list));
	(void)snprintf(path, sizeof(path), "%s/devices.list", list);
	char *l = testutil_read_file(path);
	cr_assert(l != NULL);
	cr_assert(strstr(l, "c 1:3 rwm\n") != NULL, "%s", l);
	cr_assert(strstr(l, "c 136:* rwm\n") != NULL, "%s", l);
	cr_assert(strstr(l, "c 1:11") == NULL, "%s", l);
	cr_assert(strstr(l, "a *:* rwm") == NULL, "%s", l);
	free(l);
	cr_assert(eq(int, husk_container_start(c, &err), 0), "%s", err.msg);
	cr_assert(eq(int, box_finish(c), 0));
	(void)close(b.out[1]);
	b.out[1] = -1;
	box_read_all(b.out[0], out, sizeof(out));
	cr_assert(eq(str, out,
		     "null-ok\n3\nurandom-ok\nrandom-ok\nNo space left on device\n"
		     "Operation not permitted\n"));
	box_done(&b);
}

Test(devices, a_terminal_works_under_deny_all)
{
	struct box b;
	struct husk_err err = {0};
	struct husk_container *c = NULL;
	char out[1024];

	box_init(&b, "dev-tty");
	json_object_set_new(json_object_get(b.cfg, "linux"), "resources",
			    json_pack("{s:[{s:b,s:s}]}", "devices", "allow", 0, "access", "rwm"));
	json_t *proc = json_object_get(b.cfg, "process");
	json_object_set_new(proc, "terminal", json_true());
	box_set_args(&b, "tty; echo hi >/dev/tty && echo tty-ok");
	cr_assert(eq(int, box_create(&b, "dev-tty", &c, &err), 0), "%s", err.msg);
	int console = husk_container_take_console(c);
	cr_assert(console >= 0);
	cr_assert(eq(int, husk_container_start(c, &err), 0), "%s", err.msg);
	cr_assert(eq(int, box_finish(c), 0));
	/* The pty keeps the output until the master is read (the slave side has closed:
	 * reads end with EIO). */
	size_t n = 0;
	ssize_t r;
	while (n + 1 < sizeof(out) && (r = read(console, out + n, sizeof(out) - 1 - n)) > 0)
		n += (size_t)r;
	out[n] = '\0';
	(void)close(console);
	cr_assert(eq(str, out, "/dev/pts/0\r\nhi\r\ntty-ok\r\n"));
	box_done(&b);
}
