// RFC 1413 client (see ident.h).
#include "reactor/ident.h"

#include <netinet/in.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>

namespace reactor {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

bool same_token(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'a' && x <= 'z') x = static_cast<char>(x - 32);
    if (y >= 'a' && y <= 'z') y = static_cast<char>(y - 32);
    if (x != y) return false;
  }
  return true;
}

SockAddr with_port(SockAddr a, uint16_t port) {
  if (a.family() == AF_INET6)
    reinterpret_cast<sockaddr_in6*>(&a.ss)->sin6_port = htons(port);
  else
    reinterpret_cast<sockaddr_in*>(&a.ss)->sin_port = htons(port);
  return a;
}

double now() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

}  // namespace

std::optional<std::string> parse_ident_reply(std::string_view line, unsigned remote_port, unsigned local_port) {
  // "<remote port> , <local port> : USERID : <os>[,<charset>] : <user-id>"
  size_t c1 = line.find(':');
  if (c1 == std::string_view::npos) return std::nullopt;
  size_t c2 = line.find(':', c1 + 1);
  if (c2 == std::string_view::npos) return std::nullopt;
  size_t c3 = line.find(':', c2 + 1);
  if (c3 == std::string_view::npos) return std::nullopt;
  std::string_view ports = line.substr(0, c1);
  size_t comma = ports.find(',');
  if (comma == std::string_view::npos) return std::nullopt;
  auto rp = parse_number(trim(ports.substr(0, comma)));
  auto lp = parse_number(trim(ports.substr(comma + 1)));
  if (!rp || !lp || *rp != remote_port || *lp != local_port) return std::nullopt;
  if (!same_token(trim(line.substr(c1 + 1, c2 - c1 - 1)), "USERID")) return std::nullopt;
  std::string_view user = trim(line.substr(c3 + 1));
  // RFC 1413 caps the user-id at 512 octets; an environment value cannot
  // carry NUL, and a line break would be a second reply.
  if (user.empty() || user.size() > 512) return std::nullopt;
  for (char ch : user)
    if (ch == '\0' || ch == '\n' || ch == '\r') return std::nullopt;
  return std::string(user);
}

std::optional<uint16_t> ident_port_from_env() {
  auto v = env_var("IDENTPORT");
  if (!v) return kIdentPort;
  auto n = parse_number(*v);
  if (!n || *n == 0 || *n > 65535) return std::nullopt;
  return static_cast<uint16_t>(*n);
}

std::optional<std::string> ident_lookup(const SockAddr& local, const SockAddr& peer, double timeout,
                                        uint16_t ident_port) {
  const double deadline = now() + timeout;
  auto fd = connect_tcp({with_port(peer, ident_port)}, with_port(local, 0), timeout);
  if (!fd) return std::nullopt;
  unsigned rport = address_port(peer), lport = address_port(local);
  std::string query = std::to_string(rport) + " , " + std::to_string(lport) + "\r\n";
  if (!write_all(fd->get(), query)) return std::nullopt;
  set_nonblock(fd->get(), true);
  std::string reply;
  while (reply.find('\n') == std::string::npos) {
    double left = deadline - now();
    if (left <= 0 || reply.size() > 1000) return std::nullopt;
    pollfd p{fd->get(), POLLIN, 0};
    int pr = ::poll(&p, 1, static_cast<int>(left * 1000) + 1);
    if (pr == -1 && errno == EINTR) continue;
    if (pr <= 0) return std::nullopt;
    char buf[512];
    ssize_t n = ::read(fd->get(), buf, sizeof buf);
    if (n == -1 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) break;  // a reply without its line break still counts
    reply.append(buf, static_cast<size_t>(n));
  }
  return parse_ident_reply(reply.substr(0, reply.find('\n')), rport, lport);
}

}  // namespace reactor
