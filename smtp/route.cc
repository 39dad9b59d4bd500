// Routing decisions of qmail-remote (see route.h).
#include "smtp/route.h"

#include <algorithm>
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <random>

#include "reactor/control.h"

namespace smtp {

std::optional<Relay> find_route(const std::vector<std::string>& lines, std::string_view host,
                                unsigned default_port) {
  std::string h = reactor::lowercase(host);
  // Keys to try, most specific first: "a.b.c", ".b.c", ".c", "".
  std::vector<std::string_view> keys;
  for (size_t i = 0; i <= h.size(); ++i)
    if (i == 0 || i == h.size() || h[i] == '.') keys.push_back(std::string_view(h).substr(i));
  for (std::string_view key : keys) {
    for (const auto& line : lines) {
      size_t colon = line.find(':');
      if (colon == std::string::npos) continue;  // qmail's constmap ignores such lines
      if (reactor::lowercase(std::string_view(line).substr(0, colon)) != key) continue;
      std::string value = line.substr(colon + 1);
      Relay r;
      r.port = default_port;
      // sagredo's auth form: "relay:port|user|password". The credentials go
      // first, so a ':' in a password is never read as a port.
      if (size_t bar = value.find('|'); bar != std::string::npos) {
        std::string cred = value.substr(bar + 1);
        value.resize(bar);
        size_t bar2 = cred.find('|');
        r.auth = true;
        r.user = cred.substr(0, bar2);
        if (bar2 != std::string::npos) r.password = cred.substr(bar2 + 1);
      }
      if (value.empty()) return std::nullopt;  // "domain:" = route by MX
      size_t pc = value.find(':');
      if (pc != std::string::npos) {
        // qmail's scan_ulong: leading digits, anything else ends the number.
        unsigned long p = 0;
        size_t i = pc + 1;
        while (i < value.size() && value[i] >= '0' && value[i] <= '9' && p < 100000) p = p * 10 + (value[i++] - '0');
        r.port = static_cast<unsigned>(p);
        value.resize(pc);
      }
      r.host = value;
      return r;
    }
  }
  return std::nullopt;
}

std::optional<std::string> ipv6_address_literal(std::string_view s) {
  if (s.size() < 8 || s.front() != '[' || s.back() != ']') return std::nullopt;
  std::string_view tag = s.substr(1, 5);
  if ((tag[0] | 0x20) != 'i' || (tag[1] | 0x20) != 'p' || (tag[2] | 0x20) != 'v' || tag[3] != '6' || tag[4] != ':')
    return std::nullopt;
  std::string text(s.substr(6, s.size() - 7));
  in6_addr a;
  if (::inet_pton(AF_INET6, text.c_str(), &a) != 1) return std::nullopt;
  char buf[INET6_ADDRSTRLEN];
  if (!::inet_ntop(AF_INET6, &a, buf, sizeof buf)) return std::nullopt;
  return std::string(buf);
}

std::optional<std::string> ip_literal(std::string_view host) {
  if (auto v6 = ipv6_address_literal(host)) return v6;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  std::string s(host);
  in_addr a;
  if (s.empty() || ::inet_pton(AF_INET, s.c_str(), &a) != 1) return std::nullopt;
  char buf[INET_ADDRSTRLEN];
  ::inet_ntop(AF_INET, &a, buf, sizeof buf);
  return std::string(buf);
}

void order_mx(std::vector<Mx>& mx, unsigned long seed) {
  // Shuffle first, then a stable sort by preference: equal preferences keep
  // the random order, which spreads load over equal MX hosts like qmail.
  std::mt19937 rng(static_cast<std::mt19937::result_type>(seed));
  std::shuffle(mx.begin(), mx.end(), rng);
  std::stable_sort(mx.begin(), mx.end(), [](const Mx& a, const Mx& b) { return a.pref < b.pref; });
}

std::vector<Target> usable_targets(const std::vector<Target>& all, bool (*is_me)(const std::string&),
                                   bool relay) {
  unsigned long prefme = 100000;
  for (const auto& t : all)
    if (is_me(t.ip) && t.pref < prefme) prefme = t.pref;
  if (relay) prefme = 300000;  // a relay is trusted not to loop back
  std::vector<Target> out;
  for (const auto& t : all)
    if (t.pref < prefme) out.push_back(t);
  return out;
}

void ipv4_first(std::vector<Target>& targets) {
  std::stable_sort(targets.begin(), targets.end(), [](const Target& x, const Target& y) {
    bool x6 = x.ip.find(':') != std::string::npos, y6 = y.ip.find(':') != std::string::npos;
    return x.pref != y.pref ? x.pref < y.pref : (!x6 && y6);
  });
}

reactor::Result<std::vector<std::string>> interface_addresses() {
  std::vector<std::string> out;
  ifaddrs* ifa = nullptr;
  if (::getifaddrs(&ifa) != 0) return reactor::temp_error("unable to list the interfaces' addresses");
  for (ifaddrs* p = ifa; p; p = p->ifa_next) {
    if (!p->ifa_addr) continue;
    char buf[INET6_ADDRSTRLEN];
    if (p->ifa_addr->sa_family == AF_INET) {
      auto* sin = reinterpret_cast<sockaddr_in*>(p->ifa_addr);
      if (::inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof buf)) out.push_back(buf);
    } else if (p->ifa_addr->sa_family == AF_INET6) {
      auto* sin6 = reinterpret_cast<sockaddr_in6*>(p->ifa_addr);
      if (::inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof buf)) out.push_back(buf);
    }
  }
  ::freeifaddrs(ifa);
  return out;
}

std::vector<std::string> local_addresses() {
  std::vector<std::string> out{"0.0.0.0", "::"};
  if (auto ifs = interface_addresses()) out.insert(out.end(), ifs->begin(), ifs->end());
  return out;
}

bool ipme(const std::string& ip) {
  static const std::vector<std::string> mine = local_addresses();
  return std::find(mine.begin(), mine.end(), ip) != mine.end();
}

}  // namespace smtp
