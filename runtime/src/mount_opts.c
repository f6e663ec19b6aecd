#include "mount_opts.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sys/mount.h>

#include "husk/cleanup.h"
#include "husk/err.h"

/* An option's effect on a (set, cleared) pair: set |= on, set &= ~off, and the reverse. */
struct opt_bits {
	const char *name;
	unsigned long on;
	unsigned long off;
};

static const struct opt_bits ms_options[] = {
	{"defaults", 0, 0},
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
};

/*
 * Recursive attributes. The atime ones are a mode, not a bit: setting one must clear the
 * whole MOUNT_ATTR__ATIME field (the kernel refuses a mode without it), so "off" carries
 * the mask and "on" the mode (RELATIME is 0).
 */
static const struct opt_bits attr_options[] = {
	{"rro", MOUNT_ATTR_RDONLY, 0},
	{"rrw", 0, MOUNT_ATTR_RDONLY},
	{"rnosuid", MOUNT_ATTR_NOSUID, 0},
	{"rsuid", 0, MOUNT_ATTR_NOSUID},
	{"rnodev", MOUNT_ATTR_NODEV, 0},
	{"rdev", 0, MOUNT_ATTR_NODEV},
	{"rnoexec", MOUNT_ATTR_NOEXEC, 0},
	{"rexec", 0, MOUNT_ATTR_NOEXEC},
	{"rnodiratime", MOUNT_ATTR_NODIRATIME, 0},
	{"rdiratime", 0, MOUNT_ATTR_NODIRATIME},
	{"rnosymfollow", MOUNT_ATTR_NOSYMFOLLOW, 0},
	{"rsymfollow", 0, MOUNT_ATTR_NOSYMFOLLOW},
	{"rrelatime", MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME},
	{"ratime", MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME},
	{"rnostrictatime", MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME},
	{"rnoatime", MOUNT_ATTR_NOATIME, MOUNT_ATTR__ATIME},
	{"rstrictatime", MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME},
	{"rnorelatime", MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME},
};

static const struct {
	const char *name;
	unsigned long flag;
	bool rec;
} propagations[] = {
	{"shared", MS_SHARED, false},	      {"rshared", MS_SHARED, true},
	{"slave", MS_SLAVE, false},	      {"rslave", MS_SLAVE, true},
	{"private", MS_PRIVATE, false},	      {"rprivate", MS_PRIVATE, true},
	{"unbindable", MS_UNBINDABLE, false}, {"runbindable", MS_UNBINDABLE, true},
};

static const struct opt_bits *find(const struct opt_bits *t, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(t[i].name, name) == 0)
			return &t[i];
	return NULL;
}

static bool apply_propagation(const char *o, struct husk_mount_opts *m)
{
	for (size_t i = 0; i < ARRAY_SIZE(propagations); i++) {
		if (strcmp(propagations[i].name, o) == 0) {
			m->propagation = propagations[i].flag;
			m->propagation_rec = propagations[i].rec;
			return true;
		}
	}
	return false;
}

static bool apply_special(const char *o, struct husk_mount_opts *m)
{
	if (strcmp(o, "bind") == 0) {
		m->bind = true;
	} else if (strcmp(o, "rbind") == 0) {
		m->bind = true;
		m->recursive = true;
	} else if (strcmp(o, "remount") == 0) {
		m->remount = true;
	} else if (strcmp(o, "idmap") == 0 || strcmp(o, "ridmap") == 0) {
		m->idmap = true;
		m->idmap_rec = o[0] == 'r';
	} else if (strcmp(o, "tmpcopyup") == 0) {
		m->tmpcopyup = true;
	} else {
		return apply_propagation(o, m);
	}
	return true;
}

const char *husk__mount_opt_invalid(const char *option)
{
	if (!option || !option[0])
		return "empty option";
	if (strchr(option, ','))
		return "contains ','";
	return NULL;
}

/* Apply a known option to m; false when it is filesystem data. */
static bool apply_one(const char *o, struct husk_mount_opts *m)
{
	const struct opt_bits *b = find(ms_options, ARRAY_SIZE(ms_options), o);

	if (b) {
		m->flags = (m->flags & ~b->off) | b->on;
		m->cleared = (m->cleared & ~b->on) | b->off;
		return true;
	}
	b = find(attr_options, ARRAY_SIZE(attr_options), o);
	if (b) {
		m->attr_set = (m->attr_set & ~(uint64_t)b->off) | b->on;
		m->attr_clr = (m->attr_clr & ~(uint64_t)b->on) | b->off;
		return true;
	}
	return apply_special(o, m);
}

/* The data options of options[0..n), joined by ',', into one allocation of size bytes. */
static char *join_data(char *const *options, size_t n, const bool *is_data, size_t size)
{
	char *d = malloc(size);
	size_t o = 0;

	if (!d)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (!is_data[i])
			continue;
		if (o)
			d[o++] = ',';
		size_t len = strlen(options[i]);
		memcpy(d + o, options[i], len);
		o += len;
	}
	d[o] = '\0';
	return d;
}

/*
 * Apply each flag option to m; mark the others as filesystem data in is_data, and their
 * joined size (separators included) in *ret_size.
 */
static int classify(char *const *options, size_t n, struct husk_mount_opts *m, bool *is_data,
		    size_t *ret_size, struct husk_err *err)
{
	size_t size = 0;

	for (size_t i = 0; i < n; i++) {
		const char *why = husk__mount_opt_invalid(options[i]);
		if (why)
			return husk_err_set(err, HUSK_ERR_INVALID, 0, "options[%zu]: %s", i, why);
		if (!apply_one(options[i], m)) {
			is_data[i] = true;
			size += strlen(options[i]) + 1;
		}
	}
	*ret_size = size;
	return 0;
}

int husk__mount_opts_parse(char *const *options, size_t n, struct husk_mount_opts *ret,
			   struct husk_err *err)
{
	struct husk_mount_opts m = {0};
	size_t size = 0;

	*ret = (struct husk_mount_opts){0};
	bool *is_data = calloc(n ? n : 1, sizeof(bool));
	if (!is_data)
		return husk_err_errno(err, ENOMEM, "mount options");
	int r = classify(options, n, &m, is_data, &size, err);
	if (r == 0 && size > 0) {
		m.data = join_data(options, n, is_data, size);
		if (!m.data)
			r = husk_err_errno(err, ENOMEM, "mount options");
	}
	free(is_data);
	if (r < 0)
		return r;
	*ret = m;
	return 0;
}

void husk__mount_opts_done(struct husk_mount_opts *o)
{
	if (!o)
		return;
	free(o->data);
	*o = (struct husk_mount_opts){0};
}

const char *husk__mount_opt_name(size_t i)
{
	static const char *const special[] = {"bind", "rbind", "idmap", "ridmap", "tmpcopyup"};

	if (i < ARRAY_SIZE(ms_options))
		return ms_options[i].name;
	i -= ARRAY_SIZE(ms_options);
	if (i < ARRAY_SIZE(attr_options))
		return attr_options[i].name;
	i -= ARRAY_SIZE(attr_options);
	if (i < ARRAY_SIZE(propagations))
		return propagations[i].name;
	i -= ARRAY_SIZE(propagations);
	return i < ARRAY_SIZE(special) ? special[i] : NULL;
}
