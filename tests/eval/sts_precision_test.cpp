// SPDX-License-Identifier: Apache-2.0
#define BOOST_TEST_MODULE eval_sts_precision
#include <boost/test/unit_test.hpp>

#include <support/python_reference.hpp>

#include <vikcse/eval/sts.hpp>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

namespace {

using Row = std::vector<float>;

// One STS subset whose float32 cosines tie where float64 ones do not. All entries are small integers
// or 10000, and a row has at most two non-zero products, so every dot product is formed with at most
// one rounding whatever the summation order; sqrt, * and / are correctly rounded IEEE operations.
// numpy and LibTorch therefore produce the same float32 (and float64) cosines bit for bit.
struct TieCase {
  std::vector<Row> first, second;
  std::vector<double> gold;
  TieCase() {
    // Identical sentences: cos(u, u) = d / (sqrt(d) * sqrt(d)) lands on 1 or a neighbouring float,
    // one of three float32 values but several float64 ones.
    for (const Row& u : std::vector<Row>{{1, 1, 0, 0},
                                         {1, 1, 1, 0},
                                         {1, 2, 0, 0},
                                         {1, 1, 1, 1},
                                         {2, 1, 1, 0},
                                         {1, 2, 2, 1},
                                         {3, 1, 1, 0},
                                         {1, 1, 2, 3},
                                         {2, 3, 0, 0},
                                         {1, 3, 1, 2},
                                         {3, 3, 1, 0},
                                         {2, 2, 2, 1}}) {
      first.push_back(u);
      second.push_back(u);
    }
    // Near-constant vectors (a dominant shared component, like [CLS] vectors of an untrained model).
    const std::vector<std::pair<float, float>> near = {{1, 2}, {2, 3}, {1, 3}, {3, 5}, {0, 1}, {4, 1}, {2, 7}, {5, 5}};
    for (const auto& [a, b] : near) {
      first.push_back({10000, a, 0, 0});
      second.push_back({10000, b, 0, 0});
    }
    // Ordinary pairs.
    const std::vector<std::pair<Row, Row>> ordinary = {{{1, 0, 2, 0}, {0, 1, 1, 3}}, {{2, 1, 0, 1}, {1, 1, 1, 0}},
                                                       {{0, 0, 1, 1}, {1, 1, 0, 0}}, {{3, 0, 1, 0}, {1, 2, 0, 1}},
                                                       {{1, 2, 3, 4}, {4, 3, 2, 1}}, {{1, 0, 0, 0}, {1, 1, 1, 1}}};
    for (const auto& [u, v] : ordinary) {
      first.push_back(u);
      second.push_back(v);
    }
    // Distinct gold scores in a scrambled order (i * 7 mod n is a permutation for n = 26).
    const auto n = first.size();
    for (std::size_t i = 0; i < n; ++i) gold.push_back(0.2 * static_cast<double>((i * 7) % n));
  }
  [[nodiscard]] static torch::Tensor tensor(const std::vector<Row>& rows) {
    std::vector<torch::Tensor> t;
    for (const auto& r : rows) t.push_back(torch::tensor(r, torch::kFloat));
    return torch::stack(t);
  }
  [[nodiscard]] vikcse::StsTaskData task() const {
    const std::vector<std::string> x(gold.size(), "x"), y(gold.size(), "y");
    vikcse::StsPairs pairs{"ties", x, y, gold};
    return vikcse::StsTaskData{"toy", {pairs}};
  }
};

// Rounding bound of a Pearson correlation of n values computed in double by two different
// algorithms (ours: sums of deviations; scipy: normalised dot products): every mean, sum and product
// carries a relative error <= (n + 4) eps, the deviations from the mean lose max|v| / sd(v) of
// that relative accuracy, and each side contributes its own error, hence
// 2 * 4 (n + 4) eps * (1 + max(kx, ky)) with k = max|v| / sd(v).
double pearson_tolerance(const std::vector<double>& x, const std::vector<double>& y) {
  auto condition = [](const std::vector<double>& v) {
    const double n = static_cast<double>(v.size());
    const double mean = std::accumulate(v.begin(), v.end(), 0.0) / n;
    double ss = 0.0, largest = 0.0;
    for (const double a : v) {
      ss += (a - mean) * (a - mean);
      largest = std::max(largest, std::abs(a));
    }
    return largest / std::sqrt(ss / n);
  };
  const double eps = std::numeric_limits<double>::epsilon();
  return 8.0 * (static_cast<double>(x.size()) + 4.0) * eps * (1.0 + std::max(condition(x), condition(y)));
}

std::vector<double> ranks(const std::vector<double>& v) { return vikcse::average_ranks(v); }

}  // namespace

// Default (float32) cosines and their Pearson/Spearman equal SentEval's numpy/scipy computation run
// here; the float64 option equals the float64 computation; and on this case the two precisions
// give clearly different Spearman correlations.
BOOST_AUTO_TEST_CASE(float32_cosines_tie_as_senteval_and_float64_is_an_option) {
  const TieCase c;
  vikcse::testing::ScratchDir dir("vikcse-sts-precision");
  nlohmann::json input = {{"first", c.first}, {"second", c.second}, {"gold", c.gold}};
  const auto ref = vikcse::testing::run_python_reference("eval", "senteval_sts_cosine.py", input, dir.path, "ties");
  const auto a = TieCase::tensor(c.first);
  const auto b = TieCase::tensor(c.second);
  const auto ref32 = ref.at("float32");
  const auto ref64 = ref.at("float64");
  // The case is one where the precision matters.
  BOOST_TEST(ref32.at("distinct").get<int>() < ref64.at("distinct").get<int>());
  BOOST_TEST(std::abs(ref32.at("spearman").get<double>() - ref64.at("spearman").get<double>()) > 0.01);
  for (const auto precision : {vikcse::CosinePrecision::float32, vikcse::CosinePrecision::float64}) {
    const auto& want = precision == vikcse::CosinePrecision::float32 ? ref32 : ref64;
    BOOST_TEST_CONTEXT(vikcse::to_string(precision)) {
      const auto cos = vikcse::detail::eval::senteval_cosines(a, b, precision);
      const auto want_cos = want.at("cosines").get<std::vector<double>>();
      BOOST_TEST(cos == want_cos, boost::test_tools::per_element());  // bit for bit (see TieCase)
      vikcse::StsEvalOptions options;
      options.alignment_uniformity = false;
      options.cosine = precision;
      const auto r = vikcse::evaluate_sts(c.task(), a, b, options);
      BOOST_TEST(std::abs(r.subsets.at(0).pearson - want.at("pearson").get<double>()) <=
                 pearson_tolerance(cos, c.gold));
      BOOST_TEST(std::abs(r.subsets.at(0).spearman - want.at("spearman").get<double>()) <=
                 pearson_tolerance(ranks(cos), ranks(c.gold)));
      BOOST_TEST(r.spearman.all == r.subsets.at(0).spearman);  // one subset: "all" is that subset
    }
  }
  // SentEval's arithmetic is the default.
  vikcse::StsEvalOptions defaults;
  defaults.alignment_uniformity = false;
  const auto r = vikcse::evaluate_sts(c.task(), a, b, defaults);
  const auto cos = vikcse::detail::eval::senteval_cosines(a, b);
  BOOST_TEST(std::abs(r.spearman.all - ref32.at("spearman").get<double>()) <=
             pearson_tolerance(ranks(cos), ranks(c.gold)));
}

// NaN inputs become 0 and a zero vector's cosine (0 / 0) becomes 0, in both precisions.
BOOST_AUTO_TEST_CASE(nan_handling_in_both_precisions) {
  const auto a = torch::tensor({{1.0F, std::nanf(""), 0.0F}, {0.0F, 0.0F, 0.0F}});
  const auto b = torch::tensor({{1.0F, 5.0F, 0.0F}, {1.0F, 2.0F, 3.0F}});
  for (const auto precision : {vikcse::CosinePrecision::float32, vikcse::CosinePrecision::float64}) {
    const auto cos = vikcse::detail::eval::senteval_cosines(a, b, precision);
    BOOST_TEST(cos.at(0) == (precision == vikcse::CosinePrecision::float32
                                 ? static_cast<double>(1.0F / (1.0F * std::sqrt(26.0F)))
                                 : 1.0 / std::sqrt(26.0)));
    BOOST_TEST(cos.at(1) == 0.0);
  }
}
