// POP3 message encoding (see blast.h).
#include "pop3/blast.h"

namespace pop3 {

bool Blaster::feed(std::string_view in, std::string& out) {
  while (!in.empty() && !done_) {
    if (bol_) {
      // qmail counts body lines only after the first empty line.
      if (limit_ && !inheaders_ && --limit_ == 0) { done_ = true; break; }
      bol_ = false;
      len_ = 0;
      last_cr_ = false;
    }
    size_t nl = in.find('\n');
    std::string_view seg = nl == std::string_view::npos ? in : in.substr(0, nl + 1);
    enc_.feed(seg, out);
    size_t body = seg.size() - (nl == std::string_view::npos ? 0 : 1);
    if (body) { len_ += body; last_cr_ = seg[body - 1] == '\r'; }
    if (nl != std::string_view::npos) {
      // An empty line (or a lone CR, for CR LF stored files) ends the header.
      if (len_ == 0 || (len_ == 1 && last_cr_)) inheaders_ = false;
      bol_ = true;
    }
    in.remove_prefix(seg.size());
  }
  return !done_;
}

void Blaster::finish(std::string& out) {
  if (!bol_) enc_.feed("\n", out);
  // [QUIRK] qmail-pop3d sends "\r\n.\r\n" after the last line: an extra empty line.
  enc_.feed("\n", out);
  enc_.finish(out);
}

std::string blast(std::string_view message, uint64_t limit) {
  std::string out;
  Blaster b(limit);
  b.feed(message, out);
  b.finish(out);
  return out;
}

}  // namespace pop3
