# Kernel features refused one at a time with ENOSYS (a seccomp filter, test/helpers/enosys.c)
# under the husk CLI: the fallbacks run a container, the rest fail with one line naming the
# syscall and the kernel it needs.
add_executable(husk-enosys helpers/enosys.c)
target_link_libraries(husk-enosys PRIVATE husk_strict_tests PkgConfig::SECCOMP)

if(TARGET husk)
	husk_criterion_test(NAME root-kernel-fallbacks
		SOURCES root/test_kernel_fallbacks.c root/box.c
		LIBS husk::runtime PkgConfig::JANSSON PkgConfig::SECCOMP LABELS root JOBS 2 TIMEOUT 300)
	add_dependencies(test-root-kernel-fallbacks husk husk-enosys)
endif()
