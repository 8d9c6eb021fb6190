// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: the command-line parsers of every program (vikcse_reproduce, vikcse_eval,
// vikcse_encode, vikcse_search, vikcse_tokenize, vikcse_demo, vikcse_build_kb): CLI11 with the project's checks, then
// the checks across options, on argument lists split from the input at NUL or newline. The first
// argument names the program (a name that is none of them picks one by its first byte), so the
// seeds stay readable. Parsing must end in a result, CLI11's typed parse error (the program prints
// it and exits with status 2) or the project's usage error (vikcse::invalid_argument, status 2).
#include "fuzz_support.hpp"

#include "../../examples/support/build_kb_options.hpp"
#include "../../examples/support/demo_options.hpp"
#include "../../examples/support/encode_options.hpp"
#include "../../examples/support/eval_options.hpp"
#include "../../examples/support/reproduce_options.hpp"
#include "../../examples/support/search_options.hpp"
#include "../../examples/support/tokenize_options.hpp"

#include <array>
#include <string>
#include <string_view>
#include <vector>

namespace {

// Parses `argv` with a fresh `CLI::App` set up by `setup`, then runs `finish`.
template <typename Setup, typename Finish>
void parse_with(const std::vector<const char*>& argv, Setup&& setup, Finish&& finish) {
  CLI::App app;
  setup(app);
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::Error&) {
    return;  // CLI11's typed error: vikcse::cli::parse prints it and exits with status 2
  }
  finish();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::string> args;
  std::string current;
  for (std::size_t i = 0; i < size && args.size() < 64; ++i) {
    const char c = static_cast<char>(data[i]);
    if (c == '\0' || c == '\n') {
      args.push_back(current);
      current.clear();
    } else {
      current.push_back(c);
    }
  }
  if (!current.empty()) args.push_back(current);
  if (args.empty()) return 0;
  static constexpr std::array<std::string_view, 7> programs = {"reproduce", "eval", "encode",  "search",
                                                               "tokenize",  "demo", "build_kb"};
  std::size_t program = 0;
  while (program < programs.size() && programs[program] != args[0]) ++program;
  if (program == programs.size()) program = static_cast<std::size_t>(data[0]) % programs.size();
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());  // argv[0]: the program's name

  namespace cli = vikcse::cli;
  vikcse::fuzz::expect_typed_errors([&] {
    switch (program) {
      case 0: {
        cli::reproduce::Args parsed;
        bool reference_code = false;
        parse_with(
            argv, [&](CLI::App& app) { cli::reproduce::add_options(app, parsed, reference_code); },
            [&] { (void)cli::reproduce::finish(parsed, reference_code); });
        break;
      }
      case 1: {
        cli::eval::Args parsed;
        parse_with(
            argv, [&](CLI::App& app) { cli::eval::add_options(app, parsed); }, [&] { cli::eval::finish(parsed); });
        break;
      }
      case 2: {
        cli::encode::Args parsed;
        parse_with(
            argv, [&](CLI::App& app) { cli::encode::add_options(app, parsed); }, [] {});
        break;
      }
      case 3: {
        cli::search::Args parsed;
        parse_with(
            argv, [&](CLI::App& app) { cli::search::add_options(app, parsed, /*with_faiss=*/true); },
            [&] { cli::search::finish(parsed); });
        break;
      }
      case 4: {
        cli::tokenize::Args parsed;
        parse_with(
            argv, [&](CLI::App& app) { cli::tokenize::add_options(app, parsed); }, [] {});
        break;
      }
      case 6: {
        cli::build_kb::Args parsed;
        parse_with(
            argv, [&](CLI::App& app) { cli::build_kb::add_options(app, parsed); },
            [&] { cli::build_kb::check(parsed); });
        break;
      }
      default: {
        cli::demo::Args parsed;
        parse_with(
            argv, [&](CLI::App& app) { cli::demo::add_options(app, parsed); }, [] {});
        break;
      }
    }
  });
  return 0;
}
