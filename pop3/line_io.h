#pragma once
// Blocking line I/O with qmail's per-operation timeouts (timeoutread and
// timeoutwrite of qmail-popup and qmail-pop3d: 1200 s), with a cap on the
// length of one line so a session's memory stays bounded.

#include <ctime>
#include <optional>
#include <string>
#include <string_view>

namespace pop3 {

/// qmail's read and write timeout of the POP3 programs, in seconds.
constexpr int kTimeout = 1200;

/// Reads LF-terminated lines from one fd.
class LineReader {
 public:
  /// `exact`: read one byte at a time, so nothing after the current line is
  /// consumed (qmail-popup hands the fd to qmail-pop3d after PASS).
  LineReader(int fd, int timeout, size_t max_line = 1024, bool exact = false)
      : fd_(fd), timeout_(timeout), max_(max_line), exact_(exact) {}
  /// The next line without its LF (a CR is left for parse_command), or nullopt
  /// at end of file, error, timeout, the deadline, or once a line passes
  /// max_line bytes without a LF (overlong(): the caller answers and ends
  /// the session instead of reading on for as long as a client likes).
  std::optional<std::string> next();
  /// True after next() gave up on a line longer than max_line.
  bool overlong() const { return overlong_; }
  /// No read waits past `when` (a time(2) value; 0: no deadline).
  void set_deadline(time_t when) { deadline_ = when; }
  /// True after next() gave up because the deadline passed.
  bool expired() const { return expired_; }
  /// True if a complete line is already buffered (more pipelined input).
  bool line_buffered() const;
  /// Overwrites buffered input (it may hold a password).
  void wipe();

 private:
  bool fill();
  int fd_;
  int timeout_;
  size_t max_;
  bool exact_;
  bool overlong_ = false;
  bool expired_ = false;
  time_t deadline_ = 0;
  std::string buf_;
  size_t pos_ = 0;
};

/// Writes all of `data` to `fd`, waiting at most `timeout` s for each write. False on failure.
bool write_timeout(int fd, std::string_view data, int timeout);

/// Zeroes a string's bytes in a way the compiler keeps.
void wipe(std::string& s);

}  // namespace pop3
