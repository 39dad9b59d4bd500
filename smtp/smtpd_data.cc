// DATA decoding and hop counting (see smtpd_data.h).
#include "smtp/smtpd_data.h"

namespace smtp {

// Hop counting works on the raw wire bytes, as qmail's blast() does: a header
// line whose name starts with "received" or "delivered" (any case, so
// Received-SPF and Delivered-To count) adds one; an empty line ends the header.
void DataDecoder::count_hops(char ch) {
  if (!in_header_) return;
  if (pos_ < 9) {
    char lc = (ch >= 'A' && ch <= 'Z') ? static_cast<char>(ch - 'A' + 'a') : ch;
    if (lc != "delivered"[pos_]) maybe_delivered_ = false;
    if (maybe_delivered_ && pos_ == 8) ++hops_;
    if (pos_ < 8 && lc != "received"[pos_]) maybe_received_ = false;
    if (maybe_received_ && pos_ == 7) ++hops_;
    if (pos_ < 2 && ch != "\r\n"[pos_]) maybe_end_ = false;
    if (maybe_end_ && pos_ == 1) in_header_ = false;
    ++pos_;
  }
  if (ch == '\n') {
    pos_ = 0;
    maybe_received_ = maybe_end_ = maybe_delivered_ = true;
  }
}

DataDecoder::Status DataDecoder::feed(std::string_view in, std::string& out, size_t& used) {
  for (used = 0; used < in.size();) {
    char ch = in[used++];
    count_hops(ch);
    switch (s_) {
      case S::bol:
        if (ch == '\n') return Status::bare_lf;
        if (ch == '.') { s_ = S::dot; continue; }
        if (ch == '\r') { s_ = S::cr; continue; }
        s_ = S::mid;
        break;
      case S::mid:
        if (ch == '\n') return Status::bare_lf;
        if (ch == '\r') { s_ = S::cr; continue; }
        break;
      case S::dot:  // a leading dot is dropped ("..x" -> ".x")
        if (ch == '\n') return Status::bare_lf;
        if (ch == '\r') { s_ = S::dotcr; continue; }
        s_ = S::mid;
        break;
      case S::dotcr:
        if (ch == '\n') return Status::done;
        return Status::bare_cr;  // qmail keeps ".<CR>x"; we refuse a lone CR
      case S::cr:
        if (ch != '\n') return Status::bare_cr;  // hardening: lone CR refused
        s_ = S::bol;
        break;
    }
    out += ch;
  }
  return Status::more;
}

}  // namespace smtp
