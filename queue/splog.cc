// splogger line formatting (see splog.h).
#include "queue/splog.h"

#include <cstdio>
#include <syslog.h>

namespace queue {

std::string splog_stamp(long seconds, long microseconds) {
  char b[48];
  std::snprintf(b, sizeof b, "%ld.%06ld", seconds, microseconds);
  return b;
}

void Splogger::flush(std::vector<SplogRecord>& out) {
  if (buf_.empty()) return;  // empty lines are not logged
  if (continued_) {
    // A continuation keeps the first piece's stamp and priority.
    out.push_back({priority_, line_stamp_ + "+" + buf_});
  } else {
    line_stamp_ = stamp_();
    priority_ = LOG_INFO;
    if (buf_.rfind("warning:", 0) == 0) priority_ = LOG_WARNING;
    if (buf_.rfind("alert:", 0) == 0) priority_ = LOG_ALERT;
    out.push_back({priority_, line_stamp_ + " " + buf_});
    continued_ = true;
  }
  buf_.clear();
}

void Splogger::feed(std::string_view bytes, std::vector<SplogRecord>& out) {
  for (char c : bytes) {
    if (c == '\n') {
      flush(out);
      continued_ = false;
      continue;
    }
    if (buf_.size() == kPiece) flush(out);
    // syslog would cut the message at a NUL; show all unprintables as '?'.
    unsigned char u = static_cast<unsigned char>(c);
    buf_ += (u < 32 || u > 126) ? '?' : c;
  }
}

void Splogger::finish(std::vector<SplogRecord>& out) {
  flush(out);
  continued_ = false;
}

int splog_facility(const char* arg) {
  if (!arg) return LOG_MAIL;
  // qmail's scan_ulong: leading digits, anything else ends the number.
  unsigned long f = 0;
  for (const char* p = arg; *p >= '0' && *p <= '9'; ++p) f = f * 10 + static_cast<unsigned long>(*p - '0');
  return static_cast<int>((f & 0x3ff) << 3);
}

}  // namespace queue
