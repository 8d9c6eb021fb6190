# SPDX-License-Identifier: Apache-2.0
# Optional data-parallel support: the INTERFACE target vikcse::distributed (vikcse::vikcse + Gloo)
# for <vikcse/distributed/process_group.hpp> and <vikcse/distributed/all_gather.hpp>. LibTorch's
# libtorch_cpu carries the c10d symbols; the Gloo headers its ProcessGroupGloo header includes
# reference Gloo's own library (Debian: libgloo-dev), which this target links. Created only when
# Gloo's CMake package is found; vikcse::vikcse never needs it. VIKCSE_HAS_DISTRIBUTED tells the
# rest of the build whether the target exists.
option(VIKCSE_WITH_DISTRIBUTED "Build vikcse::distributed when Gloo is found" ON)
set(VIKCSE_HAS_DISTRIBUTED OFF)
if(VIKCSE_WITH_DISTRIBUTED)
  find_package(Gloo CONFIG QUIET)
  if(TARGET gloo)
    set(VIKCSE_HAS_DISTRIBUTED ON)
    add_library(vikcse_distributed INTERFACE)
    add_library(vikcse::distributed ALIAS vikcse_distributed)
    set_target_properties(vikcse_distributed PROPERTIES EXPORT_NAME distributed)
    target_link_libraries(vikcse_distributed INTERFACE vikcse gloo)
    # Installed as its own export set; vikcseConfig.cmake loads it through
    # vikcse-distributed.cmake when the consumer's machine has Gloo too.
    install(TARGETS vikcse_distributed EXPORT vikcseDistributedTargets)
    install(EXPORT vikcseDistributedTargets NAMESPACE vikcse:: DESTINATION "${VIKCSE_CMAKE_INSTALL_DIR}")
    export(EXPORT vikcseDistributedTargets NAMESPACE vikcse:: FILE "${PROJECT_BINARY_DIR}/vikcseDistributedTargets.cmake")
    install(FILES cmake/vikcse-distributed.cmake DESTINATION "${VIKCSE_CMAKE_INSTALL_DIR}")
    message(STATUS "vikcse: Gloo found (${Gloo_DIR}); target vikcse::distributed available")
  else()
    message(STATUS "vikcse: Gloo CMake package not found; vikcse::distributed and scale_ddp_gloo_test are skipped")
  endif()
endif()
