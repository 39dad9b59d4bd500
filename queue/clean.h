#pragma once
// qmail-clean(8) (queue.md 4.9): removes finished messages on request from
// qmail-send. Requests `todo/N\0` and `foop/N\0` arrive on fd 0, each answered
// by one byte on fd 1: `+` done, `!` failed, `x` not a request it understands.
// It also sweeps pid/ of files older than 36 hours (qmail-queue debris).

#include <ctime>
#include <string>
#include <string_view>

#include "queue/home.h"

namespace queue {

/// qmail's OSSIFIED: a pid/ file untouched this long belongs to a dead qmail-queue.
constexpr std::time_t kOssified = 129600;
/// Longest request qmail-clean accepts, NUL included.
constexpr size_t kCleanMaxRequest = 100;
/// qmail-clean sweeps pid/ at start and then once every this many requests.
constexpr int kCleanPidEvery = 30;

/// The file operations of qmail-clean, relative to a queue directory.
class Cleaner {
 public:
  /// `queue_dirfd`: QMAILHOME/queue (AT_FDCWD after chdir); `split`: conf-split.
  /// Whether the queue is split like a big-todo qmail's (todo/S or intd/S) is
  /// looked at here, once.
  explicit Cleaner(int queue_dirfd, int split = kConfSplit);
  /// Handles one request (without its NUL); returns the answer byte.
  char handle(std::string_view request);
  /// Unlinks pid/ files whose atime is at least kOssified before `now`; returns how many.
  int sweep_pid(std::time_t now);

 private:
  int q_;
  int split_;
  bool split_todo_ = false;  ///< some todo/S or intd/S exists: remove there too
};

/// Splits the request stream into NUL-terminated requests (capped at kCleanMaxRequest).
class CleanRequestReader {
 public:
  /// Appends bytes read from the pipe.
  void feed(std::string_view bytes) { buf_.append(bytes); }
  /// Next complete request into `out` (NUL removed); false when none is complete.
  /// An over-long request comes out as "" so that it is answered `x`.
  bool next(std::string& out);

 private:
  std::string buf_;
  bool skipping_ = false;  // inside an over-long request, dropping bytes up to its NUL
};

/// Serves requests from `in` to `out` until `in` closes: 0 at EOF, 111 on a
/// read error, 100 if an answer cannot be written (qmail's codes).
int serve_clean(int in, int out, Cleaner& cleaner);

}  // namespace queue
