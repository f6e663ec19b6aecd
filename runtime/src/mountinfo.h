/*
 * /proc/<pid>/mountinfo (proc(5)), split by one parser: whatever in husk reads a mount table
 * (the cgroup layout, `husk check`) goes through it.
 */
#pragma once

#include <stdbool.h>

struct husk_err;

/* One line's fields; the strings point into the line that was split. */
struct husk_mountinfo_entry {
	const char *root;	 /* field 4: the mount's root within its filesystem, unescaped */
	const char *mount_point; /* field 5, unescaped */
	const char *mount_opts;	 /* field 6: per-mount options */
	const char *fstype;	 /* first field after the " - " separator */
	const char *source;	 /* unescaped; "" when the line has none */
	const char *super_opts;	 /* per-superblock options; "" when the line has none */
};

/*
 * Split one line in place (a trailing newline is ignored), unescaping the octal escapes of
 * the path fields (\040 for a space). HUSK_ERR_INVALID naming what is missing ("mountinfo:
 * short line", "mountinfo: no ' - ' separator", "mountinfo: no fs type").
 */
int husk__mountinfo_split(char *line, struct husk_mountinfo_entry *ret, struct husk_err *err);

/* True when the comma-separated list opts holds opt exactly. */
bool husk__mountinfo_has_opt(const char *opts, const char *opt);
