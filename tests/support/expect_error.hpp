// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file expect_error.hpp
/// `expect_error(fn, parts)`: `fn` must throw `Exception` (the project's typed `vikcse::error` by
/// default) whose message holds every one of `parts`; no exception is a failure.

#include <vikcse/error.hpp>

#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

namespace vikcse::testing {

/// @tparam Exception the type `fn` must throw (a base class matches its derived errors)
/// @tparam Fn a callable taking no arguments
template <typename Exception = vikcse::error, typename Fn>
void expect_error(Fn&& fn, const std::vector<std::string>& parts) {
  try {
    fn();
    BOOST_ERROR("no exception; expected one mentioning '" << (parts.empty() ? std::string() : parts.front()) << "'");
  } catch (const Exception& e) {
    const std::string message = e.what();
    for (const auto& p : parts) BOOST_TEST(message.find(p) != std::string::npos, "'" << p << "' not in: " << message);
  }
}

}  // namespace vikcse::testing
