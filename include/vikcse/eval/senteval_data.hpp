// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file senteval_data.hpp
/// Readers for the SentEval data layout (`<dir>/downstream/...`). Every sentence is returned as
/// SentEval's batchers hand it to a tokenizer: the file's text split into whitespace tokens
/// (Python `str.split()`) and re-joined with single spaces. Orders follow SentEval (the STS12-16
/// subsets and the transfer tasks are sorted the way SentEval sorts them before batching).
/// Torch-free. Every error names the file and, where there is one, the line (1-based).

#include <vikcse/error.hpp>
#include <vikcse/eval/text.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <numeric>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace vikcse {

/// Sentence pairs with gold similarity scores (one STS subset or one STS-B / SICK split).
struct StsPairs {
  std::string name;                 ///< subset name (`MSRpar`, ...) or split name (`test`)
  std::vector<std::string> first;   ///< first sentences, whitespace tokens joined with ' '
  std::vector<std::string> second;  ///< second sentences
  std::vector<double> gold;         ///< gold scores (pairs with an empty score are already dropped)

  /// Number of pairs.
  [[nodiscard]] std::size_t size() const { return gold.size(); }
};

/// One STS task: STS12..STS16 (several subsets, "all" = their concatenation), or STS-B / SICK-R
/// (one subset, the split).
struct StsTaskData {
  std::string name;               ///< `STS12` ... `STS16`, `STSBenchmark`, `SICKRelatedness` (+`-dev`)
  std::vector<StsPairs> subsets;  ///< in SentEval's order

  /// Total number of pairs over all subsets.
  [[nodiscard]] std::size_t size() const {
    std::size_t n = 0;
    for (const auto& s : subsets) n += s.size();
    return n;
  }
};

/// How a transfer task trains and tests its classifier (SentEval `tools/validation.py`).
enum class TransferProtocol {
  inner_kfold,  ///< MR, CR, SUBJ, MPQA: k-fold over all data, inner k-fold picks L2 (`InnerKFoldClassifier`)
  kfold,        ///< TREC, MRPC: k-fold on train picks L2, then train on all train, test on test (`KFoldClassifier`)
  split,        ///< SST: the dev split picks L2 (`SplitClassifier`)
};

/// One split of a transfer task. For pair tasks (MRPC) `second` holds the second sentences.
struct TransferSplit {
  std::vector<std::string> first;    ///< sentences (first of the pair for MRPC)
  std::vector<std::string> second;   ///< second sentences; empty unless the task has pairs
  std::vector<std::int64_t> labels;  ///< class ids 0..num_classes-1

  /// Number of examples.
  [[nodiscard]] std::size_t size() const { return labels.size(); }
};

/// A SentEval transfer (classification) task.
struct TransferTaskData {
  std::string name;              ///< `MR`, `CR`, `SUBJ`, `MPQA`, `SST2`, `SST5`, `TREC`, `MRPC`
  std::int64_t num_classes = 2;  ///< number of classes
  TransferProtocol protocol = TransferProtocol::inner_kfold;  ///< validation protocol
  bool pairs = false;                                         ///< true for MRPC (features |u-v|, u*v)
  TransferSplit train;                                        ///< all data for inner_kfold tasks
  TransferSplit dev;                                          ///< only for `split` tasks
  TransferSplit test;                                         ///< empty for inner_kfold tasks
};

namespace detail::eval {

/// SentEval's STS subsets per year (STS13 without the licensed SMT subset).
inline const std::map<std::string, std::vector<std::string>>& sts_year_subsets() {
  static const std::map<std::string, std::vector<std::string>> subsets = {
      {"STS12", {"MSRpar", "MSRvid", "SMTeuroparl", "surprise.OnWN", "surprise.SMTnews"}},
      {"STS13", {"FNWN", "headlines", "OnWN"}},
      {"STS14", {"deft-forum", "deft-news", "headlines", "images", "OnWN", "tweet-news"}},
      {"STS15", {"answers-forums", "answers-students", "belief", "headlines", "images"}},
      {"STS16", {"answer-answer", "headlines", "plagiarism", "postediting", "question-question"}},
  };
  return subsets;
}

/// Reads a UTF-8 text file and splits it into lines the way Python does in `mode`.
struct TextLines {
  std::string text;                     ///< the decoded file (UTF-8)
  std::vector<std::string_view> lines;  ///< views into `text`
};

/// Loads `path` (UTF-8, or latin-1 re-encoded to UTF-8) and splits it into lines.
inline TextLines read_lines(const std::filesystem::path& path, LineMode mode, bool latin1 = false) {
  TextLines out;
  out.text = read_file_bytes(path);
  if (latin1) out.text = latin1_to_utf8(out.text);
  out.lines = split_lines(out.text, mode);
  return out;
}

/// Sorts the pairs like SentEval's STS loader: by (words in s1, words in s2, score), stable.
inline void sort_pairs_like_senteval(StsPairs& pairs) {
  std::vector<std::size_t> order(pairs.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  auto key = [&](std::size_t i) {
    return std::make_tuple(word_count(pairs.first[i]), word_count(pairs.second[i]), pairs.gold[i]);
  };
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return key(a) < key(b); });
  StsPairs sorted{pairs.name, {}, {}, {}};
  for (std::size_t i : order) {
    sorted.first.push_back(std::move(pairs.first[i]));
    sorted.second.push_back(std::move(pairs.second[i]));
    sorted.gold.push_back(pairs.gold[i]);
  }
  pairs = std::move(sorted);
}

/// Sorts a single-sentence split like SentEval's transfer tasks: by (words, label), stable.
inline void sort_split_like_senteval(TransferSplit& split) {
  std::vector<std::size_t> order(split.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  const bool pairs = !split.second.empty();
  auto key = [&](std::size_t i) {
    return std::make_tuple(word_count(split.first[i]), pairs ? word_count(split.second[i]) : std::size_t{0},
                           split.labels[i]);
  };
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return key(a) < key(b); });
  TransferSplit sorted;
  for (std::size_t i : order) {
    sorted.first.push_back(std::move(split.first[i]));
    if (pairs) sorted.second.push_back(std::move(split.second[i]));
    sorted.labels.push_back(split.labels[i]);
  }
  split = std::move(sorted);
}

/// `line.strip().split('\t')` with a check that at least `needed` fields are present.
inline std::vector<std::string_view> tab_fields(std::string_view line, std::size_t needed,
                                                const std::filesystem::path& path, std::size_t line_no) {
  auto fields = split_on(python_strip(line), '\t');
  if (fields.size() < needed) {
    throw_error<data_error>("{}:{}: expected at least {} tab-separated fields, got {}", path.string(), line_no, needed,
                            fields.size());
  }
  return fields;
}

/// Parses a gold score field; throws naming file:line on failure.
inline double parse_score(std::string_view field, const std::filesystem::path& path, std::size_t line_no) {
  const auto value = parse_python_float(field);
  if (!value) throw_error<data_error>("{}:{}: expected a number as score, got '{}'", path.string(), line_no, field);
  return *value;
}

}  // namespace detail::eval

/// Names of the STS tasks in the paper's column order: STS12..STS16, STSBenchmark, SICKRelatedness.
inline const std::vector<std::string>& sts_task_names() {
  static const std::vector<std::string> names = {"STS12", "STS13",        "STS14",          "STS15",
                                                 "STS16", "STSBenchmark", "SICKRelatedness"};
  return names;
}

/// Names of the transfer tasks in the paper's column order (plus SST5, not in the paper tables).
inline const std::vector<std::string>& transfer_task_names() {
  static const std::vector<std::string> names = {"MR", "CR", "SUBJ", "MPQA", "SST2", "TREC", "MRPC", "SST5"};
  return names;
}

/// Reads one STS12-16 subset: `STS.input.<name>.txt` (tab-separated pair per line, extra fields
/// ignored as SentEval does) and `STS.gs.<name>.txt` (one score per line; an empty line drops the
/// pair). Both files must have the same number of lines. Pairs stay in file order.
/// @throws vikcse::data_error naming the file (and line) when a file is missing or malformed.
inline StsPairs read_sts_subset(const std::filesystem::path& year_dir, const std::string& name) {
  const auto input_path = year_dir / ("STS.input." + name + ".txt");
  const auto gold_path = year_dir / ("STS.gs." + name + ".txt");
  const auto input = detail::eval::read_lines(input_path, detail::eval::LineMode::splitlines);
  const auto gold = detail::eval::read_lines(gold_path, detail::eval::LineMode::splitlines);
  if (input.lines.size() != gold.lines.size()) {
    throw_error<data_error>("{}: expected {} score lines (one per line of {}), got {}", gold_path.string(),
                            input.lines.size(), input_path.string(), gold.lines.size());
  }
  StsPairs pairs{name, {}, {}, {}};
  for (std::size_t i = 0; i < input.lines.size(); ++i) {
    const auto fields = detail::eval::split_on(input.lines[i], '\t');
    if (fields.size() < 2) {
      throw_error<data_error>("{}:{}: expected two tab-separated sentences, got {} field(s)", input_path.string(),
                              i + 1, fields.size());
    }
    if (gold.lines[i].empty()) continue;  // SentEval drops pairs without a gold score.
    pairs.gold.push_back(detail::eval::parse_score(gold.lines[i], gold_path, i + 1));
    pairs.first.push_back(detail::eval::python_split_join(fields[0]));
    pairs.second.push_back(detail::eval::python_split_join(fields[1]));
  }
  return pairs;
}

/// Reads an STS-B split (`STSBenchmark/sts-<split>.csv`: genre, file, year, id, score, s1, s2).
/// @param split `train`, `dev` or `test`
inline StsPairs read_sts_benchmark(const std::filesystem::path& senteval_dir, const std::string& split) {
  const auto path = senteval_dir / "downstream" / "STS" / "STSBenchmark" / ("sts-" + split + ".csv");
  const auto file = detail::eval::read_lines(path, detail::eval::LineMode::universal);
  StsPairs pairs{split, {}, {}, {}};
  for (std::size_t i = 0; i < file.lines.size(); ++i) {
    const auto fields = detail::eval::tab_fields(file.lines[i], 7, path, i + 1);
    pairs.gold.push_back(detail::eval::parse_score(fields[4], path, i + 1));
    pairs.first.push_back(detail::eval::python_split_join(fields[5]));
    pairs.second.push_back(detail::eval::python_split_join(fields[6]));
  }
  return pairs;
}

/// Reads a SICK relatedness split (`SICK/SICK_<train|trial|test_annotated>.txt`, header line
/// skipped; id, s1, s2, relatedness, entailment).
/// @param split `train`, `dev` (the trial file) or `test`
inline StsPairs read_sick_relatedness(const std::filesystem::path& senteval_dir, const std::string& split) {
  const std::string file_name = split == "train"  ? "SICK_train.txt"
                                : split == "dev"  ? "SICK_trial.txt"
                                : split == "test" ? "SICK_test_annotated.txt"
                                                  : "";
  if (file_name.empty()) throw_error<invalid_argument>("SICK split: expected train, dev or test, got '{}'", split);
  const auto path = senteval_dir / "downstream" / "SICK" / file_name;
  const auto file = detail::eval::read_lines(path, detail::eval::LineMode::universal);
  StsPairs pairs{split, {}, {}, {}};
  for (std::size_t i = 1; i < file.lines.size(); ++i) {
    const auto fields = detail::eval::tab_fields(file.lines[i], 4, path, i + 1);
    pairs.gold.push_back(detail::eval::parse_score(fields[3], path, i + 1));
    pairs.first.push_back(detail::eval::python_split_join(fields[1]));
    pairs.second.push_back(detail::eval::python_split_join(fields[2]));
  }
  return pairs;
}

/// Reads an STS task by name: `STS12`..`STS16` (subsets sorted as SentEval sorts them),
/// `STSBenchmark` (test split), `STSBenchmark-dev`, `SICKRelatedness` (test), `SICKRelatedness-dev`.
/// @throws vikcse::invalid_argument for an unknown name; vikcse::data_error for missing/malformed files.
inline StsTaskData read_sts_task(const std::filesystem::path& senteval_dir, const std::string& name) {
  StsTaskData task{name, {}};
  const auto& years = detail::eval::sts_year_subsets();
  if (const auto it = years.find(name); it != years.end()) {
    const auto dir = senteval_dir / "downstream" / "STS" / (name + "-en-test");
    for (const auto& subset : it->second) {
      task.subsets.push_back(read_sts_subset(dir, subset));
      detail::eval::sort_pairs_like_senteval(task.subsets.back());
    }
  } else if (name == "STSBenchmark") {
    task.subsets.push_back(read_sts_benchmark(senteval_dir, "test"));
  } else if (name == "STSBenchmark-dev") {
    task.subsets.push_back(read_sts_benchmark(senteval_dir, "dev"));
  } else if (name == "SICKRelatedness") {
    task.subsets.push_back(read_sick_relatedness(senteval_dir, "test"));
  } else if (name == "SICKRelatedness-dev") {
    task.subsets.push_back(read_sick_relatedness(senteval_dir, "dev"));
  } else {
    throw_error<invalid_argument>(
        "unknown STS task '{}': expected STS12..STS16, STSBenchmark, STSBenchmark-dev, SICKRelatedness, "
        "SICKRelatedness-dev",
        name);
  }
  return task;
}

namespace detail::eval {

/// One sentence per line (latin-1, `read().splitlines()`), all with the same label.
inline void read_sentence_lines(const std::filesystem::path& path, std::int64_t label, TransferSplit& split) {
  const auto file = read_lines(path, LineMode::splitlines, /*latin1=*/true);
  for (const auto line : file.lines) {
    split.first.push_back(python_split_join(line));
    split.labels.push_back(label);
  }
}

/// SST: binary (`sentence<TAB>label`) or fine (`label sentence`), UTF-8.
inline TransferSplit read_sst_split(const std::filesystem::path& path, bool binary, std::int64_t num_classes) {
  const auto file = read_lines(path, LineMode::universal);
  TransferSplit split;
  for (std::size_t i = 0; i < file.lines.size(); ++i) {
    const auto stripped = python_strip(file.lines[i]);
    std::string_view text;
    std::string_view label_field;
    if (binary) {
      const auto fields = split_on(stripped, '\t');
      if (fields.size() < 2) {
        throw_error<data_error>("{}:{}: expected 'sentence<TAB>label', got {} field(s)", path.string(), i + 1,
                                fields.size());
      }
      text = fields[0];
      label_field = fields[1];
    } else {
      const auto space = stripped.find(' ');
      if (space == std::string_view::npos) {
        throw_error<data_error>("{}:{}: expected 'label sentence', got no space", path.string(), i + 1);
      }
      label_field = stripped.substr(0, space);
      text = stripped.substr(space + 1);
    }
    const auto label = parse_python_int(label_field);
    if (!label || *label < 0 || *label >= num_classes) {
      throw_error<data_error>("{}:{}: expected a label in 0..{}, got '{}'", path.string(), i + 1, num_classes - 1,
                              label_field);
    }
    split.first.push_back(python_split_join(text));
    split.labels.push_back(*label);
  }
  return split;
}

/// TREC: `COARSE:fine sentence` per line (latin-1), six coarse classes.
inline TransferSplit read_trec_split(const std::filesystem::path& path) {
  static const std::map<std::string, std::int64_t, std::less<>> classes = {{"ABBR", 0}, {"DESC", 1}, {"ENTY", 2},
                                                                           {"HUM", 3},  {"LOC", 4},  {"NUM", 5}};
  const auto file = read_lines(path, LineMode::universal, /*latin1=*/true);
  TransferSplit split;
  for (std::size_t i = 0; i < file.lines.size(); ++i) {
    const auto stripped = python_strip(file.lines[i]);
    const auto colon = stripped.find(':');
    if (colon == std::string_view::npos) {
      throw_error<data_error>("{}:{}: expected 'CLASS:fine sentence', got no ':'", path.string(), i + 1);
    }
    const auto target = stripped.substr(0, colon);
    const auto rest = stripped.substr(colon + 1);
    const auto space = rest.find(' ');
    if (space == std::string_view::npos) {
      throw_error<data_error>("{}:{}: expected 'CLASS:fine sentence', got no sentence", path.string(), i + 1);
    }
    const auto it = classes.find(target);
    if (it == classes.end()) {
      throw_error<data_error>("{}:{}: expected a class in ABBR, DESC, ENTY, HUM, LOC, NUM, got '{}'", path.string(),
                              i + 1, target);
    }
    split.first.push_back(python_split_join(rest.substr(space + 1)));
    split.labels.push_back(it->second);
  }
  return split;
}

/// MRPC: header line, then `quality<TAB>id1<TAB>id2<TAB>s1<TAB>s2` (UTF-8).
inline TransferSplit read_mrpc_split(const std::filesystem::path& path) {
  const auto file = read_lines(path, LineMode::universal);
  TransferSplit split;
  for (std::size_t i = 1; i < file.lines.size(); ++i) {
    const auto fields = tab_fields(file.lines[i], 5, path, i + 1);
    const auto label = parse_python_int(fields[0]);
    if (!label || (*label != 0 && *label != 1)) {
      throw_error<data_error>("{}:{}: expected quality 0 or 1, got '{}'", path.string(), i + 1, fields[0]);
    }
    split.first.push_back(python_split_join(fields[3]));
    split.second.push_back(python_split_join(fields[4]));
    split.labels.push_back(*label);
  }
  return split;
}

}  // namespace detail::eval

/// Reads a transfer task by name (`MR`, `CR`, `SUBJ`, `MPQA`, `SST2`, `SST5`, `TREC`, `MRPC`)
/// from `<senteval_dir>/downstream/...`, sorted as SentEval sorts it before batching.
/// @throws vikcse::invalid_argument for an unknown name; vikcse::data_error for missing/malformed files.
inline TransferTaskData read_transfer_task(const std::filesystem::path& senteval_dir, const std::string& name) {
  const auto root = senteval_dir / "downstream";
  TransferTaskData task;
  task.name = name;
  auto binary = [&](const char* folder, const char* positive, const char* negative) {
    task.num_classes = 2;
    task.protocol = TransferProtocol::inner_kfold;
    detail::eval::read_sentence_lines(root / folder / positive, 1, task.train);
    detail::eval::read_sentence_lines(root / folder / negative, 0, task.train);
    detail::eval::sort_split_like_senteval(task.train);
  };
  if (name == "MR") {
    binary("MR", "rt-polarity.pos", "rt-polarity.neg");
  } else if (name == "CR") {
    binary("CR", "custrev.pos", "custrev.neg");
  } else if (name == "SUBJ") {
    binary("SUBJ", "subj.objective", "subj.subjective");  // SentEval labels objective 1, subjective 0
  } else if (name == "MPQA") {
    binary("MPQA", "mpqa.pos", "mpqa.neg");
  } else if (name == "SST2" || name == "SST5") {
    const bool is_binary = name == "SST2";
    task.num_classes = is_binary ? 2 : 5;
    task.protocol = TransferProtocol::split;
    const auto dir = root / "SST" / (is_binary ? "binary" : "fine");
    task.train = detail::eval::read_sst_split(dir / "sentiment-train", is_binary, task.num_classes);
    task.dev = detail::eval::read_sst_split(dir / "sentiment-dev", is_binary, task.num_classes);
    task.test = detail::eval::read_sst_split(dir / "sentiment-test", is_binary, task.num_classes);
    for (auto* split : {&task.train, &task.dev, &task.test}) detail::eval::sort_split_like_senteval(*split);
  } else if (name == "TREC") {
    task.num_classes = 6;
    task.protocol = TransferProtocol::kfold;
    task.train = detail::eval::read_trec_split(root / "TREC" / "train_5500.label");
    task.test = detail::eval::read_trec_split(root / "TREC" / "TREC_10.label");
    detail::eval::sort_split_like_senteval(task.train);
    detail::eval::sort_split_like_senteval(task.test);
  } else if (name == "MRPC") {
    task.num_classes = 2;
    task.protocol = TransferProtocol::kfold;
    task.pairs = true;
    task.train = detail::eval::read_mrpc_split(root / "MRPC" / "msr_paraphrase_train.txt");
    task.test = detail::eval::read_mrpc_split(root / "MRPC" / "msr_paraphrase_test.txt");
    detail::eval::sort_split_like_senteval(task.train);
    detail::eval::sort_split_like_senteval(task.test);
  } else {
    throw_error<invalid_argument>("unknown transfer task '{}': expected MR, CR, SUBJ, MPQA, SST2, SST5, TREC or MRPC",
                                  name);
  }
  return task;
}

}  // namespace vikcse
