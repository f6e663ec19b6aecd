# Fuzzers (test/fuzz/fuzz_<name>.c with LLVMFuzzerTestOneInput). In every build the corpus
# test/fuzz/corpus/<name>/ is replayed through the same entry point by replay_main.c, as a
# unit test (and under valgrind in non-sanitizer builds). hack/fuzz.sh configures a clang
# build with HUSK_FUZZ_LIBFUZZER=ON to get the libFuzzer binaries fuzz-<name>.
option(HUSK_FUZZ_LIBFUZZER "Build libFuzzer binaries (clang, -fsanitize=fuzzer)" OFF)

if(NOT TARGET husk::ttrpc)
	return()
endif()

foreach(name frame dispatch)
	set(src ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_${name}.c)
	set(corpus ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/${name})
	add_executable(fuzz-replay-${name} ${src} ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/replay_main.c)
	target_link_libraries(fuzz-replay-${name} PRIVATE husk_ttrpc_internal husk_strict_tests)
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
		target_link_libraries(fuzz-${name} PRIVATE husk_ttrpc_internal husk_strict_tests)
	endif()
endforeach()
