// Pure helpers of the SMTP and QMTP servers (see smtpd_util.h).
#include "smtp/smtpd_util.h"

#include "reactor/control.h"
#include "smtp/route.h"

namespace smtp {

ParsedAddress parse_address(std::string_view arg) {
  char terminator = '>';
  size_t lt = arg.find('<');
  if (lt != std::string_view::npos) {
    arg.remove_prefix(lt + 1);
  } else {
    // Clients that omit the brackets: the word after the first colon.
    terminator = ' ';
    size_t colon = arg.find(':');
    if (colon != std::string_view::npos) arg.remove_prefix(colon + 1);
    else arg = arg.substr(arg.size());
    while (!arg.empty() && arg.front() == ' ') arg.remove_prefix(1);
  }
  // A source route "@a,@b:" is dropped up to and including its colon.
  if (!arg.empty() && arg.front() == '@') {
    size_t colon = arg.find(':');
    arg.remove_prefix(colon == std::string_view::npos ? arg.size() : colon + 1);
  }
  ParsedAddress out;
  bool esc = false, quoted = false;
  size_t i = 0;
  for (; i < arg.size(); ++i) {
    char ch = arg[i];
    if (esc) {
      out.addr += ch;
      esc = false;
      continue;
    }
    if (!quoted && ch == terminator) break;
    if (ch == '\\') esc = true;
    else if (ch == '"') quoted = !quoted;
    else out.addr += ch;
  }
  out.rest = i < arg.size() ? arg.substr(i + 1) : std::string_view();
  return out;
}

bool has_control_chars(std::string_view addr) {
  for (unsigned char c : addr)
    if (c < 0x20 || c == 0x7f) return true;
  return false;
}

bool parse_ipv4_literal(std::string_view s, std::string& dotted) {
  if (s.size() < 9 || s.front() != '[' || s.back() != ']') return false;
  s = s.substr(1, s.size() - 2);
  int parts = 0;
  std::string out;
  while (parts < 4) {
    size_t n = 0, v = 0;
    while (n < s.size() && n < 4 && s[n] >= '0' && s[n] <= '9') v = v * 10 + static_cast<size_t>(s[n++] - '0');
    if (n == 0 || n > 3 || v > 255) return false;
    out += std::to_string(v);
    s.remove_prefix(n);
    if (++parts < 4) {
      if (s.empty() || s.front() != '.') return false;
      s.remove_prefix(1);
      out += '.';
    }
  }
  if (!s.empty()) return false;
  dotted = out;
  return true;
}

bool parse_address_literal(std::string_view s, std::string& ip) {
  if (parse_ipv4_literal(s, ip)) return true;
  auto v6 = ipv6_address_literal(s);
  if (!v6) return false;
  ip = std::move(*v6);
  return true;
}

std::optional<std::string> esmtp_param(std::string_view params, std::string_view name) {
  while (!params.empty()) {
    while (!params.empty() && params.front() == ' ') params.remove_prefix(1);
    size_t sp = params.find(' ');
    std::string_view word = params.substr(0, sp);
    params.remove_prefix(sp == std::string_view::npos ? params.size() : sp);
    size_t eq = word.find('=');
    if (reactor::lowercase(word.substr(0, eq)) == reactor::lowercase(name))
      return std::string(eq == std::string_view::npos ? std::string_view() : word.substr(eq + 1));
  }
  return std::nullopt;
}

bool badmailfrom_match(const std::set<std::string>& bmf, std::string_view sender) {
  if (bmf.empty()) return false;
  std::string s = reactor::lowercase(sender);
  if (bmf.count(s)) return true;
  size_t at = s.rfind('@');
  return at != std::string::npos && bmf.count(s.substr(at));
}

namespace {
// received.c's safe set: everything else becomes '?', so hostile DNS or
// HELO text cannot break the header.
void safe_append(std::string& out, std::string_view s) {
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '@' || c == '%' || c == '+' || c == '/' || c == '=' || c == ':' || c == '-';
    out += ok ? c : '?';
  }
}
}  // namespace

std::string received_line(std::string_view protocol, const Peer& peer,
                          const std::optional<std::string>& helo, std::string_view date) {
  std::string r = "Received: from ";
  safe_append(r, peer.remotehost);
  if (helo) {
    r += " (HELO ";
    safe_append(r, *helo);
    r += ')';
  }
  r += " (";
  if (peer.remoteinfo) {
    safe_append(r, *peer.remoteinfo);
    r += '@';
  }
  safe_append(r, peer.remoteip);
  r += ")\n  by ";
  safe_append(r, peer.local);
  r += " with ";
  r.append(protocol);
  r += "; ";
  r.append(date);
  r += '\n';
  return r;
}

}  // namespace smtp
