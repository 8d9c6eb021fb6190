// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file version.hpp
/// The library version; CMake parses these three macros (single source of truth).

#define VIKCSE_VERSION_MAJOR 0
#define VIKCSE_VERSION_MINOR 1
#define VIKCSE_VERSION_PATCH 0
