#pragma once
// qmail-send's log lines (queue.md 4.12; qmail-send.c and qsutil.c): fixed
// wording that qmailanalog and other parsers read.

#include <functional>
#include <string>
#include <string_view>

namespace queue {

/// qsutil.c's logsafe(): newline -> '/', '%' and bytes outside 33..126 -> '_'.
std::string log_safe(std::string_view s);

/// Writes whole lines to a sink (fd 0 in qmail-send).
class SendLog {
 public:
  using Sink = std::function<void(std::string_view)>;
  explicit SendLog(Sink sink) : sink_(std::move(sink)) {}
  /// Writes `line` + "\n".
  void line(std::string_view line) const;
  /// "status: local l/L remote r/R[ exitasap]".
  void status(unsigned lu, unsigned lc, unsigned ru, unsigned rc, bool exitasap) const;
  /// "starting delivery d: msg N to local|remote addr".
  void starting(unsigned long d, unsigned long long id, int channel, std::string_view recip) const;
  /// "delivery d: success|failure|deferral: text" by status letter, or "report mangled".
  void report(unsigned long d, char status, std::string_view text) const;
  /// "info msg N: bytes B from <S> qp P uid U".
  void info(unsigned long long id, unsigned long long bytes, std::string_view sender,
            unsigned long qp, unsigned long uid) const;

 private:
  Sink sink_;
};

}  // namespace queue
