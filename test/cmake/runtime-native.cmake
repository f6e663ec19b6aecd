# Native engine: pure plans and the sync protocol (unit), and the engine against real
# namespaces (root). The unit suites reach into runtime/src for the internal headers.
set(HUSK_NATIVE_SRC ${PROJECT_SOURCE_DIR}/runtime/src)

husk_criterion_test(NAME unit-plan SOURCES unit/test_plan.c LIBS husk::runtime LABELS unit)
target_include_directories(test-unit-plan PRIVATE ${HUSK_NATIVE_SRC})
husk_criterion_test(NAME unit-sync SOURCES unit/test_sync.c LIBS husk::runtime LABELS unit)
target_include_directories(test-unit-sync PRIVATE ${HUSK_NATIVE_SRC})

husk_criterion_test(NAME root-create-start SOURCES root/test_create_start.c
	LIBS husk::runtime PkgConfig::JANSSON LABELS root JOBS 2 TIMEOUT 300)
