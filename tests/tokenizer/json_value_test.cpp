// SPDX-License-Identifier: Apache-2.0
// detail::json_as / json_value_or: the typed JSON reads every file loader uses. An integer target
// takes only a JSON integer inside its range; a float such as 1e300 (which nlohmann's get<>()
// would cast with undefined behaviour) and a value out of range throw the caller's error type with
// the place and the value in the message.

#include <vikcse/detail/json_value.hpp>

#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace {

using nlohmann::json;

template <typename T>
std::string error_of(const json& j) {
  try {
    (void)vikcse::detail::json_as<T, vikcse::data_error>(j, "f.json: key 'k'");
  } catch (const vikcse::data_error& e) {
    return e.what();
  }
  return "no error";
}

bool has(const std::string& message, const std::string& part) { return message.find(part) != std::string::npos; }

}  // namespace

BOOST_AUTO_TEST_SUITE(json_value)

BOOST_AUTO_TEST_CASE(integers_in_range_are_read_exactly) {
  using vikcse::detail::json_as;
  BOOST_TEST((json_as<std::int64_t, vikcse::data_error>(json(-7), "x")) == -7);
  BOOST_TEST((json_as<std::int64_t, vikcse::data_error>(json(std::numeric_limits<std::int64_t>::max()), "x")) ==
             std::numeric_limits<std::int64_t>::max());
  BOOST_TEST((json_as<std::size_t, vikcse::data_error>(json(std::numeric_limits<std::uint64_t>::max()), "x")) ==
             std::numeric_limits<std::size_t>::max());
  BOOST_TEST((json_as<int, vikcse::data_error>(json::parse("2147483647"), "x")) == 2147483647);
  const auto ids = json_as<std::vector<std::int64_t>, vikcse::data_error>(json::parse("[101, 0, 102]"), "x");
  BOOST_TEST((ids == std::vector<std::int64_t>{101, 0, 102}));
}

BOOST_AUTO_TEST_CASE(floats_and_out_of_range_integers_are_errors_naming_the_place_and_value) {
  // The value libFuzzer found: get<long>() on it is undefined behaviour.
  auto m = error_of<std::int64_t>(json::parse("8.88889e+123"));
  BOOST_TEST(has(m, "f.json: key 'k': expected an integer in [-9223372036854775808, 9223372036854775807], got "), m);
  BOOST_TEST(has(m, "e+123"), m);
  m = error_of<std::int64_t>(json::parse("3.0"));
  BOOST_TEST((has(m, "expected an integer") && has(m, "got 3.0")), m);
  m = error_of<std::int64_t>(json::parse("18446744073709551615"));
  BOOST_TEST(has(m, "got 18446744073709551615"), m);
  m = error_of<std::size_t>(json(-1));
  BOOST_TEST(has(m, "expected an integer in [0, 18446744073709551615], got -1"), m);
  m = error_of<int>(json::parse("2147483648"));
  BOOST_TEST(has(m, "got 2147483648"), m);
  m = error_of<std::int64_t>(json("12"));
  BOOST_TEST(has(m, "got \"12\""), m);
  m = error_of<std::vector<std::int64_t>>(json::parse("[1, 2.5]"));
  BOOST_TEST((has(m, "f.json: key 'k'[1]: expected an integer") && has(m, "got 2.5")), m);
}

BOOST_AUTO_TEST_CASE(other_types_are_checked_too) {
  BOOST_TEST(has(error_of<bool>(json(1)), "expected true or false, got 1"));
  BOOST_TEST(has(error_of<double>(json("0.5")), "expected a number, got \"0.5\""));
  BOOST_TEST(has(error_of<std::string>(json(5)), "expected a string, got 5"));
  BOOST_TEST(has(error_of<std::vector<std::int64_t>>(json(5)), "expected an array, got 5"));
  BOOST_TEST((vikcse::detail::json_as<double, vikcse::data_error>(json(3), "x")) == 3.0);
  const std::string long_text(200, 'a');
  const auto m = error_of<std::int64_t>(json(long_text));
  BOOST_TEST(m.size() < 200u, m);  // the excerpt is cut at 80 characters
  BOOST_TEST(has(m, "..."), m);
}

BOOST_AUTO_TEST_CASE(value_or_falls_back_only_when_the_key_is_absent_or_null) {
  using vikcse::detail::json_value_or;
  const auto object = json::parse(R"({"n": 5, "z": null, "f": 1e300})");
  BOOST_TEST((json_value_or<std::int64_t, vikcse::data_error>(object, "n", -1, "o")) == 5);
  BOOST_TEST((json_value_or<std::int64_t, vikcse::data_error>(object, "z", -1, "o")) == -1);
  BOOST_TEST((json_value_or<std::int64_t, vikcse::data_error>(object, "missing", -1, "o")) == -1);
  BOOST_CHECK_THROW((json_value_or<std::int64_t, vikcse::data_error>(object, "f", -1, "o")), vikcse::data_error);
}

BOOST_AUTO_TEST_SUITE_END()
