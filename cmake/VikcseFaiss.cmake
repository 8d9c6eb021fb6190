# SPDX-License-Identifier: Apache-2.0
# Optional FAISS support: the INTERFACE target vikcse::faiss (vikcse::vikcse + FAISS) for
# <vikcse/knowledge/faiss_retriever.hpp>. Created only when FAISS is found; vikcse::vikcse never
# needs it. VIKCSE_HAS_FAISS tells the rest of the build whether the target exists.
#
# Debian's libfaiss-dev ships a CMake package (imported target `faiss`, a static library) whose
# link interface names OpenMP::OpenMP_CXX without finding OpenMP itself, so OpenMP is found first.
option(VIKCSE_WITH_FAISS "Build vikcse::faiss when FAISS is found" ON)
set(VIKCSE_HAS_FAISS OFF)
if(VIKCSE_WITH_FAISS)
  find_package(OpenMP QUIET COMPONENTS CXX)
  if(OpenMP_CXX_FOUND)
    find_package(faiss CONFIG QUIET)
  endif()
  if(TARGET faiss)
    set(VIKCSE_HAS_FAISS ON)
    add_library(vikcse_faiss INTERFACE)
    add_library(vikcse::faiss ALIAS vikcse_faiss)
    set_target_properties(vikcse_faiss PROPERTIES EXPORT_NAME faiss)
    target_link_libraries(vikcse_faiss INTERFACE vikcse faiss)
    target_compile_definitions(vikcse_faiss INTERFACE VIKCSE_WITH_FAISS=1)

    vikcse_install_optional_target(vikcse_faiss Faiss cmake/vikcse-faiss.cmake)
    message(STATUS "vikcse: FAISS found (${faiss_DIR}); target vikcse::faiss available")
  else()
    message(STATUS "vikcse: FAISS not found; vikcse::faiss and the FAISS retriever tests are skipped")
  endif()
endif()
if(NOT VIKCSE_HAS_FAISS)
  vikcse_forget_optional_target(Faiss cmake/vikcse-faiss.cmake)
endif()
