# Runtime core: ids, status machine, state files, registry, child processes, the husk CLI.
# Suites that include runtime/src/ private headers (fs.h, state_file.h) add that directory.
set(HUSK_RUNTIME_SRC_DIR ${PROJECT_SOURCE_DIR}/runtime/src)

husk_criterion_test(NAME unit-id SOURCES unit/test_id.c LIBS husk::runtime LABELS unit)
target_include_directories(test-unit-id PRIVATE ${HUSK_RUNTIME_SRC_DIR})

husk_criterion_test(NAME unit-status SOURCES unit/test_status.c LIBS husk::runtime LABELS unit)

husk_criterion_test(NAME unit-mountinfo SOURCES unit/test_mountinfo.c LIBS husk::runtime
	LABELS unit)
target_include_directories(test-unit-mountinfo PRIVATE ${HUSK_RUNTIME_SRC_DIR})

husk_criterion_test(NAME unit-state-file
	SOURCES unit/test_state_file.c unit/state_test.c LIBS husk::runtime LABELS unit)
target_include_directories(test-unit-state-file PRIVATE ${HUSK_RUNTIME_SRC_DIR})

husk_criterion_test(NAME unit-registry
	SOURCES unit/test_registry.c unit/state_test.c LIBS husk::runtime LABELS unit)

husk_criterion_test(NAME unit-state-faults
	SOURCES unit/test_state_faults.c unit/state_test.c
	LIBS husk::runtime -Wl,--wrap=fsync,--wrap=fdatasync,--wrap=renameat,--wrap=write LABELS unit)

husk_criterion_test(NAME root-process SOURCES root/test_process.c LIBS husk::runtime LABELS root)

# The fork recipe the runtime and the shim share (husk/spawn.h), on real children.
husk_criterion_test(NAME unit-spawn SOURCES unit/test_spawn.c LIBS husk::runtime LABELS unit)

if(TARGET husk)
	husk_criterion_test(NAME unit-cli
		SOURCES unit/test_cli.c unit/state_test.c LIBS husk::runtime LABELS unit)
	add_dependencies(test-unit-cli husk)
endif()

# Fuzz targets of the core (state codec, ids): the corpus replays as a unit test through
# test/fuzz/replay_main.c; libFuzzer binaries with HUSK_FUZZ_LIBFUZZER (see fuzz.cmake).
husk_fuzz_target(NAME state LIBS husk::runtime)
husk_fuzz_target(NAME id LIBS husk::runtime)

if(TARGET husk)
	husk_criterion_test(NAME root-cli-cgroup
		SOURCES root/test_cli_cgroup.c unit/state_test.c LIBS husk::runtime LABELS root)
	target_include_directories(test-root-cli-cgroup PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/unit)
	add_dependencies(test-root-cli-cgroup husk)
endif()

husk_criterion_test(NAME unit-id-spec SOURCES unit/test_id_spec.c LIBS husk::runtime LABELS unit)

if(TARGET husk)
	husk_criterion_test(NAME root-cli-container
		SOURCES root/test_cli_container.c root/box.c
		LIBS husk::runtime PkgConfig::JANSSON LABELS root JOBS 2 TIMEOUT 300)
	add_dependencies(test-root-cli-container husk)
endif()

# The husk config file a CRI runtime handler's ConfigPath names.
husk_criterion_test(NAME unit-engine-config SOURCES unit/test_engine_config.c
	LIBS husk::runtime LABELS unit)

# Hooks with a state larger than a pipe's buffer: bounded by their timeout, no SIGPIPE.
husk_criterion_test(NAME unit-hooks-run SOURCES unit/test_hooks_run.c
	LIBS husk::runtime LABELS unit)
target_include_directories(test-unit-hooks-run PRIVATE ${PROJECT_SOURCE_DIR}/runtime/src)
