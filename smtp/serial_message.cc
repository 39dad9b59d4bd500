#include "smtp/serial_message.h"

namespace smtp {

namespace {

constexpr std::string_view kReturnPath = "Return-Path: <";
constexpr std::string_view kDeliveredTo = "Delivered-To: ";
constexpr size_t kResultCap = 2000;  // serialmail's cap on one report

// The line starting at `pos` including its LF, or nullopt if there is no LF.
std::optional<std::string_view> line_at(std::string_view s, size_t pos) {
  size_t nl = s.find('\n', pos);
  if (nl == std::string_view::npos) return std::nullopt;
  return s.substr(pos, nl + 1 - pos);
}

}  // namespace

std::optional<SerialEnvelope> parse_serial_envelope(std::string_view head) {
  auto first = line_at(head, 0);
  // "Return-Path: <" ... ">\n"; anything else is not a qmail-local maildir file.
  if (!first || first->substr(0, kReturnPath.size()) != kReturnPath) return std::nullopt;
  if (first->size() < kReturnPath.size() + 2 || (*first)[first->size() - 2] != '>') return std::nullopt;
  auto second = line_at(head, first->size());
  if (!second || second->substr(0, kDeliveredTo.size()) != kDeliveredTo) return std::nullopt;
  SerialEnvelope env;
  env.sender = std::string(first->substr(kReturnPath.size(), first->size() - kReturnPath.size() - 2));
  env.recipient = std::string(second->substr(kDeliveredTo.size(), second->size() - kDeliveredTo.size() - 1));
  env.header_bytes = first->size() + second->size();
  return env;
}

std::optional<std::string> strip_prefix(std::string_view recipient, std::string_view prefix) {
  if (recipient.substr(0, prefix.size()) != prefix) return std::nullopt;
  return std::string(recipient.substr(prefix.size()));
}

bool delivered_to_has_prefix(std::string_view head, std::string_view prefix) {
  auto first = line_at(head, 0);
  if (!first) return false;
  auto second = line_at(head, first->size());
  if (!second || second->substr(0, kDeliveredTo.size()) != kDeliveredTo) return false;
  std::string_view rcpt = second->substr(kDeliveredTo.size(), second->size() - kDeliveredTo.size() - 1);
  return rcpt.substr(0, prefix.size()) == prefix;
}

SerialStatus status_for_code(int code) {
  if (code >= 500) return SerialStatus::kPermanent;
  if (code >= 400) return SerialStatus::kTemporary;
  return SerialStatus::kAccepted;
}

std::string serial_result(std::string_view fn, SerialStatus status, const char* remoteip,
                          std::string_view text) {
  std::string line(1, static_cast<char>(status));
  if (remoteip) {
    line += remoteip;
    line += " said: ";
  }
  line.append(text);
  if (line.size() > kResultCap) line.resize(kResultCap);
  // The report travels as one LF-terminated line: no control bytes inside.
  for (char& c : line) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 32 || u > 126) c = '?';
  }
  std::string out(fn);
  out += '\0';
  out += line;
  out += '\n';
  return out;
}

}  // namespace smtp
