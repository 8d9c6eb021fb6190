// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file json_value.hpp
/// Typed reads from parsed JSON that never invoke undefined behaviour on hostile input.
///
/// nlohmann's `get<std::int64_t>()` accepts a floating-point number and casts it to the integer
/// type; for a value such as `1e300` that cast is out of range, which is undefined behaviour
/// (UBSan reports it, and the result is whatever the CPU makes of it). Every integer the library
/// reads from a file therefore goes through `json_as`, which accepts only a JSON integer inside the
/// target's range and otherwise throws the caller's error type with the place and the value found.

#include <vikcse/error.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <concepts>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vikcse::detail {

/// At most the first 80 characters of `j` as JSON, for error messages.
inline std::string json_excerpt(const nlohmann::json& j) {
  auto text = j.dump();
  if (text.size() > 80) text = text.substr(0, 77) + "...";
  return text;
}

/// The text of a `where` argument: a string, or a callable returning one (so that a loop over many
/// values formats a place only for the value that fails).
template <typename Where>
std::string where_text(const Where& where) {
  if constexpr (std::invocable<const Where&>) {
    return std::string(where());
  } else {
    return std::string(std::string_view(where));
  }
}

/// Reads `j` as `T`; throws `Error` whose message starts with `where` when `j` does not hold one.
/// @tparam T      an integer, `bool`, a floating-point type, `std::string`, or a `std::vector` of those.
/// @tparam Error  the exception type thrown (one of vikcse's errors).
/// @tparam Where  a string, or a callable returning the string (called only on failure).
template <typename T, typename Error, typename Where>
T json_as(const nlohmann::json& j, const Where& where) {
  if constexpr (std::same_as<T, bool>) {
    if (!j.is_boolean()) throw_error<Error>("{}: expected true or false, got {}", where_text(where), json_excerpt(j));
    return j.get<bool>();
  } else if constexpr (std::integral<T>) {
    const auto out_of_range = [&] {
      throw_error<Error>("{}: expected an integer in [{}, {}], got {}", where_text(where),
                         std::numeric_limits<T>::min(), std::numeric_limits<T>::max(), json_excerpt(j));
    };
    if (j.is_number_unsigned()) {
      const auto v = j.get<std::uint64_t>();
      if (!std::in_range<T>(v)) out_of_range();
      return static_cast<T>(v);
    }
    if (j.is_number_integer()) {
      const auto v = j.get<std::int64_t>();
      if (!std::in_range<T>(v)) out_of_range();
      return static_cast<T>(v);
    }
    out_of_range();
    return T{};  // not reached
  } else if constexpr (std::floating_point<T>) {
    if (!j.is_number()) throw_error<Error>("{}: expected a number, got {}", where_text(where), json_excerpt(j));
    return j.get<T>();
  } else if constexpr (std::same_as<T, std::string>) {
    if (!j.is_string()) throw_error<Error>("{}: expected a string, got {}", where_text(where), json_excerpt(j));
    return j.get<std::string>();
  } else {
    static_assert(std::same_as<T, std::vector<typename T::value_type>>, "json_as: unsupported type");
    if (!j.is_array()) throw_error<Error>("{}: expected an array, got {}", where_text(where), json_excerpt(j));
    T out;
    out.reserve(j.size());
    for (std::size_t i = 0; i < j.size(); ++i) {
      out.push_back(
          json_as<typename T::value_type, Error>(j[i], [&] { return fmt::format("{}[{}]", where_text(where), i); }));
    }
    return out;
  }
}

/// `object[key]` read as `T`, or `fallback` when `object` lacks `key` or holds null there; the
/// typed counterpart of nlohmann's `value(key, fallback)`.
/// @tparam T      as for `json_as`.
/// @tparam Error  the exception type thrown (one of vikcse's errors).
template <typename T, typename Error>
T json_value_or(const nlohmann::json& object, const char* key, T fallback, std::string_view where) {
  if (!object.is_object()) return fallback;
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return fallback;
  return json_as<T, Error>(*it, [&] { return fmt::format("{}: key '{}'", where, key); });
}

/// Overwrites `out` with `object[key]` read as `out`'s type, and leaves it as it is (a default)
/// when `object` lacks `key` or holds null there: how configuration files are read, key by key.
/// @tparam Error  the exception type thrown (one of vikcse's errors); the message starts with
///                "WHERE: key 'KEY'" and says what was expected and what was found.
/// @tparam T      as for `json_as`.
template <typename Error, typename T>
void read_optional_key(const nlohmann::json& object, std::string_view where, const char* key, T& out) {
  out = json_value_or<T, Error>(object, key, std::move(out), where);
}

/// Parses the configuration file `path` (`config.json`, `preprocessor_config.json`, ...).
/// @throws vikcse::config_error "PATH: cannot open config file (missing NAME?)", NAME being the file
///         name asked for, or "PATH: not valid JSON: ..." naming the parser's complaint.
inline nlohmann::json read_config_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) {
    throw_error<config_error>("{}: cannot open config file (missing {}?)", path.string(), path.filename().string());
  }
  try {
    nlohmann::json json;
    in >> json;
    return json;
  } catch (const nlohmann::json::exception& e) {
    throw_error<config_error>("{}: not valid JSON: {}", path.string(), e.what());
  }
}

}  // namespace vikcse::detail
