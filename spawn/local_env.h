#pragma once
// The environment qmail-local(8) gives to .qmail programs (local-delivery.md
// 3.2) and the header lines it writes (DTLINE, RPLINE, UFLINE), as qmail-local.c
// builds them; plus NEWSENDER, the forwarding sender of 3.7.

#include <ctime>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace spawn {

/// The arguments of qmail-local.
struct LocalArgs {
  std::string user, homedir, local, dash, ext, host, sender, defaultdelivery;
};

/// `box@host` with the box quoted as RFC 822 wants (qmail's quote2): split at
/// the last `@`, quote the box only when needed; "" stays "".
std::string quote_address(std::string_view addr);
/// "Delivered-To: local@host\n", newlines in the address turned into `_`.
std::string dt_line(std::string_view local, std::string_view host);
/// "Return-Path: <quoted sender>\n", newlines turned into `_`.
std::string rp_line(std::string_view sender);
/// "From sender Sat Nov 21 10:56:00 2020\n" (UTC, day zero-padded as qmail's
/// myctime does); blanks in the sender become `-`, "" becomes MAILER-DAEMON.
std::string uf_line(std::string_view sender, std::time_t now);
/// EXT2..EXT4: the part of `ext` after its n-1'th `-` (n = 2..4), "" if none.
std::string ext_n(std::string_view ext, int n);
/// HOST2..HOST4: `host` without its last n-1 dot-components; stops shrinking
/// when no dot is left ([QUIRK] `compat.example` gives compat, compat, compat).
std::string host_n(std::string_view host, int n);
/// NEWSENDER (3.7): sender unchanged unless it is a real sender and the -owner
/// file exists; then `local-owner@host`, or the VERP form `local-owner-@host-@[]`
/// when -owner-default exists too.
std::string new_sender(std::string_view local, std::string_view host, std::string_view sender,
                       bool owner_exists, bool owner_default_exists);

/// The variables of 3.2 except DEFAULT, in a fixed order, as name/value pairs.
std::vector<std::pair<std::string, std::string>> local_env(const LocalArgs& a, std::string_view newsender,
                                                            std::time_t now);

}  // namespace spawn
