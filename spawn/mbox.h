#pragma once
// mbox delivery as qmail-local(8) does it: append under an exclusive flock
// and fcntl lock (given up after 30 s), From_/Return-Path/Delivered-To lines, `>From `
// quoting, a blank line after the message, fsync, truncate back on error.

#include <string>
#include <string_view>

#include "reactor/result.h"

namespace spawn {

/// True if `line` is a `From ` line, possibly behind `>`s (qmail's gfrom).
bool mbox_needs_quote(std::string_view line);

/// Streams message bytes into mbox form: one more `>` before every From
/// line, a final newline if missing, then the blank line. Holds back at most
/// the five bytes after a line's `>` run that decide whether it is a From
/// line, whatever the length of a line.
class MboxQuoter {
 public:
  void feed(std::string_view chunk, std::string& out);
  void finish(std::string& out);

 private:
  enum class State { kStart, kPrefix, kBody };
  State state_ = State::kStart;
  bool open_ = false;   ///< bytes of the current line are out already
  std::string prefix_;  ///< a beginning of "From " after the '>' run
};

/// Quotes a whole message as mbox wants: one more `>` before every From line,
/// a final newline if missing, and one blank line after it.
std::string mbox_quote(std::string_view message);

/// Appends `head` (UFLINE RPLINE DTLINE) and the rest of `msgfd` to the mbox
/// `path`. Every failure is temporary with qmail's text; a lock held longer
/// than `lock_seconds` gives "File has been locked for 30 seconds straight.".
reactor::Status mbox_deliver(const std::string& path, std::string_view head, int msgfd, int lock_seconds = 30);

}  // namespace spawn
