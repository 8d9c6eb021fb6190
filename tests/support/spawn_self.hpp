// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file spawn_self.hpp
/// Multi-process tests (the data-parallel ones) re-execute their own binary as the worker processes:
/// `spawn_self` starts them, `wait_all` waits for them with a deadline, killing what is left at
/// it, so that a hung worker fails the test instead of hanging it; a worker reads its arguments
/// with `worker_argument`.

#include <boost/test/unit_test.hpp>

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace vikcse::testing {

/// Starts `/proc/self/exe` once per entry of `arguments` (argv[1..] of each process), with this
/// process's environment. Returns the pids.
/// @throws std::runtime_error when a process cannot be started.
inline std::vector<pid_t> spawn_self(const std::vector<std::vector<std::string>>& arguments) {
  std::vector<pid_t> pids;
  for (const auto& args : arguments) {
    std::vector<std::string> all{"/proc/self/exe"};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    if (::posix_spawn(&pid, "/proc/self/exe", nullptr, nullptr, argv.data(), environ) != 0) {
      throw std::runtime_error("spawn_self: posix_spawn failed");
    }
    pids.push_back(pid);
  }
  return pids;
}

/// The value after `name` on this Boost.Test binary's command line (after its `--`), or empty.
inline std::string worker_argument(const std::string& name) {
  const auto& suite = boost::unit_test::framework::master_test_suite();
  for (int i = 1; i + 1 < suite.argc; ++i) {
    if (suite.argv[i] == name) return suite.argv[i + 1];
  }
  return {};
}

/// How each process of `wait_all` ended.
struct Ended {
  std::vector<int> status;      ///< exit status, 128 + signal, or 999 when killed at the deadline
  std::vector<double> seconds;  ///< seconds from the call until it ended
};

/// Waits for every process of `pids` at most `limit`, then kills what is left (status 999).
inline Ended wait_all(const std::vector<pid_t>& pids, std::chrono::seconds limit) {
  const auto start = std::chrono::steady_clock::now();
  Ended ended{std::vector<int>(pids.size(), -1), std::vector<double>(pids.size(), 0.0)};
  std::size_t done = 0;
  while (done < pids.size()) {
    for (std::size_t i = 0; i < pids.size(); ++i) {
      int st = 0;
      if (ended.status[i] == -1 && ::waitpid(pids[i], &st, WNOHANG) == pids[i]) {
        ended.status[i] = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        ended.seconds[i] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        ++done;
      }
    }
    if (done < pids.size() && std::chrono::steady_clock::now() - start > limit) {
      for (std::size_t i = 0; i < pids.size(); ++i) {
        if (ended.status[i] != -1) continue;
        ::kill(pids[i], SIGKILL);
        ::waitpid(pids[i], nullptr, 0);
        ended.status[i] = 999;
        ended.seconds[i] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        ++done;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return ended;
}

}  // namespace vikcse::testing
