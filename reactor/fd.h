#pragma once
// File-descriptor helpers: an owning fd, blocking "all or error" I/O,
// non-blocking / close-on-exec flags, and whole-file reads and atomic writes.

#include <dirent.h>
#include <string>
#include <string_view>
#include <sys/types.h>

#include "reactor/result.h"

namespace reactor {

/// Owns one file descriptor; closes it on destruction.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() { int f = fd_; fd_ = -1; return f; }
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

/// Writes all of `data`, retrying on EINTR and short writes. False on error (errno set).
bool write_all(int fd, std::string_view data);
/// Reads until EOF into `out` (appending). False on error (errno set).
bool read_all(int fd, std::string& out, size_t limit = SIZE_MAX);
/// Reads up to `n` bytes, retrying on EINTR. Returns bytes read, 0 at EOF, -1 on error.
ssize_t read_some(int fd, char* buf, size_t n);
/// Sets or clears O_NONBLOCK.
bool set_nonblock(int fd, bool on = true);
/// Sets or clears FD_CLOEXEC.
bool set_cloexec(int fd, bool on = true);

/// Reads a whole file. Missing file: temporary=false error with text "ENOENT".
Result<std::string> read_file(const std::string& path, size_t limit = 64u << 20);
/// True if the path exists (lstat succeeds).
bool exists(const std::string& path);
/// Writes `path` atomically: `path.tmp`, fsync, rename. Mode as given (before umask).
Status write_file_atomic(const std::string& path, std::string_view data, mode_t mode = 0644);
/// Opens directory `name` below the directory fd `parent` for readdir (the
/// DIR owns its descriptor; dirfd() gives it). nullptr with errno on failure.
DIR* open_dir_at(int parent, const char* name);
/// errno as text, e.g. "No such file or directory".
std::string errno_text(int err);

}  // namespace reactor
