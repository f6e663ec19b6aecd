# Benchmark drivers (hack/bench/): built with the tests, run only by hack/bench/*.sh.
if(TARGET husk_ttsync)
	add_executable(bench-shim ${PROJECT_SOURCE_DIR}/hack/bench/bench_shim.c)
	target_link_libraries(bench-shim PRIVATE husk_ttsync husk_strict_tests)
endif()

# The kernel's floor for the same container and exec: no husk code at all.
add_executable(bench-floor ${PROJECT_SOURCE_DIR}/hack/bench/bench_floor.c)
target_link_libraries(bench-floor PRIVATE husk_strict_tests)
