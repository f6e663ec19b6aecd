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
husk_criterion_test(NAME unit-ttrpc-conns
	SOURCES unit/test_ttrpc_conns.c unit/test_ttrpc_util.c
	LIBS husk_ttrpc_internal LABELS unit)
set_target_properties(test-unit-ttrpc-conns PROPERTIES C_CLANG_TIDY "")
husk_criterion_test(NAME unit-ttrpc-client
	SOURCES unit/test_ttrpc_client.c unit/test_ttrpc_util.c
	LIBS husk_ttrpc_internal LABELS unit)
set_target_properties(test-unit-ttrpc-client PROPERTIES C_CLANG_TIDY "")

# Our echo server for hack/bench/bench-ttrpc.sh (not a test).
add_executable(ttrpc-echo-server interop/echo_server.c)
target_link_libraries(ttrpc-echo-server PRIVATE husk::ttrpc husk_strict)

# Interop: the Go peer (test/interop/peer) is built with Debian's golang-go against
# golang-github-containerd-ttrpc-dev in GOPATH mode, offline, with its cache in the build
# tree.
find_program(HUSK_GO go)
set(HUSK_GO_TTRPC /usr/share/gocode/src/github.com/containerd/ttrpc)
if(HUSK_GO AND EXISTS ${HUSK_GO_TTRPC})
	set(HUSK_TTRPC_PEER ${CMAKE_CURRENT_BINARY_DIR}/interop/ttrpc-peer)
	file(GLOB husk_peer_sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/interop/peer/*.go)
	add_custom_command(OUTPUT ${HUSK_TTRPC_PEER}
		COMMAND ${CMAKE_COMMAND} -E env GO111MODULE=off GOFLAGS= GOENV=off CGO_ENABLED=0
			GOPATH=${CMAKE_CURRENT_BINARY_DIR}/interop/gopath:/usr/share/gocode
			GOCACHE=${CMAKE_CURRENT_BINARY_DIR}/interop/gocache
			${HUSK_GO} build -o ${HUSK_TTRPC_PEER} ./peer
		WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/interop
		DEPENDS ${husk_peer_sources}
		COMMENT "go build ttrpc-peer"
		VERBATIM)
	add_custom_target(ttrpc-peer ALL DEPENDS ${HUSK_TTRPC_PEER})
	husk_criterion_test(NAME interop-ttrpc
		SOURCES interop/test_ttrpc_interop.c unit/test_ttrpc_util.c
		LIBS husk_ttrpc_internal LABELS interop TIMEOUT 300
		ENV TTRPC_PEER=${HUSK_TTRPC_PEER})
	target_include_directories(test-interop-ttrpc PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/unit)
	add_dependencies(test-interop-ttrpc ttrpc-peer)
	set_target_properties(test-interop-ttrpc PROPERTIES C_CLANG_TIDY "")
else()
	message(STATUS "ttrpc interop tests disabled: need go and ${HUSK_GO_TTRPC}")
endif()
