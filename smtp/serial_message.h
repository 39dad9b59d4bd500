#pragma once
// The maildir file as serialmail reads it (serialsmtp.c, serialqmtp.c): a
// `Return-Path: <sender>` line and a `Delivered-To: prefix+recipient` line on
// top, and the per-file result line every serialmail client reports.

#include <optional>
#include <string>
#include <string_view>

namespace smtp {

/// The envelope serialmail takes from the first two lines of a maildir file.
struct SerialEnvelope {
  std::string sender;     ///< between the brackets of Return-Path (unquoted text as stored)
  std::string recipient;  ///< the whole Delivered-To value, prefix included
  size_t header_bytes = 0;  ///< length of the two lines; the message proper starts here
};

/// Parses the first two lines of `head` (at least the start of the file).
/// nullopt when the file does not start with the two lines in qmail-local's
/// form; serialmail then skips the file without a report.
std::optional<SerialEnvelope> parse_serial_envelope(std::string_view head);

/// The recipient with `prefix` removed, or nullopt if it lacks the prefix.
std::optional<std::string> strip_prefix(std::string_view recipient, std::string_view prefix);

/// True if the second line of `head` is a Delivered-To line that starts with
/// `prefix` (maildirserial's selection; the first line is not examined).
bool delivered_to_has_prefix(std::string_view head, std::string_view prefix);

/// Result status letters of the maildirserial client protocol.
enum class SerialStatus : char { kAccepted = 'K', kTemporary = 'Z', kPermanent = 'D' };

/// Status for an SMTP reply code: 5xx D, 4xx Z, otherwise K.
SerialStatus status_for_code(int code);

/// One report line: `fn` NUL status [remoteip " said: "] text LF, where the
/// part after `fn` is cut to 2000 bytes and bytes outside 32..126 become '?'.
std::string serial_result(std::string_view fn, SerialStatus status, const char* remoteip,
                          std::string_view text);

}  // namespace smtp
