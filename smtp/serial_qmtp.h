#pragma once
// serialqmtp (serialmail 0.75): maildir files sent over QMTP (FAQ 5.2),
// every message pipelined as three netstrings, one K/Z/D netstring back per
// message in order; the encoder, the reply decoder and the fd-6/7 driver.

#include <optional>
#include <string>
#include <string_view>

#include "reactor/result.h"
#include "smtp/serial_message.h"

namespace smtp {

/// One QMTP transaction: the message (LF line ends, announced by a leading
/// "\n"), the sender and the recipient list (here a single recipient).
std::string qmtp_encode(std::string_view body, std::string_view sender, std::string_view recipient);

/// A decoded QMTP reply: status and the server's text.
struct QmtpReply {
  SerialStatus status;
  std::string text;
};
/// Decodes the data of one reply netstring; nullopt if it is empty or its
/// first byte is not K, Z or D (a protocol violation).
std::optional<QmtpReply> parse_qmtp_reply(std::string_view data);

/// Runs serialqmtp: names on `in_fd`, reports on `out_fd`, the server on
/// `rfd`/`wfd`. Error (temporary) is fatal for the whole run.
reactor::Status run_serialqmtp(int in_fd, int out_fd, int rfd, int wfd, const std::string& prefix,
                               const char* remoteip);

}  // namespace smtp
