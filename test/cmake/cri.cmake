# The CRI suite (test/cri/): a private containerd with the CRI plugin and husk as a CRI
# runtime handler, driven over CRI's gRPC API (runtime.v1) by the project's own Python client
# (Debian's python3-grpcio, python3-protobuf, python3-grpc-tools). One ctest per handler:
#   e2e-cri-husk        husk, native engine                                  label e2e
#   e2e-cri-runc        containerd-shim-runc-v2: the reference; a test       label e2e, e2e-ref
#                       failing here is wrong
#   e2e-cri-husk-runsc  husk's OCI engine running gVisor, chosen by a husk   label e2e
#                       config file; what gVisor cannot do is skipped, what the OCI engine
#                       does not do yet is reported as an expected failure with its reason
# Debian's python3 is used, not whatever python3 comes first on PATH: the modules are there.
if(TARGET containerd-shim-husk-v2 AND EXISTS /usr/bin/python3)
	set(HUSK_CRI_TIMEOUT 300)
	math(EXPR cri_timeout "${HUSK_CRI_TIMEOUT} * ${HUSK_TEST_TIMEOUT_MULTIPLIER}")
	foreach(handler husk runc husk-runsc)
		set(labels e2e)
		if(handler STREQUAL "runc")
			list(APPEND labels e2e-ref)
		endif()
		add_test(NAME e2e-cri-${handler}
			COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/cri/test_cri.py)
		set_tests_properties(e2e-cri-${handler} PROPERTIES
			TIMEOUT ${cri_timeout}
			LABELS "${labels}"
			ENVIRONMENT "HUSK_CRI_HANDLER=${handler};HUSK_BINARY_DIR=${PROJECT_BINARY_DIR};HUSK_SOURCE_DIR=${PROJECT_SOURCE_DIR};HUSK_TEST_TIMEOUT_MULTIPLIER=${HUSK_TEST_TIMEOUT_MULTIPLIER}"
			FAIL_REGULAR_EXPRESSION "${HUSK_SANITIZER_FAIL_REGEX}")
	endforeach()
endif()
