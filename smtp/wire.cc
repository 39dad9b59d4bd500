// SMTP DATA encoder and reply parser (see wire.h).
#include "smtp/wire.h"

namespace smtp {

bool wire_safe_address(std::string_view addr) {
  for (unsigned char c : addr)
    if (c < 0x20 || c == 0x7f) return false;
  size_t at = addr.rfind('@');
  std::string_view bare = at == std::string_view::npos ? addr : addr.substr(at + 1);
  return bare.find_first_of(" <>\"\\") == std::string_view::npos;
}

void DataEncoder::feed(std::string_view bytes, std::string& out) {
  for (char c : bytes) {
    if (cr_pending_) {
      cr_pending_ = false;
      out += "\r\n";
      bol_ = true;
      if (c == '\n') continue;  // CRLF is one line end
    }
    if (c == '\r') { cr_pending_ = true; continue; }
    if (c == '\n') { out += "\r\n"; bol_ = true; continue; }
    if (bol_ && c == '.') out += '.';
    bol_ = false;
    out += c;
  }
}

void DataEncoder::finish(std::string& out) {
  if (cr_pending_) { out += "\r\n"; cr_pending_ = false; bol_ = true; }
  if (!bol_) out += "\r\n";
  out += ".\r\n";
  bol_ = true;
}

std::string encode_data(std::string_view message) {
  std::string out;
  out.reserve(message.size() + message.size() / 32 + 8);
  DataEncoder e;
  e.feed(message, out);
  e.finish(out);
  return out;
}

std::string Reply::joined() const {
  std::string s;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i) s += '/';
    s += lines[i];
  }
  return s;
}

std::optional<Reply> ReplyParser::next() {
  for (;;) {
    size_t nl = buf_.find('\n');
    if (nl == std::string::npos) {
      // An endless line without LF: keep only what the cap allows.
      if (buf_.size() > max_) buf_.erase(max_);
      return std::nullopt;
    }
    std::string line = buf_.substr(0, nl);
    buf_.erase(0, nl + 1);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    bool digits = line.size() >= 3 && line[0] >= '0' && line[0] <= '9' && line[1] >= '0' &&
                  line[1] <= '9' && line[2] >= '0' && line[2] <= '9';
    bool more = digits && line.size() > 3 && line[3] == '-';
    int code = digits ? (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0') : -1;
    if (!digits || (line.size() > 3 && line[3] != ' ' && line[3] != '-')) bad_ = true;
    std::string text = line.size() > 4 ? line.substr(4) : std::string();
    if (cur_bytes_ < max_) {
      if (cur_bytes_ + text.size() > max_) text.resize(max_ - cur_bytes_);
      cur_bytes_ += text.size() + 1;
      cur_.lines.push_back(digits ? std::move(text) : std::move(line));
    }
    if (more) continue;
    Reply r = std::move(cur_);
    r.code = bad_ ? -1 : code;
    cur_ = Reply{};
    cur_bytes_ = 0;
    bad_ = false;
    return r;
  }
}

}  // namespace smtp
