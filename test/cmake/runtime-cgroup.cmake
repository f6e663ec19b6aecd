# Cgroup suites. The unit ones reach the internal API (runtime/src) and use a fake cgroupfs
# in a temp dir; the root ones make real cgroups under /husk-test-<pid>-* on this host.
set(HUSK_CGROUP_UNIT_TESTS path parse plan fake)
foreach(t IN LISTS HUSK_CGROUP_UNIT_TESTS)
	husk_criterion_test(NAME unit-cgroup-${t} SOURCES unit/test_cgroup_${t}.c
		LIBS husk::runtime LABELS unit)
	target_include_directories(test-unit-cgroup-${t} PRIVATE ${PROJECT_SOURCE_DIR}/runtime/src)
endforeach()

husk_criterion_test(NAME root-cgroup SOURCES root/test_cgroup.c LIBS husk::runtime
	LABELS root TIMEOUT 300)
target_include_directories(test-root-cgroup PRIVATE ${PROJECT_SOURCE_DIR}/runtime/src)

# Kill-all with the pidfd syscalls failing (STYLE.md 8.4).
husk_criterion_test(NAME unit-cgroup-faults SOURCES unit/test_cgroup_faults.c
	LIBS husk::runtime -Wl,--wrap=syscall LABELS unit)
target_include_directories(test-unit-cgroup-faults PRIVATE ${PROJECT_SOURCE_DIR}/runtime/src)
