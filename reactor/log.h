#pragma once
// Logging: TAI64N labels as daemontools' tai64n and `multilog t` print them,
// a line logger for stdout/stderr, and qmail's `prog: fatal: text` diagnostics.

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>

namespace reactor {

/// TAI64 label of a UNIX second: 2^62 + 10 + seconds (daemontools' tai_unix).
std::uint64_t tai64_of_unix(std::int64_t unix_seconds);
/// `@` + 16 hex digits of seconds + 8 hex digits of nanoseconds (25 characters).
std::string tai64n_label(std::int64_t unix_seconds, long nanoseconds);
/// The label of the current time (nanoseconds from microseconds + 500, as taia_now).
std::string tai64n_now();
/// Parses a label back into UNIX seconds and nanoseconds; false if not one.
bool parse_tai64n(std::string_view label, std::int64_t& unix_seconds, long& nanoseconds);

/// Writes whole lines to one fd, optionally each with a TAI64N label.
class LineLogger {
 public:
  /// `fd` is borrowed (e.g. 1 or 2); `prefix` goes after the label ("qmail-send: ").
  explicit LineLogger(int fd, bool stamp = false, std::string prefix = {})
      : fd_(fd), stamp_(stamp), prefix_(std::move(prefix)) {}
  /// Writes `text` as one line with a single write(2) (blocking, retried).
  bool line(std::string_view text) const;
  /// The bytes line(text) would write.
  std::string format(std::string_view text) const;

 private:
  int fd_;
  bool stamp_;
  std::string prefix_;
};

/// "prog: fatal: text".
std::string fatal_text(std::string_view prog, std::string_view text);
/// Prints "prog: fatal: text" and a newline on stderr.
void fatal(std::string_view prog, std::string_view text);
/// Prints "prog: warning: text" on stderr.
void warning(std::string_view prog, std::string_view text);
/// fatal(), then _exit(code) (111 temporary, 100 permanent).
[[noreturn]] void die(int code, std::string_view prog, std::string_view text);

}  // namespace reactor
