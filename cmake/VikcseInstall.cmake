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
