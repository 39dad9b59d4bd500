#pragma once
// The line formatting of splogger(8): stdin bytes to syslog records with a
// `<seconds>.<microseconds>` stamp, `+` continuation pieces, priorities from
// `alert:` / `warning:` prefixes and unprintables shown as `?`.

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace queue {

/// One syslog record splogger would send.
struct SplogRecord {
  int priority;      ///< LOG_INFO, LOG_WARNING or LOG_ALERT
  std::string text;  ///< "1700000000.000123 line" or "1700000000.000123+rest"
};

/// "seconds.microseconds" with six microsecond digits.
std::string splog_stamp(long seconds, long microseconds);

/// Turns a byte stream into splogger records; the clock is injected.
class Splogger {
 public:
  /// Piece size: splogger.c holds 800 bytes with a terminating NUL, so 799.
  static constexpr size_t kPiece = 799;
  explicit Splogger(std::function<std::string()> stamp) : stamp_(std::move(stamp)) {}
  /// Feeds bytes; complete records are appended to `out`.
  void feed(std::string_view bytes, std::vector<SplogRecord>& out);
  /// Flushes a last line that had no newline (qmail drops it; we log it).
  void finish(std::vector<SplogRecord>& out);

 private:
  void flush(std::vector<SplogRecord>& out);
  std::function<std::string()> stamp_;
  std::string buf_;
  bool continued_ = false;
  int priority_ = 0;
  std::string line_stamp_;
};

/// The facility argument as syslog wants it: number << 3 (default LOG_MAIL).
int splog_facility(const char* arg);

}  // namespace queue
