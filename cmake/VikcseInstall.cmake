# SPDX-License-Identifier: Apache-2.0
# install() rules, exported targets and the package config (find_package(vikcse)).
include(CMakePackageConfigHelpers)
set(VIKCSE_CMAKE_INSTALL_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/vikcse")

install(TARGETS vikcse EXPORT vikcseTargets)
install(DIRECTORY include/vikcse DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
install(EXPORT vikcseTargets NAMESPACE vikcse:: DESTINATION "${VIKCSE_CMAKE_INSTALL_DIR}")
export(EXPORT vikcseTargets NAMESPACE vikcse:: FILE "${PROJECT_BINARY_DIR}/vikcseTargets.cmake")

configure_package_config_file(cmake/vikcseConfig.cmake.in "${PROJECT_BINARY_DIR}/vikcseConfig.cmake"
                              INSTALL_DESTINATION "${VIKCSE_CMAKE_INSTALL_DIR}")
write_basic_package_version_file("${PROJECT_BINARY_DIR}/vikcseConfigVersion.cmake"
                                 COMPATIBILITY SameMinorVersion ARCH_INDEPENDENT)
install(FILES "${PROJECT_BINARY_DIR}/vikcseConfig.cmake" "${PROJECT_BINARY_DIR}/vikcseConfigVersion.cmake"
              cmake/Findutf8proc.cmake
        DESTINATION "${VIKCSE_CMAKE_INSTALL_DIR}")

# Installs the optional INTERFACE target `target` (vikcse::faiss, vikcse::distributed) as its own
# export set vikcse<Name>Targets, plus `loader`, the file vikcseConfig.cmake includes to define the
# target on a consumer's machine only where the optional dependency is found too.
function(vikcse_install_optional_target target Name loader)
  install(TARGETS ${target} EXPORT vikcse${Name}Targets)
  install(EXPORT vikcse${Name}Targets NAMESPACE vikcse:: DESTINATION "${VIKCSE_CMAKE_INSTALL_DIR}")
  export(EXPORT vikcse${Name}Targets NAMESPACE vikcse:: FILE "${PROJECT_BINARY_DIR}/vikcse${Name}Targets.cmake")
  install(FILES ${loader} DESTINATION "${VIKCSE_CMAKE_INSTALL_DIR}")
endfunction()
