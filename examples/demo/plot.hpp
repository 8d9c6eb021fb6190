// SPDX-License-Identifier: Apache-2.0
#pragma once
/// @file plot.hpp
/// The demo's picture: dev Spearman against step for every method, the mean over seeds as a line
/// and min–max over seeds as a band. Writes a gnuplot data file and the script next to it, then
/// runs gnuplot (Debian `gnuplot-nox`) to make a PNG; without gnuplot the two files stay and the
/// caller says so.

#include <vikcse/detail/atomic_file.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace demo {

/// One method's curves: per seed, (step, dev Spearman) in step order.
struct Curves {
  std::string label;
  std::vector<std::vector<std::pair<std::int64_t, double>>> seeds;
};

/// What `write_plot` made.
struct PlotFiles {
  std::filesystem::path data, script, image;
  bool drawn = false;  ///< gnuplot ran and made `image`
};

/// Writes `<stem>.dat`, `<stem>.gp` and (when gnuplot runs) `<stem>.png` in `dir`.
inline PlotFiles write_plot(const std::filesystem::path& dir, const std::string& stem,
                            const std::vector<Curves>& methods) {
  PlotFiles f{dir / (stem + ".dat"), dir / (stem + ".gp"), dir / (stem + ".png"), false};
  std::string data = "# step mean min max (dev Spearman x 100), one block per method\n";
  for (const auto& m : methods) {
    data += fmt::format("# {}\n", m.label);
    std::map<std::int64_t, std::vector<double>> at;
    for (const auto& s : m.seeds) {
      for (const auto& [step, v] : s) at[step].push_back(100 * v);
    }
    for (const auto& [step, v] : at) {
      double sum = 0;
      for (double x : v) sum += x;
      data += fmt::format("{} {:.4f} {:.4f} {:.4f}\n", step, sum / static_cast<double>(v.size()),
                          *std::min_element(v.begin(), v.end()), *std::max_element(v.begin(), v.end()));
    }
    data += "\n\n";
  }
  vikcse::detail::write_text_atomically(f.data, data);
  std::string script = fmt::format(
      "# Made by vikcse_demo. Redraw with: gnuplot {}\n"
      "set terminal pngcairo size 1000,640 font ',11'\n"
      "if (!exists('out')) out = '{}'\n"
      "set output out\n"
      "set title 'vikcse demo: dev Spearman during training (line: mean over seeds, band: min-max)'\n"
      "set termoption noenhanced\nset xlabel 'training step'\nset ylabel 'dev Spearman x 100'\n"
      "set key outside below\nset grid\n"
      "plot ",
      f.script.filename().string(), f.image.filename().string());
  for (std::size_t i = 0; i < methods.size(); ++i) {
    const auto colour = i + 1;
    script += fmt::format(
        "{}'{}' index {} using 1:3:4 with filledcurves fs transparent solid 0.15 noborder lc {} notitle, "
        "'' index {} using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc {} title '{}'",
        i == 0 ? "" : ", \\\n     ", f.data.filename().string(), i, colour, i, colour, methods[i].label);
  }
  script += "\n";
  vikcse::detail::write_text_atomically(f.script, script);
  // gnuplot draws into a temporary name; the picture appears under its own name only when complete.
  const auto part = f.image.filename().string() + ".part";
  const auto command = fmt::format("cd '{}' && gnuplot -e \"out='{}'\" '{}' > /dev/null 2>&1", dir.string(), part,
                                   f.script.filename().string());
  f.drawn = std::system("command -v gnuplot > /dev/null 2>&1") == 0 && std::system(command.c_str()) == 0 &&
            std::filesystem::exists(dir / part);
  if (f.drawn) std::filesystem::rename(dir / part, f.image);
  return f;
}

}  // namespace demo
