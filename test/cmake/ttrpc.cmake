# husk::ttrpc: the codec, envelope, and server/client over real unix sockets (unit); the
# Go ttrpc peer (interop).
if(NOT TARGET husk::ttrpc)
	return()
endif()

husk_criterion_test(NAME unit-ttrpc-frame SOURCES unit/test_ttrpc_frame.c
	LIBS husk_ttrpc_internal LABELS unit)
husk_criterion_test(NAME unit-ttrpc-envelope SOURCES unit/test_ttrpc_envelope.c
	LIBS husk_ttrpc_internal LABELS unit)
# Criterion's assert macros blow every clang-tidy size budget (see test/cmake/api.cmake).
set_target_properties(test-unit-ttrpc-frame test-unit-ttrpc-envelope
	PROPERTIES C_CLANG_TIDY "")
husk_criterion_test(NAME unit-ttrpc-server
	SOURCES unit/test_ttrpc_server.c unit/test_ttrpc_util.c
	LIBS husk_ttrpc_internal LABELS unit)
set_target_properties(test-unit-ttrpc-server PROPERTIES C_CLANG_TIDY "")
husk_criterion_test(NAME unit-ttrpc-client
	SOURCES unit/test_ttrpc_client.c unit/test_ttrpc_util.c
	LIBS husk_ttrpc_internal LABELS unit)
set_target_properties(test-unit-ttrpc-client PROPERTIES C_CLANG_TIDY "")
