# Native engine: pure plans and the sync protocol (unit), and the engine against real
# namespaces (root). The unit suites reach into runtime/src for the internal headers.
set(HUSK_NATIVE_SRC ${PROJECT_SOURCE_DIR}/runtime/src)

husk_criterion_test(NAME unit-plan SOURCES unit/test_plan.c LIBS husk::runtime LABELS unit)
target_include_directories(test-unit-plan PRIVATE ${HUSK_NATIVE_SRC})
husk_criterion_test(NAME unit-sync SOURCES unit/test_sync.c LIBS husk::runtime LABELS unit)
target_include_directories(test-unit-sync PRIVATE ${HUSK_NATIVE_SRC})
husk_criterion_test(NAME unit-lsm SOURCES unit/test_lsm.c LIBS husk::runtime LABELS unit)
target_include_directories(test-unit-lsm PRIVATE ${HUSK_NATIVE_SRC})

husk_criterion_test(NAME root-create-start SOURCES root/test_create_start.c
	LIBS husk::runtime PkgConfig::JANSSON LABELS root JOBS 2 TIMEOUT 300)

# Root suites sharing test/root/box.c (a busybox bundle per test from a per-run template).
function(husk_native_root_test name src)
	husk_criterion_test(NAME root-${name} SOURCES root/${src} root/box.c
		LIBS husk::runtime PkgConfig::JANSSON LABELS root JOBS 2 TIMEOUT 300 ${ARGN})
endfunction()
husk_native_root_test(exec test_exec.c)
husk_native_root_test(kill test_kill.c)
husk_native_root_test(pause test_pause.c)
husk_native_root_test(gofer test_gofer.c)
husk_native_root_test(fd-hygiene test_fd_hygiene.c)
husk_native_root_test(crash-cleanup test_crash_cleanup.c)
husk_native_root_test(lock test_lock.c)
target_include_directories(test-root-lock PRIVATE ${HUSK_NATIVE_SRC})
husk_native_root_test(devices test_devices.c)
husk_native_root_test(terminal test_terminal.c)
husk_native_root_test(hooks test_hooks.c)
husk_native_root_test(mounts test_mounts.c)
husk_native_root_test(lsm test_lsm.c)
husk_criterion_test(NAME root-mount-race SOURCES root/test_mount_race.c
	LIBS husk::runtime LABELS root TIMEOUT 120)
target_include_directories(test-root-mount-race PRIVATE ${HUSK_NATIVE_SRC})

# Three of those suites again with clone3 and close_range refused (test/helpers/enosys.c),
# as under Docker's default seccomp profile on a kernel older than 5.9: exec stages,
# idmapped and attribute mounts, and terminals run on the fallbacks (runtime/src/syscalls.h).
foreach(suite exec mounts terminal)
	get_test_property(root-${suite} ENVIRONMENT suite_env)
	get_test_property(root-${suite} TIMEOUT suite_timeout)
	add_test(NAME root-${suite}-fallbacks
		COMMAND husk-enosys clone3,close_range $<TARGET_FILE:test-root-${suite}>
			--jobs 2 --timeout ${suite_timeout})
	set_tests_properties(root-${suite}-fallbacks PROPERTIES
		TIMEOUT ${suite_timeout}
		LABELS root
		ENVIRONMENT "${suite_env}"
		FAIL_REGULAR_EXPRESSION "${HUSK_SANITIZER_FAIL_REGEX}")
	# One binary, so the same container ids, and a container's default cgroup is /husk/<id>
	# host-wide: the twins must not overlap (one's cleanup would kill the other's container).
	set_tests_properties(root-${suite} root-${suite}-fallbacks PROPERTIES
		RESOURCE_LOCK ids-of-test-root-${suite})
endforeach()
