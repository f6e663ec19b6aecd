# Install layout and the Debian package.
#
# `cmake --install BUILD [--prefix /usr]` puts containerd-shim-husk-v2 and husk in
# <prefix>/bin (/usr/local/bin by default, /usr/bin with --prefix /usr): both are on
# containerd's PATH, which is all it needs to run io.containerd.husk.v2. The containerd
# config snippets go to <prefix>/share/husk/containerd/, and the husk config file the
# husk-runsc handler names to /etc/husk/runsc.json (always /etc, whatever the prefix: the
# snippets name it; DESTDIR still applies).
#
# `cpack -G DEB` in a build tree packages what that tree built (build first: installing
# never builds, see CMAKE_SKIP_INSTALL_ALL_DEPENDENCY below). The package's Depends come
# from dpkg-shlibdeps on the binaries, so they name the Debian library packages the
# binaries really link (libuv1, libjansson4, libprotobuf-c1, libseccomp2, libcap2, libc6).

# `cmake --install` and cpack's preinstall step build nothing: a test that packages its own
# build tree must not rebuild every other target of that tree first.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

install(FILES
	${PROJECT_SOURCE_DIR}/packaging/containerd-1.x.toml
	${PROJECT_SOURCE_DIR}/packaging/containerd-2.x.toml
	DESTINATION ${CMAKE_INSTALL_DATADIR}/husk/containerd)
install(FILES ${PROJECT_SOURCE_DIR}/packaging/runsc.json DESTINATION /etc/husk)
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})

set(CPACK_PACKAGE_NAME husk)
set(CPACK_PACKAGE_VENDOR husk)
set(CPACK_PACKAGE_CONTACT "husk maintainers <root@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "containerd shim v2 with its own runtime core")
set(CPACK_PACKAGE_DESCRIPTION
	"containerd-shim-husk-v2 runs containers for containerd's io.containerd.husk.v2 runtime
with a native Linux engine, or through an OCI runtime binary such as runsc (gVisor).
The husk CLI inspects and drives containers from their state files. Snippets for
containerd's CRI runtime handlers are in /usr/share/husk/containerd/.")
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS containerd)
set(CPACK_DEBIAN_PACKAGE_SUGGESTS runsc)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# /etc/husk/runsc.json is a conffile: dpkg keeps an operator's edits across upgrades.
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${PROJECT_SOURCE_DIR}/packaging/conffiles)
include(CPack)
