// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file float_bounds.hpp
/// Tolerances derived from floating-point error analysis, not from the difference one machine
/// happened to show. A reference run on another CPU (other vector width, other summation order in
/// the BLAS and vectorised kernels) rounds differently, so a bound fitted to one machine's
/// difference fails on the next; a bound derived from the arithmetic holds on all of them.

#include <cmath>

namespace vikcse::testing {

/// Machine epsilons (spacing of the type's numbers at 1; the unit roundoff u is half of it).
inline constexpr double eps64 = 0x1p-52;
inline constexpr double eps32 = 0x1p-23;  // 1.19e-7
inline constexpr double eps_bf16 = 0x1p-7;
inline constexpr double eps16 = 0x1p-10;

/// Bound on max |computed - exact| of an output of a post-LayerNorm BERT/RoBERTa encoder computed
/// in a type with machine epsilon `eps` whose dot products also accumulate in that type:
///
///     eps * stages * sqrt(K) * M
///
///  - A dot product of length K rounds with error ~ sqrt(K) * u * (sum of |terms|) when the
///    rounding errors behave as independent random variables (Higham & Mary, "A new approach to
///    probabilistic rounding error analysis", SIAM J. Sci. Comput. 2019), the regime of these
///    random-weight models; the worst case K * u is never approached. K = max(hidden, intermediate).
///  - Each stage ends in a (residual) LayerNorm, which brings its result to the output scale
///    M = max |output| (gamma ~ 1 +- 0.3 in the fixtures, so M ~ 4-5): a stage adds ~ sqrt(K) * u * M
///    from its dot products and about as much again from its elementwise roundings (softmax, GELU,
///    the LayerNorm's mean and variance, the residual sum): sqrt(K) * eps * M per stage.
///  - stages: 1 for the embedding sum + LayerNorm, 2 per layer (attention block, feed-forward
///    block), 1 more for the pooler (tanh of a dense layer of the last layer's first token, whose
///    input error is of scale M). The errors of successive stages add: the next LayerNorm
///    renormalises what it receives, so an error neither vanishes nor grows much per stage at depth 2.
/// For the 2-layer fixtures in float32 (K = 37, M ~ 4.2-4.7) the last hidden state gets
/// 1.5e-5 (BERT) and 1.7e-5 (RoBERTa); the torch.nn reference itself, measured against its float64
/// evaluation, is 1.6e-6 and 5.3e-6 off, and two CPUs' float32 runs differ by up to 5.8e-6, both
/// inside (the C++ code, fused or op by op: at most 5.0e-6). The smallest real fault measured on
/// the fixtures, RoBERTa with layer_norm_eps 1e-12 instead of 1e-5, moves the last hidden state by
/// 6.6e-5, four times its bound, and the embedding output by 19 times its bound (3.4e-6);
/// encoder_model_test checks that such faults stay beyond the bound.
inline double encoder_forward_bound(double eps, int stages, int k, double magnitude) {
  return eps * stages * std::sqrt(static_cast<double>(k)) * magnitude;
}

/// Bound on |computed - exact| of an InfoNCE value (mean cross-entropy of cosine logits over a
/// temperature tau) computed in float32 from vectors of dimension <= `dim`, with `stages` float32
/// dot-product stages before the logits (1: the cosine of given vectors; 2: a projection first):
///
///     eps32 * (stages * sqrt(dim) / tau + |value|)
///
///  - a float32 cosine of two dim-vectors (two norms and a dot product of length dim, each ~sqrt(dim) * u
///    in the probabilistic model above) is off by ~sqrt(dim) * eps32; each projection stage before it
///    perturbs the vectors by as much again; the logits carry that error times 1/tau;
///  - cross-entropy: the derivative of mean_i[-l_ii + logsumexp_j l_ij] with respect to the logits
///    has Euclidean norm <= sqrt(2 / N) <= 1, so independent logit errors of size d move the value by
///    ~d (the worst case, all errors aligned with the derivative, is 2 d and does not occur);
///  - the final log-sum-exp and mean round relative to the value itself: eps32 * |value|.
/// For the 3-sentence batch of methods_loss_test (dim 8, tau 0.05) that is 6.8e-6 for a value of
/// 0.68 and 1.6e-5 for 20.6 after a projection; the float32 C++ and torch.nn results are within
/// 2.3e-6 of the float64 reference, and a temperature 10% off moves the 0.68 value by 5e-4.
inline double info_nce_bound(int stages, int dim, double tau, double value) {
  return eps32 * (stages * std::sqrt(static_cast<double>(dim)) / tau + std::abs(value));
}

}  // namespace vikcse::testing
