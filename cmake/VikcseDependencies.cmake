# SPDX-License-Identifier: Apache-2.0
# Finds every dependency of the vikcse::vikcse target. vikcseConfig.cmake repeats these as
# find_dependency calls, so keep the two lists in step.
include(GNUInstallDirs)
find_package(Torch REQUIRED)
find_package(range-v3 REQUIRED)
find_package(fmt REQUIRED)
find_package(nlohmann_json 3 REQUIRED)
find_package(utf8proc REQUIRED)
