#pragma once
// TCP/IP addresses the ucspi-tcp way: text forms of IPv4 and IPv6 addresses
// (IPv6 compact, IPv4-mapped peers shown as IPv4 as ucspi-tcp6 does), host and
// port arguments, reverse lookups, and the environment of tcp-environ(5).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <sys/socket.h>
#include <utility>
#include <vector>

#include "reactor/fd.h"
#include "reactor/result.h"

namespace reactor {

/// A socket address of either family.
struct SockAddr {
  sockaddr_storage ss{};
  socklen_t len = 0;
  const sockaddr* sa() const { return reinterpret_cast<const sockaddr*>(&ss); }
  sockaddr* sa() { return reinterpret_cast<sockaddr*>(&ss); }
  int family() const { return ss.ss_family; }
};

/// Text of the address: dotted decimal, IPv6 compact, IPv4-mapped as IPv4.
std::string format_ip(const SockAddr& a);
/// Port number of the address (host order).
uint16_t address_port(const SockAddr& a);
/// True for a real IPv6 peer (not an IPv4-mapped one): PROTO=TCP6.
bool is_ipv6(const SockAddr& a);
/// A literal IPv4 or IPv6 address with a port, or nullopt.
std::optional<SockAddr> parse_ip(std::string_view text, uint16_t port);
/// The address to bind for tcpserver's `host`: "0"/"" any IPv4 (IPv6 `::`
/// when family is 6), "::" or ":0" dual stack, a literal, or a name's first address.
Result<SockAddr> server_address(const std::string& host, uint16_t port, int family);
/// Every address of `host` for a client ("0"/"" mean 127.0.0.1).
Result<std::vector<SockAddr>> client_addresses(const std::string& host, uint16_t port, int family);
/// A decimal port or a service name from /etc/services.
Result<uint16_t> parse_port(const std::string& text);
/// A whole decimal number (no sign, no trailing text), or nullopt.
std::optional<unsigned long> parse_number(std::string_view text);

/// getsockname/getpeername of a socket.
std::optional<SockAddr> local_address(int fd);
std::optional<SockAddr> peer_address(int fd);
/// Reverse lookup of the address, lowercased; nullopt if none. `paranoid`
/// also requires that the name resolves back to the address.
std::optional<std::string> lookup_name(const SockAddr& a, bool paranoid = false);

/// What a ucspi server or client knows about one connection (tcp-environ(5)).
struct TcpInfo {
  bool ipv6 = false;
  std::string local_ip, local_port, remote_ip, remote_port;
  std::optional<std::string> local_host, remote_host, remote_info;
};
/// Fills ports and addresses of a connected socket (names left empty).
std::optional<TcpInfo> socket_info(int fd);
/// One environment change: a value to set, or nullopt to remove the name.
using EnvChange = std::pair<std::string, std::optional<std::string>>;
/// PROTO, TCPLOCAL*, TCPREMOTE* (and TCP6* for IPv6 peers) for this connection.
std::vector<EnvChange> tcp_env_changes(const TcpInfo& info);
/// Applies changes to a "K=V" list: old entries of each name go, new ones come last.
std::vector<std::string> apply_env(std::vector<std::string> env, const std::vector<EnvChange>& changes);
/// The value of environment variable `name`, or nullopt when it is unset.
std::optional<std::string> env_var(const char* name);
/// Our own environment as a "K=V" list.
std::vector<std::string> current_env();
/// A field of a tcpserver log line: at most 100 bytes, then "..."; bytes
/// outside 33..126 and '%' become '?', and ':' too unless `keep_colon`.
std::string log_safe(std::string_view s, bool keep_colon = false);

/// Connects to the first address that answers within `timeout` seconds each,
/// optionally bound to `local`. Errors name the address that failed last.
Result<UniqueFd> connect_tcp(const std::vector<SockAddr>& to, const std::optional<SockAddr>& local,
                             double timeout);

}  // namespace reactor
