# The features document (runtime/src/native/features.c) checked against the spec parser, the
# native plan and the seccomp builder: pure, no root.
husk_criterion_test(NAME unit-features SOURCES unit/test_features.c
	LIBS husk::runtime PkgConfig::JANSSON PkgConfig::SECCOMP PkgConfig::LIBCAP LABELS unit)
target_include_directories(test-unit-features PRIVATE ${PROJECT_SOURCE_DIR}/runtime/src)
