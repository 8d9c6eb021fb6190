// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file vikcse.hpp
/// The umbrella header of vikcse: include only this.

#if __cplusplus < 202002L
#error "vikcse needs C++20 (compile with -std=c++20)"
#endif

#include <vikcse/version.hpp>
#include <vikcse/error.hpp>
#include <vikcse/threads.hpp>
#include <vikcse/types.hpp>

#include <vikcse/checkpoint/safetensors.hpp>
#include <vikcse/checkpoint/hf_checkpoint.hpp>
#include <vikcse/encoder/bert_config.hpp>
#include <vikcse/encoder/bert.hpp>
#include <vikcse/encoder/auto_model.hpp>

#include <vikcse/tokenizer/tokenizer.hpp>
#include <vikcse/tokenizer/batch.hpp>
