#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sys/stat.h>

#include "cli.h"
#include "husk/container.h"

int cli_open_root(const struct cli *cli, struct husk_state_root **ret, struct husk_err *err)
{
	struct stat st;
	if (stat(cli->root_path, &st) < 0) {
		if (errno == ENOENT)
			return husk_err_set(err, HUSK_ERR_NOT_FOUND, 0,
					    "state root '%s' does not exist", cli->root_path);
		return husk_err_errno(err, errno, "state root '%s'", cli->root_path);
	}
	if (!S_ISDIR(st.st_mode))
		return husk_err_set(err, HUSK_ERR_INVALID, ENOTDIR, "state root '%s'",
				    cli->root_path);
	return husk_state_root_open(cli->root_path, ret, err);
}

int cli_open_runtime(const struct cli *cli, bool create, struct husk_runtime **ret,
		     struct husk_err *err)
{
	struct husk_runtime_config cfg = {.root = cli->root_path};
	struct stat st;

	if (!create && stat(cli->root_path, &st) < 0 && errno == ENOENT)
		return husk_err_set(err, HUSK_ERR_NOT_FOUND, 0, "state root '%s' does not exist",
				    cli->root_path);
	return husk_runtime_open(&cfg, ret, err);
}

int cli_load(const struct cli *cli, const char *id, struct husk_runtime **ret_rt,
	     struct husk_container **ret, struct husk_err *err)
{
	struct husk_runtime *rt = NULL;
	int r = cli_open_runtime(cli, /* create= */ false, &rt, err);

	if (r < 0)
		return err->kind == HUSK_ERR_NOT_FOUND
			       ? husk_err_set(err, HUSK_ERR_NOT_FOUND, 0,
					      "container '%s' not found", id)
			       : r;
	r = husk_container_load(rt, id, ret, err);
	if (r < 0) {
		husk_runtime_free(rt);
		return r;
	}
	*ret_rt = rt;
	return 0;
}

int cli_find(const struct cli *cli, const char *id, bool lock, struct husk_state_root **ret_root,
	     struct husk_state_handle **ret, struct husk_err *err)
{
	struct husk_state_root *root = NULL;
	int r = cli_open_root(cli, &root, err);
	if (r < 0) {
		if (err->kind == HUSK_ERR_NOT_FOUND)
			return husk_err_set(err, HUSK_ERR_NOT_FOUND, 0, "container '%s' not found",
					    id);
		return r;
	}
	r = husk_state_find(root, id, lock, ret, err);
	if (r < 0) {
		husk_state_root_free(root);
		return r;
	}
	*ret_root = root;
	return 0;
}

void cli_json_string(FILE *f, const char *s)
{
	(void)fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			(void)fprintf(f, "\\%c", *p);
		else if (*p < 0x20)
			(void)fprintf(f, "\\u%04x", *p);
		else
			(void)fputc(*p, f);
	}
	(void)fputc('"', f);
}

void cli_format_time(int64_t ns, char *buf, size_t size)
{
	if (ns <= 0) {
		(void)snprintf(buf, size, "-");
		return;
	}
	time_t secs = (time_t)(ns / 1000000000);
	struct tm tm;
	char day[64];
	if (!gmtime_r(&secs, &tm) || strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
		(void)snprintf(buf, size, "%lld", (long long)ns);
		return;
	}
	(void)snprintf(buf, size, "%s.%09lldZ", day, (long long)(ns % 1000000000));
}

int cli_parse_signal(const char *s, int *ret)
{
	if (!s || !*s)
		return -EINVAL;
	if (isdigit((unsigned char)s[0])) {
		char *end = NULL;
		errno = 0;
		long v = strtol(s, &end, 10);
		if (errno || *end || v < 1 || v > SIGRTMAX)
			return -EINVAL;
		*ret = (int)v;
		return 0;
	}
	const char *name = strncasecmp(s, "SIG", 3) == 0 ? s + 3 : s;
	for (int sig = 1; sig < SIGRTMIN; sig++) {
		const char *abbrev = sigabbrev_np(sig);
		if (abbrev && strcasecmp(abbrev, name) == 0) {
			*ret = sig;
			return 0;
		}
	}
	return -EINVAL;
}
