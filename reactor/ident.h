#pragma once
// RFC 1413 ident queries, as ucspi-tcp's tcpserver makes them for
// TCPREMOTEINFO (-r, the default): ask the client host's ident server who
// owns the connection, and accept only a USERID answer for that very
// connection.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "reactor/inet.h"

namespace reactor {

/// The user-id of an ident reply line to the query "remote_port , local_port"
/// (CR/LF stripped, leading and trailing blanks too), or nullopt for an
/// ERROR reply, other ports, a malformed line or an empty or unsafe user-id.
std::optional<std::string> parse_ident_reply(std::string_view line, unsigned remote_port, unsigned local_port);

/// The well-known ident port.
inline constexpr uint16_t kIdentPort = 113;
/// The port ident queries go to: $IDENTPORT if set (a test aid, so that
/// tests need not bind a privileged port), else 113; nullopt if $IDENTPORT
/// is not a port number.
std::optional<uint16_t> ident_port_from_env();

/// Asks the ident server on `peer`'s host, from `local`'s address, about the
/// connection local<->peer; gives up after `timeout` seconds in all.
std::optional<std::string> ident_lookup(const SockAddr& local, const SockAddr& peer, double timeout,
                                        uint16_t ident_port = kIdentPort);

}  // namespace reactor
