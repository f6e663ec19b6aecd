/*
 * libFuzzer target for the OCI spec parsers. Each input goes through all three entry
 * points (config.json, the Exec process object, the Update resources object), then the
 * results are walked (lookups, mount options) and freed, so ASan/UBSan see every byte
 * that was built. The corpus in test/fuzz/corpus/spec/ is replayed in every build.
 */
#include <stddef.h>
#include <stdint.h>

#include "husk/err.h"
#include "husk/spec.h"
#include "mount_opts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void walk(const struct husk_spec *spec)
{
	for (size_t i = 0; i < spec->n_mounts; i++) {
		struct husk_mount_opts m;
		if (husk__mount_opts_parse(spec->mounts[i].options, spec->mounts[i].n_options, &m,
					   NULL) == 0)
			husk__mount_opts_done(&m);
	}
	for (int t = 0; t < _HUSK_NS_TYPE_MAX; t++)
		(void)husk_spec_namespace(spec, (enum husk_ns_type)t);
	for (size_t i = 0; i < spec->n_annotations; i++)
		(void)husk_spec_annotation(spec, spec->annotations[i].key);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *json = (const char *)data;
	struct husk_err err;
	struct husk_spec *spec = NULL;
	struct husk_process *process = NULL;
	struct husk_resources *resources = NULL;

	if (husk_spec_parse(json, size, &spec, &err) == 0) {
		walk(spec);
		husk_spec_free(spec);
	}
	if (husk_process_parse(json, size, &process, &err) == 0)
		husk_process_free(process);
	if (husk_resources_parse(json, size, &resources, &err) == 0)
		husk_resources_free(resources);
	return 0;
}
