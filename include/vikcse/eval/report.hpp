// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file report.hpp
/// The evaluation report: the papers' text tables (Spearman x 100 with 2 decimals, "Avg." = mean of
/// the rounded numbers), small tables of the user-data evaluations (pairs files, BEIR retrieval) and
/// a JSON document with every number, written atomically.

#include <vikcse/detail/atomic_file.hpp>
#include <vikcse/detail/json_value.hpp>
#include <vikcse/error.hpp>
#include <vikcse/eval/pairs.hpp>
#include <vikcse/eval/retrieval.hpp>
#include <vikcse/eval/sts.hpp>
#include <vikcse/eval/transfer.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <utility>
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
  std::vector<PairsResult> pairs;                        ///< pairs-file results in run order
  std::vector<RetrievalResult> retrieval;                ///< retrieval results in run order
  TransferMetric transfer_metric = TransferMetric::acc;  ///< the accuracy the transfer table shows
};

namespace detail::eval {

inline nlohmann::json number(double x) { return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(nullptr); }
inline double number(const nlohmann::json& j) { return j.is_null() ? std::nan("") : j.get<double>(); }
/// `object[key]` as a count; a float or a negative number is a data_error, not a wrapped size.
inline std::size_t count(const nlohmann::json& object, const char* key) {
  return json_as<std::size_t, data_error>(object.at(key), fmt::format("evaluation report JSON: key '{}'", key));
}

inline nlohmann::json to_json(const StsAggregate& a) {
  return {{"all", number(a.all)}, {"mean", number(a.mean)}, {"wmean", number(a.wmean)}};
}
inline StsAggregate aggregate_from_json(const nlohmann::json& j) {
  return {number(j.at("all")), number(j.at("mean")), number(j.at("wmean"))};
}

/// Formats cells as a Markdown-style table `| a | b |` with a rule under the header and one line
/// per row (every row as long as the header).
inline std::string format_rows(const std::vector<std::string>& header,
                               const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths(header.size());
  for (std::size_t i = 0; i < header.size(); ++i) {
    widths[i] = header[i].size();
    for (const auto& row : rows) widths[i] = std::max(widths[i], row[i].size());
  }
  std::string top = "|", rule = "|";
  for (std::size_t i = 0; i < header.size(); ++i) {
    top += fmt::format(" {:<{}} |", header[i], widths[i]);
    rule += fmt::format("{:-<{}}|", "", widths[i] + 2);
  }
  std::string out = top + "\n" + rule + "\n";
  for (const auto& row : rows) {
    out += "|";
    for (std::size_t i = 0; i < header.size(); ++i) out += fmt::format(" {:<{}} |", row[i], widths[i]);
    out += "\n";
  }
  return out;
}

/// Formats cells as a Markdown-style table `| a | b |` with a rule under the header.
inline std::string format_table(const std::vector<std::string>& header, const std::vector<std::string>& row) {
  return format_rows(header, {row});
}

/// A fraction x 100 with 2 decimals (`nan` for NaN).
inline std::string percent_cell(double x) { return fmt::format("{:.2f}", 100.0 * x); }

/// The metrics of a retrieval result as flat JSON keys `<family>@<k>` (sentence-transformers' names).
inline nlohmann::json metrics_to_json(const RetrievalMetrics& m) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [name, family] : metric_families(m)) {
    for (const auto& [k, value] : *family) j[fmt::format("{}@{}", name, k)] = number(value);
  }
  return j;
}

/// The inverse of `metrics_to_json`.
inline RetrievalMetrics metrics_from_json(const nlohmann::json& j, std::size_t queries) {
  RetrievalMetrics m;
  m.queries = queries;
  for (const auto& [key, value] : j.items()) {
    const auto at = key.find('@');
    const auto k = at == std::string::npos ? std::nullopt : parse_python_int(std::string_view(key).substr(at + 1));
    auto* family = at == std::string::npos ? nullptr : metric_family_or_null(m, key.substr(0, at));
    if (family == nullptr || !k || *k < 1) {
      throw_error<data_error>("evaluation report JSON: expected a retrieval metric key like 'ndcg@10', got '{}'", key);
    }
    (*family)[static_cast<std::size_t>(*k)] = number(value);
  }
  return m;
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

/// JSON form of a pairs-file result (NaN written as null).
inline nlohmann::json to_json(const PairsResult& r) {
  return {{"name", r.name},
          {"path", r.path},
          {"n", r.n},
          {"spearman", detail::eval::number(r.spearman)},
          {"pearson", detail::eval::number(r.pearson)},
          {"cosine", std::string(to_string(r.cosine))}};
}

/// JSON form of a retrieval result: counts and `metrics` with keys `<family>@<k>` (fractions).
inline nlohmann::json to_json(const RetrievalResult& r) {
  return {{"name", r.name},
          {"path", r.path},
          {"queries", r.metrics.queries},
          {"queries_in_file", r.queries_in_file},
          {"documents", r.documents},
          {"relevant", r.relevant},
          {"metrics", detail::eval::metrics_to_json(r.metrics)}};
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

/// The pairs-file table: one row per file, `| Pairs | n | Spearman | Pearson |`, correlations of
/// the cosine with the gold scores x 100 to 2 decimals. An empty list gives an empty string.
inline std::string format_pairs_table(const std::vector<PairsResult>& results) {
  if (results.empty()) return {};
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : results) {
    rows.push_back(
        {r.name, std::to_string(r.n), detail::eval::percent_cell(r.spearman), detail::eval::percent_cell(r.pearson)});
  }
  return detail::eval::format_rows({"Pairs", "n", "Spearman", "Pearson"}, rows);
}

/// The retrieval tables, one row per data set, every metric x 100 to 2 decimals: first
/// `| Retrieval | Queries | Docs | MRR@k | NDCG@k | MAP@k | Recall@k ... |`, then (after an empty
/// line) `| Retrieval | Accuracy@k ... | Precision@k ... |`. The columns are the cut-offs of the
/// first result ("-" where another result lacks one). An empty list gives an empty string.
inline std::string format_retrieval_table(const std::vector<RetrievalResult>& results) {
  if (results.empty()) return {};
  const auto& first = results.front().metrics;
  // (column label, metric family) in column order.
  const auto table = [&](const std::vector<std::pair<std::string, std::string>>& families, bool counts) {
    std::vector<std::string> header = {"Retrieval"};
    if (counts) header.insert(header.end(), {"Queries", "Docs"});
    for (const auto& [label, family] : families) {
      for (const auto& [k, value] : metric_family(first, family)) header.push_back(fmt::format("{}@{}", label, k));
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& r : results) {
      std::vector<std::string> row = {r.name};
      if (counts) row.insert(row.end(), {std::to_string(r.metrics.queries), std::to_string(r.documents)});
      for (const auto& [label, family] : families) {
        const auto& mine = metric_family(r.metrics, family);
        for (const auto& [k, value] : metric_family(first, family)) {
          const auto it = mine.find(k);
          row.push_back(it == mine.end() ? "-" : detail::eval::percent_cell(it->second));
        }
      }
      rows.push_back(std::move(row));
    }
    return detail::eval::format_rows(header, rows);
  };
  return table({{"MRR", "mrr"}, {"NDCG", "ndcg"}, {"MAP", "map"}, {"Recall", "recall"}}, true) + "\n" +
         table({{"Accuracy", "accuracy"}, {"Precision", "precision"}}, false);
}

/// The whole report as JSON: `{"metadata", "sts": [...], "transfer": [...], "pairs": [...],
/// "retrieval": [...], "tables": {...}}`. The transfer table shows `report.transfer_metric`, named by
/// `tables.transfer_metric` (`acc`/`devacc`).
inline nlohmann::json to_json(const EvalReport& report) {
  nlohmann::json sts = nlohmann::json::array();
  nlohmann::json transfer = nlohmann::json::array();
  nlohmann::json pairs = nlohmann::json::array();
  nlohmann::json retrieval = nlohmann::json::array();
  for (const auto& r : report.sts) sts.push_back(to_json(r));
  for (const auto& r : report.transfer) transfer.push_back(to_json(r));
  for (const auto& r : report.pairs) pairs.push_back(to_json(r));
  for (const auto& r : report.retrieval) retrieval.push_back(to_json(r));
  const bool devacc = report.transfer_metric == TransferMetric::devacc;
  return {{"metadata", report.metadata},
          {"sts", sts},
          {"transfer", transfer},
          {"pairs", pairs},
          {"retrieval", retrieval},
          {"tables",
           {{"sts", format_sts_table(report.sts)},
            {"transfer", format_transfer_table(report.transfer, devacc)},
            {"transfer_metric", std::string(to_string(report.transfer_metric))},
            {"pairs", format_pairs_table(report.pairs)},
            {"retrieval", format_retrieval_table(report.retrieval)}}}};
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
      r.n = detail::eval::count(s, "n");
      for (const auto& sub : s.at("subsets")) {
        r.subsets.push_back({sub.at("name").get<std::string>(), detail::eval::count(sub, "n"),
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
      r.ndev = detail::eval::count(t, "ndev");
      r.ntest = detail::eval::count(t, "ntest");
      r.best_l2 = t.at("best_l2").get<double>();
      if (t.contains("f1")) r.f1 = t.at("f1").get<double>();
      report.transfer.push_back(std::move(r));
    }
    // Reports written before the pairs and retrieval evaluations existed have neither key.
    for (const auto& p : j.value("pairs", nlohmann::json::array())) {
      PairsResult r;
      r.name = p.at("name").get<std::string>();
      r.path = p.at("path").get<std::string>();
      r.n = detail::eval::count(p, "n");
      r.spearman = detail::eval::number(p.at("spearman"));
      r.pearson = detail::eval::number(p.at("pearson"));
      const auto cosine = p.at("cosine").get<std::string>();
      if (cosine != "float32" && cosine != "float64") {
        throw_error<data_error>("evaluation report JSON: pairs cosine must be 'float32' or 'float64', got '{}'",
                                cosine);
      }
      r.cosine = cosine == "float32" ? CosinePrecision::float32 : CosinePrecision::float64;
      report.pairs.push_back(std::move(r));
    }
    for (const auto& t : j.value("retrieval", nlohmann::json::array())) {
      RetrievalResult r;
      r.name = t.at("name").get<std::string>();
      r.path = t.at("path").get<std::string>();
      r.queries_in_file = detail::eval::count(t, "queries_in_file");
      r.documents = detail::eval::count(t, "documents");
      r.relevant = detail::eval::count(t, "relevant");
      r.metrics = detail::eval::metrics_from_json(t.at("metrics"), detail::eval::count(t, "queries"));
      report.retrieval.push_back(std::move(r));
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
