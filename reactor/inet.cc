// Addresses, lookups and the tcp-environ(5) variables (see inet.h).
#include "reactor/inet.h"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <unistd.h>

extern char** environ;

namespace reactor {

namespace {
bool is_mapped(const sockaddr_in6& s6) { return IN6_IS_ADDR_V4MAPPED(&s6.sin6_addr); }

std::string lower(std::string s) {
  for (auto& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

SockAddr from_ai(const addrinfo* ai) {
  SockAddr a;
  std::memcpy(&a.ss, ai->ai_addr, ai->ai_addrlen);
  a.len = ai->ai_addrlen;
  return a;
}

// Same address (ignoring ports), treating an IPv4-mapped IPv6 address as IPv4.
bool same_ip(const SockAddr& a, const SockAddr& b) { return format_ip(a) == format_ip(b); }
}  // namespace

std::string format_ip(const SockAddr& a) {
  char buf[INET6_ADDRSTRLEN];
  if (a.family() == AF_INET) {
    auto* s4 = reinterpret_cast<const sockaddr_in*>(&a.ss);
    inet_ntop(AF_INET, &s4->sin_addr, buf, sizeof buf);
    return buf;
  }
  if (a.family() == AF_INET6) {
    auto* s6 = reinterpret_cast<const sockaddr_in6*>(&a.ss);
    if (is_mapped(*s6)) {
      inet_ntop(AF_INET, s6->sin6_addr.s6_addr + 12, buf, sizeof buf);
      return buf;
    }
    inet_ntop(AF_INET6, &s6->sin6_addr, buf, sizeof buf);
    return buf;
  }
  return "";
}

uint16_t address_port(const SockAddr& a) {
  if (a.family() == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&a.ss)->sin_port);
  if (a.family() == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&a.ss)->sin6_port);
  return 0;
}

bool is_ipv6(const SockAddr& a) {
  return a.family() == AF_INET6 && !is_mapped(*reinterpret_cast<const sockaddr_in6*>(&a.ss));
}

std::optional<SockAddr> parse_ip(std::string_view text, uint16_t port) {
  std::string t(text);
  SockAddr a;
  auto* s4 = reinterpret_cast<sockaddr_in*>(&a.ss);
  if (inet_pton(AF_INET, t.c_str(), &s4->sin_addr) == 1) {
    s4->sin_family = AF_INET;
    s4->sin_port = htons(port);
    a.len = sizeof(sockaddr_in);
    return a;
  }
  auto* s6 = reinterpret_cast<sockaddr_in6*>(&a.ss);
  if (inet_pton(AF_INET6, t.c_str(), &s6->sin6_addr) == 1) {
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons(port);
    a.len = sizeof(sockaddr_in6);
    return a;
  }
  return std::nullopt;
}

Result<SockAddr> server_address(const std::string& host, uint16_t port, int family) {
  // ucspi-tcp: "" and "0" are every local IPv4 address; ucspi-tcp6 spells
  // the dual-stack wildcard "::" (or ":0"), as does -6 with "0".
  if (host.empty() || host == "0") return *parse_ip(family == 6 ? "::" : "0.0.0.0", port);
  if (host == ":0") return *parse_ip("::", port);
  if (auto a = parse_ip(host, port)) return *a;
  auto r = client_addresses(host, port, family);
  if (!r) return r.error();
  return r->front();
}

Result<std::vector<SockAddr>> client_addresses(const std::string& host, uint16_t port, int family) {
  std::string h = host.empty() || host == "0" ? "127.0.0.1" : host;
  if (auto a = parse_ip(h, port)) return std::vector<SockAddr>{*a};
  addrinfo hints{};
  hints.ai_family = family == 4 ? AF_INET : family == 6 ? AF_INET6 : AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int rc = getaddrinfo(h.c_str(), std::to_string(port).c_str(), &hints, &res);
  if (rc != 0) {
    if (rc == EAI_NONAME || rc == EAI_NODATA) return perm_error("no IP address for " + h);
    return temp_error("temporarily unable to figure out IP address for " + h + ": " + gai_strerror(rc));
  }
  std::vector<SockAddr> out;
  for (auto* ai = res; ai; ai = ai->ai_next) out.push_back(from_ai(ai));
  freeaddrinfo(res);
  if (out.empty()) return perm_error("no IP address for " + h);
  return out;
}

std::optional<unsigned long> parse_number(std::string_view text) {
  if (text.empty() || text.size() > 18) return std::nullopt;
  unsigned long n = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<unsigned long>(c - '0');
  }
  return n;
}

Result<uint16_t> parse_port(const std::string& text) {
  if (auto n = parse_number(text)) {
    if (*n > 65535) return perm_error("unable to figure out port number for " + text);
    return static_cast<uint16_t>(*n);
  }
  if (servent* se = getservbyname(text.c_str(), "tcp")) return static_cast<uint16_t>(ntohs(se->s_port));
  return perm_error("unable to figure out port number for " + text);
}

std::optional<SockAddr> local_address(int fd) {
  SockAddr a;
  a.len = sizeof a.ss;
  if (getsockname(fd, a.sa(), &a.len) == -1) return std::nullopt;
  return a;
}

std::optional<SockAddr> peer_address(int fd) {
  SockAddr a;
  a.len = sizeof a.ss;
  if (getpeername(fd, a.sa(), &a.len) == -1) return std::nullopt;
  return a;
}

std::optional<std::string> lookup_name(const SockAddr& a, bool paranoid) {
  char host[NI_MAXHOST];
  if (getnameinfo(a.sa(), a.len, host, sizeof host, nullptr, 0, NI_NAMEREQD) != 0) return std::nullopt;
  std::string name = lower(host);
  if (name.empty()) return std::nullopt;
  if (!paranoid) return name;
  // -p: keep the name only if one of its addresses is the peer's.
  auto back = client_addresses(name, 0, 0);
  if (!back) return std::nullopt;
  for (auto& b : *back)
    if (same_ip(a, b)) return name;
  return std::nullopt;
}

std::optional<TcpInfo> socket_info(int fd) {
  auto l = local_address(fd);
  auto r = peer_address(fd);
  if (!l || !r) return std::nullopt;
  TcpInfo t;
  t.ipv6 = is_ipv6(*r);
  t.local_ip = format_ip(*l);
  t.local_port = std::to_string(address_port(*l));
  t.remote_ip = format_ip(*r);
  t.remote_port = std::to_string(address_port(*r));
  return t;
}

std::vector<EnvChange> tcp_env_changes(const TcpInfo& t) {
  std::vector<EnvChange> c = {
      {"PROTO", t.ipv6 ? "TCP6" : "TCP"},
      {"TCPLOCALIP", t.local_ip},
      {"TCPLOCALPORT", t.local_port},
      {"TCPLOCALHOST", t.local_host},
      {"TCPREMOTEIP", t.remote_ip},
      {"TCPREMOTEPORT", t.remote_port},
      {"TCPREMOTEHOST", t.remote_host},
      {"TCPREMOTEINFO", t.remote_info},
  };
  // The IPv6 patch and ucspi-tcp6 repeat the facts under TCP6* names.
  const char* six[] = {"TCP6LOCALIP", "TCP6LOCALPORT", "TCP6LOCALHOST",
                       "TCP6REMOTEIP", "TCP6REMOTEPORT", "TCP6REMOTEHOST"};
  if (t.ipv6) {
    c.push_back({six[0], t.local_ip});
    c.push_back({six[1], t.local_port});
    c.push_back({six[2], t.local_host});
    c.push_back({six[3], t.remote_ip});
    c.push_back({six[4], t.remote_port});
    c.push_back({six[5], t.remote_host});
  } else {
    for (auto* n : six) c.push_back({n, std::nullopt});
  }
  return c;
}

std::vector<std::string> apply_env(std::vector<std::string> env, const std::vector<EnvChange>& changes) {
  for (auto& [name, value] : changes) {
    std::string prefix = name + "=";
    std::erase_if(env, [&](const std::string& e) { return e.compare(0, prefix.size(), prefix) == 0; });
    if (value) env.push_back(prefix + *value);
  }
  return env;
}

std::optional<std::string> env_var(const char* name) {
  const char* v = ::getenv(name);
  return v ? std::optional<std::string>(v) : std::nullopt;
}

std::vector<std::string> current_env() {
  std::vector<std::string> out;
  for (char** e = environ; e && *e; ++e) out.emplace_back(*e);
  return out;
}

std::string log_safe(std::string_view s, bool keep_colon) {
  std::string out;
  size_t n = 0;
  for (char c : s) {
    if (n++ == 100) return out + "...";
    auto u = static_cast<unsigned char>(c);
    if (u < 33 || u > 126 || c == '%' || (c == ':' && !keep_colon)) c = '?';
    out += c;
  }
  return out;
}

Result<UniqueFd> connect_tcp(const std::vector<SockAddr>& to, const std::optional<SockAddr>& local,
                             double timeout) {
  Error last = temp_error("no address to connect to");
  for (auto& a : to) {
    std::string where = format_ip(a) + " port " + std::to_string(address_port(a));
    UniqueFd s(::socket(a.family(), SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!s.valid()) return temp_error("unable to create socket: " + errno_text(errno));
    if (local) {
      SockAddr l = *local;
      if (l.family() != a.family()) {
        last = temp_error("unable to bind socket: address family mismatch");
        continue;
      }
      int one = 1;
      setsockopt(s.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      if (::bind(s.get(), l.sa(), l.len) == -1) return temp_error("unable to bind socket: " + errno_text(errno));
    }
    int rc = ::connect(s.get(), a.sa(), a.len);
    if (rc == -1 && errno == EINPROGRESS) {
      pollfd p{s.get(), POLLOUT, 0};
      int pr;
      do pr = ::poll(&p, 1, static_cast<int>(timeout * 1000));
      while (pr == -1 && errno == EINTR);
      if (pr == 0) {
        last = temp_error("unable to connect to " + where + ": timed out");
        continue;
      }
      int err = 0;
      socklen_t el = sizeof err;
      getsockopt(s.get(), SOL_SOCKET, SO_ERROR, &err, &el);
      rc = err ? -1 : 0;
      errno = err;
    }
    if (rc == -1) {
      last = temp_error("unable to connect to " + where + ": " + errno_text(errno));
      continue;
    }
    set_nonblock(s.get(), false);
    return s;
  }
  return last;
}

}  // namespace reactor
