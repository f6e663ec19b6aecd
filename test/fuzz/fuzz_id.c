/*
 * IDs and state-file names: validation never reads past the string, a parsed name builds
 * back to itself, and a valid full id survives the file-name round trip.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "husk/err.h"
#include "husk/id.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	struct husk_err err = {0};
	if (husk_id_valid(s) != (husk_id_check(s, "container", &err) == 0))
		abort();

	const char *suffixes[] = {".state", ".lock", ""};
	for (size_t i = 0; i < 3; i++) {
		struct husk_full_id id;
		if (husk_full_id_parse_filename(s, suffixes[i], &id, &err) < 0)
			continue;
		if (!husk_id_valid(id.sandbox) || !husk_id_valid(id.container))
			abort();
		char name[512];
		/* Names longer than HUSK_FILENAME_MAX parse but are never built. */
		if (husk_full_id_filename(&id, suffixes[i], name, sizeof(name)) == 0 &&
		    strcmp(name, s) != 0)
			abort();
	}

	/* Split the input at its first byte '|' into {sandbox, container}. */
	char *bar = strchr(s, '|');
	if (bar) {
		*bar = '\0';
		struct husk_full_id id, back;
		char name[512];
		if (husk_full_id_set(&id, s, bar + 1, &err) == 0 &&
		    husk_full_id_filename(&id, ".state", name, sizeof(name)) == 0) {
			if (husk_full_id_parse_filename(name, ".state", &back, &err) < 0 ||
			    strcmp(back.sandbox, id.sandbox) != 0 ||
			    strcmp(back.container, id.container) != 0)
				abort();
		}
	}
	free(s);
	return 0;
}
