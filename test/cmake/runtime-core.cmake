# Runtime core: ids, status machine, state files, registry, child processes, the husk CLI.
# Suites that include runtime/src/ private headers (fs.h, state_file.h) add that directory.
set(HUSK_RUNTIME_SRC_DIR ${PROJECT_SOURCE_DIR}/runtime/src)

husk_criterion_test(NAME unit-id SOURCES unit/test_id.c LIBS husk::runtime LABELS unit)
target_include_directories(test-unit-id PRIVATE ${HUSK_RUNTIME_SRC_DIR})

husk_criterion_test(NAME unit-status SOURCES unit/test_status.c LIBS husk::runtime LABELS unit)

husk_criterion_test(NAME unit-state-file
	SOURCES unit/test_state_file.c unit/state_test.c LIBS husk::runtime LABELS unit)
target_include_directories(test-unit-state-file PRIVATE ${HUSK_RUNTIME_SRC_DIR})

husk_criterion_test(NAME unit-registry
	SOURCES unit/test_registry.c unit/state_test.c LIBS husk::runtime LABELS unit)

husk_criterion_test(NAME unit-state-faults
	SOURCES unit/test_state_faults.c unit/state_test.c
	LIBS husk::runtime -Wl,--wrap=fsync,--wrap=renameat,--wrap=write LABELS unit)

husk_criterion_test(NAME root-process SOURCES root/test_process.c LIBS husk::runtime LABELS root)

if(TARGET husk)
	husk_criterion_test(NAME unit-cli
		SOURCES unit/test_cli.c unit/state_test.c LIBS husk::runtime LABELS unit)
	add_dependencies(test-unit-cli husk)
endif()
