// Spawn pipe protocol codec (see spawn_proto.h).
#include "queue/spawn_proto.h"

#include <algorithm>

namespace queue::proto {

namespace {

void put_slot(std::string& out, unsigned slot, bool wide) {
  if (wide) out += static_cast<char>((slot >> 8) & 0xff);
  out += static_cast<char>(slot & 0xff);
}

std::uint16_t get_slot(std::string_view in, bool wide) {
  auto b = [&](size_t i) { return static_cast<unsigned>(static_cast<unsigned char>(in[i])); };
  return static_cast<std::uint16_t>(wide ? (b(0) << 8 | b(1)) : b(0));
}

}  // namespace

std::string encode_hello(unsigned slots, bool wide_ok) {
  // A 0 byte would start the wide form: a spawner offers at least one slot.
  slots = std::max(slots, 1u);
  if (slots <= 255 || !wide_ok) return std::string(1, static_cast<char>(std::min(slots, 255u)));
  slots = std::min(slots, kMaxWideSlots);
  std::string out(1, '\0');
  put_slot(out, slots, true);
  return out;
}

std::string encode_request(const Request& r, bool wide) {
  std::string out;
  out.reserve(4 + r.mess.size() + r.sender.size() + r.recipient.size() + 1);
  put_slot(out, r.slot, wide);
  out += r.mess;
  out += '\0';
  out += r.sender;
  out += '\0';
  out += r.recipient;
  out += '\0';
  return out;
}

std::string encode_report(const Report& r, bool wide) {
  std::string out;
  put_slot(out, r.slot, wide);
  out += r.status;
  out += std::string_view(r.text).substr(0, r.text.find('\0'));
  out += '\0';
  return out;
}

std::optional<Request> RequestDecoder::next() {
  const size_t w = wide_ ? 2 : 1;
  if (error_ || buf_.size() < w) return std::nullopt;
  // Find three NULs after the slot number.
  // A field still without its NUL is refused once it is over the cap, and
  // not a byte sooner: the verdict must not depend on how the input came.
  size_t p1 = buf_.find('\0', w);
  if (p1 == std::string::npos) {
    if (buf_.size() - w > kMaxRequestField) error_ = true;
    return std::nullopt;
  }
  size_t p2 = buf_.find('\0', p1 + 1);
  if (p2 == std::string::npos) {
    if (buf_.size() - p1 - 1 > kMaxRequestField) error_ = true;
    return std::nullopt;
  }
  size_t p3 = buf_.find('\0', p2 + 1);
  if (p3 == std::string::npos) {
    if (buf_.size() - p2 - 1 > kMaxRequestField) error_ = true;
    return std::nullopt;
  }
  if (p1 - w > kMaxRequestField || p2 - p1 - 1 > kMaxRequestField || p3 - p2 - 1 > kMaxRequestField) {
    error_ = true;
    return std::nullopt;
  }
  Request r;
  r.slot = get_slot(buf_, wide_);
  r.mess = buf_.substr(w, p1 - w);
  r.sender = buf_.substr(p1 + 1, p2 - p1 - 1);
  r.recipient = buf_.substr(p2 + 1, p3 - p2 - 1);
  buf_.erase(0, p3 + 1);
  return r;
}

std::optional<Report> ReportDecoder::next() {
  for (;;) {
    if (skipping_) {
      size_t z = buf_.find('\0');
      if (z == std::string::npos) {
        buf_.clear();
        return std::nullopt;
      }
      buf_.erase(0, z + 1);
      skipping_ = false;
      return std::move(pending_);
    }
    const size_t w = wide_ ? 2 : 1;
    if (buf_.size() < w + 1) return std::nullopt;
    size_t z = buf_.find('\0', w + 1);
    if (z == std::string::npos) {
      if (buf_.size() - w - 1 > kMaxReportText) {
        // Too long: keep what fits and discard the rest up to the NUL.
        pending_ = Report{get_slot(buf_, wide_), buf_[w], buf_.substr(w + 1, kMaxReportText)};
        buf_.clear();
        skipping_ = true;
        continue;
      }
      return std::nullopt;
    }
    Report r{get_slot(buf_, wide_), buf_[w], buf_.substr(w + 1, std::min(z - w - 1, kMaxReportText))};
    buf_.erase(0, z + 1);
    return r;
  }
}

}  // namespace queue::proto
