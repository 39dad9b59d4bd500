#pragma once
// Small pure helpers of qmail-smtpd and qmail-qmtpd: qmail's addrparse(),
// the badmailfrom check, address literals, and received.c's Received line.

#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace smtp {

/// An envelope address as parsed from a MAIL or RCPT argument.
struct ParsedAddress {
  std::string addr;       ///< unquoted, source route removed
  std::string_view rest;  ///< text after the terminator (ESMTP parameters)
};

/// qmail's addrparse(): `<...>` or (no `<`) the word after the first `:`;
/// a leading source route is dropped, quotes and backslashes removed.
ParsedAddress parse_address(std::string_view arg);

/// True if `addr` contains a byte below 0x20 or DEL.
bool has_control_chars(std::string_view addr);

/// Parses a `[d.d.d.d]` literal that makes up all of `s`; sets `dotted`.
bool parse_ipv4_literal(std::string_view s, std::string& dotted);
/// Parses a `[d.d.d.d]` or `[IPv6:...]` literal (RFC 5321 4.1.3) that makes
/// up all of `s`; sets `ip` to the address in canonical text form.
bool parse_address_literal(std::string_view s, std::string& ip);

/// The value of ESMTP parameter `name` (e.g. "SIZE") in `params`, if present.
std::optional<std::string> esmtp_param(std::string_view params, std::string_view name);

/// badmailfrom: `bmf` holds lower-cased entries (whole addresses or `@domain`).
bool badmailfrom_match(const std::set<std::string>& bmf, std::string_view sender);

/// Peer data that goes into a Received line.
struct Peer {
  std::string remoteip = "unknown";
  std::string remotehost = "unknown";
  std::optional<std::string> remoteinfo;
  std::string local = "unknown";
};

/// received.c's two lines: "Received: from H (HELO h) (info@ip)\n  by L with P; date\n".
/// `date` is date822 text without newline; `helo` is omitted when nullopt.
std::string received_line(std::string_view protocol, const Peer& peer,
                          const std::optional<std::string>& helo, std::string_view date);

}  // namespace smtp
