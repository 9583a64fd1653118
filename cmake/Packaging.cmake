# The Debian package (docs/operations.md): from a release build folder,
#
#   cmake --build build --target mayaflow && (cd build && cpack -G DEB)
#
# makes build/mayaflow_<version>-<release>_<arch>.deb: /usr/bin/mayaflow (stripped), the systemd
# unit mayaflow.service running `mayaflow standalone` as the system user mayaflow,
# /etc/mayaflow/mayaflow.cfg and mayaflow.env as conffiles, /var/lib/mayaflow (made by the postinst) for the store, the key and the logs, man pages
# generated from the binary's --help, the docs. The files are in packaging/;
# tests/packaging/test-deb installs, upgrades and purges the package.
#
# The install rules are the package's: they write to /etc and /lib/systemd/system whatever the
# prefix, so use them through cpack (or with DESTDIR), not on a developer's machine.

# `cpack` and `cmake --install` install what is built and build nothing: the ALL target holds the
# test programs and benchmarks, and cpack must not rebuild binaries that a running test suite uses.
# Build the target mayaflow first; the man page step below stops when the binary is missing.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY TRUE)

find_program(MAYAFLOW_PACKAGING_PYTHON3 NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)
find_program(MAYAFLOW_PACKAGING_PYTHON3 NAMES python3)

install(TARGETS mayaflow RUNTIME DESTINATION bin)
install(FILES ${CMAKE_CURRENT_SOURCE_DIR}/packaging/mayaflow.service DESTINATION /lib/systemd/system)
install(FILES ${CMAKE_CURRENT_SOURCE_DIR}/packaging/mayaflow.cfg DESTINATION /etc/mayaflow)
install(FILES ${CMAKE_CURRENT_SOURCE_DIR}/packaging/mayaflow.env DESTINATION /etc/mayaflow
        PERMISSIONS OWNER_READ OWNER_WRITE)
install(FILES ${CMAKE_CURRENT_SOURCE_DIR}/README.md DESTINATION share/doc/mayaflow)
install(DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/docs/ DESTINATION share/doc/mayaflow/docs
        FILES_MATCHING PATTERN "*.md")
# The man pages are written from the binary being installed, at install time, so they always
# describe it (packaging/gen-man-pages).
install(CODE "
  set(binary \"$<TARGET_FILE:mayaflow>\")
  if(NOT EXISTS \"\${binary}\")
    message(FATAL_ERROR \"\${binary} is missing: build the target mayaflow before cpack or cmake --install\")
  endif()
  set(man_dir \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/share/man/man1\")
  execute_process(COMMAND \"${MAYAFLOW_PACKAGING_PYTHON3}\" \"${CMAKE_CURRENT_SOURCE_DIR}/packaging/gen-man-pages\"
                          --binary \"\${binary}\" --out \"\${man_dir}\"
                  RESULT_VARIABLE status)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR \"packaging/gen-man-pages failed (\${status})\")
  endif()
")

# The conffiles: dpkg keeps an administrator's changes on upgrade and deletes them on purge.
file(WRITE ${CMAKE_BINARY_DIR}/packaging/conffiles "/etc/mayaflow/mayaflow.cfg\n/etc/mayaflow/mayaflow.env\n")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME mayaflow)
set(CPACK_PACKAGE_VENDOR "mayaflow")
set(CPACK_PACKAGE_CONTACT "mayaflow maintainers <maintainers@users.noreply.h-seed-a2b07b54.example>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "workflow engine for small data teams, in the style of Apache Airflow")
# The summary line comes from CPACK_PACKAGE_DESCRIPTION_SUMMARY; CPack indents these lines and
# writes the empty one as " .".
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "Engineers drop DAG files written in YAML into a folder; a long-running daemon
turns them into scheduled tasks (bash, BigQuery, Firebase, Slack, Jupyter
notebooks), keeps run state in SQLite and serves a REST API in Airflow's shapes
and a web UI. One binary, no Python, no broker.

This package runs `mayaflow standalone` as the systemd service mayaflow.service
under the system user mayaflow, with its store in /var/lib/mayaflow and its
settings in /etc/mayaflow.")
# The Debian revision: cpack -D CPACK_DEBIAN_PACKAGE_RELEASE=2 for a rebuild of the same version.
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
# Shared libraries' packages are read from the binary (dpkg-shlibdeps); the rest is what the
# maintainer scripts and the daemon call: adduser (the postinst), tzdata (DAG time zones).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser, tzdata")
# Notebook tasks run `jupyter nbconvert` with a Python kernel; bash tasks need nothing more.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "jupyter-nbconvert, python3-ipykernel")
# `sqlite3 .backup` for backups while the service runs (docs/operations.md).
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "sqlite3")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_CURRENT_SOURCE_DIR}/packaging/postinst
    ${CMAKE_CURRENT_SOURCE_DIR}/packaging/prerm
    ${CMAKE_CURRENT_SOURCE_DIR}/packaging/postrm
    ${CMAKE_BINARY_DIR}/packaging/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
set(CPACK_DEBIAN_COMPRESSION_TYPE xz)
# The binary is stripped (8.7 MB instead of 325). For its debug info in a mayaflow-dbgsym .ddeb
# beside the package: cpack -G DEB -D CPACK_STRIP_FILES=OFF -D CPACK_DEBIAN_DEBUGINFO_PACKAGE=ON
# (CPack then strips the binary itself; compressing the debug info takes minutes).
set(CPACK_STRIP_FILES TRUE)
include(CPack)
