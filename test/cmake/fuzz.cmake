# Fuzzers of the ttrpc layer and the spec parser (husk_fuzz_target in test/CMakeLists.txt).
if(NOT TARGET husk::ttrpc)
	return()
endif()

husk_fuzz_target(NAME frame LIBS husk_ttrpc_internal)
husk_fuzz_target(NAME dispatch LIBS husk_ttrpc_internal)
husk_fuzz_target(NAME spec LIBS husk::runtime INCLUDES ${PROJECT_SOURCE_DIR}/runtime/src)
if(TARGET husk_shim_core AND TARGET husk::api)
	husk_fuzz_target(NAME wire LIBS husk_shim_core)
endif()
