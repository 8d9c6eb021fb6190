# SPDX-License-Identifier: Apache-2.0
# install() rules, exported targets and the package config (find_package(vikcse)).
#
# The package works from two places: an install prefix (<prefix>/lib/cmake/vikcse) and this build
# tree itself (vikcse_DIR or CMAKE_PREFIX_PATH = the project's build directory). Both hold the same
# files side by side: vikcseConfig.cmake, its version file, Findutf8proc.cmake, the targets files
# and the optional loaders. The build-tree targets files name the source include/ directory
# ($<BUILD_INTERFACE:...> of target vikcse); the installed ones name <prefix>/include.
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
# vikcseConfig.cmake finds utf8proc with the finder beside it: copied into the build tree at
# configure time (re-copied when it changes) and installed next to the config.
configure_file(cmake/Findutf8proc.cmake "${PROJECT_BINARY_DIR}/Findutf8proc.cmake" COPYONLY)
install(FILES "${PROJECT_BINARY_DIR}/vikcseConfig.cmake" "${PROJECT_BINARY_DIR}/vikcseConfigVersion.cmake"
              cmake/Findutf8proc.cmake
        DESTINATION "${VIKCSE_CMAKE_INSTALL_DIR}")

# Installs the optional INTERFACE target `target` (vikcse::faiss, vikcse::distributed, vikcse::image)
# as its own export set vikcse<Name>Targets, plus `loader`, the file vikcseConfig.cmake includes to
# define the target on a consumer's machine only where the optional dependency is found too. Both
# are also written into the build tree, beside the build-tree vikcseConfig.cmake.
function(vikcse_install_optional_target target Name loader)
  install(TARGETS ${target} EXPORT vikcse${Name}Targets)
  install(EXPORT vikcse${Name}Targets NAMESPACE vikcse:: DESTINATION "${VIKCSE_CMAKE_INSTALL_DIR}")
  export(EXPORT vikcse${Name}Targets NAMESPACE vikcse:: FILE "${PROJECT_BINARY_DIR}/vikcse${Name}Targets.cmake")
  get_filename_component(_name "${loader}" NAME)
  configure_file("${loader}" "${PROJECT_BINARY_DIR}/${_name}" COPYONLY)
  install(FILES ${loader} DESTINATION "${VIKCSE_CMAKE_INSTALL_DIR}")
endfunction()

# Removes the build-tree copies of an optional target's files (see above) when this configure run
# does not create the target, so that a build tree configured before with it (say FAISS found, then
# -DVIKCSE_WITH_FAISS=OFF) does not keep offering it to consumers.
function(vikcse_forget_optional_target Name loader)
  get_filename_component(_name "${loader}" NAME)
  file(REMOVE "${PROJECT_BINARY_DIR}/${_name}" "${PROJECT_BINARY_DIR}/vikcse${Name}Targets.cmake")
endfunction()
