# SPDX-License-Identifier: Apache-2.0
# Installed (and copied into the build tree) next to vikcseConfig.cmake: defines vikcse::distributed
# for consumers when Gloo's CMake package is found on the consumer's machine; otherwise does nothing.
include_guard(GLOBAL)
find_package(Gloo CONFIG QUIET)
if(TARGET gloo AND EXISTS "${CMAKE_CURRENT_LIST_DIR}/vikcseDistributedTargets.cmake" AND NOT TARGET vikcse::distributed)
  include("${CMAKE_CURRENT_LIST_DIR}/vikcseDistributedTargets.cmake")
endif()
