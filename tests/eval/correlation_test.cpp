// SPDX-License-Identifier: Apache-2.0
#define BOOST_TEST_MODULE eval_correlation
#include <boost/test/unit_test.hpp>

#include <support/test_data.hpp>
#include <vikcse/eval/correlation.hpp>
#include <vikcse/eval/senteval_data.hpp>

#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <vector>

namespace {

struct Scores {
  std::vector<double> gold, a, b;
};

// The same deterministic system scores as tests/eval/reference/make_correlation_fixture.py.
void append(Scores& s, const vikcse::StsPairs& pairs) {
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    const auto w1 = static_cast<long>(vikcse::detail::eval::word_count(pairs.first[i]));
    const auto w2 = static_cast<long>(vikcse::detail::eval::word_count(pairs.second[i]));
    const double g = pairs.gold[i];
    s.gold.push_back(g);
    s.a.push_back(g + static_cast<double>((31 * w1 + 17 * w2) % 23) / 7.0);
    s.b.push_back(std::floor(g) + static_cast<double>(w1 % 3));
  }
}

// The fixture was written by scipy on some other machine, so the bound must hold across machines.
// Everything here is float64 on the same float64 inputs: the ranks are exact (ties are equal
// values, found alike in any order), and Pearson of n <= 4927 values carries a rounding error of
// about (n + 4) eps64 times the condition of the sums, ~1e-12 for these score ranges. 1e-9 leaves a
// thousand-fold margin and is still far below any real difference (one changed rank moves a
// Spearman by ~1e-6 at n = 4927).
void check(const Scores& s, const nlohmann::json& expected, const std::string& what) {
  BOOST_TEST_CONTEXT(what) {
    BOOST_TEST(s.gold.size() == expected.at("n").get<std::size_t>());
    BOOST_TEST(std::abs(vikcse::pearson(s.a, s.gold) - expected.at("pearson_a").get<double>()) < 1e-9);
    BOOST_TEST(std::abs(vikcse::spearman(s.a, s.gold) - expected.at("spearman_a").get<double>()) < 1e-9);
    BOOST_TEST(std::abs(vikcse::pearson(s.b, s.gold) - expected.at("pearson_b").get<double>()) < 1e-9);
    BOOST_TEST(std::abs(vikcse::spearman(s.b, s.gold) - expected.at("spearman_b").get<double>()) < 1e-9);
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(average_ranks_share_ties) {
  const std::vector<double> values = {3.0, 1.0, 3.0, 2.0, 3.0};
  const auto ranks = vikcse::average_ranks(values);
  const std::vector<double> expected = {4.0, 1.0, 4.0, 2.0, 4.0};  // ranks 3,4,5 averaged for the three 3.0s
  BOOST_TEST(ranks == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(hand_computed_values) {
  // x = 1..4, y = 2x -> r = 1; y reversed -> r = -1;
  // ties: spearman([1,2,2,3],[1,2,3,4]) = pearson([1,2.5,2.5,4],[1,2,3,4]).
  const std::vector<double> x = {1, 2, 3, 4};
  const std::vector<double> y = {2, 4, 6, 8};
  const std::vector<double> r = {8, 6, 4, 2};
  BOOST_TEST(vikcse::pearson(x, y) == 1.0, boost::test_tools::tolerance(1e-15));
  BOOST_TEST(vikcse::spearman(x, r) == -1.0, boost::test_tools::tolerance(1e-15));
  const std::vector<double> tied = {1, 2, 2, 3};
  // ranks [1, 2.5, 2.5, 4] vs [1,2,3,4]: cov = 4.5+... computed by hand: sum dx*dy = 1.5*1.5+0+0+1.5*1.5 = 4.5,
  // sxx = 2.25*2 = 4.5, syy = 5 -> r = 4.5 / sqrt(4.5*5) = 0.9486832980505138
  BOOST_TEST(vikcse::spearman(tied, x) == 0.9486832980505138, boost::test_tools::tolerance(1e-14));
}

BOOST_AUTO_TEST_CASE(degenerate_inputs) {
  const std::vector<double> constant = {1, 1, 1};
  const std::vector<double> x = {1, 2, 3};
  BOOST_TEST(std::isnan(vikcse::pearson(constant, x)));
  BOOST_TEST(std::isnan(vikcse::spearman(constant, x)));
  const std::vector<double> short_x = {1, 2};
  BOOST_CHECK_THROW(vikcse::pearson(short_x, x), vikcse::invalid_argument);
  const std::vector<double> one = {1};
  BOOST_CHECK_THROW(vikcse::pearson(one, one), vikcse::invalid_argument);
  const std::vector<double> with_nan = {1, std::nan(""), 3};
  BOOST_CHECK_THROW(vikcse::spearman(with_nan, x), vikcse::invalid_argument);
}

// Spearman and Pearson equal scipy.stats (fixture written by the reference script) to 1e-9 on
// every real STS subset, every year's "all" concatenation, STS-B and SICK-R.
BOOST_AUTO_TEST_CASE(matches_scipy_on_real_sts_files) {
  const auto senteval = vikcse::testing::data_dir() / "senteval";
  std::ifstream in(vikcse::testing::fixture_dir() / "eval" / "correlation_fixture.json");
  BOOST_REQUIRE(in.good());
  const auto fixture = nlohmann::json::parse(in);
  std::size_t checked = 0;
  for (const auto& [name, expected] : fixture.at("tasks").items()) {
    const auto task = vikcse::read_sts_task(senteval, name);
    Scores all;
    for (const auto& subset : task.subsets) {
      Scores one;
      append(one, subset);
      append(all, subset);
      check(one, expected.at("subsets").at(subset.name), name + "/" + subset.name);
      ++checked;
    }
    check(all, expected.at("all"), name + "/all");
  }
  BOOST_TEST(checked == 5u + 3u + 6u + 5u + 5u + 4u);
}
