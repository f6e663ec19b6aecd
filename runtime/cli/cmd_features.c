/* husk features: the native engine's OCI runtime features document, as `runc features`. */
#include <stdio.h>

#include "cli.h"
#include "husk/cleanup.h"
#include "husk/features.h"

int cli_cmd_features(struct cli *cli, int argc, char **argv)
{
	struct husk_err err = {0};
	_cleanup_free_ char *doc = NULL;
	size_t len = 0;

	(void)cli;
	if (argc > 1)
		return cli_usage(argv[0], "unexpected argument '%s'", argv[1]);
	if (husk_features_json(/* pretty= */ true, &doc, &len, &err) < 0)
		return cli_fail(argv[0], &err);
	if (fwrite(doc, 1, len, stdout) != len) {
		perror("husk features: write");
		return CLI_EXIT_ERROR;
	}
	return CLI_EXIT_OK;
}
