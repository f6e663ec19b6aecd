/* OCI mount options → mount(2) flags, propagation, mount_setattr attributes and data. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sys/mount.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "husk/err.h"
#include "husk/spec.h"
#include "mount_opts.h"
#include "test_spec_util.h"

TestSuite(mount_opts, .timeout = 30);

#define PARSE(m, ...)                                                                      \
	do {                                                                               \
		static char *const _o[] = {__VA_ARGS__};                                   \
		struct husk_err _e = {0};                                                  \
		int _r = husk__mount_opts_parse(_o, sizeof(_o) / sizeof(_o[0]), (m), &_e); \
		cr_assert(eq(int, _r, 0), "%s", _e.msg);                                   \
	} while (0)

Test(mount_opts, none)
{
	struct husk_mount_opts m;
	struct husk_err err = {0};

	memset(&m, 0xff, sizeof(m));
	cr_assert(eq(int, husk__mount_opts_parse(NULL, 0, &m, &err), 0));
	cr_assert(eq(ulong, m.flags, 0));
	cr_assert(not(m.bind));
	cr_assert(eq(ulong, m.propagation, 0));
	cr_assert(m.data == NULL);
	husk__mount_opts_done(&m);
	husk__mount_opts_done(NULL);
}

/* ctr's /proc, /dev and /dev/pts mounts */
Test(mount_opts, ctr_defaults)
{
	struct husk_mount_opts m;

	PARSE(&m, "nosuid", "noexec", "nodev");
	cr_assert(eq(ulong, m.flags, MS_NOSUID | MS_NOEXEC | MS_NODEV));
	cr_assert(m.data == NULL);
	husk__mount_opts_done(&m);

	PARSE(&m, "nosuid", "strictatime", "mode=755", "size=65536k");
	cr_assert(eq(ulong, m.flags, MS_NOSUID | MS_STRICTATIME));
	cr_assert(eq(str, m.data, "mode=755,size=65536k"));
	husk__mount_opts_done(&m);
	cr_assert(m.data == NULL);

	PARSE(&m, "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5");
	cr_assert(eq(ulong, m.flags, MS_NOSUID | MS_NOEXEC));
	cr_assert(eq(str, m.data, "newinstance,ptmxmode=0666,mode=0620,gid=5"));
	husk__mount_opts_done(&m);
}

/* CRI's volume mounts */
Test(mount_opts, bind_and_propagation)
{
	struct husk_mount_opts m;

	PARSE(&m, "rbind", "rprivate", "ro");
	cr_assert(m.bind);
	cr_assert(m.recursive);
	cr_assert(eq(ulong, m.flags, MS_RDONLY));
	cr_assert(eq(ulong, m.flags & (MS_BIND | MS_REC | MS_PRIVATE), 0));
	cr_assert(eq(ulong, m.propagation, MS_PRIVATE));
	cr_assert(m.propagation_rec);
	husk__mount_opts_done(&m);

	PARSE(&m, "bind", "shared");
	cr_assert(m.bind);
	cr_assert(not(m.recursive));
	cr_assert(eq(ulong, m.propagation, MS_SHARED));
	cr_assert(not(m.propagation_rec));
	husk__mount_opts_done(&m);

	/* the last propagation wins */
	PARSE(&m, "rslave", "unbindable");
	cr_assert(eq(ulong, m.propagation, MS_UNBINDABLE));
	cr_assert(not(m.propagation_rec));
	husk__mount_opts_done(&m);
	PARSE(&m, "slave", "rshared", "runbindable", "private", "rslave");
	cr_assert(eq(ulong, m.propagation, MS_SLAVE));
	cr_assert(m.propagation_rec);
	husk__mount_opts_done(&m);
}

/* Later options win, and what was turned off explicitly is recorded. */
Test(mount_opts, later_wins_and_cleared)
{
	struct husk_mount_opts m;

	PARSE(&m, "ro", "rw");
	cr_assert(eq(ulong, m.flags, 0));
	cr_assert(eq(ulong, m.cleared, MS_RDONLY));
	husk__mount_opts_done(&m);

	PARSE(&m, "rw", "ro", "suid", "nosuid", "exec", "dev");
	cr_assert(eq(ulong, m.flags, MS_RDONLY | MS_NOSUID));
	cr_assert(eq(ulong, m.cleared, MS_NOEXEC | MS_NODEV));
	husk__mount_opts_done(&m);
}

Test(mount_opts, every_flag)
{
	static const struct {
		const char *name;
		unsigned long on, off;
	} t[] = {
		{"ro", MS_RDONLY, 0},
		{"rw", 0, MS_RDONLY},
		{"nosuid", MS_NOSUID, 0},
		{"suid", 0, MS_NOSUID},
		{"nodev", MS_NODEV, 0},
		{"dev", 0, MS_NODEV},
		{"noexec", MS_NOEXEC, 0},
		{"exec", 0, MS_NOEXEC},
		{"sync", MS_SYNCHRONOUS, 0},
		{"async", 0, MS_SYNCHRONOUS},
		{"dirsync", MS_DIRSYNC, 0},
		{"mand", MS_MANDLOCK, 0},
		{"nomand", 0, MS_MANDLOCK},
		{"noatime", MS_NOATIME, 0},
		{"atime", 0, MS_NOATIME},
		{"nodiratime", MS_NODIRATIME, 0},
		{"diratime", 0, MS_NODIRATIME},
		{"relatime", MS_RELATIME, 0},
		{"norelatime", 0, MS_RELATIME},
		{"strictatime", MS_STRICTATIME, 0},
		{"nostrictatime", 0, MS_STRICTATIME},
		{"lazytime", MS_LAZYTIME, 0},
		{"nolazytime", 0, MS_LAZYTIME},
		{"iversion", MS_I_VERSION, 0},
		{"noiversion", 0, MS_I_VERSION},
		{"silent", MS_SILENT, 0},
		{"loud", 0, MS_SILENT},
		{"nosymfollow", MS_NOSYMFOLLOW, 0},
		{"symfollow", 0, MS_NOSYMFOLLOW},
		{"defaults", 0, 0},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char *o[] = {(char *)t[i].name};
		struct husk_mount_opts m;
		struct husk_err err = {0};
		cr_assert(eq(int, husk__mount_opts_parse(o, 1, &m, &err), 0));
		cr_expect(eq(ulong, m.flags, t[i].on), "%s", t[i].name);
		cr_expect(eq(ulong, m.cleared, t[i].off), "%s", t[i].name);
		cr_expect(m.data == NULL, "%s", t[i].name);
		cr_expect(eq(u64, m.attr_set | m.attr_clr, 0), "%s", t[i].name);
		husk__mount_opts_done(&m);
	}
}

Test(mount_opts, remount_idmap_tmpcopyup)
{
	struct husk_mount_opts m;

	PARSE(&m, "remount", "ro", "idmap", "tmpcopyup");
	cr_assert(m.remount);
	cr_assert(eq(ulong, m.flags, MS_RDONLY));
	cr_assert(m.idmap);
	cr_assert(not(m.idmap_rec));
	cr_assert(m.tmpcopyup);
	cr_assert(m.data == NULL);
	husk__mount_opts_done(&m);
	PARSE(&m, "ridmap");
	cr_assert(m.idmap && m.idmap_rec);
	husk__mount_opts_done(&m);
}

/* OCI 1.1 recursive attributes, for mount_setattr(AT_RECURSIVE). */
Test(mount_opts, recursive_attributes)
{
	struct husk_mount_opts m;

	PARSE(&m, "rbind", "rro", "rnosuid", "rnodev", "rnoexec", "rnosymfollow", "rnodiratime");
	cr_assert(eq(ulong, m.flags, 0));
	cr_assert(eq(u64, m.attr_set,
		     MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC |
			     MOUNT_ATTR_NOSYMFOLLOW | MOUNT_ATTR_NODIRATIME));
	cr_assert(eq(u64, m.attr_clr, 0));
	husk__mount_opts_done(&m);

	PARSE(&m, "rro", "rrw", "rsuid", "rdev", "rexec", "rsymfollow", "rdiratime");
	cr_assert(eq(u64, m.attr_set, 0));
	cr_assert(eq(u64, m.attr_clr,
		     MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC |
			     MOUNT_ATTR_NOSYMFOLLOW | MOUNT_ATTR_NODIRATIME));
	husk__mount_opts_done(&m);

	/* atime is a mode: the whole field is cleared, one mode set, the last one wins */
	PARSE(&m, "rnoatime");
	cr_assert(eq(u64, m.attr_set, MOUNT_ATTR_NOATIME));
	cr_assert(eq(u64, m.attr_clr, MOUNT_ATTR__ATIME));
	husk__mount_opts_done(&m);
	PARSE(&m, "rnoatime", "rstrictatime");
	cr_assert(eq(u64, m.attr_set, MOUNT_ATTR_STRICTATIME));
	cr_assert(eq(u64, m.attr_clr, MOUNT_ATTR__ATIME));
	husk__mount_opts_done(&m);
	PARSE(&m, "rstrictatime", "rrelatime", "rro");
	cr_assert(eq(u64, m.attr_set, MOUNT_ATTR_RELATIME | MOUNT_ATTR_RDONLY));
	cr_assert(eq(u64, m.attr_clr, MOUNT_ATTR__ATIME));
	husk__mount_opts_done(&m);
	PARSE(&m, "ratime");
	cr_assert(eq(u64, m.attr_set, MOUNT_ATTR_RELATIME));
	cr_assert(eq(u64, m.attr_clr, MOUNT_ATTR__ATIME));
	husk__mount_opts_done(&m);
	PARSE(&m, "rnorelatime");
	cr_assert(eq(u64, m.attr_set, MOUNT_ATTR_STRICTATIME));
	husk__mount_opts_done(&m);
}

Test(mount_opts, data_keeps_order_and_unknown_options)
{
	struct husk_mount_opts m;

	PARSE(&m, "lowerdir=/a:/b", "ro", "upperdir=/u", "workdir=/w", "index=off", "userxattr");
	cr_assert(eq(ulong, m.flags, MS_RDONLY));
	cr_assert(eq(str, m.data, "lowerdir=/a:/b,upperdir=/u,workdir=/w,index=off,userxattr"));
	husk__mount_opts_done(&m);
}

Test(mount_opts, refuses_empty_and_comma)
{
	struct husk_mount_opts m;
	struct husk_err err = {0};
	char *empty[] = {"ro", "mode=1", ""};
	char *comma[] = {"size=1,mode=2"};

	cr_assert(eq(int, husk__mount_opts_parse(empty, 3, &m, &err), -EINVAL));
	cr_assert(eq(int, err.kind, HUSK_ERR_INVALID));
	cr_assert(eq(str, err.msg, "options[2]: empty option"));
	cr_assert(m.data == NULL);
	cr_assert(eq(int, husk__mount_opts_parse(comma, 1, &m, &err), -EINVAL));
	cr_assert(eq(str, err.msg, "options[0]: contains ','"));
	cr_assert(husk__mount_opt_invalid("ro") == NULL);
}

/* Every mount of the real fixtures goes through. */
Test(mount_opts, fixtures)
{
	static const char *const names[] = {"ctr-run-busybox.json", "ctr-run-seccomp.json",
					    "cri-sandbox.json", "cri-container.json", "full.json"};
	for (size_t f = 0; f < sizeof(names) / sizeof(names[0]); f++) {
		char *json = spec_fixture(names[f], NULL);
		struct husk_spec *s = spec_parse_ok(json);
		for (size_t i = 0; i < s->n_mounts; i++) {
			struct husk_mount_opts m;
			struct husk_err err = {0};
			int r = husk__mount_opts_parse(s->mounts[i].options, s->mounts[i].n_options,
						       &m, &err);
			cr_assert(eq(int, r, 0), "%s mounts[%zu]: %s", names[f], i, err.msg);
			if (strcmp(s->mounts[i].destination, "/sys") == 0)
				cr_assert(m.flags & MS_RDONLY);
			if (s->mounts[i].type && strcmp(s->mounts[i].type, "bind") == 0)
				cr_assert(m.bind, "%s mounts[%zu]", names[f], i);
			husk__mount_opts_done(&m);
		}
		husk_spec_free(s);
		free(json);
	}
}
