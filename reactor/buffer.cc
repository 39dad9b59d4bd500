// Bounded byte buffer with line framing (see buffer.h).
#include "reactor/buffer.h"

namespace reactor {

bool Buffer::append(std::string_view data) {
  if (data.size() > room()) return false;
  append_some(data);
  return true;
}

size_t Buffer::append_some(std::string_view data) {
  size_t n = data.size() < room() ? data.size() : room();
  if (n == 0) return 0;
  // Compact lazily: only when the consumed prefix dominates the storage.
  if (head_ > 0 && head_ >= data_.size() / 2) {
    data_.erase(0, head_);
    head_ = 0;
  }
  data_.append(data.data(), n);
  return n;
}

void Buffer::consume(size_t n) {
  if (n >= size()) {
    clear();
    return;
  }
  head_ += n;
}

void Buffer::clear() {
  data_.clear();
  head_ = 0;
}

LineView Buffer::find_line() const {
  LineView lv;
  std::string_view v = view();
  // Look no further than a line could legally reach: max_line content bytes,
  // an optional CR, then the LF.  Capping the search keeps it linear.
  size_t limit = v.size();
  if (max_line_ && limit > max_line_ + 2) limit = max_line_ + 2;
  size_t lf = v.substr(0, limit).find('\n');
  if (lf == std::string_view::npos) {
    if (max_line_ && v.size() > max_line_ + 1) lv.status = LineStatus::too_long;
    // A full buffer with no line end can never complete a line either.
    else if (room() == 0) lv.status = LineStatus::too_long;
    return lv;
  }
  size_t len = lf;
  bool crlf = len > 0 && v[len - 1] == '\r';
  if (crlf) --len;
  if (max_line_ && len > max_line_) {
    lv.status = LineStatus::too_long;
    return lv;
  }
  lv.status = LineStatus::line;
  lv.text = v.substr(0, len);
  lv.crlf = crlf;
  lv.consumed = lf + 1;
  return lv;
}

bool Buffer::take_line(std::string& out, bool* crlf) {
  LineView lv = find_line();
  if (lv.status != LineStatus::line) return false;
  out.assign(lv.text);
  if (crlf) *crlf = lv.crlf;
  consume(lv.consumed);
  return true;
}

bool Buffer::skip_line() {
  size_t lf = view().find('\n');
  if (lf == std::string_view::npos) {
    clear();
    return false;
  }
  consume(lf + 1);
  return true;
}

}  // namespace reactor
