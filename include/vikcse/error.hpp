// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file error.hpp
/// The exception hierarchy of vikcse. Every message says what failed, where (file, key or line),
/// what was expected and what was found.

#include <fmt/format.h>

#include <stdexcept>
#include <string>
#include <utility>

namespace vikcse {

/// Base of every runtime error thrown by vikcse.
class error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// A configuration file (`config.json`, options) is missing, malformed or unsupported.
class config_error : public error {
public:
  using error::error;
};

/// A checkpoint (safetensors, state dict) cannot be read, written or mapped onto a model.
class checkpoint_error : public error {
public:
  using error::error;
};

/// A tokenizer file or an input to a tokenizer is invalid.
class tokenizer_error : public error {
public:
  using error::error;
};

/// A data file (corpus, SentEval task, feature bank) is missing or malformed.
class data_error : public error {
public:
  using error::error;
};

/// An argument given by the caller is outside its allowed range.
class invalid_argument : public std::invalid_argument {
public:
  using std::invalid_argument::invalid_argument;
};

/// Throws `ErrorType` with a message formatted by fmt.
///
/// Example: `throw_error<config_error>("{}: key '{}' expected {}, got {}", path, key, want, got);`
template <typename ErrorType, typename... Args>
[[noreturn]] void throw_error(fmt::format_string<Args...> format, Args&&... args) {
  throw ErrorType(fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace vikcse
