# SPDX-License-Identifier: Apache-2.0
# Installed (and copied into the build tree) next to vikcseConfig.cmake: defines vikcse::faiss for
# consumers when FAISS (and the OpenMP its static library needs) is found on the consumer's machine;
# otherwise does nothing.
include_guard(GLOBAL)
find_package(OpenMP QUIET COMPONENTS CXX)
if(OpenMP_CXX_FOUND)
  find_package(faiss CONFIG QUIET)
endif()
if(TARGET faiss AND EXISTS "${CMAKE_CURRENT_LIST_DIR}/vikcseFaissTargets.cmake" AND NOT TARGET vikcse::faiss)
  include("${CMAKE_CURRENT_LIST_DIR}/vikcseFaissTargets.cmake")
endif()
