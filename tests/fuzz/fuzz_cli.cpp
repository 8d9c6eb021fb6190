// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: vikcse_reproduce's command-line parser (CLI11 with the project's checks, then the
// checks across options), on argument lists split from the input at NUL or newline. Parsing must end
// in a result, CLI11's typed parse error (printed, exit status 2) or the project's usage error.
#include "fuzz_support.hpp"

#include "../../examples/support/reproduce_options.hpp"

#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::string> args{"vikcse_reproduce"};
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
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  vikcse::fuzz::expect_typed_errors([&] {
    CLI::App app;
    vikcse::cli::reproduce::Args parsed;
    bool reference_code = false;
    vikcse::cli::reproduce::add_options(app, parsed, reference_code);
    try {
      app.parse(static_cast<int>(argv.size()), argv.data());
    } catch (const CLI::Error&) {
      return;  // CLI11's typed error: vikcse::cli::parse prints it and exits with status 2
    }
    (void)vikcse::cli::reproduce::finish(parsed, reference_code);
  });
  return 0;
}
