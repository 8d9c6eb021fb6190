// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file concepts.hpp
/// Every extension-point concept of vikcse.

#include <vikcse/concepts/encoder.hpp>
#include <vikcse/concepts/knowledge.hpp>
#include <vikcse/concepts/loss.hpp>
#include <vikcse/concepts/pooler.hpp>
