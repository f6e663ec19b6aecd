/* The one mountinfo parser (see mountinfo.h). */
#include "mountinfo.h"

#include <string.h>

#include "husk/err.h"

/* Decode mountinfo's octal escapes (\040 for a space) in place. */
static void unescape(char *s)
{
	char *w = s;

	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
		    r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)(((r[1] - '0') << 6) | ((r[2] - '0') << 3) | (r[3] - '0'));
			r += 3;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
}

/*
 * "id parent major:minor root mount-point mount-opts [optional fields...] - fstype source
 * super-opts": six fields, any number of optional ones, the separator, three more.
 */
int husk__mountinfo_split(char *line, struct husk_mountinfo_entry *ret, struct husk_err *err)
{
	char *fields[6];
	char *save = NULL;
	int n = 0;

	line[strcspn(line, "\n")] = '\0';
	char *f = strtok_r(line, " ", &save);
	for (; f && n < 6; n++) {
		fields[n] = f;
		f = strtok_r(NULL, " ", &save);
	}
	if (n < 6)
		return husk_err_set(err, HUSK_ERR_INVALID, 0, "mountinfo: short line");
	while (f && strcmp(f, "-") != 0)
		f = strtok_r(NULL, " ", &save);
	if (!f)
		return husk_err_set(err, HUSK_ERR_INVALID, 0, "mountinfo: no ' - ' separator");
	char *fstype = strtok_r(NULL, " ", &save);
	if (!fstype)
		return husk_err_set(err, HUSK_ERR_INVALID, 0, "mountinfo: no fs type");
	char *source = strtok_r(NULL, " ", &save);
	char *super_opts = source ? strtok_r(NULL, " ", &save) : NULL;
	unescape(fields[3]);
	unescape(fields[4]);
	if (source)
		unescape(source);
	*ret = (struct husk_mountinfo_entry){
		.root = fields[3],
		.mount_point = fields[4],
		.mount_opts = fields[5],
		.fstype = fstype,
		.source = source ? source : "",
		.super_opts = super_opts ? super_opts : "",
	};
	return 0;
}

bool husk__mountinfo_has_opt(const char *opts, const char *opt)
{
	size_t len = strlen(opt);

	for (const char *p = opts; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
		if (strncmp(p, opt, len) == 0 && (p[len] == ',' || p[len] == '\0'))
			return true;
	return false;
}
