// Spawn pipe protocol codec (see spawn_proto.h).
#include "queue/spawn_proto.h"

namespace queue::proto {

std::string encode_request(const Request& r) {
  std::string out;
  out.reserve(3 + r.mess.size() + r.sender.size() + r.recipient.size() + 1);
  out += static_cast<char>(r.slot);
  out += r.mess;
  out += '\0';
  out += r.sender;
  out += '\0';
  out += r.recipient;
  out += '\0';
  return out;
}

std::string encode_report(const Report& r) {
  std::string out;
  out += static_cast<char>(r.slot);
  out += r.status;
  out += std::string_view(r.text).substr(0, r.text.find('\0'));
  out += '\0';
  return out;
}

std::optional<Request> RequestDecoder::next() {
  if (error_ || buf_.empty()) return std::nullopt;
  // Find three NULs after the slot byte.
  size_t p1 = buf_.find('\0', 1);
  if (p1 == std::string::npos) {
    if (buf_.size() > kMaxRequestField) error_ = true;
    return std::nullopt;
  }
  size_t p2 = buf_.find('\0', p1 + 1);
  if (p2 == std::string::npos) {
    if (buf_.size() - p1 > kMaxRequestField) error_ = true;
    return std::nullopt;
  }
  size_t p3 = buf_.find('\0', p2 + 1);
  if (p3 == std::string::npos) {
    if (buf_.size() - p2 > kMaxRequestField) error_ = true;
    return std::nullopt;
  }
  if (p1 - 1 > kMaxRequestField || p2 - p1 - 1 > kMaxRequestField || p3 - p2 - 1 > kMaxRequestField) {
    error_ = true;
    return std::nullopt;
  }
  Request r;
  r.slot = static_cast<std::uint8_t>(buf_[0]);
  r.mess = buf_.substr(1, p1 - 1);
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
    if (buf_.size() < 2) return std::nullopt;
    size_t z = buf_.find('\0', 2);
    if (z == std::string::npos) {
      if (buf_.size() - 2 > kMaxReportText) {
        // Too long: keep what fits and discard the rest up to the NUL.
        pending_ = Report{static_cast<std::uint8_t>(buf_[0]), buf_[1], buf_.substr(2, kMaxReportText)};
        buf_.clear();
        skipping_ = true;
        continue;
      }
      return std::nullopt;
    }
    Report r{static_cast<std::uint8_t>(buf_[0]), buf_[1], buf_.substr(2, std::min(z - 2, kMaxReportText))};
    buf_.erase(0, z + 1);
    return r;
  }
}

}  // namespace queue::proto
