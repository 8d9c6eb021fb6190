// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file retrieval_data.hpp
/// Reader of a retrieval data set in the BEIR / MTEB layout:
///
/// - `DIR/queries.jsonl`: one JSON object per line, `{"_id": ..., "text": ...}`
/// - `DIR/corpus.jsonl`: one JSON object per line, `{"_id": ..., "title": ..., "text": ...}`
///   (`title` optional); the document is `title + " " + text` when the title is non-empty, else `text`
/// - `DIR/qrels/<split>.tsv`: the header `query-id<TAB>corpus-id<TAB>score`, then one judgement per
///   line; a document is relevant to a query when its score is > 0
///
/// Only queries with at least one relevant document are kept for evaluation, as
/// sentence-transformers' `InformationRetrievalEvaluator` does. Other keys of the JSON objects are
/// ignored; an `_id` may be a string or an integer (written in decimal, to match the qrels). Empty
/// lines are skipped at the end of a file only (`data_lines.hpp`). Every error names the file and
/// the line (1-based). Torch-free.

#include <vikcse/error.hpp>
#include <vikcse/eval/data_lines.hpp>
#include <vikcse/eval/text.hpp>

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstddef>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace vikcse {

/// A retrieval data set: the queries to evaluate, the corpus, and which documents are relevant.
struct RetrievalData {
  std::string name;                             ///< the directory's name (table label)
  std::filesystem::path dir;                    ///< the directory read
  std::vector<std::string> query_ids;           ///< evaluated queries (>= 1 relevant document), file order
  std::vector<std::string> queries;             ///< their texts
  std::vector<std::set<std::size_t>> relevant;  ///< per evaluated query: the corpus rows with score > 0
  std::vector<std::string> corpus_ids;          ///< every document's `_id`, file order (= corpus row)
  std::vector<std::string> documents;           ///< every document's text (`beir_document_text`)
  std::size_t queries_in_file = 0;              ///< queries in queries.jsonl (evaluated or not)
  std::size_t judgements = 0;                   ///< data rows of the qrels file
};

/// The text a BEIR document is encoded as: `title + " " + text` when `title` is non-empty, else
/// `text` (sentence-transformers' BEIR examples and MTEB join them the same way).
inline std::string beir_document_text(std::string_view title, std::string_view text) {
  if (title.empty()) return std::string(text);
  std::string out(title);
  out.push_back(' ');
  out.append(text);
  return out;
}

namespace detail::eval {

/// One `_id` / text record of a jsonl file.
struct JsonlRecord {
  std::string id;    ///< `_id`
  std::string text;  ///< the query text, or the document text (`beir_document_text`)
};

/// The part of a nlohmann parse error message after its own "line 1, column N: " (which counts
/// within the one line given to it, not in the file).
inline std::string json_error_detail(const nlohmann::json::parse_error& e) {
  const std::string what = e.what();
  const auto column = what.find("column ");
  const auto colon = column == std::string::npos ? std::string::npos : what.find(": ", column);
  return colon == std::string::npos ? what : what.substr(colon + 2);
}

/// The keys of a JSON object, quoted and comma-separated, for error messages.
inline std::string json_keys(const nlohmann::json& object) {
  std::string keys;
  for (const auto& item : object.items()) keys += (keys.empty() ? "\"" : ", \"") + item.key() + "\"";
  return keys.empty() ? std::string("(none)") : keys;
}

/// The string value of `key` in `object` (an integer is accepted for `_id`, written in decimal).
/// An absent or null key gives nullopt when `optional`, else an error naming the file and line.
inline std::optional<std::string> json_string(const nlohmann::json& object, const char* key, bool optional,
                                              const std::filesystem::path& path, std::size_t line_no) {
  const auto it = object.find(key);
  if (it == object.end() || (optional && it->is_null())) {
    if (optional) return std::nullopt;
    throw_error<data_error>("{}:{}: expected a \"{}\" key, found the keys {}", path.string(), line_no, key,
                            json_keys(object));
  }
  const bool is_id = std::string_view(key) == "_id";
  if (it->is_string()) return it->get<std::string>();
  if (is_id && (it->is_number_integer() || it->is_number_unsigned())) return it->dump();
  throw_error<data_error>("{}:{}: expected \"{}\" to be a string{}, found {} {}", path.string(), line_no, key,
                          is_id ? " or an integer" : "", it->type_name(), it->dump());
}

/// Reads `queries.jsonl` (`document = false`) or `corpus.jsonl` (`document = true`), checking that
/// every `_id` is unique.
inline std::vector<JsonlRecord> read_beir_jsonl(const std::filesystem::path& path, bool document) {
  std::vector<JsonlRecord> records;
  std::unordered_map<std::string, std::size_t> line_of;  // _id -> the line it was first seen on
  const auto lines = for_each_data_line(path, [&](std::size_t line_no, std::string_view line) {
    nlohmann::json object;
    try {
      object = nlohmann::json::parse(line);
    } catch (const nlohmann::json::parse_error& e) {
      throw_error<data_error>("{}:{}: expected one JSON object per line, found invalid JSON at character {} ({})",
                              path.string(), line_no, e.byte, json_error_detail(e));
    }
    if (!object.is_object()) {
      throw_error<data_error>("{}:{}: expected a JSON object {{\"_id\": ..., \"text\": ...}}, found {} {}",
                              path.string(), line_no, object.type_name(), object.dump());
    }
    JsonlRecord record;
    record.id = *json_string(object, "_id", false, path, line_no);
    const auto text = *json_string(object, "text", false, path, line_no);
    const auto title = document ? json_string(object, "title", true, path, line_no) : std::nullopt;
    record.text = beir_document_text(title.value_or(""), text);
    if (const auto [it, inserted] = line_of.emplace(record.id, line_no); !inserted) {
      throw_error<data_error>("{}:{}: expected unique \"_id\"s, found \"{}\" again (first on line {})", path.string(),
                              line_no, record.id, it->second);
    }
    records.push_back(std::move(record));
  });
  if (lines == 0) {
    throw_error<data_error>("{}: expected one JSON object per line, found an empty file ({})", path.string(),
                            document ? "no documents: the corpus is empty" : "no queries");
  }
  return records;
}

/// Index of every `_id` of `records`.
inline std::unordered_map<std::string, std::size_t> index_of_ids(const std::vector<JsonlRecord>& records) {
  std::unordered_map<std::string, std::size_t> index;
  index.reserve(records.size());
  for (std::size_t i = 0; i < records.size(); ++i) index.emplace(records[i].id, i);
  return index;
}

}  // namespace detail::eval

/// Reads the BEIR / MTEB directory `dir` with the judgements of `qrels/<split>.tsv` (see the file
/// comment for the layout and the rules).
/// @throws vikcse::data_error naming the file, and the line (1-based) where there is one, when a file
///         is missing or empty, a line is not a JSON object or lacks `_id` / `text`, an `_id` repeats,
///         the qrels header is not `query-id<TAB>corpus-id<TAB>score`, a qrels row has a missing or an
///         extra column, a score that is not a finite number, a query-id not in queries.jsonl, a
///         corpus-id not in corpus.jsonl or repeats a (query-id, corpus-id) pair, or when no query has
///         a relevant document.
inline RetrievalData read_beir_directory(const std::filesystem::path& dir, const std::string& split = "test") {
  const auto queries_path = dir / "queries.jsonl";
  const auto corpus_path = dir / "corpus.jsonl";
  const auto qrels_path = dir / "qrels" / (split + ".tsv");
  for (const auto& p : {queries_path, corpus_path, qrels_path}) {
    if (!std::filesystem::is_regular_file(p)) {
      throw_error<data_error>(
          "{}: missing; a BEIR retrieval directory holds queries.jsonl, corpus.jsonl and "
          "qrels/{}.tsv",
          p.string(), split);
    }
  }
  const auto queries = detail::eval::read_beir_jsonl(queries_path, false);
  const auto corpus = detail::eval::read_beir_jsonl(corpus_path, true);
  const auto query_index = detail::eval::index_of_ids(queries);
  const auto corpus_index = detail::eval::index_of_ids(corpus);

  RetrievalData data;
  data.dir = dir;
  const auto normal = std::filesystem::absolute(dir).lexically_normal();  // "data/scifact/" or "." alike
  data.name = (normal.has_filename() ? normal : normal.parent_path()).filename().string();
  data.queries_in_file = queries.size();
  std::vector<std::set<std::size_t>> relevant(queries.size());
  std::map<std::pair<std::size_t, std::size_t>, std::size_t> line_of;  // (query, doc) -> line
  const auto lines = detail::eval::for_each_data_line(qrels_path, [&](std::size_t line_no, std::string_view line) {
    const auto fields = detail::eval::split_on(line, '\t');
    if (line_no == 1) {
      if (fields.size() != 3 || fields[0] != "query-id" || fields[1] != "corpus-id" || fields[2] != "score") {
        throw_error<data_error>("{}:1: expected the header 'query-id<TAB>corpus-id<TAB>score', found '{}'",
                                qrels_path.string(), line);
      }
      return;
    }
    if (fields.size() != 3) {
      throw_error<data_error>("{}:{}: expected 3 tab-separated columns (query-id, corpus-id, score), found {}",
                              qrels_path.string(), line_no, fields.size());
    }
    const auto score = detail::eval::parse_python_float(fields[2]);
    if (!score || !std::isfinite(*score)) {
      throw_error<data_error>("{}:{}: expected a finite number as score (column 3), found '{}'", qrels_path.string(),
                              line_no, fields[2]);
    }
    const auto q = query_index.find(std::string(fields[0]));
    if (q == query_index.end()) {
      throw_error<data_error>("{}:{}: expected a query-id of {}, found '{}', which is not there", qrels_path.string(),
                              line_no, queries_path.string(), fields[0]);
    }
    const auto d = corpus_index.find(std::string(fields[1]));
    if (d == corpus_index.end()) {
      throw_error<data_error>("{}:{}: expected a corpus-id of {}, found '{}', which is not there", qrels_path.string(),
                              line_no, corpus_path.string(), fields[1]);
    }
    if (const auto [it, inserted] = line_of.emplace(std::make_pair(q->second, d->second), line_no); !inserted) {
      throw_error<data_error>(
          "{}:{}: expected one judgement per (query-id, corpus-id), found '{}', '{}' again (first "
          "on line {})",
          qrels_path.string(), line_no, fields[0], fields[1], it->second);
    }
    ++data.judgements;
    if (*score > 0) relevant[q->second].insert(d->second);
  });
  if (lines == 0) {
    throw_error<data_error>(
        "{}: expected the header 'query-id<TAB>corpus-id<TAB>score' and judgements, found an "
        "empty file",
        qrels_path.string());
  }
  if (data.judgements == 0) {
    throw_error<data_error>("{}: expected judgements after the header, found none", qrels_path.string());
  }
  for (std::size_t i = 0; i < queries.size(); ++i) {
    if (relevant[i].empty()) continue;
    data.query_ids.push_back(queries[i].id);
    data.queries.push_back(queries[i].text);
    data.relevant.push_back(std::move(relevant[i]));
  }
  if (data.queries.empty()) {
    throw_error<data_error>(
        "{}: expected at least one query with a relevant document (score > 0), found none in {} "
        "judgements",
        qrels_path.string(), data.judgements);
  }
  data.corpus_ids.reserve(corpus.size());
  data.documents.reserve(corpus.size());
  for (const auto& r : corpus) {
    data.corpus_ids.push_back(r.id);
    data.documents.push_back(r.text);
  }
  return data;
}

}  // namespace vikcse
