# OCI spec parsing (runtime/src/spec*.c, mount_opts.c): pure codecs, no root.
husk_criterion_test(NAME unit-spec
	SOURCES unit/test_spec.c unit/test_spec_full.c unit/test_spec_errors.c
		unit/test_spec_mount_opts.c unit/test_spec_util.c
	LIBS husk::runtime LABELS unit)
# mount_opts.h is library-internal (the native engine's plan uses it).
target_include_directories(test-unit-spec PRIVATE ${PROJECT_SOURCE_DIR}/runtime/src)
# Every allocation failure of a parse, once: our allocations through --wrap, jansson's
# counted through json_set_alloc_funcs().
husk_criterion_test(NAME unit-spec-oom
	SOURCES unit/test_spec_oom.c unit/test_spec_util.c
	LIBS husk::runtime PkgConfig::JANSSON
		-Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup
	LABELS unit TIMEOUT 600)
