// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file report.hpp
/// The evaluation report: the papers' text tables (Spearman x 100 with 2 decimals, "Avg." = mean of
/// the rounded numbers) and a JSON document with every number, written atomically.

#include <vikcse/detail/atomic_file.hpp>
#include <vikcse/error.hpp>
#include <vikcse/eval/sts.hpp>
#include <vikcse/eval/transfer.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace vikcse {

/// Which transfer accuracy a report leads with (its table and the JSON `tables.transfer`).
enum class TransferMetric {
  acc,     ///< test accuracy (SentEval `acc`): what SentEval's test mode reports
  devacc,  ///< cross-validation accuracy, or dev accuracy for SST (SentEval `devacc`): what its fast/dev mode reports
};

/// The JSON key of a transfer metric (`acc`, `devacc`).
inline std::string_view to_string(TransferMetric metric) { return metric == TransferMetric::acc ? "acc" : "devacc"; }

/// What a transfer mode reports, as SimCSE's SentEval driver does: `acc` in test mode, `devacc` in fast mode.
inline TransferMetric reported_transfer_metric(TransferMode mode) {
  return mode == TransferMode::test ? TransferMetric::acc : TransferMetric::devacc;
}

/// A human label of a transfer metric, for table captions.
inline std::string_view transfer_metric_label(TransferMetric metric) {
  return metric == TransferMetric::acc ? "test accuracy, SentEval acc"
                                       : "cross-validation accuracy (dev split for SST), SentEval devacc";
}

/// Everything one evaluation run produced.
struct EvalReport {
  nlohmann::json metadata = nlohmann::json::object();    ///< model, pooler, mode, timings ... (free form)
  std::vector<StsTaskResult> sts;                        ///< STS results in run order
  std::vector<TransferTaskResult> transfer;              ///< transfer results in run order
  TransferMetric transfer_metric = TransferMetric::acc;  ///< the accuracy the transfer table shows
};

namespace detail::eval {

inline nlohmann::json number(double x) { return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(nullptr); }
inline double number(const nlohmann::json& j) { return j.is_null() ? std::nan("") : j.get<double>(); }

inline nlohmann::json to_json(const StsAggregate& a) {
  return {{"all", number(a.all)}, {"mean", number(a.mean)}, {"wmean", number(a.wmean)}};
}
inline StsAggregate aggregate_from_json(const nlohmann::json& j) {
  return {number(j.at("all")), number(j.at("mean")), number(j.at("wmean"))};
}

/// Formats cells as a Markdown-style table `| a | b |` with a rule under the header.
inline std::string format_table(const std::vector<std::string>& header, const std::vector<std::string>& row) {
  std::string top = "|", rule = "|", body = "|";
  for (std::size_t i = 0; i < header.size(); ++i) {
    const auto width = std::max(header[i].size(), row[i].size());
    top += fmt::format(" {:<{}} |", header[i], width);
    rule += fmt::format("{:-<{}}|", "", width + 2);
    body += fmt::format(" {:<{}} |", row[i], width);
  }
  return top + "\n" + rule + "\n" + body + "\n";
}

}  // namespace detail::eval

/// JSON form of an STS result (NaN written as null).
inline nlohmann::json to_json(const StsTaskResult& r) {
  nlohmann::json subsets = nlohmann::json::array();
  for (const auto& s : r.subsets) {
    subsets.push_back({{"name", s.name},
                       {"n", s.n},
                       {"pearson", detail::eval::number(s.pearson)},
                       {"spearman", detail::eval::number(s.spearman)},
                       {"alignment", detail::eval::number(s.alignment)},
                       {"uniformity", detail::eval::number(s.uniformity)}});
  }
  return {{"name", r.name},
          {"n", r.n},
          {"subsets", subsets},
          {"pearson", detail::eval::to_json(r.pearson)},
          {"spearman", detail::eval::to_json(r.spearman)},
          {"alignment", detail::eval::to_json(r.alignment)},
          {"uniformity", detail::eval::to_json(r.uniformity)}};
}

/// JSON form of a transfer result.
inline nlohmann::json to_json(const TransferTaskResult& r) {
  nlohmann::json j = {{"name", r.name}, {"devacc", r.devacc}, {"acc", r.acc},
                      {"ndev", r.ndev}, {"ntest", r.ntest},   {"best_l2", r.best_l2}};
  if (r.f1) j["f1"] = *r.f1;
  return j;
}

/// Paper column names of the STS tasks.
inline std::string sts_column_name(const std::string& task) {
  static const std::map<std::string, std::string> names = {{"STSBenchmark", "STS-B"},
                                                           {"SICKRelatedness", "SICK-R"},
                                                           {"STSBenchmark-dev", "STS-B dev"},
                                                           {"SICKRelatedness-dev", "SICK-R dev"}};
  const auto it = names.find(task);
  return it == names.end() ? task : it->second;
}

/// The papers' STS table: `| STS12 | STS13 | STS14 | STS15 | STS16 | STS-B | SICK-R | Avg. |` with
/// Spearman ("all") x 100 to 2 decimals; "Avg." is the mean of the rounded numbers. Tasks appear in
/// the order given; an empty list gives an empty string.
inline std::string format_sts_table(const std::vector<StsTaskResult>& results) {
  if (results.empty()) return {};
  std::vector<std::string> header, row;
  double sum = 0.0;
  for (const auto& r : results) {
    header.push_back(sts_column_name(r.name));
    const auto cell = fmt::format("{:.2f}", 100.0 * r.spearman.all);
    row.push_back(cell);
    sum += std::stod(cell);
  }
  header.emplace_back("Avg.");
  row.push_back(fmt::format("{:.2f}", sum / static_cast<double>(results.size())));
  return detail::eval::format_table(header, row);
}

/// The papers' transfer table: test accuracy per task (`MR | CR | SUBJ | MPQA | SST2 | TREC | MRPC |
/// Avg.`), or the cross-validation accuracy when `use_devacc`.
inline std::string format_transfer_table(const std::vector<TransferTaskResult>& results, bool use_devacc = false) {
  if (results.empty()) return {};
  std::vector<std::string> header, row;
  double sum = 0.0;
  for (const auto& r : results) {
    header.push_back(r.name);
    const auto cell = fmt::format("{:.2f}", use_devacc ? r.devacc : r.acc);
    row.push_back(cell);
    sum += std::stod(cell);
  }
  header.emplace_back("Avg.");
  row.push_back(fmt::format("{:.2f}", sum / static_cast<double>(results.size())));
  return detail::eval::format_table(header, row);
}

/// The whole report as JSON: `{"metadata", "sts": [...], "transfer": [...], "tables": {...}}`. The
/// transfer table shows `report.transfer_metric`, named by `tables.transfer_metric` (`acc`/`devacc`).
inline nlohmann::json to_json(const EvalReport& report) {
  nlohmann::json sts = nlohmann::json::array();
  nlohmann::json transfer = nlohmann::json::array();
  for (const auto& r : report.sts) sts.push_back(to_json(r));
  for (const auto& r : report.transfer) transfer.push_back(to_json(r));
  const bool devacc = report.transfer_metric == TransferMetric::devacc;
  return {{"metadata", report.metadata},
          {"sts", sts},
          {"transfer", transfer},
          {"tables",
           {{"sts", format_sts_table(report.sts)},
            {"transfer", format_transfer_table(report.transfer, devacc)},
            {"transfer_metric", std::string(to_string(report.transfer_metric))}}}};
}

/// Reads a report back from its JSON form (the inverse of `to_json`).
/// @throws vikcse::data_error when a key is missing or has the wrong type.
inline EvalReport report_from_json(const nlohmann::json& j) {
  try {
    EvalReport report;
    report.metadata = j.at("metadata");
    if (j.contains("tables") && j.at("tables").contains("transfer_metric")) {
      const auto metric = j.at("tables").at("transfer_metric").get<std::string>();
      if (metric != "acc" && metric != "devacc") {
        throw_error<data_error>("evaluation report JSON: tables.transfer_metric must be 'acc' or 'devacc', got '{}'",
                                metric);
      }
      report.transfer_metric = metric == "acc" ? TransferMetric::acc : TransferMetric::devacc;
    }
    for (const auto& s : j.at("sts")) {
      StsTaskResult r;
      r.name = s.at("name").get<std::string>();
      r.n = s.at("n").get<std::size_t>();
      for (const auto& sub : s.at("subsets")) {
        r.subsets.push_back({sub.at("name").get<std::string>(), sub.at("n").get<std::size_t>(),
                             detail::eval::number(sub.at("pearson")), detail::eval::number(sub.at("spearman")),
                             detail::eval::number(sub.at("alignment")), detail::eval::number(sub.at("uniformity"))});
      }
      r.pearson = detail::eval::aggregate_from_json(s.at("pearson"));
      r.spearman = detail::eval::aggregate_from_json(s.at("spearman"));
      r.alignment = detail::eval::aggregate_from_json(s.at("alignment"));
      r.uniformity = detail::eval::aggregate_from_json(s.at("uniformity"));
      report.sts.push_back(std::move(r));
    }
    for (const auto& t : j.at("transfer")) {
      TransferTaskResult r;
      r.name = t.at("name").get<std::string>();
      r.devacc = t.at("devacc").get<double>();
      r.acc = t.at("acc").get<double>();
      r.ndev = t.at("ndev").get<std::size_t>();
      r.ntest = t.at("ntest").get<std::size_t>();
      r.best_l2 = t.at("best_l2").get<double>();
      if (t.contains("f1")) r.f1 = t.at("f1").get<double>();
      report.transfer.push_back(std::move(r));
    }
    return report;
  } catch (const nlohmann::json::exception& e) {
    throw_error<data_error>("evaluation report JSON: {}", e.what());
  }
}

/// Writes the report as pretty JSON to `path` atomically (temporary file, then rename).
inline void write_report_json(const std::filesystem::path& path, const EvalReport& report) {
  detail::write_text_atomically<data_error>(path, to_json(report).dump(2) + "\n");
}

}  // namespace vikcse
