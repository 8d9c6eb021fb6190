// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file atomic_file.hpp
/// Writing so that a reader, or a run resumed after a kill, never sees anything half written:
/// a file is written under a temporary name beside its target and renamed over it; a directory
/// (a checkpoint) is filled under a temporary name and put in place by one rename; a log line is
/// appended by one `write` call. Torch-free.

#include <vikcse/error.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <string_view>

#include <fcntl.h>
#include <unistd.h>

namespace vikcse::detail {

/// A name beside `target` that no other writer uses: `<target><tag>-<random hex>`.
inline std::filesystem::path temporary_sibling(const std::filesystem::path& target, std::string_view tag) {
  std::random_device device;
  auto temp = target;
  temp += fmt::format("{}-{:08x}", tag, device());
  return temp;
}

/// Calls `write` with a stream on a temporary file next to `target`, then renames it to `target`.
/// On any failure the temporary file is removed and `ErrorType` is thrown naming the target and
/// the system's reason (e.g. "File too large" under `ulimit -f`, "No space left on device").
template <typename ErrorType = error>
void write_file_atomically(const std::filesystem::path& target, const std::function<void(std::ofstream&)>& write) {
  const auto temp = temporary_sibling(target, ".tmp");
  try {
    {
      errno = 0;
      std::ofstream out(temp, std::ios::binary | std::ios::trunc);
      if (!out) throw_error<ErrorType>("{}: cannot open for writing: {}", target.string(), std::strerror(errno));
      write(out);
      out.flush();
      if (!out) {
        throw_error<ErrorType>("{}: writing failed: {}", target.string(),
                               errno != 0 ? std::strerror(errno) : "unknown I/O error (disk full?)");
      }
    }
    std::filesystem::rename(temp, target);
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove(temp, ignored);
    throw;
  }
}

/// Writes `content` to `target` atomically.
template <typename ErrorType = error>
void write_text_atomically(const std::filesystem::path& target, std::string_view content) {
  write_file_atomically<ErrorType>(target, [&](std::ofstream& out) { out.write(content.data(), content.size()); });
}

/// Appends `line` (which should end in '\n') to `path` with one `write` call on a file opened
/// with O_APPEND, so that a process killed at any moment leaves either the whole line or none.
/// @throws ErrorType naming the file and the system's reason.
template <typename ErrorType = error>
void append_line(const std::filesystem::path& path, std::string_view line) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw_error<ErrorType>("{}: cannot open for appending: {}", path.string(), std::strerror(errno));
  ssize_t written = 0;
  do {
    written = ::write(fd, line.data(), line.size());
  } while (written < 0 && errno == EINTR);
  const int write_errno = errno;
  ::close(fd);
  if (written != static_cast<ssize_t>(line.size())) {
    // A short write leaves a partial line; cut it off again so the file stays whole lines.
    if (written > 0) {
      std::error_code ec;
      const auto size = std::filesystem::file_size(path, ec);
      if (!ec) std::filesystem::resize_file(path, size - static_cast<std::uintmax_t>(written), ec);
    }
    throw_error<ErrorType>("{}: appending a line failed: {}", path.string(),
                           written < 0 ? std::strerror(write_errno) : "short write (disk full?)");
  }
}

/// A directory filled under a temporary name beside `target` and put in place whole by `publish()`.
/// Until then `target` keeps its previous content; a `StagedDirectory` destroyed unpublished (an
/// error while filling it) removes what it wrote. A process killed while filling it leaves only a
/// `<target>.partial-*` directory, which `recover_directory(target)` removes.
///
/// `publish()` swaps the two directories with one `renameat2(RENAME_EXCHANGE)` where the file system
/// has it (Linux ext4, xfs, btrfs, tmpfs); elsewhere it moves the old one to `<target>.previous`
/// first, and `recover_directory` restores that if a kill fell between the two renames.
class StagedDirectory {
public:
  /// Creates the temporary directory beside `target`.
  /// @throws ErrorType (checkpoint_error) naming `target` when it cannot be created.
  explicit StagedDirectory(std::filesystem::path target)
      : target_(std::move(target)), staging_(temporary_sibling(target_, ".partial")) {
    std::error_code ec;
    std::filesystem::create_directories(staging_, ec);
    if (ec) throw_error<checkpoint_error>("{}: cannot create a directory beside it: {}", target_.string(), ec.message());
  }
  StagedDirectory(const StagedDirectory&) = delete;
  StagedDirectory& operator=(const StagedDirectory&) = delete;
  ~StagedDirectory() {
    if (!published_) {
      std::error_code ignored;
      std::filesystem::remove_all(staging_, ignored);
    }
  }

  /// Where to write the directory's files.
  [[nodiscard]] const std::filesystem::path& path() const { return staging_; }

  /// Puts the directory in place of `target` (see the class comment) and removes the old content.
  /// @throws checkpoint_error naming `target`.
  void publish() {
    std::error_code ec;
    if (!std::filesystem::exists(target_, ec)) {
      rename_or_throw(staging_, target_);
    } else if (::renameat2(AT_FDCWD, staging_.c_str(), AT_FDCWD, target_.c_str(), RENAME_EXCHANGE) == 0) {
      std::filesystem::remove_all(staging_, ec);  // now the previous content
    } else if (errno == EINVAL || errno == ENOSYS || errno == ENOTSUP) {
      const auto previous = previous_of(target_);
      std::filesystem::remove_all(previous, ec);
      rename_or_throw(target_, previous);
      rename_or_throw(staging_, target_);
      std::filesystem::remove_all(previous, ec);
    } else {
      throw_error<checkpoint_error>("{}: cannot put the new checkpoint in place: {}", target_.string(),
                                    std::strerror(errno));
    }
    published_ = true;
  }

  /// `<target>.previous`, the old content during a two-rename publish.
  static std::filesystem::path previous_of(const std::filesystem::path& target) {
    auto previous = target;
    previous += ".previous";
    return previous;
  }

private:
  void rename_or_throw(const std::filesystem::path& from, const std::filesystem::path& to) {
    if (std::rename(from.c_str(), to.c_str()) != 0) {
      throw_error<checkpoint_error>("{}: cannot rename {} to {}: {}", target_.string(), from.string(), to.string(),
                                    std::strerror(errno));
    }
  }

  std::filesystem::path target_;
  std::filesystem::path staging_;
  bool published_ = false;
};

/// Clears what a killed `StagedDirectory` left beside `target`: its `.partial-*` directories, and a
/// `.previous` that a kill between the two renames of the fallback publish left as the only copy.
inline void recover_directory(const std::filesystem::path& target) {
  std::error_code ec;
  const auto previous = StagedDirectory::previous_of(target);
  if (std::filesystem::exists(previous, ec)) {
    if (!std::filesystem::exists(target, ec)) {
      std::filesystem::rename(previous, target, ec);
    } else {
      std::filesystem::remove_all(previous, ec);
    }
  }
  const auto prefix = target.filename().string() + ".partial-";
  const auto dir = target.parent_path().empty() ? std::filesystem::path(".") : target.parent_path();
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().filename().string().rfind(prefix, 0) == 0) std::filesystem::remove_all(it->path(), ec);
  }
}

}  // namespace vikcse::detail
