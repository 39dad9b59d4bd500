// ucspi-tcp rules: text syntax, cdb encoding and lookup order (see rules.h).
#include "reactor/rules.h"

#include <arpa/inet.h>

#include "reactor/cdb.h"
#include "reactor/inet.h"

namespace reactor {

namespace {
bool starts_with_action(std::string_view s) { return s.starts_with("allow") || s.starts_with("deny"); }

bool ipv6_text(std::string_view s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' || c == '.'))
      return false;
  return true;
}

// The colon that ends the address. tcprules takes the first colon; an IPv6
// address has colons of its own, so when the first colon is not followed by
// allow/deny (a fatal line for ucspi-tcp 0.88) we take the first colon that
// is, provided everything before it can be IPv6 text.
size_t separator(std::string_view line) {
  size_t first = line.find(':');
  if (first == std::string_view::npos || starts_with_action(line.substr(first + 1))) return first;
  for (size_t p = line.find(':', first + 1); p != std::string_view::npos; p = line.find(':', p + 1)) {
    if (!ipv6_text(line.substr(0, p))) break;
    if (starts_with_action(line.substr(p + 1))) return p;
  }
  return first;
}

// Parses "allow"/"deny" and the ",VAR=<q>value<q>" list into the cdb value.
bool parse_instructions(std::string_view x, std::string& data) {
  // NUL ends a record of the value: in a name or value it would cut it short
  // and let the rest pass for records of its own ("\0D" a deny, "\0+X=" a
  // setting the line never made). ucspi-tcp copies it; we refuse the line.
  if (x.find('\0') != std::string_view::npos) return false;
  if (x.starts_with("deny")) {
    data.append("D", 2);  // 'D' and its terminating NUL
    x.remove_prefix(4);
  } else if (x.starts_with("allow")) {
    x.remove_prefix(5);
  } else {
    return false;
  }
  while (!x.empty()) {
    if (x[0] != ',') return false;
    size_t eq = x.find('=');
    if (eq == std::string_view::npos) return false;
    data += '+';
    data.append(x.substr(1, eq));  // name and '='
    x.remove_prefix(eq + 1);
    if (x.empty()) return false;
    char quote = x[0];  // any character may quote, as long as it closes
    x.remove_prefix(1);
    size_t end = x.find(quote);
    if (end == std::string_view::npos) return false;
    data.append(x.substr(0, end));
    data += '\0';
    x.remove_prefix(end + 1);
  }
  return true;
}

bool number(std::string_view s, unsigned long& n) {
  n = 0;  // like scan_ulong, an empty string is 0
  if (s.size() > 18) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + static_cast<unsigned long>(c - '0');
  }
  return true;
}

// Expands one address into keys: ranges "1.2.3.40-50" in one component.
bool address_keys(const std::string& address, std::vector<std::string>& keys) {
  bool plain = address.find_first_of("=@") == std::string::npos;
  size_t dash = address.find('-');
  if (plain && address.find(':') != std::string::npos) {
    // IPv6: a complete address is stored in the compact form tcpserver prints.
    if (auto a = parse_ip(address, 0)) {
      keys.push_back(format_ip(*a));
      return true;
    }
  } else if (plain && dash != std::string::npos) {
    size_t dot = address.rfind('.', dash);
    size_t left = dot == std::string::npos ? 0 : dot + 1;
    size_t right = address.find('.', dash + 1);
    if (right == std::string::npos) right = address.size();
    unsigned long bot, top;
    if (!number(std::string_view(address).substr(left, dash - left), bot)) return false;
    if (!number(std::string_view(address).substr(dash + 1, right - dash - 1), top)) return false;
    if (top > 255) top = 255;
    for (; bot <= top; ++bot) keys.push_back(address.substr(0, left) + std::to_string(bot) + address.substr(right));
    return true;
  }
  keys.push_back(address);
  return true;
}
}  // namespace

Result<std::vector<RuleRecord>> parse_rules(std::string_view text) {
  std::vector<RuleRecord> out;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (line.empty() || line[0] == '#') continue;
    // Trailing blanks go; a CR stays, and so makes a CR LF line fatal.
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
    size_t colon = separator(line);
    if (colon == std::string_view::npos) continue;  // no colon: skipped silently
    std::string data;
    std::vector<std::string> keys;
    if (!parse_instructions(line.substr(colon + 1), data) ||
        !address_keys(std::string(line.substr(0, colon)), keys))
      return perm_error(std::string(line));
    for (auto& k : keys) out.push_back({k, data});
  }
  return out;
}

Status compile_rules(std::string_view rules, const std::string& cdb, const std::string& tmp) {
  auto parsed = parse_rules(rules);
  if (!parsed) return perm_error("unable to parse this line: " + parsed.error().text);
  CdbWriter w;
  if (auto s = w.create(cdb, 0644, tmp); !s) return s;
  for (auto& r : *parsed)
    if (auto s = w.add(r.key, r.value); !s) return s;
  return w.commit();
}

RuleAction decode_rule(std::string_view value) {
  RuleAction a;
  for (size_t nul; (nul = value.find('\0')) != std::string_view::npos; value.remove_prefix(nul + 1)) {
    std::string_view rec = value.substr(0, nul);
    if (rec.empty()) continue;
    if (rec[0] == 'D') {
      a.deny = true;
    } else if (rec[0] == '+') {
      size_t eq = rec.find('=');
      if (eq != std::string_view::npos) a.env.emplace_back(rec.substr(1, eq - 1), rec.substr(eq + 1));
    }
  }
  return a;
}

std::string describe_rule(std::string_view key, std::string_view value) {
  std::string out = "rule " + std::string(key) + ":\n";
  for (size_t nul; (nul = value.find('\0')) != std::string_view::npos; value.remove_prefix(nul + 1)) {
    std::string_view rec = value.substr(0, nul);
    if (rec.starts_with("D")) return out + "deny connection\n";
    if (rec.starts_with("+")) out += "set environment variable " + std::string(rec.substr(1)) + "\n";
  }
  return out + "allow connection\n";
}

std::vector<std::string> rule_keys(std::string_view ip, const std::optional<std::string>& host,
                                   const std::optional<std::string>& info) {
  std::vector<std::string> k;
  std::string sip(ip);
  if (info) {
    k.push_back(*info + "@" + sip);
    if (host) k.push_back(*info + "@=" + *host);
  }
  k.push_back(sip);
  if (host) k.push_back("=" + *host);
  // Prefixes of the address text that end in a separator, longest first.
  char sep = sip.find(':') != std::string::npos ? ':' : '.';
  for (size_t n = sip.size(); n > 0; --n)
    if (sip[n - 1] == sep && n != sip.size()) k.push_back(sip.substr(0, n));
  if (host) {
    for (size_t i = 0; i < host->size(); ++i)
      if ((*host)[i] == '.') k.push_back("=" + host->substr(i));
    k.push_back("=");
  }
  k.push_back("");
  return k;
}

std::optional<RuleMatch> match_rules(const RuleFinder& find, std::string_view ip,
                                     const std::optional<std::string>& host,
                                     const std::optional<std::string>& info) {
  for (auto& key : rule_keys(ip, host, info))
    if (auto v = find(key)) return RuleMatch{key, *v};
  return std::nullopt;
}

Result<std::optional<RuleMatch>> match_rules_file(const std::string& cdb, std::string_view ip,
                                                  const std::optional<std::string>& host,
                                                  const std::optional<std::string>& info) {
  CdbReader r;
  if (auto s = r.open(cdb); !s) return s.error();
  return match_rules([&](std::string_view k) { return r.find(k); }, ip, host, info);
}

}  // namespace reactor
