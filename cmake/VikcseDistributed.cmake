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
    vikcse_install_optional_target(vikcse_distributed Distributed cmake/vikcse-distributed.cmake)
    message(STATUS "vikcse: Gloo found (${Gloo_DIR}); target vikcse::distributed available")
  else()
    message(STATUS "vikcse: Gloo CMake package not found; vikcse::distributed and scale_ddp_gloo_test are skipped")
  endif()
endif()
if(NOT VIKCSE_HAS_DISTRIBUTED)
  vikcse_forget_optional_target(Distributed cmake/vikcse-distributed.cmake)
endif()
