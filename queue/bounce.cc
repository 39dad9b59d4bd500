// Bounce composition (see bounce.h).
#include "queue/bounce.h"

namespace queue {

std::string verp_sender(std::string_view sender, std::string_view recipient) {
  size_t i = sender.size();
  if (i >= 4 && sender.substr(i - 4) == "-@[]") {
    size_t j = sender.substr(0, i - 4).rfind('@');
    if (j == std::string_view::npos) j = i - 4;  // qmail's byte_rchr: "not found" is the end
    size_t k = recipient.rfind('@');
    if (k != std::string_view::npos && j + 5 <= i) {
      std::string out(sender.substr(0, j));
      out.append(recipient.substr(0, k));
      out += '=';
      out.append(recipient.substr(k + 1));
      out += '@';
      out.append(sender.substr(j + 1, i - 5 - j));
      return out;
    }
  }
  return std::string(sender);
}

std::string bounce_entry(std::string_view recipient, std::string_view report) {
  std::string t = "<";
  t.append(recipient);
  for (char& c : t)
    if (c == '\n') c = '_';
  t += ">:\n";
  t.append(report);
  if (!report.empty() && report.back() != '\n') t += '\n';
  // An empty line would end the entry early: mark it with "/" as qmail does.
  for (size_t pos = t.size() - 2; pos > 0; --pos)
    if (t[pos] == '\n' && t[pos - 1] == '\n') t[pos] = '/';
  t += '\n';
  return t;
}

BounceKind bounce_kind(std::string_view sender) {
  if (sender.empty()) return BounceKind::dbl;
  if (sender == "#@[]") return BounceKind::triple;
  return BounceKind::single;
}

std::string bounce_target(std::string_view sender) {
  if (sender.size() >= 4 && sender.substr(sender.size() - 4) == "-@[]")
    return std::string(sender.substr(0, sender.size() - 4));
  return std::string(sender);
}

namespace {
// RFC 822 local part needing quotes: specials, blanks, controls, odd dots.
bool needs_quote(std::string_view local) {
  if (local.empty()) return false;
  if (local.front() == '.' || local.back() == '.') return true;
  for (size_t i = 0; i < local.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(local[i]);
    if (c <= 32 || c >= 127) return true;
    if (std::string_view("()<>@,;:\\\"[]").find(static_cast<char>(c)) != std::string_view::npos) return true;
    if (c == '.' && i + 1 < local.size() && local[i + 1] == '.') return true;
  }
  return false;
}

std::string quote_local(std::string_view local) {
  if (!needs_quote(local)) return std::string(local);
  std::string out = "\"";
  for (char c : local) {
    if (c == '"' || c == '\\' || c == '\n') out += '\\';
    out += c;
  }
  out += '"';
  return out;
}
}  // namespace

std::string quote_address(std::string_view addr) {
  size_t at = addr.rfind('@');
  if (at == std::string_view::npos) return quote_local(addr);
  return quote_local(addr.substr(0, at)) + std::string(addr.substr(at));
}

std::string bounce_head(std::string_view date, std::string_view bouncefrom,
                        std::string_view bouncehost, std::string_view to, std::string_view sender,
                        std::string_view entries) {
  const bool single = !sender.empty();
  std::string m;
  m += "Date: ";
  m.append(date);
  m += "\nFrom: ";
  m += quote_local(bouncefrom);
  m += '@';
  m.append(bouncehost);
  m += "\nTo: ";
  m += quote_address(to);
  m += "\nSubject: failure notice\n\nHi. This is the qmail-send program at ";
  m.append(bouncehost);
  m += single ? ".\nI'm afraid I wasn't able to deliver your message to the following addresses.\n"
                "This is a permanent error; I've given up. Sorry it didn't work out.\n\n"
              : ".\nI tried to deliver a bounce message to this address, but the bounce bounced!\n\n";
  m.append(entries);
  m += single ? "--- Below this line is a copy of the message.\n\n"
              : "--- Below this line is the original bounce.\n\n";
  m += "Return-Path: <";
  m += quote_address(sender);
  m += ">\n";
  return m;
}

}  // namespace queue
