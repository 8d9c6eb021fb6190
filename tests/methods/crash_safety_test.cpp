// SPDX-License-Identifier: Apache-2.0
// The pieces training's crash safety rests on (torch-free, so the sanitizer build runs them too):
// atomic files, staged checkpoint directories, whole-line appends (detail/atomic_file.hpp) and the
// stop handlers (util/signals.hpp). The real process kills are in kill_resume_test.py.
#define BOOST_TEST_MODULE crash_safety
#include <boost/test/unit_test.hpp>

#include <vikcse/detail/atomic_file.hpp>
#include <vikcse/util/signals.hpp>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <sys/resource.h>
#include <unistd.h>

namespace fs = std::filesystem;
using vikcse::detail::StagedDirectory;

namespace {

fs::path fresh_dir(const std::string& name) {
  const auto dir = fs::temp_directory_path() / ("vikcse-crash-safety-" + std::to_string(::getpid())) / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string read(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

int entries(const fs::path& dir) { return static_cast<int>(std::distance(fs::directory_iterator(dir), {})); }

}  // namespace

BOOST_AUTO_TEST_CASE(staged_directory_appears_whole_or_not_at_all) {
  const auto dir = fresh_dir("staged");
  const auto target = dir / "last";
  {
    StagedDirectory staged(target);
    vikcse::detail::write_text_atomically(staged.path() / "a.txt", "first");
    BOOST_TEST(!fs::exists(target));  // nothing is visible before publish
    staged.publish();
  }
  BOOST_TEST(read(target / "a.txt") == "first");
  {
    StagedDirectory staged(target);
    vikcse::detail::write_text_atomically(staged.path() / "a.txt", "second");
    vikcse::detail::write_text_atomically(staged.path() / "b.txt", "new");
    BOOST_TEST(read(target / "a.txt") == "first");  // the old one stays until the swap
    staged.publish();
  }
  BOOST_TEST(read(target / "a.txt") == "second");
  BOOST_TEST(read(target / "b.txt") == "new");
  BOOST_TEST(entries(dir) == 1);  // the old content is gone, no staging directory is left
  {
    StagedDirectory staged(target);  // abandoned (an error while filling it): removed, target intact
    vikcse::detail::write_text_atomically(staged.path() / "a.txt", "third");
  }
  BOOST_TEST(read(target / "a.txt") == "second");
  BOOST_TEST(entries(dir) == 1);
  fs::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(recover_directory_clears_what_a_kill_left) {
  const auto dir = fresh_dir("recover");
  const auto target = dir / "best";
  // A kill while filling: a partial directory beside an intact target.
  fs::create_directories(target);
  vikcse::detail::write_text_atomically(target / "model", "intact");
  fs::create_directories(dir / "best.partial-0badf00d");
  vikcse::detail::write_text_atomically(dir / "best.partial-0badf00d" / "model", "half");
  // A kill between the two renames of the fallback publish: only `.previous` holds the checkpoint.
  const auto other = dir / "last";
  fs::create_directories(StagedDirectory::previous_of(other));
  vikcse::detail::write_text_atomically(StagedDirectory::previous_of(other) / "model", "old");
  vikcse::detail::recover_directory(target);
  vikcse::detail::recover_directory(other);
  BOOST_TEST(read(target / "model") == "intact");
  BOOST_TEST(read(other / "model") == "old");
  BOOST_TEST(entries(dir) == 2);
  fs::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(append_line_writes_whole_lines) {
  const auto dir = fresh_dir("append");
  const auto file = dir / "metrics.jsonl";
  vikcse::detail::append_line(file, "{\"step\": 1}\n");
  vikcse::detail::append_line(file, "{\"step\": 2}\n");
  BOOST_TEST(read(file) == "{\"step\": 1}\n{\"step\": 2}\n");
  // A directory in the way: the error names the file and the reason.
  try {
    vikcse::detail::append_line(dir, "x\n");
    BOOST_ERROR("appending to a directory succeeded");
  } catch (const vikcse::error& e) {
    BOOST_TEST(std::string(e.what()).find(dir.string()) != std::string::npos);
    BOOST_TEST(std::string(e.what()).find("Is a directory") != std::string::npos);
  }
  fs::remove_all(dir);
}

// Over the file-size limit (ulimit -f) with SIGXFSZ ignored, as install_stop_handlers() sets it: a
// clear error naming the target and the system's reason, the old file intact, no temporary left.
BOOST_AUTO_TEST_CASE(write_beyond_the_file_size_limit_fails_cleanly) {
  const auto dir = fresh_dir("fsize");
  const auto target = dir / "model.safetensors";
  vikcse::detail::write_text_atomically(target, "previous");
  vikcse::install_stop_handlers();
  rlimit old{};
  BOOST_REQUIRE(::getrlimit(RLIMIT_FSIZE, &old) == 0);
  rlimit small = old;
  small.rlim_cur = 4096;
  BOOST_REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
  std::string message;
  try {
    vikcse::detail::write_text_atomically<vikcse::checkpoint_error>(target, std::string(1 << 20, 'x'));
  } catch (const vikcse::checkpoint_error& e) {
    message = e.what();
  }
  ::setrlimit(RLIMIT_FSIZE, &old);
  BOOST_TEST(message.find(target.string()) != std::string::npos, message);
  BOOST_TEST(message.find("File too large") != std::string::npos, message);
  BOOST_TEST(read(target) == "previous");
  BOOST_TEST(entries(dir) == 1);
  fs::remove_all(dir.parent_path());
}

BOOST_AUTO_TEST_CASE(first_interrupt_only_raises_the_flag) {
  vikcse::install_stop_handlers();
  BOOST_TEST(!vikcse::stop_requested());
  std::raise(SIGINT);  // would end the process without the handler
  BOOST_TEST(vikcse::stop_requested());
  BOOST_TEST(vikcse::stop_signal_number() == SIGINT);
  struct sigaction now {};
  ::sigaction(SIGINT, nullptr, &now);
  BOOST_TEST((now.sa_handler == SIG_DFL));  // a second Ctrl-C ends the process at once
}
