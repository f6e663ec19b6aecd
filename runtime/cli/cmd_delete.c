/* `delete`: remove a container with no shim alive; --force kills it first. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "husk/log.h"

/* --force on a file too corrupt to load: remove it by name, if the id names exactly one. */
static int remove_corrupt(struct husk_state_root *root, const char *id, struct husk_err *err)
{
	struct husk_state_list l = {0};
	if (husk_state_list(root, NULL, &l, err) < 0)
		return husk_err_code(err);
	struct husk_full_id fid;
	int found = 0;
	for (size_t i = 0; i < l.n_problems; i++) {
		struct husk_full_id x;
		if (husk_full_id_parse_filename(l.problems[i].file, ".state", &x, NULL) == 0 &&
		    strcmp(x.container, id) == 0) {
			fid = x;
			found++;
		}
	}
	husk_state_list_done(&l);
	if (found != 1)
		return -ENOENT;
	husk_warn("removing unreadable state of container '%s' (sandbox '%s') without killing "
		  "its processes, continuing",
		  fid.container, fid.sandbox);
	return husk_state_remove_files(root, &fid, err);
}

/* Through the runtime, as the shim's delete: the engine kills what is left (--force), the
 * OCI runtime deletes its container, the cgroup goes with its nested ones, poststop hooks
 * run, the state goes. */
static int delete_one(const struct cli *cli, const char *id, bool force, struct husk_err *err)
{
	struct husk_runtime *rt = NULL;
	struct husk_container *c = NULL;
	int r = cli_load(cli, id, &rt, &c, err);

	if (r < 0 && force && err->kind == HUSK_ERR_INVALID) {
		struct husk_state_root *root = NULL;
		struct husk_err e = {0};
		if (cli_open_root(cli, &root, &e) == 0 && remove_corrupt(root, id, &e) == 0)
			r = 0;
		husk_state_root_free(root);
		return r;
	}
	if (r < 0)
		return r;
	if (strcmp(husk_container_full_id(c)->container, id) != 0)
		r = husk_err_set(err, HUSK_ERR_INVALID, 0,
				 "delete needs the full container id ('%s' is a prefix of '%s')",
				 id, husk_container_full_id(c)->container);
	else
		r = husk_container_delete(c, force, err);
	husk_container_free(c);
	husk_runtime_free(rt);
	return r;
}

int cli_cmd_delete(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"force", no_argument, NULL, 'f'}, {0}};
	bool force = false;
	int c;
	while ((c = getopt_long(argc, argv, "f", opts, NULL)) != -1) {
		if (c != 'f')
			return cli_usage("delete", "bad option");
		force = true;
	}
	if (argc - optind != 1)
		return cli_usage("delete",
				 optind >= argc ? "missing container id" : "too many arguments");
	const char *id = argv[optind];

	struct husk_err err = {0};
	int r = delete_one(cli, id, force, &err);
	/* Deleting what is already gone succeeds: delete is idempotent. */
	if (r < 0 && err.kind == HUSK_ERR_NOT_FOUND && husk_id_valid(id)) {
		(void)fprintf(stderr, "husk delete: container '%s' not found, nothing to delete\n",
			      id);
		return CLI_EXIT_OK;
	}
	return r < 0 ? cli_fail("delete", &err) : CLI_EXIT_OK;
}
