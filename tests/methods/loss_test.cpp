// SPDX-License-Identifier: Apache-2.0
#define BOOST_TEST_MODULE methods_loss_test
#include <boost/test/unit_test.hpp>

#include <support/test_data.hpp>
#include <vikcse/knowledge/no_knowledge.hpp>
#include <vikcse/knowledge/visual_kb.hpp>
#include <vikcse/loss/knowledge_loss.hpp>
#include <vikcse/loss/multimodal_loss.hpp>
#include <vikcse/loss/simcse_loss.hpp>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <fstream>

// Expected values come from tests/methods/reference/make_loss_reference.py (PyTorch, written from
// METHODS.md independently of the C++ code) on a 3-sentence batch.

namespace {

const nlohmann::json& ref() {
  static const nlohmann::json j = [] {
    std::ifstream in(vikcse::testing::fixture_dir() / "methods" / "loss_reference.json");
    BOOST_REQUIRE(in.good());
    return nlohmann::json::parse(in);
  }();
  return j;
}

torch::Tensor tensor(const std::string& key) {
  const auto& j = ref().at(key);
  std::vector<float> flat;
  std::vector<std::int64_t> shape{static_cast<std::int64_t>(j.size())};
  if (j.at(0).is_array()) {
    shape.push_back(static_cast<std::int64_t>(j.at(0).size()));
    for (const auto& row : j)
      for (const auto& x : row) flat.push_back(x.get<float>());
  } else {
    for (const auto& x : j) flat.push_back(x.get<float>());
  }
  return torch::tensor(flat).view(shape);
}

double value(const std::string& key) { return ref().at(key).get<double>(); }

void set_projection(vikcse::TanhProjection& p, const std::string& w, const std::string& b) {
  torch::NoGradGuard no_grad;
  p->dense->weight.copy_(tensor(w));
  p->dense->bias.copy_(tensor(b));
}

vikcse::ContrastiveViews views() {
  vikcse::ContrastiveViews v;
  v.first = {tensor("z1"), tensor("h1"), tensor("cls1")};
  v.second = {tensor("z2"), tensor("h2"), tensor("cls2")};
  return v;
}

vikcse::KnowledgeInfoNCELoss vikcse_loss(vikcse::KnowledgeInfoNCELossOptions options) {
  vikcse::KnowledgeInfoNCELoss loss(options);
  set_projection(loss->mask_projector, "pm_w", "pm_b");
  set_projection(loss->cls_projector, "pc_w", "pc_b");
  return loss;
}

vikcse::VisualKnowledgeBase<> kb() { return vikcse::VisualKnowledgeBase<>(tensor("kb")); }

constexpr double tol = 1e-5;

}  // namespace

BOOST_AUTO_TEST_CASE(simcse_unsupervised_and_supervised) {
  vikcse::InfoNCELoss loss;
  auto v = views();
  BOOST_TEST(loss->forward(v, vikcse::NoContext{}).total.item<double>() == value("simcse"),
             boost::test_tools::tolerance(tol));
  v.hard_negative = vikcse::ViewEmbeddings{tensor("zh"), {}, {}};
  BOOST_TEST(loss->forward(v, vikcse::NoContext{}).total.item<double>() == value("simcse_sup"),
             boost::test_tools::tolerance(tol));
  vikcse::InfoNCELoss weighted(vikcse::InfoNCELossOptions().hard_negative_weight(1.5));
  BOOST_TEST(weighted->forward(v, vikcse::NoContext{}).total.item<double>() == value("simcse_sup_weighted"),
             boost::test_tools::tolerance(tol));
}

BOOST_AUTO_TEST_CASE(promptbert_denoised_mlp_views) {
  vikcse::TanhProjection mlp(vikcse::TanhProjectionOptions(8, 8));
  set_projection(mlp, "mlp_w", "mlp_b");
  const auto z1 = mlp(tensor("h1") - tensor("delta1"));
  const auto z2 = mlp(tensor("h2") - tensor("delta2"));
  BOOST_TEST(vikcse::info_nce(z1, z2).item<double>() == value("promptbert"), boost::test_tools::tolerance(tol));
}

BOOST_AUTO_TEST_CASE(mcse_paired_and_text_only_steps) {
  vikcse::MultimodalInfoNCELoss loss(vikcse::MultimodalInfoNCELossOptions(8, 5).proj_dim(4).lambda(value("mcse_lambda")));
  set_projection(loss->text_head, "gt_w", "gt_b");
  set_projection(loss->image_head, "gv_w", "gv_b");
  const auto paired = loss->forward(views(), vikcse::PairedImageContext{tensor("image")});
  BOOST_TEST(paired.total.item<double>() == value("mcse"), boost::test_tools::tolerance(tol));
  BOOST_TEST(paired.terms.at("intra").item<double>() == value("mcse_intra"), boost::test_tools::tolerance(tol));
  BOOST_TEST(paired.terms.at("inter").item<double>() == value("mcse_inter"), boost::test_tools::tolerance(tol));
  const auto text_only = loss->forward(views(), vikcse::PairedImageContext{});
  BOOST_TEST(text_only.total.item<double>() == value("mcse_intra"), boost::test_tools::tolerance(tol));
  BOOST_TEST(text_only.terms.count("inter") == 0U);
}

BOOST_AUTO_TEST_CASE(vikcse_reference_loss_and_terms) {
  auto bank = kb();
  auto loss = vikcse_loss(vikcse::KnowledgeInfoNCELossOptions(8, 4));
  const auto out = loss->forward(views(), bank->context({}));
  const auto& r = ref().at("vikcse");
  BOOST_TEST(out.terms.at("text").item<double>() == r.at("text").get<double>(), boost::test_tools::tolerance(tol));
  BOOST_TEST(out.terms.at("vm").item<double>() == r.at("vm").get<double>(), boost::test_tools::tolerance(tol));
  BOOST_TEST(out.terms.at("vc").item<double>() == r.at("vc").get<double>(), boost::test_tools::tolerance(tol));
  BOOST_TEST(out.total.item<double>() == r.at("total").get<double>(), boost::test_tools::tolerance(tol));
}

BOOST_AUTO_TEST_CASE(vikcse_test3_top_n_extra_negatives) {
  auto bank = kb();
  auto loss = vikcse_loss(vikcse::KnowledgeInfoNCELossOptions(8, 4).top_n(2));
  const auto out = loss->forward(views(), bank->context({}));
  const auto& r = ref().at("vikcse_test3");
  BOOST_TEST(out.terms.at("vm").item<double>() == r.at("vm").get<double>(), boost::test_tools::tolerance(tol));
  BOOST_TEST(out.terms.at("vc").item<double>() == r.at("vc").get<double>(), boost::test_tools::tolerance(tol));
  BOOST_TEST(out.total.item<double>() == r.at("total").get<double>(), boost::test_tools::tolerance(tol));
}

BOOST_AUTO_TEST_CASE(vikcse_extension_modes_match_reference) {
  auto bank = kb();
  auto soft = vikcse_loss(
      vikcse::KnowledgeInfoNCELossOptions(8, 4).kb_grad_mode(vikcse::KbGradMode::soft).soft_top_k(4));
  BOOST_TEST(soft->forward(views(), bank->context({})).total.item<double>() ==
                 ref().at("vikcse_soft").at("total").get<double>(),
             boost::test_tools::tolerance(tol));

  auto st = vikcse_loss(vikcse::KnowledgeInfoNCELossOptions(8, 4).kb_grad_mode(vikcse::KbGradMode::straight_through));
  auto v = views();
  v.first.z.requires_grad_(true);
  const auto out = st->forward(v, bank->context({}));
  BOOST_TEST(out.total.item<double>() == value("vikcse_st_total"), boost::test_tools::tolerance(tol));
  out.total.backward();
  BOOST_TEST(torch::allclose(v.first.z.grad(), tensor("vikcse_st_grad_z1"), 1e-4, 1e-5));
}

BOOST_AUTO_TEST_CASE(vikcse_none_mode_gradient_is_the_text_gradient) {
  auto bank = kb();
  auto loss = vikcse_loss(vikcse::KnowledgeInfoNCELossOptions(8, 4));
  auto v = views();
  for (auto* t : {&v.first.z, &v.second.z, &v.first.cls, &v.second.cls}) t->requires_grad_(true);
  const auto out = loss->forward(v, bank->context({}));
  const auto full = torch::autograd::grad({out.total}, {v.first.z, v.second.z}, {}, true, false, true);
  const auto text = torch::autograd::grad({vikcse::info_nce(v.first.z, v.second.z)}, {v.first.z, v.second.z});
  BOOST_TEST(torch::equal(full[0], text[0]));
  BOOST_TEST(torch::equal(full[1], text[1]));
  BOOST_TEST(!loss->mask_projector->dense->weight.grad().defined());
}

BOOST_AUTO_TEST_CASE(bad_inputs_are_reported) {
  BOOST_CHECK_THROW(vikcse::info_nce(torch::randn({3, 4}), torch::randn({2, 4})), c10::Error);
  BOOST_CHECK_THROW(vikcse::info_nce(torch::randn({3, 4}), torch::randn({3, 5})), c10::Error);
  BOOST_CHECK_THROW(vikcse::info_nce(torch::randn({3, 4}), torch::randn({3, 4}), {0.0}), vikcse::invalid_argument);
  BOOST_CHECK_THROW(vikcse::parse_kb_grad_mode("full"), vikcse::config_error);
  BOOST_CHECK_THROW(vikcse::KnowledgeInfoNCELoss(vikcse::KnowledgeInfoNCELossOptions(8, 4).top_n(0)),
                    vikcse::config_error);
  auto bank = kb();
  auto wrong_dim = vikcse::KnowledgeInfoNCELoss(vikcse::KnowledgeInfoNCELossOptions(8, 5));
  BOOST_CHECK_THROW(wrong_dim->forward(views(), bank->context({})), vikcse::invalid_argument);
  auto too_many = vikcse_loss(vikcse::KnowledgeInfoNCELossOptions(8, 4).top_n(7));
  BOOST_CHECK_THROW(too_many->forward(views(), bank->context({})), vikcse::invalid_argument);
}
