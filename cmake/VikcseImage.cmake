# SPDX-License-Identifier: Apache-2.0
# The image layer (<vikcse/image/...>): the INTERFACE target vikcse::image = vikcse::vikcse plus
# libjpeg(-turbo) and libpng, the decoders Pillow uses (Debian: libjpeg62-turbo-dev, libpng-dev;
# cmake/install-deps.sh installs them). vikcse::vikcse never needs them: only code that decodes
# images links vikcse::image. Created only when both are found; VIKCSE_HAS_IMAGE tells the rest of
# the build whether the target exists. Exported like the other optional targets (VikcseInstall.cmake):
# a consumer's find_package(vikcse) defines vikcse::image where it finds libjpeg and libpng again
# (cmake/vikcse-image.cmake); find_package(vikcse COMPONENTS image) requires it.
option(VIKCSE_WITH_IMAGE "Build vikcse::image when libjpeg and libpng are found" ON)
set(VIKCSE_HAS_IMAGE OFF)
if(VIKCSE_WITH_IMAGE)
  find_package(JPEG QUIET)
  find_package(PNG QUIET)
  if(TARGET JPEG::JPEG AND TARGET PNG::PNG)
    set(VIKCSE_HAS_IMAGE ON)
    add_library(vikcse_image INTERFACE)
    add_library(vikcse::image ALIAS vikcse_image)
    set_target_properties(vikcse_image PROPERTIES EXPORT_NAME image)
    target_link_libraries(vikcse_image INTERFACE vikcse JPEG::JPEG PNG::PNG)
    vikcse_install_optional_target(vikcse_image Image cmake/vikcse-image.cmake)
    message(STATUS "vikcse: libjpeg ${JPEG_VERSION} and libpng ${PNG_VERSION_STRING} found; target vikcse::image available")
  else()
    message(STATUS "vikcse: libjpeg or libpng not found (cmake/install-deps.sh); vikcse::image and image_test are skipped")
  endif()
endif()
if(NOT VIKCSE_HAS_IMAGE)
  vikcse_forget_optional_target(Image cmake/vikcse-image.cmake)
endif()
