// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file paper_results.hpp
/// Published STS results (Spearman × 100, SentEval "all", STS-B/SICK-R test) of the four methods,
/// transcribed from the papers and READMEs (README.md#paper-tables), each row with its source. Column order:
/// STS12, STS13, STS14, STS15, STS16, STS-B, SICK-R, Avg. Torch-free.

#include <array>
#include <optional>
#include <string_view>

namespace vikcse {

/// One published row.
struct PaperRow {
  std::string_view method;       ///< `simcse`, `promptbert`, `mcse`, `vikcse`
  std::string_view backbone;     ///< `bert-base`, `bert-large`, `roberta-base`, `roberta-large`
  std::string_view setting;      ///< e.g. `wiki`, `wiki+flickr`, `wiki+coco`
  std::array<double, 8> scores;  ///< STS12..STS16, STS-B, SICK-R, Avg.
  std::string_view source;       ///< where the numbers come from (paper table, README or model card)
};

/// The rows (VIKCSE Tables 2/3 for every method, plus the method papers where they differ).
inline constexpr std::array<PaperRow, 22> paper_rows{{
    {"simcse",
     "bert-base",
     "wiki",
     {68.40, 82.41, 74.38, 80.91, 78.56, 76.85, 72.23, 76.25},
     "VIKCSE paper, Table 2 (SimCSE row)"},
    {"simcse",
     "bert-large",
     "wiki",
     {70.88, 84.16, 76.43, 84.50, 79.76, 79.26, 73.88, 78.41},
     "VIKCSE paper, Table 2 (SimCSE row)"},
    {"simcse",
     "roberta-base",
     "wiki",
     {70.16, 81.77, 73.24, 81.36, 80.65, 80.22, 68.56, 76.57},
     "VIKCSE paper, Table 3 (SimCSE row)"},
    {"simcse",
     "roberta-large",
     "wiki",
     {72.86, 83.99, 75.62, 84.77, 81.80, 81.98, 71.26, 78.90},
     "VIKCSE paper, Table 3 (SimCSE row)"},
    {"promptbert",
     "bert-base",
     "wiki",
     {71.56, 84.58, 76.98, 84.47, 80.60, 81.60, 69.87, 78.54},
     "PromptBERT README (mean over seeds)"},
    {"promptbert",
     "bert-large",
     "wiki",
     {73.29, 86.39, 77.90, 85.18, 79.97, 81.92, 71.26, 79.42},
     "VIKCSE paper, Table 2"},
    {"promptbert",
     "roberta-base",
     "wiki",
     {73.94, 84.74, 77.28, 84.99, 81.74, 81.88, 69.50, 79.15},
     "PromptBERT README (mean over seeds)"},
    {"promptbert",
     "roberta-large",
     "wiki",
     {73.24, 83.08, 77.97, 84.03, 81.57, 82.85, 73.28, 79.43},
     "VIKCSE paper, Table 3"},
    {"mcse",
     "bert-base",
     "wiki+flickr",
     {71.40, 81.80, 74.80, 83.60, 77.50, 79.50, 72.60, 77.30},
     "MCSE paper (mean of 5 seeds), as quoted by VIKCSE"},
    {"mcse",
     "bert-base",
     "wiki+coco",
     {71.20, 79.70, 73.80, 83.00, 77.80, 78.50, 72.10, 76.60},
     "MCSE paper (mean of 5 seeds), as quoted by VIKCSE"},
    {"mcse",
     "roberta-base",
     "wiki+flickr",
     {71.70, 82.70, 75.90, 84.00, 81.30, 82.30, 70.30, 78.30},
     "MCSE paper (mean of 5 seeds), as quoted by VIKCSE"},
    {"mcse",
     "roberta-base",
     "wiki+coco",
     {70.20, 82.00, 75.50, 83.00, 81.50, 80.80, 69.90, 77.60},
     "MCSE paper (mean of 5 seeds), as quoted by VIKCSE"},
    {"vikcse",
     "bert-base",
     "wiki+flickr",
     {70.99, 84.28, 76.48, 84.65, 80.50, 81.68, 71.80, 78.63},
     "VIKCSE paper, Table 2"},
    {"vikcse",
     "bert-base",
     "wiki+coco",
     {71.73, 84.45, 77.11, 84.29, 80.32, 80.96, 72.28, 78.73},
     "VIKCSE paper, Table 2"},
    {"vikcse",
     "bert-large",
     "wiki+flickr",
     {73.66, 86.11, 78.39, 85.84, 80.17, 82.69, 72.76, 79.95},
     "VIKCSE paper, Table 2"},
    {"vikcse",
     "bert-large",
     "wiki+coco",
     {74.01, 86.86, 78.22, 85.65, 80.75, 82.71, 73.69, 80.27},
     "VIKCSE paper, Table 2"},
    {"vikcse",
     "roberta-base",
     "wiki+flickr",
     {73.32, 85.15, 77.60, 85.09, 81.99, 82.57, 70.95, 79.52},
     "VIKCSE paper, Table 3"},
    {"vikcse",
     "roberta-base",
     "wiki+coco",
     {73.16, 85.88, 78.73, 85.54, 82.46, 83.59, 72.25, 80.23},
     "VIKCSE paper, Table 3"},
    {"vikcse",
     "roberta-large",
     "wiki+flickr",
     {74.18, 86.30, 79.30, 86.18, 82.53, 83.87, 72.81, 80.74},
     "VIKCSE paper, Table 3"},
    {"vikcse",
     "roberta-large",
     "wiki+coco",
     {72.57, 86.41, 79.58, 86.74, 82.36, 83.90, 75.35, 80.99},
     "VIKCSE paper, Table 3"},
    {"mcse",
     "bert-base",
     "flickr-checkpoint",
     {71.63, 82.13, 75.94, 84.63, 77.50, 79.96, 72.12, 77.70},
     "MCSE released checkpoint (Hugging Face model card)"},
    {"mcse",
     "roberta-base",
     "flickr-checkpoint",
     {71.74, 82.60, 75.67, 84.49, 80.74, 81.52, 72.30, 78.44},
     "MCSE released checkpoint (Hugging Face model card)"},
}};

/// The published row of (method, backbone, setting); nullopt when the papers report none.
inline std::optional<PaperRow> find_paper_row(std::string_view method, std::string_view backbone,
                                              std::string_view setting) {
  for (const auto& r : paper_rows) {
    if (r.method == method && r.backbone == backbone && r.setting == setting) return r;
  }
  return std::nullopt;
}

}  // namespace vikcse
