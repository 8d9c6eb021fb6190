// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file world.hpp
/// The demo's world, made in the open so that the methods differ by construction.
///
/// A sentence states four concepts, `a <subject> <action> the <object> in the <place>`, followed by
/// 0 to 10 filler words that mean nothing ("today", "really"), and each concept has two surface
/// forms that are synonyms ("dog" / "puppy"). One sentence uses one form of each of its concepts,
/// so the two forms never occur together: text alone cannot tell that they mean the same. Images
/// can: the feature vector of an image depends on its concepts only (a sum of one random vector per
/// concept plus noise), never on the words of its caption.
///
/// * The text corpus is made of minimal-pair families (a state and variants that change one
///   concept, in the same forms and with the same fillers), batched together so in-batch negatives
///   force every concept into the vector and teach that fillers tell nothing apart: that is what
///   contrastive training can learn from text. An untrained encoder weighs fillers like concepts,
///   so two sentences that share fillers look alike to it whatever they mean.
/// * The image–caption set pairs captions (random forms) with images of their states. MCSE trains
///   on these pairs; VIKCSE's knowledge base is these images (its stage 2 never sees the pairs).
/// * Scored pairs (gold = share of concepts two sentences agree on, 0–5; each sentence draws its own
///   fillers): the *STS test* keeps the forms of the shared concepts (text reveals the similarity);
///   the *grounded* set writes at least one shared concept in its other form (only the images
///   reveal it).

#include <vikcse/eval/senteval_data.hpp>

#include <torch/torch.h>

#include <array>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace demo {

/// What the world is made of.
struct WorldOptions {
  std::uint64_t seed = 2026;      ///< seed of the data (fixed: the training seeds vary the models)
  std::size_t families = 1000;    ///< minimal-pair families in the text corpus
  std::size_t family_size = 8;    ///< sentences per family
  std::size_t captions = 2000;    ///< image–caption pairs
  std::int64_t image_dim = 32;    ///< width of an image feature vector
  double image_noise = 0.3;       ///< std of the per-image noise (concept vectors have std 1)
  std::size_t dev_pairs = 300;    ///< dev pairs of each kind (STS and grounded)
  std::size_t test_pairs = 1000;  ///< test pairs of each kind
  std::size_t max_fillers = 10;   ///< filler words after a sentence: 0 to this many, drawn per sentence
};

/// The data of one demo.
struct DemoData {
  std::vector<std::vector<std::string>> families;  ///< text corpus, one minimal-pair family per entry
  std::vector<std::string> captions;               ///< captions of the image–caption pairs
  torch::Tensor images;                            ///< `[captions, image_dim]` their image features
  vikcse::StsTaskData dev;                         ///< both kinds of pairs, for checkpoint selection
  vikcse::StsTaskData test;                        ///< the demo STS test (forms kept)
  vikcse::StsTaskData grounded;                    ///< the grounded subset (synonyms swapped)
};

/// Four slots, each with concepts of two synonymous surface forms.
inline const std::array<std::vector<std::array<const char*, 2>>, 4>& slots() {
  static const std::array<std::vector<std::array<const char*, 2>>, 4> s = {{
      {{"man", "guy"},
       {"woman", "lady"},
       {"dog", "puppy"},
       {"cat", "kitten"},
       {"child", "kid"},
       {"chef", "cook"},
       {"farmer", "grower"},
       {"student", "pupil"}},
      {{"eats", "consumes"},
       {"carries", "holds"},
       {"watches", "observes"},
       {"throws", "tosses"},
       {"buys", "purchases"},
       {"paints", "draws"}},
      {{"apple", "fruit"},
       {"ball", "sphere"},
       {"car", "vehicle"},
       {"guitar", "banjo"},
       {"book", "novel"},
       {"box", "crate"}},
      {{"park", "meadow"}, {"street", "road"}, {"house", "home"}, {"river", "stream"}, {"kitchen", "pantry"}},
  }};
  return s;
}

using State = std::array<std::size_t, 4>;  ///< one concept per slot
using Forms = std::array<std::size_t, 4>;  ///< surface form (0 or 1) per slot

/// The generator of the world's sentences, pairs and images.
class World {
public:
  explicit World(const WorldOptions& options) : options_(options), rng_(options.seed) {
    auto gen = torch::make_generator<at::CPUGeneratorImpl>(options.seed);
    for (const auto& slot : slots()) {
      concept_vectors_.push_back(torch::randn({static_cast<std::int64_t>(slot.size()), options.image_dim}, gen));
    }
    noise_ = gen;
  }

  /// The sentence of a state in given forms: `a <subject> <action> the <object> in the <place>`,
  /// then the filler words (meaningless for the gold score).
  static std::string say(const State& s, const Forms& f, const std::vector<std::size_t>& fill) {
    const auto& w = slots();
    auto out = std::string("a ") + w[0][s[0]][f[0]] + " " + w[1][s[1]][f[1]] + " the " + w[2][s[2]][f[2]] + " in the " +
               w[3][s[3]][f[3]];
    for (const auto i : fill) out += std::string(" ") + filler_words()[i];
    return out;
  }

  /// Words that carry no meaning in this world (gold ignores them).
  static const std::vector<const char*>& filler_words() {
    static const std::vector<const char*> w = {"today", "again", "really", "often", "quietly", "slowly",
                                               "now",   "there", "later",  "still", "maybe",   "happily"};
    return w;
  }

  /// Every surface word, for the vocabulary.
  static std::vector<std::string> all_words() {
    std::vector<std::string> out{"a", "the", "in"};
    for (const auto& slot : slots()) {
      for (const auto& c : slot) out.insert(out.end(), {c[0], c[1]});
    }
    for (const auto* w : filler_words()) out.emplace_back(w);
    return out;
  }

  /// All the demo data.
  DemoData make() {
    DemoData d;
    for (std::size_t i = 0; i < options_.families; ++i) d.families.push_back(family());
    std::vector<torch::Tensor> images;
    for (std::size_t i = 0; i < options_.captions; ++i) {
      const auto s = state();
      d.captions.push_back(say(s, forms(), fillers()));
      images.push_back(image(s));
    }
    d.images = torch::stack(images);
    auto dev_sts = pairs("dev", options_.dev_pairs, false);
    auto dev_grounded = pairs("dev", options_.dev_pairs, true);
    for (std::size_t i = 0; i < dev_grounded.first.size(); ++i) {
      dev_sts.first.push_back(dev_grounded.first[i]);
      dev_sts.second.push_back(dev_grounded.second[i]);
      dev_sts.gold.push_back(dev_grounded.gold[i]);
    }
    d.dev = {"demo dev", {dev_sts}};
    d.test = {"demo STS test", {pairs("test", options_.test_pairs, false)}};
    d.grounded = {"grounded", {pairs("grounded", options_.test_pairs, true)}};
    return d;
  }

private:
  std::size_t pick(std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_); }
  State state() {
    State s{};
    for (std::size_t i = 0; i < s.size(); ++i) s[i] = pick(slots()[i].size());
    return s;
  }

  std::vector<std::size_t> fillers() {
    std::vector<std::size_t> out(pick(options_.max_fillers + 1));
    for (auto& x : out) x = pick(filler_words().size());
    return out;
  }
  Forms forms() {
    Forms f{};
    for (auto& x : f) x = pick(2);
    return f;
  }
  /// `s` with the concept of `slot` replaced by another one.
  State change(State s, std::size_t slot) {
    s[slot] = (s[slot] + 1 + pick(slots()[slot].size() - 1)) % slots()[slot].size();
    return s;
  }
  std::vector<std::string> family() {
    const auto s = state();
    const auto f = forms();
    const auto fill = fillers();
    std::vector<std::string> out{say(s, f, fill)};
    while (out.size() < options_.family_size) out.push_back(say(change(s, pick(s.size())), f, fill));
    return out;
  }
  torch::Tensor image(const State& s) {
    auto v = options_.image_noise * torch::randn({options_.image_dim}, noise_);
    for (std::size_t i = 0; i < s.size(); ++i) v += concept_vectors_[i][static_cast<std::int64_t>(s[i])];
    return v;
  }
  /// Pairs that differ in 0–4 concepts (grounded: 0–3, and at least one shared concept in its
  /// other form). Gold = 5 · (shared concepts) / 4.
  vikcse::StsPairs pairs(const std::string& name, std::size_t n, bool grounded) {
    vikcse::StsPairs p{name, {}, {}, {}};
    for (std::size_t i = 0; i < n; ++i) {
      const auto a = state();
      const auto fa = forms();
      std::array<std::size_t, 4> order{0, 1, 2, 3};
      std::shuffle(order.begin(), order.end(), rng_);
      const auto changes = grounded ? pick(4) : pick(5);
      auto b = a;
      for (std::size_t c = 0; c < changes; ++c) b = change(b, order[c]);
      auto fb = fa;
      if (grounded) {  // at least one shared concept in its other form
        const auto swaps = 1 + pick(4 - changes);
        for (std::size_t k = 0; k < swaps; ++k) fb[order[changes + k]] = 1 - fa[order[changes + k]];
      }
      p.first.push_back(say(a, fa, fillers()));
      p.second.push_back(say(b, fb, fillers()));
      p.gold.push_back(5.0 * static_cast<double>(4 - changes) / 4.0);
    }
    return p;
  }

  WorldOptions options_;
  std::mt19937_64 rng_;
  std::vector<torch::Tensor> concept_vectors_;
  at::Generator noise_;
};

}  // namespace demo
