# husk_strict: an interface target carrying our warning, hardening and sanitizer flags.
# Link it PRIVATE into every target built from our own sources; generated code does not.
include(CheckCCompilerFlag)

add_library(husk_strict INTERFACE)
# Tests: the same minus -Wwrite-strings, since criterion's eq(str, ...) takes char *.
add_library(husk_strict_tests INTERFACE)

set(_husk_warnings
	-Wall -Wextra -Wshadow -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes
	-Wold-style-definition -Wundef -Wpointer-arith -Wcast-align -Wwrite-strings -Wvla
	-Wimplicit-fallthrough -Wnull-dereference -Wdouble-promotion -Wdate-time
	-Werror=implicit-function-declaration -Werror=incompatible-pointer-types
	-Werror=int-conversion -Werror=return-type -fno-common)
set(_husk_gcc_only
	-Wduplicated-cond -Wduplicated-branches -Wlogical-op -Wjump-misses-init
	-Wformat-overflow=2 -Wformat-truncation=2)

foreach(flag IN LISTS _husk_warnings _husk_gcc_only)
	string(MAKE_C_IDENTIFIER "HAVE_FLAG${flag}" var)
	check_c_compiler_flag("${flag}" ${var})
	if(${var})
		target_compile_options(husk_strict INTERFACE ${flag})
		if(NOT flag STREQUAL "-Wwrite-strings")
			target_compile_options(husk_strict_tests INTERFACE ${flag})
		endif()
	endif()
endforeach()

if(HUSK_WERROR)
	target_compile_options(husk_strict INTERFACE -Werror)
	target_compile_options(husk_strict_tests INTERFACE -Werror)
endif()

# Flags that apply to every object in the build, generated code included, so that
# sanitizer and hardening settings are uniform across static libraries.
if(HUSK_SANITIZE)
	add_compile_options(-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer
		-fno-sanitize-recover=all)
	add_link_options(-fsanitize=address,undefined)
	add_compile_definitions(HUSK_SANITIZE=1)
elseif(HUSK_HARDEN)
	add_compile_options(-fstack-protector-strong -fstack-clash-protection)
	check_c_compiler_flag(-fcf-protection=full HAVE_CF_PROTECTION)
	if(HAVE_CF_PROTECTION)
		add_compile_options(-fcf-protection=full)
	endif()
	if(NOT CMAKE_BUILD_TYPE STREQUAL "Debug")
		add_compile_definitions(_FORTIFY_SOURCE=3)
	endif()
	add_link_options(-Wl,-z,relro,-z,now,-z,noexecstack)
endif()
set(CMAKE_POSITION_INDEPENDENT_CODE ON)
add_link_options(-Wl,--as-needed)
