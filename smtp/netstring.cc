// Netstring codec (see netstring.h).
#include "smtp/netstring.h"

namespace smtp {

std::string netstring(std::string_view data) {
  std::string out = std::to_string(data.size());
  out += ':';
  out.append(data);
  out += ',';
  return out;
}

LengthState parse_length(std::string_view in, size_t cap, size_t& length, size_t& consumed) {
  size_t n = 0, i = 0;
  for (; i < in.size(); ++i) {
    char c = in[i];
    if (c == ':') break;
    if (c < '0' || c > '9') return LengthState::kBad;
    if (i == 1 && in[0] == '0') return LengthState::kBad;   // "01:" is not canonical
    if (i >= 20) return LengthState::kBad;
    n = n * 10 + static_cast<size_t>(c - '0');
    if (n > cap) return LengthState::kBad;
  }
  if (i == in.size()) return LengthState::kNeedMore;
  if (i == 0) return LengthState::kBad;
  length = n;
  consumed = i + 1;
  return LengthState::kOk;
}

std::optional<std::string> NetstringDecoder::next() {
  if (error_) return std::nullopt;
  size_t len = 0, pre = 0;
  switch (parse_length(buf_, cap_, len, pre)) {
    case LengthState::kNeedMore: return std::nullopt;
    case LengthState::kBad: error_ = true; return std::nullopt;
    case LengthState::kOk: break;
  }
  if (buf_.size() < pre + len + 1) return std::nullopt;
  if (buf_[pre + len] != ',') { error_ = true; return std::nullopt; }
  std::string data = buf_.substr(pre, len);
  buf_.erase(0, pre + len + 1);
  return data;
}

}  // namespace smtp
