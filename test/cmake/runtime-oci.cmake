# The oci engine: the pure argv builder and JSON codecs (unit), and the engine driving a
# real runc (and runsc when it is installed) on busybox bundles (root).
set(HUSK_OCI_SRC ${PROJECT_SOURCE_DIR}/runtime/src)

husk_criterion_test(NAME unit-oci-argv SOURCES unit/test_oci_argv.c LIBS husk::runtime
	LABELS unit)
target_include_directories(test-unit-oci-argv PRIVATE ${HUSK_OCI_SRC})

husk_criterion_test(NAME unit-oci-state SOURCES unit/test_oci_state.c LIBS husk::runtime
	PkgConfig::JANSSON LABELS unit)
target_include_directories(test-unit-oci-state PRIVATE ${HUSK_OCI_SRC})

husk_criterion_test(NAME root-oci-engine SOURCES root/test_oci_engine.c
	LIBS husk::runtime PkgConfig::JANSSON LABELS root JOBS 2 TIMEOUT 600)
