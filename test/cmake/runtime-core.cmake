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

# Fuzz targets of the core (state codec, ids): the corpus replays as a unit test through
# test/fuzz/replay_main.c; libFuzzer binaries with HUSK_FUZZ_LIBFUZZER (see fuzz.cmake).
if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/replay_main.c)
	foreach(name state id)
		set(src ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_${name}.c)
		set(corpus ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/${name})
		add_executable(fuzz-replay-${name} ${src} ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/replay_main.c)
		target_link_libraries(fuzz-replay-${name} PRIVATE husk::runtime husk_strict_tests)
		add_test(NAME fuzz-replay-${name} COMMAND fuzz-replay-${name} ${corpus})
		set_tests_properties(fuzz-replay-${name} PROPERTIES
			TIMEOUT 120
			LABELS unit
			ENVIRONMENT "ASAN_OPTIONS=abort_on_error=1:detect_leaks=1;UBSAN_OPTIONS=print_stacktrace=1"
			FAIL_REGULAR_EXPRESSION "${HUSK_SANITIZER_FAIL_REGEX}")
		if(VALGRIND AND NOT HUSK_SANITIZE)
			add_test(NAME valgrind-fuzz-replay-${name}
				COMMAND ${VALGRIND} --leak-check=full
					--errors-for-leak-kinds=definite,indirect --error-exitcode=99
					--suppressions=${CMAKE_CURRENT_SOURCE_DIR}/valgrind.supp
					$<TARGET_FILE:fuzz-replay-${name}> ${corpus})
			set_tests_properties(valgrind-fuzz-replay-${name} PROPERTIES
				TIMEOUT 600 LABELS valgrind
				FAIL_REGULAR_EXPRESSION "ERROR SUMMARY: [1-9]")
		endif()
		if(HUSK_FUZZ_LIBFUZZER)
			add_executable(fuzz-${name} ${src})
			target_compile_options(fuzz-${name} PRIVATE -fsanitize=fuzzer)
			target_link_options(fuzz-${name} PRIVATE -fsanitize=fuzzer)
			target_link_libraries(fuzz-${name} PRIVATE husk::runtime husk_strict_tests)
		endif()
	endforeach()
endif()

if(TARGET husk)
	husk_criterion_test(NAME root-cli-cgroup
		SOURCES root/test_cli_cgroup.c unit/state_test.c LIBS husk::runtime LABELS root)
	target_include_directories(test-root-cli-cgroup PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/unit)
	add_dependencies(test-root-cli-cgroup husk)
endif()

husk_criterion_test(NAME unit-id-spec SOURCES unit/test_id_spec.c LIBS husk::runtime LABELS unit)
