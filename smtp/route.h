#pragma once
// Routing decisions of qmail-remote(8) (remote.md 4): control/smtproutes,
// MX ordering with random order among equal preferences, and the "am I
// the best MX?" loop check against this host's addresses (qmail's ipme).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reactor/result.h"

namespace smtp {

/// A relay from smtproutes: host name or IP, port, and (sagredo's
/// `relay:port|user|password` form) credentials for SMTP AUTH.
struct Relay {
  std::string host;
  unsigned port = 25;
  bool auth = false;     ///< credentials were given
  std::string user;
  std::string password;
};

/// smtproutes lookup for `host`: the whole name, each suffix from a dot,
/// then the empty key; first hit wins, case-insensitively. An empty relay
/// (or no entry) means "route by MX": nullopt. `lines` are control-file entries.
/// A relay value `relay[:port]|user|password` carries AUTH credentials (the
/// password is everything after the second `|`).
std::optional<Relay> find_route(const std::vector<std::string>& lines, std::string_view host,
                                unsigned default_port);

/// Parses an IPv4 address, plain ("1.2.3.4") or bracketed ("[1.2.3.4]"),
/// or an RFC 5321 IPv6 literal ("[IPv6:2001:db8::1]", tag in any case);
/// returns the address in canonical text form.
std::optional<std::string> ip_literal(std::string_view host);
/// An RFC 5321 IPv6 literal making up all of `s` ("[IPv6:2001:db8::1]", tag
/// in any case) as canonical address text; nullopt for anything else.
std::optional<std::string> ipv6_address_literal(std::string_view s);

/// One mail exchanger name from DNS.
struct Mx {
  std::string name;
  unsigned pref = 0;
};
/// Sorts by preference; entries of equal preference are shuffled with `seed`.
void order_mx(std::vector<Mx>& mx, unsigned long seed);

/// One address to try, with the preference of the MX it came from.
struct Target {
  std::string ip;
  unsigned pref = 0;
  std::string name = {};  ///< the MX or relay name it came from (the TLS policy key)
};
/// Within each preference, IPv4 addresses before IPv6 ones (a stable
/// reordering: the shuffle of equal preferences stays), so a host whose IPv6
/// does not reach far loses nothing against qmail's IPv4-only behaviour.
void ipv4_first(std::vector<Target>& targets);
/// qmail's loop check: drops every target whose preference is not strictly
/// below the best preference of an address of ours (`is_me`). With a relay
/// the check is off. An empty result means "I am the best MX" (#5.4.6).
std::vector<Target> usable_targets(const std::vector<Target>& all, bool (*is_me)(const std::string&),
                                   bool relay);

/// The IPv4 and IPv6 addresses of this host's interfaces, as text.
reactor::Result<std::vector<std::string>> interface_addresses();
/// This host's addresses for the MX loop check: interface_addresses() plus
/// 0.0.0.0 (as netqmail has it) and ::.
std::vector<std::string> local_addresses();
/// True if `ip` is one of local_addresses() (cached after the first call).
bool ipme(const std::string& ip);

}  // namespace smtp
