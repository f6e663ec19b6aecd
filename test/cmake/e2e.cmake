# End-to-end suites: a private containerd per test (test/lib/containerd.c), driven by ctr.
#
# Each suite is registered twice from one executable:
#   e2e-<name>      label e2e      runtime io.containerd.husk.v2 (the shim under test);
#                                  only once the containerd-shim-husk-v2 target exists
#   e2e-ref-<name>  label e2e-ref  runtime io.containerd.runc.v2, the reference shim: a
#                                  test that fails there is a wrong test. Not run by
#                                  hack/test.sh; run it with `ctest -L e2e-ref`.
# The husk shim is found as $HUSK_BINARY_DIR/shim/containerd-shim-husk-v2 (or $HUSK_SHIM).
# While the shim cannot yet run containers, shim/CMakeLists.txt may keep it out of the e2e
# label with set_target_properties(containerd-shim-husk-v2 PROPERTIES HUSK_E2E_DISABLED ON).
# Every test starts its own containerd in its own namespace, so tests run in parallel.

set(HUSK_E2E_TIMEOUT 300)
set(HUSK_E2E_JOBS 2)

function(husk_e2e_suite name source)
	set(ref_env HUSK_E2E_RUNTIME=io.containerd.runc.v2)
	set(husk OFF)
	if(TARGET containerd-shim-husk-v2)
		get_target_property(disabled containerd-shim-husk-v2 HUSK_E2E_DISABLED)
		if(NOT disabled)
			set(husk ON)
		endif()
	endif()
	if(husk)
		husk_criterion_test(NAME e2e-${name} SOURCES ${source}
			LABELS e2e TIMEOUT ${HUSK_E2E_TIMEOUT} JOBS ${HUSK_E2E_JOBS}
			ENV HUSK_E2E_RUNTIME=io.containerd.husk.v2)
		add_dependencies(test-e2e-${name} containerd-shim-husk-v2)
		# The same executable against the reference shim.
		get_test_property(e2e-${name} ENVIRONMENT env)
		list(FILTER env EXCLUDE REGEX "^HUSK_E2E_RUNTIME=")
		list(APPEND env ${ref_env})
		get_test_property(e2e-${name} TIMEOUT timeout)
		add_test(NAME e2e-ref-${name} COMMAND test-e2e-${name}
			--jobs ${HUSK_E2E_JOBS} --timeout ${timeout})
		set_tests_properties(e2e-ref-${name} PROPERTIES
			TIMEOUT ${timeout} LABELS e2e-ref ENVIRONMENT "${env}"
			FAIL_REGULAR_EXPRESSION "${HUSK_SANITIZER_FAIL_REGEX}")
	else()
		husk_criterion_test(NAME e2e-ref-${name} SOURCES ${source}
			LABELS e2e-ref TIMEOUT ${HUSK_E2E_TIMEOUT} JOBS ${HUSK_E2E_JOBS}
			ENV ${ref_env})
	endif()
endfunction()

husk_e2e_suite(ctr-run e2e/test_ctr_run.c)
husk_e2e_suite(ctr-task e2e/test_ctr_task.c)
husk_e2e_suite(crash e2e/test_crash.c)

# Synchronous ttrpc calls and a recording Events server, for the protocol suite and benches.
if(TARGET husk::ttrpc)
	add_library(husk_ttsync STATIC ttlib/ttsync.c)
	target_include_directories(husk_ttsync PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/ttlib)
	target_link_libraries(husk_ttsync PUBLIC husk::ttrpc husk::api PRIVATE husk_strict_tests)
endif()

# The shim binary driven directly as containerd drives it (husk only: no reference run).
if(TARGET containerd-shim-husk-v2 AND TARGET husk::ttrpc)
	get_target_property(disabled containerd-shim-husk-v2 HUSK_E2E_DISABLED)
	if(disabled)
		set(proto_label e2e-wip)
	else()
		set(proto_label e2e)
	endif()
	husk_criterion_test(NAME e2e-shim-proto SOURCES e2e/test_shim_proto.c
		LIBS husk_ttsync PkgConfig::JANSSON LABELS ${proto_label} TIMEOUT ${HUSK_E2E_TIMEOUT}
		JOBS ${HUSK_E2E_JOBS})
	add_dependencies(test-e2e-shim-proto containerd-shim-husk-v2)
endif()

# One slow create in a pod stalls no other container: husk and the reference shim driven the
# same way over ttrpc in one test, both shims' latencies printed.
if(TARGET containerd-shim-husk-v2 AND TARGET husk::ttrpc)
	husk_criterion_test(NAME e2e-shim-loop SOURCES e2e/test_shim_loop.c
		LIBS husk_ttsync LABELS ${proto_label} TIMEOUT ${HUSK_E2E_TIMEOUT} JOBS 1)
	add_dependencies(test-e2e-shim-loop containerd-shim-husk-v2)
endif()

# Cases run through husk and the reference shim in the same test (one containerd, both
# runtimes), so there is no separate e2e-ref registration.
if(TARGET containerd-shim-husk-v2)
	husk_criterion_test(NAME e2e-compat SOURCES e2e/test_compat.c LIBS PkgConfig::JANSSON
		LABELS e2e TIMEOUT ${HUSK_E2E_TIMEOUT} JOBS ${HUSK_E2E_JOBS}
		ENV HUSK_E2E_RUNTIME=io.containerd.husk.v2)
	add_dependencies(test-e2e-compat containerd-shim-husk-v2)
endif()
husk_e2e_suite(pod e2e/test_pod.c)

# The .deb cpack makes of this build tree, installed into a fresh root with dpkg and run by
# a private containerd configured with the package's snippet (husk only).
if(TARGET containerd-shim-husk-v2)
	husk_criterion_test(NAME e2e-package SOURCES e2e/test_package.c
		LABELS e2e TIMEOUT ${HUSK_E2E_TIMEOUT} JOBS 1
		ENV HUSK_E2E_RUNTIME=io.containerd.husk.v2)
	add_dependencies(test-e2e-package containerd-shim-husk-v2 husk)
endif()

# The differential spec suite: each case runs through husk and through the reference shim
# on one private containerd, and what the containers see must match (test/e2e/spec_diff*).
if(TARGET containerd-shim-husk-v2)
	get_target_property(disabled containerd-shim-husk-v2 HUSK_E2E_DISABLED)
	if(NOT disabled)
		husk_criterion_test(NAME e2e-spec-diff
			SOURCES e2e/test_spec_diff.c e2e/spec_diff_cases.c
			LIBS PkgConfig::JANSSON LABELS e2e TIMEOUT 300 JOBS 1)
		add_dependencies(test-e2e-spec-diff containerd-shim-husk-v2)
		# The table leaves a case's trailing fields (flags, err) out when they are unset.
		set_source_files_properties(e2e/spec_diff_cases.c PROPERTIES
			COMPILE_OPTIONS -Wno-missing-field-initializers)
	endif()
endif()

husk_e2e_suite(deep-image e2e/test_deep_image.c)
