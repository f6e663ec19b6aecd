# The native engine honours the spec (root; shares test/root/box.c, see runtime-native.cmake).
if(COMMAND husk_native_root_test)
	husk_native_root_test(spec-features test_spec_features.c)
endif()
