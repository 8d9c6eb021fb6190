# SPDX-License-Identifier: Apache-2.0
# Installed (and copied into the build tree) next to vikcseConfig.cmake: defines vikcse::image for
# consumers when libjpeg and libpng are found on the consumer's machine (CMake's FindJPEG and
# FindPNG, as the build found them); otherwise does nothing, and find_package(vikcse) still succeeds
# for vikcse::vikcse. A consumer that needs the target asks for the component:
# find_package(vikcse REQUIRED COMPONENTS image) fails when vikcse::image cannot be defined.
include_guard(GLOBAL)
find_package(JPEG QUIET)
find_package(PNG QUIET)
if(TARGET JPEG::JPEG AND TARGET PNG::PNG AND EXISTS "${CMAKE_CURRENT_LIST_DIR}/vikcseImageTargets.cmake"
   AND NOT TARGET vikcse::image)
  include("${CMAKE_CURRENT_LIST_DIR}/vikcseImageTargets.cmake")
endif()
