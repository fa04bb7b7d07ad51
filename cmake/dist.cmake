# What an installation holds besides the binary, the scripts and the man page (dist/): bash
# completion, the exporter's systemd units and system user, the monitoring definitions, the docs.
# The units name the installed binary, so they are made from dist/systemd/*.in into the build tree.
set(MEMSCRIPT_SYSTEMD_UNIT_DIR ${CMAKE_INSTALL_PREFIX}/lib/systemd/system
    CACHE PATH "Where the systemd units are installed (Debian 12: /lib/systemd/system)")
set(MEMSCRIPT_SYSUSERS_DIR ${CMAKE_INSTALL_PREFIX}/lib/sysusers.d
    CACHE PATH "Where the sysusers.d file for the exporter's user is installed")

foreach(unit memscript-exporter.service memscript-exporter.timer)
  configure_file(${PROJECT_SOURCE_DIR}/dist/systemd/${unit}.in ${PROJECT_BINARY_DIR}/dist/systemd/${unit} @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/dist/systemd/${unit} DESTINATION ${MEMSCRIPT_SYSTEMD_UNIT_DIR})
endforeach()
install(FILES dist/systemd/memscript.sysusers DESTINATION ${MEMSCRIPT_SYSUSERS_DIR} RENAME memscript.conf)
install(FILES dist/bash-completion/memscript DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)
install(DIRECTORY dist/monitoring/ DESTINATION ${CMAKE_INSTALL_DATADIR}/memscript/monitoring)
file(GLOB MEMSCRIPT_USER_DOCS CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/docs/*.md)
list(REMOVE_ITEM MEMSCRIPT_USER_DOCS ${PROJECT_SOURCE_DIR}/docs/ARCHITECTURE.md)
install(FILES README.md ${MEMSCRIPT_USER_DOCS} DESTINATION ${CMAKE_INSTALL_DOCDIR})
