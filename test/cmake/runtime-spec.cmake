# OCI spec parsing (runtime/src/spec*.c, mount_opts.c): pure codecs, no root.
husk_criterion_test(NAME unit-spec
	SOURCES unit/test_spec.c unit/test_spec_full.c unit/test_spec_errors.c
		unit/test_spec_util.c
	LIBS husk::runtime LABELS unit)
